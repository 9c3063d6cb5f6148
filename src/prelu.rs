//! PReLU: the parametric ReLU of MTCNN and MiniFASNet as one planned operation.
//!
//! Why: tract 0.23 imports ONNX `PRelu` as three operations — a comparison that writes a
//! boolean map, a multiplication and a select — each a full pass over the activations, the
//! comparison and the select as generic element loops. On a 640×480 frame at min face 20 the
//! three took about a fifth of an MTCNN detection (perf). [`fuse`] swaps each such triple,
//! after decluttering, for [`PRelu`]: one pass, in place, that chooses the same product by
//! the same test, so the values are the same bit for bit (a test runs both plans).

use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::konst::Const;
use tract_onnx::tract_core::ops::logic::{CompGT, Iff};
use tract_onnx::tract_core::ops::math::Mul;

/// `x < 0 ? x · slope[c] : x` over a `[1, C, …]` tensor, one slope per channel `c`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PRelu {
    /// The slopes' bits (`f32` is not `Eq`, which tract's operations must be).
    slopes: Vec<u32>,
}

impl Op for PRelu {
    fn name(&self) -> StaticName {
        "facegate.PRelu".into()
    }
    op_as_typed_op!();
}

impl EvalOp for PRelu {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, mut inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        if inputs.len() != 1 {
            bail!("PRelu takes one input");
        }
        let mut t = inputs.remove(0).into_tensor();
        {
            let mut plain = t.try_as_plain_ram_mut()?;
            let data = plain.as_slice_mut::<f32>()?;
            let channels = self.slopes.len();
            if channels == 0 || data.len() % channels != 0 {
                bail!("PRelu: {} values for {channels} channels", data.len());
            }
            crate::vector::run(Planes {
                data,
                slopes: &self.slopes,
            });
        }
        Ok(tvec!(t.into_tvalue()))
    }
}

/// PReLU over every channel plane, as one vector kernel.
struct Planes<'a> {
    data: &'a mut [f32],
    /// Bit patterns, one per plane.
    slopes: &'a [u32],
}

impl crate::vector::Kernel for Planes<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        let plane = self.data.len() / self.slopes.len().max(1);
        if plane == 0 {
            return;
        }
        for (values, &bits) in self.data.chunks_exact_mut(plane).zip(self.slopes) {
            let slope = f32::from_bits(bits);
            for v in values {
                let x = *v;
                *v = if 0.0 > x { x * slope } else { x };
            }
        }
    }
}

impl TypedOp for PRelu {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let [x] = inputs else {
            bail!("PRelu takes one input");
        };
        let channels = self.slopes.len();
        let shape = &x.shape;
        if x.datum_type != f32::datum_type()
            || shape.len() < 2
            || shape[0].to_usize().ok() != Some(1)
            || shape[1].to_usize().ok() != Some(channels)
        {
            bail!("PRelu with {channels} slopes cannot take {x:?}");
        }
        Ok(tvec!(f32::fact(x.shape.clone())))
    }
}

/// Replaces every `Iff(0 > x, x · slope, x)` whose slope is a per-channel constant by
/// [`PRelu`]; returns how many. The operations left without a consumer are pruned when the
/// model is optimized.
pub(crate) fn fuse(model: &mut TypedModel) -> TractResult<usize> {
    let mut fused = 0;
    for id in model.eval_order()? {
        let node = model.node(id);
        if node.op_as::<Iff>().is_none() {
            continue;
        }
        let [cond, then, otherwise] = node.inputs[..] else {
            continue;
        };
        let x = otherwise;
        let bin = |o: OutletId| model.node(o.node).op_as::<TypedBinOp>();
        let konst = |o: OutletId| model.node(o.node).op_as::<Const>().map(|c| c.val().clone());
        let (test, product) = (model.node(cond.node), model.node(then.node));
        // cond = 0 > x, with a constant zero of one element.
        let is_test = cond.slot == 0
            && bin(cond).is_some_and(|b| b.0.is::<CompGT>())
            && test.inputs.len() == 2
            && test.inputs[1] == x
            && konst(test.inputs[0])
                .is_some_and(|z| z.len() == 1 && z.cast_to_scalar::<f32>().is_ok_and(|v| v == 0.0));
        // then = x · slope, the slope constant of shape [1, C, 1, …].
        let slope = (then.slot == 0
            && bin(then).is_some_and(|b| b.0.is::<Mul>())
            && product.inputs.len() == 2
            && product.inputs[0] == x)
            .then(|| konst(product.inputs[1]))
            .flatten();
        // x is [1, C, …]: C known, the other axes may be symbols (P-Net's are).
        let x_shape = model.outlet_fact(x)?.shape.clone();
        let Some(slope) = slope else {
            continue;
        };
        let rank = x_shape.len();
        // The slope's shape, right-aligned to x's as broadcasting reads it: [1, C, 1, …].
        let s: Vec<usize> = std::iter::repeat(1)
            .take(rank.saturating_sub(slope.rank()))
            .chain(slope.shape().iter().copied())
            .collect();
        let per_channel = s.len() == rank
            && rank >= 2
            && x_shape[0].to_usize().ok() == Some(1)
            && x_shape[1].to_usize().ok() == Some(s[1])
            && s.iter().enumerate().all(|(i, &d)| d == 1 || i == 1);
        if !is_test || !per_channel || slope.datum_type() != f32::datum_type() {
            continue;
        }
        let slopes = slope
            .try_as_plain_ram()?
            .as_slice::<f32>()?
            .iter()
            .map(|v| v.to_bits())
            .collect();
        let node = node.clone();
        TypedModelPatch::replace_single_op(model, &node, &[x], PRelu { slopes })?.apply(model)?;
        fused += 1;
    }
    Ok(fused)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PReLU as tract imports it, over `[1, 3, 4, 5]`.
    fn imported(slopes: [f32; 3]) -> TractResult<TypedModel> {
        let mut m = TypedModel::default();
        let x = m.add_source("x", f32::fact([1, 3, 4, 5]))?;
        let zero = m.add_const("zero", tensor4(&[[[[0.0f32]]]]))?;
        let slope = m.add_const(
            "slope",
            tract_ndarray::Array4::from_shape_vec((1, 3, 1, 1), slopes.to_vec())?.into_tensor(),
        )?;
        let test = m.wire_node("test", TypedBinOp(Box::new(CompGT), None), &[zero, x])?[0];
        let mul = m.wire_node("mul", TypedBinOp(Box::new(Mul), None), &[x, slope])?[0];
        let out = m.wire_node("iff", Iff, &[test, mul, x])?[0];
        m.select_output_outlets(&[out])?;
        Ok(m)
    }

    #[test]
    fn the_fused_plan_gives_the_same_bits() -> TractResult<()> {
        let slopes = [0.25f32, -1.2783165, 0.0];
        let values: Vec<f32> = (0..60)
            .map(|i| match i {
                0 => -0.0,
                1 => 0.0,
                2 => f32::MIN_POSITIVE / 4.0,
                3 => -f32::MIN_POSITIVE / 4.0,
                _ => ((i * 37 % 23) as f32 - 11.0) * 0.173,
            })
            .collect();
        let input = tract_ndarray::Array4::from_shape_vec((1, 3, 4, 5), values)?.into_tensor();
        let reference = imported(slopes)?.into_optimized()?.into_runnable()?;
        let mut model = imported(slopes)?;
        assert_eq!(fuse(&mut model)?, 1);
        let model = model.into_optimized()?;
        assert!(model.nodes().iter().all(|n| n.op_as::<Iff>().is_none()));
        let fused = model.into_runnable()?;
        let a = reference.run(tvec!(input.clone().into_tvalue()))?;
        let b = fused.run(tvec!(input.into_tvalue()))?;
        let bits = |t: &TValue| -> TractResult<Vec<u32>> {
            Ok(t.try_as_plain_ram()?
                .as_slice::<f32>()?
                .iter()
                .map(|v| v.to_bits())
                .collect())
        };
        assert_eq!(bits(&a[0])?, bits(&b[0])?);
        Ok(())
    }

    #[test]
    fn a_select_that_is_not_a_prelu_is_left_alone() -> TractResult<()> {
        // x · slope chosen where x > 0: not the PReLU test.
        let mut m = TypedModel::default();
        let x = m.add_source("x", f32::fact([1, 3, 4, 5]))?;
        let zero = m.add_const("zero", tensor4(&[[[[0.0f32]]]]))?;
        let slope = m.add_const("slope", tensor4(&[[[[0.5f32]], [[0.5]], [[0.5]]]]))?;
        let test = m.wire_node("test", TypedBinOp(Box::new(CompGT), None), &[x, zero])?[0];
        let mul = m.wire_node("mul", TypedBinOp(Box::new(Mul), None), &[x, slope])?[0];
        let out = m.wire_node("iff", Iff, &[test, mul, x])?[0];
        m.select_output_outlets(&[out])?;
        assert_eq!(fuse(&mut m)?, 0);
        Ok(())
    }
}
