//! What makes an RSS feed a podcast feed (`[podcast]` for the main feed,
//! `[podcast.sections.{slug}]` for a section's): Apple's `itunes:` tags
//! (<https://podcasters.apple.com/support/823-podcast-requirements>) and the Podcasting
//! 2.0 namespace (<https://podcastindex.org/namespace/1.0>), on the channel and on each
//! item. Its items are the episodes: the entries with an enclosure whose length is known,
//! each enclosure URL once (Apple's rules); the others stay in the Atom and JSON feeds.
//! Only the subscription documents are podcasts: archive pages are frozen as they were.

use std::collections::BTreeMap;

use rss::extension::itunes::{
    ITunesCategory, ITunesChannelExtension, ITunesItemExtension, ITunesOwner,
};
use rss::extension::{Extension, ExtensionMap};
use uuid::Uuid;

use super::{Archive, FeedDoc, Format, Site, enclosure_of, image_of};
use crate::config::{Podcast, PodcastCategory};
use crate::model::{Companion, Entry};

/// The Podcasting 2.0 namespace, prefix `podcast`.
pub const PODCAST_NS: &str = "https://podcastindex.org/namespace/1.0";

/// The namespace of `podcast:guid`'s UUIDv5, which the Podcasting 2.0 specification
/// fixes.
const PODCAST_GUID_NAMESPACE: Uuid = Uuid::from_u128(0xead4c236_bf58_58c6_a2c6_a6b28d128cb6);

impl Site {
    /// The podcast a feed document is, if any: the main feed's subscription document
    /// with `[podcast]`, a section's feed with its `[podcast.sections.{slug}]`.
    pub fn podcast_of(&self, feed: &FeedDoc<'_>) -> Option<&Podcast> {
        match (feed.archive, feed.term) {
            (Archive::Subscription { .. }, None) => self.podcasts.main.as_ref(),
            (Archive::None, Some(crate::model::TermKind::Section)) => {
                let slug = feed.stem.strip_prefix(&super::category_stem(""))?;
                self.podcasts.sections.get(slug)
            }
            _ => None,
        }
    }
}

/// The entries a podcast feed carries, in their order: those with an enclosure of known
/// length (Apple asks every item for one, with its length in bytes), and of two with the
/// same enclosure URL the first (Apple asks for each episode's URL to be unique).
pub(super) fn episodes(entries: &[Entry]) -> Vec<&Entry> {
    let mut seen = std::collections::HashSet::new();
    entries
        .iter()
        .filter(|entry| {
            enclosure_of(entry)
                .is_some_and(|enclosure| enclosure.length > 0 && seen.insert(&enclosure.url))
        })
        .collect()
}

/// `podcast:guid`: the UUIDv5, in the namespace the specification fixes, of the feed's
/// URL without its scheme and trailing slashes (`podcastindex.org/namespace/1.0`).
pub fn podcast_guid(feed_url: &str) -> Uuid {
    let without_scheme = feed_url
        .split_once("://")
        .map_or(feed_url, |(_, rest)| rest);
    Uuid::new_v5(
        &PODCAST_GUID_NAMESPACE,
        without_scheme.trim_end_matches('/').as_bytes(),
    )
}

/// The channel's `itunes:` tags.
pub(super) fn channel_itunes(site: &Site, podcast: &Podcast) -> ITunesChannelExtension {
    let author = podcast.author.as_deref().unwrap_or(&site.author);
    ITunesChannelExtension {
        author: Some(author.to_owned()),
        categories: vec![category(&podcast.category)],
        image: Some(crate::normalize::media_url(&site.base, &podcast.image)),
        explicit: Some(podcast.explicit.to_string()),
        owner: Some(ITunesOwner {
            name: Some(
                podcast
                    .owner_name
                    .as_deref()
                    .unwrap_or(&site.author)
                    .to_owned(),
            ),
            email: Some(podcast.owner_email.clone()),
        }),
        r#type: Some(podcast.kind.as_str().to_owned()),
        ..ITunesChannelExtension::default()
    }
}

fn category(category: &PodcastCategory) -> ITunesCategory {
    ITunesCategory {
        text: category.name.to_owned(),
        subcategory: category.sub.map(|sub| {
            Box::new(ITunesCategory {
                text: sub.to_owned(),
                subcategory: None,
            })
        }),
    }
}

/// The channel's `podcast:` tags: its guid (the configured one, else the feed URL's),
/// medium and lock, under the `podcast` key of an extension map.
pub(super) fn channel_podcast(
    site: &Site,
    feed: &FeedDoc<'_>,
    podcast: &Podcast,
) -> BTreeMap<String, Vec<Extension>> {
    let feed_url = site.url(&feed.path(Format::Rss));
    let element = |name: &str, value: String, attrs: &[(&str, &str)]| Extension {
        name: format!("podcast:{name}"),
        value: Some(value),
        attrs: attrs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..Extension::default()
    };
    let locked = if podcast.locked { "yes" } else { "no" };
    BTreeMap::from([
        (
            "guid".to_owned(),
            vec![element(
                "guid",
                podcast
                    .guid
                    .unwrap_or_else(|| podcast_guid(&feed_url))
                    .to_string(),
                &[],
            )],
        ),
        (
            "medium".to_owned(),
            vec![element("medium", podcast.medium.as_str().to_owned(), &[])],
        ),
        (
            "locked".to_owned(),
            vec![element(
                "locked",
                locked.to_owned(),
                &[("owner", &podcast.owner_email)],
            )],
        ),
    ])
}

/// What makes an item an episode: its `itunes:` tags (returned), its `podcast:` tags
/// (added to its extensions), and no `media:content`: podcast apps (gPodder's
/// podcastparser) take every `media:content` for a file of the episode, and its image
/// is its `itunes:image` and `media:thumbnail`.
pub(super) fn episode_tags(entry: &Entry, extensions: &mut ExtensionMap) -> ITunesItemExtension {
    if let Some(media) = extensions.get_mut("media") {
        media.remove("content");
    }
    let tags = item_podcast(entry);
    if !tags.is_empty() {
        extensions.insert("podcast".to_owned(), tags);
    }
    item_itunes(entry)
}

/// An episode's `itunes:` tags: its duration (whole seconds), number, season, type and
/// explicit flag when known, and its image when it is a JPEG or PNG, the formats Apple
/// takes.
fn item_itunes(entry: &Entry) -> ITunesItemExtension {
    let episode = entry.draft.meta.episode.clone().unwrap_or_default();
    let image = image_of(entry)
        .map(|image| image.url.as_str())
        .filter(|url| is_jpeg_or_png(url));
    ITunesItemExtension {
        duration: enclosure_of(entry)
            .and_then(|enclosure| enclosure.duration_secs)
            .map(|secs| secs.to_string()),
        episode: episode.number.map(|n| n.to_string()),
        season: episode.season.map(|n| n.to_string()),
        episode_type: episode.episode_type.map(|t| t.as_str().to_owned()),
        explicit: episode.explicit.map(|e| e.to_string()),
        image: image.map(str::to_owned),
        ..ITunesItemExtension::default()
    }
}

/// Whether an image URL's path ends in a JPEG's or PNG's extension.
fn is_jpeg_or_png(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit_once('.').is_some_and(|(_, extension)| {
        ["jpg", "jpeg", "png"]
            .iter()
            .any(|known| extension.eq_ignore_ascii_case(known))
    })
}

/// An episode's `podcast:transcript` and `podcast:chapters`, when it has them, under the
/// `podcast` key of an extension map (empty when it has neither).
fn item_podcast(entry: &Entry) -> BTreeMap<String, Vec<Extension>> {
    let Some(episode) = &entry.draft.meta.episode else {
        return BTreeMap::new();
    };
    let element = |name: &str, companion: &Companion| Extension {
        name: format!("podcast:{name}"),
        attrs: BTreeMap::from([
            ("url".to_owned(), companion.url.clone()),
            ("type".to_owned(), companion.media_type.clone()),
        ]),
        ..Extension::default()
    };
    let mut tags = BTreeMap::new();
    if let Some(transcript) = &episode.transcript {
        tags.insert(
            "transcript".to_owned(),
            vec![element("transcript", transcript)],
        );
    }
    if let Some(chapters) = &episode.chapters {
        tags.insert("chapters".to_owned(), vec![element("chapters", chapters)]);
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of the Podcasting 2.0 specification's `<podcast:guid>`
    /// (docs/tags/guid.md of the namespace), whatever the scheme and trailing slashes.
    #[test]
    fn the_guid_of_the_specification_s_examples() {
        for (urls, expected) in [
            (
                [
                    "https://podnews.net/rss",
                    "http://podnews.net/rss/",
                    "podnews.net/rss//",
                ],
                "9b024349-ccf0-5f69-a609-6b82873eab3c",
            ),
            (
                [
                    "http://mp3s.nashownotes.com/pc20rss.xml",
                    "https://mp3s.nashownotes.com/pc20rss.xml/",
                    "mp3s.nashownotes.com/pc20rss.xml",
                ],
                "917393e3-1b1e-5cef-ace4-edaa54e1f810",
            ),
        ] {
            for url in urls {
                assert_eq!(podcast_guid(url).to_string(), expected, "{url}");
            }
        }
        assert_ne!(
            podcast_guid("https://x.org/feed.rss"),
            podcast_guid("https://x.org/categories/tech.rss")
        );
    }

    #[test]
    fn item_images_are_jpeg_or_png() {
        for url in [
            "https://x.org/a.jpg",
            "https://x.org/a.PNG?w=1",
            "https://x.org/a.jpeg#x",
        ] {
            assert!(is_jpeg_or_png(url), "{url}");
        }
        for url in [
            "https://x.org/a.webp",
            "https://x.org/jpg",
            "https://x.org/a.svg?.png",
        ] {
            assert!(!is_jpeg_or_png(url), "{url}");
        }
    }
}
