//! Reading what a delivery carries: the `Link` headers (RFC 8288) that name the hubs and
//! the topic, and the `X-Hub-Signature` of its body.

use axum::http::HeaderMap;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Every (target, rel) of the `Link` headers, whether sent as several headers or as one
/// comma-separated header; a `rel` with several values gives several pairs.
fn links(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for value in headers.get_all("link") {
        let text = value.to_str().unwrap();
        for link in split_link_values(text) {
            let link = link.trim();
            let rest = link
                .strip_prefix('<')
                .unwrap_or_else(|| panic!("not a link-value: {link:?} in {text:?}"));
            let (target, params) = rest
                .split_once('>')
                .unwrap_or_else(|| panic!("not a link-value: {link:?} in {text:?}"));
            for param in params.split(';') {
                let Some((name, value)) = param.split_once('=') else {
                    continue;
                };
                if name.trim().eq_ignore_ascii_case("rel") {
                    for rel in value.trim().trim_matches('"').split_whitespace() {
                        out.push((target.to_owned(), rel.to_ascii_lowercase()));
                    }
                }
            }
        }
    }
    out
}

/// Splits a `Link` header at the commas between link-values (not those in a URL or a
/// quoted string).
fn split_link_values(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut in_url, mut in_quotes, mut start) = (false, false, 0);
    for (i, c) in text.char_indices() {
        match c {
            '<' if !in_quotes => in_url = true,
            '>' if !in_quotes => in_url = false,
            '"' if !in_url => in_quotes = !in_quotes,
            ',' if !in_url && !in_quotes => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// The headers link each hub with rel="hub" and have exactly one rel="self", `self_url`.
pub fn assert_links(headers: &HeaderMap, hubs: &[String], self_url: &str, what: &str) {
    let links = links(headers);
    for hub in hubs {
        assert!(
            links.iter().any(|(t, rel)| t == hub && rel == "hub"),
            "{what}: no <{hub}>; rel=\"hub\" in {links:?}"
        );
    }
    let selves: Vec<_> = links.iter().filter(|(_, rel)| rel == "self").collect();
    assert_eq!(
        selves,
        [&(self_url.to_owned(), "self".to_owned())],
        "{what}: exactly one rel=\"self\""
    );
}

/// `sha256=` and the lowercase hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}
