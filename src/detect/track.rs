//! Track: follow the faces of a video from frame to frame without the full detector.
//!
//! Why: a kiosk camera delivers 15 frames a second and MTCNN's pyramid costs 45–110 ms a
//! 640×480 frame on one core — more than the frame interval, and an ARM board is several
//! times slower. Video face SDKs run the full detector every N frames and follow the faces
//! in between (VisionLabs TrackEngine: every 7th frame by default). Here following a face is
//! O-Net alone on the face's last box ([`Detector::track`]); the full detector still runs
//! every [`Tracker::interval`] frames, so a face that enters the view is found within that
//! many frames, and at once whenever the main face is lost.
//!
//! Every face of the last full detection is followed, not only the main one: a second
//! person in view stays in the observations on the frames between, which the liveness
//! challenge's second-face rule counts.

use std::sync::Arc;

use super::yunet::YuNet;
use super::{DetectError, Detection, Detector, Refine};
use crate::frame::Frame;

/// What finds the faces on a full-detection frame.
#[derive(Clone)]
pub enum Finder {
    /// MTCNN's whole cascade: P-Net over the image pyramid, R-Net, O-Net.
    Cascade,
    /// YuNet's boxes (one pass at its working size, [`super::yunet::YuNetConfig::max_side`]),
    /// each placed by O-Net twice ([`Detector::place`]), so the landmarks are O-Net's on
    /// every frame, found or followed — the landmarks the liveness layers were calibrated on.
    /// Why: the pyramid's cost grows as the smallest face shrinks, YuNet's only with its
    /// working size.
    YuNet(Arc<YuNet>),
}

impl std::fmt::Debug for Finder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Finder::Cascade => "Cascade",
            Finder::YuNet(_) => "YuNet",
        })
    }
}

/// Longest interval between full detections accepted: beyond 2 s at 15 fps a face that
/// walked in is found too late.
pub const MAX_INTERVAL: u32 = 30;

/// The full detector every `interval` frames, light tracking in between. One tracker per
/// video stream; it holds face boxes and landmarks only (no pixels).
pub struct Tracker {
    interval: u32,
    refine: Refine,
    finder: Finder,
    since_full: u32,
    /// Whether the last frame's faces were followed (not found by the full detector).
    followed: bool,
    faces: Vec<Detection>,
}

impl std::fmt::Debug for Tracker {
    /// The schedule and how many faces are followed; never where they are.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracker")
            .field("interval", &self.interval)
            .field("refine", &self.refine)
            .field("finder", &self.finder)
            .field("since_full", &self.since_full)
            .field("faces", &self.faces.len())
            .finish()
    }
}

impl Tracker {
    /// A tracker that runs the full detector every `interval` frames (1 = every frame,
    /// i.e. no tracking; at most [`MAX_INTERVAL`]).
    pub fn new(interval: u32) -> Result<Tracker, DetectError> {
        if interval == 0 || interval > MAX_INTERVAL {
            return Err(DetectError::Config("tracker interval must be in 1..=30"));
        }
        Ok(Tracker {
            interval,
            refine: Refine::default(),
            finder: Finder::Cascade,
            since_full: 0,
            followed: false,
            faces: Vec::new(),
        })
    }

    /// The same tracker refining followed boxes by `refine`.
    pub fn with_refine(mut self, refine: Refine) -> Tracker {
        self.refine = refine;
        self
    }

    /// The same tracker finding faces with `finder` on full-detection frames.
    pub fn with_finder(mut self, finder: Finder) -> Tracker {
        self.finder = finder;
        self
    }

    /// Whether the last frame's faces were followed rather than found by the full detector.
    pub fn last_was_followed(&self) -> bool {
        self.followed
    }

    /// Frames between full detections.
    pub fn interval(&self) -> u32 {
        self.interval
    }

    /// The faces of the next frame of the stream: found by the full detector when it is
    /// due or when the main face (the first of the last result) was lost, followed
    /// otherwise. Faces are in the full detector's order (best score first), a followed
    /// face where it was.
    pub fn detect(
        &mut self,
        detector: &Detector,
        frame: &Frame,
    ) -> Result<Vec<Detection>, DetectError> {
        if self.since_full > 0 && self.since_full < self.interval && !self.faces.is_empty() {
            let mut followed = Vec::with_capacity(self.faces.len());
            let mut lost_main = false;
            for (i, face) in self.faces.iter().enumerate() {
                // A box that no longer meets the frame (its size changed) is a lost face.
                let tracked = match detector.track_refined(frame, &face.bbox, self.refine) {
                    Err(DetectError::TrackBox) => None,
                    other => other?,
                };
                match tracked {
                    Some(d) => followed.push(d),
                    None if i == 0 => {
                        lost_main = true;
                        break;
                    }
                    None => {}
                }
            }
            if !lost_main {
                dedupe(&mut followed);
                self.since_full += 1;
                self.followed = true;
                self.faces.clone_from(&followed);
                return Ok(followed);
            }
        }
        let found = match &self.finder {
            Finder::Cascade => detector.detect(frame)?,
            Finder::YuNet(yunet) => detector.place(frame, &yunet.detect(frame)?)?,
        };
        self.since_full = 1;
        self.followed = false;
        self.faces.clone_from(&found);
        Ok(found)
    }
}

/// Two followed boxes that converged onto one face: keep the first (the better-scored one
/// at the last full detection).
fn dedupe(faces: &mut Vec<Detection>) {
    let mut kept: Vec<Detection> = Vec::with_capacity(faces.len());
    for f in faces.drain(..) {
        if kept.iter().all(|k| k.bbox.iou(&f.bbox) < 0.7) {
            kept.push(f);
        }
    }
    *faces = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_is_bounded() {
        assert!(Tracker::new(0).is_err());
        assert!(Tracker::new(MAX_INTERVAL + 1).is_err());
        assert_eq!(Tracker::new(7).unwrap().interval(), 7);
    }
}
