//! The watchdog keep-alive. `WATCHDOG=1` is sent every half of `WATCHDOG_USEC`, and only
//! while the daemon's loops are alive: each HTTP worker's event loop runs a task put on
//! it, and the ingest driver answers a ping. When one is stuck the keep-alive stops, and
//! systemd restarts the service once `WatchdogSec` has passed.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::oneshot;

use super::systemd::{Notifier, State};
use crate::ingest::{Heartbeat, IngestMsg};

/// How long the ingest driver may go without answering a ping and without writing a batch
/// before it is taken for hung. It reads its inbox only between bulks (a cold start over
/// a big folder is one bulk of several seconds), but beats its heartbeat at every chunk
/// it writes, which takes far less than a second.
const INGEST_PATIENCE: Duration = Duration::from_secs(60);

/// What the watchdog looks at.
pub struct Probes {
    /// The runtime of each HTTP worker.
    pub http: Vec<Handle>,
    /// The ingest driver's inbox.
    pub ingest: mpsc::Sender<IngestMsg>,
    /// The ingest driver's sign of progress.
    pub heartbeat: Heartbeat,
}

/// Sends the keep-alive every `period` while the loops are alive; runs until aborted.
pub async fn keep_alive(notifier: Arc<Notifier>, period: Duration, probes: Probes) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ingest = IngestProbe::default();
    let mut failing: Option<&'static str> = None;
    loop {
        ticks.tick().await;
        // Half the period at most, so that a slow answer still leaves the keep-alive on
        // time.
        let stuck = if !http_alive(&probes.http, period / 2).await {
            Some("http")
        } else if !ingest.alive(&probes.ingest, probes.heartbeat.count(), Instant::now()) {
            Some("ingest")
        } else {
            None
        };
        match stuck {
            None => {
                if failing.take().is_some() {
                    tracing::info!("every loop answers again; watchdog keep-alive resumed");
                }
                notifier.notify(&[State::Watchdog]);
            }
            Some(part) => {
                if failing != Some(part) {
                    tracing::error!(
                        part,
                        "a loop does not answer; watchdog keep-alive withheld, systemd restarts the service"
                    );
                }
                failing = Some(part);
            }
        }
    }
}

/// Whether a task spawned on each worker's runtime runs within `within`: a worker whose
/// event loop is blocked, or whose thread is gone, never runs it.
async fn http_alive(runtimes: &[Handle], within: Duration) -> bool {
    let probes: Vec<_> = runtimes.iter().map(|rt| rt.spawn(async {})).collect();
    tokio::time::timeout(within, async {
        for probe in probes {
            if probe.await.is_err() {
                return false;
            }
        }
        true
    })
    .await
    .unwrap_or(false)
}

/// One ping in flight to the ingest driver at a time, and the last sign of progress.
#[derive(Default)]
struct IngestProbe {
    waiting: Option<(oneshot::Receiver<()>, Instant)>,
    /// The heartbeat's count when last seen, and when it was last seen to move.
    beats: Option<(u64, Instant)>,
}

impl IngestProbe {
    /// Alive when the last ping was answered (a new one is sent), or while it waits,
    /// as long as the ping or the last move of the heartbeat (`beats`, at `now`) is
    /// younger than [`INGEST_PATIENCE`]; dead when the driver is gone.
    fn alive(&mut self, inbox: &mpsc::Sender<IngestMsg>, beats: u64, now: Instant) -> bool {
        let moved = match self.beats {
            Some((seen, at)) if seen == beats => at,
            _ => now,
        };
        self.beats = Some((beats, moved));
        if let Some((reply, sent)) = &mut self.waiting {
            match reply.try_recv() {
                Ok(()) => self.waiting = None,
                Err(oneshot::error::TryRecvError::Empty) => {
                    let last_sign = moved.max(*sent);
                    return now.saturating_duration_since(last_sign) < INGEST_PATIENCE;
                }
                Err(oneshot::error::TryRecvError::Closed) => return false,
            }
        }
        let (reply, answer) = oneshot::channel();
        if inbox.send(IngestMsg::Ping(reply)).is_err() {
            return false;
        }
        self.waiting = Some((answer, now));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ingest_driver_that_answers_is_alive_and_a_gone_one_is_not() {
        let (inbox, driver) = mpsc::channel();
        let mut probe = IngestProbe::default();
        let t0 = Instant::now();
        assert!(probe.alive(&inbox, 0, t0));
        // Unanswered, but young: a batch may be running.
        assert!(probe.alive(&inbox, 0, t0));
        match driver.recv().unwrap() {
            IngestMsg::Ping(reply) => reply.send(()).unwrap(),
            other => panic!("{other:?}"),
        }
        assert!(probe.alive(&inbox, 0, t0), "answered");
        drop(driver);
        assert!(!probe.alive(&inbox, 0, t0), "the driver is gone");
    }

    /// A driver busy with a bulk does not answer, but beats; one that neither answers
    /// nor beats for the patience is hung.
    #[test]
    fn an_unanswered_ping_is_forgiven_while_the_heartbeat_moves() {
        let (inbox, _driver) = mpsc::channel();
        let mut probe = IngestProbe::default();
        let t0 = Instant::now();
        let later = |secs| t0 + Duration::from_secs(secs);
        assert!(probe.alive(&inbox, 0, t0));
        assert!(probe.alive(&inbox, 0, later(59)), "young ping");
        assert!(!probe.alive(&inbox, 0, later(61)), "no answer, no beat");
        assert!(probe.alive(&inbox, 7, later(62)), "a batch was written");
        assert!(
            probe.alive(&inbox, 7, later(121)),
            "within the patience of that beat"
        );
        assert!(
            !probe.alive(&inbox, 7, later(123)),
            "stuck since the last beat"
        );
    }

    #[test]
    fn a_worker_runtime_that_nobody_drives_is_not_alive() {
        let builder = || {
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap()
        };
        // Like a worker whose thread is blocked: nothing runs the probe put on it.
        let stuck = builder();
        let watchdog = builder();
        let stuck_handle = stuck.handle().clone();
        assert!(!watchdog.block_on(http_alive(&[stuck_handle], Duration::from_millis(100))));
        assert!(
            watchdog.block_on(async {
                http_alive(&[Handle::current()], Duration::from_secs(10)).await
            })
        );
    }
}
