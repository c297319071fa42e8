//! The one rule of what the public may see, and the one place that announces a change of it.
//!
//! Every list, page, feed, digest and index that readers reach starts from `public_stories` or
//! `published_guides` (or filters with `story_is_public`/`guide_is_public` where a join needs the
//! bare condition). Every write that can change what readers see (a new row, a status change, an
//! edit) calls `story_changed` or `guide_changed` in its transaction; those decide whether an
//! outbox event is due. The search index, the page cache, the feeds and the digests all follow
//! those events, so nothing else may write them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{guides, stories};
use crate::db::{Backend, DbConn};
use crate::domain::{GuideStatus, StoryStatus};
use crate::models::outbox::{
    GUIDE_PUBLISHED, GUIDE_REMOVED, Outbox, STORY_PUBLISHED, STORY_REMOVED, SYNONYMS_CHANGED,
};

/// The SQL condition of a public story (its status; the domain's `is_public` says which).
pub fn story_is_public() -> diesel::dsl::Eq<stories::status, &'static str> {
    stories::status.eq(StoryStatus::PUBLIC.as_str())
}

/// The SQL condition of a public guide.
pub fn guide_is_public() -> diesel::dsl::Eq<guides::status, &'static str> {
    guides::status.eq(GuideStatus::PUBLIC.as_str())
}

/// Stories readers may see.
pub fn public_stories() -> stories::BoxedQuery<'static, Backend> {
    stories::table.filter(story_is_public()).into_boxed()
}

/// Public stories whose cooling-off period has passed (`cooled`: the latest publication time
/// that counts): what feeds, the sitemap and digests show, so that a story withdrawn within the
/// first hours never leaves the site in a feed reader or an inbox.
pub fn cooled_stories(cooled: NaiveDateTime) -> stories::BoxedQuery<'static, Backend> {
    stories::table.filter(story_has_cooled(cooled)).into_boxed()
}

/// The SQL condition of `cooled_stories`, for subqueries.
pub fn story_has_cooled(
    cooled: NaiveDateTime,
) -> diesel::dsl::And<
    diesel::dsl::Eq<stories::status, &'static str>,
    diesel::dsl::LtEq<stories::published_at, NaiveDateTime>,
> {
    story_is_public().and(stories::published_at.le(cooled))
}

/// Guides readers may see.
pub fn published_guides() -> guides::BoxedQuery<'static, Backend> {
    guides::table.filter(guide_is_public()).into_boxed()
}

/// Announces what a change did to a story's public side: `was` is its status before (`None`
/// for a new story), `now_is` after. Public after → published (new, back, or edited while
/// public); public before only → removed; never public → nothing.
pub fn story_changed(
    conn: &mut DbConn,
    public_id: &str,
    was: Option<StoryStatus>,
    now_is: StoryStatus,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let topic = match (was.is_some_and(StoryStatus::is_public), now_is.is_public()) {
        (_, true) => STORY_PUBLISHED,
        (true, false) => STORY_REMOVED,
        (false, false) => return Ok(()),
    };
    Outbox::publish(
        conn,
        topic,
        &serde_json::json!({ "public_id": public_id }),
        at,
    )
}

/// A guide as the public side sees it: its status and its address.
#[derive(Debug, Clone, Copy)]
pub struct GuidePlace<'a> {
    pub status: GuideStatus,
    pub slug: &'a str,
}

/// Announces what a change did to a guide's public side, as `story_changed` does; a public
/// guide that changed its slug also leaves its old address.
pub fn guide_changed(
    conn: &mut DbConn,
    was: Option<GuidePlace>,
    now_is: GuidePlace,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let was_public = was.is_some_and(|w| w.status.is_public());
    if let Some(old) = was.filter(|w| was_public && w.slug != now_is.slug) {
        guide_event(conn, GUIDE_REMOVED, old.slug, at)?;
    }
    match (was_public, now_is.status.is_public()) {
        (_, true) => guide_event(conn, GUIDE_PUBLISHED, now_is.slug, at),
        (true, false) => guide_event(conn, GUIDE_REMOVED, now_is.slug, at),
        (false, false) => Ok(()),
    }
}

fn guide_event(conn: &mut DbConn, topic: &str, slug: &str, at: NaiveDateTime) -> QueryResult<()> {
    Outbox::publish(conn, topic, &serde_json::json!({ "slug": slug }), at)
}

/// Announces that search's synonym groups changed: the same query now answers differently, so
/// every node's cached search pages must go (nothing in the index changes).
pub fn synonyms_changed(conn: &mut DbConn, at: NaiveDateTime) -> QueryResult<()> {
    Outbox::publish(conn, SYNONYMS_CHANGED, &serde_json::json!({}), at)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("src is readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source");
                let name = path
                    .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                    .expect("under the crate")
                    .to_string_lossy()
                    .into_owned();
                out.push((name, text));
            }
        }
    }

    /// A filter on a status column: `status.eq(`, `.eq_any(`, `.ne(`, … up to the closing
    /// parenthesis, in code with its whitespace removed (rustfmt splits long ones over lines).
    fn status_filters(code: &str) -> Vec<&str> {
        let mut found = Vec::new();
        let mut rest = code;
        while let Some(at) = rest.find("status.") {
            let tail = &rest[at..];
            let end = tail.find(')').map_or(tail.len(), |e| e + 1);
            if ["status.eq", "status.ne"]
                .iter()
                .any(|f| tail.starts_with(f))
            {
                found.push(&tail[..end]);
            }
            rest = &tail["status.".len()..];
        }
        found
    }

    /// The rule of what is public, and the announcing of its changes, stay in this module: any
    /// other file that filters on the public status or writes a content event fails here.
    #[test]
    fn no_other_module_spells_the_public_filter_or_writes_a_content_event() {
        let public = [
            "Approved",
            "Published",
            "PUBLIC",
            "\"approved\"",
            "\"published\"",
            "is_public",
            "StoryAction::Report",
        ];
        // The filter finder finds what it must.
        let sample = "stories::table\n    .filter(\n        stories::status\n            .eq(StoryStatus::Approved.as_str()),\n    )";
        let squeezed: String = sample.split_whitespace().collect();
        assert_eq!(status_filters(&squeezed).len(), 1);

        let mut files = Vec::new();
        sources(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        assert!(files.len() > 50, "read {} files", files.len());
        let mut found = Vec::new();
        for (name, text) in &files {
            if name.ends_with("models/visibility.rs") {
                continue;
            }
            let squeezed: String = text.split_whitespace().collect();
            for filter in status_filters(&squeezed) {
                if public.iter().any(|p| filter.contains(p)) {
                    found.push(format!("{name}: {filter}"));
                }
            }
            // The topics: defined with the outbox, read by the search index.
            let topic_allowed =
                name.ends_with("models/outbox.rs") || name.ends_with("search/indexer.rs");
            for (n, line) in text.lines().enumerate() {
                let topic = [
                    "STORY_PUBLISHED",
                    "STORY_REMOVED",
                    "GUIDE_PUBLISHED",
                    "GUIDE_REMOVED",
                    "SYNONYMS_CHANGED",
                ]
                .iter()
                .any(|t| line.contains(t))
                    || ["\"story.", "\"guide.", "\"search.synonyms"]
                        .iter()
                        .any(|t| line.contains(t));
                let publishes = line.contains("Outbox::publish(") && !name.ends_with("mail/mod.rs");
                if (topic && !topic_allowed) || publishes {
                    found.push(format!("{name}:{}: {}", n + 1, line.trim()));
                }
            }
        }
        assert!(
            found.is_empty(),
            "outside models/visibility.rs:\n{}",
            found.join("\n")
        );
    }
}
