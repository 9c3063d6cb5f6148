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

use super::{BBox, GrayFrame};
use crate::geometry::pixel_span;

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
pub fn check(nir: &GrayFrame, face: &BBox, cfg: &NirConfig) -> Result<NirReport, NirError> {
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

/// Synthetic NIR frames for tests and the evaluation.
pub mod synth {
    use super::super::simulate::SimRng;
    use super::super::{BBox, GrayFrame};

    fn frame(w: u32, h: u32, mut f: impl FnMut(f64, f64) -> f64) -> GrayFrame {
        let data = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| f(f64::from(x), f64::from(y)).round().clamp(0.0, 255.0) as u8)
            .collect();
        GrayFrame {
            width: w,
            height: h,
            data,
        }
    }

    /// Skin under NIR: a bright ellipse with darker eyes and brows, shading, noise.
    pub fn skin(w: u32, h: u32, face: &BBox, rng: &mut SimRng) -> GrayFrame {
        let c = face.centre();
        let level = rng.range(110.0, 190.0);
        frame(w, h, |x, y| {
            let u = (x - c.x) / (face.w / 2.0);
            let v = (y - c.y) / (face.h / 2.0);
            let base = if u * u + v * v < 1.0 {
                let eyes = ((-((u.abs() - 0.35).powi(2) + (v + 0.25).powi(2)) / 0.01).exp()) * 0.6;
                let mouth = (-(u * u / 0.05 + (v - 0.45).powi(2) / 0.004)).exp() * 0.3;
                level * (1.0 - 0.25 * (u * u + v * v)) * (1.0 - eyes - mouth)
            } else {
                35.0
            };
            base + 3.0 * rng.gauss()
        })
    }

    /// A phone or tablet screen under NIR: dark rectangle around the face, noise.
    pub fn screen(w: u32, h: u32, face: &BBox, rng: &mut SimRng) -> GrayFrame {
        let c = face.centre();
        let level = rng.range(5.0, 25.0);
        frame(w, h, |x, y| {
            let inside = (x - c.x).abs() < face.w * 0.8 && (y - c.y).abs() < face.h * 0.9;
            (if inside { level } else { 60.0 }) + 3.0 * rng.gauss()
        })
    }

    /// A print under NIR: bright paper, ink nearly invisible.
    pub fn print(w: u32, h: u32, face: &BBox, rng: &mut SimRng) -> GrayFrame {
        let c = face.centre();
        let level = rng.range(150.0, 210.0);
        frame(w, h, |x, y| {
            let inside = (x - c.x).abs() < face.w * 0.9 && (y - c.y).abs() < face.h;
            (if inside { level } else { 60.0 }) + 3.0 * rng.gauss()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::synth::*;
    use super::*;
    use crate::liveness::simulate::SimRng;

    fn face() -> BBox {
        BBox {
            x: 100.0,
            y: 60.0,
            w: 120.0,
            h: 140.0,
        }
    }

    #[test]
    fn skin_passes_screen_and_print_do_not() {
        let cfg = NirConfig::default();
        for seed in 0..10 {
            let mut rng = SimRng::new(seed);
            let s = check(&skin(320, 240, &face(), &mut rng), &face(), &cfg).unwrap();
            assert_eq!(s.verdict, NirVerdict::Skin, "{s:?}");
            let d = check(&screen(320, 240, &face(), &mut rng), &face(), &cfg).unwrap();
            assert_eq!(d.verdict, NirVerdict::Dark, "{d:?}");
            let p = check(&print(320, 240, &face(), &mut rng), &face(), &cfg).unwrap();
            assert_eq!(p.verdict, NirVerdict::Absent, "{p:?}");
        }
    }

    #[test]
    fn bad_box_is_an_error() {
        let mut rng = SimRng::new(1);
        let f = skin(64, 64, &face(), &mut rng);
        assert_eq!(
            check(
                &f,
                &BBox {
                    x: 500.0,
                    y: 500.0,
                    w: 10.0,
                    h: 10.0
                },
                &NirConfig::default()
            ),
            Err(NirError::Box)
        );
        assert_eq!(
            check(&f, &BBox { w: -1.0, ..face() }, &NirConfig::default()),
            Err(NirError::Box)
        );
    }
}
