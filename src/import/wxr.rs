//! Import of a WordPress export (WXR). Posts become guides (their HTML cleaned by the same
//! allow-list as everything else, Gutenberg block comments dropped, then turned into Markdown so
//! editors can keep working on them); posts in a chosen category become approved stories;
//! categories and tags are carried over; pages, attachments and comments are not imported. The
//! original permalinks answer 301 to the new pages. One transaction: a malformed file imports
//! nothing.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use percent_encoding::percent_decode_str;
use quick_xml::Reader;
use quick_xml::events::Event;

use super::html::{to_markdown, unescape};
use crate::db::DbConn;
use crate::db::schema::redirects;
use crate::domain::{
    GuideBody, GuideStatus, HowMet, PenName, PublicId, RelationshipLength, Rules, Slug, StoryBody,
    StoryStatus, Summary, TagName, Title,
};
use crate::markdown::sanitize;
use crate::models::guide::{Guide, GuideInput};
use crate::models::story::{Story, StoryContent, StoryInput};
use crate::workflows::editorial::{self, suggest_slug};

#[derive(Debug, Default, Clone)]
struct Item {
    title: String,
    link: String,
    post_name: String,
    post_type: String,
    status: String,
    content: String,
    excerpt: String,
    date_gmt: String,
    /// (domain, name): domain is `category` or `post_tag`.
    categories: Vec<(String, String)>,
    comments: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum WxrError {
    #[error("not a readable WordPress export: {0}")]
    Malformed(String),
    #[error("the database refused the import: {0}")]
    Database(#[from] diesel::result::Error),
}

/// What an import did.
#[derive(Debug, Default)]
pub struct WxrSummary {
    pub guides: usize,
    pub stories: usize,
    pub redirects: usize,
    pub comments_ignored: usize,
    /// (title or type, reason) for everything not imported.
    pub skipped: Vec<(String, String)>,
}

fn line_of(xml: &str, position: u64) -> usize {
    let end = usize::try_from(position)
        .unwrap_or(usize::MAX)
        .min(xml.len());
    xml.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let n = name.strip_prefix('#')?;
            let code = match n.strip_prefix('x') {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => n.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// The items of the export, or where and why it cannot be read.
fn parse(xml: &str) -> Result<Vec<Item>, WxrError> {
    let mut reader = Reader::from_str(xml);
    let mut items = Vec::new();
    let mut current: Option<Item> = None;
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut category_domain = String::new();
    let mut saw_channel = false;
    let malformed = |reader: &Reader<&[u8]>, why: String| {
        WxrError::Malformed(format!(
            "line {}: {why}",
            line_of(xml, reader.buffer_position())
        ))
    };
    loop {
        let event = reader
            .read_event()
            .map_err(|e| malformed(&reader, e.to_string()))?;
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                match name.as_str() {
                    "channel" => saw_channel = true,
                    "item" => current = Some(Item::default()),
                    "wp:comment" => {
                        if let Some(item) = current.as_mut() {
                            item.comments += 1;
                        }
                    }
                    "category" => {
                        category_domain = e
                            .try_get_attribute("domain")
                            .ok()
                            .flatten()
                            .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
                            .unwrap_or_default();
                    }
                    _ => {}
                }
                path.push(name);
                text.clear();
            }
            Event::Text(t) => {
                text.push_str(&t.decode().map_err(|e| malformed(&reader, e.to_string()))?)
            }
            Event::CData(t) => {
                text.push_str(&t.decode().map_err(|e| malformed(&reader, e.to_string()))?)
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| malformed(&reader, e.to_string()))?;
                match entity(&name) {
                    Some(c) => text.push(c),
                    None => return Err(malformed(&reader, format!("unknown entity &{name};"))),
                }
            }
            Event::End(_) => {
                let name = path.pop().unwrap_or_default();
                let in_comment = path.iter().any(|p| p == "wp:comment");
                if let (Some(item), false) = (current.as_mut(), in_comment) {
                    let value = std::mem::take(&mut text);
                    match name.as_str() {
                        "title" => item.title = value,
                        "link" => item.link = value,
                        "wp:post_name" => item.post_name = value,
                        "wp:post_type" => item.post_type = value,
                        "wp:status" => item.status = value,
                        "content:encoded" => item.content = value,
                        "excerpt:encoded" => item.excerpt = value,
                        "wp:post_date_gmt" => item.date_gmt = value,
                        "category" => item.categories.push((category_domain.clone(), value)),
                        _ => {}
                    }
                }
                if name == "item"
                    && let Some(item) = current.take()
                {
                    items.push(item);
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !path.is_empty() {
        return Err(WxrError::Malformed(format!(
            "the file ends inside <{}>",
            path.join("><")
        )));
    }
    if !saw_channel {
        return Err(WxrError::Malformed(
            "no <channel>: this is not a WordPress export".to_owned(),
        ));
    }
    Ok(items)
}

fn names(item: &Item, domain: &str) -> Vec<String> {
    item.categories
        .iter()
        .filter(|(d, _)| d == domain)
        .map(|(_, n)| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect()
}

fn tags_of(item: &Item) -> Vec<TagName> {
    let mut tags: Vec<TagName> = Vec::new();
    for name in names(item, "post_tag") {
        if let Ok(tag) = TagName::parse(&name)
            && !tags.contains(&tag)
            && tags.len() < TagName::MAX_PER_ITEM
        {
            tags.push(tag);
        }
    }
    tags
}

fn plain(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The path of a permalink: `https://old.example/2023/05/post/` → `/2023/05/post/`.
fn path_of(link: &str) -> Option<String> {
    let rest = link.split_once("://").map_or(link, |(_, r)| r);
    let path = rest.find('/').map(|i| &rest[i..])?;
    let path = path.split(['?', '#']).next().unwrap_or(path);
    // Stored decoded, as requests are looked up decoded: %e3%81%af and %E3%81%AF are one address.
    (path.len() > 1).then(|| percent_decode_str(path).decode_utf8_lossy().into_owned())
}

fn published_at(item: &Item) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(item.date_gmt.trim(), "%Y-%m-%d %H:%M:%S").ok()
}

/// Imports everything importable in one transaction.
pub fn import(
    conn: &mut DbConn,
    xml: &str,
    stories_category: Option<&str>,
    now: NaiveDateTime,
) -> Result<WxrSummary, WxrError> {
    let items = parse(xml)?;
    crate::db::write_transaction(conn, |conn| {
        let mut summary = WxrSummary::default();
        for item in items {
            summary.comments_ignored += item.comments;
            let title_for_report = if item.title.trim().is_empty() {
                format!("({})", item.post_type)
            } else {
                item.title.clone()
            };
            let mut skip =
                |reason: String| summary.skipped.push((title_for_report.clone(), reason));
            match item.post_type.as_str() {
                "post" => {}
                "page" => {
                    skip("固定ページは取り込みません".to_owned());
                    continue;
                }
                other => {
                    skip(format!("{other} は取り込みません"));
                    continue;
                }
            }
            if item.status == "trash" {
                skip("ゴミ箱の投稿です".to_owned());
                continue;
            }
            // WordPress keeps titles HTML-escaped, even inside CDATA.
            let Ok(title) = Title::parse_line(&unescape(&item.title)) else {
                skip("タイトルが空か長すぎます".to_owned());
                continue;
            };
            let markdown = to_markdown(&sanitize(&item.content));
            let categories = names(&item, "category");
            let is_story = stories_category.is_some_and(|c| categories.iter().any(|n| n == c));
            if is_story {
                let Ok(body) = StoryBody::parse(&markdown) else {
                    skip("体験談として本文が短すぎる（50文字未満）か長すぎます".to_owned());
                    continue;
                };
                let input = StoryInput {
                    public_id: PublicId::generate(),
                    // WordPress holds no structured fields: moderators can correct them later.
                    content: StoryContent {
                        title,
                        body,
                        pen_name: PenName::parse("").map_err(|e| WxrError::Malformed(e.0))?,
                        length: RelationshipLength::from_months(0)
                            .map_err(|e| WxrError::Malformed(e.0))?,
                        how_met: HowMet::Other,
                        continuing: true,
                        // Shown to nobody as facts; moderators see 情報未設定 until they set them.
                        facts_known: false,
                        rules: Rules::default(),
                        tags: tags_of(&item),
                    },
                    status: StoryStatus::Approved,
                    submitted_at: published_at(&item),
                    published_at: published_at(&item),
                    receipt_hash: None,
                    contact_email: None,
                    pii: Vec::new(),
                };
                Story::insert(conn, &input, now)?;
                summary.stories += 1;
                continue;
            }
            let Ok(body) = GuideBody::parse(&markdown) else {
                skip("本文が空です".to_owned());
                continue;
            };
            let decoded = percent_decode_str(item.post_name.trim())
                .decode_utf8_lossy()
                .into_owned();
            let slug = match Slug::parse(&decoded) {
                Ok(slug) => {
                    if Guide::slug_taken(conn, &slug)? {
                        skip(format!(
                            "スラッグ「{}」のガイドがすでにあります",
                            slug.as_ref()
                        ));
                        continue;
                    }
                    slug
                }
                // Japanese or otherwise unusable post names get one made from the title.
                Err(_) => suggest_slug(conn, title.as_ref(), now)?,
            };
            let summary_text: String = plain(&item.excerpt)
                .chars()
                .take(Summary::MAX_CHARS)
                .collect();
            let status = if item.status == "publish" {
                GuideStatus::Published
            } else {
                GuideStatus::Draft
            };
            let input = GuideInput {
                slug: slug.clone(),
                title,
                summary: Summary::parse(&summary_text).map_err(|e| WxrError::Malformed(e.0))?,
                body,
                status,
                author_id: None,
                author_name: "編集部".to_owned(),
                published_at: published_at(&item),
                scheduled_at: None,
                category: categories
                    .first()
                    .map(|c| c.chars().take(40).collect())
                    .unwrap_or_default(),
                featured_on_home: false,
                tags: tags_of(&item),
            };
            let id = editorial::add(
                conn,
                &input,
                (&input.author_name, super::FIRST_REVISION),
                now,
            )?;
            if let Some(old) =
                path_of(&item.link).filter(|p| *p != crate::paths::guide(slug.as_ref()))
            {
                // The multi-backend connection has no ON CONFLICT: look first, in the same transaction.
                let taken = redirects::table
                    .find(&old)
                    .select(redirects::guide_id)
                    .first::<i32>(conn)
                    .optional()?;
                if taken.is_none() {
                    diesel::insert_into(redirects::table)
                        .values((redirects::from_path.eq(&old), redirects::guide_id.eq(id)))
                        .execute(conn)?;
                    summary.redirects += 1;
                }
            }
            summary.guides += 1;
        }
        Ok(summary)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_files_name_the_line() {
        let err = parse("<?xml version=\"1.0\"?>\n<rss>\n<channel>\n<item><title>x</titel></item>")
            .unwrap_err();
        assert!(err.to_string().contains("line 4"), "{err}");
        let err = parse("<?xml version=\"1.0\"?><html><body>hello</body></html>").unwrap_err();
        assert!(err.to_string().contains("no <channel>"), "{err}");
    }

    #[test]
    fn permalinks_become_paths() {
        assert_eq!(
            path_of("https://old.example/2023/05/rules/").as_deref(),
            Some("/2023/05/rules/")
        );
        assert_eq!(path_of("https://old.example/?p=12").as_deref(), None);
        assert_eq!(path_of("https://old.example/").as_deref(), None);
    }
}
