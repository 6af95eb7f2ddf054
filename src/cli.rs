//! The command line (clap derive). Flags are all `Option` with no defaults of their own:
//! defaults live in the config layer, so a flag only wins when it is given.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Layer;

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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Watch the seeds folder and serve the feeds over HTTP.
    Serve(ServeArgs),
    /// Parse every seed and report the rejected ones; exit 1 if any.
    Check(CheckArgs),
    /// Print the normalized entries of article files as JSON.
    Parse(ParseArgs),
    /// Write every document the server serves into a folder, with .gz and .br siblings.
    Render(RenderArgs),
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
    /// Folder of article files to watch.
    #[arg(long, value_name = "DIR")]
    pub seeds: Option<PathBuf>,
    /// Folder for the database.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Address to listen on, like 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Public URL of the site; absolute links in the feeds start with it.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Folder of article files to check.
    #[arg(long, value_name = "DIR")]
    pub seeds: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Article files.
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
    /// Folder of article files.
    #[arg(long, value_name = "DIR")]
    pub seeds: Option<PathBuf>,
    /// Folder of the database.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Public URL of the site; absolute links in the documents start with it.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
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
