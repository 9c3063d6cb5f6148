//! P-Net's two output heads — the box offsets and face / not face, each a 1×1 convolution of
//! the same feature map — as one convolution with one output: the widest head's channels
//! first (the four offsets, then the two class logits).
//!
//! Why: tract packs a matrix product's input once per product. Two heads on one feature map
//! packed it twice; on P-Net's largest pyramid level at min face 20 the packing took more
//! than the heads' products. One product with the heads' weights stacked packs it once.
//!
//! Why the values are the same bit for bit: each output value is still its own head's dot
//! product over the same inputs in the same order, plus the same bias; stacking only adds
//! rows to the weight matrix (a test compares the plans).

use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::einsum::EinSum;
use tract_onnx::tract_core::ops::konst::Const;
use tract_onnx::tract_core::ops::math::Add;

/// One head: `EinSum(x, weights[O, I])` then `Add(bias)`, the output channels on the last axis
/// of both the product and the bias.
struct Head {
    einsum: usize,
    add: usize,
    weights: Arc<Tensor>,
    bias: Arc<Tensor>,
}

/// The head fed by `einsum`, if it has that shape.
fn head(model: &TypedModel, einsum: usize) -> TractResult<Option<Head>> {
    let node = model.node(einsum);
    let konst = |o: OutletId| model.node(o.node).op_as::<Const>().map(|c| c.val().clone());
    let Some(op) = node.op_as::<EinSum>() else {
        return Ok(None);
    };
    let Some(weights) = konst(node.inputs[1]).filter(|w| w.rank() == 2) else {
        return Ok(None);
    };
    let out = model.outlet_fact(OutletId::new(einsum, 0))?;
    let rank = out.rank();
    // The weights' first axis is the output's last, and the feature map has no such axis:
    // each output channel reads only its own row of weights.
    let o_axis = op.axes.axis((InOut::In(1), 0))?;
    if op.q_params.is_some()
        || node.inputs.len() != 2
        || o_axis.outputs[0][..] != [rank - 1]
        || !o_axis.inputs[0].is_empty()
        || out.shape[rank - 1].to_usize().ok() != Some(weights.shape()[0])
    {
        return Ok(None);
    }
    let [add] = node.outputs[0].successors[..] else {
        return Ok(None);
    };
    let add_node = model.node(add.node);
    let is_add = add_node
        .op_as::<TypedBinOp>()
        .is_some_and(|b| b.0.is::<Add>() && b.1.is_none());
    let Some(bias) = (is_add && add.slot == 0 && add_node.inputs.len() == 2)
        .then(|| konst(add_node.inputs[1]))
        .flatten()
    else {
        return Ok(None);
    };
    // The bias is [1, …, 1, O].
    let per_channel = bias.rank() == rank
        && bias.shape()[rank - 1] == weights.shape()[0]
        && bias.shape()[..rank - 1].iter().all(|&d| d == 1);
    Ok(per_channel.then_some(Head {
        einsum,
        add: add.node,
        weights,
        bias,
    }))
}

/// Stacks the heads that read the same outlet with the same product, and are each one of the
/// model's outputs, into one product, one bias and one output, widest head first (equal
/// widths in the model's order); returns how many heads were stacked.
///
/// Why one output rather than a slice per head: tract moves slices of a product's output
/// above the product, which splits it in two again.
pub(super) fn stack(model: &mut TypedModel) -> TractResult<usize> {
    let mut groups: Vec<(OutletId, EinSum, Vec<Head>)> = Vec::new();
    for id in model.eval_order()? {
        let Some(h) = head(model, id)? else {
            continue;
        };
        let node = model.node(id);
        let op = node.op_as::<EinSum>().cloned();
        let (input, Some(op)) = (node.inputs[0], op) else {
            continue;
        };
        let same_kind = |w: &Head, h: &Head| {
            w.weights.shape()[1] == h.weights.shape()[1]
                && w.weights.datum_type() == h.weights.datum_type()
                && w.bias.datum_type() == h.bias.datum_type()
        };
        match groups
            .iter_mut()
            .find(|(i, o, hs)| *i == input && *o == op && same_kind(&hs[0], &h))
        {
            Some((_, _, heads)) => heads.push(h),
            None => groups.push((input, op, vec![h])),
        }
    }
    let mut stacked = 0;
    for (input, op, mut heads) in groups.into_iter().filter(|g| g.2.len() > 1) {
        let outputs = model.output_outlets()?.to_vec();
        let is_output = |h: &Head| {
            outputs.contains(&OutletId::new(h.add, 0))
                && model.node(h.add).outputs[0].successors.is_empty()
        };
        if !heads.iter().all(is_output) {
            continue;
        }
        heads.sort_by_key(|h| std::cmp::Reverse(h.weights.shape()[0]));
        let weights: Vec<&Tensor> = heads.iter().map(|h| &*h.weights).collect();
        let biases: Vec<&Tensor> = heads.iter().map(|h| &*h.bias).collect();
        let last = heads[0].bias.rank() - 1;
        let weights = Tensor::stack_tensors(0, &weights)?;
        let bias = Tensor::stack_tensors(last, &biases)?;
        let name = model.node(heads[0].einsum).name.clone();
        let add_op = model.node(heads[0].add).op.clone();
        let w = model.add_const(format!("{name}.stacked_weights"), weights)?;
        let b = model.add_const(format!("{name}.stacked_bias"), bias)?;
        let product = model.wire_node(format!("{name}.stacked"), op, &[input, w])?[0];
        let sum = model.wire_node(format!("{name}.stacked_bias_add"), add_op, &[product, b])?[0];
        // The stacked output takes the place of the first head's; the others go.
        let heads_out: Vec<OutletId> = heads.iter().map(|h| OutletId::new(h.add, 0)).collect();
        let first = outputs
            .iter()
            .position(|o| heads_out.contains(o))
            .unwrap_or(outputs.len());
        let mut new_outputs: Vec<OutletId> = Vec::with_capacity(outputs.len());
        for (i, o) in outputs.iter().enumerate() {
            if i == first {
                new_outputs.push(sum);
            } else if !heads_out.contains(o) {
                new_outputs.push(*o);
            }
        }
        model.select_output_outlets(&new_outputs)?;
        stacked += heads.len();
    }
    Ok(stacked)
}
