//! Wrong or corrupted model files are refused with a clear error, at load time.

use facegate::detect::{Detector, DetectorConfig};
use facegate::embed::{EmbedError, Embedder, EmbedderSpec};
use facegate::model::{sha256_hex, shipped_digests, ModelError, OnnxModel};

const RESNET: &str = "dlib/dlib_face_recognition_resnet_model_v1.onnx";

fn digest(path: &str) -> &'static str {
    shipped_digests()
        .find(|(p, _)| *p == path)
        .map(|(_, d)| d)
        .unwrap()
}

#[test]
fn corrupted_model_file_is_refused_by_digest() {
    let path = format!("{}/models/{RESNET}", env!("CARGO_MANIFEST_DIR"));
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01; // one flipped bit in the weights
    let err = OnnxModel::from_bytes("resnet.onnx", bytes, digest(RESNET)).unwrap_err();
    assert!(matches!(err, ModelError::Checksum { .. }));
    assert!(err.to_string().contains("not the expected file"), "{err}");
    // The intact file loads from disk with the same digest.
    assert!(OnnxModel::from_file(&path, digest(RESNET)).is_ok());
    let missing = OnnxModel::from_file("/nonexistent/model.onnx", digest(RESNET)).unwrap_err();
    assert!(matches!(missing, ModelError::Io { .. }), "{missing}");
}

#[test]
fn a_valid_onnx_of_the_wrong_kind_is_refused() {
    // P-Net is a fine ONNX model, but not a face embedder.
    let pnet = OnnxModel::embedded("mtcnn/pnet.onnx").unwrap();
    let err = Embedder::new(&pnet, EmbedderSpec::DLIB_RESNET).unwrap_err();
    assert!(
        matches!(err, EmbedError::Model(ModelError::Invalid { .. })),
        "{err}"
    );
    // The ResNet is not a detector stage.
    let resnet = OnnxModel::embedded(RESNET).unwrap();
    let rnet = OnnxModel::embedded("mtcnn/rnet.onnx").unwrap();
    let onet = OnnxModel::embedded("mtcnn/onet.onnx").unwrap();
    assert!(Detector::new(&resnet, &rnet, &onet, DetectorConfig::default()).is_err());
    // Not ONNX at all, with a matching digest: refused as invalid, not a panic.
    let junk = b"\x08\x07junk".to_vec();
    let d = sha256_hex(&junk);
    let junk = OnnxModel::from_bytes("junk.onnx", junk, &d).unwrap();
    assert!(matches!(
        Embedder::new(&junk, EmbedderSpec::DLIB_RESNET),
        Err(EmbedError::Model(ModelError::Invalid { .. }))
    ));
}

#[test]
fn yunet_loads_and_a_wrong_model_is_refused_as_yunet() {
    use facegate::detect::yunet::{YuNet, YuNetConfig, DEFAULT_MODEL};
    use facegate::detect::DetectError;
    // The shipped YuNet loads and is pinned in SHA256SUMS.
    assert!(YuNet::with_default_model(YuNetConfig::default()).is_ok());
    assert!(shipped_digests().any(|(p, _)| p == DEFAULT_MODEL));
    // P-Net is valid ONNX but has none of YuNet's outputs: refused at load, typed.
    let pnet = OnnxModel::embedded("mtcnn/pnet.onnx").unwrap();
    let err = YuNet::new(&pnet, YuNetConfig::default()).unwrap_err();
    assert!(
        matches!(err, DetectError::Model(ModelError::Invalid { .. })),
        "{err}"
    );
    // A corrupted YuNet is refused by its digest before it is parsed.
    let path = format!("{}/models/{DEFAULT_MODEL}", env!("CARGO_MANIFEST_DIR"));
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x80;
    assert!(matches!(
        OnnxModel::from_bytes("yunet.onnx", bytes, digest(DEFAULT_MODEL)),
        Err(ModelError::Checksum { .. })
    ));
    // An invalid configuration is refused before any model work.
    let bad = YuNetConfig {
        nms_iou: f32::NAN,
        ..Default::default()
    };
    assert!(matches!(
        YuNet::with_default_model(bad),
        Err(DetectError::Config(_))
    ));
}
