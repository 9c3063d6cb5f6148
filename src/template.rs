//! Face templates: the embedding of one face, and the only thing you can do with it —
//! compare it with another.
//!
//! Why this shape: a face embedding is biometric data. The rule is *local, minimal, not
//! retained*. So a [`Template`] has no `Clone` (there is exactly one copy), no `Serialize`
//! and no accessor for its numbers (it cannot be stored or sent), a `Debug` that prints
//! nothing of it, and it is zeroized on drop. [`Template::compare`] returns a
//! [`Comparison`] — a distance and a decision — never the vectors.

use zeroize::{Zeroize, ZeroizeOnDrop};

/// Number of dimensions of the default embedding (dlib's face ResNet).
pub const DIMENSIONS: usize = 128;

/// The longest embedding a template holds (ArcFace-style models give 512).
pub const MAX_DIMENSIONS: usize = 512;

/// How two embeddings of one model are compared; each model declares its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Metric {
    /// Euclidean distance (dlib's ResNet: same person within 0.6).
    Euclidean,
    /// One minus the cosine similarity, in 0..=2 (ArcFace-style models).
    Cosine,
}

/// What an embedding model produces: a vector of `dimensions` compared by `metric`.
///
/// Templates of different kinds are never the same person: comparing them fails closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmbeddingKind {
    /// Length of the embedding, 1..=[`MAX_DIMENSIONS`].
    pub dimensions: usize,
    /// How two embeddings are compared.
    pub metric: Metric,
    /// Which model made it (the first bytes of its SHA-256, 0 when not known): two
    /// 128-d models are not comparable either.
    pub model: u64,
}

impl EmbeddingKind {
    /// The default model's embeddings (dlib's ResNet, 128-d, euclidean; `model` is the
    /// start of the shipped ONNX file's SHA-256, checked by a test against
    /// `models/SHA256SUMS`).
    pub const DLIB_RESNET: EmbeddingKind = EmbeddingKind {
        dimensions: DIMENSIONS,
        metric: Metric::Euclidean,
        model: 0xccf4_c6e5_7e7d_86f6,
    };
}

/// Errors building a template from raw model output.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    /// The model produced a vector of the wrong length.
    #[error("embedding has {actual} values, expected {expected}")]
    Dimensions {
        /// Values given.
        actual: usize,
        /// Values the model declares (at most [`MAX_DIMENSIONS`]).
        expected: usize,
    },
    /// The model produced NaN or infinite values.
    #[error("embedding contains a non-finite value")]
    NonFinite,
    /// A cosine embedding of length zero has no direction.
    #[error("embedding is all zeros; a cosine template needs a direction")]
    Zero,
    /// Two templates of different models or kinds cannot be combined.
    #[error("templates of different embedding models cannot be combined")]
    Incompatible,
}

/// One face's embedding, in memory only.
///
/// An embedder makes one from its output vector, which is wiped as it is taken in; all a
/// template can do is [`Template::compare`] with another.
///
/// ```
/// use facegate::template::{EmbeddingKind, Metric, Template, Threshold};
///
/// // Two 128-d embeddings of the default kind, 0.3 apart (an embedder's output).
/// let mut a = [0.0f32; 128];
/// a[0] = 1.0;
/// let mut b = a;
/// b[1] = 0.3;
/// let first = Template::from_embedding(&mut a)?;
/// let second = Template::from_embedding(&mut b)?;
/// assert!(a.iter().all(|v| *v == 0.0), "the raw vector is wiped");
///
/// let threshold = Threshold::new(0.6).unwrap();
/// let same = first.compare(&second, threshold);
/// assert!(same.same_person());
/// assert!((same.distance() - 0.3).abs() < 1e-6);
///
/// // Another model's embedding is never the same person, however close its numbers.
/// let other_model = EmbeddingKind { dimensions: 128, metric: Metric::Euclidean, model: 1 };
/// let mut c = [0.0f32; 128];
/// c[0] = 1.0;
/// let foreign = Template::new(&mut c, other_model)?;
/// assert!(!first.compare(&foreign, threshold).same_person());
/// assert!(first.distance(&foreign).is_infinite());
/// # Ok::<(), facegate::template::TemplateError>(())
/// ```
// `repr(C)`: the values lead the storage, so a test can check that they are wiped in place.
#[derive(Zeroize, ZeroizeOnDrop)]
#[repr(C)]
pub struct Template {
    values: [f32; MAX_DIMENSIONS],
    #[zeroize(skip)]
    kind: EmbeddingKind,
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Template(<redacted>)")
    }
}

/// A decision threshold on the distance between two templates (in the model's metric).
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Threshold(f32);

impl Threshold {
    /// A threshold; `None` unless finite and positive.
    pub fn new(distance: f32) -> Option<Threshold> {
        (distance.is_finite() && distance > 0.0).then_some(Threshold(distance))
    }

    /// The distance at or below which two faces are declared the same person.
    pub fn distance(self) -> f32 {
        self.0
    }
}

/// The result of comparing two templates. Only [`Template::compare`] makes one: its fields
/// are read, never set, so "same person" cannot be forged downstream.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison {
    distance: f32,
    threshold: Threshold,
    same_person: bool,
}

impl Comparison {
    /// Distance between the embeddings in the model's metric (0 = identical; infinite for
    /// templates of different models).
    pub fn distance(&self) -> f32 {
        self.distance
    }

    /// The threshold the decision was taken with.
    pub fn threshold(&self) -> Threshold {
        self.threshold
    }

    /// Whether `distance <= threshold`.
    pub fn same_person(&self) -> bool {
        self.same_person
    }
}

impl Template {
    /// Builds a template of the default kind (dlib's 128-d euclidean embedding) from an
    /// embedder's output vector, which is wiped afterwards.
    pub fn from_embedding(values: &mut [f32]) -> Result<Template, TemplateError> {
        Template::new(values, EmbeddingKind::DLIB_RESNET)
    }

    /// Builds a template of `kind` from an embedder's output vector, which is wiped
    /// afterwards whatever is decided. Only embedders call this; it is public so integrators
    /// can plug their own model. A cosine embedding is stored unit-length.
    pub fn new(values: &mut [f32], kind: EmbeddingKind) -> Result<Template, TemplateError> {
        let result = Template::build(values, kind);
        values.zeroize();
        result
    }

    fn build(values: &[f32], kind: EmbeddingKind) -> Result<Template, TemplateError> {
        let n = kind.dimensions;
        if values.len() != n || n == 0 || n > MAX_DIMENSIONS {
            return Err(TemplateError::Dimensions {
                actual: values.len(),
                expected: n.min(MAX_DIMENSIONS),
            });
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(TemplateError::NonFinite);
        }
        let mut t = Template {
            values: [0.0; MAX_DIMENSIONS],
            kind,
        };
        t.values[..n].copy_from_slice(values);
        if kind.metric == Metric::Cosine {
            t.normalise()?;
        }
        Ok(t)
    }

    fn normalise(&mut self) -> Result<(), TemplateError> {
        let n = self.kind.dimensions;
        let norm = self.values[..n]
            .iter()
            .map(|v| f64::from(*v) * f64::from(*v))
            .sum::<f64>()
            .sqrt();
        if !(norm > 0.0 && norm.is_finite()) {
            return Err(TemplateError::Zero);
        }
        for v in &mut self.values[..n] {
            *v = (f64::from(*v) / norm) as f32;
        }
        Ok(())
    }

    /// What kind of embedding this is.
    pub fn kind(&self) -> EmbeddingKind {
        self.kind
    }

    /// Averages two templates of the same face (e.g. a chip and its mirror image),
    /// consuming both; they must be of the same kind.
    pub fn mean(a: Template, b: Template) -> Result<Template, TemplateError> {
        if a.kind != b.kind {
            return Err(TemplateError::Incompatible);
        }
        let mut t = Template {
            values: [0.0; MAX_DIMENSIONS],
            kind: a.kind,
        };
        for (o, (x, y)) in t
            .values
            .iter_mut()
            .zip(a.values.iter().zip(b.values.iter()))
        {
            *o = 0.5 * (x + y);
        }
        if t.kind.metric == Metric::Cosine {
            t.normalise()?;
        }
        Ok(t)
    }

    /// Distance to `other` in the model's metric; infinite when the two are of different
    /// kinds (never the same person).
    pub fn distance(&self, other: &Template) -> f32 {
        if self.kind != other.kind {
            return f32::INFINITY;
        }
        let n = self.kind.dimensions;
        let (a, b) = (&self.values[..n], &other.values[..n]);
        match self.kind.metric {
            Metric::Euclidean => {
                let mut acc = 0.0f32;
                for (x, y) in a.iter().zip(b) {
                    let d = x - y;
                    acc += d * d;
                }
                acc.sqrt()
            }
            Metric::Cosine => {
                let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
                (1.0 - dot).max(0.0)
            }
        }
    }

    /// Compares with `other` under `threshold`.
    pub fn compare(&self, other: &Template, threshold: Threshold) -> Comparison {
        let distance = self.distance(other);
        Comparison {
            distance,
            threshold,
            same_person: distance <= threshold.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: f32) -> Template {
        Template::from_embedding(&mut [v; DIMENSIONS]).unwrap()
    }

    #[test]
    fn compare_distance_and_decision() {
        let th = Threshold::new(0.6).unwrap();
        let c = t(0.0).compare(&t(0.05), th);
        assert!((c.distance() - 0.05 * (DIMENSIONS as f32).sqrt()).abs() < 1e-5);
        assert!(c.same_person());
        assert!(!t(0.0).compare(&t(0.1), th).same_person());
    }

    #[test]
    fn rejects_bad_vectors_and_wipes_input() {
        let mut v = vec![1.0; 10];
        assert_eq!(
            Template::from_embedding(&mut v).unwrap_err(),
            TemplateError::Dimensions {
                actual: 10,
                expected: DIMENSIONS
            }
        );
        assert!(v.iter().all(|x| *x == 0.0));
        let mut v = vec![1.0; DIMENSIONS];
        v[3] = f32::NAN;
        assert_eq!(
            Template::from_embedding(&mut v).unwrap_err(),
            TemplateError::NonFinite
        );
        let mut v = vec![0.25; DIMENSIONS];
        let _t = Template::from_embedding(&mut v).unwrap();
        assert!(v.iter().all(|x| *x == 0.0));
    }

    #[test]
    fn cosine_templates_and_kinds_fail_closed() {
        let kind = EmbeddingKind {
            dimensions: 3,
            metric: Metric::Cosine,
            model: 7,
        };
        let a = Template::new(&mut [3.0, 0.0, 0.0], kind).unwrap();
        let b = Template::new(&mut [0.0, 2.0, 0.0], kind).unwrap();
        let c = Template::new(&mut [1.0, 1.0, 0.0], kind).unwrap();
        assert!(a.distance(&b) - 1.0 < 1e-6 && 1.0 - a.distance(&b) < 1e-6);
        let expect = 1.0 - std::f32::consts::FRAC_1_SQRT_2;
        assert!((a.distance(&c) - expect).abs() < 1e-6);
        assert_eq!(
            Template::new(&mut [0.0; 3], kind).unwrap_err(),
            TemplateError::Zero
        );
        // The mean of two unit vectors is unit again: its distance to c is 0.
        let m = Template::mean(a, b).unwrap();
        assert!(m.distance(&c) < 1e-6);
        // Another model with the same shape, or another kind: never the same person.
        let other =
            Template::new(&mut [1.0, 1.0, 0.0], EmbeddingKind { model: 8, ..kind }).unwrap();
        assert_eq!(c.distance(&other), f32::INFINITY);
        assert!(!c
            .compare(&other, Threshold::new(2.5).unwrap())
            .same_person());
        assert_eq!(
            Template::mean(c, other).unwrap_err(),
            TemplateError::Incompatible
        );
        let too_long = EmbeddingKind {
            dimensions: MAX_DIMENSIONS + 1,
            ..kind
        };
        assert!(matches!(
            Template::new(&mut vec![1.0; MAX_DIMENSIONS + 1], too_long),
            Err(TemplateError::Dimensions { .. })
        ));
    }

    #[test]
    fn default_kind_names_the_shipped_model() {
        let (_, digest) = crate::model::shipped_digests()
            .find(|(p, _)| *p == "dlib/dlib_face_recognition_resnet_model_v1.onnx")
            .unwrap();
        assert_eq!(
            u64::from_str_radix(&digest[..16], 16).unwrap(),
            EmbeddingKind::DLIB_RESNET.model
        );
    }

    #[test]
    fn debug_redacts() {
        assert_eq!(format!("{:?}", t(0.123)), "Template(<redacted>)");
        assert!(Threshold::new(f32::NAN).is_none());
        assert!(Threshold::new(-1.0).is_none());
    }
}
