//! Dense-point tracking: corners picked on the reference frame, followed by anchored,
//! inverse-compositional affine Lucas–Kanade over a two-level pyramid. Pixel buffers are
//! wiped on drop (they hold face pixels).

use zeroize::{Zeroize, Zeroizing};

use super::super::linalg::{invert, Point2};
use super::super::GrayFrame;
use super::config::SurfaceConfig;

/// A single-channel float image.
pub(super) struct Image {
    pub(super) w: usize,
    pub(super) h: usize,
    pub(super) px: Vec<f32>,
}

impl Drop for Image {
    fn drop(&mut self) {
        self.px.zeroize();
    }
}

impl Image {
    pub(super) fn at(&self, x: usize, y: usize) -> f32 {
        self.px.get(y * self.w + x).copied().unwrap_or(0.0)
    }

    /// Bilinear sample, clamped to the border.
    pub(super) fn sample(&self, x: f64, y: f64) -> f32 {
        // With all four neighbours inside, `sample::clamped`'s clamps and border checks
        // change nothing: the same arithmetic, reading the pixels directly (the tracker's
        // inner loop samples here thousands of times a frame).
        if self.w > 1
            && self.h > 1
            && x >= 0.0
            && y >= 0.0
            && x < (self.w - 1) as f64
            && y < (self.h - 1) as f64
        {
            let (x0, y0) = (x as usize, y as usize);
            let (fx, fy) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
            let top = y0 * self.w + x0;
            if let (Some(&[a, b]), Some(&[c, d])) = (
                self.px
                    .get(top..top + 2)
                    .and_then(|s| <&[f32; 2]>::try_from(s).ok()),
                self.px
                    .get(top + self.w..top + self.w + 2)
                    .and_then(|s| <&[f32; 2]>::try_from(s).ok()),
            ) {
                let upper = a * (1.0 - fx) + b * fx;
                let lower = c * (1.0 - fx) + d * fx;
                return upper * (1.0 - fy) + lower * fy;
            }
        }
        let [v] = crate::sample::clamped(self.w, self.h, x, y, |x, y| [self.at(x, y)]);
        v
    }

    /// Bilinear samples of the `(2r+1)²` window centred on `(cx, cy)` into `out`, row-major.
    /// Inside the image every sample shares one set of weights, so this is a plain
    /// weighted sum of four neighbours per pixel.
    pub(super) fn window(&self, cx: f64, cy: f64, r: usize, out: &mut [f32]) {
        let side = 2 * r + 1;
        let (fx0, fy0) = (cx.floor(), cy.floor());
        let inside = cx.is_finite()
            && cy.is_finite()
            && fx0 - r as f64 >= 0.0
            && fy0 - r as f64 >= 0.0
            && fx0 + r as f64 + 1.0 <= (self.w - 1) as f64
            && fy0 + r as f64 + 1.0 <= (self.h - 1) as f64;
        if !inside {
            for (k, o) in out.iter_mut().enumerate().take(side * side) {
                let (dx, dy) = ((k % side) as f64 - r as f64, (k / side) as f64 - r as f64);
                *o = self.sample(cx + dx, cy + dy);
            }
            return;
        }
        let (fx, fy) = ((cx - fx0) as f32, (cy - fy0) as f32);
        let (w00, w10, w01, w11) = (
            (1.0 - fx) * (1.0 - fy),
            fx * (1.0 - fy),
            (1.0 - fx) * fy,
            fx * fy,
        );
        let (x0, y0) = (fx0 as usize - r, fy0 as usize - r);
        for (j, row) in out.chunks_mut(side).take(side).enumerate() {
            let top = (y0 + j) * self.w + x0;
            let (Some(a), Some(b)) = (
                self.px.get(top..top + side + 1),
                self.px.get(top + self.w..top + self.w + side + 1),
            ) else {
                continue;
            };
            for (i, o) in row.iter_mut().enumerate() {
                *o = w00 * a[i] + w10 * a[i + 1] + w01 * b[i] + w11 * b[i + 1];
            }
        }
    }

    /// Bilinear samples at `t + m·(i − r, j − r)` for the `(2r+1)²` window, row-major, into
    /// `out`: each value is `self.sample` of the same coordinate, computed by the same
    /// arithmetic. When the whole window lies a pixel or more inside the image no sample
    /// needs the border rule, so the inner loop reads the four neighbours directly (the
    /// tracker's iterations spend most of their time here).
    #[inline(always)]
    fn warped_window(
        &self,
        t: (f64, f64),
        m: &[[f64; 2]; 2],
        offsets: &mut WindowOffsets,
        out: &mut [f32],
    ) {
        let side = offsets.ax.len();
        offsets.set(m);
        let WindowOffsets { ax, ay, bx, by, .. } = &*offsets;
        // Each coordinate is `t + m·x + m·y`, summed in that order (the products are the
        // same numbers whether computed here or per pixel).
        let at = |i: usize, j: usize| ((t.0 + ax[i]) + bx[j], (t.1 + ay[i]) + by[j]);
        let corners = [
            at(0, 0),
            at(side - 1, 0),
            at(0, side - 1),
            at(side - 1, side - 1),
        ];
        let (w, h) = (self.w as f64, self.h as f64);
        let inside = self.w <= i32::MAX as usize
            && self.h <= i32::MAX as usize
            && corners
                .iter()
                .all(|&(x, y)| x >= 1.0 && y >= 1.0 && x < w - 2.0 && y < h - 2.0);
        if !inside {
            for (k, o) in out.iter_mut().enumerate().take(side * side) {
                let (x, y) = at(k % side, k / side);
                *o = self.sample(x, y);
            }
            return;
        }
        // An affine map sends the window into the hull of its corners, so every sample
        // is at least a pixel from the border less a few ulps of rounding.
        for (j, row) in out.chunks_mut(side).take(side).enumerate() {
            for (i, o) in row.iter_mut().enumerate() {
                let (x, y) = at(i, j);
                // Inside the image both are positive and far below 2³¹: truncating through
                // `i32` gives `sample`'s `as usize` integers with one instruction each.
                let (x0, y0) = (x as i32, y as i32);
                let (fx, fy) = ((x - f64::from(x0)) as f32, (y - f64::from(y0)) as f32);
                let top = y0 as usize * self.w + x0 as usize;
                let (a, b) = (self.px[top], self.px[top + 1]);
                let (c, d) = (self.px[top + self.w], self.px[top + self.w + 1]);
                let upper = a * (1.0 - fx) + b * fx;
                let lower = c * (1.0 - fx) + d * fx;
                *o = upper * (1.0 - fy) + lower * fy;
            }
        }
    }

    /// Blur with [1 4 6 4 1]/16 in both directions and keep every second pixel.
    pub(super) fn down(&self) -> Image {
        let (w, h) = (self.w.div_ceil(2), self.h.div_ceil(2));
        let k = [1.0f32, 4.0, 6.0, 4.0, 1.0];
        let clamp = |v: isize, n: usize| v.clamp(0, n as isize - 1) as usize;
        let mut rows = vec![0.0f32; w * self.h];
        for y in 0..self.h {
            for x in 0..w {
                let cx = (2 * x) as isize;
                let s: f32 = (0..5)
                    .map(|j| k[j] * self.at(clamp(cx + j as isize - 2, self.w), y))
                    .sum();
                rows[y * w + x] = s / 16.0;
            }
        }
        let mut px = vec![0.0f32; w * h];
        for y in 0..h {
            for x in 0..w {
                let cy = (2 * y) as isize;
                let s: f32 = (0..5)
                    .map(|j| k[j] * rows[clamp(cy + j as isize - 2, self.h) * w + x])
                    .sum();
                px[y * w + x] = s / 16.0;
            }
        }
        Image { w, h, px }
    }
}

/// The products `m·(i − r)` and `m·(j − r)` of a warp's matrix with the offsets of a
/// `(2r+1)²` window's columns and rows: `ax, ay` by column `i` (the matrix's first column),
/// `bx, by` by row `j`.
struct WindowOffsets {
    ax: Vec<f64>,
    ay: Vec<f64>,
    bx: Vec<f64>,
    by: Vec<f64>,
}

impl WindowOffsets {
    fn new(r: usize) -> WindowOffsets {
        let zeros = vec![0.0; 2 * r + 1];
        WindowOffsets {
            ax: zeros.clone(),
            ay: zeros.clone(),
            bx: zeros.clone(),
            by: zeros,
        }
    }

    #[inline(always)]
    fn set(&mut self, m: &[[f64; 2]; 2]) {
        let r = (self.ax.len() / 2) as f64;
        for k in 0..self.ax.len() {
            let d = k as f64 - r;
            self.ax[k] = m[0][0] * d;
            self.ay[k] = m[1][0] * d;
            self.bx[k] = m[0][1] * d;
            self.by[k] = m[1][1] * d;
        }
    }
}

pub(super) struct Pyramid {
    pub(super) levels: Vec<Image>,
}

impl Pyramid {
    /// The pyramid of `frame` cropped to `[x0, y0, x1, y1)` (inside the frame).
    pub(super) fn new(frame: &GrayFrame, crop: [usize; 4], levels: usize) -> Pyramid {
        let fw = frame.width() as usize;
        let (w, h) = (crop[2] - crop[0], crop[3] - crop[1]);
        let mut px = Vec::with_capacity(w * h);
        for y in crop[1]..crop[3] {
            let row = frame
                .pixels()
                .get(y * fw + crop[0]..y * fw + crop[2])
                .unwrap_or(&[]);
            px.extend(row.iter().map(|&v| f32::from(v)));
        }
        px.resize(w * h, 0.0);
        let mut out = vec![Image { w, h, px }];
        while out.len() < levels {
            let Some(last) = out.last() else { break };
            if last.w < 16 || last.h < 16 {
                break;
            }
            let next = last.down();
            out.push(next);
        }
        Pyramid { levels: out }
    }
}

/// Shi–Tomasi corners inside `region` (x0, y0, x1, y1): the strongest per grid cell of
/// size `cell`, at most `max` of them, strongest first.
pub(super) fn corners(img: &Image, region: [f64; 4], cell: f64, max: usize) -> Vec<Point2> {
    let r = 2usize; // 5×5 structure-tensor window
    let lo = |v: f64| (v.max(0.0) as usize).max(r + 1);
    let (x0, y0) = (lo(region[0]), lo(region[1]));
    let x1 = (region[2].max(0.0) as usize).min(img.w.saturating_sub(r + 2));
    let y1 = (region[3].max(0.0) as usize).min(img.h.saturating_sub(r + 2));
    if x0 >= x1 || y0 >= y1 {
        return Vec::new();
    }
    let (cw, ch) = (
        ((x1 - x0) as f64 / cell).ceil() as usize,
        ((y1 - y0) as f64 / cell).ceil() as usize,
    );
    let mut best: Vec<(f32, usize, usize)> = vec![(0.0, 0, 0); cw * ch];
    let mut strongest = 0.0f32;
    for y in y0..y1 {
        for x in x0..x1 {
            let (mut sxx, mut sxy, mut syy) = (0.0f32, 0.0f32, 0.0f32);
            for yy in y - r..=y + r {
                for xx in x - r..=x + r {
                    let gx = (img.at(xx + 1, yy) - img.at(xx - 1, yy)) * 0.5;
                    let gy = (img.at(xx, yy + 1) - img.at(xx, yy - 1)) * 0.5;
                    sxx += gx * gx;
                    sxy += gx * gy;
                    syy += gy * gy;
                }
            }
            let tr = (sxx + syy) / 2.0;
            let min_eig = tr - ((sxx - syy).powi(2) / 4.0 + sxy * sxy).sqrt();
            let c = (((y - y0) as f64 / cell) as usize).min(ch - 1) * cw
                + (((x - x0) as f64 / cell) as usize).min(cw - 1);
            if let Some(b) = best.get_mut(c) {
                if min_eig > b.0 {
                    *b = (min_eig, x, y);
                }
            }
            strongest = strongest.max(min_eig);
        }
    }
    // Flat cells (skin without texture) give no reliable track.
    let floor = (0.02 * strongest).max(25.0);
    let mut picked: Vec<(f32, usize, usize)> = best.into_iter().filter(|b| b.0 > floor).collect();
    picked.sort_by(|a, b| b.0.total_cmp(&a.0));
    picked.truncate(max);
    picked
        .into_iter()
        .map(|(_, x, y)| Point2::new(x as f64, y as f64))
        .collect()
}

/// A 2-D similarity `p ↦ c·p + t` in complex form (`c = s·e^{iθ}`).
#[derive(Clone, Copy)]
pub(super) struct Similarity {
    pub(super) c: (f64, f64),
    pub(super) t: (f64, f64),
}

impl Similarity {
    pub(super) const IDENTITY: Similarity = Similarity {
        c: (1.0, 0.0),
        t: (0.0, 0.0),
    };

    /// Least-squares similarity from `a` to `b` (identity when degenerate).
    pub(super) fn fit(a: &[Point2; 5], b: &[Point2; 5]) -> Similarity {
        Similarity::try_fit(a, b).unwrap_or(Similarity::IDENTITY)
    }

    /// Least-squares similarity from `a` to `b`; `None` when degenerate.
    pub(super) fn try_fit(a: &[Point2; 5], b: &[Point2; 5]) -> Option<Similarity> {
        let wide = |ps: &[Point2; 5]| ps.map(|p| [p.x, p.y]);
        let [c0, c1, t0, t1] = crate::geometry::fit_similarity(&wide(a), &wide(b))?;
        Some(Similarity {
            c: (c0, c1),
            t: (t0, t1),
        })
    }

    pub(super) fn apply(&self, p: Point2) -> Point2 {
        Point2::new(
            self.c.0 * p.x - self.c.1 * p.y + self.t.0,
            self.c.1 * p.x + self.c.0 * p.y + self.t.1,
        )
    }
}

/// A reference patch at one pyramid level, ready for inverse-compositional matching.
pub(super) struct Patch {
    /// Mean-free template values.
    pub(super) t: Vec<f32>,
    /// Their Euclidean norm.
    pub(super) norm: f64,
    /// Steepest-descent rows (template gradient × affine Jacobian).
    pub(super) sd: Vec<[f64; 6]>,
    /// Inverse of the Gauss–Newton Hessian.
    pub(super) hinv: [[f64; 6]; 6],
}

impl Drop for Patch {
    fn drop(&mut self) {
        self.t.zeroize();
        self.sd.zeroize();
    }
}

/// Mean and Euclidean norm about the mean of a patch.
#[inline(always)]
pub(super) fn mean_norm(v: &[f32]) -> (f32, f64) {
    let mean = v.iter().sum::<f32>() / v.len().max(1) as f32;
    let norm = v
        .iter()
        .map(|x| f64::from((x - mean) * (x - mean)))
        .sum::<f64>()
        .sqrt();
    (mean, norm)
}

/// An affine map of patch offsets into a frame: `q = m·x + t`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Affine {
    pub(super) m: [[f64; 2]; 2],
    pub(super) t: Point2,
}

/// Anchored inverse-compositional affine Lucas–Kanade: each start point's reference patch
/// (from `pyr[0]`) is located in every later pyramid of `pyr`, coarse to fine, initialised
/// from the previous hop plus the change of the landmark `priors` (similarities from the
/// reference to each hop). The patch is compared mean- and contrast-normalised, so exposure
/// changes do not pull it. A point whose patch no longer matches (occluded, turned away,
/// degenerate warp) becomes `None` for good. Per point, its position in every hop frame
/// (index 0: the reference).
pub(super) fn follow(
    pyr: &[Pyramid],
    priors: &[Similarity],
    starts: &[Point2],
    cfg: &SurfaceConfig,
) -> Vec<Vec<Option<Point2>>> {
    crate::vector::run(Follow {
        pyr,
        priors,
        starts,
        cfg,
    })
}

/// [`follow`] as one vector kernel: the window sampling and the Gauss–Newton sums run a few
/// points of the window at a time.
struct Follow<'a> {
    pyr: &'a [Pyramid],
    priors: &'a [Similarity],
    starts: &'a [Point2],
    cfg: &'a SurfaceConfig,
}

impl crate::vector::Kernel for Follow<'_> {
    type Output = Vec<Vec<Option<Point2>>>;

    #[inline(always)]
    fn run(self) -> Self::Output {
        let Follow {
            pyr,
            priors,
            starts,
            cfg,
        } = self;
        let r = cfg.window;
        let side = 2 * r + 1;
        let n = side * side;
        let levels = pyr.iter().map(|p| p.levels.len()).min().unwrap_or(0);
        let Some(base) = pyr.first() else {
            return vec![Vec::new(); starts.len()];
        };
        // Face pixels: wiped when the tracking is done.
        let mut rim = Zeroizing::new(vec![0.0f32; (side + 2) * (side + 2)]);
        let mut warped = Zeroizing::new(vec![0.0f32; n]);
        let mut offsets = WindowOffsets::new(r);
        let mut out = Vec::with_capacity(starts.len());
        for &p in starts {
            // Per level: mean-free template, its norm, steepest-descent rows and the inverse
            // Hessian (6 affine parameters).
            let mut tpl: Vec<Patch> = Vec::new();
            for l in 0..levels {
                let s = f64::from(1u32 << l);
                base.levels[l].window(p.x / s, p.y / s, r + 1, &mut rim);
                let rs = side + 2;
                let mut t = vec![0.0f32; n];
                let mut sd = vec![[0.0f64; 6]; n];
                for j in 0..side {
                    for i in 0..side {
                        let c = (j + 1) * rs + i + 1;
                        let k = j * side + i;
                        t[k] = rim[c];
                        let gx = f64::from(rim[c + 1] - rim[c - 1]) * 0.5;
                        let gy = f64::from(rim[c + rs] - rim[c - rs]) * 0.5;
                        let (x, y) = (i as f64 - r as f64, j as f64 - r as f64);
                        sd[k] = [gx * x, gx * y, gy * x, gy * y, gx, gy];
                    }
                }
                let (mean, norm) = mean_norm(&t);
                t.iter_mut().for_each(|v| *v -= mean);
                let mut h = [[0.0f64; 6]; 6];
                for row in &sd {
                    for a in 0..6 {
                        for b in 0..6 {
                            h[a][b] += row[a] * row[b];
                        }
                    }
                }
                match invert(h) {
                    Some(hinv) if norm > 1e-3 => tpl.push(Patch { t, norm, sd, hinv }),
                    _ => break,
                }
            }
            let mut track = vec![None; pyr.len()];
            if tpl.len() < levels || levels == 0 {
                out.push(track);
                continue;
            }
            track[0] = Some(p);
            let first = priors.first().copied().unwrap_or(Similarity::IDENTITY);
            let mut warp = Affine {
                m: [[1.0, 0.0], [0.0, 1.0]],
                t: p,
            };
            let mut prev_prior = first.apply(p);
            let mut alive = true;
            for (k, frame) in pyr.iter().enumerate().skip(1) {
                let prior = priors.get(k).copied().unwrap_or(Similarity::IDENTITY);
                let predicted = prior.apply(p);
                warp.t = Point2::new(
                    warp.t.x + predicted.x - prev_prior.x,
                    warp.t.y + predicted.y - prev_prior.y,
                );
                prev_prior = predicted;
                for l in (0..levels).rev() {
                    let s = f64::from(1u32 << l);
                    let Patch {
                        t,
                        norm: tnorm,
                        sd,
                        hinv: hi,
                    } = &tpl[l];
                    let img = &frame.levels[l];
                    for _ in 0..15 {
                        // Sample the frame under the current warp (level-l coordinates).
                        img.warped_window(
                            (warp.t.x / s, warp.t.y / s),
                            &warp.m,
                            &mut offsets,
                            &mut warped,
                        );
                        let (mean, wnorm) = mean_norm(&warped);
                        if !(wnorm > 1e-3) {
                            alive = false;
                            break;
                        }
                        let gain = tnorm / wnorm;
                        let mut b = [0.0f64; 6];
                        for k in 0..n {
                            let e = f64::from(warped[k] - mean) * gain - f64::from(t[k]);
                            for (bj, sdj) in b.iter_mut().zip(&sd[k]) {
                                *bj += sdj * e;
                            }
                        }
                        let dp: [f64; 6] =
                            std::array::from_fn(|a| (0..6).map(|c| hi[a][c] * b[c]).sum());
                        // W ← W ∘ W(Δp)⁻¹ (inverse compositional update).
                        let a = [[1.0 + dp[0], dp[1]], [dp[2], 1.0 + dp[3]]];
                        let det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
                        if !(det.abs() > 1e-6) {
                            alive = false;
                            break;
                        }
                        let ai = [
                            [a[1][1] / det, -a[0][1] / det],
                            [-a[1][0] / det, a[0][0] / det],
                        ];
                        let at = [
                            -(ai[0][0] * dp[4] + ai[0][1] * dp[5]),
                            -(ai[1][0] * dp[4] + ai[1][1] * dp[5]),
                        ];
                        let m = warp.m;
                        warp.m = [
                            [
                                m[0][0] * ai[0][0] + m[0][1] * ai[1][0],
                                m[0][0] * ai[0][1] + m[0][1] * ai[1][1],
                            ],
                            [
                                m[1][0] * ai[0][0] + m[1][1] * ai[1][0],
                                m[1][0] * ai[0][1] + m[1][1] * ai[1][1],
                            ],
                        ];
                        warp.t = Point2::new(
                            warp.t.x + s * (m[0][0] * at[0] + m[0][1] * at[1]),
                            warp.t.y + s * (m[1][0] * at[0] + m[1][1] * at[1]),
                        );
                        if dp[4].hypot(dp[5]) < 0.01 && dp[..4].iter().all(|v| v.abs() < 1e-3) {
                            break;
                        }
                    }
                    if !alive {
                        break;
                    }
                }
                // The matched patch must still look like the reference patch.
                let residual = {
                    let Patch { t, norm: tnorm, .. } = &tpl[0];
                    let (mean, wnorm) = mean_norm(&warped);
                    let corr = warped
                        .iter()
                        .zip(t)
                        .map(|(w, t)| f64::from((w - mean) * t))
                        .sum::<f64>()
                        / (wnorm * tnorm).max(1e-9);
                    1.0 - corr
                };
                let det = warp.m[0][0] * warp.m[1][1] - warp.m[0][1] * warp.m[1][0];
                let inside = warp.t.x >= 0.0
                    && warp.t.y >= 0.0
                    && warp.t.x <= (frame.levels[0].w - 1) as f64
                    && warp.t.y <= (frame.levels[0].h - 1) as f64;
                if !(alive
                    && inside
                    && residual <= cfg.max_dissimilarity
                    && (0.3..3.0).contains(&det))
                {
                    break;
                }
                track[k] = Some(warp.t);
            }
            out.push(track);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warped_window_reads_as_sampling_each_pixel_does() {
        let (w, h) = (40, 30);
        let img = Image {
            w,
            h,
            px: (0..w * h).map(|i| ((i * 53) % 29) as f32 * 3.1).collect(),
        };
        let r = 7;
        let side = 2 * r + 1;
        let mut offsets = WindowOffsets::new(r);
        let mut out = vec![0.0f32; side * side];
        // Inside, rotated and scaled, touching each border, outside, and not a number.
        let warps = [
            ((20.3, 15.7), [[1.0, 0.0], [0.0, 1.0]]),
            ((19.9, 14.2), [[0.93, -0.31], [0.28, 1.07]]),
            ((8.0, 15.0), [[1.0, 0.0], [0.0, 1.0]]),
            ((31.2, 21.9), [[1.0, 0.02], [-0.02, 1.0]]),
            ((-3.0, 40.0), [[1.0, 0.0], [0.0, 1.0]]),
            ((f64::NAN, 10.0), [[1.0, 0.0], [0.0, 1.0]]),
        ];
        for (t, m) in warps {
            img.warped_window(t, &m, &mut offsets, &mut out);
            for (k, v) in out.iter().enumerate() {
                let (x, y) = ((k % side) as f64 - r as f64, (k / side) as f64 - r as f64);
                let expected = img.sample(
                    t.0 + m[0][0] * x + m[0][1] * y,
                    t.1 + m[1][0] * x + m[1][1] * y,
                );
                assert_eq!(v.to_bits(), expected.to_bits(), "{t:?} {m:?} pixel {k}");
            }
        }
    }

    #[test]
    fn a_sample_inside_reads_as_the_clamped_rule_does() {
        let (w, h) = (7, 5);
        let img = Image {
            w,
            h,
            px: (0..w * h).map(|i| ((i * 37) % 23) as f32 * 1.37).collect(),
        };
        let clamped =
            |x: f64, y: f64| crate::sample::clamped(w, h, x, y, |x, y| [img.at(x, y)])[0].to_bits();
        // Inside, on the last inside edge, outside, far away, and not a number.
        for (x, y) in [
            (0.0, 0.0),
            (2.25, 1.75),
            (5.999, 3.999),
            (6.0, 4.0),
            (5.5, 4.0),
            (-0.5, 2.0),
            (9.0, -3.0),
            (3.3, 1e9),
            (f64::NAN, 1.0),
        ] {
            assert_eq!(img.sample(x, y).to_bits(), clamped(x, y), "({x}, {y})");
        }
    }
}
