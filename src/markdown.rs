//! Markdown → safe HTML, done once when content is written.
//!
//! pulldown-cmark renders; raw HTML in the source is dropped before rendering; ammonia then
//! cleans the result against an explicit allow-list, so nothing a writer types can run script,
//! load from another host or style the page.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};

/// One heading of a document, for its table of contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TocEntry {
    /// 2 or 3.
    pub level: u8,
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    pub toc: Vec<TocEntry>,
    /// The opening words as plain text, for listings.
    pub excerpt: String,
}

/// Characters of plain text kept for a listing's excerpt.
pub const EXCERPT_CHARS: usize = 120;

const HEADING_ID_PREFIX: &str = "sec-";

/// Renders Markdown to sanitized HTML and collects the h2/h3 headings.
/// Quotes nested deeper than this are shown at this depth: no one writes more, and 20,000 nested
/// quotes (one line of `>`) took a second to render.
const MAX_QUOTE_DEPTH: usize = 8;

pub fn render(markdown: &str) -> Rendered {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut depth = 0usize;
    let mut events: Vec<Event> = Parser::new_ext(markdown, options)
        .filter(|e| match e {
            Event::Html(_) | Event::InlineHtml(_) => false,
            Event::Start(Tag::BlockQuote(_)) => {
                depth += 1;
                depth <= MAX_QUOTE_DEPTH
            }
            Event::End(TagEnd::BlockQuote(_)) => {
                depth = depth.saturating_sub(1);
                depth < MAX_QUOTE_DEPTH
            }
            _ => true,
        })
        .collect();

    let mut headings: Vec<TocEntry> = Vec::new();
    let mut open_level: Option<HeadingLevel> = None;
    let mut plain = String::new();
    for event in events.iter_mut() {
        if plain.len() < EXCERPT_CHARS * 4 {
            match event {
                Event::Text(t) | Event::Code(t) => plain.push_str(t),
                Event::End(
                    TagEnd::Paragraph
                    | TagEnd::Heading(_)
                    | TagEnd::Item
                    | TagEnd::CodeBlock
                    | TagEnd::TableCell,
                )
                | Event::SoftBreak
                | Event::HardBreak => plain.push(' '),
                _ => {}
            }
        }
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                // The page title is the h1; a writer's headings start at h2.
                let level = match level {
                    HeadingLevel::H1 | HeadingLevel::H2 => HeadingLevel::H2,
                    HeadingLevel::H3 => HeadingLevel::H3,
                    _ => HeadingLevel::H4,
                };
                let id = format!("{HEADING_ID_PREFIX}{}", headings.len() + 1);
                headings.push(TocEntry {
                    level: level as u8,
                    id: id.clone(),
                    text: String::new(),
                });
                open_level = Some(level);
                *event = Event::Start(Tag::Heading {
                    level,
                    id: Some(CowStr::from(id)),
                    classes: vec![],
                    attrs: vec![],
                });
            }
            Event::End(TagEnd::Heading(level)) => {
                if let Some(open) = open_level.take() {
                    *level = open;
                }
            }
            Event::Text(t) | Event::Code(t) if open_level.is_some() => {
                if let Some(entry) = headings.last_mut() {
                    entry.text.push_str(t);
                }
            }
            _ => {}
        }
    }
    // Ids are numbered over all headings; only h2 and h3 go into the table of contents.
    let toc = headings
        .into_iter()
        .filter(|e| e.level <= 3)
        .map(|e| TocEntry {
            text: e.text.trim().to_owned(),
            ..e
        })
        .collect();

    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    Rendered {
        html: sanitize(&html),
        toc,
        excerpt: excerpt(&plain),
    }
}

/// All the text of a document without markup, paragraphs on their own lines, for the search index.
pub fn plain_text(markdown: &str) -> String {
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    ) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableCell,
            ) => text.push('\n'),
            _ => {}
        }
    }
    text
}

fn excerpt(plain: &str) -> String {
    // Japanese runs on without spaces: a space is kept only where a non-Japanese word ends or starts.
    let mut words = String::with_capacity(plain.len());
    for word in plain.split_whitespace() {
        let joins_japanese = words.chars().last().is_some_and(|c| !c.is_ascii())
            && word.chars().next().is_some_and(|c| !c.is_ascii());
        if !words.is_empty() && !joins_japanese {
            words.push(' ');
        }
        words.push_str(word);
    }
    if words.chars().count() <= EXCERPT_CHARS {
        words
    } else {
        let mut cut: String = words.chars().take(EXCERPT_CHARS).collect();
        cut.push('…');
        cut
    }
}

/// Cleans HTML from any source (rendered Markdown, imported posts) against the allow-list.
pub fn sanitize(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let tags: HashSet<&str> = [
        "p",
        "br",
        "hr",
        "h2",
        "h3",
        "h4",
        "ul",
        "ol",
        "li",
        "blockquote",
        "em",
        "strong",
        "del",
        "code",
        "pre",
        "a",
        "img",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    ]
    .into();
    let tag_attributes: HashMap<&str, HashSet<&str>> = [
        ("a", ["href", "title"].into()),
        ("img", ["src", "alt", "title"].into()),
        ("h2", ["id"].into()),
        ("h3", ["id"].into()),
        ("h4", ["id"].into()),
        ("ol", ["start"].into()),
        ("th", ["align"].into()),
        ("td", ["align"].into()),
    ]
    .into();
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(tags)
        .tag_attributes(tag_attributes)
        .clean_content_tags(["script", "style", "iframe", "object", "template"].into())
        .url_schemes(["http", "https", "mailto"].into())
        .url_relative(ammonia::UrlRelative::PassThrough)
        .link_rel(Some("nofollow noopener noreferrer"))
        .strip_comments(true)
        .attribute_filter(filter_attribute);
    builder
});

fn filter_attribute<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    match (element, attribute) {
        // Images only from this site: another host would learn who reads which story.
        ("img", "src") => {
            (value.starts_with('/') && !value.starts_with("//") && !value.contains('\\'))
                .then_some(Cow::Borrowed(value))
        }
        ("h2" | "h3" | "h4", "id") => value
            .strip_prefix(HEADING_ID_PREFIX)
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .map(|_| Cow::Borrowed(value)),
        _ => Some(Cow::Borrowed(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_get_ids_and_a_table_of_contents() {
        let r = render("# はじめに\n\n本文\n\n### ルールの決め方\n\n#### 細目\n");
        assert!(
            r.html.contains(r#"<h2 id="sec-1">はじめに</h2>"#),
            "{}",
            r.html
        );
        assert!(
            r.html.contains(r#"<h3 id="sec-2">ルールの決め方</h3>"#),
            "{}",
            r.html
        );
        assert!(r.html.contains(r#"<h4 id="sec-3">細目</h4>"#), "{}", r.html);
        assert_eq!(
            r.toc,
            vec![
                TocEntry {
                    level: 2,
                    id: "sec-1".into(),
                    text: "はじめに".into()
                },
                TocEntry {
                    level: 3,
                    id: "sec-2".into(),
                    text: "ルールの決め方".into()
                },
            ]
        );
    }

    #[test]
    fn excerpts_are_plain_and_short() {
        let r = render("## 見出し\n\n**太字**の<b>本文</b>です。\n\n");
        assert_eq!(r.excerpt, "見出し太字の本文です。");
        assert_eq!(render("Love is\n\nkind.").excerpt, "Love is kind.");
        let long = render(&"あ".repeat(500));
        assert_eq!(long.excerpt.chars().count(), EXCERPT_CHARS + 1);
        assert!(long.excerpt.ends_with('…'));
    }

    #[test]
    fn plain_text_keeps_every_word_and_drops_markup() {
        let text =
            plain_text("## 見出し\n\n**太字**と[リンク](https://x.example)。<b>生</b>\n\n- 項目");
        assert_eq!(text, "見出し\n太字とリンク。生\n項目\n");
    }

    #[test]
    fn raw_html_never_passes() {
        for input in [
            "<script>alert(1)</script>",
            "前<img src=x onerror=alert(1)>後",
            "<iframe src=//evil.example></iframe>",
            "<div onclick=alert(1)>x</div>",
            "<style>body{display:none}</style>",
            "<!-- comment --><b>bold</b>",
        ] {
            let html = render(input).html;
            for bad in [
                "<script", "onerror", "<iframe", "onclick", "<style", "<!--", "<b>", "<div",
            ] {
                assert!(!html.contains(bad), "{input:?} gave {html:?}");
            }
        }
    }

    #[test]
    fn dangerous_links_lose_their_target() {
        let html = render(
            "[押して](javascript:alert(1)) [data](data:text/html,x) [ok](https://example.jp/)",
        )
        .html;
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("data:"), "{html}");
        assert!(html.contains(r#"href="https://example.jp/""#), "{html}");
        assert!(
            html.contains(r#"rel="nofollow noopener noreferrer""#),
            "{html}"
        );
    }

    #[test]
    fn images_only_from_this_site() {
        let html = render(
            "![外](https://tracker.example/p.gif) ![内](/static/a.png) ![proto](//x.example/a.png)",
        )
        .html;
        assert!(!html.contains("tracker.example"), "{html}");
        assert!(!html.contains("x.example"), "{html}");
        assert!(html.contains(r#"src="/static/a.png""#), "{html}");
    }

    #[test]
    fn headings_cannot_forge_ids() {
        let html = sanitize(r#"<h2 id="main">x</h2><h3 id="sec-2">y</h3>"#);
        assert_eq!(html, r#"<h2>x</h2><h3 id="sec-2">y</h3>"#);
    }

    #[test]
    fn lists_tables_and_emphasis_survive() {
        let html = render("- 一\n- 二\n\n|a|b|\n|-|-|\n|1|2|\n\n**強く** ~~消す~~").html;
        for ok in [
            "<ul>",
            "<li>一</li>",
            "<table>",
            "<td>1</td>",
            "<strong>強く</strong>",
            "<del>消す</del>",
        ] {
            assert!(html.contains(ok), "{ok} missing in {html}");
        }
    }

    #[test]
    fn deep_quotes_are_shown_at_a_bounded_depth() {
        let html = render(&(">".repeat(20_000) + " 引用の奥")).html;
        assert_eq!(html.matches("<blockquote>").count(), MAX_QUOTE_DEPTH);
        assert_eq!(html.matches("</blockquote>").count(), MAX_QUOTE_DEPTH);
        assert!(html.contains("引用の奥"));
        let shallow = render("> 一段\n>> 二段").html;
        assert_eq!(shallow.matches("<blockquote>").count(), 2);
    }
}
