//! Writes an image-level evaluation suite for `facegate liveness eval` (see
//! [`facegate_sim::suite`]).
//!
//! `cargo run --release -p facegate-sim --bin liveness_suite -- --out DIR [--n 20] [--seed 1]
//! [--identities A-E] [--types static_print,...] [--threads 2] [--lfw DIR] [--recordings DIR]`

fn main() -> std::process::ExitCode {
    facegate_sim::suite::main_with_args(std::env::args().skip(1))
}
