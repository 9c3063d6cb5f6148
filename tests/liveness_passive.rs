//! The passive layer with a tiny ONNX model written in the test with tract-onnx's own
//! protobuf types: GlobalAveragePool → Flatten → Gemm, "live" when red outweighs blue.

use facegate::geometry::Rect;
use facegate::liveness::passive::{Layout, PassiveError, PassiveModel, PassiveSpec};
use image::{Rgb, RgbImage};
use prost::Message;
use tract_onnx::pb;

fn dims(d: &[i64]) -> Option<pb::TypeProto> {
    let dim = d
        .iter()
        .map(|&v| pb::tensor_shape_proto::Dimension {
            value: Some(pb::tensor_shape_proto::dimension::Value::DimValue(v)),
            ..Default::default()
        })
        .collect();
    Some(pb::TypeProto {
        value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
            elem_type: pb::tensor_proto::DataType::Float as i32,
            shape: Some(pb::TensorShapeProto { dim }),
        })),
        ..Default::default()
    })
}

fn node(
    op: &str,
    inputs: &[&str],
    output: &str,
    attribute: Vec<pb::AttributeProto>,
) -> pb::NodeProto {
    pb::NodeProto {
        op_type: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        name: output.into(),
        attribute,
        ..Default::default()
    }
}

fn tensor(name: &str, dims: &[i64], data: &[f32]) -> pb::TensorProto {
    pb::TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: pb::tensor_proto::DataType::Float as i32,
        float_data: data.to_vec(),
        ..Default::default()
    }
}

/// logits = mean(RGB) · W + b, W = [[1,-1],[0,0],[-1,1]]: class 0 ("live") when red > blue.
fn tiny_model(size: i64) -> Vec<u8> {
    let axis = pb::AttributeProto {
        name: "axis".into(),
        r#type: pb::attribute_proto::AttributeType::Int as i32,
        i: 1,
        ..Default::default()
    };
    let graph = pb::GraphProto {
        name: "tiny_pad".into(),
        node: vec![
            node("GlobalAveragePool", &["input"], "gap", vec![]),
            node("Flatten", &["gap"], "flat", vec![axis]),
            node("Gemm", &["flat", "W", "B"], "logits", vec![]),
        ],
        initializer: vec![
            tensor("W", &[3, 2], &[4.0, -4.0, 0.0, 0.0, -4.0, 4.0]),
            tensor("B", &[2], &[0.0, 0.0]),
        ],
        input: vec![pb::ValueInfoProto {
            name: "input".into(),
            r#type: dims(&[1, 3, size, size]),
            ..Default::default()
        }],
        output: vec![pb::ValueInfoProto {
            name: "logits".into(),
            r#type: dims(&[1, 2]),
            ..Default::default()
        }],
        ..Default::default()
    };
    let model = pb::ModelProto {
        ir_version: 7,
        opset_import: vec![pb::OperatorSetIdProto {
            domain: String::new(),
            version: 13,
        }],
        producer_name: "facegate-test".into(),
        graph: Some(graph),
        ..Default::default()
    };
    model.encode_to_vec()
}

fn spec() -> PassiveSpec {
    PassiveSpec {
        width: 16,
        height: 16,
        crop_scale: 1.2,
        scale: 1.0 / 255.0,
        mean: [0.5; 3],
        std: [0.5; 3],
        bgr: false,
        layout: Layout::Nchw,
        live_class: 0,
        softmax: true,
    }
}

/// A grey frame with a coloured square "face" at (40..88, 30..78).
fn frame(face: [u8; 3]) -> (RgbImage, Rect) {
    let mut img = RgbImage::from_pixel(128, 112, Rgb([128, 128, 128]));
    for y in 30..78 {
        for x in 40..88 {
            img.put_pixel(x, y, Rgb(face));
        }
    }
    (
        img,
        Rect {
            x: 40.0,
            y: 30.0,
            width: 48.0,
            height: 48.0,
        },
    )
}

#[test]
fn tiny_model_scores_the_face_crop() {
    let m = PassiveModel::from_bytes(&tiny_model(16), spec()).unwrap();
    let (red, b) = frame([220, 90, 40]);
    let (blue, _) = frame([40, 90, 220]);
    let live = m.score(&red, &b).unwrap();
    let attack = m.score(&blue, &b).unwrap();
    assert!(live > 0.9 && attack < 0.1, "live {live} attack {attack}");
    // BGR swaps the verdict: the spec is honoured.
    let bgr = PassiveModel::from_bytes(
        &tiny_model(16),
        PassiveSpec {
            bgr: true,
            ..spec()
        },
    )
    .unwrap();
    assert!(bgr.score(&red, &b).unwrap() < 0.1);
    // The live class index is honoured.
    let other = PassiveModel::from_bytes(
        &tiny_model(16),
        PassiveSpec {
            live_class: 1,
            ..spec()
        },
    )
    .unwrap();
    assert!(other.score(&red, &b).unwrap() < 0.1);
    // A face box partly outside the frame is sampled with replicated edges, not a panic.
    let edge = Rect {
        x: 100.0,
        y: 90.0,
        width: 60.0,
        height: 60.0,
    };
    assert!(m.score(&red, &edge).unwrap().is_finite());
}

#[test]
fn bad_specs_models_and_inputs_are_errors() {
    assert!(matches!(
        PassiveModel::from_bytes(&tiny_model(16), PassiveSpec { width: 0, ..spec() }),
        Err(PassiveError::Spec(_))
    ));
    assert!(matches!(
        PassiveModel::from_bytes(
            &tiny_model(16),
            PassiveSpec {
                std: [0.5, 0.0, 0.5],
                ..spec()
            }
        ),
        Err(PassiveError::Spec(_))
    ));
    assert!(matches!(
        PassiveModel::from_bytes(b"not a model", spec()),
        Err(PassiveError::Load(_))
    ));
    let m = PassiveModel::from_bytes(
        &tiny_model(16),
        PassiveSpec {
            live_class: 5,
            ..spec()
        },
    )
    .unwrap();
    let (img, b) = frame([200, 0, 0]);
    assert!(matches!(
        m.score(&img, &b),
        Err(PassiveError::Output {
            len: 2,
            live_class: 5
        })
    ));
    let m = PassiveModel::from_bytes(&tiny_model(16), spec()).unwrap();
    assert!(matches!(
        m.score(
            &img,
            &Rect {
                width: f32::NAN,
                ..b
            }
        ),
        Err(PassiveError::Box)
    ));
    assert!(matches!(
        m.score(&RgbImage::new(0, 0), &b),
        Err(PassiveError::Frame)
    ));
}
