//! RFC 9421 HTTP Message Signatures: the signature base (section 2.5) over the derived
//! components of section 2.2 and plain header fields, `Signature-Input` and `Signature`,
//! and the rules for an inbox (see the parent module).
//!
//! Header fields are covered as plain values only: the `sf`, `key`, `bs`, `req` and `tr`
//! parameters are refused as unsupported, as no fediverse server sends them.

use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{DATE, HeaderMap, HeaderName};

use super::sfv::{self, BareItem, Item, Member, Params};
use super::{
    Message, OutgoingRequest, SignatureClaim, SignatureError, SignatureForm, Signer, authority,
    digest, from_unix, header_value, path_and_query, to_unix,
};
use crate::activitypub::keys::Algorithm;

/// The label of the signatures we make.
const LABEL: &str = "sig1";

/// The value of one covered component (section 2.1 and 2.2).
fn component_value(msg: &Message<'_>, item: &Item) -> Result<String, SignatureError> {
    let BareItem::String(name) = &item.bare else {
        return Err(SignatureError::Malformed {
            header: "Signature-Input",
            reason: "a component identifier is not a string".into(),
        });
    };
    let unsupported = || SignatureError::UnsupportedComponent(sfv::serialize_item(item));
    if name == "@query-param" {
        return query_param(msg, item).ok_or_else(unsupported);
    }
    if !item.params.is_empty() {
        return Err(unsupported());
    }
    let url = msg.url;
    Ok(match name.as_str() {
        "@method" => msg.method.to_string(),
        "@target-uri" => url.as_str().to_string(),
        "@authority" => authority(url),
        "@scheme" => url.scheme().to_ascii_lowercase(),
        "@request-target" => path_and_query(url),
        "@path" => url.path().to_string(),
        "@query" => format!("?{}", url.query().unwrap_or_default()),
        "@status" => msg.status.ok_or_else(unsupported)?.to_string(),
        n if n.starts_with('@') => return Err(unsupported()),
        n => msg
            .header(n)
            .ok_or_else(|| SignatureError::MissingHeader(n.to_string()))?,
    })
}

/// `@query-param;name="…"` (section 2.2.8): the named parameter's value, decoded and
/// encoded again, so that equivalent encodings give the same base.
fn query_param(msg: &Message<'_>, item: &Item) -> Option<String> {
    let Some(BareItem::String(wanted)) = sfv::param(&item.params, "name") else {
        return None;
    };
    if item.params.len() != 1 {
        return None;
    }
    let wanted: String = url::form_urlencoded::parse(wanted.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default();
    msg.url
        .query_pairs()
        .find(|(k, _)| *k == wanted)
        .map(|(_, v)| url::form_urlencoded::byte_serialize(v.as_bytes()).collect())
}

/// The signature base (section 2.5) of `components` and the serialized
/// `@signature-params` value.
pub(crate) fn signature_base(
    msg: &Message<'_>,
    components: &[Item],
    params: &Params,
) -> Result<String, SignatureError> {
    let mut base = String::new();
    for item in components {
        let value = component_value(msg, item)?;
        base.push_str(&sfv::serialize_item(item));
        base.push_str(": ");
        base.push_str(&value);
        base.push('\n');
    }
    base.push_str("\"@signature-params\": ");
    base.push_str(&sfv::serialize_inner_list(components, params));
    Ok(base)
}

fn malformed(header: &'static str) -> impl Fn(String) -> SignatureError {
    move |reason| SignatureError::Malformed { header, reason }
}

fn covers(components: &[Item], name: &str) -> bool {
    components
        .iter()
        .any(|c| c.bare == BareItem::String(name.into()))
}

/// The first `Signature-Input` member whose algorithm we know (or that names none).
fn choose(
    inputs: Vec<(String, Member)>,
) -> Result<(String, Vec<Item>, Params, Option<Algorithm>), SignatureError> {
    let mut unknown = None;
    for (label, member) in inputs {
        let Member::InnerList(components, params) = member else {
            continue;
        };
        match sfv::param(&params, "alg") {
            None => return Ok((label, components, params, None)),
            Some(BareItem::String(name)) => match Algorithm::from_rfc9421(name) {
                Some(alg) => return Ok((label, components, params, Some(alg))),
                None => unknown = Some(name.clone()),
            },
            Some(other) => unknown = Some(sfv::serialize_bare(other)),
        }
    }
    Err(match unknown {
        Some(name) => SignatureError::UnknownAlgorithm(name),
        None => SignatureError::Malformed {
            header: "Signature-Input",
            reason: "no signature".into(),
        },
    })
}

/// Checks that the components we require are covered.
fn check_coverage(msg: &Message<'_>, components: &[Item]) -> Result<(), SignatureError> {
    if !covers(components, "@method") {
        return Err(SignatureError::NotCovered("@method"));
    }
    let target = covers(components, "@target-uri")
        || (covers(components, "@authority") && covers(components, "@path"));
    if !target {
        return Err(SignatureError::NotCovered("@target-uri"));
    }
    if msg.has_body_method() && !covers(components, "content-digest") {
        return Err(SignatureError::NotCovered("content-digest"));
    }
    Ok(())
}

/// Reads the first usable RFC 9421 signature; see the parent module for the rules.
pub(super) fn parse(msg: &Message<'_>) -> Result<SignatureClaim, SignatureError> {
    let input = msg
        .header("signature-input")
        .ok_or(SignatureError::Unsigned)?;
    let inputs = sfv::parse_dictionary(&input).map_err(malformed("Signature-Input"))?;
    let (label, components, params, algorithm) = choose(inputs)?;
    let sig_header = msg.header("signature").ok_or(SignatureError::Unsigned)?;
    let signatures = sfv::parse_dictionary(&sig_header).map_err(malformed("Signature"))?;
    let signature = signatures
        .into_iter()
        .find_map(|(l, m)| match m {
            Member::Item(Item {
                bare: BareItem::Bytes(b),
                ..
            }) if l == label => Some(b),
            _ => None,
        })
        .ok_or_else(|| malformed("Signature")(format!("no byte sequence for {label}")))?;
    let Some(BareItem::String(key_id)) = sfv::param(&params, "keyid") else {
        return Err(SignatureError::MissingParameter("keyid"));
    };
    let Some(BareItem::Integer(created)) = sfv::param(&params, "created") else {
        return Err(SignatureError::MissingParameter("created"));
    };
    let created = from_unix(*created)
        .ok_or_else(|| malformed("Signature-Input")("created before 1970".into()))?;
    let expires = match sfv::param(&params, "expires") {
        Some(BareItem::Integer(t)) => from_unix(*t),
        _ => None,
    };
    check_coverage(msg, &components)?;
    let base = signature_base(msg, &components, &params)?;
    let digest = if covers(&components, "content-digest") {
        msg.header("content-digest")
    } else {
        None
    };
    Ok(SignatureClaim {
        key_id: key_id.clone(),
        form: SignatureForm::Rfc9421,
        algorithm,
        base,
        signature,
        created,
        expires,
        digest,
    })
}

fn string_item(s: &str) -> Item {
    Item {
        bare: BareItem::String(s.to_string()),
        params: Vec::new(),
    }
}

/// Adds `Content-Digest` (with a body), `Date` (if missing, for servers that log or
/// check it), `Signature-Input` and `Signature`.
pub(super) fn sign(
    signer: &Signer<'_>,
    request: &OutgoingRequest<'_>,
    headers: &mut HeaderMap,
    now: SystemTime,
) -> Result<(), SignatureError> {
    if !sfv::is_sf_string(signer.key_id) {
        return Err(SignatureError::Sign(format!(
            "key id {:?} is not printable ASCII",
            signer.key_id
        )));
    }
    if !headers.contains_key(DATE) {
        headers.insert(DATE, header_value("Date", &httpdate::fmt_http_date(now))?);
    }
    let mut components = vec![string_item("@method"), string_item("@target-uri")];
    if let Some(body) = request.body {
        let value = digest::content_digest_header(body);
        headers.insert(
            HeaderName::from_static("content-digest"),
            header_value("Content-Digest", &value)?,
        );
        components.push(string_item("content-digest"));
    }
    let secs = i64::try_from(to_unix(now)).unwrap_or(i64::MAX);
    let params: Params = vec![
        ("created".into(), BareItem::Integer(secs)),
        ("keyid".into(), BareItem::String(signer.key_id.to_string())),
        (
            "alg".into(),
            BareItem::String(Algorithm::RsaV15Sha256.rfc9421_name().into()),
        ),
    ];
    let msg = Message {
        method: request.method,
        url: request.url,
        headers: &*headers,
        status: None,
    };
    let base = signature_base(&msg, &components, &params)?;
    let signature = signer.key.sign_rsa_sha256(base.as_bytes())?;
    let input = format!(
        "{LABEL}={}",
        sfv::serialize_inner_list(&components, &params)
    );
    let value = format!("{LABEL}=:{}:", STANDARD.encode(signature));
    headers.insert(
        HeaderName::from_static("signature-input"),
        header_value("Signature-Input", &input)?,
    );
    headers.insert(
        HeaderName::from_static("signature"),
        header_value("Signature", &value)?,
    );
    Ok(())
}

#[cfg(test)]
mod tests;
