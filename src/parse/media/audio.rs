//! An audio file's duration from its headers, through `lofty`: properties only, tags
//! skipped (seeked over, not read). For MP3, the Xing or VBRI header's frame count, or
//! for constant bit rate the first and last frames' positions; for M4A, the audio
//! track's `mdhd`; for Ogg Vorbis and Opus, the granule positions of the first and last
//! pages (Opus less its pre-skip). The reader's limit bounds what lofty may read.

use std::error::Error;
use std::io::{Read, Seek};
use std::panic::AssertUnwindSafe;
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
    // lofty's arithmetic on the header's fields is not checked everywhere: a damaged
    // Ogg Opus file with a huge last granule position overflows a multiplication in
    // lofty 0.25.5 (a panic where overflow checks are on, a wrong duration where not).
    // A file in the seeds folder must never take a reader thread down, so a panic
    // inside lofty is this file's failure; the reader is not used after it.
    match std::panic::catch_unwind(AssertUnwindSafe(|| F::read_from(reader, options))) {
        Ok(read) => read.map_err(|error| Failed::new(chain(&error))),
        Err(_) => Err(Failed::new(
            "the audio header is damaged: its parser gave up on it".to_owned(),
        )),
    }
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
