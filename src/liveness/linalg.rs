//! The few dense linear-algebra routines the geometric layers need (3×3 solve, symmetric
//! eigen-decomposition, plane fit), written out because the problems are tiny (≤ 9×9)
//! and a general crate would dwarf them.
#![allow(clippy::needless_range_loop)] // index-heavy matrix code reads better with indices

use crate::detect::{Detection, Landmarks};
use crate::geometry::{Point, Rect};

/// A point at the layers' working precision. Detections arrive as the crate's f32
/// [`Point`]s, which is the precision the networks compute in; the layers widen them
/// (exactly) and do their least squares, homographies and point tracks in f64, where
/// sums of squares over many points and frames keep their digits.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub(crate) struct Point2 {
    pub x: f64,
    pub y: f64,
}

impl Point2 {
    pub const fn new(x: f64, y: f64) -> Self {
        Point2 { x, y }
    }

    pub fn dist(self, o: Point2) -> f64 {
        (self.x - o.x).hypot(self.y - o.y)
    }

    pub fn is_finite(self) -> bool {
        self.x.is_finite() && self.y.is_finite()
    }
}

impl From<Point> for Point2 {
    fn from(p: Point) -> Self {
        Point2::new(f64::from(p.x), f64::from(p.y))
    }
}

/// A detection's box widened to f64 (see [`Point2`]).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub(crate) struct Box2 {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Box2 {
    pub fn centre(&self) -> Point2 {
        Point2::new(self.x + self.w / 2.0, self.y + self.h / 2.0)
    }

    /// All fields finite and the size positive.
    pub fn is_valid(&self) -> bool {
        self.x.is_finite()
            && self.y.is_finite()
            && self.w.is_finite()
            && self.h.is_finite()
            && self.w > 0.0
            && self.h > 0.0
    }
}

impl From<&Rect> for Box2 {
    fn from(r: &Rect) -> Self {
        Box2 {
            x: f64::from(r.x),
            y: f64::from(r.y),
            w: f64::from(r.width),
            h: f64::from(r.height),
        }
    }
}

/// The five landmarks in MTCNN order (image-left eye, image-right eye, nose tip,
/// image-left mouth corner, image-right mouth corner), widened.
pub(crate) fn wide(l: &Landmarks) -> [Point2; 5] {
    l.to_array().map(Point2::from)
}

/// Distance between the eye centres, in f64.
pub(crate) fn inter_ocular(l: &Landmarks) -> f64 {
    Point2::from(l.left_eye).dist(Point2::from(l.right_eye))
}

/// Whether a detection can be measured: finite box of positive size, finite landmarks,
/// eyes apart.
pub(crate) fn measurable(f: &Detection) -> bool {
    Box2::from(&f.bbox).is_valid()
        && wide(&f.landmarks).iter().all(|p| p.is_finite())
        && inter_ocular(&f.landmarks) > 1e-6
}

/// Solves `a · x = b` for a 3×3 system by Gaussian elimination with partial pivoting.
/// `None` when the matrix is (numerically) singular.
pub fn solve3(a: [[f64; 3]; 3], b: [f64; 3]) -> Option<[f64; 3]> {
    let mut m = [
        [a[0][0], a[0][1], a[0][2], b[0]],
        [a[1][0], a[1][1], a[1][2], b[1]],
        [a[2][0], a[2][1], a[2][2], b[2]],
    ];
    let scale = a.iter().flatten().fold(0.0f64, |s, v| s.max(v.abs()));
    if !(scale.is_finite() && scale > 0.0) {
        return None;
    }
    for col in 0..3 {
        let piv = (col..3).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        if m[piv][col].abs() < 1e-12 * scale {
            return None;
        }
        m.swap(col, piv);
        for row in 0..3 {
            if row != col {
                let f = m[row][col] / m[col][col];
                for k in col..4 {
                    m[row][k] -= f * m[col][k];
                }
            }
        }
    }
    let x = [m[0][3] / m[0][0], m[1][3] / m[1][1], m[2][3] / m[2][2]];
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Eigen-decomposition of a symmetric `N×N` matrix by cyclic Jacobi rotations.
/// Returns the eigenvalues and the eigenvectors as columns of the second matrix.
pub fn symmetric_eigen<const N: usize>(mut a: [[f64; N]; N]) -> ([f64; N], [[f64; N]; N]) {
    let mut v = [[0.0; N]; N];
    for (i, row) in v.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for _sweep in 0..60 {
        let off: f64 = (0..N)
            .flat_map(|i| (0..N).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        let diag: f64 = (0..N).map(|i| a[i][i] * a[i][i]).sum();
        if off <= 1e-30 * diag.max(1e-300) {
            break;
        }
        for p in 0..N {
            for q in p + 1..N {
                if a[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..N {
                    let akp = a[k][p];
                    let akq = a[k][q];
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..N {
                    let apk = a[p][k];
                    let aqk = a[q][k];
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let vkp = row[p];
                    let vkq = row[q];
                    row[p] = c * vkp - s * vkq;
                    row[q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut w = [0.0; N];
    for (i, wi) in w.iter_mut().enumerate() {
        *wi = a[i][i];
    }
    (w, v)
}

/// Least-squares plane `z = a·x + b·y + c` through points; returns `(a, b, c)` and the RMS
/// of the residuals. `None` with fewer than 3 points or a degenerate layout.
pub fn fit_plane(points: &[[f64; 3]]) -> Option<([f64; 3], f64)> {
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f64;
    let (mx, my, mz) = points.iter().fold((0.0, 0.0, 0.0), |(a, b, c), p| {
        (a + p[0], b + p[1], c + p[2])
    });
    let (mx, my, mz) = (mx / n, my / n, mz / n);
    let mut s = [[0.0; 3]; 3];
    let mut r = [0.0; 3];
    for p in points {
        let v = [p[0] - mx, p[1] - my, 1.0];
        let z = p[2] - mz;
        for i in 0..3 {
            for j in 0..3 {
                s[i][j] += v[i] * v[j];
            }
            r[i] += v[i] * z;
        }
    }
    let [a, b, c0] = solve3(s, r)?;
    let c = mz + c0 - a * mx - b * my;
    let ss: f64 = points
        .iter()
        .map(|p| (p[2] - (a * p[0] + b * p[1] + c)).powi(2))
        .sum();
    Some(([a, b, c], (ss / n).sqrt()))
}

/// Inverse of an `N×N` matrix by Gauss–Jordan elimination with partial pivoting.
/// `None` when the matrix is (numerically) singular or not finite.
pub fn invert<const N: usize>(a: [[f64; N]; N]) -> Option<[[f64; N]; N]> {
    let scale = a.iter().flatten().fold(0.0f64, |s, v| s.max(v.abs()));
    if !(scale.is_finite() && scale > 0.0) {
        return None;
    }
    let mut m = a;
    let mut inv = [[0.0f64; N]; N];
    for (i, row) in inv.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for col in 0..N {
        let piv = (col..N).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        if m[piv][col].abs() < 1e-12 * scale {
            return None;
        }
        m.swap(col, piv);
        inv.swap(col, piv);
        let d = m[col][col];
        m[col].iter_mut().for_each(|v| *v /= d);
        inv[col].iter_mut().for_each(|v| *v /= d);
        let (pm, pi) = (m[col], inv[col]);
        for row in 0..N {
            let f = m[row][col];
            if row != col && f != 0.0 {
                for k in 0..N {
                    m[row][k] -= f * pm[k];
                    inv[row][k] -= f * pi[k];
                }
            }
        }
    }
    inv.iter().flatten().all(|v| v.is_finite()).then_some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invert_gives_the_inverse_and_refuses_singular_matrices() {
        let a = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]];
        let inv = invert(a).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let p: f64 = (0..3).map(|k| a[i][k] * inv[k][j]).sum();
                assert!((p - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        assert!(invert([[1.0, 2.0], [2.0, 4.0]]).is_none());
        assert!(invert([[f64::NAN, 0.0], [0.0, 1.0]]).is_none());
    }

    #[test]
    fn solve3_recovers_solution_and_rejects_singular() {
        let a = [[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]];
        let x = [1.0, -2.0, 0.5];
        let b = [
            2.0 * x[0] + x[1],
            x[0] + 3.0 * x[1] + x[2],
            x[1] + 4.0 * x[2],
        ];
        let got = solve3(a, b).unwrap();
        for i in 0..3 {
            assert!((got[i] - x[i]).abs() < 1e-12);
        }
        assert!(solve3([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 0.0, 1.0]], b).is_none());
    }

    #[test]
    fn eigen_of_known_matrix() {
        let a = [[4.0, 1.0, 0.0], [1.0, 3.0, 0.0], [0.0, 0.0, 1.0]];
        let (w, v) = symmetric_eigen(a);
        for k in 0..3 {
            // A v = w v
            for i in 0..3 {
                let av: f64 = (0..3).map(|j| a[i][j] * v[j][k]).sum();
                assert!((av - w[k] * v[i][k]).abs() < 1e-10);
            }
        }
        let mut ws = w;
        ws.sort_by(f64::total_cmp);
        assert!((ws[0] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn plane_fit_exact_and_residual() {
        let pts: Vec<[f64; 3]> = (0..25)
            .map(|i| {
                let (x, y) = ((i % 5) as f64, (i / 5) as f64);
                [x, y, 0.5 * x - 2.0 * y + 7.0]
            })
            .collect();
        let ([a, b, c], rms) = fit_plane(&pts).unwrap();
        assert!(
            (a - 0.5).abs() < 1e-9
                && (b + 2.0).abs() < 1e-9
                && (c - 7.0).abs() < 1e-9
                && rms < 1e-9
        );
        assert!(fit_plane(&pts[..2]).is_none());
    }
}
