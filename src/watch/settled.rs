//! The paths that settled at one poll, packed: their texts one after another in one
//! buffer, and for each path eight bytes that say where its text is and how it settled.
//! A cold start settles every file of the folder at once and holds them until they are
//! in date order (a bulk then keeps them on disk, `ingest::spool`); as a `String` each
//! (and a 32-byte record to hold it), a million paths took about 64 MB, and packed they
//! take the bytes of their texts and 8 more each.

use std::ops::Range;

/// How a path settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Present,
    Absent,
    /// Listed by a scan without a look ([`super::Settler::touch_listed`]): read only if
    /// its own clock shows it still (`SeedFolder::read_if_still`), else settled again.
    Listed,
}

impl Settled {
    /// How it settled, as a number below 4: what a packed path and a spooled one keep.
    pub fn code(self) -> u8 {
        match self {
            Self::Present => 0,
            Self::Absent => 1,
            Self::Listed => 2,
        }
    }

    /// The kind [`Self::code`] gave `code`; `None` for a number it never gives.
    pub fn of_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Present),
            1 => Some(Self::Absent),
            2 => Some(Self::Listed),
            _ => None,
        }
    }
}

/// Bits of a packed item: the kind in the lowest two, then the length, then the start.
const KIND_BITS: u32 = 2;
const LEN_BITS: u32 = 22;
/// A path this long (4 MiB) is far beyond what the system opens (`PATH_MAX`, 4 KiB).
const MAX_LEN: usize = 1 << LEN_BITS;
/// A terabyte of path text is beyond any memory this runs in.
const MAX_START: u64 = 1 << (u64::BITS - KIND_BITS - LEN_BITS);

/// One path: where its text starts and how long it is, and how it settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Item(u64);

impl Item {
    fn new(settled: Settled, start: usize, len: usize) -> Self {
        let kind = u64::from(settled.code());
        Self((start as u64) << (KIND_BITS + LEN_BITS) | (len as u64) << KIND_BITS | kind)
    }

    fn settled(self) -> Settled {
        // Only `Item::new` makes items, from a code it was given.
        Settled::of_code((self.0 & ((1 << KIND_BITS) - 1)) as u8).unwrap_or(Settled::Listed)
    }

    fn range(self) -> Range<usize> {
        let start = (self.0 >> (KIND_BITS + LEN_BITS)) as usize;
        let len = (self.0 >> KIND_BITS) as usize & (MAX_LEN - 1);
        start..start + len
    }
}

/// Paths relative to the folder, each with how it settled, in an order of their own.
#[derive(Debug, Default)]
pub struct SettledPaths {
    text: String,
    items: Vec<Item>,
}

impl SettledPaths {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a path at the end.
    pub fn push(&mut self, settled: Settled, path: &str) {
        let start = self.text.len();
        if path.len() >= MAX_LEN || start as u64 >= MAX_START {
            // Never happens: no system opens such a path, so no read is lost.
            tracing::warn!(
                len = path.len(),
                "a settled path too long to read is left out"
            );
            return;
        }
        self.text.push_str(path);
        self.items.push(Item::new(settled, start, path.len()));
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The path at `index` and how it settled.
    pub fn get(&self, index: usize) -> (Settled, &str) {
        self.at(self.items[index])
    }

    /// Each path in order, with how it settled.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (Settled, &str)> {
        self.part(0..self.len())
    }

    /// The paths at `range`, in order, with how each settled.
    pub fn part(&self, range: Range<usize>) -> impl ExactSizeIterator<Item = (Settled, &str)> {
        self.items[range].iter().map(|&item| self.at(item))
    }

    /// Takes out the paths `pick` chooses, in order, and keeps the others in theirs.
    /// Their texts stay in the buffer: what is taken out is a few paths.
    pub fn extract(&mut self, mut pick: impl FnMut(Settled, &str) -> bool) -> Self {
        let mut picked = Self::new();
        let text = &self.text;
        self.items.retain(|&item| {
            let path = &text[item.range()];
            let take = pick(item.settled(), path);
            if take {
                picked.push(item.settled(), path);
            }
            !take
        });
        picked
    }

    /// Puts `front` before these paths, in its order.
    pub fn prepend(&mut self, front: Self) {
        if front.is_empty() {
            return;
        }
        let offset = self.text.len();
        self.text.push_str(&front.text);
        let moved = front.items.iter().map(|&item| {
            let range = item.range();
            Item::new(item.settled(), range.start + offset, range.len())
        });
        self.items.splice(0..0, moved);
    }

    /// The paths from `at` on, taken out (`at` past the end takes none).
    pub fn split_off(&mut self, at: usize) -> Self {
        let mut tail = Self::new();
        for &item in self.items.get(at..).unwrap_or_default() {
            let (settled, path) = self.at(item);
            tail.push(settled, path);
        }
        self.items.truncate(at);
        tail
    }

    /// Puts the paths in the order `order` gives: the index each position takes its path
    /// from, each index once.
    pub fn reorder(&mut self, order: impl ExactSizeIterator<Item = usize>) {
        let items = order.map(|from| self.items[from]).collect();
        self.items = items;
    }

    /// Sorts the paths by their text and leaves one of each (the first after the sort,
    /// whichever way it settled).
    pub fn sort_dedup(&mut self) {
        let text = &self.text;
        self.items
            .sort_unstable_by(|a, b| text[a.range()].cmp(&text[b.range()]));
        self.items
            .dedup_by(|a, b| text[a.range()] == text[b.range()]);
    }

    fn at(&self, item: Item) -> (Settled, &str) {
        (item.settled(), &self.text[item.range()])
    }
}

impl PartialEq for SettledPaths {
    /// The same paths, settled the same way, in the same order (wherever the texts are).
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for SettledPaths {}

impl<'a> FromIterator<(Settled, &'a str)> for SettledPaths {
    fn from_iter<I: IntoIterator<Item = (Settled, &'a str)>>(iter: I) -> Self {
        let mut paths = Self::new();
        for (settled, path) in iter {
            paths.push(settled, path);
        }
        paths
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(paths: &SettledPaths) -> Vec<(Settled, &str)> {
        paths.iter().collect()
    }

    #[test]
    fn each_path_keeps_its_text_and_how_it_settled() {
        let long = "d/".repeat(3000) + "x.txt";
        let items = [
            (Settled::Listed, "a.txt"),
            (Settled::Absent, ""),
            (Settled::Present, "é/ü.md"),
            (Settled::Listed, long.as_str()),
        ];
        let paths: SettledPaths = items.iter().copied().collect();
        assert_eq!(paths.len(), 4);
        assert_eq!(listed(&paths), items);
        assert_eq!(paths.get(2), (Settled::Present, "é/ü.md"));
        assert_eq!(paths.part(1..3).count(), 2);
    }

    #[test]
    fn paths_are_taken_out_and_put_back_in_order() {
        let mut paths: SettledPaths = [
            (Settled::Listed, "c"),
            (Settled::Absent, "old"),
            (Settled::Present, "a"),
            (Settled::Absent, "gone"),
            (Settled::Listed, "b"),
        ]
        .into_iter()
        .collect();
        let gone = paths.extract(|settled, _| settled == Settled::Absent);
        assert_eq!(
            listed(&gone),
            [(Settled::Absent, "old"), (Settled::Absent, "gone")]
        );
        // c, a, b → a, b, c
        paths.reorder([1, 2, 0].into_iter());
        let tail = paths.split_off(2);
        assert_eq!(listed(&tail), [(Settled::Listed, "c")]);
        assert_eq!(paths.split_off(5), SettledPaths::new());
        paths.prepend(gone);
        assert_eq!(
            listed(&paths),
            [
                (Settled::Absent, "old"),
                (Settled::Absent, "gone"),
                (Settled::Present, "a"),
                (Settled::Listed, "b"),
            ]
        );
    }

    #[test]
    fn sorting_leaves_each_path_once() {
        let mut paths: SettledPaths = [
            (Settled::Listed, "b"),
            (Settled::Listed, "a"),
            (Settled::Listed, "b"),
        ]
        .into_iter()
        .collect();
        paths.sort_dedup();
        assert_eq!(
            listed(&paths),
            [(Settled::Listed, "a"), (Settled::Listed, "b")]
        );
    }
}
