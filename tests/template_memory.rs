//! Biometric data in memory: a face template, an aligned chip and a decoded frame are
//! wiped when they are dropped, cannot be copied or serialized, and never print numbers.
//!
//! Why by inspecting memory: `#[derive(ZeroizeOnDrop)]` only says a wipe is *meant* to
//! happen; a later refactor (a field moved out of the wiped struct, a `mem::take`, a
//! derive dropped) would silently stop it. These tests look at the bytes.
//!
//! Two sound ways of looking, neither of which reads freed memory:
//! - a [`Template`] is an inline array: keep it in a `ManuallyDrop`, run its destructor in
//!   place and read the (still owned) storage;
//! - a [`Chip`] or [`Frame`] keeps its pixels on the heap: a counting global allocator
//!   checks the block is all zero at the moment it is handed back, *before* freeing it;
//! - the detector's network inputs live inside `detect`: the allocator checks every block
//!   of their sizes that the detecting thread frees during one detection.
//!
//! This is the only file of the crate with `unsafe` (the library forbids it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use facegate::align::Chip;
use facegate::detect::{Detector, DetectorConfig};
use facegate::embed::Embedder;
use facegate::frame::{DecodeLimits, Frame};
use facegate::template::{Template, Threshold};

const CHIP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/parity/obama_chip.png"
);

// ---------------------------------------------------------------------------------------
// A global allocator that can watch one heap block and report whether it was all zero
// when it was deallocated.

struct Watching;

/// Address of the watched block (0 = none).
static WATCHED: AtomicUsize = AtomicUsize::new(0);
/// 0 = not freed yet, 1 = freed all zero, 2 = freed with a non-zero byte.
static VERDICT: AtomicUsize = AtomicUsize::new(0);
/// Serialises the tests that use the watch (the test harness runs tests in parallel).
static WATCH_LOCK: Mutex<()> = Mutex::new(());

const PENDING: usize = 0;
const ZERO: usize = 1;
const NOT_ZERO: usize = 2;

/// Block sizes to check on the watching thread (0 = free slot), and what was seen.
static SIZES: [AtomicUsize; 32] = [const { AtomicUsize::new(0) }; 32];
static SIZED_ZERO: AtomicUsize = AtomicUsize::new(0);
static SIZED_NOT_ZERO: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // Const-initialised and without a destructor: reading it never allocates.
    static WATCHING_SIZES: Cell<bool> = const { Cell::new(false) };
}

unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if WATCHING_SIZES.with(Cell::get)
            && SIZES
                .iter()
                .any(|s| s.load(Ordering::SeqCst) == layout.size())
        {
            // SAFETY: as below, the block is still allocated and `layout.size()` long.
            let bytes = std::slice::from_raw_parts(ptr, layout.size());
            let counter = if bytes.iter().all(|&b| b == 0) {
                &SIZED_ZERO
            } else {
                &SIZED_NOT_ZERO
            };
            counter.fetch_add(1, Ordering::SeqCst);
        }
        let watched = WATCHED.load(Ordering::SeqCst);
        if watched != 0
            && ptr as usize == watched
            && WATCHED
                .compare_exchange(watched, 0, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            // SAFETY: the block is still allocated (we free it below) and `layout.size()`
            // bytes long; no allocation happens here.
            let bytes = std::slice::from_raw_parts(ptr, layout.size());
            let zero = bytes.iter().all(|&b| b == 0);
            VERDICT.store(if zero { ZERO } else { NOT_ZERO }, Ordering::SeqCst);
        }
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Watching = Watching;

/// Drops `value` while watching the heap block at `block`; returns whether that block
/// was all zero when freed. Panics if the block was not freed by the drop.
fn freed_zeroed<T>(value: T, block: *const u8) -> bool {
    let _guard = WATCH_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    VERDICT.store(PENDING, Ordering::SeqCst);
    WATCHED.store(block as usize, Ordering::SeqCst);
    drop(value);
    WATCHED.store(0, Ordering::SeqCst);
    match VERDICT.load(Ordering::SeqCst) {
        ZERO => true,
        NOT_ZERO => false,
        _ => panic!("the drop did not free the watched block"),
    }
}

// ---------------------------------------------------------------------------------------
// Static properties, written by hand in the manner of `static_assertions`.

fn assert_zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}

/// Fails to compile when `$t` implements `$tr`: with the trait, the call below has two
/// candidate impls and type inference is ambiguous.
macro_rules! assert_not_impl {
    ($t:ty, $tr:path) => {
        const _: fn() = || {
            trait AmbiguousIfImpl<A> {
                fn some_item() {}
            }
            impl<T: ?Sized> AmbiguousIfImpl<()> for T {}
            #[allow(dead_code)]
            struct Invalid;
            impl<T: ?Sized + $tr> AmbiguousIfImpl<Invalid> for T {}
            let _ = <$t as AmbiguousIfImpl<_>>::some_item;
        };
    };
}

// One copy only: no Clone (hence no Copy), and nothing that would store or send it.
assert_not_impl!(Template, Clone);
assert_not_impl!(Template, serde::Serialize);
assert_not_impl!(Template, serde::Deserialize<'static>);
assert_not_impl!(Chip, Clone);
assert_not_impl!(Chip, serde::Serialize);
assert_not_impl!(Frame, Clone);
assert_not_impl!(Frame, serde::Serialize);

#[test]
fn wiping_types_declare_zeroize_on_drop() {
    assert_zeroize_on_drop::<Template>();
    assert_zeroize_on_drop::<Chip>();
    // `Frame` wipes through a `Zeroizing<Vec<u8>>` field but does not carry the marker
    // trait itself; its wipe is checked on the heap below instead.
}

// ---------------------------------------------------------------------------------------

/// One planned embedder for all tests (planning costs a fraction of a second).
fn embedder() -> &'static Embedder {
    static E: std::sync::OnceLock<Embedder> = std::sync::OnceLock::new();
    E.get_or_init(|| Embedder::with_default_model().expect("load embedder"))
}

fn obama_chip() -> Chip {
    let frame = Frame::open(CHIP, &DecodeLimits::default()).expect("open obama_chip.png");
    Chip::from_frame(&frame).expect("150×150 chip")
}

/// The bytes of a value, read in place (volatile, so the reads are not elided).
fn bytes_of<T>(value: &T) -> Vec<u8> {
    let p = value as *const T as *const u8;
    (0..std::mem::size_of::<T>())
        // SAFETY: `p..p+size_of::<T>()` is the storage of a live `T`, which the caller
        // still owns (for a `ManuallyDrop` after its destructor ran in place: the storage
        // is not freed, only its contents dropped).
        .map(|i| unsafe { std::ptr::read_volatile(p.add(i)) })
        .collect()
}

#[test]
fn template_is_zero_after_drop() {
    let embedder = embedder();
    let chip = obama_chip();
    let mut t = ManuallyDrop::new(embedder.embed(&chip).expect("embed"));
    // A real embedding: usable, and its 128 floats lead the struct's storage (room for
    // MAX_DIMENSIONS, inline: no heap copy to forget).
    let th = Threshold::new(0.6).expect("threshold");
    let other = embedder.embed(&chip).expect("embed again");
    assert!(t.compare(&other, th).same_person());
    assert!(std::mem::size_of::<Template>() >= facegate::template::MAX_DIMENSIONS * 4);

    let before = bytes_of(&*t);
    let used = facegate::template::DIMENSIONS * 4;
    let nonzero = before[..used].iter().filter(|&&b| b != 0).count();
    assert!(
        nonzero > used / 2,
        "only {nonzero} non-zero bytes in a real embedding"
    );

    // SAFETY: `t` is never used again after its destructor ran (only its storage is read).
    unsafe { ManuallyDrop::drop(&mut t) };
    // The values (which lead the `repr(C)` storage) are wiped; the kind tag after them
    // (length, metric, model) is not biometric.
    let after = bytes_of(&*t)[..facegate::template::MAX_DIMENSIONS * 4].to_vec();
    assert!(
        after.iter().all(|&b| b == 0),
        "{} bytes survived the drop",
        after.iter().filter(|&&b| b != 0).count()
    );
}

#[test]
fn template_mean_is_zero_after_drop() {
    let embedder = embedder();
    let chip = obama_chip();
    let a = embedder.embed(&chip).expect("embed");
    let b = embedder.embed(&chip.mirrored()).expect("embed mirror");
    let mut m = ManuallyDrop::new(Template::mean(a, b).expect("same kind"));
    assert!(bytes_of(&*m).iter().any(|&b| b != 0));
    // SAFETY: as above.
    unsafe { ManuallyDrop::drop(&mut m) };
    assert!(bytes_of(&*m)[..facegate::template::MAX_DIMENSIONS * 4]
        .iter()
        .all(|&b| b == 0));
}

#[test]
fn the_heap_watch_detects_a_buffer_left_dirty() {
    // Control: a plain Vec is freed with its contents, and the watch must say so —
    // otherwise the checks below would prove nothing.
    let v = vec![0x5au8; 4096];
    let p = v.as_ptr();
    assert!(!freed_zeroed(v, p));
    let v = vec![0u8; 4096];
    let p = v.as_ptr();
    assert!(freed_zeroed(v, p));
}

#[test]
fn chip_pixels_are_zero_when_freed() {
    let chip = obama_chip();
    assert!(chip.rgb().iter().any(|&b| b != 0));
    let p = chip.rgb().as_ptr();
    assert!(freed_zeroed(chip, p), "chip pixels were freed unwiped");

    let mirrored = obama_chip().mirrored();
    let p = mirrored.rgb().as_ptr();
    assert!(freed_zeroed(mirrored, p), "mirrored chip freed unwiped");
}

#[test]
fn frame_pixels_are_zero_when_freed() {
    let frame = Frame::open(CHIP, &DecodeLimits::default()).expect("open");
    assert!(frame.rgb().iter().any(|&b| b != 0));
    let p = frame.rgb().as_ptr();
    assert!(freed_zeroed(frame, p), "frame pixels were freed unwiped");
}

#[test]
fn camera_frame_pixels_are_zero_when_freed() {
    use facegate::camera::{CameraImage, Orientation, PixelFormat, Rotation};
    // An NV21 frame converted, rotated and mirrored: its RGB buffer is the frame's own.
    let nv21: Vec<u8> = (0..16 * 8 * 3 / 2).map(|i| (i * 7 % 251) as u8).collect();
    let image = CameraImage::contiguous(PixelFormat::Nv21, 16, 8, &nv21, 16).expect("valid");
    let o = Orientation {
        rotation: Rotation::Cw90,
        mirror: true,
    };
    let frame = image
        .to_frame(o, &DecodeLimits::default())
        .expect("convert");
    assert!(frame.rgb().iter().any(|&b| b != 0));
    let p = frame.rgb().as_ptr();
    assert!(
        freed_zeroed(frame, p),
        "camera frame pixels were freed unwiped"
    );
}

#[test]
fn detector_inputs_are_zero_when_freed() {
    // Issue 15 item 9: the tensors fed to P-Net, R-Net and O-Net hold normalised face
    // pixels. Watch every block of their sizes freed on this thread during a detection.
    let detector = Detector::with_default_models(DetectorConfig::default()).expect("load");
    let frame = Frame::open(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/images/obama.jpg"
        ),
        &DecodeLimits::default(),
    )
    .expect("open");
    // Plans every pyramid level first, and checks there is a face: R-Net and O-Net ran.
    assert!(!detector.detect(&frame).expect("detect").is_empty());
    let mut sizes: Vec<usize> = detector
        .pyramid(frame.width(), frame.height())
        .iter()
        .map(|&(w, h)| w as usize * h as usize * 3 * 4)
        .collect();
    sizes.extend([24 * 24 * 3 * 4, 48 * 48 * 3 * 4]);
    assert!(sizes.len() <= SIZES.len());

    let _guard = WATCH_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    for (slot, &size) in SIZES.iter().zip(&sizes) {
        slot.store(size, Ordering::SeqCst);
    }
    SIZED_ZERO.store(0, Ordering::SeqCst);
    SIZED_NOT_ZERO.store(0, Ordering::SeqCst);
    WATCHING_SIZES.with(|w| w.set(true));
    let faces = detector.detect(&frame);
    WATCHING_SIZES.with(|w| w.set(false));
    for slot in &SIZES {
        slot.store(0, Ordering::SeqCst);
    }
    drop(faces);
    let (zero, dirty) = (
        SIZED_ZERO.load(Ordering::SeqCst),
        SIZED_NOT_ZERO.load(Ordering::SeqCst),
    );
    // One input per pyramid level and per R-Net/O-Net candidate, at least.
    assert!(zero >= sizes.len(), "only {zero} watched blocks were freed");
    assert_eq!(
        dirty, 0,
        "{dirty} network inputs were freed unwiped ({zero} wiped)"
    );
}

#[test]
fn debug_prints_no_number() {
    let embedder = embedder();
    let chip = obama_chip();
    let t = embedder.embed(&chip).expect("embed");
    for text in [format!("{t:?}"), format!("{t:#?}")] {
        assert!(!text.chars().any(|c| c.is_ascii_digit()), "{text}");
        assert!(text.contains("redacted"), "{text}");
    }
    // Chips and frames print their size only, never a pixel.
    let chip_text = format!("{chip:?}");
    assert_eq!(chip_text, "Chip(150×150)");
}
