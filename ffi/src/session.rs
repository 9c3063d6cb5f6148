//! The streaming face session: face with liveness run frame by frame as the kiosk's camera
//! delivers them, prompting as it goes.
//!
//! Why a session next to `fg_face_verify`: a kiosk must show each prompt *while* the person
//! moves, and should not hold a video to verify it afterwards. The session keeps what
//! liveness needs and two colour frames, and wipes them when it decides or is freed.
//!
//! Why it borrows nothing: a C handle's lifetime is the caller's business, so the session
//! holds its own share of the pipeline (`FaceVerifier::start_shared`) and its own reference
//! template; freeing the pipeline handle first is safe.
//!
//! Two doors, as in Rust: `fg_session_start` draws a random challenge and runs it
//! interactively (the kiosk's); `fg_session_start_for_evaluation` takes a known list of
//! turns for recorded sequences, named so that a reviewer who greps for it finds every use.

use std::ffi::c_char;

use facegate::face::{FaceSession, FaceVerifier, FaceVerifyError, Progress, Reference};
use facegate::face::{SessionStart, Started};
use facegate::frame::Frame;
use facegate::liveness::challenge::{Challenge, ChallengeError, Mode};
use facegate::liveness::fusion::{prompt_for, LivenessPolicy};
use facegate::verifier::Family;

use crate::face::FgPipeline;
use crate::face::{camera_frame, decode, face_fail, FgCameraImage, FgConsent, FgDirection};
use crate::{
    arg_bytes, arg_str, enum_arg, fail, free_handle, guard, handle, handle_mut, need, new_handle,
    put, static_text, FgDate, FgOutcome, FgStatus, Res,
};

/// A face verification in progress: frames go in one at a time, prompts and finally the
/// outcome come out. Made by `fg_session_start` (or, for recordings,
/// `fg_session_start_for_evaluation`), freed by `fg_session_free`.
///
/// Thread safety: **one thread at a time** (it may move between threads, e.g. from the
/// camera thread to a worker, but two calls must never run on it at once). It holds its own
/// share of the pipeline: the `FgPipeline` handle may be freed while the session lives.
/// Freeing the session wipes the frames and the reference template it holds.
pub struct FgSession {
    inner: FaceSession<'static>,
}

// The session is documented as movable between threads: hold the library to it.
const _: () = {
    const fn movable<T: Send>() {}
    movable::<FaceSession<'static>>();
};

/// How a known challenge is judged (`fg_session_start_for_evaluation` only).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FgChallengeMode {
    /// As at a live kiosk: each movement only after its prompt, prompt timing and direction
    /// enforced.
    Interactive = 0,
    /// A recorded sequence: the movements in order, other movement in between tolerated.
    Fixed = 1,
}

/// What the kiosk does after a frame.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FgProgressKind {
    /// Keep sending frames.
    Continue = 0,
    /// Show the prompt now (`step_index`, `direction`, `sentence`), and keep sending frames.
    Prompt = 1,
    /// Decided: `outcome` is the answer, for `fg_flow_record`. The session takes no more
    /// frames; free it.
    Done = 2,
}

/// The answer of `fg_session_push_camera` / `fg_session_push_image`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct FgProgress {
    /// Continue, prompt or done.
    pub kind: FgProgressKind,
    /// Prompt: the step's index in the challenge (from 0). Otherwise 0.
    pub step_index: usize,
    /// Prompt: the movement asked for. Otherwise `FG_DIRECTION_LEFT` (meaningless).
    pub direction: FgDirection,
    /// Prompt: the sentence the kiosk shows (as `fg_challenge_step` gives it). Done and not
    /// accepted: what the kiosk tells the person for a liveness reason, or NULL for other
    /// reasons (their code says it all). Otherwise NULL. Static English text.
    pub sentence: *const c_char,
    /// Done: the outcome. Otherwise `{FG_FAMILY_FACE, FG_OUTCOME_KIND_RETRY, NULL,
    /// FG_REASON_KIND_NONE}`, which `fg_flow_record` refuses.
    pub outcome: FgOutcome,
}

impl FgProgress {
    fn new(p: Progress) -> FgProgress {
        let undecided = FgOutcome {
            family: crate::FgFamily::Face,
            kind: crate::FgOutcomeKind::Retry,
            reason: std::ptr::null(),
            reason_kind: crate::FgReasonKind::None,
        };
        match p {
            Progress::Continue => FgProgress {
                kind: FgProgressKind::Continue,
                step_index: 0,
                direction: FgDirection::Left,
                sentence: std::ptr::null(),
                outcome: undecided,
            },
            Progress::Prompt { index, turn } => FgProgress {
                kind: FgProgressKind::Prompt,
                step_index: index,
                direction: turn.into(),
                sentence: static_text(turn.prompt()),
                outcome: undecided,
            },
            Progress::Done(outcome) => FgProgress {
                kind: FgProgressKind::Done,
                step_index: 0,
                direction: FgDirection::Left,
                sentence: outcome
                    .reason()
                    .and_then(prompt_for)
                    .map_or(std::ptr::null(), static_text),
                outcome: FgOutcome::new(Family::Face, outcome),
            },
        }
    }
}

/// A session error as a status. The messages are the library's fixed texts and indices:
/// never pixels, landmarks or templates.
fn session_fail(e: &FaceVerifyError) -> crate::Fail {
    match e {
        FaceVerifyError::Face(f) => face_fail(f),
        FaceVerifyError::Challenge(ChallengeError::Time(_)) => fail(
            FgStatus::InvalidArgument,
            "frame times must be finite and strictly increasing",
        ),
        FaceVerifyError::Challenge(_) | FaceVerifyError::Capture(_) => {
            fail(FgStatus::InvalidArgument, format!("face session: {e}"))
        }
        FaceVerifyError::Liveness(_) => fail(FgStatus::FaceFailed, format!("face session: {e}")),
    }
}

fn decided_fail() -> crate::Fail {
    fail(
        FgStatus::SessionDecided,
        "the face session has already decided: free it",
    )
}

/// Longest `track` value: the full detector at least once a second at 30 frames a second.
const MAX_TRACK: u32 = 30;

/// The body of both start functions. `known`: the evaluation door's challenge and mode.
///
/// # Safety
/// As documented on `fg_session_start`.
#[allow(clippy::too_many_arguments)]
unsafe fn start(
    pipeline: *const FgPipeline,
    consent: *const FgConsent,
    birth_date: *const FgDate,
    today: FgDate,
    reference_photo: *const u8,
    reference_len: usize,
    mirrored: u32,
    track: u32,
    known: Option<(Challenge, Mode)>,
    out_session: *mut *mut FgSession,
    out_decided: *mut FgOutcome,
) -> Res {
    need(out_session, "out_session")?;
    need(out_decided, "out_decided")?;
    // SAFETY: non-NULL (checked) and writable by the contract. Any error leaves it NULL.
    unsafe { put(out_session, std::ptr::null_mut(), "out_session")? };
    // SAFETY: the caller's contract for each pointer, as documented on fg_session_start.
    let (p, consent, photo) = unsafe {
        (
            handle(pipeline, "pipeline")?,
            handle(consent, "consent")?,
            arg_bytes(reference_photo, reference_len, "reference photo")?,
        )
    };
    // SAFETY: NULL or readable by the contract.
    let birth_date = match unsafe { birth_date.as_ref() } {
        Some(d) => Some(d.to_date("birth_date")?),
        None => None,
    };
    let today = today.to_date("today")?;
    if track == 0 || track > MAX_TRACK {
        return Err(fail(
            FgStatus::InvalidArgument,
            format!("track must be 1 (no tracking) to {MAX_TRACK}"),
        ));
    }
    let photo = decode(photo, "reference photo")?;
    let face_consent = consent.face();
    let s = SessionStart {
        consent: &face_consent,
        birth_date,
        today,
        reference: Reference::Photo(&photo),
        mirrored: mirrored != 0,
        track,
    };
    let started = match known {
        None => FaceVerifier::start_shared(&p.inner, LivenessPolicy::default(), s),
        Some((challenge, mode)) => FaceVerifier::start_shared_for_evaluation(
            &p.inner,
            LivenessPolicy::default(),
            s,
            challenge,
            mode,
        ),
    }
    .map_err(|e| session_fail(&e))?;
    match started {
        Started::Session(inner) => {
            // SAFETY: `out_session` is non-NULL (checked) and writable by the contract.
            unsafe { new_handle(out_session, FgSession { inner }) }
        }
        Started::Decided(outcome) => {
            // SAFETY: `out_decided` is non-NULL (checked) and writable by the contract.
            unsafe {
                put(
                    out_decided,
                    FgOutcome::new(Family::Face, outcome),
                    "out_decided",
                )
            }
        }
    }
}

/// Starts a face verification at the kiosk, to be fed frame by frame: the session draws its
/// own random challenge (2 movements) and runs it interactively. Consent is checked first
/// (with `birth_date` from the person's ID document when one was read, else NULL: the
/// under-14 rule), then the face in `reference_photo` (encoded bytes, typically the portrait
/// read from the ID document's chip) is embedded.
///
/// On `FG_STATUS_OK` one of two things happened, told apart by `*out_session`:
///  - **started**: `*out_session` is a new session (free it with `fg_session_free`);
///    `*out_decided` is not written. Push frames to it.
///  - **decided before any frame**: `*out_session` is NULL and `*out_decided` holds the
///    outcome (rejected: consent refused, or a reference photo without a usable face), for
///    `fg_flow_record`. No frame is processed.
///
/// `mirrored`: nonzero when the camera delivers mirrored frames. `track`: run the full face
/// detector every `track` frames (1..=30) and follow the face in between; 1 = the full
/// detector on every frame (`kiosk.c` uses 3).
/// On an error status `*out_session` is NULL (when `out_session` is not). Reference bytes
/// that are not a decodable image are `FG_STATUS_BAD_IMAGE`.
///
/// # Safety
/// `pipeline` and `consent` are live handles; `birth_date` is NULL or readable;
/// `reference_photo` points to `reference_len` readable bytes; `out_session` and
/// `out_decided` are writable. The session keeps nothing of these pointers.
#[no_mangle]
pub unsafe extern "C" fn fg_session_start(
    pipeline: *const FgPipeline,
    consent: *const FgConsent,
    birth_date: *const FgDate,
    today: FgDate,
    reference_photo: *const u8,
    reference_len: usize,
    mirrored: u32,
    track: u32,
    out_session: *mut *mut FgSession,
    out_decided: *mut FgOutcome,
) -> FgStatus {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe {
            start(
                pipeline,
                consent,
                birth_date,
                today,
                reference_photo,
                reference_len,
                mirrored,
                track,
                None,
                out_session,
                out_decided,
            )
        }
    })
}

/// As `fg_session_start`, over a **known** challenge: for replaying recorded sequences and
/// for evaluation only — **never at a kiosk**, where a known order is exactly what a replay
/// attack needs. The name says so, so that a reviewer finds every use.
///
/// `turns`: the movements in order, a comma list of `left`, `right`, `up`, `down` (1 to 8
/// of them, e.g. `"left,right,up,down"`): NULL is `FG_STATUS_NULL_POINTER`, non-UTF-8
/// `FG_STATUS_INVALID_UTF8`, an unknown word or a wrong count `FG_STATUS_INVALID_ARGUMENT`.
/// `mode`: an `FgChallengeMode` value (`FG_CHALLENGE_MODE_FIXED` for a recording).
///
/// # Safety
/// As `fg_session_start`; `turns` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn fg_session_start_for_evaluation(
    pipeline: *const FgPipeline,
    consent: *const FgConsent,
    birth_date: *const FgDate,
    today: FgDate,
    reference_photo: *const u8,
    reference_len: usize,
    mirrored: u32,
    track: u32,
    turns: *const c_char,
    mode: u32,
    out_session: *mut *mut FgSession,
    out_decided: *mut FgOutcome,
) -> FgStatus {
    guard(|| {
        need(out_session, "out_session")?;
        need(out_decided, "out_decided")?;
        // SAFETY: non-NULL (checked) and writable by the contract. Any error leaves it NULL.
        unsafe { put(out_session, std::ptr::null_mut(), "out_session")? };
        // SAFETY: NULL (refused) or NUL-terminated, by the contract.
        let turns = unsafe { arg_str(turns, "turns")? };
        let mode = enum_arg(
            mode,
            &[(0, Mode::Interactive), (1, Mode::Fixed)],
            "challenge mode",
        )?;
        // The library's message would quote the unknown word: write our own.
        let challenge = Challenge::parse_for_evaluation(turns, mirrored != 0).map_err(|e| {
            let what = match e {
                ChallengeError::Length(_) => "turns: 1 to 8 movements are needed",
                _ => "turns: a movement is not left, right, up or down",
            };
            fail(FgStatus::InvalidArgument, what)
        })?;
        // SAFETY: forwarded contract.
        unsafe {
            start(
                pipeline,
                consent,
                birth_date,
                today,
                reference_photo,
                reference_len,
                mirrored,
                track,
                Some((challenge, mode)),
                out_session,
                out_decided,
            )
        }
    })
}

impl FgSession {
    /// Pushes the frame `make` produces, unless the session has decided (checked first, so
    /// a decided session does not even decode the frame).
    fn push(&mut self, make: impl FnOnce() -> Res<Frame>, t: f64) -> Res<FgProgress> {
        if self.inner.decided() {
            return Err(decided_fail());
        }
        let frame = make()?;
        let progress = self.inner.push(&frame, t).map_err(|e| session_fail(&e))?;
        Ok(FgProgress::new(progress))
    }
}

/// Gives the session the camera's next raw frame, captured at `t_seconds` (strictly
/// increasing), converted as `fg_capture_push_camera` does, and says what to do next in
/// `*out`: continue, show a prompt, or done with the outcome.
///
/// A frame that cannot be taken leaves the session as it was: an impossible layout is
/// `FG_STATUS_BAD_DIMENSIONS` (as for `fg_capture_push_camera`); a time that is not finite
/// or not after the previous frame's, a frame of another size than the first frame's, or
/// more than 1024 frames are `FG_STATUS_INVALID_ARGUMENT`. After the session decided (done,
/// or `fg_session_finish`): `FG_STATUS_SESSION_DECIDED`.
///
/// # Safety
/// `session` is a live session no other thread is using; `image` points to a readable
/// `FgCameraImage` whose first `plane_count` planes point to their `plane_lengths` bytes;
/// `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_session_push_camera(
    session: *mut FgSession,
    image: *const FgCameraImage,
    t_seconds: f64,
    out: *mut FgProgress,
) -> FgStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: the caller's contract for each pointer.
        let (s, img) = unsafe { (handle_mut(session, "session")?, handle(image, "image")?) };
        let progress = s.push(
            // SAFETY: the caller's contract for the planes.
            || unsafe { camera_frame(img) },
            t_seconds,
        )?;
        // SAFETY: `out` is non-NULL (checked) and writable by the contract.
        unsafe { put(out, progress, "out") }
    })
}

/// As `fg_session_push_camera`, for an encoded image (JPEG/PNG/BMP/PNM bytes, with the
/// limits of `fg_capture_push_image`): bytes that do not decode are `FG_STATUS_BAD_IMAGE`.
///
/// # Safety
/// `session` is a live session no other thread is using; `bytes` points to `len` readable
/// bytes; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_session_push_image(
    session: *mut FgSession,
    bytes: *const u8,
    len: usize,
    t_seconds: f64,
    out: *mut FgProgress,
) -> FgStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: the caller's contract for each pointer.
        let (s, bytes) = unsafe {
            (
                handle_mut(session, "session")?,
                arg_bytes(bytes, len, "image")?,
            )
        };
        let progress = s.push(|| decode(bytes, "image"), t_seconds)?;
        // SAFETY: `out` is non-NULL (checked) and writable by the contract.
        unsafe { put(out, progress, "out") }
    })
}

/// Ends the input (the camera stopped, the person walked away, the kiosk's time ran out):
/// an undecided session decides now — usually not accepted, since the challenge was not
/// completed — and writes its outcome to `*out`. After the session decided (done, or a first
/// `fg_session_finish`): `FG_STATUS_SESSION_DECIDED`.
///
/// # Safety
/// `session` is a live session no other thread is using; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_session_finish(
    session: *mut FgSession,
    out: *mut FgOutcome,
) -> FgStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: the caller's contract.
        let s = unsafe { handle_mut(session, "session")? };
        if s.inner.decided() {
            return Err(decided_fail());
        }
        let outcome = s.inner.finish().map_err(|e| session_fail(&e))?;
        // SAFETY: `out` is non-NULL (checked) and writable by the contract.
        unsafe { put(out, FgOutcome::new(Family::Face, outcome), "out") }
    })
}

/// What the kiosk tells the person for a reason code facegate handed out (an outcome's
/// `reason`, from `fg_session_finish`, `fg_session_start`, `fg_face_verify`, …): a static
/// English sentence for the liveness reasons, NULL for the others (their code says it all).
/// The same sentence `FgProgress.sentence` carries when a push decides. A pointer facegate
/// did not hand out as a reason code is `FG_STATUS_INVALID_ARGUMENT` (it is compared by
/// address, never read).
///
/// # Safety
/// `sentence` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_reason_sentence(
    reason: *const c_char,
    sentence: *mut *const c_char,
) -> FgStatus {
    guard(|| {
        need(sentence, "sentence")?;
        if reason.is_null() {
            return Err(fail(FgStatus::NullPointer, "reason is NULL"));
        }
        let r = crate::reason_at(reason).ok_or_else(|| {
            fail(
                FgStatus::InvalidArgument,
                "the reason was not produced by facegate",
            )
        })?;
        let text = prompt_for(r).map_or(std::ptr::null(), static_text);
        // SAFETY: `sentence` is non-NULL (checked) and writable by the contract.
        unsafe { put(sentence, text, "sentence") }
    })
}

/// Frees a session, wiping the frames and the reference template it holds (whether or not
/// it decided); NULL is accepted. Releases its share of the pipeline.
///
/// # Safety
/// `session` is NULL or a live session no other call is using.
#[no_mangle]
pub unsafe extern "C" fn fg_session_free(session: *mut FgSession) -> FgStatus {
    // SAFETY: forwarded contract.
    unsafe { free_handle(session) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::{
        fg_consent_free, fg_consent_given_by_person, fg_pipeline_free, fg_pipeline_new,
    };
    use facegate::verifier::Outcome;
    use std::ffi::CStr;
    use std::path::{Path, PathBuf};
    use std::ptr::{null, null_mut};

    const TODAY: FgDate = FgDate {
        year: 2026,
        month: 11,
        day: 30,
    };

    fn fixture(name: &str) -> Vec<u8> {
        let p = format!(
            "{}/../tests/fixtures/images/{name}.jpg",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(p).unwrap()
    }

    /// `../shared/<rel>` beside the workspace (or beside a worktrees folder), or `None` with a
    /// skip line; under `CI=true` its absence fails, as in the library's tests.
    fn shared(rel: &str) -> Option<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let found = ["../shared", "../../shared"]
            .iter()
            .map(|s| root.join(s).join(rel))
            .find(|p| p.exists());
        if found.is_none() {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "../shared/{rel} is absent, and CI requires it"
            );
            println!("skipped: ../shared/{rel} is absent");
        }
        found
    }

    struct Fixture {
        pipeline: *mut FgPipeline,
        consent: *mut FgConsent,
    }

    impl Fixture {
        fn new() -> Fixture {
            let mut f = Fixture {
                pipeline: null_mut(),
                consent: null_mut(),
            };
            // SAFETY: valid out-pointers; freed in Drop.
            unsafe {
                assert_eq!(fg_pipeline_new(&mut f.pipeline), FgStatus::Ok);
                assert_eq!(fg_consent_given_by_person(&mut f.consent), FgStatus::Ok);
            }
            f
        }

        /// A session over a known challenge (`turns`, fixed mode) against `reference`.
        fn evaluation(&self, reference: &[u8], turns: &str, track: u32) -> *mut FgSession {
            let turns = std::ffi::CString::new(turns).unwrap();
            let mut s = null_mut();
            let mut decided = FgOutcome::new(Family::Face, Outcome::Accepted);
            // SAFETY: live handles, readable buffers, writable outputs.
            let status = unsafe {
                fg_session_start_for_evaluation(
                    self.pipeline,
                    self.consent,
                    null(),
                    TODAY,
                    reference.as_ptr(),
                    reference.len(),
                    0,
                    track,
                    turns.as_ptr(),
                    FgChallengeMode::Fixed as u32,
                    &mut s,
                    &mut decided,
                )
            };
            assert_eq!(status, FgStatus::Ok);
            assert!(!s.is_null(), "decided before any frame");
            s
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            // SAFETY: made in `new`, freed once (NULL when already freed).
            unsafe {
                fg_pipeline_free(self.pipeline);
                fg_consent_free(self.consent);
            }
        }
    }

    fn push(s: *mut FgSession, image: &[u8], t: f64) -> (FgStatus, FgProgress) {
        let mut p = FgProgress::new(Progress::Continue);
        // SAFETY: a live session (or NULL), a readable buffer, a writable output.
        let status = unsafe { fg_session_push_image(s, image.as_ptr(), image.len(), t, &mut p) };
        (status, p)
    }

    fn text(p: *const c_char) -> String {
        // SAFETY: facegate's static NUL-terminated strings.
        unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
    }

    #[test]
    fn starting_refuses_bad_arguments_and_decides_a_child_without_a_guardian() {
        let f = Fixture::new();
        let photo = fixture("obama");
        let mut s = null_mut();
        let mut o = FgOutcome::new(Family::Face, Outcome::Accepted);
        let (pp, cp) = (
            f.pipeline as *const FgPipeline,
            f.consent as *const FgConsent,
        );
        let start = |p: *const FgPipeline,
                     c: *const FgConsent,
                     b: *const FgDate,
                     photo: &[u8],
                     track: u32,
                     s: *mut *mut FgSession,
                     o: *mut FgOutcome| {
            // SAFETY: each pointer is NULL or valid, as the test means it.
            unsafe { fg_session_start(p, c, b, TODAY, photo.as_ptr(), photo.len(), 0, track, s, o) }
        };
        assert_eq!(
            start(null(), cp, null(), &photo, 1, &mut s, &mut o),
            FgStatus::NullPointer
        );
        assert_eq!(
            start(pp, null(), null(), &photo, 1, &mut s, &mut o),
            FgStatus::NullPointer
        );
        assert_eq!(
            start(pp, cp, null(), &photo, 1, null_mut(), &mut o),
            FgStatus::NullPointer
        );
        assert_eq!(
            start(pp, cp, null(), &photo, 1, &mut s, null_mut()),
            FgStatus::NullPointer
        );
        assert_eq!(
            start(pp, cp, null(), &photo, 0, &mut s, &mut o),
            FgStatus::InvalidArgument
        );
        assert_eq!(
            start(pp, cp, null(), &photo, 31, &mut s, &mut o),
            FgStatus::InvalidArgument
        );
        assert_eq!(
            start(pp, cp, null(), b"junk", 1, &mut s, &mut o),
            FgStatus::BadImage
        );
        let bad_date = FgDate {
            year: 2026,
            month: 13,
            day: 1,
        };
        assert_eq!(
            start(pp, cp, &bad_date, &photo, 1, &mut s, &mut o),
            FgStatus::InvalidArgument
        );
        assert!(s.is_null());
        // A child without a guardian's consent: decided, no session.
        let child = FgDate {
            year: 2020,
            month: 6,
            day: 1,
        };
        assert_eq!(
            start(pp, cp, &child, &photo, 1, &mut s, &mut o),
            FgStatus::Ok
        );
        assert!(s.is_null());
        assert_eq!(o.kind, crate::FgOutcomeKind::Rejected);
        assert_eq!(text(o.reason), "consent.guardian_required");
        // The kiosk's door starts a session with a random challenge.
        assert_eq!(
            start(pp, cp, null(), &photo, 3, &mut s, &mut o),
            FgStatus::Ok
        );
        assert!(!s.is_null());
        // SAFETY: freed once; NULL is accepted.
        unsafe {
            assert_eq!(fg_session_free(s), FgStatus::Ok);
            assert_eq!(fg_session_free(null_mut()), FgStatus::Ok);
        }
        // The evaluation door: turns and mode are checked, and its input never echoed.
        let mut eval = |turns: *const c_char, mode: u32, s: *mut *mut FgSession| {
            // SAFETY: each pointer is NULL or valid, as the test means it.
            unsafe {
                fg_session_start_for_evaluation(
                    pp,
                    cp,
                    null(),
                    TODAY,
                    photo.as_ptr(),
                    photo.len(),
                    0,
                    1,
                    turns,
                    mode,
                    s,
                    &mut o,
                )
            }
        };
        assert_eq!(eval(null(), 1, &mut s), FgStatus::NullPointer);
        assert_eq!(
            eval(c"left,sideways".as_ptr(), 1, &mut s),
            FgStatus::InvalidArgument
        );
        let mut m: *const c_char = null();
        // SAFETY: a writable out-pointer.
        unsafe { crate::fg_last_error(&mut m) };
        assert!(!text(m).contains("sideways"), "{}", text(m));
        assert_eq!(eval(c"".as_ptr(), 1, &mut s), FgStatus::InvalidArgument);
        assert_eq!(
            eval(
                c"left,left,left,left,left,left,left,left,left".as_ptr(),
                1,
                &mut s
            ),
            FgStatus::InvalidArgument
        );
        assert_eq!(
            eval(c"left,\xff".as_ptr(), 1, &mut s),
            FgStatus::InvalidUtf8
        );
        assert_eq!(eval(c"left".as_ptr(), 2, &mut s), FgStatus::InvalidArgument);
        assert!(s.is_null());
    }

    #[test]
    fn a_refused_frame_changes_nothing_and_a_decided_session_takes_no_more() {
        let mut f = Fixture::new();
        let face = fixture("obama");
        let s = f.evaluation(&face, "left", 3);
        // The session keeps its own share of the pipeline.
        // SAFETY: freed once; Drop then frees NULL.
        assert_eq!(unsafe { fg_pipeline_free(f.pipeline) }, FgStatus::Ok);
        f.pipeline = null_mut();
        assert_eq!(push(null_mut(), &face, 0.0).0, FgStatus::NullPointer);
        let (status, p) = push(s, &face, 0.0);
        assert_eq!(status, FgStatus::Ok);
        assert_eq!(p.kind, FgProgressKind::Continue);
        assert_eq!(push(s, &face, 0.0).0, FgStatus::InvalidArgument);
        assert_eq!(push(s, &face, -1.0).0, FgStatus::InvalidArgument);
        assert_eq!(push(s, &face, f64::NAN).0, FgStatus::InvalidArgument);
        assert_eq!(
            push(s, &fixture("obama2"), 0.05).0,
            FgStatus::InvalidArgument
        );
        assert_eq!(push(s, b"not an image", 0.05).0, FgStatus::BadImage);
        let junk = [0u8; 16];
        let huge = FgCameraImage {
            format: 0,
            width: 100_000,
            height: 100_000,
            plane_count: 1,
            planes: [junk.as_ptr(), null(), null()],
            plane_lengths: [junk.len(), 0, 0],
            strides: [300_000, 0, 0],
            rotation_degrees: 0,
            mirror: 0,
            full_range: 0,
        };
        let mut p = FgProgress::new(Progress::Continue);
        // SAFETY: a live session; plane 0 readable for its length.
        let status = unsafe { fg_session_push_camera(s, &huge, 0.05, &mut p) };
        assert_eq!(status, FgStatus::BadDimensions);
        let mut prompted = false;
        for i in 1..12 {
            let (status, p) = push(s, &face, f64::from(i) / 15.0);
            assert_eq!(status, FgStatus::Ok);
            if p.kind == FgProgressKind::Prompt {
                assert_eq!((p.step_index, p.direction), (0, FgDirection::Left));
                assert!(text(p.sentence).to_lowercase().contains("left"));
                prompted = true;
            }
            assert_ne!(p.kind, FgProgressKind::Done);
        }
        assert!(prompted, "the refused frames did not disturb the session");
        let mut o = FgOutcome::new(Family::Face, Outcome::Accepted);
        // SAFETY: a live session, a writable output.
        assert_eq!(unsafe { fg_session_finish(s, &mut o) }, FgStatus::Ok);
        assert_eq!(o.kind, crate::FgOutcomeKind::Rejected);
        assert_eq!(text(o.reason), "liveness.challenge_timeout");
        assert_eq!(push(s, &face, 2.0).0, FgStatus::SessionDecided);
        // SAFETY: as above.
        assert_eq!(
            unsafe { fg_session_finish(s, &mut o) },
            FgStatus::SessionDecided
        );
        // SAFETY: freed once.
        assert_eq!(unsafe { fg_session_free(s) }, FgStatus::Ok);
    }

    /// The real recording `selfie_d` (every second frame, 7.5 fps) through the C door: each
    /// turn prompted in order, accepted against its own first frame.
    #[test]
    fn a_real_recording_is_prompted_and_accepted() {
        let Some(dir) = shared("data/liveness/genuine/selfie_d") else {
            return;
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
            .collect();
        paths.sort();
        let frames: Vec<Vec<u8>> = paths
            .iter()
            .step_by(2)
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        let f = Fixture::new();
        let s = f.evaluation(&frames[0], "left,right,up,down", 3);
        let mut prompts = Vec::new();
        let mut outcome = None;
        for (i, frame) in frames.iter().enumerate() {
            let (status, p) = push(s, frame, i as f64 / 7.5);
            assert_eq!(status, FgStatus::Ok, "frame {i}");
            match p.kind {
                FgProgressKind::Continue => {}
                FgProgressKind::Prompt => {
                    assert!(!text(p.sentence).is_empty());
                    prompts.push((p.step_index, p.direction));
                }
                FgProgressKind::Done => {
                    outcome = Some(p.outcome);
                    break;
                }
            }
        }
        if outcome.is_some() {
            // Decided by a push: no more frames, no finish.
            assert_eq!(push(s, &frames[0], 1000.0).0, FgStatus::SessionDecided);
            let mut o = FgOutcome::new(Family::Face, Outcome::Accepted);
            // SAFETY: a live session, a writable output.
            assert_eq!(
                unsafe { fg_session_finish(s, &mut o) },
                FgStatus::SessionDecided
            );
        }
        let outcome = outcome.unwrap_or_else(|| {
            let mut o = FgOutcome::new(Family::Face, Outcome::Accepted);
            // SAFETY: a live session, a writable output.
            assert_eq!(unsafe { fg_session_finish(s, &mut o) }, FgStatus::Ok);
            o
        });
        use FgDirection::*;
        assert_eq!(prompts, vec![(0, Left), (1, Right), (2, Up), (3, Down)]);
        assert_eq!(outcome.kind, crate::FgOutcomeKind::Accepted);
        assert!(outcome.reason.is_null());
        // SAFETY: freed once.
        assert_eq!(unsafe { fg_session_free(s) }, FgStatus::Ok);
    }
}
