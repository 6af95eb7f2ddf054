//! Discovery: WebFinger's JRD (RFC 7033) for `acct:USER@HOST`, the NodeInfo 2.1 links
//! and document, and host-meta (RFC 6415), which points WebFinger clients at the first.

use serde_json::{Value, json};

use super::{Fediverse, NODEINFO_PATH, WEBFINGER_PATH};
use crate::normalize::escape_html;
use crate::render::{Site, listing_path};

const NODEINFO_SCHEMA: &str = "http://nodeinfo.diaspora.software/ns/schema/2.1";

/// The site's host as WebFinger names it: the base URL's host, and its port when the
/// URL gives one (`127.0.0.1:8080`).
pub fn host(site: &Site) -> String {
    let Ok(url) = url::Url::parse(&site.base) else {
        return String::new();
    };
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// The actor's WebFinger resource: `acct:USER@HOST`.
pub fn acct(site: &Site, fedi: &Fediverse) -> String {
    format!("acct:{}@{}", fedi.username, host(site))
}

/// Whether a WebFinger `resource` names the actor: `acct:USER@HOST` (or without the
/// `acct:` some clients leave out; the host and the username in any case), or the
/// actor's id.
pub fn is_own_resource(site: &Site, fedi: &Fediverse, resource: &str) -> bool {
    let resource = resource.trim();
    if resource == fedi.actor_id(site) {
        return true;
    }
    let account = match resource.get(..5) {
        Some(scheme) if scheme.eq_ignore_ascii_case("acct:") => &resource[5..],
        _ => resource,
    };
    let account = account.strip_prefix('@').unwrap_or(account);
    account.eq_ignore_ascii_case(&format!("{}@{}", fedi.username, host(site)))
}

/// WebFinger's answer for the actor (RFC 7033 §4.4): the `acct:` subject, the actor as
/// alias and `self` link, and the site's index as its profile page.
pub fn webfinger(site: &Site, fedi: &Fediverse) -> Value {
    let actor_id = fedi.actor_id(site);
    json!({
        "subject": acct(site, fedi),
        "aliases": [actor_id],
        "links": [
            {
                "rel": "self",
                "type": "application/activity+json",
                "href": actor_id,
            },
            {
                "rel": "http://webfinger.net/rel/profile-page",
                "type": "text/html",
                "href": site.url(&listing_path(None, 1)),
            },
        ],
    })
}

/// `/.well-known/nodeinfo`: where the NodeInfo 2.1 document is.
pub fn nodeinfo_links(site: &Site) -> Value {
    json!({
        "links": [{ "rel": NODEINFO_SCHEMA, "href": site.url(NODEINFO_PATH) }],
    })
}

/// NodeInfo 2.1: seedfeed `version`, one user, `local_posts` entries, no registrations,
/// ActivityPub in and the feeds out.
pub fn nodeinfo(site: &Site, version: &str, local_posts: u64) -> Value {
    json!({
        "version": "2.1",
        "software": {
            "name": "seedfeed",
            "version": version,
        },
        "protocols": ["activitypub"],
        "services": { "inbound": [], "outbound": ["atom1.0", "rss2.0"] },
        "openRegistrations": false,
        "usage": {
            "users": { "total": 1, "activeHalfyear": 1, "activeMonth": 1 },
            "localPosts": local_posts,
        },
        "metadata": { "nodeName": site.title },
    })
}

/// host-meta (RFC 6415): the template of WebFinger's address, for the clients that look
/// for it there first.
pub fn host_meta(site: &Site) -> Vec<u8> {
    let template = escape_html(&format!("{}?resource={{uri}}", site.url(WEBFINGER_PATH)));
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
         <Link rel=\"lrdd\" type=\"application/jrd+json\" template=\"{template}\"/>\n\
         </XRD>\n"
    )
    .into_bytes()
}
