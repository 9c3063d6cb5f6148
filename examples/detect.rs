//! Prints the faces and landmarks found in each image given on the command line, with the
//! detection time. `cargo run --release --example detect -- IMAGE...`
use facegate::detect::{Detector, DetectorConfig};
use facegate::frame::{DecodeLimits, Frame};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let min_face: f32 = std::env::var("MIN_FACE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40.0);
    let detector = Detector::with_default_models(DetectorConfig {
        min_face,
        ..Default::default()
    })?;
    for path in std::env::args().skip(1) {
        let frame = Frame::open(&path, &DecodeLimits::default())?;
        let _ = detector.detect(&frame)?; // plan the pyramid shapes once
        let t = std::time::Instant::now();
        let faces = detector.detect(&frame)?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        println!(
            "{path}: {}×{} {} face(s) in {ms:.1} ms",
            frame.width(),
            frame.height(),
            faces.len()
        );
        for f in faces {
            let p = f.landmarks.to_array();
            println!(
                "  box ({:.0},{:.0} {:.0}×{:.0}) score {:.3} eyes ({:.1},{:.1}) ({:.1},{:.1}) nose ({:.1},{:.1}) mouth ({:.1},{:.1}) ({:.1},{:.1})",
                f.bbox.x, f.bbox.y, f.bbox.width, f.bbox.height, f.score,
                p[0].x, p[0].y, p[1].x, p[1].y, p[2].x, p[2].y, p[3].x, p[3].y, p[4].x, p[4].y
            );
        }
    }
    Ok(())
}
