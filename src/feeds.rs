//! What the public can follow: the items of the feeds and the sitemap. Only published guides and
//! approved stories past their cooling-off delay, so a submitter's second thoughts reach us first.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{guide_tags, guides, stories, story_tags, tags};
use crate::models::guide::Guide;
use crate::models::story::Story;
use crate::models::tag::Tag;
use crate::models::visibility::{
    cooled_stories, guide_is_public, published_guides, story_has_cooled,
};

/// Which feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Guides,
    Stories,
    Tag(String),
}

/// One entry, ready for RSS or Atom.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Absolute URL; also the entry's stable id.
    pub url: String,
    pub title: String,
    /// Sanitized HTML.
    pub html: String,
    pub summary: String,
    pub published: NaiveDateTime,
    pub updated: NaiveDateTime,
    pub tags: Vec<String>,
}

pub const FEED_SIZE: i64 = 30;

/// Stories approved before this time have cooled off and may be followed.
pub fn cooled_before(now: NaiveDateTime, delay: std::time::Duration) -> NaiveDateTime {
    now - Duration::from_std(delay).unwrap_or_default()
}

/// When each feed last changed, as this node has served it. A feed whose body differs from the
/// last one served gets a new time: the current second, and at least a second after the time
/// before, so `Last-Modified` never goes backwards and an `If-Modified-Since` copy never matches
/// a feed that changed since, removals included (a date taken from the newest entry went back
/// when that entry was withdrawn). Only when a feed changes twice within a second does its time
/// run ahead of the clock, by that second.
#[derive(Default)]
pub struct FeedClock {
    state: std::sync::Mutex<ClockState>,
}

#[derive(Default)]
struct ClockState {
    /// Per feed: the hash of the body last served and its time.
    seen: std::collections::HashMap<String, (String, std::time::SystemTime)>,
    /// The latest time handed out, and the latest when `seen` was last emptied: a feed not in
    /// `seen` any more starts after it.
    latest: Option<std::time::SystemTime>,
    forgotten_until: Option<std::time::SystemTime>,
}

/// Feeds a node keeps times for (the site's feeds and one per tag); beyond, it starts again.
const FEED_CLOCK_SIZE: usize = 10_000;

impl FeedClock {
    pub fn modified(
        &self,
        feed: &str,
        body: &[u8],
        now: std::time::SystemTime,
    ) -> std::time::SystemTime {
        use std::time::{Duration as StdDuration, UNIX_EPOCH};
        let hash = crate::secrets::sha256_hex(body);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let before = match state.seen.get(feed) {
            Some((h, at)) if *h == hash => return *at,
            Some((_, at)) => Some(*at),
            None => state.forgotten_until,
        };
        let second = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let this_second = UNIX_EPOCH + StdDuration::from_secs(second);
        let at = before.map_or(this_second, |b| {
            this_second.max(b + StdDuration::from_secs(1))
        });
        if state.seen.len() >= FEED_CLOCK_SIZE {
            state.seen.clear();
            state.forgotten_until = state.latest;
        }
        state.latest = state.latest.max(Some(at));
        state.seen.insert(feed.to_owned(), (hash, at));
        at
    }
}

/// `xml` without the characters XML 1.0 does not allow (controls, surrogates, U+FFFE/U+FFFF): the
/// forms refuse them, but a row written before they did, or by hand, must not make a feed
/// unreadable for everyone.
pub fn xml_chars(xml: String) -> String {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r')
            || matches!(u32::from(c), 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
    };
    if xml.chars().all(allowed) {
        return xml;
    }
    xml.chars().filter(|c| allowed(*c)).collect()
}

fn story_entry(base: &str, s: &Story, tags: Vec<String>) -> Entry {
    // The facts line is plain text in a paragraph of our own; the body was sanitized at write
    // time. A story that came without its facts has no such line.
    let facts = s
        .relationship
        .facts()
        .map(|f| format!("<p>{}</p>\n", crate::views::escape_html(&f)))
        .unwrap_or_default();
    let published = s.published_at.unwrap_or(s.submitted_at);
    Entry {
        url: format!("{base}{}", crate::paths::story(&s.public_id)),
        title: s.title.clone(),
        html: format!("{facts}{}", s.body_html),
        summary: s.excerpt.clone(),
        published,
        updated: s.updated_at.max(published),
        tags,
    }
}

fn guide_entry(base: &str, g: &Guide, tags: Vec<String>) -> Entry {
    let published = g.published_at.unwrap_or(g.updated_at);
    Entry {
        url: format!("{base}{}", crate::paths::guide(&g.slug)),
        title: g.title.clone(),
        html: g.body_html.clone(),
        summary: g.summary.clone(),
        published,
        updated: g.updated_at.max(published),
        tags,
    }
}

/// The newest entries of a feed, newest first.
pub fn entries(
    conn: &mut DbConn,
    scope: &Scope,
    base: &str,
    cooled: NaiveDateTime,
) -> QueryResult<Vec<Entry>> {
    let tag_id = match scope {
        Scope::Tag(name) => match crate::domain::TagName::parse(name) {
            Ok(t) => match Tag::find(conn, &t)? {
                Some(id) => Some(id),
                None => return Ok(Vec::new()),
            },
            Err(_) => return Ok(Vec::new()),
        },
        _ => None,
    };
    let mut out = Vec::new();
    if matches!(scope, Scope::All | Scope::Stories | Scope::Tag(_)) {
        let mut q = cooled_stories(cooled);
        if let Some(id) = tag_id {
            q = q.filter(stories::id.eq_any(Tag::stories_tagged(id)));
        }
        let list: Vec<Story> = q
            .order((stories::published_at.desc(), stories::id.desc()))
            .limit(FEED_SIZE)
            .select(Story::as_select())
            .load(conn)?;
        let ids: Vec<i32> = list.iter().map(|s| s.id).collect();
        let mut t = Tag::of_stories(conn, &ids)?;
        out.extend(
            list.iter()
                .map(|s| story_entry(base, s, t.remove(&s.id).unwrap_or_default())),
        );
    }
    if matches!(scope, Scope::All | Scope::Guides | Scope::Tag(_)) {
        let mut q = published_guides();
        if let Some(id) = tag_id {
            q = q.filter(guides::id.eq_any(Tag::guides_tagged(id)));
        }
        let list: Vec<Guide> = q
            .order((guides::published_at.desc(), guides::id.desc()))
            .limit(FEED_SIZE)
            .select(Guide::as_select())
            .load(conn)?;
        for g in &list {
            let t = Tag::of_guide(conn, g.id)?;
            out.push(guide_entry(base, g, t));
        }
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.published));
    out.truncate(usize::try_from(FEED_SIZE).unwrap_or(30));
    Ok(out)
}

/// Every public page with its last change, for the sitemap.
pub fn sitemap(
    conn: &mut DbConn,
    base: &str,
    cooled: NaiveDateTime,
) -> QueryResult<Vec<(String, NaiveDateTime)>> {
    let mut urls: Vec<(String, NaiveDateTime)> = Vec::new();
    let guides: Vec<(String, NaiveDateTime)> = published_guides()
        .select((guides::slug, guides::updated_at))
        .load(conn)?;
    let stories: Vec<(String, NaiveDateTime)> = cooled_stories(cooled)
        .select((stories::public_id, stories::updated_at))
        .load(conn)?;
    let newest = guides
        .iter()
        .chain(stories.iter())
        .map(|(_, t)| *t)
        .max()
        .unwrap_or_default();
    for path in ["/", "/guides", "/stories", "/transparency"] {
        urls.push((format!("{base}{path}"), newest));
    }
    urls.extend(
        guides
            .iter()
            .map(|(slug, t)| (format!("{base}/guides/{slug}"), *t)),
    );
    urls.extend(
        stories
            .iter()
            .map(|(id, t)| (format!("{base}/stories/{id}"), *t)),
    );
    // Tags that name at least one public page.
    let story_tag_names: Vec<String> = story_tags::table
        .inner_join(tags::table)
        .filter(
            story_tags::story_id.eq_any(
                stories::table
                    .filter(story_has_cooled(cooled))
                    .select(stories::id),
            ),
        )
        .select(tags::name)
        .distinct()
        .load(conn)?;
    let guide_tag_names: Vec<String> = guide_tags::table
        .inner_join(tags::table)
        .inner_join(guides::table)
        .filter(guide_is_public())
        .select(tags::name)
        .distinct()
        .load(conn)?;
    let mut names: Vec<String> = story_tag_names.into_iter().chain(guide_tag_names).collect();
    names.sort();
    names.dedup();
    urls.extend(
        names
            .iter()
            .map(|n| (format!("{base}{}", crate::views::tag_href(n)), newest)),
    );
    Ok(urls)
}

#[cfg(test)]
mod clock_tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn a_changed_feed_is_always_later_and_an_unchanged_one_keeps_its_time() {
        let clock = FeedClock::default();
        let t = UNIX_EPOCH + Duration::from_millis(1_000_200);
        let first = clock.modified("/feed.xml", b"a", t);
        assert_eq!(
            first,
            UNIX_EPOCH + Duration::from_secs(1000),
            "never after the clock"
        );
        assert_eq!(
            clock.modified("/feed.xml", b"a", t + Duration::from_secs(5)),
            first
        );
        // Changed within the same second, or back to an earlier body: still later.
        let second = clock.modified("/feed.xml", b"b", t + Duration::from_millis(300));
        assert_eq!(second, first + Duration::from_secs(1));
        assert!(clock.modified("/feed.xml", b"a", t + Duration::from_millis(400)) > second);
        assert_eq!(
            clock.modified("/feed.atom", b"a", t),
            first,
            "each feed has its own time"
        );
    }

    #[test]
    fn a_forgotten_feed_starts_after_every_time_handed_out() {
        let clock = FeedClock::default();
        let t = UNIX_EPOCH + Duration::from_secs(5000);
        clock.modified("/feed.xml", b"a", t);
        let ahead = clock.modified("/feed.xml", b"b", t);
        assert_eq!(ahead, t + Duration::from_secs(1));
        for n in 0..FEED_CLOCK_SIZE {
            clock.modified(&format!("/tags/{n}/feed.xml"), b"x", t);
        }
        assert!(clock.modified("/feed.xml", b"c", t) > ahead);
    }
}
