//! What templates show: page metadata, cards, dates and links, prepared in Rust so that
//! templates only place values.

use chrono::{FixedOffset, NaiveDateTime};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::markdown::TocEntry;
use crate::models::guide::GuideListItem;
use crate::models::story::StoryListItem;

pub const SITE_NAME: &str = "縁側";
pub const SITE_TAGLINE: &str = "セカンドパートナーの体験談とガイド";

/// Title, description and canonical link of a page; every page has them.
pub struct PageMeta {
    pub title: String,
    pub description: String,
    /// Absolute URL; error pages have none.
    pub canonical: Option<String>,
    pub noindex: bool,
    /// OpenGraph type: `website`, or `article` for a guide or a story.
    pub og_type: &'static str,
    /// The page's own feed, besides the site's: (title, path without `.atom`/`.xml`).
    pub feed: Option<(String, String)>,
    /// Structured data for search engines, already escaped for a script element.
    pub json_ld: Option<String>,
}

impl PageMeta {
    pub fn new(base_url: &str, title: &str, description: &str, path: &str) -> Self {
        PageMeta {
            title: format!("{title} | {SITE_NAME}"),
            description: description.to_owned(),
            canonical: Some(format!("{base_url}{path}")),
            noindex: false,
            og_type: "website",
            feed: None,
            json_ld: None,
        }
    }

    /// A page search engines should not list (forms, receipts, status pages).
    pub fn unlisted(mut self) -> Self {
        self.noindex = true;
        self
    }

    pub fn with_feed(mut self, title: &str, path: &str) -> Self {
        self.feed = Some((title.to_owned(), path.to_owned()));
        self
    }

    pub fn article(mut self) -> Self {
        self.og_type = "article";
        self
    }

    /// Adds JSON-LD; `<` is escaped so the data can never close its script element.
    pub fn with_json_ld(mut self, data: &serde_json::Value) -> Self {
        self.json_ld = Some(data.to_string().replace('<', "\\u003c"));
        self
    }

    pub fn error(heading: &str) -> Self {
        PageMeta {
            title: format!("{heading} | {SITE_NAME}"),
            description: heading.to_owned(),
            canonical: None,
            noindex: true,
            og_type: "website",
            feed: None,
            json_ld: None,
        }
    }
}

/// Japan has no daylight saving time, so a fixed offset is exact.
fn tokyo() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset")
}

/// 「2026年11月26日」 in Japan time, from a stored UTC time.
pub fn date_ja(utc: NaiveDateTime) -> String {
    utc.and_utc()
        .with_timezone(&tokyo())
        .format("%Y年%-m月%-d日")
        .to_string()
}

/// 「14:05」 in Japan time.
pub fn time_ja(utc: NaiveDateTime) -> String {
    utc.and_utc()
        .with_timezone(&tokyo())
        .format("%H:%M")
        .to_string()
}

/// The same day as a machine-readable date for `<time datetime>`.
pub fn date_iso(utc: NaiveDateTime) -> String {
    utc.and_utc()
        .with_timezone(&tokyo())
        .format("%Y-%m-%d")
        .to_string()
}

/// 「3時間前」: how long ago, roughly, for the moderation queue.
pub fn age_ja(elapsed: chrono::Duration) -> String {
    if elapsed.num_minutes() < 1 {
        return "たった今".to_owned();
    }
    format!("{}前", span_ja(elapsed))
}

/// A length of time in its largest whole unit: 「0分」「45分」「3時間」「2日」.
pub fn span_ja(span: chrono::Duration) -> String {
    let minutes = span.num_minutes().max(0);
    match minutes {
        0..=59 => format!("{minutes}分"),
        60..=1439 => format!("{}時間", minutes / 60),
        _ => format!("{}日", minutes / 1440),
    }
}

/// Text made safe to place inside HTML, for the few fragments built outside templates (feeds).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
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

const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, PATH_SEGMENT).to_string()
}

pub fn tag_href(tag: &str) -> String {
    format!("/tags/{}", encode(tag))
}

/// One choice of a select box or radio group.
pub struct SelectOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// A tag with its link.
pub struct TagLink {
    pub name: String,
    pub href: String,
}

impl TagLink {
    pub fn new(name: &str) -> Self {
        TagLink {
            name: name.to_owned(),
            href: tag_href(name),
        }
    }
}

pub struct GuideCard {
    pub href: String,
    pub title: String,
    pub summary: String,
    pub date: String,
    pub date_iso: String,
}

impl From<&GuideListItem> for GuideCard {
    fn from(g: &GuideListItem) -> Self {
        let published = g.published_at.unwrap_or(g.updated_at);
        GuideCard {
            href: crate::paths::guide(&g.slug),
            title: g.title.clone(),
            summary: g.summary.clone(),
            date: date_ja(published),
            date_iso: date_iso(published),
        }
    }
}

pub struct StoryCard {
    pub href: String,
    pub title: String,
    pub excerpt: String,
    /// None for a story that came without its facts.
    pub facts: Option<String>,
    pub pen_name: String,
    pub date: String,
    pub date_iso: String,
    pub tags: Vec<TagLink>,
}

impl StoryCard {
    pub fn new(s: &StoryListItem, tags: &[String]) -> Self {
        let published = s.published_at.unwrap_or(s.submitted_at);
        StoryCard {
            href: crate::paths::story(&s.public_id),
            title: s.title.clone(),
            excerpt: s.excerpt.clone(),
            facts: s.relationship.facts(),
            pen_name: s.pen_name.clone(),
            date: date_ja(published),
            date_iso: date_iso(published),
            tags: tags.iter().map(|t| TagLink::new(t)).collect(),
        }
    }
}

/// A table-of-contents entry with the h3 entries that follow it.
pub struct TocSection {
    pub entry: TocEntry,
    pub children: Vec<TocEntry>,
}

/// Nests each h3 under the h2 before it; an h3 before any h2 stands on its own.
pub fn toc_sections(entries: Vec<TocEntry>) -> Vec<TocSection> {
    let mut sections: Vec<TocSection> = Vec::new();
    for entry in entries {
        match sections.last_mut() {
            Some(section) if entry.level > section.entry.level => section.children.push(entry),
            _ => sections.push(TocSection {
                entry,
                children: Vec::new(),
            }),
        }
    }
    sections
}

/// Links to the neighbouring pages of a listing, keeping its filters.
pub struct Pagination {
    pub page: i64,
    pub total_pages: i64,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
}

impl Pagination {
    /// `query` holds the listing's other parameters, already encoded, e.g. `how_met=app`.
    pub fn new(path: &str, query: &str, page: i64, total_pages: i64) -> Self {
        let href = |p: i64| {
            let mut params: Vec<String> = Vec::new();
            if !query.is_empty() {
                params.push(query.to_owned());
            }
            if p > 1 {
                params.push(format!("page={p}"));
            }
            if params.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{}", params.join("&"))
            }
        };
        Pagination {
            page,
            total_pages,
            prev_href: (page > 1).then(|| href(page - 1)),
            next_href: (page < total_pages).then(|| href(page + 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn dates_are_japanese_and_in_japan_time() {
        let late_evening_utc = NaiveDate::from_ymd_opt(2026, 11, 25)
            .unwrap()
            .and_hms_opt(20, 0, 0)
            .unwrap();
        assert_eq!(date_ja(late_evening_utc), "2026年11月26日");
        assert_eq!(date_iso(late_evening_utc), "2026-11-26");
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age_ja(chrono::Duration::seconds(20)), "たった今");
        assert_eq!(age_ja(chrono::Duration::minutes(5)), "5分前");
        assert_eq!(age_ja(chrono::Duration::hours(3)), "3時間前");
        assert_eq!(age_ja(chrono::Duration::days(2)), "2日前");
        assert_eq!(span_ja(chrono::Duration::seconds(20)), "0分");
        assert_eq!(span_ja(chrono::Duration::minutes(90)), "1時間");
    }

    #[test]
    fn tag_links_are_encoded() {
        assert_eq!(tag_href("ルール"), "/tags/%E3%83%AB%E3%83%BC%E3%83%AB");
        assert_eq!(tag_href("a b"), "/tags/a%20b");
    }

    #[test]
    fn pagination_keeps_filters() {
        let p = Pagination::new("/stories", "how_met=app", 2, 3);
        assert_eq!(p.prev_href.as_deref(), Some("/stories?how_met=app"));
        assert_eq!(p.next_href.as_deref(), Some("/stories?how_met=app&page=3"));
        let last = Pagination::new("/stories", "", 3, 3);
        assert_eq!(last.prev_href.as_deref(), Some("/stories?page=2"));
        assert!(last.next_href.is_none());
    }

    #[test]
    fn h3_entries_nest_under_their_h2() {
        let e = |level: u8, id: &str| TocEntry {
            level,
            id: id.into(),
            text: id.into(),
        };
        let sections = toc_sections(vec![e(3, "a"), e(2, "b"), e(3, "c"), e(3, "d"), e(2, "f")]);
        let shape: Vec<(String, usize)> = sections
            .iter()
            .map(|s| (s.entry.id.clone(), s.children.len()))
            .collect();
        assert_eq!(
            shape,
            vec![("a".into(), 0), ("b".into(), 2), ("f".into(), 0)]
        );
    }
}
