//! The part of Structured Field Values (RFC 9651, formerly RFC 8941) that signatures use:
//! dictionaries of inner lists and byte sequences (`Signature-Input`, `Signature`,
//! `Content-Digest`), with integer, string, token, boolean and byte-sequence items and
//! their parameters. Decimals and dates are refused: no signature field carries them.
//!
//! Serialization is the canonical one of RFC 9651 section 4.1, which RFC 9421 uses for
//! the component identifiers and the `@signature-params` line of a signature base.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// A bare item (RFC 9651 section 3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BareItem {
    Integer(i64),
    String(String),
    Token(String),
    Bool(bool),
    Bytes(Vec<u8>),
}

/// Parameters, in their order.
pub(crate) type Params = Vec<(String, BareItem)>;

/// An item with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    pub(crate) bare: BareItem,
    pub(crate) params: Params,
}

/// A dictionary member: an item or an inner list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Member {
    Item(Item),
    InnerList(Vec<Item>, Params),
}

/// The value of parameter `key`, if present.
pub(crate) fn param<'a>(params: &'a Params, key: &str) -> Option<&'a BareItem> {
    params.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Parses a dictionary (RFC 9651 section 4.2.2). A repeated key keeps its last value.
pub(crate) fn parse_dictionary(text: &str) -> Result<Vec<(String, Member)>, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
    };
    let mut out: Vec<(String, Member)> = Vec::new();
    p.skip(b" ");
    while !p.done() {
        let key = p.key()?;
        let member = if p.eat(b'=') {
            p.member()?
        } else {
            Member::Item(Item {
                bare: BareItem::Bool(true),
                params: p.params()?,
            })
        };
        out.retain(|(k, _)| *k != key);
        out.push((key, member));
        p.skip(b" \t");
        if p.done() {
            break;
        }
        if !p.eat(b',') {
            return Err(format!("expected ',' at byte {}", p.pos));
        }
        p.skip(b" \t");
        if p.done() {
            return Err("trailing ','".into());
        }
    }
    Ok(out)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn done(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn skip(&mut self, set: &[u8]) {
        while self.peek().is_some_and(|c| set.contains(&c)) {
            self.pos += 1;
        }
    }

    fn take_while(&mut self, ok: impl Fn(u8) -> bool) -> &str {
        let start = self.pos;
        while self.peek().is_some_and(&ok) {
            self.pos += 1;
        }
        // Every accepted byte is ASCII.
        std::str::from_utf8(&self.s[start..self.pos]).unwrap_or_default()
    }

    fn key(&mut self) -> Result<String, String> {
        match self.peek() {
            Some(c) if c.is_ascii_lowercase() || c == b'*' => {}
            _ => return Err(format!("expected a key at byte {}", self.pos)),
        }
        let key = self
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"_-.*".contains(&c));
        Ok(key.to_string())
    }

    fn member(&mut self) -> Result<Member, String> {
        if self.peek() == Some(b'(') {
            return self.inner_list();
        }
        Ok(Member::Item(self.item()?))
    }

    fn inner_list(&mut self) -> Result<Member, String> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip(b" ");
            if self.eat(b')') {
                return Ok(Member::InnerList(items, self.params()?));
            }
            items.push(self.item()?);
            if !matches!(self.peek(), Some(b' ' | b')')) {
                return Err(format!("expected ' ' or ')' at byte {}", self.pos));
            }
        }
    }

    fn item(&mut self) -> Result<Item, String> {
        let bare = self.bare_item()?;
        Ok(Item {
            bare,
            params: self.params()?,
        })
    }

    fn params(&mut self) -> Result<Params, String> {
        let mut params: Params = Vec::new();
        while self.eat(b';') {
            self.skip(b" ");
            let key = self.key()?;
            let value = if self.eat(b'=') {
                self.bare_item()?
            } else {
                BareItem::Bool(true)
            };
            params.retain(|(k, _)| *k != key);
            params.push((key, value));
        }
        Ok(params)
    }

    fn bare_item(&mut self) -> Result<BareItem, String> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => self.integer(),
            Some(b'"') => self.string(),
            Some(b':') => self.bytes(),
            Some(b'?') => self.boolean(),
            Some(c) if c.is_ascii_alphabetic() || c == b'*' => {
                let token = self
                    .take_while(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:/".contains(&c));
                Ok(BareItem::Token(token.to_string()))
            }
            _ => Err(format!("unexpected byte at {}", self.pos)),
        }
    }

    fn integer(&mut self) -> Result<BareItem, String> {
        let negative = self.eat(b'-');
        let digits = self.take_while(|c| c.is_ascii_digit()).to_string();
        if digits.is_empty() || digits.len() > 15 || self.peek() == Some(b'.') {
            return Err(format!("unsupported number at byte {}", self.pos));
        }
        let value: i64 = digits.parse().map_err(|_| "bad integer".to_string())?;
        Ok(BareItem::Integer(if negative { -value } else { value }))
    }

    fn string(&mut self) -> Result<BareItem, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err("unterminated string".into()),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(BareItem::String(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c @ (b'"' | b'\\')) => out.push(char::from(c)),
                        _ => return Err("bad escape in string".into()),
                    }
                }
                Some(c @ 0x20..=0x7e) => out.push(char::from(c)),
                Some(_) => return Err("control or non-ASCII byte in string".into()),
            }
            self.pos += 1;
        }
    }

    fn bytes(&mut self) -> Result<BareItem, String> {
        self.pos += 1;
        let b64 = self
            .take_while(|c| c.is_ascii_alphanumeric() || b"+/=".contains(&c))
            .to_string();
        if !self.eat(b':') {
            return Err("unterminated byte sequence".into());
        }
        let bytes = STANDARD
            .decode(b64)
            .map_err(|e| format!("bad base64: {e}"))?;
        Ok(BareItem::Bytes(bytes))
    }

    fn boolean(&mut self) -> Result<BareItem, String> {
        self.pos += 1;
        let value = match self.peek() {
            Some(b'1') => true,
            Some(b'0') => false,
            _ => return Err("bad boolean".into()),
        };
        self.pos += 1;
        Ok(BareItem::Bool(value))
    }
}

/// Serializes a bare item (RFC 9651 section 4.1.3). Strings are escaped; the caller
/// keeps them to printable ASCII (see [`is_sf_string`]).
pub(crate) fn serialize_bare(item: &BareItem) -> String {
    match item {
        BareItem::Integer(n) => n.to_string(),
        BareItem::String(s) => {
            let mut out = String::with_capacity(s.len() + 2);
            out.push('"');
            for c in s.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
            out
        }
        BareItem::Token(t) => t.clone(),
        BareItem::Bool(b) => if *b { "?1" } else { "?0" }.to_string(),
        BareItem::Bytes(b) => format!(":{}:", STANDARD.encode(b)),
    }
}

/// Serializes parameters: `;key` for true, `;key=value` otherwise.
pub(crate) fn serialize_params(params: &Params) -> String {
    let mut out = String::new();
    for (key, value) in params {
        out.push(';');
        out.push_str(key);
        if *value != BareItem::Bool(true) {
            out.push('=');
            out.push_str(&serialize_bare(value));
        }
    }
    out
}

/// Serializes an item with its parameters.
pub(crate) fn serialize_item(item: &Item) -> String {
    serialize_bare(&item.bare) + &serialize_params(&item.params)
}

/// Serializes an inner list with its parameters: `("a" "b");p=1`.
pub(crate) fn serialize_inner_list(items: &[Item], params: &Params) -> String {
    let inner: Vec<String> = items.iter().map(serialize_item).collect();
    format!("({}){}", inner.join(" "), serialize_params(params))
}

/// Whether `s` can be an sf-string: printable ASCII only.
pub(crate) fn is_sf_string(s: &str) -> bool {
    s.bytes().all(|c| (0x20..=0x7e).contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string_item(s: &str) -> Item {
        Item {
            bare: BareItem::String(s.into()),
            params: Vec::new(),
        }
    }

    #[test]
    fn a_signature_input_parses_and_serializes_back() {
        let text = r#"sig-b22=("@authority" "content-digest" "@query-param";name="Pet");created=1618884473;keyid="test-key-rsa-pss";tag="header-example""#;
        let dict = parse_dictionary(text).unwrap();
        assert_eq!(dict.len(), 1);
        let (label, Member::InnerList(items, params)) = &dict[0] else {
            panic!("{dict:?}")
        };
        assert_eq!(label, "sig-b22");
        assert_eq!(items.len(), 3);
        assert_eq!(
            param(&items[2].params, "name"),
            Some(&BareItem::String("Pet".into()))
        );
        assert_eq!(
            param(params, "created"),
            Some(&BareItem::Integer(1618884473))
        );
        let again = format!("{label}={}", serialize_inner_list(items, params));
        assert_eq!(again, text);
    }

    #[test]
    fn dictionaries_of_several_members_with_whitespace() {
        let dict = parse_dictionary("a=:AAEC:,  b=(\"x\");k ,c=?0;d, e=tok/en:1").unwrap();
        let keys: Vec<&str> = dict.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c", "e"]);
        assert_eq!(
            dict[0].1,
            Member::Item(Item {
                bare: BareItem::Bytes(vec![0, 1, 2]),
                params: Vec::new()
            })
        );
        let Member::InnerList(items, params) = &dict[1].1 else {
            panic!()
        };
        assert_eq!(items, &[string_item("x")]);
        assert_eq!(params, &[("k".to_string(), BareItem::Bool(true))]);
        let Member::Item(c) = &dict[2].1 else {
            panic!()
        };
        assert_eq!(c.bare, BareItem::Bool(false));
        assert_eq!(param(&c.params, "d"), Some(&BareItem::Bool(true)));
        assert_eq!(
            dict[3].1,
            Member::Item(Item {
                bare: BareItem::Token("tok/en:1".into()),
                params: vec![]
            })
        );
    }

    #[test]
    fn malformed_dictionaries_are_refused() {
        for bad in [
            "A=1",
            "a=1,",
            "a=1 b=2",
            "a=\"unterminated",
            "a=\"bad\\n\"",
            "a=:AAEC",
            "a=1.5",
            "a=(\"x\"\"y\")",
            "a=?2",
            "a=@",
        ] {
            assert!(parse_dictionary(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn strings_are_escaped_when_serialized() {
        assert_eq!(
            serialize_bare(&BareItem::String(r#"a"b\c"#.into())),
            r#""a\"b\\c""#
        );
        assert_eq!(serialize_bare(&BareItem::Integer(-3)), "-3");
        assert!(is_sf_string("https://example.org/@news#main-key"));
        assert!(!is_sf_string("caf\u{e9}"));
    }
}
