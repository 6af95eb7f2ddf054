//! The ActivityPub and discovery documents of the site as a fediverse actor, as JSON
//! values (and host-meta as XML): the actor, each entry as a `Note` or an `Article`, a
//! deleted entry's `Tombstone`, the `Create`, `Update`, `Delete` and `Accept` activities,
//! the outbox, followers and following collections, WebFinger's JRD, NodeInfo 2.1 and
//! host-meta. Pure: settings and entries in, documents out; `http` serves them and
//! `activitypub` delivers them.
//!
//! What Mastodon expects shapes them: its JSON-LD context terms (`sensitive`,
//! `Hashtag`, `discoverable`…), no `null` anywhere (an absent field is left out), an
//! `updated` only on an entry that was edited (Mastodon shows any `updated` as an edit),
//! the content cut down to what its sanitizer keeps (`content.rs`), the title as the
//! first paragraph of a `Note`, and the tags as `Hashtag`s and as links after the text.
//!
//! The addresses (BASE is the site's base URL, USER the username): the actor `BASE/@USER`
//! (key `#main-key`), `BASE/inbox` (also the shared inbox), `BASE/outbox` (pages
//! `?page=N` from 1, newest first), `BASE/followers`, `BASE/following`; an entry's object
//! is its page (`render::entry_url`), its activities that address with `#create`,
//! `#update-{unix milliseconds of updated}` and `#delete`; an `Accept` is
//! `BASE/@USER#accept-{uuid}`.

mod collections;
mod content;
mod discovery;

pub use collections::{
    followers_collection, following_collection, outbox_collection, outbox_page, outbox_page_url,
    outbox_pages,
};
pub use content::{mastodon_html, text_paragraphs};
pub use discovery::{acct, host, host_meta, is_own_resource, nodeinfo, nodeinfo_links, webfinger};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::atom::rfc3339_z;
use super::{Site, TermKind, enclosure_of, image_of, listing_path};
use crate::config::FeedContent;
use crate::model::{Entry, Tombstone};
use crate::normalize::escape_html;

/// The media type of every ActivityPub document.
pub const ACTIVITY_TYPE: &str = "application/activity+json; charset=utf-8";
/// WebFinger's (RFC 7033 §10.2).
pub const JRD_TYPE: &str = "application/jrd+json; charset=utf-8";
/// host-meta's (RFC 6415 §3).
pub const XRD_TYPE: &str = "application/xrd+xml; charset=utf-8";
/// NodeInfo 2.1's, with the profile its schema names.
pub const NODEINFO_TYPE: &str =
    "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"; charset=utf-8";

pub const INBOX_PATH: &str = "/inbox";
pub const OUTBOX_PATH: &str = "/outbox";
pub const FOLLOWERS_PATH: &str = "/followers";
pub const FOLLOWING_PATH: &str = "/following";
pub const WEBFINGER_PATH: &str = "/.well-known/webfinger";
pub const NODEINFO_LINKS_PATH: &str = "/.well-known/nodeinfo";
pub const NODEINFO_PATH: &str = "/nodeinfo/2.1";
pub const HOST_META_PATH: &str = "/.well-known/host-meta";

/// How many `Create` activities a page of the outbox holds.
pub const OUTBOX_PAGE_SIZE: u64 = 20;

/// The audience of everything the actor posts.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

const ACTIVITYSTREAMS: &str = "https://www.w3.org/ns/activitystreams";

pub use crate::config::{ActorType, ObjectType};

/// The actor's icon or header image: an absolute URL, and its media type when known
/// (else it is guessed from the URL's extension, [`image_media_type`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorImage {
    pub url: String,
    pub media_type: Option<String>,
}

/// The actor's settings (`[activitypub]`), as the documents use them; the base URL,
/// the language and the feeds' content setting come from the [`Site`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fediverse {
    pub username: String,
    pub actor_type: ActorType,
    pub object_type: ObjectType,
    /// The display name.
    pub name: String,
    /// The profile's text: HTML (cut down to what Mastodon keeps) or plain text.
    pub summary: String,
    pub icon: Option<ActorImage>,
    pub image: Option<ActorImage>,
    /// A fediverse handle (`@alice@example.social`) for the HTML pages'
    /// `fediverse:creator`; nothing in these documents.
    pub attribution: Option<String>,
    /// Whether each object carries the entry's summary as a content warning.
    pub content_warning: bool,
    /// The public key in SPKI PEM (`BEGIN PUBLIC KEY`).
    pub public_key_pem: String,
    /// When the actor came to be (the site's creation).
    pub published: DateTime<Utc>,
}

impl Fediverse {
    /// The actor's path: `/@USER`.
    pub fn actor_path(&self) -> String {
        format!("/@{}", self.username)
    }

    /// The actor's id: `BASE/@USER`.
    pub fn actor_id(&self, site: &Site) -> String {
        site.url(&self.actor_path())
    }

    /// The id of the actor's key: `BASE/@USER#main-key`.
    pub fn key_id(&self, site: &Site) -> String {
        format!("{}#main-key", self.actor_id(site))
    }
}

/// The JSON-LD context of the actor, objects and activities: ActivityStreams, the
/// security vocabulary (`publicKey`) and the extension terms used, as Mastodon names
/// them.
fn context() -> Value {
    json!([
        ACTIVITYSTREAMS,
        "https://w3id.org/security/v1",
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "sensitive": "as:sensitive",
            "Hashtag": "as:Hashtag",
            "toot": "http://joinmastodon.org/ns#",
            "discoverable": "toot:discoverable",
            "indexable": "toot:indexable"
        }
    ])
}

/// `value` with `@context` first.
fn with_context(context: Value, value: Map<String, Value>) -> Value {
    let mut document = Map::with_capacity(value.len() + 1);
    document.insert("@context".into(), context);
    document.extend(value);
    Value::Object(document)
}

/// Sets `key` when there is a value: absent fields are left out, never `null`.
fn put(map: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), value.into());
    }
}

fn object_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The actor document.
pub fn actor(site: &Site, fedi: &Fediverse) -> Value {
    let id = fedi.actor_id(site);
    let mut actor = object_map(json!({
        "id": id,
        "type": fedi.actor_type.as_str(),
        "preferredUsername": fedi.username,
        "name": fedi.name,
        "url": site.url(&listing_path(None, 1)),
        "inbox": site.url(INBOX_PATH),
        "outbox": site.url(OUTBOX_PATH),
        "followers": site.url(FOLLOWERS_PATH),
        "following": site.url(FOLLOWING_PATH),
        "endpoints": { "sharedInbox": site.url(INBOX_PATH) },
        "published": rfc3339_z(fedi.published),
        "discoverable": true,
        "indexable": true,
        "manuallyApprovesFollowers": false,
        "publicKey": {
            "id": fedi.key_id(site),
            "owner": id,
            "publicKeyPem": fedi.public_key_pem,
        },
    }));
    let summary = if crate::normalize::looks_like_html(&fedi.summary) {
        mastodon_html(&fedi.summary)
    } else {
        text_paragraphs(&fedi.summary)
    };
    put(
        &mut actor,
        "summary",
        (!summary.is_empty()).then_some(summary),
    );
    put(&mut actor, "icon", fedi.icon.as_ref().map(image_value));
    put(&mut actor, "image", fedi.image.as_ref().map(image_value));
    with_context(context(), actor)
}

fn image_value(image: &ActorImage) -> Value {
    let media_type = image
        .media_type
        .as_deref()
        .or_else(|| image_media_type(&image.url));
    let mut value = object_map(json!({ "type": "Image", "url": image.url }));
    put(&mut value, "mediaType", media_type);
    Value::Object(value)
}

/// An image's media type from its URL's extension, for the formats Mastodon takes.
pub fn image_media_type(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let (_, extension) = path.rsplit_once('.')?;
    Some(match extension.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "heic" => "image/heic",
        "svg" => "image/svg+xml",
        _ => return None,
    })
}

/// An entry's object, as its address answers it: a `Note` or an `Article`.
pub fn object(site: &Site, fedi: &Fediverse, entry: &Entry) -> Value {
    with_context(context(), object_body(site, fedi, entry))
}

/// The object without its context, as activities embed it.
fn object_body(site: &Site, fedi: &Fediverse, entry: &Entry) -> Map<String, Value> {
    let draft = &entry.draft;
    let url = site.entry_url(&draft.key);
    let hashtags = hashtags(site, entry);
    let content = object_content(site, fedi, entry, &hashtags);
    let warning = fedi.content_warning && !draft.summary.trim().is_empty();
    let mut object = object_map(json!({
        "id": url,
        "type": fedi.object_type.as_str(),
        "url": url,
        "attributedTo": fedi.actor_id(site),
        "published": rfc3339_z(entry.published),
        "to": [PUBLIC],
        "cc": [site.url(FOLLOWERS_PATH)],
        "sensitive": warning,
    }));
    // Mastodon takes any `updated` for an edit, and shows the post as edited.
    let edited = entry.updated > entry.published;
    put(
        &mut object,
        "updated",
        edited.then(|| rfc3339_z(entry.updated)),
    );
    let article = fedi.object_type == ObjectType::Article;
    put(&mut object, "name", article.then(|| draft.title.clone()));
    put(
        &mut object,
        "summary",
        warning.then(|| draft.summary.clone()),
    );
    let language = draft.meta.lang.as_deref().unwrap_or(&site.language).trim();
    put(
        &mut object,
        "contentMap",
        (!language.is_empty()).then(|| json!({ language: content })),
    );
    object.insert("content".into(), content.into());
    let attachments = attachments(entry);
    put(
        &mut object,
        "attachment",
        (!attachments.is_empty()).then_some(attachments),
    );
    let tags: Vec<Value> = hashtags.iter().map(Hashtag::value).collect();
    put(&mut object, "tag", (!tags.is_empty()).then_some(tags));
    object
}

/// The object's `content`: for a `Note` the title first, as a link to the entry's page;
/// then the entry's HTML as Mastodon keeps it (its summary alone when the feeds carry
/// summaries); then the hashtags, as links.
fn object_content(site: &Site, fedi: &Fediverse, entry: &Entry, hashtags: &[Hashtag]) -> String {
    let draft = &entry.draft;
    let mut content = String::new();
    let title = escape_html(&draft.title);
    if fedi.object_type == ObjectType::Note && !draft.title.trim().is_empty() {
        let url = escape_html(&site.entry_url(&draft.key));
        content.push_str(&format!("<p><a href=\"{url}\">{title}</a></p>"));
    }
    let body = match site.content {
        FeedContent::Full => mastodon_html(&draft.content_html),
        FeedContent::Summary => text_paragraphs(&draft.summary),
    };
    // An article with no text has its title as its content: said once is enough.
    if body != format!("<p>{title}</p>") || fedi.object_type == ObjectType::Article {
        content.push_str(&body);
    }
    if !hashtags.is_empty() {
        let links: Vec<String> = hashtags.iter().map(Hashtag::link).collect();
        content.push_str(&format!("<p>{}</p>", links.join(" ")));
    }
    content
}

/// An entry's tag as a Mastodon hashtag: its name (`#` and the tag's words run together)
/// and the tag's HTML page.
struct Hashtag {
    name: String,
    href: String,
}

impl Hashtag {
    fn value(&self) -> Value {
        json!({ "type": "Hashtag", "href": self.href, "name": format!("#{}", self.name) })
    }

    /// The link after the text, written as Mastodon writes its own: its classes tell
    /// Mastodon it is a hashtag, not a link to preview.
    fn link(&self) -> String {
        format!(
            "<a href=\"{}\" class=\"mention hashtag\" rel=\"tag\">#<span>{}</span></a>",
            escape_html(&self.href),
            escape_html(&self.name)
        )
    }
}

/// The entry's tags as hashtags, each name once; a tag with no letter is left out.
fn hashtags(site: &Site, entry: &Entry) -> Vec<Hashtag> {
    let mut tags: Vec<Hashtag> = Vec::new();
    for tag in &entry.draft.meta.tags {
        let Some(name) = hashtag_name(&tag.term) else {
            continue;
        };
        if tags
            .iter()
            .any(|t| t.name.to_lowercase() == name.to_lowercase())
        {
            continue;
        }
        let href = site.url(&listing_path(Some((TermKind::Tag, &tag.slug)), 1));
        tags.push(Hashtag { name, href });
    }
    tags
}

/// A tag's name as a hashtag: its words (letters, digits, `_`) run together, each but
/// a one-word tag's capitalized ("machine learning" is `MachineLearning`), since Mastodon
/// takes no space or punctuation in a hashtag. `None` when it has no letter (Mastodon
/// takes no hashtag of digits alone).
fn hashtag_name(term: &str) -> Option<String> {
    let words: Vec<&str> = term
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|word| !word.is_empty())
        .collect();
    let name: String = if words.len() == 1 {
        words[0].to_owned()
    } else {
        words
            .iter()
            .flat_map(|word| {
                let mut chars = word.chars();
                let first = chars.next().into_iter().flat_map(char::to_uppercase);
                first.chain(chars)
            })
            .collect()
    };
    name.chars()
        .any(|c| c.is_alphabetic() || c == '_')
        .then_some(name)
}

/// The entry's image and enclosure as attachments: an `Image` with its alternative
/// text as `name`, an `Audio`, `Video` or `Document` by the enclosure's media type.
fn attachments(entry: &Entry) -> Vec<Value> {
    let mut attachments = Vec::new();
    if let Some(image) = image_of(entry) {
        let mut value = object_map(json!({ "type": "Image", "url": image.url }));
        put(&mut value, "mediaType", image_media_type(&image.url));
        put(&mut value, "name", image.alt.as_deref());
        put(&mut value, "width", image.width);
        put(&mut value, "height", image.height);
        attachments.push(Value::Object(value));
    }
    if let Some(enclosure) = enclosure_of(entry) {
        let kind = match enclosure.media_type.split('/').next() {
            Some("audio") => "Audio",
            Some("video") => "Video",
            _ => "Document",
        };
        let mut value = object_map(json!({
            "type": kind,
            "mediaType": enclosure.media_type,
            "url": enclosure.url,
            "name": entry.draft.title,
        }));
        let duration = enclosure.duration_secs.map(|secs| format!("PT{secs}S"));
        put(&mut value, "duration", duration);
        attachments.push(Value::Object(value));
    }
    attachments
}

/// A deleted entry's object: a `Tombstone` at its address.
pub fn tombstone(site: &Site, fedi: &Fediverse, tombstone: &Tombstone) -> Value {
    with_context(context(), tombstone_body(site, fedi, tombstone))
}

fn tombstone_body(site: &Site, fedi: &Fediverse, tombstone: &Tombstone) -> Map<String, Value> {
    object_map(json!({
        "id": site.entry_url(&tombstone.key),
        "type": "Tombstone",
        "formerType": fedi.object_type.as_str(),
        "deleted": rfc3339_z(tombstone.deleted),
    }))
}

/// An activity of the actor about an object: public, copied to the followers.
fn activity(
    site: &Site,
    fedi: &Fediverse,
    (kind, id): (&str, String),
    published: DateTime<Utc>,
    object: Map<String, Value>,
) -> Map<String, Value> {
    object_map(json!({
        "id": id,
        "type": kind,
        "actor": fedi.actor_id(site),
        "published": rfc3339_z(published),
        "to": [PUBLIC],
        "cc": [site.url(FOLLOWERS_PATH)],
        "object": object,
    }))
}

/// A new entry: `Create` of its object, `{entry url}#create`.
pub fn create(site: &Site, fedi: &Fediverse, entry: &Entry) -> Value {
    with_context(context(), create_body(site, fedi, entry))
}

fn create_body(site: &Site, fedi: &Fediverse, entry: &Entry) -> Map<String, Value> {
    let id = format!("{}#create", site.entry_url(&entry.draft.key));
    let object = object_body(site, fedi, entry);
    activity(site, fedi, ("Create", id), entry.published, object)
}

/// An edited entry: `Update` of its object, `{entry url}#update-{unix milliseconds}`, dated
/// with the entry's `updated`, which the object of an edited entry carries too (Mastodon
/// ignores an `Update` whose object is not newer than what it has).
pub fn update(site: &Site, fedi: &Fediverse, entry: &Entry) -> Value {
    let url = site.entry_url(&entry.draft.key);
    let id = format!("{url}#update-{}", entry.updated.timestamp_millis());
    let object = object_body(site, fedi, entry);
    let mut update = activity(site, fedi, ("Update", id), entry.updated, object);
    update.insert("updated".into(), rfc3339_z(entry.updated).into());
    with_context(context(), update)
}

/// A deleted entry: `Delete` of its `Tombstone`, `{entry url}#delete`.
pub fn delete(site: &Site, fedi: &Fediverse, tombstone: &Tombstone) -> Value {
    let id = format!("{}#delete", site.entry_url(&tombstone.key));
    let object = tombstone_body(site, fedi, tombstone);
    let delete = activity(site, fedi, ("Delete", id), tombstone.deleted, object);
    with_context(context(), delete)
}

/// The `Accept` of a `Follow`, `BASE/@USER#accept-{id}`, addressed to the follower,
/// with the `Follow` embedded as it was received.
pub fn accept(site: &Site, fedi: &Fediverse, follow: &Value, id: Uuid) -> Value {
    let follower = match follow.get("actor") {
        Some(Value::String(actor)) => Some(actor.clone()),
        Some(Value::Object(actor)) => actor.get("id").and_then(Value::as_str).map(Into::into),
        _ => None,
    };
    let mut accept = object_map(json!({
        "id": format!("{}#accept-{}", fedi.actor_id(site), id.hyphenated()),
        "type": "Accept",
        "actor": fedi.actor_id(site),
        "object": follow,
    }));
    put(&mut accept, "to", follower.map(|f| json!([f])));
    with_context(context(), accept)
}

#[cfg(test)]
mod tests;
