//! Keeps the index in step with the database: a full rebuild from the public content, and the
//! catch-up that applies outbox events in order. Each event is applied by reading the current
//! state of what it names, so applying one twice, or late, is harmless: after a crash the
//! indexer simply replays from the last outbox row its commit recorded.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::index::{Kind, SearchDoc, SearchIndex};
use crate::db::{DbConn, DbPool};
use crate::domain::{PublicId, Slug};
use crate::markdown::plain_text;
use crate::models::guide::Guide;
use crate::models::outbox::{
    GUIDE_PUBLISHED, GUIDE_REMOVED, Outbox, STORY_PUBLISHED, STORY_REMOVED,
};
use crate::models::story::Story;
use crate::models::tag::Tag;

/// How often each node looks for new events.
pub const POLL: Duration = Duration::from_millis(250);
const BATCH: i64 = 500;
/// How long a node waits before trying a failed rebuild again.
const REBUILD_RETRY: Duration = Duration::from_secs(5);

/// The searchable text of a story or guide: its Markdown as plain text, then one line for each
/// of `extra` (a story's rules and tags, a guide's tags).
fn searchable<'a>(markdown: &str, extra: impl Iterator<Item = &'a String>) -> String {
    let mut body = plain_text(markdown);
    for line in extra {
        body.push('\n');
        body.push_str(line);
    }
    body
}

pub fn story_doc(story: &Story, tags: Vec<String>) -> SearchDoc {
    SearchDoc {
        id: format!("story:{}", story.public_id),
        kind: Kind::Story,
        title: story.title.clone(),
        body: searchable(
            &story.body_markdown,
            story.rules().as_slice().iter().chain(tags.iter()),
        ),
        href: crate::paths::story(&story.public_id),
        // Placeholders of a story without its facts are not facets.
        story: story.relationship.known.then_some(story.relationship),
        summary: String::new(),
        tags,
    }
}

pub fn guide_doc(guide: &Guide, tags: Vec<String>) -> SearchDoc {
    SearchDoc {
        id: format!("guide:{}", guide.slug),
        kind: Kind::Guide,
        title: guide.title.clone(),
        body: searchable(&guide.body_markdown, tags.iter()),
        href: crate::paths::guide(&guide.slug),
        story: None,
        summary: guide.summary.clone(),
        tags,
    }
}

/// Brings one story's document in line with the database: present if approved, absent otherwise.
fn sync_story(conn: &mut DbConn, index: &SearchIndex, public_id: &str) -> anyhow::Result<()> {
    let id = format!("story:{public_id}");
    let story = match PublicId::parse(public_id) {
        Ok(pid) => diesel::OptionalExtension::optional(Story::find_public(conn, &pid))?,
        Err(_) => None,
    };
    match story {
        Some(story) => {
            let tags = Tag::of_stories(conn, &[story.id])?
                .remove(&story.id)
                .unwrap_or_default();
            index.upsert(&story_doc(&story, tags))
        }
        None => {
            index.delete(&id);
            Ok(())
        }
    }
}

fn sync_guide(conn: &mut DbConn, index: &SearchIndex, slug: &str) -> anyhow::Result<()> {
    let guide = match Slug::parse(slug) {
        Ok(s) => diesel::OptionalExtension::optional(Guide::find_published(conn, &s))?,
        Err(_) => None,
    };
    match guide {
        Some(guide) => {
            let tags = Tag::of_guide(conn, guide.id)?;
            index.upsert(&guide_doc(&guide, tags))
        }
        None => {
            index.delete(&format!("guide:{slug}"));
            Ok(())
        }
    }
}

/// Applies the events after the last applied one; returns how many it applied.
pub fn catch_up(pool: &DbPool, index: &SearchIndex) -> anyhow::Result<usize> {
    let mut conn = pool.get().context("cannot get a database connection")?;
    let mut applied = 0;
    loop {
        let after = index.last_applied().unwrap_or(0);
        let events = Outbox::content_events_after(&mut conn, after, BATCH)?;
        let Some(last) = events.last().map(|e| i64::from(e.id)) else {
            return Ok(applied);
        };
        for event in &events {
            let payload: serde_json::Value =
                serde_json::from_str(&event.payload).unwrap_or_default();
            let key = |k: &str| payload[k].as_str().unwrap_or_default().to_owned();
            match event.topic.as_str() {
                STORY_PUBLISHED | STORY_REMOVED => sync_story(&mut conn, index, &key("public_id"))?,
                GUIDE_PUBLISHED | GUIDE_REMOVED => sync_guide(&mut conn, index, &key("slug"))?,
                _ => {}
            }
        }
        index.commit(last)?;
        applied += events.len();
    }
}

/// Rebuilds the whole index from the database; `progress(done, total)` reports as it goes.
/// Until its last commit the index on disk says it is half-built, so a rebuild that fails or
/// is stopped part-way is done again at the next start rather than served as the whole.
pub fn rebuild(
    pool: &DbPool,
    index: &SearchIndex,
    progress: &dyn Fn(u64, u64),
) -> anyhow::Result<(usize, usize)> {
    let mut conn = pool.get().context("cannot get a database connection")?;
    // Events after this point are replayed by catch_up, so nothing written during the rebuild is lost.
    let start = Outbox::max_id(&mut conn)?;
    let total = u64::try_from(
        Story::count_public(&mut conn, &Default::default())? + Guide::count_published(&mut conn)?,
    )
    .unwrap_or(0);
    index.clear()?;
    let built = index.without_merges(|| add_all(&mut conn, index, start, total, progress));
    if built.is_err() {
        // Back to the last commit: the index as it was, or the parts committed so far (which
        // say they are half-built).
        if let Err(e) = index.rollback() {
            tracing::error!(
                error = format!("{e:#}"),
                "cannot roll the search index back"
            );
        }
    }
    built
}

/// Adds every published guide and public story to the (cleared) index, in `index.parts()`
/// segments.
fn add_all(
    conn: &mut DbConn,
    index: &SearchIndex,
    start: i64,
    total: u64,
    progress: &dyn Fn(u64, u64),
) -> anyhow::Result<(usize, usize)> {
    let mut done = 0u64;
    let guides = Guide::all_published(conn)?;
    for guide in &guides {
        let tags = Tag::of_guide(conn, guide.id)?;
        index.add(&guide_doc(guide, tags))?;
        done += 1;
    }
    progress(done, total);
    // One segment per core: a search runs them in parallel.
    let part_size = (total / index.parts() as u64).max(1);
    let mut merged: Vec<tantivy::index::SegmentId> = Vec::new();
    let mut next_part = part_size;
    let mut stories = 0;
    let mut after = 0;
    loop {
        let (batch, last) = Story::public_after(conn, after, BATCH)?;
        let Some(last) = last else { break };
        after = last;
        let ids: Vec<i32> = batch.iter().map(|s| s.id).collect();
        let mut tags = Tag::of_stories(conn, &ids)?;
        for story in &batch {
            index.add(&story_doc(
                story,
                tags.remove(&story.id).unwrap_or_default(),
            ))?;
        }
        stories += batch.len();
        done += batch.len() as u64;
        progress(done, total);
        if done >= next_part {
            index.commit_part(start)?;
            index.merge_segments_except(&merged)?;
            merged = index.segment_ids()?;
            next_part += part_size;
        }
    }
    index.commit(start)?;
    index.merge_segments_except(&merged)?;
    Ok((guides.len(), stories))
}

/// Starts the node's indexer: rebuilds first when the index was fresh, then follows the outbox.
pub fn spawn(pool: DbPool, index: Arc<SearchIndex>, rebuild_first: bool) {
    tokio::spawn(async move {
        if rebuild_first {
            tracing::warn!(dir = %index.dir().display(), "the search index is missing, unreadable or half-built; rebuilding it in the background");
            // Until a rebuild has finished, following the outbox would serve part of the
            // content as the whole: the node stays not ready and tries again.
            loop {
                let (p, i) = (pool.clone(), index.clone());
                match actix_web::web::block(move || rebuild(&p, &i, &|_, _| {})).await {
                    Ok(Ok((guides, stories))) => {
                        tracing::info!(guides, stories, "search index rebuilt");
                        break;
                    }
                    Ok(Err(e)) => tracing::error!(
                        error = format!("{e:#}"),
                        "search index rebuild failed; will retry"
                    ),
                    Err(e) => {
                        tracing::error!(error = %e, "search index rebuild task failed; will retry")
                    }
                }
                tokio::time::sleep(REBUILD_RETRY).await;
            }
        }
        loop {
            let (p, i) = (pool.clone(), index.clone());
            match actix_web::web::block(move || catch_up(&p, &i)).await {
                Ok(Ok(_)) => index.set_ready(),
                Ok(Err(e)) => tracing::error!(
                    error = format!("{e:#}"),
                    "search indexing failed; will retry"
                ),
                Err(e) => tracing::error!(error = %e, "search indexing task failed"),
            }
            tokio::time::sleep(POLL).await;
        }
    });
}
