//! Signing and verifying end to end, in both forms, and each way a request is refused.

use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::*;
use crate::activitypub::keys::{InstanceKey, RemoteKey};
use crate::activitypub::signature::test_vectors as tv;

const KEY_ID: &str = "https://news.example/@news#main-key";
const BODY: &[u8] = br#"{"type":"Create","actor":"https://news.example/@news"}"#;

/// The RFC 9421 test-key-rsa as our key (generating one per test would be slow), and the
/// public half to verify with.
fn our_key() -> (InstanceKey, RemoteKey) {
    let key = InstanceKey::from_pkcs8_pem(tv::RSA_PRIVATE_PKCS1).unwrap();
    let public = RemoteKey::from_pem(key.public_key_pem()).unwrap();
    (key, public)
}

fn now() -> SystemTime {
    // A fixed clock: Tue, 14 Nov 2023 22:13:20 GMT.
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn inbox() -> Url {
    Url::parse("https://social.example/inbox").unwrap()
}

#[derive(Clone, Copy)]
enum Form {
    Cavage,
    Rfc9421,
}

fn signed(form: Form, method: &str, url: &Url, body: Option<&[u8]>, at: SystemTime) -> HeaderMap {
    let (key, _) = our_key();
    let signer = Signer {
        key_id: KEY_ID,
        key: &key,
    };
    let request = OutgoingRequest { method, url, body };
    let mut headers = HeaderMap::new();
    match form {
        Form::Cavage => signer.sign_cavage(&request, &mut headers, at).unwrap(),
        Form::Rfc9421 => signer.sign_rfc9421(&request, &mut headers, at).unwrap(),
    }
    headers
}

fn check(
    method: &str,
    url: &Url,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<SignatureClaim, SignatureError> {
    let claim = parse(method, url, headers)?;
    let (_, public) = our_key();
    verify(&claim, body, &public, now())?;
    Ok(claim)
}

#[test]
fn a_signed_post_verifies_in_both_forms() {
    for (form, want) in [
        (Form::Cavage, SignatureForm::Cavage),
        (Form::Rfc9421, SignatureForm::Rfc9421),
    ] {
        let headers = signed(form, "POST", &inbox(), Some(BODY), now());
        let claim = check("POST", &inbox(), &headers, BODY).unwrap();
        assert_eq!(claim.form(), want);
        assert_eq!(claim.key_id(), KEY_ID);
    }
}

#[test]
fn a_signed_get_verifies_in_both_forms() {
    let actor = Url::parse("https://social.example:8443/users/alice?x=1").unwrap();
    for form in [Form::Cavage, Form::Rfc9421] {
        let headers = signed(form, "GET", &actor, None, now());
        check("GET", &actor, &headers, b"").unwrap();
    }
}

#[test]
fn the_headers_we_send_are_the_ones_servers_expect() {
    let headers = signed(Form::Cavage, "POST", &inbox(), Some(BODY), now());
    assert_eq!(headers["host"], "social.example");
    assert_eq!(headers["date"], "Tue, 14 Nov 2023 22:13:20 GMT");
    assert_eq!(headers["digest"], digest::digest_header(BODY).as_str());
    let sig = headers["signature"].to_str().unwrap();
    let want = format!(
        "keyId=\"{KEY_ID}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest\",signature=\""
    );
    assert!(sig.starts_with(&want), "{sig}");
    let get = signed(Form::Cavage, "GET", &inbox(), None, now());
    assert!(
        get["signature"]
            .to_str()
            .unwrap()
            .contains("headers=\"(request-target) host date\",")
    );
    assert!(!get.contains_key("digest"));

    let headers = signed(Form::Rfc9421, "POST", &inbox(), Some(BODY), now());
    assert_eq!(
        headers["signature-input"],
        format!(
            "sig1=(\"@method\" \"@target-uri\" \"content-digest\");created=1700000000;keyid=\"{KEY_ID}\";alg=\"rsa-v1_5-sha256\""
        )
        .as_str()
    );
    assert_eq!(
        headers["content-digest"],
        digest::content_digest_header(BODY).as_str()
    );
    let sig = headers["signature"].to_str().unwrap();
    assert!(sig.starts_with("sig1=:") && sig.ends_with(':'), "{sig}");
    let get = signed(Form::Rfc9421, "GET", &inbox(), None, now());
    assert!(
        get["signature-input"]
            .to_str()
            .unwrap()
            .starts_with("sig1=(\"@method\" \"@target-uri\");")
    );
}

/// What we sign, spelled out: a verifier that builds these strings accepts us.
#[test]
fn our_signatures_cover_exactly_the_documented_strings() {
    let (_, public) = our_key();
    let url = Url::parse("https://social.example/users/alice/inbox?x=1").unwrap();
    let headers = signed(Form::Rfc9421, "POST", &url, Some(BODY), now());
    let base = format!(
        "\"@method\": POST\n\"@target-uri\": https://social.example/users/alice/inbox?x=1\n\"content-digest\": {}\n\"@signature-params\": (\"@method\" \"@target-uri\" \"content-digest\");created=1700000000;keyid=\"{KEY_ID}\";alg=\"rsa-v1_5-sha256\"",
        digest::content_digest_header(BODY)
    );
    let sig = headers["signature"].to_str().unwrap();
    let sig = STANDARD
        .decode(&sig["sig1=:".len()..sig.len() - 1])
        .unwrap();
    assert!(public.verify(Algorithm::RsaV15Sha256, base.as_bytes(), &sig));

    let headers = signed(Form::Cavage, "POST", &url, Some(BODY), now());
    let base = format!(
        "(request-target): post /users/alice/inbox?x=1\nhost: social.example\ndate: Tue, 14 Nov 2023 22:13:20 GMT\ndigest: {}",
        digest::digest_header(BODY)
    );
    let value = headers["signature"].to_str().unwrap();
    let b64 = value
        .rsplit("signature=\"")
        .next()
        .unwrap()
        .trim_end_matches('"');
    assert!(public.verify(
        Algorithm::RsaV15Sha256,
        base.as_bytes(),
        &STANDARD.decode(b64).unwrap()
    ));
}

#[test]
fn signing_is_deterministic_so_a_known_signature_is_reproduced() {
    // rsa-sha256 gives one signature per input: the same request signs the same twice.
    let a = signed(Form::Cavage, "POST", &inbox(), Some(BODY), now());
    let b = signed(Form::Cavage, "POST", &inbox(), Some(BODY), now());
    assert_eq!(a["signature"], b["signature"]);
}

#[test]
fn a_tampered_body_is_a_digest_mismatch() {
    let tampered = br#"{"type":"Delete","actor":"https://news.example/@news"}"#;
    for (form, header) in [(Form::Cavage, "Digest"), (Form::Rfc9421, "Content-Digest")] {
        let headers = signed(form, "POST", &inbox(), Some(BODY), now());
        let err = check("POST", &inbox(), &headers, tampered).unwrap_err();
        assert!(
            matches!(err, SignatureError::DigestMismatch { header: h } if h == header),
            "{err}"
        );
    }
}

#[test]
fn a_date_13_hours_old_or_ahead_is_refused() {
    let hours = |h: u64| Duration::from_secs(h * 3600);
    for form in [Form::Cavage, Form::Rfc9421] {
        for at in [now() - hours(13), now() + hours(13)] {
            let headers = signed(form, "POST", &inbox(), Some(BODY), at);
            let err = check("POST", &inbox(), &headers, BODY).unwrap_err();
            assert!(matches!(err, SignatureError::OutsideWindow { .. }), "{err}");
            // The check needs no key, so the inbox can make it before fetching one.
            let claim = parse("POST", &inbox(), &headers).unwrap();
            assert!(claim.check_time(now()).is_err());
        }
        // 11 hours either side is fine.
        for at in [now() - hours(11), now() + hours(11)] {
            let headers = signed(form, "POST", &inbox(), Some(BODY), at);
            check("POST", &inbox(), &headers, BODY).unwrap();
        }
    }
}

#[test]
fn an_expired_rfc9421_signature_is_refused() {
    let mut headers = signed(Form::Rfc9421, "GET", &inbox(), None, now());
    let input = headers["signature-input"]
        .to_str()
        .unwrap()
        .replace(";alg=", ";expires=1699999999;alg=");
    headers.insert("signature-input", HeaderValue::from_str(&input).unwrap());
    let claim = parse("GET", &inbox(), &headers).unwrap();
    let err = claim.check_time(now()).unwrap_err();
    assert!(matches!(err, SignatureError::Expired(_)), "{err}");
}

/// Signs `base` for a hand-made signature header.
fn sign_b64(base: &str) -> String {
    let (key, _) = our_key();
    STANDARD.encode(key.sign_rsa_sha256(base.as_bytes()).unwrap())
}

#[test]
fn a_post_without_a_signed_digest_is_refused() {
    // draft-cavage: a valid signature over (request-target) host date only.
    let mut headers = signed(Form::Cavage, "GET", &inbox(), None, now());
    let base = format!(
        "(request-target): post /inbox\nhost: social.example\ndate: {}",
        headers["date"].to_str().unwrap()
    );
    let value = format!(
        "keyId=\"{KEY_ID}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date\",signature=\"{}\"",
        sign_b64(&base)
    );
    headers.insert("signature", HeaderValue::from_str(&value).unwrap());
    // Refused by parse(), before any key is fetched.
    let err = parse("POST", &inbox(), &headers).unwrap_err();
    assert!(matches!(err, SignatureError::NotCovered("digest")), "{err}");
    // RFC 9421: a GET's signature replayed on a POST.
    let headers = signed(Form::Rfc9421, "GET", &inbox(), None, now());
    let err = parse("POST", &inbox(), &headers).unwrap_err();
    assert!(
        matches!(err, SignatureError::NotCovered("content-digest")),
        "{err}"
    );
    // A body on a GET still needs its digest.
    let headers = signed(Form::Cavage, "GET", &inbox(), None, now());
    let err = check("GET", &inbox(), &headers, BODY).unwrap_err();
    assert!(matches!(err, SignatureError::NotCovered("digest")), "{err}");
}

#[test]
fn a_signature_by_another_key_is_refused() {
    let other = RemoteKey::from_pem(tv::RSA_PSS_PUBLIC_SPKI).unwrap();
    for form in [Form::Cavage, Form::Rfc9421] {
        let headers = signed(form, "POST", &inbox(), Some(BODY), now());
        let claim = parse("POST", &inbox(), &headers).unwrap();
        let err = verify(&claim, BODY, &other, now()).unwrap_err();
        assert!(matches!(err, SignatureError::BadSignature { .. }), "{err}");
        assert!(err.to_string().contains(KEY_ID), "{err}");
    }
}

#[test]
fn a_request_for_another_target_is_refused() {
    let elsewhere = Url::parse("https://social.example/users/bob/inbox").unwrap();
    for form in [Form::Cavage, Form::Rfc9421] {
        let headers = signed(form, "POST", &inbox(), Some(BODY), now());
        let err = check("POST", &elsewhere, &headers, BODY).unwrap_err();
        assert!(matches!(err, SignatureError::BadSignature { .. }), "{err}");
    }
}

#[test]
fn an_unknown_algorithm_is_refused() {
    let mut headers = signed(Form::Cavage, "POST", &inbox(), Some(BODY), now());
    let value = headers["signature"]
        .to_str()
        .unwrap()
        .replace("rsa-sha256", "rsa-sha1");
    headers.insert("signature", HeaderValue::from_str(&value).unwrap());
    let err = parse("POST", &inbox(), &headers).unwrap_err();
    assert!(
        matches!(err, SignatureError::UnknownAlgorithm(ref a) if a == "rsa-sha1"),
        "{err}"
    );

    let mut headers = signed(Form::Rfc9421, "POST", &inbox(), Some(BODY), now());
    let value = headers["signature-input"]
        .to_str()
        .unwrap()
        .replace("rsa-v1_5-sha256", "hmac-sha256");
    headers.insert("signature-input", HeaderValue::from_str(&value).unwrap());
    let err = parse("POST", &inbox(), &headers).unwrap_err();
    assert!(
        matches!(err, SignatureError::UnknownAlgorithm(ref a) if a == "hmac-sha256"),
        "{err}"
    );
}

#[test]
fn a_headers_list_without_host_is_refused() {
    let mut headers = signed(Form::Cavage, "POST", &inbox(), Some(BODY), now());
    let value = headers["signature"]
        .to_str()
        .unwrap()
        .replace(" host date", " date");
    headers.insert("signature", HeaderValue::from_str(&value).unwrap());
    let err = parse("POST", &inbox(), &headers).unwrap_err();
    assert!(matches!(err, SignatureError::NotCovered("host")), "{err}");
    let value = headers["signature"]
        .to_str()
        .unwrap()
        .replace("(request-target) ", "");
    headers.insert("signature", HeaderValue::from_str(&value).unwrap());
    assert!(matches!(
        parse("POST", &inbox(), &headers),
        Err(SignatureError::NotCovered("(request-target)"))
    ));
}

#[test]
fn rfc9421_without_method_or_target_is_refused() {
    for (components, want) in [
        (r#"("@target-uri" "content-digest")"#, "@method"),
        (r#"("@method" "@path" "content-digest")"#, "@target-uri"),
    ] {
        let mut headers = signed(Form::Rfc9421, "POST", &inbox(), Some(BODY), now());
        let input = headers["signature-input"].to_str().unwrap().to_string();
        let params = &input[input.find(')').unwrap() + 1..];
        let value = format!("sig1={components}{params}");
        headers.insert("signature-input", HeaderValue::from_str(&value).unwrap());
        let err = parse("POST", &inbox(), &headers).unwrap_err();
        assert!(
            matches!(err, SignatureError::NotCovered(c) if c == want),
            "{err}"
        );
    }
}

#[test]
fn the_host_signed_is_the_one_the_request_carried() {
    // Behind a proxy the inbox's URL comes from base_url; the Host header is the request's.
    let mut headers = signed(Form::Cavage, "POST", &inbox(), Some(BODY), now());
    headers.insert("host", HeaderValue::from_static("internal:8080"));
    let err = check("POST", &inbox(), &headers, BODY).unwrap_err();
    assert!(matches!(err, SignatureError::BadSignature { .. }), "{err}");
}

#[test]
fn a_fedify_style_rfc9421_signature_verifies() {
    // Fedify covers @method @target-uri @authority host date content-digest, with
    // alg, keyid, created in that order.
    let url = inbox();
    let mut headers = HeaderMap::new();
    let date = httpdate::fmt_http_date(now());
    headers.insert("host", HeaderValue::from_static("social.example"));
    headers.insert("date", HeaderValue::from_str(&date).unwrap());
    headers.insert(
        "content-digest",
        HeaderValue::from_str(&digest::content_digest_header(BODY)).unwrap(),
    );
    let params = format!(
        r#"("@method" "@target-uri" "@authority" "host" "date" "content-digest");alg="rsa-v1_5-sha256";keyid="{KEY_ID}";created=1700000000"#
    );
    let base = format!(
        "\"@method\": POST\n\"@target-uri\": https://social.example/inbox\n\"@authority\": social.example\n\"host\": social.example\n\"date\": {date}\n\"content-digest\": {}\n\"@signature-params\": {params}",
        digest::content_digest_header(BODY)
    );
    headers.insert(
        HeaderName::from_static("signature-input"),
        HeaderValue::from_str(&format!("sig1={params}")).unwrap(),
    );
    headers.insert(
        HeaderName::from_static("signature"),
        HeaderValue::from_str(&format!("sig1=:{}:", sign_b64(&base))).unwrap(),
    );
    check("POST", &url, &headers, BODY).unwrap();
}

#[test]
fn a_mastodon_style_hs2019_signature_verifies() {
    // Mastodon's Signature header: no algorithm parameter on some versions, `hs2019` on
    // others; both mean the key's own algorithm.
    let mut headers = signed(Form::Cavage, "POST", &inbox(), Some(BODY), now());
    let value = headers["signature"]
        .to_str()
        .unwrap()
        .replace("algorithm=\"rsa-sha256\"", "algorithm=\"hs2019\"");
    headers.insert("signature", HeaderValue::from_str(&value).unwrap());
    check("POST", &inbox(), &headers, BODY).unwrap();
    let value = value.replace("algorithm=\"hs2019\",", "");
    headers.insert("signature", HeaderValue::from_str(&value).unwrap());
    check("POST", &inbox(), &headers, BODY).unwrap();
}

#[test]
fn unsigned_and_malformed_requests_are_refused() {
    let headers = HeaderMap::new();
    assert!(matches!(
        parse("POST", &inbox(), &headers),
        Err(SignatureError::Unsigned)
    ));
    let mut headers = signed(Form::Rfc9421, "POST", &inbox(), Some(BODY), now());
    headers.insert("signature", HeaderValue::from_static("sig2=:AAAA:"));
    let err = parse("POST", &inbox(), &headers).unwrap_err();
    assert!(err.to_string().contains("sig1"), "{err}");
    headers.insert(
        "signature-input",
        HeaderValue::from_static("sig1=(\"@method\""),
    );
    assert!(matches!(
        parse("POST", &inbox(), &headers),
        Err(SignatureError::Malformed { .. })
    ));
    let mut headers = signed(Form::Cavage, "POST", &inbox(), Some(BODY), now());
    headers.remove("date");
    let err = parse("POST", &inbox(), &headers).unwrap_err();
    assert!(
        matches!(err, SignatureError::MissingHeader(ref h) if h == "date"),
        "{err}"
    );
}
