//! `facegate id check` and `facegate mrz check`: the exit-code and output contract.

use std::io::Write;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_facegate");
const TD3: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10\n";
const TD2: &str = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6\n";
const TD1: &str = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<\n";

fn run(args: &[&str], stdin: Option<&str>) -> (i32, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run facegate");
    if let Some(s) = stdin {
        // The child may exit before reading everything (e.g. on a usage error).
        let _ = child.stdin.take().map(|mut i| i.write_all(s.as_bytes()));
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn id_check_exit_codes_and_masking() {
    let (rc, out) = run(
        &["id", "check", "11010519491231002X", "--today", "2026-11-23"],
        None,
    );
    assert_eq!(rc, 0);
    assert!(
        out.contains("110105********002X") && !out.contains("11010519491231002X"),
        "{out}"
    );

    let (rc, out) = run(
        &[
            "id",
            "check",
            "11010519491231002X",
            "--json",
            "--today",
            "2026-11-23",
        ],
        None,
    );
    assert_eq!(rc, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["number"], "110105********002X");
    assert_eq!(v["kind"], "resident");
    assert_eq!(v["under_14"], false);
    assert!(
        !out.contains("1949"),
        "the birth date is what the mask hides: {out}"
    );

    for (n, reason) in [
        ("110105194912310021", "idcard.check_digit"),
        ("1101051949123100", "idcard.length"),
        ("1101051949123100AX", "idcard.charset"),
        ("990105194912310023", "idcard.region"),
    ] {
        let (rc, out) = run(&["id", "check", n, "--json"], None);
        assert_eq!(rc, 1, "{n}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["valid"], false);
        assert_eq!(v["reason"], reason, "{n}");
        assert!(!out.contains(n));
        let (rc, out) = run(&["id", "check", n], None);
        assert_eq!(rc, 1);
        assert!(out.contains(reason), "{out}");
    }
    assert_eq!(run(&["id", "check"], None).0, 2);
    assert_eq!(
        run(
            &["id", "check", "11010519491231002X", "--today", "2026-02-30"],
            None
        )
        .0,
        2
    );
    assert_eq!(run(&["id", "frobnicate"], None).0, 2);
}

#[test]
fn mrz_check_specimens_from_stdin_and_file() {
    for (text, fmt) in [(TD3, "TD3"), (TD2, "TD2"), (TD1, "TD1")] {
        let (rc, out) = run(
            &["mrz", "check", "-", "--today", "2011-01-01", "--json"],
            Some(text),
        );
        assert_eq!(rc, 0, "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["format"], fmt);
        assert_eq!(v["issuing_state"], "UTO");
        assert_eq!(v["expiry_date"], "2012-04-15");
        assert_eq!(v["under_14"], false);
        for private in ["L898902C3", "D23145890", "ERIKSSON", "1974", "ZE184226B"] {
            assert!(!out.contains(private), "{private} in {out}");
        }
        // The specimens expired in 2012.
        let (rc, out) = run(&["mrz", "check", "-", "--today", "2026-11-23"], Some(text));
        assert_eq!(rc, 1);
        assert!(out.contains("mrz.expired"), "{out}");
    }
    let dir = std::env::temp_dir().join(format!("facegate-mrz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("td3.txt");
    std::fs::write(&file, TD3).unwrap();
    let (rc, out) = run(
        &[
            "mrz",
            "check",
            file.to_str().unwrap(),
            "--today",
            "2012-04-15",
        ],
        None,
    );
    assert_eq!(rc, 0, "{out}");
    std::fs::write(&file, TD3.replace("<<<<<10", "<<<<<11")).unwrap();
    let (rc, out) = run(
        &[
            "mrz",
            "check",
            file.to_str().unwrap(),
            "--today",
            "2010-01-01",
        ],
        None,
    );
    assert_eq!(rc, 1);
    assert!(out.contains("mrz.check_digit.composite"), "{out}");
    std::fs::remove_dir_all(&dir).ok();

    assert_eq!(run(&["mrz", "check", "/nonexistent/mrz.txt"], None).0, 2);
    assert_eq!(run(&["mrz", "check"], None).0, 2);
    assert_eq!(
        run(&["mrz", "check", "-", "--today", "yesterday"], Some(TD3)).0,
        2
    );
    let (rc, out) = run(
        &["mrz", "check", "-", "--today", "2010-01-01", "--json"],
        Some("garbage"),
    );
    assert_eq!(rc, 1);
    assert!(out.contains("mrz.length"), "{out}");
}

#[test]
fn id_check_permits_and_foreigner_card() {
    use facegate::idcard::cn::check_char;
    for (body, kind, under_14) in [
        ("81000019900101001", "hong_kong_residence_permit", false),
        ("82000020150101002", "macao_residence_permit", true),
        ("83000019900101003", "taiwan_residence_permit", false),
        ("93184020200101004", "foreign_permanent_resident", true),
    ] {
        let n = format!("{body}{}", char::from(check_char(body.as_bytes()).unwrap()));
        let (rc, out) = run(
            &["id", "check", &n, "--json", "--today", "2026-11-23"],
            None,
        );
        assert_eq!(rc, 0, "{n}: {out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["kind"], kind);
        assert_eq!(v["under_14"], under_14);
        assert_eq!(v["number"], format!("{}********{}", &n[..6], &n[14..]));
    }
}
