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

/// The entry body: the photo caption (there is no image, only its caption), the
/// paragraphs, and the related stories as a list.
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
    // Blocks are separated by newlines; none trails (readers trim it anyway).
    html.truncate(html.trim_end().len());
    html
}

#[cfg(test)]
mod tests {
    use super::*;

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
