//! Depth layer: a face region that is flat, or at an implausible distance, is not a head.
//!
//! Why: a kiosk with a depth camera sees a phone, a tablet or a print as a plane within
//! a few millimetres, while a face has ≈ 2–3 cm of relief between nose tip and cheeks. A
//! face far too close (a phone held to the lens) or too far is not a person using the
//! kiosk either. Depth is aligned with the colour frame, in millimetres.
//!
//! The test takes the inner part of the face box (eyes to mouth; hair and background
//! excluded), fits a plane `z = a·x + b·y + c` by least squares to the valid depth pixels
//! and compares the RMS residual with [`DepthConfig::min_relief_mm`]. A tilted screen is
//! still a plane, so the tilt does not help an attacker.

use serde::Serialize;
use thiserror::Error;

use super::linalg::fit_plane;
use super::linalg::Box2;
use super::DepthMap;
use crate::geometry::pixel_span;
use crate::geometry::Rect;

/// Depth thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct DepthConfig {
    /// RMS residual to the best plane below which the face counts as flat, mm.
    pub min_relief_mm: f64,
    /// Nearest plausible face distance, mm.
    pub min_distance_mm: f64,
    /// Farthest plausible face distance, mm.
    pub max_distance_mm: f64,
    /// Fraction of the box (centred) that is examined.
    pub inner: f64,
    /// Minimum fraction of valid depth pixels in the examined region.
    pub min_valid: f64,
}

impl Default for DepthConfig {
    fn default() -> Self {
        DepthConfig {
            min_relief_mm: 4.0,
            min_distance_mm: 250.0,
            max_distance_mm: 1500.0,
            inner: 0.6,
            min_valid: 0.3,
        }
    }
}

/// The person-level verdict of the depth layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DepthVerdict {
    /// Face-shaped relief at a plausible distance.
    Relief,
    /// The face region is a plane.
    Flat,
    /// The face is too near or too far.
    ImplausibleDistance,
    /// Too few depth measurements in the face region.
    Missing,
}

/// What the depth layer measured.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct DepthReport {
    /// The verdict.
    pub verdict: DepthVerdict,
    /// RMS residual to the best plane, mm (0 when missing).
    pub relief_mm: f64,
    /// Median distance of the face region, mm (0 when missing).
    pub distance_mm: f64,
    /// Valid depth pixels used.
    pub samples: usize,
}

/// Caller faults.
#[derive(Debug, Error, PartialEq, Eq, Clone, Copy)]
pub enum DepthError {
    /// The face box is not finite or empty.
    #[error("face box is invalid")]
    Box,
    /// Invalid configuration.
    #[error("invalid depth configuration: {0}")]
    Config(&'static str),
}

/// Judges the face region of a depth map.
pub fn check(depth: &DepthMap, face: &Rect, cfg: &DepthConfig) -> Result<DepthReport, DepthError> {
    let face = Box2::from(face);
    if !(cfg.min_relief_mm.is_finite()
        && cfg.min_relief_mm >= 0.0
        && cfg.min_distance_mm.is_finite()
        && cfg.max_distance_mm.is_finite()
        && cfg.min_distance_mm < cfg.max_distance_mm)
        || !(cfg.inner > 0.0 && cfg.inner <= 1.0 && (0.0..=1.0).contains(&cfg.min_valid))
    {
        return Err(DepthError::Config(
            "need 0 ≤ relief, min < max distance, inner in (0,1], min_valid in [0,1]",
        ));
    }
    if !face.is_valid() {
        return Err(DepthError::Box);
    }
    let c = face.centre();
    let (hw, hh) = (face.w * cfg.inner / 2.0, face.h * cfg.inner / 2.0);
    let xs = pixel_span(c.x - hw, c.x + hw, depth.width());
    let ys = pixel_span(c.y - hh, c.y + hh, depth.height());
    let area = xs.len() as u64 * ys.len() as u64;
    // Subsample large regions: the plane fit needs hundreds of points, not a million.
    let stride = ((area as f64 / 4096.0).sqrt().floor() as u32).max(1);
    let mut pts = Vec::new();
    let mut total = 0usize;
    for y in ys.step_by(stride as usize) {
        for x in xs.clone().step_by(stride as usize) {
            total += 1;
            if let Some(z) = depth.get(x, y) {
                pts.push([f64::from(x), f64::from(y), f64::from(z)]);
            }
        }
    }
    let missing = DepthReport {
        verdict: DepthVerdict::Missing,
        relief_mm: 0.0,
        distance_mm: 0.0,
        samples: pts.len(),
    };
    if total == 0 || (pts.len() as f64) < cfg.min_valid * total as f64 || pts.len() < 16 {
        return Ok(missing);
    }
    let mut zs: Vec<f64> = pts.iter().map(|p| p[2]).collect();
    zs.sort_by(f64::total_cmp);
    let distance_mm = zs[zs.len() / 2];
    let Some((_, relief_mm)) = fit_plane(&pts) else {
        return Ok(missing);
    };
    let verdict = if distance_mm < cfg.min_distance_mm || distance_mm > cfg.max_distance_mm {
        DepthVerdict::ImplausibleDistance
    } else if relief_mm < cfg.min_relief_mm {
        DepthVerdict::Flat
    } else {
        DepthVerdict::Relief
    };
    Ok(DepthReport {
        verdict,
        relief_mm,
        distance_mm,
        samples: pts.len(),
    })
}
