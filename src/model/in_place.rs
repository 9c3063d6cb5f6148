//! An ONNX graph parsed with its weights read from the model bytes in place.
//!
//! Why: decoding an ONNX protobuf copies every weight into the decoded message, and tract then
//! copies each one again into its tensors, so the 22 MB embedder was held three times at once
//! (the model bytes, the message, the tensors) — the peak of `facegate verify`'s memory. Here
//! the protobuf is rewritten, without touching the weights, so that each top-level initializer
//! names its bytes as ONNX external data (offset and length into the model's own bytes); tract
//! then reads each weight from those bytes straight into its tensor, one at a time.
//!
//! The rewrite only reads field tags and lengths, with every offset checked. A model it cannot
//! rewrite (malformed, or already using external data) is decoded the ordinary way, which gives
//! the ordinary error, so the result never depends on which path was taken.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use tract_onnx::data_resolver::ModelDataResolver;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::bail;

/// A model's bytes, shareable with the weight reader tract keeps while parsing.
#[derive(Clone)]
pub(crate) enum SharedBytes {
    /// Bytes embedded in the binary.
    Static(&'static [u8]),
    /// Bytes read or given at run time.
    Owned(Arc<Vec<u8>>),
}

impl SharedBytes {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            SharedBytes::Static(b) => b,
            SharedBytes::Owned(b) => b,
        }
    }
}

// ONNX field numbers (onnx.proto3).
const MODEL_GRAPH: u64 = 7;
const GRAPH_INITIALIZER: u64 = 5;
const TENSOR_DATA_TYPE: u64 = 2;
const TENSOR_FLOAT_DATA: u64 = 4;
const TENSOR_RAW_DATA: u64 = 9;
const TENSOR_EXTERNAL_DATA: u64 = 13;
const TENSOR_DATA_LOCATION: u64 = 14;
const ENTRY_KEY: u64 = 1;
const ENTRY_VALUE: u64 = 2;
const LOCATION_EXTERNAL: u64 = 1;
const DATA_TYPE_FLOAT: u64 = 1;

/// The external-data location written for every rewritten weight. tract resolves it against
/// the model directory given to the parser (the root, which always exists); the reader below
/// ignores the path and serves only the byte ranges the rewrite recorded.
const LOCATION: &str = ".";
const MODEL_DIR: &str = "/";

/// Parses an ONNX graph from `bytes`, or `None` when the bytes are not a protobuf the
/// rewrite can follow (the caller then decodes them plainly, to get the decoder's error).
pub(crate) fn parse(bytes: &SharedBytes) -> Option<TractResult<InferenceModel>> {
    let (rewritten, ranges) = rewrite_model(bytes.as_slice())?;
    Some(parse_rewritten(bytes, &rewritten, ranges))
}

fn parse_rewritten(
    bytes: &SharedBytes,
    rewritten: &[u8],
    ranges: Ranges,
) -> TractResult<InferenceModel> {
    use prost::Message;
    let proto = tract_onnx::pb::ModelProto::decode(rewritten)?;
    let mut onnx = tract_onnx::onnx();
    onnx.provider = Arc::new(InPlace {
        bytes: bytes.clone(),
        ranges,
    });
    let parsed = onnx.parse(&proto, Some(MODEL_DIR))?;
    if !parsed.unresolved_inputs.is_empty() {
        bail!(
            "Could not resolve inputs at top-level: {:?}",
            parsed.unresolved_inputs
        )
    }
    Ok(parsed.model)
}

/// Offsets and lengths of the weights in the model's bytes.
type Ranges = HashSet<(usize, usize)>;

/// Serves the weight ranges the rewrite recorded, and nothing else: a model whose own
/// tensors name external files is refused, as tract refuses it without a model directory.
struct InPlace {
    bytes: SharedBytes,
    ranges: Ranges,
}

impl ModelDataResolver for InPlace {
    fn read_bytes_from_path(
        &self,
        buf: &mut Vec<u8>,
        _path: &Path,
        offset: usize,
        length: Option<usize>,
    ) -> TractResult<()> {
        let Some(length) = length.filter(|&l| self.ranges.contains(&(offset, l))) else {
            bail!("external data files are not supported");
        };
        match self
            .bytes
            .as_slice()
            .get(offset..offset.saturating_add(length))
        {
            Some(weights) => buf.extend_from_slice(weights),
            None => bail!("external data range out of bounds"),
        }
        Ok(())
    }
}

/// The model with each top-level initializer's raw data replaced by a reference to its
/// range in `bytes`, and those ranges; `None` when there is nothing to rewrite or the bytes
/// are not well-formed protobuf.
fn rewrite_model(bytes: &[u8]) -> Option<(Vec<u8>, Ranges)> {
    let mut ranges = HashSet::new();
    let mut out = Vec::new();
    for field in Fields::new(bytes, 0) {
        let field = field?;
        if field.number == MODEL_GRAPH && field.wire_type == WIRE_LEN {
            let graph = rewrite_graph(bytes, &field, &mut ranges)?;
            put_len_field(&mut out, MODEL_GRAPH, &graph);
        } else {
            out.extend_from_slice(&bytes[field.start..field.end]);
        }
    }
    (!ranges.is_empty()).then_some((out, ranges))
}

fn rewrite_graph(bytes: &[u8], graph: &Field, ranges: &mut Ranges) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for field in Fields::new(&bytes[..graph.end], graph.body) {
        let field = field?;
        if field.number == GRAPH_INITIALIZER && field.wire_type == WIRE_LEN {
            let tensor = rewrite_tensor(bytes, &field, ranges)?;
            put_len_field(&mut out, GRAPH_INITIALIZER, &tensor);
        } else {
            out.extend_from_slice(&bytes[field.start..field.end]);
        }
    }
    Some(out)
}

fn rewrite_tensor(bytes: &[u8], tensor: &Field, ranges: &mut Ranges) -> Option<Vec<u8>> {
    let body = &bytes[tensor.body..tensor.end];
    let (mut raw, mut floats, mut float_fields, mut data_type) = (None, None, 0, None);
    for field in Fields::new(&bytes[..tensor.end], tensor.body) {
        let field = field?;
        match (field.number, field.wire_type) {
            // Already external: left as it is (and refused by the reader).
            (TENSOR_EXTERNAL_DATA | TENSOR_DATA_LOCATION, _) => return Some(body.to_vec()),
            // For a repeated scalar field protobuf keeps the last value.
            (TENSOR_RAW_DATA, WIRE_LEN) => raw = Some(field),
            (TENSOR_FLOAT_DATA, wire_type) => {
                float_fields += 1;
                floats = (wire_type == WIRE_LEN).then_some(field);
            }
            (TENSOR_DATA_TYPE, WIRE_VARINT) => {
                data_type = read_varint(bytes, &mut { field.body });
            }
            _ => {}
        }
    }
    // tract reads raw data when there is any; else packed `float` values, whose bytes are the
    // same little-endian layout, when they come in one piece.
    let (weights, drop) = match raw.filter(|r| r.end > r.body) {
        Some(raw) => (raw, TENSOR_RAW_DATA),
        None => match floats.filter(|f| f.end > f.body) {
            Some(f) if float_fields == 1 && data_type == Some(DATA_TYPE_FLOAT) => {
                (f, TENSOR_FLOAT_DATA)
            }
            _ => return Some(body.to_vec()),
        },
    };
    let mut out = Vec::with_capacity(body.len().min(256) + 64);
    for field in Fields::new(&bytes[..tensor.end], tensor.body) {
        let field = field?;
        if field.number != drop {
            out.extend_from_slice(&bytes[field.start..field.end]);
        }
    }
    let (offset, length) = (weights.body, weights.end - weights.body);
    for (key, value) in [
        ("location", LOCATION.to_string()),
        ("offset", offset.to_string()),
        ("length", length.to_string()),
    ] {
        let mut entry = Vec::new();
        put_len_field(&mut entry, ENTRY_KEY, key.as_bytes());
        put_len_field(&mut entry, ENTRY_VALUE, value.as_bytes());
        put_len_field(&mut out, TENSOR_EXTERNAL_DATA, &entry);
    }
    put_varint(&mut out, TENSOR_DATA_LOCATION << 3);
    put_varint(&mut out, LOCATION_EXTERNAL);
    ranges.insert((offset, length));
    Some(out)
}

const WIRE_VARINT: u8 = 0;
const WIRE_I64: u8 = 1;
const WIRE_LEN: u8 = 2;
const WIRE_I32: u8 = 5;

/// One field of a protobuf message: its number and wire type, where it starts (its tag),
/// where its value starts and where it ends, as offsets into the whole model.
struct Field {
    number: u64,
    wire_type: u8,
    start: usize,
    body: usize,
    end: usize,
}

/// The fields of the message in `bytes[from..]`; an item is `None` where the bytes are not
/// well-formed (groups, which ONNX does not use, count as not well-formed).
struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
    failed: bool,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8], from: usize) -> Self {
        Fields {
            bytes,
            at: from,
            failed: false,
        }
    }

    fn next_field(&mut self) -> Option<Field> {
        let start = self.at;
        let tag = read_varint(self.bytes, &mut self.at)?;
        let (number, wire_type) = (tag >> 3, (tag & 7) as u8);
        if number == 0 {
            return None;
        }
        let body;
        match wire_type {
            WIRE_VARINT => {
                body = self.at;
                read_varint(self.bytes, &mut self.at)?;
            }
            WIRE_I64 | WIRE_I32 => {
                body = self.at;
                let size = if wire_type == WIRE_I64 { 8 } else { 4 };
                self.at = self.at.checked_add(size)?;
            }
            WIRE_LEN => {
                let len = usize::try_from(read_varint(self.bytes, &mut self.at)?).ok()?;
                body = self.at;
                self.at = self.at.checked_add(len)?;
            }
            _ => return None,
        }
        (self.at <= self.bytes.len()).then_some(Field {
            number,
            wire_type,
            start,
            body,
            end: self.at,
        })
    }
}

impl Iterator for Fields<'_> {
    type Item = Option<Field>;

    fn next(&mut self) -> Option<Option<Field>> {
        if self.failed || self.at >= self.bytes.len() {
            return None;
        }
        let field = self.next_field();
        self.failed = field.is_none();
        Some(field)
    }
}

fn read_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_len_field(out: &mut Vec<u8>, number: u64, body: &[u8]) {
    put_varint(out, (number << 3) | u64::from(WIRE_LEN));
    put_varint(out, body.len() as u64);
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use tract_onnx::pb;

    fn tensor(name: &str, values: &[f32]) -> pb::TensorProto {
        pb::TensorProto {
            name: name.into(),
            dims: vec![values.len() as i64],
            data_type: pb::tensor_proto::DataType::Float as i32,
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        }
    }

    /// y = x + a, with `a` an initializer.
    fn add_model(a: pb::TensorProto) -> Vec<u8> {
        use pb::type_proto::{Tensor, Value};
        let value_info = |name: &str| pb::ValueInfoProto {
            name: name.into(),
            r#type: Some(pb::TypeProto {
                value: Some(Value::TensorType(Tensor {
                    elem_type: pb::tensor_proto::DataType::Float as i32,
                    shape: Some(pb::TensorShapeProto {
                        dim: vec![pb::tensor_shape_proto::Dimension {
                            value: Some(pb::tensor_shape_proto::dimension::Value::DimValue(3)),
                            ..Default::default()
                        }],
                    }),
                })),
                ..Default::default()
            }),
            ..Default::default()
        };
        let model = pb::ModelProto {
            ir_version: 7,
            opset_import: vec![pb::OperatorSetIdProto {
                domain: String::new(),
                version: 13,
            }],
            graph: Some(pb::GraphProto {
                name: "g".into(),
                node: vec![pb::NodeProto {
                    input: vec!["x".into(), "a".into()],
                    output: vec!["y".into()],
                    op_type: "Add".into(),
                    ..Default::default()
                }],
                initializer: vec![a],
                input: vec![value_info("x")],
                output: vec![value_info("y")],
                ..Default::default()
            }),
            ..Default::default()
        };
        model.encode_to_vec()
    }

    fn run(model: InferenceModel) -> Vec<f32> {
        let plan = model.into_optimized().unwrap().into_runnable().unwrap();
        let x = tract_ndarray::arr1(&[1f32, 2., 3.]).into_tensor();
        let out = plan.run(tvec!(x.into())).unwrap();
        out[0]
            .to_plain_array_view::<f32>()
            .unwrap()
            .iter()
            .copied()
            .collect()
    }

    /// Parses as `OnnxModel::parse_graph` does: in place, or plainly when the rewrite declines.
    fn parse_any(bytes: Vec<u8>) -> TractResult<InferenceModel> {
        let bytes = SharedBytes::Owned(Arc::new(bytes));
        parse(&bytes).unwrap_or_else(|| crate::model::parse_onnx(bytes.as_slice()))
    }

    #[test]
    fn weights_read_in_place_give_the_same_graph() {
        let bytes = add_model(tensor("a", &[10., 20., 30.]));
        let (rewritten, ranges) = rewrite_model(&bytes).unwrap();
        assert_eq!(ranges.len(), 1);
        // The rewritten message carries no weight bytes, only their range.
        let proto = pb::ModelProto::decode(rewritten.as_slice()).unwrap();
        let a = &proto.graph.as_ref().unwrap().initializer[0];
        assert!(a.raw_data.is_empty());
        assert_eq!(a.data_location, Some(1));
        let in_place = parse(&SharedBytes::Owned(Arc::new(bytes.clone())))
            .unwrap()
            .unwrap();
        assert_eq!(run(in_place), vec![11., 22., 33.]);
    }

    #[test]
    fn a_model_naming_its_own_external_file_is_refused() {
        let mut a = tensor("a", &[]);
        a.dims = vec![3];
        a.data_location = Some(1);
        a.external_data = vec![
            pb::StringStringEntryProto {
                key: "location".into(),
                value: ".".into(),
            },
            pb::StringStringEntryProto {
                key: "offset".into(),
                value: "0".into(),
            },
            pb::StringStringEntryProto {
                key: "length".into(),
                value: "12".into(),
            },
        ];
        let bytes = add_model(a);
        assert!(parse_any(bytes).is_err());
    }

    #[test]
    fn malformed_bytes_give_the_decoders_error_not_a_panic() {
        let bytes = add_model(tensor("a", &[10., 20., 30.]));
        // Every truncation, and a length pointing past the end.
        for cut in 0..bytes.len() {
            let _ = parse_any(bytes[..cut].to_vec());
        }
        let mut long = bytes.clone();
        long.extend_from_slice(&[(MODEL_GRAPH << 3 | 2) as u8, 0xff, 0xff, 0xff, 0x7f]);
        assert!(parse_any(long).is_err());
        for bad in [&[0x08u8, 0xff, 0xff][..], &[0x0b], &[0x00], &[0xff; 11]] {
            assert!(rewrite_model(bad).is_none());
        }
    }

    #[cfg(feature = "embedded-models")]
    #[test]
    fn shipped_models_have_their_weights_read_in_place_with_the_same_results() {
        use crate::model::{shipped_digests, OnnxModel};
        for (path, _) in shipped_digests().filter(|(p, _)| p.ends_with(".onnx")) {
            let m = OnnxModel::embedded(path).unwrap();
            let (rewritten, ranges) = rewrite_model(m.bytes()).expect(path);
            let weights: usize = ranges.iter().map(|r| r.1).sum();
            assert!(
                weights + rewritten.len() >= m.bytes().len() && weights * 2 > m.bytes().len(),
                "{path}: {weights} of {} bytes in place",
                m.bytes().len()
            );
        }
        // The same graph either way: O-Net's outputs on one input, bit for bit.
        let m = OnnxModel::embedded("mtcnn/onet.onnx").unwrap();
        let plan = |g: InferenceModel| {
            g.with_input_fact(0, f32::fact([1, 48, 48, 3]).into())
                .unwrap()
                .into_optimized()
                .unwrap()
                .into_runnable()
                .unwrap()
        };
        let input = tract_ndarray::Array4::from_shape_fn((1, 48, 48, 3), |(_, y, x, c)| {
            ((c * 31 + y * 7 + x * 3) % 17) as f32 / 8.0 - 1.0
        })
        .into_tensor();
        let outputs = |g| {
            plan(g)
                .run(tvec!(input.clone().into()))
                .unwrap()
                .iter()
                .flat_map(|t| {
                    t.to_plain_array_view::<f32>()
                        .unwrap()
                        .iter()
                        .map(|v| v.to_bits())
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        };
        let plain = super::super::parse_onnx(m.bytes()).unwrap();
        assert_eq!(outputs(m.parse_graph().unwrap()), outputs(plain));
    }
}
