//! The reader every header parser reads through: buffered, seekable, and with a hard
//! limit on the bytes taken from the file, whatever the parser does. The parsers here
//! read a byte at a time and seek often; a seek that lands inside the buffer keeps it,
//! so skipping a small box or segment costs no new read. It remembers why reading
//! stopped (the limit, the end of the file), which says more than a parser's message.

use std::io::{self, BufRead, Read, Seek, SeekFrom};

/// Bytes asked of the file by a read that does not follow the last one (the first, or
/// one after a seek): an image's size lies in the first bytes of its header, or of the
/// segment a seek lands on, and every byte read is a byte copied.
const FIRST_CHUNK: usize = 512;
/// What a read after a seek is charged at least, against the limit.
const PAGE: usize = 4096;
/// Reads that follow one another ask for twice as much each time, up to this: a parser
/// reading through a long header (an MP4's index) takes few reads.
const MAX_CHUNK: usize = 64 * 1024;

/// Why a [`HeaderReader`] stopped giving bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    /// The read limit was reached.
    Limit,
    /// The file ended.
    End,
}

pub(super) struct HeaderReader<R> {
    inner: R,
    /// Where the underlying reader stands, when known (`None` after a failed read).
    inner_at: Option<u64>,
    buf: Vec<u8>,
    /// The file offset of `buf[0]`.
    start: u64,
    /// How far into `buf` the reader has read.
    cursor: usize,
    /// How many more bytes may be taken from the file (a read after a seek counted as
    /// at least [`PAGE`] bytes).
    left: u64,
    /// How many bytes the last read asked for.
    chunk: usize,
    stop: Option<Stop>,
}

impl<R> HeaderReader<R> {
    /// A reader of `inner`, which stands at its first byte, that takes at most `limit`
    /// bytes from it. (Where it stands is taken as said: asking would cost a seek of
    /// each file probed.)
    pub(super) fn new(inner: R, limit: u64) -> Self {
        Self {
            inner,
            inner_at: Some(0),
            buf: Vec::with_capacity(FIRST_CHUNK),
            start: 0,
            cursor: 0,
            left: limit,
            chunk: 0,
            stop: None,
        }
    }

    /// Why the reader stopped giving bytes, if it did.
    pub(super) fn stop(&self) -> Option<Stop> {
        self.stop
    }

    fn position(&self) -> u64 {
        self.start + self.cursor as u64
    }

    /// Moves to `target` without reading: inside the buffer it only moves the cursor.
    fn move_to(&mut self, target: u64) {
        let end = self.start + self.buf.len() as u64;
        if (self.start..=end).contains(&target) {
            // Inside the buffer, so the difference fits in usize.
            self.cursor = usize::try_from(target - self.start).unwrap_or(self.buf.len());
        } else {
            self.start = target;
            self.buf.clear();
            self.cursor = 0;
        }
    }
}

impl<R: Read + Seek> BufRead for HeaderReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.cursor < self.buf.len() {
            return Ok(&self.buf[self.cursor..]);
        }
        let at = self.position();
        if self.left == 0 {
            self.stop = Some(Stop::Limit);
            return Err(io::Error::other("the read limit for a header was reached"));
        }
        let jumped = self.inner_at != Some(at);
        if jumped {
            self.inner.seek(SeekFrom::Start(at))?;
        }
        let follows = !self.buf.is_empty() && at == self.start + self.buf.len() as u64;
        self.chunk = if follows {
            (self.chunk * 2).clamp(FIRST_CHUNK, MAX_CHUNK)
        } else {
            FIRST_CHUNK
        };
        let want = usize::try_from(self.left).map_or(self.chunk, |left| left.min(self.chunk));
        self.buf.resize(want, 0);
        let got = match self.inner.read(&mut self.buf) {
            Ok(got) => got,
            Err(error) => {
                self.buf.clear();
                self.inner_at = None;
                return Err(error);
            }
        };
        self.buf.truncate(got);
        self.start = at;
        self.cursor = 0;
        self.inner_at = Some(at + got as u64);
        // A read after a seek is charged at least a page's worth: what a hostile file
        // that sends the parser from place to place costs is its number of reads as
        // much as its bytes, and a limit in bytes then bounds both.
        let charged = if jumped { got.max(PAGE) } else { got };
        self.left = self.left.saturating_sub(charged as u64);
        if got == 0 {
            self.stop = Some(Stop::End);
        }
        Ok(&self.buf)
    }

    fn consume(&mut self, amount: usize) {
        self.cursor = (self.cursor + amount).min(self.buf.len());
    }
}

impl<R: Read + Seek> Read for HeaderReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let available = self.fill_buf()?;
        let count = available.len().min(out.len());
        out[..count].copy_from_slice(&available[..count]);
        self.consume(count);
        Ok(count)
    }
}

impl<R: Read + Seek> Seek for HeaderReader<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::Current(delta) => self.position().checked_add_signed(delta),
            SeekFrom::End(delta) => {
                // The end is the underlying reader's to tell; asking costs no read.
                let end = self.inner.seek(SeekFrom::End(0))?;
                self.inner_at = Some(end);
                end.checked_add_signed(delta)
            }
        };
        let target = target.ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "seek before the file's start")
        })?;
        self.move_to(target);
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A reader that counts the bytes taken from it.
    struct Counted {
        inner: Cursor<Vec<u8>>,
        taken: u64,
    }

    impl Read for Counted {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let got = self.inner.read(out)?;
            self.taken += got as u64;
            Ok(got)
        }
    }

    impl Seek for Counted {
        fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
            self.inner.seek(to)
        }
    }

    fn counted(len: usize) -> Counted {
        let bytes = (0..len).map(|i| (i % 251) as u8).collect();
        Counted {
            inner: Cursor::new(bytes),
            taken: 0,
        }
    }

    #[test]
    fn stops_at_the_limit_and_says_so() {
        let mut reader = HeaderReader::new(counted(1 << 20), 10_000);
        let mut all = Vec::new();
        let error = reader.read_to_end(&mut all).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::Other);
        assert_eq!(all.len(), 10_000);
        assert_eq!(reader.stop(), Some(Stop::Limit));
        assert_eq!(reader.inner.taken, 10_000);
    }

    #[test]
    fn says_when_the_file_ends() {
        let mut reader = HeaderReader::new(counted(100), 10_000);
        let mut all = Vec::new();
        reader.read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), 100);
        assert_eq!(reader.stop(), Some(Stop::End));
    }

    #[test]
    fn seeks_inside_the_buffer_read_nothing_again() {
        let mut reader = HeaderReader::new(counted(1 << 20), 1 << 20);
        let mut byte = [0; 1];
        for offset in [0, 10, 2, 400, 511] {
            reader.seek(SeekFrom::Start(offset)).unwrap();
            reader.read_exact(&mut byte).unwrap();
            assert_eq!(byte[0], (offset % 251) as u8);
        }
        assert_eq!(reader.inner.taken, FIRST_CHUNK as u64);
        reader.seek(SeekFrom::Current(-3)).unwrap();
        assert_eq!(reader.stream_position().unwrap(), 509);
    }

    #[test]
    fn reads_that_follow_each_other_grow_and_a_seek_starts_small() {
        let mut reader = HeaderReader::new(counted(1 << 20), 1 << 20);
        let mut sizes = Vec::new();
        for _ in 0..10 {
            reader.consume(usize::MAX);
            sizes.push(reader.fill_buf().unwrap().len());
        }
        let expected: Vec<usize> = [1, 2, 4, 8, 16, 32, 64, 128, 128, 128]
            .iter()
            .map(|n| n * FIRST_CHUNK)
            .collect();
        assert_eq!(sizes, expected);
        reader.seek(SeekFrom::Start(900_000)).unwrap();
        assert_eq!(reader.fill_buf().unwrap().len(), FIRST_CHUNK);
        assert_eq!(reader.fill_buf().unwrap()[0], (900_000 % 251) as u8);
    }

    #[test]
    fn reads_after_seeks_are_charged_a_page_each() {
        let limit = 10 * PAGE as u64;
        let mut reader = HeaderReader::new(counted(1 << 20), limit);
        let mut byte = [0; 1];
        let mut reads = 0;
        for k in 0..100 {
            reader.seek(SeekFrom::Start(k * 10_000)).unwrap();
            if reader.read_exact(&mut byte).is_err() {
                break;
            }
            reads += 1;
        }
        // The first read, at the start, is charged what it took; the ten after a seek,
        // a page each (the last one, with less than a page left, too).
        assert_eq!(reads, 11);
        assert_eq!(reader.stop(), Some(Stop::Limit));
        assert!(reader.inner.taken <= limit);
    }

    #[test]
    fn seeks_far_and_from_the_end() {
        let mut reader = HeaderReader::new(counted(1 << 20), 1 << 20);
        let mut two = [0; 2];
        reader.seek(SeekFrom::End(-2)).unwrap();
        reader.read_exact(&mut two).unwrap();
        let last = (1usize << 20) - 1;
        assert_eq!(two, [((last - 1) % 251) as u8, (last % 251) as u8]);
        reader.seek(SeekFrom::Start(500_000)).unwrap();
        reader.read_exact(&mut two).unwrap();
        assert_eq!(two[0], (500_000 % 251) as u8);
        assert_eq!(reader.inner.taken, 2 + FIRST_CHUNK as u64);
        assert!(reader.seek(SeekFrom::Current(-1_000_000)).is_err());
    }
}
