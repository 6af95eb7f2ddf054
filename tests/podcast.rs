//! Podcast feeds (issue 20): `[podcast]` makes the main RSS feed a podcast,
//! `[podcast.sections.{slug}]` a section's. A real daemon on loopback serves articles
//! with real episodes, artwork, transcripts and chapters beside them; its feeds are read
//! back by namespace. One test per rule Apple documents for podcast feeds (every item
//! one enclosure with its length and type, each enclosure URL once, square artwork of
//! 1400 to 3000 pixels checked from the file, Apple's categories, explicit as true or
//! false, the owner's e-mail address, a language, a guid that never changes), and the
//! Podcasting 2.0 tags.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::path::Path;

use common::articles::{write_file, write_under, yaml_article};
use common::binary::{Binary, run, seedfeed_in};
use common::daemon::{TestDaemon, header, status_note};
use common::feeds::{MEDIA_NS, PodcastRead, PodcastTag, read_podcast, tag_text, tags_named};
use common::media_files::{ARTWORK, SMALL_ARTWORK, WIDE_ARTWORK, media_bytes};
use common::poll::until;
use seedfeed::config::{self, Layer};
use seedfeed::render::podcast_guid;

/// Where the tests put the artwork, and the `[podcast]` table that names it.
const COVER: &str = "podcast/cover.png";
const PODCAST: &str = "[podcast]\nimage = \"podcast/cover.png\"\n\
                       category = \"Society & Culture > Documentary\"\n\
                       owner_name = \"Jane Doe\"\nowner_email = \"jane@example.org\"\n";

fn settings(toml: &str) -> Layer {
    Layer::from_toml(toml).unwrap_or_else(|e| panic!("{e}\n{toml}"))
}

fn with_artwork(root: &Path) {
    write_under(root, COVER, &media_bytes(ARTWORK));
}

/// A daemon with these settings, the artwork in its seeds folder.
async fn podcast_daemon(toml: &str) -> TestDaemon {
    TestDaemon::start_prepared(settings(toml), with_artwork).await
}

/// An episode: a Markdown article dated `day` of May 2024 whose enclosure is `audio`
/// beside it, with more front matter lines.
fn episode(title: &str, day: u32, audio: &str, more: &str) -> Vec<u8> {
    yaml_article(
        &format!("title: {title}\ndate: 2024-05-{day:02}\nenclosure: {audio}\n{more}"),
        "Our show.\n",
    )
}

/// Polls the RSS feed at `path` until `done` holds for it as a podcast app reads it.
async fn podcast_feed(
    daemon: &TestDaemon,
    path: &str,
    done: impl Fn(&PodcastRead) -> bool,
) -> (PodcastRead, String) {
    until(&format!("the podcast at {path}"), || async {
        let response = daemon.get(path).await;
        if response.status() != 200 {
            return Err(format!("{}", response.status()));
        }
        let xml = response.text().await.unwrap();
        let read = read_podcast(&xml);
        if done(&read) {
            Ok((read, xml))
        } else {
            Err(xml)
        }
    })
    .await
}

/// The titles of a podcast's items, in order.
fn titles(read: &PodcastRead) -> Vec<&str> {
    read.items.iter().map(|item| item.title.as_str()).collect()
}

/// Apple: every episode has exactly one enclosure, with its length in bytes and its
/// type. Entries without one (or whose length is unknown) are left out of the podcast
/// feed, and stay in Atom and JSON Feed.
#[tokio::test]
async fn every_item_has_one_enclosure_with_its_length_and_type() {
    let daemon = podcast_daemon(PODCAST).await;
    let root = daemon.seeds.path();
    write_under(root, "shows/ep1.mp3", &media_bytes("vbr.mp3"));
    write_under(
        root,
        "shows/ep1.md",
        &episode("Episode one", 3, "ep1.mp3", ""),
    );
    write_under(
        root,
        "remote.md",
        &episode(
            "Remote",
            2,
            "{url: 'https://cdn.example/r.mp3', type: audio/mpeg, length: 4321}",
            "",
        ),
    );
    write_under(
        root,
        "notes.md",
        &yaml_article("title: Notes\ndate: 2024-05-04", "Show notes, no audio.\n"),
    );
    // A body link to remote audio: its length is unknown.
    write_under(
        root,
        "linked.md",
        &yaml_article(
            "title: Linked\ndate: 2024-05-05",
            "[Listen](https://cdn.example/linked.mp3)\n",
        ),
    );
    daemon
        .wait_for_feed("/feed.atom", "four entries", |feed| feed.entries.len() == 4)
        .await;
    let (read, _) = podcast_feed(&daemon, "/feed.rss", |read| read.items.len() == 2).await;
    assert_eq!(titles(&read), ["Episode one", "Remote"]);
    let length = std::fs::metadata(root.join("shows/ep1.mp3")).unwrap().len();
    assert_eq!(
        read.items[0].enclosures,
        [[
            Some(daemon.url("/media/shows/ep1.mp3")),
            Some(length.to_string()),
            Some("audio/mpeg".into())
        ]]
    );
    for item in &read.items {
        assert_eq!(item.enclosures.len(), 1, "{item:?}");
        let [url, length, kind] = &item.enclosures[0];
        assert!(url.is_some() && kind.as_deref().is_some_and(|k| k.contains('/')));
        assert!(length.as_deref().unwrap().parse::<u64>().unwrap() > 0);
    }
    // The duration from the file's header, in seconds.
    assert_eq!(tag_text(&read.items[0].tags, "itunes:duration"), Some("4"));
    assert_eq!(
        daemon.json("/feed.json").await["items"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

/// Apple: an enclosure URL is one episode's. Two articles with the same audio file make
/// one item, the newest.
#[tokio::test]
async fn an_enclosure_url_is_one_item_s() {
    let daemon = podcast_daemon(PODCAST).await;
    let root = daemon.seeds.path();
    write_under(root, "ep.mp3", &media_bytes("cbr.mp3"));
    write_under(root, "first.md", &episode("First", 1, "ep.mp3", ""));
    write_under(root, "again.md", &episode("Again", 2, "ep.mp3", ""));
    write_under(root, "other.mp3", &media_bytes("vbr.mp3"));
    write_under(root, "other.md", &episode("Other", 3, "other.mp3", ""));
    daemon
        .wait_for_feed("/feed.atom", "three entries", |feed| {
            feed.entries.len() == 3
        })
        .await;
    let (read, _) = podcast_feed(&daemon, "/feed.rss", |read| read.items.len() == 2).await;
    assert_eq!(titles(&read), ["Other", "Again"]);
    let mut urls: Vec<_> = read
        .items
        .iter()
        .map(|i| i.enclosures[0][0].clone())
        .collect();
    urls.dedup();
    assert_eq!(urls.len(), 2);
}

/// Apple: the artwork (`itunes:image`) is served from the seeds folder under `/media/`.
#[tokio::test]
async fn the_artwork_is_the_channel_s_image_and_is_served() {
    let daemon = podcast_daemon(PODCAST).await;
    let (read, _) = podcast_feed(&daemon, "/feed.rss", |_| true).await;
    let images = tags_named(&read.tags, "itunes:image");
    assert_eq!(images.len(), 1, "{:?}", read.tags);
    let href = &images[0].attrs["href"];
    assert_eq!(href, &daemon.url("/media/podcast/cover.png"));
    let served = daemon.get("/media/podcast/cover.png").await;
    assert_eq!(served.status(), 200);
    assert_eq!(header(&served, "content-type"), "image/png");
    assert_eq!(served.bytes().await.unwrap(), media_bytes(ARTWORK));
}

/// The error `serve` stops with over a seeds folder that `prepare` filled, with the
/// podcast tables of `toml`.
async fn start_error(prepare: impl FnOnce(&Path), toml: &str) -> (String, tempfile::TempDir) {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    prepare(seeds.path());
    let harness = Layer {
        seeds: Some(seeds.path().to_owned()),
        data: Some(data.path().to_owned()),
        listen: Some("127.0.0.1:0".into()),
        admin_listen: Some("off".into()),
        ..Layer::default()
    };
    let config = config::validate(settings(toml).over(harness).over(Layer::defaults())).unwrap();
    match seedfeed::daemon::start(&config).await {
        Ok(running) => {
            running.shutdown().await.unwrap();
            panic!("started with {toml}");
        }
        Err(error) => (format!("{error:#}"), seeds),
    }
}

/// Apple: artwork is a JPEG or PNG, square, 1400 to 3000 pixels a side, read from the
/// file. Too small, not square, missing, a PNG named `.jpg`, a symlink out of the folder:
/// each stops the start, naming the setting and the file.
#[tokio::test]
async fn artwork_that_apple_would_refuse_stops_the_start() {
    let put = |name: &'static str| move |root: &Path| write_under(root, COVER, &media_bytes(name));
    for (prepare, toml, problem) in [
        (
            Box::new(put(SMALL_ARTWORK)) as Box<dyn FnOnce(&Path)>,
            PODCAST.to_owned(),
            "1200 × 1200 pixels; Apple takes square artwork of 1400 to 3000 pixels a side",
        ),
        (
            Box::new(put(WIDE_ARTWORK)),
            PODCAST.to_owned(),
            "1600 × 1400 pixels; Apple takes square artwork of 1400 to 3000 pixels a side",
        ),
        (Box::new(|_: &Path| {}), PODCAST.to_owned(), "no such file"),
        (
            Box::new(|root: &Path| write_under(root, "podcast/cover.jpg", &media_bytes(ARTWORK))),
            PODCAST.replace("cover.png", "cover.jpg"),
            "not a JPEG image: its header is that of a PNG image",
        ),
    ] {
        let (error, seeds) = start_error(prepare, &toml).await;
        let file = toml
            .split('"')
            .nth(1)
            .map(|path| seeds.path().join(path).display().to_string())
            .unwrap();
        assert!(
            error.contains("config key `podcast`: [podcast] `image`")
                && error.contains(&file)
                && error.ends_with(problem),
            "{error}"
        );
    }
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("cover.png"), media_bytes(ARTWORK)).unwrap();
    let (error, _) = start_error(
        |root| {
            std::fs::create_dir_all(root.join("podcast")).unwrap();
            std::os::unix::fs::symlink(outside.path().join("cover.png"), root.join(COVER)).unwrap();
        },
        PODCAST,
    )
    .await;
    assert!(
        error.ends_with("a symlink leading outside the seeds folder"),
        "{error}"
    );
    // A section's table is named as such.
    let toml = "[podcast.sections.tech]\nimage = \"podcast/cover.png\"\ncategory = \"Comedy\"\n\
                owner_email = \"a@b.org\"\n";
    let (error, _) = start_error(
        |root| write_under(root, COVER, &media_bytes(SMALL_ARTWORK)),
        toml,
    )
    .await;
    assert!(
        error.contains("[podcast.sections.tech] `image` \"podcast/cover.png\""),
        "{error}"
    );
}

/// `seedfeed check` says what would stop the daemon, and fails.
#[test]
fn check_reports_artwork_that_will_not_do() {
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("seeds");
    write_under(&seeds, COVER, &media_bytes(SMALL_ARTWORK));
    write_under(&seeds, "a.md", &yaml_article("title: A", "Text.\n"));
    let config = dir.path().join("seedfeed.toml");
    write_file(&config, PODCAST.as_bytes());
    let ran = run(seedfeed_in(dir.path()).args(["check", "--config", "seedfeed.toml"]));
    assert_eq!(ran.code, Some(1), "{ran}");
    assert!(
        ran.stdout.lines().next().is_some_and(|line| line.starts_with(
            "config key `podcast`: [podcast] `image` \"podcast/cover.png\" (seeds/podcast/cover.png): \
             1200 × 1200 pixels"
        )),
        "{ran}"
    );
    write_under(&seeds, COVER, &media_bytes(ARTWORK));
    let ran = run(seedfeed_in(dir.path()).args(["check", "--config", "seedfeed.toml"]));
    assert_eq!(ran.code, Some(0), "{ran}");
}

/// A reload (SIGHUP) applies a `[podcast]` table at once, after its artwork is checked:
/// artwork that will not do keeps the running configuration.
#[tokio::test]
async fn a_reload_checks_the_new_artwork_first() {
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("seeds");
    with_artwork(&seeds);
    write_under(&seeds, "podcast/small.png", &media_bytes(SMALL_ARTWORK));
    let config = dir.path().join("seedfeed.toml");
    write_file(&config, PODCAST.as_bytes());
    let mut command = seedfeed_in(dir.path());
    command.args([
        "serve",
        "--config",
        "seedfeed.toml",
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "off",
    ]);
    let mut daemon = Binary::spawn(command);
    let base = daemon.address();
    let client = common::daemon::patient_client();
    let channel = |done: fn(&PodcastRead) -> bool| {
        let (client, url) = (client.clone(), format!("{base}/feed.rss"));
        async move {
            until("the podcast's channel", || async {
                let response = client.get(&url).send().await.map_err(|e| e.to_string())?;
                let read = read_podcast(&response.text().await.unwrap());
                if done(&read) {
                    Ok(read)
                } else {
                    Err(format!("{:?}", read.tags))
                }
            })
            .await
        }
    };
    channel(|read| !read.tags.is_empty()).await;

    write_file(
        &config,
        PODCAST
            .replace("cover.png", "small.png")
            .replace("owner_name = \"Jane Doe\"", "owner_name = \"Nobody\"")
            .as_bytes(),
    );
    daemon.signal(nix::sys::signal::Signal::SIGHUP);
    let line = daemon.wait_for_log("configuration not reloaded");
    assert!(
        line.contains("[podcast] `image`") && line.contains("1200 × 1200 pixels"),
        "{line}"
    );
    let kept = channel(|_| true).await;
    let owner = tags_named(&kept.tags, "itunes:owner");
    assert_eq!(
        tag_text(&owner[0].children, "itunes:name"),
        Some("Jane Doe")
    );

    write_file(&config, format!("{PODCAST}explicit = true\n").as_bytes());
    daemon.signal(nix::sys::signal::Signal::SIGHUP);
    channel(|read| tag_text(&read.tags, "itunes:explicit") == Some("true")).await;
    daemon.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(daemon.wait_for_exit(), Some(0), "{}", daemon.log());
}

/// Apple: the category is one of Apple's, a sub-category nested in its category; an
/// unknown one is refused at load.
#[tokio::test]
async fn the_category_is_apple_s_and_nests_its_sub_category() {
    let daemon = podcast_daemon(PODCAST).await;
    let (read, _) = podcast_feed(&daemon, "/feed.rss", |_| true).await;
    let categories = tags_named(&read.tags, "itunes:category");
    assert_eq!(categories.len(), 1);
    assert_eq!(categories[0].attrs["text"], "Society & Culture");
    let subs: Vec<&str> = categories[0]
        .children
        .iter()
        .map(|c| c.attrs["text"].as_str())
        .collect();
    assert_eq!(subs, ["Documentary"]);
    for (category, message) in [
        (
            "Podcasting",
            "\"Podcasting\" is not one of Apple's categories",
        ),
        ("Documentary", "is a sub-category of Society & Culture"),
        ("Arts > Desing", "did you mean \"Arts > Design\"?"),
    ] {
        let toml = PODCAST.replace("Society & Culture > Documentary", category);
        let error = config::validate(settings(&toml).over(Layer::defaults())).unwrap_err();
        let error = error.to_string();
        assert!(
            error.starts_with("config key `podcast`: [podcast] `category`")
                && error.contains(message),
            "{error}"
        );
    }
}

/// Apple: `itunes:explicit` is `true` or `false`, on the channel (from the table) and on
/// an episode (from its front matter); other words are refused at load.
#[tokio::test]
async fn explicit_is_true_or_false() {
    let daemon = podcast_daemon(&format!("{PODCAST}explicit = true\n")).await;
    let root = daemon.seeds.path();
    write_under(root, "a.mp3", &media_bytes("cbr.mp3"));
    write_under(root, "b.mp3", &media_bytes("vbr.mp3"));
    write_under(
        root,
        "a.md",
        &episode("Clean", 1, "a.mp3", "explicit: clean"),
    );
    write_under(root, "b.md", &episode("Unsaid", 2, "b.mp3", ""));
    let (read, _) = podcast_feed(&daemon, "/feed.rss", |read| read.items.len() == 2).await;
    assert_eq!(tag_text(&read.tags, "itunes:explicit"), Some("true"));
    assert_eq!(
        tag_text(&read.items[1].tags, "itunes:explicit"),
        Some("false")
    );
    assert_eq!(tag_text(&read.items[0].tags, "itunes:explicit"), None);
    for wrong in ["\"yes\"", "\"clean\"", "1"] {
        let toml = format!("{PODCAST}explicit = {wrong}\n");
        let error = Layer::from_toml(&toml).unwrap_err();
        assert_eq!(
            error,
            format!("key `explicit` in [podcast]: {wrong} is not true or false")
        );
    }
}

/// Apple: `itunes:owner` carries the owner's e-mail address (and name); an address that
/// is not one is refused at load, and so is a podcast without one.
#[tokio::test]
async fn the_owner_has_an_email_address() {
    let daemon = podcast_daemon(PODCAST).await;
    let (read, _) = podcast_feed(&daemon, "/feed.rss", |_| true).await;
    let owners = tags_named(&read.tags, "itunes:owner");
    assert_eq!(owners.len(), 1);
    assert_eq!(
        tag_text(&owners[0].children, "itunes:email"),
        Some("jane@example.org")
    );
    assert_eq!(
        tag_text(&owners[0].children, "itunes:name"),
        Some("Jane Doe")
    );
    // The author defaults to the feed's.
    assert_eq!(tag_text(&read.tags, "itunes:author"), Some("seedfeed"));
    let locked: Vec<_> = tags_named(&read.tags, "podcast:locked");
    assert_eq!(locked[0].attrs["owner"], "jane@example.org");
    assert_eq!(locked[0].text, "no");
    for (toml, message) in [
        (
            PODCAST.replace("jane@example.org", "Jane Doe"),
            "`owner_email` \"Jane Doe\" is not an e-mail address",
        ),
        (
            PODCAST.replace("owner_email = \"jane@example.org\"\n", ""),
            "[podcast] has no `owner_email`",
        ),
    ] {
        let error = config::validate(settings(&toml).over(Layer::defaults())).unwrap_err();
        assert!(error.to_string().contains(message), "{error}");
    }
}

/// Apple: the channel has a language: the site's (`[feed] language`).
#[tokio::test]
async fn a_podcast_has_a_language() {
    let daemon = podcast_daemon(&format!("[feed]\nlanguage = \"pt-BR\"\n{PODCAST}")).await;
    let (read, _) = podcast_feed(&daemon, "/feed.rss", |_| true).await;
    assert_eq!(read.language.as_deref(), Some("pt-BR"));
}

/// Apple: an episode's guid never changes; it is the entry's id, through edits and
/// restarts. The feed's `podcast:guid` is the specification's UUIDv5 of its URL.
#[tokio::test]
async fn guids_stay_through_an_edit_and_a_restart() {
    let mut daemon = podcast_daemon(PODCAST).await;
    let root = daemon.seeds.path().to_owned();
    write_under(&root, "ep.mp3", &media_bytes("vbr.mp3"));
    write_under(
        &root,
        "ep.md",
        &episode("Before", 1, "ep.mp3", "episode: 1"),
    );
    let (before, _) = podcast_feed(&daemon, "/feed.rss", |read| read.items.len() == 1).await;
    assert_eq!(before.items[0].guid, daemon.id_of("ep").to_string());
    let feed_guid = tag_text(&before.tags, "podcast:guid").unwrap().to_owned();
    assert_eq!(
        feed_guid,
        podcast_guid(&daemon.url("/feed.rss")).to_string()
    );

    write_under(&root, "ep.md", &episode("After", 1, "ep.mp3", "episode: 2"));
    let (after, _) = podcast_feed(&daemon, "/feed.rss", |read| {
        read.items.first().is_some_and(|item| item.title == "After")
    })
    .await;
    assert_eq!(after.items[0].guid, before.items[0].guid);
    assert_eq!(tag_text(&after.items[0].tags, "itunes:episode"), Some("2"));
    daemon.restart().await;
    let (restarted, _) = podcast_feed(&daemon, "/feed.rss", |read| read.items.len() == 1).await;
    assert_eq!(restarted.items[0].guid, before.items[0].guid);
    // The test daemon listens on another port after a restart: another feed URL.
    assert_eq!(
        tag_text(&restarted.tags, "podcast:guid"),
        Some(podcast_guid(&daemon.url("/feed.rss")).to_string().as_str())
    );
}

/// The Podcasting 2.0 specification's own examples of `podcast:guid`: the feed URLs
/// `podnews.net/rss` and `mp3s.nashownotes.com/pc20rss.xml`.
#[test]
fn the_podcast_guid_of_the_specification_s_examples() {
    assert_eq!(
        podcast_guid("https://podnews.net/rss").to_string(),
        "9b024349-ccf0-5f69-a609-6b82873eab3c"
    );
    assert_eq!(
        podcast_guid("http://mp3s.nashownotes.com/pc20rss.xml/").to_string(),
        "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    );
}

/// The channel's other tags: `itunes:type`, `podcast:medium`, `podcast:locked`, a
/// `podcast:guid` kept from another host; and an episode's number, season and type.
#[tokio::test]
async fn the_channel_and_episode_tags() {
    let toml = format!(
        "{PODCAST}type = \"serial\"\nmedium = \"audiobook\"\nlocked = true\n\
         guid = \"917393e3-1b1e-5cef-ace4-edaa54e1f810\"\n"
    );
    let daemon = podcast_daemon(&toml).await;
    let root = daemon.seeds.path();
    write_under(root, "ep.mp3", &media_bytes("vbr.mp3"));
    // The image before the episode that names it: written after, it could be read
    // first, and the feed waited for would have the episode without its image until
    // the image settled and the episode was read again.
    write_under(root, "art.png", &media_bytes(ARTWORK));
    write_under(
        root,
        "ep.md",
        &episode(
            "Bonus",
            1,
            "{path: ep.mp3, duration: '00:01:30'}",
            "episode: 3\nseason: 2\nepisodeType: bonus\nimage: art.png",
        ),
    );
    let (read, xml) = podcast_feed(&daemon, "/feed.rss", |read| read.items.len() == 1).await;
    assert_eq!(tag_text(&read.tags, "itunes:type"), Some("serial"));
    assert_eq!(tag_text(&read.tags, "podcast:medium"), Some("audiobook"));
    assert_eq!(tag_text(&read.tags, "podcast:locked"), Some("yes"));
    assert_eq!(
        tag_text(&read.tags, "podcast:guid"),
        Some("917393e3-1b1e-5cef-ace4-edaa54e1f810")
    );
    let tags = &read.items[0].tags;
    assert_eq!(tag_text(tags, "itunes:episode"), Some("3"));
    assert_eq!(tag_text(tags, "itunes:season"), Some("2"));
    assert_eq!(tag_text(tags, "itunes:episodeType"), Some("bonus"));
    // The front matter's duration wins over the header's.
    assert_eq!(tag_text(tags, "itunes:duration"), Some("90"));
    let image = tags_named(tags, "itunes:image");
    assert_eq!(image[0].attrs["href"], daemon.url("/media/art.png"));
    // The image is no second file of the episode: a thumbnail, not Media RSS content.
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let media = |name: &str| {
        doc.descendants()
            .filter(|n| n.has_tag_name((MEDIA_NS, name)))
            .count()
    };
    assert_eq!((media("content"), media("thumbnail")), (0, 1), "{xml}");
}

/// A section's table makes its feed a podcast and leaves the main feed as it was.
#[tokio::test]
async fn a_section_s_feed_as_a_podcast() {
    let toml = PODCAST.replace("[podcast]", "[podcast.sections.tech]");
    let daemon = podcast_daemon(&toml).await;
    let root = daemon.seeds.path();
    write_under(root, "ep.mp3", &media_bytes("vbr.mp3"));
    write_under(
        root,
        "ep.md",
        &episode("Tech talk", 1, "ep.mp3", "section: Tech"),
    );
    write_under(
        root,
        "text.md",
        &yaml_article(
            "title: Tech notes\ndate: 2024-05-02\nsection: Tech",
            "Text.\n",
        ),
    );
    daemon
        .wait_for_feed("/feed.atom", "both", |feed| feed.entries.len() == 2)
        .await;
    let (section, _) = podcast_feed(&daemon, "/categories/tech.rss", |read| {
        read.items.len() == 1
    })
    .await;
    assert_eq!(titles(&section), ["Tech talk"]);
    assert_eq!(
        tag_text(&section.tags, "podcast:guid"),
        Some(
            podcast_guid(&daemon.url("/categories/tech.rss"))
                .to_string()
                .as_str()
        )
    );
    let (main, xml) = podcast_feed(&daemon, "/feed.rss", |read| read.items.len() == 2).await;
    assert!(main.tags.is_empty() && main.items.iter().all(|i| i.tags.is_empty()));
    assert!(
        !xml.contains("itunes") && !xml.contains("podcastindex"),
        "{xml}"
    );
}

/// A section's table takes what it leaves unset from `[podcast]`, which may keep the
/// main feed as it is.
#[tokio::test]
async fn a_section_inherits_from_the_podcast_table() {
    let toml = format!(
        "{PODCAST}enabled = false\nauthor = \"The Desk\"\n\
         [podcast.sections.tech]\ncategory = \"Technology\"\nexplicit = true\n"
    );
    let daemon = podcast_daemon(&toml).await;
    let root = daemon.seeds.path();
    write_under(root, "ep.mp3", &media_bytes("vbr.mp3"));
    write_under(
        root,
        "ep.md",
        &episode("Tech talk", 1, "ep.mp3", "section: Tech"),
    );
    let (section, _) = podcast_feed(&daemon, "/categories/tech.rss", |read| {
        read.items.len() == 1
    })
    .await;
    let category: Vec<&PodcastTag> = tags_named(&section.tags, "itunes:category");
    assert_eq!(category[0].attrs["text"], "Technology");
    assert!(category[0].children.is_empty());
    assert_eq!(tag_text(&section.tags, "itunes:explicit"), Some("true"));
    assert_eq!(tag_text(&section.tags, "itunes:author"), Some("The Desk"));
    let image = tags_named(&section.tags, "itunes:image");
    assert_eq!(
        image[0].attrs["href"],
        daemon.url("/media/podcast/cover.png")
    );
    let owner = tags_named(&section.tags, "itunes:owner");
    assert_eq!(
        tag_text(&owner[0].children, "itunes:email"),
        Some("jane@example.org")
    );
    let (main, _) = podcast_feed(&daemon, "/feed.rss", |read| read.items.len() == 1).await;
    assert!(main.tags.is_empty(), "enabled = false: {:?}", main.tags);
}

/// A transcript and chapters beside an episode, by its name or named in its front
/// matter: `podcast:transcript` and `podcast:chapters`, served under `/media/` with their
/// types.
#[tokio::test]
async fn transcripts_and_chapters_beside_an_episode() {
    let daemon = podcast_daemon(PODCAST).await;
    let root = daemon.seeds.path();
    for (name, fixture) in [
        ("shows/one.mp3", "vbr.mp3"),
        ("shows/one.vtt", "episode.vtt"),
        ("shows/one.srt", "episode.srt"),
        ("shows/one.chapters.json", "episode.chapters.json"),
        ("shows/two.mp3", "cbr.mp3"),
        ("shows/two.srt", "episode.srt"),
        ("shows/three.mp3", "vbr.mp3"),
        ("shows/notes/three.vtt", "episode.vtt"),
    ] {
        write_under(root, name, &media_bytes(fixture));
    }
    write_under(root, "shows/one.md", &episode("One", 3, "one.mp3", ""));
    write_under(root, "shows/two.md", &episode("Two", 2, "two.mp3", ""));
    write_under(
        root,
        "shows/three.md",
        &episode(
            "Three",
            1,
            "three.mp3",
            "transcript: notes/three.vtt\nchapters: https://cdn.example/three.chapters.json",
        ),
    );
    let (read, _) = podcast_feed(&daemon, "/feed.rss", |read| read.items.len() == 3).await;
    let companion = |item: usize, name: &str| {
        tags_named(&read.items[item].tags, name)
            .iter()
            .map(|tag| (tag.attrs["url"].clone(), tag.attrs["type"].clone()))
            .collect::<Vec<_>>()
    };
    let media = |path: &str| daemon.url(&format!("/media/{path}"));
    // The WebVTT transcript before the SubRip one.
    assert_eq!(
        companion(0, "podcast:transcript"),
        [(media("shows/one.vtt"), "text/vtt".into())]
    );
    assert_eq!(
        companion(0, "podcast:chapters"),
        [(
            media("shows/one.chapters.json"),
            "application/json+chapters".into()
        )]
    );
    assert_eq!(
        companion(1, "podcast:transcript"),
        [(media("shows/two.srt"), "application/x-subrip".into())]
    );
    assert!(companion(1, "podcast:chapters").is_empty());
    assert_eq!(
        companion(2, "podcast:transcript"),
        [(media("shows/notes/three.vtt"), "text/vtt".into())]
    );
    assert_eq!(
        companion(2, "podcast:chapters"),
        [(
            "https://cdn.example/three.chapters.json".into(),
            "application/json+chapters".into()
        )]
    );
    for (path, fixture, kind) in [
        ("shows/one.vtt", "episode.vtt", "text/vtt"),
        ("shows/two.srt", "episode.srt", "application/x-subrip"),
        (
            "shows/one.chapters.json",
            "episode.chapters.json",
            "application/json+chapters",
        ),
    ] {
        let served = daemon.get(&format!("/media/{path}")).await;
        assert_eq!(served.status(), 200, "{path}");
        assert_eq!(header(&served, "content-type"), kind, "{path}");
        assert_eq!(
            served.bytes().await.unwrap(),
            media_bytes(fixture),
            "{path}"
        );
    }
    // Any other JSON file is not media.
    write_under(root, "shows/data.json", b"{}");
    assert_eq!(daemon.get("/media/shows/data.json").await.status(), 404);
}

/// A transcript and chapters copied beside an episode after it was published: the
/// watcher has the episode read again, and the podcast feed gains them.
#[tokio::test]
async fn a_transcript_copied_after_its_episode_is_picked_up() {
    let daemon = podcast_daemon(PODCAST).await;
    let root = daemon.seeds.path();
    write_under(root, "shows/late.mp3", &media_bytes("vbr.mp3"));
    write_under(root, "shows/late.md", &episode("Late", 3, "late.mp3", ""));
    let (read, _) = podcast_feed(&daemon, "/feed.rss", |read| read.items.len() == 1).await;
    assert!(tags_named(&read.items[0].tags, "podcast:transcript").is_empty());

    write_under(root, "shows/late.vtt", &media_bytes("episode.vtt"));
    write_under(
        root,
        "shows/late.chapters.json",
        &media_bytes("episode.chapters.json"),
    );
    let (read, _) = podcast_feed(&daemon, "/feed.rss", |read| {
        read.items.len() == 1
            && !tags_named(&read.items[0].tags, "podcast:transcript").is_empty()
            && !tags_named(&read.items[0].tags, "podcast:chapters").is_empty()
    })
    .await;
    let url = |name: &str| tags_named(&read.items[0].tags, name)[0].attrs["url"].clone();
    assert_eq!(
        url("podcast:transcript"),
        daemon.url("/media/shows/late.vtt")
    );
    assert_eq!(
        url("podcast:chapters"),
        daemon.url("/media/shows/late.chapters.json")
    );
}

/// A value an episode's field cannot take is a warning on the article in `/status`,
/// naming the key; the episode is published without it.
#[tokio::test]
async fn a_bad_episode_value_is_a_warning_and_the_episode_is_published() {
    let daemon = podcast_daemon(PODCAST).await;
    let root = daemon.seeds.path();
    write_under(root, "ep.mp3", &media_bytes("vbr.mp3"));
    write_under(
        root,
        "ep.md",
        &episode(
            "Typo",
            1,
            "ep.mp3",
            "episode: one\nseason: 2\nepisode_type: pilot",
        ),
    );
    let warning = daemon
        .wait_for_status("the episode's warning", |status| {
            status_note(status, "warnings", "ep.md")
        })
        .await;
    assert!(
        warning.contains("front matter values ignored: episode (line 5: expected a whole number")
            && warning.contains("episode_type (line 7: expected full, trailer or bonus"),
        "{warning}"
    );
    let (read, _) = podcast_feed(&daemon, "/feed.rss", |read| read.items.len() == 1).await;
    let tags = &read.items[0].tags;
    assert_eq!(tag_text(tags, "itunes:episode"), None);
    assert_eq!(tag_text(tags, "itunes:episodeType"), None);
    assert_eq!(tag_text(tags, "itunes:season"), Some("2"));
}
