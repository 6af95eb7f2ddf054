//! Article text to safe HTML. Every character of the text is escaped, so whatever a file
//! holds (markup, `]]>`, quotes) it reaches a feed reader as text, never as markup.

use crate::model::Article;

/// Escapes the five characters that matter in HTML text and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    push_escaped(&mut out, text);
    out
}

/// Appends `text` to `out` with the five characters of [`escape_html`] escaped. The five
/// are ASCII, so the scan is over bytes, 32 at a time: a block without any of them (most
/// of them) is tested with one vectorized fold and skipped, and the runs between escapes
/// are copied whole: a `push` per character was most of normalize's time.
fn push_escaped(out: &mut String, text: &str) {
    const BLOCK: usize = 32;
    let bytes = text.as_bytes();
    let mut copied = 0;
    for (n, block) in bytes.chunks(BLOCK).enumerate() {
        if !block.iter().fold(false, |seen, &b| seen | needs_escape(b)) {
            continue;
        }
        for (k, &byte) in block.iter().enumerate() {
            if let Some(entity) = entity(byte) {
                let i = n * BLOCK + k;
                // `i` is the index of an ASCII byte, so a char boundary.
                out.push_str(&text[copied..i]);
                out.push_str(entity);
                copied = i + 1;
            }
        }
    }
    out.push_str(&text[copied..]);
}

/// The test of [`entity`] as comparisons only, which the compiler vectorizes.
#[inline]
fn needs_escape(byte: u8) -> bool {
    matches!(byte, b'&' | b'<' | b'>' | b'"' | b'\'')
}

#[inline]
fn entity(byte: u8) -> Option<&'static str> {
    match byte {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'"' => Some("&quot;"),
        b'\'' => Some("&#39;"),
        _ => None,
    }
}

/// Whether plain text would be taken for HTML by a reader that guesses (feedparser, and
/// the W3C validator's warnings): it holds an end tag (`</b>`) or an entity (`&amp;`,
/// `&#39;`). Feeds send such text as escaped HTML, whose meaning no reader mistakes.
pub fn looks_like_html(text: &str) -> bool {
    let word = |rest: &str| {
        rest.char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
            .map_or((rest.len(), None), |(i, c)| (i, Some(c)))
    };
    text.match_indices(['<', '&']).any(|(i, mark)| {
        let rest = &text[i + 1..];
        match mark {
            "<" => rest.strip_prefix('/').is_some_and(|tag| {
                let (len, next) = word(tag);
                len > 0 && next == Some('>')
            }),
            _ => {
                let name = rest.strip_prefix('#').unwrap_or(rest);
                let (len, next) = word(name);
                len > 0 && next == Some(';')
            }
        }
    })
}

/// The entry body: the photo caption (there is no image, only its caption), the
/// paragraphs, and the related stories as a list. An article that is only a title gets
/// its title as the body, so that no reader shows an empty entry (Atom and JSON Feed
/// also ask for content that is not blank).
pub fn content_html(article: &Article) -> String {
    // Room for the text, its markup and a few entities, so the string grows at most once.
    let text_len: usize = article.caption.as_ref().map_or(0, String::len)
        + article.paragraphs.iter().map(String::len).sum::<usize>()
        + article.related.iter().map(String::len).sum::<usize>();
    let blocks = 1 + article.paragraphs.len() + article.related.len();
    let mut html = String::with_capacity(text_len + text_len / 16 + blocks * 16 + 64);
    if let Some(caption) = &article.caption {
        html.push_str("<p><em>");
        push_escaped(&mut html, caption);
        html.push_str("</em></p>\n");
    }
    for paragraph in &article.paragraphs {
        html.push_str("<p>");
        push_escaped(&mut html, paragraph);
        html.push_str("</p>\n");
    }
    if !article.related.is_empty() {
        html.push_str("<p><strong>More from GlobalPost:</strong></p>\n<ul>\n");
        for headline in &article.related {
            html.push_str("<li>");
            push_escaped(&mut html, headline);
            html.push_str("</li>\n");
        }
        html.push_str("</ul>\n");
    }
    if html.is_empty() {
        html.push_str("<p>");
        push_escaped(&mut html, &article.title);
        html.push_str("</p>");
    }
    // Blocks are separated by newlines; none trails (readers trim it anyway).
    html.truncate(html.trim_end().len());
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_looks_like_html() {
        for text in ["<b>Bold</b>", "AT&amp;T", "it&#39;s", "x &#x26; y", "</p>"] {
            assert!(looks_like_html(text), "{text}");
        }
        for text in [
            "Conflict & Justice",
            "Q&A: 5 < 6",
            "<Science>",
            "a </ b>",
            "R&D;",
        ] {
            assert_eq!(looks_like_html(text), text == "R&D;", "{text}");
        }
    }

    #[test]
    fn escaping_matches_the_char_by_char_rule_at_every_offset() {
        let reference = |text: &str| {
            text.chars()
                .map(|c| match c {
                    '&' => "&amp;".to_owned(),
                    '<' => "&lt;".to_owned(),
                    '>' => "&gt;".to_owned(),
                    '"' => "&quot;".to_owned(),
                    '\'' => "&#39;".to_owned(),
                    c => c.to_string(),
                })
                .collect::<String>()
        };
        let filler = "é字 plain text, ".repeat(8);
        for special in ["&", "<", ">", "\"", "'", "&<", "\"'"] {
            for offset in (0..80).filter(|&i| filler.is_char_boundary(i)) {
                let text = format!("{}{special}{}", &filler[..offset], &filler[offset..]);
                assert_eq!(escape_html(&text), reference(&text), "{text:?}");
            }
        }
    }

    #[test]
    fn every_markup_character_is_escaped() {
        let article = Article {
            title: "t".into(),
            caption: Some("<img src=x onerror=alert(1)>".into()),
            paragraphs: vec!["a ]]> b & 'c' \"d\"".into()],
            related: vec!["</ul><script>".into()],
            ..Article::default()
        };
        let html = content_html(&article);
        assert_eq!(
            html,
            "<p><em>&lt;img src=x onerror=alert(1)&gt;</em></p>\n\
             <p>a ]]&gt; b &amp; &#39;c&#39; &quot;d&quot;</p>\n\
             <p><strong>More from GlobalPost:</strong></p>\n<ul>\n\
             <li>&lt;/ul&gt;&lt;script&gt;</li>\n</ul>"
        );
    }
}
