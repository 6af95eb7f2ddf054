//! Article text to safe HTML. Every character of the text is escaped, so whatever a file
//! holds (markup, `]]>`, quotes) it reaches a feed reader as text, never as markup.

use crate::model::Article;

/// Escapes the five characters that matter in HTML text and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
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
    let mut html = String::new();
    if let Some(caption) = &article.caption {
        html.push_str("<p><em>");
        html.push_str(&escape_html(caption));
        html.push_str("</em></p>\n");
    }
    for paragraph in &article.paragraphs {
        html.push_str("<p>");
        html.push_str(&escape_html(paragraph));
        html.push_str("</p>\n");
    }
    if !article.related.is_empty() {
        html.push_str("<p><strong>More from GlobalPost:</strong></p>\n<ul>\n");
        for headline in &article.related {
            html.push_str("<li>");
            html.push_str(&escape_html(headline));
            html.push_str("</li>\n");
        }
        html.push_str("</ul>\n");
    }
    if html.is_empty() {
        html.push_str("<p>");
        html.push_str(&escape_html(&article.title));
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
