//! Plain 2-D geometry shared by detection, alignment and liveness: points and boxes in
//! pixel coordinates of a frame (x to the right, y down, origin at the top-left pixel's
//! centre).

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

#[cfg(test)]
mod tests {
    use super::*;

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
