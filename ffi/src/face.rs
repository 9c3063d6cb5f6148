//! The face: the planned pipeline, camera frames, consent, the challenge and the batch face
//! verifier; and the measuring door that compares two photos without consent or liveness.
//!
//! Why two doors, as in Rust: at a kiosk a face is processed only with the person's separate
//! consent and compared only after liveness — `fg_face_verify` takes a consent handle and a
//! capture that passed a random challenge. Comparing two photos (an operator's tool, a
//! benchmark) is `fg_eval_verify_images`, prefixed `fg_eval_` so a reviewer who greps for it
//! finds every consent-less comparison, and returning a comparison that the flow does not
//! accept as an outcome.

use std::ffi::c_char;
use std::sync::Arc;

use facegate::camera::{
    CameraError, CameraImage, Orientation, PixelFormat, Plane, Rotation, YuvRange,
};
use facegate::consent::{BiometricConsent, FaceConsent, GuardianConsent};
use facegate::detect::DetectError;
use facegate::embed::EmbedError;
use facegate::eval::Matcher;
use facegate::face::{
    CaptureError, FaceConfig, FaceError, FaceEvidence, FacePipeline, FaceVerifier, FaceVerifyError,
    LiveCapture, Reference,
};
use facegate::frame::{DecodeLimits, Frame, FrameError};
use facegate::liveness::challenge::{Challenge, Mode, Turn};
use facegate::model::{ModelError, OnnxModel};
use facegate::verifier::{Family, Verifier};

use crate::{
    arg_bytes, arg_str, enum_arg, fail, free_handle, guard, handle, handle_mut, need, new_handle,
    put, reason_text, static_text, FgDate, FgOutcome, FgStatus, Res,
};

/// The planned face networks (detector and embedder), loaded once at start-up.
///
/// Thread safety: **shareable.** Any number of threads may call functions taking a
/// `const FgPipeline *` at the same time. Free it only when no call is using it.
///
/// A session (`fg_session_start`) holds its own share of the pipeline: freeing the
/// pipeline handle while sessions are still running is safe, and the networks are released
/// when the last session is freed.
pub struct FgPipeline {
    pub(crate) inner: Arc<FacePipeline>,
}

// The pipeline handle is documented as shareable between threads: hold the library to it.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<FacePipeline>();
};

/// The frames of one live capture, in order, with their capture times.
///
/// Thread safety: one thread at a time (it may move between threads). The pixels are wiped
/// when it is freed.
pub struct FgCapture {
    frames: Vec<Frame>,
    times: Vec<f64>,
}

/// Most frames one capture holds (about 4 s at 30 frames a second; 640×480 frames take
/// 0.9 MB each, so a full capture at that size is about 110 MB).
pub const FG_MAX_CAPTURE_FRAMES: usize = 120;

/// The person's separate consent to face recognition (and a guardian's, for a minor).
///
/// Thread safety: one person's session; do not share it between sessions.
pub struct FgConsent {
    person: BiometricConsent,
    guardian: Option<GuardianConsent>,
}

impl FgConsent {
    /// The consent as the face verifier takes it.
    pub(crate) fn face(&self) -> FaceConsent<'_> {
        match &self.guardian {
            Some(g) => FaceConsent::with_guardian(&self.person, g),
            None => FaceConsent::adult(&self.person),
        }
    }
}

/// A random liveness challenge (the head movements the person is asked to make).
///
/// Thread safety: immutable; may be read from several threads.
pub struct FgChallenge {
    inner: Challenge,
}

/// Paths and expected SHA-256 digests (64 hex digits) of the four model files: MTCNN's
/// P-, R- and O-Net, and dlib's face ResNet as ONNX (see `models/` in the source tree).
#[repr(C)]
pub struct FgModelFiles {
    /// P-Net ONNX file.
    pub pnet_path: *const c_char,
    /// Its SHA-256.
    pub pnet_sha256: *const c_char,
    /// R-Net ONNX file.
    pub rnet_path: *const c_char,
    /// Its SHA-256.
    pub rnet_sha256: *const c_char,
    /// O-Net ONNX file.
    pub onet_path: *const c_char,
    /// Its SHA-256.
    pub onet_sha256: *const c_char,
    /// dlib face ResNet ONNX file.
    pub embedder_path: *const c_char,
    /// Its SHA-256.
    pub embedder_sha256: *const c_char,
}

/// Layout of a raw camera frame.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FgPixelFormat {
    /// 3 bytes a pixel: R, G, B.
    Rgb = 0,
    /// 3 bytes a pixel: B, G, R.
    Bgr = 1,
    /// 4 bytes a pixel: R, G, B, A (ignored).
    Rgba = 2,
    /// 4 bytes a pixel: B, G, R, A (ignored).
    Bgra = 3,
    /// 1 byte a pixel: luma.
    Gray = 4,
    /// 4:2:0, Y plane then interleaved U, V.
    Nv12 = 5,
    /// 4:2:0, Y plane then interleaved V, U (Android's camera default).
    Nv21 = 6,
    /// 4:2:0, Y, U and V planes.
    I420 = 7,
}

/// A raw camera frame as the camera delivered it. Planes in the order of the format's name
/// (1 for packed formats, 2 for NV12/NV21, 3 for I420); unused entries are ignored.
#[repr(C)]
pub struct FgCameraImage {
    /// An `FgPixelFormat` value.
    pub format: u32,
    /// Width in pixels (1..=4096).
    pub width: u32,
    /// Height in pixels (1..=4096).
    pub height: u32,
    /// Number of planes given (must match the format).
    pub plane_count: u32,
    /// Each plane's first byte.
    pub planes: [*const u8; 3],
    /// Each plane's length in bytes: the true size of the buffer (a length that does not fit
    /// the width, height and stride is refused; a buffer shorter than its stated length cannot
    /// be detected by any C interface).
    pub plane_lengths: [usize; 3],
    /// Each plane's row stride in bytes (at least a row).
    pub strides: [usize; 3],
    /// Clockwise rotation that makes the image upright: 0, 90, 180 or 270.
    pub rotation_degrees: u32,
    /// Nonzero: mirror left–right after rotating (undo a front camera's selfie mirror).
    pub mirror: u32,
    /// Nonzero: YUV is full range (JPEG); zero: limited range (BT.601 video, the default).
    pub full_range: u32,
}

/// A head movement of the challenge.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FgDirection {
    /// Turn to the person's own left.
    Left = 0,
    /// Turn to the person's own right.
    Right = 1,
    /// Look up.
    Up = 2,
    /// Look down.
    Down = 3,
}

impl From<Turn> for FgDirection {
    fn from(turn: Turn) -> FgDirection {
        match turn {
            Turn::Left => FgDirection::Left,
            Turn::Right => FgDirection::Right,
            Turn::Up => FgDirection::Up,
            Turn::Down => FgDirection::Down,
        }
    }
}

/// The result of comparing two photos through the measuring door.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct FgComparison {
    /// Nonzero when both photos gave a face and were compared.
    pub compared: u32,
    /// Nonzero when the distance is within the threshold.
    pub same_person: u32,
    /// Distance between the two faces in the model's metric (-1 when not compared).
    pub distance: f32,
    /// The decision threshold.
    pub threshold: f32,
    /// NULL when the same person; `"face.mismatch"`; or, when not compared, the quality
    /// reason code of the first photo without a usable face (static string).
    pub reason: *const c_char,
}

fn model_fail(e: &ModelError) -> crate::Fail {
    match e {
        ModelError::Checksum { .. } => fail(FgStatus::ModelDigest, e.to_string()),
        ModelError::BadDigest(_) => fail(
            FgStatus::InvalidArgument,
            "a model digest is not 64 hexadecimal digits",
        ),
        _ => fail(FgStatus::ModelUnusable, e.to_string()),
    }
}

pub(crate) fn face_fail(e: &FaceError) -> crate::Fail {
    match e {
        FaceError::Detect(DetectError::Model(m)) | FaceError::Embed(EmbedError::Model(m)) => {
            model_fail(m)
        }
        _ => fail(FgStatus::FaceFailed, e.to_string()),
    }
}

fn frame_fail(e: &FrameError, what: &str) -> crate::Fail {
    let status = match e {
        FrameError::TooLarge { .. } | FrameError::ZeroSize | FrameError::BufferSize { .. } => {
            FgStatus::BadDimensions
        }
        _ => FgStatus::BadImage,
    };
    fail(status, format!("{what}: {e}"))
}

fn camera_fail(e: &CameraError) -> crate::Fail {
    match e {
        CameraError::Rotation(_) => fail(
            FgStatus::InvalidArgument,
            "rotation must be 0, 90, 180 or 270 degrees",
        ),
        _ => fail(FgStatus::BadDimensions, format!("camera frame: {e}")),
    }
}

pub(crate) fn decode(bytes: &[u8], what: &str) -> Res<Frame> {
    Frame::decode(bytes, &DecodeLimits::default()).map_err(|e| frame_fail(&e, what))
}

/// Loads the face models embedded in the library (checked against their SHA-256) and plans
/// them with the default configuration (MTCNN, dlib ResNet, threshold 0.35, mirror average).
/// Takes about a second; do it once at start-up.
///
/// # Safety
/// `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_pipeline_new(out: *mut *mut FgPipeline) -> FgStatus {
    guard(|| {
        need(out, "out")?;
        let inner = Arc::new(
            FacePipeline::with_default_models(FaceConfig::default()).map_err(|e| face_fail(&e))?,
        );
        // SAFETY: `out` is writable by the caller's contract.
        unsafe { new_handle(out, FgPipeline { inner }) }
    })
}

/// Loads the four model files named in `files`, each refused with
/// `FG_STATUS_MODEL_DIGEST` unless its SHA-256 is the one given, and plans them.
///
/// # Safety
/// `files` points to a readable `FgModelFiles` whose strings are NUL-terminated (or NULL,
/// which is refused); `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_pipeline_new_from_files(
    files: *const FgModelFiles,
    out: *mut *mut FgPipeline,
) -> FgStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: NULL or a readable FgModelFiles by the caller's contract.
        let f = unsafe { handle(files, "files")? };
        let load = |path: *const c_char, sha: *const c_char, what: &str| -> Res<OnnxModel> {
            // SAFETY: each string is NULL (refused) or NUL-terminated, by the contract.
            let (path, sha) = unsafe { (arg_str(path, what)?, arg_str(sha, what)?) };
            OnnxModel::from_file(path, sha).map_err(|e| model_fail(&e))
        };
        let pnet = load(f.pnet_path, f.pnet_sha256, "P-Net model")?;
        let rnet = load(f.rnet_path, f.rnet_sha256, "R-Net model")?;
        let onet = load(f.onet_path, f.onet_sha256, "O-Net model")?;
        let embed = load(f.embedder_path, f.embedder_sha256, "embedder model")?;
        let config = FaceConfig::default();
        let detector = facegate::detect::Detector::new(&pnet, &rnet, &onet, config.detector)
            .map_err(|e| face_fail(&e.into()))?;
        let embedder =
            facegate::embed::Embedder::new(&embed, facegate::embed::EmbedderSpec::DLIB_RESNET)
                .map_err(|e| face_fail(&e.into()))?;
        let inner = Arc::new(FacePipeline::new(detector, embedder, config));
        // SAFETY: `out` is writable by the caller's contract.
        unsafe { new_handle(out, FgPipeline { inner }) }
    })
}

/// Frees a pipeline; NULL is accepted.
///
/// # Safety
/// `pipeline` is NULL or a live pipeline no other call is using.
#[no_mangle]
pub unsafe extern "C" fn fg_pipeline_free(pipeline: *mut FgPipeline) -> FgStatus {
    // SAFETY: forwarded contract.
    unsafe { free_handle(pipeline) }
}

/// The measuring door: are the faces in two encoded photos (JPEG/PNG/BMP/PNM bytes in
/// memory) the same person? **Not a kiosk decision** — no consent, no liveness; a kiosk uses
/// `fg_face_verify`. A photo without a usable face is not an error: `compared` is 0 and
/// `reason` says why. Garbage bytes are `FG_STATUS_BAD_IMAGE`.
///
/// # Safety
/// `pipeline` is a live pipeline; `a`/`b` point to `a_len`/`b_len` readable bytes; `out` is
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fg_eval_verify_images(
    pipeline: *const FgPipeline,
    a: *const u8,
    a_len: usize,
    b: *const u8,
    b_len: usize,
    out: *mut FgComparison,
) -> FgStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: the caller's contract for each pointer, as documented above.
        let (p, a, b) = unsafe {
            (
                handle(pipeline, "pipeline")?,
                arg_bytes(a, a_len, "image a")?,
                arg_bytes(b, b_len, "image b")?,
            )
        };
        let result = compare_images(&p.inner, a, b)?;
        // SAFETY: `out` is non-NULL (checked) and writable by the contract.
        unsafe { put(out, result, "out") }
    })
}

/// Decodes, captures and compares two photos (the body of `fg_eval_verify_images`).
fn compare_images(p: &FacePipeline, a: &[u8], b: &[u8]) -> Res<FgComparison> {
    let m = Matcher::new(p);
    let threshold = p.threshold().distance();
    let refused = |r: facegate::Reason| FgComparison {
        compared: 0,
        same_person: 0,
        distance: -1.0,
        threshold,
        reason: reason_text(r),
    };
    let mut templates = Vec::with_capacity(2);
    for (bytes, what) in [(a, "image a"), (b, "image b")] {
        let frame = decode(bytes, what)?;
        match m.capture(&frame) {
            Ok(c) => templates.push(c.template),
            Err(CaptureError::Quality(r)) => return Ok(refused(r)),
            Err(CaptureError::Fault(e)) => return Err(face_fail(&e)),
        }
    }
    let c = m.compare(&templates[0], &templates[1]);
    Ok(FgComparison {
        compared: 1,
        same_person: u32::from(c.same_person()),
        distance: c.distance(),
        threshold: c.threshold().distance(),
        reason: if c.same_person() {
            std::ptr::null()
        } else {
            reason_text(facegate::face::reasons::MISMATCH)
        },
    })
}

/// An empty live capture.
///
/// # Safety
/// `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_capture_new(out: *mut *mut FgCapture) -> FgStatus {
    guard(|| {
        let c = FgCapture {
            frames: Vec::new(),
            times: Vec::new(),
        };
        // SAFETY: `out` is writable by the caller's contract.
        unsafe { new_handle(out, c) }
    })
}

impl FgCapture {
    fn push(&mut self, frame: Frame, time: f64) -> Res {
        if self.frames.len() >= FG_MAX_CAPTURE_FRAMES {
            return Err(fail(
                FgStatus::InvalidArgument,
                format!("a capture holds at most {FG_MAX_CAPTURE_FRAMES} frames"),
            ));
        }
        if !time.is_finite() || self.times.last().is_some_and(|t| time <= *t) {
            return Err(fail(
                FgStatus::InvalidArgument,
                "frame times must be finite and strictly increasing",
            ));
        }
        self.frames.push(frame);
        self.times.push(time);
        Ok(())
    }
}

/// Adds an encoded image (JPEG/PNG/BMP/PNM bytes) taken at `time_seconds` (strictly
/// increasing) to the capture.
///
/// # Safety
/// `capture` is a live capture used by this thread alone; `bytes` points to `len` readable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn fg_capture_push_image(
    capture: *mut FgCapture,
    bytes: *const u8,
    len: usize,
    time_seconds: f64,
) -> FgStatus {
    guard(|| {
        // SAFETY: the caller's contract for each pointer.
        let (c, bytes) = unsafe {
            (
                handle_mut(capture, "capture")?,
                arg_bytes(bytes, len, "image")?,
            )
        };
        let frame = decode(bytes, "image")?;
        c.push(frame, time_seconds)
    })
}

/// A raw camera frame converted to an upright RGB frame (the body of
/// `fg_capture_push_camera`, shared with the session).
///
/// # Safety
/// The first `plane_count` planes of `img` point to their `plane_lengths` readable bytes.
pub(crate) unsafe fn camera_frame(img: &FgCameraImage) -> Res<Frame> {
    let format = enum_arg(
        img.format,
        &[
            (0, PixelFormat::Rgb),
            (1, PixelFormat::Bgr),
            (2, PixelFormat::Rgba),
            (3, PixelFormat::Bgra),
            (4, PixelFormat::Gray),
            (5, PixelFormat::Nv12),
            (6, PixelFormat::Nv21),
            (7, PixelFormat::I420),
        ],
        "pixel format",
    )?;
    let count = img.plane_count as usize;
    if count == 0 || count > 3 {
        return Err(fail(
            FgStatus::BadDimensions,
            "plane_count must be 1, 2 or 3",
        ));
    }
    let mut planes = Vec::with_capacity(count);
    for i in 0..count {
        // SAFETY: by the contract, plane i points to plane_lengths[i] readable bytes.
        let data = unsafe { arg_bytes(img.planes[i], img.plane_lengths[i], "camera plane")? };
        planes.push(Plane {
            data,
            stride: img.strides[i],
        });
    }
    let range = if img.full_range != 0 {
        YuvRange::Full
    } else {
        YuvRange::Limited
    };
    let camera = CameraImage::new(format, img.width, img.height, &planes)
        .map_err(|e| camera_fail(&e))?
        .with_range(range);
    let orientation = Orientation {
        rotation: Rotation::from_degrees(img.rotation_degrees).map_err(|e| camera_fail(&e))?,
        mirror: img.mirror != 0,
    };
    camera
        .to_frame(orientation, &DecodeLimits::default())
        .map_err(|e| camera_fail(&e))
}

/// Adds a raw camera frame taken at `time_seconds` (strictly increasing): converted to an
/// upright RGB frame in one pass. Every impossible layout (0×0, 100000×100000, a stride
/// shorter than a row, plane lengths that do not fit) is `FG_STATUS_BAD_DIMENSIONS` and
/// nothing is allocated for it.
///
/// # Safety
/// `capture` is a live capture used by this thread alone; `image` points to a readable
/// `FgCameraImage` whose first `plane_count` planes point to their `plane_lengths` bytes.
#[no_mangle]
pub unsafe extern "C" fn fg_capture_push_camera(
    capture: *mut FgCapture,
    image: *const FgCameraImage,
    time_seconds: f64,
) -> FgStatus {
    guard(|| {
        // SAFETY: the caller's contract for each pointer.
        let (c, img) = unsafe { (handle_mut(capture, "capture")?, handle(image, "image")?) };
        // SAFETY: the caller's contract for the planes.
        let frame = unsafe { camera_frame(img)? };
        c.push(frame, time_seconds)
    })
}

/// Frees a capture, wiping its pixels; NULL is accepted.
///
/// # Safety
/// `capture` is NULL or a live capture no other call is using.
#[no_mangle]
pub unsafe extern "C" fn fg_capture_free(capture: *mut FgCapture) -> FgStatus {
    // SAFETY: forwarded contract.
    unsafe { free_handle(capture) }
}

/// The person has just given separate consent to face recognition, after being shown the
/// face notice (a dedicated button, never a pre-ticked box). The name says who consented,
/// so a reviewer finds every place consent is asserted.
///
/// # Safety
/// `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_consent_given_by_person(out: *mut *mut FgConsent) -> FgStatus {
    guard(|| {
        let c = FgConsent {
            person: BiometricConsent::given_by_person(),
            guardian: None,
        };
        // SAFETY: `out` is writable by the caller's contract.
        unsafe { new_handle(out, c) }
    })
}

/// A parent or guardian of a person under 14 has just given separate consent too.
///
/// # Safety
/// `consent` is a live consent used by this thread alone.
#[no_mangle]
pub unsafe extern "C" fn fg_consent_add_given_by_guardian(consent: *mut FgConsent) -> FgStatus {
    guard(|| {
        // SAFETY: the caller's contract.
        let c = unsafe { handle_mut(consent, "consent")? };
        c.guardian = Some(GuardianConsent::given_by_guardian());
        Ok(())
    })
}

/// Frees (withdraws) a consent; NULL is accepted.
///
/// # Safety
/// `consent` is NULL or a live consent no other call is using.
#[no_mangle]
pub unsafe extern "C" fn fg_consent_free(consent: *mut FgConsent) -> FgStatus {
    // SAFETY: forwarded contract.
    unsafe { free_handle(consent) }
}

/// Draws a challenge of `steps` movements (1..=8; 2 is the default) with the system's
/// secure random generator. `mirrored`: nonzero when the camera delivers mirrored frames.
///
/// # Safety
/// `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_challenge_random(
    steps: u32,
    mirrored: u32,
    out: *mut *mut FgChallenge,
) -> FgStatus {
    guard(|| {
        need(out, "out")?;
        let inner = Challenge::random(steps as usize, mirrored != 0)
            .map_err(|e| fail(FgStatus::InvalidArgument, e.to_string()))?;
        // SAFETY: `out` is writable by the caller's contract.
        unsafe { new_handle(out, FgChallenge { inner }) }
    })
}

/// The challenge's step `index` (from 0): its direction and the sentence the kiosk shows
/// (static English text). Past the last step: `FG_STATUS_OUT_OF_RANGE`. Either output may
/// be NULL.
///
/// # Safety
/// `challenge` is a live challenge; `direction` and `prompt` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fg_challenge_step(
    challenge: *const FgChallenge,
    index: usize,
    direction: *mut FgDirection,
    prompt: *mut *const c_char,
) -> FgStatus {
    guard(|| {
        // SAFETY: the caller's contract.
        let c = unsafe { handle(challenge, "challenge")? };
        let step = *c.inner.turns().get(index).ok_or_else(|| {
            fail(
                FgStatus::OutOfRange,
                "the challenge has no step at this index",
            )
        })?;
        let dir = FgDirection::from(step);
        if !direction.is_null() {
            // SAFETY: non-NULL and writable by the contract.
            unsafe { put(direction, dir, "direction")? };
        }
        if !prompt.is_null() {
            // SAFETY: non-NULL and writable by the contract.
            unsafe { put(prompt, static_text(step.prompt()), "prompt")? };
        }
        Ok(())
    })
}

/// Frees a challenge; NULL is accepted.
///
/// # Safety
/// `challenge` is NULL or a live challenge no other call is using.
#[no_mangle]
pub unsafe extern "C" fn fg_challenge_free(challenge: *mut FgChallenge) -> FgStatus {
    // SAFETY: forwarded contract.
    unsafe { free_handle(challenge) }
}

/// Face with liveness, at the kiosk: consent first (with `birth_date` from the person's ID
/// document when one was read, else NULL, the under-14 rule), then liveness over the whole
/// `capture` against `challenge` (prompts timed, as at a live kiosk), then the frame that
/// passed liveness — and no other — is compared with the face in `reference_photo` (encoded
/// bytes, typically the portrait read from the ID document's chip). The answer is an
/// outcome for `fg_flow_record`: accepted, or rejected/retry with a reason code such as
/// `consent.guardian_required`, a `liveness.*` code or `face.mismatch`.
///
/// # Safety
/// `pipeline`, `consent`, `capture` and `challenge` are live handles (`capture` not in use by
/// another thread); `birth_date` is NULL or readable; `reference_photo` points to
/// `reference_len` readable bytes; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_face_verify(
    pipeline: *const FgPipeline,
    consent: *const FgConsent,
    birth_date: *const FgDate,
    today: FgDate,
    reference_photo: *const u8,
    reference_len: usize,
    capture: *const FgCapture,
    challenge: *const FgChallenge,
    out: *mut FgOutcome,
) -> FgStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: the caller's contract for each pointer, as documented above.
        let (p, consent, capture, challenge, photo) = unsafe {
            (
                handle(pipeline, "pipeline")?,
                handle(consent, "consent")?,
                handle(capture, "capture")?,
                handle(challenge, "challenge")?,
                arg_bytes(reference_photo, reference_len, "reference photo")?,
            )
        };
        // SAFETY: NULL or readable by the contract.
        let birth_date = match unsafe { birth_date.as_ref() } {
            Some(d) => Some(d.to_date("birth_date")?),
            None => None,
        };
        let today = today.to_date("today")?;
        if capture.frames.is_empty() {
            return Err(fail(
                FgStatus::InvalidArgument,
                "the capture holds no frames",
            ));
        }
        let photo = decode(photo, "reference photo")?;
        let face_consent = consent.face();
        let mut verifier = FaceVerifier::new(&p.inner, Default::default());
        let outcome = verifier
            .verify(FaceEvidence {
                consent: &face_consent,
                birth_date,
                today,
                reference: Reference::Photo(&photo),
                live: LiveCapture {
                    frames: &capture.frames,
                    times: &capture.times,
                    challenge: &challenge.inner,
                    mode: Mode::Interactive,
                },
            })
            .map_err(|e| match e {
                FaceVerifyError::Face(f) => face_fail(&f),
                other => fail(FgStatus::InvalidArgument, other.to_string()),
            })?;
        // SAFETY: `out` is non-NULL (checked) and writable by the contract.
        unsafe { put(out, FgOutcome::new(Family::Face, outcome), "out") }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_absurd_frames_are_statuses() {
        let mut cap: *mut FgCapture = std::ptr::null_mut();
        // SAFETY: valid out-pointer; the handle is freed below.
        assert_eq!(unsafe { fg_capture_new(&mut cap) }, FgStatus::Ok);
        let junk = [1u8, 2, 3, 4, 5];
        // SAFETY: live handle, junk readable for its length.
        let s = unsafe { fg_capture_push_image(cap, junk.as_ptr(), junk.len(), 0.0) };
        assert_eq!(s, FgStatus::BadImage);
        let big = FgCameraImage {
            format: 0,
            width: 100_000,
            height: 100_000,
            plane_count: 1,
            planes: [junk.as_ptr(), std::ptr::null(), std::ptr::null()],
            plane_lengths: [junk.len(), 0, 0],
            strides: [300_000, 0, 0],
            rotation_degrees: 0,
            mirror: 0,
            full_range: 0,
        };
        // SAFETY: live handle; plane 0 readable for its length.
        let s = unsafe { fg_capture_push_camera(cap, &big, 0.0) };
        assert_eq!(s, FgStatus::BadDimensions);
        // SAFETY: freed once.
        assert_eq!(unsafe { fg_capture_free(cap) }, FgStatus::Ok);
    }
}
