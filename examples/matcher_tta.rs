//! Does averaging more views of each face separate people better? Test-time augmentation of
//! the shipped embedder, measured on every pair of a labelled folder (issue 18's next step
//! after mirror averaging).
//!
//! Each image is captured once (the eval pipeline: MTCNN at min face 20, central face), then
//! its chip is cut again from the same landmarks with the template scaled about the chip
//! centre (0.94, 0.97, 1.03, 1.06) or shifted (±0.03 of the chip side, x and y); every chip is
//! embedded with its mirror image. The view set was fixed before any measurement, not tuned.
//! For each view set it prints, over every pair, the threshold for FMR 1e-3, 1e-4 and 1e-5
//! (the number of impostor pairs let through, at most that share) with the false non-match
//! rate there (with counts), the rates at the shipped threshold, and the decidability d′.
//!
//! `cargo run --release --example matcher_tta -- DIR [NAMES]` — DIR/<identity>/<image>;
//! NAMES, a file of identity names, restricts it to a population (e.g.
//! `../shared/data/lfw-dev/eastasian.txt`). Evaluation data, never committed.

use std::path::{Path, PathBuf};

use facegate::align::{self, MTCNN_TEMPLATE};
use facegate::embed::Embedder;
use facegate::eval::{raw_embedding, Matcher};
use facegate::face::{FaceConfig, FacePipeline};
use facegate::frame::{DecodeLimits, Frame};
use facegate::geometry::Point;
use facegate::template::Template;
use zeroize::Zeroizing;

/// (scale, dx, dy) of the template about the chip centre, in unit chip coordinates.
const VIEWS: [(f32, f32, f32); 9] = [
    (1.0, 0.0, 0.0),
    (0.94, 0.0, 0.0),
    (0.97, 0.0, 0.0),
    (1.03, 0.0, 0.0),
    (1.06, 0.0, 0.0),
    (1.0, 0.03, 0.0),
    (1.0, -0.03, 0.0),
    (1.0, 0.0, 0.03),
    (1.0, 0.0, -0.03),
];

/// The view sets compared: a name and the views averaged (each with its mirror image).
const SETS: [(&str, &[usize]); 5] = [
    ("chip + mirror (shipped)", &[0]),
    ("+ scales 0.97, 1.03", &[0, 2, 3]),
    ("+ scales 0.94-1.06", &[0, 1, 2, 3, 4]),
    ("+ shifts ±0.03", &[0, 5, 6, 7, 8]),
    ("all nine views", &[0, 1, 2, 3, 4, 5, 6, 7, 8]),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first().map(PathBuf::from) else {
        eprintln!("usage: matcher_tta DIR [NAMES]");
        std::process::exit(2);
    };
    if !dir.is_dir() {
        println!(
            "skipped: {} is absent (evaluation data, never committed)",
            dir.display()
        );
        return Ok(());
    }
    let mut names: Vec<String> = match args.get(1) {
        Some(f) => std::fs::read_to_string(f)?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(String::from)
            .collect(),
        None => std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
    };
    names.sort();

    let pipeline = FacePipeline::with_default_models(FaceConfig::gallery(20.0))?;
    let matcher = Matcher::new(&pipeline);
    let embedder = Embedder::with_default_model()?;
    let shipped = pipeline.threshold().distance();

    // Per image: its identity and, per view, the mean of the chip's and the mirror's
    // embeddings.
    let mut ids = Vec::new();
    // Biometric data outside a template: wiped when dropped.
    let mut views: Vec<Vec<Zeroizing<Vec<f32>>>> = Vec::new();
    let mut failures = 0usize;
    for (id, name) in names.iter().enumerate() {
        for path in images(&dir.join(name))? {
            let frame = Frame::open(&path, &DecodeLimits::default())?;
            let Ok(capture) = matcher.capture(&frame) else {
                failures += 1;
                continue;
            };
            let landmarks = capture.detection.landmarks.to_array();
            let mut per_view = Vec::with_capacity(VIEWS.len());
            for &(s, dx, dy) in &VIEWS {
                let template = MTCNN_TEMPLATE
                    .map(|q| Point::new(0.5 + s * (q.x - 0.5) + dx, 0.5 + s * (q.y - 0.5) + dy));
                let chip = align::align_to_template(&frame, &landmarks, &template, 150, 0.25)?;
                let a = raw_embedding(&embedder, &chip)?;
                let b = raw_embedding(&embedder, &chip.mirrored())?;
                per_view.push(Zeroizing::new(
                    a.iter().zip(b.iter()).map(|(x, y)| 0.5 * (x + y)).collect(),
                ));
            }
            ids.push(id);
            views.push(per_view);
        }
    }
    let n = ids.len();
    println!(
        "{} identities, {n} images, {failures} failures to enrol; shipped threshold {shipped}",
        names.len()
    );

    for (label, set) in SETS {
        // The views' mean, made a template of the embedder's kind (its metric decides the
        // distance; the buffer is wiped).
        let mean: Vec<Template> = views
            .iter()
            .map(|v| {
                let mut m = vec![0.0f32; v[0].len()];
                for &k in set {
                    for (o, x) in m.iter_mut().zip(v[k].iter()) {
                        *o += x / set.len() as f32;
                    }
                }
                Template::new(&mut m, embedder.kind())
            })
            .collect::<Result<_, _>>()?;
        let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
        for i in 0..n {
            for j in i + 1..n {
                let d = mean[i].distance(&mean[j]);
                if ids[i] == ids[j] {
                    genuine.push(d);
                } else {
                    impostor.push(d);
                }
            }
        }
        genuine.sort_by(f32::total_cmp);
        impostor.sort_by(f32::total_cmp);
        let fnm = |t: f32| genuine.iter().filter(|&&d| d >= t).count();
        let mut line = format!("{label:<26}");
        for fmr in [1e-3, 1e-4, 1e-5] {
            // Accepting d < impostor[k] lets exactly the k closest impostor pairs through:
            // the largest k with k / pairs ≤ the target.
            let k = (fmr * impostor.len() as f64).floor() as usize;
            if let Some(&t) = impostor.get(k) {
                let f = fnm(t);
                line += &format!(
                    " | FMR {fmr:.0e} ({k} FM): t {t:.4}, FNMR {:.1} % ({f})",
                    pct(f, genuine.len())
                );
            }
        }
        let fm = impostor.iter().filter(|&&d| d < shipped).count();
        let f = fnm(shipped);
        line += &format!(
            " | at {shipped}: FM {fm}, FNMR {:.1} % ({f}) | d′ {:.3}",
            pct(f, genuine.len()),
            decidability(&genuine, &impostor)
        );
        println!("{line}");
    }
    println!(
        "pairs: {} genuine, {} impostor",
        n_pairs(&ids, true),
        n_pairs(&ids, false)
    );
    Ok(())
}

fn images(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

fn pct(k: usize, n: usize) -> f64 {
    100.0 * k as f64 / n.max(1) as f64
}

fn n_pairs(ids: &[usize], same: bool) -> usize {
    let mut c = 0;
    for i in 0..ids.len() {
        for j in i + 1..ids.len() {
            c += usize::from((ids[i] == ids[j]) == same);
        }
    }
    c
}

/// d′ = (mean impostor − mean genuine) / √(½(var genuine + var impostor)).
fn decidability(genuine: &[f32], impostor: &[f32]) -> f64 {
    let stats = |v: &[f32]| {
        let n = v.len().max(1) as f64;
        let m = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = v.iter().map(|&x| (f64::from(x) - m).powi(2)).sum::<f64>() / n;
        (m, var)
    };
    let ((mg, vg), (mi, vi)) = (stats(genuine), stats(impostor));
    (mi - mg) / (0.5 * (vg + vi)).sqrt()
}
