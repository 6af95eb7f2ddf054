//! The media files of `tests/common/media/` (real encoded files; its README says how
//! they were made) and what their headers say, for every test that needs an image, an
//! episode, a video, a podcast's artwork, or an episode's transcript or chapters beside
//! an article.

use std::path::PathBuf;

/// A media fixture and the facts its header holds.
#[derive(Debug, Clone, Copy)]
pub struct MediaFixture {
    pub name: &'static str,
    pub media_type: &'static str,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Whole seconds, rounded.
    pub duration_secs: Option<u64>,
}

const fn image(name: &'static str, media_type: &'static str, w: u32, h: u32) -> MediaFixture {
    MediaFixture {
        name,
        media_type,
        width: Some(w),
        height: Some(h),
        duration_secs: None,
    }
}

const fn timed(name: &'static str, media_type: &'static str, seconds: u64) -> MediaFixture {
    MediaFixture {
        name,
        media_type,
        width: None,
        height: None,
        duration_secs: Some(seconds),
    }
}

/// A transcript or chapters: only its signature is read, so the header gives nothing.
const fn text(name: &'static str, media_type: &'static str) -> MediaFixture {
    MediaFixture {
        name,
        media_type,
        width: None,
        height: None,
        duration_secs: None,
    }
}

/// Every fixture whose header reads, one or more of each format.
pub const MEDIA_FIXTURES: &[MediaFixture] = &[
    image("photo.jpg", "image/jpeg", 120, 80),
    image("picture.png", "image/png", 64, 48),
    image("lossy.webp", "image/webp", 50, 30),
    image("lossless.webp", "image/webp", 36, 52),
    image("picture.avif", "image/avif", 40, 20),
    image("picture.gif", "image/gif", 33, 17),
    image("drawing.svg", "image/svg+xml", 120, 60),
    image("viewbox.svg", "image/svg+xml", 300, 150),
    // 3.096 s of constant bit rate, no Xing or Info header.
    timed("cbr.mp3", "audio/mpeg", 3),
    // 4.104 s of variable bit rate with a Xing header, after an ID3v2 tag.
    timed("vbr.mp3", "audio/mpeg", 4),
    timed("episode.m4a", "audio/mp4", 5),
    timed("vorbis.ogg", "audio/ogg", 6),
    timed("voice.opus", "audio/ogg", 7),
    timed("clip.mp4", "video/mp4", 2),
    timed("clip.webm", "video/webm", 3),
    // Podcast artwork: the one Apple takes, one too small, one not square.
    image(ARTWORK, "image/png", 1400, 1400),
    image(SMALL_ARTWORK, "image/png", 1200, 1200),
    image(WIDE_ARTWORK, "image/png", 1600, 1400),
    // What goes with `vbr.mp3` as an episode.
    text("episode.vtt", "text/vtt"),
    text("episode.srt", "application/x-subrip"),
    text("episode.chapters.json", "application/json+chapters"),
];

/// Podcast artwork Apple takes: a square PNG of 1400 pixels a side.
pub const ARTWORK: &str = "cover.png";
/// Square, but under Apple's 1400 pixels a side.
pub const SMALL_ARTWORK: &str = "small-cover.png";
/// Within Apple's sizes, but not square.
pub const WIDE_ARTWORK: &str = "wide-cover.png";

/// An SVG with a document type declaration (entities), which must be refused.
pub const SVG_WITH_DTD: &str = "doctype.svg";

/// The path of a media fixture.
pub fn media_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/common/media")
        .join(name)
}

/// The bytes of a media fixture.
pub fn media_bytes(name: &str) -> Vec<u8> {
    let path = media_fixture(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `len` pseudo-random bytes from `seed` (xorshift32; a seed of 0 is taken as 1): every
/// position has its own value, and files of other seeds differ, so bytes read from the
/// wrong place or the wrong file, or zeros, do not pass for the file's.
pub fn random_bytes(seed: u32, len: usize) -> Vec<u8> {
    let mut state = seed.max(1);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}
