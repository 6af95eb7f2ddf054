//! Byte ranges (RFC 9110 §14): which part of a representation a `Range` header asks for,
//! as a pure decision from the header and the representation's length.

/// What to send for a `Range` header, once its preconditions (`If-Range`) hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranged {
    /// The whole representation, with a 200: no `Range`, or one this server ignores.
    Whole,
    /// One satisfiable range, `first..=last` (both within the representation), with a 206.
    Part { first: u64, last: u64 },
    /// No byte of the representation is in the range: 416.
    Unsatisfiable,
}

/// Decides what a `Range` header (`None` when absent) asks of a representation of
/// `length` bytes (RFC 9110 §14.1.2, §14.2):
///
/// - a unit other than `bytes`, or a range set that does not parse (`5-2`, `x-`,
///   `bytes=`), is ignored: the whole representation (§14.2: a server MAY ignore an
///   invalid ranges-specifier, and MUST ignore a unit it does not know);
/// - several ranges are ignored too (a server MAY ignore `Range`): a multipart answer
///   would be a second framing for the clients that send them, which are few, and a
///   whole answer is what every client handles;
/// - one range: `first-last` and `first-` are satisfiable when `first` is within the
///   representation (`last` past the end is clamped to it, §14.1.2); `-n` is the last
///   `n` bytes (all of them when `n` is larger), satisfiable when `n` is not 0;
/// - an empty representation is sent whole: no range of it can be named in a
///   `Content-Range`.
///
/// Numbers too large for a `u64` are read as `u64::MAX`, which keeps their meaning (a
/// first byte past any end, a last byte clamped, a suffix of everything).
pub fn ranged(header: Option<&str>, length: u64) -> Ranged {
    let Some(header) = header else {
        return Ranged::Whole;
    };
    let Some((unit, set)) = header.trim().split_once('=') else {
        return Ranged::Whole;
    };
    if !unit.eq_ignore_ascii_case("bytes") || length == 0 {
        return Ranged::Whole;
    }
    // A list may carry empty elements (§5.6.1.2): `bytes=0-1,` is one range.
    let mut specs = set.split(',').map(str::trim).filter(|s| !s.is_empty());
    let (Some(spec), None) = (specs.next(), specs.next()) else {
        return Ranged::Whole;
    };
    match parse_spec(spec) {
        Some(Spec::Suffix(0)) => Ranged::Unsatisfiable,
        Some(Spec::Suffix(n)) => Ranged::Part {
            first: length.saturating_sub(n),
            last: length - 1,
        },
        Some(Spec::From { first, .. }) if first >= length => Ranged::Unsatisfiable,
        Some(Spec::From { first, last }) => Ranged::Part {
            first,
            last: last.map_or(length - 1, |last| last.min(length - 1)),
        },
        None => Ranged::Whole,
    }
}

/// The value of `Content-Range` for a part of a representation of `length` bytes
/// (§14.4): `bytes 0-99/1000`.
pub fn content_range(first: u64, last: u64, length: u64) -> String {
    format!("bytes {first}-{last}/{length}")
}

/// The value of `Content-Range` in a 416 (§15.5.17): `bytes */1000`.
pub fn unsatisfied_range(length: u64) -> String {
    format!("bytes */{length}")
}

/// One range-spec of a byte range set (§14.1.2).
#[derive(Debug, PartialEq, Eq)]
enum Spec {
    /// `first-last` or `first-`.
    From { first: u64, last: Option<u64> },
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

fn parse_spec(spec: &str) -> Option<Spec> {
    let (first, last) = spec.split_once('-')?;
    if first.is_empty() {
        return digits(last).map(Spec::Suffix);
    }
    let first = digits(first)?;
    if last.is_empty() {
        return Some(Spec::From { first, last: None });
    }
    let last = digits(last)?;
    // `5-2` is not a range (§14.1.2: an int-range whose last is below its first is
    // invalid).
    (last >= first).then_some(Spec::From {
        first,
        last: Some(last),
    })
}

/// `1*DIGIT` as a number, saturating at `u64::MAX`; `None` for anything else (a sign,
/// a space, nothing).
fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEN: u64 = 1000;

    fn part(first: u64, last: u64) -> Ranged {
        Ranged::Part { first, last }
    }

    #[test]
    fn one_range_in_every_form() {
        for (header, expected) in [
            ("bytes=0-0", part(0, 0)),
            ("bytes=100-199", part(100, 199)),
            ("bytes=100-", part(100, 999)),
            ("bytes=-500", part(500, 999)),
            ("bytes=-5000", part(0, 999)),
            ("bytes=0-", part(0, 999)),
            ("bytes=999-999", part(999, 999)),
            // Past the end, starting inside: clamped.
            ("bytes=900-5000", part(900, 999)),
            ("bytes=900-99999999999999999999999", part(900, 999)),
            // Case and whitespace that the grammar allows around list elements.
            ("Bytes=1-2", part(1, 2)),
            ("bytes= 1-2 ,", part(1, 2)),
            ("bytes=,1-2", part(1, 2)),
        ] {
            assert_eq!(ranged(Some(header), LEN), expected, "{header}");
        }
    }

    #[test]
    fn ranges_no_byte_of_which_exists_are_unsatisfiable() {
        for header in [
            "bytes=1000-",
            "bytes=1000-1000",
            "bytes=5000-6000",
            "bytes=-0",
            "bytes=99999999999999999999999-",
        ] {
            assert_eq!(ranged(Some(header), LEN), Ranged::Unsatisfiable, "{header}");
        }
    }

    #[test]
    fn what_is_ignored_is_answered_whole() {
        for header in [
            "",
            "bytes",
            "bytes=",
            "bytes=,",
            "items=0-1",
            "bytes=5-2",
            "bytes=a-b",
            "bytes=-",
            "bytes=1",
            "bytes=+1-2",
            "bytes=1 -2",
            "bytes=--1",
            // Several ranges.
            "bytes=0-1,5-6",
            "bytes=0-0,-1",
            "bytes=5000-,6000-",
        ] {
            assert_eq!(ranged(Some(header), LEN), Ranged::Whole, "{header:?}");
        }
        assert_eq!(ranged(None, LEN), Ranged::Whole);
        // An empty file has no range to name.
        assert_eq!(ranged(Some("bytes=0-0"), 0), Ranged::Whole);
        assert_eq!(ranged(Some("bytes=-1"), 0), Ranged::Whole);
    }

    #[test]
    fn content_range_values() {
        assert_eq!(content_range(0, 0, 1), "bytes 0-0/1");
        assert_eq!(content_range(500, 999, 1000), "bytes 500-999/1000");
        assert_eq!(unsatisfied_range(1000), "bytes */1000");
    }
}
