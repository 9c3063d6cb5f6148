//! Small pieces shared by the subcommands.

use std::process::ExitCode;

use facegate::quality::SeveralFaces;

/// Prints an error and returns exit code 2.
pub fn fail(message: &str) -> ExitCode {
    eprintln!("facegate: error: {message}");
    ExitCode::from(crate::EXIT_ERROR)
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
