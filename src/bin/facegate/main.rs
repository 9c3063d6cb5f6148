//! `facegate` — the command-line tool vendors and integrators script.
//!
//! Exit codes are a contract: 0 = positive answer (valid, same person, live),
//! 1 = negative answer (invalid, different person, not live) with the reason printed,
//! 2 = error (usage, unreadable input) with a message on stderr.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod common;
mod eval;
mod id;
mod mrz;
mod otp;
mod verify;

/// Exit code for a positive answer.
pub const EXIT_YES: u8 = 0;
/// Exit code for a negative answer.
pub const EXIT_NO: u8 = 1;
/// Exit code for an error (usage, unreadable input). clap uses 2 for usage errors too.
pub const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(
    name = "facegate",
    version,
    about = "Identity verification at the edge: face with liveness, ID card, one-time code"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    // Each subcommand lives in its own module with `Args` and `run(Args) -> ExitCode`.
    /// Are the faces in two images the same person? Exit 0 same, 1 different, 2 error.
    Verify(verify::Args),
    /// Measure accuracy on a labelled data set.
    #[command(subcommand)]
    Eval(eval::Command),
    /// Chinese identity numbers (resident card, residence permits, foreigner card).
    Id(id::Args),
    /// ICAO 9303 machine-readable zones (TD1, TD2, TD3).
    Mrz(mrz::Args),
    /// One-time codes (HOTP, TOTP).
    Otp(otp::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Verify(a) => verify::run(a),
        Cmd::Eval(c) => eval::run(c),
        Cmd::Id(a) => id::run(a),
        Cmd::Mrz(a) => mrz::run(a),
        Cmd::Otp(a) => otp::run(a),
    }
}
