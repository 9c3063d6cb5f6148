//! Small pieces shared by the subcommands.

use std::process::ExitCode;

use facegate::date::Date;
use facegate::quality::SeveralFaces;
use facegate::Reason;

/// Prints an error and returns exit code 2.
pub fn fail(message: &str) -> ExitCode {
    eprintln!("facegate: error: {message}");
    ExitCode::from(crate::EXIT_ERROR)
}

/// `--today`, or the system date (UTC) when not given; exit 2 when neither is available.
pub fn today_or_system(given: Option<Date>) -> Result<Date, ExitCode> {
    given.or_else(Date::today_utc).ok_or_else(|| {
        eprintln!("error: cannot read the system date; pass --today");
        ExitCode::from(crate::EXIT_ERROR)
    })
}

/// Whether a document holder born on `birth` is under the guardian-consent age `today`.
/// The document commands print this flag, never the birth date (a kiosk needs only to
/// know whether to ask for a guardian's consent).
pub fn under_guardian_age(birth: Date, today: Date) -> bool {
    birth
        .age_on(today)
        .is_some_and(|a| a < facegate::consent::GUARDIAN_AGE)
}

/// Prints why a document is invalid, as JSON or text, and returns exit 1.
pub fn invalid(json: bool, reason: Reason, message: &str) -> ExitCode {
    if json {
        println!(
            "{}",
            serde_json::json!({ "valid": false, "reason": reason, "message": message })
        );
    } else {
        println!("invalid: {reason} ({message})");
    }
    ExitCode::from(crate::EXIT_NO)
}

/// `--several-faces`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum SeveralArg {
    /// Refuse the image.
    Reject,
    /// Use the largest face.
    Largest,
    /// Use the face closest to the centre.
    Central,
}

impl From<SeveralArg> for SeveralFaces {
    fn from(a: SeveralArg) -> Self {
        match a {
            SeveralArg::Reject => SeveralFaces::Reject,
            SeveralArg::Largest => SeveralFaces::Largest,
            SeveralArg::Central => SeveralFaces::Central,
        }
    }
}

/// `--quality`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum QualityArg {
    /// Kiosk capture gate.
    Kiosk,
    /// Only require a face.
    Permissive,
}
