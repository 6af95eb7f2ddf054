//! `[podcast]` and `[podcast.sections.{slug}]`: the main feed, or one section's feed, as a
//! podcast (Apple's `itunes:` tags and the Podcasting 2.0 `podcast:` namespace in its
//! RSS). Like `[authors]`, these tables do not fit the table of settings, so they are read
//! here: the file's value into a [`PodcastLayer`] (unknown keys are errors that name the
//! nearest known one), then checked into [`Podcasts`] by [`validate`]. A section's table
//! takes the keys it leaves unset from `[podcast]`, all but `enabled` and `guid` (one
//! podcast's own). Only the file sets them; a reload applies a change at once.
//!
//! What is checked here is what the text says: the category is one of Apple's, the owner
//! an e-mail address, the artwork a relative path to a JPEG or PNG file. Whether that file
//! is there and square, 1400 to 3000 pixels a side, needs the seeds folder, which the
//! configuration cannot read: the daemon, `check` and `render` check it at start-up.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ConfigError;
use super::authors::is_email;

/// The name of the table in the file: `[podcast]`.
pub const TABLE: &str = "podcast";

/// The key of `[podcast]` that holds the sections' tables: `[podcast.sections.tech]`.
const SECTIONS: &str = "sections";

/// One podcast table as the file writes it; every key is checked by [`validate`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodcastTableLayer {
    /// Whether the feed is a podcast (unset: yes, the table is there). Not inherited.
    pub enabled: Option<bool>,
    /// The artwork: a path below the seeds folder.
    pub image: Option<String>,
    /// One of Apple's categories, `"Parent"` or `"Parent > Sub"`.
    pub category: Option<String>,
    pub explicit: Option<bool>,
    pub owner_name: Option<String>,
    pub owner_email: Option<String>,
    pub author: Option<String>,
    /// `episodic` or `serial` (the file's `type`).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub medium: Option<String>,
    pub locked: Option<bool>,
    /// `podcast:guid`, kept from another host or an earlier feed URL (unset: derived
    /// from the feed's URL). Not inherited.
    pub guid: Option<String>,
}

impl PodcastTableLayer {
    /// `self` wins wherever it says something; `lower` fills the rest, but `enabled` and
    /// `guid`.
    fn over(&self, lower: &Self) -> Self {
        Self {
            enabled: self.enabled,
            guid: self.guid.clone(),
            image: self.image.clone().or_else(|| lower.image.clone()),
            category: self.category.clone().or_else(|| lower.category.clone()),
            explicit: self.explicit.or(lower.explicit),
            owner_name: self.owner_name.clone().or_else(|| lower.owner_name.clone()),
            owner_email: self
                .owner_email
                .clone()
                .or_else(|| lower.owner_email.clone()),
            author: self.author.clone().or_else(|| lower.author.clone()),
            kind: self.kind.clone().or_else(|| lower.kind.clone()),
            medium: self.medium.clone().or_else(|| lower.medium.clone()),
            locked: self.locked.or(lower.locked),
        }
    }
}

/// `[podcast]` and its `[podcast.sections.{slug}]` tables, as the file writes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodcastLayer {
    /// `[podcast]`'s own keys.
    #[serde(flatten)]
    pub main: PodcastTableLayer,
    /// Each section's table, by the section's slug.
    #[serde(default)]
    pub sections: BTreeMap<String, PodcastTableLayer>,
}

/// Whether `name`, unknown in the file, is a misspelling of [`TABLE`].
pub(super) fn is_near(name: &str) -> bool {
    super::suggest::nearest(name, [(TABLE, String::new())]).is_some()
}

/// The keys a podcast table may hold.
const KEYS: [&str; 11] = [
    "enabled",
    "image",
    "category",
    "explicit",
    "owner_name",
    "owner_email",
    "author",
    "type",
    "medium",
    "locked",
    "guid",
];

/// Reads the file's `podcast` value: `[podcast]`'s keys and its sections' tables. The
/// error says what is wrong in the file's words.
pub(super) fn from_toml(value: &toml::Value) -> Result<PodcastLayer, String> {
    let Some(keys) = value.as_table() else {
        return Err(format!(
            "`{TABLE}` is a table: write [{TABLE}] and its keys on the lines below it"
        ));
    };
    let mut layer = PodcastLayer::default();
    for (key, value) in keys {
        if key == SECTIONS {
            layer.sections = sections_from_toml(value)?;
        } else {
            set_key(&mut layer.main, &format!("[{TABLE}]"), key, value)?;
        }
    }
    Ok(layer)
}

/// `[podcast.sections]`: a table per section.
fn sections_from_toml(value: &toml::Value) -> Result<BTreeMap<String, PodcastTableLayer>, String> {
    let Some(tables) = value.as_table() else {
        return Err(format!(
            "`{SECTIONS}` in [{TABLE}] is a table of sections: write [{TABLE}.{SECTIONS}.SLUG] \
             and the keys of that section's podcast on the lines below it"
        ));
    };
    let mut sections = BTreeMap::new();
    for (slug, value) in tables {
        let place = format!("[{TABLE}.{SECTIONS}.{slug}]");
        let Some(keys) = value.as_table() else {
            return Err(format!(
                "{place} must be a table: write {place} and its keys on the lines below it"
            ));
        };
        let mut table = PodcastTableLayer::default();
        for (key, value) in keys {
            set_key(&mut table, &place, key, value)?;
        }
        sections.insert(slug.clone(), table);
    }
    Ok(sections)
}

/// Sets one key of a podcast table from the file's value.
fn set_key(
    table: &mut PodcastTableLayer,
    place: &str,
    key: &str,
    value: &toml::Value,
) -> Result<(), String> {
    let flag = |slot: &mut Option<bool>| {
        *slot = Some(
            value
                .as_bool()
                .ok_or_else(|| format!("key `{key}` in {place}: {value} is not true or false"))?,
        );
        Ok::<_, String>(())
    };
    let text =
        |slot: &mut Option<String>| {
            *slot =
                Some(value.as_str().map(str::to_owned).ok_or_else(|| {
                    format!("key `{key}` in {place}: {value} is not text in quotes")
                })?);
            Ok::<_, String>(())
        };
    match key {
        "enabled" => flag(&mut table.enabled),
        "explicit" => flag(&mut table.explicit),
        "locked" => flag(&mut table.locked),
        "image" => text(&mut table.image),
        "category" => text(&mut table.category),
        "owner_name" => text(&mut table.owner_name),
        "owner_email" => text(&mut table.owner_email),
        "author" => text(&mut table.author),
        "type" => text(&mut table.kind),
        "medium" => text(&mut table.medium),
        "guid" => text(&mut table.guid),
        _ => {
            let known = KEYS.iter().map(|k| (*k, format!("`{k}`")));
            Err(match super::suggest::nearest(key, known) {
                Some(known) => format!("unknown key `{key}` in {place}; did you mean {known}?"),
                None => format!(
                    "unknown key `{key}` in {place} (a podcast has {}; sections go in \
                     [{TABLE}.{SECTIONS}.SLUG])",
                    KEYS.join(", ")
                ),
            })
        }
    }
}

/// The podcasts the configuration makes: the main feed's, and each section's by slug.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Podcasts {
    pub main: Option<Podcast>,
    pub sections: BTreeMap<String, Podcast>,
}

impl Podcasts {
    /// Every podcast, with the place of its table in the file (for messages).
    pub fn all(&self) -> impl Iterator<Item = (String, &Podcast)> {
        let main = self.main.iter().map(|p| (format!("[{TABLE}]"), p));
        let sections = self
            .sections
            .iter()
            .map(|(slug, p)| (format!("[{TABLE}.{SECTIONS}.{slug}]"), p));
        main.chain(sections)
    }
}

/// A feed as a podcast: what its channel says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Podcast {
    /// The artwork's path below the seeds folder (a JPEG or PNG file).
    pub image: String,
    pub category: PodcastCategory,
    pub explicit: bool,
    /// The owner's name (unset: the feed's author) and e-mail address.
    pub owner_name: Option<String>,
    pub owner_email: String,
    /// `itunes:author` (unset: the feed's author).
    pub author: Option<String>,
    pub kind: PodcastType,
    pub medium: PodcastMedium,
    /// `podcast:locked`: other platforms may not import the feed.
    pub locked: bool,
    /// `podcast:guid` as configured; unset, the renderer derives it from the feed's URL.
    pub guid: Option<uuid::Uuid>,
}

/// One of Apple's categories, in Apple's spelling, with a sub-category when one is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodcastCategory {
    pub name: &'static str,
    pub sub: Option<&'static str>,
}

/// Apple's `itunes:type`: how the episodes are meant to be heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodcastType {
    /// In any order, newest first.
    Episodic,
    /// In order, from the first.
    Serial,
}

impl PodcastType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Episodic => "episodic",
            Self::Serial => "serial",
        }
    }
}

/// The Podcasting 2.0 `podcast:medium`: what the feed is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodcastMedium {
    Podcast,
    Music,
    Video,
    Film,
    Audiobook,
    Newsletter,
    Blog,
}

impl PodcastMedium {
    const ALL: [PodcastMedium; 7] = [
        Self::Podcast,
        Self::Music,
        Self::Video,
        Self::Film,
        Self::Audiobook,
        Self::Newsletter,
        Self::Blog,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Podcast => "podcast",
            Self::Music => "music",
            Self::Video => "video",
            Self::Film => "film",
            Self::Audiobook => "audiobook",
            Self::Newsletter => "newsletter",
            Self::Blog => "blog",
        }
    }
}

/// Checks every podcast table and makes podcasts of the enabled ones: `[podcast]` for the
/// main feed, when it has keys of its own (a file with `[podcast.sections.…]` alone has
/// no main podcast), and each section's table (over `[podcast]`) for its feed. The keys a
/// table sets are checked whether it is enabled or not; an enabled one must have its
/// `image`, `category` and `owner_email`.
pub(super) fn validate(layer: PodcastLayer) -> Result<Podcasts, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        key: TABLE,
        message,
    };
    let main_place = format!("[{TABLE}]");
    let main = checked(&main_place, &layer.main).map_err(invalid)?;
    let present = layer.main != PodcastTableLayer::default();
    let mut podcasts = Podcasts {
        main: (present && layer.main.enabled != Some(false))
            .then(|| podcast(&main_place, main))
            .transpose()
            .map_err(invalid)?,
        sections: BTreeMap::new(),
    };
    for (slug, table) in &layer.sections {
        let place = format!("[{TABLE}.{SECTIONS}.{slug}]");
        let guid = table.guid.as_ref();
        if guid.is_some() && guid == layer.main.guid.as_ref() {
            return Err(invalid(format!(
                "{place} `guid` is [{TABLE}]'s too: a guid is one podcast's"
            )));
        }
        if !is_slug(slug) {
            return Err(invalid(format!(
                "{place}: `{slug}` is not a section's slug, the name in its feed's address \
                 (/categories/SLUG.rss), like tech or conflict-justice"
            )));
        }
        let merged = checked(&place, &table.over(&layer.main)).map_err(invalid)?;
        if table.enabled != Some(false) {
            let podcast = podcast(&place, merged).map_err(invalid)?;
            podcasts.sections.insert(slug.clone(), podcast);
        }
    }
    Ok(podcasts)
}

/// A section's slug as `normalize::slugify` makes them: lower-case ASCII letters and
/// digits in runs joined by single hyphens.
fn is_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// A table's keys, each checked when it is set.
struct Checked {
    image: Option<String>,
    category: Option<PodcastCategory>,
    explicit: Option<bool>,
    owner_name: Option<String>,
    owner_email: Option<String>,
    author: Option<String>,
    kind: Option<PodcastType>,
    medium: Option<PodcastMedium>,
    locked: Option<bool>,
    guid: Option<uuid::Uuid>,
}

/// Checks each key a table sets; the error names the table and the key.
fn checked(place: &str, table: &PodcastTableLayer) -> Result<Checked, String> {
    let at = |key: &'static str| move |message: String| format!("{place} `{key}` {message}");
    Ok(Checked {
        image: table
            .image
            .as_deref()
            .map(image_path)
            .transpose()
            .map_err(at("image"))?,
        category: table
            .category
            .as_deref()
            .map(category)
            .transpose()
            .map_err(at("category"))?,
        explicit: table.explicit,
        owner_name: table
            .owner_name
            .as_deref()
            .map(name)
            .transpose()
            .map_err(at("owner_name"))?,
        owner_email: table
            .owner_email
            .as_deref()
            .map(email)
            .transpose()
            .map_err(at("owner_email"))?,
        author: table
            .author
            .as_deref()
            .map(name)
            .transpose()
            .map_err(at("author"))?,
        kind: table
            .kind
            .as_deref()
            .map(kind)
            .transpose()
            .map_err(at("type"))?,
        medium: table
            .medium
            .as_deref()
            .map(medium)
            .transpose()
            .map_err(at("medium"))?,
        locked: table.locked,
        guid: table
            .guid
            .as_deref()
            .map(guid)
            .transpose()
            .map_err(at("guid"))?,
    })
}

/// An enabled podcast: its checked keys, the required ones present, the rest defaulted.
fn podcast(place: &str, keys: Checked) -> Result<Podcast, String> {
    let missing = |key: &str, example: &str| {
        format!("{place} has no `{key}`: a podcast needs one ({key} = {example})")
    };
    Ok(Podcast {
        image: keys
            .image
            .ok_or_else(|| missing("image", "\"podcast/cover.jpg\", a path in the seeds folder"))?,
        category: keys
            .category
            .ok_or_else(|| missing("category", "\"Technology\" or \"News > Tech News\""))?,
        explicit: keys.explicit.unwrap_or(false),
        owner_name: keys.owner_name,
        owner_email: keys
            .owner_email
            .ok_or_else(|| missing("owner_email", "\"jane@example.org\""))?,
        author: keys.author,
        kind: keys.kind.unwrap_or(PodcastType::Episodic),
        medium: keys.medium.unwrap_or(PodcastMedium::Podcast),
        locked: keys.locked.unwrap_or(false),
        guid: keys.guid,
    })
}

/// A `podcast:guid`: a UUID, as the namespace writes them (lower-case, hyphenated).
fn guid(text: &str) -> Result<uuid::Uuid, String> {
    uuid::Uuid::try_parse(text.trim())
        .map_err(|_| format!("{text:?} is not a UUID like 917393e3-1b1e-5cef-ace4-edaa54e1f810"))
}

/// The artwork's path: relative, below the seeds folder, a JPEG or PNG file by its name
/// (the only formats Apple takes). Whether the file is there is checked at start-up.
fn image_path(text: &str) -> Result<String, String> {
    let path = text.trim();
    let plain = |part: &str| !matches!(part, "" | "." | "..") && !part.contains(['\0', '\\']);
    if path.is_empty() || path.starts_with('/') || !path.split('/').all(plain) {
        return Err(format!(
            "{text:?} is not a path in the seeds folder like \"podcast/cover.jpg\" (relative, \
             without . or .. parts)"
        ));
    }
    let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    if !matches!(extension.as_deref(), Some("jpg" | "jpeg" | "png")) {
        return Err(format!(
            "{text:?} is not a .jpg, .jpeg or .png file: Apple takes JPEG or PNG artwork only"
        ));
    }
    Ok(path.to_owned())
}

/// A name that says something.
fn name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(name.to_owned())
    }
}

fn email(text: &str) -> Result<String, String> {
    let email = text.trim();
    if is_email(email) {
        Ok(email.to_owned())
    } else {
        Err(format!(
            "{text:?} is not an e-mail address like jane@example.org"
        ))
    }
}

fn kind(text: &str) -> Result<PodcastType, String> {
    match text.trim() {
        "episodic" => Ok(PodcastType::Episodic),
        "serial" => Ok(PodcastType::Serial),
        _ => Err(format!(
            "{text:?} is not episodic (newest first, heard in any order) or serial (heard \
             in order from the first)"
        )),
    }
}

fn medium(text: &str) -> Result<PodcastMedium, String> {
    PodcastMedium::ALL
        .into_iter()
        .find(|medium| medium.as_str() == text.trim())
        .ok_or_else(|| {
            let names: Vec<&str> = PodcastMedium::ALL.iter().map(|m| m.as_str()).collect();
            format!("{text:?} is not one of {}", names.join(", "))
        })
}

/// One of Apple's categories: `"Parent"` or `"Parent > Sub"`, in any case and spacing
/// around `>`, written back in Apple's spelling. Anything else names the nearest one.
fn category(text: &str) -> Result<PodcastCategory, String> {
    let (parent, sub) = match text.split_once('>') {
        Some((parent, sub)) => (parent.trim(), Some(sub.trim())),
        None => (text.trim(), None),
    };
    let found = APPLE_CATEGORIES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(parent))
        .and_then(|(name, subs)| match sub {
            None => Some(PodcastCategory { name, sub: None }),
            Some(sub) => subs
                .iter()
                .find(|known| known.eq_ignore_ascii_case(sub))
                .map(|known| PodcastCategory {
                    name,
                    sub: Some(known),
                }),
        });
    if let Some(found) = found {
        return Ok(found);
    }
    // A sub-category alone: say under which category it goes.
    if sub.is_none()
        && let Some((name, known)) = APPLE_CATEGORIES.iter().find_map(|(name, subs)| {
            subs.iter()
                .find(|known| known.eq_ignore_ascii_case(parent))
                .map(|known| (name, known))
        })
    {
        return Err(format!(
            "{text:?} is a sub-category of {name}: write \"{name} > {known}\""
        ));
    }
    let candidates = APPLE_CATEGORIES.iter().flat_map(|(name, subs)| {
        std::iter::once(((*name).to_owned(), format!("\"{name}\""))).chain(
            subs.iter()
                .map(move |known| (format!("{name} > {known}"), format!("\"{name} > {known}\""))),
        )
    });
    let candidates: Vec<(String, String)> = candidates.collect();
    let wanted = match sub {
        Some(sub) => format!("{parent} > {sub}"),
        None => parent.to_owned(),
    };
    let nearest = super::suggest::nearest(
        &wanted,
        candidates
            .iter()
            .map(|(name, shown)| (name.as_str(), shown.clone())),
    );
    Err(match nearest {
        Some(known) => format!("{text:?} is not one of Apple's categories; did you mean {known}?"),
        None => format!(
            "{text:?} is not one of Apple's categories (docs/feeds.md lists them: Arts, \
             Business, Comedy, … TV & Film)"
        ),
    })
}

/// Apple Podcasts' categories and their sub-categories, as Apple lists them for podcast
/// feeds (<https://podcasters.apple.com/support/1691-apple-podcasts-categories>).
pub const APPLE_CATEGORIES: &[(&str, &[&str])] = &[
    (
        "Arts",
        &[
            "Books",
            "Design",
            "Fashion & Beauty",
            "Food",
            "Performing Arts",
            "Visual Arts",
        ],
    ),
    (
        "Business",
        &[
            "Careers",
            "Entrepreneurship",
            "Investing",
            "Management",
            "Marketing",
            "Non-Profit",
        ],
    ),
    ("Comedy", &["Comedy Interviews", "Improv", "Stand-Up"]),
    (
        "Education",
        &["Courses", "How To", "Language Learning", "Self-Improvement"],
    ),
    ("Fiction", &["Comedy Fiction", "Drama", "Science Fiction"]),
    ("Government", &[]),
    ("History", &[]),
    (
        "Health & Fitness",
        &[
            "Alternative Health",
            "Fitness",
            "Medicine",
            "Mental Health",
            "Nutrition",
            "Sexuality",
        ],
    ),
    (
        "Kids & Family",
        &[
            "Education for Kids",
            "Parenting",
            "Pets & Animals",
            "Stories for Kids",
        ],
    ),
    (
        "Leisure",
        &[
            "Animation & Manga",
            "Automotive",
            "Aviation",
            "Crafts",
            "Games",
            "Hobbies",
            "Home & Garden",
            "Video Games",
        ],
    ),
    (
        "Music",
        &["Music Commentary", "Music History", "Music Interviews"],
    ),
    (
        "News",
        &[
            "Business News",
            "Daily News",
            "Entertainment News",
            "News Commentary",
            "Politics",
            "Sports News",
            "Tech News",
        ],
    ),
    (
        "Religion & Spirituality",
        &[
            "Buddhism",
            "Christianity",
            "Hinduism",
            "Islam",
            "Judaism",
            "Religion",
            "Spirituality",
        ],
    ),
    (
        "Science",
        &[
            "Astronomy",
            "Chemistry",
            "Earth Sciences",
            "Life Sciences",
            "Mathematics",
            "Natural Sciences",
            "Nature",
            "Physics",
            "Social Sciences",
        ],
    ),
    (
        "Society & Culture",
        &[
            "Documentary",
            "Personal Journals",
            "Philosophy",
            "Places & Travel",
            "Relationships",
        ],
    ),
    (
        "Sports",
        &[
            "Baseball",
            "Basketball",
            "Cricket",
            "Fantasy Sports",
            "Football",
            "Golf",
            "Hockey",
            "Rugby",
            "Running",
            "Soccer",
            "Swimming",
            "Tennis",
            "Volleyball",
            "Wilderness",
            "Wrestling",
        ],
    ),
    ("Technology", &[]),
    ("True Crime", &[]),
    (
        "TV & Film",
        &[
            "After Shows",
            "Film History",
            "Film Interviews",
            "Film Reviews",
            "TV Reviews",
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Layer, validate as validate_config};

    fn podcasts(toml: &str) -> Result<Podcasts, String> {
        let layer = Layer::from_toml(toml)?;
        validate_config(layer.over(Layer::defaults()))
            .map(|config| config.feed.podcasts)
            .map_err(|e| e.to_string())
    }

    const MAIN: &str = "[podcast]\nimage = \"show/cover.jpg\"\ncategory = \"News > Tech News\"\n\
                        owner_email = \"jane@example.org\"\n";

    #[test]
    fn a_podcast_table_with_its_defaults() {
        let read = podcasts_of(MAIN);
        let main = read.main.unwrap();
        assert_eq!(
            main,
            Podcast {
                image: "show/cover.jpg".into(),
                category: PodcastCategory {
                    name: "News",
                    sub: Some("Tech News"),
                },
                explicit: false,
                owner_name: None,
                owner_email: "jane@example.org".into(),
                author: None,
                kind: PodcastType::Episodic,
                medium: PodcastMedium::Podcast,
                locked: false,
                guid: None,
            }
        );
        assert!(read.sections.is_empty());
        assert_eq!(podcasts_of(""), Podcasts::default(), "none by default");
        let off = podcasts(&format!("{MAIN}enabled = false\n")).unwrap();
        assert_eq!(off.main, None);
    }

    fn podcasts_of(toml: &str) -> Podcasts {
        podcasts(toml).unwrap()
    }

    /// A section's table takes what it leaves unset from `[podcast]`, but `enabled`; a
    /// file with section tables alone has no main podcast.
    #[test]
    fn a_section_inherits_from_the_main_table() {
        let podcasts = podcasts_of(&format!(
            "{MAIN}enabled = false\nexplicit = true\ntype = \"serial\"\n\
             [podcast.sections.tech]\ncategory = \"technology\"\nmedium = \"video\"\n\
             [podcast.sections.off]\nenabled = false\n"
        ));
        assert_eq!(podcasts.main, None);
        let tech = &podcasts.sections["tech"];
        assert_eq!(tech.image, "show/cover.jpg");
        assert_eq!(
            tech.category,
            PodcastCategory {
                name: "Technology",
                sub: None
            }
        );
        assert!(tech.explicit);
        assert_eq!(tech.kind, PodcastType::Serial);
        assert_eq!(tech.medium, PodcastMedium::Video);
        assert!(!podcasts.sections.contains_key("off"));
        // A guid is one podcast's: never inherited, never shared.
        let guid = "917393e3-1b1e-5cef-ace4-edaa54e1f810";
        let kept = podcasts_of(&format!(
            "{MAIN}guid = \"{guid}\"\n[podcast.sections.tech]\ncategory = \"Comedy\"\n"
        ));
        assert_eq!(kept.main.unwrap().guid.unwrap().to_string(), guid);
        assert_eq!(kept.sections["tech"].guid, None);
        let alone = podcasts_of(
            "[podcast.sections.tech]\nimage = \"a.png\"\ncategory = \"Comedy\"\n\
             owner_email = \"a@b.org\"\nlocked = true\n",
        );
        assert_eq!(alone.main, None);
        assert!(alone.sections["tech"].locked);
    }

    #[test]
    fn categories_are_apple_s_and_a_wrong_one_names_the_nearest() {
        for (text, name, sub) in [
            ("Technology", "Technology", None),
            (
                "society & culture > documentary",
                "Society & Culture",
                Some("Documentary"),
            ),
            (
                "Religion & Spirituality>Religion",
                "Religion & Spirituality",
                Some("Religion"),
            ),
        ] {
            assert_eq!(category(text), Ok(PodcastCategory { name, sub }), "{text}");
        }
        for (text, expected) in [
            (
                "Technolgy",
                "\"Technolgy\" is not one of Apple's categories; did you mean \"Technology\"?",
            ),
            (
                "News > Tech Nws",
                "\"News > Tech Nws\" is not one of Apple's categories; did you mean \
                 \"News > Tech News\"?",
            ),
            (
                "Tech News",
                "\"Tech News\" is a sub-category of News: write \"News > Tech News\"",
            ),
            (
                "Podcasting about podcasts",
                "\"Podcasting about podcasts\" is not one of Apple's categories (docs/feeds.md \
                 lists them: Arts, Business, Comedy, … TV & Film)",
            ),
        ] {
            assert_eq!(category(text).unwrap_err(), expected, "{text}");
        }
        // Every category and sub-category is a distinct name.
        let mut all: Vec<&str> = APPLE_CATEGORIES.iter().map(|(name, _)| *name).collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), APPLE_CATEGORIES.len());
    }

    #[test]
    fn mistakes_name_the_table_and_the_key() {
        for (toml, expected) in [
            (
                "[podcast]\nimage = \"a.jpg\"\ncategroy = \"Comedy\"",
                "unknown key `categroy` in [podcast]; did you mean `category`?",
            ),
            (
                "[podcast]\nexplicit = \"no\"",
                "key `explicit` in [podcast]: \"no\" is not true or false",
            ),
            (
                "[podcast.sections.tech]\nowner_email = 3",
                "key `owner_email` in [podcast.sections.tech]: 3 is not text in quotes",
            ),
            (
                "[podcasts]\nenabled = true",
                "unknown key `podcasts`; did you mean [podcast]?",
            ),
            (
                "podcast = true",
                "`podcast` is a table: write [podcast] and its keys on the lines below it",
            ),
        ] {
            assert_eq!(Layer::from_toml(toml).unwrap_err(), expected, "{toml}");
        }
        for (toml, expected) in [
            (
                "[podcast]\ncategory = \"Comedy\"\nowner_email = \"a@b.org\"",
                "config key `podcast`: [podcast] has no `image`: a podcast needs one (image = \
                 \"podcast/cover.jpg\", a path in the seeds folder)",
            ),
            (
                "[podcast]\nimage = \"a.jpg\"\ncategory = \"Comedy\"",
                "config key `podcast`: [podcast] has no `owner_email`: a podcast needs one \
                 (owner_email = \"jane@example.org\")",
            ),
            (
                "[podcast]\nimage = \"a.jpg\"\ncategory = \"Comedy\"\nowner_email = \"Jane\"",
                "config key `podcast`: [podcast] `owner_email` \"Jane\" is not an e-mail \
                 address like jane@example.org",
            ),
            (
                "[podcast]\nimage = \"../cover.jpg\"",
                "config key `podcast`: [podcast] `image` \"../cover.jpg\" is not a path in the \
                 seeds folder like \"podcast/cover.jpg\" (relative, without . or .. parts)",
            ),
            (
                "[podcast]\nimage = \"/srv/cover.jpg\"",
                "config key `podcast`: [podcast] `image` \"/srv/cover.jpg\" is not a path in \
                 the seeds folder like \"podcast/cover.jpg\" (relative, without . or .. parts)",
            ),
            (
                "[podcast]\nimage = \"cover.webp\"",
                "config key `podcast`: [podcast] `image` \"cover.webp\" is not a .jpg, .jpeg or \
                 .png file: Apple takes JPEG or PNG artwork only",
            ),
            (
                "[podcast]\ntype = \"daily\"",
                "config key `podcast`: [podcast] `type` \"daily\" is not episodic (newest \
                 first, heard in any order) or serial (heard in order from the first)",
            ),
            (
                "[podcast]\nmedium = \"radio\"",
                "config key `podcast`: [podcast] `medium` \"radio\" is not one of podcast, \
                 music, video, film, audiobook, newsletter, blog",
            ),
            (
                "[podcast]\nguid = \"podnews.net/rss\"",
                "config key `podcast`: [podcast] `guid` \"podnews.net/rss\" is not a UUID like \
                 917393e3-1b1e-5cef-ace4-edaa54e1f810",
            ),
            (
                "[podcast]\nenabled = false\nguid = \"917393e3-1b1e-5cef-ace4-edaa54e1f810\"\n\
                 [podcast.sections.tech]\nguid = \"917393e3-1b1e-5cef-ace4-edaa54e1f810\"",
                "config key `podcast`: [podcast.sections.tech] `guid` is [podcast]'s too: a guid \
                 is one podcast's",
            ),
            (
                "[podcast.sections.Tech]\nimage = \"a.jpg\"",
                "config key `podcast`: [podcast.sections.Tech]: `Tech` is not a section's \
                 slug, the name in its feed's address (/categories/SLUG.rss), like tech or \
                 conflict-justice",
            ),
            (
                "[podcast]\nenabled = false\ncategory = \"Comedy\"\nowner_email = \"a@b.org\"\n\
                 [podcast.sections.tech]\nexplicit = true",
                "config key `podcast`: [podcast.sections.tech] has no `image`: a podcast needs \
                 one (image = \"podcast/cover.jpg\", a path in the seeds folder)",
            ),
        ] {
            assert_eq!(podcasts(toml).unwrap_err(), expected, "{toml}");
        }
    }
}
