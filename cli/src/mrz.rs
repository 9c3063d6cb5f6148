//! `facegate mrz check FILE|- [--today YYYY-MM-DD] [--json]`: validates an ICAO 9303
//! machine-readable zone (TD1, TD2 or TD3): every check digit, the dates and expiry.
//! Output is minimal: no name or birth date, the document number masked.

use std::io::Read;
use std::process::ExitCode;

use clap::Subcommand;
use facegate::date::Date;
use facegate::idcard::Mrz;
use zeroize::Zeroizing;

use crate::common::{invalid, today_or_system, under_guardian_age};
use crate::{EXIT_ERROR, EXIT_YES};

/// Machine-readable zones.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check an MRZ: exit 0 valid and not expired, 1 invalid or expired, 2 usage error.
    Check {
        /// File holding the 2 or 3 MRZ lines, or `-` for standard input.
        file: String,
        /// Date for the expiry check (default: today, UTC).
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<Date>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

/// Largest input read (an MRZ is under 140 bytes; this bounds memory on bad input).
const MAX_INPUT: u64 = 4096;

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    let Cmd::Check { file, today, json } = args.cmd;
    let today = match today_or_system(today) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let mut text = Zeroizing::new(String::new());
    let read = if file == "-" {
        std::io::stdin().take(MAX_INPUT).read_to_string(&mut text)
    } else {
        std::fs::File::open(&file).and_then(|f| f.take(MAX_INPUT).read_to_string(&mut text))
    };
    if let Err(e) = read {
        // Not the argument: people paste the MRZ itself where the file name belongs.
        eprintln!("error: cannot read the MRZ file given: {e}");
        return ExitCode::from(EXIT_ERROR);
    }
    match Mrz::parse(&text, today).and_then(|m| m.check_expiry(today).map(|()| m)) {
        Ok(m) => {
            // Minimal output: no name, no birth date, the document number masked.
            let under_14 = under_guardian_age(m.birth_date(), today);
            if json {
                let v = serde_json::json!({
                    "valid": true,
                    "format": m.format(),
                    "document_code": m.document_code(),
                    "issuing_state": m.issuing_state(),
                    "nationality": m.nationality(),
                    "document_number": m.masked_document_number(),
                    "expiry_date": m.expiry_date(),
                    "under_14": under_14,
                });
                println!("{v}");
            } else {
                println!(
                    "valid: {} {} {} {} expires {}{}",
                    m.format(),
                    m.document_code(),
                    m.issuing_state(),
                    m.masked_document_number(),
                    m.expiry_date(),
                    if under_14 { ", holder under 14" } else { "" }
                );
            }
            ExitCode::from(EXIT_YES)
        }
        Err(e) => invalid(json, e.reason(), &e.to_string()),
    }
}
