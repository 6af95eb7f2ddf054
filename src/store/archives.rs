//! Frozen archive pages: stored once full (the bytes and their compressed variants, as
//! they are served), read by path, and forgotten together when they must be rendered
//! again.

use chrono::DateTime;
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

use super::{Store, StoreError};
use crate::model::ArchivePage;

impl Store {
    /// One frozen archive page, by path.
    pub fn archive_page(&self, path: &str) -> Result<Option<ArchivePage>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT path, number, body, gzip, brotli, media_type, last_modified \
                 FROM archive_pages WHERE path = ?1",
            )?
            .query_row([path], archive_page_from_row)
            .optional()?)
    }

    /// The paths of every frozen archive page, oldest first.
    pub fn archive_page_paths(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT path FROM archive_pages ORDER BY number, path")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The number of the newest frozen archive page, if any.
    pub fn newest_archive_page(&self) -> Result<Option<u64>, StoreError> {
        let newest: Option<i64> =
            self.conn
                .query_row("SELECT max(number) FROM archive_pages", [], |r| r.get(0))?;
        Ok(newest.map(|n| n.max(0) as u64))
    }

    /// Stores newly full archive pages; a page already stored is never replaced.
    pub fn save_archive_pages(&mut self, pages: &[ArchivePage]) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for page in pages {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO archive_pages \
                 (path, number, body, gzip, brotli, media_type, last_modified) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                page.path,
                page.number as i64,
                page.body,
                page.gzip,
                page.brotli,
                page.media_type,
                page.last_modified.timestamp_millis()
            ])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Forgets every archive page (they are rendered again, e.g. after a move to a new
    /// base URL, which is in every link they hold).
    pub fn clear_archive_pages(&mut self) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM archive_pages", [])?;
        Ok(())
    }
}

fn archive_page_from_row(r: &Row<'_>) -> rusqlite::Result<ArchivePage> {
    Ok(ArchivePage {
        path: r.get(0)?,
        number: r.get::<_, i64>(1)?.max(0) as u64,
        body: r.get(2)?,
        gzip: r.get(3)?,
        brotli: r.get(4)?,
        media_type: r.get(5)?,
        last_modified: DateTime::from_timestamp_millis(r.get(6)?).unwrap_or_default(),
    })
}
