//! The surface layer's thresholds and tracking parameters (checked by `analyze`).

use serde::Serialize;

/// Thresholds and tracking parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SurfaceConfig {
    /// Most corners tracked per step.
    pub max_points: usize,
    /// Fewest tracked points for a step to count.
    pub min_points: usize,
    /// Lucas–Kanade window half-size, pixels (window `2r+1` square).
    pub window: usize,
    /// Pyramid levels (each halves the frame).
    pub levels: usize,
    /// Largest patch dissimilarity (1 − normalised correlation with the reference patch)
    /// kept: beyond it the point is occluded or has turned away.
    pub max_dissimilarity: f64,
    /// Transfer-error floor, pixels (tracking noise at any resolution).
    pub noise_px: f64,
    /// Transfer-error floor as a fraction of the inter-ocular distance.
    pub noise_iod: f64,
    /// Smallest relief (fraction of points whose neighbourhood leaves the best two planes)
    /// to accept.
    pub min_relief: f64,
    /// Points whose residuals are averaged (each point with its nearest neighbours on its
    /// side of the split) before a point is judged off the planes.
    pub neighbours: usize,
    /// A point is off the planes when its neighbourhood's mean residual exceeds the larger
    /// of this (pixels) …
    pub relief_px: f64,
    /// … and this fraction of the inter-ocular distance.
    pub relief_iod: f64,
    /// Points closer than this fraction of the IOD to the split line are not judged (a
    /// patch straddling a fold is not one plane; the split only approximates the crease).
    pub crease_iod: f64,
    /// Most frames tracked through between reference and peak.
    pub max_hops: usize,
    /// Where a step's measured views start: the first frame turned this fraction of the way
    /// from the most frontal frame before the step to its furthest turn (landmark shape
    /// change, median of three frames); they run through the furthest turn. Far enough for
    /// relief; the frames before it add little but tracking noise.
    pub turn_fraction: f64,
    /// A step whose median two-plane error exceeds this fraction of the IOD shows no rigid
    /// surface at all (a cut to another print or face mid-turn: the surviving patches
    /// matched look-alike texture elsewhere) and counts as no relief. Real turns stay
    /// below 0.05.
    pub max_error_iod: f64,
    /// Most views measured per step (spread evenly over the tracked frames from
    /// `turn_fraction` through the peak); the step's relief is their mean.
    pub measured_frames: usize,
}

impl Default for SurfaceConfig {
    fn default() -> Self {
        SurfaceConfig {
            max_points: 200,
            min_points: 30,
            window: 7,
            levels: 2,
            max_dissimilarity: 0.4,
            noise_px: 1.0,
            noise_iod: 0.015,
            min_relief: 0.50,
            neighbours: 3,
            relief_px: 0.5,
            relief_iod: 0.007,
            crease_iod: 0.1,
            max_hops: 30,
            turn_fraction: 0.5,
            max_error_iod: 0.10,
            measured_frames: 6,
        }
    }
}
