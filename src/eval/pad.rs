//! ISO/IEC 30107-3 tallies of a presentation-attack evaluation: APCER per attack type,
//! BPCER, and the refusal reasons, with their counts.
//!
//! Why counts and not only rates: a rate of 0 over 20 presentations and 0 over 200 say
//! different things; every figure is reported with the presentations behind it.

use std::collections::BTreeMap;

use serde::Serialize;

/// ISO/IEC 30107-3 tallies for one evaluation.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PadReport {
    /// Per attack type: (accepted as live, presentations).
    pub attacks: BTreeMap<String, (usize, usize)>,
    /// Genuine: (rejected, presentations).
    pub bona_fide: (usize, usize),
    /// Reason codes of the rejections, by label.
    pub reasons: BTreeMap<String, BTreeMap<String, usize>>,
}

impl PadReport {
    /// Records one decision.
    pub fn add(&mut self, label: &str, live: bool, reason: Option<&str>) {
        if label == "live" {
            self.bona_fide.1 += 1;
            if !live {
                self.bona_fide.0 += 1;
            }
        } else {
            let e = self.attacks.entry(label.to_string()).or_insert((0, 0));
            e.1 += 1;
            if live {
                e.0 += 1;
            }
        }
        if let Some(r) = reason {
            *self
                .reasons
                .entry(label.to_string())
                .or_default()
                .entry(r.to_string())
                .or_insert(0) += 1;
        }
    }

    /// APCER per attack type (fraction accepted).
    pub fn apcer(&self) -> BTreeMap<String, f64> {
        self.attacks
            .iter()
            .map(|(k, &(a, n))| (k.clone(), if n == 0 { 0.0 } else { a as f64 / n as f64 }))
            .collect()
    }

    /// The worst APCER over the types.
    pub fn max_apcer(&self) -> f64 {
        self.apcer().values().copied().fold(0.0, f64::max)
    }

    /// BPCER (fraction of genuine presentations rejected).
    pub fn bpcer(&self) -> f64 {
        let (r, n) = self.bona_fide;
        if n == 0 {
            0.0
        } else {
            r as f64 / n as f64
        }
    }

    /// JSON in the `facegate liveness eval --json` shape.
    pub fn to_json(&self) -> serde_json::Value {
        let mut presentations: BTreeMap<String, usize> =
            self.attacks.iter().map(|(k, v)| (k.clone(), v.1)).collect();
        presentations.insert("live".into(), self.bona_fide.1);
        serde_json::json!({ "apcer": self.apcer(), "bpcer": self.bpcer(), "presentations": presentations, "reasons": self.reasons })
    }
}
