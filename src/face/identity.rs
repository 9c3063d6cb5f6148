//! The faces of two frames, as the liveness fusion asks for them: the identity layer
//! (same person at the baseline and at the end) and the passive layer (a presentation-attack
//! model on the frames the challenge names).
//!
//! Why here and not in `liveness`: both need the face pipeline's networks, and liveness
//! must not depend on the pipeline (the fusion sees only the traits).

use std::borrow::Borrow;

use super::pipeline::FacePipeline;
use super::FaceError;
use crate::frame::Frame;
use crate::liveness::challenge::ChallengeOutcome;
use crate::liveness::fusion::{Decision, FusionError, IdentityCheck, LivenessPolicy};
use crate::liveness::passive::MiniFasNet;
use crate::liveness::Observation;
use crate::template::Template;

/// The liveness decision over a capture with the pipeline's own layers: `policy` decides
/// `outcome` over `observations` with the identity check ([`FrameIdentity`]) and, when the
/// pipeline loaded one, the passive model ([`FramePassive`]), both reading colour frames
/// from `frames` when they need them. The streaming session, the batch verifier and
/// `facegate liveness check` all decide through it.
///
/// The identity check comes back with the decision: it keeps the templates it made, and the
/// verifier takes the frontal frame's as its probe rather than embed that frame again.
pub fn decide_liveness<'a, S, F, E>(
    pipeline: &'a FacePipeline,
    policy: &LivenessPolicy,
    outcome: &ChallengeOutcome,
    observations: &'a [Observation],
    frames: S,
) -> Result<(Decision, FrameIdentity<'a, S>), FusionError>
where
    S: FnMut(usize) -> Result<F, E> + Clone,
    F: Borrow<Frame>,
    E: std::error::Error + Send + Sync + 'static,
{
    let mut identity = FrameIdentity::new(pipeline, observations, frames.clone());
    let mut passive = pipeline
        .passive()
        .map(|model| FramePassive::new(model, observations, frames));
    let decision = policy.decide(outcome, observations, Some(&mut identity), passive.as_mut())?;
    Ok((decision, identity))
}

/// Identity constancy for the liveness fusion ([`IdentityCheck`]): aligns and embeds the
/// face of two frames with the pipeline and gives the distance of the two templates.
///
/// Why: a photo or mask swapped in between the challenge's first and last frontal frames
/// would pass the movement checks; the same person must be in front of the camera
/// throughout. The faces are those liveness judged (the single face of each frame's
/// [`Observation`]), never a fresh detection that might pick somebody else.
///
/// The colour frames come from a source, `frames(index) -> Result<F, E>` where `F` is a
/// [`Frame`] or a `&Frame`, called only for the two frames compared. A kiosk that keeps its
/// capture in memory passes `|i| frames.get(i).ok_or(..)`; a tool replaying a recording
/// decodes the file on demand, so it never holds more than two colour frames (the liveness
/// layers only need the observations).
pub struct FrameIdentity<'a, S> {
    pipeline: &'a FacePipeline,
    observations: &'a [Observation],
    frames: S,
    /// The templates made so far (at most [`KEPT_TEMPLATES`], wiped on drop): the
    /// verifier takes the frontal frame's as its probe instead of embedding it again.
    kept: Vec<(usize, Template)>,
}

/// The identity check compares two frames; keeping more would only hold biometrics longer.
const KEPT_TEMPLATES: usize = 2;

impl<S> std::fmt::Debug for FrameIdentity<'_, S> {
    /// Frame count and which frames have a kept template; never the templates.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept: Vec<usize> = self.kept.iter().map(|(i, _)| *i).collect();
        f.debug_struct("FrameIdentity")
            .field("frames", &self.observations.len())
            .field("kept_templates_of", &kept)
            .finish_non_exhaustive()
    }
}

/// Why [`FrameIdentity`] could not compare two frames, or [`FramePassive`] score one (a
/// fault of the integration: the fusion only asks for frames whose single face it has seen).
#[derive(Debug, thiserror::Error)]
pub enum FrameIdentityError<E> {
    /// The observations hold no single face for this frame.
    #[error("frame {0}: no single face in the observations")]
    NoFace(usize),
    /// The frame source failed (e.g. the frame file could not be decoded).
    #[error("frame {index}: {source}")]
    Frame {
        /// Frame index.
        index: usize,
        /// The source's error.
        #[source]
        source: E,
    },
    /// Alignment, embedding or the passive model failed.
    #[error("frame {index}: {source}")]
    Face {
        /// Frame index.
        index: usize,
        /// The pipeline's error.
        #[source]
        source: FaceError,
    },
}

impl<'a, S, F, E> FrameIdentity<'a, S>
where
    S: FnMut(usize) -> Result<F, E>,
    F: Borrow<Frame>,
{
    /// An identity check over `observations` (one per frame, as given to the fusion), with
    /// the colour frames taken from `frames` when needed.
    pub fn new(pipeline: &'a FacePipeline, observations: &'a [Observation], frames: S) -> Self {
        FrameIdentity {
            pipeline,
            observations,
            frames,
            kept: Vec::with_capacity(KEPT_TEMPLATES),
        }
    }

    /// Makes the template of frame `index`'s face unless it is kept already; may drop a
    /// kept template, never that of frame `keep`.
    fn make(&mut self, index: usize, keep: usize) -> Result<(), FrameIdentityError<E>> {
        if self.kept.iter().any(|(i, _)| *i == index) {
            return Ok(());
        }
        let face = self
            .observations
            .get(index)
            .and_then(Observation::single_face)
            .ok_or(FrameIdentityError::NoFace(index))?;
        let landmarks = face.landmarks;
        let face_err = |source: FaceError| FrameIdentityError::Face { index, source };
        let chip = {
            let frame = (self.frames)(index)
                .map_err(|source| FrameIdentityError::Frame { index, source })?;
            self.pipeline
                .align(frame.borrow(), &landmarks)
                .map_err(|e| face_err(e.into()))?
        };
        let template = self.pipeline.embed_chip(&chip).map_err(face_err)?;
        if self.kept.len() >= KEPT_TEMPLATES {
            if let Some(pos) = self.kept.iter().position(|(i, _)| *i != keep) {
                self.kept.remove(pos);
            }
        }
        self.kept.push((index, template));
        Ok(())
    }

    fn kept(&self, index: usize) -> Option<&Template> {
        self.kept.iter().find(|(i, _)| *i == index).map(|(_, t)| t)
    }
}

impl<S> FrameIdentity<'_, S> {
    /// Moves out the template the check made for frame `index`, if it made one (the
    /// verifier's probe; private so the biometric never leaves the face module this way).
    pub(super) fn take_template(&mut self, index: usize) -> Option<Template> {
        let pos = self.kept.iter().position(|(i, _)| *i == index)?;
        Some(self.kept.swap_remove(pos).1)
    }
}

impl<S, F, E> IdentityCheck for FrameIdentity<'_, S>
where
    S: FnMut(usize) -> Result<F, E>,
    F: Borrow<Frame>,
    E: std::error::Error + Send + Sync + 'static,
{
    type Error = FrameIdentityError<E>;
    fn distance(&mut self, a: usize, b: usize) -> Result<f32, Self::Error> {
        self.make(a, b)?;
        self.make(b, a)?;
        match (self.kept(a), self.kept(b)) {
            (Some(ta), Some(tb)) => Ok(ta.distance(tb)),
            // Both were just made and neither was dropped.
            _ => Err(FrameIdentityError::NoFace(a)),
        }
    }
}

/// The passive layer over a capture, the counterpart of [`FrameIdentity`]: the face of
/// frame `index`'s observation, scored in its colour frame by a passive model. The colour
/// frames come from `frames(index) -> Result<F, E>` (a [`Frame`] or a `&Frame`), called only
/// for the frames the fusion scores (the challenge's first and last frontal frames).
pub struct FramePassive<'a, S> {
    model: &'a MiniFasNet,
    observations: &'a [Observation],
    frames: S,
}

impl<S> std::fmt::Debug for FramePassive<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FramePassive")
            .field("frames", &self.observations.len())
            .finish_non_exhaustive()
    }
}

impl<'a, S> FramePassive<'a, S> {
    /// A passive check with `model` over `observations` (one per frame, as given to the
    /// fusion), the colour frames taken from `frames` when needed.
    pub fn new(model: &'a MiniFasNet, observations: &'a [Observation], frames: S) -> Self {
        FramePassive {
            model,
            observations,
            frames,
        }
    }
}

impl<S, F, E> crate::liveness::fusion::PassiveCheck for FramePassive<'_, S>
where
    S: FnMut(usize) -> Result<F, E>,
    F: Borrow<Frame>,
    E: std::error::Error + Send + Sync + 'static,
{
    type Error = FrameIdentityError<E>;
    fn live_score(&mut self, index: usize) -> Result<f32, FrameIdentityError<E>> {
        let face = self
            .observations
            .get(index)
            .and_then(Observation::single_face)
            .ok_or(FrameIdentityError::NoFace(index))?;
        let frame =
            (self.frames)(index).map_err(|source| FrameIdentityError::Frame { index, source })?;
        let s = self
            .model
            .score_frame(frame.borrow(), &face.bbox)
            .map_err(|source| FrameIdentityError::Face {
                index,
                source: FaceError::Passive(source),
            })?;
        Ok(s.live)
    }
}

/// A frame index outside the capture (cannot happen once the counts are checked, but a
/// lookup must not panic).
#[derive(Debug, thiserror::Error)]
#[error("frame outside the capture")]
pub(super) struct NoSuchFrame;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Detection;
    use crate::face::{FaceConfig, FacePipeline};
    use std::cell::RefCell;

    use crate::face::test_fixture as fixture;

    /// The identity check decodes only the frames it compares, once each, and keeps for
    /// the verifier exactly the template of the frame asked for — the same template a
    /// fresh capture of that frame gives, not a neighbour's.
    #[test]
    fn frame_identity_is_lazy_and_keeps_each_frames_own_template() {
        let p = FacePipeline::with_default_models(FaceConfig::default()).unwrap();
        let frames = [fixture("obama"), fixture("biden"), fixture("obama2")];
        let faces: Vec<Detection> = frames
            .iter()
            .map(|f| {
                let d = p.detect(f).unwrap();
                assert_eq!(d.len(), 1);
                d[0]
            })
            .collect();
        let obs: Vec<Observation> = faces
            .iter()
            .enumerate()
            .map(|(i, d)| Observation::new(i as f64, vec![*d]))
            .collect();
        let decoded = RefCell::new(Vec::new());
        let mut id = FrameIdentity::new(&p, &obs, |i| {
            decoded.borrow_mut().push(i);
            frames.get(i).ok_or(NoSuchFrame)
        });
        let threshold = p.threshold().distance();
        assert!(id.distance(0, 1).unwrap() > threshold, "Obama vs Biden");
        assert!(id.distance(0, 2).unwrap() < threshold, "Obama vs Obama");
        assert!(matches!(
            id.distance(0, 7),
            Err(FrameIdentityError::NoFace(7))
        ));
        // Frame 1 was dropped to keep frame 0 (still compared) and frame 2.
        assert!(id.take_template(1).is_none());
        let kept = id.take_template(2).unwrap();
        assert!(id.take_template(2).is_none(), "moved out, not copied");
        drop(id);
        assert_eq!(*decoded.borrow(), [0, 1, 2]);

        let fresh = |i: usize| p.capture_face(&frames[i], faces[i], 0.0).unwrap().template;
        assert!(kept.distance(&fresh(2)) < 1e-5);
        assert!(kept.distance(&fresh(0)) > 0.05);
    }
}
