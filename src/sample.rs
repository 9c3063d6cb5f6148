//! Bilinear sampling of pixels at sub-pixel positions. Two rules, each kept for a reason:
//! - [`clamped`]: positions outside the image read its border; weights in f32. The liveness
//!   layers' crops and point tracks use it;
//! - [`inside`]: `None` unless all four neighbours exist, weights in f64 — dlib's rule for
//!   its face chips, which alignment must match to keep the embedder's parity with dlib.
//!
//! Resizing (the detector's area/bilinear taps, MiniFASNet's OpenCV `INTER_LINEAR` crop) is
//! not sampling at arbitrary points and lives with the network it feeds.

/// Bilinear sample at `(x, y)` of a `w × h` image of `C` channels read through `at`,
/// clamped to the border (a NaN position gives NaN). `w` and `h` must be positive.
pub(crate) fn clamped<const C: usize>(
    w: usize,
    h: usize,
    x: f64,
    y: f64,
    at: impl Fn(usize, usize) -> [f32; C],
) -> [f32; C] {
    let x = x.clamp(0.0, (w - 1) as f64);
    let y = y.clamp(0.0, (h - 1) as f64);
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
    let (a, b, c, d) = (at(x0, y0), at(x1, y0), at(x0, y1), at(x1, y1));
    std::array::from_fn(|k| {
        let top = a[k] * (1.0 - fx) + b[k] * fx;
        let bottom = c[k] * (1.0 - fx) + d[k] * fx;
        top * (1.0 - fy) + bottom * fy
    })
}

/// Bilinear sample at `(x, y)` of a `w × h` interleaved RGB image, `None` outside (all four
/// neighbours must exist, as in dlib) or at a non-finite position.
pub(crate) fn inside(px: &[u8], w: usize, h: usize, x: f64, y: f64) -> Option<[f64; 3]> {
    if !(x.is_finite() && y.is_finite()) {
        return None;
    }
    let (l, t) = (x.floor(), y.floor());
    if l < 0.0 || t < 0.0 || l + 1.0 >= w as f64 || t + 1.0 >= h as f64 {
        return None;
    }
    let (l, t) = (l as usize, t as usize);
    let (fx, fy) = (x - l as f64, y - t as f64);
    let at = |xx: usize, yy: usize, c: usize| f64::from(px[(yy * w + xx) * 3 + c]);
    let mut out = [0.0; 3];
    for (c, o) in out.iter_mut().enumerate() {
        let top = at(l, t, c) * (1.0 - fx) + at(l + 1, t, c) * fx;
        let bot = at(l, t + 1, c) * (1.0 - fx) + at(l + 1, t + 1, c) * fx;
        *o = top * (1.0 - fy) + bot * fy;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamped_interpolates_and_reads_the_border_outside() {
        // 2×2 grey: 0 10 / 20 30.
        let px = [0.0f32, 10.0, 20.0, 30.0];
        let at = |x: usize, y: usize| [px[y * 2 + x]];
        assert_eq!(clamped(2, 2, 0.5, 0.5, at), [15.0]);
        assert_eq!(clamped(2, 2, 1.0, 0.0, at), [10.0]);
        assert_eq!(clamped(2, 2, -5.0, 9.0, at), [20.0]);
        assert!(clamped(2, 2, f64::NAN, 0.0, at)[0].is_nan());
    }

    #[test]
    fn inside_needs_all_four_neighbours() {
        let px: Vec<u8> = (0..2 * 2 * 3).map(|i| i as u8 * 10).collect();
        assert_eq!(inside(&px, 2, 2, 0.5, 0.0), Some([15.0, 25.0, 35.0]));
        assert_eq!(inside(&px, 2, 2, 1.0, 0.0), None);
        assert_eq!(inside(&px, 2, 2, -0.1, 0.0), None);
        assert_eq!(inside(&px, 2, 2, f64::NAN, 0.0), None);
    }
}
