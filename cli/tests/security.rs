//! The CLI as an attacker or a hurried operator meets it: usage errors never echo the
//! value typed (an ID number, an HOTP key, an MRZ), and the depth and IR frames of
//! `liveness check` are decoded under the same limits as the colour frames.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_facegate");
const ID: &str = "11010519491231002X";
const SECRET_HEX: &str = "3132333435363738393031323334353637383930";
const MRZ: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

/// Exit code and everything printed (stdout and stderr together).
fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN).args(args).output().expect("run facegate");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// Asserts exit 2 and that none of `secrets` (nor a long piece of one) was printed.
fn assert_redacted(args: &[&str], secrets: &[&str]) -> String {
    let (rc, text) = run(args);
    assert_eq!(rc, 2, "{args:?}: {text}");
    for s in secrets {
        for piece in [*s, &s[..s.len().min(10)], &s[s.len().saturating_sub(10)..]] {
            assert!(!text.contains(piece), "{args:?} printed {piece:?}:\n{text}");
        }
    }
    assert!(text.contains("error"), "{text}");
    text
}

#[test]
fn usage_errors_do_not_echo_secrets() {
    // An ID number without `check`: clap would print it as an unrecognised subcommand.
    let t = assert_redacted(&["id", ID], &[ID]);
    assert!(t.contains("Usage"), "{t}");
    assert_redacted(
        &["id", "check", ID, "extra-arg-with-"],
        &[ID, "extra-arg-with-"],
    );
    assert_redacted(&["id", "check", &format!("--{ID}")], &[ID]);
    // An HOTP key given positionally, or to the wrong flag.
    assert_redacted(
        &["otp", "hotp", SECRET_HEX, "--counter", "0"],
        &[SECRET_HEX],
    );
    assert_redacted(&["otp", "hotp", "--counter", SECRET_HEX], &[SECRET_HEX]);
    assert_redacted(
        &[
            "otp",
            "totp",
            &format!("--secret-hex={SECRET_HEX}"),
            "--time",
            SECRET_HEX,
        ],
        &[SECRET_HEX],
    );
    // A usage error still names the argument (from its definition), so it is useful.
    let t = assert_redacted(
        &["otp", "hotp", "--secret-hex", SECRET_HEX, "--counter", "x1"],
        &[SECRET_HEX],
    );
    assert!(t.contains("--counter"), "{t}");
    let t = assert_redacted(&["otp", "hotp", "--counter", "1"], &[]);
    assert!(t.contains("--secret-hex"), "{t}");
    // Help still works and exits 0.
    let (rc, t) = run(&["otp", "hotp", "--help"]);
    assert_eq!(rc, 0, "{t}");
    assert!(t.contains("--secret-hex"), "{t}");
}

#[test]
fn mrz_pasted_as_a_file_name_is_not_echoed() {
    let t = assert_redacted(
        &["mrz", "check", MRZ],
        &["L898902C3", "ERIKSSON", "7408122"],
    );
    assert!(t.contains("cannot read"), "{t}");
    let one_line = MRZ.replace('\n', "");
    assert_redacted(&["mrz", "check", &one_line], &["L898902C3", "ERIKSSON"]);
}

fn write_png16(path: &Path, w: u32, h: u32) {
    image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::new(w, h)
        .save(path)
        .unwrap();
}

fn write_png8(path: &Path, w: u32, h: u32) {
    image::GrayImage::new(w, h).save(path).unwrap();
}

#[test]
fn liveness_depth_and_ir_frames_are_decoded_under_limits() {
    let root = std::env::temp_dir().join(format!("facegate-cli-security-{}", std::process::id()));
    let (frames, depth, ir) = (root.join("frames"), root.join("depth"), root.join("ir"));
    for d in [&frames, &depth, &ir] {
        std::fs::create_dir_all(d).unwrap();
    }
    image::RgbImage::new(64, 48)
        .save(frames.join("0001.png"))
        .unwrap();
    // One pixel wider than the default limit (4096): a few bytes on disk.
    write_png16(&depth.join("0001.png"), 4097, 1);
    write_png8(&ir.join("0001.png"), 4097, 1);
    let base = [
        "liveness",
        "check",
        "--frames",
        frames.to_str().unwrap(),
        "--fps",
        "15",
        "--challenge",
        "left",
    ];
    for (flag, dir) in [("--depth", &depth), ("--ir", &ir)] {
        let mut args = base.to_vec();
        args.extend([flag, dir.to_str().unwrap()]);
        let (rc, text) = run(&args);
        assert_eq!(rc, 2, "{flag}: {text}");
        assert!(text.contains("limit 4096×4096"), "{flag}: {text}");
    }
    // Within the limits the same command reads them (and judges: no face, not live).
    write_png16(&depth.join("0001.png"), 64, 48);
    write_png8(&ir.join("0001.png"), 64, 48);
    let mut args = base.to_vec();
    args.extend([
        "--depth",
        depth.to_str().unwrap(),
        "--ir",
        ir.to_str().unwrap(),
    ]);
    let (rc, text) = run(&args);
    assert_eq!(rc, 1, "{text}");
    let _ = std::fs::remove_dir_all(&root);
}
