//! Resample: how the detectors shrink a frame, a pyramid level or a face crop to a
//! network's input. Area averaging when shrinking (no aliasing, like OpenCV's `INTER_AREA`
//! the networks were used with), bilinear when enlarging; separable, rows first.
//!
//! Why one module for both detectors: MTCNN's pyramid and crops and YuNet's working image
//! then read the same pixels, and a change to the taps is made once.
//!
//! Why the arithmetic is fixed: every output value is the sum of its taps in source order,
//! row pass first, then the column pass, in `f32`. The liveness thresholds were calibrated
//! on landmarks placed from these exact values, so a faster form must give the same bits;
//! the tests compare with the plain two-pass form, and with cropping by copying.
//!
//! Every intermediate buffer holds face pixels and is wiped when dropped.

use std::cell::RefCell;

use zeroize::{Zeroize, Zeroizing};

/// A pixel value the resampler reads: frame bytes or an already shrunk `f32` image.
pub(super) trait Sample: zeroize::DefaultIsZeroes {
    fn value(self) -> f32;
}

impl Sample for u8 {
    #[inline(always)]
    fn value(self) -> f32 {
        f32::from(self)
    }
}

impl Sample for f32 {
    #[inline(always)]
    fn value(self) -> f32 {
        self
    }
}

/// A rectangle of a source image, which may reach outside it: what lies outside reads as
/// zero (MTCNN pads its crops with black).
#[derive(Clone, Copy, Debug)]
pub(super) struct Region {
    pub x: i64,
    pub y: i64,
    pub width: usize,
    pub height: usize,
}

impl Region {
    /// The whole of a `width × height` image.
    pub(super) fn whole(width: usize, height: usize) -> Region {
        Region {
            x: 0,
            y: 0,
            width,
            height,
        }
    }
}

/// One axis's taps, flattened: output `i` reads the source samples from `first[i]` on,
/// one for each weight in `weights[start[i]..start[i + 1]]`.
struct Taps {
    first: Vec<usize>,
    start: Vec<usize>,
    weights: Vec<f32>,
}

impl Taps {
    fn new(src: usize, dst: usize) -> Taps {
        let ratio = src as f64 / dst as f64;
        let mut taps = Taps {
            first: Vec::with_capacity(dst),
            start: Vec::with_capacity(dst + 1),
            weights: Vec::new(),
        };
        taps.start.push(0);
        for i in 0..dst {
            if ratio > 1.0 {
                // Every source sample from ⌊start⌋ below `end` overlaps the output's span, so
                // the samples of one output are consecutive and none has a zero weight.
                let (start, end) = (i as f64 * ratio, (i + 1) as f64 * ratio);
                let first = start.floor() as usize;
                taps.first.push(first);
                let mut j = first;
                while (j as f64) < end && j < src {
                    let lo = start.max(j as f64);
                    let hi = end.min((j + 1) as f64);
                    debug_assert!(hi > lo);
                    taps.weights.push(((hi - lo) / ratio) as f32);
                    j += 1;
                }
            } else {
                let c = ((i as f64 + 0.5) * ratio - 0.5).clamp(0.0, (src - 1) as f64);
                let j = c.floor() as usize;
                let f = (c - j as f64) as f32;
                taps.first.push(j);
                if j + 1 < src && f > 0.0 {
                    taps.weights.extend([1.0 - f, f]);
                } else {
                    taps.weights.push(1.0);
                }
            }
            taps.start.push(taps.weights.len());
        }
        taps
    }

    /// The first source sample of output `i` and the weights from it on.
    fn get(&self, i: usize) -> (usize, &[f32]) {
        (
            self.first[i],
            &self.weights[self.start[i]..self.start[i + 1]],
        )
    }
}

/// Resizes an HWC RGB image of `w × h` to `nw × nh`, in `f32`.
pub(super) fn resize<T: Sample>(
    img: &[T],
    w: usize,
    h: usize,
    nw: usize,
    nh: usize,
) -> Zeroizing<Vec<f32>> {
    resize_region(img, w, h, Region::whole(w, h), nw, nh)
}

/// Resizes the `region` of an HWC RGB image of `w × h` to `nw × nh`, in `f32`; the parts of
/// the region outside the image read as zero.
pub(super) fn resize_region<T: Sample>(
    img: &[T],
    w: usize,
    h: usize,
    region: Region,
    nw: usize,
    nh: usize,
) -> Zeroizing<Vec<f32>> {
    let row_len = nw * 3;
    let mut out = Zeroizing::new(vec![0.0f32; nw * nh * 3]);
    resize_rows(img, w, h, region, nw, nh, |y, row| {
        out[y * row_len..(y + 1) * row_len].copy_from_slice(row);
    });
    out
}

/// [`resize_region`], handing each output row (interleaved, `3 × nw` values) to `sink`, top
/// to bottom.
///
/// The row pass is kept only for the few source rows the current output row needs (at
/// most the vertical tap span, in a ring of rows), not for the whole region: shrinking a
/// 4096×4096 frame would otherwise hold a 100 MB intermediate. Samples outside the image are
/// skipped rather than copied in as zeros: they would add +0 to a non-negative sum.
fn resize_rows<T: Sample>(
    img: &[T],
    w: usize,
    h: usize,
    region: Region,
    nw: usize,
    nh: usize,
    mut sink: impl FnMut(usize, &[f32]),
) {
    let tx = Taps::new(region.width, nw);
    let ty = Taps::new(region.height, nh);
    let row_len = nw * 3;
    let rows = (0..nh).map(|y| ty.get(y).1.len()).max().unwrap_or(0);
    let mut window = Zeroizing::new(vec![0.0f32; rows * row_len]);
    // Region rows `first .. first + count` are in the window, row j in slot j % rows.
    let (mut first, mut count) = (0usize, 0usize);
    let mut dst = Zeroizing::new(vec![0.0f32; row_len]);
    for y in 0..nh {
        dst.fill(0.0);
        let (lo, wy) = ty.get(y);
        if !wy.is_empty() {
            let hi = lo + wy.len() - 1;
            if lo < first || lo >= first + count {
                (first, count) = (lo, 0);
            } else {
                count -= lo - first;
                first = lo;
            }
            while first + count <= hi {
                let j = first + count;
                let slot = j % rows;
                let source_row = region.y + j as i64;
                row_pass(
                    img,
                    w,
                    h,
                    source_row,
                    region.x,
                    &tx,
                    &mut window[slot * row_len..(slot + 1) * row_len],
                );
                count += 1;
            }
            for (k, &wt) in wy.iter().enumerate() {
                let slot = (lo + k) % rows;
                let src = &window[slot * row_len..(slot + 1) * row_len];
                for (d, s) in dst.iter_mut().zip(src) {
                    *d += wt * s;
                }
            }
        }
        sink(y, &dst);
    }
}

/// The row pass of source row `sy` (zeros outside the image), for a region starting at
/// source column `x0`, into `out` (`3 ×` the output width).
fn row_pass<T: Sample>(
    img: &[T],
    w: usize,
    h: usize,
    sy: i64,
    x0: i64,
    tx: &Taps,
    out: &mut [f32],
) {
    if sy < 0 || sy >= h as i64 {
        out.fill(0.0);
        return;
    }
    let sy = sy as usize;
    let row = &img[sy * w * 3..(sy + 1) * w * 3];
    for (x, o) in out.chunks_exact_mut(3).enumerate() {
        let (first, ws) = tx.get(x);
        let s0 = x0 + first as i64;
        let n = ws.len() as i64;
        let k_lo = (-s0).clamp(0, n) as usize;
        let k_hi = (w as i64 - s0).clamp(0, n) as usize;
        let mut acc = [0.0f32; 3];
        if k_lo < k_hi {
            let sx = (s0 + k_lo as i64) as usize;
            let px = &row[sx * 3..(sx + k_hi - k_lo) * 3];
            for (p, &wt) in px.chunks_exact(3).zip(&ws[k_lo..k_hi]) {
                acc[0] += wt * p[0].value();
                acc[1] += wt * p[1].value();
                acc[2] += wt * p[2].value();
            }
        }
        o.copy_from_slice(&acc);
    }
}

/// An RGB image held as three planes, each transposed: `[c][x][y]`, the layout the MTCNN
/// networks take. Frame bytes stay bytes (a 640×480 frame's planes fit in a core's L2
/// cache); a shrunk working copy is `f32`.
///
/// Why: resizing interleaved rows reads two or three scattered samples per output, a loop
/// that does not vectorise and mispredicts its tap count. In this layout both passes add
/// whole contiguous lines (down a source column, or along a row of the row pass's result),
/// and one transposition per frame serves every pyramid level and crop. Each output is
/// still the same `f32` sum in the same order as [`resize_region`]'s (tested), so the
/// landmarks the liveness layers were calibrated on do not move.
pub(super) struct Planes<T: Sample> {
    data: Zeroizing<Vec<T>>,
    w: usize,
    h: usize,
    /// The passes' intermediate values (a band of the row pass, the ring of rows the column
    /// pass reads, the column pass's result), kept from one resize to the next rather than
    /// allocated again for every pyramid level and crop.
    scratch: RefCell<[Zeroizing<Vec<f32>>; 3]>,
}

impl Planes<f32> {
    /// An HWC RGB image of `w × h` shrunk to `nw × nh` as [`resize`] does, written straight
    /// into planes: a large frame's working copy is never also held interleaved.
    pub(super) fn resized<T: Sample>(img: &[T], w: usize, h: usize, nw: usize, nh: usize) -> Self {
        let plane = nw * nh;
        let mut data = Zeroizing::new(vec![0.0f32; 3 * plane]);
        let whole = Region::whole(w, h);
        // Rows are gathered in blocks and each block written down the planes' columns: a
        // row written on its own would touch a page per column.
        const BLOCK: usize = 32;
        let row_len = nw * 3;
        let mut block = Zeroizing::new(vec![0.0f32; BLOCK * row_len]);
        let flush = |data: &mut [f32], block: &[f32], y0: usize, rows: usize| {
            for x in 0..nw {
                for c in 0..3 {
                    let start = c * plane + x * nh + y0;
                    for (r, d) in data[start..start + rows].iter_mut().enumerate() {
                        *d = block[r * row_len + x * 3 + c];
                    }
                }
            }
        };
        resize_rows(img, w, h, whole, nw, nh, |y, row| {
            let r = y % BLOCK;
            block[r * row_len..(r + 1) * row_len].copy_from_slice(row);
            if r + 1 == BLOCK || y + 1 == nh {
                flush(&mut data, &block, y - r, r + 1);
            }
        });
        Planes {
            data,
            w: nw,
            h: nh,
            scratch: RefCell::default(),
        }
    }
}

impl<T: Sample> Planes<T> {
    /// Transposes an HWC RGB image of `w × h`.
    pub(super) fn new(img: &[T], w: usize, h: usize) -> Planes<T> {
        let plane = w * h;
        let mut data = Zeroizing::new(vec![T::default(); 3 * plane]);
        // Square tiles keep the lines written to and read from in cache.
        const TILE: usize = 32;
        for y0 in (0..h).step_by(TILE) {
            let y1 = (y0 + TILE).min(h);
            for x0 in (0..w).step_by(TILE) {
                let x1 = (x0 + TILE).min(w);
                for y in y0..y1 {
                    let row = &img[(y * w + x0) * 3..(y * w + x1) * 3];
                    for (x, px) in (x0..x1).zip(row.chunks_exact(3)) {
                        for (c, &v) in px.iter().enumerate() {
                            data[c * plane + x * h + y] = v;
                        }
                    }
                }
            }
        }
        Planes {
            data,
            w,
            h,
            scratch: RefCell::default(),
        }
    }

    pub(super) fn width(&self) -> usize {
        self.w
    }

    pub(super) fn height(&self) -> usize {
        self.h
    }

    /// Resizes `region` (what lies outside the image reads as zero) to `nw × nh` into `out`,
    /// `3 × nw × nh` values laid out `[c][x][y]`.
    ///
    /// Per channel, the row pass runs down the columns in bands of [`BAND`] region rows
    /// ([`LANES`] sums held in registers per output column), each band is transposed into a
    /// ring of the few rows the column pass still needs, and the column pass adds whole ring
    /// rows; its result is transposed into `out`. Memory beyond `out` stays at a few rows.
    pub(super) fn resize_region_into(&self, region: Region, nw: usize, nh: usize, out: &mut [f32]) {
        assert_eq!(out.len(), 3 * nw * nh, "output size");
        if nw == 0 || nh == 0 {
            return;
        }
        let tx = Taps::new(region.width, nw);
        let ty = Taps::new(region.height, nh);
        let rh = region.height;
        // The region's rows that lie inside the image; the others read as zero.
        let r_lo = (-region.y).clamp(0, rh as i64) as usize;
        let r_hi = (self.h as i64 - region.y).clamp(0, rh as i64) as usize;
        // Per output column, its taps on columns inside the image (outside ones would add +0
        // to a non-negative sum): the weight and where the column starts in a plane.
        let mut col_taps: Vec<(f32, usize)> = Vec::new();
        let mut col_start = Vec::with_capacity(nw + 1);
        col_start.push(0);
        for x in 0..nw {
            let (first, ws) = tx.get(x);
            for (k, &wt) in ws.iter().enumerate() {
                let sx = region.x + (first + k) as i64;
                if sx >= 0 && sx < self.w as i64 {
                    col_taps.push((wt, sx as usize * self.h));
                }
            }
            col_start.push(col_taps.len());
        }
        let span = (0..nh).map(|y| ty.get(y).1.len()).max().unwrap_or(1);
        // Ring slots: the widest column-pass tap plus a band. Bands are added only while
        // the current output row's last tap row is missing, so at most a band minus one
        // row lies beyond it, and its first tap row is at most `span - 1` rows before it:
        // no band overwrites a row the current or a later output row reads.
        let ring_rows = span + BAND;

        let mut scratch = self.scratch.borrow_mut();
        let [band, ring, rows] = &mut *scratch;
        for (buf, len) in [
            (&mut *band, nw * BAND),
            (&mut *ring, ring_rows * nw),
            (&mut *rows, nh * nw),
        ] {
            if buf.len() < len {
                // Wiped before it is given up.
                buf.zeroize();
                **buf = vec![0.0; len];
            }
        }
        crate::vector::run(Passes {
            planes: &self.data,
            ty: &ty,
            col_taps: &col_taps,
            col_start: &col_start,
            region_y: region.y,
            rows_inside: (r_lo, r_hi),
            region_height: rh,
            ring_rows,
            scratch: [band, ring, rows],
            size: (nw, nh),
            out,
        });
    }
}

/// [`Planes::resize_region_into`]'s two passes over each channel, as one vector kernel.
struct Passes<'a, T> {
    /// The three channel planes, one after the other.
    planes: &'a [T],
    ty: &'a Taps,
    col_taps: &'a [(f32, usize)],
    col_start: &'a [usize],
    region_y: i64,
    rows_inside: (usize, usize),
    region_height: usize,
    ring_rows: usize,
    /// A band of the row pass, the ring, the column pass's rows.
    scratch: [&'a mut Zeroizing<Vec<f32>>; 3],
    size: (usize, usize),
    out: &'a mut [f32],
}

impl<T: Sample> crate::vector::Kernel for Passes<'_, T> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        let Passes {
            planes,
            ty,
            col_taps,
            col_start,
            region_y,
            rows_inside,
            region_height: rh,
            ring_rows,
            scratch: [band, ring, rows],
            size: (nw, nh),
            out,
        } = self;
        let plane_len = planes.len() / 3;
        for (c, out) in out.chunks_exact_mut(nw * nh).enumerate() {
            let plane = &planes[c * plane_len..(c + 1) * plane_len];
            let mut have = 0; // region rows [0, have) are in the ring
            let mut lines: Vec<(f32, usize)> = Vec::new();
            for (y, dst) in rows[..nh * nw].chunks_exact_mut(nw).enumerate() {
                let (first, ws) = ty.get(y);
                while have < first + ws.len() {
                    let (b0, b1) = (have, (have + BAND).min(rh));
                    for (x, sums) in band.chunks_exact_mut(BAND).take(nw).enumerate() {
                        let taps = &col_taps[col_start[x]..col_start[x + 1]];
                        column_band(plane, taps, region_y, (b0, b1), rows_inside, sums);
                    }
                    for r in b0..b1 {
                        let slot = &mut ring[(r % ring_rows) * nw..(r % ring_rows + 1) * nw];
                        for (d, sums) in slot.iter_mut().zip(band.chunks_exact(BAND)) {
                            *d = sums[r - b0];
                        }
                    }
                    have = b1;
                }
                lines.clear();
                for (k, &wt) in ws.iter().enumerate() {
                    lines.push((wt, (first + k) % ring_rows * nw));
                }
                sums_into(dst, ring, &lines, 0);
            }
            transpose(&rows[..nh * nw], nh, nw, out);
        }
    }
}

/// Region rows per band of the row pass. Why this many: a tall plane's columns lie a page or
/// more apart, and each visit to a column should do enough work to pay for its TLB miss.
const BAND: usize = 128;

/// Rows the row pass adds at a time, held in registers (four AVX2 registers).
const LANES: usize = 32;

/// The row pass of one output column over region rows `b0..b1` into `sums`: for each row,
/// the column taps `(weight, column start)` added in order from +0, or zero for a row outside
/// the image (`r_lo..r_hi` are the rows inside; region row r is plane row `ry + r`).
#[inline(always)]
fn column_band<T: Sample>(
    plane: &[T],
    taps: &[(f32, usize)],
    ry: i64,
    (b0, b1): (usize, usize),
    (r_lo, r_hi): (usize, usize),
    sums: &mut [f32],
) {
    let sums = &mut sums[..b1 - b0];
    sums.fill(0.0);
    let (i0, i1) = (b0.max(r_lo), b1.min(r_hi));
    if i0 < i1 {
        sums_into(
            &mut sums[i0 - b0..i1 - b0],
            plane,
            taps,
            (ry + i0 as i64) as usize,
        );
    }
}

/// `dst[j] = Σₖ wₖ · src[startₖ + at + j]` over `lines` of `(wₖ, startₖ)`, added in order from
/// +0: rows of the row pass (a line is a source column) or outputs of the column pass (a line
/// is a ring row). [`LANES`] at a time, then 16 and 8 (a crop's short region would otherwise
/// fall to the one-at-a-time loop), then one at a time; every sum stays in registers.
#[inline(always)]
fn sums_into<T: Sample>(dst: &mut [f32], src: &[T], lines: &[(f32, usize)], at: usize) {
    let mut i = 0;
    while i + LANES <= dst.len() {
        dst[i..i + LANES].copy_from_slice(&line_sums::<LANES, T>(src, lines, at + i));
        i += LANES;
    }
    if i + 16 <= dst.len() {
        dst[i..i + 16].copy_from_slice(&line_sums::<16, T>(src, lines, at + i));
        i += 16;
    }
    if i + 8 <= dst.len() {
        dst[i..i + 8].copy_from_slice(&line_sums::<8, T>(src, lines, at + i));
        i += 8;
    }
    // The last few, one at a time; the sum stays in a register (added to in memory, it would
    // be stored before every bounds check that could unwind).
    for (j, d) in dst.iter_mut().enumerate().skip(i) {
        let mut sum = 0.0f32;
        for &(wt, start) in lines {
            sum += wt * src[start + at + j].value();
        }
        *d = sum;
    }
}

/// Outputs `at .. at + N` of [`sums_into`], held in registers while the lines are added.
#[inline(always)]
fn line_sums<const N: usize, T: Sample>(src: &[T], lines: &[(f32, usize)], at: usize) -> [f32; N] {
    let mut acc = [0.0f32; N];
    for &(wt, start) in lines {
        let line: &[T; N] = src[start + at..start + at + N]
            .try_into()
            .unwrap_or_else(|_| unreachable!());
        for (a, s) in acc.iter_mut().zip(line) {
            *a += wt * s.value();
        }
    }
    acc
}

/// `dst` (`cols × rows`) becomes the transpose of `src` (`rows × cols`), in 8 × 8 tiles
/// held in registers.
#[inline(always)]
fn transpose(src: &[f32], rows: usize, cols: usize, dst: &mut [f32]) {
    const T: usize = 8;
    let (src, dst) = (&src[..rows * cols], &mut dst[..rows * cols]);
    let (full_r, full_c) = (rows - rows % T, cols - cols % T);
    for r0 in (0..full_r).step_by(T) {
        for c0 in (0..full_c).step_by(T) {
            // `tile[j][k]` = source row r0 + k, column c0 + j.
            let mut tile = [[0.0f32; T]; T];
            for k in 0..T {
                let start = (r0 + k) * cols + c0;
                let row: &[f32; T] = src[start..start + T]
                    .try_into()
                    .unwrap_or_else(|_| unreachable!());
                for (t, &v) in tile.iter_mut().zip(row) {
                    t[k] = v;
                }
            }
            for (j, t) in tile.iter().enumerate() {
                let start = (c0 + j) * rows + r0;
                dst[start..start + T].copy_from_slice(t);
            }
        }
    }
    // The ragged right and bottom edges, one value at a time.
    for r in 0..rows {
        let from = if r < full_r { full_c } else { 0 };
        for c in from..cols {
            dst[c * rows + r] = src[r * cols + c];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain form: per-output tap lists, the whole row pass, then the column pass.
    fn plain_taps(src: usize, dst: usize) -> Vec<Vec<(usize, f32)>> {
        let t = Taps::new(src, dst);
        (0..dst)
            .map(|i| {
                let (first, ws) = t.get(i);
                ws.iter()
                    .enumerate()
                    .map(|(k, &w)| (first + k, w))
                    .collect()
            })
            .collect()
    }

    fn two_pass(img: &[f32], w: usize, h: usize, nw: usize, nh: usize) -> Vec<f32> {
        let tx = plain_taps(w, nw);
        let ty = plain_taps(h, nh);
        let mut horiz = vec![0.0f32; nw * h * 3];
        for y in 0..h {
            let row = &img[y * w * 3..(y + 1) * w * 3];
            let out = &mut horiz[y * nw * 3..(y + 1) * nw * 3];
            for (x, t) in tx.iter().enumerate() {
                let mut acc = [0.0f32; 3];
                for &(j, wt) in t {
                    for c in 0..3 {
                        acc[c] += wt * row[j * 3 + c];
                    }
                }
                out[x * 3..x * 3 + 3].copy_from_slice(&acc);
            }
        }
        let mut out = vec![0.0f32; nw * nh * 3];
        for (y, t) in ty.iter().enumerate() {
            let dst = &mut out[y * nw * 3..(y + 1) * nw * 3];
            for &(j, wt) in t {
                let src = &horiz[j * nw * 3..(j + 1) * nw * 3];
                for (d, s) in dst.iter_mut().zip(src) {
                    *d += wt * s;
                }
            }
        }
        out
    }

    fn test_image(w: usize, h: usize) -> (Vec<u8>, Vec<f32>) {
        let bytes: Vec<u8> = (0..w * h * 3).map(|i| (i * 7919 % 251) as u8).collect();
        let img = bytes.iter().map(|&b| f32::from(b)).collect();
        (bytes, img)
    }

    #[test]
    fn taps_are_area_weights_when_shrinking_and_bilinear_when_enlarging() {
        let t = Taps::new(5, 2);
        // Output 0 covers [0, 2.5): samples 0, 1 whole and half of 2.
        assert_eq!(t.get(0), (0, &[0.4f32, 0.4, 0.2][..]));
        assert_eq!(t.get(1), (2, &[0.2f32, 0.4, 0.4][..]));
        let t = Taps::new(2, 4);
        assert_eq!(t.get(0), (0, &[1.0f32][..]));
        assert_eq!(t.get(1), (0, &[0.75f32, 0.25][..]));
        assert_eq!(t.get(3), (1, &[1.0f32][..]));
    }

    #[test]
    fn area_resize_preserves_mean_and_constant() {
        let (w, h) = (8, 6);
        let img: Vec<f32> = (0..w * h * 3).map(|i| (i % 13) as f32).collect();
        let out = resize(&img[..], w, h, 4, 3);
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        assert!((mean(&img) - mean(&out)).abs() < 1e-3);
        let flat = vec![42.0f32; w * h * 3];
        assert!(resize(&flat[..], w, h, 3, 5)
            .iter()
            .all(|&v| (v - 42.0).abs() < 1e-4));
    }

    #[test]
    fn streaming_resize_is_bit_identical_to_two_passes() {
        let (w, h) = (37, 29);
        let (bytes, img) = test_image(w, h);
        for (nw, nh) in [
            (12, 12),
            (13, 29),
            (37, 29),
            (5, 80),
            (74, 58),
            (24, 24),
            (1, 1),
        ] {
            let reference = two_pass(&img, w, h, nw, nh);
            assert_eq!(
                &resize(&img[..], w, h, nw, nh)[..],
                &reference[..],
                "{nw}×{nh}"
            );
            assert_eq!(
                &resize(&bytes[..], w, h, nw, nh)[..],
                &reference[..],
                "{nw}×{nh}"
            );
        }
    }

    /// `[c][x][y]` of an HWC image of `w × h`.
    fn channels_transposed(img: &[f32], w: usize, h: usize) -> Vec<f32> {
        let mut out = vec![0.0f32; img.len()];
        for y in 0..h {
            for x in 0..w {
                for c in 0..3 {
                    out[c * w * h + x * h + y] = img[(y * w + x) * 3 + c];
                }
            }
        }
        out
    }

    fn planes_resize<T: Sample>(
        planes: &Planes<T>,
        region: Region,
        nw: usize,
        nh: usize,
    ) -> Vec<f32> {
        let mut out = vec![f32::NAN; 3 * nw * nh];
        planes.resize_region_into(region, nw, nh, &mut out);
        out
    }

    #[test]
    fn planes_resize_is_bit_identical_to_two_passes() {
        // Sizes past the 8 × 8 transposition tiles and the 32-lane sums, ragged ones, and a tall image whose ring of rows wraps many times; one `Planes`
        // serves all sizes, as a detection's pyramid does, so the reused scratch grows and
        // shrinks.
        for (w, h) in [(45, 37), (23, 150), (11, 700)] {
            let (bytes, img) = test_image(w, h);
            let from_bytes = Planes::new(&bytes[..], w, h);
            let from_floats = Planes::new(&img[..], w, h);
            let whole = Region::whole(w, h);
            // The working copy made straight into planes holds what transposing it does.
            let (ww, wh) = (w * 2 / 3, h * 3 / 4);
            assert_eq!(
                Planes::resized(&bytes[..], w, h, ww, wh).data[..],
                Planes::new(&resize(&bytes[..], w, h, ww, wh)[..], ww, wh).data[..],
            );
            for (nw, nh) in [
                (12, 12),
                (90, 74),
                (13, 29),
                (w, h),
                (5, 80),
                (24, 17),
                (1, 1),
                (7, 150),
                (5, 333),
            ] {
                let reference = channels_transposed(&two_pass(&img, w, h, nw, nh), nw, nh);
                let what = format!("{w}×{h} → {nw}×{nh}");
                assert_eq!(
                    planes_resize(&from_bytes, whole, nw, nh),
                    reference,
                    "{what}"
                );
                assert_eq!(
                    planes_resize(&from_floats, whole, nw, nh),
                    reference,
                    "{what}"
                );
            }
        }
    }

    #[test]
    fn a_region_reads_as_its_zero_padded_copy() {
        let (w, h) = (23, 19);
        let (bytes, img) = test_image(w, h);
        for region in [
            (3, 4, 10, 10),
            (-5, -3, 12, 9),
            (15, 12, 14, 11),
            (-4, 6, 31, 7),
            (-30, 0, 10, 10),
            (0, 0, w, h),
        ] {
            let (rx, ry, rw, rh) = region;
            let region = Region {
                x: rx,
                y: ry,
                width: rw,
                height: rh,
            };
            let mut copy = vec![0.0f32; rw * rh * 3];
            for ty in 0..rh {
                for tx in 0..rw {
                    let (sx, sy) = (rx + tx as i64, ry + ty as i64);
                    if sx >= 0 && sy >= 0 && (sx as usize) < w && (sy as usize) < h {
                        let s = (sy as usize * w + sx as usize) * 3;
                        let d = (ty * rw + tx) * 3;
                        copy[d..d + 3].copy_from_slice(&img[s..s + 3]);
                    }
                }
            }
            for side in [24, 48, 5] {
                let reference = two_pass(&copy, rw, rh, side, side);
                assert_eq!(
                    &resize_region(&bytes[..], w, h, region, side, side)[..],
                    &reference[..],
                    "{region:?} → {side}"
                );
                assert_eq!(
                    &resize_region(&img[..], w, h, region, side, side)[..],
                    &reference[..],
                    "{region:?} → {side}"
                );
                let reference = channels_transposed(&reference, side, side);
                assert_eq!(
                    planes_resize(&Planes::new(&bytes[..], w, h), region, side, side),
                    reference,
                    "{region:?} → {side}"
                );
                assert_eq!(
                    planes_resize(&Planes::new(&img[..], w, h), region, side, side),
                    reference,
                    "{region:?} → {side}"
                );
            }
        }
    }
}
