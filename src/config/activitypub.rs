//! `[activitypub]`, checked: the account's name, what kind of actor and objects it is,
//! and how it may reach other servers. The images it names are checked as paths or URLs
//! here; whether a path is there is the daemon's to see, as for the podcast artwork.

use super::ConfigError;

/// What the actor is, in ActivityStreams' words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ActorType {
    /// An automated account: Mastodon labels it a bot.
    #[default]
    Service,
    Person,
}

impl ActorType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Service => "Service",
            Self::Person => "Person",
        }
    }
}

/// What each entry is, delivered and fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ObjectType {
    /// Shown whole in a timeline, the title as its first paragraph.
    #[default]
    Note,
    /// Mastodon shows its title and a link to the page.
    Article,
}

impl ObjectType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Note => "Note",
            Self::Article => "Article",
        }
    }
}

/// The avatar or header image: a file below the seeds folder, served under `/media/`,
/// or an image elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorImage {
    /// A path relative to the seeds folder.
    Seed(String),
    /// An absolute `https://` (or `http://`) URL.
    Url(url::Url),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityPubConfig {
    pub enabled: bool,
    pub username: String,
    pub actor_type: ActorType,
    pub object_type: ObjectType,
    /// Unset: the feed's title and description.
    pub name: Option<String>,
    pub summary: Option<String>,
    pub icon: Option<ActorImage>,
    pub image: Option<ActorImage>,
    /// `@user@host` of the person credited in link previews.
    pub attribution: Option<String>,
    pub content_warning: bool,
    pub allow_private: bool,
    pub deliveries_per_second: u32,
    pub inbox_per_minute: u32,
}

/// The values of the table as the settings read them, converted and checked.
pub(super) fn validate(
    values: super::settings::ActivityPubValues,
) -> Result<ActivityPubConfig, ConfigError> {
    let invalid = |key: &'static str, message: String| ConfigError::Invalid { key, message };
    let username = values.username;
    if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(invalid(
            "activitypub.username",
            format!("{username:?} may hold only letters, digits and _ . -"),
        ));
    }
    let actor_type = match values.actor_type.as_str() {
        "Service" => ActorType::Service,
        "Person" => ActorType::Person,
        other => {
            return Err(invalid(
                "activitypub.actor_type",
                format!("{other:?} is neither \"Service\" nor \"Person\""),
            ));
        }
    };
    let object_type = match values.object_type.as_str() {
        "Note" => ObjectType::Note,
        "Article" => ObjectType::Article,
        other => {
            return Err(invalid(
                "activitypub.object_type",
                format!("{other:?} is neither \"Note\" nor \"Article\""),
            ));
        }
    };
    if let Some(handle) = &values.attribution
        && !is_handle(handle)
    {
        return Err(invalid(
            "activitypub.attribution",
            format!("{handle:?} is not a fediverse account like @alice@example.social"),
        ));
    }
    Ok(ActivityPubConfig {
        enabled: values.enabled,
        username,
        actor_type,
        object_type,
        name: values.name,
        summary: values.summary,
        icon: values
            .icon
            .map(|text| actor_image("activitypub.icon", text))
            .transpose()?,
        image: values
            .image
            .map(|text| actor_image("activitypub.image", text))
            .transpose()?,
        attribution: values.attribution,
        content_warning: values.content_warning,
        allow_private: values.allow_private,
        deliveries_per_second: values.deliveries_per_second,
        inbox_per_minute: values.inbox_per_minute,
    })
}

/// `@user@host`: what Mastodon's `fediverse:creator` takes.
fn is_handle(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('@') else {
        return false;
    };
    match rest.split_once('@') {
        Some((user, host)) => {
            !user.is_empty()
                && !host.is_empty()
                && !host.contains('@')
                && !text.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn actor_image(key: &'static str, text: String) -> Result<ActorImage, ConfigError> {
    if text.contains("://") {
        let url = url::Url::parse(&text).map_err(|e| ConfigError::Invalid {
            key,
            message: format!("{text:?} is not a URL ({e})"),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::Invalid {
                key,
                message: format!("{text:?} must be an https:// URL or a path in the seeds folder"),
            });
        }
        return Ok(ActorImage::Url(url));
    }
    let path = text.trim_start_matches("./");
    if path.starts_with('/') || path.split('/').any(|part| part == "..") || path.is_empty() {
        return Err(ConfigError::Invalid {
            key,
            message: format!(
                "{text:?} must be a path below the seeds folder, like media/avatar.png"
            ),
        });
    }
    Ok(ActorImage::Seed(path.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_checked() {
        assert!(is_handle("@alice@example.social"));
        for bad in ["alice@example.social", "@alice", "@@x", "@a@b@c", "@a b@c"] {
            assert!(!is_handle(bad), "{bad}");
        }
    }

    #[test]
    fn images_are_paths_below_the_folder_or_urls() {
        assert_eq!(
            actor_image("k", "media/a.png".into()).unwrap(),
            ActorImage::Seed("media/a.png".into())
        );
        assert!(matches!(
            actor_image("k", "https://cdn.example/a.png".into()).unwrap(),
            ActorImage::Url(_)
        ));
        for bad in [
            "../a.png",
            "/etc/a.png",
            "ftp://x/a.png",
            "media/../../a.png",
        ] {
            assert!(actor_image("k", bad.into()).is_err(), "{bad}");
        }
    }
}
