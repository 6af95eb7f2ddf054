//! The paths of a bulk, in the order they are applied, kept on disk while the bulk runs:
//! written to a temporary file beside the database once they are in order, and taken
//! back by the reader threads a chunk at a time. A cold start over a million files held
//! its list of paths (about 35 MB) from the first commit to the last, the largest thing
//! it held in proportion to the folder; spooled, the bulk holds the chunks its readers
//! are at. When the file cannot be written (a full disk), the list stays in memory and
//! nothing is lost.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use crate::watch::{Settled, SettledPaths};

/// The buffers of the file's writer and reader.
const BUFFER: usize = 64 * 1024;

/// The paths of a bulk, handed out in order a chunk at a time.
pub(super) struct Spool {
    len: usize,
    /// Paths handed out so far.
    taken: usize,
    source: Source,
}

enum Source {
    Memory(SettledPaths),
    Disk(BufReader<File>),
}

impl Spool {
    /// `paths` kept in memory.
    pub fn in_memory(paths: SettledPaths) -> Self {
        Self {
            len: paths.len(),
            taken: 0,
            source: Source::Memory(paths),
        }
    }

    /// `paths` written to `file` (a new temporary file), and the list dropped; kept in
    /// memory, with a warning, when the file cannot be written.
    pub fn on_disk(paths: SettledPaths, file: io::Result<File>) -> Self {
        match file.and_then(|file| write(file, &paths)) {
            Ok(file) => Self {
                len: paths.len(),
                taken: 0,
                source: Source::Disk(BufReader::with_capacity(BUFFER, file)),
            },
            Err(error) => {
                tracing::warn!(
                    %error,
                    paths = paths.len(),
                    "cannot write the bulk's paths to a temporary file; \
                     they stay in memory"
                );
                Self::in_memory(paths)
            }
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The next `n` paths at most, with the position of the first in the bulk; `None`
    /// once every path was handed out, or after an error: a file read in part is at no
    /// record's start, and what it would give next is not the bulk's.
    pub fn take(&mut self, n: usize) -> io::Result<Option<(usize, SettledPaths)>> {
        let start = self.taken;
        let end = (start + n).min(self.len);
        if start >= end {
            return Ok(None);
        }
        let chunk = match &mut self.source {
            Source::Memory(paths) => Ok(paths.part(start..end).collect()),
            Source::Disk(file) => read_chunk(file, end - start),
        };
        self.taken = if chunk.is_ok() { end } else { self.len };
        chunk.map(|chunk| Some((start, chunk)))
    }
}

/// Each path as one record: how it settled (one byte), the length of its text (four
/// bytes, little-endian), then the text. Returns the file rewound to its start.
fn write(file: File, paths: &SettledPaths) -> io::Result<File> {
    let mut writer = BufWriter::with_capacity(BUFFER, file);
    for (settled, path) in paths.iter() {
        // A settled path is at most 4 MiB long (`SettledPaths::push`).
        let len = u32::try_from(path.len()).map_err(io::Error::other)?;
        writer.write_all(&[settled.code()])?;
        writer.write_all(&len.to_le_bytes())?;
        writer.write_all(path.as_bytes())?;
    }
    let mut file = writer
        .into_inner()
        .map_err(io::IntoInnerError::into_error)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(file)
}

fn read_chunk(file: &mut impl Read, n: usize) -> io::Result<SettledPaths> {
    let mut chunk = SettledPaths::new();
    let mut text = Vec::new();
    for _ in 0..n {
        let mut head = [0; 5];
        file.read_exact(&mut head)?;
        let settled = Settled::of_code(head[0])
            .ok_or_else(|| damaged(&format!("a record of kind {}", head[0])))?;
        let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]);
        text.resize(len as usize, 0);
        file.read_exact(&mut text)?;
        let path = std::str::from_utf8(&text).map_err(|error| damaged(&error.to_string()))?;
        chunk.push(settled, path);
    }
    Ok(chunk)
}

/// The file does not hold what was written to it.
fn damaged(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("the bulk's temporary file of paths is damaged: {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SettledPaths {
        let kinds = [Settled::Present, Settled::Absent, Settled::Listed];
        (0..100)
            .map(|i| (kinds[i % 3], format!("dir {}/é{i}.md", i % 7)))
            .collect::<Vec<_>>()
            .iter()
            .map(|(settled, path)| (*settled, path.as_str()))
            .collect()
    }

    fn all_chunks(mut spool: Spool, n: usize) -> Vec<(usize, SettledPaths)> {
        std::iter::from_fn(|| spool.take(n).unwrap()).collect()
    }

    fn joined(chunks: &[(usize, SettledPaths)]) -> SettledPaths {
        chunks.iter().flat_map(|(_, chunk)| chunk.iter()).collect()
    }

    /// On disk or in memory, every path comes back once, in order, with how it settled,
    /// in chunks that say where they start.
    #[test]
    fn hands_every_path_back_in_order_in_chunks() {
        let dir = tempfile::tempdir().unwrap();
        for spool in [
            Spool::on_disk(sample(), tempfile::tempfile_in(dir.path())),
            Spool::in_memory(sample()),
        ] {
            assert_eq!(spool.len(), 100);
            let chunks = all_chunks(spool, 32);
            let starts: Vec<usize> = chunks.iter().map(|(start, _)| *start).collect();
            assert_eq!(starts, [0, 32, 64, 96]);
            assert_eq!(chunks[3].1.len(), 4);
            assert_eq!(joined(&chunks), sample());
        }
    }

    /// A file that cannot be had keeps the paths in memory: the bulk loses none.
    #[test]
    fn a_file_that_cannot_be_written_keeps_the_paths_in_memory() {
        let spool = Spool::on_disk(sample(), Err(io::Error::other("disk full")));
        assert!(matches!(spool.source, Source::Memory(_)));
        assert_eq!(joined(&all_chunks(spool, 10)), sample());
    }

    /// A file cut short gives the whole chunks before the cut, then an error, then
    /// nothing: no paths read from the middle of a record.
    #[test]
    fn a_file_cut_short_gives_an_error_then_nothing() {
        let file = tempfile::tempfile().unwrap();
        let same = file.try_clone().unwrap();
        let mut spool = Spool::on_disk(sample(), Ok(file));
        let first: usize = (0..10)
            .map(|i| format!("dir {}/é{i}.md", i % 7).len() + 5)
            .sum();
        same.set_len(first as u64 + 7).unwrap();
        let (start, chunk) = spool.take(10).unwrap().unwrap();
        assert_eq!((start, chunk.len()), (0, 10));
        assert!(spool.take(10).is_err());
        assert!(spool.take(10).unwrap().is_none());
    }

    /// A damaged file is an error, not paths made up or silently dropped.
    #[test]
    fn a_damaged_file_is_an_error() {
        let mut record = vec![7, 1, 0, 0, 0, b'a'];
        let error = read_chunk(&mut record.as_slice(), 1).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        record[0] = 0;
        record[5] = 0xff;
        assert!(read_chunk(&mut record.as_slice(), 1).is_err());
        // Cut short.
        assert!(read_chunk(&mut &record[..4], 1).is_err());
    }
}
