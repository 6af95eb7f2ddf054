//! "Did you mean": the known name nearest to an unknown one, so that a typo in the file
//! or in a `SEEDFEED_*` name is answered with the key that was meant.

/// The candidate nearest to `word` (compared without regard to case), when one is near
/// enough to be a typo of it: at most two edits, or a third of the word for long ones,
/// or the one is the other cut short (`settle` for `settle_ms`). On a tie the first candidate wins, so callers list the likeliest first. Each
/// candidate is the name compared and what to show for it.
pub(super) fn nearest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = (&'a str, String)>,
) -> Option<String> {
    let word = word.to_ascii_lowercase();
    let limit = 2.max(word.chars().count() / 3);
    let mut best: Option<(usize, String)> = None;
    for (name, shown) in candidates {
        let name = name.to_ascii_lowercase();
        let distance = distance(&word, &name);
        let cut_short =
            word.len().min(name.len()) >= 4 && (name.starts_with(&word) || word.starts_with(&name));
        if (distance <= limit || cut_short) && best.as_ref().is_none_or(|(d, _)| distance < *d) {
            best = Some((distance, shown));
        }
    }
    best.map(|(_, shown)| shown)
}

/// The optimal string alignment distance: insertions, deletions, substitutions and
/// swaps of two neighbours (`titel` for `title`) count one edit each.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows of the table: two before this one, for the swaps.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            current[j] = d;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_are_counted_one_each() {
        for (a, b, edits) in [
            ("feed_size", "feed_size", 0),
            ("feed_sise", "feed_size", 1),
            ("feedsize", "feed_size", 1),
            ("titel", "title", 1),
            ("settle", "settle_ms", 3),
            ("", "abc", 3),
            ("abc", "", 3),
            ("ca", "abc", 3),
        ] {
            assert_eq!(distance(a, b), edits, "{a} → {b}");
            assert_eq!(distance(b, a), edits, "{b} → {a}");
        }
    }

    #[test]
    fn the_nearest_name_is_suggested_and_a_far_one_is_not() {
        let names = ["seeds", "feed_size", "settle_ms", "listen"];
        let candidates = || names.iter().map(|n| (*n, format!("`{n}`")));
        assert_eq!(
            nearest("feed_sise", candidates()).as_deref(),
            Some("`feed_size`")
        );
        assert_eq!(
            nearest("FEED_SIZE", candidates()).as_deref(),
            Some("`feed_size`")
        );
        assert_eq!(
            nearest("settle", candidates()).as_deref(),
            Some("`settle_ms`")
        );
        assert_eq!(nearest("port", candidates()), None);
        assert_eq!(nearest("x", candidates()), None);
    }
}
