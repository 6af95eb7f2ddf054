//! The documents the fediverse fetches, answered from the current site and the store:
//! WebFinger, NodeInfo, host-meta, the actor, the collections, and each entry as an
//! object (a deleted one as a `Tombstone`, with 410). They change with every follow or
//! entry, are small, and are rendered at each request (`render::activitypub`).

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Fediverse, lock};
use crate::config::{ActivityPubConfig, ActorImage};
use crate::model::EntryKey;
use crate::normalize::media_url;
use crate::render::Site;
use crate::render::activitypub as ap;

/// One answer of the fediverse's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApDocument {
    pub status: u16,
    pub media_type: &'static str,
    pub body: Bytes,
    /// The same URL answers browsers with HTML: caches must keep both apart.
    pub vary_accept: bool,
}

impl ApDocument {
    fn json(status: u16, media_type: &'static str, value: &Value, vary_accept: bool) -> Self {
        Self {
            status,
            media_type,
            body: Bytes::from(value.to_string()),
            vary_accept,
        }
    }
}

/// Whether an `Accept` header asks for ActivityPub: `application/activity+json`, or
/// `application/ld+json` with the ActivityStreams profile (quoted or not).
pub fn wants_activity(accept: &str) -> bool {
    accept.split(',').any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        match media.as_str() {
            "application/activity+json" => true,
            "application/ld+json" => parts.any(|parameter| {
                parameter.split_once('=').is_some_and(|(name, value)| {
                    name.trim().eq_ignore_ascii_case("profile")
                        && value
                            .trim()
                            .trim_matches('"')
                            .split(' ')
                            .any(|profile| profile == "https://www.w3.org/ns/activitystreams")
                })
            }),
            _ => false,
        }
    })
}

/// The actor's settings as the renderer takes them.
pub(super) fn profile(
    config: &ActivityPubConfig,
    site: &Site,
    public_key_pem: &str,
) -> ap::Fediverse {
    let image = |image: &Option<ActorImage>| {
        image.as_ref().map(|image| {
            let url = match image {
                ActorImage::Seed(path) => media_url(&site.base, path),
                ActorImage::Url(url) => url.to_string(),
            };
            ap::ActorImage {
                media_type: ap::image_media_type(&url).map(str::to_owned),
                url,
            }
        })
    };
    ap::Fediverse {
        username: config.username.clone(),
        actor_type: config.actor_type,
        object_type: config.object_type,
        name: config.name.clone().unwrap_or_else(|| site.title.clone()),
        summary: config
            .summary
            .clone()
            .unwrap_or_else(|| site.description.clone()),
        icon: image(&config.icon),
        image: image(&config.image),
        attribution: config.attribution.clone(),
        content_warning: config.content_warning,
        public_key_pem: public_key_pem.to_owned(),
        published: site.created,
    }
}

/// The key of the entry whose page is at `path` (`/entries/{key}/`).
pub(super) fn entry_key_of_path(path: &str) -> Option<EntryKey> {
    let key = path.strip_prefix("/entries/")?.strip_suffix('/')?;
    let key = percent_encoding::percent_decode_str(key)
        .decode_utf8()
        .ok()?;
    (!key.is_empty() && !key.contains('/')).then(|| EntryKey::new(key.into_owned()))
}

/// The value of `name` in a query string.
fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

impl Fediverse {
    /// The renderer's view of the actor, for the current site.
    pub(super) fn profile(&self) -> (Arc<Site>, ap::Fediverse) {
        let site = self.site();
        let profile = profile(&self.config, &site, self.key.public_key_pem());
        (site, profile)
    }

    /// The document at `path` for a GET with this query and `Accept`, when the fediverse
    /// answers it: `None` leaves the path to the rest of the server (an entry's page,
    /// the index a browser is shown at the actor's address).
    pub fn document(
        &self,
        path: &str,
        query: Option<&str>,
        accept: Option<&str>,
    ) -> Option<ApDocument> {
        let wants = accept.is_some_and(wants_activity);
        // Every request of the site comes through here: the feeds' polls leave at once.
        let ours = super::is_fediverse_path(path) || (wants && path.starts_with("/entries/"));
        if !ours {
            return None;
        }
        let (site, profile) = self.profile();
        let site = site.as_ref();
        let json = |value: &Value| ApDocument::json(200, ap::ACTIVITY_TYPE, value, false);
        match path {
            ap::WEBFINGER_PATH => Some(self.webfinger(site, &profile, query)),
            ap::NODEINFO_LINKS_PATH => Some(ApDocument::json(
                200,
                "application/json; charset=utf-8",
                &ap::nodeinfo_links(site),
                false,
            )),
            ap::NODEINFO_PATH => {
                let posts = self.live_total();
                Some(ApDocument::json(
                    200,
                    ap::NODEINFO_TYPE,
                    &ap::nodeinfo(site, env!("CARGO_PKG_VERSION"), posts),
                    false,
                ))
            }
            ap::HOST_META_PATH => Some(ApDocument {
                status: 200,
                media_type: ap::XRD_TYPE,
                body: Bytes::from(ap::host_meta(site)),
                vary_accept: false,
            }),
            ap::OUTBOX_PATH => Some(self.outbox(site, &profile, query)),
            ap::FOLLOWERS_PATH => Some(json(&ap::followers_collection(
                site,
                lock(&self.status).followers,
            ))),
            ap::FOLLOWING_PATH => Some(json(&ap::following_collection(site))),
            _ if path == profile.actor_path() => wants.then(|| {
                ApDocument::json(200, ap::ACTIVITY_TYPE, &ap::actor(site, &profile), true)
            }),
            _ => {
                let key = entry_key_of_path(path)?;
                wants.then(|| self.object(site, &profile, &key)).flatten()
            }
        }
    }

    fn webfinger(&self, site: &Site, profile: &ap::Fediverse, query: Option<&str>) -> ApDocument {
        let not_found = |message: &str| ApDocument {
            status: 404,
            media_type: "text/plain; charset=utf-8",
            body: Bytes::from(format!("{message}\n")),
            vary_accept: false,
        };
        match query_value(query, "resource") {
            None => ApDocument {
                status: 400,
                media_type: "text/plain; charset=utf-8",
                body: Bytes::from_static(b"the resource parameter is missing\n"),
                vary_accept: false,
            },
            Some(resource) if ap::is_own_resource(site, profile, &resource) => {
                ApDocument::json(200, ap::JRD_TYPE, &ap::webfinger(site, profile), false)
            }
            Some(_) => not_found("no such account here"),
        }
    }

    fn outbox(&self, site: &Site, profile: &ap::Fediverse, query: Option<&str>) -> ApDocument {
        let total = self.live_total();
        let page = query_value(query, "page").and_then(|page| page.parse::<u64>().ok());
        let value = match page {
            None => ap::outbox_collection(site, total),
            Some(number) => {
                let number = number.clamp(1, ap::outbox_pages(total).max(1));
                let offset = (number - 1) * ap::OUTBOX_PAGE_SIZE;
                let entries = lock(&self.store)
                    .live_entries_page(None, offset, ap::OUTBOX_PAGE_SIZE)
                    .unwrap_or_else(|error| {
                        tracing::error!(error = %error, "ActivityPub: cannot read the outbox page");
                        Vec::new()
                    });
                ap::outbox_page(site, profile, number, total, &entries)
            }
        };
        ApDocument::json(200, ap::ACTIVITY_TYPE, &value, false)
    }

    /// An entry's object, or its Tombstone (410) once deleted; `None` for a key that
    /// never was.
    fn object(&self, site: &Site, profile: &ap::Fediverse, key: &EntryKey) -> Option<ApDocument> {
        let store = lock(&self.store);
        if let Ok(mut entries) = store.entries(std::slice::from_ref(key))
            && let Some(entry) = entries.pop()
        {
            return Some(ApDocument::json(
                200,
                ap::ACTIVITY_TYPE,
                &ap::object(site, profile, &entry),
                true,
            ));
        }
        let tombstone = store
            .tombstones(DateTime::<Utc>::UNIX_EPOCH)
            .ok()?
            .into_iter()
            .find(|tombstone| &tombstone.key == key)?;
        Some(ApDocument::json(
            410,
            ap::ACTIVITY_TYPE,
            &ap::tombstone(site, profile, &tombstone),
            true,
        ))
    }

    fn live_total(&self) -> u64 {
        lock(&self.store)
            .counts()
            .map(|counts| counts.entries)
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_types_are_recognised_in_accept() {
        assert!(wants_activity("application/activity+json"));
        assert!(wants_activity(
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""
        ));
        assert!(wants_activity(
            "text/html;q=0.5, application/ld+json;profile=https://www.w3.org/ns/activitystreams"
        ));
        assert!(!wants_activity("application/ld+json"));
        assert!(!wants_activity("text/html,application/xhtml+xml,*/*;q=0.8"));
        assert!(!wants_activity("application/json"));
    }

    #[test]
    fn entry_paths_give_their_keys() {
        assert_eq!(
            entry_key_of_path("/entries/a-b/"),
            Some(EntryKey::new("a-b"))
        );
        assert_eq!(
            entry_key_of_path("/entries/%C3%A9t%C3%A9/"),
            Some(EntryKey::new("été"))
        );
        assert_eq!(entry_key_of_path("/entries/a"), None);
        assert_eq!(entry_key_of_path("/entries/a/b/"), None);
        assert_eq!(entry_key_of_path("/feed.atom"), None);
    }
}
