//! Turns sanitized HTML (from an imported WordPress post) into Markdown, so that an imported guide
//! can be edited like any other. It reads the output of `markdown::sanitize`, which only holds the
//! allow-listed tags, well formed; anything else it meets is kept as plain text.

/// Markdown for sanitized HTML.
pub fn to_markdown(html: &str) -> String {
    let mut out = Writer::default();
    let mut rest = html;
    while !rest.is_empty() {
        match rest.find('<') {
            Some(0) => match rest.find('>') {
                Some(end) => {
                    out.tag(&rest[1..end]);
                    rest = &rest[end + 1..];
                }
                None => {
                    out.text(rest);
                    rest = "";
                }
            },
            Some(i) => {
                out.text(&rest[..i]);
                rest = &rest[i..];
            }
            None => {
                out.text(rest);
                rest = "";
            }
        }
    }
    out.finish()
}

#[derive(Default)]
struct Writer {
    /// Open blockquotes each collect their own text, prefixed with "> " when they close.
    stack: Vec<String>,
    out: String,
    lists: Vec<Option<u32>>,
    links: Vec<String>,
    pre: bool,
}

fn attr(tag: &str, name: &str) -> String {
    let key = format!("{name}=\"");
    tag.find(&key)
        .and_then(|i| tag[i + key.len()..].split('"').next())
        .map(unescape)
        .unwrap_or_default()
}

pub(super) fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// Text with the characters Markdown would read as markup escaped.
fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '*' | '_' | '`' | '[' | ']' | '#' => {
                s.push('\\');
                s.push(c);
            }
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '&' => s.push_str("&amp;"),
            _ => s.push(c),
        }
    }
    s
}

impl Writer {
    fn buf(&mut self) -> &mut String {
        self.stack.last_mut().unwrap_or(&mut self.out)
    }

    fn blank_line(&mut self) {
        let buf = self.buf();
        let trimmed = buf.trim_end_matches([' ', '\n']).len();
        buf.truncate(trimmed);
        if !buf.is_empty() {
            buf.push_str("\n\n");
        }
    }

    fn text(&mut self, raw: &str) {
        let text = unescape(raw);
        if self.pre {
            self.buf().push_str(&text);
            return;
        }
        // Classic WordPress posts separate paragraphs with blank lines instead of <p>.
        let paragraphs: Vec<String> = text
            .split("\n\n")
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        for (i, p) in paragraphs.iter().enumerate() {
            if i > 0 {
                self.blank_line();
            }
            if !p.is_empty() {
                let needs_space = raw.starts_with(char::is_whitespace)
                    && self
                        .buf()
                        .chars()
                        .last()
                        .is_some_and(|c| !c.is_whitespace());
                if needs_space {
                    self.buf().push(' ');
                }
                let escaped = escape(p);
                self.buf().push_str(&escaped);
            }
        }
    }

    fn tag(&mut self, tag: &str) {
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        match (name.as_str(), closing) {
            ("p", _) | ("table", _) => self.blank_line(),
            ("h2", false) => self.heading("## "),
            ("h3", false) => self.heading("### "),
            ("h4", false) => self.heading("#### "),
            ("h2" | "h3" | "h4", true) => self.blank_line(),
            ("br", _) => self.buf().push_str("  \n"),
            ("hr", _) => {
                self.blank_line();
                self.buf().push_str("---");
                self.blank_line();
            }
            ("strong", _) => self.buf().push_str("**"),
            ("em", _) => self.buf().push('*'),
            ("del", _) => self.buf().push_str("~~"),
            ("code", _) if !self.pre => self.buf().push('`'),
            ("pre", false) => {
                self.blank_line();
                self.buf().push_str("```\n");
                self.pre = true;
            }
            ("pre", true) => {
                self.pre = false;
                self.buf().push_str("\n```");
                self.blank_line();
            }
            ("ul", false) => self.open_list(None),
            ("ol", false) => self.open_list(Some(1)),
            ("ul" | "ol", true) => {
                self.lists.pop();
                if self.lists.is_empty() {
                    self.blank_line();
                }
            }
            ("li", false) => {
                let depth = self.lists.len().saturating_sub(1);
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let m = format!("{n}. ");
                        *n += 1;
                        m
                    }
                    _ => "- ".to_owned(),
                };
                let buf = self.buf();
                let trimmed = buf.trim_end_matches(' ').len();
                buf.truncate(trimmed);
                if !buf.is_empty() && !buf.ends_with('\n') {
                    buf.push('\n');
                }
                buf.push_str(&"  ".repeat(depth));
                buf.push_str(&marker);
            }
            ("blockquote", false) => {
                self.blank_line();
                self.stack.push(String::new());
            }
            ("blockquote", true) => {
                let inner = self.stack.pop().unwrap_or_default();
                let quoted: Vec<String> = inner
                    .trim()
                    .lines()
                    .map(|l| format!("> {l}").trim_end().to_owned())
                    .collect();
                self.buf().push_str(&quoted.join("\n"));
                self.blank_line();
            }
            ("a", false) => {
                self.links.push(attr(tag, "href"));
                self.buf().push('[');
            }
            ("a", true) => {
                let href = self.links.pop().unwrap_or_default();
                self.buf().push_str(&format!("]({href})"));
            }
            ("img", _) => {
                let (src, alt) = (attr(tag, "src"), attr(tag, "alt"));
                if !src.is_empty() {
                    self.buf().push_str(&format!("![{}]({src})", escape(&alt)));
                }
            }
            ("td" | "th", true) => self.buf().push_str(" | "),
            ("tr", true) => self.buf().push('\n'),
            _ => {}
        }
    }

    fn heading(&mut self, marker: &str) {
        self.blank_line();
        self.buf().push_str(marker);
    }

    fn open_list(&mut self, start: Option<u32>) {
        if self.lists.is_empty() {
            self.blank_line();
        }
        self.lists.push(start);
    }

    fn finish(mut self) -> String {
        while let Some(inner) = self.stack.pop() {
            self.out.push_str(&inner);
        }
        self.out.trim().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markdown::{render, sanitize};

    fn md(html: &str) -> String {
        to_markdown(&sanitize(html))
    }

    #[test]
    fn blocks_become_markdown() {
        let html = "<!-- wp:heading --><h2>はじめに</h2><!-- /wp:heading -->\n<!-- wp:paragraph --><p>本文の<strong>大事</strong>なところ。</p><!-- /wp:paragraph --><ul><li>一つ目</li><li>二つ目</li></ul><ol><li>手順</li></ol><blockquote><p>引用です。</p></blockquote>";
        assert_eq!(
            md(html),
            "## はじめに\n\n本文の**大事**なところ。\n\n- 一つ目\n- 二つ目\n\n1. 手順\n\n> 引用です。"
        );
    }

    #[test]
    fn links_images_and_classic_paragraphs() {
        let html = "一段落目です。\n\n二段落目に<a href=\"https://example.jp/a?b=1&amp;c=2\">リンク</a>。<img src=\"/uploads/a.png\" alt=\"写真\">";
        assert_eq!(
            md(html),
            "一段落目です。\n\n二段落目に[リンク](https://example.jp/a?b=1&c=2)。![写真](/uploads/a.png)"
        );
    }

    #[test]
    fn markup_characters_in_text_stay_text() {
        let out = md("<p>5 * 3 と [括弧] と &lt;b&gt;</p>");
        let html = render(&out).html;
        assert!(
            html.contains("5 * 3 と [括弧] と &lt;b&gt;"),
            "{out} → {html}"
        );
    }

    #[test]
    fn the_round_trip_keeps_the_rendering() {
        let html = "<h2>見出し</h2><p>段落と<em>強調</em>。</p><ul><li>項目</li></ul>";
        let back = render(&md(html)).html;
        assert!(back.contains("<h2 id=\"sec-1\">見出し</h2>"), "{back}");
        assert!(
            back.contains("<em>強調</em>") && back.contains("<li>項目</li>"),
            "{back}"
        );
    }
}
