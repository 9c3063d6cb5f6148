//! The simulators' geometry in f64, and its hand-over to the library as a detection. The
//! library's faces carry f32 coordinates (the detector's precision), so a simulated face is
//! rounded to f32 once, where a real detector's output would be.

use facegate::detect::{Detection, Landmarks};
use facegate::geometry::{Point, Rect};

/// A point in pixel coordinates (x right, y down).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Point2 {
    /// Column, pixels.
    pub x: f64,
    /// Row, pixels.
    pub y: f64,
}

impl Point2 {
    /// A point.
    pub const fn new(x: f64, y: f64) -> Self {
        Point2 { x, y }
    }

    /// Euclidean distance.
    pub fn dist(self, o: Point2) -> f64 {
        (self.x - o.x).hypot(self.y - o.y)
    }
}

/// A box in f64: left, top, width, height.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Box2 {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Box2 {
    /// Centre of the box.
    pub fn centre(&self) -> Point2 {
        Point2::new(self.x + self.w / 2.0, self.y + self.h / 2.0)
    }
}

impl From<&Rect> for Box2 {
    fn from(r: &Rect) -> Self {
        Box2 {
            x: f64::from(r.x),
            y: f64::from(r.y),
            w: f64::from(r.width),
            h: f64::from(r.height),
        }
    }
}

/// An MTCNN-like square box around five landmarks (MTCNN order).
pub fn box_from_landmarks(lm: &[Point2; 5]) -> Rect {
    let cx = lm.iter().map(|p| p.x).sum::<f64>() / 5.0;
    let cy = lm.iter().map(|p| p.y).sum::<f64>() / 5.0;
    let eye_mid = Point2::new((lm[0].x + lm[1].x) / 2.0, (lm[0].y + lm[1].y) / 2.0);
    let mouth_mid = Point2::new((lm[3].x + lm[4].x) / 2.0, (lm[3].y + lm[4].y) / 2.0);
    let size = (lm[0].dist(lm[1]) * 2.2)
        .max(eye_mid.dist(mouth_mid) * 2.4)
        .max(1.0);
    Rect {
        x: (cx - size / 2.0) as f32,
        y: (cy - size / 2.0) as f32,
        width: size as f32,
        height: size as f32,
    }
}

/// A detection of a simulated face: the box of [`box_from_landmarks`], score 0.99.
pub fn detection(lm: &[Point2; 5]) -> Detection {
    Detection {
        bbox: box_from_landmarks(lm),
        score: 0.99,
        landmarks: Landmarks::from_array(lm.map(|p| Point::new(p.x as f32, p.y as f32))),
    }
}

/// A detection's landmarks in f64 (exact).
pub fn wide(l: &Landmarks) -> [Point2; 5] {
    l.to_array()
        .map(|p| Point2::new(f64::from(p.x), f64::from(p.y)))
}
