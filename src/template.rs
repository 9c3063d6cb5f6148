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

/// Errors building a template from raw model output.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    /// The model produced a vector of the wrong length.
    #[error("embedding has {0} values, expected {DIMENSIONS}")]
    Dimensions(usize),
    /// The model produced NaN or infinite values.
    #[error("embedding contains a non-finite value")]
    NonFinite,
}

/// One face's embedding, in memory only.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Template {
    values: [f32; DIMENSIONS],
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Template(<redacted>)")
    }
}

/// A decision threshold on the euclidean distance between two templates.
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

/// The result of comparing two templates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison {
    /// Euclidean distance between the embeddings (0 = identical).
    pub distance: f32,
    /// The threshold the decision was taken with.
    pub threshold: Threshold,
    /// Whether `distance <= threshold`.
    pub same_person: bool,
}

impl Template {
    /// Builds a template from an embedder's output vector, which is wiped afterwards.
    /// Only embedders call this; it is public so integrators can plug their own model.
    pub fn from_embedding(values: &mut [f32]) -> Result<Template, TemplateError> {
        let result = if values.len() != DIMENSIONS {
            Err(TemplateError::Dimensions(values.len()))
        } else if values.iter().any(|v| !v.is_finite()) {
            Err(TemplateError::NonFinite)
        } else {
            let mut t = Template {
                values: [0.0; DIMENSIONS],
            };
            t.values.copy_from_slice(values);
            Ok(t)
        };
        values.zeroize();
        result
    }

    /// Averages two templates of the same face (e.g. a chip and its mirror image),
    /// consuming both.
    pub fn mean(a: Template, b: Template) -> Template {
        let mut t = Template {
            values: [0.0; DIMENSIONS],
        };
        for (o, (x, y)) in t
            .values
            .iter_mut()
            .zip(a.values.iter().zip(b.values.iter()))
        {
            *o = 0.5 * (x + y);
        }
        t
    }

    /// Euclidean distance to `other`.
    pub fn distance(&self, other: &Template) -> f32 {
        let mut acc = 0.0f32;
        for (a, b) in self.values.iter().zip(other.values.iter()) {
            let d = a - b;
            acc += d * d;
        }
        acc.sqrt()
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
        assert!((c.distance - 0.05 * (DIMENSIONS as f32).sqrt()).abs() < 1e-5);
        assert!(c.same_person);
        assert!(!t(0.0).compare(&t(0.1), th).same_person);
    }

    #[test]
    fn rejects_bad_vectors_and_wipes_input() {
        let mut v = vec![1.0; 10];
        assert_eq!(
            Template::from_embedding(&mut v).unwrap_err(),
            TemplateError::Dimensions(10)
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
    fn debug_redacts() {
        assert_eq!(format!("{:?}", t(0.123)), "Template(<redacted>)");
        assert!(Threshold::new(f32::NAN).is_none());
        assert!(Threshold::new(-1.0).is_none());
    }
}
