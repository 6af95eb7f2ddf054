//! Articles that reference media files beside them (issue 20): `image:`, `enclosure:`,
//! `<img>` in the body and links to audio or video, read from real files by the reader
//! the daemon uses, and served by a running daemon. Found files become `/media/` URLs
//! with what their headers say; missing, lying and hostile ones are warnings on the
//! article in `/status`, and are not linked.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::path::Path;

use common::articles::{write_under, yaml_article};
use common::daemon::{TestDaemon, status_note};
use common::feeds::rss_enclosures;
use common::media_files::media_bytes;
use seedfeed::ingest::ArticleReader;
use seedfeed::model::EntryDraft;
use seedfeed::normalize::{EntryContext, id_namespace};
use seedfeed::store::FileChange;
use seedfeed::watch::{SeedFolder, path_key};

const BASE: &str = "https://news.example.org/site";

/// The article of most tests: a front matter image and episode, two body images that
/// read, one missing, one whose name lies about its kind, and a link to the episode.
fn episode_article() -> Vec<u8> {
    yaml_article(
        "title: Episode one\nimage: img/photo.jpg\nimage_alt: The studio\nenclosure: episode.mp3",
        "Our first show.\n\n![A chart](img/picture.png) ![Gone](img/gone.png) \
         ![Liar](img/liar.jpg)\n\n[Listen](episode.mp3) or [read more](notes.html).\n",
    )
}

/// A seeds folder with the episode article and its files under `posts/`.
fn episode_folder(root: &Path) {
    write_under(root, "posts/episode.md", &episode_article());
    write_under(root, "posts/img/photo.jpg", &media_bytes("photo.jpg"));
    write_under(root, "posts/img/picture.png", &media_bytes("picture.png"));
    // A PNG under a JPEG's name.
    write_under(root, "posts/img/liar.jpg", &media_bytes("picture.png"));
    write_under(root, "posts/episode.mp3", &media_bytes("vbr.mp3"));
}

fn reader(root: &Path) -> ArticleReader {
    ArticleReader {
        folder: SeedFolder::open(root).unwrap(),
        max_file_bytes: 1 << 20,
        context: EntryContext::new(id_namespace("t"), &url::Url::parse(BASE).unwrap()),
    }
}

/// Reads the article at `path` as the daemon does: its entry and its warnings.
fn read(root: &Path, path: &str) -> (EntryDraft, Vec<String>) {
    match reader(root).read(path, path_key(path).unwrap()) {
        FileChange::Article {
            draft, warnings, ..
        } => (draft, warnings),
        other => panic!("{path}: not an article: {other:?}"),
    }
}

fn file_len(root: &Path, path: &str) -> u64 {
    std::fs::metadata(root.join(path)).unwrap().len()
}

#[test]
fn found_files_are_linked_with_what_their_headers_say() {
    let dir = tempfile::tempdir().unwrap();
    episode_folder(dir.path());
    let (draft, _) = read(dir.path(), "posts/episode.md");

    let image = draft.meta.image.unwrap();
    assert_eq!(image.url, format!("{BASE}/media/posts/img/photo.jpg"));
    assert_eq!((image.width, image.height), (Some(120), Some(80)));
    assert_eq!(image.alt.as_deref(), Some("The studio"));

    let enclosure = draft.meta.enclosure.unwrap();
    assert_eq!(enclosure.url, format!("{BASE}/media/posts/episode.mp3"));
    assert_eq!(enclosure.media_type, "audio/mpeg");
    assert_eq!(enclosure.length, file_len(dir.path(), "posts/episode.mp3"));
    assert_eq!(enclosure.duration_secs, Some(4));

    let html = &draft.content_html;
    assert!(
        html.contains(&format!(
            "<img src=\"{BASE}/media/posts/img/picture.png\" alt=\"A chart\" width=\"64\" \
             height=\"48\">"
        )),
        "{html}"
    );
    assert!(
        html.contains(&format!("<a href=\"{BASE}/media/posts/episode.mp3\"")),
        "{html}"
    );
    // A link to an article is no media reference: resolved against the entry's page.
    assert!(
        html.contains(&format!("href=\"{BASE}/entries/episode/notes.html\"")),
        "{html}"
    );
}

#[test]
fn missing_and_lying_files_are_warnings_and_not_links() {
    let dir = tempfile::tempdir().unwrap();
    episode_folder(dir.path());
    let (draft, warnings) = read(dir.path(), "posts/episode.md");
    let html = &draft.content_html;
    assert!(
        !html.contains("gone.png") && !html.contains("liar.jpg"),
        "{html}"
    );
    // What the images were is kept as text.
    assert!(html.contains("Gone") && html.contains("Liar"), "{html}");
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains("posts/img/gone.png") && warnings[0].contains("no such file"),
        "{warnings:?}"
    );
    assert!(
        warnings[1].contains("posts/img/liar.jpg") && warnings[1].contains("PNG"),
        "{warnings:?}"
    );

    // Without its files, the front matter's image and enclosure are left out too.
    std::fs::remove_file(dir.path().join("posts/img/photo.jpg")).unwrap();
    std::fs::remove_file(dir.path().join("posts/episode.mp3")).unwrap();
    let (draft, warnings) = read(dir.path(), "posts/episode.md");
    assert_eq!(draft.meta.image, None);
    assert_eq!(draft.meta.enclosure, None);
    assert!(
        !draft.content_html.contains("episode.mp3"),
        "{}",
        draft.content_html
    );
    for path in ["posts/img/photo.jpg", "posts/episode.mp3"] {
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(path) && w.contains("no such file")),
            "{path}: {warnings:?}"
        );
    }
}

#[test]
fn an_edited_episode_changes_the_content_hash() {
    let dir = tempfile::tempdir().unwrap();
    episode_folder(dir.path());
    let (before, _) = read(dir.path(), "posts/episode.md");
    let (again, _) = read(dir.path(), "posts/episode.md");
    assert_eq!(before.content_hash, again.content_hash);
    write_under(dir.path(), "posts/episode.mp3", &media_bytes("cbr.mp3"));
    let (after, _) = read(dir.path(), "posts/episode.md");
    assert_ne!(before.content_hash, after.content_hash);
    assert_eq!(after.meta.enclosure.unwrap().duration_secs, Some(3));
}

#[test]
fn bundles_body_links_and_remote_enclosures() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // A page bundle: the article is its folder's index; the front matter's duration wins.
    write_under(
        root,
        "show/index.md",
        &yaml_article(
            "title: Show\nimage: cover.jpg\nenclosure: {path: ep.m4a, duration: '00:01:30'}",
            "Body.\n",
        ),
    );
    write_under(root, "show/cover.jpg", &media_bytes("photo.jpg"));
    write_under(root, "show/ep.m4a", &media_bytes("episode.m4a"));
    let (draft, warnings) = read(root, "show/index.md");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        draft.meta.image.unwrap().url,
        format!("{BASE}/media/show/cover.jpg")
    );
    let enclosure = draft.meta.enclosure.unwrap();
    assert_eq!(enclosure.url, format!("{BASE}/media/show/ep.m4a"));
    assert_eq!(enclosure.media_type, "audio/mp4");
    assert_eq!(enclosure.duration_secs, Some(90));

    // No enclosure field: the first audio or video the body links is the enclosure.
    write_under(
        root,
        "clips/my clip.md",
        &yaml_article("title: Clip", "See [the clip](video/my%20clip.webm).\n"),
    );
    write_under(root, "clips/video/my clip.webm", &media_bytes("clip.webm"));
    let (draft, _) = read(root, "clips/my clip.md");
    let enclosure = draft.meta.enclosure.unwrap();
    assert_eq!(
        enclosure.url,
        format!("{BASE}/media/clips/video/my%20clip.webm")
    );
    assert_eq!(
        (enclosure.media_type.as_str(), enclosure.duration_secs),
        ("video/webm", Some(3))
    );

    // A remote enclosure is kept only with the type and length the front matter gives.
    write_under(
        root,
        "remote.md",
        &yaml_article(
            "title: Remote\nenclosure: {url: 'https://cdn.example/e.mp3', type: audio/mpeg, \
             length: 1234}",
            "x\n",
        ),
    );
    let enclosure = read(root, "remote.md").0.meta.enclosure.unwrap();
    assert_eq!(
        (enclosure.url.as_str(), enclosure.length),
        ("https://cdn.example/e.mp3", 1234)
    );
    write_under(
        root,
        "bare.md",
        &yaml_article("title: Bare\nenclosure: https://cdn.example/e.mp3", "x\n"),
    );
    let (draft, warnings) = read(root, "bare.md");
    assert_eq!(draft.meta.enclosure, None);
    assert!(
        warnings[0].contains("needs") && warnings[0].contains("`length`"),
        "{warnings:?}"
    );
}

/// Players in the body's HTML: their `src` and a video's `poster` point at the files'
/// `/media/` URLs, or are left out when the file is missing; the first audio played is
/// the enclosure.
#[test]
fn audio_and_video_players_in_the_body() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_under(
        root,
        "show/ep.md",
        &yaml_article(
            "title: Players",
            "<video controls poster=\"gone.jpg\" src=\"clip.mp4\">\
             <source src=\"gone.webm\" type=\"video/webm\">A clip.</video>\n\n\
             <audio controls src=\"ep.ogg\"></audio>\n",
        ),
    );
    write_under(root, "show/clip.mp4", &media_bytes("clip.mp4"));
    write_under(root, "show/ep.ogg", &media_bytes("vorbis.ogg"));
    let (draft, warnings) = read(root, "show/ep.md");
    let html = &draft.content_html;
    assert!(
        html.contains(&format!("src=\"{BASE}/media/show/clip.mp4\"")),
        "{html}"
    );
    assert!(
        html.contains(&format!("src=\"{BASE}/media/show/ep.ogg\"")),
        "{html}"
    );
    assert!(!html.contains("gone"), "{html}");
    assert!(html.contains("A clip."), "{html}");
    // The video comes first in the body: it is the enclosure.
    let enclosure = draft.meta.enclosure.unwrap();
    assert_eq!(enclosure.url, format!("{BASE}/media/show/clip.mp4"));
    assert_eq!(enclosure.length, file_len(root, "show/clip.mp4"));
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("gone.jpg"), "{warnings:?}");
    assert!(warnings[1].contains("gone.webm"), "{warnings:?}");
}

#[test]
fn references_out_of_the_folder_are_warnings_and_not_links() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.jpg"), media_bytes("photo.jpg")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_under(
        root,
        "hostile/index.md",
        &yaml_article(
            "title: Hostile\nenclosure: ../../etc/passwd\nimage: cover.jpg",
            "![x](../../../secret.jpg)\n",
        ),
    );
    std::os::unix::fs::symlink(
        outside.path().join("secret.jpg"),
        root.join("hostile/cover.jpg"),
    )
    .unwrap();
    let (draft, warnings) = read(root, "hostile/index.md");
    assert_eq!(draft.meta.image, None);
    assert_eq!(draft.meta.enclosure, None);
    assert!(
        !draft.content_html.contains("secret"),
        "{}",
        draft.content_html
    );
    assert!(
        !draft.content_html.contains("<img"),
        "{}",
        draft.content_html
    );
    let joined = warnings.join("\n");
    assert!(
        joined.contains("enclosure ../../etc/passwd: leaves the seeds folder"),
        "{joined}"
    );
    assert!(
        joined.contains("hostile/cover.jpg") && joined.contains("outside"),
        "{joined}"
    );
    assert!(
        joined.contains("../../../secret.jpg: leaves the seeds folder"),
        "{joined}"
    );
}

/// The whole way: a daemon reads the articles, lists what it could not link in
/// `/status`, and its entry page shows the files it could, which it serves.
#[tokio::test]
async fn a_daemon_links_what_it_can_read_and_lists_the_rest() {
    let daemon = TestDaemon::start().await;
    let root = daemon.seeds.path();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.jpg"), media_bytes("photo.jpg")).unwrap();
    episode_folder(root);
    write_under(
        root,
        "hostile/index.md",
        &yaml_article(
            "title: Hostile\nenclosure: ../../etc/passwd\nimage: cover.jpg",
            "Nothing to see.\n",
        ),
    );
    std::os::unix::fs::symlink(
        outside.path().join("secret.jpg"),
        root.join("hostile/cover.jpg"),
    )
    .unwrap();

    let reason = daemon
        .wait_for_status("the episode's warnings", |status| {
            status_note(status, "warnings", "posts/episode.md")
        })
        .await;
    assert!(
        reason.contains("posts/img/gone.png") && reason.contains("no such file"),
        "{reason}"
    );
    assert!(reason.contains("posts/img/liar.jpg"), "{reason}");
    let hostile = daemon
        .wait_for_status("the hostile article's warnings", |status| {
            status_note(status, "warnings", "hostile/index.md")
        })
        .await;
    assert!(
        hostile.contains("../../etc/passwd") && hostile.contains("cover.jpg"),
        "{hostile}"
    );

    let page = daemon.body("/entries/episode/").await;
    let media = daemon.url("/media/posts/img/picture.png");
    assert!(
        page.contains(&format!(
            "src=\"{media}\" alt=\"A chart\" width=\"64\" height=\"48\""
        )),
        "{page}"
    );
    assert!(
        page.contains(&daemon.url("/media/posts/img/photo.jpg")),
        "{page}"
    );
    assert!(
        !page.contains("gone.png") && !page.contains("liar.jpg"),
        "{page}"
    );
    let served = daemon.get("/media/posts/img/picture.png").await;
    assert_eq!(served.status(), 200);
    let hostile_page = daemon.body("/entries/hostile/").await;
    assert!(!hostile_page.contains("/media/"), "{hostile_page}");

    daemon
        .wait_for_feeds("both articles", |feed| feed.entries.len() == 2)
        .await;
    assert_feeds(&daemon, file_len(root, "posts/episode.mp3")).await;
}

/// The episode's enclosure and image in every feed, read back; the hostile article has
/// neither.
async fn assert_feeds(daemon: &TestDaemon, length: u64) {
    let episode = daemon.url("/media/posts/episode.mp3");
    let photo = daemon.url("/media/posts/img/photo.jpg");
    let rss = daemon.body("/feed.rss").await;
    let length_text = length.to_string();
    assert_eq!(
        rss_enclosures(&rss),
        [[
            Some(episode.clone()),
            Some(length_text),
            Some("audio/mpeg".to_owned())
        ]]
    );
    let feed = feed_rs::parser::parse(rss.as_bytes()).unwrap();
    let sizes: Vec<(Option<u32>, Option<u32>)> = feed
        .entries
        .iter()
        .flat_map(|e| &e.media)
        .flat_map(|m| &m.content)
        .filter(|c| c.url.as_ref().is_some_and(|u| u.as_str() == photo))
        .map(|c| (c.width, c.height))
        .collect();
    assert_eq!(sizes, [(Some(120), Some(80))], "{rss}");

    let atom = daemon.feed("/feed.atom").await;
    let links: Vec<(String, Option<String>, Option<u64>)> = atom
        .entries
        .iter()
        .flat_map(|e| &e.links)
        .filter(|l| l.rel.as_deref() == Some("enclosure"))
        .map(|l| (l.href.clone(), l.media_type.clone(), l.length))
        .collect();
    assert_eq!(
        links,
        [(episode.clone(), Some("audio/mpeg".into()), Some(length))]
    );

    let json = daemon.json("/feed.json").await;
    let items = json["items"].as_array().unwrap();
    let item = |title: &str| items.iter().find(|i| i["title"] == title).unwrap();
    assert_eq!(
        item("Episode one")["attachments"],
        serde_json::json!([{
            "url": episode,
            "mime_type": "audio/mpeg",
            "size_in_bytes": length,
            "duration_in_seconds": 4,
        }])
    );
    assert_eq!(item("Episode one")["image"], photo.as_str());
    let hostile = item("Hostile");
    assert!(
        hostile.get("attachments").is_none() && hostile.get("image").is_none(),
        "{hostile}"
    );
}
