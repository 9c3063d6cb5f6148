//! Writes an image-level evaluation suite for `facegate liveness eval`:
//! `OUT/<label>/<sequence>/NNNN.jpg` + `challenge.txt` + `fps.txt` (+ `meta.txt`, what the
//! sequence was made of, for error analysis). 15 fps; printed and screen attacks are
//! rendered at 640×480, spliced real recordings keep their camera's size.
//!
//! Why generate: ISO/IEC 30107-3 figures need hundreds of attack presentations per type,
//! from identities not used for tuning, and nobody can record that many. Every
//! presentation is a perspective rendering (per-pixel inverse homography) of a real
//! photo or real recording, so the detector, the landmarks and the pose estimator see
//! real faces; only the attack instrument is simulated.
//!
//! Attack types (labels):
//! - `static_print`: an LFW photo printed (a portrait crop around the face, so no
//!   bystanders; paper margin, print contrast) and held still (hand shake, slow drift);
//! - `moved_print`: the print turned and tilted to follow the challenge;
//! - `folded_print`: the print folded 15–40° along its vertical centre line (the nose),
//!   ridge towards the camera, then turned like the moved print; the halves catch the
//!   light differently;
//! - `replay_wrong_order`: a real recording played on a phone or tablet held in front of
//!   the camera (tilted, slowly moving screen, dark bezel, letterbox, screen gamma,
//!   brightness and tint, glare, blur, sensor noise), with a 2-step challenge that the
//!   recording does *not* contain in that order (so only the order check and the
//!   planarity of the screen can catch it);
//! - `identity_swap`: two different real recordings spliced (person A until just after
//!   their first turn, then person B from the same point of their own recording), with a
//!   challenge that the spliced sequence does contain: only identity constancy and track
//!   continuity can catch it;
//! - `identity_swap_print`: the same with folded prints of two LFW people (the attacker
//!   swaps cards between the steps);
//! - `live`: links to the five real recordings with the turns they contain;
//! - `live_sim` (written under the label `live`): simulated genuine people — an LFW photo
//!   on a face-shaped 3-D surface (head ellipsoid, nose ridge, eye sockets; nose depth
//!   20–30 mm, placed on the photo's own landmarks) that turns its head to follow the
//!   challenge (40–60°, as far as the real recordings turn) with natural drift and tremor,
//!   rendered by a z-buffered mesh through the
//!   same camera model as the prints. `pose.txt` holds the true head pose per frame, for
//!   the pose-error measurement (`sim/src/bin/liveness_pose.rs`). A frontal photo on a shape
//!   is not a person (no new skin at large turns, no expression, no blinking): the figure
//!   it gives complements the five real recordings, it does not replace them.
//!
//! Rendering conditions vary per sequence so the suite is not one condition: defocus
//! blur (Gaussian σ 0–2 px for prints), lighting that changes over the sequence (gain
//! ramp and colour cast), sensor noise, JPEG quality 70–95, background, print contrast
//! and paper margin, light direction (prints are lit, screens emit).
//!
//! Identity split: `--identities A-E` keeps LFW people whose directory name starts with
//! A–E (tuning and development), `F-J` for the evaluation suite. The five real
//! recordings are the only source of moving live faces, so replay and swap suites reuse
//! them in every split (their challenge logic, not the identities, is what they test).
//!
//! Deterministic: each sequence has its own seed derived from `--seed`, the type and its
//! index, so the output is the same whatever `--threads`.
//!
//! Research data: write the suite outside the repository; never commit it.
//!
//! `cargo run --release -p facegate-sim --bin liveness_suite -- --out DIR [--n 20] [--seed 1]
//! [--identities A-E] [--types static_print,...] [--threads 2] [--lfw DIR] [--recordings DIR]`

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use crate::simulate::SimRng;
use facegate::face::{FaceConfig, FacePipeline};
use facegate::frame::Frame;
use facegate::liveness::challenge::Turn;
use facegate::liveness::pose::{self, HeadPose};
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};

const W: u32 = 640;
const H: u32 = 480;
const FPS: f64 = 15.0;
const F: f64 = 600.0;

const USAGE: &str = "usage: liveness_suite --out DIR [options]

  --out DIR          suite folder to write (outside the repository)
  --n N              sequences per attack type (default 20)
  --seed S           seed (default 1)
  --identities A-E   LFW people whose directory starts with these letters (default A-Z)
  --types LIST       comma list of static_print, moved_print, folded_print,
                     replay_wrong_order, identity_swap, identity_swap_print, live,
                     live_sim (default all)
  --threads T        rendering threads (default 2)
  --lfw DIR          LFW images (default ../shared/data/lfw-dev/images)
  --recordings DIR   real recordings (default ../shared/data/liveness/genuine)";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    StaticPrint,
    MovedPrint,
    FoldedPrint,
    ReplayWrongOrder,
    IdentitySwap,
    IdentitySwapPrint,
    Live,
    LiveSim,
}

impl Kind {
    // New kinds go at the end: the index seeds the sequences.
    const ALL: [Kind; 8] = [
        Kind::StaticPrint,
        Kind::MovedPrint,
        Kind::FoldedPrint,
        Kind::ReplayWrongOrder,
        Kind::IdentitySwap,
        Kind::IdentitySwapPrint,
        Kind::Live,
        Kind::LiveSim,
    ];

    const fn name(self) -> &'static str {
        match self {
            Kind::StaticPrint => "static_print",
            Kind::MovedPrint => "moved_print",
            Kind::FoldedPrint => "folded_print",
            Kind::ReplayWrongOrder => "replay_wrong_order",
            Kind::IdentitySwap => "identity_swap",
            Kind::IdentitySwapPrint => "identity_swap_print",
            Kind::Live => "live",
            Kind::LiveSim => "live_sim",
        }
    }

    /// The suite label the sequences are written under (`eval` counts `live` as genuine).
    const fn label(self) -> &'static str {
        match self {
            Kind::LiveSim => "live",
            k => k.name(),
        }
    }
}

/// A real recording, annotated from its pose trace
/// (`cargo run --release --example liveness_real -- --trace`; yaw/pitch relative to the
/// first frames, a turn is where its axis dominates and exceeds 15°).
struct Recording {
    name: &'static str,
    /// Every turn the recording may be read as containing, in order, including brief or
    /// borderline ones: a wrong-order challenge must not be a subsequence of this.
    order: &'static [Turn],
    /// Clear turns as (direction, first frame, frame back at frontal).
    turns: &'static [(Turn, usize, usize)],
    /// Whether a wrong-order challenge exists that the recording clearly lacks.
    replayable: bool,
}

use Turn::{Down as D, Left as L, Right as R, Up as U};

/// The five recordings (`README.md` beside them). Not mirrored: own left = nose towards
/// image right. `webcam_a` turns left and right several times and nods in between, so
/// nearly every 2-step order is in it: it is spliced but not replayed.
const RECORDINGS: [Recording; 5] = [
    Recording {
        name: "webcam_a",
        order: &[L, R, L, R, D, U, R, L, R],
        turns: &[(L, 12, 24), (R, 25, 38), (L, 38, 55), (R, 56, 70)],
        replayable: false,
    },
    Recording {
        name: "selfie_b",
        order: &[L, R, U, D],
        turns: &[(L, 16, 52), (R, 55, 85), (U, 88, 114), (D, 116, 146)],
        replayable: true,
    },
    Recording {
        name: "selfie_c",
        // Looks up again at the very end.
        order: &[L, R, U, D, U],
        turns: &[(L, 11, 46), (R, 50, 88), (U, 95, 128), (D, 131, 163)],
        replayable: true,
    },
    Recording {
        name: "selfie_d",
        order: &[L, R, U, D],
        turns: &[(L, 23, 54), (R, 57, 89), (U, 97, 134), (D, 137, 169)],
        replayable: true,
    },
    Recording {
        name: "selfie_e",
        // Turns right twice, with a brief upward glance in between.
        order: &[L, R, U, R, U, D],
        turns: &[(L, 7, 51), (R, 54, 95), (U, 104, 149), (D, 152, 180)],
        replayable: true,
    },
];

/// The turns each recording is linked with as `live`.
fn live_challenge(name: &str) -> &'static str {
    if name == "webcam_a" {
        "left,right"
    } else {
        "left,right,up,down"
    }
}

/// Whether person B's frames, scaled to cover person A's frame size and centre-cropped,
/// keep B's face inside: the four phone recordings (portrait, 360×480 and 144×176) take
/// each other, and the webcam's centre fits them; the webcam's own frame would crop a
/// portrait face, so it is never person A.
fn swap_fits(a: &str, b: &str) -> bool {
    let phone = |n: &str| matches!(n, "selfie_b" | "selfie_c" | "selfie_d" | "selfie_e");
    a != b && phone(a) && (phone(b) || b == "webcam_a")
}

pub struct Opts {
    out: PathBuf,
    n: usize,
    seed: u64,
    identities: (char, char),
    types: Vec<Kind>,
    threads: usize,
    lfw: PathBuf,
    recordings: PathBuf,
}

impl Opts {
    /// Reads the command line options (see the module docs).
    pub fn parse(args: impl Iterator<Item = String>) -> Result<Opts, String> {
        let mut o = Opts {
            out: PathBuf::new(),
            n: 20,
            seed: 1,
            identities: ('A', 'Z'),
            types: Kind::ALL.to_vec(),
            threads: 2,
            lfw: PathBuf::from("../shared/data/lfw-dev/images"),
            recordings: PathBuf::from("../shared/data/liveness/genuine"),
        };
        let mut args = args;
        while let Some(flag) = args.next() {
            if flag == "-h" || flag == "--help" {
                return Err(String::new());
            }
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let num = |v: &str| v.parse::<u64>().map_err(|e| format!("{flag} {v}: {e}"));
            match flag.as_str() {
                "--out" => o.out = PathBuf::from(value),
                "--n" => o.n = usize::try_from(num(&value)?).map_err(|e| e.to_string())?,
                "--seed" => o.seed = num(&value)?,
                "--threads" => {
                    o.threads = usize::try_from(num(&value)?)
                        .map_err(|e| e.to_string())?
                        .clamp(1, 64)
                }
                "--identities" => o.identities = parse_range(&value)?,
                "--types" => {
                    o.types = value
                        .split(',')
                        .map(|s| {
                            Kind::ALL
                                .into_iter()
                                .find(|k| k.name() == s.trim())
                                .ok_or_else(|| format!("unknown type {s:?}"))
                        })
                        .collect::<Result<_, _>>()?
                }
                "--lfw" => o.lfw = PathBuf::from(value),
                "--recordings" => o.recordings = PathBuf::from(value),
                _ => return Err(format!("unknown option {flag}")),
            }
        }
        if o.out.as_os_str().is_empty() {
            return Err("--out is required".into());
        }
        Ok(o)
    }
}

/// `A-E` or `F` → inclusive upper-case letter range.
fn parse_range(s: &str) -> Result<(char, char), String> {
    let letters: Vec<char> = s
        .split('-')
        .map(|p| {
            let mut c = p.trim().chars();
            match (c.next(), c.next()) {
                (Some(ch), None) if ch.is_ascii_alphabetic() => Ok(ch.to_ascii_uppercase()),
                _ => Err(format!(
                    "--identities {s:?}: expected a letter range such as A-E"
                )),
            }
        })
        .collect::<Result<_, _>>()?;
    match letters.as_slice() {
        [a] => Ok((*a, *a)),
        [a, b] if a <= b => Ok((*a, *b)),
        _ => Err(format!(
            "--identities {s:?}: expected a letter range such as A-E"
        )),
    }
}

/// One LFW person: name and photos.
struct Person {
    name: String,
    photos: Vec<PathBuf>,
}

struct RecordingFrames {
    spec: &'static Recording,
    frames: Vec<PathBuf>,
}

struct Ctx {
    out: PathBuf,
    people: Vec<Person>,
    recordings: Vec<RecordingFrames>,
    /// The face pipeline, to find the landmarks a simulated head is shaped around.
    faces: Option<FacePipeline>,
}

/// The `liveness_suite` command: options from `args` (without the program name), usage on
/// a bad option, exit 2 on an error.
pub fn main_with_args(args: impl Iterator<Item = String>) -> ExitCode {
    let opts = match Opts::parse(args) {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}\n");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Writes the suite the options describe.
pub fn run(opts: &Opts) -> Result<(), String> {
    let t0 = Instant::now();
    let ctx = Ctx {
        out: opts.out.clone(),
        people: load_people(&opts.lfw, opts.identities)?,
        recordings: load_recordings(&opts.recordings)?,
        faces: if opts.types.contains(&Kind::LiveSim) {
            Some(
                FacePipeline::with_default_models(FaceConfig::default())
                    .map_err(|e| format!("face models: {e}"))?,
            )
        } else {
            None
        },
    };
    let needs_people = opts.types.iter().any(|k| {
        matches!(
            k,
            Kind::StaticPrint
                | Kind::MovedPrint
                | Kind::FoldedPrint
                | Kind::IdentitySwapPrint
                | Kind::LiveSim
        )
    });
    if needs_people && ctx.people.len() < 2 {
        return Err(format!(
            "fewer than two LFW people in {}–{} under {}",
            opts.identities.0,
            opts.identities.1,
            opts.lfw.display()
        ));
    }
    let needs_recordings = opts
        .types
        .iter()
        .any(|k| matches!(k, Kind::ReplayWrongOrder | Kind::IdentitySwap));
    if needs_recordings && ctx.recordings.len() < 2 {
        return Err(format!(
            "replay and swap need the real recordings under {}",
            opts.recordings.display()
        ));
    }
    eprintln!(
        "{} LFW people in {}–{}, {} recordings",
        ctx.people.len(),
        opts.identities.0,
        opts.identities.1,
        ctx.recordings.len()
    );
    if opts.types.contains(&Kind::Live) {
        link_live(&ctx)?;
    }
    let jobs: Vec<(usize, Kind, usize)> = opts
        .types
        .iter()
        .filter(|k| **k != Kind::Live)
        .flat_map(|&k| {
            let ki = Kind::ALL.iter().position(|x| *x == k).unwrap_or(0);
            (0..opts.n).map(move |i| (ki, k, i))
        })
        .collect();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let frames_written = AtomicUsize::new(0);
    let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let counts: Mutex<Vec<(Kind, usize)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..opts.threads {
            s.spawn(|| loop {
                let j = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(ki, kind, i)) = jobs.get(j) else {
                    break;
                };
                let seed = sequence_seed(opts.seed, ki, i);
                match sequence(&ctx, kind, i, seed) {
                    Ok(nf) => {
                        frames_written.fetch_add(nf, Ordering::Relaxed);
                        if let Ok(mut c) = counts.lock() {
                            c.push((kind, nf));
                        }
                        let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                        let el = t0.elapsed().as_secs_f64();
                        let eta = el / d as f64 * (jobs.len() - d) as f64;
                        eprintln!(
                            "[{d}/{}] {}/{i:04}: {nf} frames ({el:.0} s, ETA {eta:.0} s)",
                            jobs.len(),
                            kind.name()
                        );
                    }
                    Err(e) => {
                        eprintln!("{}/{i:04}: {e}", kind.name());
                        if let Ok(mut v) = errors.lock() {
                            v.push(format!("{}/{i:04}: {e}", kind.name()));
                        }
                        next.store(jobs.len(), Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let errors = errors.into_inner().unwrap_or_default();
    if let Some(e) = errors.first() {
        return Err(format!("{} sequence(s) failed, first: {e}", errors.len()));
    }
    let counts = counts.into_inner().unwrap_or_default();
    for k in &opts.types {
        if *k == Kind::Live {
            continue;
        }
        let (seqs, frames) = counts
            .iter()
            .filter(|(c, _)| c == k)
            .fold((0, 0), |(s, f), (_, n)| (s + 1, f + n));
        println!("{:20} {seqs:4} sequences {frames:6} frames", k.name());
    }
    println!(
        "wrote {} sequences, {} frames to {} in {:.0} s",
        jobs.len(),
        frames_written.load(Ordering::Relaxed),
        opts.out.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A seed per (suite seed, type, index), independent of the thread that renders it.
fn sequence_seed(seed: u64, kind: usize, i: usize) -> u64 {
    let mix = |x: u64| SimRng::new(x).next_u64();
    mix(mix(mix(seed) ^ kind as u64) ^ i as u64)
}

fn load_people(lfw: &Path, (lo, hi): (char, char)) -> Result<Vec<Person>, String> {
    let rd = match std::fs::read_dir(lfw) {
        Ok(rd) => rd,
        Err(_) => return Ok(Vec::new()),
    };
    let mut people = Vec::new();
    for entry in rd.flatten() {
        let dir = entry.path();
        let Some(name) = dir.file_name().and_then(|s| s.to_str()).map(String::from) else {
            continue;
        };
        let first = name.chars().next().map(|c| c.to_ascii_uppercase());
        if !dir.is_dir() || !first.is_some_and(|c| (lo..=hi).contains(&c)) {
            continue;
        }
        let mut photos: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
            .collect();
        photos.sort();
        if !photos.is_empty() {
            people.push(Person { name, photos });
        }
    }
    people.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(people)
}

fn load_recordings(root: &Path) -> Result<Vec<RecordingFrames>, String> {
    let mut out = Vec::new();
    for spec in &RECORDINGS {
        let dir = root.join(spec.name);
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut frames: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
            .collect();
        frames.sort();
        let last = spec.turns.iter().map(|t| t.2).max().unwrap_or(0);
        if frames.len() <= last {
            return Err(format!(
                "{}: {} frames, the annotation expects more than {last}",
                dir.display(),
                frames.len()
            ));
        }
        out.push(RecordingFrames { spec, frames });
    }
    Ok(out)
}

/// Real recordings, linked (not copied) with the turns they contain.
fn link_live(ctx: &Ctx) -> Result<(), String> {
    for rec in &ctx.recordings {
        let dir = ctx.out.join("live").join(rec.spec.name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for p in &rec.frames {
            if let Some(fname) = p.file_name() {
                let dst = dir.join(fname);
                if dst.symlink_metadata().is_err() {
                    let src =
                        std::fs::canonicalize(p).map_err(|e| format!("{}: {e}", p.display()))?;
                    std::os::unix::fs::symlink(src, &dst)
                        .map_err(|e| format!("{}: {e}", dst.display()))?;
                }
            }
        }
        write(&dir.join("challenge.txt"), live_challenge(rec.spec.name))?;
        write(&dir.join("fps.txt"), "15")?;
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn open_rgb(p: &Path) -> Result<RgbImage, String> {
    Ok(image::open(p)
        .map_err(|e| format!("{}: {e}", p.display()))?
        .into_rgb8())
}

fn pick<'a, T>(v: &'a [T], rng: &mut SimRng) -> &'a T {
    &v[(rng.next_u64() % v.len().max(1) as u64) as usize]
}

fn turns_text(turns: &[Turn]) -> String {
    turns
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// One sequence folder being written.
struct SeqOut {
    dir: PathBuf,
    quality: u8,
    k: usize,
}

impl SeqOut {
    fn new(ctx: &Ctx, kind: Kind, i: usize, quality: u8) -> Result<SeqOut, String> {
        let dir = ctx.out.join(kind.label()).join(format!("{i:04}"));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // A rerun with fewer frames must not leave old ones behind.
        for e in std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .flatten()
        {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "jpg") {
                std::fs::remove_file(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            }
        }
        Ok(SeqOut { dir, quality, k: 0 })
    }

    fn push(&mut self, img: &RgbImage) -> Result<(), String> {
        let path = self.dir.join(format!("{:04}.jpg", self.k));
        let f = File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        JpegEncoder::new_with_quality(BufWriter::new(f), self.quality)
            .encode_image(img)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        self.k += 1;
        Ok(())
    }

    fn finish(self, steps: &[Turn], meta: &str) -> Result<usize, String> {
        write(&self.dir.join("challenge.txt"), &turns_text(steps))?;
        write(&self.dir.join("fps.txt"), "15")?;
        write(&self.dir.join("meta.txt"), meta)?;
        Ok(self.k)
    }
}

fn sequence(ctx: &Ctx, kind: Kind, i: usize, seed: u64) -> Result<usize, String> {
    let mut rng = SimRng::new(seed);
    match kind {
        Kind::StaticPrint | Kind::MovedPrint | Kind::FoldedPrint | Kind::IdentitySwapPrint => {
            print_sequence(ctx, kind, i, &mut rng)
        }
        Kind::ReplayWrongOrder => replay_sequence(ctx, i, &mut rng),
        Kind::IdentitySwap => splice_sequence(ctx, i, &mut rng),
        Kind::Live => Ok(0),
        Kind::LiveSim => head_sequence(ctx, i, &mut rng),
    }
}

// ---------------------------------------------------------------------------------------
// Camera and scene

/// What the kiosk camera does to every frame of one sequence.
struct Camera {
    /// Defocus, Gaussian σ in pixels.
    blur: f64,
    /// Exposure gain at the start and the end (lighting changes over the sequence).
    gain: (f64, f64),
    /// Per-channel colour cast at the start and the end.
    cast: ([f64; 3], [f64; 3]),
    /// Sensor noise σ (grey levels).
    noise: f64,
    quality: u8,
}

impl Camera {
    fn random(rng: &mut SimRng, blur_max: f64, noise: (f64, f64)) -> Camera {
        let mut cast = || {
            let warm = rng.range(-0.08, 0.08);
            let green = rng.range(-0.03, 0.03);
            [1.0 + warm, 1.0 + green, 1.0 - warm]
        };
        let c0 = cast();
        let c1 = cast();
        let g0 = rng.range(0.8, 1.15);
        Camera {
            blur: rng.range(0.0, blur_max),
            gain: (g0, g0 * rng.range(0.8, 1.2)),
            cast: (c0, c1),
            noise: rng.range(noise.0, noise.1),
            quality: rng.range(70.0, 95.999) as u8,
        }
    }

    fn describe(&self) -> String {
        format!(
            "camera blur_sigma={:.2} gain={:.2}->{:.2} cast=[{:.2},{:.2},{:.2}]->[{:.2},{:.2},{:.2}] noise={:.1} jpeg_quality={}",
            self.blur,
            self.gain.0,
            self.gain.1,
            self.cast.0[0],
            self.cast.0[1],
            self.cast.0[2],
            self.cast.1[0],
            self.cast.1[1],
            self.cast.1[2],
            self.noise,
            self.quality
        )
    }

    /// Blur, exposure, colour cast and noise at progress `u` ∈ [0, 1] of the sequence.
    fn develop(
        &self,
        mut buf: Vec<[f32; 3]>,
        w: u32,
        h: u32,
        u: f64,
        rng: &mut SimRng,
    ) -> RgbImage {
        gaussian_blur(&mut buf, w as usize, h as usize, self.blur);
        let g = self.gain.0 + (self.gain.1 - self.gain.0) * u;
        let m: [f32; 3] = std::array::from_fn(|k| {
            (g * (self.cast.0[k] + (self.cast.1[k] - self.cast.0[k]) * u)) as f32
        });
        let table = noise_table();
        let mask = table.len() - 1;
        let mut at = (rng.next_u64() as usize) & mask;
        let sigma = self.noise as f32;
        let mut img = RgbImage::new(w, h);
        for (px, c) in img.pixels_mut().zip(&buf) {
            let n = table[at] * sigma + 0.5;
            at = (at + 1) & mask;
            // `as u8` saturates: the clamp to 0..=255 for free.
            *px = Rgb(std::array::from_fn(|k| (c[k] * m[k] + n) as u8));
        }
        img
    }
}

/// Standard normal samples, drawn once: a frame reads them from a random offset (drawing
/// a Gaussian per pixel was most of the rendering time).
fn noise_table() -> &'static [f32] {
    static TABLE: std::sync::OnceLock<Vec<f32>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut rng = SimRng::new(0x6e_6f69_7365);
        (0..1 << 20).map(|_| rng.gauss() as f32).collect()
    })
}

/// Separable Gaussian blur, edges clamped; σ below 0.3 px is a no-op.
fn gaussian_blur(buf: &mut [[f32; 3]], w: usize, h: usize, sigma: f64) {
    if sigma < 0.3 || w == 0 || h == 0 {
        return;
    }
    let r = (3.0 * sigma).ceil() as isize;
    let mut kernel: Vec<f32> = (-r..=r)
        .map(|d| (-(d * d) as f64 / (2.0 * sigma * sigma)).exp() as f32)
        .collect();
    let sum: f32 = kernel.iter().sum();
    kernel.iter_mut().for_each(|k| *k /= sum);
    let mut tmp = vec![[0.0f32; 3]; w * h];
    let pass = |src: &[[f32; 3]], dst: &mut [[f32; 3]], horizontal: bool| {
        for y in 0..h {
            for x in 0..w {
                let mut acc = [0.0f32; 3];
                for (j, k) in kernel.iter().enumerate() {
                    let d = j as isize - r;
                    let (sx, sy) = if horizontal {
                        ((x as isize + d).clamp(0, w as isize - 1) as usize, y)
                    } else {
                        (x, (y as isize + d).clamp(0, h as isize - 1) as usize)
                    };
                    let p = src[sy * w + sx];
                    for c in 0..3 {
                        acc[c] += k * p[c];
                    }
                }
                dst[y * w + x] = acc;
            }
        }
    };
    pass(buf, &mut tmp, true);
    pass(&tmp, buf, false);
}

/// A room behind the presented object: tinted, with a vertical gradient and soft
/// low-frequency structure.
fn background(rng: &mut SimRng) -> Vec<[f32; 3]> {
    let base = rng.range(60.0, 160.0);
    let tint = [rng.range(0.85, 1.1), 1.0, rng.range(0.85, 1.1)];
    let grad = rng.range(-40.0, 40.0);
    let waves: Vec<(f64, f64, f64, f64)> = (0..3)
        .map(|_| {
            (
                rng.range(5.0, 20.0),
                rng.range(0.004, 0.02),
                rng.range(0.004, 0.02),
                rng.range(0.0, std::f64::consts::TAU),
            )
        })
        .collect();
    let mut out = Vec::with_capacity((W * H) as usize);
    for y in 0..H {
        for x in 0..W {
            let (fx, fy) = (f64::from(x), f64::from(y));
            let mut v = base + grad * fy / f64::from(H);
            for (a, kx, ky, ph) in &waves {
                v += a * (kx * fx + ky * fy + ph).sin();
            }
            out.push(std::array::from_fn(|k| (v * tint[k]) as f32));
        }
    }
    out
}

/// A flat (or folded) object in front of the camera showing `tex`.
struct Plane<'a> {
    tex: &'a Tex,
    yaw: f64,
    pitch: f64,
    roll: f64,
    /// Fold along the texture's vertical centre line, ridge towards the camera (degrees).
    fold: f64,
    /// Texture pixels → camera pixels at the reference distance.
    scale: f64,
    shift: (f64, f64),
    /// Light direction and strength for a lit object (print); `None` for a screen.
    light: Option<([f64; 3], f64)>,
}

/// The plane at depth F, rotated about its centre (yaw, pitch, then roll in its own
/// plane), seen by a pinhole camera of focal F: each output pixel is mapped back onto the
/// texture by the inverse of the plane's homography and sampled bilinearly.
fn render(p: &Plane, bg: &[[f32; 3]]) -> Vec<[f32; 3]> {
    let (tw, th) = (f64::from(p.tex.w), f64::from(p.tex.h));
    let (sy, cy) = p.yaw.to_radians().sin_cos();
    let (sp, cp) = p.pitch.to_radians().sin_cos();
    let ru0 = [cy, sp * sy, -cp * sy];
    let rv0 = [0.0, cp, sp];
    let rz = [sy, -sp * cy, cp * cy];
    let (sr, cr) = p.roll.to_radians().sin_cos();
    let ru: [f64; 3] = std::array::from_fn(|i| cr * ru0[i] + sr * rv0[i]);
    let rv: [f64; 3] = std::array::from_fn(|i| -sr * ru0[i] + cr * rv0[i]);
    // Half σ of a fold has u-axis cos(α)·ru − σ·sin(α)·rz: the ridge (u = 0) is nearest.
    let (sf, cf) = p.fold.to_radians().sin_cos();
    let halves: Vec<(f64, [f64; 3], f32)> = [-1.0f64, 1.0]
        .into_iter()
        .map(|sg| {
            let hu: [f64; 3] = std::array::from_fn(|i| cf * ru[i] - sg * sf * rz[i]);
            let n = [
                hu[1] * rv[2] - hu[2] * rv[1],
                hu[2] * rv[0] - hu[0] * rv[2],
                hu[0] * rv[1] - hu[1] * rv[0],
            ];
            let shade = p.light.map_or(1.0, |(l, k)| {
                let nl = n[0] * l[0] + n[1] * l[1] + n[2] * l[2];
                (1.0 + k * (nl - l[2])).clamp(0.5, 1.4)
            });
            (sg, hu, shade as f32)
        })
        .collect();
    let folded = p.fold > 0.0;
    let mut out = Vec::with_capacity((W * H) as usize);
    for y in 0..H {
        for x in 0..W {
            let a = (f64::from(x) - f64::from(W) / 2.0 - p.shift.0) / F;
            let b = (f64::from(y) - f64::from(H) / 2.0 - p.shift.1) / F;
            let mut best: Option<(f64, f64, f64, f32)> = None;
            for (sg, hu, shade) in &halves {
                if !folded && *sg > 0.0 {
                    continue;
                }
                // s·(u·hu + v·rv)_xy = (a, b)·(F − s·(u·hu + v·rv)_z)
                let m = [
                    [p.scale * (hu[0] + a * hu[2]), p.scale * (rv[0] + a * rv[2])],
                    [p.scale * (hu[1] + b * hu[2]), p.scale * (rv[1] + b * rv[2])],
                ];
                let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
                if det.abs() <= 1e-9 {
                    continue;
                }
                let (ra, rb) = (a * F, b * F);
                let u = (ra * m[1][1] - rb * m[0][1]) / det;
                let v = (rb * m[0][0] - ra * m[1][0]) / det;
                if folded && sg * u < 0.0 {
                    continue;
                }
                let pz = p.scale * (u * hu[2] + v * rv[2]);
                if best.map_or(true, |(_, _, z, _)| pz > z) {
                    best = Some((u, v, pz, *shade));
                }
            }
            let mut px = bg[(y * W + x) as usize];
            if let Some((u, v, _, shade)) = best {
                let (u, v) = (u + tw / 2.0, v + th / 2.0);
                if u >= 0.0 && v >= 0.0 && u < tw - 1.0 && v < th - 1.0 {
                    px = p.tex.bilinear(u, v).map(|c| c * shade);
                }
            }
            out.push(px);
        }
    }
    out
}

/// A texture as linear floats, sampled bilinearly.
struct Tex {
    w: u32,
    h: u32,
    px: Vec<[f32; 3]>,
}

impl Tex {
    fn from_fn(w: u32, h: u32, mut f: impl FnMut(u32, u32) -> [f32; 3]) -> Tex {
        let mut px = Vec::with_capacity((w * h) as usize);
        for y in 0..h {
            for x in 0..w {
                px.push(f(x, y));
            }
        }
        Tex { w, h, px }
    }

    fn from_rgb(img: &RgbImage) -> Tex {
        Tex {
            w: img.width(),
            h: img.height(),
            px: img.pixels().map(|p| p.0.map(f32::from)).collect(),
        }
    }

    /// Bilinear sample; the caller keeps 0 ≤ x < w − 1 and 0 ≤ y < h − 1.
    fn bilinear(&self, x: f64, y: f64) -> [f32; 3] {
        let (x0, y0) = (x as usize, y as usize);
        let (fx, fy) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
        let w = self.w as usize;
        let i = y0 * w + x0;
        let (a, b, c, d) = (
            self.px[i],
            self.px[i + 1],
            self.px[i + w],
            self.px[i + w + 1],
        );
        std::array::from_fn(|k| {
            (a[k] * (1.0 - fx) + b[k] * fx) * (1.0 - fy) + (c[k] * (1.0 - fx) + d[k] * fx) * fy
        })
    }
}

/// A light from the front half-space (camera coordinates) and its strength in `strength`.
fn random_light(rng: &mut SimRng, strength: (f64, f64)) -> ([f64; 3], f64) {
    let (lx, ly) = (rng.range(-0.6, 0.6), rng.range(-0.7, 0.3));
    let lz = (1.0 - lx * lx - ly * ly).max(0.1).sqrt();
    ([lx, ly, lz], rng.range(strength.0, strength.1))
}

/// Slow hand drift: a few sinusoids per axis.
struct Drift([(f64, f64, f64); 5]);

impl Drift {
    fn random(rng: &mut SimRng, amp: [f64; 5]) -> Drift {
        Drift(std::array::from_fn(|k| {
            (
                amp[k] * rng.range(0.3, 1.0),
                rng.range(0.1, 0.6),
                rng.range(0.0, std::f64::consts::TAU),
            )
        }))
    }

    /// (yaw°, pitch°, roll°, x px, y px) at time t.
    fn at(&self, t: f64) -> [f64; 5] {
        self.0
            .map(|(a, f, ph)| a * (std::f64::consts::TAU * f * t + ph).sin())
    }
}

// ---------------------------------------------------------------------------------------
// Prints

/// The photo as printed: a portrait crop around the face (LFW stills are centred on the
/// face; the edges often show other people, and an attacker prints the victim, not the
/// crowd), paper margin, reduced print contrast, paper tone.
fn print_texture(photo: &RgbImage, rng: &mut SimRng) -> Tex {
    let (pw, ph) = (f64::from(photo.width()), f64::from(photo.height()));
    let cw = (pw * rng.range(0.56, 0.8)).round();
    let ch = (cw * rng.range(1.1, 1.3)).min(ph).round();
    // The fold runs through the crop's centre line: keep it on the nose.
    let x0 = ((pw - cw) / 2.0 + rng.range(-2.0, 2.0)).clamp(0.0, pw - cw) as u32;
    let y0 = ((ph - ch) / 2.0 + rng.range(-10.0, 6.0)).clamp(0.0, ph - ch) as u32;
    let margin = (rng.uniform() * 13.0) as u32;
    let paper = rng.range(215.0, 245.0);
    let contrast = rng.range(0.8, 1.0);
    let tone = [rng.range(0.97, 1.02), 1.0, rng.range(0.92, 1.0)];
    let (cw, ch) = (cw as u32, ch as u32);
    let (w, h) = (cw + 2 * margin, ch + 2 * margin);
    Tex::from_fn(w, h, |x, y| {
        let inside = x >= margin && y >= margin && x < w - margin && y < h - margin;
        let c = if inside {
            photo
                .get_pixel(x - margin + x0, y - margin + y0)
                .0
                .map(|c| f64::from(c) * contrast + (1.0 - contrast) * 40.0)
        } else {
            [paper; 3]
        };
        std::array::from_fn(|k| (c[k] * tone[k]).clamp(0.0, 255.0) as f32)
    })
}

fn random_photo(ctx: &Ctx, rng: &mut SimRng, not: Option<usize>) -> (usize, PathBuf) {
    loop {
        let pi = (rng.next_u64() % ctx.people.len().max(1) as u64) as usize;
        if Some(pi) != not {
            return (pi, pick(&ctx.people[pi].photos, rng).clone());
        }
    }
}

fn print_sequence(ctx: &Ctx, kind: Kind, i: usize, rng: &mut SimRng) -> Result<usize, String> {
    let (pa, path_a) = random_photo(ctx, rng, None);
    let tex_a = print_texture(&open_rgb(&path_a)?, rng);
    let swap = if kind == Kind::IdentitySwapPrint {
        let (_, path_b) = random_photo(ctx, rng, Some(pa));
        Some((print_texture(&open_rgb(&path_b)?, rng), path_b))
    } else {
        None
    };
    let steps = [rng.turn(), rng.turn()];
    // Folded along the nose line: relief that moves like a face's (the hard print).
    let fold = match kind {
        Kind::FoldedPrint | Kind::IdentitySwapPrint => rng.range(15.0, 40.0),
        _ => 0.0,
    };
    let script = if kind == Kind::StaticPrint {
        vec![(0.0, 0.0, 0.0), (rng.range(4.5, 6.0), 0.0, 0.0)]
    } else {
        plan(&steps, CARD_TURN, rng)
    };
    let end = script.last().map_or(5.0, |k| k.0) + 0.6;
    // Card swapped while it is frontal between the two steps.
    let swap_t = script
        .get(4)
        .zip(script.get(5))
        .map_or(end, |(a, b)| rng.range(a.0, b.0));
    let scale = rng.range(1.3, 1.9);
    let base = (
        rng.range(-6.0, 6.0),
        rng.range(-6.0, 6.0),
        rng.range(-5.0, 5.0),
    );
    let offset = (rng.range(-50.0, 50.0), rng.range(-40.0, 30.0));
    let drift = Drift::random(rng, [1.5, 1.5, 1.0, 6.0, 6.0]);
    let light = random_light(rng, (0.4, 1.0));
    let bg = background(rng);
    let cam = Camera::random(rng, 2.0, (1.5, 4.0));
    let mut out = SeqOut::new(ctx, kind, i, cam.quality)?;
    let mut t = 0.0;
    while t < end {
        let (yaw, pitch) = at(&script, t);
        let d = drift.at(t);
        let tex = match &swap {
            Some((b, _)) if t >= swap_t => b,
            _ => &tex_a,
        };
        let plane = Plane {
            tex,
            yaw: base.0 + yaw + d[0] + rng.gauss() * 0.5,
            pitch: base.1 + pitch + d[1] + rng.gauss() * 0.5,
            roll: base.2 + d[2] + rng.gauss() * 0.3,
            fold,
            scale: scale * (1.0 + 0.01 * rng.gauss()),
            shift: (
                offset.0 + d[3] + rng.gauss() * 1.5,
                offset.1 + d[4] + rng.gauss() * 1.5,
            ),
            light: Some(light),
        };
        let buf = render(&plane, &bg);
        out.push(&cam.develop(buf, W, H, t / end, rng))?;
        t += 1.0 / FPS;
    }
    let mut meta = format!(
        "{} photo={} fold_deg={fold:.1} scale={scale:.2} {}",
        kind.name(),
        short(&path_a),
        cam.describe()
    );
    if let Some((_, b)) = &swap {
        meta += &format!(" swap_to={} at_s={swap_t:.2}", short(b));
    }
    out.finish(&steps, &(meta + "\n"))
}

/// `person/file.jpg` of a path.
fn short(p: &Path) -> String {
    let parts: Vec<&str> = p.iter().rev().take(2).filter_map(|s| s.to_str()).collect();
    parts.into_iter().rev().collect::<Vec<_>>().join("/")
}

/// How far an attacker turns a card (degrees): enough to pass the 15° reach.
const CARD_TURN: (f64, f64) = (25.0, 45.0);
/// How far a person turns the head when asked (degrees): the five real recordings read
/// 45–65° at the furthest frame (`examples/liveness_real.rs --trace`).
const HEAD_TURN: (f64, f64) = (40.0, 60.0);

/// Keyframes (t, yaw°, pitch°) turning by `turn` for each step, back to frontal between.
fn plan(steps: &[Turn], turn: (f64, f64), rng: &mut SimRng) -> Vec<(f64, f64, f64)> {
    let mut keys = vec![(0.0, 0.0, 0.0)];
    let mut t = rng.range(0.8, 1.4);
    for s in steps {
        let a = rng.range(turn.0, turn.1);
        let (y, p) = match s {
            Turn::Left => (a, 0.0),
            Turn::Right => (-a, 0.0),
            Turn::Up => (0.0, a),
            Turn::Down => (0.0, -a),
        };
        keys.push((t, 0.0, 0.0));
        t += rng.range(0.4, 0.7);
        keys.push((t, y, p));
        t += rng.range(0.3, 0.5);
        keys.push((t, y, p));
        t += rng.range(0.4, 0.7);
        keys.push((t, 0.0, 0.0));
        t += rng.range(0.4, 0.8);
    }
    keys.push((t, 0.0, 0.0));
    keys
}

fn at(keys: &[(f64, f64, f64)], t: f64) -> (f64, f64) {
    for w in keys.windows(2) {
        let (a, b) = (w[0], w[1]);
        if t <= b.0 {
            let u = if b.0 > a.0 {
                ((t - a.0) / (b.0 - a.0)).clamp(0.0, 1.0)
            } else {
                1.0
            };
            let s = u * u * (3.0 - 2.0 * u);
            return (a.1 + s * (b.1 - a.1), a.2 + s * (b.2 - a.2));
        }
    }
    keys.last().map_or((0.0, 0.0), |k| (k.1, k.2))
}

// ---------------------------------------------------------------------------------------
// Screen replay

/// Whether `needle` occurs in `hay` in order (other elements in between allowed): what a
/// fixed challenge accepts.
fn is_subsequence(needle: &[Turn], hay: &[Turn]) -> bool {
    let mut it = hay.iter();
    needle.iter().all(|n| it.any(|h| h == n))
}

/// How a screen shows a video frame: letterbox bands, bezel, black level, gamma,
/// brightness, tint and a glare band. Texture pixels are video pixels.
struct Screen {
    band: u32,
    bezel: u32,
    portrait_video: bool,
    black: f64,
    gamma: f64,
    gain: f64,
    tint: [f64; 3],
    bezel_level: f64,
    glare: (f64, f64, f64, f64),
}

impl Screen {
    fn random(vw: u32, vh: u32, rng: &mut SimRng) -> Screen {
        let portrait_video = vh >= vw;
        let long = if portrait_video { vh } else { vw };
        // Phone (tall screen: wide bands) or tablet (nearly the video's shape).
        let band = (f64::from(long) * rng.range(0.0, 0.3)) as u32;
        Screen {
            band,
            bezel: (f64::from(vw.min(vh)) * rng.range(0.03, 0.09)) as u32,
            portrait_video,
            black: rng.range(6.0, 22.0),
            gamma: rng.range(0.85, 1.2),
            gain: rng.range(0.85, 1.15),
            tint: [rng.range(0.92, 1.0), 1.0, rng.range(1.0, 1.08)],
            bezel_level: rng.range(12.0, 35.0),
            glare: (
                rng.range(0.0, 35.0),
                rng.range(0.0, std::f64::consts::PI),
                rng.range(-0.4, 0.4),
                rng.range(0.05, 0.2),
            ),
        }
    }

    fn compose(&self, frame: &RgbImage) -> Tex {
        let (vw, vh) = (frame.width(), frame.height());
        let (bx, by) = if self.portrait_video {
            (self.bezel, self.bezel + self.band)
        } else {
            (self.bezel + self.band, self.bezel)
        };
        let (w, h) = (vw + 2 * bx, vh + 2 * by);
        let (gs, gc) = self.glare.1.sin_cos();
        let diag = f64::from(w.max(h));
        let lut: [[f64; 256]; 3] = std::array::from_fn(|k| {
            std::array::from_fn(|c| {
                let lin = (c as f64 / 255.0).powf(self.gamma);
                self.black + (255.0 - self.black) * (lin * self.gain * self.tint[k]).min(1.0)
            })
        });
        Tex::from_fn(w, h, |x, y| {
            let on_glass =
                x >= self.bezel && y >= self.bezel && x < w - self.bezel && y < h - self.bezel;
            let mut c = if !on_glass {
                [self.bezel_level; 3]
            } else if x >= bx && y >= by && x < bx + vw && y < by + vh {
                let p = frame.get_pixel(x - bx, y - by).0;
                std::array::from_fn(|k| lut[k][usize::from(p[k])])
            } else {
                [self.black; 3]
            };
            if on_glass {
                // Reflection of a light on the glass.
                let s =
                    ((f64::from(x) * gc + f64::from(y) * gs) / diag - self.glare.2) / self.glare.3;
                let g = self.glare.0 * (-s * s).exp();
                c = c.map(|v| v + g);
            }
            c.map(|v| v.clamp(0.0, 255.0) as f32)
        })
    }
}

fn replay_sequence(ctx: &Ctx, i: usize, rng: &mut SimRng) -> Result<usize, String> {
    let candidates: Vec<&RecordingFrames> = ctx
        .recordings
        .iter()
        .filter(|r| r.spec.replayable)
        .collect();
    if candidates.is_empty() {
        return Err("no replayable recording".into());
    }
    let rec = *pick(&candidates, rng);
    // Every 2-step challenge the recording does not contain in that order.
    let wrong: Vec<[Turn; 2]> = Turn::ALL
        .iter()
        .flat_map(|&a| Turn::ALL.iter().map(move |&b| [a, b]))
        .filter(|s| !is_subsequence(s, rec.spec.order))
        .collect();
    let steps = *pick(&wrong, rng);
    let start = (rng.next_u64() % 5) as usize;
    let first = open_rgb(&rec.frames[start])?;
    let (vw, vh) = (first.width(), first.height());
    let screen = Screen::random(vw, vh, rng);
    // Apparent size of the video's long side in the camera image.
    let long = if vh >= vw {
        rng.range(300.0, 430.0) / f64::from(vh)
    } else {
        rng.range(380.0, 560.0) / f64::from(vw)
    };
    let base = (
        rng.range(-15.0, 15.0),
        rng.range(-15.0, 15.0),
        rng.range(-6.0, 6.0),
    );
    let offset = (rng.range(-40.0, 40.0), rng.range(-30.0, 30.0));
    let drift = Drift::random(rng, [4.0, 4.0, 2.0, 15.0, 12.0]);
    let bg = background(rng);
    let mut cam = Camera::random(rng, 1.5, (1.5, 4.5));
    // A screen is never perfectly sharp through a camera focused at arm's length.
    cam.blur = cam.blur.max(0.4);
    let mut out = SeqOut::new(ctx, Kind::ReplayWrongOrder, i, cam.quality)?;
    let n = rec.frames.len() - start;
    for (k, path) in rec.frames[start..].iter().enumerate() {
        let t = k as f64 / FPS;
        let frame = if k == 0 {
            first.clone()
        } else {
            open_rgb(path)?
        };
        let tex = screen.compose(&frame);
        let d = drift.at(t);
        let plane = Plane {
            tex: &tex,
            yaw: base.0 + d[0] + rng.gauss() * 0.3,
            pitch: base.1 + d[1] + rng.gauss() * 0.3,
            roll: base.2 + d[2] + rng.gauss() * 0.2,
            fold: 0.0,
            scale: long * (1.0 + 0.01 * rng.gauss()),
            shift: (
                offset.0 + d[3] + rng.gauss() * 1.0,
                offset.1 + d[4] + rng.gauss() * 1.0,
            ),
            light: None,
        };
        let buf = render(&plane, &bg);
        out.push(&cam.develop(buf, W, H, k as f64 / n as f64, rng))?;
    }
    let meta = format!(
        "replay_wrong_order recording={} contains={} start_frame={start} screen_scale={long:.2} tilt=({:.1},{:.1},{:.1}) band={} gamma={:.2} {}\n",
        rec.spec.name,
        turns_text(rec.spec.order),
        base.0,
        base.1,
        base.2,
        screen.band,
        screen.gamma,
        cam.describe()
    );
    out.finish(&steps, &meta)
}

// ---------------------------------------------------------------------------------------
// Spliced real recordings

/// `src` scaled to cover `w`×`h` and centre-cropped (bilinear), as linear floats.
fn cover(src: &RgbImage, w: u32, h: u32) -> Vec<[f32; 3]> {
    let tex = Tex::from_rgb(src);
    if src.width() == w && src.height() == h {
        return tex.px;
    }
    let (sw, sh) = (f64::from(src.width()), f64::from(src.height()));
    let s = (f64::from(w) / sw).max(f64::from(h) / sh);
    let (ox, oy) = ((sw * s - f64::from(w)) / 2.0, (sh * s - f64::from(h)) / 2.0);
    let mut out = Vec::with_capacity((w * h) as usize);
    for y in 0..h {
        for x in 0..w {
            let u = ((f64::from(x) + ox + 0.5) / s - 0.5).clamp(0.0, sw - 1.001);
            let v = ((f64::from(y) + oy + 0.5) / s - 0.5).clamp(0.0, sh - 1.001);
            out.push(tex.bilinear(u, v));
        }
    }
    out
}

fn splice_sequence(ctx: &Ctx, i: usize, rng: &mut SimRng) -> Result<usize, String> {
    let pairs: Vec<(&RecordingFrames, &RecordingFrames)> = ctx
        .recordings
        .iter()
        .flat_map(|a| ctx.recordings.iter().map(move |b| (a, b)))
        .filter(|(a, b)| swap_fits(a.spec.name, b.spec.name))
        .collect();
    if pairs.is_empty() {
        return Err("no pair of recordings to splice".into());
    }
    let (a, b) = *pick(&pairs, rng);
    // Cut while frontal between the first and the second turn, in both recordings.
    let gap = |r: &RecordingFrames, rng: &mut SimRng| {
        let (lo, hi) = match r.spec.turns {
            [t0, t1, ..] => (t0.2, t1.1.saturating_sub(1).max(t0.2)),
            _ => (0, 0),
        };
        lo + (rng.next_u64() % (hi - lo + 1) as u64) as usize
    };
    let cut_a = gap(a, rng);
    let cut_b = gap(b, rng);
    let start = (rng.next_u64() % 4) as usize;
    // Second step: a turn person B performs after the cut.
    let later: Vec<&(Turn, usize, usize)> = b.spec.turns.iter().filter(|t| t.1 > cut_b).collect();
    if later.is_empty() {
        return Err(format!("{}: no turn after frame {cut_b}", b.spec.name));
    }
    let second = *pick(&later, rng);
    let first_step = a.spec.turns.first().map_or(Turn::Left, |t| t.0);
    let steps = [first_step, second.0];
    let end_b = (second.2 + 8 + (rng.next_u64() % 15) as usize).min(b.frames.len() - 1);
    let first = open_rgb(&a.frames[start])?;
    let (w, h) = (first.width(), first.height());
    let cam = Camera::random(rng, 1.0, (0.5, 2.5));
    let mut out = SeqOut::new(ctx, Kind::IdentitySwap, i, cam.quality)?;
    let paths: Vec<&PathBuf> = a.frames[start..=cut_a]
        .iter()
        .chain(&b.frames[cut_b..=end_b])
        .collect();
    let n = paths.len();
    for (k, p) in paths.into_iter().enumerate() {
        let frame = if k == 0 { first.clone() } else { open_rgb(p)? };
        let buf = cover(&frame, w, h);
        out.push(&cam.develop(buf, w, h, k as f64 / n as f64, rng))?;
    }
    let meta = format!(
        "identity_swap a={} frames {start}..={cut_a} then b={} frames {cut_b}..={end_b} (cut after frame {}) size={w}x{h} {}\n",
        a.spec.name,
        b.spec.name,
        cut_a - start,
        cam.describe()
    );
    out.finish(&steps, &meta)
}

// ---------------------------------------------------------------------------------------
// Simulated live heads

/// A face-shaped surface under a photo: depth (mm, towards the camera, eye centres ≈ 0)
/// in the photo's own eye-aligned frame (x along the eye line, mm from the eye midpoint).
struct HeadShape {
    /// Half-width and depth of the horizontal profile (mm).
    half_width: f64,
    side_depth: f64,
    /// Nose ridge height over the base at the tip (mm), and the tip's position.
    nose_height: f64,
    nose: (f64, f64),
    /// Eye centres and socket depth (mm).
    eyes: [(f64, f64); 2],
    socket: f64,
    /// Heights of the brow ridge, cheekbones, lips and chin over the base (mm): in
    /// profile the glabella, lips and chin line up and the eyes sit 10–15 mm behind.
    brow: f64,
    cheek: f64,
    lips: f64,
    chin: f64,
}

impl HeadShape {
    /// Vertical profile: centre 35 mm below the eye line, 150 mm half-height (crown to
    /// neck), receding 60 mm at its ends: nearly flat over the face, as a profile is.
    const YC: f64 = 35.0;
    const HALF_HEIGHT: f64 = 150.0;
    const TOP_DEPTH: f64 = 60.0;

    /// Inside the head outline (an ellipse through the crown, the neck and the ears).
    fn inside(&self, x: f64, y: f64) -> bool {
        (x / self.half_width).powi(2) + ((y - Self::YC) / Self::HALF_HEIGHT).powi(2) < 1.0
    }

    fn base(&self, x: f64, y: f64) -> f64 {
        let qx = (x / self.half_width).powi(2).min(1.0);
        let qy = ((y - Self::YC) / Self::HALF_HEIGHT).powi(2).min(1.0);
        -self.side_depth * (1.0 - (1.0 - qx).sqrt()) - Self::TOP_DEPTH * (1.0 - (1.0 - qy).sqrt())
    }

    /// The nose: a ridge from the bridge (between the eyes, a third of the height) to
    /// the tip, narrow at the bridge, falling off within 12 mm below the tip.
    fn nose_ridge(&self, x: f64, y: f64) -> f64 {
        let (nx, ny) = self.nose;
        let ny = ny.max(10.0);
        let (h, cx, sigma) = if y <= 0.0 {
            (0.35 * (1.0 + y / 15.0).max(0.0), 0.0, 6.0)
        } else if y <= ny {
            let a = y / ny;
            (0.35 + 0.65 * a.powf(1.5), a * nx, 6.0 + 4.0 * a)
        } else {
            let a = ((y - ny) / 12.0).min(1.0);
            ((1.0 - a).powi(2), nx, 10.0)
        };
        self.nose_height * h * (-(x - cx).powi(2) / (2.0 * sigma * sigma)).exp()
    }

    /// Mean depth at the two eye centres.
    fn eyes_depth(&self) -> f64 {
        self.eyes
            .iter()
            .map(|&(x, y)| self.depth(x, y))
            .sum::<f64>()
            / 2.0
    }

    fn depth(&self, x: f64, y: f64) -> f64 {
        let sockets: f64 = self
            .eyes
            .iter()
            .map(|&(ex, ey)| {
                let d2 = (x - ex).powi(2) + (y - ey).powi(2);
                -self.socket * (-d2 / (2.0 * 11.0 * 11.0)).exp()
            })
            .sum();
        let bump = |cx: f64, cy: f64, sx: f64, sy: f64| {
            (-(x - cx).powi(2) / (2.0 * sx * sx) - (y - cy).powi(2) / (2.0 * sy * sy)).exp()
        };
        let features = self.brow * bump(0.0, -16.0, 40.0, 7.0)
            + self.cheek * (bump(-45.0, 22.0, 12.0, 12.0) + bump(45.0, 22.0, 12.0, 12.0))
            + self.lips * bump(0.0, 72.0, 20.0, 8.0)
            + self.chin * bump(0.0, 115.0, 18.0, 14.0);
        self.base(x, y) + self.nose_ridge(x, y) + sockets + features
    }
}

/// A mesh vertex: position, photo coordinates (u, v), unit normal.
type Vertex = ([f64; 3], (f64, f64), [f64; 3]);

/// A photo on a head shape, as a mesh: vertices every `STEP` photo pixels inside the
/// head outline, in photo pixels (z towards the camera), with their photo coordinates
/// and surface normals.
struct HeadMesh {
    tex: Tex,
    cols: usize,
    rows: usize,
    /// Per grid vertex; `None` outside the head.
    verts: Vec<Option<Vertex>>,
    /// The pivot of head turns (the neck, behind and below the eyes), photo pixels.
    pivot: [f64; 3],
}

impl HeadMesh {
    const STEP: f64 = 2.0;

    /// Shapes the head around the photo's landmarks (left eye, right eye, nose, mouth
    /// corners; photo pixels); with the mesh, the nose depth drawn (mm).
    fn new(photo: &RgbImage, lm: [(f64, f64); 5], rng: &mut SimRng) -> Option<(HeadMesh, f64)> {
        let (le, re, nose) = (lm[0], lm[1], lm[2]);
        let iod = ((re.0 - le.0).powi(2) + (re.1 - le.1).powi(2)).sqrt();
        if iod.is_nan() || iod <= 8.0 {
            return None;
        }
        let mm = 63.0 / iod; // mm per photo pixel
        let (c, s) = ((re.0 - le.0) / iod, (re.1 - le.1) / iod);
        let mid = ((le.0 + re.0) / 2.0, (le.1 + re.1) / 2.0);
        // Photo pixel → eye-aligned mm, and back.
        let local = |u: f64, v: f64| {
            let (dx, dy) = (u - mid.0, v - mid.1);
            ((c * dx + s * dy) * mm, (-s * dx + c * dy) * mm)
        };
        let photo_of = |x: f64, y: f64| {
            let (x, y) = (x / mm, y / mm);
            (mid.0 + c * x - s * y, mid.1 + s * x + c * y)
        };
        let nose_depth = rng.range(20.0, 30.0);
        let mut shape = HeadShape {
            half_width: rng.range(75.0, 88.0),
            side_depth: rng.range(65.0, 85.0),
            nose_height: 0.0,
            nose: local(nose.0, nose.1),
            eyes: [local(le.0, le.1), local(re.0, re.1)],
            socket: rng.range(2.0, 5.0),
            brow: rng.range(2.0, 6.0),
            cheek: rng.range(2.0, 6.0),
            lips: rng.range(2.0, 5.0),
            chin: rng.range(4.0, 10.0),
        };
        // The ridge height that puts the tip `nose_depth` in front of the eye centres.
        let eyes_z = shape.eyes_depth();
        let tip_z = shape.depth(shape.nose.0, shape.nose.1);
        shape.nose_height = (nose_depth - (tip_z - eyes_z)).max(0.0);
        let eyes_z = shape.eyes_depth();

        let (w, h) = (f64::from(photo.width()), f64::from(photo.height()));
        let cols = (w / Self::STEP) as usize;
        let rows = (h / Self::STEP) as usize;
        let z_at = |u: f64, v: f64| {
            let (x, y) = local(u, v);
            (shape.depth(x, y) - eyes_z) / mm
        };
        let mut verts = Vec::with_capacity(cols * rows);
        for r in 0..rows {
            for k in 0..cols {
                let (u, v) = (k as f64 * Self::STEP, r as f64 * Self::STEP);
                let (x, y) = local(u, v);
                if !shape.inside(x, y) || u >= w - 1.0 || v >= h - 1.0 {
                    verts.push(None);
                    continue;
                }
                let z = z_at(u, v);
                let e = 0.5;
                let zu = (z_at(u + e, v) - z_at(u - e, v)) / (2.0 * e);
                let zv = (z_at(u, v + e) - z_at(u, v - e)) / (2.0 * e);
                let n = norm3([-zu, -zv, 1.0]);
                verts.push(Some(([u - mid.0, v - mid.1, z], (u, v), n)));
            }
        }
        let p = photo_of(0.0, 50.0);
        let pivot = [p.0 - mid.0, p.1 - mid.1, -90.0 / mm];
        Some((
            HeadMesh {
                tex: Tex::from_rgb(photo),
                cols,
                rows,
                verts,
                pivot,
            },
            nose_depth,
        ))
    }
}

fn norm3(v: [f64; 3]) -> [f64; 3] {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt().max(1e-12);
    v.map(|x| x / n)
}

/// The head turned by `pose` about its pivot, scaled by `scale` (photo → camera pixels at
/// the reference distance F), shifted in the image, seen by the pinhole camera; every
/// triangle rasterised with a depth buffer (the nose hides the far cheek at a turn) and
/// lit by `light` on top of the photo's own shading.
fn render_head(
    mesh: &HeadMesh,
    pose: HeadPose,
    scale: f64,
    shift: (f64, f64),
    light: ([f64; 3], f64),
    bg: &[[f32; 3]],
) -> Vec<[f32; 3]> {
    let r = pose.rotation();
    let mul = |v: [f64; 3]| -> [f64; 3] {
        std::array::from_fn(|i| r[i][0] * v[0] + r[i][1] * v[1] + r[i][2] * v[2])
    };
    let (l, k) = light;
    // Projected vertices: (x, y, distance, u, v, shade).
    let proj: Vec<Option<[f64; 6]>> = mesh
        .verts
        .iter()
        .map(|v| {
            let (p, (u, tv), n) = (*v)?;
            let d: [f64; 3] = std::array::from_fn(|i| p[i] - mesh.pivot[i]);
            let q = mul(d);
            let q: [f64; 3] = std::array::from_fn(|i| (q[i] + mesh.pivot[i]) * scale);
            let dist = F - q[2];
            if dist < F * 0.2 {
                return None;
            }
            let x = f64::from(W) / 2.0 + shift.0 + F * q[0] / dist;
            let y = f64::from(H) / 2.0 + shift.1 + F * q[1] / dist;
            let nc = mul(n);
            let shade =
                (1.0 + k * (nc[0] * l[0] + nc[1] * l[1] + nc[2] * l[2] - l[2])).clamp(0.5, 1.4);
            Some([x, y, dist, u, tv, shade])
        })
        .collect();
    let (w, h) = (W as usize, H as usize);
    let mut zbuf = vec![f64::INFINITY; w * h];
    let mut hit = vec![[0.0f32; 3]; w * h]; // u, v, shade
    let mut tri = |a: [f64; 6], b: [f64; 6], c: [f64; 6]| {
        let area = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
        if area.abs() < 1e-9 {
            return;
        }
        let x0 = a[0].min(b[0]).min(c[0]).floor().max(0.0) as usize;
        let x1 = (a[0].max(b[0]).max(c[0]).ceil() as isize).min(w as isize - 1);
        let y0 = a[1].min(b[1]).min(c[1]).floor().max(0.0) as usize;
        let y1 = (a[1].max(b[1]).max(c[1]).ceil() as isize).min(h as isize - 1);
        if x1 < 0 || y1 < 0 {
            return;
        }
        for py in y0..=y1 as usize {
            for px in x0..=x1 as usize {
                let (fx, fy) = (px as f64 + 0.5, py as f64 + 0.5);
                let wa = ((b[0] - fx) * (c[1] - fy) - (b[1] - fy) * (c[0] - fx)) / area;
                let wb = ((c[0] - fx) * (a[1] - fy) - (c[1] - fy) * (a[0] - fx)) / area;
                let wc = 1.0 - wa - wb;
                if wa < 0.0 || wb < 0.0 || wc < 0.0 {
                    continue;
                }
                let z = wa * a[2] + wb * b[2] + wc * c[2];
                let i = py * w + px;
                if z < zbuf[i] {
                    zbuf[i] = z;
                    hit[i] = [3usize, 4, 5].map(|j| (wa * a[j] + wb * b[j] + wc * c[j]) as f32);
                }
            }
        }
    };
    let at = |r: usize, k: usize| proj[r * mesh.cols + k];
    for r in 0..mesh.rows.saturating_sub(1) {
        for k in 0..mesh.cols.saturating_sub(1) {
            if let (Some(a), Some(b), Some(c)) = (at(r, k), at(r, k + 1), at(r + 1, k)) {
                tri(a, b, c);
            }
            if let (Some(a), Some(b), Some(c)) = (at(r, k + 1), at(r + 1, k + 1), at(r + 1, k)) {
                tri(a, b, c);
            }
        }
    }
    let (tw, th) = (f64::from(mesh.tex.w), f64::from(mesh.tex.h));
    (0..w * h)
        .map(|i| {
            if zbuf[i].is_finite() {
                let [u, v, shade] = hit[i];
                let (u, v) = (f64::from(u), f64::from(v));
                if u >= 0.0 && v >= 0.0 && u < tw - 1.0 && v < th - 1.0 {
                    return mesh.tex.bilinear(u, v).map(|c| c * shade);
                }
            }
            bg[i]
        })
        .collect()
}

/// The five landmarks of the one face in a photo (photo pixels), if it is the only face
/// and near frontal (|yaw|, |pitch| ≤ 10° by the landmark pose estimate): a person asked
/// to face the camera does, while many LFW stills catch people looking aside or with a
/// bystander beside them.
fn photo_landmarks(ctx: &Ctx, photo: &RgbImage) -> Result<Option<[(f64, f64); 5]>, String> {
    let faces = ctx.faces.as_ref().ok_or("no face pipeline")?;
    let frame = Frame::from_rgb(photo.width(), photo.height(), photo.as_raw().clone())
        .map_err(|e| e.to_string())?;
    let found = faces.detect(&frame).map_err(|e| e.to_string())?;
    let [d] = found.as_slice() else {
        return Ok(None);
    };
    Ok(pose::estimate(&d.landmarks)
        .ok()
        .filter(|p| p.yaw.abs() <= 10.0 && p.pitch.abs() <= 10.0)
        .map(|_| crate::geom::wide(&d.landmarks).map(|p| (p.x, p.y))))
}

fn head_sequence(ctx: &Ctx, i: usize, rng: &mut SimRng) -> Result<usize, String> {
    // A photo with a detectable face (a few LFW stills have none the detector finds).
    let (path, mesh, nose_depth) = {
        let mut tries = 0;
        loop {
            let (_, path) = random_photo(ctx, rng, None);
            let photo = open_rgb(&path)?;
            if let Some(lm) = photo_landmarks(ctx, &photo)? {
                if let Some((mesh, nd)) = HeadMesh::new(&photo, lm, rng) {
                    break (path, mesh, nd);
                }
            }
            tries += 1;
            if tries > 200 {
                return Err("no photo with a detectable face".into());
            }
        }
    };
    let steps = [rng.turn(), rng.turn()];
    let script = plan(&steps, HEAD_TURN, rng);
    let end = script.last().map_or(5.0, |k| k.0) + 0.6;
    let scale = rng.range(1.3, 1.9);
    let base_roll = rng.range(-4.0, 4.0);
    let offset = (rng.range(-50.0, 50.0), rng.range(-40.0, 30.0));
    // A person does not hold still: slow sway, and a faster tremor below.
    let drift = Drift::random(rng, [2.5, 2.5, 2.0, 8.0, 6.0]);
    let light = random_light(rng, (0.2, 0.5));
    let bg = background(rng);
    let cam = Camera::random(rng, 2.0, (1.5, 4.0));
    let mut out = SeqOut::new(ctx, Kind::LiveSim, i, cam.quality)?;
    let mut truth = String::from("# frame yaw pitch roll (degrees, facegate's pose convention)\n");
    let mut t = 0.0;
    let mut k = 0;
    while t < end {
        let (yaw, pitch) = at(&script, t);
        let d = drift.at(t);
        let pose = HeadPose::new(
            yaw + d[0] + rng.gauss() * 0.3,
            pitch + d[1] + rng.gauss() * 0.3,
            base_roll + d[2] + rng.gauss() * 0.2,
        );
        let buf = render_head(
            &mesh,
            pose,
            scale * (1.0 + 0.005 * rng.gauss()),
            (
                offset.0 + d[3] + rng.gauss() * 0.8,
                offset.1 + d[4] + rng.gauss() * 0.8,
            ),
            light,
            &bg,
        );
        out.push(&cam.develop(buf, W, H, t / end, rng))?;
        truth += &format!(
            "{k:04} {:.3} {:.3} {:.3}\n",
            pose.yaw, pose.pitch, pose.roll
        );
        k += 1;
        t += 1.0 / FPS;
    }
    write(&out.dir.join("pose.txt"), &truth)?;
    let meta = format!(
        "live_sim photo={} nose_depth_mm={nose_depth:.1} scale={scale:.2} {}\n",
        short(&path),
        cam.describe()
    );
    out.finish(&steps, &meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsequence_is_order_with_gaps() {
        assert!(is_subsequence(&[L, D], &[L, R, U, D]));
        assert!(!is_subsequence(&[R, L], &[L, R, U, D]));
        assert!(!is_subsequence(&[L, L], &[L, R, U, D]));
    }

    #[test]
    fn annotations_agree_and_leave_wrong_orders() {
        for r in &RECORDINGS {
            // The clear turns are in the conservative order, in sequence and in time.
            let turns: Vec<Turn> = r.turns.iter().map(|t| t.0).collect();
            assert!(is_subsequence(&turns, r.order), "{}", r.name);
            assert!(r.turns.windows(2).all(|w| w[0].2 <= w[1].1), "{}", r.name);
            assert!(r.turns.iter().all(|t| t.1 < t.2), "{}", r.name);
            let wrong = Turn::ALL
                .iter()
                .flat_map(|&a| Turn::ALL.iter().map(move |&b| [a, b]))
                .filter(|s| !is_subsequence(s, r.order))
                .count();
            assert!(!r.replayable || wrong >= 4, "{}: {wrong}", r.name);
        }
    }

    #[test]
    fn identity_ranges_parse() {
        assert_eq!(parse_range("A-E"), Ok(('A', 'E')));
        assert_eq!(parse_range("f-j"), Ok(('F', 'J')));
        assert_eq!(parse_range("K"), Ok(('K', 'K')));
        assert!(parse_range("E-A").is_err());
        assert!(parse_range("AB-C").is_err());
        assert!(parse_range("1-3").is_err());
    }

    #[test]
    fn swaps_are_between_two_people_and_person_a_is_a_phone() {
        assert!(swap_fits("selfie_b", "selfie_c"));
        assert!(swap_fits("selfie_e", "webcam_a"));
        assert!(!swap_fits("selfie_b", "selfie_b"));
        assert!(!swap_fits("webcam_a", "selfie_b"));
    }

    #[test]
    fn sequence_seeds_differ_by_suite_type_and_index() {
        let a = sequence_seed(1, 0, 3);
        assert_eq!(a, sequence_seed(1, 0, 3));
        assert_ne!(a, sequence_seed(2, 0, 0));
        assert_ne!(a, sequence_seed(1, 1, 3));
        assert_ne!(a, sequence_seed(1, 0, 2));
    }

    #[test]
    fn blur_keeps_flat_fields_and_spreads_a_point() {
        let (w, h) = (9, 9);
        let mut flat = vec![[100.0f32; 3]; w * h];
        gaussian_blur(&mut flat, w, h, 1.5);
        assert!(flat.iter().all(|p| (p[0] - 100.0).abs() < 1e-3));
        let mut dot = vec![[0.0f32; 3]; w * h];
        dot[4 * w + 4] = [90.0; 3];
        gaussian_blur(&mut dot, w, h, 1.0);
        let total: f32 = dot.iter().map(|p| p[0]).sum();
        assert!((total - 90.0).abs() < 1e-2 && dot[4 * w + 4][0] < 30.0);
    }
}
