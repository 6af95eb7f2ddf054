//! Media bodies sent with `sendfile(2)` on Linux, over connections hyper keeps.
//!
//! hyper writes a body only from the `Bytes` it is given and keeps the socket to itself
//! (<https://github.com/hyperium/hyper/issues/3026>), so it cannot be handed a file.
//! The body and the socket under hyper agree on a stand-in instead. For each segment of
//! the file (at most [`SEGMENT`] bytes), [`SendfileBody`] pushes the segment (file,
//! offset, length) onto the connection's [`Segments`] and gives hyper a frame that points
//! into [`SENTINEL`], a static buffer of zeros that nothing writes or reads (it lies in
//! `.bss`: it costs no memory). [`SendfileStream`], the socket under hyper (and under
//! `server`'s `TimedStream`, so these writes count for the time limits like any other),
//! looks at where each slice hyper writes lies: the slices before the first that points
//! into the sentinel are written as they are; a slice that starts at byte `p` of the
//! sentinel is the rest of the front segment from its byte `p`, and is sent from the file
//! with `sendfile`, which copies nothing to user space. hyper advances the frame by what
//! was sent; a segment is dropped once all of it is. From a head followed by a sentinel
//! slice until the queue is empty, the socket is corked (`TCP_CORK`), so that the head
//! and the body leave in full packets. The sentinel's zeros are never
//! sent: a slice that does not match the front segment (it starts elsewhere than where
//! the segment's sending stopped, its length is not what is left of it, or no segment
//! is queued) fails the connection with an error, logged. A file that shrank under its
//! answer (`sendfile` sends nothing before the segment's end) fails it too, as
//! `stream::FileBody` does: the client sees a short answer, not a wrong one. On a
//! filesystem that cannot splice (`sendfile` fails with `EINVAL`, `ENOSYS` or
//! `EOPNOTSUPP`) the connection reads and writes its segments instead, in a buffer of
//! [`COPY`] bytes. As with `stream`, a part of the file the page cache does not hold is
//! read from the disk on the worker's thread (`sendfile` waits for it), as an nginx
//! worker's `sendfile` does.
//!
//! Only the public listener's TCP connections have [`Segments`], and `server` puts them
//! in the extensions of `/media/` requests only; without them (a service called in
//! tests, the admin listener, another platform) a media body is `stream::FileBody`.
//!
//! Why this is sound, in hyper 1.12 (`src/proto/h1`):
//!
//! - `server` builds its connections with `http1::Builder::writev(true)`, the queue
//!   strategy: `WriteBuf::buffer` pushes each body buffer whole onto a `BufList`
//!   (`io.rs`); only the flatten strategy copies body bytes into the headers' `Vec`.
//!   `Buffered::poll_flush` then writes `chunks_vectored` (the head's slice, then each
//!   queued buffer's `chunk()`) with `poll_write_vectored` and advances by the count the
//!   write returns. `pipeline_flush`, which would switch to flattening, stays off.
//! - A body frame of a response with a length is encoded as `BufKind::Exact(bytes)`
//!   (`encode.rs`, `Encoder::encode` and `encode_and_end`): the `Bytes` itself, so the
//!   slice hyper writes starts in the sentinel at the frame's own position. A frame
//!   longer than the length left would be cut (`take`); ours never are, and a cut slice
//!   would fail the length check.
//! - hyper polls a body for a frame only to buffer it at once (`Dispatcher::poll_write`,
//!   `Conn::write_body`), writes a connection's buffers in the order they were buffered,
//!   and starts the next response's head only once they are all written
//!   (`can_headers_buf`): the segments are queued in the order their slices come. The
//!   body of a HEAD, 204 or 304 answer is never polled (`Server::encode` in `role.rs`
//!   gives it a length of 0, and the dispatcher drops a body once `can_write_body` is
//!   false); ours are empty anyway.
//! - Nothing between the handler and hyper touches a media body's bytes: axum's
//!   `Body::new` boxes it with `map_err`, which passes frames through; `server`'s
//!   `Answered` wraps that and passes them through too; media are never compressed;
//!   `observe::record` reads only the response's headers.
//!
//! What would break it: a hyper that copied small body buffers into its own buffer (as
//! its flatten strategy does), `writev(false)` or `pipeline_flush(true)`, or a layer
//! that copied, split or merged body frames. Each would send the sentinel's zeros or
//! fail the check; `tests/media_sendfile.rs` compares every byte of whole files, ranges
//! across segments, a slow reader's answer and kept-alive, pipelined mixes of media and
//! documents with files of random bytes, and the tests below check the bookkeeping.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, IoSlice};
use std::os::unix::fs::FileExt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use rustix::io::Errno;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

/// The most bytes of a file one frame stands for: the sentinel's size.
const SEGMENT: usize = 1 << 20;

/// What the frames of a [`SendfileBody`] point into. Only the addresses of its bytes
/// mean anything: nothing writes it, and nothing should read it.
static SENTINEL: [u8; SEGMENT] = [0; SEGMENT];

/// Bytes read at a time on a filesystem that cannot splice.
const COPY: usize = 64 * 1024;

/// Where `slice` starts in the sentinel, when it is a non-empty slice of it.
fn sentinel_offset(slice: &[u8]) -> Option<usize> {
    let start = SENTINEL.as_ptr().addr();
    let at = slice.as_ptr().addr();
    (!slice.is_empty() && (start..start + SEGMENT).contains(&at)).then(|| at - start)
}

/// A part of a file that one frame stands for, and how much of it has been sent.
#[derive(Debug)]
struct Segment {
    file: Arc<File>,
    offset: u64,
    len: usize,
    sent: usize,
}

/// The segments of a connection's media bodies, in the order hyper buffered their
/// frames: pushed by [`SendfileBody`], sent and dropped by [`SendfileStream`].
#[derive(Debug, Clone, Default)]
pub(super) struct Segments(Arc<Mutex<VecDeque<Segment>>>);

impl Segments {
    fn lock(&self) -> io::Result<MutexGuard<'_, VecDeque<Segment>>> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("the sendfile queue is poisoned"))
    }

    fn push(&self, file: &Arc<File>, offset: u64, len: usize) -> io::Result<()> {
        self.lock()?.push_back(Segment {
            file: Arc::clone(file),
            offset,
            len,
            sent: 0,
        });
        Ok(())
    }

    /// The file, and the offset in it, to send the `len` bytes of a sentinel slice that
    /// starts at `at` from: the rest of the front segment. An error when the slice is not
    /// that rest (see the module's doc).
    fn next(&self, at: usize, len: usize) -> io::Result<(Arc<File>, u64)> {
        let queue = self.lock()?;
        let Some(front) = queue.front() else {
            return Err(mismatch(format!(
                "{len} bytes at {at} with no segment queued"
            )));
        };
        if at != front.sent || len != front.len - front.sent {
            return Err(mismatch(format!(
                "{len} bytes at {at}, where the segment has {} of {} bytes sent",
                front.sent, front.len
            )));
        }
        Ok((Arc::clone(&front.file), front.offset + at as u64))
    }

    /// Counts `n` more bytes of the front segment sent, and drops it once all are.
    /// Whether no segment is left.
    fn sent(&self, n: usize) -> io::Result<bool> {
        let mut queue = self.lock()?;
        let Some(front) = queue.front_mut() else {
            return Err(mismatch(format!("{n} bytes sent with no segment queued")));
        };
        front.sent += n;
        if front.sent >= front.len {
            queue.pop_front();
        }
        Ok(queue.is_empty())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// The error of a sentinel slice that does not match the queue: a change in how hyper
/// writes bodies, which must never send the sentinel's zeros. Logged, for the operator
/// would otherwise see only closed connections.
fn mismatch(what: String) -> io::Error {
    tracing::error!(what, "a sendfile write does not match its segment; closing");
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("a sendfile write does not match its segment: {what}"),
    )
}

/// The body of `remaining` bytes of a file from `offset`, as sentinel frames that stand
/// for its segments.
pub(super) struct SendfileBody {
    segments: Segments,
    file: Arc<File>,
    offset: u64,
    remaining: u64,
}

impl SendfileBody {
    pub(super) fn new(segments: Segments, file: Arc<File>, offset: u64, length: u64) -> Self {
        Self {
            segments,
            file,
            offset,
            remaining: length,
        }
    }
}

impl Body for SendfileBody {
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
        let len = usize::try_from(this.remaining).map_or(SEGMENT, |left| left.min(SEGMENT));
        // Queued before hyper has the frame: hyper buffers it as soon as it has it.
        if let Err(error) = this.segments.push(&this.file, this.offset, len) {
            return Poll::Ready(Some(Err(error)));
        }
        this.offset += len as u64;
        this.remaining -= len as u64;
        let frame = Bytes::from_static(&SENTINEL[..len]);
        Poll::Ready(Some(Ok(Frame::data(frame))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// A TCP connection that sends the sentinel slices hyper writes from their files.
pub(super) struct SendfileStream {
    tcp: TcpStream,
    segments: Segments,
    /// Once `sendfile` refused a file: the buffer the connection's segments are read
    /// into and written from instead.
    copy: Option<Vec<u8>>,
    /// Whether TCP_CORK holds what is written (see [`SendfileStream::cork`]).
    corked: bool,
}

impl SendfileStream {
    /// The connection, and the queue its media bodies push their segments onto.
    pub(super) fn new(tcp: TcpStream) -> (Self, Segments) {
        let segments = Segments::default();
        let stream = Self {
            tcp,
            segments: segments.clone(),
            copy: None,
            corked: false,
        };
        (stream, segments)
    }

    /// Holds what is written (TCP_CORK) from a head that a media body follows until the
    /// last queued segment is sent, as nginx's `tcp_nopush` does. Without it the head
    /// left alone in a packet of its own (the connections are `TCP_NODELAY`) and the
    /// body in the packets `sendfile` pushed, which cost more CPU per answer than full
    /// ones (docs/performance.md, media files). Uncorking sends what is held at once.
    fn cork(&mut self, cork: bool) -> io::Result<()> {
        if self.corked != cork {
            socket2::SockRef::from(&self.tcp).set_tcp_cork(cork)?;
            self.corked = cork;
        }
        Ok(())
    }

    /// Sends part of the sentinel slice of `len` bytes at `at`: from the file of the
    /// front segment.
    fn poll_segment(
        &mut self,
        cx: &mut Context<'_>,
        at: usize,
        len: usize,
    ) -> Poll<io::Result<usize>> {
        let (file, offset) = self.segments.next(at, len)?;
        let sent = ready!(self.poll_send(cx, &file, offset, len))?;
        if sent == 0 {
            // The file ends before the segment: the answer cannot be completed.
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the media file shrank while it was being sent",
            )));
        }
        if self.segments.sent(sent)? {
            self.cork(false)?;
        }
        Poll::Ready(Ok(sent))
    }

    /// Sends up to `len` bytes of `file` from `offset` once the socket takes them; 0 at
    /// the file's end.
    fn poll_send(
        &mut self,
        cx: &mut Context<'_>,
        file: &File,
        offset: u64,
        len: usize,
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.tcp.poll_write_ready(cx))?;
            let tcp = &self.tcp;
            // `try_io` clears the readiness on `WouldBlock`: the next poll waits.
            let result = match &mut self.copy {
                None => tcp.try_io(Interest::WRITABLE, || splice(tcp, file, offset, len)),
                Some(buffer) => {
                    tcp.try_io(Interest::WRITABLE, || copy(tcp, buffer, file, offset, len))
                }
            };
            match result {
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                Err(error) if self.copy.is_none() && cannot_splice(&error) => {
                    tracing::debug!(%error, "sendfile refused a media file; reading it instead");
                    self.copy = Some(vec![0; COPY]);
                }
                done => return Poll::Ready(done),
            }
        }
    }
}

/// `sendfile` of up to `len` bytes of `file` from `offset` to `tcp`.
fn splice(tcp: &TcpStream, file: &File, offset: u64, len: usize) -> io::Result<usize> {
    let mut offset = offset;
    Ok(rustix::fs::sendfile(tcp, file, Some(&mut offset), len)?)
}

/// What `sendfile` does, for a file it refuses: read, then write what was read.
fn copy(
    tcp: &TcpStream,
    buffer: &mut [u8],
    file: &File,
    offset: u64,
    len: usize,
) -> io::Result<usize> {
    let want = len.min(buffer.len());
    let read = file.read_at(&mut buffer[..want], offset)?;
    if read == 0 {
        return Ok(0);
    }
    Ok(rustix::io::write(tcp, &buffer[..read])?)
}

/// Whether `sendfile` failed because it cannot send this file (its filesystem cannot
/// splice), not because of the connection.
fn cannot_splice(error: &io::Error) -> bool {
    Errno::from_io_error(error)
        .is_some_and(|errno| matches!(errno, Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP))
}

impl AsyncRead for SendfileStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for SendfileStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match sentinel_offset(buf) {
            Some(at) => this.poll_segment(cx, at, buf.len()),
            None => Pin::new(&mut this.tcp).poll_write(cx, buf),
        }
    }

    /// The slices before the first sentinel slice, written as they are; or, when the
    /// first slice is one, part of it sent from its file.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(first) = bufs.first()
            && let Some(at) = sentinel_offset(first)
        {
            return this.poll_segment(cx, at, first.len());
        }
        let plain = bufs
            .iter()
            .position(|buf| sentinel_offset(buf).is_some())
            .unwrap_or(bufs.len());
        if plain < bufs.len() {
            this.cork(true)?;
        }
        Pin::new(&mut this.tcp).poll_write_vectored(cx, &bufs[..plain])
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use bytes::Buf;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    fn file_of(bytes: &[u8]) -> Arc<File> {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(bytes).unwrap();
        Arc::new(file)
    }

    fn random(len: usize) -> Vec<u8> {
        let mut state = 0x9e37_79b9_u32;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect()
    }

    #[test]
    fn only_slices_of_the_sentinel_are_sentinel_slices() {
        assert_eq!(sentinel_offset(&SENTINEL[..10]), Some(0));
        assert_eq!(sentinel_offset(&SENTINEL[1000..2000]), Some(1000));
        assert_eq!(sentinel_offset(&SENTINEL[SEGMENT - 1..]), Some(SEGMENT - 1));
        assert_eq!(sentinel_offset(&SENTINEL[5..5]), None, "empty");
        let zeros = vec![0u8; 100];
        assert_eq!(sentinel_offset(&zeros), None, "zeros elsewhere");
        assert_eq!(sentinel_offset(b"HTTP/1.1 200 OK\r\n"), None);
    }

    #[test]
    fn a_slice_must_be_the_rest_of_the_front_segment() {
        let segments = Segments::default();
        assert!(segments.next(0, 10).is_err(), "nothing queued");
        let (a, b) = (file_of(b"a"), file_of(b"b"));
        segments.push(&a, 100, 1000).unwrap();
        segments.push(&b, 5, 20).unwrap();

        assert!(
            segments.next(1, 999).is_err(),
            "a slice ahead of the segment"
        );
        assert!(segments.next(0, 999).is_err(), "shorter than the segment");
        assert!(segments.next(0, 1001).is_err(), "longer than the segment");
        let (file, offset) = segments.next(0, 1000).unwrap();
        assert!(Arc::ptr_eq(&file, &a));
        assert_eq!(offset, 100);

        segments.sent(300).unwrap();
        assert!(
            segments.next(0, 1000).is_err(),
            "the slice hyper sent already"
        );
        assert!(segments.next(300, 600).is_err(), "not all that is left");
        assert_eq!(segments.next(300, 700).unwrap().1, 400);
        segments.sent(700).unwrap();
        assert_eq!(segments.len(), 1, "a segment all sent is dropped");

        let (file, offset) = segments.next(0, 20).unwrap();
        assert!(Arc::ptr_eq(&file, &b));
        assert_eq!(offset, 5);
        segments.sent(20).unwrap();
        assert_eq!(segments.len(), 0);
        assert!(segments.sent(1).is_err(), "sent with nothing queued");
    }

    #[test]
    fn a_body_stands_for_its_file_in_segments_of_the_sentinel() {
        let segments = Segments::default();
        let length = 2 * SEGMENT as u64 + 7;
        let body = SendfileBody::new(
            segments.clone(),
            Arc::new(tempfile::tempfile().unwrap()),
            50,
            length,
        );
        assert_eq!(body.size_hint().exact(), Some(length));
        let mut body = std::pin::pin!(body);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut lens = Vec::new();
        while let Poll::Ready(Some(frame)) = body.as_mut().poll_frame(&mut cx) {
            let data = frame.unwrap().into_data().unwrap();
            assert_eq!(sentinel_offset(&data), Some(0));
            let queue = segments.0.lock().unwrap();
            let last = queue.back().unwrap();
            assert_eq!((last.len, last.sent), (data.len(), 0));
            assert_eq!(last.offset, 50 + lens.iter().sum::<usize>() as u64);
            lens.push(data.len());
        }
        assert!(body.is_end_stream());
        assert_eq!(lens, [SEGMENT, SEGMENT, 7]);
        assert_eq!(segments.len(), 3);
    }

    /// A loopback connection: the server's end wrapped, the client's end.
    async fn connected() -> (SendfileStream, Segments, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap());
        let (client, accepted) = tokio::join!(client, listener.accept());
        let (stream, segments) = SendfileStream::new(accepted.unwrap().0);
        (stream, segments, client.unwrap())
    }

    /// Writes `bufs` as hyper's queue strategy does: every remaining slice offered to
    /// `write_vectored`, each advanced by what it took.
    async fn flush(stream: &mut SendfileStream, mut bufs: Vec<Bytes>) -> io::Result<()> {
        loop {
            bufs.retain(Bytes::has_remaining);
            if bufs.is_empty() {
                return stream.flush().await;
            }
            let slices: Vec<IoSlice<'_>> = bufs.iter().map(|b| IoSlice::new(b)).collect();
            let mut n = stream.write_vectored(&slices).await?;
            for buf in &mut bufs {
                let step = n.min(buf.len());
                buf.advance(step);
                n -= step;
            }
        }
    }

    /// Sends a head and a body of `len` bytes of `file` from `from` as sentinel frames;
    /// returns what the client read, and whether the connection ended up copying.
    async fn send_body(copy: bool, file: File, from: usize, len: usize) -> (Vec<u8>, bool) {
        let (mut stream, segments, mut client) = connected().await;
        if copy {
            stream.copy = Some(vec![0; 1000]);
        }
        let mut body = SendfileBody::new(segments.clone(), Arc::new(file), from as u64, len as u64);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut bufs = vec![Bytes::from_static(b"head\r\n\r\n")];
        while let Poll::Ready(Some(frame)) = Pin::new(&mut body).poll_frame(&mut cx) {
            bufs.push(frame.unwrap().into_data().unwrap());
        }
        let reader = tokio::spawn(async move {
            let mut out = Vec::new();
            client.read_to_end(&mut out).await.unwrap();
            out
        });
        flush(&mut stream, bufs).await.unwrap();
        assert_eq!(segments.len(), 0, "every segment sent");
        let copied = stream.copy.is_some();
        drop(stream);
        let mut out = reader.await.unwrap();
        assert_eq!(out.drain(..8).as_slice(), b"head\r\n\r\n");
        (out, copied)
    }

    #[tokio::test]
    async fn sentinel_slices_are_sent_from_the_file() {
        let content = random(2 * SEGMENT + 5000);
        for copy in [false, true] {
            for (from, len) in [(0, content.len()), (SEGMENT - 3, 10), (1, 1)] {
                let file = tempfile::tempfile().unwrap();
                (&file).write_all(&content).unwrap();
                let (body, copied) = send_body(copy, file, from, len).await;
                assert!(
                    body == content[from..from + len],
                    "{from}+{len}, copy {copy}"
                );
                assert_eq!(copied, copy);
            }
        }
    }

    /// Files `sendfile` refuses (`EINVAL`: here a file of `/proc`, which cannot
    /// splice), are read and written instead.
    #[tokio::test]
    async fn a_file_sendfile_refuses_is_read_instead() {
        let path = "/proc/self/cmdline";
        let content = std::fs::read(path).unwrap();
        let (body, copied) = send_body(false, File::open(path).unwrap(), 0, content.len()).await;
        assert!(copied, "sendfile took {path}: find another file it refuses");
        assert_eq!(body, content);
    }

    fn corked(stream: &SendfileStream) -> bool {
        socket2::SockRef::from(&stream.tcp).tcp_cork().unwrap()
    }

    /// A head that a body follows is held until the body is sent, and the socket is
    /// uncorked after it; a head alone (a 304, a document) is never held.
    #[tokio::test]
    async fn a_head_waits_for_its_body_and_the_socket_is_uncorked_after() {
        let (mut stream, segments, mut client) = connected().await;
        let alone = Bytes::from_static(b"304\r\n\r\n");
        flush(&mut stream, vec![alone.clone()]).await.unwrap();
        assert!(!corked(&stream), "a head alone");

        let content = random(100_000);
        let file = tempfile::tempfile().unwrap();
        (&file).write_all(&content).unwrap();
        let mut body = SendfileBody::new(segments.clone(), Arc::new(file), 0, content.len() as u64);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let Poll::Ready(Some(Ok(frame))) = Pin::new(&mut body).poll_frame(&mut cx) else {
            panic!("a frame");
        };
        let frame = frame.into_data().unwrap();
        let head = Bytes::from_static(b"head\r\n\r\n");
        let slices = [IoSlice::new(&head), IoSlice::new(&frame)];
        assert_eq!(stream.write_vectored(&slices).await.unwrap(), head.len());
        assert!(corked(&stream), "the head waits for the body");
        flush(&mut stream, vec![frame]).await.unwrap();
        assert_eq!(segments.len(), 0);
        assert!(!corked(&stream), "uncorked once the body is sent");

        drop(stream);
        let mut out = Vec::new();
        client.read_to_end(&mut out).await.unwrap();
        let mut expected = [&alone[..], &head[..]].concat();
        expected.extend_from_slice(&content);
        assert!(out == expected, "{} bytes read", out.len());
    }

    #[tokio::test]
    async fn a_sentinel_slice_that_matches_no_segment_sends_nothing() {
        let (mut stream, segments, mut client) = connected().await;
        let stray = vec![Bytes::from_static(&SENTINEL[..100])];
        let error = flush(&mut stream, stray).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        segments.push(&file_of(&[1; 100]), 0, 100).unwrap();
        let ahead = vec![Bytes::from_static(&SENTINEL[10..100])];
        let error = flush(&mut stream, ahead).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        drop(stream);
        let mut out = Vec::new();
        client.read_to_end(&mut out).await.unwrap();
        assert!(out.is_empty(), "{} bytes sent", out.len());
    }

    #[tokio::test]
    async fn a_file_that_shrank_ends_the_answer() {
        for copy in [false, true] {
            let (mut stream, segments, mut client) = connected().await;
            if copy {
                stream.copy = Some(vec![0; 1000]);
            }
            let content = random(5000);
            let file = tempfile::tempfile().unwrap();
            (&file).write_all(&content[..3000]).unwrap();
            let body = SendfileBody::new(segments, Arc::new(file), 0, 5000);
            let mut body = std::pin::pin!(body);
            let mut cx = Context::from_waker(std::task::Waker::noop());
            let Poll::Ready(Some(Ok(frame))) = body.as_mut().poll_frame(&mut cx) else {
                panic!("a frame");
            };
            let error = flush(&mut stream, vec![frame.into_data().unwrap()])
                .await
                .unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof, "copy {copy}");
            drop(stream);
            let mut out = Vec::new();
            client.read_to_end(&mut out).await.unwrap();
            assert!(out == content[..3000], "copy {copy}: {} bytes", out.len());
        }
    }
}
