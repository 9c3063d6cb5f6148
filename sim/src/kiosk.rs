//! The benchmarks' kiosk frame: a portrait scaled so its face is about 200 px wide and cropped
//! to 640×480 around it, as a kiosk camera at arm's length sees a person. `facegate bench` and
//! `cargo bench --bench face` time the same frame.

use std::io::Cursor;

use facegate::frame::{DecodeLimits, Frame};
use facegate::FacePipeline;

/// Frame width, pixels.
pub const WIDTH: u32 = 640;
/// Frame height, pixels.
pub const HEIGHT: u32 = 480;
/// Width of the face in the frame, pixels.
pub const FACE_PX: f32 = 200.0;

/// The kiosk frame made from `portrait` (encoded image bytes with one face), as a JPEG of
/// quality 90.
pub fn kiosk_jpeg(pipeline: &FacePipeline, portrait: &[u8]) -> Result<Vec<u8>, String> {
    let original = Frame::decode(portrait, &DecodeLimits::default()).map_err(|e| e.to_string())?;
    let faces = pipeline.detect(&original).map_err(|e| e.to_string())?;
    let face = faces.first().ok_or("no face in the portrait")?.bbox;
    let img = image::load_from_memory(portrait)
        .map_err(|e| e.to_string())?
        .to_rgb8();
    let scale = FACE_PX / face.width;
    let (sw, sh) = (
        (img.width() as f32 * scale).round() as u32,
        (img.height() as f32 * scale).round() as u32,
    );
    if sw < WIDTH || sh < HEIGHT {
        return Err("the portrait is too small to crop".into());
    }
    let scaled = image::imageops::resize(&img, sw, sh, image::imageops::FilterType::Triangle);
    // Centre the crop on the face, clamped to the image.
    let (cx, cy) = (
        (face.x + face.width / 2.0) * scale,
        (face.y + face.height / 2.0) * scale,
    );
    let x0 = (cx - WIDTH as f32 / 2.0).clamp(0.0, (sw - WIDTH) as f32) as u32;
    let y0 = (cy - HEIGHT as f32 / 2.0).clamp(0.0, (sh - HEIGHT) as f32) as u32;
    let crop = image::imageops::crop_imm(&scaled, x0, y0, WIDTH, HEIGHT).to_image();
    let mut jpeg = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut jpeg), 90);
    crop.write_with_encoder(encoder)
        .map_err(|e| e.to_string())?;
    Ok(jpeg)
}
