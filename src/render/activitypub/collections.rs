//! The actor's collections: the outbox, paged (`?page=N` from 1, newest first), of
//! `Create` activities; the followers, by number only; the following, empty.

use serde_json::{Value, json};

use super::{
    ACTIVITYSTREAMS, FOLLOWERS_PATH, FOLLOWING_PATH, Fediverse, OUTBOX_PAGE_SIZE, OUTBOX_PATH,
    context, create_body, object_map, put,
};
use crate::model::Entry;
use crate::render::Site;

/// How many pages the outbox has: at least one, empty when there is nothing.
pub fn outbox_pages(total: u64) -> u64 {
    total.div_ceil(OUTBOX_PAGE_SIZE).max(1)
}

/// The address of page `number` of the outbox: `BASE/outbox?page=N`.
pub fn outbox_page_url(site: &Site, number: u64) -> String {
    site.url(&format!("{OUTBOX_PATH}?page={number}"))
}

/// The outbox: an `OrderedCollection` of `total` `Create` activities, with its first
/// and last pages.
pub fn outbox_collection(site: &Site, total: u64) -> Value {
    json!({
        "@context": ACTIVITYSTREAMS,
        "id": site.url(OUTBOX_PATH),
        "type": "OrderedCollection",
        "totalItems": total,
        "first": outbox_page_url(site, 1),
        "last": outbox_page_url(site, outbox_pages(total)),
    })
}

/// Page `number` of the outbox (of `total` entries in all): the `Create` of each of
/// `entries`, given newest first, with links to the pages beside it.
pub fn outbox_page(
    site: &Site,
    fedi: &Fediverse,
    number: u64,
    total: u64,
    entries: &[Entry],
) -> Value {
    let items: Vec<Value> = entries
        .iter()
        .map(|entry| Value::Object(create_body(site, fedi, entry)))
        .collect();
    let mut page = object_map(json!({
        "@context": context(),
        "id": outbox_page_url(site, number),
        "type": "OrderedCollectionPage",
        "partOf": site.url(OUTBOX_PATH),
        "totalItems": total,
        "orderedItems": items,
    }));
    let last = outbox_pages(total);
    put(
        &mut page,
        "next",
        (number < last).then(|| outbox_page_url(site, number + 1)),
    );
    put(
        &mut page,
        "prev",
        (number > 1).then(|| outbox_page_url(site, number - 1)),
    );
    Value::Object(page)
}

/// The followers: their number only, not who they are.
pub fn followers_collection(site: &Site, total: u64) -> Value {
    json!({
        "@context": ACTIVITYSTREAMS,
        "id": site.url(FOLLOWERS_PATH),
        "type": "OrderedCollection",
        "totalItems": total,
    })
}

/// Who the actor follows: nobody.
pub fn following_collection(site: &Site) -> Value {
    json!({
        "@context": ACTIVITYSTREAMS,
        "id": site.url(FOLLOWING_PATH),
        "type": "OrderedCollection",
        "totalItems": 0,
        "orderedItems": [],
    })
}
