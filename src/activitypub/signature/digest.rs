//! Digests of a request body: draft-cavage's `Digest: SHA-256=<base64>` (RFC 3230) and
//! RFC 9530's `Content-Digest: sha-256=:<base64>:`.
//!
//! We send SHA-256 in both, the one algorithm Mastodon accepts. When checking, SHA-256
//! and SHA-512 are accepted, algorithm names without regard to case; a header offering
//! only other algorithms is refused, and one whose supported digests do not all match the
//! body is a mismatch.

use aws_lc_rs::digest::{self, SHA256, SHA512};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::SignatureError;
use super::sfv::{self, BareItem, Member};

/// The `Digest` header value for `body`: `SHA-256=<base64>`.
pub fn digest_header(body: &[u8]) -> String {
    format!("SHA-256={}", STANDARD.encode(digest::digest(&SHA256, body)))
}

/// The `Content-Digest` header value for `body`: `sha-256=:<base64>:`.
pub fn content_digest_header(body: &[u8]) -> String {
    format!(
        "sha-256=:{}:",
        STANDARD.encode(digest::digest(&SHA256, body))
    )
}

fn hash(algorithm: &str, body: &[u8]) -> Option<digest::Digest> {
    match algorithm.to_ascii_lowercase().as_str() {
        "sha-256" => Some(digest::digest(&SHA256, body)),
        "sha-512" => Some(digest::digest(&SHA512, body)),
        _ => None,
    }
}

/// Checks a draft-cavage `Digest` header (`SHA-256=<base64>`, comma-separated) against
/// `body`.
pub(crate) fn check_digest(value: &str, body: &[u8]) -> Result<(), SignatureError> {
    let mut offered = Vec::new();
    let mut checked = false;
    for part in value.split(',') {
        let (name, b64) = part.trim().split_once('=').unwrap_or((part.trim(), ""));
        offered.push(name.to_string());
        let Some(actual) = hash(name, body) else {
            continue;
        };
        let given = STANDARD
            .decode(b64.trim())
            .map_err(|e| SignatureError::Malformed {
                header: "Digest",
                reason: format!("bad base64 in {name}: {e}"),
            })?;
        if given != actual.as_ref() {
            return Err(SignatureError::DigestMismatch { header: "Digest" });
        }
        checked = true;
    }
    if checked {
        Ok(())
    } else {
        Err(SignatureError::UnsupportedDigest {
            header: "Digest",
            offered: offered.join(", "),
        })
    }
}

/// Checks an RFC 9530 `Content-Digest` header (a dictionary of byte sequences) against
/// `body`.
pub(crate) fn check_content_digest(value: &str, body: &[u8]) -> Result<(), SignatureError> {
    let dict = sfv::parse_dictionary(value).map_err(|reason| SignatureError::Malformed {
        header: "Content-Digest",
        reason,
    })?;
    let mut checked = false;
    for (name, member) in &dict {
        let Some(actual) = hash(name, body) else {
            continue;
        };
        let Member::Item(sfv::Item {
            bare: BareItem::Bytes(given),
            ..
        }) = member
        else {
            return Err(SignatureError::Malformed {
                header: "Content-Digest",
                reason: format!("{name} is not a byte sequence"),
            });
        };
        if given.as_slice() != actual.as_ref() {
            return Err(SignatureError::DigestMismatch {
                header: "Content-Digest",
            });
        }
        checked = true;
    }
    if checked {
        Ok(())
    } else {
        let offered: Vec<&str> = dict.iter().map(|(k, _)| k.as_str()).collect();
        Err(SignatureError::UnsupportedDigest {
            header: "Content-Digest",
            offered: offered.join(", "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activitypub::signature::test_vectors as tv;

    #[test]
    fn the_draft_cavage_example_digest_is_reproduced() {
        // draft-cavage-http-signatures-12 Appendix C: the body of every example.
        assert_eq!(digest_header(tv::CAVAGE_BODY), tv::CAVAGE_DIGEST);
        check_digest(tv::CAVAGE_DIGEST, tv::CAVAGE_BODY).unwrap();
        check_digest(
            &tv::CAVAGE_DIGEST.replace("SHA-256", "sha-256"),
            tv::CAVAGE_BODY,
        )
        .unwrap();
    }

    #[test]
    fn the_rfc_9530_sha_512_of_the_rfc_9421_request_checks() {
        check_content_digest(tv::RFC_REQUEST_CONTENT_DIGEST, tv::RFC_REQUEST_BODY).unwrap();
        check_content_digest(&content_digest_header(b"abc"), b"abc").unwrap();
        assert!(content_digest_header(b"").starts_with("sha-256=:47DEQpj8"));
    }

    #[test]
    fn mismatches_and_unknown_algorithms_are_refused() {
        let other = b"{\"hello\": \"world!\"}";
        assert!(matches!(
            check_digest(tv::CAVAGE_DIGEST, other),
            Err(SignatureError::DigestMismatch { header: "Digest" })
        ));
        assert!(matches!(
            check_content_digest(&content_digest_header(other), tv::CAVAGE_BODY),
            Err(SignatureError::DigestMismatch {
                header: "Content-Digest"
            })
        ));
        let err = check_digest("MD5=Sd/dVLAcvNLSq16eXua5uQ==", b"x").unwrap_err();
        assert!(err.to_string().contains("MD5"), "{err}");
        let err = check_content_digest("md5=:Sd/dVLAcvNLSq16eXua5uQ==:", b"x").unwrap_err();
        assert!(
            matches!(err, SignatureError::UnsupportedDigest { .. }),
            "{err}"
        );
        assert!(check_content_digest("sha-256=abc", b"x").is_err());
    }
}
