//! Media files beside the articles: which names are images, audio, video, or the
//! transcripts and chapters that go with an episode ([`media_format`], by extension), and
//! what the feeds need from such a file's header ([`probe`]): its media type, an image's
//! width and height, a recording's duration.
//! Headers only, never a decode: every read goes through a reader with a hard limit
//! ([`IMAGE_READ_LIMIT`], [`AV_READ_LIMIT`]), so a huge or hostile file costs no more
//! than a small one. Pure like the rest of `parse`: the caller opens the file and passes
//! a reader; nothing here knows paths on disk.
//!
//! The extensions are a fixed table rather than a MIME crate: the set is closed (these
//! are the formats the feeds and podcast apps take), each entry needs more than a media
//! type (its kind and how its header is read), and a general table would answer for
//! names that are not media here. Chapters are the one name of two parts,
//! `{name}.chapters.json` (the Podcasting 2.0 chapters format): any other `.json` file
//! is not media.
//!
//! Who reads which header: `imagesize` the raster images (JPEG, PNG, WebP, AVIF, GIF),
//! `quick-xml` an SVG's root element, `lofty` the audio (MP3's Xing, VBRI or first and
//! last frames; M4A's audio track; Ogg Vorbis and Opus from the first and last pages),
//! and `video` here the two video containers (MP4's `mvhd`, WebM's `Info`), which lofty,
//! an audio library, does not read. Before any of them, the first bytes are compared
//! with the extension's signature, so a file that lies about its kind is named as such;
//! for a transcript or chapters that comparison is all that is read.

mod audio;
mod bounded;
mod image;
mod signature;
mod video;

use std::fmt;
use std::io::{self, Read, Seek};

use bounded::{HeaderReader, Stop};

/// The most bytes read from an image: its size is in the first few hundred bytes of
/// every format here, past metadata segments a JPEG may carry first.
pub const IMAGE_READ_LIMIT: u64 = 256 * 1024;

/// The most bytes read from an audio or video file. Larger than an image's because an
/// Ogg stream's comment header (which may carry cover art) is read whole before the
/// last page, and the end of an MP3 is searched for its last frame.
pub const AV_READ_LIMIT: u64 = 2 * 1024 * 1024;

/// The most bytes read from a transcript or chapters: its signature's.
pub const TEXT_READ_LIMIT: u64 = 64;

/// What a media file is for, which decides the elements that describe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Image,
    Audio,
    Video,
    /// A transcript or chapters: text that goes with an episode (`podcast:transcript`,
    /// `podcast:chapters`), never an image or an enclosure.
    Text,
}

/// The media formats seedfeed knows, one per extension family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaFormat {
    Jpeg,
    Png,
    Webp,
    Avif,
    Gif,
    Svg,
    Mp3,
    M4a,
    Ogg,
    Opus,
    Mp4,
    Webm,
    /// A WebVTT transcript (`.vtt`).
    Vtt,
    /// A SubRip transcript (`.srt`).
    Srt,
    /// Podcasting 2.0 chapters (`{name}.chapters.json`).
    Chapters,
}

/// Every extension (lowercase) and its format; chapters, whose name has two parts, are
/// read by [`media_format`].
const EXTENSIONS: [(&str, MediaFormat); 15] = [
    ("jpg", MediaFormat::Jpeg),
    ("jpeg", MediaFormat::Jpeg),
    ("png", MediaFormat::Png),
    ("webp", MediaFormat::Webp),
    ("avif", MediaFormat::Avif),
    ("gif", MediaFormat::Gif),
    ("svg", MediaFormat::Svg),
    ("mp3", MediaFormat::Mp3),
    ("m4a", MediaFormat::M4a),
    ("ogg", MediaFormat::Ogg),
    ("opus", MediaFormat::Opus),
    ("mp4", MediaFormat::Mp4),
    ("webm", MediaFormat::Webm),
    ("vtt", MediaFormat::Vtt),
    ("srt", MediaFormat::Srt),
];

/// The name chapters end with, after their own name: `episode.chapters.json`.
const CHAPTERS_SUFFIX: &str = ".chapters.json";

impl MediaFormat {
    /// The format of a file extension (without its dot), in any case.
    pub fn from_extension(extension: &str) -> Option<Self> {
        EXTENSIONS
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(extension))
            .map(|&(_, format)| format)
    }

    /// The media type to serve the file with and to write in the feeds.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Avif => "image/avif",
            Self::Gif => "image/gif",
            Self::Svg => "image/svg+xml",
            Self::Mp3 => "audio/mpeg",
            Self::M4a => "audio/mp4",
            // An `.opus` file is Opus in Ogg (RFC 7845), whose registered media type is
            // audio/ogg (RFC 7845 section 9, RFC 5334); audio/opus is Opus over RTP
            // (RFC 7587). audio/ogg is also what web servers' type tables give `.opus`,
            // so a feed's enclosure and the served file agree. Apple Podcasts takes no
            // Ogg at all; Podcasting 2.0 apps play audio/ogg.
            Self::Ogg | Self::Opus => "audio/ogg",
            Self::Mp4 => "video/mp4",
            Self::Webm => "video/webm",
            // The types the Podcasting 2.0 namespace names for `podcast:transcript` and
            // `podcast:chapters`; WebVTT is UTF-8 by its specification.
            Self::Vtt => "text/vtt",
            Self::Srt => "application/x-subrip",
            Self::Chapters => "application/json+chapters",
        }
    }

    /// Whether the file is an image, audio or video.
    pub fn kind(self) -> MediaKind {
        match self {
            Self::Jpeg | Self::Png | Self::Webp | Self::Avif | Self::Gif | Self::Svg => {
                MediaKind::Image
            }
            Self::Mp3 | Self::M4a | Self::Ogg | Self::Opus => MediaKind::Audio,
            Self::Mp4 | Self::Webm => MediaKind::Video,
            Self::Vtt | Self::Srt | Self::Chapters => MediaKind::Text,
        }
    }

    /// The most bytes [`probe`] reads from a file of this format.
    pub fn read_limit(self) -> u64 {
        match self.kind() {
            MediaKind::Image => IMAGE_READ_LIMIT,
            MediaKind::Audio | MediaKind::Video => AV_READ_LIMIT,
            MediaKind::Text => TEXT_READ_LIMIT,
        }
    }

    /// The format's name for messages, as people say it.
    fn name(self) -> &'static str {
        match self {
            Self::Jpeg => "JPEG image",
            Self::Png => "PNG image",
            Self::Webp => "WebP image",
            Self::Avif => "AVIF image",
            Self::Gif => "GIF image",
            Self::Svg => "SVG image",
            Self::Mp3 => "MP3 audio file",
            Self::M4a => "M4A audio file",
            Self::Ogg => "Ogg audio file",
            Self::Opus => "Opus audio file",
            Self::Mp4 => "MP4 video",
            Self::Webm => "WebM video",
            Self::Vtt => "WebVTT transcript",
            Self::Srt => "SubRip transcript",
            Self::Chapters => "chapters file",
        }
    }
}

impl fmt::Display for MediaFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The media format of a path or file name, by its extension (any case); `None` for
/// anything that is not media (articles, hidden files without an extension, JSON that is
/// not `{name}.chapters.json`…).
pub fn media_format(path: &str) -> Option<MediaFormat> {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let (stem, extension) = name.rsplit_once('.')?;
    if stem.is_empty() {
        // ".mp3" is a hidden file named "mp3", not an MP3 without a name.
        return None;
    }
    if extension.eq_ignore_ascii_case("json") {
        let chapters = name.len() > CHAPTERS_SUFFIX.len()
            && name
                .get(name.len() - CHAPTERS_SUFFIX.len()..)
                .is_some_and(|suffix| suffix.eq_ignore_ascii_case(CHAPTERS_SUFFIX));
        return chapters.then_some(MediaFormat::Chapters);
    }
    MediaFormat::from_extension(extension)
}

/// What a media file's header says, for the feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaInfo {
    pub format: MediaFormat,
    /// The file's length in bytes, as the caller gave it.
    pub length: u64,
    /// An image's width and height in pixels (CSS pixels for an SVG), when the header
    /// gives them; `None` for audio and video.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// A recording's duration in whole seconds (rounded), when the header gives it.
    pub duration_secs: Option<u64>,
}

impl MediaInfo {
    /// The media type of the file (its format's).
    pub fn media_type(&self) -> &'static str {
        self.format.media_type()
    }
}

/// Why a media file's header could not be read. The caller names the file (the probe
/// sees only bytes) and turns this into a warning on the article.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the file is empty: a {0} has at least a header")]
    Empty(MediaFormat),
    #[error("not a {expected}: its header is that of {found}")]
    NotThisFormat {
        expected: MediaFormat,
        found: &'static str,
    },
    #[error("{0} cut short: the file ends inside its header")]
    Truncated(MediaFormat),
    #[error("{format} header not found in the file's first {limit} bytes")]
    TooFar { format: MediaFormat, limit: u64 },
    #[error("{format} header unreadable: {reason}")]
    Malformed { format: MediaFormat, reason: String },
    #[error("reading the {format} header failed: {source}")]
    Read {
        format: MediaFormat,
        #[source]
        source: io::Error,
    },
}

/// Reads what the feeds need from the header of a file of `format` whose length is
/// `length` bytes; `reader` stands at the file's first byte, and is never read past
/// `format`'s read limit.
///
/// A file whose first bytes are not those of `format` is an error that says what they
/// are instead; so is a header that is cut short or does not parse. A header that
/// parses but lacks a value (an SVG without a size, a WebM recording without a
/// duration) leaves that value `None`.
pub fn probe(
    format: MediaFormat,
    reader: impl Read + Seek,
    length: u64,
) -> Result<MediaInfo, MediaError> {
    if length == 0 {
        return Err(MediaError::Empty(format));
    }
    let mut header = HeaderReader::new(reader, format.read_limit());
    let signature = match signature::read(&mut header, length) {
        Ok(signature) => signature,
        Err(error) => return Err(failure(format, &header, error.to_string(), Some(error))),
    };
    if !signature.fits(format) {
        return Err(MediaError::NotThisFormat {
            expected: format,
            found: signature.description(),
        });
    }
    let mut info = MediaInfo {
        format,
        length,
        width: None,
        height: None,
        duration_secs: None,
    };
    let read = match format.kind() {
        MediaKind::Image => image::dimensions(format, &mut header).map(|size| {
            info.width = size.map(|(width, _)| width);
            info.height = size.map(|(_, height)| height);
        }),
        MediaKind::Audio => audio::duration(signature, &mut header).map(|d| {
            info.duration_secs = d;
        }),
        MediaKind::Video => video::duration(format, &mut header).map(|d| {
            info.duration_secs = d;
        }),
        // The signature was all there is to read.
        MediaKind::Text => Ok(()),
    };
    match read {
        // A reader that gave up quietly at the limit (lofty does, when the last page or
        // frame it seeks is past it) has not found the value the caller asked for.
        Ok(())
            if matches!(format.kind(), MediaKind::Audio | MediaKind::Video)
                && info.duration_secs.is_none()
                && header.stop() == Some(Stop::Limit) =>
        {
            Err(MediaError::TooFar {
                format,
                limit: format.read_limit(),
            })
        }
        Ok(()) => Ok(info),
        Err(Failed { reason, io }) => Err(failure(format, &header, reason, io)),
    }
}

/// A reader of one format that gave up, with its reason and the I/O error under it.
struct Failed {
    reason: String,
    io: Option<io::Error>,
}

impl Failed {
    fn new(reason: impl fmt::Display) -> Self {
        Self {
            reason: reason.to_string(),
            io: None,
        }
    }
}

impl From<io::Error> for Failed {
    fn from(error: io::Error) -> Self {
        Self {
            reason: error.to_string(),
            io: Some(error),
        }
    }
}

/// The error for a failed read: what stopped the reader (its limit, the end of the
/// file) says more than the parser's own message, which comes after either.
fn failure<R>(
    format: MediaFormat,
    header: &HeaderReader<R>,
    reason: String,
    io: Option<io::Error>,
) -> MediaError {
    match header.stop() {
        Some(Stop::Limit) => MediaError::TooFar {
            format,
            limit: format.read_limit(),
        },
        Some(Stop::End) => MediaError::Truncated(format),
        None => match io {
            Some(source) if source.kind() != io::ErrorKind::InvalidData => {
                MediaError::Read { format, source }
            }
            _ => MediaError::Malformed { format, reason },
        },
    }
}

/// A duration in milliseconds rounded to whole seconds, at least one so that a sound
/// never lasts "0"; `None` for zero, which the readers give when a header has none.
fn whole_seconds(millis: u128) -> Option<u64> {
    if millis == 0 {
        return None;
    }
    u64::try_from(millis.saturating_add(500) / 1000)
        .ok()
        .map(|seconds| seconds.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_extension_in_the_table() {
        let cases = [
            ("a.jpg", "image/jpeg", MediaKind::Image),
            ("a.jpeg", "image/jpeg", MediaKind::Image),
            ("a.png", "image/png", MediaKind::Image),
            ("a.webp", "image/webp", MediaKind::Image),
            ("a.avif", "image/avif", MediaKind::Image),
            ("a.gif", "image/gif", MediaKind::Image),
            ("a.svg", "image/svg+xml", MediaKind::Image),
            ("a.mp3", "audio/mpeg", MediaKind::Audio),
            ("a.m4a", "audio/mp4", MediaKind::Audio),
            ("a.ogg", "audio/ogg", MediaKind::Audio),
            ("a.opus", "audio/ogg", MediaKind::Audio),
            ("a.mp4", "video/mp4", MediaKind::Video),
            ("a.webm", "video/webm", MediaKind::Video),
            ("a.vtt", "text/vtt", MediaKind::Text),
            ("a.srt", "application/x-subrip", MediaKind::Text),
        ];
        assert_eq!(cases.len(), EXTENSIONS.len());
        for (name, media_type, kind) in cases {
            let format = media_format(name).unwrap_or_else(|| panic!("{name} is media"));
            assert_eq!(format.media_type(), media_type, "{name}");
            assert_eq!(format.kind(), kind, "{name}");
        }
    }

    #[test]
    fn extensions_in_any_case_and_folders() {
        assert_eq!(media_format("Photo.JPG"), Some(MediaFormat::Jpeg));
        assert_eq!(media_format("a/b.c/cover.Png"), Some(MediaFormat::Png));
        assert_eq!(media_format("shows\\ep1.OPUS"), Some(MediaFormat::Opus));
        assert_eq!(media_format("archive.tar.mp3"), Some(MediaFormat::Mp3));
        assert_eq!(
            media_format("ep1.Chapters.JSON"),
            Some(MediaFormat::Chapters)
        );
        assert_eq!(
            media_format("a/b/ep 1.chapters.json"),
            Some(MediaFormat::Chapters)
        );
        assert_eq!(media_format("ep1.VTT"), Some(MediaFormat::Vtt));
    }

    #[test]
    fn names_that_are_not_media() {
        for name in [
            "post.md",
            "post.txt",
            "page.html",
            "mp3",
            ".mp3",
            "photos/.jpg",
            "photo.jpg.txt",
            "photo.",
            "photo.jpgx",
            "media.d/readme",
            // JSON is media only as chapters, which have a name of their own.
            "data.json",
            "chapters.json",
            ".chapters.json",
            "ep.chapters.json.bak",
            "ep.chapter.json",
            "",
        ] {
            assert_eq!(media_format(name), None, "{name:?}");
        }
    }

    #[test]
    fn only_images_have_the_small_read_limit() {
        assert_eq!(MediaFormat::Svg.read_limit(), IMAGE_READ_LIMIT);
        assert_eq!(MediaFormat::Opus.read_limit(), AV_READ_LIMIT);
        assert_eq!(MediaFormat::Webm.read_limit(), AV_READ_LIMIT);
        assert_eq!(MediaFormat::Chapters.read_limit(), TEXT_READ_LIMIT);
    }

    #[test]
    fn transcripts_and_chapters_are_read_by_their_signature_alone() {
        let probed =
            |format, bytes: &[u8]| probe(format, std::io::Cursor::new(bytes), bytes.len() as u64);
        let vtt = b"\xEF\xBB\xBFWEBVTT\n\n00:00.000 --> 00:01.000\nHello\n";
        let info = probed(MediaFormat::Vtt, vtt).unwrap();
        assert_eq!((info.length, info.duration_secs), (vtt.len() as u64, None));
        assert!(probed(MediaFormat::Vtt, b"WEBVTT - a title\n").is_ok());
        assert!(probed(MediaFormat::Srt, b"1\n00:00:00,000 --> 00:00:01,000\nHi\n").is_ok());
        assert!(probed(MediaFormat::Chapters, b" {\"version\": \"1.2.0\"}").is_ok());
        for (format, bytes) in [
            (MediaFormat::Vtt, &b"WEBVTTX\n"[..]),
            (MediaFormat::Vtt, b"1\n00:00:00,000 --> 00:00:01,000\n"),
            (MediaFormat::Srt, b"WEBVTT\n"),
            (MediaFormat::Chapters, b"[1, 2]"),
            (MediaFormat::Chapters, b"\xFF\xD8\xFF\xE0"),
        ] {
            let error = probed(format, bytes).unwrap_err();
            assert!(
                matches!(error, MediaError::NotThisFormat { expected, .. } if expected == format),
                "{format}: {error}"
            );
        }
    }

    #[test]
    fn durations_round_to_whole_seconds() {
        assert_eq!(whole_seconds(0), None);
        assert_eq!(whole_seconds(1), Some(1));
        assert_eq!(whole_seconds(3_499), Some(3));
        assert_eq!(whole_seconds(3_500), Some(4));
    }
}
