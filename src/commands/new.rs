//! `seedfeed new "Title"`: a new Markdown article in the seeds folder (`--seeds`,
//! `SEEDFEED_SEEDS`, the config file, or `./seeds`, as for `serve`), named after the
//! slug of its title, with front matter (title, date now, section, tags) and an empty
//! body to write. An existing file is never overwritten: the error names it.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{SubsecRound, Utc};

use super::article_file::{article_text, file_slug, write_new};
use crate::config::Config;
use crate::model::FrontMatter;

/// What the article says about itself.
pub struct NewArticle {
    pub title: String,
    pub section: Option<String>,
    pub tags: Vec<String>,
}

pub fn run(config: &Config, article: NewArticle) -> anyhow::Result<ExitCode> {
    if article.title.trim().is_empty() {
        bail!("the title is empty");
    }
    let front = FrontMatter {
        title: Some(article.title.clone()),
        published: Some(Utc::now().trunc_subsecs(0)),
        section: article.section.filter(|s| !s.trim().is_empty()),
        tags: article.tags,
        ..FrontMatter::default()
    };
    let text = article_text(&front, "")?;
    let seeds = &config.seeds;
    std::fs::create_dir_all(seeds)
        .with_context(|| format!("creating the seeds folder {}", seeds.display()))?;
    let name = format!("{}.md", file_slug(&article.title));
    let path = write_new(seeds, &name, &text)?;
    writeln!(std::io::stdout().lock(), "{}", path.display())?;
    Ok(ExitCode::SUCCESS)
}
