//! Simulators and generators for facegate's tests and evaluations — never part of the
//! library a kiosk links.
//!
//! Why a crate of its own: a simulation can exercise code paths and count attacks by the
//! hundred, but it must not set thresholds or stand in for real people. Keeping it out of
//! the library keeps its types out of the public API and out of every integrator's build.
//!
//! - [`simulate`]: landmark-level live heads and attacks (five points per frame);
//! - [`surface`]: pixel-level rendered cards (flat, folded, face-shaped) for the surface layer;
//! - [`depth`], [`nir`]: synthetic depth maps and near-infrared frames;
//! - [`geom`]: f64 points, and a simulated face handed over as a detection;
//! - [`kiosk`]: the benchmarks' 640×480 kiosk frame made from a portrait;
//! - [`suite`]: image-level evaluation suites (rendered prints, screen replays, spliced and
//!   simulated heads) for `facegate liveness eval`;
//! - binaries: `liveness_suite` (image-level evaluation suites for `facegate liveness eval`),
//!   `liveness_sim` (the simulated evaluation), `liveness_pose` (pose error on the suites).

#![forbid(unsafe_code)]

pub mod depth;
pub mod geom;
pub mod kiosk;
pub mod nir;
pub mod simulate;
pub mod suite;
pub mod surface;
