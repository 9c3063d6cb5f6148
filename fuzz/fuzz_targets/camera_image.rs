//! Camera frames as a kiosk's capture pipeline hands them over: any format, size, stride,
//! buffer length, rotation and mirroring. `CameraImage::contiguous` / `new` must refuse a
//! wrong layout with a typed error, and `to_frame` must convert every accepted one without
//! panicking or reading outside the buffer.
#![no_main]

use facegate::camera::{CameraImage, Orientation, PixelFormat, Plane, Rotation};
use facegate::frame::DecodeLimits;
use libfuzzer_sys::fuzz_target;

const FORMATS: [PixelFormat; 8] = [
    PixelFormat::Rgb,
    PixelFormat::Bgr,
    PixelFormat::Rgba,
    PixelFormat::Bgra,
    PixelFormat::Gray,
    PixelFormat::Nv12,
    PixelFormat::Nv21,
    PixelFormat::I420,
];

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (head, pixels) = data.split_at(8);
    let format = FORMATS[usize::from(head[0]) % FORMATS.len()];
    // Small sizes keep each run fast; the size checks are the same at any size.
    let width = u32::from(head[1] % 64);
    let height = u32::from(head[2] % 64);
    let stride = usize::from(u16::from_le_bytes([head[3], head[4]]) % 512);
    let orientation = Orientation {
        rotation: [Rotation::None, Rotation::Cw90, Rotation::Cw180, Rotation::Cw270]
            [usize::from(head[5] % 4)],
        mirror: head[5] & 4 != 0,
    };
    let limits = DecodeLimits::default();
    let image = if head[6] % 2 == 0 {
        CameraImage::contiguous(format, width, height, pixels, stride)
    } else {
        // Split the buffer into the format's planes at fuzzer-chosen points.
        let n = format.planes();
        let cut = usize::from(head[7]) % (pixels.len() + 1);
        let (a, rest) = pixels.split_at(cut.min(pixels.len()));
        let mid = rest.len() / 2;
        let (b, c) = rest.split_at(mid);
        let all = [
            Plane { data: a, stride },
            Plane { data: b, stride: stride / 2 },
            Plane { data: c, stride: stride / 2 },
        ];
        CameraImage::new(format, width, height, &all[..n])
    };
    if let Ok(image) = image {
        if let Ok(frame) = image.to_frame(orientation, &limits) {
            let (w, h) = match orientation.rotation {
                Rotation::Cw90 | Rotation::Cw270 => (height, width),
                _ => (width, height),
            };
            assert_eq!((frame.width(), frame.height()), (w, h));
        }
    }
});
