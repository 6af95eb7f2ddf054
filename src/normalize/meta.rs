//! An article's front matter to what its entry carries ([`EntryMeta`]) and the id it
//! keeps: tags and authors with the slugs their feeds want, URLs made absolute against
//! the entry's page, and only what a feed can carry (absolute http(s) links, a language
//! tag, an id that is an absolute URI).

use std::collections::HashSet;

use url::Url;

use super::{slugify, term_identity};
use crate::model::{Author, Category, Companion, EntryId, EntryMeta, Episode, FrontMatter, Image};

/// What the front matter gives the entry, its URLs resolved against `page` (the entry
/// page's URL).
pub fn entry_meta(front: &FrontMatter, page: &Url) -> EntryMeta {
    EntryMeta {
        tags: tags(&front.tags),
        authors: authors(front),
        image: front.image.as_deref().and_then(|url| {
            Some(Image {
                url: web_url(page, url)?,
                alt: front.image_alt.clone(),
                width: None,
                height: None,
            })
        }),
        enclosure: None,
        lang: front.lang.as_deref().and_then(language_tag),
        external_url: front.link.as_deref().and_then(|url| web_url(page, url)),
        comments: front.comments.as_deref().and_then(|url| web_url(page, url)),
        date: front.published,
        updated_date: front.updated,
        episode: None,
    }
}

/// The entry as a podcast episode: what the front matter says of it, and the
/// transcript and chapters the media references resolved to; `None` when there is
/// nothing.
pub fn episode(
    front: &FrontMatter,
    transcript: Option<Companion>,
    chapters: Option<Companion>,
) -> Option<Episode> {
    let said = &front.episode;
    let episode = Episode {
        number: said.number,
        season: said.season,
        episode_type: said.episode_type,
        explicit: said.explicit,
        transcript,
        chapters,
    };
    (!episode.is_empty()).then_some(episode)
}

/// The id an article keeps from an older system, as that system wrote it: readers
/// compare ids as text, so any change would show them every entry again.
pub fn given_id(front: &FrontMatter) -> Option<EntryId> {
    EntryId::given(front.id.as_deref()?)
}

/// Tags, each once (by [`term_identity`]: "Rust" and "rust " are one), in their order.
fn tags(terms: &[String]) -> Vec<Category> {
    let mut seen = HashSet::new();
    terms
        .iter()
        .filter(|term| seen.insert(term_identity(term)))
        .map(|term| Category {
            term: term.clone(),
            slug: slugify(term),
        })
        .collect()
}

fn authors(front: &FrontMatter) -> Vec<Author> {
    let mut seen = HashSet::new();
    front
        .authors
        .iter()
        .filter(|person| seen.insert(term_identity(&person.name)))
        .map(|person| Author {
            person: person.clone(),
            slug: slugify(&person.name),
        })
        .collect()
}

/// `url` resolved against `page`, when the result is an http(s) URL: a feed reader
/// can follow nothing else, and `javascript:` must never reach a link.
fn web_url(page: &Url, url: &str) -> Option<String> {
    let resolved = page.join(url.trim()).ok()?;
    matches!(resolved.scheme(), "http" | "https").then(|| resolved.to_string())
}

/// A BCP 47 language tag as feeds write it (`en`, `pt-BR`, `zh-Hant-TW`): letters and
/// digits in parts of 1 to 8, separated by hyphens (or underscores, as `en_US` in some
/// front matter, written back with a hyphen). Anything else is left out.
fn language_tag(tag: &str) -> Option<String> {
    let tag = tag.trim().replace('_', "-");
    let well_formed = !tag.is_empty()
        && tag.split('-').all(|part| {
            (1..=8).contains(&part.len()) && part.chars().all(|c| c.is_ascii_alphanumeric())
        })
        && tag.split('-').next().is_some_and(|primary| {
            primary.len() >= 2 && primary.chars().all(|c| c.is_ascii_alphabetic())
        });
    well_formed.then_some(tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Person;

    fn page() -> Url {
        Url::parse("https://x.org/blog/entries/post/").unwrap()
    }

    #[test]
    fn urls_are_absolute_and_only_http() {
        let front = FrontMatter {
            image: Some("img/a.png".into()),
            image_alt: Some("A <b>".into()),
            link: Some("/elsewhere".into()),
            comments: Some("javascript:alert(1)".into()),
            ..FrontMatter::default()
        };
        let meta = entry_meta(&front, &page());
        let image = meta.image.unwrap();
        assert_eq!(image.url, "https://x.org/blog/entries/post/img/a.png");
        assert_eq!(image.alt.as_deref(), Some("A <b>"));
        assert_eq!(
            meta.external_url.as_deref(),
            Some("https://x.org/elsewhere")
        );
        assert_eq!(meta.comments, None);
        let data = FrontMatter {
            image: Some("data:text/html,<script>".into()),
            ..FrontMatter::default()
        };
        assert_eq!(entry_meta(&data, &page()).image, None);
    }

    #[test]
    fn tags_and_authors_once_each_with_the_slug_they_want() {
        let front = FrontMatter {
            tags: vec!["Rust".into(), "rust ".into(), "C++".into()],
            authors: vec![
                Person {
                    name: "Jane Doe".into(),
                    ..Person::default()
                },
                Person {
                    name: "jane doe".into(),
                    ..Person::default()
                },
            ],
            ..FrontMatter::default()
        };
        let meta = entry_meta(&front, &page());
        let slugs: Vec<&str> = meta.tags.iter().map(|t| t.slug.as_str()).collect();
        assert_eq!(slugs, ["rust", "c"]);
        assert_eq!(meta.authors.len(), 1);
        assert_eq!(meta.authors[0].slug, "jane-doe");
    }

    #[test]
    fn ids_are_kept_as_written() {
        let id = |id: &str| {
            let front = FrontMatter {
                id: Some(id.into()),
                ..FrontMatter::default()
            };
            given_id(&front).map(|id| (id.to_string(), id.is_uri()))
        };
        let kept = |text: &str, uri| Some((text.to_owned(), uri));
        assert_eq!(id("tag:x.org,2020:1"), kept("tag:x.org,2020:1", true));
        assert_eq!(id(" http://x.org/?p=12 "), kept("http://x.org/?p=12", true));
        assert_eq!(id("2347259"), kept("2347259", false));
        assert_eq!(id("/2020/01/02/post"), kept("/2020/01/02/post", false));
        assert_eq!(id("a b:c"), kept("a b:c", false));
        assert_eq!(id("  "), None);
        assert_eq!(id("x\u{0}y"), None);
    }

    #[test]
    fn language_tags() {
        assert_eq!(language_tag("en_US").as_deref(), Some("en-US"));
        assert_eq!(language_tag("zh-Hant-TW").as_deref(), Some("zh-Hant-TW"));
        for bad in ["", "e", "english language", "en--us", "<b>"] {
            assert_eq!(language_tag(bad), None, "{bad}");
        }
    }
}
