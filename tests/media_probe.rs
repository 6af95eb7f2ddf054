//! Media headers read from real files: each format's size or duration, files whose
//! extension lies, cut short or empty, hostile bytes of every kind (never a panic), and
//! the bound on what a probe reads, whatever the file's size.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};

use proptest::prelude::*;
use seedfeed::parse::media::{
    AV_READ_LIMIT, IMAGE_READ_LIMIT, MediaError, MediaFormat, MediaInfo, media_format, probe,
};

use common::media_files::{MEDIA_FIXTURES, SVG_WITH_DTD, media_bytes, media_fixture};

const ALL_FORMATS: [MediaFormat; 15] = [
    MediaFormat::Jpeg,
    MediaFormat::Png,
    MediaFormat::Webp,
    MediaFormat::Avif,
    MediaFormat::Gif,
    MediaFormat::Svg,
    MediaFormat::Mp3,
    MediaFormat::M4a,
    MediaFormat::Ogg,
    MediaFormat::Opus,
    MediaFormat::Mp4,
    MediaFormat::Webm,
    MediaFormat::Vtt,
    MediaFormat::Srt,
    MediaFormat::Chapters,
];

fn format_of(name: &str) -> MediaFormat {
    media_format(name).unwrap()
}

fn probe_bytes(format: MediaFormat, bytes: &[u8]) -> Result<MediaInfo, MediaError> {
    probe(format, Cursor::new(bytes), bytes.len() as u64)
}

/// A reader that counts the bytes taken from it.
struct Counted<R> {
    inner: R,
    taken: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let got = self.inner.read(out)?;
        self.taken += got as u64;
        Ok(got)
    }
}

impl<R: Seek> Seek for Counted<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.inner.seek(to)
    }
}

/// Probes `bytes` as `format` and says how many bytes the probe read.
fn probe_counted(format: MediaFormat, bytes: &[u8]) -> (Result<MediaInfo, MediaError>, u64) {
    let mut reader = Counted {
        inner: Cursor::new(bytes),
        taken: 0,
    };
    let result = probe(format, &mut reader, bytes.len() as u64);
    (result, reader.taken)
}

#[test]
fn every_fixture_reads_from_its_file() {
    for fixture in MEDIA_FIXTURES {
        let path = media_fixture(fixture.name);
        let file = File::open(&path).unwrap();
        let length = file.metadata().unwrap().len();
        let info = probe(format_of(fixture.name), file, length)
            .unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
        assert_eq!(info.media_type(), fixture.media_type, "{}", fixture.name);
        assert_eq!(info.length, length, "{}", fixture.name);
        assert_eq!(
            (info.width, info.height, info.duration_secs),
            (fixture.width, fixture.height, fixture.duration_secs),
            "{}",
            fixture.name
        );
    }
}

#[test]
fn an_svg_with_a_document_type_is_refused() {
    let error = probe_bytes(MediaFormat::Svg, &media_bytes(SVG_WITH_DTD)).unwrap_err();
    assert!(matches!(error, MediaError::Malformed { .. }), "{error:?}");
    assert!(error.to_string().contains("document type"), "{error}");
    // A file shorter than the bytes a signature is read from is no different.
    let small = b"<!DOCTYPE svg><svg width=\"1\" height=\"1\"/>";
    let error = probe_bytes(MediaFormat::Svg, small).unwrap_err();
    assert!(error.to_string().contains("document type"), "{error}");
}

#[test]
fn a_file_whose_extension_lies_says_what_it_is() {
    let error = probe_bytes(MediaFormat::Jpeg, &media_bytes("picture.png")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "not a JPEG image: its header is that of a PNG image"
    );
    let error = probe_bytes(MediaFormat::Mp3, &media_bytes("episode.m4a")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "not a MP3 audio file: its header is that of an MP4 or M4A file"
    );
    let text = b"Mali: countercoup attempted\n\n\nA paragraph.\n";
    let error = probe_bytes(MediaFormat::Png, text).unwrap_err();
    assert!(error.to_string().contains("no media format"), "{error}");
}

/// Which formats a fixture may also be read as: MP4 and M4A share a container, and an
/// Opus file is an Ogg file.
fn same_container(a: MediaFormat, b: MediaFormat) -> bool {
    use MediaFormat::{M4a, Mp4, Ogg, Opus};
    a == b || matches!((a, b), (M4a, Mp4) | (Mp4, M4a) | (Opus, Ogg))
}

#[test]
fn every_fixture_under_every_other_extension_is_refused() {
    for fixture in MEDIA_FIXTURES {
        let bytes = media_bytes(fixture.name);
        let real = format_of(fixture.name);
        for format in ALL_FORMATS {
            if same_container(real, format) {
                continue;
            }
            match probe_bytes(format, &bytes) {
                Err(MediaError::NotThisFormat { expected, .. }) => assert_eq!(expected, format),
                other => panic!("{} read as {format}: {other:?}", fixture.name),
            }
        }
    }
}

#[test]
fn the_other_reader_of_a_shared_container_still_reads_it() {
    // An M4A named .mp4 is a video without pictures; an Opus file named .ogg is Ogg.
    let as_mp4 = probe_bytes(MediaFormat::Mp4, &media_bytes("episode.m4a")).unwrap();
    assert_eq!(as_mp4.duration_secs, Some(5));
    let as_ogg = probe_bytes(MediaFormat::Ogg, &media_bytes("voice.opus")).unwrap();
    assert_eq!(as_ogg.duration_secs, Some(7));
    // A video without sound is no M4A: lofty finds no audio track.
    let error = probe_bytes(MediaFormat::M4a, &media_bytes("clip.mp4")).unwrap_err();
    assert!(matches!(error, MediaError::Malformed { .. }), "{error:?}");
    // Vorbis is not Opus.
    let error = probe_bytes(MediaFormat::Opus, &media_bytes("vorbis.ogg")).unwrap_err();
    assert!(error.to_string().contains("Ogg Vorbis"), "{error}");
}

#[test]
fn an_empty_file_of_every_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for format in ALL_FORMATS {
        let path = dir.path().join("empty");
        File::create(&path).unwrap();
        let file = File::open(&path).unwrap();
        let error = probe(format, file, 0).unwrap_err();
        assert!(
            matches!(error, MediaError::Empty(f) if f == format),
            "{error:?}"
        );
        assert!(
            error.to_string().starts_with("the file is empty"),
            "{error}"
        );
    }
}

#[test]
fn images_cut_inside_their_header_are_truncated() {
    for (name, keep) in [
        ("photo.jpg", 40),
        ("picture.png", 20),
        ("lossy.webp", 24),
        ("lossless.webp", 22),
        ("picture.avif", 100),
        ("picture.gif", 8),
        ("drawing.svg", 120),
    ] {
        let bytes = media_bytes(name);
        let error = probe_bytes(format_of(name), &bytes[..keep]).unwrap_err();
        assert!(
            matches!(error, MediaError::Truncated(_)),
            "{name} cut at {keep}: {error:?}"
        );
        assert!(error.to_string().contains("cut short"), "{error}");
    }
}

#[test]
fn recordings_cut_inside_their_header_are_refused() {
    for (name, keep) in [
        ("cbr.mp3", 3),
        ("vbr.mp3", 30),
        ("episode.m4a", 60),
        ("vorbis.ogg", 40),
        ("voice.opus", 40),
        ("clip.mp4", 60),
        ("clip.webm", 30),
    ] {
        let bytes = media_bytes(name);
        let result = probe_bytes(format_of(name), &bytes[..keep]);
        assert!(result.is_err(), "{name} cut at {keep}: {result:?}");
    }
}

#[test]
fn every_cut_of_every_fixture_is_an_answer_not_a_panic() {
    for fixture in MEDIA_FIXTURES {
        let bytes = media_bytes(fixture.name);
        let format = format_of(fixture.name);
        for keep in 0..bytes.len() {
            // Any answer will do; a panic fails the test.
            let _ = probe_bytes(format, &bytes[..keep]);
        }
    }
}

#[test]
fn a_long_recording_costs_what_a_short_one_does() {
    // A constant bit rate MP3 is its frames one after another: a thousand copies of the
    // fixture play a thousand times as long (3096 s), and only both ends are read.
    let one = media_bytes("cbr.mp3");
    let long: Vec<u8> = one.iter().copied().cycle().take(one.len() * 1000).collect();
    let (info, taken) = probe_counted(MediaFormat::Mp3, &long);
    assert_eq!(info.unwrap().duration_secs, Some(3096));
    assert!(taken < 64 * 1024, "{taken} bytes read");

    // An MP4 or M4A with a large box after its header: the box is seeked over.
    for name in ["episode.m4a", "clip.mp4"] {
        let mut bytes = media_bytes(name);
        let padding = 16 << 20;
        bytes.extend_from_slice(&(8 + padding as u32).to_be_bytes());
        bytes.extend_from_slice(b"free");
        bytes.resize(bytes.len() + padding, 0);
        let (info, taken) = probe_counted(format_of(name), &bytes);
        let expected = MEDIA_FIXTURES.iter().find(|f| f.name == name).unwrap();
        assert_eq!(
            info.unwrap().duration_secs,
            expected.duration_secs,
            "{name}"
        );
        assert!(taken < 64 * 1024, "{name}: {taken} bytes read");
    }
}

#[test]
fn a_hostile_recording_is_read_no_further_than_the_limit() {
    // One MPEG frame header, then 16 MiB with no other: the search for the last frame
    // would read the whole file backwards, a kilobyte at a time.
    let mut bytes = media_bytes("cbr.mp3")[..4].to_vec();
    bytes.resize(16 << 20, 0);
    let (result, taken) = probe_counted(MediaFormat::Mp3, &bytes);
    assert!(taken <= AV_READ_LIMIT, "{taken} bytes read");
    assert!(
        matches!(result, Err(MediaError::TooFar { limit, .. }) if limit == AV_READ_LIMIT),
        "{result:?}"
    );

    // An Ogg stream whose last page is lost among 16 MiB of zeros.
    let mut bytes = media_bytes("vorbis.ogg");
    bytes.resize(16 << 20, 0);
    let (result, taken) = probe_counted(MediaFormat::Ogg, &bytes);
    assert!(taken <= AV_READ_LIMIT, "{taken} bytes read");
    assert!(
        matches!(result, Err(MediaError::TooFar { limit, .. }) if limit == AV_READ_LIMIT),
        "{result:?}"
    );
}

#[test]
fn a_hostile_image_is_read_no_further_than_the_limit() {
    // A JPEG whose size (its SOF segment) comes after 300 segments of 64 KiB: the reader
    // would skip from segment to segment through 19 MiB.
    let mut bytes = b"\xFF\xD8".to_vec();
    for _ in 0..300 {
        bytes.extend_from_slice(b"\xFF\xE1\xFF\xFF");
        bytes.resize(bytes.len() + 0xFFFF - 2, 0);
    }
    bytes.extend_from_slice(b"\xFF\xC0\x00\x11\x08\x00\x50\x00\x78\x03");
    bytes.resize(bytes.len() + 9, 0);
    let (result, taken) = probe_counted(MediaFormat::Jpeg, &bytes);
    assert!(taken <= IMAGE_READ_LIMIT, "{taken} bytes read");
    let error = result.unwrap_err();
    assert!(matches!(error, MediaError::TooFar { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("JPEG image header not found in the file's first {IMAGE_READ_LIMIT} bytes")
    );

    // The same image with its size near the start reads.
    let mut near = b"\xFF\xD8\xFF\xE1\x00\x10".to_vec();
    near.resize(near.len() + 14, 0);
    near.extend_from_slice(&bytes[bytes.len() - 19..]);
    let info = probe_bytes(MediaFormat::Jpeg, &near).unwrap();
    assert_eq!((info.width, info.height), (Some(120), Some(80)));
}

/// A fixture's bytes with some bytes changed and the rest cut off.
fn mutated(bytes: &[u8], changes: &[(usize, u8)], keep: usize) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    for &(at, byte) in changes {
        let len = bytes.len();
        bytes[at % len] = byte;
    }
    bytes.truncate(keep.max(1));
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_of_every_kind_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        for format in ALL_FORMATS {
            let _ = probe_bytes(format, &bytes);
        }
    }

    #[test]
    fn damaged_fixtures_never_panic(
        which in 0..MEDIA_FIXTURES.len(),
        changes in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..24),
        keep in any::<usize>(),
    ) {
        let fixture = MEDIA_FIXTURES[which];
        let bytes = media_bytes(fixture.name);
        let keep = keep % (bytes.len() + 1);
        let damaged = mutated(&bytes, &changes, keep);
        let _ = probe_bytes(format_of(fixture.name), &damaged);
    }
}

/// lofty 0.25.5 multiplies an Opus stream's sample count by 1000 unchecked: a last page
/// whose granule position is damaged to a huge number overflowed inside it, a panic in
/// a debug build. Found by `damaged_fixtures_never_panic`; the probe must answer.
#[test]
fn an_opus_file_with_a_huge_last_granule_is_an_answer_not_a_panic() {
    let mut bytes = media_bytes("voice.opus");
    let last_page = bytes
        .windows(4)
        .rposition(|window| window == b"OggS")
        .unwrap();
    // The granule position: bytes 6 to 13 of a page header, little-endian.
    bytes[last_page + 6..last_page + 14].copy_from_slice(&(1u64 << 60).to_le_bytes());
    let _ = probe_bytes(format_of("voice.opus"), &bytes);
}
