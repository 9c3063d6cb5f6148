//! Align: cut the face out of the frame as the canonical chip the embedding network was
//! trained on.
//!
//! Why it matters: dlib's ResNet was trained on 150×150 chips made by
//! `get_face_chip_details(shape, 150, 0.25)` + `extract_image_chip` from dlib's 5-point
//! landmarks (eye corners, nose base). Any other framing — a little larger, shifted,
//! rotated — moves the face off the distribution the network knows and costs accuracy.
//! So alignment reproduces dlib's geometry exactly: a least-squares similarity transform
//! (rotation, uniform scale, translation — never shear, which would distort identity) from
//! template points in the chip onto the landmarks in the frame, then bilinear sampling.
//!
//! MTCNN's landmarks are different points (eye *centres*, nose *tip*, mouth corners), so
//! they need their own template: [`MTCNN_TEMPLATE`] holds where those points fall, on
//! average, in dlib's chips (measured, see the constant's documentation). YuNet's points
//! are the same kinds but placed differently, so they have their own [`YUNET_TEMPLATE`].

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::detect::Landmarks;
use crate::frame::Frame;
use crate::geometry::Point;

/// Side of the chip the default embedder takes.
pub const CHIP_SIZE: u32 = 150;
/// dlib's padding for the face-recognition chips.
pub const CHIP_PADDING: f32 = 0.25;

/// dlib's 5-point template (`get_face_chip_details`), unpadded unit coordinates, in the
/// order of dlib's 5-point shape predictor: image-right eye outer and inner corner,
/// image-left eye outer and inner corner, nose base.
pub const DLIB_TEMPLATE: [Point; 5] = [
    Point::new(0.859_567_46, 0.213_498_15),
    Point::new(0.646_060_5, 0.228_967_44),
    Point::new(0.120_575_06, 0.213_727_45),
    Point::new(0.334_085_06, 0.229_064_24),
    Point::new(0.490_112_3, 0.627_797_5),
];

/// Where MTCNN's five points (image-left eye centre, image-right eye centre, nose tip,
/// image-left mouth corner, image-right mouth corner) fall in dlib's chips, in the same
/// unpadded unit coordinates as [`DLIB_TEMPLATE`].
///
/// Measured, not guessed: the median position of this crate's MTCNN landmarks mapped into
/// the chip frame that dlib's own pipeline (HOG detector, 5-point predictor, 150/0.25
/// chip) chose for the same image, over 6,981 single-face LFW images
/// (`examples/calibrate_template.rs`; interquartile ranges 0.02 for the eyes, 0.05–0.08
/// for nose and mouth). A template measured the same way on dlib's 36 example faces
/// instead of LFW changed LFW accuracy by less than 0.05 %, so it does not overfit LFW.
pub const MTCNN_TEMPLATE: [Point; 5] = [
    Point::new(0.2277, 0.2093),
    Point::new(0.7704, 0.2096),
    Point::new(0.4962, 0.5356),
    Point::new(0.2616, 0.8121),
    Point::new(0.7335, 0.8137),
];

/// Where YuNet's five points (same kinds and order as MTCNN's: image-left eye, image-right
/// eye, nose tip, image-left and image-right mouth corner) fall in dlib's chips, in the same
/// unpadded unit coordinates as [`DLIB_TEMPLATE`].
///
/// YuNet's points sit 1–11 % of the inter-ocular distance away from MTCNN's on the same
/// face (its eyes a little lower, its mouth corners higher), so [`MTCNN_TEMPLATE`] does not
/// fit them. Measured by transfer through [`MTCNN_TEMPLATE`]: on 2,000 LFW-dev images of
/// identities A–E (F–J held out), where both detectors found the central face (all 2,000
/// with the shipped `yunet_n`), the similarity mapping MTCNN's landmarks onto
/// [`MTCNN_TEMPLATE`] was fitted, YuNet's landmarks were mapped through it, and the
/// per-point median taken (`examples/calibrate_yunet_template.rs`; interquartile ranges
/// 0.034–0.043 for eyes and mouth, 0.095 × 0.042 for the nose tip).
pub const YUNET_TEMPLATE: [Point; 5] = [
    Point::new(0.2226, 0.2188),
    Point::new(0.7720, 0.2231),
    Point::new(0.4936, 0.5363),
    Point::new(0.2564, 0.7916),
    Point::new(0.7346, 0.7945),
];

/// Errors aligning a face.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AlignError {
    /// The landmarks are degenerate (coincident, non-finite): no transform exists.
    #[error("landmarks are degenerate; cannot align the face")]
    Degenerate,
    /// Point lists of different lengths or fewer than two points.
    #[error("need at least two matching point pairs")]
    PointCount,
    /// A chip buffer of the wrong size.
    #[error("chip must be {expected}×{expected} RGB")]
    ChipSize {
        /// Expected side.
        expected: u32,
    },
}

/// A similarity transform `p ↦ s·R·p + t`, stored as `[a, -b; b, a]·p + t`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Similarity {
    a: f64,
    b: f64,
    tx: f64,
    ty: f64,
}

impl Similarity {
    /// Least-squares similarity mapping `from[i]` onto `to[i]` (Umeyama 1991, no reflection).
    pub fn fit(from: &[Point], to: &[Point]) -> Result<Similarity, AlignError> {
        if from.len() != to.len() || from.len() < 2 {
            return Err(AlignError::PointCount);
        }
        let all_finite = from
            .iter()
            .chain(to)
            .all(|p| p.x.is_finite() && p.y.is_finite());
        if !all_finite {
            return Err(AlignError::Degenerate);
        }
        let wide = |ps: &[Point]| -> Vec<[f64; 2]> {
            ps.iter()
                .map(|p| [f64::from(p.x), f64::from(p.y)])
                .collect()
        };
        match crate::geometry::fit_similarity(&wide(from), &wide(to)) {
            // A transform that collapses the face to a point is no alignment.
            Some([a, b, tx, ty]) if a * a + b * b >= 1e-24 => Ok(Similarity { a, b, tx, ty }),
            _ => Err(AlignError::Degenerate),
        }
    }

    /// Applies the transform.
    pub fn apply(&self, p: Point) -> Point {
        let (x, y) = (f64::from(p.x), f64::from(p.y));
        Point::new(
            (self.a * x - self.b * y + self.tx) as f32,
            (self.b * x + self.a * y + self.ty) as f32,
        )
    }

    /// The uniform scale factor.
    pub fn scale(&self) -> f64 {
        self.a.hypot(self.b)
    }

    /// The rotation angle in radians.
    pub fn angle(&self) -> f64 {
        self.b.atan2(self.a)
    }
}

/// An aligned face chip: `size × size` RGB, zeroized on drop, never cloned.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Chip {
    #[zeroize(skip)]
    size: u32,
    rgb: Vec<u8>,
}

impl std::fmt::Debug for Chip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Chip({0}×{0})", self.size)
    }
}

impl Chip {
    /// Wraps an already aligned `size × size` RGB chip (e.g. one made by dlib).
    pub fn from_rgb(size: u32, rgb: Vec<u8>) -> Result<Chip, AlignError> {
        let mut rgb = rgb;
        if size == 0 || rgb.len() as u64 != u64::from(size) * u64::from(size) * 3 {
            rgb.zeroize();
            return Err(AlignError::ChipSize { expected: size });
        }
        Ok(Chip { size, rgb })
    }

    /// Takes a whole frame as a chip; it must be square.
    pub fn from_frame(frame: &Frame) -> Result<Chip, AlignError> {
        if frame.width() != frame.height() {
            return Err(AlignError::ChipSize {
                expected: frame.width(),
            });
        }
        Chip::from_rgb(frame.width(), frame.rgb().to_vec())
    }

    /// Side in pixels.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// RGB bytes, row-major.
    pub fn rgb(&self) -> &[u8] {
        &self.rgb
    }

    /// The chip mirrored left–right.
    pub fn mirrored(&self) -> Chip {
        let s = self.size as usize;
        let mut rgb = vec![0u8; self.rgb.len()];
        for y in 0..s {
            for x in 0..s {
                let src = (y * s + (s - 1 - x)) * 3;
                let dst = (y * s + x) * 3;
                rgb[dst..dst + 3].copy_from_slice(&self.rgb[src..src + 3]);
            }
        }
        Chip {
            size: self.size,
            rgb,
        }
    }
}

/// Aligns a face from MTCNN landmarks onto the default 150×150, 0.25-padded chip.
pub fn align(frame: &Frame, landmarks: &Landmarks) -> Result<Chip, AlignError> {
    align_to_template(
        frame,
        &landmarks.to_array(),
        &MTCNN_TEMPLATE,
        CHIP_SIZE,
        CHIP_PADDING,
    )
}

/// Aligns `points` (landmarks in the frame) onto `template` (unpadded unit coordinates of
/// the same points) in a `size × size` chip with `padding`, exactly as dlib's
/// `get_face_chip_details` + `extract_image_chip` do.
pub fn align_to_template(
    frame: &Frame,
    points: &[Point],
    template: &[Point],
    size: u32,
    padding: f32,
) -> Result<Chip, AlignError> {
    if size == 0 || size > 1024 || !(0.0..=2.0).contains(&padding) {
        return Err(AlignError::ChipSize { expected: size });
    }
    let s = size as f32;
    let chip_points: Vec<Point> = template
        .iter()
        .map(|p| {
            Point::new(
                (padding + p.x) / (2.0 * padding + 1.0) * s,
                (padding + p.y) / (2.0 * padding + 1.0) * s,
            )
        })
        .collect();
    let tform = Similarity::fit(&chip_points, points)?;
    Ok(extract(frame, &tform, size))
}

/// A float rectangle with dlib's `drectangle` conventions (inclusive: width = r − l + 1).
#[derive(Clone, Copy, Debug)]
struct DRect {
    l: f64,
    t: f64,
    r: f64,
    b: f64,
}

impl DRect {
    fn area(&self) -> f64 {
        if self.r < self.l || self.b < self.t {
            0.0
        } else {
            (self.r - self.l + 1.0) * (self.b - self.t + 1.0)
        }
    }

    fn centre(&self) -> (f64, f64) {
        ((self.l + self.r) / 2.0, (self.t + self.b) / 2.0)
    }

    /// `pyramid_down<2>::rect_down`.
    fn down(&self) -> DRect {
        DRect {
            l: self.l / 2.0 - 1.25,
            t: self.t / 2.0 - 0.75,
            r: self.r / 2.0 - 1.25,
            b: self.b / 2.0 - 0.75,
        }
    }
}

/// An RGB image region owned while a chip is cut; wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
struct Plane {
    #[zeroize(skip)]
    w: usize,
    #[zeroize(skip)]
    h: usize,
    px: Vec<u8>,
}

impl Plane {
    /// dlib's `pyramid_down<2>`: 5×5 binomial filter ([1 4 6 4 1]²/256, truncating),
    /// keeping every other row and column; output ((h−3)/2) × ((w−3)/2).
    fn pyramid_down(&self) -> Plane {
        if self.w <= 8 || self.h <= 8 {
            return Plane {
                w: 0,
                h: 0,
                px: Vec::new(),
            };
        }
        const K: [u32; 5] = [1, 4, 6, 4, 1];
        let tw = (self.w - 3) / 2;
        let mut temp = Zeroizing::new(vec![0u32; self.h * tw * 3]);
        for r in 0..self.h {
            for c in 0..tw {
                for ch in 0..3 {
                    let mut acc = 0;
                    for (k, wt) in K.iter().enumerate() {
                        acc += wt * u32::from(self.px[(r * self.w + 2 * c + k) * 3 + ch]);
                    }
                    temp[(r * tw + c) * 3 + ch] = acc;
                }
            }
        }
        let (nw, nh) = (tw, (self.h - 3) / 2);
        let mut px = vec![0u8; nw * nh * 3];
        let mut dr = 0;
        let mut r = 2;
        while r + 2 < self.h && dr < nh {
            for c in 0..nw {
                for ch in 0..3 {
                    let mut acc = 0;
                    for (k, wt) in K.iter().enumerate() {
                        acc += wt * temp[((r - 2 + k) * tw + c) * 3 + ch];
                    }
                    px[(dr * nw + c) * 3 + ch] = (acc / 256).min(255) as u8;
                }
            }
            dr += 1;
            r += 2;
        }
        Plane { w: nw, h: nh, px }
    }
}

fn rotate(centre: (f64, f64), p: (f64, f64), cos: f64, sin: f64) -> (f64, f64) {
    let (x, y) = (p.0 - centre.0, p.1 - centre.1);
    (cos * x - sin * y + centre.0, sin * x + cos * y + centre.1)
}

/// dlib's `extract_image_chip` for one chip, step by step: the chip rectangle is centred
/// at the transformed chip centre, `n·scale − 1` wide, rotated by the transform's angle;
/// when it is more than twice the chip, the frame region around it is first reduced
/// with dlib's image pyramid; then each chip pixel is sampled bilinearly (truncated to
/// an integer, black where the four neighbours are not all inside).
fn extract(frame: &Frame, tform: &Similarity, size: u32) -> Chip {
    let n = size as usize;
    let chip_area = (n * n) as f64;
    let half = f64::from(size) / 2.0;
    let scale = tform.scale();
    let angle = tform.angle();
    let (cos, sin) = (angle.cos(), angle.sin());
    let c = tform.apply(Point::new(half as f32, half as f32));
    let (cx, cy) = (f64::from(c.x), f64::from(c.y));
    let wdt = f64::from(size) * scale - 1.0;
    let rect = DRect {
        l: cx - wdt / 2.0,
        t: cy - wdt / 2.0,
        r: cx + wdt / 2.0,
        b: cy + wdt / 2.0,
    };
    let black = || Chip {
        size,
        rgb: vec![0u8; n * n * 3],
    };
    if !(rect.l.is_finite() && rect.t.is_finite() && wdt.is_finite() && wdt > 0.0) {
        return black();
    }

    // Pyramid depth and the border it needs.
    let mut depth = 0usize;
    let mut grow = 2.0;
    let mut r = rect.down();
    while r.area() > chip_area && depth < 16 {
        r = r.down();
        depth += 1;
        grow = grow * 2.0 + 2.0;
    }
    // The frame region that holds the rotated rectangle, grown, clipped, rounded.
    let corners = [
        (rect.l, rect.t),
        (rect.r, rect.t),
        (rect.l, rect.b),
        (rect.r, rect.b),
    ]
    .map(|p| rotate(rect.centre(), p, cos, sin));
    let (fw, fh) = (frame.width() as f64, frame.height() as f64);
    let min_x = corners.iter().map(|p| p.0).fold(f64::INFINITY, f64::min) - grow;
    let min_y = corners.iter().map(|p| p.1).fold(f64::INFINITY, f64::min) - grow;
    let max_x = corners
        .iter()
        .map(|p| p.0)
        .fold(f64::NEG_INFINITY, f64::max)
        + grow;
    let max_y = corners
        .iter()
        .map(|p| p.1)
        .fold(f64::NEG_INFINITY, f64::max)
        + grow;
    let round = |v: f64| (v + 0.5).floor();
    let bl = round(min_x.max(0.0));
    let bt = round(min_y.max(0.0));
    let br = round(max_x.min(fw - 1.0));
    let bb = round(max_y.min(fh - 1.0));
    if br < bl || bb < bt {
        return black();
    }
    let (bl, bt, br, bb) = (bl as usize, bt as usize, br as usize, bb as usize);
    let (sw, sh) = (br - bl + 1, bb - bt + 1);
    let src = frame.rgb();
    let fwu = frame.width() as usize;
    let mut px = vec![0u8; sw * sh * 3];
    for y in 0..sh {
        let from = ((bt + y) * fwu + bl) * 3;
        px[y * sw * 3..(y + 1) * sw * 3].copy_from_slice(&src[from..from + sw * 3]);
    }
    let mut plane = Plane { w: sw, h: sh, px };

    // Which pyramid level to sample from, and the rectangle in its coordinates.
    let mut r = DRect {
        l: rect.l - bl as f64,
        t: rect.t - bt as f64,
        r: rect.r - bl as f64,
        b: rect.b - bt as f64,
    };
    let mut level = 0usize;
    while r.down().area() > chip_area && level < depth {
        level += 1;
        r = r.down();
    }
    for _ in 0..level {
        plane = plane.pyramid_down();
    }

    // Chip corners (0,0), (n−1,0), (0,n−1) map to the rotated rectangle's corners.
    let ctr = r.centre();
    let o = rotate(ctr, (r.l, r.t), cos, sin);
    let tr = rotate(ctr, (r.r, r.t), cos, sin);
    let blc = rotate(ctr, (r.l, r.b), cos, sin);
    let steps = if n > 1 { (n - 1) as f64 } else { 1.0 };
    let ux = ((tr.0 - o.0) / steps, (tr.1 - o.1) / steps);
    let uy = ((blc.0 - o.0) / steps, (blc.1 - o.1) / steps);
    let mut rgb = vec![0u8; n * n * 3];
    for row in 0..n {
        for col in 0..n {
            let (fc, fr) = (col as f64, row as f64);
            let x = o.0 + ux.0 * fc + uy.0 * fr;
            let y = o.1 + ux.1 * fc + uy.1 * fr;
            if let Some(v) = crate::sample::inside(&plane.px, plane.w, plane.h, x, y) {
                let d = (row * n + col) * 3;
                for ch in 0..3 {
                    // dlib truncates (verified against its chips).
                    rgb[d + ch] = v[ch].clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
    Chip { size, rgb }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_recovers_known_transform() {
        let truth = Similarity {
            a: 1.5 * 0.3f64.cos(),
            b: 1.5 * 0.3f64.sin(),
            tx: 10.0,
            ty: -4.0,
        };
        let from: Vec<Point> = DLIB_TEMPLATE
            .iter()
            .map(|p| Point::new(p.x * 100.0, p.y * 100.0))
            .collect();
        let to: Vec<Point> = from.iter().map(|p| truth.apply(*p)).collect();
        let fit = Similarity::fit(&from, &to).unwrap();
        assert!((fit.scale() - 1.5).abs() < 1e-5);
        assert!((fit.angle() - 0.3).abs() < 1e-5);
        for (p, q) in from.iter().zip(&to) {
            assert!(fit.apply(*p).distance(*q) < 1e-3);
        }
    }

    #[test]
    fn degenerate_points_are_refused() {
        let p = [Point::new(1.0, 1.0); 5];
        assert_eq!(Similarity::fit(&p, &p), Err(AlignError::Degenerate));
        let nan = [Point::new(f32::NAN, 0.0), Point::new(1.0, 1.0)];
        assert_eq!(Similarity::fit(&nan, &nan), Err(AlignError::Degenerate));
        assert_eq!(
            Similarity::fit(&p[..1], &p[..1]),
            Err(AlignError::PointCount)
        );
    }

    #[test]
    fn identity_alignment_samples_at_half_pixel_offset() {
        // A frame that is exactly a chip (template = chip points / n, no padding). dlib's
        // rectangle convention puts chip pixel (c, r) at frame (c + ½, r + ½) at scale 1.
        let n = 20u32;
        let rgb: Vec<u8> = (0..n * n)
            .flat_map(|i| {
                let (x, y) = (i % n, i / n);
                let v = (3 * x + 5 * y) as u8;
                [v, v, v]
            })
            .collect();
        let frame = Frame::from_rgb(n, n, rgb).unwrap();
        let pts: Vec<Point> = [(2.0, 3.0), (17.0, 3.0), (9.0, 15.0)]
            .iter()
            .map(|&(x, y)| Point::new(x, y))
            .collect();
        let template: Vec<Point> = pts
            .iter()
            .map(|p| Point::new(p.x / n as f32, p.y / n as f32))
            .collect();
        let chip = align_to_template(&frame, &pts, &template, n, 0.0).unwrap();
        for r in 0..(n - 2) as usize {
            for c in 0..(n - 2) as usize {
                let expected = (3 * c + 5 * r + 4) as u8; // 3(c+½) + 5(r+½), truncated
                assert_eq!(
                    chip.rgb()[(r * n as usize + c) * 3],
                    expected,
                    "pixel ({c},{r})"
                );
            }
        }
        // The last row and column need a neighbour beyond the frame: black, as in dlib.
        assert_eq!(chip.rgb()[((n * n) - 1) as usize * 3], 0);
    }

    #[test]
    fn mirror_twice_is_identity() {
        let rgb: Vec<u8> = (0..4 * 4 * 3).map(|i| i as u8).collect();
        let chip = Chip::from_rgb(4, rgb.clone()).unwrap();
        assert_eq!(chip.mirrored().mirrored().rgb(), &rgb[..]);
        assert_ne!(chip.mirrored().rgb(), &rgb[..]);
        assert!(Chip::from_rgb(4, vec![0; 5]).is_err());
    }
}
