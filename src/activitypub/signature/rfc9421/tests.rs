//! RFC 9421 Appendix B: every signature base of B.2 rebuilt from the RFC's messages, the
//! rsa-pss-sha512 signatures of B.2.1 to B.2.3 verified, the ed25519 signature of B.2.6
//! reproduced byte for byte.

use aws_lc_rs::signature::Ed25519KeyPair;
use reqwest::header::{HeaderMap, HeaderValue};
use url::Url;

use super::*;
use crate::activitypub::keys::RemoteKey;
use crate::activitypub::signature::test_vectors::{self as tv, RfcExample};

fn headers_of(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.append(*name, HeaderValue::from_static(value));
    }
    headers
}

/// The components and parameters of an example's Signature-Input member.
fn input_of(example: &RfcExample) -> (Vec<Item>, Params) {
    let mut dict = sfv::parse_dictionary(example.input).unwrap();
    let (_, Member::InnerList(items, params)) = dict.remove(0) else {
        panic!("{}", example.input)
    };
    (items, params)
}

fn base_of(example: &RfcExample, status: Option<u16>) -> String {
    let url = Url::parse(tv::RFC_REQUEST_URL).unwrap();
    let headers = match status {
        Some(_) => headers_of(tv::RFC_RESPONSE_HEADERS),
        None => headers_of(tv::RFC_REQUEST_HEADERS),
    };
    let msg = Message {
        method: "POST",
        url: &url,
        headers: &headers,
        status,
    };
    let (items, params) = input_of(example);
    signature_base(&msg, &items, &params).unwrap()
}

#[test]
fn the_signature_bases_of_b21_to_b26_are_rebuilt_exactly() {
    for (name, example, status) in [
        ("B.2.1", &tv::B21, None),
        ("B.2.2", &tv::B22, None),
        ("B.2.3", &tv::B23, None),
        ("B.2.4", &tv::B24, Some(200)),
        ("B.2.5", &tv::B25, None),
        ("B.2.6", &tv::B26, None),
    ] {
        assert_eq!(base_of(example, status), example.base, "{name}");
    }
}

#[test]
fn the_rsa_pss_signatures_of_b21_to_b23_verify_with_test_key_rsa_pss() {
    let key = RemoteKey::from_pem(tv::RSA_PSS_PUBLIC_SPKI).unwrap();
    for example in [&tv::B21, &tv::B22, &tv::B23] {
        let sig = STANDARD.decode(example.signature.unwrap()).unwrap();
        let base = base_of(example, None);
        assert!(
            key.verify(Algorithm::RsaPssSha512, base.as_bytes(), &sig),
            "{}",
            example.input
        );
        // The same signature over another base does not.
        assert!(!key.verify(Algorithm::RsaPssSha512, (base + " ").as_bytes(), &sig));
        assert!(!key.verify(Algorithm::RsaV15Sha256, example.base.as_bytes(), &sig));
    }
}

#[test]
fn the_ed25519_signature_of_b26_is_reproduced_byte_for_byte() {
    let pair = Ed25519KeyPair::from_pkcs8(&tv::pem_body(tv::ED25519_PRIVATE_PKCS8)).unwrap();
    let base = base_of(&tv::B26, None);
    let ours = STANDARD.encode(pair.sign(base.as_bytes()));
    assert_eq!(ours, tv::B26.signature.unwrap());
    let key = RemoteKey::from_pem(tv::ED25519_PUBLIC_SPKI).unwrap();
    assert!(key.verify(
        Algorithm::Ed25519,
        base.as_bytes(),
        &STANDARD.decode(ours).unwrap()
    ));
}

#[test]
fn unsupported_components_are_refused_by_name() {
    let url = Url::parse(tv::RFC_REQUEST_URL).unwrap();
    let headers = headers_of(tv::RFC_REQUEST_HEADERS);
    let msg = Message {
        method: "POST",
        url: &url,
        headers: &headers,
        status: None,
    };
    for (input, want) in [
        (r#"a=("@status")"#, "@status"),
        (r#"a=("@nonsense")"#, "@nonsense"),
        (r#"a=("content-type";sf)"#, r#""content-type";sf"#),
        (r#"a=("@query-param";name="absent")"#, "@query-param"),
    ] {
        let mut dict = sfv::parse_dictionary(input).unwrap();
        let (_, Member::InnerList(items, params)) = dict.remove(0) else {
            panic!()
        };
        let err = signature_base(&msg, &items, &params).unwrap_err();
        assert!(
            matches!(err, SignatureError::UnsupportedComponent(_)),
            "{input}: {err}"
        );
        assert!(err.to_string().contains(want), "{err}");
    }
    let mut dict = sfv::parse_dictionary(r#"a=("x-absent")"#).unwrap();
    let (_, Member::InnerList(items, params)) = dict.remove(0) else {
        panic!()
    };
    let err = signature_base(&msg, &items, &params).unwrap_err();
    assert!(
        matches!(err, SignatureError::MissingHeader(ref h) if h == "x-absent"),
        "{err}"
    );
}

#[test]
fn the_first_label_with_a_known_algorithm_is_chosen() {
    let inputs = sfv::parse_dictionary(
        r#"a=("@method");alg="hmac-sha256", b=("@method");alg="ed25519", c=("@method")"#,
    )
    .unwrap();
    let (label, _, _, alg) = choose(inputs).unwrap();
    assert_eq!((label.as_str(), alg), ("b", Some(Algorithm::Ed25519)));
    let inputs = sfv::parse_dictionary(r#"a=("@method");alg="hmac-sha256""#).unwrap();
    let err = choose(inputs).unwrap_err();
    assert!(
        matches!(err, SignatureError::UnknownAlgorithm(ref a) if a == "hmac-sha256"),
        "{err}"
    );
}

#[test]
fn derived_components_follow_section_2_2() {
    // The request of RFC 9421 section 2.2: POST /path?param=value to www.example.com.
    let headers = HeaderMap::new();
    for (url, component, want) in [
        (
            "https://www.example.com/path?param=value",
            "@method",
            "POST",
        ),
        (
            "https://www.example.com/path?param=value",
            "@target-uri",
            "https://www.example.com/path?param=value",
        ),
        (
            "https://www.example.com/path?param=value",
            "@authority",
            "www.example.com",
        ),
        (
            "http://WWW.Example.com:8080/path",
            "@authority",
            "www.example.com:8080",
        ),
        (
            "https://www.example.com:443/path",
            "@authority",
            "www.example.com",
        ),
        (
            "https://www.example.com/path?param=value",
            "@scheme",
            "https",
        ),
        (
            "https://www.example.com/path?param=value",
            "@request-target",
            "/path?param=value",
        ),
        ("https://www.example.com/path?param=value", "@path", "/path"),
        (
            "https://www.example.com/path?param=value&foo=bar&baz=bat%2Dman",
            "@query",
            "?param=value&foo=bar&baz=bat%2Dman",
        ),
        ("https://www.example.com/path", "@query", "?"),
    ] {
        let url = Url::parse(url).unwrap();
        let msg = Message {
            method: "POST",
            url: &url,
            headers: &headers,
            status: None,
        };
        let item = Item {
            bare: BareItem::String(component.into()),
            params: Vec::new(),
        };
        assert_eq!(
            component_value(&msg, &item).unwrap(),
            want,
            "{url} {component}"
        );
    }
}
