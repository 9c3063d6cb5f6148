//! `facegate id check NUMBER [--json] [--today YYYY-MM-DD]`: validates a Chinese
//! identity number (resident card, HK/Macao/Taiwan residence permit, 2023 foreigner
//! permanent residence card). Output is minimal: the masked number, the kind and
//! whether the holder is under 14 (never the birth date, which the mask hides).

use std::process::ExitCode;

use clap::Subcommand;
use facegate::date::Date;
use facegate::idcard::CnIdNumber;

use crate::common::{invalid, today_or_system, under_guardian_age};
use crate::EXIT_YES;

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
    let today = match today_or_system(today) {
        Ok(t) => t,
        Err(code) => return code,
    };
    match CnIdNumber::parse(&number, today) {
        Ok(id) => {
            // Minimal output: the birth date is exactly the part the mask hides, so it is
            // not printed; the under-14 flag is what a kiosk needs (guardian consent).
            let under_14 = under_guardian_age(id.birth_date(), today);
            let kind = serde_json::to_value(id.kind())
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            if json {
                let v = serde_json::json!({
                    "valid": true,
                    "number": id.masked(),
                    "kind": kind,
                    "under_14": under_14,
                });
                println!("{v}");
            } else {
                println!(
                    "valid: {} ({kind}{})",
                    id.masked(),
                    if under_14 { ", under 14" } else { "" }
                );
            }
            ExitCode::from(EXIT_YES)
        }
        Err(e) => invalid(json, e.reason(), &e.to_string()),
    }
}
