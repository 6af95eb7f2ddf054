//! A video's duration from its container's header, read here because lofty reads audio
//! tracks only and no WebM: an MP4's movie header box (`moov`/`mvhd`, ISO/IEC 14496-12
//! 8.2.2), which gives the whole presentation's length with or without a sound track;
//! a WebM's `Segment`/`Info` (Matroska, RFC 9559 5.1.2), its `TimestampScale` and
//! `Duration`. Only box and element headers are read; everything else is seeked over.

use std::io::{Read, Seek, SeekFrom};

use super::{Failed, MediaFormat, whole_seconds};

/// The duration in whole seconds of a video of `format`, `None` when its header has
/// none (a WebM recorded live has no `Duration`).
pub(super) fn duration<R: Read + Seek>(
    format: MediaFormat,
    reader: &mut R,
) -> Result<Option<u64>, Failed> {
    let end = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    match format {
        MediaFormat::Webm => webm_duration(reader, end),
        _ => mp4_duration(reader, end),
    }
}

fn read_array<const N: usize, R: Read>(reader: &mut R) -> Result<[u8; N], Failed> {
    let mut bytes = [0; N];
    reader.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// The body of a box, from after its header to its end.
struct Body {
    start: u64,
    end: u64,
}

/// The first box of type `kind` among the boxes from `at` to `end`.
fn find_box<R: Read + Seek>(
    reader: &mut R,
    mut at: u64,
    end: u64,
    kind: &[u8; 4],
) -> Result<Option<Body>, Failed> {
    while end.saturating_sub(at) >= 8 {
        reader.seek(SeekFrom::Start(at))?;
        let header: [u8; 8] = read_array(reader)?;
        let (size, header_len) =
            match u32::from_be_bytes([header[0], header[1], header[2], header[3]]) {
                // A 64-bit size follows the type.
                1 => (u64::from_be_bytes(read_array(reader)?), 16),
                // The box runs to the end of the file.
                0 => (end - at, 8),
                size => (u64::from(size), 8),
            };
        let name = String::from_utf8_lossy(&header[4..8]).into_owned();
        if size < header_len {
            return Err(Failed::new(format_args!(
                "its {name:?} box has a size of {size}"
            )));
        }
        let box_end = at.saturating_add(size);
        if &header[4..8] == kind {
            if box_end > end {
                return Err(Failed::new(format_args!(
                    "the file ends inside its {name:?} box"
                )));
            }
            return Ok(Some(Body {
                start: at + header_len,
                end: box_end,
            }));
        }
        at = box_end;
    }
    Ok(None)
}

/// An MP4's duration from its movie header: `duration` in units of `timescale` per
/// second, all ones when unknown.
fn mp4_duration<R: Read + Seek>(reader: &mut R, end: u64) -> Result<Option<u64>, Failed> {
    let moov = find_box(reader, 0, end, b"moov")?
        .ok_or_else(|| Failed::new("it has no movie box (moov)"))?;
    let mvhd = find_box(reader, moov.start, moov.end, b"mvhd")?
        .ok_or_else(|| Failed::new("its movie box has no header (mvhd)"))?;
    reader.seek(SeekFrom::Start(mvhd.start))?;
    let [version, ..] = read_array::<4, _>(reader)?;
    let (timescale, duration) = if version == 1 {
        // Creation and modification times, 64 bits each.
        reader.seek(SeekFrom::Current(16))?;
        let timescale = u32::from_be_bytes(read_array(reader)?);
        (timescale, u64::from_be_bytes(read_array(reader)?))
    } else {
        reader.seek(SeekFrom::Current(8))?;
        let timescale = u32::from_be_bytes(read_array(reader)?);
        let duration = u32::from_be_bytes(read_array(reader)?);
        let duration = if duration == u32::MAX {
            u64::MAX
        } else {
            u64::from(duration)
        };
        (timescale, duration)
    };
    if timescale == 0 || duration == u64::MAX {
        return Ok(None);
    }
    Ok(whole_seconds(
        u128::from(duration) * 1000 / u128::from(timescale),
    ))
}

/// Matroska element IDs (RFC 9559), with their length marker kept, as written.
const EBML: u64 = 0x1A45_DFA3;
const DOC_TYPE: u64 = 0x4282;
const SEGMENT: u64 = 0x1853_8067;
const INFO: u64 = 0x1549_A966;
const CLUSTER: u64 = 0x1F43_B675;
const TIMESTAMP_SCALE: u64 = 0x2A_D7B1;
const DURATION: u64 = 0x4489;

/// An element's ID, and its body's size (`None`: unknown, to the end of its parent).
fn element<R: Read>(reader: &mut R) -> Result<(u64, Option<u64>), Failed> {
    let (id, _) = vint(reader, 4, true)?;
    let (size, unknown) = vint(reader, 8, false)?;
    Ok((id, (!unknown).then_some(size)))
}

/// An EBML variable-length integer of at most `max_len` bytes, and whether all its
/// value bits are set (a size of that form is unknown).
fn vint<R: Read>(reader: &mut R, max_len: u32, keep_marker: bool) -> Result<(u64, bool), Failed> {
    let [first] = read_array(reader)?;
    let len = first.leading_zeros() + 1;
    if len > max_len {
        return Err(Failed::new("it has a malformed EBML number"));
    }
    let value_bits = 0xFF_u8.checked_shr(len).unwrap_or(0);
    let mut value = u64::from(if keep_marker {
        first
    } else {
        first & value_bits
    });
    let mut all_ones = first & value_bits == value_bits;
    for _ in 1..len {
        let [byte] = read_array(reader)?;
        value = value << 8 | u64::from(byte);
        all_ones &= byte == 0xFF;
    }
    Ok((value, all_ones))
}

/// A WebM's duration: the EBML header's doc type must be `webm`; then the segment's
/// `Info`, which comes before the first cluster.
fn webm_duration<R: Read + Seek>(reader: &mut R, end: u64) -> Result<Option<u64>, Failed> {
    let (id, size) = element(reader)?;
    let size = size
        .filter(|_| id == EBML)
        .ok_or_else(|| Failed::new("it has no EBML header"))?;
    let header_end = reader.stream_position()?.saturating_add(size);
    let doc_type = doc_type(reader, header_end)?;
    if doc_type != "webm" {
        return Err(Failed::new(format_args!(
            "its document type is {doc_type:?}, not \"webm\""
        )));
    }
    reader.seek(SeekFrom::Start(header_end))?;
    let (id, size) = element(reader)?;
    if id != SEGMENT {
        return Err(Failed::new("its EBML header is not followed by a segment"));
    }
    let mut at = reader.stream_position()?;
    let segment_end = size.map_or(end, |size| at.saturating_add(size).min(end));
    while at < segment_end {
        reader.seek(SeekFrom::Start(at))?;
        let (id, size) = element(reader)?;
        let body = reader.stream_position()?;
        match (id, size) {
            (INFO, Some(size)) => return info_duration(reader, body, body.saturating_add(size)),
            (CLUSTER, _) | (_, None) => return Ok(None),
            (_, Some(size)) => at = body.saturating_add(size),
        }
    }
    Ok(None)
}

/// The `DocType` string among the EBML header's elements, up to `end`.
fn doc_type<R: Read + Seek>(reader: &mut R, end: u64) -> Result<String, Failed> {
    let mut at = reader.stream_position()?;
    while at < end {
        let (id, size) = element(reader)?;
        let size =
            size.ok_or_else(|| Failed::new("its EBML header has an element of unknown size"))?;
        if id == DOC_TYPE && size <= 64 {
            let mut text = vec![0; usize::try_from(size).unwrap_or(0)];
            reader.read_exact(&mut text)?;
            // The string may be padded with zero bytes.
            let text = String::from_utf8_lossy(&text);
            return Ok(text.trim_end_matches('\0').to_owned());
        }
        at = reader.stream_position()?.saturating_add(size);
        reader.seek(SeekFrom::Start(at))?;
    }
    Err(Failed::new("its EBML header has no document type"))
}

/// The duration in `Info`: `Duration` (a float, in units of `TimestampScale`
/// nanoseconds, a million by default).
fn info_duration<R: Read + Seek>(
    reader: &mut R,
    mut at: u64,
    end: u64,
) -> Result<Option<u64>, Failed> {
    let mut scale: u64 = 1_000_000;
    let mut duration = None;
    while at < end {
        reader.seek(SeekFrom::Start(at))?;
        let (id, size) = element(reader)?;
        let size = size.ok_or_else(|| Failed::new("its Info has an element of unknown size"))?;
        let body = reader.stream_position()?;
        match (id, size) {
            (TIMESTAMP_SCALE, 1..=8) => {
                let mut bytes = [0; 8];
                let skip = 8 - usize::try_from(size).unwrap_or(8);
                reader.read_exact(&mut bytes[skip..])?;
                scale = u64::from_be_bytes(bytes);
            }
            (DURATION, 4) => duration = Some(f64::from(f32::from_be_bytes(read_array(reader)?))),
            (DURATION, 8) => duration = Some(f64::from_be_bytes(read_array(reader)?)),
            _ => {}
        }
        at = body.saturating_add(size);
    }
    // Float to integer casts saturate; the value was checked to be finite and positive.
    let millis = duration
        .filter(|d| d.is_finite() && *d >= 0.0)
        .map(|d| (d * scale as f64 / 1e6) as u128);
    Ok(millis.and_then(whole_seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vint_of(bytes: &[u8], max_len: u32, keep_marker: bool) -> Option<(u64, bool)> {
        vint(&mut &bytes[..], max_len, keep_marker).ok()
    }

    #[test]
    fn ebml_numbers_of_every_length() {
        assert_eq!(vint_of(&[0x81], 8, false), Some((1, false)));
        assert_eq!(vint_of(&[0xFF], 8, false), Some((127, true)));
        assert_eq!(vint_of(&[0x40, 0x02], 8, false), Some((2, false)));
        // Eight bytes: the first has no value bits left (a size past u8 shifts).
        assert_eq!(
            vint_of(&[0x01, 0, 0, 0, 0, 0, 0, 5], 8, false),
            Some((5, false))
        );
        assert_eq!(
            vint_of(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], 8, false).map(|v| v.1),
            Some(true)
        );
        // IDs keep their marker and are at most four bytes long.
        assert_eq!(
            vint_of(&[0x1A, 0x45, 0xDF, 0xA3], 4, true),
            Some((EBML, false))
        );
        assert_eq!(vint_of(&[0x08, 0, 0, 0, 0], 4, true), None);
        assert_eq!(vint_of(&[0x00], 8, false), None);
        assert_eq!(vint_of(&[0x40], 8, false), None);
    }
}
