//! What is erased is gone. Erasing a story's text (`moderation::erase_text`) is one transaction
//! that empties every column its submitter wrote, the moderators' messages about it and the tags
//! nothing else uses, and queues the physical clean-up that databases do not do by themselves
//! (`ErasureQueue`), which this module runs:
//!
//! - SQLite zeroes the old content in the main file (`secure_delete`), but the WAL keeps the page
//!   images written before: the clean-up checkpoints and truncates it (`db::scrub`);
//! - PostgreSQL keeps dead row versions in the table files: the clean-up rewrites the tables
//!   (`VACUUM FULL`), at most once per `erasure_rewrite_interval`, so erasures are batched;
//! - mail written as files (no SMTP server configured) that names the story is deleted.
//!
//! The search index is cleaned by the indexer itself: after every commit it rewrites the
//! segments that still store a deleted document (`SearchIndex::commit`).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::config::Settings;
use crate::db::{DbConn, DbPool};
use crate::models::erasure::ErasureQueue;

/// Deletes the mail files about any of these stories (named after it: decisions; also a file
/// left half-written by a crash) or linking to it (digests).
fn remove_mail_files(dir: &Path, public_ids: &[&str]) -> anyhow::Result<usize> {
    if public_ids.is_empty() || !dir.exists() {
        return Ok(0);
    }
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let named = |id: &str| name.contains(&format!("story-{id}-"));
        let linked = |id: &str, text: &str| text.contains(&crate::paths::story(id));
        let text = String::from_utf8_lossy(&std::fs::read(&path)?).into_owned();
        if public_ids.iter().any(|id| named(id) || linked(id, &text)) {
            std::fs::remove_file(&path)?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Runs the queued clean-ups; returns how many were completed. `last_rewrite` spaces the
/// PostgreSQL table rewrites of this node.
pub fn clean_up(
    pool: &DbPool,
    settings: &Settings,
    last_rewrite: &mut Option<Instant>,
) -> anyhow::Result<usize> {
    let mut conn = pool.get()?;
    if ErasureQueue::pending(&mut conn)?.is_empty() {
        return Ok(0);
    }
    if matches!(*conn, DbConn::Sqlite(_)) {
        return finish(&mut conn, settings);
    }
    if last_rewrite.is_some_and(|at| at.elapsed() < settings.erasure_rewrite_interval) {
        return Ok(0);
    }
    drop(conn);
    // A connection of its own for the session lock: it ends with the connection, whatever
    // happens, and never stays behind in the pool.
    let mut own = crate::db::establish(&settings.database_url)?;
    if !crate::db::try_lock_for_session(&mut own, crate::db::ERASURE_LOCK)? {
        return Ok(0); // another node is rewriting; it takes the queue as it finds it
    }
    *last_rewrite = Some(Instant::now());
    finish(&mut own, settings)
}

/// The clean-up proper, for the erasures queued now: mail files, then the database files; the
/// queue forgets exactly the erasures it covered.
fn finish(conn: &mut DbConn, settings: &Settings) -> anyhow::Result<usize> {
    let queued = ErasureQueue::pending(conn)?;
    if queued.is_empty() {
        return Ok(0);
    }
    let stories: Vec<&str> = queued
        .iter()
        .filter_map(|q| q.story_public_id.as_deref())
        .collect();
    remove_mail_files(&settings.data_dir.join("outbox"), &stories)?;
    let erased_by = queued.iter().filter_map(|q| q.xid).max();
    let mut tables: Vec<&str> = queued
        .iter()
        .flat_map(|q| q.held.tables())
        .copied()
        .collect();
    tables.sort_unstable();
    tables.dedup();
    if !crate::db::scrub(conn, &tables, erased_by)? {
        return Ok(0);
    }
    Ok(ErasureQueue::forget(conn, &queued)?)
}

/// How often each node looks for queued clean-ups.
const POLL: Duration = Duration::from_secs(1);

/// Runs the clean-up loop as a task of the current Tokio runtime.
pub fn spawn(
    pool: DbPool,
    settings: Settings,
    passes: std::sync::Arc<crate::metrics::WorkerPasses>,
) {
    tokio::spawn(async move {
        let mut last_rewrite = None;
        loop {
            let (p, s) = (pool.clone(), settings.clone());
            let result = actix_web::web::block(move || {
                let done = clean_up(&p, &s, &mut last_rewrite);
                (done, last_rewrite)
            })
            .await;
            match result {
                Ok((Ok(n), at)) => {
                    last_rewrite = at;
                    if n > 0 {
                        tracing::info!(erasures = n, "erased text cleaned from the database files");
                    }
                }
                Ok((Err(e), at)) => {
                    last_rewrite = at;
                    tracing::error!(
                        error = format!("{e:#}"),
                        "erasure clean-up failed; will retry"
                    );
                }
                Err(e) => tracing::error!(error = %e, "erasure clean-up task failed"),
            }
            passes.finished(crate::metrics::Worker::Erasure);
            tokio::time::sleep(POLL).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_mail_files_about_or_linking_to_an_erased_story_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("1.eml", "To: x@example.jp\n\nhttps://s/stories/abc\n");
        write("2.eml", "To: y@example.jp\n\nhttps://s/stories/xyz\n");
        write("story-abc-3.eml", "To: z@example.jp\n\n結果のお知らせ\n");
        write(".story-abc-4.eml.partial", "To: z@example.jp\n");
        assert_eq!(remove_mail_files(dir.path(), &["abc"]).unwrap(), 3);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left, vec!["2.eml".to_owned()]);
    }
}
