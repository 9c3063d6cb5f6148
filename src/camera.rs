//! Camera: raw frames as kiosk cameras and Android/V4L2 pipelines deliver them, turned into
//! a [`Frame`] in one pass.
//!
//! Why here and not in the integration: converting YUV, undoing the sensor's rotation and
//! the selfie mirror by hand is where integrations go wrong — a swapped U/V plane, a stride
//! taken for the width, a buffer one row short read past its end. Each of those is a typed
//! error here, checked before a byte is allocated, and never a panic or a silently garbled
//! face (which would make the matcher fail for reasons nobody sees).
//!
//! Formats: packed [`PixelFormat::Rgb`], [`PixelFormat::Bgr`], [`PixelFormat::Rgba`],
//! [`PixelFormat::Bgra`] (alpha ignored), [`PixelFormat::Gray`]; 4:2:0 YUV
//! [`PixelFormat::Nv12`] (Y plane + interleaved UV, V4L2 `NV12`),
//! [`PixelFormat::Nv21`] (Y + interleaved VU, Android's camera default) and
//! [`PixelFormat::I420`] (Y, U, V planes, V4L2 `YUV420`). Every plane has its own row stride
//! (bytes from one row to the next, at least the row's bytes); the last row of a plane may
//! lack its padding, as Android's planes do. (Android's `YUV_420_888` with a chroma pixel
//! stride of 2 is NV21 or NV12 in memory, but its V or U buffer stops one byte before the
//! plane's last sample: pass the chroma plane from the start of the interleaved bytes to
//! their end, not that buffer alone.)
//!
//! Colour: YUV is read as ITU-R BT.601 (the standard-definition matrix camera sensors and
//! Android's `YUV_420_888` use), **limited range** by default (Y 16–235, chroma 16–240, "video"
//! range, what cameras deliver), full range on request ([`YuvRange::Full`], JPEG-style).
//! Chroma is sampled at its 2×2 block (no interpolation: the detector and the embedder work
//! on downscaled images, where it makes no difference).
//!
//! Orientation: [`Orientation`] rotates clockwise by 0/90/180/270° (the amount that makes the
//! image upright, e.g. Android's sensor orientation) and then mirrors left–right if asked.
//!
//! Pixels are face data: the conversion writes straight into the frame's own buffer, which is
//! zeroized on drop (there is no intermediate copy), and nothing here prints a pixel.

use crate::frame::{DecodeLimits, Frame, FrameError};

/// The layout of a raw camera frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// 3 bytes a pixel: red, green, blue.
    Rgb,
    /// 3 bytes a pixel: blue, green, red (OpenCV's and many USB cameras' order).
    Bgr,
    /// 4 bytes a pixel: red, green, blue, alpha (ignored).
    Rgba,
    /// 4 bytes a pixel: blue, green, red, alpha (ignored).
    Bgra,
    /// 1 byte a pixel: luma only (NIR and monochrome cameras).
    Gray,
    /// 4:2:0: a Y plane, then one plane of interleaved U, V at half resolution.
    Nv12,
    /// 4:2:0: a Y plane, then one plane of interleaved V, U at half resolution.
    Nv21,
    /// 4:2:0: Y, U and V planes, chroma at half resolution.
    I420,
}

impl PixelFormat {
    /// How many planes the format has: 1 (packed), 2 (NV12, NV21) or 3 (I420).
    pub fn planes(self) -> usize {
        match self {
            PixelFormat::Nv12 | PixelFormat::Nv21 => 2,
            PixelFormat::I420 => 3,
            _ => 1,
        }
    }

    /// Whether the format subsamples chroma 2×2 (and so needs an even width and height).
    pub fn is_420(self) -> bool {
        self.planes() > 1
    }

    /// Bytes of one pixel in a packed format (1 for the Y plane of a YUV format).
    fn packed_bytes(self) -> usize {
        match self {
            PixelFormat::Rgb | PixelFormat::Bgr => 3,
            PixelFormat::Rgba | PixelFormat::Bgra => 4,
            _ => 1,
        }
    }

    /// Names of the planes, for error messages.
    fn plane_names(self) -> &'static [&'static str] {
        match self {
            PixelFormat::Nv12 => &["Y", "UV"],
            PixelFormat::Nv21 => &["Y", "VU"],
            PixelFormat::I420 => &["Y", "U", "V"],
            _ => &["pixels"],
        }
    }
}

/// The YUV value range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum YuvRange {
    /// "Video" range: Y 16–235, U/V 16–240 (BT.601 as cameras deliver it).
    #[default]
    Limited,
    /// Full range: Y, U, V 0–255 (JPEG/JFIF).
    Full,
}

/// A clockwise rotation by a multiple of 90°.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Rotation {
    /// As delivered.
    #[default]
    None,
    /// 90° clockwise.
    Cw90,
    /// 180°.
    Cw180,
    /// 270° clockwise (90° counter-clockwise).
    Cw270,
}

impl Rotation {
    /// The rotation of `degrees` clockwise (0, 90, 180 or 270), as Android reports a
    /// sensor's orientation.
    pub fn from_degrees(degrees: u32) -> Result<Rotation, CameraError> {
        match degrees {
            0 => Ok(Rotation::None),
            90 => Ok(Rotation::Cw90),
            180 => Ok(Rotation::Cw180),
            270 => Ok(Rotation::Cw270),
            other => Err(CameraError::Rotation(other)),
        }
    }

    fn swaps_axes(self) -> bool {
        matches!(self, Rotation::Cw90 | Rotation::Cw270)
    }
}

/// How to turn the camera image upright: rotate clockwise first, then mirror left–right.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Orientation {
    /// Clockwise rotation applied first.
    pub rotation: Rotation,
    /// Mirror left–right after rotating (e.g. to undo a front camera's selfie mirror).
    pub mirror: bool,
}

/// One plane of a camera frame: its bytes and the distance between rows.
#[derive(Clone, Copy)]
pub struct Plane<'a> {
    /// The plane's bytes, starting at its first row.
    pub data: &'a [u8],
    /// Bytes from the start of one row to the next (at least the row's own bytes).
    pub stride: usize,
}

impl std::fmt::Debug for Plane<'_> {
    // The bytes are a face: print their count only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Plane({} bytes, stride {})",
            self.data.len(),
            self.stride
        )
    }
}

/// Why a camera frame was refused.
#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    /// Width or height is zero.
    #[error("camera frame has zero width or height")]
    ZeroSize,
    /// The frame is larger than the limits allow.
    #[error("camera frame is {width}×{height} pixels, over the limit of {max_width}×{max_height}")]
    TooLarge {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// Limit on width.
        max_width: u32,
        /// Limit on height.
        max_height: u32,
    },
    /// A 4:2:0 format with an odd width or height (chroma covers 2×2 pixel blocks).
    #[error("{format:?} needs an even width and height, got {width}×{height}")]
    OddSize {
        /// The format.
        format: PixelFormat,
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// The wrong number of planes for the format.
    #[error("{format:?} has {expected} plane(s), {actual} given")]
    PlaneCount {
        /// The format.
        format: PixelFormat,
        /// Planes the format has.
        expected: usize,
        /// Planes given.
        actual: usize,
    },
    /// A row stride shorter than the row itself.
    #[error("{plane} plane stride is {stride} bytes, a row needs at least {min}")]
    StrideTooSmall {
        /// Which plane ("pixels", "Y", "UV", "VU", "U" or "V").
        plane: &'static str,
        /// The stride given.
        stride: usize,
        /// The row's bytes.
        min: u64,
    },
    /// A plane whose length does not fit its rows and stride.
    #[error("{plane} plane holds {len} bytes, its rows and stride need {min}..={max}")]
    PlaneLength {
        /// Which plane.
        plane: &'static str,
        /// Bytes given.
        len: usize,
        /// Fewest bytes: full rows but the last, which may lack its padding.
        min: u64,
        /// Most bytes: every row with its padding.
        max: u64,
    },
    /// A single buffer holding all planes whose length does not fit the layout.
    #[error("frame buffer holds {len} bytes, the layout needs {min}..={max}")]
    BufferLength {
        /// Bytes given.
        len: usize,
        /// Fewest bytes.
        min: u64,
        /// Most bytes.
        max: u64,
    },
    /// A rotation that is not a multiple of 90° in 0..=270.
    #[error("rotation must be 0, 90, 180 or 270 degrees, got {0}")]
    Rotation(u32),
    /// The converted frame was refused (not expected once the layout is valid).
    #[error(transparent)]
    Frame(#[from] FrameError),
}

/// A raw camera frame: borrowed planes in one of the [`PixelFormat`]s, checked on creation.
///
/// ```
/// use facegate::camera::{CameraImage, Orientation, PixelFormat, Rotation};
/// use facegate::frame::DecodeLimits;
/// // A 4×2 NV21 frame in one buffer (Y rows, then VU rows), stride 4, as Android gives it.
/// let nv21 = [16u8, 16, 235, 235, 16, 16, 235, 235, 128, 128, 128, 128];
/// let image = CameraImage::contiguous(PixelFormat::Nv21, 4, 2, &nv21, 4)?;
/// let upright = Orientation { rotation: Rotation::from_degrees(270)?, mirror: true };
/// let frame = image.to_frame(upright, &DecodeLimits::default())?;
/// assert_eq!((frame.width(), frame.height()), (2, 4));
/// # Ok::<(), facegate::camera::CameraError>(())
/// ```
pub struct CameraImage<'a> {
    format: PixelFormat,
    width: u32,
    height: u32,
    planes: [Plane<'a>; 3],
    range: YuvRange,
}

impl std::fmt::Debug for CameraImage<'_> {
    // Never the pixels: they are a face.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CameraImage({:?} {}×{})",
            self.format, self.width, self.height
        )
    }
}

/// A frame has pixels, and 4:2:0 chroma covers 2×2 pixel blocks, so those sizes are even.
fn check_size(format: PixelFormat, width: u32, height: u32) -> Result<(), CameraError> {
    if width == 0 || height == 0 {
        return Err(CameraError::ZeroSize);
    }
    if format.is_420() && (width % 2 != 0 || height % 2 != 0) {
        return Err(CameraError::OddSize {
            format,
            width,
            height,
        });
    }
    Ok(())
}

/// Rows and bytes a row of each plane of `format` at `width × height`.
fn plane_shapes(format: PixelFormat, width: u32, height: u32) -> [(u64, u64); 3] {
    let (w, h) = (u64::from(width), u64::from(height));
    match format {
        PixelFormat::Nv12 | PixelFormat::Nv21 => [(h, w), (h / 2, w), (0, 0)],
        PixelFormat::I420 => [(h, w), (h / 2, w / 2), (h / 2, w / 2)],
        other => [(h, w * other.packed_bytes() as u64), (0, 0), (0, 0)],
    }
}

/// Fewest and most bytes of a plane of `rows` rows of `row` bytes at `stride`.
fn plane_bounds(rows: u64, row: u64, stride: usize) -> (u128, u128) {
    let stride = stride as u128;
    let rows = u128::from(rows);
    (stride * (rows - 1) + u128::from(row), stride * rows)
}

fn saturate(v: u128) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

impl<'a> CameraImage<'a> {
    /// A frame of `width × height` in `format` from its planes (1 for packed formats, 2 for
    /// NV12/NV21, 3 for I420, in the order of the format's name). Each plane's stride must
    /// hold a row, and its length must hold every row (the last may lack its padding) and
    /// no more than every row with padding: a longer plane means the declared size is wrong.
    pub fn new(
        format: PixelFormat,
        width: u32,
        height: u32,
        planes: &[Plane<'a>],
    ) -> Result<CameraImage<'a>, CameraError> {
        check_size(format, width, height)?;
        if planes.len() != format.planes() {
            return Err(CameraError::PlaneCount {
                format,
                expected: format.planes(),
                actual: planes.len(),
            });
        }
        let shapes = plane_shapes(format, width, height);
        for ((plane, &(rows, row)), &name) in planes.iter().zip(&shapes).zip(format.plane_names()) {
            if (plane.stride as u64) < row {
                return Err(CameraError::StrideTooSmall {
                    plane: name,
                    stride: plane.stride,
                    min: row,
                });
            }
            let (min, max) = plane_bounds(rows, row, plane.stride);
            let len = plane.data.len() as u128;
            if len < min || len > max {
                return Err(CameraError::PlaneLength {
                    plane: name,
                    len: plane.data.len(),
                    min: saturate(min),
                    max: saturate(max),
                });
            }
        }
        let empty = Plane {
            data: &[],
            stride: 0,
        };
        let mut all = [empty; 3];
        all[..planes.len()].copy_from_slice(planes);
        Ok(CameraImage {
            format,
            width,
            height,
            planes: all,
            range: YuvRange::Limited,
        })
    }

    /// A frame whose planes follow each other in one buffer, as V4L2's single-planar
    /// formats and most capture APIs lay them out: `stride` is the Y (or packed) plane's row
    /// stride; the interleaved chroma plane of NV12/NV21 has the same stride, the U and V
    /// planes of I420 half of it, each starting right after the previous plane's last row.
    /// The buffer may lack the last row's padding, and may not be longer than the layout.
    pub fn contiguous(
        format: PixelFormat,
        width: u32,
        height: u32,
        data: &'a [u8],
        stride: usize,
    ) -> Result<CameraImage<'a>, CameraError> {
        check_size(format, width, height)?;
        let shapes = plane_shapes(format, width, height);
        let strides = match format {
            PixelFormat::I420 => [stride, stride / 2, stride / 2],
            _ => [stride; 3],
        };
        let names = format.plane_names();
        let n = format.planes();
        // Every plane but the last is whole (the next one starts after its padding).
        let mut offsets = [0u128; 3];
        let mut end = 0u128;
        for i in 0..n {
            let (rows, row) = shapes[i];
            if (strides[i] as u64) < row {
                return Err(CameraError::StrideTooSmall {
                    plane: names[i],
                    stride: strides[i],
                    min: row,
                });
            }
            offsets[i] = end;
            end += strides[i] as u128 * u128::from(rows);
        }
        let (last_min, _) = plane_bounds(shapes[n - 1].0, shapes[n - 1].1, strides[n - 1]);
        let min = offsets[n - 1] + last_min;
        let len = data.len() as u128;
        if len < min || len > end {
            return Err(CameraError::BufferLength {
                len: data.len(),
                min: saturate(min),
                max: saturate(end),
            });
        }
        // In bounds: every offset is at most `min` ≤ len, so it fits a usize.
        let mut planes = Vec::with_capacity(n);
        for i in 0..n {
            let start = offsets[i] as usize;
            let stop = if i + 1 < n {
                offsets[i + 1] as usize
            } else {
                data.len()
            };
            planes.push(Plane {
                data: &data[start..stop],
                stride: strides[i],
            });
        }
        CameraImage::new(format, width, height, &planes)
    }

    /// Reads YUV in `range` instead of the default limited range (no effect on RGB/gray).
    pub fn with_range(mut self, range: YuvRange) -> CameraImage<'a> {
        self.range = range;
        self
    }

    /// The pixel format.
    pub fn format(&self) -> PixelFormat {
        self.format
    }

    /// Width in pixels, as delivered (before rotation).
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels, as delivered (before rotation).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Converts to an upright RGB [`Frame`]. The limits are checked on the size first, so
    /// an absurd size is refused before anything is allocated.
    pub fn to_frame(
        &self,
        orientation: Orientation,
        limits: &DecodeLimits,
    ) -> Result<Frame, CameraError> {
        let (w, h) = (self.width, self.height);
        let (fw, fh) = if orientation.rotation.swaps_axes() {
            (h, w)
        } else {
            (w, h)
        };
        let bytes = u64::from(w) * u64::from(h) * 3;
        // The second test matters on 32-bit kiosks, where the frame must fit the address space.
        let too_many_bytes = bytes > limits.max_alloc_bytes || usize::try_from(bytes).is_err();
        if fw > limits.max_width || fh > limits.max_height || too_many_bytes {
            return Err(CameraError::TooLarge {
                width: fw,
                height: fh,
                max_width: limits.max_width,
                max_height: limits.max_height,
            });
        }
        let [p0, p1, p2] = self.planes;
        let yuv = Yuv::new(self.range);
        let rgb = match self.format {
            PixelFormat::Rgb => convert(&Packed::<0, 1, 2, 3>(p0), w, h, orientation),
            PixelFormat::Bgr => convert(&Packed::<2, 1, 0, 3>(p0), w, h, orientation),
            PixelFormat::Rgba => convert(&Packed::<0, 1, 2, 4>(p0), w, h, orientation),
            PixelFormat::Bgra => convert(&Packed::<2, 1, 0, 4>(p0), w, h, orientation),
            PixelFormat::Gray => convert(&Packed::<0, 0, 0, 1>(p0), w, h, orientation),
            PixelFormat::Nv12 => convert(&SemiPlanar::<0>(p0, p1, yuv), w, h, orientation),
            PixelFormat::Nv21 => convert(&SemiPlanar::<1>(p0, p1, yuv), w, h, orientation),
            PixelFormat::I420 => convert(&Planar(p0, p1, p2, yuv), w, h, orientation),
        };
        Ok(Frame::from_rgb(fw, fh, rgb)?)
    }
}

/// Reads the RGB value of pixel (x, y) of a validated image.
trait Source {
    fn rgb(&self, x: usize, y: usize) -> [u8; 3];
}

/// A packed format: byte offsets of R, G, B within a pixel of `N` bytes.
struct Packed<'a, const R: usize, const G: usize, const B: usize, const N: usize>(Plane<'a>);

impl<const R: usize, const G: usize, const B: usize, const N: usize> Source
    for Packed<'_, R, G, B, N>
{
    #[inline]
    fn rgb(&self, x: usize, y: usize) -> [u8; 3] {
        let i = y * self.0.stride + x * N;
        let d = self.0.data;
        [d[i + R], d[i + G], d[i + B]]
    }
}

/// NV12 (`V_FIRST` = 0) or NV21 (1): Y plane and interleaved chroma plane.
struct SemiPlanar<'a, const V_FIRST: usize>(Plane<'a>, Plane<'a>, Yuv);

impl<const V_FIRST: usize> Source for SemiPlanar<'_, V_FIRST> {
    #[inline]
    fn rgb(&self, x: usize, y: usize) -> [u8; 3] {
        let luma = self.0.data[y * self.0.stride + x];
        let c = (y / 2) * self.1.stride + (x / 2) * 2;
        let (u, v) = (self.1.data[c + V_FIRST], self.1.data[c + 1 - V_FIRST]);
        self.2.rgb(luma, u, v)
    }
}

/// I420: Y, U and V planes.
struct Planar<'a>(Plane<'a>, Plane<'a>, Plane<'a>, Yuv);

impl Source for Planar<'_> {
    #[inline]
    fn rgb(&self, x: usize, y: usize) -> [u8; 3] {
        let luma = self.0.data[y * self.0.stride + x];
        let u = self.1.data[(y / 2) * self.1.stride + x / 2];
        let v = self.2.data[(y / 2) * self.2.stride + x / 2];
        self.3.rgb(luma, u, v)
    }
}

/// BT.601 YUV → RGB in 16-bit fixed point.
#[derive(Clone, Copy)]
struct Yuv {
    y_offset: i32,
    y_gain: i32,
    rv: i32,
    gu: i32,
    gv: i32,
    bu: i32,
}

impl Yuv {
    fn new(range: YuvRange) -> Yuv {
        // Coefficients × 65536. Limited: Y scaled by 255/219, chroma by 255/224 (BT.601).
        match range {
            YuvRange::Limited => Yuv {
                y_offset: 16,
                y_gain: 76_309,
                rv: 104_597,
                gu: 25_675,
                gv: 53_279,
                bu: 132_201,
            },
            YuvRange::Full => Yuv {
                y_offset: 0,
                y_gain: 65_536,
                rv: 91_881,
                gu: 22_554,
                gv: 46_802,
                bu: 116_130,
            },
        }
    }

    #[inline]
    fn rgb(&self, y: u8, u: u8, v: u8) -> [u8; 3] {
        let c = (i32::from(y) - self.y_offset) * self.y_gain + (1 << 15);
        let (d, e) = (i32::from(u) - 128, i32::from(v) - 128);
        let clamp = |x: i32| (x >> 16).clamp(0, 255) as u8;
        [
            clamp(c + self.rv * e),
            clamp(c - self.gu * d - self.gv * e),
            clamp(c + self.bu * d),
        ]
    }
}

/// Converts a validated `w × h` source into RGB bytes of the oriented frame, one pass, into
/// a buffer allocated once at its final size (so no copy of the pixels is left behind).
fn convert<S: Source>(src: &S, w: u32, h: u32, o: Orientation) -> Vec<u8> {
    let (w, h) = (w as usize, h as usize);
    let (fw, fh) = if o.rotation.swaps_axes() {
        (h, w)
    } else {
        (w, h)
    };
    let mut out = vec![0u8; fw * fh * 3];
    for (dy, row) in out.chunks_exact_mut(fw * 3).enumerate() {
        for (dx, px) in row.chunks_exact_mut(3).enumerate() {
            // Undo the mirror, then the clockwise rotation, to find the source pixel.
            let ux = if o.mirror { fw - 1 - dx } else { dx };
            let (x, y) = match o.rotation {
                Rotation::None => (ux, dy),
                Rotation::Cw90 => (dy, h - 1 - ux),
                Rotation::Cw180 => (w - 1 - ux, h - 1 - dy),
                Rotation::Cw270 => (w - 1 - dy, ux),
            };
            px.copy_from_slice(&src.rgb(x, y));
        }
    }
    out
}
