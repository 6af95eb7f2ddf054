//! The bodies of Markdown and HTML articles: the HTML, the title a body gives, the
//! excerpt before `<!-- more -->`, the first paragraph, and what an HTML document's head
//! says. Tables of named cases, the way Hugo, Jekyll and Obsidian users and CMS exports
//! write them.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use chrono::{DateTime, Utc};
use seedfeed::model::{HtmlBody, Person};
use seedfeed::parse::{html_document, markdown_body};

/// One case of a body: the text, and what reading it must give.
struct Case {
    name: &'static str,
    text: &'static str,
    title: Option<&'static str>,
    html: &'static str,
    excerpt: Option<&'static str>,
    first_paragraph: Option<&'static str>,
}

impl Case {
    /// Asks that a body read from the case's text is what the case says.
    fn check(&self, title: Option<&str>, body: &HtmlBody) {
        assert_eq!(title, self.title, "{}: title", self.name);
        assert_eq!(body.html, self.html, "{}: html", self.name);
        assert_eq!(
            body.excerpt.as_deref(),
            self.excerpt,
            "{}: excerpt",
            self.name
        );
        assert_eq!(
            body.first_paragraph.as_deref(),
            self.first_paragraph,
            "{}: first paragraph",
            self.name
        );
    }
}

const MARKDOWN: &[Case] = &[
    Case {
        name: "a leading ATX heading is the title",
        text: "# Mali: countercoup *attempted*\n\nSoldiers loyal to the junta.\n",
        title: Some("Mali: countercoup attempted"),
        html: "<p>Soldiers loyal to the junta.</p>\n",
        excerpt: None,
        first_paragraph: Some("Soldiers loyal to the junta."),
    },
    Case {
        name: "a leading Setext heading is the title",
        text: "Mali\n====\n\nText.\n",
        title: Some("Mali"),
        html: "<p>Text.</p>\n",
        excerpt: None,
        first_paragraph: Some("Text."),
    },
    Case {
        name: "a heading after a paragraph stays",
        text: "Intro.\n\n# Heading\n",
        title: None,
        html: "<p>Intro.</p>\n<h1>Heading</h1>\n",
        excerpt: None,
        first_paragraph: Some("Intro."),
    },
    Case {
        name: "a level-2 heading first stays",
        text: "## Sub\n\nText.\n",
        title: None,
        html: "<h2>Sub</h2>\n<p>Text.</p>\n",
        excerpt: None,
        first_paragraph: Some("Text."),
    },
    Case {
        name: "an empty heading is no title",
        text: "#\n\nText.\n",
        title: None,
        html: "<h1></h1>\n<p>Text.</p>\n",
        excerpt: None,
        first_paragraph: Some("Text."),
    },
    Case {
        name: "the more marker ends the excerpt and leaves the body",
        text: "# T\n\nFirst *para*.\n\nSecond\nline.\n\n<!-- more -->\n\nRest.\n",
        title: Some("T"),
        html: "<p>First <em>para</em>.</p>\n<p>Second\nline.</p>\n<p>Rest.</p>\n",
        excerpt: Some("First para. Second line."),
        first_paragraph: Some("First para."),
    },
    Case {
        name: "Hugo's spelling, right under a paragraph",
        text: "Lead.\n<!--more-->\nRest.\n",
        title: None,
        html: "<p>Lead.</p>\n<p>Rest.</p>\n",
        excerpt: Some("Lead."),
        first_paragraph: Some("Lead."),
    },
    Case {
        name: "any case, any spaces",
        text: "Lead.\n\n<!--   MORE -->\n\nRest.\n\n<!-- more -->\n",
        title: None,
        html: "<p>Lead.</p>\n<p>Rest.</p>\n",
        excerpt: Some("Lead."),
        first_paragraph: Some("Lead."),
    },
    Case {
        name: "a marker in a code block is code",
        text: "```\n<!-- more -->\n```\n",
        title: None,
        html: "<pre><code>&lt;!-- more --&gt;\n</code></pre>\n",
        excerpt: None,
        first_paragraph: None,
    },
    Case {
        name: "other comments are left for the sanitizer",
        text: "A.\n\n<!-- more than this -->\n",
        title: None,
        html: "<p>A.</p>\n<!-- more than this -->\n",
        excerpt: None,
        first_paragraph: Some("A."),
    },
    Case {
        name: "the first paragraph is not a quote's, a list's or an image's",
        text: "> Epigraph.\n\n- item\n\n![alt text](photo.jpg)\n\nThe *real* [first](x.html) one.[^1]\n\n[^1]: Note.\n",
        title: None,
        html: "<blockquote>\n<p>Epigraph.</p>\n</blockquote>\n<ul>\n<li>item</li>\n</ul>\n\
               <p><img src=\"photo.jpg\" alt=\"alt text\" /></p>\n\
               <p>The <em>real</em> <a href=\"x.html\">first</a> one.<sup class=\"footnote-reference\"><a href=\"#1\">1</a></sup></p>\n\
               <div class=\"footnote-definition\" id=\"1\"><sup class=\"footnote-definition-label\">1</sup>\n<p>Note.</p>\n</div>\n",
        excerpt: None,
        first_paragraph: Some("The real first one."),
    },
    Case {
        name: "raw HTML's text is text, its script is not",
        text: "Before.\n\n<div>Inside <b>bold</b></div>\n\n<script>\nalert(1)\n</script>\n\n<!-- more -->\n",
        title: None,
        html: "<p>Before.</p>\n<div>Inside <b>bold</b></div>\n<script>\nalert(1)\n</script>\n",
        excerpt: Some("Before. Inside bold"),
        first_paragraph: Some("Before."),
    },
    Case {
        name: "a thematic break is not front matter",
        text: "---\n\nText.\n",
        title: None,
        html: "<hr />\n<p>Text.</p>\n",
        excerpt: None,
        first_paragraph: Some("Text."),
    },
];

#[test]
fn markdown_bodies() {
    for case in MARKDOWN {
        let md = markdown_body(case.text);
        case.check(md.title.as_deref(), &md.body);
    }
}

#[test]
fn markdown_extensions() {
    let html = markdown_body("| a |\n|---|\n| 1 |\n\n~~x~~\n\n- [x] done\n")
        .body
        .html;
    assert!(html.contains("<table>"), "{html}");
    assert!(html.contains("<del>x</del>"), "{html}");
    assert!(html.contains("type=\"checkbox\" checked=\"\""), "{html}");
}

/// A megabyte on one line, NUL bytes and deep nesting: parsed, in full, without a panic.
#[test]
fn hostile_markdown() {
    let line = "word *em* ".repeat(100 * 1024);
    let md = markdown_body(&line);
    assert_eq!(md.body.html.matches("<em>").count(), 100 * 1024);
    assert_eq!(
        md.body.first_paragraph.map(|p| p.len()),
        Some(line.trim_end().len() - 2 * 100 * 1024)
    );

    let md = markdown_body("# a\0b\n\nc\0d\n");
    assert_eq!(md.title.as_deref(), Some("a\u{fffd}b"));
    // The sanitizer replaces the NUL in the HTML (tests/sanitize.rs).
    assert_eq!(md.body.html, "<p>c\0d</p>\n");

    for text in [
        "[".repeat(100_000),
        "> ".repeat(10_000) + "x",
        "*a ".repeat(50_000),
        "<".repeat(100_000),
    ] {
        let md = markdown_body(&text);
        assert!(!md.body.html.is_empty());
    }
}

const HTML: &[Case] = &[
    Case {
        name: "a fragment",
        text: "<p>One &amp; <em>two</em>.</p>\n<p>Three.</p>",
        title: None,
        html: "<p>One &amp; <em>two</em>.</p>\n<p>Three.</p>",
        excerpt: None,
        first_paragraph: Some("One & two."),
    },
    Case {
        name: "a fragment that opens with its heading",
        text: "\n<h1>The <i>title</i></h1>\n<p>Body.</p>\n",
        title: Some("The title"),
        html: "\n<p>Body.</p>\n",
        excerpt: None,
        first_paragraph: Some("Body."),
    },
    Case {
        name: "a heading further down is the title, and stays",
        text: "<p>Lead.</p><h1>Heading</h1>",
        title: Some("Heading"),
        html: "<p>Lead.</p><h1>Heading</h1>",
        excerpt: None,
        first_paragraph: Some("Lead."),
    },
    Case {
        name: "a document: its body",
        text: "<!DOCTYPE html>\n<html><head><title>Page</title><style>p{}</style></head>\n<body class=\"x\"><p>Text.</p><script>alert(1)</script></body></html>\n",
        title: Some("Page"),
        html: "<p>Text.</p>\n",
        excerpt: None,
        first_paragraph: Some("Text."),
    },
    Case {
        name: "a document without body tags",
        text: "<html><head><title>Page</title><meta charset=\"utf-8\"></head>\n<p>Text.</p>",
        title: Some("Page"),
        html: "<p>Text.</p>",
        excerpt: None,
        first_paragraph: Some("Text."),
    },
    Case {
        name: "a document: its first article, not the page around it",
        text: "<html><head><title>Post | Blog</title></head><body><nav><a href=\"/\">Home</a></nav>\
               <article><h1>Post</h1><p>Body.</p><article><p>Quoted.</p></article></article>\
               <article><p>Another.</p></article><footer>(c)</footer></body></html>",
        title: Some("Post"),
        html: "<p>Body.</p><article><p>Quoted.</p></article>",
        excerpt: None,
        first_paragraph: Some("Body."),
    },
    Case {
        name: "a title of its own keeps the heading",
        text: "<html><head><title>Site news</title></head><body><h1>Other</h1><p>x</p></body></html>",
        title: Some("Site news"),
        html: "<h1>Other</h1><p>x</p>",
        excerpt: None,
        first_paragraph: Some("x"),
    },
    Case {
        name: "the more marker",
        text: "<p>Lead <b>in</b>.</p><!-- more --><p>Rest.</p><!-- other -->",
        title: None,
        html: "<p>Lead <b>in</b>.</p><p>Rest.</p>",
        excerpt: Some("Lead in."),
        first_paragraph: Some("Lead in."),
    },
    Case {
        name: "the first paragraph is not a quote's",
        text: "<blockquote><p>Quote.</p></blockquote><div><p></p><p>Real.</p></div>",
        title: None,
        html: "<blockquote><p>Quote.</p></blockquote><div><p></p><p>Real.</p></div>",
        excerpt: None,
        first_paragraph: Some("Real."),
    },
    Case {
        name: "what is not markup is left out; a noscript's markup is kept",
        text: "<p>a</p><style>x</style><iframe>y</iframe><textarea>z</textarea><noscript><p>n</p></noscript><title>t</title>",
        title: None,
        html: "<p>a</p><p>n</p>",
        excerpt: None,
        first_paragraph: Some("a"),
    },
];

#[test]
fn html_bodies() {
    for case in HTML {
        let doc = html_document(case.text);
        case.check(doc.title.as_deref(), &doc.body);
    }
}

fn date(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

#[test]
fn the_head_is_a_fallback_for_the_front_matter() {
    let doc = html_document(
        r#"<!DOCTYPE html>
<html lang="fr-CA">
<head>
  <meta charset="utf-8">
  <title>Le titre</title>
  <meta name="description" content=" A summary &amp; more. ">
  <meta name="author" content="Ana Lima">
  <meta name="Author" content="Bo Chen">
  <meta name="keywords" content="mali, coup , ,Africa,mali">
  <meta property="article:tag" content="Sahel">
  <meta property="article:published_time" content="2024-03-01T08:30:00+01:00">
  <meta property="article:modified_time" content="2024-03-02">
  <meta property="og:image" content="/img/cover.jpg">
  <meta property="og:image:alt" content="A cover">
  <meta property="og:title" content="Ignored">
  <link rel="canonical" href="https://elsewhere.example/post">
  <noscript><img src="https://tracker.example/pixel.gif"></noscript>
</head>
<body><p>Text.</p></body>
</html>"#,
    );
    let front = doc.front;
    assert_eq!(doc.title.as_deref(), Some("Le titre"));
    assert_eq!(front.summary.as_deref(), Some("A summary & more."));
    let person = |name: &str| Person {
        name: name.into(),
        ..Person::default()
    };
    assert_eq!(front.authors, vec![person("Ana Lima"), person("Bo Chen")]);
    assert_eq!(front.tags, ["mali", "coup", "Africa", "Sahel"]);
    assert_eq!(front.published, Some(date("2024-03-01T07:30:00Z")));
    assert_eq!(front.updated, Some(date("2024-03-02T00:00:00Z")));
    assert_eq!(front.image.as_deref(), Some("/img/cover.jpg"));
    assert_eq!(front.image_alt.as_deref(), Some("A cover"));
    assert_eq!(front.lang.as_deref(), Some("fr-CA"));
    assert_eq!(
        front.link, None,
        "a canonical link is the page's own address"
    );
    assert_eq!(
        front.title, None,
        "the title is the document's, not the front matter's"
    );
    assert_eq!(doc.body.html, "<p>Text.</p>\n");
}

#[test]
fn a_fragment_has_no_front() {
    let doc = html_document("<p>x</p>");
    assert!(doc.front.is_empty());
    // A date that is none of the forms is no date.
    let doc =
        html_document(r#"<meta property="article:published_time" content="yesterday"><p>x</p>"#);
    assert_eq!(doc.front.published, None);
    assert_eq!(doc.body.html, "<p>x</p>");
}

/// A megabyte on one line and NUL bytes: read in full, without a panic.
#[test]
fn hostile_html() {
    let line = "<p>word <b>bold</b></p>".repeat(40 * 1024);
    let doc = html_document(&line);
    assert_eq!(doc.body.html, line);
    assert_eq!(doc.body.first_paragraph.as_deref(), Some("word bold"));

    let doc = html_document("<title>a\0b</title><p>c\0d</p>");
    assert_eq!(doc.title.as_deref(), Some("a\u{fffd}b"));
    assert!(!doc.body.html.contains('\0'));

    let deep = "<div>".repeat(100_000) + "x";
    assert!(html_document(&deep).body.html.ends_with('x'));
    assert_eq!(html_document("").body.html, "");
    assert_eq!(
        html_document("<html><head></head><body></body></html>").title,
        None
    );
}
