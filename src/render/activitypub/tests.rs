//! The documents' fields and types, read back as JSON (and host-meta as XML).

use chrono::{DateTime, Duration};
use serde_json::Value;
use uuid::Uuid;

use super::*;
use crate::model::{
    Category, ContentHash, Enclosure, EntryDraft, EntryId, EntryKey, EntryMeta, Image,
};

fn fedi() -> Fediverse {
    Fediverse {
        username: "news".into(),
        actor_type: ActorType::Service,
        object_type: ObjectType::Note,
        name: "X News".into(),
        summary: "News from X & <friends>".into(),
        icon: Some(ActorImage {
            url: "https://x.org/media/icon.png".into(),
            media_type: None,
        }),
        image: None,
        attribution: None,
        content_warning: false,
        public_key_pem: "-----BEGIN PUBLIC KEY-----\nMII\n-----END PUBLIC KEY-----\n".into(),
        published: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
    }
}

fn time(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap()
}

/// An entry with a body of every kind of block, tags, an image and an enclosure.
fn rich_entry() -> Entry {
    let tag = |term: &str, slug: &str| Category {
        term: term.into(),
        slug: slug.into(),
    };
    Entry {
        draft: EntryDraft {
            key: EntryKey::new("a-b"),
            id: EntryId::new(Uuid::nil()),
            title: "Rust & the <web>".into(),
            section: Some("Tech".into()),
            category: None,
            caption: None,
            summary: "A summary.".into(),
            content_html: "<h2>Heading</h2><p>First <strong>para</strong>.</p>\
                <ul><li>one</li><li>two</li></ul>\
                <figure><img src=\"https://x.org/media/b.jpg\" alt=\"B\"><figcaption>Cap</figcaption></figure>\
                <script>secret()</script><p><a href=\"https://e.org/\" rel=\"noopener\">link</a></p>"
                .into(),
            related: Vec::new(),
            content_hash: ContentHash([0; 32]),
            id_given: false,
            meta: EntryMeta {
                tags: vec![
                    tag("machine learning", "machine-learning"),
                    tag("Rust", "rust"),
                    tag("rust", "rust-2"),
                    tag("2024", "2024"),
                ],
                image: Some(Image {
                    url: "https://x.org/media/cover.webp".into(),
                    alt: Some("A crab".into()),
                    width: Some(640),
                    height: Some(480),
                }),
                enclosure: Some(Enclosure {
                    url: "https://x.org/media/ep.mp3".into(),
                    media_type: "audio/mpeg".into(),
                    length: 1000,
                    duration_secs: Some(90),
                }),
                ..EntryMeta::default()
            },
        },
        published: time(1_700_000_100),
        updated: time(1_700_000_100),
    }
}

fn tombstone_of(key: &str) -> Tombstone {
    Tombstone {
        key: EntryKey::new(key),
        id: EntryId::new(Uuid::nil()),
        deleted: time(1_700_000_300),
        category_slug: None,
    }
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

/// Every `@context` of an actor, an object or an activity names the terms they use.
fn assert_context(document: &Value) {
    let context = document["@context"].as_array().unwrap();
    assert_eq!(context[0], "https://www.w3.org/ns/activitystreams");
    assert_eq!(context[1], "https://w3id.org/security/v1");
    for term in [
        "manuallyApprovesFollowers",
        "sensitive",
        "Hashtag",
        "discoverable",
    ] {
        assert!(context[2][term].is_string(), "{term}");
    }
    assert_eq!(context[2]["toot"], "http://joinmastodon.org/ns#");
}

#[test]
fn the_actor_has_what_mastodon_reads() {
    let site = Site::for_tests();
    let actor = actor(&site, &fedi());
    assert_context(&actor);
    assert_eq!(actor["id"], "https://x.org/@news");
    assert_eq!(actor["type"], "Service");
    assert_eq!(actor["preferredUsername"], "news");
    assert_eq!(actor["name"], "X News");
    assert_eq!(actor["summary"], "<p>News from X &amp; &lt;friends&gt;</p>");
    assert_eq!(actor["url"], "https://x.org/");
    assert_eq!(actor["inbox"], "https://x.org/inbox");
    assert_eq!(actor["outbox"], "https://x.org/outbox");
    assert_eq!(actor["followers"], "https://x.org/followers");
    assert_eq!(actor["following"], "https://x.org/following");
    assert_eq!(actor["endpoints"]["sharedInbox"], "https://x.org/inbox");
    assert_eq!(actor["published"], "2023-11-14T22:13:20Z");
    assert_eq!(actor["discoverable"], true);
    assert_eq!(actor["manuallyApprovesFollowers"], false);
    let key = &actor["publicKey"];
    assert_eq!(key["id"], "https://x.org/@news#main-key");
    assert_eq!(key["owner"], "https://x.org/@news");
    assert!(
        key["publicKeyPem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    assert_eq!(actor["icon"]["type"], "Image");
    assert_eq!(actor["icon"]["url"], "https://x.org/media/icon.png");
    assert_eq!(actor["icon"]["mediaType"], "image/png");
    assert!(actor.get("image").is_none());

    let person = Fediverse {
        actor_type: ActorType::Person,
        summary: "<h1>About</h1><p>Us <script>x()</script><img src=\"a.png\"></p>".into(),
        image: Some(ActorImage {
            url: "https://x.org/h".into(),
            media_type: Some("image/jpeg".into()),
        }),
        attribution: Some("@alice@example.social".into()),
        ..fedi()
    };
    let actor = super::actor(&site, &person);
    assert_eq!(actor["type"], "Person");
    assert_eq!(actor["summary"], "<p>About</p><p>Us</p>");
    assert_eq!(actor["image"]["mediaType"], "image/jpeg");
    // An attribution adds nothing to the actor.
    assert!(!actor.to_string().contains("alice"));
}

#[test]
fn a_note_is_the_title_the_text_and_the_hashtags() {
    let site = Site::for_tests();
    let note = object(&site, &fedi(), &rich_entry());
    assert_context(&note);
    let url = "https://x.org/entries/a-b/";
    assert_eq!(note["id"], url);
    assert_eq!(note["url"], url);
    assert_eq!(note["type"], "Note");
    assert_eq!(note["attributedTo"], "https://x.org/@news");
    assert_eq!(note["published"], "2023-11-14T22:15:00Z");
    assert!(note.get("updated").is_none(), "never edited");
    assert_eq!(strings(&note["to"]), [PUBLIC]);
    assert_eq!(strings(&note["cc"]), ["https://x.org/followers"]);
    assert!(note.get("name").is_none());
    assert!(note.get("summary").is_none());
    assert_eq!(note["sensitive"], false);
    let tags = "<p><a href=\"https://x.org/tags/machine-learning/\" class=\"mention hashtag\" \
                rel=\"tag\">#<span>MachineLearning</span></a> \
                <a href=\"https://x.org/tags/rust/\" class=\"mention hashtag\" \
                rel=\"tag\">#<span>Rust</span></a></p>";
    let expected = format!(
        "<p><a href=\"{url}\">Rust &amp; the &lt;web&gt;</a></p>\
         <p>Heading</p><p>First para.</p><p>• one<br>• two</p><p>Cap</p>\
         <p><a href=\"https://e.org/\" rel=\"noopener\">link</a></p>{tags}"
    );
    assert_eq!(note["content"], expected);
    assert_eq!(note["contentMap"]["en"], expected);
    assert!(!note["content"].as_str().unwrap().contains("secret"));

    // Only p, br, a and span are left.
    let content = note["content"].as_str().unwrap();
    for tag in content.split('<').skip(1) {
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        assert!(["p", "br", "a", "span"].contains(&name.as_str()), "{name}");
    }

    let hashtags = note["tag"].as_array().unwrap();
    assert_eq!(hashtags.len(), 2, "one Rust, none for 2024");
    assert_eq!(hashtags[0]["type"], "Hashtag");
    assert_eq!(hashtags[0]["href"], "https://x.org/tags/machine-learning/");
    assert_eq!(hashtags[0]["name"], "#MachineLearning");
    assert_eq!(hashtags[1]["name"], "#Rust");

    let attachments = note["attachment"].as_array().unwrap();
    assert_eq!(attachments[0]["type"], "Image");
    assert_eq!(attachments[0]["url"], "https://x.org/media/cover.webp");
    assert_eq!(attachments[0]["mediaType"], "image/webp");
    assert_eq!(attachments[0]["name"], "A crab");
    assert_eq!(attachments[0]["width"], 640);
    assert_eq!(attachments[0]["height"], 480);
    assert_eq!(attachments[1]["type"], "Audio");
    assert_eq!(attachments[1]["mediaType"], "audio/mpeg");
    assert_eq!(attachments[1]["url"], "https://x.org/media/ep.mp3");
    assert_eq!(attachments[1]["duration"], "PT90S");
}

#[test]
fn a_plain_entry_has_no_tags_attachments_or_repeated_title() {
    let site = Site::for_tests();
    let mut entry = rich_entry();
    entry.draft.meta = EntryMeta::default();
    entry.draft.title = "Only".into();
    entry.draft.content_html = "<p>Only</p>".into();
    let note = object(&site, &fedi(), &entry);
    assert_eq!(
        note["content"],
        "<p><a href=\"https://x.org/entries/a-b/\">Only</a></p>"
    );
    for absent in ["tag", "attachment", "summary", "updated"] {
        assert!(note.get(absent).is_none(), "{absent}");
    }
    // A video enclosure, and another kind.
    for (media_type, kind) in [("video/mp4", "Video"), ("application/pdf", "Document")] {
        entry.draft.meta.enclosure = Some(Enclosure {
            url: "https://x.org/media/f".into(),
            media_type: media_type.into(),
            length: 1,
            duration_secs: None,
        });
        let note = object(&site, &fedi(), &entry);
        assert_eq!(note["attachment"][0]["type"], kind);
        assert!(note["attachment"][0].get("duration").is_none());
    }
}

#[test]
fn an_article_has_a_name_and_no_title_paragraph() {
    let site = Site::for_tests();
    let fedi = Fediverse {
        object_type: ObjectType::Article,
        ..fedi()
    };
    let article = object(&site, &fedi, &rich_entry());
    assert_eq!(article["type"], "Article");
    assert_eq!(article["name"], "Rust & the <web>");
    assert!(
        article["content"]
            .as_str()
            .unwrap()
            .starts_with("<p>Heading</p>")
    );
}

#[test]
fn the_summary_is_a_content_warning_only_when_configured() {
    let site = Site::for_tests();
    let warned = Fediverse {
        content_warning: true,
        ..fedi()
    };
    let note = object(&site, &warned, &rich_entry());
    assert_eq!(note["summary"], "A summary.");
    assert_eq!(note["sensitive"], true);
    let note = object(&site, &fedi(), &rich_entry());
    assert!(note.get("summary").is_none());
    assert_eq!(note["sensitive"], false);
}

#[test]
fn summary_feeds_send_the_summary_alone() {
    let mut site = Site::for_tests();
    site.content = FeedContent::Summary;
    let note = object(&site, &fedi(), &rich_entry());
    let content = note["content"].as_str().unwrap();
    assert!(content.contains("<p>A summary.</p>"));
    assert!(!content.contains("Heading"));
}

#[test]
fn the_entry_language_goes_in_content_map() {
    let mut site = Site::for_tests();
    let mut entry = rich_entry();
    entry.draft.meta.lang = Some("fr".into());
    let note = object(&site, &fedi(), &entry);
    assert_eq!(note["contentMap"]["fr"], note["content"]);
    site.language = String::new();
    let note = object(&site, &fedi(), &rich_entry());
    assert!(note.get("contentMap").is_none());
}

#[test]
fn a_deleted_entry_is_a_tombstone() {
    let site = Site::for_tests();
    let tombstone = tombstone(&site, &fedi(), &tombstone_of("gone"));
    assert_context(&tombstone);
    assert_eq!(tombstone["type"], "Tombstone");
    assert_eq!(tombstone["id"], "https://x.org/entries/gone/");
    assert_eq!(tombstone["formerType"], "Note");
    assert_eq!(tombstone["deleted"], "2023-11-14T22:18:20Z");
}

#[test]
fn activities_wrap_their_object() {
    let site = Site::for_tests();
    let entry = rich_entry();
    let url = "https://x.org/entries/a-b/";
    let create = create(&site, &fedi(), &entry);
    assert_context(&create);
    assert_eq!(create["type"], "Create");
    assert_eq!(create["id"], format!("{url}#create"));
    assert_eq!(create["actor"], "https://x.org/@news");
    assert_eq!(create["published"], "2023-11-14T22:15:00Z");
    assert_eq!(create["to"], create["object"]["to"]);
    assert_eq!(create["cc"], create["object"]["cc"]);
    assert_eq!(create["object"]["id"], url);
    assert!(create["object"].get("@context").is_none());

    let delete = delete(&site, &fedi(), &tombstone_of("a-b"));
    assert_eq!(delete["type"], "Delete");
    assert_eq!(delete["id"], format!("{url}#delete"));
    assert_eq!(delete["actor"], "https://x.org/@news");
    assert_eq!(delete["object"]["type"], "Tombstone");
    assert_eq!(delete["object"]["id"], url);
    assert_eq!(strings(&delete["to"]), [PUBLIC]);
}

#[test]
fn an_update_carries_the_newer_updated() {
    let site = Site::for_tests();
    let mut entry = rich_entry();
    entry.updated = entry.published + Duration::seconds(3600);
    let update = update(&site, &fedi(), &entry);
    let updated = "2023-11-14T23:15:00Z";
    assert_eq!(update["type"], "Update");
    assert_eq!(
        update["id"],
        format!(
            "https://x.org/entries/a-b/#update-{}",
            entry.updated.timestamp_millis()
        )
    );
    assert_eq!(update["published"], updated);
    assert_eq!(update["updated"], updated);
    assert_eq!(update["object"]["updated"], updated);
    assert_eq!(update["object"]["published"], "2023-11-14T22:15:00Z");
    // The object answered at its address says the same.
    assert_eq!(object(&site, &fedi(), &entry)["updated"], updated);
}

#[test]
fn an_accept_embeds_the_follow() {
    let site = Site::for_tests();
    let follow = serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://m.social/f/1",
        "type": "Follow",
        "actor": "https://m.social/users/a",
        "object": "https://x.org/@news",
    });
    let id = Uuid::from_u128(7);
    let accept = accept(&site, &fedi(), &follow, id);
    assert_eq!(accept["type"], "Accept");
    assert_eq!(
        accept["id"],
        format!("https://x.org/@news#accept-{}", id.hyphenated())
    );
    assert_eq!(accept["actor"], "https://x.org/@news");
    assert_eq!(accept["object"], follow);
    assert_eq!(strings(&accept["to"]), ["https://m.social/users/a"]);
}

#[test]
fn the_outbox_is_paged_newest_first() {
    let site = Site::for_tests();
    let outbox = outbox_collection(&site, 45);
    assert_eq!(outbox["type"], "OrderedCollection");
    assert_eq!(outbox["id"], "https://x.org/outbox");
    assert_eq!(outbox["totalItems"], 45);
    assert_eq!(outbox["first"], "https://x.org/outbox?page=1");
    assert_eq!(outbox["last"], "https://x.org/outbox?page=3");
    assert_eq!(
        outbox_collection(&site, 0)["last"],
        "https://x.org/outbox?page=1"
    );

    let mut older = rich_entry();
    older.draft.key = EntryKey::new("old");
    let entries = [rich_entry(), older];
    let page = outbox_page(&site, &fedi(), 2, 45, &entries);
    assert_eq!(page["type"], "OrderedCollectionPage");
    assert_eq!(page["id"], "https://x.org/outbox?page=2");
    assert_eq!(page["partOf"], "https://x.org/outbox");
    assert_eq!(page["next"], "https://x.org/outbox?page=3");
    assert_eq!(page["prev"], "https://x.org/outbox?page=1");
    let items = page["orderedItems"].as_array().unwrap();
    assert_eq!(items[0]["type"], "Create");
    assert_eq!(items[0]["object"]["id"], "https://x.org/entries/a-b/");
    assert_eq!(items[1]["object"]["id"], "https://x.org/entries/old/");
    let first = outbox_page(&site, &fedi(), 1, 1, &entries[..1]);
    assert!(first.get("next").is_none() && first.get("prev").is_none());
}

#[test]
fn followers_show_a_count_and_following_is_empty() {
    let site = Site::for_tests();
    let followers = followers_collection(&site, 12);
    assert_eq!(followers["type"], "OrderedCollection");
    assert_eq!(followers["id"], "https://x.org/followers");
    assert_eq!(followers["totalItems"], 12);
    assert!(followers.get("orderedItems").is_none());
    let following = following_collection(&site);
    assert_eq!(following["id"], "https://x.org/following");
    assert_eq!(following["totalItems"], 0);
    assert_eq!(following["orderedItems"], serde_json::json!([]));
}

#[test]
fn webfinger_names_the_actor() {
    let mut site = Site::for_tests();
    site.base = "http://127.0.0.1:8080".into();
    let fedi = fedi();
    let jrd = webfinger(&site, &fedi);
    assert_eq!(jrd["subject"], "acct:news@127.0.0.1:8080");
    assert_eq!(strings(&jrd["aliases"]), ["http://127.0.0.1:8080/@news"]);
    let links = jrd["links"].as_array().unwrap();
    assert_eq!(links[0]["rel"], "self");
    assert_eq!(links[0]["type"], "application/activity+json");
    assert_eq!(links[0]["href"], "http://127.0.0.1:8080/@news");
    assert_eq!(links[1]["rel"], "http://webfinger.net/rel/profile-page");
    assert_eq!(links[1]["type"], "text/html");
    assert_eq!(links[1]["href"], "http://127.0.0.1:8080/");

    for own in [
        "acct:news@127.0.0.1:8080",
        "ACCT:News@127.0.0.1:8080",
        "news@127.0.0.1:8080",
        "http://127.0.0.1:8080/@news",
    ] {
        assert!(is_own_resource(&site, &fedi, own), "{own}");
    }
    for other in [
        "acct:news@127.0.0.1",
        "acct:other@127.0.0.1:8080",
        "acct:news@127.0.0.1:8080.evil",
        "",
    ] {
        assert!(!is_own_resource(&site, &fedi, other), "{other}");
    }
    assert_eq!(host(&Site::for_tests()), "x.org");
}

#[test]
fn nodeinfo_follows_schema_2_1() {
    let site = Site::for_tests();
    let links = nodeinfo_links(&site);
    assert_eq!(
        links["links"][0]["rel"],
        "http://nodeinfo.diaspora.software/ns/schema/2.1"
    );
    assert_eq!(links["links"][0]["href"], "https://x.org/nodeinfo/2.1");
    let info = nodeinfo(&site, "0.1.0", 42);
    assert_eq!(info["version"], "2.1");
    assert_eq!(info["software"]["name"], "seedfeed");
    assert_eq!(info["software"]["version"], "0.1.0");
    assert_eq!(strings(&info["protocols"]), ["activitypub"]);
    assert!(info["services"]["inbound"].is_array());
    assert!(info["services"]["outbound"].is_array());
    assert_eq!(info["openRegistrations"], false);
    assert_eq!(info["usage"]["users"]["total"], 1);
    assert_eq!(info["usage"]["localPosts"], 42);
    assert!(info["metadata"].is_object());
}

#[test]
fn host_meta_is_xrd_with_the_webfinger_template() {
    let mut site = Site::for_tests();
    site.base = "https://x.org/a&b".into();
    let xml = String::from_utf8(host_meta(&site)).unwrap();
    let document = roxmltree::Document::parse(&xml).unwrap();
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "XRD");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://docs.oasis-open.org/ns/xri/xrd-1.0")
    );
    let link = root.children().find(|n| n.has_tag_name("Link")).unwrap();
    assert_eq!(link.attribute("rel"), Some("lrdd"));
    assert_eq!(
        link.attribute("template"),
        Some("https://x.org/a&b/.well-known/webfinger?resource={uri}")
    );
}

fn assert_no_null(value: &Value, path: &str) {
    match value {
        Value::Null => panic!("null at {path}"),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                assert_no_null(item, &format!("{path}[{i}]"));
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                assert_no_null(item, &format!("{path}.{key}"));
            }
        }
        _ => {}
    }
}

/// Mastodon refuses `null` where it expects a value: an absent field is left out.
#[test]
fn no_document_has_a_null() {
    let site = Site::for_tests();
    let bare = Fediverse {
        icon: Some(ActorImage {
            url: "https://x.org/icon".into(),
            media_type: None,
        }),
        summary: String::new(),
        ..fedi()
    };
    let mut plain = rich_entry();
    plain.draft.meta = EntryMeta {
        image: Some(Image {
            url: "https://x.org/i".into(),
            alt: None,
            width: None,
            height: None,
        }),
        ..EntryMeta::default()
    };
    let documents = [
        actor(&site, &fedi()),
        actor(&site, &bare),
        object(&site, &fedi(), &rich_entry()),
        object(&site, &bare, &plain),
        update(&site, &fedi(), &plain),
        accept(
            &site,
            &fedi(),
            &serde_json::json!({"type": "Follow"}),
            Uuid::nil(),
        ),
    ];
    for document in documents {
        let text = serde_json::to_string(&document).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, document);
        assert_no_null(&back, "$");
    }
}
