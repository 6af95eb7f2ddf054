//! How much of each article the feeds carry, as the configuration names it (`[feed]
//! content`). The renderer reads the value; this is only the setting.

/// What the feeds carry of each entry (config key `content` in `[feed]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FeedContent {
    /// The summary and the whole article as HTML.
    #[default]
    Full,
    /// The summary only; the entry's link leads to its page, which has the whole article.
    Summary,
}

impl FeedContent {
    /// The name the configuration gives it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Summary => "summary",
        }
    }

    /// The value a configuration names; the error says what is wrong with the name.
    pub fn from_name(name: &str) -> Result<Self, String> {
        match name {
            "full" => Ok(Self::Full),
            "summary" => Ok(Self::Summary),
            _ => Err(format!(
                "{name:?} is not full (the whole article) or summary (its first paragraph)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_go_both_ways_and_an_unknown_one_is_refused() {
        for content in [FeedContent::Full, FeedContent::Summary] {
            assert_eq!(FeedContent::from_name(content.name()), Ok(content));
        }
        assert_eq!(
            FeedContent::from_name("excerpt"),
            Err(
                "\"excerpt\" is not full (the whole article) or summary (its first paragraph)"
                    .into()
            )
        );
        assert!(FeedContent::from_name("Summary").is_err());
    }
}
