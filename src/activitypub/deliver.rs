//! Deliveries: what the push service calls for an outbox row of kind `activity`, and how
//! new, edited and deleted entries become such rows.
//!
//! A row names an activity and its object, not a body: each attempt renders the object
//! as it is then, so an inbox that was down gets the newest version once. A `Create` or
//! `Update` whose entry has gone since sends nothing (its `Delete` is queued), nor does
//! a row for an inbox whose followers all left.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use chrono::{Duration as Days, Utc};
use serde_json::Value;
use url::Url;

use super::Fediverse;
use super::documents::entry_key_of_path;
use crate::model::Tombstone;
use crate::render::activitypub as ap;
use crate::store::{ActivityKind, Announced, Outbox, PushJob, SignatureForm};
use crate::websub::BoxFuture;
use crate::websub::callback::host_of;
use crate::websub::sender::Failure;

impl Fediverse {
    /// Compares the newest entries and the recent deletions with what the followers were
    /// sent, and queues what they were not (see `Outbox::announce_entries`). Blocking:
    /// the push service calls it on its database thread.
    pub(super) fn queue_changes(&self, outbox: &mut Outbox) -> anyhow::Result<usize> {
        let site = self.site();
        let (live, deleted) = {
            let store = super::lock(&self.store);
            let since = Utc::now() - Days::days(i64::from(self.tombstone_days));
            (
                store.latest_entries(site.feed_size)?,
                store.tombstones(since)?,
            )
        };
        let live: Vec<Announced> = live
            .iter()
            .map(|entry| Announced {
                object: site.entry_url(&entry.draft.key),
                updated: entry.updated,
            })
            .collect();
        let deleted: Vec<String> = deleted
            .iter()
            .map(|tombstone| site.entry_url(&tombstone.key))
            .collect();
        let queued = outbox.announce_entries(&live, &deleted, Utc::now())?;
        self.read_status(outbox)?;
        Ok(queued)
    }

    /// Sends one row. `Ok(false)`: there was nothing to send any more.
    pub(super) async fn send_row(self: Arc<Self>, job: PushJob) -> Result<bool, Failure> {
        let Some((kind, object)) = ActivityKind::of_topic(&job.topic) else {
            return Err(Failure::Refused(format!(
                "{:?} names no activity",
                job.topic
            )));
        };
        let inbox = Url::parse(&job.target).map_err(|e| Failure::Refused(e.to_string()))?;
        let Some(body) = self.activity(kind, object, &job.target).await? else {
            return Ok(false);
        };
        let host = host_of(&inbox);
        let asked = host.clone();
        let known = self
            .db(move |outbox| outbox.signature_form(&asked))
            .await
            .ok()
            .flatten();
        let form = known.unwrap_or(SignatureForm::Rfc9421);
        let posted = self.client.post(&inbox, body, &self.signer(), form).await?;
        // Remembered once the host took a form, so the next delivery knocks once.
        if (200..300).contains(&posted.status) && known != Some(posted.form) {
            let taken = posted.form;
            if let Err(error) = self
                .db(move |outbox| outbox.set_signature_form(&host, taken))
                .await
            {
                tracing::warn!(error = %format!("{error:#}"), "ActivityPub: a host's signature form was not recorded");
            }
        }
        match posted.status {
            200..=299 => {
                self.counters.sent.fetch_add(1, Ordering::Relaxed);
                Ok(true)
            }
            410 => Err(Failure::Gone),
            408 | 425 | 429 | 500..=599 | 401 | 403 => Err(Failure::Transient(format!(
                "the inbox answered {}",
                posted.status
            ))),
            status => Err(Failure::Refused(format!("the inbox answered {status}"))),
        }
    }

    /// The JSON of the row's activity as things are now; `None` when there is nothing to
    /// send.
    async fn activity(
        self: &Arc<Self>,
        kind: ActivityKind,
        object: &str,
        inbox: &str,
    ) -> Result<Option<Bytes>, Failure> {
        let (site, profile) = self.profile();
        let object = object.to_owned();
        let (inbox, this) = (inbox.to_owned(), Arc::clone(self));
        let found = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<Value>> {
            if kind == ActivityKind::Accept {
                let follow = super::lock(&this.outbox).follow_of(&object)?;
                let Some(follow) = follow.and_then(|f| serde_json::from_str::<Value>(&f).ok())
                else {
                    return Ok(None);
                };
                // The same id at every attempt: a retry is the same Accept.
                let id =
                    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, follow.to_string().as_bytes());
                return Ok(Some(ap::accept(&site, &profile, &follow, id)));
            }
            if !super::lock(&this.outbox).inbox_has_followers(&inbox)? {
                return Ok(None);
            }
            let path = object.strip_prefix(site.base.as_str()).unwrap_or(&object);
            let Some(key) = entry_key_of_path(path) else {
                return Ok(None);
            };
            if kind == ActivityKind::Delete {
                let tombstone = Tombstone {
                    id: crate::normalize::entry_id(&site.id_namespace, &key),
                    key,
                    deleted: Utc::now(),
                    category_slug: None,
                };
                return Ok(Some(ap::delete(&site, &profile, &tombstone)));
            }
            let entry = super::lock(&this.store)
                .entries(std::slice::from_ref(&key))?
                .pop();
            Ok(entry.map(|entry| match kind {
                ActivityKind::Create => ap::create(&site, &profile, &entry),
                _ => ap::update(&site, &profile, &entry),
            }))
        })
        .await
        .map_err(|e| Failure::Transient(format!("rendering the activity stopped: {e}")))?
        .map_err(|e| Failure::Transient(format!("reading the entry: {e:#}")))?;
        Ok(found.map(|value| Bytes::from(value.to_string())))
    }

    /// Counts a failed attempt, and one given up.
    pub(super) fn count_failed(&self, dropped: bool) {
        self.counters.failed.fetch_add(1, Ordering::Relaxed);
        if dropped {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl crate::websub::Activities for Fediverse {
    fn announce(&self, outbox: &mut Outbox) -> anyhow::Result<usize> {
        self.queue_changes(outbox)
    }

    fn refresh_status(&self, outbox: &Outbox) -> Result<(), crate::store::OutboxError> {
        self.read_status(outbox)
    }

    fn deliver(self: Arc<Self>, job: PushJob) -> BoxFuture<'static, Result<bool, Failure>> {
        Box::pin(self.send_row(job))
    }

    fn woken(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.inbox_queued())
    }

    fn count_failure(&self, dropped: bool) {
        self.count_failed(dropped);
    }
}
