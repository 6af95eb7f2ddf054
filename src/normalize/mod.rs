//! [`Article`] to [`EntryDraft`]: the id, the category slug, the summary, the content hash
//! and the escaped HTML. Pure: the dates, which depend on history, are the store's.

mod html;

pub use html::{content_html, escape_html, looks_like_html};

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::model::{Article, Category, ContentHash, EntryDraft, EntryId, EntryKey};
use crate::parse::cut_at_word;

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

pub fn normalize(key: EntryKey, article: &Article, namespace: &Uuid) -> EntryDraft {
    EntryDraft {
        id: entry_id(namespace, &key),
        key,
        title: article.title.clone(),
        section: article.section.clone(),
        category: article.section.as_deref().map(category),
        caption: article.caption.clone(),
        summary: summary(article),
        content_html: content_html(article),
        related: article.related.clone(),
        content_hash: content_hash(article),
    }
}

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

/// The first body paragraph, else the caption, else the title, cut at a word boundary.
fn summary(article: &Article) -> String {
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
    ContentHash(hasher.finalize().into())
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
    fn ids_are_stable_uuid_v5() {
        let ns = id_namespace("https://news.example.org/");
        let key = EntryKey::new("000_9b018788d1e41f8c");
        let a = entry_id(&ns, &key);
        assert_eq!(a, entry_id(&ns, &key));
        assert_eq!(a.uuid().get_version_num(), 5);
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
        let draft = normalize(EntryKey::new("k"), &article, &Uuid::nil());
        assert!(draft.summary.ends_with("word…"), "{}", draft.summary);
        assert!(draft.summary.chars().count() <= SUMMARY_MAX_CHARS);
        let no_body = Article {
            title: "T".into(),
            caption: Some("Cap".into()),
            ..Article::default()
        };
        assert_eq!(
            normalize(EntryKey::new("k"), &no_body, &Uuid::nil()).summary,
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
}
