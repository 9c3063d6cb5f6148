//! RFC 4226 Appendix D and RFC 6238 Appendix B through the `facegate` binary.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_facegate");

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().expect("run facegate");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// ASCII "12345678901234567890" repeated/truncated to `n` bytes, as hex (RFC 6238
/// erratum: the SHA-256 and SHA-512 seeds are 32 and 64 bytes).
fn seed_hex(n: usize) -> String {
    b"1234567890"
        .iter()
        .cycle()
        .take(n)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn rfc4226_appendix_d_via_cli() {
    let want = [
        "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
        "520489",
    ];
    let secret = seed_hex(20);
    for (c, code) in want.iter().enumerate() {
        let (rc, out, err) = run(&[
            "otp",
            "hotp",
            "--secret-hex",
            &secret,
            "--counter",
            &c.to_string(),
        ]);
        assert_eq!(rc, 0, "{err}");
        assert_eq!(out, *code, "counter {c}");
    }
}

#[test]
fn rfc6238_appendix_b_via_cli() {
    let vectors: [(u64, &str, &str, &str); 6] = [
        (59, "94287082", "46119246", "90693936"),
        (1111111109, "07081804", "68084774", "25091201"),
        (1111111111, "14050471", "67062674", "99943326"),
        (1234567890, "89005924", "91819424", "93441116"),
        (2000000000, "69279037", "90698825", "38618901"),
        (20000000000, "65353130", "77737706", "47863826"),
    ];
    for (t, s1, s256, s512) in vectors {
        for (alg, n, want) in [("sha1", 20, s1), ("sha256", 32, s256), ("sha512", 64, s512)] {
            let (rc, out, err) = run(&[
                "otp",
                "totp",
                "--secret-hex",
                &seed_hex(n),
                "--time",
                &t.to_string(),
                "--digits",
                "8",
                "--algorithm",
                alg,
            ]);
            assert_eq!(rc, 0, "{err}");
            assert_eq!(out, want, "{alg} at {t}");
        }
    }
}

#[test]
fn usage_errors_exit_2_without_echoing_the_secret() {
    let secret = seed_hex(20);
    for args in [
        vec!["otp", "hotp", "--secret-hex", &secret],
        vec![
            "otp",
            "hotp",
            "--secret-hex",
            &secret,
            "--counter",
            "1",
            "--digits",
            "9",
        ],
        vec![
            "otp",
            "totp",
            "--secret-hex",
            &secret,
            "--time",
            "1",
            "--step",
            "0",
        ],
        vec![
            "otp",
            "totp",
            "--secret-hex",
            &secret,
            "--time",
            "1",
            "--algorithm",
            "md5",
        ],
        vec!["otp", "hotp", "--secret-hex", "3132", "--counter", "1"],
        vec!["otp", "hotp", "--secret-hex", "not-hex", "--counter", "1"],
    ] {
        let (rc, out, err) = run(&args);
        assert_eq!(rc, 2, "{args:?}: {out} {err}");
        assert!(out.is_empty());
    }
    let (_, _, err) = run(&[
        "otp",
        "hotp",
        "--secret-hex",
        "3132333435363738393031323334353637383930zz",
        "--counter",
        "1",
    ]);
    assert!(
        err.contains("not valid hex") && !err.contains("31323334"),
        "{err}"
    );
}
