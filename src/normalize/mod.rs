//! [`Article`] to [`EntryDraft`]: the id, the category slug it wants, the summary, the
//! content hash and the escaped HTML; and the rule that gives each section a slug of its
//! own. Pure: the dates, and the slug a section gets (which depends on the sections seen
//! before it), are the store's.

mod html;
mod media;
mod meta;
mod sanitize;

pub use html::{content_html, escape_html, looks_like_html};
pub use media::{
    ArticleMedia, References, companion_paths, local_path, media_references, media_url,
};
pub use sanitize::sanitize;

use std::collections::HashMap;
use std::fmt::Write as _;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};
use url::Url;
use uuid::Uuid;

use crate::model::{Article, Category, ContentHash, EntryDraft, EntryId, EntryKey};
use crate::parse::cut_at_word;

/// Characters kept as they are in a URL path segment (RFC 3986 unreserved).
pub const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The absolute URL of an entry's page, the feeds' `link`: `{base}/entries/{key}/`. The
/// page is a folder's index, so that a static host serves its export
/// (`entries/{key}/index.html`) as HTML; the daemon redirects the older `/entries/{key}`.
/// Relative URLs in an article are resolved against it.
pub fn entry_url(base: &str, key: &EntryKey) -> String {
    format!(
        "{base}/entries/{}/",
        utf8_percent_encode(key.as_str(), PATH_SEGMENT)
    )
}

/// Summaries are the first paragraph cut near this many characters, at a word boundary.
pub const SUMMARY_MAX_CHARS: usize = 280;

/// The UUID namespace of every entry id. A UUID is taken as it is; any other text (the
/// site's URL, say) is hashed into one, so operators can write something memorable.
pub fn id_namespace(configured: &str) -> Uuid {
    Uuid::parse_str(configured)
        .unwrap_or_else(|_| Uuid::new_v5(&Uuid::NAMESPACE_URL, configured.as_bytes()))
}

/// `urn:uuid:` UUIDv5 of the key: the same key always gets the same id.
pub fn entry_id(namespace: &Uuid, key: &EntryKey) -> EntryId {
    EntryId::new(Uuid::new_v5(namespace, key.as_str().as_bytes()))
}

/// What normalizing needs besides the article: the namespace of the ids, and the site's
/// base URL (without a trailing slash), against which an article's relative URLs are
/// made absolute (feed readers have no base to resolve them against).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryContext {
    pub namespace: Uuid,
    /// The base URL.
    pub base: Url,
    /// The base URL as the site writes it, without a trailing slash.
    pub base_url: String,
}

impl EntryContext {
    pub fn new(namespace: Uuid, base: &Url) -> Self {
        Self {
            namespace,
            base: base.clone(),
            base_url: base.as_str().trim_end_matches('/').to_owned(),
        }
    }

    /// The URL of an entry's page, which its relative URLs are resolved against: the
    /// site's base URL when that cannot be joined (it always can: it is a valid URL,
    /// and the key is percent-encoded).
    pub fn page(&self, key: &EntryKey) -> Url {
        Url::parse(&entry_url(&self.base_url, key)).unwrap_or_else(|_| self.base.clone())
    }

    /// The context of the library's unit tests: that of `render::Site::for_tests`.
    #[cfg(test)]
    pub(crate) fn for_tests() -> Self {
        Self::new(id_namespace("t"), &Url::parse("https://x.org").unwrap())
    }
}

/// The entry an article makes under `key`. A plain article without front matter makes
/// the entry it always has, byte for byte; front matter adds the metadata, an id kept
/// from an older system, and its summary; a Markdown or HTML body is sanitized, its
/// relative URLs resolved against the entry's page. Media references are resolved
/// against the entry's page like any URL: see [`normalize_with_media`].
pub fn normalize(key: EntryKey, article: &Article, context: &EntryContext) -> EntryDraft {
    normalize_parts(key, article, context, None).0
}

/// [`normalize`] for an article read from the seeds folder, with what the reader found
/// of the media files it references (`media`): local references point at the files'
/// `/media/` URLs, with the facts their headers gave; those that could not be read are
/// left out, each with a warning (returned) naming the path and the reason.
pub fn normalize_with_media(
    key: EntryKey,
    article: &Article,
    context: &EntryContext,
    media: &ArticleMedia,
) -> (EntryDraft, Vec<String>) {
    normalize_parts(key, article, context, Some(media))
}

fn normalize_parts(
    key: EntryKey,
    article: &Article,
    context: &EntryContext,
    media: Option<&ArticleMedia>,
) -> (EntryDraft, Vec<String>) {
    let front = &article.front;
    let plain = article.body.is_none() && front.is_empty();
    let page = (!plain).then(|| context.page(&key));
    let resolved = match (media, &page) {
        (Some(media), Some(page)) => media::resolve(article, media, page, &context.base_url),
        _ => media::Resolved::default(),
    };
    let given = meta::given_id(front);
    let mut meta = page
        .as_ref()
        .map(|page| meta::entry_meta(front, page))
        .unwrap_or_default();
    if let Some(image) = resolved.image {
        meta.image = image;
    }
    meta.enclosure = resolved.enclosure;
    meta.episode = meta::episode(front, resolved.transcript, resolved.chapters);
    let draft = EntryDraft {
        id: given
            .clone()
            .unwrap_or_else(|| entry_id(&context.namespace, &key)),
        id_given: given.is_some(),
        title: article.title.clone(),
        section: article.section.clone(),
        category: article.section.as_deref().map(category),
        caption: article.caption.clone(),
        summary: summary(article),
        content_html: match (&article.body, &page) {
            (Some(body), Some(page)) => body_html(&body.html, &article.title, page, &resolved.body),
            _ => content_html(article),
        },
        related: article.related.clone(),
        content_hash: match (&page, media) {
            (None, _) => content_hash(article),
            (Some(_), Some(media)) => media_hash(full_hash(article, &context.base_url), media),
            (Some(_), None) => full_hash(article, &context.base_url),
        },
        meta,
        key,
    };
    (draft, resolved.warnings)
}

/// A content hash that also covers what the headers of the referenced media files said
/// (or why they did not read), so that an edited episode or a fixed image updates the
/// entry when the article is read again. A transcript or chapters looked for by the
/// episode's name and not there count for nothing: an episode without them keeps the
/// hash it had before they were looked for.
fn media_hash(hash: ContentHash, media: &ArticleMedia) -> ContentHash {
    // Only a file that did not read may be an optional one passed over.
    let optional: Vec<String> = if media.files.values().any(Result::is_err) {
        companion_paths(&media.path).collect()
    } else {
        Vec::new()
    };
    let mut files: Vec<_> = media
        .files
        .iter()
        .filter(|(path, facts)| facts.is_ok() || !optional.contains(path))
        .collect();
    if files.is_empty() {
        return hash;
    }
    let mut hasher = Sha256::new();
    hasher.update(hash.0);
    files.sort_by(|a, b| a.0.cmp(b.0));
    // One buffer for every file's facts: an article may reference dozens.
    let mut facts_text = String::new();
    for (path, facts) in files {
        facts_text.clear();
        // Writing into a String cannot fail.
        let _ = match facts {
            Ok(info) => write!(
                facts_text,
                "{}|{}|{:?}|{:?}|{:?}",
                info.media_type(),
                info.length,
                info.width,
                info.height,
                info.duration_secs
            ),
            Err(reason) => write!(facts_text, "error|{reason}"),
        };
        for text in [path.as_str(), facts_text.as_str()] {
            hasher.update((text.len() as u64).to_le_bytes());
            hasher.update(text.as_bytes());
        }
    }
    ContentHash(hasher.finalize().into())
}

/// The sanitized body of a Markdown or HTML article; its title when nothing is left, so
/// that no reader shows an empty entry.
fn body_html(
    html: &str,
    title: &str,
    page: &Url,
    media: &HashMap<String, sanitize::BodyMedia>,
) -> String {
    let clean = sanitize::sanitize_with_media(html, page, media);
    if clean.trim().is_empty() {
        format!("<p>{}</p>", escape_html(title))
    } else {
        clean
    }
}

/// The section with the slug it wants ([`slugify`]). The store writes the slug the
/// section was assigned ([`assign_slug`]), which differs when another section had it
/// first.
pub fn category(section: &str) -> Category {
    Category {
        term: section.to_owned(),
        slug: slugify(section),
    }
}

/// A URL-safe, lower-case ASCII slug: "Conflict & Justice" → "conflict-justice".
/// Letters outside ASCII are transliterated ("Santé" → "sante"); text with nothing
/// transliterable gets a slug from its hash, so every section has a feed URL.
pub fn slugify(text: &str) -> String {
    let ascii = deunicode::deunicode(text).to_lowercase();
    let slug = ascii
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if slug.is_empty() {
        let digest = Sha256::digest(text.as_bytes());
        format!(
            "section-{:02x}{:02x}{:02x}{:02x}",
            digest[0], digest[1], digest[2], digest[3]
        )
    } else {
        slug
    }
}

/// What makes two names one section (or, later, one tag or author): case and runs of
/// spaces do not count, so "Tech", "tech" and "TECH " share one feed, as they did when
/// every slug was the name slugified; anything else does, so "C++" and "C#" are two.
pub fn term_identity(term: &str) -> String {
    term.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The slug a term gets: the first candidate that `taken` says no other term of its kind
/// holds. First the term slugified, so the first term to want a slug keeps it and the
/// feed URLs made before slugs were assigned keep working; then that slug followed by 8,
/// then 16, then 64 hex digits of the SHA-256 of the term's identity ([`term_identity`]);
/// then the last one numbered from 2. Every candidate is a function of the term alone,
/// so the same terms seen in the same order get the same slugs.
pub fn assign_slug<E>(
    term: &str,
    mut taken: impl FnMut(&str) -> Result<bool, E>,
) -> Result<String, E> {
    let base = slugify(term);
    if !taken(&base)? {
        return Ok(base);
    }
    let digest = Sha256::digest(term_identity(term).as_bytes());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    for digits in [8, 16, 64] {
        let candidate = format!("{base}-{}", &hex[..digits]);
        if !taken(&candidate)? {
            return Ok(candidate);
        }
    }
    let mut number = 1u64;
    loop {
        number += 1;
        let candidate = format!("{base}-{hex}-{number}");
        if !taken(&candidate)? {
            return Ok(candidate);
        }
    }
}

/// The first body paragraph, else the caption, else the title, cut at a word boundary.
///
/// Front matter's summary comes first; then, for Markdown and HTML, the text before
/// `<!-- more -->` (whole: the author cut it there), or else the first paragraph.
fn summary(article: &Article) -> String {
    if let Some(summary) = &article.front.summary {
        return summary.clone();
    }
    if let Some(body) = &article.body {
        if let Some(excerpt) = &body.excerpt {
            return excerpt.clone();
        }
        let source = body.first_paragraph.as_ref().unwrap_or(&article.title);
        return cut_at_word(source, SUMMARY_MAX_CHARS);
    }
    let source = article
        .paragraphs
        .first()
        .or(article.caption.as_ref())
        .unwrap_or(&article.title);
    cut_at_word(source, SUMMARY_MAX_CHARS)
}

/// SHA-256 of the article's fields, each length-prefixed so no two articles collide by
/// moving text between fields. Line ends, encoding and spacing are already normalized, so
/// re-saving a file with CRLF or a BOM is not an edit.
pub fn content_hash(article: &Article) -> ContentHash {
    let mut hasher = Sha256::new();
    hash_fields(&mut hasher, article);
    ContentHash(hasher.finalize().into())
}

/// [`content_hash`] of an article with front matter or an HTML body: the plain fields,
/// then the format, the body, the front matter, and the base URL its relative URLs were
/// resolved against (a new base URL makes new content).
fn full_hash(article: &Article, base_url: &str) -> ContentHash {
    let mut hasher = Sha256::new();
    hash_fields(&mut hasher, article);
    let format = serde_json::to_string(&article.format).unwrap_or_default();
    let front = serde_json::to_string(&article.front).unwrap_or_default();
    let body = article.body.as_ref();
    let html = body.map_or("", |body| &body.html);
    let excerpt = body.and_then(|body| body.excerpt.as_deref());
    let first = body.and_then(|body| body.first_paragraph.as_deref());
    for text in [
        format.as_str(),
        html,
        excerpt.unwrap_or("\0none"),
        first.unwrap_or("\0none"),
        &front,
        base_url,
    ] {
        hasher.update((text.len() as u64).to_le_bytes());
        hasher.update(text.as_bytes());
    }
    ContentHash(hasher.finalize().into())
}

fn hash_fields(hasher: &mut Sha256, article: &Article) {
    let mut field = |text: &str| {
        hasher.update((text.len() as u64).to_le_bytes());
        hasher.update(text.as_bytes());
    };
    field(article.section.as_deref().unwrap_or(""));
    field(&article.title);
    field(article.caption.as_deref().unwrap_or(""));
    field(&article.paragraphs.len().to_string());
    for paragraph in &article.paragraphs {
        field(paragraph);
    }
    for headline in &article.related {
        field(headline);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for (section, slug) in [
            ("Conflict & Justice", "conflict-justice"),
            ("Tech", "tech"),
            ("  Santé publique ", "sante-publique"),
            ("C++ / Rust", "c-rust"),
        ] {
            assert_eq!(slugify(section), slug, "{section}");
        }
        let fallback = slugify("✓✓");
        assert!(
            fallback
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{fallback}"
        );
        assert!(!fallback.is_empty());
    }

    #[test]
    fn names_differing_in_case_or_spaces_are_one_section() {
        assert_eq!(term_identity("Tech"), term_identity("tech"));
        assert_eq!(term_identity(" TECH  News"), term_identity("Tech News"));
        assert_ne!(term_identity("C++"), term_identity("C#"));
        assert_ne!(term_identity("Santé"), term_identity("Sante"));
    }

    /// Assigns in order, as the store does, against the slugs given so far.
    fn assign_all(terms: &[&str]) -> Vec<String> {
        let mut taken = std::collections::HashSet::new();
        terms
            .iter()
            .map(|term| {
                let slug = assign_slug(term, |s| Ok::<_, ()>(taken.contains(s))).unwrap();
                taken.insert(slug.clone());
                slug
            })
            .collect()
    }

    #[test]
    fn the_first_term_keeps_its_slug_and_later_ones_get_a_suffix_of_their_own() {
        let slugs = assign_all(&["C++", "C#", "C"]);
        let suffix = |term: &str| {
            let digest = Sha256::digest(term.as_bytes());
            format!(
                "c-{:02x}{:02x}{:02x}{:02x}",
                digest[0], digest[1], digest[2], digest[3]
            )
        };
        assert_eq!(slugs, ["c".to_owned(), suffix("c#"), suffix("c")]);
        // A function of the term, not of the order: "C#" gets the same slug wherever it
        // comes after the plain slug is taken.
        assert_eq!(assign_all(&["C", "C++", "C#"])[2], suffix("c#"));
        // The same name in another case wants the same suffix.
        assert_eq!(assign_all(&["C++", "c#"])[1], suffix("c#"));
    }

    #[test]
    fn a_taken_suffix_falls_to_a_longer_one_then_to_a_number() {
        let short = assign_all(&["C++", "C#"])[1].clone();
        let slugs = assign_all(&["C++", &short, "C#"]);
        assert_eq!(
            slugs[1], short,
            "a section named like the suffix is a section"
        );
        assert_eq!(slugs[2].len(), "c-".len() + 16, "{}", slugs[2]);
        // Every candidate taken but the numbered ones.
        let numbered = assign_slug("C#", |s| Ok::<_, ()>(!s.ends_with("-2"))).unwrap();
        assert!(numbered.ends_with("-2") && numbered.len() == "c-".len() + 64 + 2);
    }

    #[test]
    fn ids_are_stable_uuid_v5() {
        let ns = id_namespace("https://news.example.org/");
        let key = EntryKey::new("000_9b018788d1e41f8c");
        let a = entry_id(&ns, &key);
        assert_eq!(a, entry_id(&ns, &key));
        let uuid = Uuid::parse_str(a.as_str().trim_start_matches("urn:uuid:")).unwrap();
        assert_eq!(uuid.get_version_num(), 5);
        assert!(a.to_string().starts_with("urn:uuid:"));
        assert_ne!(a, entry_id(&id_namespace("other"), &key));
        let explicit = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";
        assert_eq!(id_namespace(explicit).to_string(), explicit);
    }

    #[test]
    fn summary_is_first_paragraph_cut_at_a_word() {
        let long = "word ".repeat(100);
        let article = Article {
            title: "T".into(),
            paragraphs: vec![long.trim().into(), "second".into()],
            ..Article::default()
        };
        let draft = normalize(
            EntryKey::new("k"),
            &article,
            &EntryContext {
                namespace: Uuid::nil(),
                ..EntryContext::for_tests()
            },
        );
        assert!(draft.summary.ends_with("word…"), "{}", draft.summary);
        assert!(draft.summary.chars().count() <= SUMMARY_MAX_CHARS);
        let no_body = Article {
            title: "T".into(),
            caption: Some("Cap".into()),
            ..Article::default()
        };
        assert_eq!(
            normalize(
                EntryKey::new("k"),
                &no_body,
                &EntryContext {
                    namespace: Uuid::nil(),
                    ..EntryContext::for_tests()
                }
            )
            .summary,
            "Cap"
        );
    }

    #[test]
    fn hash_separates_fields() {
        let a = Article {
            title: "ab".into(),
            paragraphs: vec!["c".into()],
            ..Article::default()
        };
        let b = Article {
            title: "a".into(),
            paragraphs: vec!["bc".into()],
            ..Article::default()
        };
        assert_ne!(content_hash(&a), content_hash(&b));
        assert_eq!(content_hash(&a), content_hash(&a.clone()));
    }

    /// The transcript and chapters looked for beside an episode count in its hash only
    /// when they are there: an episode without them keeps the hash it had before they
    /// were looked for, and one that gets a transcript is updated.
    #[test]
    fn missing_companions_leave_the_hash_as_it_was() {
        use crate::model::{FrontEnclosure, FrontMatter};
        use crate::parse::media::{MediaFormat, MediaInfo};

        let article = Article {
            format: crate::model::Format::Markdown,
            title: "Episode".into(),
            front: FrontMatter {
                enclosure: Some(FrontEnclosure {
                    url: "ep.mp3".into(),
                    ..FrontEnclosure::default()
                }),
                ..FrontMatter::default()
            },
            ..Article::default()
        };
        let info = |format, length| MediaInfo {
            format,
            length,
            width: None,
            height: None,
            duration_secs: None,
        };
        let mut media = ArticleMedia {
            path: "shows/ep.md".into(),
            references: media_references(&article, "shows/ep.md"),
            files: HashMap::from([("shows/ep.mp3".into(), Ok(info(MediaFormat::Mp3, 100)))]),
        };
        let hash = |media: &ArticleMedia| {
            let key = EntryKey::new("ep");
            normalize_with_media(key, &article, &EntryContext::for_tests(), media)
                .0
                .content_hash
        };
        let before = hash(&media);
        for path in companion_paths("shows/ep.md") {
            media.files.insert(path, Err("no such file".into()));
        }
        assert_eq!(hash(&media), before);
        media
            .files
            .insert("shows/ep.vtt".into(), Ok(info(MediaFormat::Vtt, 10)));
        assert_ne!(hash(&media), before);
        // A missing file the article names is still part of its hash.
        media
            .files
            .insert("shows/other.vtt".into(), Err("no such file".into()));
        let named = hash(&media);
        media.files.remove("shows/other.vtt");
        assert_ne!(hash(&media), named);
    }
}
