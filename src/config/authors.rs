//! `[authors.{key}]`: people defined once in the file, so that an article can name one by
//! its key (`author: jane`) and be shown with the person's name, e-mail address and page.
//! A map of tables does not fit the table of settings (each key there is one value), so
//! it is read here: the file's value into an [`AuthorsLayer`] (unknown keys are errors
//! that name the nearest known one), then checked into people by [`validate`]. Only the
//! file sets it; a reload (SIGHUP) applies a change at once, as it does `[feed]`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use url::Url;

use super::ConfigError;
use crate::model::Person;

/// The name of the tables in the file: `[authors.jane]`.
pub const TABLE: &str = "authors";

/// One `[authors.{key}]` table as the file writes it; every key is checked by
/// [`validate`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorLayer {
    /// The name the feeds and pages show (required).
    pub name: Option<String>,
    pub email: Option<String>,
    /// The person's page; the file may call it `url` too.
    pub uri: Option<String>,
}

/// Every `[authors.{key}]` table of a layer, by key.
pub type AuthorsLayer = BTreeMap<String, AuthorLayer>;

/// Whether `name`, unknown in the file, is a misspelling of [`TABLE`].
pub(super) fn is_near(name: &str) -> bool {
    super::suggest::nearest(name, [(TABLE, String::new())]).is_some()
}

/// The keys an author's table may hold; `url` is another name for `uri`.
const KEYS: [&str; 4] = ["name", "email", "uri", "url"];

/// Reads the file's `authors` value: a table of tables, one per author. The error says
/// what is wrong in the file's words.
pub(super) fn from_toml(value: &toml::Value) -> Result<AuthorsLayer, String> {
    let Some(tables) = value.as_table() else {
        return Err(format!(
            "`{TABLE}` is a table of authors: write [{TABLE}.KEY] and the author's name, \
             email and uri on the lines below it"
        ));
    };
    tables
        .iter()
        .map(|(key, value)| Ok((key.clone(), author_from_toml(key, value)?)))
        .collect()
}

/// One author's table.
fn author_from_toml(key: &str, value: &toml::Value) -> Result<AuthorLayer, String> {
    let place = format!("[{TABLE}.{key}]");
    let Some(fields) = value.as_table() else {
        return Err(format!(
            "{place} must be a table: write [{TABLE}.{key}] and name = \"…\" on the line below it"
        ));
    };
    let mut author = AuthorLayer::default();
    for (field, value) in fields {
        let slot = match field.as_str() {
            "name" => &mut author.name,
            "email" => &mut author.email,
            "uri" | "url" => &mut author.uri,
            _ => {
                let known = KEYS.iter().map(|k| (*k, format!("`{k}`")));
                return Err(match super::suggest::nearest(field, known) {
                    Some(known) => {
                        format!("unknown key `{field}` in {place}; did you mean {known}?")
                    }
                    None => format!(
                        "unknown key `{field}` in {place} (an author has name, email and uri)"
                    ),
                });
            }
        };
        if slot.is_some() {
            return Err(format!("{place} gives its uri twice (uri and url)"));
        }
        let text = value
            .as_str()
            .ok_or_else(|| format!("key `{field}` in {place}: {value} is not text in quotes"))?;
        *slot = Some(text.to_owned());
    }
    Ok(author)
}

/// Checks every author and makes them people: a name that says something, an e-mail
/// address of the form `local@domain`, an absolute URL for the page.
pub(super) fn validate(layer: AuthorsLayer) -> Result<BTreeMap<String, Person>, ConfigError> {
    layer
        .into_iter()
        .map(|(key, author)| {
            let person = person(&key, author).map_err(|message| ConfigError::Invalid {
                key: TABLE,
                message: format!("[{TABLE}.{key}] {message}"),
            })?;
            Ok((key, person))
        })
        .collect()
}

fn person(key: &str, author: AuthorLayer) -> Result<Person, String> {
    let name = match author.name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => name.to_owned(),
        Some(_) => return Err("`name` must not be empty".into()),
        None => {
            return Err(format!(
                "has no `name`: write name = \"…\" (the name of {key})"
            ));
        }
    };
    let email = author.email.map(|email| {
        let email = email.trim().to_owned();
        if is_email(&email) {
            Ok(email)
        } else {
            Err(format!(
                "`email` {email:?} is not an e-mail address like jane@example.org"
            ))
        }
    });
    let uri = author.uri.map(|uri| {
        let uri = uri.trim().to_owned();
        match Url::parse(&uri) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {
                Ok(uri)
            }
            _ => Err(format!(
                "`uri` {uri:?} is not an http:// or https:// URL like https://example.org/jane"
            )),
        }
    });
    Ok(Person {
        name,
        email: email.transpose()?,
        uri: uri.transpose()?,
    })
}

/// `local@domain.tld`, without spaces or the characters that would end an address in a
/// header (`<`, `>`, `,`): what Atom's `email` (RFC 2822's addr-spec) and the validators
/// that check it accept.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let clean = |part: &str| {
        !part.is_empty()
            && !part
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>,;:\"()[]\\@".contains(c))
    };
    let labels_ok = domain
        .split('.')
        .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
    clean(local) && clean(domain) && domain.contains('.') && labels_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Layer, validate as validate_config};

    fn people(toml: &str) -> Result<BTreeMap<String, Person>, String> {
        let layer = Layer::from_toml(toml)?;
        validate_config(layer.over(Layer::defaults()))
            .map(|config| config.feed.authors)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn authors_are_read_with_their_email_and_page() {
        let authors = people(
            "[authors.jane]\nname = \"Jane Doe\"\nemail = \"jane@example.org\"\n\
             uri = \"https://example.org/jane\"\n\
             [authors.bob]\nname = \" Bob \"\nurl = \"https://bob.example/\"\n",
        )
        .unwrap();
        assert_eq!(
            authors["jane"],
            Person {
                name: "Jane Doe".into(),
                email: Some("jane@example.org".into()),
                uri: Some("https://example.org/jane".into()),
            }
        );
        assert_eq!(
            authors["bob"],
            Person {
                name: "Bob".into(),
                email: None,
                uri: Some("https://bob.example/".into()),
            }
        );
        assert!(people("").unwrap().is_empty(), "none by default");
    }

    #[test]
    fn mistakes_in_an_author_name_the_author_and_the_key() {
        for (toml, expected) in [
            (
                "[authors.jane]\nname = \"Jane\"\nmail = \"j@x.org\"",
                "unknown key `mail` in [authors.jane]; did you mean `email`?",
            ),
            (
                "[authors.jane]\nname = \"Jane\"\ncolour = \"blue\"",
                "unknown key `colour` in [authors.jane] (an author has name, email and uri)",
            ),
            (
                "[authors.jane]\nname = 3",
                "key `name` in [authors.jane]: 3 is not text in quotes",
            ),
            (
                "authors = \"jane\"",
                "`authors` is a table of authors: write [authors.KEY] and the author's name, \
                 email and uri on the lines below it",
            ),
            (
                "[authors]\njane = \"Jane Doe\"",
                "[authors.jane] must be a table: write [authors.jane] and name = \"…\" on the \
                 line below it",
            ),
            (
                "[authors.jane]\nname = \"Jane\"\nuri = \"https://a.org/\"\nurl = \"https://b.org/\"",
                "[authors.jane] gives its uri twice (uri and url)",
            ),
            (
                "[author.jane]\nname = \"Jane\"",
                "unknown key `author`; did you mean [authors.KEY]?",
            ),
        ] {
            assert_eq!(Layer::from_toml(toml).unwrap_err(), expected, "{toml}");
        }
        for (toml, expected) in [
            (
                "[authors.jane]\nemail = \"j@x.org\"",
                "config key `authors`: [authors.jane] has no `name`: write name = \"…\" (the \
                 name of jane)",
            ),
            (
                "[authors.jane]\nname = \" \"",
                "config key `authors`: [authors.jane] `name` must not be empty",
            ),
            (
                "[authors.jane]\nname = \"Jane\"\nemail = \"Jane <j@x.org>\"",
                "config key `authors`: [authors.jane] `email` \"Jane <j@x.org>\" is not an \
                 e-mail address like jane@example.org",
            ),
            (
                "[authors.jane]\nname = \"Jane\"\nuri = \"/about/jane\"",
                "config key `authors`: [authors.jane] `uri` \"/about/jane\" is not an http:// \
                 or https:// URL like https://example.org/jane",
            ),
        ] {
            assert_eq!(people(toml).unwrap_err(), expected, "{toml}");
        }
    }

    #[test]
    fn email_addresses_have_a_local_part_and_a_domain() {
        for good in ["jane@example.org", "j.doe+news@mail.example.co.uk"] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "jane",
            "jane@",
            "@example.org",
            "jane@localhost",
            "jane doe@example.org",
            "jane@example..org",
            "<jane@example.org>",
            "jane@-x.org",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
