//! An article's references to media files beside it: `image:`, `enclosure:`,
//! `transcript:`, `chapters:`, the `src` of `<img>`, `<audio>`, `<video>` and `<source>`
//! and a video's `poster` in the body, and the `href` of links to audio or video. Which
//! of them are local ([`local_path`]: resolved against the article's folder, never out
//! of it), the paths the reader probes ([`References::paths`]: the references, and for an
//! episode the transcript and chapters named after it, [`companion_paths`]), and, from
//! what the probes said ([`ArticleMedia`]), the entry's image, enclosure, transcript and
//! chapters, the body's rewrites and the warnings. Pure: the reader opens and probes the
//! files, and passes what it found in.

use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;

use percent_encoding::{percent_decode_str, utf8_percent_encode};
use url::Url;

use super::PATH_SEGMENT;
use super::sanitize::{BodyMedia, decode_reference};
use crate::model::{Article, Companion, Enclosure, FrontEnclosure, Image};
use crate::parse::media::{MediaFormat, MediaInfo, MediaKind, media_format};

/// What the reader found of an article's local media references: the article's path in
/// the seeds folder, and for each media file path it references, the file's header facts
/// or why it could not be read (a missing file, a refused one, a header that lies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticleMedia {
    /// The article's path below the seeds folder (`posts/a.md`).
    pub path: String,
    /// Its references, as [`media_references`] read them.
    pub references: References,
    pub files: HashMap<String, Result<MediaInfo, String>>,
}

/// A reference that names a file beside the article: no scheme, no `//`, not from the
/// root. `Ok` with the path below the seeds folder it names (percent-decoded, `.` and
/// `..` applied against the folder of `article`, query and fragment dropped); `Err` with
/// why it names none (it leaves the folder). `None` for any other reference.
pub fn local_path(article: &str, reference: &str) -> Option<Result<String, &'static str>> {
    let reference = reference.trim();
    let local = !reference.is_empty()
        && !reference.starts_with(['/', '#', '?'])
        && !reference.contains("//")
        && !has_scheme(reference);
    if !local {
        return None;
    }
    let end = reference.find(['?', '#']).unwrap_or(reference.len());
    let Ok(decoded) = percent_decode_str(&reference[..end]).decode_utf8() else {
        return Some(Err("not UTF-8 once percent-decoded"));
    };
    if decoded.contains('\0') {
        return Some(Err("a NUL in the path"));
    }
    let mut parts: Vec<&str> = article.split('/').collect();
    // The article's own name: a reference is relative to its folder.
    parts.pop();
    parts.retain(|part| !part.is_empty());
    for part in decoded.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Some(Err("leaves the seeds folder"));
                }
            }
            part => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Some(Err("names the seeds folder itself"));
    }
    Some(Ok(parts.join("/")))
}

/// Whether a reference starts with a URL scheme (`https:`, `mailto:`, `data:`).
fn has_scheme(reference: &str) -> bool {
    let Some(colon) = reference.find(':') else {
        return false;
    };
    let scheme = &reference[..colon];
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The URL a media file is served at: `{base}/media/` and its path, each part
/// percent-encoded.
pub fn media_url(base_url: &str, path: &str) -> String {
    let mut url = format!("{base_url}/media");
    for part in path.split('/') {
        url.push('/');
        url.extend(utf8_percent_encode(part, PATH_SEGMENT));
    }
    url
}

/// Where a reference is in the article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Image,
    Enclosure,
    Transcript,
    Chapters,
    BodyImage,
    BodyLink,
    /// The `src` of `<audio>`, `<video>` or `<source>`, or a video's `poster`: any media
    /// file, as an `<img>`'s.
    BodyEmbed,
}

impl Origin {
    fn name(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Enclosure => "enclosure",
            Self::Transcript => "transcript",
            Self::Chapters => "chapters",
            Self::BodyImage => "image in the body",
            Self::BodyLink => "link in the body",
            Self::BodyEmbed => "media in the body",
        }
    }

    /// Whether a file of `kind` is a media reference here: the body's images are not
    /// transcripts, its links are media only to audio or video; the front matter's
    /// fields take any media file (and say when it is the wrong one).
    fn takes(self, kind: MediaKind) -> bool {
        match self {
            Self::BodyImage | Self::BodyEmbed => kind != MediaKind::Text,
            Self::BodyLink => matches!(kind, MediaKind::Audio | MediaKind::Video),
            Self::Image | Self::Enclosure | Self::Transcript | Self::Chapters => true,
        }
    }

    /// The formats a transcript or chapters beside the article may be, and how to name
    /// one; `None` for the other references.
    fn companion_formats(self) -> Option<(&'static [MediaFormat], &'static str)> {
        match self {
            Self::Transcript => Some((
                &[MediaFormat::Vtt, MediaFormat::Srt],
                "a transcript beside the article is a .vtt or .srt file",
            )),
            Self::Chapters => Some((
                &[MediaFormat::Chapters],
                "chapters beside the article are a {name}.chapters.json file",
            )),
            Self::Image | Self::Enclosure | Self::BodyImage | Self::BodyLink | Self::BodyEmbed => {
                None
            }
        }
    }
}

/// An article's media references, read once for both the reader (which files to probe:
/// [`Self::paths`]) and [`resolve`]: each with where it is and what [`local_path`] made
/// of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    list: Vec<Reference>,
}

/// One reference: where it is, as written, and the local path it names ([`local_path`]).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reference {
    origin: Origin,
    text: String,
    local: Option<Result<String, &'static str>>,
}

/// The references of the article at `path`, in order: the front matter's, then the
/// body's.
pub fn media_references(article: &Article, path: &str) -> References {
    let front = &article.front;
    let mut found = Vec::new();
    if let Some(image) = &front.image {
        found.push((Origin::Image, image.clone()));
    }
    if let Some(enclosure) = &front.enclosure {
        found.push((Origin::Enclosure, enclosure.url.clone()));
    }
    if let Some(transcript) = &front.episode.transcript {
        found.push((Origin::Transcript, transcript.clone()));
    }
    if let Some(chapters) = &front.episode.chapters {
        found.push((Origin::Chapters, chapters.clone()));
    }
    if let Some(body) = &article.body {
        found.extend(body_references(&body.html));
    }
    let list = found
        .into_iter()
        .map(|(origin, text)| Reference {
            local: local_path(path, &text),
            origin,
            text,
        })
        .collect();
    References { list }
}

impl References {
    /// The media file paths the article references locally, each once, for the reader
    /// to open and probe. A body link counts only to audio or video. An episode (an
    /// article with an enclosure) also has its [`companion_paths`] probed, for a
    /// transcript or chapters its front matter does not name.
    pub fn paths(&self, path: &str) -> Vec<String> {
        let mut paths: Vec<String> = Vec::new();
        for reference in &self.list {
            let Some(Ok(local)) = &reference.local else {
                continue;
            };
            let Some(format) = media_format(local) else {
                continue;
            };
            if reference.origin.takes(format.kind()) && !paths.contains(local) {
                paths.push(local.clone());
            }
        }
        if self.episode() {
            for (origin, candidate) in companions(path) {
                let named = self.list.iter().any(|r| r.origin == origin);
                if !named && !paths.contains(&candidate) {
                    paths.push(candidate);
                }
            }
        }
        paths
    }

    /// Whether the references give the article an enclosure: an `enclosure:` field, or
    /// a body link to audio or video, or a player of one.
    fn episode(&self) -> bool {
        self.list.iter().any(|reference| match reference.origin {
            Origin::Enclosure => true,
            Origin::BodyLink | Origin::BodyEmbed => {
                let target = match &reference.local {
                    Some(Ok(local)) => local,
                    _ => &reference.text,
                };
                media_format(target).is_some_and(|f| Origin::BodyLink.takes(f.kind()))
            }
            _ => false,
        })
    }
}

/// The files that go with the episode at `article` by their name: beside it, with its
/// name and `.vtt` or `.srt` (a transcript, the first found wins), or `.chapters.json`
/// (its chapters). `posts/ep1.md` has `posts/ep1.vtt`, `posts/ep1.srt` and
/// `posts/ep1.chapters.json`. None is a warning when it is missing.
pub fn companion_paths(article: &str) -> impl Iterator<Item = String> {
    companions(article).into_iter().map(|(_, path)| path)
}

/// [`companion_paths`], each with what it would be.
fn companions(article: &str) -> [(Origin, String); 3] {
    let stem = match article.rsplit_once('/') {
        Some((folder, name)) => {
            let name = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
            format!("{folder}/{name}")
        }
        None => article
            .rsplit_once('.')
            .map_or(article, |(stem, _)| stem)
            .to_owned(),
    };
    [
        (Origin::Transcript, format!("{stem}.vtt")),
        (Origin::Transcript, format!("{stem}.srt")),
        (Origin::Chapters, format!("{stem}.chapters.json")),
    ]
}

/// What the references make of the entry.
#[derive(Debug, Default)]
pub(super) struct Resolved {
    /// The front matter's local image; `None` to keep what the metadata made of it.
    pub(super) image: Option<Option<Image>>,
    pub(super) enclosure: Option<Enclosure>,
    pub(super) transcript: Option<Companion>,
    pub(super) chapters: Option<Companion>,
    /// The body's local references, by the URL the sanitizer writes for each.
    pub(super) body: HashMap<String, BodyMedia>,
    pub(super) warnings: Vec<String>,
}

/// The entry's image, enclosure and body rewrites from an article's references and what
/// the reader found of its files; `page` is the entry page's URL (what the sanitizer
/// resolves the body's references against), `base_url` the site's.
pub(super) fn resolve(
    article: &Article,
    media: &ArticleMedia,
    page: &Url,
    base_url: &str,
) -> Resolved {
    let mut resolver = Resolver {
        article,
        media,
        page,
        base_url,
        resolved: Resolved::default(),
        linked: None,
    };
    for reference in &media.references.list {
        resolver.reference(reference);
    }
    if media.references.episode() {
        resolver.companions_by_name();
    }
    let Resolver {
        mut resolved,
        linked,
        ..
    } = resolver;
    match &article.front.enclosure {
        None => resolved.enclosure = linked,
        Some(front)
            if resolved.enclosure.is_none() && local_path(&media.path, &front.url).is_none() =>
        {
            resolved.enclosure = remote_enclosure(page, front, &mut resolved.warnings);
        }
        Some(_) => {}
    }
    resolved
}

/// The references of one article, resolved one by one.
struct Resolver<'a> {
    article: &'a Article,
    media: &'a ArticleMedia,
    page: &'a Url,
    base_url: &'a str,
    resolved: Resolved,
    /// The first audio or video the body links, that could be linked.
    linked: Option<Enclosure>,
}

impl Resolver<'_> {
    /// One reference: a remote one only counts as a body link's enclosure; a local one
    /// is looked up in what the reader found, and warned about when it cannot be linked.
    fn reference(&mut self, reference: &Reference) {
        let (origin, reference, local) = (reference.origin, &reference.text, &reference.local);
        let Some(local) = local else {
            match origin {
                Origin::BodyLink | Origin::BodyEmbed if self.linked.is_none() => {
                    self.linked = remote_link(self.page, reference);
                }
                Origin::Transcript | Origin::Chapters => self.remote_companion(origin, reference),
                _ => {}
            }
            return;
        };
        let format = media_format(local.as_ref().map_or(reference, |path| path));
        let is_media = format.is_some_and(|format| origin.takes(format.kind()));
        if !is_media
            && matches!(
                origin,
                Origin::BodyImage | Origin::BodyLink | Origin::BodyEmbed
            )
        {
            // Not a media file: the sanitizer resolves it like any link.
            return;
        }
        let found = match self.found(origin, local, format) {
            Ok(found) => Some(found),
            Err(reason) => {
                let warning = format!("{} {reference}: {reason}", origin.name());
                if !self.resolved.warnings.contains(&warning) {
                    self.resolved.warnings.push(warning);
                }
                None
            }
        };
        self.apply(origin, reference, found);
    }

    /// The `/media/` URL and header facts of a local reference, or why there are none.
    fn found(
        &self,
        origin: Origin,
        local: &Result<String, &str>,
        format: Option<MediaFormat>,
    ) -> Result<(String, MediaInfo), String> {
        let path = local.as_deref().map_err(|reason| (*reason).to_owned())?;
        if let Some((formats, naming)) = origin.companion_formats()
            && !format.is_some_and(|format| formats.contains(&format))
        {
            return Err(format!("not a {}: {naming}", origin.name()));
        }
        if format.is_none() {
            return Err("not a media file".to_owned());
        }
        match self.media.files.get(path) {
            Some(Ok(info)) => Ok((media_url(self.base_url, path), *info)),
            Some(Err(reason)) => Err(format!("{path}: {reason}")),
            None => Err(format!("{path}: not read")),
        }
    }

    /// What one local reference, found or not, makes of the entry.
    fn apply(&mut self, origin: Origin, reference: &str, found: Option<(String, MediaInfo)>) {
        let front = &self.article.front;
        match origin {
            Origin::Image => {
                self.resolved.image = Some(found.map(|(url, info)| Image {
                    url,
                    alt: front.image_alt.clone(),
                    width: info.width,
                    height: info.height,
                }));
            }
            Origin::Enclosure => {
                let duration = front.enclosure.as_ref().and_then(|e| e.duration_secs);
                self.resolved.enclosure = found.map(|(url, info)| enclosure(url, &info, duration));
            }
            Origin::Transcript => self.resolved.transcript = found.map(companion),
            Origin::Chapters => self.resolved.chapters = found.map(companion),
            Origin::BodyImage | Origin::BodyLink | Origin::BodyEmbed => {
                let Some(naive) = decode_reference(reference)
                    .and_then(|decoded| self.page.join(&decoded).ok())
                    .map(String::from)
                else {
                    return;
                };
                // The first audio or video linked or played in the body.
                if origin != Origin::BodyImage
                    && self.linked.is_none()
                    && let Some((url, info)) = &found
                    && info.format.kind() != MediaKind::Image
                {
                    self.linked = Some(enclosure(url.clone(), info, None));
                }
                let media = match found {
                    Some((url, info)) => BodyMedia::Found {
                        url,
                        width: info.width,
                        height: info.height,
                    },
                    None => BodyMedia::Missing,
                };
                if let MapEntry::Vacant(vacant) = self.resolved.body.entry(naive) {
                    vacant.insert(media);
                }
            }
        }
    }
}

impl Resolver<'_> {
    /// A remote `transcript:` or `chapters:`: an http(s) URL, with a transcript's type
    /// from its extension (chapters have theirs); anything else is left out, warned.
    fn remote_companion(&mut self, origin: Origin, reference: &str) {
        let url = decode_reference(reference)
            .and_then(|decoded| self.page.join(&decoded).ok())
            .filter(|url| matches!(url.scheme(), "http" | "https"));
        let media_type = url.as_ref().and_then(|url| match origin {
            Origin::Chapters => Some(MediaFormat::Chapters.media_type()),
            _ => remote_transcript_type(url.path()),
        });
        let (Some(url), Some(media_type)) = (url, media_type) else {
            self.resolved.warnings.push(format!(
                "{} {reference}: left out; a remote one needs an http(s) URL{}",
                origin.name(),
                if origin == Origin::Transcript {
                    " ending in .vtt, .srt, .json, .html or .txt (its type)"
                } else {
                    ""
                }
            ));
            return;
        };
        let companion = Some(Companion {
            url: url.into(),
            media_type: media_type.to_owned(),
        });
        match origin {
            Origin::Chapters => self.resolved.chapters = companion,
            _ => self.resolved.transcript = companion,
        }
    }

    /// The transcript and chapters named after the episode ([`companion_paths`]) that
    /// the reader found, for those its front matter does not name; one not found is no
    /// warning.
    fn companions_by_name(&mut self) {
        let article = self.article;
        let front = &article.front.episode;
        for (origin, path) in companions(&self.media.path) {
            let slot = match origin {
                Origin::Transcript if front.transcript.is_none() => &mut self.resolved.transcript,
                Origin::Chapters if front.chapters.is_none() => &mut self.resolved.chapters,
                _ => continue,
            };
            if slot.is_none()
                && let Some(Ok(info)) = self.media.files.get(&path)
            {
                *slot = Some(companion((media_url(self.base_url, &path), *info)));
            }
        }
    }
}

/// The media type of a remote transcript, by its extension: the types the Podcasting 2.0
/// namespace lists for `podcast:transcript`.
fn remote_transcript_type(path: &str) -> Option<&'static str> {
    let (_, extension) = path.rsplit_once('.')?;
    let extension = extension.to_ascii_lowercase();
    Some(match extension.as_str() {
        "vtt" => MediaFormat::Vtt.media_type(),
        "srt" => MediaFormat::Srt.media_type(),
        "json" => "application/json",
        "html" | "htm" => "text/html",
        "txt" => "text/plain",
        _ => return None,
    })
}

/// A transcript or chapters beside the article, found: its URL and its type.
fn companion((url, info): (String, MediaInfo)) -> Companion {
    Companion {
        url,
        media_type: info.media_type().to_owned(),
    }
}

/// The enclosure of a file of the seeds folder: its type and length from the file, its
/// duration from the front matter when given, else from the header.
fn enclosure(url: String, info: &MediaInfo, duration: Option<u64>) -> Enclosure {
    Enclosure {
        url,
        media_type: info.media_type().to_owned(),
        length: info.length,
        duration_secs: duration.or(info.duration_secs),
    }
}

/// A remote `enclosure:`: only with the type and length the front matter gives, which
/// cannot be read from a file here.
fn remote_enclosure(
    page: &Url,
    front: &FrontEnclosure,
    warnings: &mut Vec<String>,
) -> Option<Enclosure> {
    let url = page
        .join(front.url.trim())
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"));
    let (Some(url), Some(media_type), Some(length)) = (url, &front.media_type, front.length) else {
        warnings.push(format!(
            "enclosure {}: left out; a remote enclosure needs an http(s) URL, a `type` and \
             a `length` in the front matter",
            front.url
        ));
        return None;
    };
    Some(Enclosure {
        url: url.into(),
        media_type: media_type.clone(),
        length,
        duration_secs: front.duration_secs,
    })
}

/// A body link to remote audio or video (by its extension), as an enclosure: its type
/// from the extension, its length unknown (0) since nothing here fetches it.
fn remote_link(page: &Url, reference: &str) -> Option<Enclosure> {
    let url = page.join(&decode_reference(reference)?).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let format = media_format(url.path())?;
    Origin::BodyLink.takes(format.kind()).then(|| Enclosure {
        url: url.into(),
        media_type: format.media_type().to_owned(),
        length: 0,
        duration_secs: None,
    })
}

/// The `src` of every `<img>`, `<audio>`, `<video>` and `<source>`, the `poster` of every
/// `<video>` and the `href` of every `<a>` in raw HTML, in order, with the character
/// references the sanitizer's quick way knows decoded. A light reading, not a parse: a
/// reference it misses is left as the sanitizer writes it.
fn body_references(html: &str) -> Vec<(Origin, String)> {
    let bytes = html.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(lt) = memchr::memchr(b'<', &bytes[at..]) {
        let start = at + lt + 1;
        if html[start..].starts_with("!--") {
            at = html[start..]
                .find("-->")
                .map_or(html.len(), |end| start + end + 3);
            continue;
        }
        let name_end = bytes[start..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric())
            .map_or(html.len(), |p| start + p);
        let Some((origin, wanted)) = referencing(&html[start..name_end]) else {
            at = start;
            continue;
        };
        let tag = &html[name_end..];
        let (value, end) = attribute(tag, wanted);
        at = name_end + end;
        let poster = (wanted == "src" && html[start..name_end].eq_ignore_ascii_case("video"))
            .then(|| attribute(tag, "poster").0)
            .flatten();
        for value in [value, poster].into_iter().flatten() {
            if let Some(value) = decode_reference(value) {
                found.push((origin, value.into_owned()));
            }
        }
    }
    found
}

/// The kind of reference an element's tag holds, and in which attribute.
fn referencing(element: &str) -> Option<(Origin, &'static str)> {
    let is = |name: &str| element.eq_ignore_ascii_case(name);
    if is("img") {
        Some((Origin::BodyImage, "src"))
    } else if is("a") {
        Some((Origin::BodyLink, "href"))
    } else if is("audio") || is("video") || is("source") {
        Some((Origin::BodyEmbed, "src"))
    } else {
        None
    }
}

/// The value of attribute `wanted` in the rest of a tag, and where the tag ends.
fn attribute<'h>(tag: &'h str, wanted: &str) -> (Option<&'h str>, usize) {
    let bytes = tag.as_bytes();
    let mut value = None;
    let mut at = 0;
    let space = |b: u8| b.is_ascii_whitespace() || b == b'/';
    loop {
        while at < bytes.len() && space(bytes[at]) {
            at += 1;
        }
        if at >= bytes.len() || bytes[at] == b'>' {
            return (value, (at + 1).min(bytes.len()));
        }
        let name_start = at;
        while at < bytes.len() && !space(bytes[at]) && !matches!(bytes[at], b'=' | b'>') {
            at += 1;
        }
        let name = &tag[name_start..at];
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if at >= bytes.len() || bytes[at] != b'=' {
            continue;
        }
        at += 1;
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let (start, end, next) = match bytes.get(at) {
            Some(&quote @ (b'"' | b'\'')) => {
                let end =
                    memchr::memchr(quote, &bytes[at + 1..]).map_or(bytes.len(), |e| at + 1 + e);
                (at + 1, end, end + 1)
            }
            _ => {
                let end = bytes[at..]
                    .iter()
                    .position(|&b| b.is_ascii_whitespace() || b == b'>')
                    .map_or(bytes.len(), |e| at + e);
                (at, end, end)
            }
        };
        if value.is_none() && name.eq_ignore_ascii_case(wanted) {
            value = tag.get(start..end);
        }
        at = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_references_resolve_against_the_article_folder() {
        let ok = |article: &str, reference: &str| local_path(article, reference);
        let path = |p: &str| Some(Ok(p.to_owned()));
        assert_eq!(ok("posts/a.md", "img/x.png"), path("posts/img/x.png"));
        assert_eq!(ok("posts/a.md", "./img/./x.png"), path("posts/img/x.png"));
        assert_eq!(ok("a.md", "x.png"), path("x.png"));
        // A page bundle: the article is its folder's index.
        assert_eq!(ok("post/index.md", "cover.jpg"), path("post/cover.jpg"));
        assert_eq!(
            ok("posts/2024/a.md", "../shared/b.mp3"),
            path("posts/shared/b.mp3")
        );
        assert_eq!(ok("posts/a.md", "../x.png"), path("x.png"));
        assert_eq!(ok("a.md", "my%20photo.jpg?v=2#top"), path("my photo.jpg"));
        assert_eq!(ok("a.md", "caf%C3%A9.jpg"), path("café.jpg"));
    }

    #[test]
    fn a_reference_may_not_leave_the_seeds_folder() {
        let escapes = Some(Err("leaves the seeds folder"));
        assert_eq!(local_path("a.md", "../x.png"), escapes);
        assert_eq!(local_path("posts/a.md", "../../etc/passwd"), escapes);
        assert_eq!(local_path("posts/a.md", "img/../../../x.png"), escapes);
        assert_eq!(local_path("a.md", "%2e%2e/x.png"), escapes);
        assert!(matches!(local_path("a.md", "%ff.png"), Some(Err(_))));
        assert!(matches!(local_path("a.md", "x%00.png"), Some(Err(_))));
    }

    #[test]
    fn only_references_without_scheme_or_root_are_local() {
        for remote in [
            "https://cdn.example/x.png",
            "//cdn.example/x.png",
            "/media/x.png",
            "data:image/png,x",
            "mailto:a@b.example",
            "#top",
            "",
            "a//b.png",
        ] {
            assert_eq!(local_path("a.md", remote), None, "{remote}");
        }
    }

    #[test]
    fn media_urls_encode_each_part() {
        assert_eq!(
            media_url("https://x.org/blog", "posts/my photo#1.jpg"),
            "https://x.org/blog/media/posts/my%20photo%231.jpg"
        );
        assert_eq!(
            media_url("https://x.org", "café/ép?.mp3"),
            "https://x.org/media/caf%C3%A9/%C3%A9p%3F.mp3"
        );
    }

    #[test]
    fn companions_are_named_after_the_article() {
        let paths = |article: &str| companion_paths(article).collect::<Vec<_>>();
        assert_eq!(
            paths("posts/ep1.md"),
            ["posts/ep1.vtt", "posts/ep1.srt", "posts/ep1.chapters.json"]
        );
        assert_eq!(
            paths("show/index.md"),
            [
                "show/index.vtt",
                "show/index.srt",
                "show/index.chapters.json"
            ]
        );
        assert_eq!(paths("a.b.md"), ["a.b.vtt", "a.b.srt", "a.b.chapters.json"]);
    }

    /// A transcript is never an image in the body, nor a body link's enclosure.
    #[test]
    fn the_body_takes_only_what_it_can_show() {
        use MediaKind::{Audio, Image, Text, Video};
        assert!(Origin::BodyImage.takes(Image) && !Origin::BodyImage.takes(Text));
        assert!(Origin::BodyLink.takes(Audio) && Origin::BodyLink.takes(Video));
        assert!(!Origin::BodyLink.takes(Image) && !Origin::BodyLink.takes(Text));
        let page = Url::parse("https://x.org/entries/a/").unwrap();
        assert_eq!(remote_link(&page, "https://cdn.example/a.vtt"), None);
        assert!(remote_link(&page, "https://cdn.example/a.mp3").is_some());
    }

    #[test]
    fn body_references_in_any_quoting() {
        let html = "<p><img src=\"a.png\" alt=\"x\"><IMG alt='y' SRC='b&amp;c.png'>\
            <!-- <img src=\"hidden.png\"> --><a href=ep.mp3 title=\"t\">e</a>\
            <img alt=\"no src\"><area href=\"no.mp3\">\
            <audio controls src=\"ep2.ogg\"></audio><video poster='p.jpg' src=v.mp4>\
            <source src=\"v.webm\" type=\"video/webm\"></video><video poster=\"q.png\"></p>";
        let found: Vec<(Origin, String)> = body_references(html);
        let owned = |origin, reference: &str| (origin, reference.to_owned());
        assert_eq!(
            found,
            [
                owned(Origin::BodyImage, "a.png"),
                owned(Origin::BodyImage, "b&c.png"),
                owned(Origin::BodyLink, "ep.mp3"),
                owned(Origin::BodyEmbed, "ep2.ogg"),
                owned(Origin::BodyEmbed, "v.mp4"),
                owned(Origin::BodyEmbed, "p.jpg"),
                owned(Origin::BodyEmbed, "v.webm"),
                owned(Origin::BodyEmbed, "q.png"),
            ]
        );
    }
}
