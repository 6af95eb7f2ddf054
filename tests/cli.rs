//! The `seedfeed` binary as an operator runs it: `check`, `parse`, configuration errors
//! and `--help`, each against temporary folders and with no `SEEDFEED_*` variable
//! leaking in from the environment of the test run.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use common::articles::{SAMPLE_KEY, sample_article};
use common::changes::rejected;
use serde_json::Value;
use tempfile::TempDir;

/// A short, well-formed article in the section News.
fn article(title: &str, body: &str) -> Vec<u8> {
    common::articles::article("News", title, body)
}

use common::binary::{Ran as Outcome, run, seedfeed_in as seedfeed};

/// What the tests read of an outcome.
trait Read {
    fn lines(&self) -> Vec<&str>;
    fn json(&self) -> Vec<Value>;
}

impl Read for Outcome {
    fn lines(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    fn json(&self) -> Vec<Value> {
        match serde_json::from_str(&self.stdout) {
            Ok(Value::Array(items)) => items,
            other => panic!(
                "stdout is not a JSON array ({other:?}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            ),
        }
    }
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, contents).expect("write a test file");
    path
}

fn set_mtime(path: &Path, time: SystemTime) {
    fs::File::options()
        .write(true)
        .open(path)
        .and_then(|file| file.set_modified(time))
        .expect("set the mtime of a test file");
}

/// A temporary folder holding a `seeds/` folder.
fn workspace() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("create a temp dir");
    let seeds = dir.path().join("seeds");
    fs::create_dir(&seeds).expect("create seeds/");
    (dir, seeds)
}

fn check(cwd: &Path, seeds: &Path) -> Outcome {
    run(seedfeed(cwd).arg("check").arg("--seeds").arg(seeds))
}

/// `seedfeed check` with a config file: what a bad setting in it is reported by.
fn check_with_config(cwd: &Path, config: &Path, seeds: &Path) -> Outcome {
    run(seedfeed(cwd)
        .arg("check")
        .arg("--config")
        .arg(config)
        .arg("--seeds")
        .arg(seeds))
}

fn parse(cwd: &Path, files: &[&Path]) -> Outcome {
    run(seedfeed(cwd).arg("parse").args(files))
}

fn parse_one(cwd: &Path, file: &Path) -> Value {
    let out = parse(cwd, &[file]);
    assert_eq!(out.code, Some(0), "{out}");
    let mut entries = out.json();
    assert_eq!(entries.len(), 1, "{out}");
    entries.remove(0)
}

fn str_field<'a>(entry: &'a Value, pointer: &str) -> &'a str {
    entry
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {entry:#}"))
}

fn published(entry: &Value) -> DateTime<Utc> {
    let text = str_field(entry, "/published");
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("published {text:?} is not RFC 3339: {e}"))
        .with_timezone(&Utc)
}

// ---------------------------------------------------------------------------------------
// seedfeed check
// ---------------------------------------------------------------------------------------

#[test]
fn check_on_good_articles_only_exits_0_and_prints_nothing() {
    let (dir, seeds) = workspace();
    write(&seeds, &format!("{SAMPLE_KEY}.txt"), sample_article());
    write(&seeds, "second.txt", article("Second", "A body."));
    write(&seeds, "no_section.txt", "Just one line of text\n");

    let out = check(dir.path(), &seeds);

    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.lines().is_empty(), "{out}");
}

#[test]
fn check_on_an_empty_seeds_folder_exits_0() {
    let (dir, seeds) = workspace();
    let out = check(dir.path(), &seeds);
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.lines().is_empty(), "{out}");
}

#[test]
fn check_prints_one_line_per_rejected_file_with_its_reason_and_exits_1() {
    let (dir, seeds) = workspace();
    let config = write(dir.path(), "seedfeed.toml", "max_file_bytes = 100\n");
    let good = article("Good", "Short enough.");
    assert!(good.len() <= 100);
    write(&seeds, "good.txt", &good);
    write(&seeds, "empty.txt", "");
    write(&seeds, "bin.txt", b"Title\n\n\x00\x01\x02binary\x00data\n");
    let big = article("Big", &"word ".repeat(40));
    assert!(big.len() > 100);
    write(&seeds, "big.txt", &big);
    // Not article names: never read, so their bad contents are no reject. A file that is
    // not an article is named as such; hidden files and temporaries make no line.
    write(&seeds, "notes.odt", "");
    write(&seeds, ".hidden.txt", b"\x00\x00");
    write(&seeds, "a.txt~", "");

    let out = check_with_config(dir.path(), &config, &seeds);

    assert_eq!(out.code, Some(1), "{out}");
    let lines = out.lines();
    assert_eq!(
        lines.len(),
        4,
        "one line per rejected file, and notes.odt:\n{out}"
    );
    assert!(
        lines
            .contains(&format!("{}: {NOT_AN_ARTICLE}", seeds.join("notes.odt").display()).as_str()),
        "{out}"
    );
    for (file, reason) in [
        ("empty.txt", "empty"),
        ("bin.txt", "binary"),
        ("big.txt", "too large"),
    ] {
        let matching: Vec<_> = lines.iter().filter(|l| l.contains(file)).collect();
        assert_eq!(matching.len(), 1, "one line naming {file}:\n{out}");
        assert!(matching[0].contains("rejected"), "{file}:\n{out}");
        assert!(matching[0].contains(reason), "{file} is {reason}:\n{out}");
    }
    for ignored in ["good.txt", ".hidden.txt", "a.txt~"] {
        assert!(!out.stdout.contains(ignored), "{ignored}:\n{out}");
    }
}

#[test]
fn check_reports_a_duplicate_without_failing() {
    let (dir, seeds) = workspace();
    write(&seeds, "a_original.txt", sample_article());
    write(&seeds, "b_copy.txt", sample_article());
    write(&seeds, "other.txt", article("Other", "Different text."));

    let out = check(dir.path(), &seeds);

    assert_eq!(
        out.code,
        Some(0),
        "a duplicate alone is not a reject:\n{out}"
    );
    let lines = out.lines();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(lines[0].contains("b_copy.txt"), "{out}");
    assert!(lines[0].contains("duplicate of"), "{out}");
    assert!(
        lines[0].contains("a_original"),
        "names the other file:\n{out}"
    );
}

/// Two sections whose names slugify alike are served at two slugs; `check` names the
/// one that does not get its name's slug, and is not failed by it.
#[test]
fn check_names_a_section_served_at_a_slug_of_its_own() {
    let (dir, seeds) = workspace();
    let first = write(
        &seeds,
        "a_cpp.txt",
        common::articles::article("C++", "T", "B."),
    );
    set_mtime(
        &first,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000),
    );
    write(
        &seeds,
        "b_csharp.txt",
        common::articles::article("C#", "U", "C."),
    );

    let out = check(dir.path(), &seeds);

    assert_eq!(out.code, Some(0), "{out}");
    let sharp = seedfeed::normalize::assign_slug("C#", |s| Ok::<_, ()>(s == "c")).unwrap();
    assert_eq!(
        out.lines(),
        [format!(
            "section \"C#\": served at /categories/{sharp}.* (the slug \"c\" is another section's)"
        )],
        "{out}"
    );
}

#[test]
fn check_with_a_duplicate_and_a_reject_exits_1_and_lists_both() {
    let (dir, seeds) = workspace();
    write(&seeds, "a_original.txt", sample_article());
    write(&seeds, "b_copy.txt", sample_article());
    write(&seeds, "empty.txt", "");

    let out = check(dir.path(), &seeds);

    assert_eq!(out.code, Some(1), "{out}");
    let lines = out.lines();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("b_copy.txt") && l.contains("duplicate of")),
        "{out}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("empty.txt") && l.contains("rejected") && l.contains("empty")),
        "{out}"
    );
}

/// `a.txt` and `a.TXT` are both article names with the key `a`; the daemon publishes
/// one and rejects the other ("key conflict"), so `check` must report it too.
#[test]
fn check_reports_two_files_with_the_same_key_as_a_reject() {
    let (dir, seeds) = workspace();
    write(&seeds, "a.txt", article("One", "First text."));
    write(&seeds, "a.TXT", article("Two", "Second text."));

    let out = check(dir.path(), &seeds);

    assert_eq!(
        out.code,
        Some(1),
        "the daemon would reject one of them:\n{out}"
    );
    let lines = out.lines();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(lines[0].contains("rejected"), "{out}");
    assert!(lines[0].contains("key conflict"), "{out}");
}

#[test]
fn check_seeds_flag_beats_environment_beats_config_file() {
    let dir = tempfile::tempdir().expect("create a temp dir");
    let mut folders = Vec::new();
    for layer in ["file", "env", "flag"] {
        let folder = dir.path().join(layer);
        fs::create_dir(&folder).expect("create a seeds folder");
        write(&folder, &format!("{layer}_layer.txt"), "");
        folders.push(folder);
    }
    let config = write(
        dir.path(),
        "seedfeed.toml",
        format!("seeds = {:?}\n", folders[0].display().to_string()),
    );
    let base = || {
        let mut command = seedfeed(dir.path());
        command.arg("check").arg("--config").arg(&config);
        command
    };

    let out = run(&mut base());
    assert!(out.stdout.contains("file_layer.txt"), "{out}");

    let out = run(base().env("SEEDFEED_SEEDS", &folders[1]));
    assert!(out.stdout.contains("env_layer.txt"), "{out}");

    let out = run(base()
        .env("SEEDFEED_SEEDS", &folders[1])
        .arg("--seeds")
        .arg(&folders[2]));
    assert!(out.stdout.contains("flag_layer.txt"), "{out}");
    assert_eq!(out.lines().len(), 1, "{out}");
}

// ---------------------------------------------------------------------------------------
// seedfeed parse
// ---------------------------------------------------------------------------------------

#[test]
fn parse_prints_the_normalized_sample_article() {
    let (dir, seeds) = workspace();
    let file = write(&seeds, &format!("{SAMPLE_KEY}.txt"), sample_article());

    let entry = parse_one(dir.path(), &file);

    assert_eq!(str_field(&entry, "/key"), SAMPLE_KEY);
    let id = str_field(&entry, "/id");
    let uuid = id
        .strip_prefix("urn:uuid:")
        .unwrap_or_else(|| panic!("id {id:?} is not a urn:uuid:"));
    assert!(uuid::Uuid::parse_str(uuid).is_ok(), "{id}");
    assert_eq!(str_field(&entry, "/title"), "Mali: countercoup attempted");
    assert_eq!(str_field(&entry, "/section"), "Conflict & Justice");
    assert_eq!(str_field(&entry, "/category/term"), "Conflict & Justice");
    assert_eq!(str_field(&entry, "/category/slug"), "conflict-justice");
    assert!(
        str_field(&entry, "/caption").starts_with("Dioncounda Traore (L)"),
        "{entry:#}"
    );
    assert_eq!(
        entry["related"],
        serde_json::json!([
            "Mali coup: Soldiers overthrow government, loot presidential palace (VIDEO) (UPDATES)",
            "Army gets key posts in new Mali government",
        ])
    );
    let summary = str_field(&entry, "/summary");
    assert!(
        summary.starts_with("About one month after a group of soldiers"),
        "{summary}"
    );
    assert!(summary.chars().count() <= 280, "{summary}");
    let content = str_field(&entry, "/content_html");
    assert!(content.contains("<p>"), "{content}");
    assert!(
        !content.contains("<p>More from GlobalPost:"),
        "related lines are kept out of the body paragraphs: {content}"
    );
    let link = str_field(&entry, "/link");
    assert!(link.ends_with(&format!("/entries/{SAMPLE_KEY}/")), "{link}");
    assert!(
        link.starts_with("http://") || link.starts_with("https://"),
        "{link}"
    );
    published(&entry);
}

#[test]
fn parse_ids_are_stable_across_runs_and_folders() {
    let dir = tempfile::tempdir().expect("create a temp dir");
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    fs::create_dir(&one).expect("create a folder");
    fs::create_dir(&two).expect("create a folder");
    let name = format!("{SAMPLE_KEY}.txt");
    let first = write(&one, &name, sample_article());
    // Same key, other folder, even other content: the id follows the key alone.
    let elsewhere = write(&two, &name, article("Edited", "New text."));
    let other_key = write(&one, "another.txt", sample_article());

    let id = |file: &Path| str_field(&parse_one(dir.path(), file), "/id").to_owned();
    let id1 = id(&first);
    assert_eq!(id1, id(&first), "same id on a second run");
    assert_eq!(
        id1,
        id(&elsewhere),
        "same id for the same key in another folder"
    );
    assert_ne!(id1, id(&other_key), "another key has another id");
}

#[test]
fn parse_summary_is_cut_at_a_word_boundary_within_280_chars() {
    let (dir, seeds) = workspace();
    let paragraph: String = (0..200)
        .map(|i| format!("wörd{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let file = write(&seeds, "long.txt", article("Long", &paragraph));

    let entry = parse_one(dir.path(), &file);

    let summary = str_field(&entry, "/summary");
    assert!(summary.chars().count() <= 280, "{summary}");
    assert!(summary.chars().count() >= 200, "about 280 chars: {summary}");
    let kept = summary.trim_end_matches(['…', '.', ' ']);
    assert!(paragraph.starts_with(kept), "{summary}");
    assert!(
        paragraph[kept.len()..].starts_with(' '),
        "cut at a word boundary: {summary}"
    );
}

#[test]
fn parse_escapes_markup_from_the_article_text() {
    let (dir, seeds) = workspace();
    let file = write(
        &seeds,
        "xss.txt",
        "News\n\nTitle <script>alert(1)</script>\n\n\n\
         Caption <script>alert(2)</script>\n\n\n\n\
         Body <script>alert(3)</script> & <b>bold</b>.\n\n\
         More from GlobalPost: <script>alert(4)</script>\n",
    );

    let entry = parse_one(dir.path(), &file);

    let content = str_field(&entry, "/content_html");
    assert!(
        !content.to_ascii_lowercase().contains("<script"),
        "{content}"
    );
    assert!(!content.contains("<b>"), "{content}");
    assert!(content.contains("&lt;script&gt;"), "{content}");
}

#[test]
fn parse_published_is_the_file_mtime() {
    let (dir, seeds) = workspace();
    let file = write(&seeds, "dated.txt", article("Dated", "Text."));
    let when: DateTime<Utc> = "2012-04-30T12:00:00Z".parse().expect("a date");
    set_mtime(&file, when.into());

    let entry = parse_one(dir.path(), &file);

    assert_eq!(published(&entry), when, "{entry:#}");
}

#[test]
fn parse_published_is_never_in_the_future() {
    let (dir, seeds) = workspace();
    let file = write(&seeds, "future.txt", article("Future", "Text."));
    set_mtime(
        &file,
        SystemTime::now() + Duration::from_secs(10 * 365 * 24 * 3600),
    );

    let entry = parse_one(dir.path(), &file);

    assert!(published(&entry) <= Utc::now(), "{entry:#}");
}

#[test]
fn parse_link_starts_with_the_configured_base_url() {
    let (dir, seeds) = workspace();
    let file = write(&seeds, "linked.txt", article("Linked", "Text."));
    let config = write(
        dir.path(),
        "seedfeed.toml",
        "base_url = \"https://news.example.org/site/\"\n",
    );

    let out = run(seedfeed(dir.path())
        .arg("parse")
        .arg("--config")
        .arg(&config)
        .arg(&file));

    assert_eq!(out.code, Some(0), "{out}");
    let entries = out.json();
    assert_eq!(
        str_field(&entries[0], "/link"),
        "https://news.example.org/site/entries/linked/"
    );
}

#[test]
fn parse_prints_the_good_files_and_reports_a_rejected_one_on_stderr() {
    let (dir, seeds) = workspace();
    let first = write(&seeds, "first.txt", article("First", "One."));
    let empty = write(&seeds, "empty.txt", "");
    let binary = write(&seeds, "bin.txt", b"abc\x00def");
    let last = write(&seeds, "last.txt", article("Last", "Two."));

    let out = parse(dir.path(), &[&first, &empty, &binary, &last]);

    assert_eq!(out.code, Some(1), "{out}");
    let keys: Vec<_> = out
        .json()
        .iter()
        .map(|e| str_field(e, "/key").to_owned())
        .collect();
    assert_eq!(keys, ["first", "last"], "{out}");
    assert!(
        out.stderr
            .lines()
            .any(|l| l.contains("empty.txt") && l.contains("empty")),
        "{out}"
    );
    assert!(
        out.stderr
            .lines()
            .any(|l| l.contains("bin.txt") && l.contains("binary")),
        "{out}"
    );
}

#[test]
fn parse_reports_a_missing_file_and_still_prints_the_others() {
    let (dir, seeds) = workspace();
    let good = write(&seeds, "good.txt", article("Good", "Text."));
    let missing = seeds.join("missing.txt");

    let out = parse(dir.path(), &[&good, &missing]);

    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(out.json().len(), 1, "{out}");
    assert!(out.stderr.contains("missing.txt"), "{out}");
}

#[test]
fn parse_reports_a_file_in_a_missing_folder_and_still_prints_the_others() {
    let (dir, seeds) = workspace();
    let good = write(&seeds, "good.txt", article("Good", "Text."));
    let missing = dir.path().join("no-such-folder").join("missing.txt");

    let out = parse(dir.path(), &[&good, &missing]);

    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("missing.txt"), "{out}");
    assert_eq!(
        out.json().len(),
        1,
        "one bad path must not hide the other files"
    );
}

#[test]
fn parse_without_files_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("create a temp dir");
    let out = run(seedfeed(dir.path()).arg("parse"));
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("FILE"), "{out}");
}

// ---------------------------------------------------------------------------------------
// configuration errors
// ---------------------------------------------------------------------------------------

#[test]
fn unknown_config_key_fails_naming_the_key_and_the_file() {
    let (dir, seeds) = workspace();
    for (name, toml, key) in [
        ("top.toml", "feed_sise = 3\n", "feed_sise"),
        ("table.toml", "[feed]\ntitel = \"News\"\n", "titel"),
    ] {
        let config = write(dir.path(), name, toml);
        let by_flag = check_with_config(dir.path(), &config, &seeds);
        let by_env = run(seedfeed(dir.path())
            .env("SEEDFEED_CONFIG", &config)
            .arg("check")
            .arg("--seeds")
            .arg(&seeds));
        for out in [by_flag, by_env] {
            assert_ne!(out.code, Some(0), "{out}");
            assert!(out.stderr.contains(key), "names {key}:\n{out}");
            assert!(
                out.stderr.contains(&config.display().to_string()),
                "names the file:\n{out}"
            );
        }
    }
}

#[test]
fn missing_config_file_fails_naming_it() {
    let (dir, seeds) = workspace();
    let config = dir.path().join("nowhere.toml");
    let out = check_with_config(dir.path(), &config, &seeds);
    assert_ne!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains(&config.display().to_string()), "{out}");
}

#[test]
fn malformed_environment_number_fails_naming_the_variable() {
    let (dir, seeds) = workspace();
    let out = run(seedfeed(dir.path())
        .env("SEEDFEED_FEED_SIZE", "many")
        .arg("check")
        .arg("--seeds")
        .arg(&seeds));
    assert_ne!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains("SEEDFEED_FEED_SIZE"), "{out}");
    assert!(out.stderr.contains("many"), "{out}");
}

#[test]
fn unknown_environment_variable_fails_naming_it() {
    let (dir, seeds) = workspace();
    let out = run(seedfeed(dir.path())
        .env("SEEDFEED_FEEDSIZE", "3")
        .arg("check")
        .arg("--seeds")
        .arg(&seeds));
    assert_ne!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains("SEEDFEED_FEEDSIZE"), "{out}");
}

#[test]
fn invalid_config_value_fails_naming_the_key() {
    let (dir, seeds) = workspace();
    let config = write(dir.path(), "seedfeed.toml", "feed_size = 0\n");
    let out = check_with_config(dir.path(), &config, &seeds);
    assert_ne!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains("feed_size"), "{out}");
    // A word outside a fixed set: the key, the value, what is expected and the file.
    let config = write(
        dir.path(),
        "content.toml",
        "[feed]\ncontent = \"excerpt\"\n",
    );
    let out = check_with_config(dir.path(), &config, &seeds);
    assert_ne!(out.code, Some(0), "{out}");
    let expected = format!(
        "config key `feed.content`: \"excerpt\" is not full (the whole article) or summary \
         (its first paragraph) (set in {})",
        config.display()
    );
    assert!(out.stderr.contains(&expected), "{out}");
}

#[test]
fn missing_seeds_folder_fails_naming_it() {
    let dir = tempfile::tempdir().expect("create a temp dir");
    let seeds = dir.path().join("no-such-seeds");
    let out = check(dir.path(), &seeds);
    assert_ne!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains(&seeds.display().to_string()), "{out}");
    assert!(out.lines().is_empty(), "{out}");
}

#[test]
fn default_seeds_folder_is_seeds_in_the_working_directory() {
    let (dir, seeds) = workspace();
    write(&seeds, "empty.txt", "");
    let out = run(seedfeed(dir.path()).arg("check"));
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stdout.contains("empty.txt"), "{out}");
}

// ---------------------------------------------------------------------------------------
// --help
// ---------------------------------------------------------------------------------------

fn help(args: &[&str]) -> Outcome {
    let dir = tempfile::tempdir().expect("create a temp dir");
    let out = run(seedfeed(dir.path()).args(args).arg("--help"));
    assert_eq!(out.code, Some(0), "{out}");
    out
}

fn assert_lists(out: &Outcome, words: &[&str]) {
    let missing: Vec<_> = words.iter().filter(|w| !out.stdout.contains(*w)).collect();
    assert!(missing.is_empty(), "help does not list {missing:?}:\n{out}");
}

#[test]
fn help_lists_the_subcommands() {
    let out = help(&[]);
    let commands: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for command in ["serve", "check", "parse", "render", "status"] {
        assert!(
            commands.contains(&command),
            "no `{command}` subcommand:\n{out}"
        );
    }
}

#[test]
fn serve_help_lists_the_flags_of_the_design() {
    let out = help(&["serve"]);
    assert_lists(
        &out,
        &["--config", "--seeds", "--data", "--listen", "--base-url"],
    );
}

#[test]
fn check_help_lists_the_flags_of_the_design() {
    let out = help(&["check"]);
    assert_lists(&out, &["--config", "--seeds"]);
}

#[test]
fn parse_help_lists_its_file_arguments() {
    let out = help(&["parse"]);
    assert_lists(&out, &["<FILE>..."]);
}

/// With the daemon's database beside it, `check` says since when each file has been set
/// aside (it reads the database, and writes nothing).
#[test]
fn check_says_since_when_a_file_has_been_set_aside() {
    let (dir, seeds) = workspace();
    write(&seeds, "empty.txt", "");
    let mut store = seedfeed::store::Store::open(&dir.path().join("data")).unwrap();
    let since = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z").unwrap();
    store
        .apply(
            &[rejected(
                "empty.txt",
                "empty",
                seedfeed::model::FileStamp::UNKNOWN,
                seedfeed::model::RejectReason::Empty,
            )],
            since.with_timezone(&Utc),
        )
        .unwrap();
    drop(store);

    let out = check(dir.path(), &seeds);

    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.lines()
            .iter()
            .any(|l| l.contains("empty.txt") && l.ends_with("(since 2026-01-02T03:04:05Z)")),
        "{out}"
    );
}

// ---------------------------------------------------------------------------------------
// errors a person can act on
// ---------------------------------------------------------------------------------------

const NOT_AN_ARTICLE: &str =
    "not an article: only .txt, .md, .markdown, .html and .htm files are read";

/// Each file that is not an article is listed once, with the reason; hidden files,
/// temporaries and media files (assets, served under /media/) are not; none of it is a
/// reject.
#[test]
fn check_lists_each_file_that_is_not_an_article_once_and_exits_0() {
    let (dir, seeds) = workspace();
    write(&seeds, "good.txt", article("Good", "Body."));
    for name in [
        "notes.odt",
        "page.php",
        "notes.docx",
        ".hidden.md",
        "good.txt.swp",
        "draft.md~",
        "4913",
        "photo.jpg",
        "episode.MP3",
    ] {
        write(&seeds, name, "Title\n");
    }
    fs::create_dir(seeds.join("2026")).expect("create a subfolder");
    write(&seeds.join("2026"), "README", "Title\n");

    let out = check(dir.path(), &seeds);

    assert_eq!(out.code, Some(0), "{out}");
    let expected: Vec<String> = ["2026/README", "notes.docx", "notes.odt", "page.php"]
        .iter()
        .map(|path| format!("{}: {NOT_AN_ARTICLE}", seeds.join(path).display()))
        .collect();
    assert_eq!(out.lines(), expected, "{out}");
}

/// A folder given to `parse` stands for its articles, chosen as the daemon chooses them;
/// a file that is not an article is named on stderr without failing, a reject fails.
#[test]
fn parse_given_a_folder_parses_the_articles_in_it() {
    let (dir, seeds) = workspace();
    let first = write(&seeds, "a.txt", article("First", "One."));
    fs::create_dir(seeds.join("2026")).expect("create a subfolder");
    let second = write(&seeds.join("2026"), "b.txt", article("Second", "Two."));
    write(&seeds, "notes.odt", "# Notes\n");
    write(&seeds, ".hidden.txt", article("Hidden", "No."));
    write(&seeds, "a.txt.swp", "swap");

    let out = parse(dir.path(), &[&seeds]);

    assert_eq!(out.code, Some(0), "{out}");
    let parsed: Vec<(String, String)> = out
        .json()
        .iter()
        .map(|e| {
            (
                str_field(e, "/file").to_owned(),
                str_field(e, "/title").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        parsed,
        [
            (second.display().to_string(), "Second".to_owned()),
            (first.display().to_string(), "First".to_owned()),
        ],
        "{out}"
    );
    assert_eq!(
        out.stderr.trim(),
        format!(
            "{}: skipped: {NOT_AN_ARTICLE}",
            seeds.join("notes.odt").display()
        ),
        "{out}"
    );

    write(&seeds, "empty.txt", "");
    let out = parse(dir.path(), &[&seeds]);
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(out.json().len(), 2, "{out}");
    assert!(
        out.stderr
            .lines()
            .any(|l| l.contains("empty.txt: rejected")),
        "{out}"
    );
}

/// `seedfeed render` into `out`, from `seeds`, with the database in `./data`.
fn render(cwd: &Path, seeds: &Path) -> Outcome {
    run(seedfeed(cwd)
        .arg("render")
        .arg("--out")
        .arg(cwd.join("out"))
        .arg("--seeds")
        .arg(seeds))
}

/// A new database is one log line, with its schema version, not a line per migration;
/// an up-to-date one logs neither.
#[test]
fn a_new_database_logs_one_line() {
    let (dir, seeds) = workspace();
    let first = render(dir.path(), &seeds);
    assert_eq!(first.code, Some(0), "{first}");
    let created: Vec<&str> = first
        .stderr
        .lines()
        .filter(|l| l.contains("created the database"))
        .collect();
    assert_eq!(created.len(), 1, "{first}");
    assert!(
        created[0].contains("path=data/seedfeed.db") && created[0].contains("schema_version="),
        "{first}"
    );
    assert!(!first.stderr.contains("migrated"), "{first}");

    let second = render(dir.path(), &seeds);
    assert_eq!(second.code, Some(0), "{second}");
    assert!(
        !second.stderr.contains("created the database") && !second.stderr.contains("migrated"),
        "{second}"
    );
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod a test folder");
}

/// A data folder that cannot be written is named, with the system's reason, not
/// SQLite's "Error code 14". Permissions do not refuse root: as root the binary runs as
/// nobody (setpriv); without setpriv the test says so and checks nothing.
#[test]
fn a_data_folder_that_cannot_be_written_is_named_with_the_reason() {
    let (dir, seeds) = workspace();
    let data = dir.path().join("data");
    fs::create_dir(&data).expect("create data/");
    // Anyone may read and list the folders; no one but root may write in data/.
    set_mode(dir.path(), 0o755);
    set_mode(&seeds, 0o755);
    set_mode(&data, 0o555);
    let probe = data.join("probe");
    let mut command = if fs::write(&probe, "").is_ok() {
        fs::remove_file(&probe).expect("remove the probe");
        let setpriv = Command::new("setpriv").arg("--version").output();
        if !setpriv.is_ok_and(|out| out.status.success()) {
            eprintln!("skipped: permissions do not refuse this user, and there is no setpriv");
            return;
        }
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_seedfeed"))
            .env_clear()
            .current_dir(dir.path());
        command
    } else {
        seedfeed(dir.path())
    };
    command
        .arg("render")
        .arg("--out")
        .arg(dir.path().join("out"))
        .arg("--seeds")
        .arg(&seeds)
        .arg("--data")
        .arg(&data);

    let out = run(&mut command);

    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stderr
            .contains(&format!("cannot write in data folder {}", data.display())),
        "{out}"
    );
    assert!(
        out.stderr.to_lowercase().contains("permission denied"),
        "{out}"
    );
    assert!(!out.stderr.contains("Error code"), "{out}");
}

/// A value of the wrong type says what is expected in words, from the file and from the
/// environment; a flag's bad value names the flag.
#[test]
fn bad_values_say_what_is_expected_in_words_in_every_layer() {
    let (dir, seeds) = workspace();
    let config = write(dir.path(), "seedfeed.toml", "settle_ms = \"fast\"\n");
    let from_file = check_with_config(dir.path(), &config, &seeds);
    assert!(
        from_file.stderr.contains(&config.display().to_string()),
        "{from_file}"
    );
    let from_env = run(seedfeed(dir.path())
        .env("SEEDFEED_SETTLE_MS", "fast")
        .arg("check")
        .arg("--seeds")
        .arg(&seeds));
    for out in [&from_file, &from_env] {
        assert_eq!(out.code, Some(2), "{out}");
        for words in [
            "settle_ms",
            "\"fast\"",
            "is not a whole number of milliseconds",
        ] {
            assert!(out.stderr.contains(words), "{words}:\n{out}");
        }
        assert!(!out.stderr.contains("expected"), "{out}");
    }
    let from_flag = run(seedfeed(dir.path())
        .args(["serve", "--listen", "8080", "--seeds"])
        .arg(&seeds));
    assert_eq!(from_flag.code, Some(2), "{from_flag}");
    for words in [
        "`listen`",
        "\"8080\" is not an address like 127.0.0.1:8080",
        "set by --listen",
    ] {
        assert!(from_flag.stderr.contains(words), "{words}:\n{from_flag}");
    }
}

/// An unknown key or variable names the one meant.
#[test]
fn unknown_keys_and_variables_suggest_the_one_meant() {
    let (dir, seeds) = workspace();
    let config = write(dir.path(), "seedfeed.toml", "[feed]\ntitel = \"News\"\n");
    let out = check_with_config(dir.path(), &config, &seeds);
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stderr.contains(&format!(
            "config file {}: unknown key `titel` in [feed]; did you mean `title`?",
            config.display()
        )),
        "{out}"
    );
    let out = run(seedfeed(dir.path())
        .env("SEEDFEED_FEED_SIZ", "3")
        .arg("check")
        .arg("--seeds")
        .arg(&seeds));
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stderr.contains("did you mean SEEDFEED_FEED_SIZE?"),
        "{out}"
    );
}
