//! Liveness: establish that a live person, not a printed photo or a replayed video, is in
//! front of the camera before any face decision is made.
//!
//! Why layers: in 2019 schoolchildren opened parcel lockers with a printed photo of the
//! owner. No single cue holds against every presentation attack, so facegate stacks
//! independent checks that need no unlicensed model weights, each usable alone:
//!
//! 1. [`challenge`] — a random head-pose challenge, answered in time (defeats a replayed
//!    video, which cannot follow a random order), with a continuous single-face track;
//! 2. [`parallax`] — a photo or a screen is planar: its landmarks move by one homography
//!    across views, a real head's nose leaves the plane of eyes and mouth corners;
//! 3. [`surface`] — dense points: the texture of a print, flat or *folded along the nose*
//!    (which fools five landmarks), moves like one or two planes; a face's does not;
//! 4. [`depth`] and [`nir`] — optional depth and near-infrared frames (flat face region,
//!    a screen that is dark in NIR);
//! 5. [`passive`] — an integrator-supplied ONNX presentation-attack classifier;
//! 6. [`fusion`] — the policy: required layers, thresholds, reason codes and the frontal
//!    frame that passed (the face verifier embeds exactly that frame: no swap after
//!    liveness).
//!
//! The layers are detector-agnostic: they consume [`Observation`]s (per frame: time, the
//! detected faces as the detector's own [`Detection`]s with their five landmarks, the luma
//! for the surface layer, optional aligned depth and NIR), so a frame with no face or a
//! second face is representable. Simulated live heads and attacks, for
//! tests and the evaluation, live outside the library (the `facegate-sim` crate).

use thiserror::Error;

use crate::detect::Detection;

pub mod challenge;
pub mod depth;
pub mod fusion;
pub(crate) mod linalg;
pub mod nir;
pub mod parallax;
pub mod passive;
pub mod pose;
pub mod surface;

/// A detection narrower than this fraction of the widest face in the frame is not a person
/// at the camera, and every layer ignores it: a face far behind (a bystander at 1.7 times
/// the distance or more), a poster, or a detector false positive — MTCNN fires on a striped
/// shirt at 0.30–0.47 of the face's width in one real recording (selfie_f), 19 of its 160
/// frames. A second person beside the user is about as wide as the user's face (a child's
/// ≈ 0.75), and so is a photo held up to be matched. A face this small is never the one
/// tracked or embedded, so ignoring it cannot let a photo be matched.
pub const BACKGROUND_FACE_RATIO: f64 = 0.6;

/// A depth map aligned with the colour frame, millimetres; `0` or a non-finite value
/// marks a pixel without a measurement.
///
/// It is the shape of a face, so it follows the crate's rule for face data: no `Clone`,
/// `Debug` shows the dimensions only, and the values are wiped when it is dropped.
#[derive(PartialEq)]
pub struct DepthMap {
    width: u32,
    height: u32,
    mm: Vec<f32>,
}

impl DepthMap {
    /// A depth map of `width × height` values in row-major order.
    pub fn new(width: u32, height: u32, mm: Vec<f32>) -> Result<Self, FrameError> {
        check_len(width, height, mm.len())?;
        Ok(DepthMap { width, height, mm })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Depth at a pixel, `None` outside the map or without a measurement.
    pub fn get(&self, x: u32, y: u32) -> Option<f32> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let v = *self.mm.get(y as usize * self.width as usize + x as usize)?;
        (v.is_finite() && v > 0.0).then_some(v)
    }
}

impl Drop for DepthMap {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.mm);
    }
}

impl std::fmt::Debug for DepthMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Dimensions only: the values are the shape of a face.
        f.debug_struct("DepthMap")
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

/// A single-channel 8-bit frame: near-infrared aligned with the colour frame, or the
/// colour frame's luma. It shows a face, so there is no `Clone` (one copy of the pixels
/// only), `Debug` shows the dimensions only, and its pixels are wiped when it is dropped.
#[derive(PartialEq)]
pub struct GrayFrame {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl GrayFrame {
    /// A frame of `width × height` values in row-major order.
    pub fn new(width: u32, height: u32, data: Vec<u8>) -> Result<Self, FrameError> {
        check_len(width, height, data.len())?;
        Ok(GrayFrame {
            width,
            height,
            data,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The pixels, row-major.
    pub fn pixels(&self) -> &[u8] {
        &self.data
    }

    /// Value at a pixel, `None` outside the frame.
    pub fn get(&self, x: u32, y: u32) -> Option<u8> {
        if x >= self.width || y >= self.height {
            return None;
        }
        self.data
            .get(y as usize * self.width as usize + x as usize)
            .copied()
    }
}

impl Drop for GrayFrame {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.data);
    }
}

impl std::fmt::Debug for GrayFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Dimensions only: the pixels show a face.
        f.debug_struct("GrayFrame")
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

fn check_len(width: u32, height: u32, len: usize) -> Result<(), FrameError> {
    if width == 0 || height == 0 {
        return Err(FrameError::Empty);
    }
    let expected = (width as usize)
        .checked_mul(height as usize)
        .ok_or(FrameError::TooLarge)?;
    if expected != len {
        return Err(FrameError::SizeMismatch { expected, got: len });
    }
    Ok(())
}

/// Errors building a depth or NIR frame.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FrameError {
    /// Zero width or height.
    #[error("frame has zero width or height")]
    Empty,
    /// The dimensions overflow the address space.
    #[error("frame dimensions are too large")]
    TooLarge,
    /// The buffer length does not match `width × height`.
    #[error("frame buffer holds {got} values, expected {expected}")]
    SizeMismatch {
        /// `width × height`.
        expected: usize,
        /// Buffer length.
        got: usize,
    },
}

/// What the liveness layers see of one frame. It holds face data (depth, NIR, luma), so
/// there is no `Clone`, and `Debug` shows the time, the number of faces and the frames'
/// dimensions only.
#[derive(PartialEq)]
pub struct Observation {
    /// Capture time, seconds (any origin, strictly increasing across a sequence).
    pub t: f64,
    /// Every face the detector found (none, one, or more).
    pub faces: Vec<Detection>,
    /// Optional depth map aligned with the colour frame.
    pub depth: Option<DepthMap>,
    /// Optional near-infrared frame aligned with the colour frame.
    pub nir: Option<GrayFrame>,
    /// The colour frame's luma, for the dense-point [`surface`] test. Needed only on the
    /// frames it reads: from [`SurfaceConfig::max_hops`](surface::SurfaceConfig::max_hops)
    /// frames before each turn's reach to the face's return.
    pub luma: Option<GrayFrame>,
}

impl std::fmt::Debug for Observation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observation")
            .field("t", &self.t)
            .field("faces", &self.faces.len())
            .field("depth", &self.depth)
            .field("nir", &self.nir)
            .field("luma", &self.luma)
            .finish()
    }
}

impl Observation {
    /// An observation with faces only.
    pub fn new(t: f64, faces: Vec<Detection>) -> Self {
        Observation {
            t,
            faces,
            depth: None,
            nir: None,
            luma: None,
        }
    }

    /// The detections that can be a person at the camera: all but those narrower than
    /// [`BACKGROUND_FACE_RATIO`] of the widest.
    pub fn faces_in_view(&self) -> Vec<Detection> {
        let width = |f: &Detection| f64::from(f.bbox.width);
        let widest = self.faces.iter().map(width).fold(0.0, f64::max);
        self.faces
            .iter()
            .filter(|f| !(width(f) < BACKGROUND_FACE_RATIO * widest))
            .copied()
            .collect()
    }

    /// The person's face: the widest detection, when it is the only face in view (every
    /// other detection is narrower than [`BACKGROUND_FACE_RATIO`] of it).
    pub fn single_face(&self) -> Option<&Detection> {
        let width = |f: &Detection| f64::from(f.bbox.width);
        let widest = self
            .faces
            .iter()
            .max_by(|a, b| a.bbox.width.total_cmp(&b.bbox.width))?;
        self.faces
            .iter()
            .all(|f| std::ptr::eq(f, widest) || width(f) < BACKGROUND_FACE_RATIO * width(widest))
            .then_some(widest)
    }
}
