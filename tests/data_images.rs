//! Image decoding and resizing, and the archive views (zip, tar, tar.gz, files in memory),
//! on inputs made here.

use std::io::{Cursor, Write};

use convbook::data::archive::{open_bytes, Archive, FileSet, SeekTarSource, TarSource, ZipSource};
use convbook::data::images::{
    crop_to_aspect_ratio, decode_image, encode_png, load_image, resize, ColorMode, Image, Interpolation, LoadOptions,
};

fn png(width: u32, height: u32, channels: usize, f: impl Fn(u32, u32) -> Vec<u8>) -> Vec<u8> {
    let data: Vec<u8> = (0..height)
        .flat_map(|y| (0..width).flat_map(|x| f(x, y)).collect::<Vec<_>>())
        .collect();
    encode_png(&Image::new(height as usize, width as usize, channels, data).unwrap()).unwrap()
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x * 8) as u8, (y * 8) as u8, 128]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95)
        .encode_image(&img)
        .unwrap();
    out
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (i, (name, bytes)) in files.iter().enumerate() {
        let method = if i % 2 == 0 {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        if name.ends_with('/') {
            w.add_directory(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            continue;
        }
        w.start_file(
            *name,
            zip::write::SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, bytes) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *bytes).unwrap();
    }
    b.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn all_files(a: &mut dyn Archive) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    a.visit(&mut |_| true, &mut |p, b| {
        out.push((p.to_string(), b.to_vec()));
        Ok(())
    })
    .unwrap();
    out
}

#[test]
fn color_modes_follow_keras_and_pil() {
    let rgb = png(3, 1, 3, |x, _| match x {
        0 => vec![255, 0, 0],
        1 => vec![0, 255, 0],
        _ => vec![0, 0, 255],
    });
    let g = decode_image(&rgb, "rgb.png", ColorMode::Grayscale).unwrap();
    assert_eq!((g.height, g.width, g.channels), (1, 3, 1));
    // ITU-R 601 luma, as PIL's convert("L") and libjpeg compute it.
    assert_eq!(g.data, vec![76, 150, 29]);
    let a = decode_image(&rgb, "rgb.png", ColorMode::Rgba).unwrap();
    assert_eq!(a.data, vec![255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255]);
    // Single-channel PNGs keep their values exactly (class ids in masks).
    let gray = png(4, 2, 1, |x, y| vec![(1 + (x + y) % 3) as u8]);
    let d = decode_image(&gray, "mask.png", ColorMode::Grayscale).unwrap();
    assert_eq!(d.data, vec![1, 2, 3, 1, 2, 3, 1, 2]);
    let r = decode_image(&gray, "mask.png", ColorMode::Rgb).unwrap();
    assert_eq!(&r.data[..6], &[1, 1, 1, 2, 2, 2]);
}

#[test]
fn jpegs_decode_and_bad_ones_are_named() {
    let j = jpeg(16, 8);
    let img = decode_image(&j, "cat.0.jpg", ColorMode::Rgb).unwrap();
    assert_eq!((img.height, img.width, img.channels), (8, 16, 3));
    let p = img.pixel(4, 10);
    assert!(
        (p[0] as i32 - 80).abs() <= 6 && (p[1] as i32 - 32).abs() <= 6 && (p[2] as i32 - 128).abs() <= 6,
        "{p:?}"
    );

    // Cut off half way: the decoder alone would fill the rest with grey.
    let err = decode_image(&j[..j.len() / 2], "train/cat.12.jpg", ColorMode::Rgb).unwrap_err();
    assert!(err.message().starts_with("train/cat.12.jpg: truncated JPEG"), "{err}");
    // Garbage after the start-of-image marker.
    let mut corrupt = j.clone();
    corrupt[2..40].iter_mut().for_each(|b| *b = 0x42);
    let err = decode_image(&corrupt, "dog.3.jpg", ColorMode::Rgb).unwrap_err();
    assert!(err.message().starts_with("dog.3.jpg: corrupt JPEG"), "{err}");
    // Scrambled frame header: the structure is complete but the decoder refuses it.
    let mut bad_sof = j.clone();
    let sof = bad_sof.windows(2).position(|w| w == [0xff, 0xc0]).unwrap();
    bad_sof[sof + 5..sof + 9].iter_mut().for_each(|b| *b = 0);
    let err = decode_image(&bad_sof, "zero.jpg", ColorMode::Rgb).unwrap_err();
    assert!(err.message().starts_with("zero.jpg: "), "{err}");

    let p = png(4, 4, 3, |_, _| vec![1, 2, 3]);
    let err = decode_image(&p[..p.len() - 20], "x.png", ColorMode::Rgb).unwrap_err();
    assert!(err.message().starts_with("x.png: corrupt PNG image"), "{err}");
    let err = decode_image(b"GIF89a....", "anim.gif", ColorMode::Rgb).unwrap_err();
    assert!(
        err.message()
            .contains("anim.gif: not a JPEG or PNG image (starts with 47 49 46 38)"),
        "{err}"
    );
    assert!(decode_image(b"", "empty.jpg", ColorMode::Rgb)
        .unwrap_err()
        .message()
        .contains("empty.jpg: empty file"));
    // PNG data behind a .jpg name is read as PNG.
    assert_eq!(
        decode_image(&p, "actually_png.jpg", ColorMode::Rgb).unwrap().data[..3],
        [1, 2, 3]
    );
}

fn row(values: &[u8]) -> Image {
    Image::new(1, values.len(), 1, values.to_vec()).unwrap()
}

#[test]
fn resize_matches_tf_image_resize() {
    // tf.image.resize([[0, 100]], (1, 4), "bilinear") = [0, 25, 75, 100] (half-pixel centers).
    assert_eq!(
        resize(&row(&[0, 100]), 1, 4, Interpolation::Bilinear).data,
        vec![0, 25, 75, 100]
    );
    // Downscaling by 2 averages pairs (no antialiasing).
    assert_eq!(
        resize(&row(&[0, 10, 20, 30]), 1, 2, Interpolation::Bilinear).data,
        vec![5, 25]
    );
    assert_eq!(
        resize(&row(&[0, 10, 20, 30]), 1, 2, Interpolation::Nearest).data,
        vec![10, 30]
    );
    assert_eq!(
        resize(&row(&[0, 100]), 1, 4, Interpolation::Nearest).data,
        vec![0, 0, 100, 100]
    );
    // Two dimensions at once: a 2x2 checkerboard up to 4x4.
    let board = Image::new(2, 2, 1, vec![0, 200, 200, 0]).unwrap();
    let up = resize(&board, 4, 4, Interpolation::Bilinear);
    assert_eq!(&up.data[..4], &[0, 50, 150, 200]);
    assert_eq!(&up.data[4..8], &[50, 75, 125, 150]);
    // Nearest never invents values: a trimap stays within {1, 2, 3}.
    let trimap = Image::new(3, 5, 1, vec![1, 2, 3, 2, 1, 3, 3, 2, 1, 1, 2, 2, 2, 3, 3]).unwrap();
    let near = resize(&trimap, 7, 4, Interpolation::Nearest);
    assert!(near.data.iter().all(|v| (1..=3).contains(v)));
    // Channels resize independently.
    let rgb = Image::new(1, 2, 3, vec![0, 10, 200, 100, 50, 0]).unwrap();
    assert_eq!(
        resize(&rgb, 1, 4, Interpolation::Bilinear).data,
        vec![0, 10, 200, 25, 20, 150, 75, 40, 50, 100, 50, 0]
    );
}

#[test]
fn crop_to_aspect_ratio_takes_the_center() {
    let wide = Image::new(2, 6, 1, (0..12).collect()).unwrap();
    let c = crop_to_aspect_ratio(&wide, 4, 4);
    assert_eq!((c.height, c.width, c.data), (2, 2, vec![2, 3, 8, 9]));
    let opts = LoadOptions {
        size: Some((2, 2)),
        crop_to_aspect_ratio: true,
        color_mode: ColorMode::Grayscale,
        ..LoadOptions::default()
    };
    let p = png(6, 2, 1, |x, y| vec![(y * 6 + x) as u8]);
    assert_eq!(load_image(&p, "w.png", &opts).unwrap().data, vec![2, 3, 8, 9]);
}

fn sample_files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("data/a.txt", b"alpha".to_vec()),
        ("data/sub/b.bin", vec![7u8; 3000]),
        ("data/empty/", Vec::new()),
        ("__MACOSX/data/._a.txt", b"junk".to_vec()),
        ("./top.txt", b"top".to_vec()),
    ]
}

#[test]
fn zip_tar_and_tar_gz_give_the_same_files() {
    let files = sample_files();
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    let no_dirs: Vec<(&str, &[u8])> = refs.iter().filter(|(n, _)| !n.ends_with('/')).cloned().collect();
    let zip = zip_of(&refs);
    let tar = tar_of(&no_dirs);
    let tgz = gzip(&tar);
    let want: Vec<(String, Vec<u8>)> = vec![
        ("data/a.txt".into(), b"alpha".to_vec()),
        ("data/sub/b.bin".into(), vec![7u8; 3000]),
        ("__MACOSX/data/._a.txt".into(), b"junk".to_vec()),
        ("top.txt".into(), b"top".to_vec()),
    ];
    let mut z = ZipSource::new(Cursor::new(&zip), "sample.zip").unwrap();
    assert_eq!(
        z.list().unwrap().unwrap(),
        want.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>()
    );
    assert_eq!(all_files(&mut z), want);
    assert_eq!(all_files(&mut TarSource::new(tar.as_slice(), "sample.tar")), want);
    assert_eq!(all_files(&mut TarSource::new(tgz.as_slice(), "sample.tar.gz")), want);
    for (bytes, name) in [(&zip, "z"), (&tar, "t"), (&tgz, "g")] {
        let set = FileSet::from_bytes(bytes, name, |p| p.starts_with("data/")).unwrap();
        assert_eq!(
            set.paths().collect::<Vec<_>>(),
            vec!["data/a.txt", "data/sub/b.bin"],
            "{name}"
        );
        assert_eq!(set.get("data/a.txt"), Some(&b"alpha"[..]));
    }
    // Behind Read + Seek, a tar.gz lists (one pass, names only) and reads again.
    let mut seek = SeekTarSource::new(Cursor::new(&tgz), "sample.tar.gz");
    assert_eq!(
        seek.list().unwrap().unwrap(),
        want.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>()
    );
    assert_eq!(all_files(&mut seek), want);
    assert_eq!(all_files(&mut seek), want);
    // A tar stream is read once.
    let mut once = TarSource::new(tar.as_slice(), "once.tar");
    all_files(&mut once);
    let err = once.visit(&mut |_| true, &mut |_, _| Ok(())).unwrap_err();
    assert!(
        err.message().contains("once.tar: a tar stream can be read only once"),
        "{err}"
    );
}

#[test]
fn filtered_entries_are_never_read() {
    // A zip whose second entry is damaged: fine as long as nobody asks for it.
    let payload: Vec<u8> = (0..20000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut zip = zip_of(&[("keep.txt", b"ok"), ("skip.bin", &payload)]);
    let at = zip.windows(8).position(|w| w == &payload[..8]).unwrap();
    zip[at + 100] ^= 0xff;
    let mut z = ZipSource::new(Cursor::new(&zip), "big.zip").unwrap();
    let mut seen = Vec::new();
    z.visit(&mut |p| p == "keep.txt", &mut |p, _| {
        seen.push(p.to_string());
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, vec!["keep.txt"]);
    let err = z.visit(&mut |_| true, &mut |_, _| Ok(())).unwrap_err();
    assert!(err.message().starts_with("big.zip: cannot read skip.bin"), "{err}");
}

#[test]
fn bad_archives_say_what_is_wrong() {
    let err = ZipSource::new(Cursor::new(b"this is not a zip file at all".to_vec()), "train.zip")
        .err()
        .unwrap();
    assert!(err.message().starts_with("train.zip: not a zip file"), "{err}");
    let err = open_bytes(b"<html>not found</html>", "images.tar.gz").err().unwrap();
    assert!(
        err.message()
            .contains("images.tar.gz: not a zip, tar or tar.gz archive (starts with 3c 68 74 6d)"),
        "{err}"
    );
    assert!(open_bytes(b"", "e.zip")
        .err()
        .unwrap()
        .message()
        .contains("e.zip: empty file"));
    // A zip cut short loses its central directory.
    let zip = zip_of(&[("a.txt", b"alpha"), ("b.txt", b"beta")]);
    let err = open_bytes(&zip[..zip.len() - 30], "cut.zip").err().unwrap();
    assert!(err.message().starts_with("cut.zip: not a zip file"), "{err}");
    // A tar.gz cut short.
    let big: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let tgz = gzip(&tar_of(&[("images/a.jpg", &big)]));
    let err = FileSet::from_bytes(&tgz[..tgz.len() / 2], "images.tar.gz", |_| true).unwrap_err();
    assert!(err.message().starts_with("images.tar.gz: truncated gzip"), "{err}");
    // gzip, but not of a tar.
    let err = FileSet::from_bytes(&gzip(b"just some text, long enough"), "notes.gz", |_| true).unwrap_err();
    assert!(
        err.message().contains("notes.gz: the gzip data is not a tar archive"),
        "{err}"
    );
}

#[test]
fn file_sets_normalize_paths() {
    let set = FileSet::new(
        "picked",
        vec![
            ("./pets/images/a.jpg".into(), vec![1]),
            ("pets\\images\\b.jpg".into(), vec![2]),
            ("/pets//images/./c.jpg".into(), vec![3]),
            ("pets/images/".into(), vec![]),
            ("pets/images/a.jpg".into(), vec![9]),
        ],
    );
    assert_eq!(
        set.paths().collect::<Vec<_>>(),
        vec!["pets/images/a.jpg", "pets/images/b.jpg", "pets/images/c.jpg"]
    );
    assert_eq!(set.get("pets/images/a.jpg"), Some(&[9u8][..]));
}
