//! A map of documents that a new snapshot can share with the last one: 256 shards, each
//! behind its own `Arc`. Taking a snapshot copies 256 pointers; changing a document copies
//! only its shard (when an older snapshot still holds it). With 100k entry pages a change
//! then costs a few hundred pointer copies instead of 100k.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::Arc;

use super::Document;

const SHARDS: usize = 256;

type Shard = HashMap<String, Arc<Document>>;

#[derive(Debug, Clone)]
pub struct DocumentMap {
    shards: Vec<Arc<Shard>>,
}

impl Default for DocumentMap {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Arc::new(Shard::new())).collect(),
        }
    }
}

impl DocumentMap {
    fn shard(path: &str) -> usize {
        // A fixed hasher: the shard of a path is the same in every snapshot.
        BuildHasherDefault::<DefaultHasher>::default().hash_one(path) as usize % SHARDS
    }

    pub fn get(&self, path: &str) -> Option<&Arc<Document>> {
        self.shards[Self::shard(path)].get(path)
    }

    pub fn insert(&mut self, path: String, document: Arc<Document>) {
        Arc::make_mut(&mut self.shards[Self::shard(&path)]).insert(path, document);
    }

    pub fn remove(&mut self, path: &str) {
        let shard = &mut self.shards[Self::shard(path)];
        if shard.contains_key(path) {
            Arc::make_mut(shard).remove(path);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arc<Document>)> {
        self.shards
            .iter()
            .flat_map(|shard| shard.iter().map(|(path, doc)| (path.as_str(), doc)))
    }

    pub fn len(&self) -> usize {
        self.shards.iter().map(|shard| shard.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.shards.iter().all(|shard| shard.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_leaves_the_earlier_copy_alone() {
        let doc = |text: &str| {
            Arc::new(Document::new(
                text.as_bytes().to_vec(),
                super::super::HTML_TYPE,
                chrono::DateTime::UNIX_EPOCH,
            ))
        };
        let mut map = DocumentMap::default();
        for i in 0..1000 {
            map.insert(format!("/entries/{i}"), doc("a"));
        }
        let earlier = map.clone();
        map.insert("/entries/7".into(), doc("b"));
        map.remove("/entries/8");
        map.remove("/entries/nothing");
        assert_eq!(&earlier.get("/entries/7").unwrap().body[..], b"a");
        assert_eq!(&map.get("/entries/7").unwrap().body[..], b"b");
        assert!(earlier.get("/entries/8").is_some() && map.get("/entries/8").is_none());
        assert_eq!((earlier.len(), map.len()), (1000, 999));
        // Shards nobody changed are shared, not copied.
        let shared = earlier
            .shards
            .iter()
            .zip(&map.shards)
            .filter(|(a, b)| Arc::ptr_eq(a, b))
            .count();
        assert!(shared >= SHARDS - 2, "{shared}");
    }
}
