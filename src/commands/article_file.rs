//! Article files as `seedfeed new` and `seedfeed import` write them: TOML front matter
//! between `+++` lines, then the body. The front matter is written by the `toml`
//! serializer under the field names the front-matter reader accepts (`title`, `date`,
//! `updated`, `id`, `draft`, `section`, `tags`, `summary`, `image`, `image_alt`,
//! `link`, `comments`, `lang`, `authors`), so no value can break out of its string.
//! Also here: the slug a file is named after, and the two ways a file is put in place
//! (a new file that must not exist yet; a file written or replaced whole, by rename).

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::model::{FrontMatter, Person};
use crate::normalize::slugify;

/// The longest slug a file name gets, so that the name stays well under the 255 bytes
/// filesystems allow, with room for a suffix and the extension.
pub const MAX_SLUG: usize = 80;

/// The line that opens and closes TOML front matter.
const FENCE: &str = "+++";

#[derive(Debug, thiserror::Error)]
pub enum ArticleFileError {
    #[error("front matter: {0}")]
    Serialize(#[from] toml::ser::Error),
    #[error("{} already exists", .0.display())]
    Exists(PathBuf),
    #[error("{} is a symlink; not written through", .0.display())]
    Symlink(PathBuf),
    #[error("{} is not a regular file", .0.display())]
    NotAFile(PathBuf),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ArticleFileError + '_ {
    move |source| ArticleFileError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The front matter as written: the fields of [`FrontMatter`] under the names the
/// reader takes, empty ones left out, `authors` last because tables must follow the
/// plain keys in TOML.
#[derive(Serialize)]
struct Written<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    draft: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    section: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_alt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comments: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lang: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authors: Option<Authors<'a>>,
}

/// Authors as names when none has more than a name (`authors = ["Ada"]`), else all as
/// tables with `name`, `email`, `uri`.
#[derive(Serialize)]
#[serde(untagged)]
enum Authors<'a> {
    Names(Vec<String>),
    People(Vec<PersonOut<'a>>),
}

#[derive(Serialize)]
struct PersonOut<'a> {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<&'a str>,
}

/// One line of text: runs of whitespace, line breaks included, become one space. Every
/// value is written on one line, so none can hold a line that closes the front matter
/// (the serializer writes a value with a line break as a multi-line string).
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn one_line_opt(text: &Option<String>) -> Option<String> {
    text.as_deref().map(one_line).filter(|t| !t.is_empty())
}

/// RFC 3339 in UTC, with fractions of a second only when the date has them.
pub fn rfc3339(date: &DateTime<Utc>) -> String {
    date.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn authors(people: &[Person]) -> Option<Authors<'_>> {
    let people: Vec<&Person> = people
        .iter()
        .filter(|p| !one_line(&p.name).is_empty())
        .collect();
    if people.is_empty() {
        return None;
    }
    if people.iter().all(|p| p.email.is_none() && p.uri.is_none()) {
        return Some(Authors::Names(
            people.iter().map(|p| one_line(&p.name)).collect(),
        ));
    }
    Some(Authors::People(
        people
            .iter()
            .map(|p| PersonOut {
                name: one_line(&p.name),
                email: p.email.as_deref().map(str::trim),
                uri: p.uri.as_deref().map(str::trim),
            })
            .collect(),
    ))
}

/// The TOML of `front`, without the fences.
pub fn front_matter_toml(front: &FrontMatter) -> Result<String, ArticleFileError> {
    let written = Written {
        title: one_line_opt(&front.title),
        date: front.published.as_ref().map(rfc3339),
        updated: front.updated.as_ref().map(rfc3339),
        id: one_line_opt(&front.id),
        draft: front.draft,
        section: one_line_opt(&front.section),
        tags: front
            .tags
            .iter()
            .map(|t| one_line(t))
            .filter(|t| !t.is_empty())
            .collect(),
        summary: one_line_opt(&front.summary),
        image: one_line_opt(&front.image),
        image_alt: one_line_opt(&front.image_alt),
        link: one_line_opt(&front.link),
        comments: one_line_opt(&front.comments),
        lang: one_line_opt(&front.lang),
        authors: authors(&front.authors),
    };
    Ok(toml::to_string(&written)?)
}

/// The whole file: front matter between `+++` lines, a blank line, then `body` (which
/// may be empty), ending with a line end.
pub fn article_text(front: &FrontMatter, body: &str) -> Result<String, ArticleFileError> {
    let toml = front_matter_toml(front)?;
    let mut text = format!("{FENCE}\n{toml}{FENCE}\n\n{body}");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// HTML as the body of a Markdown file, passed through untouched: one HTML block
/// (CommonMark §4.6, kind 6, opened by `<div>`) that runs to the first blank line, so the
/// HTML has none. A blank line becomes `&#32;`, a space to HTML: outside `<pre>` one more
/// space among many, inside it the empty line it was (with a space on it). Without this,
/// text that does not open with a block tag would be read as Markdown (`*`, `_`), and an
/// indented line after a blank one as a code block.
pub fn html_body(html: &str) -> String {
    // Line ends of any kind become `\n`; other control characters go (a NUL would make
    // the file binary to the reader).
    let html: String = html
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    let mut body = String::with_capacity(html.len() + 16);
    body.push_str("<div>\n");
    for line in html.trim().lines() {
        if line.trim().is_empty() {
            body.push_str("&#32;");
        } else {
            body.push_str(line);
        }
        body.push('\n');
    }
    body.push_str("</div>\n");
    body
}

/// The `id` of a file this module wrote, read back from its front matter: what a
/// re-import compares. `None` when the file has no TOML front matter or no id.
pub fn written_id(text: &str) -> Option<String> {
    let rest = text.strip_prefix("+++\n")?;
    let end = rest.find("\n+++\n")?;
    let table: toml::Table = rest[..end].parse().ok()?;
    table.get("id")?.as_str().map(str::to_owned)
}

/// The slug of a title for a file name: lower-case ASCII letters and digits joined by
/// hyphens, at most [`MAX_SLUG`] bytes, cut at a hyphen; `untitled` when the title has
/// nothing to keep (only punctuation, or a script that does not transliterate).
pub fn file_slug(title: &str) -> String {
    let has_letters = deunicode::deunicode(title)
        .chars()
        .any(|c| c.is_ascii_alphanumeric());
    if !has_letters {
        return "untitled".to_owned();
    }
    let slug = slugify(title);
    if slug.len() <= MAX_SLUG {
        return slug;
    }
    // ASCII, so every index is a char boundary.
    let cut = &slug[..MAX_SLUG];
    match cut.rfind('-') {
        Some(hyphen) if hyphen > 0 => cut[..hyphen].to_owned(),
        _ => cut.to_owned(),
    }
}

/// Writes `text` to `dir/name`, which must not exist: an existing file (or symlink, or
/// anything else) of that name is an error naming it, never overwritten or followed.
pub fn write_new(dir: &Path, name: &str, text: &str) -> Result<PathBuf, ArticleFileError> {
    let path = dir.join(name);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|source| match source.kind() {
            io::ErrorKind::AlreadyExists => ArticleFileError::Exists(path.clone()),
            _ => io_error(&path)(source),
        })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_error(&path))?;
    Ok(path)
}

/// What is at `path` now, for a writer about to replace it: `None` when nothing is; an
/// error for a symlink or anything but a regular file, which is never written through.
pub fn existing(path: &Path) -> Result<Option<Vec<u8>>, ArticleFileError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path)(e)),
    };
    if meta.file_type().is_symlink() {
        return Err(ArticleFileError::Symlink(path.to_owned()));
    }
    if !meta.is_file() {
        return Err(ArticleFileError::NotAFile(path.to_owned()));
    }
    fs::read(path).map(Some).map_err(io_error(path))
}

/// Writes `text` as `dir/name` whole: into a hidden temporary beside it (which the
/// watcher ignores), then renamed over it, so a daemon watching `dir` never reads half a
/// file. The caller has checked with [`existing`] that the name is not a symlink.
pub fn write_replacing(dir: &Path, name: &str, text: &str) -> Result<PathBuf, ArticleFileError> {
    let path = dir.join(name);
    let temporary_name = format!(".{name}.tmp");
    let temporary = dir.join(&temporary_name);
    // A temporary left by an interrupted run goes first; removing a symlink removes the
    // link, not what it points to.
    match fs::remove_file(&temporary) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_error(&temporary)(e)),
        _ => {}
    }
    write_new(dir, &temporary_name, text)?;
    fs::rename(&temporary, &path).map_err(io_error(&path))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn front() -> FrontMatter {
        FrontMatter {
            title: Some("Hello".into()),
            published: Some(Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap()),
            ..FrontMatter::default()
        }
    }

    #[test]
    fn writes_toml_between_fences_with_the_reader_s_names() {
        let mut front = front();
        front.tags = vec!["a".into(), "b".into()];
        front.draft = true;
        let text = article_text(&front, "").unwrap();
        assert_eq!(
            text,
            "+++\ntitle = \"Hello\"\ndate = \"2024-05-06T07:08:09Z\"\ndraft = true\ntags = [\"a\", \"b\"]\n+++\n\n"
        );
    }

    #[test]
    fn no_value_can_close_the_front_matter() {
        let mut front = front();
        front.title = Some("a\n+++\nb".into());
        front.id = Some("x\r\n+++\r\ny".into());
        front.tags = vec!["t\n+++\n".into()];
        front.authors = vec![Person {
            name: "n\n+++".into(),
            email: Some("e@x".into()),
            uri: None,
        }];
        let text = article_text(&front, "body").unwrap();
        let fences = text.lines().filter(|l| l.trim() == FENCE).count();
        assert_eq!(fences, 2, "{text}");
        assert_eq!(written_id(&text).as_deref(), Some("x +++ y"));
    }

    #[test]
    fn authors_are_names_or_tables() {
        let mut front = front();
        front.authors = vec![Person {
            name: "Ada".into(),
            ..Person::default()
        }];
        let table: toml::Table = front_matter_toml(&front).unwrap().parse().unwrap();
        assert_eq!(table["authors"], toml::Value::from(vec!["Ada"]));
        front.authors.push(Person {
            name: "Bob".into(),
            email: Some("bob@example.org".into()),
            uri: None,
        });
        let table: toml::Table = front_matter_toml(&front).unwrap().parse().unwrap();
        let authors = table["authors"].as_array().unwrap();
        assert_eq!(authors[0]["name"].as_str(), Some("Ada"));
        assert_eq!(authors[1]["email"].as_str(), Some("bob@example.org"));
    }

    #[test]
    fn slugs_are_short_ascii_and_never_empty() {
        let cases = [
            ("Hello, World!", "hello-world"),
            ("../../etc/passwd", "etc-passwd"),
            ("<script>alert(1)</script>", "script-alert-1-script"),
            ("?!… — ***", "untitled"),
            ("", "untitled"),
            ("Santé à Paris", "sante-a-paris"),
        ];
        for (title, slug) in cases {
            assert_eq!(file_slug(title), slug, "{title:?}");
        }
        let long = "word ".repeat(60);
        let slug = file_slug(&long);
        assert!(slug.len() <= MAX_SLUG && !slug.ends_with('-'), "{slug}");
    }

    #[test]
    fn html_bodies_have_no_blank_line() {
        let body = html_body("Text with *stars*\r\n\r\n    <p>indented</p>\n<pre>a\n\nb</pre>\0");
        assert_eq!(
            body,
            "<div>\nText with *stars*\n&#32;\n    <p>indented</p>\n<pre>a\n&#32;\nb</pre>\n</div>\n"
        );
    }

    #[test]
    fn write_new_refuses_what_exists_and_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        write_new(dir.path(), "a.md", "one").unwrap();
        let again = write_new(dir.path(), "a.md", "two").unwrap_err();
        assert!(matches!(again, ArticleFileError::Exists(_)), "{again}");
        assert_eq!(fs::read_to_string(dir.path().join("a.md")).unwrap(), "one");
        let outside = dir.path().join("outside");
        std::os::unix::fs::symlink(&outside, dir.path().join("b.md")).unwrap();
        assert!(write_new(dir.path(), "b.md", "x").is_err());
        assert!(matches!(
            existing(&dir.path().join("b.md")),
            Err(ArticleFileError::Symlink(_))
        ));
        assert!(!outside.exists());
    }
}
