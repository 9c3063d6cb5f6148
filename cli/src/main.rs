//! `facegate` — the command-line tool vendors and integrators script.
//!
//! Exit codes are a contract: 0 = positive answer (valid, same person, live),
//! 1 = negative answer (invalid, different person, not live) with the reason printed,
//! 2 = error (usage, unreadable input) with a message on stderr.
//!
//! Usage errors are redacted: clap's own message quotes the offending value, and that
//! value is often the secret itself (an ID number typed without `check`, an HOTP key
//! given without `--secret-hex`, an MRZ pasted where a file name belongs). Argv is
//! already visible to the machine's users, but error output also lands in kiosk logs
//! and support tickets, so it names the argument, never its value.

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Parser, Subcommand};

mod bench;
mod common;
mod eval;
mod id;
mod liveness;
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
    /// Liveness of recorded frames: `check` one sequence, `eval` a suite (ISO/IEC 30107-3).
    Liveness(liveness::Args),
    /// Speed of the face pipeline on this machine: per-stage median and p95, frames per
    /// second, peak memory (bundled 640×480 frame).
    Bench(bench::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    match cli.cmd {
        Cmd::Verify(a) => verify::run(a),
        Cmd::Eval(c) => eval::run(c),
        Cmd::Id(a) => id::run(a),
        Cmd::Mrz(a) => mrz::run(a),
        Cmd::Otp(a) => otp::run(a),
        Cmd::Liveness(a) => liveness::run(a),
        Cmd::Bench(a) => bench::run(a),
    }
}

/// Prints a clap error without any value the user typed; help and version go through.
fn usage_error(e: &clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            // Help and version text come from the definitions only.
            let _ = e.print();
            return ExitCode::from(EXIT_YES);
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::from(EXIT_ERROR);
        }
        _ => {}
    }
    eprintln!("{}", redacted_message(e));
    ExitCode::from(EXIT_ERROR)
}

/// The message for a usage error: its kind, the name of the argument definition it is
/// about (never the typed value, nor an unexpected token, which may be a secret), and the
/// usage line.
fn redacted_message(e: &clap::Error) -> String {
    let what = e.kind().as_str().unwrap_or("invalid arguments");
    let mut msg = format!("error: {what}");
    // For these kinds, `InvalidArg` names the argument's definition (e.g.
    // `--counter <COUNTER>`); for unexpected arguments it is the typed token.
    let names_definition = matches!(
        e.kind(),
        ErrorKind::InvalidValue
            | ErrorKind::ValueValidation
            | ErrorKind::MissingRequiredArgument
            | ErrorKind::ArgumentConflict
            | ErrorKind::TooManyValues
            | ErrorKind::TooFewValues
            | ErrorKind::WrongNumberOfValues
            | ErrorKind::NoEquals
    );
    if names_definition {
        match e.get(ContextKind::InvalidArg) {
            Some(ContextValue::String(arg))
                if matches!(
                    e.kind(),
                    ErrorKind::InvalidValue | ErrorKind::ValueValidation
                ) =>
            {
                msg = format!("error: invalid value for '{arg}' (value not shown)");
            }
            Some(ContextValue::String(arg)) => msg.push_str(&format!(" for '{arg}'")),
            Some(ContextValue::Strings(args)) => msg.push_str(&format!(": {}", args.join(", "))),
            _ => {}
        }
    } else {
        msg.push_str(" (value not shown: it may be a secret)");
    }
    if let Some(ContextValue::StyledStr(usage)) = e.get(ContextKind::Usage) {
        msg.push_str(&format!("\n\n{}", usage));
    }
    msg.push_str("\n\nFor more information, try '--help'.");
    msg
}
