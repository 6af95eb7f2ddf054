//! The export folder on disk: a served path's file (`export_path`), a document written
//! with its `.gz` and `.br` siblings only when its bytes changed, each file atomically
//! (a temporary file in the same folder, renamed over the old one), media files copied,
//! files that are gone removed with the folders they leave empty, and `manifest.txt`:
//! every file with its SHA-256 and size, in path order, rewritten (atomically too) at
//! the end of each pass and read back when the exporter starts.
//!
//! A file written for the first time is dated with its document's Last-Modified, which a
//! static server then sends as the daemon does; a file that replaces an older version is
//! dated when it is written, so that it is newer than any copy a sync tool uploaded
//! before (`aws s3 sync` uploads a file that is newer or of another size, rclone one of
//! another size or time). A file whose bytes did not change is not touched: it keeps its
//! time, and the sync tools leave it alone.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::ExportError;
use crate::render::Document;
use crate::store::{ExportFiles, ExportKind, ExportedFile};

/// The manifest's name in the export folder.
pub const MANIFEST_FILE: &str = "manifest.txt";

/// The manifest's first line: what the others hold.
const MANIFEST_HEADER: &str = "# seedfeed export manifest: sha256 size path";

/// The extensions of a document's compressed siblings.
const SIBLINGS: [&str; 2] = ["gz", "br"];

/// Media files are copied below this folder of the export, as `/media/` serves them.
pub const MEDIA_FOLDER: &str = "media";

/// What a pass did to the folder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    /// Documents (and media files) written: new, or with other bytes.
    pub written: usize,
    /// Documents (and media files) found as they were.
    pub unchanged: usize,
    /// Documents (and media files) removed.
    pub removed: usize,
}

pub struct ExportFolder {
    root: PathBuf,
    files: ExportFiles,
    pass: i64,
    changes: Changes,
}

impl ExportFolder {
    /// The folder at `root`, created if missing; nothing is read from it yet (see
    /// [`ExportFolder::read_manifest`]).
    pub fn create(root: &Path) -> Result<Self, ExportError> {
        std::fs::create_dir_all(root).map_err(|source| ExportError::Io {
            path: root.to_owned(),
            source,
        })?;
        Ok(Self {
            root: root.to_owned(),
            files: ExportFiles::new()?,
            pass: 0,
            changes: Changes::default(),
        })
    }

    /// Reads the manifest a previous export left, if any: what the folder holds. Lines
    /// that are not a file of the export (a hand edit, a path out of the folder) are
    /// skipped; the files they named are left alone. Returns the files read.
    pub fn read_manifest(&mut self) -> Result<usize, ExportError> {
        let path = self.root.join(MANIFEST_FILE);
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(source) => return Err(ExportError::Io { path, source }),
        };
        let mut read = 0;
        for line in std::io::BufReader::new(file).lines() {
            let line = line.map_err(|source| ExportError::Io {
                path: path.clone(),
                source,
            })?;
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            match parse_manifest_line(&line) {
                Some(file) => {
                    self.files.add_listed(&file, document_of(&file.path))?;
                    read += 1;
                }
                None => {
                    tracing::warn!(manifest = %path.display(), line, "not a file of the export; left alone")
                }
            }
        }
        self.files.commit()?;
        Ok(read)
    }

    /// Starts a pass: what it finds current is marked with its number.
    pub fn begin_pass(&mut self) {
        self.pass += 1;
        self.changes = Changes::default();
    }

    pub fn changes(&self) -> Changes {
        self.changes
    }

    /// The document served at `path`, with its variants: written unless the folder holds
    /// these bytes already. `false` when the path cannot be a file (and nothing is done).
    pub fn document(
        &mut self,
        path: &str,
        document: &Document,
        kind: ExportKind,
    ) -> Result<bool, ExportError> {
        let Some(file) = export_path(path) else {
            return Ok(false);
        };
        if !self.kept_if_unchanged(&file, &document.body, kind)? {
            self.write_document(&file, document, kind)?;
        }
        Ok(true)
    }

    /// Whether the folder holds the document served at `path`.
    pub fn holds(&self, path: &str) -> Result<bool, ExportError> {
        Ok(match export_path(path) {
            Some(file) => self.files.get(&file)?.is_some(),
            None => false,
        })
    }

    /// Marks the document served at `path` current, as it is, when the folder holds it;
    /// `false` when it does not (it must be written).
    pub fn keep(&mut self, path: &str, kind: ExportKind) -> Result<bool, ExportError> {
        if !self.holds(path)? {
            return Ok(false);
        }
        if let Some(file) = export_path(path) {
            self.mark_kept(&file, kind)?;
        }
        Ok(true)
    }

    /// Marks `file` current, as it is, when the folder holds these bytes there; whether
    /// it does.
    fn kept_if_unchanged(
        &mut self,
        file: &str,
        body: &[u8],
        kind: ExportKind,
    ) -> Result<bool, ExportError> {
        if !self.unchanged(file, body)? {
            return Ok(false);
        }
        self.mark_kept(file, kind)?;
        Ok(true)
    }

    /// Marks `file` current in this pass, unchanged.
    fn mark_kept(&mut self, file: &str, kind: ExportKind) -> Result<(), ExportError> {
        self.files.touch(file, kind, self.pass)?;
        self.changes.unchanged += 1;
        Ok(())
    }

    /// [`ExportFolder::document`] for a document without its variants yet: they are
    /// computed only when its bytes changed.
    pub fn plain_document(
        &mut self,
        path: &str,
        document: Document,
        kind: ExportKind,
    ) -> Result<bool, ExportError> {
        let Some(file) = export_path(path) else {
            return Ok(false);
        };
        if !self.kept_if_unchanged(&file, &document.body, kind)? {
            self.write_document(&file, &document.compressed(), kind)?;
        }
        Ok(true)
    }

    /// A file of the export itself (`_headers`): these bytes, undated.
    pub fn site_file(&mut self, name: &str, bytes: &[u8]) -> Result<(), ExportError> {
        if self.unchanged(name, bytes)? {
            self.files.touch(name, ExportKind::Site, self.pass)?;
            return Ok(());
        }
        let written = self.write_file(name, bytes, None)?;
        self.files
            .put(&written, name, ExportKind::Site, self.pass)?;
        Ok(())
    }

    /// A media file of the seeds folder at `relative` below `media/`: copied, dated as
    /// its source, unless the copy there has the source's size and time already.
    pub fn media(
        &mut self,
        relative: &str,
        mut source: impl Read,
        source_meta: &std::fs::Metadata,
    ) -> Result<(), ExportError> {
        let Some(file) = export_path(&format!("/{MEDIA_FOLDER}/{relative}")) else {
            return Ok(());
        };
        let target = self.root.join(&file);
        let modified = source_meta.modified().ok();
        let same = std::fs::metadata(&target)
            .is_ok_and(|meta| meta.len() == source_meta.len() && meta.modified().ok() == modified);
        if same && self.files.get(&file)?.is_some() {
            self.files.touch(&file, ExportKind::Media, self.pass)?;
            self.changes.unchanged += 1;
            return Ok(());
        }
        let written = self.atomically(&file, modified, |out| {
            let mut hasher = Sha256::new();
            let mut buffer = vec![0; 64 * 1024];
            let mut size = 0;
            loop {
                let read = source.read(&mut buffer)?;
                if read == 0 {
                    break;
                }
                hasher.update(&buffer[..read]);
                out.write_all(&buffer[..read])?;
                size += read as u64;
            }
            Ok((size, hex(&hasher.finalize())))
        })?;
        self.files
            .put(&written, &file, ExportKind::Media, self.pass)?;
        self.changes.written += 1;
        Ok(())
    }

    /// Removes the document served at `path` (its file and siblings), if the folder
    /// holds it.
    pub fn remove_document(&mut self, path: &str) -> Result<(), ExportError> {
        if let Some(file) = export_path(path) {
            self.remove_files(&self.files.files_of(&file)?)?;
        }
        Ok(())
    }

    /// Removes every file this pass did not find current: of these kinds, or (`None`,
    /// after a pass that looked at everything) of any kind.
    pub fn sweep(&mut self, kinds: Option<&[ExportKind]>) -> Result<(), ExportError> {
        let unseen = self.files.unseen(kinds, self.pass)?;
        self.remove_files(&unseen)
    }

    /// Ends the pass: the manifest is written and the record committed.
    pub fn finish(&mut self) -> Result<usize, ExportError> {
        let files = &self.files;
        let path = self.root.join(MANIFEST_FILE);
        let temp = temp_beside(&path);
        let io = |source| ExportError::Io {
            path: path.clone(),
            source,
        };
        let mut out = std::io::BufWriter::new(std::fs::File::create(&temp).map_err(io)?);
        writeln!(out, "{MANIFEST_HEADER}").map_err(io)?;
        let listed = files
            .each(|file| writeln!(out, "{} {} {}", file.sha256, file.size, file.path))
            .map_err(|error| match error {
                crate::store::ExportFilesError::Store(error) => ExportError::Store(error),
                crate::store::ExportFilesError::Io(source) => io(source),
            })?;
        out.into_inner()
            .map_err(|error| io(error.into_error()))?
            .flush()
            .map_err(io)?;
        std::fs::rename(&temp, &path).map_err(io)?;
        self.files.commit()?;
        Ok(listed)
    }

    /// Whether the folder holds `bytes` at `file` already: the record says so and the
    /// file is still there, of that size.
    fn unchanged(&self, file: &str, bytes: &[u8]) -> Result<bool, ExportError> {
        let Some(held) = self.files.get(file)? else {
            return Ok(false);
        };
        let on_disk = std::fs::metadata(self.root.join(file)).is_ok_and(|m| m.len() == held.size);
        Ok(
            on_disk
                && held.size == bytes.len() as u64
                && held.sha256 == hex(&Sha256::digest(bytes)),
        )
    }

    /// Writes the document's bytes and variants, each dated as the module says, and
    /// removes a sibling it no longer has.
    fn write_document(
        &mut self,
        file: &str,
        document: &Document,
        kind: ExportKind,
    ) -> Result<(), ExportError> {
        let modified = SystemTime::from(document.last_modified);
        let mut parts = vec![(file.to_owned(), Some(&document.body))];
        for (extension, bytes) in SIBLINGS.into_iter().zip([&document.gzip, &document.brotli]) {
            parts.push((format!("{file}.{extension}"), bytes.as_ref()));
        }
        // The siblings first: the body, which a static server looks for first, is the
        // last to change.
        parts.reverse();
        for (path, bytes) in parts {
            match bytes {
                Some(bytes) => {
                    let written = self.write_file(&path, bytes, Some(modified))?;
                    self.files.put(&written, file, kind, self.pass)?;
                }
                None if self.files.get(&path)?.is_some() => self.remove_file(&path)?,
                None => {}
            }
        }
        self.changes.written += 1;
        Ok(())
    }

    /// Writes `bytes` at `file` atomically: dated `modified` when the file is new, now
    /// when it replaces another (see the module documentation).
    fn write_file(
        &self,
        file: &str,
        bytes: &[u8],
        modified: Option<SystemTime>,
    ) -> Result<ExportedFile, ExportError> {
        let replaces = self.root.join(file).exists();
        let date = if replaces { None } else { modified };
        self.atomically(file, date, |out| {
            out.write_all(bytes)?;
            Ok((bytes.len() as u64, hex(&Sha256::digest(bytes))))
        })
    }

    /// Writes a file through `write` into a temporary file beside it, dates it (`None`:
    /// now) and renames it into place.
    fn atomically(
        &self,
        file: &str,
        modified: Option<SystemTime>,
        write: impl FnOnce(&mut std::fs::File) -> std::io::Result<(u64, String)>,
    ) -> Result<ExportedFile, ExportError> {
        let target = self.root.join(file);
        let io = |source| ExportError::Io {
            path: target.clone(),
            source,
        };
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let temp = temp_beside(&target);
        let written = (|| {
            let mut out = std::fs::File::create(&temp)?;
            let (size, sha256) = write(&mut out)?;
            out.set_modified(modified.unwrap_or_else(SystemTime::now))?;
            std::fs::rename(&temp, &target)?;
            Ok((size, sha256))
        })();
        let (size, sha256) = written.map_err(|error| {
            let _ = std::fs::remove_file(&temp);
            io(error)
        })?;
        Ok(ExportedFile {
            path: file.to_owned(),
            size,
            sha256,
        })
    }

    fn remove_files(&mut self, files: &[String]) -> Result<(), ExportError> {
        for file in files {
            self.remove_file(file)?;
            if document_of(file) == file {
                self.changes.removed += 1;
            }
        }
        Ok(())
    }

    /// Removes a file of the export and forgets it; the folders it leaves empty go too.
    fn remove_file(&mut self, file: &str) -> Result<(), ExportError> {
        let target = self.root.join(file);
        match std::fs::remove_file(&target) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(ExportError::Io {
                    path: target,
                    source,
                });
            }
        }
        self.files.remove(file)?;
        let mut folder = target.parent();
        while let Some(dir) = folder.filter(|dir| *dir != self.root && dir.starts_with(&self.root))
        {
            // Fails, and stops, at the first folder that still holds something.
            if std::fs::remove_dir(dir).is_err() {
                break;
            }
            folder = dir.parent();
        }
        Ok(())
    }
}

/// The file of a served path (decoded, as static servers decode a URL before they look
/// for its file), relative to the export folder: a path ending in `/` is that folder's
/// `index.html` (`/` is `index.html`, `/entries/{key}/` is `entries/{key}/index.html`);
/// every other path is itself. Only plain names are accepted (no empty, `.` or `..`
/// part, no control character), so nothing is ever written outside the folder and every
/// name fits on a line of the manifest.
pub fn export_path(path: &str) -> Option<String> {
    let relative = path.strip_prefix('/')?;
    let file = if relative.is_empty() || relative.ends_with('/') {
        format!("{relative}index.html")
    } else {
        relative.to_owned()
    };
    is_plain(&file).then_some(file)
}

fn is_plain(file: &str) -> bool {
    file.split('/')
        .all(|segment| !matches!(segment, "" | "." | ".."))
        && !file.chars().any(char::is_control)
}

/// The document a file belongs to: a page's `.gz` and `.br` siblings are its page's
/// (media files have none).
fn document_of(file: &str) -> &str {
    if file.starts_with(&format!("{MEDIA_FOLDER}/")) {
        return file;
    }
    SIBLINGS
        .iter()
        .find_map(|extension| file.strip_suffix(&format!(".{extension}")))
        .unwrap_or(file)
}

/// A line of the manifest: `{sha256} {size} {path}`, the path to the end of the line.
fn parse_manifest_line(line: &str) -> Option<ExportedFile> {
    let (sha256, rest) = line.split_once(' ')?;
    let (size, path) = rest.split_once(' ')?;
    let valid_hash = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
    if !valid_hash || !is_plain(path) || path == MANIFEST_FILE {
        return None;
    }
    Some(ExportedFile {
        path: path.to_owned(),
        size: size.parse().ok()?,
        sha256: sha256.to_ascii_lowercase(),
    })
}

/// `.{name}.export-tmp` beside `path`: hidden, in the same folder (so the rename is
/// atomic), and written over by the next try if a crash left it.
fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.export-tmp"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_paths_map_to_files_inside_the_folder() {
        assert_eq!(export_path("/").as_deref(), Some("index.html"));
        assert_eq!(export_path("/feed.atom").as_deref(), Some("feed.atom"));
        assert_eq!(
            export_path("/entries/a b?/").as_deref(),
            Some("entries/a b?/index.html")
        );
        assert_eq!(
            export_path("/page/2/").as_deref(),
            Some("page/2/index.html")
        );
        for bad in [
            "/../etc/passwd",
            "/entries/..",
            "/entries/../",
            "/a/./b",
            "/x//",
            "relative",
            "//abs",
            "//",
            "/entries/line\nbreak/",
        ] {
            assert_eq!(export_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn manifest_lines_name_files_of_the_folder_only() {
        let hash = "ab".repeat(32);
        let line = format!("{hash} 12 entries/café au lait/index.html.gz");
        let file = parse_manifest_line(&line).unwrap();
        assert_eq!(file.size, 12);
        assert_eq!(file.path, "entries/café au lait/index.html.gz");
        assert_eq!(document_of(&file.path), "entries/café au lait/index.html");
        assert_eq!(document_of("media/x.gz"), "media/x.gz");
        for bad in [
            format!("{hash} 12 ../outside"),
            format!("{hash} 12 /etc/passwd"),
            format!("{hash} x feed.atom"),
            format!("{hash} 12 {MANIFEST_FILE}"),
            "abc 12 feed.atom".to_owned(),
            format!("{hash} 12"),
        ] {
            assert_eq!(parse_manifest_line(&bad), None, "{bad}");
        }
    }
}
