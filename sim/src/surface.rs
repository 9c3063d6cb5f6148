//! Pixel-level simulated presentations: a textured card — flat, folded along its centre
//! line, or shaped like a face (cheeks rounding away, eye sockets, a nose in front) —
//! turned 30° and back in front of a pinhole camera, with the five landmark points
//! projected as a detector would report them.
//!
//! Why: the dense-point surface layer ([`facegate::liveness::surface`]) judges pixels, which the landmark-level
//! [`crate::simulate`] does not produce, and its tests and benchmark need sequences whose
//! geometry is known exactly and that need no detector or research data.

use crate::geom::{detection, Point2};
use crate::simulate::SimRng;
use facegate::liveness::challenge::ChallengePass;
use facegate::liveness::pose::HeadPose;
use facegate::liveness::{GrayFrame, Observation};

/// Frame width, pixels.
pub const W: usize = 320;
/// Frame height, pixels.
pub const H: usize = 240;
const F: f64 = 600.0;
const Z0: f64 = 600.0;
const CARD: usize = 220;
/// Frames per sequence.
pub const FRAMES: usize = 21;

/// Relief of the card towards the camera, pixels of card units, at card point (u, v)
/// (origin at the card centre, v down).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    /// A flat card.
    Flat,
    /// Folded along u = 0, ridge towards the camera, each half tilted by this angle.
    Folded(f64),
    /// Cheeks rounding away (ellipsoid-like) plus a nose ridge in front.
    Face,
}

impl Shape {
    /// Height towards the camera at card point `(u, v)` (card pixels, origin at the centre).
    pub fn relief(self, u: f64, v: f64) -> f64 {
        match self {
            Shape::Flat => 0.0,
            Shape::Folded(deg) => -u.abs() * deg.to_radians().tan(),
            Shape::Face => {
                let bulge = 60.0 * (1.0 - (u / 110.0).powi(2) - (v / 150.0).powi(2)).max(0.0);
                let nose = 28.0 * (-(u / 9.0).powi(2) - ((v - 5.0) / 28.0).powi(2)).exp();
                let sockets = -8.0
                    * ((-((u - 32.0) / 12.0).powi(2) - ((v + 20.0) / 9.0).powi(2)).exp()
                        + (-((u + 32.0) / 12.0).powi(2) - ((v + 20.0) / 9.0).powi(2)).exp());
                bulge + nose + sockets
            }
        }
    }
}

/// Smooth random texture (blobs of 2–6 px), like skin with features.
fn texture(seed: u64) -> Vec<f64> {
    let mut rng = SimRng::new(seed);
    let blobs: Vec<(f64, f64, f64, f64)> = (0..900)
        .map(|_| {
            (
                rng.range(0.0, CARD as f64),
                rng.range(0.0, CARD as f64),
                rng.range(1.5, 5.0),
                rng.range(-70.0, 70.0),
            )
        })
        .collect();
    let mut t = vec![130.0; CARD * CARD];
    for &(bx, by, s, a) in &blobs {
        let r = (3.0 * s).ceil() as isize;
        for y in (by as isize - r).max(0)..(by as isize + r).min(CARD as isize) {
            for x in (bx as isize - r).max(0)..(bx as isize + r).min(CARD as isize) {
                let d2 = (x as f64 - bx).powi(2) + (y as f64 - by).powi(2);
                t[y as usize * CARD + x as usize] += a * (-d2 / (2.0 * s * s)).exp();
            }
        }
    }
    t
}

fn bilinear(t: &[f64], u: f64, v: f64) -> Option<f64> {
    let (x, y) = (u + CARD as f64 / 2.0, v + CARD as f64 / 2.0);
    if !(x >= 0.0 && y >= 0.0 && x < (CARD - 1) as f64 && y < (CARD - 1) as f64) {
        return None;
    }
    let (x0, y0) = (x as usize, y as usize);
    let (fx, fy) = (x - x0 as f64, y - y0 as f64);
    let p = |x: usize, y: usize| t[y * CARD + x];
    Some(
        (p(x0, y0) * (1.0 - fx) + p(x0 + 1, y0) * fx) * (1.0 - fy)
            + (p(x0, y0 + 1) * (1.0 - fx) + p(x0 + 1, y0 + 1) * fx) * fy,
    )
}

/// Card point → frame: the card turned by `yaw` about its vertical centre line.
fn project(shape: Shape, yaw: f64, u: f64, v: f64) -> Point2 {
    let h = shape.relief(u, v);
    let (s, c) = yaw.to_radians().sin_cos();
    let (x, z) = (u * c + h * s, Z0 + u * s - h * c);
    Point2::new(W as f64 / 2.0 + F * x / z, H as f64 / 2.0 + F * v / z)
}

/// The frame: each pixel's ray is intersected with the surface by fixed-point iteration
/// on the relief (it converges for the gentle slopes used here).
fn render(shape: Shape, yaw: f64, tex: &[f64], rng: &mut SimRng) -> Vec<u8> {
    let (s, c) = yaw.to_radians().sin_cos();
    let mut out = vec![0u8; W * H];
    for y in 0..H {
        for x in 0..W {
            let a = (x as f64 - W as f64 / 2.0) / F;
            let b = (y as f64 - H as f64 / 2.0) / F;
            let (mut u, mut v) = (a * Z0, b * Z0);
            for _ in 0..12 {
                let h = shape.relief(u, v);
                // x = u·c + h·s, z = Z0 + u·s − h·c; x = a·z, y = v = b·z.
                u = (a * (Z0 - h * c) - h * s) / (c - a * s);
                v = b * (Z0 + u * s - h * c);
            }
            let g = bilinear(tex, u, v).unwrap_or(70.0 + 0.1 * y as f64);
            out[y * W + x] = (g + rng.gauss() * 2.0).round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

/// Five fixed card points where a face's landmarks would be.
const LANDMARKS: [(f64, f64); 5] = [
    (-32.0, -20.0),
    (32.0, -20.0),
    (0.0, 12.0),
    (-25.0, 42.0),
    (25.0, 42.0),
];

/// A card turned to 30° of yaw and back over [`FRAMES`] frames at 15 fps, with its
/// five landmark points and luma; a new texture and noise per seed.
pub fn sequence(shape: Shape, seed: u64) -> Vec<Observation> {
    let tex = texture(seed);
    let mut rng = SimRng::new(seed ^ 0x5eed);
    (0..FRAMES)
        .map(|i| {
            let yaw = 30.0 * (std::f64::consts::PI * i as f64 / (FRAMES - 1) as f64).sin();
            let lm = LANDMARKS.map(|(u, v)| project(shape, yaw, u, v));
            let mut o = Observation::new(i as f64 / 15.0, vec![detection(&lm)]);
            // W×H is not zero and matches the buffer, so this always holds a frame.
            o.luma = GrayFrame::new(W as u32, H as u32, render(shape, yaw, &tex, &mut rng)).ok();
            o
        })
        .collect()
}

/// The challenge pass of [`sequence`]: frontal at 0, the turn reached at frame 5.
pub fn pass() -> ChallengePass {
    ChallengePass::for_evaluation(
        0,
        FRAMES - 1,
        vec![5],
        vec![FRAMES - 1],
        HeadPose::new(0.0, 0.0, 0.0),
    )
}
