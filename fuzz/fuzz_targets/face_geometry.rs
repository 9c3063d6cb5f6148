//! The capture's geometry after the networks, on boxes and landmarks the fuzzer chooses:
//! the quality gate, alignment onto the chip, the similarity fit, head pose and the
//! parallax residual. The networks' outputs reach these as plain numbers, so anything a
//! broken or adversarial frame could make a network say (NaN, infinities, 1e38, coincident
//! or collinear points, boxes outside the frame) is tried here, thousands of times faster
//! than through `face_capture`, which runs the whole cascade. Beyond "no panic":
//! - the gate returns one of the faces it was given, with finite eyes and a finite,
//!   positive box area;
//! - alignment succeeds only on finite landmarks, and then gives a chip of the size asked
//!   (150 × 150 for the gated face);
//! - a fitted similarity has a finite, positive scale;
//! - a head pose, when one is estimated, has finite angles;
//! - a parallax residual, when one is given, is finite and not negative.
#![no_main]

use facegate::align::{self, Similarity};
use facegate::detect::{Detection, Landmarks};
use facegate::frame::Frame;
use facegate::geometry::{Point, Rect};
use facegate::liveness::{parallax, pose};
use facegate::quality::{self, QualityConfig, SeveralFaces};
use libfuzzer_sys::fuzz_target;

/// Reads numbers from the fuzzer's bytes: mostly plausible pixel coordinates (±512 px in
/// 1/64 px), one in eight a raw f32 (NaN, infinities, subnormals, 1e38).
struct Numbers<'a>(&'a [u8]);

impl Numbers<'_> {
    fn byte(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        b
    }

    fn value(&mut self) -> f32 {
        if self.byte() % 8 == 0 {
            f32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
        } else {
            f32::from(i16::from_le_bytes([self.byte(), self.byte()])) / 64.0
        }
    }

    fn point(&mut self) -> Point {
        Point::new(self.value(), self.value())
    }

    fn landmarks(&mut self) -> Landmarks {
        Landmarks::from_array([
            self.point(),
            self.point(),
            self.point(),
            self.point(),
            self.point(),
        ])
    }

    fn detection(&mut self) -> Detection {
        Detection {
            bbox: Rect {
                x: self.value(),
                y: self.value(),
                width: self.value(),
                height: self.value(),
            },
            score: self.value(),
            landmarks: self.landmarks(),
        }
    }
}

fn finite(l: &Landmarks) -> bool {
    l.to_array().iter().all(|p| p.x.is_finite() && p.y.is_finite())
}

fuzz_target!(|data: &[u8]| {
    let mut n = Numbers(data);
    // A small painted frame: the chip sampler reads it wherever the landmarks point.
    let width = u32::from(n.byte() % 96).max(1);
    let height = u32::from(n.byte() % 96).max(1);
    let shade = n.byte();
    let rgb = (0..width * height * 3)
        .map(|i| (i as u8).wrapping_mul(shade))
        .collect();
    let Ok(frame) = Frame::from_rgb(width, height, rgb) else {
        return;
    };
    let faces: Vec<Detection> = (0..1 + n.byte() % 4).map(|_| n.detection()).collect();

    // The gate, then the full 150 × 150 alignment of the face it chose (at most one per
    // input: cutting a full chip is most of a run's time).
    let mut chosen = None;
    for several in [SeveralFaces::Reject, SeveralFaces::Largest, SeveralFaces::Central] {
        let config = QualityConfig {
            several_faces: several,
            ..QualityConfig::default()
        };
        if let Ok(face) = quality::select(&faces, (width, height), &config) {
            assert!(faces.iter().any(|f| std::ptr::eq(f, face)));
            let (l, r) = (face.landmarks.left_eye, face.landmarks.right_eye);
            assert!(l.x.is_finite() && l.y.is_finite() && r.x.is_finite() && r.y.is_finite());
            let area = face.bbox.area();
            assert!(area.is_finite() && area > 0.0);
            chosen = Some(*face);
        }
    }
    if let Some(face) = chosen {
        if let Ok(chip) = align::align(&frame, &face.landmarks) {
            assert!(finite(&face.landmarks));
            assert_eq!(chip.size(), align::CHIP_SIZE);
            assert_eq!(chip.rgb().len(), 150 * 150 * 3);
            let _ = quality::check_chip(&chip, &QualityConfig::default());
        }
    }

    // Every face, gated or not, through the same alignment at a small chip size and any
    // padding: the same fit and sampler (and its pyramid steps when the face is large).
    let size = u32::from(n.byte() % 48);
    let padding = f32::from(n.byte()) / 100.0;
    for face in &faces {
        let _ = (quality::yaw_ratio(face), quality::roll_degrees(face));
        let points = face.landmarks.to_array();
        let cut = align::align_to_template(&frame, &points, &align::MTCNN_TEMPLATE, size, padding);
        if let Ok(chip) = cut {
            assert!(finite(&face.landmarks));
            assert_eq!(chip.size(), size);
            assert_eq!(chip.rgb().len(), (size * size * 3) as usize);
        }
        if let Ok(p) = pose::estimate(&face.landmarks) {
            assert!(p.yaw.is_finite() && p.pitch.is_finite() && p.roll.is_finite());
        }
    }

    let (a, b) = (faces[0].landmarks, n.landmarks());
    if let Ok(s) = Similarity::fit(&a.to_array(), &b.to_array()) {
        assert!(s.scale().is_finite() && s.scale() > 0.0);
    }
    if let Some(r) = parallax::planar_residual(&a, &b) {
        assert!(r.is_finite() && r >= 0.0, "residual {r}");
    }
});
