//! A listener's connection cap, and how it makes room for a newcomer instead of
//! refusing it.
//!
//! Every open connection holds a [`Slot`] in its listener's [`Slots`], with a
//! [`Progress`] that its stream and its requests keep current (a few per-connection
//! atomics; nothing shared is touched on a read or a write). Below the cap a newcomer
//! simply takes a slot. At the cap, the slots are scanned once and one connection is
//! closed for it ([`victim`] chooses which):
//!
//! 1. a connection **waiting for a request** from its client — one that has sent
//!    nothing, part of a request head, or nothing since its last answer (kept alive) —
//!    for at least `stalled_answer_timeout`, the one that has waited the longest;
//! 2. failing that, an answer **stalled** on its client: one whose writes have found no
//!    room in the socket for at least `stalled_answer_timeout` (a slow reader), the
//!    longest stalled;
//! 3. failing that, a connection that has waited for a request a shorter time, the
//!    longest first;
//! 4. failing that, the newcomer is refused (a short 503).
//!
//! A connection whose request is being answered, and whose answer moves, is never
//! closed; nor is one not yet read from, which waits for its worker rather than its
//! client (in a burst of accepts at the cap, newcomers would otherwise close each other
//! before their requests are read).
//!
//! The stall allowed is short (2 s by default) next to the header-read timeout: a live
//! client makes room in its socket within a round trip, and a lossy link's
//! retransmissions back off 200, 400 and 800 ms. When more slow readers arrive a second
//! than the cap divided by the stall allowed, they fill the cap before the first of them
//! may go, and until then every newcomer, readers included, is refused: with the default
//! cap, 410 a second against a stall of 10 s, 2,048 against 2 s.
//!
//! The oldest wait goes first rather than the fewest bytes received, because a sound
//! client sends its head in one segment as soon as it connects, while a slowloris client
//! trickles bytes for as long as it is let: the bytes it has sent grow with its age, so
//! "fewest bytes" would close the newest connections, sound ones caught before their
//! segment arrived among them. Oldest first keeps any newcomer open until a cap's worth
//! of connections have arrived after it, by far long enough for one request; and the
//! oldest waiters are the nearest to their own timeouts anyway. Ties (the same instant)
//! go to the fewest bytes received.
//!
//! A closed connection's task is aborted (its socket closed at once, no answer sent),
//! which frees its place in the table at once; its memory goes when its worker next
//! runs it. Those still closing count against a second cap's worth, past which
//! newcomers are refused too, so that at most twice the cap of connections exist.
//!
//! On Linux, [`fd_limit`] raises the soft limit on open files to the hard one, and
//! [`cap_for_fds`] keeps the cap within it.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use tokio::task::AbortHandle;

/// Waiting for a request: accepted, reading a head, or kept alive between requests.
const WAITING: u8 = 0;
/// A request handed to the service, its answer's body not yet all produced.
const ANSWERING: u8 = 1;
/// The answer's body produced, its last bytes perhaps still being written.
const ANSWERED: u8 = 2;
/// Chosen to make room: out of the table, its task aborted.
const EVICTED: u8 = 3;

/// How a connection is doing, shared between its task (which writes it) and the scan at
/// the cap (which reads it). Times are in nanoseconds since the listener's epoch, plus
/// one: 0 means "none".
pub(super) struct Progress {
    state: AtomicU8,
    /// Since when the connection has waited for its current request: its accept, or the
    /// end of its last answer.
    waiting_since: AtomicU64,
    /// Bytes received since then: of the request head under way, when there is one.
    received: AtomicU64,
    /// Whether a read has found nothing more to read: until then the connection waits
    /// for its worker, not for its client.
    read_pending: AtomicBool,
    /// Since when a write has waited on the client for room in the socket (0: none).
    stalled_since: AtomicU64,
    /// Where it is in the table (meaningful under the table's lock).
    index: AtomicUsize,
    /// Closes the connection: set once its task is spawned.
    abort: OnceLock<AbortHandle>,
    epoch: Instant,
}

impl Progress {
    fn new(epoch: Instant, index: usize) -> Self {
        Self {
            state: AtomicU8::new(WAITING),
            waiting_since: AtomicU64::new(ticks(epoch)),
            received: AtomicU64::new(0),
            read_pending: AtomicBool::new(false),
            stalled_since: AtomicU64::new(0),
            index: AtomicUsize::new(index),
            abort: OnceLock::new(),
            epoch,
        }
    }

    /// `n` bytes read from the client.
    pub(super) fn received(&self, n: usize) {
        self.received.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// A read found nothing more to read: from now on, a wait is the client's.
    pub(super) fn read_pending(&self) {
        self.read_pending.store(true, Ordering::Relaxed);
    }

    /// A write found no room in the socket: the client is not reading.
    pub(super) fn stalled(&self) {
        self.stalled_since
            .store(ticks(self.epoch), Ordering::Relaxed);
    }

    /// A write went through again after [`Self::stalled`].
    pub(super) fn flowing(&self) {
        self.stalled_since.store(0, Ordering::Relaxed);
    }

    /// hyper flushed everything it had written: once an answer's body is all produced,
    /// this is its end, and the wait for the next request starts.
    pub(super) fn flushed(&self) {
        if self.state.load(Ordering::Relaxed) != ANSWERED {
            return;
        }
        self.received.store(0, Ordering::Relaxed);
        self.waiting_since
            .store(ticks(self.epoch), Ordering::Relaxed);
        // Not over a newer request's ANSWERING, nor over EVICTED.
        let _ =
            self.state
                .compare_exchange(ANSWERED, WAITING, Ordering::Release, Ordering::Relaxed);
    }

    /// A request was handed to the service: the connection is answering until the
    /// returned guard (kept with the answer's body) is dropped.
    pub(super) fn answering(self: &Arc<Self>) -> InFlight {
        // Never over EVICTED: that connection is being closed already.
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |state| {
                (state != EVICTED).then_some(ANSWERING)
            });
        InFlight(Arc::clone(self))
    }

    /// How the scan closes this connection: its task's abort handle. Until it is given,
    /// the connection is not closed to make room.
    pub(super) fn closes_with(&self, abort: AbortHandle) {
        let _ = self.abort.set(abort);
    }

    /// What the scan at the cap sees of it.
    fn seen(&self) -> Seen {
        if self.abort.get().is_none() || !self.read_pending.load(Ordering::Relaxed) {
            return Seen::Busy;
        }
        match self.state.load(Ordering::Acquire) {
            WAITING => Seen::Waiting {
                since: self.waiting_since.load(Ordering::Relaxed),
                received: self.received.load(Ordering::Relaxed),
            },
            ANSWERING | ANSWERED => match self.stalled_since.load(Ordering::Relaxed) {
                0 => Seen::Busy,
                since => Seen::Stalled { since },
            },
            _ => Seen::Busy,
        }
    }

    /// Marks it evicted, if it still is what the scan saw.
    fn evict(&self, seen: Seen) -> bool {
        let from: &[u8] = match seen {
            Seen::Waiting { .. } => &[WAITING],
            Seen::Stalled { .. } => &[ANSWERING, ANSWERED],
            Seen::Busy => &[],
        };
        from.iter().any(|&state| {
            self.state
                .compare_exchange(state, EVICTED, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        })
    }
}

/// Nanoseconds since `epoch`, plus one (0 stands for "none").
fn ticks(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos())
        .unwrap_or(u64::MAX - 1)
        .saturating_add(1)
}

/// A request being answered: dropped with the answer's body (hyper drops the body once
/// it has taken its last frame, or when the connection ends).
pub(super) struct InFlight(Arc<Progress>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let _ = self.0.state.compare_exchange(
            ANSWERING,
            ANSWERED,
            Ordering::Release,
            Ordering::Relaxed,
        );
    }
}

/// What the scan at the cap sees of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Seen {
    /// Waiting for a request since `since`, with `received` bytes of it so far.
    Waiting { since: u64, received: u64 },
    /// Answering, its writes waiting on the client since `since`.
    Stalled { since: u64 },
    /// Answering and moving, being closed, or its task not yet started: not to close.
    Busy,
}

/// Which of the connections seen to close to make room for a newcomer, by its place in
/// `seen`; `None` to refuse the newcomer. First a connection that has waited for a
/// request since `waited_by` or before, the one that has waited the longest (the fewest
/// bytes received among equals); then an answer stalled since `waited_by` or before,
/// the longest stalled; then one that has waited for a request a shorter time, the
/// longest first; never one that is busy. A connection only just opened waits for its
/// head for a moment: were every waiting one to go before any stalled answer, a reader
/// arriving while slow readers hold the other slots would be closed for the next
/// newcomer.
pub(super) fn victim(seen: impl IntoIterator<Item = Seen>, waited_by: u64) -> Option<usize> {
    seen.into_iter()
        .enumerate()
        .filter_map(|(index, seen)| {
            let key = match seen {
                Seen::Waiting { since, received } if since <= waited_by => (0, since, received),
                Seen::Stalled { since } if since <= waited_by => (1, since, 0),
                Seen::Waiting { since, received } => (2, since, received),
                Seen::Stalled { .. } | Seen::Busy => return None,
            };
            Some((key, index))
        })
        .min()
        .map(|(_, index)| index)
}

/// The open connections of a listener, at most `cap` of them.
pub(super) struct Slots {
    cap: usize,
    /// How long an answer must have waited on its client before it may be closed.
    stall: Duration,
    epoch: Instant,
    table: Mutex<Vec<Arc<Progress>>>,
    /// Connections closed to make room whose tasks have not ended yet.
    closing: AtomicUsize,
}

impl Slots {
    /// A cap of `cap` connections, closing answers stalled for `stall` when it must.
    pub(super) fn new(cap: usize, stall: Duration) -> Arc<Self> {
        Arc::new(Self {
            cap: cap.max(1),
            stall,
            epoch: Instant::now(),
            table: Mutex::new(Vec::new()),
            closing: AtomicUsize::new(0),
        })
    }

    fn table(&self) -> MutexGuard<'_, Vec<Arc<Progress>>> {
        // The table is consistent after every statement: a panic elsewhere leaves it usable.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot for a new connection: a free one, or one made by closing another
    /// connection; `None` when none can be had (refuse the newcomer).
    pub(super) fn admit(self: &Arc<Self>) -> Option<Slot> {
        let mut table = self.table();
        let made_room = table.len() >= self.cap;
        if made_room && !self.make_room(&mut table) {
            return None;
        }
        let progress = Arc::new(Progress::new(self.epoch, table.len()));
        table.push(Arc::clone(&progress));
        Some(Slot {
            slots: Arc::clone(self),
            progress,
            made_room,
        })
    }

    /// Closes one connection to free its place in the table; false when none may be.
    fn make_room(&self, table: &mut Vec<Arc<Progress>>) -> bool {
        if self.closing.load(Ordering::Relaxed) >= self.cap {
            return false;
        }
        let waited_by = ticks(self.epoch)
            .saturating_sub(u64::try_from(self.stall.as_nanos()).unwrap_or(u64::MAX));
        // A connection may change state between the scan and the eviction (a head
        // completes); then scan again. Each retry follows a request handed to the
        // service, so this ends; the bound only keeps it short under a burst of them.
        for _ in 0..4 {
            let seen: Vec<Seen> = table.iter().map(|progress| progress.seen()).collect();
            let Some(index) = victim(seen.iter().copied(), waited_by) else {
                return false;
            };
            let progress = &table[index];
            if !progress.evict(seen[index]) {
                continue;
            }
            if let Some(abort) = progress.abort.get() {
                abort.abort();
            }
            self.closing.fetch_add(1, Ordering::Relaxed);
            self.remove(table, index);
            return true;
        }
        false
    }

    /// Takes `index` out of the table, moving the last entry into its place.
    fn remove(&self, table: &mut Vec<Arc<Progress>>, index: usize) {
        table.swap_remove(index);
        if let Some(moved) = table.get(index) {
            moved.index.store(index, Ordering::Relaxed);
        }
    }
}

/// A connection's place under the cap, freed when dropped (when its task ends).
pub(super) struct Slot {
    slots: Arc<Slots>,
    progress: Arc<Progress>,
    /// Another connection was closed to make room for this one.
    made_room: bool,
}

impl Slot {
    /// Whether another connection was closed to make room for this one.
    pub(super) fn made_room(&self) -> bool {
        self.made_room
    }

    /// What the connection's stream and requests keep current.
    pub(super) fn progress(&self) -> &Arc<Progress> {
        &self.progress
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut table = self.slots.table();
        if self.progress.state.load(Ordering::Acquire) == EVICTED {
            // Out of the table since it was chosen; it is closed now.
            self.slots.closing.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let index = self.progress.index.load(Ordering::Relaxed);
        if table
            .get(index)
            .is_some_and(|entry| Arc::ptr_eq(entry, &self.progress))
        {
            self.slots.remove(&mut table, index);
        }
    }
}

/// File descriptors kept for everything but connections: the database and its pool,
/// the watcher, the listening sockets, the admin listener, outgoing requests, and the
/// media files kept open (`open_files`).
const RESERVED_FDS: u64 = 256 + super::open_files::MOST as u64;

/// The most connections that `fd_limit` open files allow, up to `wanted`: each may hold
/// a media file open as it sends it, so two descriptors a connection, beside the
/// reserved ones.
pub(super) fn cap_for_fds(wanted: usize, fd_limit: u64) -> usize {
    let allowed = fd_limit.saturating_sub(RESERVED_FDS) / 2;
    usize::try_from(allowed).map_or(wanted, |allowed| wanted.min(allowed.max(1)))
}

/// Raises the soft limit on open files to the hard one (as a service's default soft
/// limit is often 1024 while its hard limit is far higher), and returns the soft limit
/// now in force; `None` when there is none, or it cannot be read.
#[cfg(target_os = "linux")]
pub(super) fn fd_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if let (Some(current), Some(maximum)) = (limit.current, limit.maximum)
        && current < maximum
    {
        let raised = Rlimit {
            current: Some(maximum),
            maximum: Some(maximum),
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => return Some(maximum),
            Err(error) => {
                tracing::warn!(%error, current, maximum, "cannot raise the limit on open files");
            }
        }
    }
    limit.current
}

/// Elsewhere the limit is left as it is, and not known here.
#[cfg(not(target_os = "linux"))]
pub(super) fn fd_limit() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(since: u64, received: u64) -> Seen {
        Seen::Waiting { since, received }
    }

    #[test]
    fn the_longest_waiting_connection_goes_first_whatever_it_received() {
        // A slowloris client that has trickled for a while has sent more than a newcomer
        // whose head has not arrived yet: the old one goes.
        let seen = [waiting(30, 0), waiting(10, 900), waiting(20, 0)];
        assert_eq!(victim(seen, 0), Some(1));
    }

    #[test]
    fn among_equal_waits_the_fewest_bytes_go_first() {
        let seen = [waiting(10, 50), waiting(10, 7), waiting(10, 300)];
        assert_eq!(victim(seen, 0), Some(1));
    }

    #[test]
    fn a_busy_answer_is_never_chosen() {
        assert_eq!(victim([Seen::Busy, Seen::Busy], u64::MAX), None);
        assert_eq!(victim([Seen::Busy, waiting(99, 0)], u64::MAX), Some(1));
    }

    #[test]
    fn a_stalled_answer_goes_once_stalled_long_enough_and_after_long_waits_only() {
        let stalled = Seen::Stalled { since: 5 };
        // Stalled since 5, but only answers stalled since 4 or before may go.
        assert_eq!(victim([stalled, Seen::Busy], 4), None);
        assert_eq!(victim([stalled, Seen::Busy], 5), Some(0));
        // A connection that has waited for a request as long goes before it.
        assert_eq!(victim([stalled, waiting(5, 0)], 5), Some(1));
        // One that has waited less goes after it: a newcomer's head on its way.
        assert_eq!(victim([stalled, waiting(1_000, 0)], 5), Some(0));
        assert_eq!(
            victim([Seen::Stalled { since: 9 }, waiting(1_000, 0)], 5),
            Some(1)
        );
        // The longest stalled first.
        let older = Seen::Stalled { since: 2 };
        assert_eq!(victim([stalled, older], 10), Some(1));
    }

    #[test]
    fn the_cap_stays_within_the_open_files_allowed() {
        assert_eq!(cap_for_fds(8192, 1 << 19), 8192);
        // Two descriptors a connection, beside the reserved ones.
        assert_eq!(cap_for_fds(8192, 1024), (1024 - RESERVED_FDS as usize) / 2);
        assert_eq!(cap_for_fds(8192, 100), 1);
    }

    /// A connection admitted to `slots`, its task started and read from once.
    async fn admitted(slots: &Arc<Slots>) -> Slot {
        let slot = slots.admit().expect("a slot");
        let task = tokio::spawn(std::future::pending::<()>());
        slot.progress().closes_with(task.abort_handle());
        slot.progress().read_pending();
        slot
    }

    #[tokio::test]
    async fn a_connection_not_yet_read_from_is_not_closed_to_make_room() {
        let slots = Slots::new(1, Duration::from_secs(3600));
        let slot = slots.admit().expect("a slot");
        let task = tokio::spawn(std::future::pending::<()>());
        slot.progress().closes_with(task.abort_handle());
        assert!(
            slots.admit().is_none(),
            "a newcomer not yet read from stays"
        );
        slot.progress().read_pending();
        assert!(
            slots.admit().is_some(),
            "once it waits on its client, it makes room"
        );
    }

    #[tokio::test]
    async fn at_the_cap_a_waiting_connection_makes_room_and_an_answering_one_does_not() {
        let slots = Slots::new(2, Duration::from_secs(3600));
        let first = admitted(&slots).await;
        let second = admitted(&slots).await;
        let _answer = second.progress().answering();
        // The first waits: it is closed for the newcomer.
        let third = admitted(&slots).await;
        assert_eq!(first.progress().state.load(Ordering::Relaxed), EVICTED);
        assert_eq!(slots.closing.load(Ordering::Relaxed), 1);
        let _answer = third.progress().answering();
        // Both left are answering: the next is refused.
        assert!(slots.admit().is_none());
        drop(first);
        assert_eq!(slots.closing.load(Ordering::Relaxed), 0);
        assert_eq!(slots.table().len(), 2);
        drop(second);
        assert_eq!(slots.table().len(), 1);
        assert!(Arc::ptr_eq(&slots.table()[0], third.progress()));
        assert_eq!(third.progress().index.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn an_answer_waits_again_once_its_body_is_done_and_flushed() {
        let slots = Slots::new(1, Duration::from_secs(3600));
        let slot = admitted(&slots).await;
        let progress = Arc::clone(slot.progress());
        let answer = progress.answering();
        progress.flushed();
        assert!(
            slots.admit().is_none(),
            "a flush amid the body ends nothing"
        );
        drop(answer);
        assert!(
            slots.admit().is_none(),
            "its last bytes are still to be written"
        );
        progress.flushed();
        assert!(
            slots.admit().is_some(),
            "a kept-alive connection makes room"
        );
    }
}
