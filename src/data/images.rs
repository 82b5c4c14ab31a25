//! Decoding (JPEG, PNG) and resizing of images into uint8 HWC pixels, shaped like Keras's
//! image loading: `color_mode` "grayscale" / "rgb" / "rgba", and resizing as
//! `tf.image.resize` does (half-pixel centers, no antialiasing) with "bilinear" (the
//! default of `image_dataset_from_directory`) or "nearest" (for masks and trimaps, whose
//! values are class ids that must not be blended).

use image::{DynamicImage, ImageFormat};

use crate::bail;
use crate::error::{Error, Result};

/// Keras's `color_mode`: how many channels images get.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorMode {
    /// One channel.
    Grayscale,
    /// Three channels (the default).
    #[default]
    Rgb,
    /// Four channels.
    Rgba,
}

impl ColorMode {
    /// Parse Keras's spelling ("grayscale", "rgb", "rgba").
    pub fn parse(name: &str) -> Result<ColorMode> {
        Ok(match name {
            "grayscale" => ColorMode::Grayscale,
            "rgb" => ColorMode::Rgb,
            "rgba" => ColorMode::Rgba,
            other => bail!("color_mode must be \"grayscale\", \"rgb\" or \"rgba\", got \"{other}\""),
        })
    }

    /// Channels per pixel.
    pub fn channels(self) -> usize {
        match self {
            ColorMode::Grayscale => 1,
            ColorMode::Rgb => 3,
            ColorMode::Rgba => 4,
        }
    }
}

/// Resizing method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    /// Weighted mean of the four nearest source pixels (the default).
    #[default]
    Bilinear,
    /// The nearest source pixel.
    Nearest,
}

impl Interpolation {
    /// Parse Keras's spelling ("bilinear", "nearest").
    pub fn parse(name: &str) -> Result<Interpolation> {
        Ok(match name {
            "bilinear" => Interpolation::Bilinear,
            "nearest" => Interpolation::Nearest,
            other => bail!("interpolation must be \"bilinear\" or \"nearest\", got \"{other}\""),
        })
    }
}

/// Pixels as uint8, row-major, channels last (HWC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// Channels per pixel.
    pub channels: usize,
    /// height · width · channels bytes.
    pub data: Vec<u8>,
}

impl Image {
    /// An image from its pixels; errors when the byte count does not match.
    pub fn new(height: usize, width: usize, channels: usize, data: Vec<u8>) -> Result<Image> {
        if data.len() != height * width * channels {
            bail!("image: {} bytes cannot be {height}x{width}x{channels}", data.len());
        }
        Ok(Image {
            height,
            width,
            channels,
            data,
        })
    }

    /// The channels of the pixel at row `y`, column `x`.
    pub fn pixel(&self, y: usize, x: usize) -> &[u8] {
        let o = (y * self.width + x) * self.channels;
        &self.data[o..o + self.channels]
    }
}

/// The container format from the first bytes (not the file name: some datasets hold PNG
/// data in `.jpg` files).
pub(crate) fn sniff_format(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(&[0xff, 0xd8]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else {
        None
    }
}

/// Whether a path names an image file by its extension (case-insensitive), as Keras's
/// allow-list does: .jpg .jpeg .png (and .bmp .gif, which this build cannot decode).
pub(crate) fn has_image_extension(path: &str) -> bool {
    decodable_extension(path) || unsupported_image_extension(path)
}

/// .jpg, .jpeg or .png.
pub(crate) fn decodable_extension(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    p.ends_with(".jpg") || p.ends_with(".jpeg") || p.ends_with(".png")
}

/// .bmp or .gif: images Keras reads that this build has no decoder for.
pub(crate) fn unsupported_image_extension(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    p.ends_with(".bmp") || p.ends_with(".gif")
}

/// Walks the JPEG segments up to the end-of-image marker; an error says why the stream is
/// incomplete. The decoder on its own fills a cut-off file with grey instead of failing.
fn check_jpeg_complete(bytes: &[u8]) -> std::result::Result<(), String> {
    let n = bytes.len();
    let mut pos = 2; // after SOI
    loop {
        // Find the next marker: 0xFF, optional fill bytes, then the code.
        if pos >= n {
            return Err("truncated JPEG: the data ends before the end-of-image marker".into());
        }
        if bytes[pos] != 0xff {
            return Err(format!(
                "corrupt JPEG: expected a marker at byte {pos}, found 0x{:02x}",
                bytes[pos]
            ));
        }
        while pos < n && bytes[pos] == 0xff {
            pos += 1;
        }
        if pos >= n {
            return Err("truncated JPEG: the data ends inside a marker".into());
        }
        let code = bytes[pos];
        pos += 1;
        match code {
            0xd9 => return Ok(()),
            0x01 | 0xd0..=0xd7 => continue,
            _ => {}
        }
        if pos + 2 > n {
            return Err("truncated JPEG: the data ends inside a segment header".into());
        }
        let len = u16::from_be_bytes([bytes[pos], bytes[pos + 1]]) as usize;
        if len < 2 {
            return Err(format!("corrupt JPEG: segment 0xff{code:02x} has length {len}"));
        }
        if pos + len > n {
            return Err(format!(
                "truncated JPEG: segment 0xff{code:02x} needs {len} bytes, {} remain",
                n - pos
            ));
        }
        pos += len;
        if code == 0xda {
            // Entropy-coded data: runs until a marker other than a stuffed 0xFF00 or a restart.
            loop {
                while pos < n && bytes[pos] != 0xff {
                    pos += 1;
                }
                if pos + 1 >= n {
                    return Err("truncated JPEG: the image data ends before the end-of-image marker".into());
                }
                let next = bytes[pos + 1];
                if next == 0x00 || (0xd0..=0xd7).contains(&next) || next == 0xff {
                    pos += if next == 0xff { 1 } else { 2 };
                } else {
                    break;
                }
            }
        }
    }
}

/// Luma as PIL's `convert("L")` and libjpeg compute it (ITU-R 601-2).
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((r as u32 * 19595 + g as u32 * 38470 + b as u32 * 7471 + 0x8000) >> 16) as u8
}

fn to_color_mode(img: DynamicImage, mode: ColorMode) -> Image {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let data = match mode {
        ColorMode::Rgb => img.into_rgb8().into_raw(),
        ColorMode::Rgba => img.into_rgba8().into_raw(),
        ColorMode::Grayscale => match img {
            // Single-channel data (masks, trimaps) keeps its values exactly.
            DynamicImage::ImageLuma8(g) => g.into_raw(),
            DynamicImage::ImageLumaA8(_) | DynamicImage::ImageLuma16(_) | DynamicImage::ImageLumaA16(_) => {
                img.into_luma8().into_raw()
            }
            other => other
                .into_rgb8()
                .into_raw()
                .chunks_exact(3)
                .map(|p| luma(p[0], p[1], p[2]))
                .collect(),
        },
    };
    Image {
        height: h,
        width: w,
        channels: mode.channels(),
        data,
    }
}

/// "of 100000x100000 pixels" from the header, for the message refusing it.
fn declared_size(bytes: &[u8], format: ImageFormat) -> String {
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    reader.no_limits();
    match reader.into_dimensions() {
        Ok((w, h)) => format!("of {w}x{h} pixels"),
        Err(_) => "too large to decode".to_string(),
    }
}

/// Decodes a JPEG or PNG into `mode`'s channels. `what` names the file in errors.
pub fn decode_image(bytes: &[u8], what: &str, mode: ColorMode) -> Result<Image> {
    let Some(format) = sniff_format(bytes) else {
        if bytes.is_empty() {
            bail!("{what}: empty file, not an image");
        }
        let head: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
        bail!("{what}: not a JPEG or PNG image (starts with {})", head.join(" "));
    };
    if format == ImageFormat::Jpeg {
        check_jpeg_complete(bytes).map_err(|m| Error::new(format!("{what}: {m}")))?;
    }
    let kind = if format == ImageFormat::Jpeg { "JPEG" } else { "PNG" };
    // The header's width x height decides the allocation: the decoder refuses it past the budget.
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(crate::limits::byte_budget() as u64);
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => Error::new(format!(
            "{what}: {kind} image {}, more than the {} one file may load",
            declared_size(bytes, format),
            crate::limits::fmt_bytes(crate::limits::byte_budget())
        )),
        e => Error::new(format!("{what}: corrupt {kind} image ({e})")),
    })?;
    if img.width() == 0 || img.height() == 0 {
        bail!("{what}: {kind} image has no pixels ({}x{})", img.width(), img.height());
    }
    Ok(to_color_mode(img, mode))
}

/// The central crop with the aspect ratio of `height`x`width` (Keras's
/// `crop_to_aspect_ratio=True`, as in `smart_resize`).
pub fn crop_to_aspect_ratio(img: &Image, height: usize, width: usize) -> Image {
    if height == 0 || width == 0 {
        return img.clone();
    }
    let crop_h = ((img.width * height) as f64 / width as f64) as usize;
    let crop_w = ((img.height * width) as f64 / height as f64) as usize;
    let crop_h = crop_h.min(img.height).max(1);
    let crop_w = crop_w.min(img.width).max(1);
    let top = (img.height - crop_h) / 2;
    let left = (img.width - crop_w) / 2;
    let c = img.channels;
    let mut data = Vec::with_capacity(crop_h * crop_w * c);
    for y in top..top + crop_h {
        let row = (y * img.width + left) * c;
        data.extend_from_slice(&img.data[row..row + crop_w * c]);
    }
    Image {
        height: crop_h,
        width: crop_w,
        channels: c,
        data,
    }
}

/// Resizes to `height`x`width` like `tf.image.resize` (half-pixel centers, no
/// antialiasing), rounding bilinear results to the nearest uint8.
pub fn resize(img: &Image, height: usize, width: usize, method: Interpolation) -> Image {
    if (height, width) == (img.height, img.width) {
        return img.clone();
    }
    let c = img.channels;
    let mut out = vec![0u8; height * width * c];
    if img.height == 0 || img.width == 0 {
        return Image {
            height,
            width,
            channels: c,
            data: out,
        };
    }
    let sy = img.height as f32 / height as f32;
    let sx = img.width as f32 / width as f32;
    match method {
        Interpolation::Nearest => {
            let xs: Vec<usize> = (0..width)
                .map(|x| (((x as f32 + 0.5) * sx).floor() as usize).min(img.width - 1))
                .collect();
            for y in 0..height {
                let iy = (((y as f32 + 0.5) * sy).floor() as usize).min(img.height - 1);
                for (x, &ix) in xs.iter().enumerate() {
                    let o = (y * width + x) * c;
                    out[o..o + c].copy_from_slice(img.pixel(iy, ix));
                }
            }
        }
        Interpolation::Bilinear => {
            // (lower, upper, weight of upper) along one axis, as TF computes them.
            let weights = |n_out: usize, n_in: usize, scale: f32| -> Vec<(usize, usize, f32)> {
                (0..n_out)
                    .map(|i| {
                        let v = (i as f32 + 0.5) * scale - 0.5;
                        let f = v.floor();
                        let lo = (f.max(0.0) as usize).min(n_in - 1);
                        let hi = (v.ceil().max(0.0) as usize).min(n_in - 1);
                        (lo, hi, v - f)
                    })
                    .collect()
            };
            let wy = weights(height, img.height, sy);
            let wx = weights(width, img.width, sx);
            for (y, &(y0, y1, ly)) in wy.iter().enumerate() {
                for (x, &(x0, x1, lx)) in wx.iter().enumerate() {
                    let (a, b, p, q) = (
                        img.pixel(y0, x0),
                        img.pixel(y0, x1),
                        img.pixel(y1, x0),
                        img.pixel(y1, x1),
                    );
                    let o = (y * width + x) * c;
                    for k in 0..c {
                        let top = a[k] as f32 + (b[k] as f32 - a[k] as f32) * lx;
                        let bottom = p[k] as f32 + (q[k] as f32 - p[k] as f32) * lx;
                        let v = top + (bottom - top) * ly;
                        out[o + k] = v.round().clamp(0.0, 255.0) as u8;
                    }
                }
            }
        }
    }
    Image {
        height,
        width,
        channels: c,
        data: out,
    }
}

/// How `load_image` shapes what it decodes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoadOptions {
    /// Channels of the result.
    pub color_mode: ColorMode,
    /// (height, width), or None to keep the decoded size.
    pub size: Option<(usize, usize)>,
    /// Resizing method.
    pub interpolation: Interpolation,
    /// Center-crop to the target's aspect ratio before resizing (Keras's option).
    pub crop_to_aspect_ratio: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            color_mode: ColorMode::Rgb,
            size: None,
            interpolation: Interpolation::Bilinear,
            crop_to_aspect_ratio: false,
        }
    }
}

/// The largest side `image_size` may ask for.
pub(crate) const MAX_SIDE: usize = 16384;

/// Checks a target (height, width): positive and at most [`MAX_SIDE`].
pub(crate) fn check_size(size: (usize, usize), what: &str) -> Result<()> {
    let (h, w) = size;
    if h == 0 || w == 0 || h > MAX_SIDE || w > MAX_SIDE {
        bail!("{what}: image_size must be between 1 and {MAX_SIDE} on each side, got ({h}, {w})");
    }
    Ok(())
}

/// Decode, optionally crop to the target aspect ratio, then resize.
pub fn load_image(bytes: &[u8], what: &str, opts: &LoadOptions) -> Result<Image> {
    if let Some(size) = opts.size {
        check_size(size, what)?;
    }
    let img = decode_image(bytes, what, opts.color_mode)?;
    Ok(match opts.size {
        None => img,
        Some((h, w)) => {
            if opts.crop_to_aspect_ratio {
                resize(&crop_to_aspect_ratio(&img, h, w), h, w, opts.interpolation)
            } else {
                resize(&img, h, w, opts.interpolation)
            }
        }
    })
}

/// Encodes uint8 HWC pixels (1, 3 or 4 channels) as PNG: tests and thumbnails.
pub fn encode_png(img: &Image) -> Result<Vec<u8>> {
    let color = match img.channels {
        1 => image::ExtendedColorType::L8,
        3 => image::ExtendedColorType::Rgb8,
        4 => image::ExtendedColorType::Rgba8,
        c => bail!("encode_png: {c} channels (expected 1, 3 or 4)"),
    };
    let mut out = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut out),
        &img.data,
        img.width as u32,
        img.height as u32,
        color,
    )
    .map_err(|e| Error::new(format!("encode_png: {e}")))?;
    Ok(out)
}
