//! Max pooling over channel planes: MTCNN's poolings (P-Net's 2×2 at stride 2, R-Net's and
//! O-Net's 3×3 at stride 2) and the face ResNet's (3×3 at stride 2), in passes whose inner
//! loops vectorise.
//!
//! Why: tract 0.23.9 pools 2×2 windows at stride 2 one output value at a time, testing each
//! tap's bounds (its vector path is for stride 1); on P-Net's largest pyramid level at min
//! face 20 (10 planes of 382×286) that one operation took about a sixth of the network's
//! time. Its other poolings fold each tap over a strided span of a row, which on R-Net's and
//! O-Net's small planes took about a quarter of each network's time. Here a 2×2 window is
//! read whole, and a larger one in two passes: along each row, then down the columns of
//! those row results, both over contiguous values.
//!
//! Why the values are tract's, bit for bit: the landmarks the liveness layers were calibrated
//! on come out of these networks. tract folds a window from `f32::MIN` in reading order (top
//! row first, left to right): its 2×2 path with `f32::max`, every other path keeping the
//! value held unless it is `<` the tap. The 2×2 window here is folded in that same order with
//! `f32::max`. The `<` fold ignores NaN and keeps the first of equal values, so folding each
//! row first and then the rows' results picks the same value and the same signed zero as
//! folding in reading order. Tests run both against tract with NaNs, infinities and signed
//! zeros.

use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::cnn::{MaxPool, PoolSpec};
use tract_onnx::tract_core::ops::nn::DataFormat;

/// An undilated max pooling of `[N, C, H, W]` `f32` values, with the kernel, strides and
/// padding (and so the output size) of `pool_spec`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PlanePool {
    pool_spec: PoolSpec,
}

impl PlanePool {
    /// The pooling for `spec`, if it is one this operation computes: a 2×2 kernel only at
    /// stride 2 (tract's 2×2 path compares differently, see the module).
    fn new(spec: &PoolSpec) -> Option<PlanePool> {
        let kernel = &spec.kernel_shape[..];
        let strides = spec.strides();
        let fits = spec.data_format == DataFormat::NCHW
            && kernel.len() == 2
            && strides.len() == 2
            && spec.dilations().iter().all(|&d| d == 1)
            && kernel.iter().chain(strides.iter()).all(|&k| k >= 1)
            && (kernel != [2, 2] || strides[..] == [2, 2])
            && spec.input_channels == spec.output_channels;
        fits.then(|| PlanePool {
            pool_spec: spec.clone(),
        })
    }
}

impl Op for PlanePool {
    fn name(&self) -> StaticName {
        "facegate.PlanePool".into()
    }
    op_as_typed_op!();
}

impl EvalOp for PlanePool {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let [x] = &inputs[..] else {
            bail!("PlanePool takes one input");
        };
        let &[n, c, h, w] = x.shape() else {
            bail!("PlanePool takes [N, C, H, W], not {:?}", x.shape());
        };
        let padding = self.pool_spec.computed_padding(&[h, w]);
        let (oh, ow) = (padding[0].convoluted, padding[1].convoluted);
        let mut out = Tensor::zero::<f32>(&[n, c, oh, ow])?;
        if oh * ow > 0 && h * w > 0 {
            let input = x.try_as_plain_ram()?;
            let input = input.as_slice::<f32>()?;
            let mut output = out.try_as_plain_ram_mut()?;
            let output = output.as_slice_mut::<f32>()?;
            let strides = self.pool_spec.strides();
            let axis = |i: usize, len: usize, out: usize| Axis {
                len,
                out,
                kernel: self.pool_spec.kernel_shape[i],
                stride: strides[i],
                before: padding[i].pad_before,
            };
            let (rows, cols) = (axis(0, h, oh), axis(1, w, ow));
            crate::vector::run(Planes {
                input,
                output,
                rows,
                cols,
            });
        }
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for PlanePool {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let [x] = inputs else {
            bail!("PlanePool takes one input");
        };
        if x.datum_type != f32::datum_type() || x.rank() != 4 {
            bail!("PlanePool cannot take {x:?}");
        }
        self.pool_spec.output_facts(inputs)
    }
}

/// A pooling over every channel plane, as one vector kernel.
struct Planes<'a> {
    input: &'a [f32],
    output: &'a mut [f32],
    rows: Axis,
    cols: Axis,
}

impl crate::vector::Kernel for Planes<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        let Planes {
            input,
            output,
            rows,
            cols,
        } = self;
        let mut across = Vec::new();
        for (src, dst) in input
            .chunks_exact(rows.len * cols.len)
            .zip(output.chunks_exact_mut(rows.out * cols.out))
        {
            if rows.kernel == 2 && cols.kernel == 2 {
                pool_2x2(src, dst, &rows, &cols);
            } else {
                pool_rows_then_columns(src, dst, &rows, &cols, &mut across);
            }
        }
    }
}

/// One axis of a plane and its pooling.
struct Axis {
    /// Input values along the axis.
    len: usize,
    /// Output values along it.
    out: usize,
    kernel: usize,
    stride: usize,
    /// Padding before the first value.
    before: usize,
}

impl Axis {
    /// The input index of output `o`'s tap `k`, if it lies inside.
    #[inline(always)]
    fn tap(&self, o: usize, k: usize) -> Option<usize> {
        (o * self.stride + k)
            .checked_sub(self.before)
            .filter(|&i| i < self.len)
    }

    /// The outputs whose every tap lies inside, `lo..hi`.
    #[inline(always)]
    fn inside(&self) -> (usize, usize) {
        let lo = self.before.div_ceil(self.stride).min(self.out);
        // The last tap of output o is o·stride + kernel − 1 − before ≤ len − 1.
        let hi = match (self.len + self.before).checked_sub(self.kernel) {
            Some(room) => (room / self.stride + 1).min(self.out).max(lo),
            None => lo,
        };
        (lo, hi)
    }
}

/// tract's fold for every pooling but 2×2: keep the value held unless it is `<` the tap.
#[inline(always)]
fn fold(held: f32, tap: f32) -> f32 {
    if held < tap {
        tap
    } else {
        held
    }
}

/// A 2×2 window at stride 2, folded with `f32::max` as tract's 2×2 path does.
#[inline(always)]
fn pool_2x2(src: &[f32], dst: &mut [f32], rows: &Axis, cols: &Axis) {
    let (x_lo, x_hi) = cols.inside();
    let row = |iy: Option<usize>| iy.map(|iy| &src[iy * cols.len..(iy + 1) * cols.len]);
    for (oy, out) in dst.chunks_exact_mut(cols.out).enumerate() {
        let (r0, r1) = (row(rows.tap(oy, 0)), row(rows.tap(oy, 1)));
        // The interior: whole windows.
        let span = &mut out[x_lo..x_hi];
        let first = (2 * x_lo).saturating_sub(cols.before);
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
        for ox in (0..x_lo).chain(x_hi..cols.out) {
            let mut m = f32::MIN;
            for r in [r0, r1].into_iter().flatten() {
                for ix in (0..2).filter_map(|k| cols.tap(ox, k)) {
                    m = m.max(r[ix]);
                }
            }
            out[ox] = m;
        }
    }
}

/// Any other window, with tract's `<` fold: each input row folded across (into `across`,
/// a row of `cols.out` values per input row), then those down each output column.
#[inline(always)]
fn pool_rows_then_columns(
    src: &[f32],
    dst: &mut [f32],
    rows: &Axis,
    cols: &Axis,
    across: &mut Vec<f32>,
) {
    let (x_lo, x_hi) = cols.inside();
    across.clear();
    across.resize(rows.len * cols.out, f32::MIN);
    for (r, a) in src
        .chunks_exact(cols.len)
        .zip(across.chunks_exact_mut(cols.out))
    {
        if x_hi > x_lo {
            let taps = &r[x_lo * cols.stride - cols.before..];
            let (k, s) = (cols.kernel, cols.stride);
            if (k, s) == (3, 2) {
                // Windows (t[2j], t[2j + 1], t[2j + 2]): pairs and the next pair's first.
                for ((o, w), &last) in a[x_lo..x_hi]
                    .iter_mut()
                    .zip(taps.chunks_exact(2))
                    .zip(taps[2..].iter().step_by(2))
                {
                    *o = fold(fold(fold(f32::MIN, w[0]), w[1]), last);
                }
            } else {
                for (j, o) in a[x_lo..x_hi].iter_mut().enumerate() {
                    *o = taps[j * s..j * s + k]
                        .iter()
                        .fold(f32::MIN, |m, &v| fold(m, v));
                }
            }
        }
        for ox in (0..x_lo).chain(x_hi..cols.out) {
            a[ox] = (0..cols.kernel)
                .filter_map(|k| cols.tap(ox, k))
                .fold(f32::MIN, |m, ix| fold(m, r[ix]));
        }
    }
    for (oy, out) in dst.chunks_exact_mut(cols.out).enumerate() {
        out.fill(f32::MIN);
        for iy in (0..rows.kernel).filter_map(|k| rows.tap(oy, k)) {
            let a = &across[iy * cols.out..(iy + 1) * cols.out];
            for (o, &v) in out.iter_mut().zip(a) {
                *o = fold(*o, v);
            }
        }
    }
}

/// Replaces every max pooling [`PlanePool`] computes; returns how many.
pub(crate) fn swap(model: &mut TypedModel) -> TractResult<usize> {
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
        let Some(op) = PlanePool::new(&pool.pool_spec) else {
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
    fn pooling(
        h: usize,
        w: usize,
        kernel: [usize; 2],
        strides: [usize; 2],
        padding: PaddingSpec,
    ) -> TractResult<TypedModel> {
        let mut m = TypedModel::default();
        let x = m.add_source("x", f32::fact([1, 2, h, w]))?;
        let spec = PoolSpec {
            data_format: DataFormat::NCHW,
            kernel_shape: kernel[..].into(),
            padding,
            dilations: None,
            strides: Some(strides[..].into()),
            input_channels: 2,
            output_channels: 2,
        };
        let out = m.wire_node("pool", MaxPool::new(spec, None), &[x])?[0];
        m.select_output_outlets(&[out])?;
        Ok(m)
    }

    #[test]
    fn the_swapped_poolings_give_tracts_bits() -> TractResult<()> {
        let paddings = [
            PaddingSpec::Valid,
            PaddingSpec::ExplicitOnnxPool(tvec![0, 0], tvec![0, 0], true),
            PaddingSpec::ExplicitOnnxPool(tvec![1, 0], tvec![0, 1], false),
            PaddingSpec::ExplicitOnnxPool(tvec![1, 2], tvec![2, 1], true),
            PaddingSpec::Explicit(tvec![1, 1], tvec![1, 1]),
            PaddingSpec::SameUpper,
        ];
        let shapes = [
            ([2, 2], [2, 2]),
            ([3, 3], [2, 2]),
            ([3, 3], [1, 1]),
            ([2, 3], [1, 2]),
            ([3, 2], [3, 1]),
        ];
        let mut compared = 0;
        for (kernel, strides) in shapes {
            for (h, w) in [
                (1, 1),
                (2, 2),
                (4, 6),
                (5, 7),
                (12, 13),
                (9, 2),
                (3, 31),
                (22, 22),
            ] {
                for padding in &paddings {
                    let case = format!("{kernel:?}/{strides:?} {h}×{w} {padding:?}");
                    let n = 2 * h * w;
                    // Ties of signed zeros, NaNs, infinities and ordinary values.
                    let values: Vec<f32> = (0..n)
                        .map(|i| match (i * 7 + h) % 13 {
                            0 | 9 => -0.0,
                            1 | 10 => 0.0,
                            2 => f32::NAN,
                            3 => f32::NEG_INFINITY,
                            4 => f32::INFINITY,
                            5 => f32::MIN,
                            k => (k as f32 - 8.0) * 0.37 + (i % 5) as f32 * 0.01,
                        })
                        .collect();
                    let input = tract_ndarray::Array4::from_shape_vec((1, 2, h, w), values)?;
                    let input = input.into_tensor();
                    let reference = pooling(h, w, kernel, strides, padding.clone())?;
                    let out = reference
                        .output_fact(0)?
                        .shape
                        .as_concrete()
                        .map(|s| s.to_vec());
                    let mut model = pooling(h, w, kernel, strides, padding.clone())?;
                    assert_eq!(swap(&mut model)?, 1, "{case}");
                    let swapped = model.into_optimized()?.into_runnable()?;
                    let b = swapped.run(tvec!(input.clone().into_tvalue()))?;
                    if out.is_some_and(|s| s.contains(&0)) {
                        // tract 0.23.9 panics on an empty output; ours is empty.
                        assert_eq!(b[0].len(), 0, "{case}");
                        continue;
                    }
                    let reference = reference.into_optimized()?.into_runnable()?;
                    let a = reference.run(tvec!(input.into_tvalue()))?;
                    assert_eq!(a[0].shape(), b[0].shape(), "{case}");
                    assert_eq!(crate::f32_bits(&a[0]), crate::f32_bits(&b[0]), "{case}");
                    compared += 1;
                }
            }
        }
        assert!(compared > 150, "{compared} cases compared");
        Ok(())
    }

    #[test]
    fn a_2x2_pooling_at_another_stride_is_left_to_tract() -> TractResult<()> {
        let mut m = pooling(9, 9, [2, 2], [1, 1], PaddingSpec::Valid)?;
        assert_eq!(swap(&mut m)?, 0);
        Ok(())
    }
}
