//! Writes an image-level evaluation suite for `facegate liveness eval` from still photos
//! (LFW): `OUT/<label>/<sequence>/NNNN.jpg` + `challenge.txt` + `fps.txt`.
//!
//! - `static_print`: the photo on a card held still (hand shake, exposure drift, noise);
//! - `moved_print`: the card turned and tilted in perspective to follow the challenge
//!   (each frame is the photo warped by the homography of a rotated plane), with
//!   exposure drift and sensor noise;
//! - `folded_print`: the card folded 15–40° along its vertical centre line (the nose),
//!   ridge towards the camera, then turned like the moved print;
//! - `live`: links to the real recordings (if present) with the turns they contain.
//!
//! Research data: write the suite outside the repository; never commit it.
//!
//! `cargo run --release --example liveness_suite -- LFW_IMAGES OUT [N per type] [seed]`

use std::path::{Path, PathBuf};

use facegate::liveness::challenge::Step;
use facegate::liveness::simulate::SimRng;
use image::{Rgb, RgbImage};

const W: u32 = 640;
const H: u32 = 480;
const FPS: f64 = 15.0;
const F: f64 = 600.0;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(lfw), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: liveness_suite LFW_IMAGES OUT [N] [SEED]");
        std::process::exit(2);
    };
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20);
    let seed: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(4);
    let mut photos: Vec<PathBuf> = Vec::new();
    for person in std::fs::read_dir(lfw)? {
        let dir = person?.path();
        if dir.is_dir() {
            for f in std::fs::read_dir(&dir)? {
                let p = f?.path();
                if p.extension().is_some_and(|e| e == "jpg") {
                    photos.push(p);
                }
            }
        }
    }
    photos.sort();
    if photos.is_empty() {
        eprintln!("no photos under {lfw}");
        std::process::exit(2);
    }
    let mut rng = SimRng::new(seed);
    for label in ["static_print", "moved_print", "folded_print"] {
        for i in 0..n {
            let photo =
                image::open(&photos[(rng.next_u64() % photos.len() as u64) as usize])?.into_rgb8();
            let steps = [rng.step(), rng.step()];
            let dir = Path::new(out).join(label).join(format!("{i:04}"));
            std::fs::create_dir_all(&dir)?;
            std::fs::write(
                dir.join("challenge.txt"),
                steps
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            )?;
            std::fs::write(dir.join("fps.txt"), "15")?;
            let fold = if label == "folded_print" {
                rng.range(15.0, 40.0)
            } else {
                0.0
            };
            let script = if label != "static_print" {
                plan(&steps, &mut rng)
            } else {
                vec![(0.0, 0.0, 0.0), (5.0, 0.0, 0.0)]
            };
            let end = script.last().map_or(5.0, |k| k.0) + 0.6;
            let scale = rng.range(1.4, 1.9);
            let exposure = (rng.range(0.8, 1.1), rng.range(-0.15, 0.15));
            let mut k = 0;
            let mut t = 0.0;
            while t < end {
                let (yaw, pitch) = at(&script, t);
                let shake = (
                    rng.gauss() * 0.6,
                    rng.gauss() * 0.6,
                    rng.gauss() * 2.0,
                    rng.gauss() * 2.0,
                );
                let gain = exposure.0 + exposure.1 * t / end;
                let img = render(
                    &photo,
                    yaw + shake.0,
                    pitch + shake.1,
                    fold,
                    scale,
                    (shake.2, shake.3),
                    gain,
                    &mut rng,
                );
                img.save(dir.join(format!("{k:04}.jpg")))?;
                k += 1;
                t += 1.0 / FPS;
            }
        }
    }
    // Real live recordings, linked with the turns they contain.
    let real = Path::new(lfw).join("../../liveness/genuine");
    for (name, steps) in [
        ("webcam_a", "left,right"),
        ("selfie_b", "left,right,up,down"),
        ("selfie_c", "left,right,up,down"),
        ("selfie_d", "left,right,up,down"),
        ("selfie_e", "left,right,up,down"),
    ] {
        let src = real.join(name);
        if !src.is_dir() {
            continue;
        }
        let dir = Path::new(out).join("live").join(name);
        std::fs::create_dir_all(&dir)?;
        for f in std::fs::read_dir(&src)? {
            let p = f?.path();
            if let Some(fname) = p.file_name() {
                let dst = dir.join(fname);
                if !dst.exists() {
                    std::os::unix::fs::symlink(std::fs::canonicalize(&p)?, dst)?;
                }
            }
        }
        std::fs::write(dir.join("challenge.txt"), steps)?;
        std::fs::write(dir.join("fps.txt"), "15")?;
    }
    println!("wrote {n} sequences per attack type to {out}");
    Ok(())
}

/// Card keyframes (t, yaw°, pitch°) turning like a head would for each step.
fn plan(steps: &[Step], rng: &mut SimRng) -> Vec<(f64, f64, f64)> {
    let mut keys = vec![(0.0, 0.0, 0.0)];
    let mut t = rng.range(0.8, 1.4);
    for s in steps {
        let a = rng.range(25.0, 45.0);
        let (y, p) = match s {
            Step::Left => (a, 0.0),
            Step::Right => (-a, 0.0),
            Step::Up => (0.0, a),
            Step::Down => (0.0, -a),
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

/// The photo on a plane at 600 px depth, rotated by yaw/pitch about its centre, seen by a
/// pinhole camera (focal 600 px): each output pixel is mapped back onto the card by the
/// inverse of the plane's homography and sampled bilinearly.
#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename them
fn render(
    photo: &RgbImage,
    yaw: f64,
    pitch: f64,
    fold_deg: f64,
    scale: f64,
    shift: (f64, f64),
    gain: f64,
    rng: &mut SimRng,
) -> RgbImage {
    let (pw, ph) = (f64::from(photo.width()), f64::from(photo.height()));
    let (sy, cy) = yaw.to_radians().sin_cos();
    let (sp, cp) = pitch.to_radians().sin_cos();
    // Columns of R (yaw then pitch) for the card's u and v axes.
    let ru = [cy, sp * sy, -cp * sy];
    let rv = [0.0, cp, sp];
    let rz = [sy, -sp * cy, cp * cy];
    // Folded along the vertical centre line (the nose), ridge towards the camera: the half
    // on side σ has u-axis cos(α)·ru − σ·sin(α)·rz.
    let (sf, cf) = fold_deg.to_radians().sin_cos();
    let halves: Vec<(f64, [f64; 3])> = [-1.0, 1.0]
        .into_iter()
        .map(|sg: f64| (sg, std::array::from_fn(|i| cf * ru[i] - sg * sf * rz[i])))
        .collect();
    let z0 = F;
    // Frame pixel (x, y) ← card point (u, v): x = cx + F·X/Z with X = s·(u·ru + v·rv).
    // Solve for (u, v) per pixel: X/Z = (x − cx)/F =: a, Y/Z = (y − cy)/F =: b.
    let mut img = RgbImage::new(W, H);
    for y in 0..H {
        for x in 0..W {
            let a = (f64::from(x) - f64::from(W) / 2.0 - shift.0) / F;
            let b = (f64::from(y) - f64::from(H) / 2.0 - shift.1) / F;
            // s·(u·ru_x + v·rv_x) = a·(z0 − s·(u·ru_z + v·rv_z)) (card faces the camera: z towards it)
            let bg = 90.0 + 40.0 * f64::from(y) / f64::from(H);
            let mut px = [bg, bg, bg * 0.9];
            let mut best: Option<(f64, f64, f64)> = None;
            for (sg, ru) in &halves {
                let m = [
                    [scale * (ru[0] + a * ru[2]), scale * (rv[0] + a * rv[2])],
                    [scale * (ru[1] + b * ru[2]), scale * (rv[1] + b * rv[2])],
                ];
                let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
                if det.abs() <= 1e-9 {
                    continue;
                }
                let (ra, rb) = (a * z0, b * z0);
                let u = (ra * m[1][1] - rb * m[0][1]) / det;
                let v = (rb * m[0][0] - ra * m[1][0]) / det;
                if sg * u < 0.0 && fold_deg > 0.0 {
                    continue;
                }
                let pz = scale * (u * ru[2] + v * rv[2]);
                if best.map_or(true, |(_, _, z)| pz > z) {
                    best = Some((u, v, pz));
                }
            }
            if let Some((u, v, _)) = best {
                let (u, v) = (u + pw / 2.0, v + ph / 2.0);
                if u >= 0.0 && v >= 0.0 && u < pw - 1.0 && v < ph - 1.0 {
                    px = bilinear(photo, u, v).map(|c| c * gain);
                }
            }
            let noise = rng.gauss() * 3.0;
            img.put_pixel(
                x,
                y,
                Rgb(px.map(|c| (c + noise).round().clamp(0.0, 255.0) as u8)),
            );
        }
    }
    img
}

fn bilinear(img: &RgbImage, x: f64, y: f64) -> [f64; 3] {
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (fx, fy) = (x - f64::from(x0), y - f64::from(y0));
    let p = |x: u32, y: u32| img.get_pixel(x, y).0.map(f64::from);
    let (a, b, c, d) = (p(x0, y0), p(x0 + 1, y0), p(x0, y0 + 1), p(x0 + 1, y0 + 1));
    std::array::from_fn(|k| {
        (a[k] * (1.0 - fx) + b[k] * fx) * (1.0 - fy) + (c[k] * (1.0 - fx) + d[k] * fx) * fy
    })
}
