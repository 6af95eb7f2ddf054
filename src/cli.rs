//! The command line (clap derive). Flags are all `Option` with no defaults of their own:
//! defaults live in the config layer, so a flag only wins when it is given. A flag that
//! sets a key takes its help line, default shown, from the table of settings, and
//! `serve --help` ends with every setting.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{Layer, flag_help, settings_help};

/// The version and the git revision it was built from (see build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (git ",
    env!("BUILD_GIT_REVISION"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "seedfeed",
    version = VERSION,
    about = "Watches a folder of plain-text articles and serves them as RSS and Atom feeds"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the other commands' long help points: they read the same settings.
const SEE_SETTINGS: &str =
    "Every setting, with its default and environment variable: seedfeed serve --help";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Watch the seeds folder and serve the feeds over HTTP.
    #[command(after_long_help = settings_help())]
    Serve(ServeArgs),
    /// Parse every seed and report the rejected ones; exit 1 if any.
    #[command(after_long_help = SEE_SETTINGS)]
    Check(CheckArgs),
    /// Print the normalized entries of article files as JSON.
    #[command(after_long_help = SEE_SETTINGS)]
    Parse(ParseArgs),
    /// Write every document the server serves into a folder, with .gz and .br siblings.
    #[command(after_long_help = SEE_SETTINGS)]
    Render(RenderArgs),
    /// Print the running daemon's state, read from its admin listener (admin_listen).
    #[command(after_long_help = SEE_SETTINGS)]
    Status(StatusArgs),
    /// Write a new Markdown article, dated now, into the seeds folder.
    #[command(after_long_help = SEE_SETTINGS)]
    New(NewArgs),
    /// Write one Markdown article per item of a feed or a WordPress export, ids kept.
    #[command(
        after_long_help = "Running it again writes no second file: an item's file is left alone when it is the same, rewritten when the source changed. Details: docs/import.md"
    )]
    Import(ImportArgs),
    /// Copy the database to FILE while the daemon may be running, and check the copy.
    #[command(after_long_help = SEE_SETTINGS)]
    Backup(BackupArgs),
}

/// Where the configuration comes from (also `SEEDFEED_CONFIG`).
#[derive(Debug, Args)]
pub struct ConfigArg {
    /// TOML config file (see config/seedfeed.toml for every key).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    #[arg(long, value_name = "DIR", help = flag_help("seeds"))]
    pub seeds: Option<PathBuf>,
    #[arg(long, value_name = "DIR", help = flag_help("data"))]
    pub data: Option<PathBuf>,
    #[arg(long, value_name = "ADDR", help = flag_help("listen"))]
    pub listen: Option<String>,
    #[arg(long, value_name = "ADDR", help = flag_help("admin_listen"))]
    pub admin_listen: Option<String>,
    #[arg(long, value_name = "URL", help = flag_help("base_url"))]
    pub base_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    #[arg(long, value_name = "DIR", help = flag_help("seeds"))]
    pub seeds: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Article files, or folders: the articles in them and their subfolders.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Folder to write the documents into (created if missing).
    #[arg(long, value_name = "DIR", required = true)]
    pub out: PathBuf,
    #[arg(long, value_name = "DIR", help = flag_help("seeds"))]
    pub seeds: Option<PathBuf>,
    #[arg(long, value_name = "DIR", help = flag_help("data"))]
    pub data: Option<PathBuf>,
    #[arg(long, value_name = "URL", help = flag_help("base_url"))]
    pub base_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    #[arg(long, value_name = "ADDR", help = flag_help("admin_listen"))]
    pub admin_listen: Option<String>,
    /// Print the JSON of /status as the daemon serves it.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// The article's title; the file is named after its slug (`my-title.md`).
    #[arg(value_name = "TITLE")]
    pub title: String,
    /// The article's section.
    #[arg(long, value_name = "S")]
    pub section: Option<String>,
    /// A tag of the article; repeat it for more.
    #[arg(long = "tag", value_name = "T")]
    pub tags: Vec<String>,
    #[arg(long, value_name = "DIR", help = flag_help("seeds"))]
    pub seeds: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// An RSS, Atom or JSON Feed file or http(s) URL, or a WordPress export (WXR) file.
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// Folder to write the articles into (created if missing), such as the seeds folder.
    #[arg(long, value_name = "DIR", required = true)]
    pub into: PathBuf,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// File to write the copy to: written beside it first, then renamed onto it.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[arg(long, value_name = "DIR", help = flag_help("data"))]
    pub data: Option<PathBuf>,
}

impl BackupArgs {
    pub fn layer(&self) -> Layer {
        Layer {
            data: self.data.clone(),
            ..Layer::default()
        }
    }
}

impl NewArgs {
    pub fn layer(&self) -> Layer {
        Layer {
            seeds: self.seeds.clone(),
            ..Layer::default()
        }
    }
}

impl StatusArgs {
    pub fn layer(&self) -> Layer {
        Layer {
            admin_listen: self.admin_listen.clone(),
            ..Layer::default()
        }
    }
}

impl RenderArgs {
    pub fn layer(&self) -> Layer {
        Layer {
            seeds: self.seeds.clone(),
            data: self.data.clone(),
            base_url: self.base_url.clone(),
            ..Layer::default()
        }
    }
}

impl ServeArgs {
    pub fn layer(&self) -> Layer {
        Layer {
            seeds: self.seeds.clone(),
            data: self.data.clone(),
            listen: self.listen.clone(),
            admin_listen: self.admin_listen.clone(),
            base_url: self.base_url.clone(),
            ..Layer::default()
        }
    }
}

impl CheckArgs {
    pub fn layer(&self) -> Layer {
        Layer {
            seeds: self.seeds.clone(),
            ..Layer::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::config::Setting;

    /// A flag named after a key (`--base-url`, `base_url`) shows that key's help line.
    #[test]
    fn flags_of_keys_take_their_help_from_the_table() {
        let cli = Cli::command();
        let mut checked = 0;
        for command in cli.get_subcommands() {
            for arg in command.get_arguments() {
                let Some(setting) = Setting::named(arg.get_id().as_str()) else {
                    continue;
                };
                let help = arg.get_help().map(ToString::to_string);
                assert_eq!(help, Some(flag_help(setting.key)), "{}", arg.get_id());
                checked += 1;
            }
        }
        assert_eq!(
            checked, 12,
            "serve's 5 flags of keys, check's 1, render's 3, status's 1, new's 1, backup's 1"
        );
    }
}
