//! Synthetic depth maps for tests and the evaluation: a face-shaped relief (an
//! ellipsoidal head with a nose) or a tilted plane (a screen or a print), with noise.

use crate::geom::Box2;
use crate::simulate::SimRng;
use facegate::geometry::Rect;
use facegate::liveness::DepthMap;

/// A `w × h` map with a head of box `face` at `distance_mm`: ellipsoidal cap
/// (`relief_mm` deep at the centre) plus a nose bump, background at +600 mm.
pub fn head(
    w: u32,
    h: u32,
    face: &Rect,
    distance_mm: f64,
    relief_mm: f64,
    noise_mm: f64,
    rng: &mut SimRng,
) -> DepthMap {
    let face = Box2::from(face);
    let c = face.centre();
    let mm = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| {
            let u = (f64::from(x) - c.x) / (face.w / 2.0);
            let v = (f64::from(y) - c.y) / (face.h / 2.0);
            let r2 = u * u + v * v;
            let z = if r2 < 1.0 {
                let cap = relief_mm * (1.0 - r2).sqrt();
                let nose = 0.5 * relief_mm * (-(u * u + (v - 0.1) * (v - 0.1)) / 0.02).exp();
                distance_mm + relief_mm - cap - nose
            } else {
                distance_mm + 600.0
            };
            (z + noise_mm * rng.gauss()) as f32
        })
        .collect();
    DepthMap::new(w, h, mm).expect("w × h values by construction")
}

/// A plane through `distance_mm` at the box centre, tilted by `slope_mm_per_px` in x
/// and y (a phone, tablet or print).
pub fn plane(
    w: u32,
    h: u32,
    face: &Rect,
    distance_mm: f64,
    slope_mm_per_px: (f64, f64),
    noise_mm: f64,
    rng: &mut SimRng,
) -> DepthMap {
    let c = Box2::from(face).centre();
    let mm = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| {
            (distance_mm
                + slope_mm_per_px.0 * (f64::from(x) - c.x)
                + slope_mm_per_px.1 * (f64::from(y) - c.y)
                + noise_mm * rng.gauss()) as f32
        })
        .collect();
    DepthMap::new(w, h, mm).expect("w × h values by construction")
}
