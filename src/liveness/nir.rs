//! Near-infrared layer: a face shown on a phone or tablet screen is dark or absent in NIR.
//!
//! Why: LCD and OLED screens emit visible light only, so under the kiosk's NIR
//! illuminator a face on a screen shows as a dark, featureless rectangle, while skin
//! reflects NIR strongly and keeps its structure (eyes and brows darker than cheeks). A
//! print reflects NIR but most inks are transparent to it, so a printed face comes out
//! washed-out and low in contrast. The NIR frame is aligned with the colour frame.
//!
//! The test looks at the inner face box: its mean level must reach
//! [`NirConfig::min_mean`] (else dark: a screen) and its standard deviation
//! [`NirConfig::min_contrast`] (else absent: a uniform surface).

use serde::Serialize;
use thiserror::Error;

use super::linalg::Box2;
use super::GrayFrame;
use crate::geometry::pixel_span;
use crate::geometry::Rect;

/// NIR thresholds (8-bit levels).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct NirConfig {
    /// Minimum mean level of the face region.
    pub min_mean: f64,
    /// Minimum standard deviation of the face region.
    pub min_contrast: f64,
    /// Fraction of the box (centred) that is examined.
    pub inner: f64,
}

impl Default for NirConfig {
    fn default() -> Self {
        NirConfig {
            min_mean: 40.0,
            min_contrast: 8.0,
            inner: 0.7,
        }
    }
}

/// The verdict of the NIR layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NirVerdict {
    /// A bright, structured face: skin.
    Skin,
    /// The face region is dark (a screen).
    Dark,
    /// The face region is uniform (no face in NIR).
    Absent,
}

/// What the NIR layer measured.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct NirReport {
    /// Verdict.
    pub verdict: NirVerdict,
    /// Mean level of the face region.
    pub mean: f64,
    /// Standard deviation of the face region.
    pub contrast: f64,
}

/// Caller faults.
#[derive(Debug, Error, PartialEq, Eq, Clone, Copy)]
pub enum NirError {
    /// The face box is invalid or does not overlap the frame.
    #[error("face box is invalid or outside the NIR frame")]
    Box,
    /// Invalid configuration.
    #[error("invalid NIR configuration: {0}")]
    Config(&'static str),
}

/// Judges the face region of a NIR frame.
pub fn check(nir: &GrayFrame, face: &Rect, cfg: &NirConfig) -> Result<NirReport, NirError> {
    let face = Box2::from(face);
    if !(cfg.min_mean.is_finite()
        && cfg.min_contrast.is_finite()
        && cfg.inner > 0.0
        && cfg.inner <= 1.0)
    {
        return Err(NirError::Config(
            "thresholds must be finite, inner in (0,1]",
        ));
    }
    if !face.is_valid() {
        return Err(NirError::Box);
    }
    let c = face.centre();
    let (hw, hh) = (face.w * cfg.inner / 2.0, face.h * cfg.inner / 2.0);
    let xs = pixel_span(c.x - hw, c.x + hw, nir.width());
    let ys = pixel_span(c.y - hh, c.y + hh, nir.height());
    let (mut n, mut s, mut s2) = (0u64, 0.0f64, 0.0f64);
    for y in ys {
        for x in xs.clone() {
            if let Some(v) = nir.get(x, y) {
                let v = f64::from(v);
                n += 1;
                s += v;
                s2 += v * v;
            }
        }
    }
    if n < 16 {
        return Err(NirError::Box);
    }
    let mean = s / n as f64;
    let contrast = (s2 / n as f64 - mean * mean).max(0.0).sqrt();
    let verdict = if mean < cfg.min_mean {
        NirVerdict::Dark
    } else if contrast < cfg.min_contrast {
        NirVerdict::Absent
    } else {
        NirVerdict::Skin
    };
    Ok(NirReport {
        verdict,
        mean,
        contrast,
    })
}
