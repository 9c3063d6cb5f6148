//! Max pooling over 2×2 windows at stride 2, channels first: P-Net's pooling, in one pass
//! whose inner loop vectorises.
//!
//! Why: tract 0.23.9 pools 2×2 windows at stride 2 one output value at a time, testing each
//! tap's bounds (its vector path is for stride 1). On P-Net's largest pyramid level at min
//! face 20 (10 planes of 382×286) that one operation took about a sixth of the network's
//! time. Here the windows that lie wholly inside a plane are a plain loop over rows; only the
//! edge windows of a padded pooling test bounds.
//!
//! Why the values are tract's, bit for bit: the landmarks the liveness layers were calibrated
//! on come out of these networks. Each window folds its taps in tract's order (top row first,
//! left to right) with tract's comparison (`f32::max`) from tract's start value (`f32::MIN`),
//! so NaNs, infinities and signed zeros come out as tract's do (a test runs both).

use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::cnn::{MaxPool, PoolSpec};
use tract_onnx::tract_core::ops::nn::DataFormat;

/// A 2×2, stride-2, undilated max pooling of `[N, C, H, W]` `f32` values; the padding (and so
/// the output size) is the pooling's own, from `pool_spec`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct MaxPool2 {
    pool_spec: PoolSpec,
}

impl MaxPool2 {
    /// The pooling for `spec`, if it is one this operation computes.
    fn new(spec: &PoolSpec) -> Option<MaxPool2> {
        let fits = spec.data_format == DataFormat::NCHW
            && spec.kernel_shape[..] == [2, 2]
            && spec.strides()[..] == [2, 2]
            && spec.dilations()[..] == [1, 1]
            && spec.input_channels == spec.output_channels;
        fits.then(|| MaxPool2 {
            pool_spec: spec.clone(),
        })
    }
}

impl Op for MaxPool2 {
    fn name(&self) -> StaticName {
        "facegate.MaxPool2".into()
    }
    op_as_typed_op!();
}

impl EvalOp for MaxPool2 {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let [x] = &inputs[..] else {
            bail!("MaxPool2 takes one input");
        };
        let &[n, c, h, w] = x.shape() else {
            bail!("MaxPool2 takes [N, C, H, W], not {:?}", x.shape());
        };
        let padding = self.pool_spec.computed_padding(&[h, w]);
        let (rows, cols) = (&padding[0], &padding[1]);
        let (oh, ow) = (rows.convoluted, cols.convoluted);
        let mut out = Tensor::zero::<f32>(&[n, c, oh, ow])?;
        if oh * ow > 0 && h * w > 0 {
            let input = x.try_as_plain_ram()?;
            let input = input.as_slice::<f32>()?;
            let mut output = out.try_as_plain_ram_mut()?;
            let output = output.as_slice_mut::<f32>()?;
            let plane = Plane {
                h,
                w,
                top: rows.pad_before,
                left: cols.pad_before,
            };
            for (src, dst) in input
                .chunks_exact(h * w)
                .zip(output.chunks_exact_mut(oh * ow))
            {
                plane.pool(src, dst, ow);
            }
        }
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for MaxPool2 {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let [x] = inputs else {
            bail!("MaxPool2 takes one input");
        };
        if x.datum_type != f32::datum_type() || x.rank() != 4 {
            bail!("MaxPool2 cannot take {x:?}");
        }
        self.pool_spec.output_facts(inputs)
    }
}

/// One input plane's geometry: `h × w` values, the pooling's padding before each axis.
struct Plane {
    h: usize,
    w: usize,
    top: usize,
    left: usize,
}

impl Plane {
    /// Pools `src` (`h × w`) into `dst` (rows of `ow`).
    fn pool(&self, src: &[f32], dst: &mut [f32], ow: usize) {
        // Output columns whose two taps both lie inside a row: 2·ox − left ≥ 0 and
        // 2·ox − left + 1 ≤ w − 1.
        let x_lo = self.left.div_ceil(2).min(ow);
        let x_hi = if self.w + self.left >= 2 {
            ((self.w + self.left - 2) / 2 + 1).min(ow).max(x_lo)
        } else {
            x_lo
        };
        let row = |iy: isize| -> Option<&[f32]> {
            (iy >= 0 && (iy as usize) < self.h)
                .then(|| &src[iy as usize * self.w..(iy as usize + 1) * self.w])
        };
        for (oy, out) in dst.chunks_exact_mut(ow).enumerate() {
            let iy = (2 * oy) as isize - self.top as isize;
            let (r0, r1) = (row(iy), row(iy + 1));
            // The interior: whole windows, taps in tract's order.
            let first = (2 * x_lo).saturating_sub(self.left);
            let span = &mut out[x_lo..x_hi];
            match (r0, r1) {
                _ if span.is_empty() => {}
                (Some(a), Some(b)) => {
                    for ((o, a), b) in span
                        .iter_mut()
                        .zip(a[first..].chunks_exact(2))
                        .zip(b[first..].chunks_exact(2))
                    {
                        *o = f32::MIN.max(a[0]).max(a[1]).max(b[0]).max(b[1]);
                    }
                }
                (Some(a), None) | (None, Some(a)) => {
                    for (o, a) in span.iter_mut().zip(a[first..].chunks_exact(2)) {
                        *o = f32::MIN.max(a[0]).max(a[1]);
                    }
                }
                (None, None) => span.fill(f32::MIN),
            }
            // The edges of a padded pooling: each tap tested.
            for ox in (0..x_lo).chain(x_hi..ow) {
                let mut m = f32::MIN;
                for r in [r0, r1].into_iter().flatten() {
                    for kx in 0..2 {
                        let ix = (2 * ox + kx) as isize - self.left as isize;
                        if ix >= 0 && (ix as usize) < self.w {
                            m = m.max(r[ix as usize]);
                        }
                    }
                }
                out[ox] = m;
            }
        }
    }
}

/// Replaces every max pooling [`MaxPool2`] computes; returns how many.
pub(super) fn swap(model: &mut TypedModel) -> TractResult<usize> {
    let mut swapped = 0;
    for id in model.eval_order()? {
        let node = model.node(id);
        let Some(pool) = node.op_as::<MaxPool>() else {
            continue;
        };
        if pool.with_index_outputs.is_some()
            || model.outlet_fact(node.inputs[0])?.datum_type != f32::datum_type()
        {
            continue;
        }
        let Some(op) = MaxPool2::new(&pool.pool_spec) else {
            continue;
        };
        let node = node.clone();
        TypedModelPatch::replace_single_op(model, &node, &node.inputs, op)?.apply(model)?;
        swapped += 1;
    }
    Ok(swapped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::tract_core::ops::cnn::PaddingSpec;

    /// A model of one tract max pooling of `[1, 2, h, w]`.
    fn pooling(h: usize, w: usize, padding: PaddingSpec) -> TractResult<TypedModel> {
        let mut m = TypedModel::default();
        let x = m.add_source("x", f32::fact([1, 2, h, w]))?;
        let spec = PoolSpec {
            data_format: DataFormat::NCHW,
            kernel_shape: tvec![2, 2],
            padding,
            dilations: None,
            strides: Some(tvec![2, 2]),
            input_channels: 2,
            output_channels: 2,
        };
        let out = m.wire_node("pool", MaxPool::new(spec, None), &[x])?[0];
        m.select_output_outlets(&[out])?;
        Ok(m)
    }

    fn bits(t: &TValue) -> TractResult<Vec<u32>> {
        Ok(t.try_as_plain_ram()?
            .as_slice::<f32>()?
            .iter()
            .map(|v| v.to_bits())
            .collect())
    }

    #[test]
    fn the_swapped_pooling_gives_tracts_bits() -> TractResult<()> {
        let paddings = [
            PaddingSpec::Valid,
            PaddingSpec::ExplicitOnnxPool(tvec![0, 0], tvec![0, 0], true),
            PaddingSpec::ExplicitOnnxPool(tvec![1, 0], tvec![0, 1], false),
            PaddingSpec::Explicit(tvec![1, 1], tvec![1, 1]),
            PaddingSpec::SameUpper,
        ];
        for (h, w) in [(1, 1), (2, 2), (4, 6), (5, 7), (12, 13), (9, 2), (3, 31)] {
            for padding in &paddings {
                let n = 2 * h * w;
                // Ties of signed zeros, NaNs, infinities and ordinary values.
                let values: Vec<f32> = (0..n)
                    .map(|i| match (i * 7 + h) % 11 {
                        0 => -0.0,
                        1 => 0.0,
                        2 => f32::NAN,
                        3 => f32::NEG_INFINITY,
                        4 => f32::INFINITY,
                        5 => f32::MIN,
                        k => (k as f32 - 8.0) * 0.37 + (i % 5) as f32 * 0.01,
                    })
                    .collect();
                let input = tract_ndarray::Array4::from_shape_vec((1, 2, h, w), values)?;
                let input = input.into_tensor();
                let mut model = pooling(h, w, padding.clone())?;
                assert_eq!(swap(&mut model)?, 1);
                let swapped = model.into_optimized()?.into_runnable()?;
                let reference = pooling(h, w, padding.clone())?;
                let out = reference
                    .output_fact(0)?
                    .shape
                    .as_concrete()
                    .map(|s| s.to_vec());
                if out.is_some_and(|s| s.contains(&0)) {
                    // tract 0.23.9 panics on an empty output; ours is empty.
                    let b = swapped.run(tvec!(input.into_tvalue()))?;
                    assert_eq!(b[0].len(), 0, "{h}×{w} {padding:?}");
                    continue;
                }
                let reference = reference.into_optimized()?.into_runnable()?;
                let a = reference.run(tvec!(input.clone().into_tvalue()))?;
                let b = swapped.run(tvec!(input.into_tvalue()))?;
                assert_eq!(a[0].shape(), b[0].shape(), "{h}×{w} {padding:?}");
                assert_eq!(bits(&a[0])?, bits(&b[0])?, "{h}×{w} {padding:?}");
            }
        }
        Ok(())
    }

    #[test]
    fn other_poolings_are_left_to_tract() -> TractResult<()> {
        let mut m = TypedModel::default();
        let x = m.add_source("x", f32::fact([1, 2, 9, 9]))?;
        let spec = PoolSpec {
            data_format: DataFormat::NCHW,
            kernel_shape: tvec![3, 3],
            padding: PaddingSpec::Valid,
            dilations: None,
            strides: Some(tvec![2, 2]),
            input_channels: 2,
            output_channels: 2,
        };
        let out = m.wire_node("pool", MaxPool::new(spec, None), &[x])?[0];
        m.select_output_outlets(&[out])?;
        assert_eq!(swap(&mut m)?, 0);
        Ok(())
    }
}
