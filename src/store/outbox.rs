//! The push outbox, WebSub's share of the database (its tables come with migration 5):
//! the built-in hub's verified subscriptions, the deliveries and pings still to send, and
//! the version of each feed last announced. `crate::websub` sends what is here.
//!
//! A feed change and the deliveries it calls for are written in one transaction, and a
//! delivery leaves the outbox only once its subscriber took it, so a kill at any moment
//! loses no change; a restart re-announces nothing it announced already. A pending row
//! names a topic, not a body: each attempt sends the topic's document as it is then, so
//! a subscriber that was down gets the newest version once, not every version.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::model::Secret;

#[derive(Debug, thiserror::Error)]
#[error("WebSub tables in the database")]
pub struct OutboxError(#[from] rusqlite::Error);

/// What a pending row sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PushKind {
    /// The topic's document, to a subscriber of the built-in hub.
    Deliver,
    /// `hub.mode=publish` for the topic, to an external hub.
    Ping,
    /// An ActivityPub activity, to an inbox (`store::followers`).
    Activity,
}

impl PushKind {
    fn code(self) -> &'static str {
        match self {
            Self::Deliver => "deliver",
            Self::Ping => "ping",
            Self::Activity => "activity",
        }
    }

    fn of(code: &str) -> Self {
        match code {
            "ping" => Self::Ping,
            "activity" => Self::Activity,
            _ => Self::Deliver,
        }
    }
}

/// One pending delivery or ping.
#[derive(Debug, Clone)]
pub struct PushJob {
    pub kind: PushKind,
    /// The subscriber's callback or the hub's URL.
    pub target: String,
    pub topic: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When the oldest change not yet sent was queued (unix ms).
    pub first: i64,
    /// Which change this attempt carries: a change queued while it is in flight bumps the
    /// row's count, and the row stays for another attempt.
    pub changes: i64,
    /// A delivery's subscription, read with the row (`None`: it has ended).
    pub subscription: Option<Subscription>,
}

impl PushJob {
    /// The row's identity, for the set of jobs in flight.
    pub fn key(&self) -> (PushKind, String, String) {
        (self.kind, self.target.clone(), self.topic.clone())
    }
}

/// A verified subscription.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub secret: Option<Secret>,
    pub lease_ends: DateTime<Utc>,
}

pub struct Outbox {
    pub(super) conn: Connection,
}

fn ms(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

impl Outbox {
    /// A connection of its own to the database in `data_dir`, which the store has
    /// already brought to the current schema.
    pub fn open(data_dir: &Path) -> Result<Self, OutboxError> {
        let conn = Connection::open(data_dir.join("seedfeed.db"))?;
        // The ingest writer may hold the lock for a batch; waiting is better than failing.
        conn.busy_timeout(Duration::from_secs(10))?;
        // As the store's writer: durable against a crash of the process, in WAL mode.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(Self { conn })
    }

    /// Adds or renews a subscription (a new secret replaces the old).
    pub fn subscribe(
        &self,
        topic: &str,
        callback: &str,
        secret: Option<&Secret>,
        lease_ends: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), OutboxError> {
        self.conn
            .prepare_cached(
                "INSERT INTO websub_subscriptions (topic, callback, secret, lease_ends, since)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (topic, callback) DO UPDATE SET secret = excluded.secret,
                     lease_ends = excluded.lease_ends",
            )?
            .execute(params![
                topic,
                callback,
                secret.map(Secret::expose),
                ms(lease_ends),
                ms(now)
            ])?;
        Ok(())
    }

    /// Ends a subscription and drops its pending delivery; returns whether there was one.
    pub fn unsubscribe(&mut self, topic: &str, callback: &str) -> Result<bool, OutboxError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let removed = tx.execute(
            "DELETE FROM websub_subscriptions WHERE topic = ?1 AND callback = ?2",
            params![topic, callback],
        )?;
        tx.execute(
            "DELETE FROM websub_outbox WHERE kind = 'deliver' AND topic = ?1 AND target = ?2",
            params![topic, callback],
        )?;
        tx.commit()?;
        Ok(removed > 0)
    }

    /// Deliveries read their subscription with their row ([`Outbox::due`]).
    #[cfg(test)]
    pub fn subscription(
        &self,
        topic: &str,
        callback: &str,
    ) -> Result<Option<Subscription>, OutboxError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT secret, lease_ends FROM websub_subscriptions
                 WHERE topic = ?1 AND callback = ?2",
            )?
            .query_row(params![topic, callback], |row| {
                Ok(Subscription {
                    secret: row.get::<_, Option<String>>(0)?.map(Secret::new),
                    lease_ends: DateTime::from_timestamp_millis(row.get(1)?)
                        .unwrap_or(DateTime::UNIX_EPOCH),
                })
            })
            .optional()?)
    }

    /// Drops the subscriptions whose lease ended, and their pending deliveries.
    pub fn expire(&mut self, now: DateTime<Utc>) -> Result<usize, OutboxError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "DELETE FROM websub_outbox WHERE kind = 'deliver' AND EXISTS (
                 SELECT 1 FROM websub_subscriptions s WHERE s.topic = websub_outbox.topic
                 AND s.callback = websub_outbox.target AND s.lease_ends <= ?1)",
            params![ms(now)],
        )?;
        let expired = tx.execute(
            "DELETE FROM websub_subscriptions WHERE lease_ends <= ?1",
            params![ms(now)],
        )?;
        tx.commit()?;
        Ok(expired)
    }

    /// Takes the feeds' current versions (path, ETag). For each one that differs from
    /// the version last announced, queues a delivery to each live subscriber of its
    /// topic (`base` + path) and a ping to each external hub; returns the number queued.
    pub fn announce(
        &mut self,
        versions: &[(String, String)],
        base: &str,
        hubs: &[String],
        now: DateTime<Utc>,
    ) -> Result<usize, OutboxError> {
        let now = ms(now);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut queued = 0;
        {
            let mut known =
                tx.prepare_cached("SELECT etag FROM websub_versions WHERE path = ?1")?;
            let mut record = tx.prepare_cached(
                "INSERT INTO websub_versions (path, etag) VALUES (?1, ?2)
                 ON CONFLICT (path) DO UPDATE SET etag = excluded.etag",
            )?;
            // `WHERE true`: SQLite's grammar needs it before ON CONFLICT in INSERT … SELECT.
            let mut deliver = tx.prepare_cached(
                "INSERT INTO websub_outbox (kind, target, topic, due, first, attempts, changes)
                 SELECT 'deliver', callback, topic, ?2, ?2, 0, 0 FROM websub_subscriptions
                 WHERE topic = ?1 AND lease_ends > ?2
                 ON CONFLICT (kind, target, topic) DO UPDATE SET changes = changes + 1",
            )?;
            let mut ping = tx.prepare_cached(
                "INSERT INTO websub_outbox (kind, target, topic, due, first, attempts, changes)
                 VALUES ('ping', ?1, ?2, ?3, ?3, 0, 0)
                 ON CONFLICT (kind, target, topic) DO UPDATE SET changes = changes + 1",
            )?;
            for (path, etag) in versions {
                let announced: Option<String> = known
                    .query_row(params![path], |row| row.get(0))
                    .optional()?;
                if announced.as_deref() == Some(etag.as_str()) {
                    continue;
                }
                record.execute(params![path, etag])?;
                let topic = format!("{base}{path}");
                queued += deliver.execute(params![topic, now])?;
                for hub in hubs {
                    queued += ping.execute(params![hub, topic, now])?;
                }
            }
        }
        tx.commit()?;
        Ok(queued)
    }

    /// Up to `limit` rows whose time has come, the most overdue first.
    pub fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<PushJob>, OutboxError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT o.kind, o.target, o.topic, o.attempts, o.first, o.changes, s.secret,
                 s.lease_ends
             FROM websub_outbox o LEFT JOIN websub_subscriptions s
                 ON o.kind = 'deliver' AND s.topic = o.topic AND s.callback = o.target
             WHERE o.due <= ?1 ORDER BY o.due LIMIT ?2",
        )?;
        let rows = statement.query_map(params![ms(now), limit as i64], |row| {
            let lease_ends: Option<i64> = row.get(7)?;
            Ok(PushJob {
                kind: PushKind::of(&row.get::<_, String>(0)?),
                target: row.get(1)?,
                topic: row.get(2)?,
                attempts: row.get(3)?,
                first: row.get(4)?,
                changes: row.get(5)?,
                subscription: lease_ends.map(|ends| Subscription {
                    secret: row
                        .get::<_, Option<String>>(6)
                        .ok()
                        .flatten()
                        .map(Secret::new),
                    lease_ends: DateTime::from_timestamp_millis(ends)
                        .unwrap_or(DateTime::UNIX_EPOCH),
                }),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When the next row after `now` falls due.
    pub fn next_due(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, OutboxError> {
        let due: Option<i64> = self
            .conn
            .prepare_cached("SELECT min(due) FROM websub_outbox WHERE due > ?1")?
            .query_row(params![ms(now)], |row| row.get(0))?;
        Ok(due.and_then(DateTime::from_timestamp_millis))
    }

    /// The job was sent. Its row goes, unless a change came while it was in flight:
    /// then it stays, due at once, to send that change (and this returns true).
    pub fn sent(&self, job: &PushJob, now: DateTime<Utc>) -> Result<bool, OutboxError> {
        let gone = self
            .conn
            .prepare_cached(
                "DELETE FROM websub_outbox WHERE kind = ?1 AND target = ?2 AND topic = ?3
                 AND changes = ?4",
            )?
            .execute(params![job.kind.code(), job.target, job.topic, job.changes])?;
        if gone == 0 {
            self.conn
                .prepare_cached(
                    "UPDATE websub_outbox SET due = ?4, first = ?4, attempts = 0,
                     last_error = NULL WHERE kind = ?1 AND target = ?2 AND topic = ?3",
                )?
                .execute(params![job.kind.code(), job.target, job.topic, ms(now)])?;
        }
        Ok(gone == 0)
    }

    /// The job failed; it is tried again at `retry_at`.
    pub fn retry(
        &self,
        job: &PushJob,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), OutboxError> {
        self.conn
            .prepare_cached(
                "UPDATE websub_outbox SET due = ?4, attempts = attempts + 1, last_error = ?5
                 WHERE kind = ?1 AND target = ?2 AND topic = ?3",
            )?
            .execute(params![
                job.kind.code(),
                job.target,
                job.topic,
                ms(retry_at),
                error
            ])?;
        Ok(())
    }

    /// Drops the job's row (given up, or nothing left to send).
    pub fn drop_job(&self, job: &PushJob) -> Result<(), OutboxError> {
        self.conn
            .prepare_cached(
                "DELETE FROM websub_outbox WHERE kind = ?1 AND target = ?2 AND topic = ?3",
            )?
            .execute(params![job.kind.code(), job.target, job.topic])?;
        Ok(())
    }

    /// Subscriptions held, and deliveries and pings waiting (activities are the
    /// fediverse's to count).
    pub fn counts(&self) -> Result<(u64, u64), OutboxError> {
        let count = |sql: &str| self.conn.query_row(sql, [], |row| row.get::<_, i64>(0));
        Ok((
            count("SELECT count(*) FROM websub_subscriptions")?.unsigned_abs(),
            count("SELECT count(*) FROM websub_outbox WHERE kind != 'activity'")?.unsigned_abs(),
        ))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::store::Store;

    /// An outbox on a new database, and the folder that holds it.
    pub(in crate::store) fn outbox() -> (tempfile::TempDir, Outbox) {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let outbox = Outbox::open(dir.path()).unwrap();
        (dir, outbox)
    }

    pub(in crate::store) fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    const BASE: &str = "http://x.test";

    fn versions(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(p, e)| (p.to_string(), e.to_string()))
            .collect()
    }

    #[test]
    fn a_change_is_queued_once_per_subscriber_and_hub() {
        let (_dir, mut outbox) = outbox();
        let topic = format!("{BASE}/feed.atom");
        outbox
            .subscribe(&topic, "http://a/cb", None, at(100), at(0))
            .unwrap();
        outbox
            .subscribe(&topic, "http://b/cb", None, at(100), at(0))
            .unwrap();
        let hubs = vec!["http://hub/".to_owned()];
        let first = versions(&[("/feed.atom", "\"1\""), ("/feed.rss", "\"2\"")]);
        // Two deliveries and a ping for the Atom feed, a ping for the RSS feed.
        assert_eq!(outbox.announce(&first, BASE, &hubs, at(1)).unwrap(), 4);
        // The same versions again (a restart): nothing new.
        assert_eq!(outbox.announce(&first, BASE, &hubs, at(2)).unwrap(), 0);
        assert_eq!(outbox.due(at(2), 100).unwrap().len(), 4);
        assert!(outbox.due(at(0), 100).unwrap().is_empty(), "not due yet");
    }

    #[test]
    fn a_change_during_a_send_keeps_the_row() {
        let (_dir, mut outbox) = outbox();
        let topic = format!("{BASE}/feed.atom");
        outbox
            .subscribe(&topic, "http://a/cb", None, at(100), at(0))
            .unwrap();
        outbox
            .announce(&versions(&[("/feed.atom", "\"1\"")]), BASE, &[], at(1))
            .unwrap();
        let job = outbox.due(at(1), 10).unwrap().remove(0);
        // A newer version while the first is on its way.
        outbox
            .announce(&versions(&[("/feed.atom", "\"2\"")]), BASE, &[], at(2))
            .unwrap();
        assert!(outbox.sent(&job, at(3)).unwrap(), "the row stays");
        let again = outbox.due(at(3), 10).unwrap();
        assert_eq!(again.len(), 1, "the newer version is still to send");
        assert!(!outbox.sent(&again[0], at(4)).unwrap());
        assert!(outbox.due(at(10), 10).unwrap().is_empty());
    }

    #[test]
    fn failures_wait_and_expired_leases_end() {
        let (_dir, mut outbox) = outbox();
        let topic = format!("{BASE}/feed.atom");
        outbox
            .subscribe(&topic, "http://a/cb", None, at(100), at(0))
            .unwrap();
        outbox
            .announce(&versions(&[("/feed.atom", "\"1\"")]), BASE, &[], at(1))
            .unwrap();
        let job = outbox.due(at(1), 10).unwrap().remove(0);
        assert_eq!(job.subscription.as_ref().unwrap().lease_ends, at(100));
        outbox.retry(&job, "500", at(5)).unwrap();
        assert!(outbox.due(at(4), 10).unwrap().is_empty());
        assert_eq!(outbox.next_due(at(4)).unwrap(), Some(at(5)));
        assert_eq!(outbox.due(at(5), 10).unwrap()[0].attempts, 1);
        assert_eq!(outbox.expire(at(100)).unwrap(), 1);
        assert!(
            outbox
                .subscription(&topic, "http://a/cb")
                .unwrap()
                .is_none()
        );
        assert!(outbox.due(at(200), 10).unwrap().is_empty());
        assert_eq!(outbox.counts().unwrap(), (0, 0));
    }

    #[test]
    fn secrets_and_renewals_are_kept() {
        let (_dir, mut outbox) = outbox();
        let secret = Secret::new("s3cret".into());
        outbox
            .subscribe("t", "c", Some(&secret), at(10), at(0))
            .unwrap();
        outbox
            .subscribe("t", "c", Some(&secret), at(20), at(5))
            .unwrap();
        let found = outbox.subscription("t", "c").unwrap().unwrap();
        assert_eq!(found.lease_ends, at(20));
        assert_eq!(found.secret.as_ref().map(Secret::expose), Some("s3cret"));
        assert!(outbox.unsubscribe("t", "c").unwrap());
        assert!(outbox.subscription("t", "c").unwrap().is_none());
    }
}
