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

/// The Markdown every writer gets: CommonMark with tables and strikethrough.
const OPTIONS: Options = Options::ENABLE_TABLES.union(Options::ENABLE_STRIKETHROUGH);

/// What an event adds to a document's plain text.
enum Plain<'a> {
    Words(&'a str),
    /// A line break inside a block.
    Space,
    /// The end of a paragraph, heading, list item, code block or table cell.
    BlockEnd,
    Nothing,
}

fn plain<'a>(event: &'a Event) -> Plain<'a> {
    match event {
        Event::Text(t) | Event::Code(t) => Plain::Words(t),
        Event::SoftBreak | Event::HardBreak => Plain::Space,
        Event::End(
            TagEnd::Paragraph
            | TagEnd::Heading(_)
            | TagEnd::Item
            | TagEnd::CodeBlock
            | TagEnd::TableCell,
        ) => Plain::BlockEnd,
        _ => Plain::Nothing,
    }
}

/// Renders Markdown to sanitized HTML and collects the h2/h3 headings.
pub fn render(markdown: &str) -> Rendered {
    let mut events: Vec<Event> = Parser::new_ext(markdown, OPTIONS)
        .filter(|e| !matches!(e, Event::Html(_) | Event::InlineHtml(_)))
        .collect();

    let mut headings: Vec<TocEntry> = Vec::new();
    let mut open_level: Option<HeadingLevel> = None;
    let mut text = String::new();
    for event in events.iter_mut() {
        if text.len() < EXCERPT_CHARS * 4 {
            match plain(event) {
                Plain::Words(t) => text.push_str(t),
                Plain::Space | Plain::BlockEnd => text.push(' '),
                Plain::Nothing => {}
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
        excerpt: excerpt(&text),
    }
}

/// All the text of a document without markup, paragraphs on their own lines, for the search index.
pub fn plain_text(markdown: &str) -> String {
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new_ext(markdown, OPTIONS) {
        match plain(&event) {
            Plain::Words(t) => text.push_str(t),
            Plain::Space => text.push(' '),
            Plain::BlockEnd => text.push('\n'),
            Plain::Nothing => {}
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
    SANITIZER.clean(&bounded_nesting(html)).to_string()
}

/// Elements nested deeper than this are shown at this depth: no document needs more, and the
/// HTML parser under the sanitizer takes time growing with the square of the nesting (a line of
/// 10,000 `* ` in Markdown took half a second, 40,000 nested `<div>` in an imported post two).
const MAX_NESTING: usize = 32;

/// Elements that never hold content, so never nest.
const VOID_ELEMENTS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// Elements whose start closes an open one of the same family, as HTML parsers do (`<li>` after
/// `<li>`): without this a list of unclosed items would look nested.
fn closes_open(name: &str, open: &str) -> bool {
    match name {
        "td" | "th" => matches!(open, "td" | "th"),
        "dt" | "dd" => matches!(open, "dt" | "dd"),
        "li" | "p" | "tr" | "option" => name == open,
        _ => false,
    }
}

/// Elements whose content is text up to their end tag, whatever it holds.
const RAW_TEXT_ELEMENTS: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
];

/// `html` with the start tags opened past `MAX_NESTING` left out, and their end tags; the text
/// inside them stays, in the deepest element shown. It reads tags as an HTML parser does (names
/// up to a space, `/` or `>`; quoted attribute values; `/>` closes only void elements; comments
/// ending at `-->` or `--!>`; raw text up to its end tag), so it never counts less nesting than
/// the sanitizer's parser builds. One pass over the text, a stack of at most `MAX_NESTING` names
/// and a count per left-out name: linear in the length, whatever the input.
fn bounded_nesting(html: &str) -> Cow<'_, str> {
    let mut open: Vec<String> = Vec::new();
    let mut dropped: HashMap<String, usize> = HashMap::new();
    let mut dropped_total = 0usize;
    let mut out: Option<String> = None;
    let mut copied = 0usize;
    let mut at = 0usize;
    while let Some(offset) = html[at..].find('<') {
        let start = at + offset;
        let (end, tag) = tag_at(html, start);
        at = end;
        let Some(HtmlTag { name, closing }) = tag else {
            continue;
        };
        let keep = if closing {
            match dropped.get_mut(&name) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    dropped_total -= 1;
                    false
                }
                _ => {
                    if let Some(pos) = open.iter().rposition(|o| *o == name) {
                        open.truncate(pos);
                    }
                    true
                }
            }
        } else if VOID_ELEMENTS.contains(&name.as_str()) {
            true
        } else {
            if RAW_TEXT_ELEMENTS.contains(&name.as_str()) {
                // Its text is not markup: the next tag is its end tag.
                at = raw_text_end(html, end, &name);
            }
            // Inside a left-out element nothing is a sibling of what is shown.
            if dropped_total == 0 && open.last().is_some_and(|o| closes_open(&name, o)) {
                open.pop();
            }
            if open.len() < MAX_NESTING {
                open.push(name);
                true
            } else {
                *dropped.entry(name).or_default() += 1;
                dropped_total += 1;
                false
            }
        };
        if !keep {
            let buffer = out.get_or_insert_with(|| String::with_capacity(html.len()));
            buffer.push_str(&html[copied..start]);
            copied = end;
        }
    }
    match out {
        None => Cow::Borrowed(html),
        Some(mut buffer) => {
            buffer.push_str(&html[copied..]);
            Cow::Owned(buffer)
        }
    }
}

/// Where the raw text of a `name` element that starts at `from` ends: at its end tag (`</name`
/// in any case), or the end of the input.
fn raw_text_end(html: &str, from: usize, name: &str) -> usize {
    let bytes = html.as_bytes();
    let mut at = from;
    while let Some(offset) = html[at..].find("</") {
        let candidate = at + offset;
        let after = candidate + 2;
        let matches = bytes
            .get(after..after + name.len())
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()));
        let ends = bytes
            .get(after + name.len())
            .is_none_or(|b| b.is_ascii_whitespace() || *b == b'/' || *b == b'>');
        if matches && ends {
            return candidate;
        }
        at = after;
    }
    html.len()
}

struct HtmlTag {
    /// Lowercased, as far as the parser reads it.
    name: String,
    closing: bool,
}

/// The tag starting at `start` (a `<`): where it ends, and what it is if it is an element's
/// start or end tag (comments, doctypes, processing instructions and a `<` that starts nothing
/// are passed over as a parser passes over them).
fn tag_at(html: &str, start: usize) -> (usize, Option<HtmlTag>) {
    let rest = &html[start..];
    let bytes = rest.as_bytes();
    let to_gt = |from: usize| {
        rest[from..]
            .find('>')
            .map_or(html.len(), |e| start + from + e + 1)
    };
    if let Some(comment) = rest.strip_prefix("<!--") {
        // `<!-->` and `<!--->` are whole (empty) comments; otherwise `-->` or `--!>` ends one.
        if comment.starts_with('>') {
            return (start + 5, None);
        }
        if comment.starts_with("->") {
            return (start + 6, None);
        }
        let end = [
            comment.find("-->").map(|e| e + 3),
            comment.find("--!>").map(|e| e + 4),
        ]
        .into_iter()
        .flatten()
        .min();
        return (end.map_or(html.len(), |e| start + 4 + e), None);
    }
    match bytes.get(1) {
        // A doctype or a bogus comment: up to the next `>`.
        Some(b'!' | b'?') => return (to_gt(2), None),
        Some(b'/') if !bytes.get(2).is_some_and(u8::is_ascii_alphabetic) => {
            return (to_gt(2), None);
        }
        Some(b) if b.is_ascii_alphabetic() || *b == b'/' => {}
        // A `<` that starts nothing is text.
        _ => return (start + 1, None),
    }
    let closing = bytes[1] == b'/';
    let name_from = if closing { 2 } else { 1 };
    let name_len = bytes[name_from..]
        .iter()
        .position(|b| b.is_ascii_whitespace() || *b == b'/' || *b == b'>')
        .unwrap_or(bytes.len() - name_from);
    let name = rest[name_from..name_from + name_len].to_ascii_lowercase();
    // The attributes, read as the HTML tokenizer reads them, up to the `>` that ends the tag.
    // `Name` is the tokenizer's attribute name state and its after-name state together: they
    // differ in nothing that decides where the tag ends.
    enum State {
        Between,
        Name,
        BeforeValue,
        Quoted(u8),
        Unquoted,
    }
    let mut state = State::Between;
    for (i, &b) in bytes.iter().enumerate().skip(name_from + name_len) {
        state = match (state, b) {
            (State::Quoted(q), b) if b == q => State::Between,
            (State::Quoted(q), _) => State::Quoted(q),
            (_, b'>') => {
                return (start + i + 1, Some(HtmlTag { name, closing }));
            }
            (State::Between | State::Name, b'/') => State::Between,
            (State::Name, b'=') => State::BeforeValue,
            (State::Name, _) => State::Name,
            (State::Between, b) if b.is_ascii_whitespace() => State::Between,
            // Between attributes, `=` (or anything else) starts a name.
            (State::Between, _) => State::Name,
            (State::BeforeValue, b) if b.is_ascii_whitespace() => State::BeforeValue,
            (State::BeforeValue, b'"' | b'\'') => State::Quoted(b),
            (State::BeforeValue, _) => State::Unquoted,
            (State::Unquoted, b) if b.is_ascii_whitespace() => State::Between,
            (State::Unquoted, _) => State::Unquoted,
        };
    }
    // Unfinished: the parser drops it, with everything after it.
    (html.len(), None)
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
        // Full-width spaces typed around a heading are not part of its entry.
        assert_eq!(render("## 　はじめに　\n").toc[0].text, "はじめに");
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

    /// Dangerous links lose their target; images come only from this site.
    #[test]
    fn only_safe_targets_survive() {
        let cases: [(&str, &[&str], &[&str]); 2] = [
            (
                "[押して](javascript:alert(1)) [data](data:text/html,x) [ok](https://example.jp/)",
                &["javascript:", "data:"],
                &[
                    r#"href="https://example.jp/""#,
                    r#"rel="nofollow noopener noreferrer""#,
                ],
            ),
            (
                "![外](https://tracker.example/p.gif) ![内](/static/a.png) ![proto](//x.example/a.png)",
                &["tracker.example", "x.example"],
                &[r#"src="/static/a.png""#],
            ),
        ];
        for (input, gone, kept) in cases {
            let html = render(input).html;
            for g in gone {
                assert!(!html.contains(g), "{input:?} kept {g:?}: {html}");
            }
            for k in kept {
                assert!(html.contains(k), "{input:?} lost {k:?}: {html}");
            }
        }
    }

    #[test]
    fn headings_cannot_forge_ids() {
        let html = sanitize(r#"<h2 id="main">x</h2><h3 id="sec-2">y</h3>"#);
        assert_eq!(html, r#"<h2>x</h2><h3 id="sec-2">y</h3>"#);
        for forged in ["sec-", "sec-1a", "sec-a", "xsec-1"] {
            assert_eq!(
                sanitize(&format!(r#"<h4 id="{forged}">z</h4>"#)),
                "<h4>z</h4>",
                "{forged}"
            );
        }
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
    fn excerpts_of_many_short_lines_are_full_length_and_words_keep_their_spaces() {
        // Many events, three bytes a character: the excerpt still fills its length.
        let lines = render(&"ふたりの約束です\n".repeat(60));
        assert_eq!(
            lines.excerpt.chars().count(),
            EXCERPT_CHARS + 1,
            "{}",
            lines.excerpt
        );
        // A space only where a non-Japanese word begins or ends.
        assert_eq!(
            render("日本語の文\n\nEnglish words\n\n日本語").excerpt,
            "日本語の文 English words 日本語"
        );
    }

    #[test]
    fn plain_text_keeps_line_breaks_as_spaces_and_table_cells_apart() {
        assert_eq!(plain_text("first\nsecond"), "first second\n");
        assert_eq!(
            plain_text("| 曜日 | 連絡 |\n|---|---|\n| 月 | 昼だけ |"),
            "曜日\n連絡\n月\n昼だけ\n"
        );
    }

    /// The bound reads HTML as a parser does: the end tags of left-out elements are left out
    /// with them, raw text is not markup, and unclosed cells and definitions are siblings.
    #[test]
    fn the_bound_leaves_out_exactly_the_elements_past_the_depth() {
        let deep = |n: usize, inner: &str| "<div>".repeat(n) + inner + &"</div>".repeat(n);
        assert_eq!(
            bounded_nesting(&(deep(40, "奥") + "<p>後</p>")),
            deep(MAX_NESTING, "奥") + "<p>後</p>"
        );
        // Left-out elements of other names lose their end tags too, and no more end tags than
        // were left out: the rest close what is shown.
        let mixed = "<div>".repeat(MAX_NESTING)
            + "<span><b>x</b></span><i>y</i>"
            + &"</div>".repeat(MAX_NESTING);
        assert_eq!(
            bounded_nesting(&mixed),
            "<div>".repeat(MAX_NESTING) + "xy" + &"</div>".repeat(MAX_NESTING)
        );
        // Tags inside raw text do not count; the element after it is still within the depth.
        for raw in ["script", "textarea", "STYLE"] {
            let input = "<div>".repeat(MAX_NESTING - 2)
                + &format!("<{raw}><div><div></div ></{raw} ><i>斜体</i>")
                + &"</div>".repeat(MAX_NESTING - 2);
            assert_eq!(bounded_nesting(&input), input, "{raw}");
        }
        // An end tag that only starts like the raw element's (</scripts>) does not end it.
        let input = "<div>".repeat(MAX_NESTING - 2)
            + "<script></scripts><div></script><i>斜体</i>"
            + &"</div>".repeat(MAX_NESTING - 2);
        assert_eq!(bounded_nesting(&input), input);
        // An unclosed raw element runs to the end: nothing after it is a tag.
        let input = "<div>".repeat(MAX_NESTING - 1) + "<textarea>" + &"<div>".repeat(10);
        assert_eq!(bounded_nesting(&input), input);
        // The raw text ends at its own end tag however it is written, and only there; after
        // it tags count again (the third div past the raw element is past the depth).
        let around = |inner: &str| {
            "<div>".repeat(MAX_NESTING - 2) + inner + &"</div>".repeat(MAX_NESTING - 2)
        };
        for end in [
            "</textarea>",
            "</TEXTAREA >",
            "</textarea/>",
            "</textarea\n>",
        ] {
            let raw = format!("<textarea><div></textareax><div><div><div>{end}");
            assert_eq!(
                bounded_nesting(&around(&format!(
                    "{raw}<div><div><div>深</div></div></div>"
                ))),
                around(&format!("{raw}<div><div>深</div></div>")),
                "{end}"
            );
        }
        // Once the elements left out are closed, unclosed paragraphs are siblings again.
        assert_eq!(
            bounded_nesting(&(deep(40, "奥") + &"<p>段落".repeat(40))),
            deep(MAX_NESTING, "奥") + &"<p>段落".repeat(40)
        );
        for (open, cell) in [
            ("<table><tr>", "<td>欄"),
            ("<table><tr>", "<th>欄"),
            ("<dl>", "<dt>語<dd>意味"),
        ] {
            let input = open.to_owned() + &cell.repeat(50);
            assert_eq!(bounded_nesting(&input), input, "{cell}");
        }
    }

    /// Where each kind of tag ends and what it is, as the HTML tokenizer reads it.
    #[test]
    fn tags_are_read_as_the_html_tokenizer_reads_them() {
        let read = |html: &str| {
            let (end, tag) = tag_at(html, 0);
            (end, tag.map(|t| (t.name, t.closing)))
        };
        // (input, what follows the tag, the element read if any)
        for (html, after, expected) in [
            ("<!DOCTYPE html>本文", "本文", None),
            ("<?xml version=1?>x", "x", None),
            ("</ >x", "x", None),
            ("</3>x", "x", None),
            ("<3 本当", "3 本当", None),
            ("< div>", " div>", None),
            ("<!-->x", "x", None),
            ("<!--->x", "x", None),
            ("<!-- a --!> b", " b", None),
            ("<!-- a --> b --!>", " b --!>", None),
            ("<a title=\"unfinished", "", None),
            ("</DIV>x", "x", Some(("div", true))),
            ("<div/>x", "x", Some(("div", false))),
            ("<br/>x", "x", Some(("br", false))),
            ("<a title=\"x>y\" href=z>t", "t", Some(("a", false))),
            ("<a title='x>y'>t", "t", Some(("a", false))),
            ("<a title=x>y>", "y>", Some(("a", false))),
            ("<a b = \"c>d\">t", "t", Some(("a", false))),
            ("<a b=\"c\"d=\"e>f\">t", "t", Some(("a", false))),
            ("<a b c=\">\">t", "t", Some(("a", false))),
            ("<a\tb\n=\n'>'>t", "t", Some(("a", false))),
            // `=` starts a name here, and a quote inside a name is part of it.
            ("<a =\">\">t", "\">t", Some(("a", false))),
            ("<a b/c=\">\">t", "t", Some(("a", false))),
            // An unquoted value ends at a space, and only there: quotes inside it are its own.
            ("<a x=1 title=\"a>b\">本文", "本文", Some(("a", false))),
            ("<a x=abc=\"q>r\">本文", "r\">本文", Some(("a", false))),
            // A tag the input ends inside is dropped with the rest.
            ("<div", "", None),
            ("</div", "", None),
        ] {
            let expected = (
                html.len() - after.len(),
                expected.map(|(n, c): (&str, bool)| (n.to_owned(), c)),
            );
            assert_eq!(read(html), expected, "{html:?}");
        }
    }

    #[test]
    fn deep_nesting_is_shown_at_a_bounded_depth() {
        let html = render(&(">".repeat(20_000) + " 引用の奥")).html;
        assert_eq!(html.matches("<blockquote>").count(), MAX_NESTING);
        assert_eq!(html.matches("</blockquote>").count(), MAX_NESTING);
        assert!(html.contains("引用の奥"));
        let shallow = render("> 一段\n>> 二段").html;
        assert_eq!(shallow.matches("<blockquote>").count(), 2);

        for deep in [
            "- ".repeat(10_000) + "奥",
            "1. ".repeat(6_000) + "奥",
            "> - ".repeat(5_000) + "奥",
        ] {
            let html = render(&deep).html;
            let opened = html.matches("<ul>").count()
                + html.matches("<ol>").count()
                + html.matches("<li>").count()
                + html.matches("<blockquote>").count();
            assert_eq!(opened, MAX_NESTING, "{}", &html[..200.min(html.len())]);
            assert_eq!(html.matches("</li>").count(), html.matches("<li>").count());
            assert!(html.contains("奥"));
        }
        // Sibling items past the depth stay apart, and what follows is back at the top level.
        let mut nested: String = (0..12)
            .map(|i| format!("{}- 項{i}\n", "  ".repeat(i)))
            .collect();
        nested += &format!("{0}- 甲\n{0}- 乙\n\n段落\n", "  ".repeat(12));
        let html = render(&nested).html;
        assert!(!html.contains("甲乙"), "{html}");
        assert!(html.contains("甲") && html.contains("乙"), "{html}");
        assert!(html.ends_with("<p>段落</p>\n"), "{html}");

        // Imported HTML: unclosed items are siblings, not nesting; attributes may hold a `>`.
        let items = sanitize(&("<ul>".to_owned() + &"<li>項".repeat(100) + "</ul>"));
        assert_eq!(items.matches("<li>").count(), 100, "{items}");
        let divs =
            sanitize(&("<div>".repeat(40_000) + "奥" + &"</div>".repeat(40_000) + "<p>後</p>"));
        assert_eq!(divs, "奥<p>後</p>");
        let quoted = sanitize(r#"<a title="a>b" href="/x">リンク</a>"#);
        assert!(
            quoted.contains(r#"title="a&gt;b""#) && quoted.contains("リンク</a>"),
            "{quoted}"
        );
        let tricky = sanitize("a < b <3 <!-- <div> --> <<p>c</p>");
        assert!(
            tricky.contains("a &lt; b &lt;3") && tricky.contains("<p>c</p>"),
            "{tricky}"
        );
    }
}
