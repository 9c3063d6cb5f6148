//! Head pose (yaw, pitch, roll) from the five MTCNN landmarks.
//!
//! Why from landmarks: the challenge must run on any detector output without another
//! model. Five points are enough because one of them, the nose tip, sits ≈ 2–3 cm in front
//! of the plane of the eyes and mouth corners; how it shifts against the other four is
//! what a turn looks like.
//!
//! # Estimator
//! A weak-perspective (scaled orthographic) fit to a generic 3-D five-point face
//! ([`FaceModel::MEAN`], millimetres, adult anthropometric means):
//!
//! 1. centre the model points `Pᵢ` and the image points `qᵢ`;
//! 2. solve the affine camera `q ≈ M P` (`M` is 2×3) by linear least squares — ten
//!    equations, six unknowns; the normal matrix depends on the model only, so the fit is a
//!    fixed 3×3 solve;
//! 3. orthonormalise the two rows of `M` symmetrically (nearest pair of orthonormal
//!    vectors), complete the rotation with their cross product;
//! 4. read the angles from `R = R_roll · R_pitch · R_yaw`.
//!
//! Conventions (image-based, independent of mirroring): **yaw > 0** = nose towards image
//! right; **pitch > 0** = looking up (nose up in the image); **roll > 0** = clockwise in the
//! image. A person turning to their own left has yaw > 0 in a non-mirrored frame.
//!
//! # Error
//! Measured by simulation (`facegate_sim::simulate::pose_error`, run by `cargo run -p
//! facegate-sim --bin liveness_sim`): perspective projection of randomised head shapes (±10 % per coordinate)
//! at 40–80 cm, landmark noise, yaw and pitch uniform in ±35°. The individual's shape
//! differs from the mean model, so the estimate carries a per-person bias (a deeper nose
//! reads as a larger angle); the challenge therefore measures poses relative to the
//! person's own frontal baseline and uses thresholds well above the error. The figures are
//! in the liveness note of the README.
//!
//! A flat photo carries no relief: turning a printed card compresses the four points but
//! does not move the nose against them, so this estimator reads little yaw from it — one
//! reason a moved print fails the challenge before the parallax layer even looks.

use serde::Serialize;
use thiserror::Error;

use super::linalg::{solve3, wide, Point2};
use crate::detect::Landmarks;

/// Head pose in degrees; see the module documentation for the sign conventions.
#[derive(Clone, Copy, Debug, PartialEq, Default, Serialize)]
pub struct HeadPose {
    /// Rotation about the vertical axis; > 0 = nose towards image right.
    pub yaw: f64,
    /// Rotation about the horizontal axis; > 0 = looking up.
    pub pitch: f64,
    /// In-plane rotation; > 0 = clockwise in the image.
    pub roll: f64,
}

impl HeadPose {
    /// A pose.
    pub const fn new(yaw: f64, pitch: f64, roll: f64) -> Self {
        HeadPose { yaw, pitch, roll }
    }

    /// Rotation matrix `R_roll · R_pitch · R_yaw` mapping head coordinates (x image-right,
    /// y down, z towards the camera when frontal) to camera coordinates.
    pub fn rotation(&self) -> [[f64; 3]; 3] {
        let (sy, cy) = self.yaw.to_radians().sin_cos();
        let (sp, cp) = self.pitch.to_radians().sin_cos();
        let (sr, cr) = self.roll.to_radians().sin_cos();
        let a = [
            [cy, 0.0, sy],
            [sp * sy, cp, -sp * cy],
            [-cp * sy, sp, cp * cy],
        ];
        let rz = [[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]];
        let mut r = [[0.0; 3]; 3];
        for i in 0..3 {
            for j in 0..3 {
                r[i][j] = (0..3).map(|k| rz[i][k] * a[k][j]).sum();
            }
        }
        r
    }

    /// The angles of a rotation matrix built as in [`HeadPose::rotation`].
    pub fn from_rotation(r: &[[f64; 3]; 3]) -> Self {
        let pitch = r[2][1].clamp(-1.0, 1.0).asin();
        let yaw = (-r[2][0]).atan2(r[2][2]);
        let roll = (-r[0][1]).atan2(r[1][1]);
        HeadPose::new(yaw.to_degrees(), pitch.to_degrees(), roll.to_degrees())
    }
}

/// A five-point 3-D face in MTCNN order, millimetres; x image-right, y down, z towards
/// the camera when the face is frontal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaceModel {
    /// The five points.
    pub points: [[f64; 3]; 5],
}

impl FaceModel {
    /// Adult mean, with the frontal layout of MTCNN's own landmarks (the 5-point
    /// template used to align MTCNN faces, scaled to eye centres 63 mm apart): nose tip
    /// 36 mm below the eye line, mouth corners 52 mm apart and 72.5 mm below it. Depths:
    /// nose tip 25 mm in front of the eye centres, mouth corners 5 mm. (A textbook
    /// layout with the nose 40 mm down read real frontal MTCNN faces as 10–30° "up".)
    pub const MEAN: FaceModel = FaceModel {
        points: [
            [-31.5, 0.0, 0.0],
            [31.5, 0.0, 0.0],
            [0.0, 36.0, 25.0],
            [-26.0, 72.5, 5.0],
            [26.0, 72.5, 5.0],
        ],
    };
}

/// Why a pose could not be estimated.
#[derive(Debug, Error, PartialEq, Eq, Clone, Copy)]
pub enum PoseError {
    /// A landmark is NaN or infinite.
    #[error("landmark coordinates are not finite")]
    NonFinite,
    /// The landmarks are collapsed (all in one point or on a line).
    #[error("landmarks are degenerate")]
    Degenerate,
}

/// Estimates the head pose from landmarks with the mean face model.
pub fn estimate(landmarks: &Landmarks) -> Result<HeadPose, PoseError> {
    estimate_with(&FaceModel::MEAN, landmarks)
}

/// Estimates the head pose from landmarks with a given 3-D model.
pub fn estimate_with(model: &FaceModel, landmarks: &Landmarks) -> Result<HeadPose, PoseError> {
    estimate_wide(model, &wide(landmarks))
}

/// [`estimate_with`] on landmarks at the working precision.
pub(crate) fn estimate_wide(
    model: &FaceModel,
    landmarks: &[Point2; 5],
) -> Result<HeadPose, PoseError> {
    if landmarks
        .iter()
        .any(|p| !(p.x.is_finite() && p.y.is_finite()))
    {
        return Err(PoseError::NonFinite);
    }
    let mut pm = [0.0; 3];
    for p in &model.points {
        for k in 0..3 {
            pm[k] += p[k] / 5.0;
        }
    }
    let (qx, qy) = landmarks
        .iter()
        .fold((0.0, 0.0), |(a, b), p| (a + p.x / 5.0, b + p.y / 5.0));
    let mut n = [[0.0; 3]; 3];
    let mut bx = [0.0; 3];
    let mut by = [0.0; 3];
    for (p, q) in model.points.iter().zip(landmarks) {
        let c = [p[0] - pm[0], p[1] - pm[1], p[2] - pm[2]];
        for i in 0..3 {
            for j in 0..3 {
                n[i][j] += c[i] * c[j];
            }
            bx[i] += c[i] * (q.x - qx);
            by[i] += c[i] * (q.y - qy);
        }
    }
    let m1 = solve3(n, bx).ok_or(PoseError::Degenerate)?;
    let m2 = solve3(n, by).ok_or(PoseError::Degenerate)?;
    let a = normalise(m1).ok_or(PoseError::Degenerate)?;
    let b = normalise(m2).ok_or(PoseError::Degenerate)?;
    // Nearest orthonormal pair to (a, b): rotate both symmetrically about their bisector.
    let c = normalise(add(a, b)).ok_or(PoseError::Degenerate)?;
    let d = normalise(sub(a, b)).ok_or(PoseError::Degenerate)?;
    let s = std::f64::consts::FRAC_1_SQRT_2;
    let r1 = scale(add(c, d), s);
    let r2 = scale(sub(c, d), s);
    let r3 = cross(r1, r2);
    Ok(HeadPose::from_rotation(&[r1, r2, r3]))
}

fn add(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn scale(a: [f64; 3], s: f64) -> [f64; 3] {
    [a[0] * s, a[1] * s, a[2] * s]
}
fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
fn normalise(a: [f64; 3]) -> Option<[f64; 3]> {
    let n = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt();
    (n.is_finite() && n > 1e-9).then(|| scale(a, 1.0 / n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimate(lm: &[Point2; 5]) -> Result<HeadPose, PoseError> {
        estimate_wide(&FaceModel::MEAN, lm)
    }

    fn project(pose: HeadPose) -> [Point2; 5] {
        let r = pose.rotation();
        FaceModel::MEAN.points.map(|p| {
            let x: f64 = (0..3).map(|k| r[0][k] * p[k]).sum();
            let y: f64 = (0..3).map(|k| r[1][k] * p[k]).sum();
            Point2::new(320.0 + 1.6 * x, 240.0 + 1.6 * y)
        })
    }

    #[test]
    fn rotation_roundtrip() {
        let p = HeadPose::new(23.0, -11.0, 7.0);
        let q = HeadPose::from_rotation(&p.rotation());
        assert!(
            (p.yaw - q.yaw).abs() < 1e-9
                && (p.pitch - q.pitch).abs() < 1e-9
                && (p.roll - q.roll).abs() < 1e-9
        );
    }

    #[test]
    fn exact_on_orthographic_mean_model() {
        for &(y, p, r) in &[
            (0.0, 0.0, 0.0),
            (25.0, 0.0, 0.0),
            (-30.0, 5.0, -4.0),
            (0.0, 20.0, 0.0),
            (10.0, -25.0, 8.0),
        ] {
            let truth = HeadPose::new(y, p, r);
            let est = estimate(&project(truth)).unwrap();
            assert!((est.yaw - y).abs() < 0.5, "{truth:?} -> {est:?}");
            assert!((est.pitch - p).abs() < 0.5, "{truth:?} -> {est:?}");
            assert!((est.roll - r).abs() < 0.5, "{truth:?} -> {est:?}");
        }
    }

    #[test]
    fn sign_conventions() {
        // Nose towards image right = positive yaw; nose up = positive pitch.
        let lm = project(HeadPose::new(20.0, 0.0, 0.0));
        assert!(lm[2].x > (lm[0].x + lm[1].x) / 2.0);
        let lm = project(HeadPose::new(0.0, 20.0, 0.0));
        let frontal = project(HeadPose::default());
        assert!(lm[2].y < frontal[2].y);
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut lm = project(HeadPose::default());
        lm[3].x = f64::NAN;
        assert_eq!(estimate(&lm), Err(PoseError::NonFinite));
        assert_eq!(
            estimate(&[Point2::new(5.0, 5.0); 5]),
            Err(PoseError::Degenerate)
        );
    }
}
