//! A response body read from an open file, one bounded chunk at a time, as the connection
//! takes it: the body of a media file or of one range of it, where the connection does
//! not send it with `sendfile` (`sendfile`: the public listener's TCP connections on
//! Linux do; a service called on its own, as the tests do, and other platforms read).
//!
//! hyper asks a body for its next chunk only while its write buffer holds less than the
//! connection's buffer size (`max_header_bytes`, and at most sixteen queued chunks), so a
//! connection holds at most about one chunk and that buffer, whatever the file's size and
//! however slowly the client reads; the connection cap bounds the rest. A chunk is read
//! when hyper asks for it, on the worker's own thread, as the entry pages read the
//! database: a read of a file the page cache holds costs less than a hand-off to another
//! thread and back, which the workers are built to avoid (a request never crosses
//! threads), and a cold read stalls one worker of several for a disk read, as an nginx
//! worker without `aio threads` does.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// Bytes read from the file at a time: large enough that the reads cost little beside
/// the writes, small enough that a thousand connections hold little.
const CHUNK: u64 = 64 * 1024;

/// The next `remaining` bytes of a file, from `offset`. The file's position is not
/// used: other answers may be reading the same open file (`open_files`).
pub(super) struct FileBody {
    file: Arc<File>,
    offset: u64,
    remaining: u64,
}

impl FileBody {
    /// The body of `length` bytes of `file` from byte `offset`.
    pub(super) fn new(file: Arc<File>, offset: u64, length: u64) -> Self {
        Self {
            file,
            offset,
            remaining: length,
        }
    }
}

impl Body for FileBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        let mut chunk = vec![0; this.remaining.min(CHUNK) as usize];
        // A short read is a smaller chunk; only none at all is the file's end.
        let read = loop {
            match this.file.read_at(&mut chunk, this.offset) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Poll::Ready(Some(Err(error))),
                Ok(read) => break read,
            }
        };
        chunk.truncate(read);
        if chunk.is_empty() {
            // The file was cut short after its length was sent: the response cannot be
            // completed, and hyper closes the connection on this error, so the client
            // sees a truncated answer instead of a wrong one.
            return Poll::Ready(Some(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the media file shrank while it was being sent",
            ))));
        }
        this.remaining -= chunk.len() as u64;
        this.offset += chunk.len() as u64;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn collect(mut body: FileBody) -> (Vec<u8>, Vec<usize>, Option<io::Error>) {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let (mut bytes, mut chunks) = (Vec::new(), Vec::new());
        loop {
            match Pin::new(&mut body).poll_frame(&mut cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    let data = frame.into_data().unwrap();
                    chunks.push(data.len());
                    bytes.extend_from_slice(&data);
                }
                Poll::Ready(Some(Err(error))) => return (bytes, chunks, Some(error)),
                Poll::Ready(None) => return (bytes, chunks, None),
                Poll::Pending => unreachable!("a file body never waits"),
            }
        }
    }

    #[test]
    fn a_file_is_read_in_bounded_chunks_from_an_offset() {
        let mut file = tempfile::tempfile().unwrap();
        let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        file.write_all(&content).unwrap();
        let body = FileBody::new(Arc::new(file), 1000, 150_000);
        assert_eq!(body.size_hint().exact(), Some(150_000));
        let (bytes, chunks, error) = collect(body);
        assert!(error.is_none());
        assert_eq!(bytes, content[1000..151_000]);
        assert!(chunks.iter().all(|&n| n as u64 <= CHUNK), "{chunks:?}");
    }

    #[test]
    fn a_file_cut_short_is_an_error_not_a_short_body() {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&[7; 100]).unwrap();
        let (bytes, _, error) = collect(FileBody::new(Arc::new(file), 0, 300));
        assert_eq!(bytes.len(), 100);
        assert_eq!(error.unwrap().kind(), io::ErrorKind::UnexpectedEof);
    }
}
