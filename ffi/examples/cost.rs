//! What the C path costs against the Rust path on `verify` (two encoded photos → same
//! person?), measured in one run: the two paths alternate on the same pipeline and inputs, and
//! the ratio of their medians is printed. A measuring program run by hand, not a test:
//!
//! `cargo run --release -p facegate-ffi --example cost -- tests/fixtures/images/obama.jpg tests/fixtures/images/obama2.jpg 21`

use std::time::Instant;

use facegate::eval::Matcher;
use facegate::face::{FaceConfig, FacePipeline};
use facegate::frame::{DecodeLimits, Frame};
use facegate_ffi::face::{
    fg_eval_verify_images, fg_pipeline_free, fg_pipeline_new, FgComparison, FgPipeline,
};
use facegate_ffi::FgStatus;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (a_path, b_path) = match (args.get(1), args.get(2)) {
        (Some(a), Some(b)) => (a.clone(), b.clone()),
        _ => return Err("usage: cost A.jpg B.jpg [ROUNDS]".into()),
    };
    let rounds: usize = args.get(3).map_or(Ok(21), |s| s.parse())?;
    let (a, b) = (std::fs::read(&a_path)?, std::fs::read(&b_path)?);

    let rust_pipeline = FacePipeline::with_default_models(FaceConfig::default())?;
    let mut c_pipeline: *mut FgPipeline = std::ptr::null_mut();
    // SAFETY: a valid out-pointer; the handle is freed at the end.
    if unsafe { fg_pipeline_new(&mut c_pipeline) } != FgStatus::Ok {
        return Err("fg_pipeline_new failed".into());
    }

    let rust_verify = || -> Result<f32, Box<dyn std::error::Error>> {
        let m = Matcher::new(&rust_pipeline);
        let limits = DecodeLimits::default();
        let ta = m.capture(&Frame::decode(&a, &limits)?)?.template;
        let tb = m.capture(&Frame::decode(&b, &limits)?)?.template;
        Ok(m.compare(&ta, &tb).distance())
    };
    let c_verify = || -> Result<f32, Box<dyn std::error::Error>> {
        let mut out = std::mem::MaybeUninit::<FgComparison>::uninit();
        // SAFETY: a live pipeline, both buffers readable for their lengths, a writable out.
        let s = unsafe {
            fg_eval_verify_images(
                c_pipeline,
                a.as_ptr(),
                a.len(),
                b.as_ptr(),
                b.len(),
                out.as_mut_ptr(),
            )
        };
        if s != FgStatus::Ok {
            return Err(format!("status {s:?}").into());
        }
        // SAFETY: written by the call, which returned OK.
        Ok(unsafe { out.assume_init() }.distance)
    };

    // Warm up both (plans, caches), and check that they agree.
    let (dr, dc) = (rust_verify()?, c_verify()?);
    if dr.to_bits() != dc.to_bits() {
        return Err(format!("the paths disagree: Rust {dr}, C {dc}").into());
    }
    let (mut rust_ms, mut c_ms) = (Vec::new(), Vec::new());
    for i in 0..rounds {
        // Alternate which path goes first, so neither always runs on a warmer cache.
        let order: [bool; 2] = if i % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for c_path in order {
            let t = Instant::now();
            if c_path {
                c_verify()?;
                c_ms.push(t.elapsed().as_secs_f64() * 1e3);
            } else {
                rust_verify()?;
                rust_ms.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    let (r, c) = (median(&mut rust_ms), median(&mut c_ms));
    println!("distance {dr} (both paths, bit for bit)");
    println!("{rounds} rounds each, alternating: Rust median {r:.2} ms, C median {c:.2} ms");
    println!("C / Rust = {:.4}", c / r);
    // SAFETY: made by fg_pipeline_new above, freed once.
    unsafe { fg_pipeline_free(c_pipeline) };
    Ok(())
}
