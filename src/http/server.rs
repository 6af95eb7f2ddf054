//! The listener: an accept loop that gives each connection its limits, so that no client
//! behaviour can take the server down or grow its memory without bound.
//!
//! - a cap on open connections: at the cap, a connection that is only waiting for its
//!   client (a request head under way, a kept-alive connection between requests) is
//!   closed to make room for the newcomer, or failing that an answer stalled on a client
//!   that does not read; with nothing to close, the newcomer gets a short 503 (`slots`
//!   chooses; an answer that moves is never closed). The cap stays within the limit on
//!   open files, whose soft value is first raised to the hard one;
//! - a header-read timeout: from a request's first byte, its answer must start within it
//!   (our handler answers at once, so this bounds the reading of the head: a slowloris
//!   client trickling header bytes is cut off);
//! - an idle timeout: a connection that moves no byte either way for that long is closed
//!   (a reader that stops reading its response, a stalled socket);
//! - a request timeout: one response must be sent within it, so a client that reads a
//!   byte a second cannot hold a connection for hours;
//! - a cap on the request head's size (431) and on the URL's (414, checked by the router);
//! - graceful shutdown: stop accepting, let requests in flight finish for at most
//!   `shutdown_timeout`, then close what is left.
//!
//! Like nginx's worker processes, each worker thread runs its own single-threaded runtime
//! and accepts from the one listening socket they share: a free worker takes the next
//! connection, and a request never crosses threads (no work stealing, no cross-thread
//! wake-ups, which cost more than the request on a small machine).
//!
//! The same accept loop serves the admin listener (`admin.rs`), over TCP or a Unix
//! socket, with the same limits and a connection cap of its own; a listener's
//! [`Surface`] says which paths it answers.
//!
//! On Linux, a TCP connection's socket is a `sendfile::SendfileStream` (under the
//! limits' `TimedStream`), and the public listener hands its queue of file segments to
//! the `/media/` requests, whose bodies are then sent with `sendfile`; hyper is told to
//! queue body buffers as they are (`writev`), which that relies on.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

use super::slots::{InFlight, Progress, Slot, Slots, cap_for_fds, fd_limit};
use crate::config::Limits;

/// The answer to a connection over the cap: cheap to send, no parsing needed.
const OVERLOADED: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n\
retry-after: 1\r\ncontent-length: 20\r\nconnection: close\r\n\r\nserver overloaded\r\n\r\n";

/// The listening socket, and a handle on it for each worker: all accept from one queue,
/// so a free worker takes the next connection (as nginx's workers share their socket).
pub fn bind(addr: SocketAddr, workers: usize) -> io::Result<Vec<std::net::TcpListener>> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    share(std::net::TcpListener::from(socket), workers)
}

/// A listening socket (bound here, or passed by systemd), with a handle for each worker.
pub fn share(
    listener: std::net::TcpListener,
    workers: usize,
) -> io::Result<Vec<std::net::TcpListener>> {
    listener.set_nonblocking(true)?;
    let mut listeners = Vec::with_capacity(workers.max(1));
    for _ in 1..workers.max(1) {
        listeners.push(listener.try_clone()?);
    }
    listeners.push(listener);
    Ok(listeners)
}

/// Which answers a listener gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Surface {
    /// The documents, `/hub` and `/healthz`: what readers and aggregators reach.
    Public,
    /// `/status`, `/metrics` and `/healthz`, for the operator and the scraper.
    Admin,
}

/// What every connection of a listener is answered with, and under which limits.
#[derive(Clone)]
pub(super) struct Answering {
    pub app: Arc<super::AppState>,
    pub surface: Surface,
    pub limits: Limits,
    /// A slot per open connection, made at the cap by closing one that waits.
    pub slots: Arc<Slots>,
}

/// What a connection's media bodies are sent through with `sendfile`: its queue of
/// file segments, on Linux; nothing elsewhere.
#[cfg(target_os = "linux")]
type Sendfile = super::sendfile::Segments;
#[cfg(not(target_os = "linux"))]
type Sendfile = std::convert::Infallible;

/// A listening socket the accept loop takes connections from: TCP, or a Unix socket
/// for the admin listener.
pub(super) trait Accept {
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// The socket as hyper is given it.
    type Served: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    fn next_connection(&self) -> impl Future<Output = io::Result<Self::Stream>>;
    /// Tells a connection over the cap so, without waiting on it.
    fn refuse(stream: &Self::Stream);
    /// The socket to give hyper, and what media bodies can be sent through with
    /// `sendfile` on it, when they can.
    fn serve_as(stream: Self::Stream) -> (Self::Served, Option<Sendfile>);
}

impl Accept for TcpListener {
    type Stream = TcpStream;
    #[cfg(target_os = "linux")]
    type Served = super::sendfile::SendfileStream;
    #[cfg(not(target_os = "linux"))]
    type Served = TcpStream;

    async fn next_connection(&self) -> io::Result<TcpStream> {
        let (stream, _peer) = self.accept().await?;
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }

    fn refuse(stream: &TcpStream) {
        let _ = stream.try_write(OVERLOADED);
    }

    #[cfg(target_os = "linux")]
    fn serve_as(stream: TcpStream) -> (Self::Served, Option<Sendfile>) {
        let (stream, segments) = super::sendfile::SendfileStream::new(stream);
        (stream, Some(segments))
    }

    #[cfg(not(target_os = "linux"))]
    fn serve_as(stream: TcpStream) -> (TcpStream, Option<Sendfile>) {
        (stream, None)
    }
}

impl Accept for UnixListener {
    type Stream = UnixStream;
    type Served = UnixStream;

    async fn next_connection(&self) -> io::Result<UnixStream> {
        Ok(self.accept().await?.0)
    }

    fn refuse(stream: &UnixStream) {
        let _ = stream.try_write(OVERLOADED);
    }

    fn serve_as(stream: UnixStream) -> (UnixStream, Option<Sendfile>) {
        (stream, None)
    }
}

/// The worker threads; they stop (draining) when told.
pub struct Workers {
    threads: Vec<std::thread::JoinHandle<()>>,
    stop: watch::Sender<bool>,
    /// Each worker's runtime, so the watchdog can check that its event loop still runs.
    runtimes: Vec<tokio::runtime::Handle>,
}

/// Starts one worker thread per listener, each answering with `app` on its own runtime.
pub fn start(
    listeners: Vec<std::net::TcpListener>,
    app: Arc<super::AppState>,
    limits: Limits,
) -> io::Result<Workers> {
    let answering = Answering {
        app,
        surface: Surface::Public,
        limits,
        slots: Slots::new(
            connection_cap(limits.max_connections),
            limits.stalled_answer_timeout,
        ),
    };
    let mut workers = Workers::new();
    for (n, listener) in listeners.into_iter().enumerate() {
        let answering = answering.clone();
        workers.spawn(format!("seedfeed-http-{n}"), move |shutdown| async move {
            // One worker closes the media files kept open past their time.
            if let (0, Some(media)) = (n, &answering.app.media) {
                tokio::spawn(super::open_files::sweep(Arc::clone(media)));
            }
            match TcpListener::from_std(listener) {
                Ok(listener) => serve(listener, answering, shutdown).await,
                Err(error) => tracing::error!(%error, "a worker could not take its listener"),
            }
        })?;
    }
    Ok(workers)
}

/// `max_connections`, within what the limit on open files allows once raised to its
/// hard value: past it, accepting would fail while the cap still let connections in.
fn connection_cap(wanted: usize) -> usize {
    let Some(open_files) = fd_limit() else {
        return wanted;
    };
    let cap = cap_for_fds(wanted, open_files);
    if cap < wanted {
        tracing::warn!(
            max_connections = wanted,
            open_files,
            cap,
            "the limit on open files allows fewer connections than max_connections; \
             capped (raise LimitNOFILE, or lower max_connections)"
        );
    }
    cap
}

impl Workers {
    pub(super) fn new() -> Self {
        Self {
            threads: Vec::new(),
            stop: watch::channel(false).0,
            runtimes: Vec::new(),
        }
    }

    /// Starts a thread named `name` with a single-threaded runtime of its own, which
    /// runs `work` until it returns; `work` is given the future that completes when the
    /// workers are told to stop (or are dropped).
    pub(super) fn spawn<F, W>(&mut self, name: String, work: W) -> io::Result<()>
    where
        W: FnOnce(Pin<Box<dyn Future<Output = ()> + Send>>) -> F + Send + 'static,
        F: Future<Output = ()>,
    {
        let mut stopped = self.stop.subscribe();
        let shutdown = Box::pin(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        self.runtimes.push(runtime.handle().clone());
        let thread = std::thread::Builder::new()
            .name(name)
            .spawn(move || runtime.block_on(work(shutdown)))?;
        self.threads.push(thread);
        Ok(())
    }

    /// The workers' runtimes: a task spawned on one runs only while its event loop does.
    pub fn runtimes(&self) -> Vec<tokio::runtime::Handle> {
        self.runtimes.clone()
    }

    /// Stops accepting and waits for the workers to drain (each for at most
    /// `shutdown_timeout`). Blocks: call it off the async workers.
    pub fn stop(self) {
        let _ = self.stop.send(true);
        for thread in self.threads {
            if thread.join().is_err() {
                tracing::error!("an HTTP worker panicked");
            }
        }
    }
}

/// Answers connections on `listener` until `shutdown` completes, then drains.
pub(super) async fn serve<L: Accept>(
    listener: L,
    answering: Answering,
    shutdown: impl Future<Output = ()>,
) {
    let Answering {
        app: app_state,
        surface,
        limits,
        slots,
    } = answering;
    let metrics = Arc::clone(&app_state.metrics);
    // The connection gauges describe the public listener, which `max_connections` caps.
    let counted = surface == Surface::Public;
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        // Our stream enforces the header-read timeout, without a timer per request.
        .header_read_timeout(None)
        .max_buf_size(limits.max_header_bytes.max(8192))
        // Body buffers queued as they are, never copied into hyper's own buffer: what
        // `sendfile`'s stand-in frames rely on (see `sendfile`).
        .writev(true)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.next_connection() => match accepted {
                Ok(stream) => stream,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before accept: wait a
                    // moment rather than spin, and go on.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = admit(&slots).await else {
            if counted {
                metrics.connections_refused.fetch_add(1, Ordering::Relaxed);
            }
            L::refuse(&stream);
            continue;
        };
        if counted && slot.made_room() {
            metrics.connections_evicted.fetch_add(1, Ordering::Relaxed);
        }
        let progress = Arc::clone(slot.progress());
        let (stream, sendfile) = L::serve_as(stream);
        let sendfile = sendfile.filter(|_| surface == Surface::Public);
        let io = TokioIo::new(TimedStream::new(stream, &limits, Arc::clone(&progress)));
        let state = std::sync::Arc::clone(&app_state);
        let answers = Arc::clone(&progress);
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| Reply {
            in_flight: Some(answers.answering()),
            answer: reply(&state, surface, sendfile.as_ref(), request),
        });
        let connection = builder.serve_connection(io, service);
        let connection = graceful.watch(connection);
        let open = Open::new(slot, counted.then(|| Arc::clone(&metrics)));
        let task = tokio::spawn(async move {
            let _open = open;
            // Errors here are the client's (a reset, a timeout, a malformed request that
            // hyper already answered): nothing for the server to do.
            let _ = connection.await;
        });
        progress.closes_with(task.abort_handle());
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => tracing::debug!("a worker's connections drained"),
        () = tokio::time::sleep(limits.shutdown_timeout) => {
            tracing::warn!(timeout_secs = limits.shutdown_timeout.as_secs(), "connections still open after shutdown_timeout; closing them");
        }
    }
}

/// A slot for a new connection. At the cap with nothing to close, the worker first lets
/// its other connections run once: those it has just accepted and not yet read from
/// cannot be closed, and once read from, a slow one can.
async fn admit(slots: &Arc<Slots>) -> Option<Slot> {
    if let Some(slot) = slots.admit() {
        return Some(slot);
    }
    tokio::task::yield_now().await;
    slots.admit()
}

/// A connection's slot, and its count in the connection gauges: both given back when its
/// task ends, however it ends (aborted to make room included).
struct Open {
    _slot: Slot,
    metrics: Option<Arc<super::Metrics>>,
}

impl Open {
    fn new(slot: Slot, metrics: Option<Arc<super::Metrics>>) -> Self {
        if let Some(metrics) = &metrics {
            metrics.connections_open.fetch_add(1, Ordering::Relaxed);
            metrics.connections_total.fetch_add(1, Ordering::Relaxed);
        }
        Self {
            _slot: slot,
            metrics,
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        if let Some(metrics) = &self.metrics {
            metrics.connections_open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// The answer to one request on `surface`: the admin paths, the hub (which reads the
/// request's body), or a document. A media file's request is given the connection's
/// `sendfile` queue, when it has one (only those: an extension costs an allocation).
fn reply(
    state: &Arc<super::AppState>,
    surface: Surface,
    sendfile: Option<&Sendfile>,
    mut request: hyper::Request<Incoming>,
) -> Answer {
    if surface == Surface::Admin {
        return Answer::Now(Some(super::observe::answer_admin(state, request)));
    }
    if request.uri().path() == crate::websub::HUB_PATH {
        let state = Arc::clone(state);
        return Answer::Later(Box::pin(
            async move { super::answer_hub(&state, request).await },
        ));
    }
    if request.uri().path() == crate::activitypub::INBOX_PATH && state.fediverse.is_some() {
        let state = Arc::clone(state);
        return Answer::Later(Box::pin(async move {
            let started = state.access_log.then(std::time::Instant::now);
            let (parts, body) = request.into_parts();
            let response = super::fediverse::answer_inbox(
                &state,
                hyper::Request::from_parts(parts.clone(), body),
            )
            .await;
            super::observe::record(&state, super::Route::Fediverse, &parts, &response, started);
            response
        }));
    }
    if let Some(sendfile) = sendfile
        && request.uri().path().starts_with(super::MEDIA_PREFIX)
    {
        request.extensions_mut().insert(sendfile.clone());
    }
    Answer::Now(Some(super::answer(state, request)))
}

/// A response: at once (every document), or once the request's body is read (`/hub`).
/// Documents need no boxed future per request.
enum Answer {
    Now(Option<axum::response::Response>),
    Later(Pin<Box<dyn Future<Output = axum::response::Response> + Send>>),
}

/// The answer to one request, and the mark that the connection is answering it, which
/// goes with the response's body until hyper is done with it.
struct Reply {
    answer: Answer,
    in_flight: Option<InFlight>,
}

impl Future for Reply {
    type Output = Result<hyper::Response<Answered>, std::convert::Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let response = match &mut this.answer {
            Answer::Now(response) => match response.take() {
                Some(response) => response,
                None => return Poll::Pending,
            },
            Answer::Later(future) => ready!(future.as_mut().poll(cx)),
        };
        let in_flight = this.in_flight.take();
        Poll::Ready(Ok(response.map(|body| Answered {
            body,
            _in_flight: in_flight,
        })))
    }
}

/// A response's body as hyper is given it: the body, its frames passed on as they are,
/// and the mark that its request is being answered, dropped with it.
pub(super) struct Answered {
    body: axum::body::Body,
    _in_flight: Option<InFlight>,
}

impl hyper::body::Body for Answered {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// A TCP stream that enforces the time limits of a connection. It fails with `TimedOut`
/// once no byte has moved either way for `idle`; once a request that started (its first
/// byte read while no response was pending) has had no answer for `head`; or once one
/// response has taken longer than `request` to send (it starts with the first write and
/// ends when hyper flushes it). One timer per connection, re-armed only when it fires,
/// not on every read or write. It also keeps the connection's [`Progress`] current for
/// the cap: the bytes read, a write stalled on the client, the flush that ends an answer.
struct TimedStream<S> {
    stream: S,
    progress: Arc<Progress>,
    /// Whether the last write found no room (and `progress` was told).
    stalled: bool,
    /// Whether a read has found nothing to read yet (and `progress` was told).
    read_pending: bool,
    idle: Duration,
    head: Duration,
    request: Duration,
    last_progress: Instant,
    /// When the request being read began, until its answer starts.
    request_started: Option<Instant>,
    response_started: Option<Instant>,
    timer: Pin<Box<Sleep>>,
}

impl<S> TimedStream<S> {
    fn new(stream: S, limits: &Limits, progress: Arc<Progress>) -> Self {
        let now = Instant::now();
        Self {
            stream,
            progress,
            stalled: false,
            read_pending: false,
            idle: limits.idle_timeout,
            head: limits.header_read_timeout,
            request: limits.request_timeout,
            last_progress: now,
            request_started: None,
            response_started: None,
            timer: Box::pin(tokio::time::sleep_until(now + limits.idle_timeout)),
        }
    }

    fn deadline(&self) -> Instant {
        let mut deadline = self.last_progress + self.idle;
        if let Some(started) = self.request_started {
            deadline = deadline.min(started + self.head);
        }
        if let Some(started) = self.response_started {
            deadline = deadline.min(started + self.request);
        }
        deadline
    }

    /// Errors when a limit has passed; otherwise keeps the timer armed for the current
    /// deadline (and registers the task to be woken at it).
    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        // A request head still incomplete brings the deadline forward: re-arm for it.
        // (A complete request never gets here with one pending, so the fast path never
        // touches the timer.)
        let deadline = self.deadline();
        if deadline < self.timer.deadline() {
            self.timer.as_mut().reset(deadline);
        }
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return Ok(());
            }
            let deadline = self.deadline();
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "connection timed out",
                ));
            }
            self.timer.as_mut().reset(deadline);
        }
    }

    /// Bookkeeping after a write: progress when bytes went out; when the client does
    /// not read, the slow-reader clock starts and the deadlines are checked.
    fn after_write(
        &mut self,
        cx: &mut Context<'_>,
        written: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        match written {
            Poll::Ready(result) => {
                self.wrote();
                if self.stalled {
                    self.stalled = false;
                    self.progress.flowing();
                }
                Poll::Ready(result)
            }
            Poll::Pending => {
                if !self.stalled {
                    self.stalled = true;
                    self.progress.stalled();
                }
                self.response_started.get_or_insert_with(Instant::now);
                self.check(cx)?;
                Poll::Pending
            }
        }
    }

    fn wrote(&mut self) {
        let now = Instant::now();
        self.last_progress = now;
        self.request_started = None;
        self.response_started.get_or_insert(now);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for TimedStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.stream).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    self.progress.received(buf.filled().len() - before);
                    let now = Instant::now();
                    self.last_progress = now;
                    if self.response_started.is_none() {
                        self.request_started.get_or_insert(now);
                    }
                }
                Poll::Ready(result)
            }
            Poll::Pending => {
                if !self.read_pending {
                    self.read_pending = true;
                    self.progress.read_pending();
                }
                self.check(cx)?;
                Poll::Pending
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for TimedStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write(cx, data);
        self.after_write(cx, written)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.after_write(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(Pin::new(&mut self.stream).poll_flush(cx))?;
        // hyper flushes once a response is written: the next write starts another.
        self.response_started = None;
        self.progress.flushed();
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
