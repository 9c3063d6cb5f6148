//! Can a transform of dlib's embedding, or a normalisation of its scores, separate East Asian
//! faces better? Issue 18's "next best step" when no licence-clean model exists, measured
//! on identities held out from the fit.
//!
//! Each image is embedded once, as shipped (MTCNN at min face 20, central face, chip and
//! mirror averaged). The identities are split by the first letter of the name (A–E, F–J);
//! everything is fitted on one half and judged on the other, both ways:
//! - `shipped`: euclidean distance, as facegate compares templates;
//! - `cosine`: one minus the cosine similarity;
//! - `wccn λ`: euclidean distance after whitening by the within-identity covariance of the
//!   fitting half (regularised by λ · its mean variance), i.e. a Mahalanobis distance;
//! - `s-norm K`: symmetric score normalisation against a cohort, the mean embeddings of the
//!   fitting half's identities (less the face's own): a distance is z-scored by each side's
//!   K nearest cohort distances, and the two are averaged.
//!
//! For each judged half and population (all, East Asian) it prints the FNMR at FMR 1e-3 and
//! 1e-4, the thresholds read on the judged pairs themselves (separability, not a held-out
//! threshold), and then the threshold rule of docs/MATCHER.md — the largest score with FMR
//! ≤ 1e-4 on the East Asian pairs — applied on the fitting half and judged on the other.
//! The variants and their parameters were fixed before this tool's first run.
//!
//! `cargo run --release --example matcher_norm -- DIR NAMES` — DIR/<identity>/<image>;
//! NAMES, the East Asian identities (`../shared/data/lfw-dev/eastasian.txt`). Evaluation
//! data, never committed; embeddings stay in memory.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use facegate::align::{self, MTCNN_TEMPLATE};
use facegate::embed::Embedder;
use facegate::eval::gallery::Gallery;
use facegate::eval::{raw_embedding, Matcher};
use facegate::face::{FaceConfig, FacePipeline};
use facegate::frame::{DecodeLimits, Frame};
use zeroize::Zeroizing;

const DIM: usize = 128;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(names)) = (args.first(), args.get(1)) else {
        eprintln!("usage: matcher_norm DIR NAMES");
        std::process::exit(2);
    };
    let dir = PathBuf::from(dir);
    if !dir.is_dir() {
        println!(
            "skipped: {} is absent (evaluation data, never committed)",
            dir.display()
        );
        return Ok(());
    }
    let east_asian: HashSet<String> = std::fs::read_to_string(names)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    let gallery = Gallery::scan(&dir)?;
    let identities = gallery.identities();

    let pipeline = FacePipeline::with_default_models(FaceConfig::gallery(20.0))?;
    let matcher = Matcher::new(&pipeline);
    let embedder = Embedder::with_default_model()?;

    // Biometric data outside a template: wiped when dropped.
    let mut faces: Vec<Face> = Vec::new();
    let mut failures = 0usize;
    for (path, id) in gallery.images() {
        let name = &identities[*id as usize];
        let frame = Frame::open(path, &DecodeLimits::default())?;
        let Ok(capture) = matcher.capture(&frame) else {
            failures += 1;
            continue;
        };
        let landmarks = capture.detection.landmarks.to_array();
        let chip = align::align_to_template(&frame, &landmarks, &MTCNN_TEMPLATE, 150, 0.25)?;
        let a = raw_embedding(&embedder, &chip)?;
        let b = raw_embedding(&embedder, &chip.mirrored())?;
        faces.push(Face {
            id: *id as usize,
            east_asian: east_asian.contains(name),
            first_half: name
                .chars()
                .next()
                .is_some_and(|c| ('A'..='E').contains(&c.to_ascii_uppercase())),
            x: Zeroizing::new(a.iter().zip(b.iter()).map(|(p, q)| 0.5 * (p + q)).collect()),
        });
    }
    println!(
        "{} identities, {} images, {failures} failures to enrol",
        identities.len(),
        faces.len()
    );

    for (fit_first, fit_name, judge_name) in [(true, "A-E", "F-J"), (false, "F-J", "A-E")] {
        let fit: Vec<&Face> = faces.iter().filter(|f| f.first_half == fit_first).collect();
        let judged: Vec<&Face> = faces.iter().filter(|f| f.first_half != fit_first).collect();
        println!("\n== fitted on {fit_name}, judged on {judge_name}");
        for variant in variants() {
            // The fitting half's own scores pick the threshold (its cohort leaves out each
            // face's own identity); nothing of the judged half is used before it is judged.
            let fitted = Fitted::new(&variant, &fit);
            let chosen = rule(&Pairs::score(&variant, &fit, &fitted).impostor_ea);
            let pairs = Pairs::score(&variant, &judged, &fitted);
            println!("{}", pairs.report(&variant.label(), chosen));
        }
    }
    Ok(())
}

struct Face {
    id: usize,
    east_asian: bool,
    first_half: bool,
    x: Zeroizing<Vec<f32>>,
}

enum Variant {
    Shipped,
    Cosine,
    Wccn(f64),
    SNorm(usize),
}

impl Variant {
    fn label(&self) -> String {
        match self {
            Variant::Shipped => "shipped (euclidean)".into(),
            Variant::Cosine => "cosine".into(),
            Variant::Wccn(l) => format!("wccn λ {l}"),
            Variant::SNorm(k) => format!("s-norm K {k}"),
        }
    }
}

fn variants() -> Vec<Variant> {
    vec![
        Variant::Shipped,
        Variant::Cosine,
        Variant::Wccn(0.1),
        Variant::Wccn(1.0),
        Variant::SNorm(50),
        Variant::SNorm(200),
        Variant::SNorm(800),
    ]
}

/// Every pair's score (lower = more alike) of one half, by kind.
struct Pairs {
    genuine: Vec<f32>,
    impostor: Vec<f32>,
    genuine_ea: Vec<f32>,
    impostor_ea: Vec<f32>,
}

impl Pairs {
    /// Scores every pair of `faces` with what the variant was fitted to.
    fn score(variant: &Variant, faces: &[&Face], fitted: &Fitted) -> Pairs {
        let n = faces.len();
        let xs: Vec<Vec<f64>> = match (variant, &fitted.whitening) {
            (Variant::Wccn(_), Some(w)) => faces.iter().map(|f| w.apply(&f.x)).collect(),
            (Variant::Cosine, _) => faces
                .iter()
                .map(|f| {
                    let norm =
                        f.x.iter()
                            .map(|&v| f64::from(v).powi(2))
                            .sum::<f64>()
                            .sqrt();
                    f.x.iter().map(|&v| f64::from(v) / norm).collect()
                })
                .collect(),
            _ => faces
                .iter()
                .map(|f| f.x.iter().map(|&v| f64::from(v)).collect())
                .collect(),
        };
        // Cohort statistics per face: mean and spread of its K nearest cohort distances.
        let stats: Option<Vec<(f64, f64)>> = match variant {
            Variant::SNorm(k) => {
                let cohort = &fitted.cohort;
                Some(
                    xs.iter()
                        .zip(faces)
                        .map(|(x, f)| {
                            let mut d: Vec<f64> = cohort
                                .iter()
                                .filter(|(id, _)| *id != f.id)
                                .map(|(_, c)| euclid(x, c))
                                .collect();
                            d.sort_by(f64::total_cmp);
                            let near = &d[..(*k).min(d.len())];
                            let m = near.iter().sum::<f64>() / near.len() as f64;
                            let v = near.iter().map(|v| (v - m).powi(2)).sum::<f64>()
                                / near.len() as f64;
                            (m, v.sqrt().max(1e-9))
                        })
                        .collect(),
                )
            }
            _ => None,
        };
        let mut p = Pairs {
            genuine: Vec::new(),
            impostor: Vec::new(),
            genuine_ea: Vec::new(),
            impostor_ea: Vec::new(),
        };
        for i in 0..n {
            for j in i + 1..n {
                let d = euclid(&xs[i], &xs[j]);
                let s = match (&stats, variant) {
                    (Some(st), _) => 0.5 * ((d - st[i].0) / st[i].1 + (d - st[j].0) / st[j].1),
                    (None, Variant::Cosine) => 0.5 * d * d, // 1 − cos for unit vectors
                    _ => d,
                } as f32;
                let same = faces[i].id == faces[j].id;
                let ea = faces[i].east_asian && faces[j].east_asian;
                match (same, ea) {
                    (true, true) => {
                        p.genuine.push(s);
                        p.genuine_ea.push(s);
                    }
                    (true, false) => p.genuine.push(s),
                    (false, true) => {
                        p.impostor.push(s);
                        p.impostor_ea.push(s);
                    }
                    (false, false) => p.impostor.push(s),
                }
            }
        }
        for v in [
            &mut p.genuine,
            &mut p.impostor,
            &mut p.genuine_ea,
            &mut p.impostor_ea,
        ] {
            v.sort_by(f32::total_cmp);
        }
        p
    }

    fn report(&self, label: &str, chosen: f32) -> String {
        let mut line = format!("{label:<20}");
        for (pop, g, im) in [
            ("all", &self.genuine, &self.impostor),
            ("EA", &self.genuine_ea, &self.impostor_ea),
        ] {
            line += &format!(" | {pop} {}g/{}i", g.len(), im.len());
            for fmr in [1e-3, 1e-4] {
                let t = rule_at(im, fmr);
                let f = g.iter().filter(|&&s| s >= t).count();
                line += &format!(
                    " FNMR@{fmr:.0e} {:.1} % ({f})",
                    100.0 * f as f64 / g.len().max(1) as f64
                );
            }
        }
        let fm = |im: &[f32]| im.iter().filter(|&&s| s < chosen).count();
        let fnm = |g: &[f32]| g.iter().filter(|&&s| s >= chosen).count();
        line += &format!(
            " || rule from the other half ({chosen:.4}): all FM {} of {}, FNMR {:.1} % ({}); EA FM {} of {}, FNMR {:.1} % ({})",
            fm(&self.impostor),
            self.impostor.len(),
            100.0 * fnm(&self.genuine) as f64 / self.genuine.len().max(1) as f64,
            fnm(&self.genuine),
            fm(&self.impostor_ea),
            self.impostor_ea.len(),
            100.0 * fnm(&self.genuine_ea) as f64 / self.genuine_ea.len().max(1) as f64,
            fnm(&self.genuine_ea),
        );
        line
    }
}

/// The threshold that lets exactly the k = ⌊fmr · n⌋ lowest impostor scores through (a
/// score is accepted below it); `impostor` is sorted.
fn rule_at(impostor: &[f32], fmr: f64) -> f32 {
    let k = (fmr * impostor.len() as f64).floor() as usize;
    impostor.get(k).copied().unwrap_or(f32::INFINITY)
}

/// docs/MATCHER.md's rule: FMR ≤ 1e-4 on the East Asian impostor pairs.
fn rule(impostor_ea: &[f32]) -> f32 {
    rule_at(impostor_ea, 1e-4)
}

fn euclid(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// What a variant is fitted to on the fitting half, once per split: the whitening (WCCN)
/// and the identity means (the s-norm cohort).
struct Fitted {
    whitening: Option<Whitening>,
    cohort: Vec<(usize, Vec<f64>)>,
}

impl Fitted {
    fn new(variant: &Variant, fit: &[&Face]) -> Fitted {
        Fitted {
            whitening: match variant {
                Variant::Wccn(lambda) => Some(Whitening::fit(fit, *lambda)),
                _ => None,
            },
            cohort: match variant {
                Variant::SNorm(_) => identity_means(fit),
                _ => Vec::new(),
            },
        }
    }
}

/// Per identity among `faces`: the sum of its embeddings and how many there are.
fn identity_sums(faces: &[&Face]) -> BTreeMap<usize, (Vec<f64>, usize)> {
    let mut sums: BTreeMap<usize, (Vec<f64>, usize)> = BTreeMap::new();
    for f in faces {
        let e = sums.entry(f.id).or_insert_with(|| (vec![0.0; DIM], 0));
        for (s, &v) in e.0.iter_mut().zip(f.x.iter()) {
            *s += f64::from(v);
        }
        e.1 += 1;
    }
    sums
}

/// The mean embedding of each identity among `faces`, with the identity.
fn identity_means(faces: &[&Face]) -> Vec<(usize, Vec<f64>)> {
    identity_sums(faces)
        .into_iter()
        .map(|(id, (s, n))| (id, s.into_iter().map(|v| v / n as f64).collect()))
        .collect()
}

/// Whitening by the within-identity covariance: z = L⁻¹ (x − μ) with L Lᵀ = S_w + λ·tr(S_w)/d·I
/// (Cholesky), so that ‖z₁ − z₂‖ is the Mahalanobis distance under the regularised S_w.
struct Whitening {
    mean: Vec<f64>,
    l: Vec<f64>,
}

impl Whitening {
    fn fit(faces: &[&Face], lambda: f64) -> Whitening {
        let n = faces.len().max(1) as f64;
        let mut mean = vec![0.0; DIM];
        for f in faces {
            for (m, &v) in mean.iter_mut().zip(f.x.iter()) {
                *m += f64::from(v) / n;
            }
        }
        let means = identity_sums(faces);
        // Within-identity scatter over identities with two images or more.
        let mut s = vec![0.0; DIM * DIM];
        let mut count = 0.0f64;
        for f in faces {
            let (sum, k) = &means[&f.id];
            if *k < 2 {
                continue;
            }
            let d: Vec<f64> =
                f.x.iter()
                    .zip(sum)
                    .map(|(&v, s)| f64::from(v) - s / *k as f64)
                    .collect();
            for i in 0..DIM {
                for j in 0..=i {
                    s[i * DIM + j] += d[i] * d[j];
                }
            }
            count += 1.0;
        }
        let trace: f64 = (0..DIM).map(|i| s[i * DIM + i]).sum::<f64>() / count.max(1.0);
        for i in 0..DIM {
            for j in 0..=i {
                s[i * DIM + j] /= count.max(1.0);
            }
            s[i * DIM + i] += lambda * trace / DIM as f64;
        }
        // Cholesky of the lower triangle.
        let mut l = vec![0.0; DIM * DIM];
        for i in 0..DIM {
            for j in 0..=i {
                let dot: f64 = (0..j).map(|k| l[i * DIM + k] * l[j * DIM + k]).sum();
                let v = s[i * DIM + j] - dot;
                l[i * DIM + j] = if i == j {
                    v.max(1e-12).sqrt()
                } else {
                    v / l[j * DIM + j]
                };
            }
        }
        Whitening { mean, l }
    }

    fn apply(&self, x: &[f32]) -> Vec<f64> {
        // Forward substitution: L z = x − μ.
        let mut z = vec![0.0; DIM];
        for i in 0..DIM {
            let dot: f64 = (0..i).map(|k| self.l[i * DIM + k] * z[k]).sum();
            z[i] = (f64::from(x[i]) - self.mean[i] - dot) / self.l[i * DIM + i];
        }
        z
    }
}
