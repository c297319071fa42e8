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

use diesel::prelude::*;

use crate::config::Settings;
use crate::db::{DbConn, DbPool};
use crate::models::erasure::ErasureQueue;

/// Deletes the mail files about any of these stories (named after it: decisions) or linking to
/// it (digests).
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
        if !name.ends_with(".eml") {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&path)?).into_owned();
        if public_ids.iter().any(|id| {
            name.starts_with(&format!("story-{id}-")) || text.contains(&format!("/stories/{id}"))
        }) {
            std::fs::remove_file(&path)?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Runs the queued clean-ups; returns how many were completed. `last_rewrite` spaces the
/// PostgreSQL table rewrites.
pub fn clean_up(
    pool: &DbPool,
    settings: &Settings,
    last_rewrite: &mut Option<Instant>,
) -> anyhow::Result<usize> {
    let mut conn = pool.get()?;
    let queued = ErasureQueue::pending(&mut conn)?;
    let Some(last) = queued.last().map(|(id, _)| *id) else {
        return Ok(0);
    };
    let postgres = matches!(*conn, DbConn::Postgres(_));
    if postgres && last_rewrite.is_some_and(|at| at.elapsed() < settings.erasure_rewrite_interval) {
        return Ok(0);
    }
    if settings.smtp_url.is_none() {
        let ids: Vec<&str> = queued.iter().filter_map(|(_, id)| id.as_deref()).collect();
        remove_mail_files(&settings.data_dir.join("outbox"), &ids)?;
    }
    if postgres {
        // One node rewrites at a time; the others find the queue empty afterwards.
        use diesel::connection::SimpleConnection;
        #[derive(QueryableByName)]
        struct Locked {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            locked: bool,
        }
        let lock: Locked = diesel::sql_query("SELECT pg_try_advisory_lock(8217404) AS locked")
            .get_result(&mut *conn)?;
        if !lock.locked {
            return Ok(0);
        }
        *last_rewrite = Some(Instant::now());
        let done = crate::db::scrub(&mut conn);
        conn.batch_execute("SELECT pg_advisory_unlock(8217404)")?;
        done?;
    } else if !crate::db::scrub(&mut conn)? {
        return Ok(0);
    }
    Ok(ErasureQueue::done_through(&mut conn, last)?)
}

/// How often each node looks for queued clean-ups.
const POLL: Duration = Duration::from_secs(1);

/// Runs the clean-up loop as a task of the current Tokio runtime.
pub fn spawn(pool: DbPool, settings: Settings) {
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
            tokio::time::sleep(POLL).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_mail_files_naming_an_erased_story_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("1.eml", "To: x@example.jp\n\nhttps://s/stories/abc\n");
        write("2.eml", "To: y@example.jp\n\nhttps://s/stories/xyz\n");
        write("story-abc-3.eml", "To: z@example.jp\n\n結果のお知らせ\n");
        write("c.txt", "/stories/abc");
        assert_eq!(remove_mail_files(dir.path(), &["abc"]).unwrap(), 2);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(left.contains(&"2.eml".to_owned()) && left.contains(&"c.txt".to_owned()));
    }
}
