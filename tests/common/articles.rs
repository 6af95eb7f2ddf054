//! Articles as the seeds folder holds them: the sample of the design and the other seeds
//! in `seeds/`, texts in the seed format built from their parts, Markdown with front
//! matter in each of its three syntaxes, the folder of articles written as site
//! generators' users write them (`tests/fixtures/sites/`), the feeds to import, and the
//! ways files land in a folder.

use std::path::{Path, PathBuf};

/// The sample article of the design (`Conflict & Justice`, two "More from GlobalPost:"
/// lines), by its key.
pub const SAMPLE_KEY: &str = "000_9b018788d1e41f8c";
pub const SAMPLE_TITLE: &str = "Mali: countercoup attempted";
pub const SAMPLE_SECTION: &str = "Conflict & Justice";

/// The path of `seeds/{key}.txt` in the repository.
pub fn seed_path(key: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(format!("{key}.txt"))
}

/// The bytes of `seeds/{key}.txt`.
pub fn seed(key: &str) -> Vec<u8> {
    let path = seed_path(key);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn sample_article() -> Vec<u8> {
    seed(SAMPLE_KEY)
}

/// The sample under another title and section: another article, not a duplicate.
pub fn sample_as(title: &str, section: &str) -> Vec<u8> {
    String::from_utf8(sample_article())
        .unwrap()
        .replace(SAMPLE_TITLE, title)
        .replace(SAMPLE_SECTION, section)
        .into_bytes()
}

/// A short article in the seed format: section, title, one body paragraph.
pub fn article(section: &str, title: &str, body: &str) -> Vec<u8> {
    format!("{section}\n\n{title}\n\n\n{body}\n").into_bytes()
}

/// An article in the seed format with every part: section, title, caption, and the body
/// (paragraphs one blank line apart).
pub fn captioned(section: &str, title: &str, caption: &str, body: &str) -> Vec<u8> {
    format!("{section}\n\n{title}\n\n\n{caption}\n\n\n\n{body}\n").into_bytes()
}

/// A Markdown article with YAML front matter: `front` is the lines between the `---`.
pub fn yaml_article(front: &str, body: &str) -> Vec<u8> {
    format!("---\n{}\n---\n\n{body}\n", front.trim_end()).into_bytes()
}

/// A Markdown article with TOML front matter between `+++` lines.
pub fn toml_article(front: &toml::Table, body: &str) -> Vec<u8> {
    format!("+++\n{front}+++\n\n{body}\n").into_bytes()
}

/// An article with a JSON object as its front matter, written as serde_json writes it.
pub fn json_article(front: &serde_json::Value, body: &str) -> Vec<u8> {
    format!("{front:#}\n\n{body}\n").into_bytes()
}

/// `tests/fixtures/sites/`: articles laid out and written as Hugo, Jekyll, Eleventy and
/// Obsidian users write them, with HTML pages and a seed among them.
pub fn sites_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sites")
}

/// `tests/fixtures/import/{name}`: a feed or a WordPress export to import.
pub fn import_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

/// Copies the tree under `from` into `to`, as `cp -r from/. to` does.
pub fn copy_tree(from: &Path, to: &Path) {
    for file in std::fs::read_dir(from).unwrap() {
        let file = file.unwrap();
        let target = to.join(file.file_name());
        if file.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&file.path(), &target);
        } else {
            std::fs::copy(file.path(), &target).unwrap();
        }
    }
}

/// Writes a file the way `cp` does when it lands in one go.
pub fn write_file(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

/// Writes a file the way an editor or an `rsync` does: a temp name, then a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) {
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name().unwrap().to_str().unwrap()
    ));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Writes a file at `relative` under `root`, its folders made on the way, as `cp -r`
/// lays a tree out.
pub fn write_under(root: &Path, relative: &str, bytes: &[u8]) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    write_file(&path, bytes);
}
