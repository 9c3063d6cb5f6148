//! `facegate otp hotp|totp …`: prints the code for a shared secret (RFC 4226 / 6238),
//! for provisioning checks and vendor test rigs. The secret is taken as hex on the
//! command line; on shared machines prefer a test secret (argv is visible to others).

use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use facegate::otp::{hotp, totp, Algorithm, Digits, Secret, TotpParams};

use crate::{EXIT_ERROR, EXIT_YES};

/// One-time codes.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum Alg {
    Sha1,
    Sha256,
    Sha512,
}

impl From<Alg> for Algorithm {
    fn from(a: Alg) -> Self {
        match a {
            Alg::Sha1 => Algorithm::Sha1,
            Alg::Sha256 => Algorithm::Sha256,
            Alg::Sha512 => Algorithm::Sha512,
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Print the HOTP code (RFC 4226) for a counter.
    Hotp {
        /// Shared secret in hex (16 to 1024 bytes).
        #[arg(long, value_name = "HEX")]
        secret_hex: String,
        /// Counter value.
        #[arg(long)]
        counter: u64,
        /// Code length.
        #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u8).range(6..=8))]
        digits: u8,
        /// HMAC algorithm.
        #[arg(long, value_enum, default_value = "sha1")]
        algorithm: Alg,
    },
    /// Print the TOTP code (RFC 6238) at a Unix time.
    Totp {
        /// Shared secret in hex (16 to 1024 bytes).
        #[arg(long, value_name = "HEX")]
        secret_hex: String,
        /// Unix time in seconds.
        #[arg(long, value_name = "UNIX_SECONDS")]
        time: u64,
        /// Time step in seconds.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
        step: u64,
        /// Code length.
        #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u8).range(6..=8))]
        digits: u8,
        /// HMAC algorithm.
        #[arg(long, value_enum, default_value = "sha1")]
        algorithm: Alg,
    },
}

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    let result = match args.cmd {
        Cmd::Hotp {
            secret_hex,
            counter,
            digits,
            algorithm,
        } => {
            let secret_hex = zeroize::Zeroizing::new(secret_hex);
            Secret::from_hex(&secret_hex)
                .and_then(|s| Ok(hotp(&s, counter, Digits::new(digits)?, algorithm.into())))
        }
        Cmd::Totp {
            secret_hex,
            time,
            step,
            digits,
            algorithm,
        } => {
            let secret_hex = zeroize::Zeroizing::new(secret_hex);
            Secret::from_hex(&secret_hex).and_then(|s| {
                let p = TotpParams {
                    algorithm: algorithm.into(),
                    digits: Digits::new(digits)?,
                    step,
                    t0: 0,
                    skew: 0,
                };
                totp(&s, time, &p)
            })
        }
    };
    match result {
        Ok(code) => {
            println!("{}", code.expose());
            ExitCode::from(EXIT_YES)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
