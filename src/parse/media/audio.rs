//! An audio file's duration from its headers, through `lofty`: properties only, tags
//! skipped (seeked over, not read). For MP3, the Xing or VBRI header's frame count, or
//! for constant bit rate the first and last frames' positions; for M4A, the audio
//! track's `mdhd`; for Ogg Vorbis and Opus, the granule positions of the first and last
//! pages (Opus less its pre-skip). The reader's limit bounds what lofty may read.

use std::error::Error;
use std::io::{Read, Seek};
use std::time::Duration;

use lofty::config::{ParseOptions, ParsingMode};
use lofty::error::FileParseError;
use lofty::file::AudioFile;
use lofty::mp4::Mp4File;
use lofty::mpeg::MpegFile;
use lofty::ogg::{OpusFile, VorbisFile};

use super::signature::Signature;
use super::{Failed, whole_seconds};

/// The duration, in whole seconds, of an audio file whose signature is `signature`
/// (already checked against its extension); `None` when the header has none, as for an
/// Ogg stream of a codec other than Vorbis and Opus.
pub(super) fn duration<R: Read + Seek>(
    signature: Signature,
    reader: &mut R,
) -> Result<Option<u64>, Failed> {
    let options = ParseOptions::new()
        .read_properties(true)
        .read_tags(false)
        .read_cover_art(false)
        .parsing_mode(ParsingMode::BestAttempt);
    let duration = match signature {
        Signature::Mpeg => read::<MpegFile, _>(reader, options)?
            .properties()
            .duration(),
        Signature::IsoMedia => read::<Mp4File, _>(reader, options)?.properties().duration(),
        Signature::OggVorbis => read::<VorbisFile, _>(reader, options)?
            .properties()
            .duration(),
        Signature::OggOpus => read::<OpusFile, _>(reader, options)?
            .properties()
            .duration(),
        _ => Duration::ZERO,
    };
    Ok(whole_seconds(duration.as_millis()))
}

fn read<F: AudioFile, R: Read + Seek>(reader: &mut R, options: ParseOptions) -> Result<F, Failed> {
    F::read_from(reader, options).map_err(|error| Failed::new(chain(&error)))
}

/// lofty's message and the causes under it ("failed to parse MP4 file: …").
fn chain(error: &FileParseError) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let more = error.to_string();
        if !text.ends_with(&more) {
            text = format!("{text}: {more}");
        }
        cause = error.source();
    }
    text
}
