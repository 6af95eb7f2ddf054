//! The podcasts' artwork, checked where the seeds folder is open: at the start of
//! `serve`, `render` and `check`, and at a reload that changes a `[podcast]` table. The
//! configuration checked what its text says (a relative path to a `.jpg` or `.png`);
//! this checks the file against Apple's rules: there, opened under the rules of `/media/`
//! (which will serve it), a JPEG or PNG by its header, square, 1400 to 3000 pixels a
//! side. Only the header is read.

use std::path::Path;

use crate::config::Podcasts;
use crate::http::MediaFiles;
use crate::parse::media::{MediaFormat, media_format, probe};
use crate::watch::SeedFolder;

/// The smallest and largest side of the artwork Apple Podcasts takes, in pixels.
pub const ARTWORK_SIDES: std::ops::RangeInclusive<u32> = 1400..=3000;

/// Why a podcast's artwork will not do: the setting, the file, and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("config key `podcast`: {place} `image` {path:?} ({shown}): {problem}")]
pub struct ArtworkError {
    /// The table that names it: `[podcast]`, `[podcast.sections.tech]`.
    pub place: String,
    /// The path the table gives, below the seeds folder.
    pub path: String,
    /// The file, in the seeds folder as configured.
    pub shown: String,
    pub problem: String,
}

/// Checks the artwork of every podcast of the configuration; the first that will not do
/// is the error. `seeds` is the seeds folder as the configuration names it, for the
/// message.
pub fn check_artwork(
    folder: &SeedFolder,
    seeds: &Path,
    podcasts: &Podcasts,
) -> Result<(), ArtworkError> {
    for (place, podcast) in podcasts.all() {
        if let Err(problem) = artwork_problem(folder, &podcast.image) {
            return Err(ArtworkError {
                place,
                path: podcast.image.clone(),
                shown: seeds.join(&podcast.image).display().to_string(),
                problem,
            });
        }
    }
    Ok(())
}

/// What is wrong with the artwork at `path` below the folder, if anything.
fn artwork_problem(folder: &SeedFolder, path: &str) -> Result<(), String> {
    let format = media_format(path)
        .filter(|format| matches!(format, MediaFormat::Jpeg | MediaFormat::Png))
        .ok_or("not a JPEG or PNG file by its name")?;
    let opened = folder.open(path).map_err(|e| e.to_string())?;
    let length = opened.metadata.len();
    let info = probe(format, opened.file, length).map_err(|error| error.to_string())?;
    let (Some(width), Some(height)) = (info.width, info.height) else {
        return Err(format!("the {format}'s header gives no size"));
    };
    let fits = width == height && ARTWORK_SIDES.contains(&width);
    if fits {
        Ok(())
    } else {
        Err(format!(
            "{width} × {height} pixels; Apple takes square artwork of {} to {} pixels a side",
            ARTWORK_SIDES.start(),
            ARTWORK_SIDES.end()
        ))
    }
}
