//! Synthetic NIR frames for tests and the evaluation.

use crate::geom::Box2;
use crate::simulate::SimRng;
use facegate::geometry::Rect;
use facegate::liveness::GrayFrame;

fn frame(w: u32, h: u32, mut f: impl FnMut(f64, f64) -> f64) -> GrayFrame {
    let data = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| f(f64::from(x), f64::from(y)).round().clamp(0.0, 255.0) as u8)
        .collect();
    GrayFrame::new(w, h, data).expect("w × h pixels by construction")
}

/// Skin under NIR: a bright ellipse with darker eyes and brows, shading, noise.
pub fn skin(w: u32, h: u32, face: &Rect, rng: &mut SimRng) -> GrayFrame {
    let face = Box2::from(face);
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
pub fn screen(w: u32, h: u32, face: &Rect, rng: &mut SimRng) -> GrayFrame {
    let face = Box2::from(face);
    let c = face.centre();
    let level = rng.range(5.0, 25.0);
    frame(w, h, |x, y| {
        let inside = (x - c.x).abs() < face.w * 0.8 && (y - c.y).abs() < face.h * 0.9;
        (if inside { level } else { 60.0 }) + 3.0 * rng.gauss()
    })
}

/// A print under NIR: bright paper, ink nearly invisible.
pub fn print(w: u32, h: u32, face: &Rect, rng: &mut SimRng) -> GrayFrame {
    let face = Box2::from(face);
    let c = face.centre();
    let level = rng.range(150.0, 210.0);
    frame(w, h, |x, y| {
        let inside = (x - c.x).abs() < face.w * 0.9 && (y - c.y).abs() < face.h;
        (if inside { level } else { 60.0 }) + 3.0 * rng.gauss()
    })
}
