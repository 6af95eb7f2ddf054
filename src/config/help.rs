//! The help text the table of settings gives the command line: a flag's help line with its
//! key's default, and the list of every setting that `seedfeed serve --help` (and its man
//! page) ends with. Defaults are shown in the text, never as clap defaults: a flag must win
//! only when it is given.

use std::fmt::Write;

use super::{Reload, SETTINGS, Setting};

/// What the list of settings starts with.
const SETTINGS_INTRO: &str = "\
Settings: each key of the config file (--config FILE or SEEDFEED_CONFIG), its environment
variable and its default. Flags win over the environment, which wins over the file, which
wins over the defaults. feed.title is title in the file's [feed] table. A reload (SIGHUP)
applies the keys marked [live] at once; the others take a restart. The file may also
define authors that articles name by key: [authors.KEY] tables with name, email and uri;
and podcasts: a [podcast] table makes the main feed one, [podcast.sections.SLUG] a
section's feed (docs/feeds.md). Both are read from the file alone, applied by a reload.
";

/// The help line of the flag that sets `key`: the key's doc line and its default.
pub fn flag_help(key: &str) -> String {
    match Setting::named(key) {
        Some(setting) => setting.flag_help(),
        // Seen at once in --help, and failed by the command line's test.
        None => format!("(no setting named {key})"),
    }
}

/// Every setting, one entry each: key, variable, default and whether a reload applies it,
/// then its doc line. Each line starts with spaces, so that a man page breaks it there.
pub fn settings_help() -> String {
    let mut text = SETTINGS_INTRO.to_owned();
    for setting in SETTINGS {
        let mut vars = setting.env_var();
        for alias in setting.env_aliases() {
            let _ = write!(vars, " or {alias}");
        }
        let _ = write!(text, "\n  {}, {vars}", setting.key);
        if let Some(default) = setting.default_text() {
            let _ = write!(text, " [default: {default}]");
        }
        if setting.reload == Reload::Live {
            text.push_str(" [live]");
        }
        let _ = write!(text, "\n          {}", setting.help_line());
    }
    text
}

impl Setting {
    fn flag_help(&self) -> String {
        match self.default_text() {
            Some(default) => format!("{} [default: {default}]", self.help_line()),
            None => self.help_line().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_shows_its_default() {
        assert_eq!(
            flag_help("seeds"),
            "Folder of the article files (.txt, .md, .html) [default: seeds]"
        );
        assert!(!flag_help("base_url").contains("[default"));
    }

    #[test]
    fn the_list_names_every_key_its_variable_and_default() {
        let text = settings_help();
        for setting in SETTINGS {
            assert!(text.contains(&format!("\n  {}, ", setting.key)), "{text}");
            assert!(text.contains(&setting.env_var()), "{text}");
        }
        assert!(text.contains("\n  feed_size, SEEDFEED_FEED_SIZE [default: 50] [live]\n"));
        assert!(text.contains("\n  log_level, SEEDFEED_LOG_LEVEL or SEEDFEED_LOG [default: info]"));
        assert!(text.contains("\n  websub.hubs, SEEDFEED_WEBSUB_HUBS [default: none]\n"));
    }
}
