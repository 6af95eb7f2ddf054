//! The fediverse's share of the database (migration 11), read and written through the
//! push outbox's connection: the followers and their inboxes, the version of each entry
//! last announced to them, and the signature form each host took. Announcing an entry
//! queues one outbox row per inbox (shared inboxes collapse many followers into one), in
//! the transaction that records the version, as WebSub's feed versions are.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::outbox::{Outbox, OutboxError};

/// What an outbox row of kind `activity` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    /// The `Accept` of a follower's `Follow`; the row's object is the follower.
    Accept,
    Create,
    Update,
    Delete,
}

impl ActivityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }

    /// A row's topic: the activity and the object it carries.
    pub fn topic(self, object: &str) -> String {
        format!("{} {object}", self.as_str())
    }

    /// The activity and object a row's topic names.
    pub fn of_topic(topic: &str) -> Option<(Self, &str)> {
        let (kind, object) = topic.split_once(' ')?;
        let kind = match kind {
            "accept" => Self::Accept,
            "create" => Self::Create,
            "update" => Self::Update,
            "delete" => Self::Delete,
            _ => return None,
        };
        Some((kind, object))
    }
}

/// How a host took our signatures: RFC 9421 first, draft-cavage after a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureForm {
    Rfc9421,
    Cavage,
}

impl SignatureForm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rfc9421 => "rfc9421",
            Self::Cavage => "cavage",
        }
    }

    fn of(code: &str) -> Self {
        if code == "cavage" {
            Self::Cavage
        } else {
            Self::Rfc9421
        }
    }
}

/// One entry as announced: its object id and when it last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    pub object: String,
    pub updated: DateTime<Utc>,
}

/// The meta row that says the entries stored before the fediverse was on were recorded
/// without being announced: followers get what is new, never the back catalogue.
const PRIMED: &str = "activitypub_primed";

impl Outbox {
    /// Records a follower (again: its inbox may have moved) and, in the same
    /// transaction, queues the `Accept` of its `Follow` (the activity as received).
    pub fn follow(
        &mut self,
        actor: &str,
        inbox: &str,
        host: &str,
        follow: &str,
        now: DateTime<Utc>,
    ) -> Result<(), OutboxError> {
        let now = now.timestamp_millis();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.prepare_cached(
            "INSERT INTO ap_followers (actor, inbox, host, follow, since)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (actor) DO UPDATE SET inbox = excluded.inbox, host = excluded.host,
                 follow = excluded.follow",
        )?
        .execute(params![actor, inbox, host, follow, now])?;
        tx.prepare_cached(
            "INSERT INTO websub_outbox (kind, target, topic, due, first, attempts, changes)
             VALUES ('activity', ?1, ?2, ?3, ?3, 0, 0)
             ON CONFLICT (kind, target, topic) DO UPDATE SET changes = changes + 1",
        )?
        .execute(params![inbox, ActivityKind::Accept.topic(actor), now])?;
        tx.commit()?;
        Ok(())
    }

    /// The `Follow` of a follower, as received, while it follows.
    pub fn follow_of(&self, actor: &str) -> Result<Option<String>, OutboxError> {
        Ok(self
            .conn
            .prepare_cached("SELECT follow FROM ap_followers WHERE actor = ?1")?
            .query_row([actor], |row| row.get(0))
            .optional()?)
    }

    /// Removes a follower; returns whether it was one.
    pub fn unfollow(&self, actor: &str) -> Result<bool, OutboxError> {
        let removed = self
            .conn
            .prepare_cached("DELETE FROM ap_followers WHERE actor = ?1")?
            .execute([actor])?;
        Ok(removed > 0)
    }

    /// Removes every follower that an inbox serves (it answered 410 Gone), and the
    /// rows waiting for it; returns how many followers went.
    pub fn drop_inbox(&mut self, inbox: &str) -> Result<usize, OutboxError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let removed = tx.execute("DELETE FROM ap_followers WHERE inbox = ?1", [inbox])?;
        tx.execute(
            "DELETE FROM websub_outbox WHERE kind = 'activity' AND target = ?1",
            [inbox],
        )?;
        tx.commit()?;
        Ok(removed)
    }

    /// Whether any follower is served by `inbox`.
    pub fn inbox_has_followers(&self, inbox: &str) -> Result<bool, OutboxError> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM ap_followers WHERE inbox = ?1 LIMIT 1")?
            .query_row([inbox], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Activities waiting to be delivered (due now or later).
    pub fn pending_activities(&self) -> Result<u64, OutboxError> {
        let count: i64 = self.conn.query_row(
            "SELECT count(*) FROM websub_outbox WHERE kind = 'activity'",
            [],
            |row| row.get(0),
        )?;
        Ok(count.unsigned_abs())
    }

    /// Followers in all, and by the host of their inbox, the most first.
    pub fn followers_by_host(&self) -> Result<(u64, Vec<(String, u64)>), OutboxError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT host, count(*) FROM ap_followers GROUP BY host ORDER BY 2 DESC, 1",
        )?;
        let hosts = statement
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?.unsigned_abs(),
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok((hosts.iter().map(|(_, n)| n).sum(), hosts))
    }

    /// The form a host's inboxes last took, if we have sent it anything.
    pub fn signature_form(&self, host: &str) -> Result<Option<SignatureForm>, OutboxError> {
        Ok(self
            .conn
            .prepare_cached("SELECT form FROM ap_hosts WHERE host = ?1")?
            .query_row([host], |row| row.get::<_, String>(0))
            .optional()?
            .map(|code| SignatureForm::of(&code)))
    }

    pub fn set_signature_form(&self, host: &str, form: SignatureForm) -> Result<(), OutboxError> {
        self.conn
            .prepare_cached(
                "INSERT INTO ap_hosts (host, form) VALUES (?1, ?2)
                 ON CONFLICT (host) DO UPDATE SET form = excluded.form",
            )?
            .execute(params![host, form.as_str()])?;
        Ok(())
    }

    /// Every host's form, for the status.
    pub fn signature_forms(&self) -> Result<Vec<(String, SignatureForm)>, OutboxError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT host, form FROM ap_hosts ORDER BY host")?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                SignatureForm::of(&row.get::<_, String>(1)?),
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Compares the entries with the versions last announced and queues, for every
    /// inbox with followers, a Create for each new one, an Update for each changed one
    /// and a Delete for each of `deleted` announced before. The first call ever records
    /// what is there without queuing anything. Returns the rows queued.
    pub fn announce_entries(
        &mut self,
        live: &[Announced],
        deleted: &[String],
        now: DateTime<Utc>,
    ) -> Result<usize, OutboxError> {
        let now = now.timestamp_millis();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let primed = tx
            .query_row("SELECT 1 FROM meta WHERE key = ?1", [PRIMED], |_| Ok(()))
            .optional()?
            .is_some();
        let mut queued = 0;
        {
            let mut known =
                tx.prepare_cached("SELECT updated, deleted FROM ap_versions WHERE object = ?1")?;
            let mut record = tx.prepare_cached(
                "INSERT INTO ap_versions (object, updated, deleted) VALUES (?1, ?2, ?3)
                 ON CONFLICT (object) DO UPDATE SET updated = excluded.updated,
                     deleted = excluded.deleted",
            )?;
            let mut queue = tx.prepare_cached(
                "INSERT INTO websub_outbox (kind, target, topic, due, first, attempts, changes)
                 SELECT DISTINCT 'activity', inbox, ?1, ?2, ?2, 0, 0 FROM ap_followers
                 WHERE true
                 ON CONFLICT (kind, target, topic) DO UPDATE SET changes = changes + 1",
            )?;
            for entry in live {
                let updated = entry.updated.timestamp_millis();
                let seen: Option<(i64, i64)> = known
                    .query_row([&entry.object], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()?;
                let kind = match seen {
                    Some((was, 0)) if was == updated => continue,
                    Some((_, 0)) => ActivityKind::Update,
                    // New, or back after a deletion: a new object to the followers.
                    _ => ActivityKind::Create,
                };
                record.execute(params![entry.object, updated, 0])?;
                if primed {
                    queued += queue.execute(params![kind.topic(&entry.object), now])?;
                }
            }
            for object in deleted {
                let seen: Option<(i64, i64)> = known
                    .query_row([object], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()?;
                if let Some((updated, 0)) = seen {
                    record.execute(params![object, updated, 1])?;
                    queued += queue.execute(params![ActivityKind::Delete.topic(object), now])?;
                }
            }
        }
        if !primed {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                params![PRIMED, now.to_string()],
            )?;
        }
        tx.commit()?;
        Ok(queued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::outbox::tests::{at, outbox};

    fn entry(object: &str, updated: i64) -> Announced {
        Announced {
            object: object.into(),
            updated: at(updated),
        }
    }

    fn topics(outbox: &Outbox) -> Vec<(String, String)> {
        let mut rows: Vec<_> = outbox
            .due(at(1_000), 100)
            .unwrap()
            .into_iter()
            .map(|job| (job.target, job.topic))
            .collect();
        rows.sort();
        rows
    }

    #[test]
    fn the_back_catalogue_is_recorded_not_announced() {
        let (_dir, mut outbox) = outbox();
        outbox
            .follow(
                "https://m.example/users/a",
                "https://m.example/inbox",
                "m.example",
                "{}",
                at(0),
            )
            .unwrap();
        // The Accept, not an entry.
        let accept = outbox.due(at(0), 10).unwrap().remove(0);
        outbox.drop_job(&accept).unwrap();
        assert_eq!(
            outbox
                .announce_entries(&[entry("o1", 1)], &[], at(1))
                .unwrap(),
            0
        );
        assert!(topics(&outbox).is_empty());
        // Now primed: a new entry goes out, the old one does not again.
        let live = [entry("o1", 1), entry("o2", 2)];
        assert_eq!(outbox.announce_entries(&live, &[], at(2)).unwrap(), 1);
        assert_eq!(
            topics(&outbox),
            [("https://m.example/inbox".into(), "create o2".into())]
        );
    }

    #[test]
    fn one_row_per_shared_inbox_and_each_change_once() {
        let (_dir, mut outbox) = outbox();
        outbox.announce_entries(&[], &[], at(0)).unwrap();
        for (actor, inbox) in [
            ("a", "https://m/inbox"),
            ("b", "https://m/inbox"),
            ("c", "https://p/inbox"),
        ] {
            outbox.follow(actor, inbox, "h", "{}", at(0)).unwrap();
            let accept = outbox.due(at(0), 10).unwrap().remove(0);
            outbox.drop_job(&accept).unwrap();
        }
        assert_eq!(
            outbox
                .announce_entries(&[entry("o", 1)], &[], at(1))
                .unwrap(),
            2
        );
        assert_eq!(
            outbox
                .announce_entries(&[entry("o", 1)], &[], at(2))
                .unwrap(),
            0,
            "unchanged"
        );
        assert_eq!(
            outbox
                .announce_entries(&[entry("o", 5)], &[], at(3))
                .unwrap(),
            2,
            "edited"
        );
        assert_eq!(
            outbox.announce_entries(&[], &["o".into()], at(4)).unwrap(),
            2,
            "deleted"
        );
        assert_eq!(
            outbox.announce_entries(&[], &["o".into()], at(5)).unwrap(),
            0,
            "once"
        );
        let rows = topics(&outbox);
        assert_eq!(rows.len(), 6);
        for kind in ["create o", "update o", "delete o"] {
            assert_eq!(rows.iter().filter(|(_, t)| t == kind).count(), 2, "{kind}");
        }
        // An inbox that is gone takes its followers and its rows with it.
        assert_eq!(outbox.drop_inbox("https://m/inbox").unwrap(), 2);
        assert_eq!(topics(&outbox).len(), 3);
        assert_eq!(outbox.followers_by_host().unwrap().0, 1);
    }

    #[test]
    fn topics_and_forms_read_back() {
        assert_eq!(
            ActivityKind::of_topic("update https://x/entries/a/"),
            Some((ActivityKind::Update, "https://x/entries/a/"))
        );
        assert_eq!(ActivityKind::of_topic("nonsense"), None);
        let (_dir, outbox) = outbox();
        assert_eq!(outbox.signature_form("m").unwrap(), None);
        outbox
            .set_signature_form("m", SignatureForm::Cavage)
            .unwrap();
        assert_eq!(
            outbox.signature_form("m").unwrap(),
            Some(SignatureForm::Cavage)
        );
        assert!(outbox.unfollow("nobody").is_ok_and(|was| !was));
    }
}
