//! `facegate id check NUMBER [--json] [--today YYYY-MM-DD]`: validates a Chinese
//! identity number (resident card, HK/Macao/Taiwan residence permit, 2023 foreigner
//! permanent residence card). Output shows the number masked only.

use std::process::ExitCode;

use clap::Subcommand;
use facegate::date::Date;
use facegate::idcard::CnIdNumber;

use crate::{EXIT_ERROR, EXIT_NO, EXIT_YES};

/// Identity numbers.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check an 18-character identity number: exit 0 valid, 1 invalid, 2 usage error.
    Check {
        /// The number (final X in either case).
        number: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Date against which the birth date is judged (default: today, UTC).
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<Date>,
    },
}

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    let Cmd::Check {
        number,
        json,
        today,
    } = args.cmd;
    let number = zeroize::Zeroizing::new(number);
    let Some(today) = today.or_else(Date::today_utc) else {
        eprintln!("error: cannot read the system date; pass --today");
        return ExitCode::from(EXIT_ERROR);
    };
    match CnIdNumber::parse(&number, today) {
        Ok(id) => {
            if json {
                let v = serde_json::json!({
                    "valid": true,
                    "number": id.masked(),
                    "kind": id.kind(),
                    "birth_date": id.birth_date(),
                    "sex": id.sex(),
                });
                println!("{v}");
            } else {
                println!(
                    "valid: {} ({}, born {}, {})",
                    id.masked(),
                    serde_json::to_value(id.kind())
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    id.birth_date(),
                    serde_json::to_value(id.sex())
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                );
            }
            ExitCode::from(EXIT_YES)
        }
        Err(e) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "valid": false, "reason": e.reason(), "message": e.to_string() })
                );
            } else {
                println!("invalid: {} ({e})", e.reason());
            }
            ExitCode::from(EXIT_NO)
        }
    }
}
