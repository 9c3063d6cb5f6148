//! Quality gate: refuse captures that cannot be judged fairly, with a reason the kiosk can
//! act on ("come closer", "look at the camera", "more light").
//!
//! Why: a blurred, dark or half-turned face does not fail gracefully — it produces a
//! template far from the person's own, a false rejection that pushes people away from a
//! method they chose, or (worse) one closer to somebody else's. ISO/IEC 29794-5 names the
//! same factors. The gate runs twice: on the detections (count, size, pose) before
//! alignment, and on the aligned chip (sharpness, exposure) after it, where the face has a
//! fixed size and the measures are comparable across cameras.

use crate::align::Chip;
use crate::detect::Detection;
use crate::verifier::{Reason, ReasonKind};

/// Reason codes of the quality gate.
pub mod reasons {
    use super::*;
    /// No face in the frame.
    pub const NO_FACE: Reason = Reason::new("quality.no_face", ReasonKind::Quality);
    /// More than one face and the policy rejects that.
    pub const SEVERAL_FACES: Reason = Reason::new("quality.several_faces", ReasonKind::Quality);
    /// The face is too small (too far from the camera).
    pub const TOO_SMALL: Reason = Reason::new("quality.face_too_small", ReasonKind::Quality);
    /// The face is partly outside the frame.
    pub const CUT_OFF: Reason = Reason::new("quality.face_cut_off", ReasonKind::Quality);
    /// The face is turned or tilted too far.
    pub const POSE: Reason = Reason::new("quality.extreme_pose", ReasonKind::Quality);
    /// The face is out of focus or moving.
    pub const BLURRED: Reason = Reason::new("quality.blurred", ReasonKind::Quality);
    /// The face is under-exposed.
    pub const TOO_DARK: Reason = Reason::new("quality.too_dark", ReasonKind::Quality);
    /// The face is over-exposed.
    pub const TOO_BRIGHT: Reason = Reason::new("quality.too_bright", ReasonKind::Quality);
}

/// What to do when a frame holds several faces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeveralFaces {
    /// Refuse the frame (the default at a kiosk: somebody may be looking over a shoulder,
    /// or holding up a photo beside their face).
    Reject,
    /// Take the largest face.
    Largest,
    /// Take the face closest to the frame's centre (benchmarks such as LFW centre the subject).
    Central,
}

/// Thresholds of the gate. [`QualityConfig::default`] suits a kiosk camera;
/// [`QualityConfig::permissive`] only requires a face (for benchmarks on curated photos).
///
/// The defaults are calibrated on controlled degradations of LFW photos (blur, exposure,
/// small and cut-off faces): each refuses the defects that make templates fail to match
/// while keeping clean photos, measured by `examples/quality_calibrate.rs`; figures and
/// reasons in `docs/QUALITY.md`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QualityConfig {
    /// Policy for several faces.
    pub several_faces: SeveralFaces,
    /// Smallest accepted distance between the eye centres, in frame pixels.
    pub min_inter_ocular: f32,
    /// Smallest accepted fraction of the face box inside the frame (a face cut off by
    /// the frame edge is a partial, unreliable capture).
    pub min_in_frame: f32,
    /// Largest accepted |nose offset from the eye midline| / inter-ocular distance (yaw).
    pub max_yaw_ratio: f32,
    /// Largest accepted tilt of the eye line, degrees (roll).
    pub max_roll_degrees: f32,
    /// Smallest accepted sharpness (variance of the Laplacian of the chip's luma).
    pub min_sharpness: f32,
    /// Accepted range of the mean luma of the chip's central face region.
    pub luma_range: (f32, f32),
}

impl Default for QualityConfig {
    fn default() -> Self {
        QualityConfig {
            several_faces: SeveralFaces::Reject,
            min_inter_ocular: 24.0,
            min_in_frame: 0.99,
            max_yaw_ratio: 0.4,
            max_roll_degrees: 30.0,
            min_sharpness: 11.0,
            luma_range: (50.0, 200.0),
        }
    }
}

impl QualityConfig {
    /// Only "there is a face"; several faces resolved by `several`.
    pub fn permissive(several: SeveralFaces) -> Self {
        QualityConfig {
            several_faces: several,
            min_inter_ocular: 0.0,
            min_in_frame: 0.0,
            max_yaw_ratio: f32::INFINITY,
            max_roll_degrees: 180.0,
            min_sharpness: 0.0,
            luma_range: (0.0, 255.0),
        }
    }
}

/// Yaw proxy: the nose's offset from the eye midpoint along the eye line, over the
/// inter-ocular distance (0 frontal, ±0.5 around 45° of yaw).
pub fn yaw_ratio(d: &Detection) -> f32 {
    let l = &d.landmarks;
    let iod = l.inter_ocular();
    if !(iod > 0.0) {
        return f32::INFINITY;
    }
    let mid = l.left_eye.midpoint(l.right_eye);
    let (ex, ey) = (
        (l.right_eye.x - l.left_eye.x) / iod,
        (l.right_eye.y - l.left_eye.y) / iod,
    );
    ((l.nose.x - mid.x) * ex + (l.nose.y - mid.y) * ey) / iod
}

/// Roll: angle of the eye line to the horizontal, degrees.
pub fn roll_degrees(d: &Detection) -> f32 {
    let l = &d.landmarks;
    (l.right_eye.y - l.left_eye.y)
        .atan2(l.right_eye.x - l.left_eye.x)
        .to_degrees()
}

/// Whether the gate can judge a detection's box: finite, with a finite positive area.
/// A network asked about a broken frame can answer NaN, and `f32::min`/`max` skip NaN, so
/// such a box would otherwise measure as wholly inside the frame. It is no face.
fn judgeable(d: &Detection) -> bool {
    let area = d.bbox.area();
    d.bbox.is_finite() && area > 0.0 && area.is_finite()
}

/// Picks the face to use from the detections, or says why none can be used. Detections
/// whose box is not finite with a positive area are not faces and are not counted.
pub fn select<'d>(
    detections: &'d [Detection],
    frame_size: (u32, u32),
    config: &QualityConfig,
) -> Result<&'d Detection, Reason> {
    // Filtered on each pass rather than collected: this runs on every camera frame.
    let faces = || detections.iter().filter(|d| judgeable(d));
    let face: &'d Detection = match (faces().count(), config.several_faces) {
        (0, _) => return Err(reasons::NO_FACE),
        (1, _) | (_, SeveralFaces::Largest) => faces()
            .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()))
            .ok_or(reasons::NO_FACE)?,
        (_, SeveralFaces::Reject) => return Err(reasons::SEVERAL_FACES),
        (_, SeveralFaces::Central) => {
            let (cx, cy) = (frame_size.0 as f32 / 2.0, frame_size.1 as f32 / 2.0);
            let dist = |d: &Detection| {
                let c = d.bbox.centre();
                (c.x - cx).powi(2) + (c.y - cy).powi(2)
            };
            faces()
                .min_by(|a, b| dist(a).total_cmp(&dist(b)))
                .ok_or(reasons::NO_FACE)?
        }
    };
    if !(face.landmarks.inter_ocular() >= config.min_inter_ocular) {
        return Err(reasons::TOO_SMALL);
    }
    let frame = crate::geometry::Rect {
        x: 0.0,
        y: 0.0,
        width: frame_size.0 as f32,
        height: frame_size.1 as f32,
    };
    let inside = face.bbox.intersection_area(&frame) / face.bbox.area().max(f32::MIN_POSITIVE);
    if !(inside >= config.min_in_frame) {
        return Err(reasons::CUT_OFF);
    }
    if !(yaw_ratio(face).abs() <= config.max_yaw_ratio)
        || !(roll_degrees(face).abs() <= config.max_roll_degrees)
    {
        return Err(reasons::POSE);
    }
    Ok(face)
}

/// Sharpness and exposure of an aligned chip.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChipQuality {
    /// Variance of the 4-neighbour Laplacian over the central face region.
    pub sharpness: f32,
    /// Mean luma (0..255) over the central face region.
    pub mean_luma: f32,
}

/// Measures the central half of the chip (the face without hair and background).
pub fn measure(chip: &Chip) -> ChipQuality {
    let n = chip.size() as usize;
    let px = chip.rgb();
    let luma = |x: usize, y: usize| {
        let i = (y * n + x) * 3;
        0.299 * f32::from(px[i]) + 0.587 * f32::from(px[i + 1]) + 0.114 * f32::from(px[i + 2])
    };
    let (lo, hi) = (n / 4, n - n / 4);
    let (mut sum, mut sum_l, mut sum_l2, mut count) = (0.0f64, 0.0f64, 0.0f64, 0usize);
    for y in lo.max(1)..hi.min(n.saturating_sub(1)) {
        for x in lo.max(1)..hi.min(n.saturating_sub(1)) {
            let c = luma(x, y);
            let lap = luma(x - 1, y) + luma(x + 1, y) + luma(x, y - 1) + luma(x, y + 1) - 4.0 * c;
            sum += f64::from(c);
            sum_l += f64::from(lap);
            sum_l2 += f64::from(lap) * f64::from(lap);
            count += 1;
        }
    }
    if count == 0 {
        return ChipQuality {
            sharpness: 0.0,
            mean_luma: 0.0,
        };
    }
    let c = count as f64;
    let var = (sum_l2 / c - (sum_l / c).powi(2)).max(0.0);
    ChipQuality {
        sharpness: var as f32,
        mean_luma: (sum / c) as f32,
    }
}

/// Checks an aligned chip's sharpness and exposure.
pub fn check_chip(chip: &Chip, config: &QualityConfig) -> Result<ChipQuality, Reason> {
    let q = measure(chip);
    if q.mean_luma < config.luma_range.0 {
        return Err(reasons::TOO_DARK);
    }
    if q.mean_luma > config.luma_range.1 {
        return Err(reasons::TOO_BRIGHT);
    }
    if q.sharpness < config.min_sharpness {
        return Err(reasons::BLURRED);
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Landmarks;
    use crate::geometry::{Point, Rect};

    fn face(x: f32, size: f32, nose_dx: f32) -> Detection {
        let iod = size * 0.4;
        let (cx, cy) = (x + size / 2.0, 100.0);
        Detection {
            bbox: Rect {
                x,
                y: cy - size / 2.0,
                width: size,
                height: size,
            },
            score: 0.99,
            landmarks: Landmarks {
                left_eye: Point::new(cx - iod / 2.0, cy - 10.0),
                right_eye: Point::new(cx + iod / 2.0, cy - 10.0),
                nose: Point::new(cx + nose_dx, cy + 5.0),
                mouth_left: Point::new(cx - iod / 3.0, cy + 20.0),
                mouth_right: Point::new(cx + iod / 3.0, cy + 20.0),
            },
        }
    }

    #[test]
    fn selection_reasons() {
        let c = QualityConfig::default();
        assert_eq!(select(&[], (640, 480), &c).unwrap_err(), reasons::NO_FACE);
        let two = [face(10.0, 100.0, 0.0), face(300.0, 150.0, 0.0)];
        assert_eq!(
            select(&two, (640, 480), &c).unwrap_err(),
            reasons::SEVERAL_FACES
        );
        let largest = QualityConfig {
            several_faces: SeveralFaces::Largest,
            ..c
        };
        assert_eq!(
            select(&two, (640, 480), &largest).unwrap().bbox.width,
            150.0
        );
        let central = QualityConfig {
            several_faces: SeveralFaces::Central,
            ..c
        };
        assert_eq!(
            select(&two, (640, 480), &central).unwrap().bbox.width,
            150.0
        );
        assert_eq!(
            select(&[face(10.0, 40.0, 0.0)], (640, 480), &c).unwrap_err(),
            reasons::TOO_SMALL
        );
        assert_eq!(
            select(&[face(10.0, 100.0, 25.0)], (640, 480), &c).unwrap_err(),
            reasons::POSE
        );
        assert!(select(&[face(10.0, 100.0, 3.0)], (640, 480), &c).is_ok());
    }

    #[test]
    fn boxes_that_are_not_numbers_are_not_faces() {
        // Found by the face_geometry fuzz target: `f32::min`/`max` skip NaN, so a NaN
        // width measured as wholly inside the frame and the gate passed the face.
        let c = QualityConfig::default();
        let mut nan = face(10.0, 100.0, 3.0);
        nan.bbox.width = f32::NAN;
        assert_eq!(
            select(&[nan], (640, 480), &c).unwrap_err(),
            reasons::NO_FACE
        );
        let mut endless = face(10.0, 100.0, 3.0);
        endless.bbox.width = f32::MAX;
        endless.bbox.height = f32::MAX;
        assert_eq!(
            select(&[endless], (640, 480), &c).unwrap_err(),
            reasons::NO_FACE
        );
        // Beside a real face, such a box is not a second face.
        let real = face(300.0, 100.0, 3.0);
        assert_eq!(select(&[nan, real], (640, 480), &c).unwrap().bbox.x, 300.0);
    }

    #[test]
    fn chip_exposure_and_blur() {
        let c = QualityConfig::default();
        let flat = Chip::from_rgb(150, vec![128; 150 * 150 * 3]).unwrap();
        assert_eq!(check_chip(&flat, &c).unwrap_err(), reasons::BLURRED);
        let dark = Chip::from_rgb(150, vec![10; 150 * 150 * 3]).unwrap();
        assert_eq!(check_chip(&dark, &c).unwrap_err(), reasons::TOO_DARK);
        let bright = Chip::from_rgb(150, vec![250; 150 * 150 * 3]).unwrap();
        assert_eq!(check_chip(&bright, &c).unwrap_err(), reasons::TOO_BRIGHT);
        let checker: Vec<u8> = (0..150 * 150)
            .flat_map(|i| {
                let v = if (i % 150 + i / 150) % 2 == 0 {
                    90
                } else {
                    170
                };
                [v, v, v]
            })
            .collect();
        let sharp = Chip::from_rgb(150, checker).unwrap();
        assert!(check_chip(&sharp, &c).is_ok());
    }
}
