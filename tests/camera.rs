//! Camera frames: every format converts to the right colours, strides with padding are
//! honoured, every rotation and mirror lands each pixel where it belongs, and every
//! malformed layout is a typed error — never a panic (a property test throws random
//! layouts at it).

use facegate::camera::{
    CameraError, CameraImage, Orientation, PixelFormat, Plane, Rotation, YuvRange,
};
use facegate::frame::{DecodeLimits, Frame};
use proptest::prelude::*;

const ALL: [PixelFormat; 8] = [
    PixelFormat::Rgb,
    PixelFormat::Bgr,
    PixelFormat::Rgba,
    PixelFormat::Bgra,
    PixelFormat::Gray,
    PixelFormat::Nv12,
    PixelFormat::Nv21,
    PixelFormat::I420,
];

const ROTATIONS: [Rotation; 4] = [
    Rotation::None,
    Rotation::Cw90,
    Rotation::Cw180,
    Rotation::Cw270,
];

/// Padding bytes: a stride overrun would read these into the picture.
const PAD: u8 = 0xEE;

fn upright() -> Orientation {
    Orientation::default()
}

fn frame_of(image: &CameraImage<'_>, o: Orientation) -> Frame {
    image
        .to_frame(o, &DecodeLimits::default())
        .expect("convert")
}

/// Rows of `row` bytes each, laid out at `stride` with padding bytes after each row.
fn padded(rows: &[Vec<u8>], stride: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for r in rows {
        out.extend_from_slice(r);
        out.resize(out.len() + stride - r.len(), PAD);
    }
    out
}

/// A small RGB test image, every pixel different.
fn rgb_image(w: usize, h: usize) -> Vec<[u8; 3]> {
    (0..w * h)
        .map(|i| {
            [
                (i * 37 % 256) as u8,
                (i * 91 % 256) as u8,
                (255 - i * 13 % 256) as u8,
            ]
        })
        .collect()
}

fn flat(px: &[[u8; 3]]) -> Vec<u8> {
    px.iter().flatten().copied().collect()
}

#[test]
fn packed_formats_with_padded_strides_round_trip_exactly() {
    let (w, h) = (5usize, 3usize);
    let px = rgb_image(w, h);
    type Encode = fn([u8; 3]) -> Vec<u8>;
    let orders: [(PixelFormat, Encode); 4] = [
        (PixelFormat::Rgb, |p| p.to_vec()),
        (PixelFormat::Bgr, |p| vec![p[2], p[1], p[0]]),
        (PixelFormat::Rgba, |p| vec![p[0], p[1], p[2], 9]),
        (PixelFormat::Bgra, |p| vec![p[2], p[1], p[0], 9]),
    ];
    for (format, encode) in orders {
        let rows: Vec<Vec<u8>> = px
            .chunks(w)
            .map(|r| r.iter().flat_map(|&p| encode(p)).collect())
            .collect();
        let row_bytes = rows[0].len();
        for stride in [row_bytes, row_bytes + 3, row_bytes + 64] {
            let data = padded(&rows, stride);
            // With and without the last row's padding (Android leaves it off).
            for cut in [0, stride - row_bytes] {
                let data = &data[..data.len() - cut];
                let image = CameraImage::new(format, w as u32, h as u32, &[Plane { data, stride }])
                    .expect("valid layout");
                let frame = frame_of(&image, upright());
                assert_eq!(frame.rgb(), &flat(&px)[..], "{format:?} stride {stride}");
                let image = CameraImage::contiguous(format, w as u32, h as u32, data, stride)
                    .expect("valid");
                assert_eq!(frame_of(&image, upright()).rgb(), &flat(&px)[..]);
            }
        }
    }
}

#[test]
fn gray_becomes_equal_channels() {
    let data = padded(&[vec![0, 100, 255], vec![7, 8, 9]], 4);
    let image = CameraImage::contiguous(PixelFormat::Gray, 3, 2, &data, 4).expect("valid");
    let frame = frame_of(&image, upright());
    assert_eq!(
        frame.rgb(),
        &[0, 0, 0, 100, 100, 100, 255, 255, 255, 7, 7, 7, 8, 8, 8, 9, 9, 9]
    );
}

/// BT.601 RGB → YUV, the inverse of what the module decodes, in floating point.
fn to_yuv(p: [u8; 3], range: YuvRange) -> [u8; 3] {
    let (r, g, b) = (f64::from(p[0]), f64::from(p[1]), f64::from(p[2]));
    let y = 0.299 * r + 0.587 * g + 0.114 * b;
    let (cb, cr) = ((b - y) / 1.772, (r - y) / 1.402);
    let q = |v: f64| v.round().clamp(0.0, 255.0) as u8;
    match range {
        YuvRange::Limited => [
            q(16.0 + y * 219.0 / 255.0),
            q(128.0 + cb * 224.0 / 255.0),
            q(128.0 + cr * 224.0 / 255.0),
        ],
        YuvRange::Full => [q(y), q(128.0 + cb), q(128.0 + cr)],
    }
}

/// A 6×4 image of 2×2 blocks of one colour each (so 4:2:0 loses nothing), saturated
/// primaries included.
fn block_image() -> (usize, usize, Vec<[u8; 3]>) {
    let colours = [
        [255, 0, 0],
        [0, 255, 0],
        [0, 0, 255],
        [255, 255, 255],
        [0, 0, 0],
        [200, 120, 60],
    ];
    let (w, h) = (6, 4);
    let px = (0..w * h)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            colours[(y / 2) * 3 + x / 2]
        })
        .collect();
    (w, h, px)
}

/// Rows of one plane.
type Rows = Vec<Vec<u8>>;

/// The Y, U and V planes (U and V at half resolution) of `px`, `w × h`.
fn yuv_planes(w: usize, h: usize, px: &[[u8; 3]], range: YuvRange) -> (Rows, Rows, Rows) {
    let yuv: Vec<[u8; 3]> = px.iter().map(|&p| to_yuv(p, range)).collect();
    let y = (0..h)
        .map(|r| (0..w).map(|c| yuv[r * w + c][0]).collect())
        .collect();
    let u = (0..h / 2)
        .map(|r| (0..w / 2).map(|c| yuv[2 * r * w + 2 * c][1]).collect())
        .collect();
    let v = (0..h / 2)
        .map(|r| (0..w / 2).map(|c| yuv[2 * r * w + 2 * c][2]).collect())
        .collect();
    (y, u, v)
}

fn interleave(a: &[Vec<u8>], b: &[Vec<u8>]) -> Vec<Vec<u8>> {
    a.iter()
        .zip(b)
        .map(|(ra, rb)| ra.iter().zip(rb).flat_map(|(&p, &q)| [p, q]).collect())
        .collect()
}

fn assert_close(frame: &Frame, px: &[[u8; 3]], tolerance: u8, what: &str) {
    for (i, (got, want)) in frame.rgb().chunks(3).zip(px).enumerate() {
        for c in 0..3 {
            assert!(
                got[c].abs_diff(want[c]) <= tolerance,
                "{what}: pixel {i} channel {c}: {got:?} vs {want:?}"
            );
        }
    }
}

#[test]
fn yuv_formats_round_trip_known_colours() {
    let (w, h, px) = block_image();
    for range in [YuvRange::Limited, YuvRange::Full] {
        let (y, u, v) = yuv_planes(w, h, &px, range);
        // Strides with padding, different per plane.
        let y_plane = padded(&y, w + 10);
        let uv = padded(&interleave(&u, &v), w + 2);
        let vu = padded(&interleave(&v, &u), w + 6);
        let (u_plane, v_plane) = (padded(&u, w / 2 + 5), padded(&v, w / 2 + 1));
        let yp = Plane {
            data: &y_plane,
            stride: w + 10,
        };
        let cases = [
            (
                PixelFormat::Nv12,
                vec![
                    yp,
                    Plane {
                        data: &uv,
                        stride: w + 2,
                    },
                ],
            ),
            (
                PixelFormat::Nv21,
                vec![
                    yp,
                    Plane {
                        data: &vu,
                        stride: w + 6,
                    },
                ],
            ),
            (
                PixelFormat::I420,
                vec![
                    yp,
                    Plane {
                        data: &u_plane,
                        stride: w / 2 + 5,
                    },
                    Plane {
                        data: &v_plane,
                        stride: w / 2 + 1,
                    },
                ],
            ),
        ];
        for (format, planes) in cases {
            let image = CameraImage::new(format, w as u32, h as u32, &planes)
                .expect("valid layout")
                .with_range(range);
            // Quantising Y, U and V to bytes costs up to ~2 levels, fixed point one more.
            assert_close(
                &frame_of(&image, upright()),
                &px,
                3,
                &format!("{format:?} {range:?}"),
            );
        }
        // One buffer: Y then chroma, as V4L2 lays it out (I420 chroma at half the stride).
        let stride = w + 4;
        let mut nv12 = padded(&y, stride);
        nv12.extend(padded(&interleave(&u, &v), stride));
        let mut nv21 = padded(&y, stride);
        nv21.extend(padded(&interleave(&v, &u), stride));
        let mut i420 = padded(&y, stride);
        i420.extend(padded(&u, stride / 2));
        i420.extend(padded(&v, stride / 2));
        for (format, data) in [
            (PixelFormat::Nv12, &nv12),
            (PixelFormat::Nv21, &nv21),
            (PixelFormat::I420, &i420),
        ] {
            let image = CameraImage::contiguous(format, w as u32, h as u32, data, stride)
                .expect("valid layout")
                .with_range(range);
            assert_close(
                &frame_of(&image, upright()),
                &px,
                3,
                &format!("contiguous {format:?}"),
            );
        }
    }
}

#[test]
fn limited_range_reference_values() {
    // BT.601 video range: Y 16 is black, 235 white; (81, 90, 240) is pure red.
    for ((y, u, v), want) in [
        ((16, 128, 128), [0, 0, 0]),
        ((235, 128, 128), [255, 255, 255]),
        ((81, 90, 240), [255, 0, 0]),
        ((145, 54, 34), [0, 255, 0]),
        ((41, 240, 110), [0, 0, 255]),
    ] {
        let data = [y, y, y, y, u, v];
        let image = CameraImage::contiguous(PixelFormat::Nv12, 2, 2, &data, 2).expect("valid");
        assert_close(
            &frame_of(&image, upright()),
            &[want; 4],
            2,
            &format!("{y},{u},{v}"),
        );
    }
    // Full range reads the same bytes differently: Y 16 is a dark grey, not black.
    let data = [16, 16, 16, 16, 128, 128];
    let image = CameraImage::contiguous(PixelFormat::Nv12, 2, 2, &data, 2)
        .expect("valid")
        .with_range(YuvRange::Full);
    assert_eq!(&frame_of(&image, upright()).rgb()[..3], &[16, 16, 16]);
}

/// 3×2 grey image labelled a..f: a b c / d e f.
const LABELS: [u8; 6] = [1, 2, 3, 4, 5, 6];

fn oriented(rotation: Rotation, mirror: bool) -> (u32, u32, Vec<u8>) {
    let image = CameraImage::contiguous(PixelFormat::Gray, 3, 2, &LABELS, 3).expect("valid");
    let frame = frame_of(&image, Orientation { rotation, mirror });
    let labels = frame.rgb().chunks(3).map(|p| p[0]).collect();
    (frame.width(), frame.height(), labels)
}

#[test]
fn every_rotation_and_mirror_places_each_pixel() {
    let (a, b, c, d, e, f) = (1, 2, 3, 4, 5, 6);
    let cases = [
        (Rotation::None, false, (3, 2), vec![a, b, c, d, e, f]),
        (Rotation::Cw90, false, (2, 3), vec![d, a, e, b, f, c]),
        (Rotation::Cw180, false, (3, 2), vec![f, e, d, c, b, a]),
        (Rotation::Cw270, false, (2, 3), vec![c, f, b, e, a, d]),
        (Rotation::None, true, (3, 2), vec![c, b, a, f, e, d]),
        (Rotation::Cw90, true, (2, 3), vec![a, d, b, e, c, f]),
        (Rotation::Cw180, true, (3, 2), vec![d, e, f, a, b, c]),
        (Rotation::Cw270, true, (2, 3), vec![f, c, e, b, d, a]),
    ];
    for (rotation, mirror, size, want) in cases {
        let (w, h, got) = oriented(rotation, mirror);
        assert_eq!((w, h), size, "{rotation:?} mirror {mirror}");
        assert_eq!(got, want, "{rotation:?} mirror {mirror}");
    }
    assert_eq!(Rotation::from_degrees(270).expect("valid"), Rotation::Cw270);
    assert!(matches!(
        Rotation::from_degrees(45),
        Err(CameraError::Rotation(45))
    ));
}

#[test]
fn yuv_orientation_matches_rgb_orientation() {
    // A 4:2:0 frame rotated and mirrored equals its upright conversion rotated as RGB.
    let (w, h, px) = block_image();
    let (y, u, v) = yuv_planes(w, h, &px, YuvRange::Limited);
    let mut i420 = padded(&y, w);
    i420.extend(padded(&u, w / 2));
    i420.extend(padded(&v, w / 2));
    let image =
        CameraImage::contiguous(PixelFormat::I420, w as u32, h as u32, &i420, w).expect("valid");
    let straight = frame_of(&image, upright());
    let as_rgb =
        CameraImage::contiguous(PixelFormat::Rgb, w as u32, h as u32, straight.rgb(), w * 3)
            .expect("valid");
    for rotation in ROTATIONS {
        for mirror in [false, true] {
            let o = Orientation { rotation, mirror };
            let a = frame_of(&image, o);
            let b = frame_of(&as_rgb, o);
            assert_eq!((a.width(), a.height()), (b.width(), b.height()));
            assert_eq!(a.rgb(), b.rgb(), "{rotation:?} mirror {mirror}");
        }
    }
}

#[test]
fn malformed_layouts_are_typed_errors() {
    let buf = vec![0u8; 4096];
    let p = |len: usize, stride: usize| Plane {
        data: &buf[..len],
        stride,
    };
    let e = |r: Result<CameraImage<'_>, CameraError>| r.expect_err("must be refused");

    assert!(matches!(
        e(CameraImage::new(PixelFormat::Rgb, 0, 2, &[p(0, 0)])),
        CameraError::ZeroSize
    ));
    assert!(matches!(
        e(CameraImage::contiguous(PixelFormat::Nv12, 4, 0, &buf, 4)),
        CameraError::ZeroSize
    ));
    // 4:2:0 needs even sizes.
    assert!(matches!(
        e(CameraImage::new(
            PixelFormat::Nv12,
            5,
            4,
            &[p(20, 5), p(10, 5)]
        )),
        CameraError::OddSize {
            width: 5,
            height: 4,
            ..
        }
    ));
    assert!(matches!(
        e(CameraImage::contiguous(
            PixelFormat::I420,
            4,
            3,
            &buf[..18],
            4
        )),
        CameraError::OddSize { .. }
    ));
    // Plane counts.
    assert!(matches!(
        e(CameraImage::new(
            PixelFormat::Rgb,
            2,
            2,
            &[p(12, 6), p(12, 6)]
        )),
        CameraError::PlaneCount {
            expected: 1,
            actual: 2,
            ..
        }
    ));
    assert!(matches!(
        e(CameraImage::new(
            PixelFormat::I420,
            4,
            2,
            &[p(8, 4), p(2, 2)]
        )),
        CameraError::PlaneCount {
            expected: 3,
            actual: 2,
            ..
        }
    ));
    // Strides shorter than a row, per plane.
    assert!(matches!(
        e(CameraImage::new(PixelFormat::Rgba, 3, 2, &[p(24, 11)])),
        CameraError::StrideTooSmall {
            plane: "pixels",
            stride: 11,
            min: 12
        }
    ));
    assert!(matches!(
        e(CameraImage::new(
            PixelFormat::Nv21,
            4,
            2,
            &[p(8, 4), p(3, 3)]
        )),
        CameraError::StrideTooSmall {
            plane: "VU",
            min: 4,
            ..
        }
    ));
    assert!(matches!(
        e(CameraImage::new(
            PixelFormat::I420,
            4,
            2,
            &[p(8, 4), p(2, 2), p(1, 1)]
        )),
        CameraError::StrideTooSmall {
            plane: "V",
            min: 2,
            ..
        }
    ));
    assert!(matches!(
        e(CameraImage::contiguous(
            PixelFormat::Bgr,
            4,
            2,
            &buf[..24],
            11
        )),
        CameraError::StrideTooSmall { min: 12, .. }
    ));
    // A plane one byte short, and one longer than all its padded rows.
    assert!(matches!(
        e(CameraImage::new(PixelFormat::Rgb, 2, 2, &[p(11, 6)])),
        CameraError::PlaneLength {
            len: 11,
            min: 12,
            max: 12,
            ..
        }
    ));
    assert!(matches!(
        e(CameraImage::new(PixelFormat::Gray, 2, 2, &[p(9, 4)])),
        CameraError::PlaneLength { min: 6, max: 8, .. }
    ));
    assert!(matches!(
        e(CameraImage::new(
            PixelFormat::Nv12,
            4,
            2,
            &[p(8, 4), p(3, 4)]
        )),
        CameraError::PlaneLength { plane: "UV", .. }
    ));
    // One buffer too short or too long for its layout.
    assert!(matches!(
        e(CameraImage::contiguous(
            PixelFormat::Nv12,
            4,
            2,
            &buf[..11],
            4
        )),
        CameraError::BufferLength {
            len: 11,
            min: 12,
            max: 12
        }
    ));
    assert!(matches!(
        e(CameraImage::contiguous(
            PixelFormat::I420,
            4,
            2,
            &buf[..13],
            4
        )),
        CameraError::BufferLength {
            min: 12,
            max: 12,
            ..
        }
    ));
    // An absurd size is refused without allocating: no buffer can back it.
    assert!(matches!(
        e(CameraImage::contiguous(
            PixelFormat::Rgb,
            100_000,
            100_000,
            &buf,
            300_000
        )),
        CameraError::BufferLength { .. }
    ));
    assert!(matches!(
        e(CameraImage::contiguous(
            PixelFormat::Gray,
            4,
            2,
            &buf[..8],
            usize::MAX
        )),
        CameraError::BufferLength { .. }
    ));
}

#[test]
fn limits_refuse_large_frames_before_converting() {
    let data = vec![0u8; 6 * 2];
    let image = CameraImage::contiguous(PixelFormat::Gray, 6, 2, &data, 6).expect("valid");
    let narrow = DecodeLimits {
        max_width: 4,
        ..DecodeLimits::default()
    };
    assert!(matches!(
        image.to_frame(upright(), &narrow),
        Err(CameraError::TooLarge {
            width: 6,
            height: 2,
            ..
        })
    ));
    // Rotated, the frame is 2 wide and 6 high: the same limits now apply to its height.
    let turned = Orientation {
        rotation: Rotation::Cw90,
        mirror: false,
    };
    assert!(image.to_frame(turned, &narrow).is_ok());
    let short = DecodeLimits {
        max_height: 4,
        ..DecodeLimits::default()
    };
    assert!(matches!(
        image.to_frame(turned, &short),
        Err(CameraError::TooLarge {
            width: 2,
            height: 6,
            ..
        })
    ));
    let tiny_alloc = DecodeLimits {
        max_alloc_bytes: 35,
        ..DecodeLimits::default()
    };
    assert!(matches!(
        image.to_frame(upright(), &tiny_alloc),
        Err(CameraError::TooLarge { .. })
    ));
}

#[test]
fn debug_prints_no_pixel() {
    let data = [17u8, 34, 51, 68, 85, 102];
    let image = CameraImage::contiguous(PixelFormat::Nv12, 2, 2, &data, 2).expect("valid");
    assert_eq!(format!("{image:?}"), "CameraImage(Nv12 2×2)");
    let plane = Plane {
        data: &data,
        stride: 2,
    };
    assert_eq!(format!("{plane:?}"), "Plane(6 bytes, stride 2)");
}

fn dimension() -> impl Strategy<Value = u32> {
    prop_oneof![8 => 0u32..24, 1 => Just(100_000u32), 1 => any::<u32>()]
}

fn stride() -> impl Strategy<Value = usize> {
    prop_oneof![8 => 0usize..100, 1 => Just(usize::MAX), 1 => any::<usize>()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Random layouts never panic; an accepted one converts to a frame of the right size.
    #[test]
    fn random_layouts_never_panic(
        format in prop::sample::select(ALL.to_vec()),
        width in dimension(),
        height in dimension(),
        stride in stride(),
        len in 0usize..3000,
        rotation in prop::sample::select(ROTATIONS.to_vec()),
        mirror in any::<bool>(),
        split in 0usize..3000,
        chroma_stride in stride(),
        fit in any::<bool>(),
    ) {
        // Half the time, a buffer exactly as long as the padded layout: those must convert.
        let small = width < 64 && height < 64 && stride < 1000;
        let (w, h) = (width as usize, height as usize);
        let len = match format {
            _ if !(fit && small) => len,
            PixelFormat::Nv12 | PixelFormat::Nv21 => stride * h + stride * (h / 2),
            PixelFormat::I420 => stride * h + 2 * (stride / 2) * (h / 2),
            _ => stride * h,
        };
        let bpp = match format {
            PixelFormat::Rgb | PixelFormat::Bgr => 3,
            PixelFormat::Rgba | PixelFormat::Bgra => 4,
            _ => 1,
        };
        let must_fit = fit && small && w > 0 && h > 0 && stride >= w * bpp
            && (!format.is_420() || (w % 2 == 0 && h % 2 == 0));
        let buf = vec![0x80u8; len];
        let o = Orientation { rotation, mirror };
        let limits = DecodeLimits::default();
        let check = |image: CameraImage<'_>| {
            if let Ok(frame) = image.to_frame(o, &limits) {
                let (w, h) = if matches!(rotation, Rotation::Cw90 | Rotation::Cw270) {
                    (height, width)
                } else {
                    (width, height)
                };
                prop_assert_eq!((frame.width(), frame.height()), (w, h));
                prop_assert_eq!(frame.rgb().len(), w as usize * h as usize * 3);
            }
            Ok(())
        };
        match CameraImage::contiguous(format, width, height, &buf, stride) {
            Ok(image) => check(image)?,
            Err(e) => prop_assert!(!must_fit, "a fitting layout was refused: {}", e),
        }
        let cut = split.min(len);
        let (a, b) = buf.split_at(cut);
        let (b, c) = b.split_at(b.len() / 2);
        let planes = [
            Plane { data: a, stride },
            Plane { data: b, stride: chroma_stride },
            Plane { data: c, stride: chroma_stride },
        ];
        if let Ok(image) = CameraImage::new(format, width, height, &planes[..format.planes()]) {
            check(image)?;
        }
    }
}
