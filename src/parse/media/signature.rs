//! What a file's first bytes say it is, told apart from what its extension says: each
//! format's magic number (its signature), read from at most the first 64 bytes. The text
//! formats (transcripts, chapters) have the opening their specifications require.

use std::io::{self, Read, Seek, SeekFrom};

use super::MediaFormat;

/// The bytes a signature is read from: the Ogg codec's name sits at 28 to 36, an ISO
/// file's brands within the first box.
const HEAD: usize = 64;

/// What the first bytes of a file are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Signature {
    Jpeg,
    Png,
    Gif,
    Webp,
    /// An ISO base media file (`ftyp` first) branded as an AVIF image.
    Avif,
    /// An ISO base media file that is not an image: MP4, M4A, QuickTime.
    IsoMedia,
    /// An EBML document (Matroska or WebM; the doc type is read later).
    Ebml,
    OggVorbis,
    OggOpus,
    /// Another codec in Ogg (FLAC, Speex…).
    Ogg,
    /// An ID3v2 tag or an MPEG audio frame header.
    Mpeg,
    /// Text that opens with `<` (after a BOM and blanks): XML, as SVG is.
    Markup,
    /// Text that opens with the line `WEBVTT` (after a BOM), as the WebVTT specification
    /// requires of every file.
    WebVtt,
    /// Text whose first character (after a BOM and blanks) is a digit: a SubRip file
    /// opens with the number of its first cue.
    SubRip,
    /// Text that opens with `{` (after a BOM and blanks): a JSON object.
    Json,
    Unknown,
}

/// Reads the signature at the start of `reader`, a file of `length` bytes, and seeks
/// back to the start. It reads no further than `length`, so that reaching the end of a
/// small file is not taken for a header cut short.
pub(super) fn read<R: Read + Seek>(reader: &mut R, length: u64) -> io::Result<Signature> {
    let mut head = [0; HEAD];
    let head = &mut head[..usize::try_from(length).map_or(HEAD, |length| length.min(HEAD))];
    reader.read_exact(head)?;
    reader.seek(SeekFrom::Start(0))?;
    Ok(of(head))
}

/// The signature of a file that starts with `head`.
pub(super) fn of(head: &[u8]) -> Signature {
    if head.starts_with(b"\xFF\xD8\xFF") {
        Signature::Jpeg
    } else if head.starts_with(b"\x89PNG\r\n\x1A\n") {
        Signature::Png
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Signature::Gif
    } else if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        Signature::Webp
    } else if head.get(4..8) == Some(b"ftyp") {
        iso_brand(head)
    } else if head.starts_with(b"\x1A\x45\xDF\xA3") {
        Signature::Ebml
    } else if head.starts_with(b"OggS") {
        ogg_codec(head)
    } else if head.starts_with(b"ID3") || is_mpeg_frame(head) {
        Signature::Mpeg
    } else {
        text_signature(head)
    }
}

/// The signature of a file that is none of the binary formats: what its text opens with.
fn text_signature(head: &[u8]) -> Signature {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if let Some(rest) = text.strip_prefix(b"WEBVTT")
        && rest
            .first()
            .is_none_or(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    {
        return Signature::WebVtt;
    }
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'<') => Signature::Markup,
        Some(b'{') => Signature::Json,
        Some(b) if b.is_ascii_digit() => Signature::SubRip,
        _ => Signature::Unknown,
    }
}

/// An AVIF image names `avif` (or `avis`, a sequence) among its brands; any other
/// `ftyp` is audio or video.
fn iso_brand(head: &[u8]) -> Signature {
    let size = head
        .get(0..4)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_be_bytes);
    let end = usize::try_from(size).unwrap_or(usize::MAX).min(head.len());
    let brands = head.get(8..end).unwrap_or_default();
    // Major brand, minor version, then compatible brands, four bytes each.
    let is_avif = brands
        .chunks_exact(4)
        .enumerate()
        .any(|(i, brand)| i != 1 && (brand == b"avif" || brand == b"avis"));
    if is_avif {
        Signature::Avif
    } else {
        Signature::IsoMedia
    }
}

/// The codec of an Ogg stream, from its first packet (RFC 3533: 27 bytes of page header,
/// then one byte per segment, then the packet).
fn ogg_codec(head: &[u8]) -> Signature {
    let segments = head.get(26).map_or(0, |&count| usize::from(count));
    let packet = head.get(27 + segments..).unwrap_or_default();
    if packet.starts_with(b"\x01vorbis") {
        Signature::OggVorbis
    } else if packet.starts_with(b"OpusHead") {
        Signature::OggOpus
    } else {
        Signature::Ogg
    }
}

/// An MPEG audio frame header: eleven set bits of frame sync, then a version and a
/// layer that are not the reserved values.
fn is_mpeg_frame(head: &[u8]) -> bool {
    match head {
        [0xFF, second, ..] => second & 0xE0 == 0xE0 && second & 0x18 != 0x08 && second & 0x06 != 0,
        _ => false,
    }
}

impl Signature {
    /// Whether a file with this signature may carry `format`'s extension.
    pub(super) fn fits(self, format: MediaFormat) -> bool {
        match format {
            MediaFormat::Jpeg => self == Self::Jpeg,
            MediaFormat::Png => self == Self::Png,
            MediaFormat::Webp => self == Self::Webp,
            MediaFormat::Avif => self == Self::Avif,
            MediaFormat::Gif => self == Self::Gif,
            MediaFormat::Svg => self == Self::Markup,
            MediaFormat::Mp3 => self == Self::Mpeg,
            MediaFormat::M4a | MediaFormat::Mp4 => self == Self::IsoMedia,
            MediaFormat::Ogg => matches!(self, Self::OggVorbis | Self::OggOpus | Self::Ogg),
            MediaFormat::Opus => self == Self::OggOpus,
            MediaFormat::Webm => self == Self::Ebml,
            MediaFormat::Vtt => self == Self::WebVtt,
            MediaFormat::Srt => self == Self::SubRip,
            MediaFormat::Chapters => self == Self::Json,
        }
    }

    /// What the file is, for a message ("its header is that of …").
    pub(super) fn description(self) -> &'static str {
        match self {
            Self::Jpeg => "a JPEG image",
            Self::Png => "a PNG image",
            Self::Gif => "a GIF image",
            Self::Webp => "a WebP image",
            Self::Avif => "an AVIF image",
            Self::IsoMedia => "an MP4 or M4A file",
            Self::Ebml => "a Matroska or WebM file",
            Self::OggVorbis => "an Ogg Vorbis file",
            Self::OggOpus => "an Ogg Opus file",
            Self::Ogg => "an Ogg file of another codec",
            Self::Mpeg => "an MP3 file",
            Self::Markup => "a text or XML file",
            Self::WebVtt => "a WebVTT file",
            Self::SubRip => "a SubRip file (text that opens with a number)",
            Self::Json => "a JSON document",
            Self::Unknown => "no media format seedfeed knows",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_bytes_of_each_format() {
        let cases: [(&[u8], Signature); 19] = [
            (b"\xFF\xD8\xFF\xE0\0\x10JFIF", Signature::Jpeg),
            (b"\x89PNG\r\n\x1A\n\0\0\0\rIHDR", Signature::Png),
            (b"GIF89a\x21\0", Signature::Gif),
            (b"RIFF\x24\0\0\0WEBPVP8 ", Signature::Webp),
            (b"\0\0\0\x1CftypavifavifMA1B", Signature::Avif),
            (b"\0\0\0\x1Cftypmif1\0\0\0\0mif1avif", Signature::Avif),
            (b"\0\0\0\x18ftypM4A \0\0\0\0M4A ", Signature::IsoMedia),
            (b"\x1A\x45\xDF\xA3\x9F\x42\x86", Signature::Ebml),
            (b"ID3\x04\0\0\0\0\0\x10", Signature::Mpeg),
            (b"\xFF\xFB\x90\x64", Signature::Mpeg),
            (b"\xEF\xBB\xBF  \n<svg>", Signature::Markup),
            (b"\xEF\xBB\xBFWEBVTT\n\n", Signature::WebVtt),
            (b"WEBVTT", Signature::WebVtt),
            (b"WEBVTTX", Signature::Unknown),
            (b"\n1\n00:00:01,000 --> 00:00:02,000", Signature::SubRip),
            (b" {\"version\":\"1.2.0\"}", Signature::Json),
            (b"Title\n\nBody", Signature::Unknown),
            (b"\xFF\xE9\x90\x64", Signature::Unknown),
            (b"", Signature::Unknown),
        ];
        for (head, signature) in cases {
            assert_eq!(of(head), signature, "{head:?}");
        }
    }

    #[test]
    fn the_codec_of_an_ogg_stream() {
        let page = |packet: &[u8]| {
            let mut bytes = b"OggS\0\x02".to_vec();
            bytes.resize(26, 0);
            bytes.push(1);
            bytes.push(u8::try_from(packet.len()).unwrap());
            bytes.extend_from_slice(packet);
            bytes
        };
        assert_eq!(of(&page(b"\x01vorbis\0\0")), Signature::OggVorbis);
        assert_eq!(of(&page(b"OpusHead\x01")), Signature::OggOpus);
        assert_eq!(of(&page(b"\x7FFLAC")), Signature::Ogg);
        assert_eq!(of(b"OggS"), Signature::Ogg);
    }

    #[test]
    fn an_mp4_minor_version_is_not_a_brand() {
        // The minor version's four bytes happen to read "avif": still a video.
        assert_eq!(of(b"\0\0\0\x14ftypisomavifisom"), Signature::IsoMedia);
    }
}
