//! HTTP signatures of ActivityPub requests, in both forms in use: draft-cavage
//! (`Signature:` with `Digest:`, draft-cavage-http-signatures-12) and RFC 9421
//! (`Signature-Input:` and `Signature:` with RFC 9530 `Content-Digest:`).
//!
//! Signing (outgoing deliveries and actor fetches): [`Signer::sign_rfc9421`] and
//! [`Signer::sign_cavage`] add the headers to a request's `HeaderMap`. What we sign:
//! - draft-cavage: `headers="(request-target) host date digest"` (without `digest` for a
//!   GET), `algorithm="rsa-sha256"`, the `Digest` SHA-256 of the body: what Mastodon,
//!   GoToSocial and Fedify send and require.
//! - RFC 9421: label `sig1`, components `("@method" "@target-uri" "content-digest")`
//!   (without `content-digest` for a GET), parameters `created`, `keyid` and
//!   `alg="rsa-v1_5-sha256"`, and a `Content-Digest` SHA-256. Mastodon 4.5 requires
//!   `created`, `@method` and `@target-uri`, and for a POST a signed `Content-Digest` with
//!   SHA-256 (the only digest it accepts); it verifies with an RSA PKCS#1 v1.5 SHA-256
//!   key, so the `alg` we name is the one it uses. Fedify accepts any covered components
//!   and checks `created` within an hour; it signs `@method @target-uri @authority host
//!   date` itself, which our verifier accepts too. No `expires`: Mastodon caps a
//!   signature's life itself, and a clock skew would make an `expires` fail early.
//!
//! Verifying (the inbox): [`parse`] reads the request's headers into a
//! [`SignatureClaim`] that names the key to fetch, then [`verify`] checks it with the
//! body, the key and the time. The rules:
//! - draft-cavage: `(request-target)`, `host` and `date` signed, and `digest` signed and
//!   matching when the request has a body; `Date` within 12 hours of now, either side.
//!   `algorithm` `rsa-sha256`, `hs2019` or none (then the key's own algorithm).
//! - RFC 9421: the first label whose `alg` we know (or that names none) is checked.
//!   `@method` and `@target-uri` (or `@authority` and `@path`) signed, `content-digest`
//!   signed and matching when there is a body; `created` within 12 hours of now, and
//!   `expires`, if present, not passed.
//!
//! The target URL is the caller's: the inbox builds it from the configured base URL and
//! the request's path and query, since behind a proxy the request's own Host and scheme
//! are not what the sender signed. The `host` header a draft-cavage signature covers is
//! the one the request carried, as for any signed header.

mod cavage;
pub mod digest;
mod rfc9421;
mod sfv;
#[cfg(test)]
pub(crate) mod test_vectors;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderValue};
use url::Url;

use crate::activitypub::keys::{Algorithm, InstanceKey, KeyError, RemoteKey};

/// How far a signature's `Date` or `created` may be from now, either side.
pub const TIME_WINDOW: Duration = Duration::from_secs(12 * 3600);

/// What is wrong with a request's signature, or why one could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    /// Neither `Signature` nor `Signature-Input` is present.
    #[error("the request is not signed (no Signature header)")]
    Unsigned,
    /// A signature header could not be read.
    #[error("malformed {header} header: {reason}")]
    Malformed {
        /// The header.
        header: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A parameter the signature needs is absent.
    #[error("the signature has no {0} parameter")]
    MissingParameter(&'static str),
    /// A component we require is not covered by the signature.
    #[error("the signature does not cover {0}")]
    NotCovered(&'static str),
    /// A header the signature covers is absent from the request.
    #[error("the signed header {0} is missing from the request")]
    MissingHeader(String),
    /// A signed component we cannot reproduce.
    #[error("unsupported signature component {0}")]
    UnsupportedComponent(String),
    /// The signature's algorithm is not one we verify.
    #[error("unknown signature algorithm {0:?}")]
    UnknownAlgorithm(String),
    /// The digest header offers no algorithm we know.
    #[error("{header} offers no SHA-256 or SHA-512 digest (offered: {offered})")]
    UnsupportedDigest {
        /// `Digest` or `Content-Digest`.
        header: &'static str,
        /// The algorithms it offered.
        offered: String,
    },
    /// The body does not match its digest.
    #[error("the body does not match its {header} header")]
    DigestMismatch {
        /// `Digest` or `Content-Digest`.
        header: &'static str,
    },
    /// The signature's time is too far from now.
    #[error("the signature's {what} ({at}) is more than 12 hours from now")]
    OutsideWindow {
        /// `Date` or `created`.
        what: &'static str,
        /// The time it gave.
        at: String,
    },
    /// The signature's `expires` has passed.
    #[error("the signature expired at {0}")]
    Expired(String),
    /// The signature does not verify with the key.
    #[error("the signature does not verify with the key {key_id} ({algorithm})")]
    BadSignature {
        /// The key id it named.
        key_id: String,
        /// The algorithm checked.
        algorithm: &'static str,
    },
    /// A signature could not be made.
    #[error("cannot sign the request: {0}")]
    Sign(String),
}

impl From<KeyError> for SignatureError {
    fn from(e: KeyError) -> Self {
        SignatureError::Sign(e.to_string())
    }
}

/// Which form a request's signature has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureForm {
    /// draft-cavage-http-signatures (`Signature: keyId=…`).
    Cavage,
    /// RFC 9421 (`Signature-Input`, `Signature`).
    Rfc9421,
}

/// A request's signature, read but not yet checked: the key it names, and everything
/// [`verify`] needs besides the body, the key and the time.
#[derive(Debug, Clone)]
pub struct SignatureClaim {
    key_id: String,
    form: SignatureForm,
    /// None: the key's own algorithm (draft-cavage `hs2019`, RFC 9421 without `alg`).
    algorithm: Option<Algorithm>,
    base: String,
    signature: Vec<u8>,
    /// The `Date` (draft-cavage) or `created` (RFC 9421).
    created: SystemTime,
    expires: Option<SystemTime>,
    /// The signed `Digest` / `Content-Digest` value, if the signature covers one.
    digest: Option<String>,
}

impl SignatureClaim {
    /// The key id the signature names: the caller fetches that key.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The form of the signature.
    pub fn form(&self) -> SignatureForm {
        self.form
    }

    /// Checks the signature's time against `now`, before fetching any key: `Date` or
    /// `created` within [`TIME_WINDOW`], and `expires` not passed. [`verify`] does it too.
    pub fn check_time(&self, now: SystemTime) -> Result<(), SignatureError> {
        let what = match self.form {
            SignatureForm::Cavage => "Date",
            SignatureForm::Rfc9421 => "created",
        };
        if !within(self.created, now, TIME_WINDOW) {
            let at = httpdate::fmt_http_date(self.created);
            return Err(SignatureError::OutsideWindow { what, at });
        }
        if let Some(expires) = self.expires
            && now > expires
        {
            return Err(SignatureError::Expired(httpdate::fmt_http_date(expires)));
        }
        Ok(())
    }
}

fn within(t: SystemTime, now: SystemTime, window: Duration) -> bool {
    let gap = match now.duration_since(t) {
        Ok(d) => d,
        Err(e) => e.duration(),
    };
    gap <= window
}

/// Reads a request's signature: RFC 9421 when `Signature-Input` is present, else
/// draft-cavage. `url` is the target URL as the sender addressed it (see the module doc).
/// Refuses what no key could fix: missing or malformed headers, required components not
/// covered, an unknown algorithm.
pub fn parse(
    method: &str,
    url: &Url,
    headers: &HeaderMap,
) -> Result<SignatureClaim, SignatureError> {
    let msg = Message {
        method,
        url,
        headers,
        status: None,
    };
    if headers.contains_key("signature-input") {
        rfc9421::parse(&msg)
    } else if headers.contains_key("signature") {
        cavage::parse(&msg)
    } else {
        Err(SignatureError::Unsigned)
    }
}

/// Checks a parsed signature: its time against `now`, the body against the signed digest
/// (required when there is a body), and the signature against `key`.
pub fn verify(
    claim: &SignatureClaim,
    body: &[u8],
    key: &RemoteKey,
    now: SystemTime,
) -> Result<(), SignatureError> {
    claim.check_time(now)?;
    match (&claim.digest, claim.form) {
        (Some(value), SignatureForm::Cavage) => digest::check_digest(value, body)?,
        (Some(value), SignatureForm::Rfc9421) => digest::check_content_digest(value, body)?,
        // parse() already required a digest for a method with a body.
        (None, SignatureForm::Cavage) if !body.is_empty() => {
            return Err(SignatureError::NotCovered("digest"));
        }
        (None, SignatureForm::Rfc9421) if !body.is_empty() => {
            return Err(SignatureError::NotCovered("content-digest"));
        }
        (None, _) => {}
    }
    let algorithm = claim.algorithm.unwrap_or_else(|| key.default_algorithm());
    if key.verify(algorithm, claim.base.as_bytes(), &claim.signature) {
        Ok(())
    } else {
        Err(SignatureError::BadSignature {
            key_id: claim.key_id.clone(),
            algorithm: algorithm.rfc9421_name(),
        })
    }
}

/// A request to sign: its method, target URL and body (None for a GET).
#[derive(Debug, Clone, Copy)]
pub struct OutgoingRequest<'a> {
    /// The method, upper case (`POST`, `GET`).
    pub method: &'a str,
    /// The full target URL.
    pub url: &'a Url,
    /// The body, if the request has one.
    pub body: Option<&'a [u8]>,
}

/// Signs requests with the instance key under a key id (`BASE/@USER#main-key`).
#[derive(Debug, Clone, Copy)]
pub struct Signer<'a> {
    /// The key id named in the signatures.
    pub key_id: &'a str,
    /// The instance key.
    pub key: &'a InstanceKey,
}

impl Signer<'_> {
    /// Adds a draft-cavage signature: `Date` (if missing), `Host`, `Digest` (with a body)
    /// and `Signature`. See the module doc for what is covered.
    pub fn sign_cavage(
        &self,
        request: &OutgoingRequest<'_>,
        headers: &mut HeaderMap,
        now: SystemTime,
    ) -> Result<(), SignatureError> {
        cavage::sign(self, request, headers, now)
    }

    /// Adds an RFC 9421 signature: `Content-Digest` (with a body), `Signature-Input` and
    /// `Signature`, label `sig1`. See the module doc for what is covered.
    pub fn sign_rfc9421(
        &self,
        request: &OutgoingRequest<'_>,
        headers: &mut HeaderMap,
        now: SystemTime,
    ) -> Result<(), SignatureError> {
        rfc9421::sign(self, request, headers, now)
    }
}

/// A message as the signature code sees it.
pub(crate) struct Message<'a> {
    pub(crate) method: &'a str,
    pub(crate) url: &'a Url,
    pub(crate) headers: &'a HeaderMap,
    /// A response's status (`@status`); None for a request.
    pub(crate) status: Option<u16>,
}

impl Message<'_> {
    /// A header's values, each trimmed, joined with ", " (RFC 9421 section 2.1;
    /// draft-cavage section 2.3); None when absent.
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        let values: Vec<String> = self
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
            .collect();
        if values.is_empty() {
            None
        } else {
            Some(values.join(", "))
        }
    }

    /// Whether the method carries a body, so that a digest must be signed even before
    /// the body is read.
    pub(crate) fn has_body_method(&self) -> bool {
        matches!(
            self.method.to_ascii_uppercase().as_str(),
            "POST" | "PUT" | "PATCH"
        )
    }
}

/// The authority of a URL: lower-case host, and the port unless it is the scheme's default.
/// A header's value from text, for a header being signed.
pub(crate) fn header_value(name: &str, value: &str) -> Result<HeaderValue, SignatureError> {
    HeaderValue::from_str(value)
        .map_err(|_| SignatureError::Sign(format!("invalid {name} value {value:?}")))
}

pub(crate) fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

/// The path and query of a URL, as in a request line.
pub(crate) fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// Unix seconds as a time; None before 1970.
pub(crate) fn from_unix(secs: i64) -> Option<SystemTime> {
    u64::try_from(secs)
        .ok()
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

/// A time as Unix seconds (0 before 1970).
pub(crate) fn to_unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
