//! Plain 2-D geometry shared by detection, alignment and liveness: points and boxes in
//! pixel coordinates of a frame (x to the right, y down, origin at the top-left pixel's
//! centre).
//!
//! One set for the whole crate, in f32: every coordinate starts as a network output, and
//! the networks compute in f32 (at 4096 px an f32 resolves 0.0005 px, three orders below
//! the landmarks' own noise of about 1 % of the eye distance). Code that sums squares over
//! many points and frames (the liveness layers' fits) widens to f64 where it computes —
//! exactly, so no value changes on the way.

use serde::Serialize;

/// A point in pixel coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Default, Serialize)]
pub struct Point {
    /// Horizontal coordinate, to the right.
    pub x: f32,
    /// Vertical coordinate, downwards.
    pub y: f32,
}

impl Point {
    /// A point.
    pub const fn new(x: f32, y: f32) -> Point {
        Point { x, y }
    }

    /// Euclidean distance to `other`.
    pub fn distance(self, other: Point) -> f32 {
        ((self.x - other.x).powi(2) + (self.y - other.y).powi(2)).sqrt()
    }

    /// Midpoint of `self` and `other`.
    pub fn midpoint(self, other: Point) -> Point {
        Point::new(0.5 * (self.x + other.x), 0.5 * (self.y + other.y))
    }
}

/// An axis-aligned box.
#[derive(Clone, Copy, Debug, PartialEq, Default, Serialize)]
pub struct Rect {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub width: f32,
    /// Height.
    pub height: f32,
}

impl Rect {
    /// Whether every coordinate is finite. `f32::min`/`max` skip NaN, so the measures below
    /// are meaningful only for a finite box.
    pub fn is_finite(&self) -> bool {
        [self.x, self.y, self.width, self.height]
            .iter()
            .all(|v| v.is_finite())
    }

    /// Area (0 for degenerate boxes).
    pub fn area(&self) -> f32 {
        self.width.max(0.0) * self.height.max(0.0)
    }

    /// Centre point.
    pub fn centre(&self) -> Point {
        Point::new(self.x + 0.5 * self.width, self.y + 0.5 * self.height)
    }

    /// Area of the intersection with `other`.
    pub fn intersection_area(&self, other: &Rect) -> f32 {
        let x1 = self.x.max(other.x);
        let y1 = self.y.max(other.y);
        let x2 = (self.x + self.width).min(other.x + other.width);
        let y2 = (self.y + self.height).min(other.y + other.height);
        (x2 - x1).max(0.0) * (y2 - y1).max(0.0)
    }

    /// Intersection over union with `other` (0 when disjoint).
    pub fn iou(&self, other: &Rect) -> f32 {
        let inter = self.intersection_area(other);
        let union = self.area() + other.area() - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }
}

/// The pixel indices covered by `[start, end]` on an axis of `len` pixels: rounded
/// outwards, clamped to the axis (a region partly outside the frame keeps its inside part,
/// NaN gives an empty range), so the indices are always in bounds.
pub fn pixel_span(start: f64, end: f64, len: u32) -> std::ops::Range<u32> {
    let len_f = f64::from(len);
    (start.floor().clamp(0.0, len_f) as u32)..(end.ceil().clamp(0.0, len_f) as u32)
}

/// The least-squares similarity `q ≈ [a −b; b a]·p + t` taking the points `from` onto `to`
/// (Umeyama 1991, without reflection), in f64: `[a, b, tx, ty]`. `None` when the lengths
/// differ, `from` does not spread (Σ|p − p̄|² ≤ 1e-12) or a result is not finite.
///
/// The one fit behind face alignment ([`crate::align::Similarity::fit`]) and the surface
/// layer's motion prior between frames.
pub(crate) fn fit_similarity(from: &[[f64; 2]], to: &[[f64; 2]]) -> Option<[f64; 4]> {
    if from.len() != to.len() || from.is_empty() {
        return None;
    }
    let n = from.len() as f64;
    let mean = |ps: &[[f64; 2]]| {
        let (sx, sy) = ps.iter().fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
        (sx / n, sy / n)
    };
    let (fx, fy) = mean(from);
    let (tx, ty) = mean(to);
    let (mut dot, mut cross, mut var) = (0.0, 0.0, 0.0);
    for (p, q) in from.iter().zip(to) {
        let (px, py) = (p[0] - fx, p[1] - fy);
        let (qx, qy) = (q[0] - tx, q[1] - ty);
        // For [a −b; b a] the least-squares solution is a = Σ(p·q)/Σ|p|², b = Σ(p×q)/Σ|p|².
        dot += px * qx + py * qy;
        cross += px * qy - py * qx;
        var += px * px + py * py;
    }
    if !(var > 1e-12) {
        return None;
    }
    let (a, b) = (dot / var, cross / var);
    let fit = [a, b, tx - (a * fx - b * fy), ty - (b * fx + a * fy)];
    fit.iter().all(|v| v.is_finite()).then_some(fit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_span_rounds_outwards_and_stays_in_bounds() {
        assert_eq!(pixel_span(1.5, 3.2, 10), 1..4);
        assert_eq!(pixel_span(-5.0, 3.0, 10), 0..3);
        assert_eq!(pixel_span(8.0, 40.0, 10), 8..10);
        assert!(pixel_span(20.0, 30.0, 10).is_empty());
        assert!(pixel_span(f64::NAN, f64::NAN, 10).is_empty());
        assert!(pixel_span(3.0, 1.0, 10).is_empty());
    }

    #[test]
    fn iou_basics() {
        let a = Rect {
            x: 0.0,
            y: 0.0,
            width: 10.0,
            height: 10.0,
        };
        let b = Rect {
            x: 5.0,
            y: 0.0,
            width: 10.0,
            height: 10.0,
        };
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
        assert_eq!(a.iou(&Rect { x: 20.0, ..a }), 0.0);
        assert_eq!(a.centre(), Point::new(5.0, 5.0));
    }
}
