//! One thin file per subcommand; each loads its config and calls into the pipeline.
//! `import`, which reads feeds and WordPress exports, is a folder; `article_file` writes
//! the article files `import` and `new` make.

pub mod article_file;
pub mod backup;
pub mod check;
pub mod import;
pub mod new;
pub mod parse;
pub mod render;
pub mod serve;
pub mod status;

use std::path::PathBuf;

use anyhow::Context;

use crate::config::{self, Config, Layer, Sources};

/// Loads the configuration: defaults < file (`--config` or `SEEDFEED_CONFIG`) <
/// `SEEDFEED_*` environment < flags.
pub fn load_config(
    config_flag: Option<PathBuf>,
    flags: Layer,
    env: impl IntoIterator<Item = (String, String)>,
) -> anyhow::Result<Config> {
    let env: Vec<(String, String)> = env.into_iter().collect();
    let file = config_flag.or_else(|| {
        env.iter()
            .find(|(name, _)| name == "SEEDFEED_CONFIG")
            .map(|(_, value)| PathBuf::from(value))
    });
    let env = config::env_layer(env)?;
    config::load(Sources { file, env, flags }).context("invalid configuration")
}
