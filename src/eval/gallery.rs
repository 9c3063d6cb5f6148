//! All-pairs evaluation of a labelled gallery: every image embedded once, every pair scored,
//! every population reported.
//!
//! Why: a false-match rate read from 3,000 pairs cannot say whether it is 1e-3 or 1e-4, and an
//! average over everybody hides the population a matcher confuses most. At a parcel locker a
//! false match hands a stranger somebody else's parcel, so the threshold must be set on the
//! *worst* population, from as many pairs as there are. A vendor runs this on its own cameras
//! and its own people (`facegate eval gallery`) before trusting a threshold.
//!
//! How: the gallery is `DIR/<identity>/<image>`. Pairs are never stored: each is counted into
//! fixed-width distance histograms, one genuine and one impostor per population, so memory is
//! bounded whatever the pair count (87 M pairs for all of LFW), and into exact counters at the
//! thresholds asked for. Operating points read from the histogram are exact at its bin edges
//! ([`DistanceHistogram::WIDTH`]); rates at an asked threshold are exact.
//!
//! A pair belongs to a population when both of its images do: an impostor pair of one East
//! Asian and one other person counts for "all" only.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Errors reading a gallery or a subset list.
#[derive(Debug, thiserror::Error)]
pub enum GalleryError {
    /// A directory or file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The gallery holds no image in an identity folder.
    #[error("{0} holds no images in identity folders (expected DIR/<identity>/<image>)")]
    Empty(PathBuf),
    /// More images than the evaluation handles.
    #[error("the gallery holds more than {limit} images")]
    TooManyImages {
        /// The limit.
        limit: usize,
    },
    /// A subset list names no identity of the gallery.
    #[error("subset {name}: none of its {listed} names is an identity folder of the gallery")]
    SubsetUnknown {
        /// The subset's name.
        name: String,
        /// How many names it lists.
        listed: usize,
    },
    /// No threshold to report at.
    #[error("at least one threshold is needed")]
    NoThreshold,
    /// Too many populations for one pass.
    #[error("at most {limit} populations (all, each subset and its complement)")]
    TooManyPopulations {
        /// The limit.
        limit: usize,
    },
}

/// Image file endings read from a gallery (the formats [`crate::frame::Frame`] decodes).
const IMAGE_ENDINGS: [&str; 7] = ["jpg", "jpeg", "png", "bmp", "pgm", "ppm", "pnm"];

/// A gallery's images and who is on each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gallery {
    identities: Vec<String>,
    images: Vec<(PathBuf, u32)>,
}

impl Gallery {
    /// The most images one evaluation takes (all of LFW is 13,233; pairs grow with the square).
    pub const MAX_IMAGES: usize = 200_000;

    /// Lists `dir/<identity>/<image>`, sorted by identity and file name. Hidden entries and
    /// files that are not images are skipped; an identity folder without images is not an
    /// identity.
    pub fn scan(dir: &Path) -> Result<Gallery, GalleryError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| GalleryError::Io { path, source }
        };
        let mut folders: Vec<(String, PathBuf)> = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') && entry.path().is_dir() {
                folders.push((name, entry.path()));
            }
        }
        folders.sort();
        let mut gallery = Gallery {
            identities: Vec::new(),
            images: Vec::new(),
        };
        for (name, path) in folders {
            let mut files: Vec<PathBuf> = Vec::new();
            for entry in std::fs::read_dir(&path).map_err(io(&path))? {
                let p = entry.map_err(io(&path))?.path();
                let is_image = p
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| IMAGE_ENDINGS.contains(&e.to_ascii_lowercase().as_str()));
                let hidden = p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'));
                if is_image && !hidden && p.is_file() {
                    files.push(p);
                }
            }
            if files.is_empty() {
                continue;
            }
            files.sort();
            if gallery.images.len() + files.len() > Self::MAX_IMAGES {
                return Err(GalleryError::TooManyImages {
                    limit: Self::MAX_IMAGES,
                });
            }
            let id = gallery.identities.len() as u32;
            gallery.identities.push(name);
            gallery.images.extend(files.into_iter().map(|f| (f, id)));
        }
        if gallery.images.is_empty() {
            return Err(GalleryError::Empty(dir.to_path_buf()));
        }
        Ok(gallery)
    }

    /// Identity names, indexed by identity number.
    pub fn identities(&self) -> &[String] {
        &self.identities
    }

    /// Image paths with their identity number.
    pub fn images(&self) -> &[(PathBuf, u32)] {
        &self.images
    }
}

/// A named group of identities (a demographic subset, or everybody).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Population {
    name: String,
    member: Vec<bool>,
}

impl Population {
    /// Everybody in the gallery.
    pub fn all(gallery: &Gallery) -> Population {
        Population {
            name: "all".into(),
            member: vec![true; gallery.identities.len()],
        }
    }

    /// The identities listed in `text` (one name a line; blank lines and `#` comments
    /// skipped). Returns the population and how many listed names are not in the gallery.
    pub fn from_list(
        name: &str,
        text: &str,
        gallery: &Gallery,
    ) -> Result<(Population, usize), GalleryError> {
        let listed: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let index: HashMap<&str, usize> = gallery
            .identities
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let mut member = vec![false; gallery.identities.len()];
        let mut missing = 0;
        for l in &listed {
            match index.get(l) {
                Some(&i) => member[i] = true,
                None => missing += 1,
            }
        }
        if !member.iter().any(|&m| m) {
            return Err(GalleryError::SubsetUnknown {
                name: name.into(),
                listed: listed.len(),
            });
        }
        Ok((
            Population {
                name: name.into(),
                member,
            },
            missing,
        ))
    }

    /// Everybody in the gallery who is not in `self`, named `not <name>`.
    pub fn complement(&self) -> Population {
        Population {
            name: format!("not {}", self.name),
            member: self.member.iter().map(|m| !m).collect(),
        }
    }

    /// The population's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether identity `id` belongs to it.
    pub fn contains(&self, id: u32) -> bool {
        self.member.get(id as usize).copied().unwrap_or(false)
    }
}

/// Genuine and impostor pair counts by distance, in bins of [`Self::WIDTH`].
///
/// Bin `k` holds the distances in `((k-1)·WIDTH, k·WIDTH]` (bin 0 the distance 0), so "at
/// or below the edge `k·WIDTH`" is the sum of bins `0..=k`; the last bin also holds every
/// larger distance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistanceHistogram {
    genuine: Vec<u64>,
    impostor: Vec<u64>,
}

/// Error and pair counts at one threshold.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Rates {
    /// The threshold: `distance <= threshold` is declared the same person.
    pub threshold: f32,
    /// Impostor pairs declared the same person.
    pub false_matches: u64,
    /// Impostor pairs.
    pub impostor_pairs: u64,
    /// Genuine pairs declared different people.
    pub false_non_matches: u64,
    /// Genuine pairs.
    pub genuine_pairs: u64,
}

impl Rates {
    /// False-match rate (NaN without impostor pairs).
    pub fn fmr(&self) -> f64 {
        self.false_matches as f64 / self.impostor_pairs as f64
    }

    /// False non-match rate (NaN without genuine pairs).
    pub fn fnmr(&self) -> f64 {
        self.false_non_matches as f64 / self.genuine_pairs as f64
    }
}

impl Default for DistanceHistogram {
    fn default() -> Self {
        DistanceHistogram {
            genuine: vec![0; Self::BINS],
            impostor: vec![0; Self::BINS],
        }
    }
}

impl DistanceHistogram {
    /// Bin width: the resolution of thresholds read from the histogram.
    pub const WIDTH: f32 = 1e-4;
    /// Bins, covering distances up to 4 (euclidean distances of unit-scale embeddings, and
    /// every cosine distance, which is at most 2).
    pub const BINS: usize = 40_001;

    fn bin(distance: f32) -> usize {
        if distance.is_nan() {
            return Self::BINS - 1; // never a match
        }
        let k = (distance.max(0.0) / Self::WIDTH).ceil();
        if k >= (Self::BINS - 1) as f32 {
            Self::BINS - 1
        } else {
            k as usize
        }
    }

    /// Counts one pair.
    pub fn add(&mut self, distance: f32, same: bool) {
        let k = Self::bin(distance);
        if same {
            self.genuine[k] += 1;
        } else {
            self.impostor[k] += 1;
        }
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &DistanceHistogram) {
        for (a, b) in self.genuine.iter_mut().zip(&other.genuine) {
            *a += b;
        }
        for (a, b) in self.impostor.iter_mut().zip(&other.impostor) {
            *a += b;
        }
    }

    /// Genuine pairs counted.
    pub fn genuine_pairs(&self) -> u64 {
        self.genuine.iter().sum()
    }

    /// Impostor pairs counted.
    pub fn impostor_pairs(&self) -> u64 {
        self.impostor.iter().sum()
    }

    /// Rates at the bin edge `k·WIDTH`.
    fn at_edge(&self, k: usize, genuine: u64, impostor: u64) -> Rates {
        let fm: u64 = self.impostor[..=k].iter().sum();
        let gm: u64 = self.genuine[..=k].iter().sum();
        Rates {
            threshold: k as f32 * Self::WIDTH,
            false_matches: fm,
            impostor_pairs: impostor,
            false_non_matches: genuine - gm,
            genuine_pairs: genuine,
        }
    }

    /// The highest threshold (a bin edge) whose false-match rate is at most `fmr`, with its
    /// rates; `None` without impostor pairs or when even distance 0 is over `fmr`.
    pub fn threshold_for_fmr(&self, fmr: f64) -> Option<Rates> {
        let impostor = self.impostor_pairs();
        if impostor == 0 || !(fmr >= 0.0) {
            return None;
        }
        // Integer comparison: at most floor(fmr × impostors) false matches.
        let allowed = (fmr * impostor as f64).floor() as u64;
        let mut cum = 0u64;
        let mut last = None;
        for (k, c) in self.impostor.iter().enumerate() {
            cum += c;
            if cum > allowed {
                break;
            }
            last = Some(k);
        }
        last.map(|k| self.at_edge(k, self.genuine_pairs(), impostor))
    }

    /// The detection-error trade-off: (FMR, FNMR) at every bin edge where either changes.
    pub fn det(&self) -> Vec<(f64, f64)> {
        let (g, i) = (self.genuine_pairs(), self.impostor_pairs());
        if g == 0 || i == 0 {
            return Vec::new();
        }
        let (mut fm, mut gm) = (0u64, 0u64);
        let mut out = Vec::new();
        for (a, b) in self.impostor.iter().zip(&self.genuine) {
            fm += a;
            gm += b;
            if a + b > 0 {
                out.push((fm as f64 / i as f64, (g - gm) as f64 / g as f64));
            }
        }
        out
    }
}

/// One population's counts.
#[derive(Clone, Debug, PartialEq)]
pub struct PopulationReport {
    /// The population's name.
    pub name: String,
    /// Identities with at least one usable image.
    pub identities: usize,
    /// Images with a template.
    pub images: usize,
    /// Images of the population that gave no template (failures to enrol).
    pub failures_to_enrol: usize,
    /// Pair counts by distance.
    pub histogram: DistanceHistogram,
    /// Exact rates at each threshold asked for, in the order asked.
    pub at: Vec<Rates>,
}

impl PopulationReport {
    /// False-match rate at the first threshold asked for (NaN without impostor pairs).
    pub fn fmr(&self) -> f64 {
        self.at.first().map_or(f64::NAN, Rates::fmr)
    }
}

/// How many impostor pairs of two identities were declared the same person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusedPair {
    /// First identity (number in [`Gallery::identities`]).
    pub a: u32,
    /// Second identity.
    pub b: u32,
    /// False matches between their images at the first threshold asked for.
    pub false_matches: u64,
    /// Impostor pairs between their images.
    pub pairs: u64,
}

/// The result of scoring every pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// One report per population, in the order given.
    pub populations: Vec<PopulationReport>,
    /// Identity pairs with false matches at the first threshold, most first.
    pub confused: Vec<ConfusedPair>,
}

impl Report {
    /// The population with the highest false-match rate at the first threshold (ties: the
    /// one needing the lowest threshold for FMR 1e-4), among those with impostor pairs.
    pub fn worst(&self) -> Option<&PopulationReport> {
        let need = |p: &PopulationReport| {
            p.histogram
                .threshold_for_fmr(1e-4)
                .map_or(f32::NEG_INFINITY, |r| r.threshold)
        };
        self.populations
            .iter()
            .filter(|p| p.histogram.impostor_pairs() > 0 && !p.fmr().is_nan())
            .max_by(|a, b| {
                a.fmr()
                    .total_cmp(&b.fmr())
                    .then_with(|| need(b).total_cmp(&need(a)))
            })
    }
}

/// What one scoring thread accumulates.
struct Tally {
    hist: Vec<DistanceHistogram>,
    // [population][threshold] = (false matches, false non-matches, impostors, genuines)
    exact: Vec<Vec<[u64; 4]>>,
    confused: HashMap<(u32, u32), u64>,
}

impl Tally {
    fn new(populations: usize, thresholds: usize) -> Tally {
        Tally {
            hist: vec![DistanceHistogram::default(); populations],
            exact: vec![vec![[0; 4]; thresholds]; populations],
            confused: HashMap::new(),
        }
    }

    fn merge(&mut self, other: Tally) {
        for (a, b) in self.hist.iter_mut().zip(&other.hist) {
            a.merge(b);
        }
        for (a, b) in self.exact.iter_mut().zip(&other.exact) {
            for (x, y) in a.iter_mut().zip(b) {
                for (u, v) in x.iter_mut().zip(y) {
                    *u += v;
                }
            }
        }
        for (k, v) in other.confused {
            *self.confused.entry(k).or_insert(0) += v;
        }
    }
}

/// Scores every pair of `items` (each with its identity number) with `distance`, on
/// `threads` threads, and counts them for each population.
///
/// `enrolled` says which of the gallery's images gave an item (for failure-to-enrol
/// counts); `thresholds` must not be empty: the first is the operating threshold of [`PopulationReport::fmr`] and of the confused
/// identity pairs. `progress` is called with the pairs done after each row. Populations
/// beyond 64 are refused.
#[allow(clippy::too_many_arguments)]
pub fn score_all_pairs<T: Sync>(
    items: &[(T, u32)],
    gallery: &Gallery,
    enrolled: &[bool],
    populations: &[Population],
    thresholds: &[f32],
    distance: impl Fn(&T, &T) -> f32 + Sync,
    threads: usize,
    progress: impl Fn(u64) + Sync,
) -> Result<Report, GalleryError> {
    const MAX_POPULATIONS: usize = 64;
    if populations.len() > MAX_POPULATIONS {
        return Err(GalleryError::TooManyPopulations {
            limit: MAX_POPULATIONS,
        });
    }
    if thresholds.is_empty() {
        return Err(GalleryError::NoThreshold);
    }
    // Which populations each item belongs to, as a bit mask.
    let masks: Vec<u64> = items
        .iter()
        .map(|(_, id)| {
            populations
                .iter()
                .enumerate()
                .filter(|(_, p)| p.contains(*id))
                .fold(0u64, |m, (i, _)| m | (1 << i))
        })
        .collect();
    let next = AtomicUsize::new(0);
    let n = items.len();
    let tally = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                s.spawn(|| {
                    let mut t = Tally::new(populations.len(), thresholds.len());
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break;
                        }
                        let (a, ida) = &items[i];
                        for j in i + 1..n {
                            let (b, idb) = &items[j];
                            let d = distance(a, b);
                            let same = ida == idb;
                            let mut m = masks[i] & masks[j];
                            while m != 0 {
                                let p = m.trailing_zeros() as usize;
                                m &= m - 1;
                                t.hist[p].add(d, same);
                                for (e, &th) in t.exact[p].iter_mut().zip(thresholds) {
                                    let hit = d <= th;
                                    if same {
                                        e[3] += 1;
                                        e[1] += u64::from(!hit);
                                    } else {
                                        e[2] += 1;
                                        e[0] += u64::from(hit);
                                    }
                                }
                            }
                            if !same && d <= thresholds[0] {
                                let key = ((*ida).min(*idb), (*ida).max(*idb));
                                *t.confused.entry(key).or_insert(0) += 1;
                            }
                        }
                        progress((n - 1 - i) as u64);
                    }
                    t
                })
            })
            .collect();
        let mut total = Tally::new(populations.len(), thresholds.len());
        for w in workers {
            // A worker only panics if `distance` does; pass that on.
            match w.join() {
                Ok(t) => total.merge(t),
                Err(p) => std::panic::resume_unwind(p),
            }
        }
        total
    });

    // Impostor pair counts of the confused identity pairs, from image counts per identity.
    let mut per_identity = vec![0u64; gallery.identities.len()];
    for (_, id) in items {
        if let Some(c) = per_identity.get_mut(*id as usize) {
            *c += 1;
        }
    }
    let mut confused: Vec<ConfusedPair> = tally
        .confused
        .into_iter()
        .map(|((a, b), false_matches)| ConfusedPair {
            a,
            b,
            false_matches,
            pairs: per_identity[a as usize] * per_identity[b as usize],
        })
        .collect();
    confused.sort_by(|x, y| {
        y.false_matches
            .cmp(&x.false_matches)
            .then((x.a, x.b).cmp(&(y.a, y.b)))
    });

    let reports = populations
        .iter()
        .zip(tally.hist)
        .zip(tally.exact)
        .map(|((p, histogram), exact)| {
            let mut ids: Vec<u32> = items
                .iter()
                .map(|(_, id)| *id)
                .filter(|id| p.contains(*id))
                .collect();
            let images = ids.len();
            ids.dedup();
            let failures_to_enrol = gallery
                .images
                .iter()
                .zip(enrolled)
                .filter(|((_, id), ok)| !**ok && p.contains(*id))
                .count();
            PopulationReport {
                name: p.name.clone(),
                identities: ids.len(),
                images,
                failures_to_enrol,
                histogram,
                at: thresholds
                    .iter()
                    .zip(exact)
                    .map(|(&threshold, e)| Rates {
                        threshold,
                        false_matches: e[0],
                        false_non_matches: e[1],
                        impostor_pairs: e[2],
                        genuine_pairs: e[3],
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(Report {
        populations: reports,
        confused,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gallery(ids: &[(&str, usize)]) -> Gallery {
        let mut g = Gallery {
            identities: Vec::new(),
            images: Vec::new(),
        };
        for (i, (name, n)) in ids.iter().enumerate() {
            g.identities.push(name.to_string());
            for k in 0..*n {
                g.images
                    .push((PathBuf::from(format!("{name}/{k}.jpg")), i as u32));
            }
        }
        g
    }

    #[test]
    fn histogram_edges_are_inclusive_and_thresholds_exact_at_edges() {
        let mut h = DistanceHistogram::default();
        // Impostors just above 0.3, 0.4, 0.5, 0.6; genuines just above 0.2, 0.45 (inside a
        // bin: a value on an edge may round to either side in f32).
        for d in [0.30005, 0.40005, 0.50005, 0.60005] {
            h.add(d, false);
        }
        h.add(0.20005, true);
        h.add(0.45005, true);
        assert_eq!((h.genuine_pairs(), h.impostor_pairs()), (2, 4));
        // FMR 0.25 allows one false match: the highest edge below the second impostor.
        let r = h.threshold_for_fmr(0.25).unwrap();
        assert_eq!(r.false_matches, 1);
        assert!((r.threshold - 0.4).abs() < 1e-6, "{}", r.threshold);
        assert_eq!(r.false_non_matches, 1);
        // FMR 0 allows none: the edge below the first impostor.
        let r = h.threshold_for_fmr(0.0).unwrap();
        assert_eq!(r.false_matches, 0);
        assert!((r.threshold - 0.3).abs() < 1e-6, "{}", r.threshold);
        assert_eq!(r.false_non_matches, 1);
        // Everything allowed: the last edge.
        assert_eq!(h.threshold_for_fmr(1.0).unwrap().false_matches, 4);
        assert!(DistanceHistogram::default()
            .threshold_for_fmr(1e-3)
            .is_none());
        assert!(h.threshold_for_fmr(f64::NAN).is_none());
        // Out-of-range and NaN distances land in the last bin: never below a threshold.
        h.add(f32::NAN, false);
        h.add(99.0, false);
        assert_eq!(h.threshold_for_fmr(0.0).unwrap().impostor_pairs, 6);
        let det = h.det();
        assert_eq!(det.first().copied(), Some((0.0, 0.5)));
        assert_eq!(det.last().copied(), Some((1.0, 0.0)));
    }

    #[test]
    fn every_pair_is_scored_once_and_counted_per_population() {
        // Three people; "x" and "y" form a subset. Items are 1-D points.
        let g = gallery(&[("x", 3), ("y", 2), ("z", 2)]);
        let pos = [0.0f32, 0.1, 0.2, 0.25, 0.35, 2.0, 2.1];
        let items: Vec<(f32, u32)> = pos
            .iter()
            .zip(g.images())
            .map(|(&p, (_, id))| (p, *id))
            .collect();
        let all = Population::all(&g);
        let (sub, missing) = Population::from_list("sub", "x\ny\n# note\nnobody\n", &g).unwrap();
        assert_eq!(missing, 1);
        let rest = sub.complement();
        let enrolled = vec![true; 7];
        let calls = AtomicUsize::new(0);
        let report = score_all_pairs(
            &items,
            &g,
            &enrolled,
            &[all, sub, rest],
            &[0.15, 0.04],
            |a, b| (a - b).abs(),
            3,
            |k| {
                calls.fetch_add(k as usize, Ordering::Relaxed);
            },
        )
        .unwrap();
        assert_eq!(calls.into_inner(), 21, "7 images, 21 pairs");
        let [a, s, r] = &report.populations[..] else {
            panic!("three populations")
        };
        // all: genuine 3 + 1 + 1 = 5, impostor 21 - 5 = 16.
        assert_eq!((a.at[0].genuine_pairs, a.at[0].impostor_pairs), (5, 16));
        assert_eq!((s.at[0].genuine_pairs, s.at[0].impostor_pairs), (4, 6));
        assert_eq!((r.at[0].genuine_pairs, r.at[0].impostor_pairs), (1, 0));
        // At 0.15, impostor pairs within 0.15: (0.1,0.25) x–y, (0.2,0.25), (0.2,0.35),
        // (0.25,0.35) is genuine y–y. So 3 false matches, all x–y.
        assert_eq!(s.at[0].false_matches, 3);
        assert_eq!(a.at[0].false_matches, 3);
        // Genuine x pairs 0.1, 0.2, 0.1; y 0.1; z 0.1 → at 0.15 one false non-match (0.2).
        assert_eq!(a.at[0].false_non_matches, 1);
        // At 0.04 every genuine pair is refused and no impostor accepted.
        assert_eq!((a.at[1].false_matches, a.at[1].false_non_matches), (0, 5));
        assert_eq!(s.identities, 2);
        assert_eq!(s.images, 5);
        assert_eq!(
            report.confused,
            vec![ConfusedPair {
                a: 0,
                b: 1,
                false_matches: 3,
                pairs: 6
            }]
        );
        assert_eq!(report.worst().map(|p| p.name.as_str()), Some("sub"));
        // The histogram agrees with the exact counters at an edge.
        let h = &a.histogram;
        assert_eq!(h.genuine_pairs() + h.impostor_pairs(), 21);
    }

    #[test]
    fn failures_to_enrol_are_counted_per_population() {
        let g = gallery(&[("x", 2), ("y", 2)]);
        let items = vec![(0.0f32, 0u32), (1.0, 0), (1.0, 1)];
        let enrolled = [true, true, false, true];
        let (sub, _) = Population::from_list("y only", "y", &g).unwrap();
        let report = score_all_pairs(
            &items,
            &g,
            &enrolled,
            &[Population::all(&g), sub],
            &[0.5],
            |a, b| (a - b).abs(),
            1,
            |_| {},
        )
        .unwrap();
        assert_eq!(report.populations[0].failures_to_enrol, 1);
        assert_eq!(report.populations[1].failures_to_enrol, 1);
        assert_eq!(report.populations[1].images, 1);
        assert_eq!(report.populations[1].at[0].genuine_pairs, 0);
    }

    #[test]
    fn subsets_must_name_someone_and_scan_refuses_empty_folders() {
        let g = gallery(&[("x", 1)]);
        assert!(matches!(
            Population::from_list("s", "nobody\n", &g),
            Err(GalleryError::SubsetUnknown { listed: 1, .. })
        ));
        let dir = std::env::temp_dir().join(format!("facegate-gallery-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("someone")).unwrap();
        std::fs::write(dir.join("someone/notes.txt"), "x").unwrap();
        assert!(matches!(Gallery::scan(&dir), Err(GalleryError::Empty(_))));
        std::fs::write(dir.join("someone/a.JPG"), "not decoded here").unwrap();
        std::fs::create_dir_all(dir.join(".hidden")).unwrap();
        std::fs::write(dir.join(".hidden/b.jpg"), "x").unwrap();
        let g = Gallery::scan(&dir).unwrap();
        assert_eq!(g.identities(), ["someone".to_string()]);
        assert_eq!(g.images().len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(Gallery::scan(&dir), Err(GalleryError::Io { .. })));
    }
}
