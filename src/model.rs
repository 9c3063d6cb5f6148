//! Model files: where the network weights come from and proof that they are the right ones.
//!
//! Why: a wrong or corrupted weight file does not crash, it silently answers wrongly — a
//! face matcher that accepts everybody. Every model is therefore identified by its
//! SHA-256 and refused with a clear error when the bytes differ. The default models are
//! embedded in the binary (feature `embedded-models`) so a fresh build works offline; the
//! expected digests come from `models/SHA256SUMS`, the same file the rebuild script writes.
//!
//! Integrators may load their own ONNX models through [`OnnxModel::from_file`] or
//! [`OnnxModel::from_bytes`] with a digest they trust.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use tract_onnx::prelude::*;

mod in_place;

use in_place::SharedBytes;

/// Errors loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file could not be read.
    #[error("cannot read model file {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes do not have the expected SHA-256.
    #[error("model {name} is not the expected file: SHA-256 {actual}, expected {expected}")]
    Checksum {
        /// Model name.
        name: String,
        /// Expected digest (hex).
        expected: String,
        /// Actual digest (hex).
        actual: String,
    },
    /// A digest string is not 64 hex digits.
    #[error("not a SHA-256 digest: {0:?}")]
    BadDigest(String),
    /// No digest is known for an embedded model (a packaging fault).
    #[error("no SHA-256 recorded for embedded model {0}")]
    UnknownModel(String),
    /// This build has no embedded models (feature `embedded-models` off).
    #[error("this build has no embedded models; load model files explicitly")]
    NotEmbedded,
    /// The bytes are not a valid ONNX model, or not the kind of network expected.
    #[error("model {name} is not usable: {reason}")]
    Invalid {
        /// Model name.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

/// An ONNX model's bytes whose SHA-256 has been checked: a model given at run time when it
/// is made; an embedded one when the program is tested (its bytes are part of the program,
/// compiled from the files `models/SHA256SUMS` lists, and a test hashes each against its
/// line), so loading it does not hash 28 MB again (15–20 ms here, far more on a board
/// without SHA instructions).
pub struct OnnxModel {
    name: String,
    bytes: SharedBytes,
    id: u64,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "OnnxModel({}, {} bytes)",
            self.name,
            self.bytes.as_slice().len()
        )
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

/// Checks `bytes` against `expected` and returns the model's identity: the first eight
/// bytes of its digest.
fn check_digest(name: &str, bytes: &[u8], expected: &str) -> Result<u64, ModelError> {
    let expected = digest_hex(expected)?;
    let actual = sha256_hex(bytes);
    if actual != expected {
        return Err(ModelError::Checksum {
            name: name.to_string(),
            expected,
            actual,
        });
    }
    Ok(identity(&actual))
}

/// A SHA-256 given as 64 hex digits, in lower case.
fn digest_hex(digest: &str) -> Result<String, ModelError> {
    let digest = digest.trim().to_ascii_lowercase();
    if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ModelError::BadDigest(digest));
    }
    Ok(digest)
}

/// A model's identity: the first eight bytes of its (checked, lower-case hex) digest.
fn identity(digest: &str) -> u64 {
    u64::from_str_radix(&digest[..16], 16).unwrap_or_default()
}

impl OnnxModel {
    /// Model bytes checked against a trusted SHA-256 (hex).
    pub fn from_bytes(
        name: &str,
        bytes: impl Into<Cow<'static, [u8]>>,
        sha256: &str,
    ) -> Result<OnnxModel, ModelError> {
        let bytes = match bytes.into() {
            Cow::Borrowed(b) => SharedBytes::Static(b),
            Cow::Owned(v) => SharedBytes::Owned(Arc::new(v)),
        };
        let id = check_digest(name, bytes.as_slice(), sha256)?;
        Ok(OnnxModel {
            name: name.to_string(),
            bytes,
            id,
        })
    }

    /// Reads a model file and checks it against a trusted SHA-256 (hex).
    pub fn from_file(path: impl AsRef<Path>, sha256: &str) -> Result<OnnxModel, ModelError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        OnnxModel::from_bytes(&name, bytes, sha256)
    }

    /// One of the default models shipped in `models/`, by its path relative to `models/`.
    pub fn embedded(relative_path: &str) -> Result<OnnxModel, ModelError> {
        let bytes = embedded::bytes(relative_path)?;
        let digest = embedded::digest(relative_path)
            .ok_or_else(|| ModelError::UnknownModel(relative_path.to_string()))?;
        Ok(OnnxModel {
            name: relative_path.to_string(),
            bytes: SharedBytes::Static(bytes),
            id: identity(&digest_hex(digest)?),
        })
    }

    /// The model's name (file name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The model's identity: the first eight bytes of its SHA-256, as a number.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The model's bytes.
    pub fn bytes(&self) -> &[u8] {
        self.bytes.as_slice()
    }

    /// Parses the ONNX graph (the first, expensive step; do it once at load).
    pub(crate) fn parse(&self) -> Result<InferenceModel, ModelError> {
        self.parse_graph()
            .map_err(|e| self.invalid(format!("not a valid ONNX model: {e}")))
    }

    /// Parses the ONNX graph, each weight read from the model's bytes in place
    /// (`in_place`: the decoded message holds no second copy of the weights).
    pub(crate) fn parse_graph(&self) -> TractResult<InferenceModel> {
        in_place::parse(&self.bytes).unwrap_or_else(|| parse_onnx(self.bytes.as_slice()))
    }

    pub(crate) fn invalid(&self, reason: impl Into<String>) -> ModelError {
        ModelError::Invalid {
            name: self.name.clone(),
            reason: reason.into(),
        }
    }
}

/// Optimises a model that is already decluttered (or bound from a decluttered graph with
/// symbolic sizes), into the form a plan runs.
///
/// Why not tract's `into_optimized`: it declutters first, a second time, which on the graphs
/// this is used for (the embedder, MiniFASNet, MTCNN) changes nothing but costs part of the
/// load (tests compare the plans). Not a general rule: after YuNet's sizes are bound the
/// second declutter drops its batch axis, so YuNet keeps `into_optimized`; a new caller needs
/// a plan-outline test like `detect`'s.
pub(crate) fn optimized(mut typed: TypedModel) -> TractResult<TypedModel> {
    typed.optimize()?;
    Ok(typed)
}

/// Parses an ONNX graph from bytes that are only borrowed (a model given without a digest,
/// e.g. [`crate::liveness::passive::PassiveModel::from_bytes`]); the weights are decoded into
/// the message, then copied into tract's tensors.
pub(crate) fn parse_onnx(bytes: &[u8]) -> TractResult<InferenceModel> {
    use prost::Message;
    let proto = tract_onnx::pb::ModelProto::decode(bytes)?;
    tract_onnx::onnx().model_for_proto_model(&proto)
}

/// The digests of the shipped models, from `models/SHA256SUMS` (`sha256sum` format).
pub fn shipped_digests() -> impl Iterator<Item = (&'static str, &'static str)> {
    const SUMS: &str = include_str!("../models/SHA256SUMS");
    SUMS.lines().filter_map(|line| {
        let (digest, path) = line.split_once(char::is_whitespace)?;
        Some((path.trim().trim_start_matches('*'), digest.trim()))
    })
}

mod embedded {
    use super::ModelError;

    pub(super) fn digest(path: &str) -> Option<&'static str> {
        super::shipped_digests()
            .find(|(p, _)| *p == path)
            .map(|(_, d)| d)
    }

    #[cfg(feature = "embedded-models")]
    pub(super) fn bytes(path: &str) -> Result<&'static [u8], ModelError> {
        // Paths are relative to models/, as in SHA256SUMS.
        macro_rules! shipped {
            ($($p:literal),* $(,)?) => {
                match path {
                    $($p => Ok(include_bytes!(concat!("../models/", $p)).as_slice()),)*
                    other => Err(ModelError::UnknownModel(other.to_string())),
                }
            };
        }
        shipped!(
            "mtcnn/pnet.onnx",
            "mtcnn/rnet.onnx",
            "mtcnn/onet.onnx",
            "dlib/dlib_face_recognition_resnet_model_v1.onnx",
            "yunet/yunet_n_dynamic.onnx",
            "minifasnet/2.7_80x80_MiniFASNetV2.onnx",
            "minifasnet/4_0_0_80x80_MiniFASNetV1SE.onnx",
        )
    }

    #[cfg(not(feature = "embedded-models"))]
    pub(super) fn bytes(_path: &str) -> Result<&'static [u8], ModelError> {
        Err(ModelError::NotEmbedded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_digest_is_refused() {
        let err = OnnxModel::from_bytes("x", b"abc".to_vec(), &"0".repeat(64)).unwrap_err();
        assert!(matches!(err, ModelError::Checksum { .. }), "{err}");
        let err = OnnxModel::from_bytes("x", b"abc".to_vec(), "xyz").unwrap_err();
        assert!(matches!(err, ModelError::BadDigest(_)));
        // SHA-256("abc") from FIPS 180-2.
        let ok = OnnxModel::from_bytes(
            "x",
            b"abc".to_vec(),
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn garbage_bytes_are_not_a_model() {
        let bytes = b"definitely not protobuf".to_vec();
        let digest = sha256_hex(&bytes);
        let m = OnnxModel::from_bytes("junk.onnx", bytes, &digest).unwrap();
        assert!(matches!(m.parse(), Err(ModelError::Invalid { .. })));
    }

    #[cfg(feature = "embedded-models")]
    #[test]
    fn every_shipped_model_matches_its_digest() {
        let mut n = 0;
        for (path, digest) in shipped_digests().filter(|(p, _)| p.ends_with(".onnx")) {
            // Loading does not hash an embedded model: this is where its bytes are checked.
            let bytes = embedded::bytes(path).unwrap();
            assert_eq!(sha256_hex(bytes), digest, "{path}");
            let m = OnnxModel::embedded(path).unwrap();
            let checked = OnnxModel::from_bytes(path, bytes, digest).unwrap();
            assert_eq!(m.id(), checked.id(), "{path}");
            assert_eq!(m.bytes(), bytes);
            n += 1;
        }
        assert!(n >= 4, "expected at least 4 shipped ONNX models, found {n}");
    }
}
