//! Erasure benchmark: what taking one story out of a site of N stories (default 100,000) costs.
//! Builds the synthetic corpus and its index as `engawa demo` and `engawa reindex` do, then, for
//! a few approved stories spread over the corpus, times each step of an erasure as the site runs
//! it: the moderator's decision (the request's own database work), the indexer applying it (the
//! delete, the commit and the rewrite of the segment that still stored the text), the erasure of
//! the text when the retention ends, and the physical clean-up of the database files (SQLite: WAL
//! checkpoint; PostgreSQL: table rewrite). Prints a Markdown table for docs/BENCHMARKS.md.
//!
//! Run: `cargo bench --bench erasure` (BENCH_STORIES=5000 for a quick look; BENCH_DATABASE_URL=
//! postgres://… to measure PostgreSQL, on a database of its own that the run fills).

mod common;

use std::time::{Duration, Instant};

use diesel::prelude::*;
use engawa::db::{self, schema::stories};
use engawa::domain::{Email, PublicId, Role, StoryStatus};
use engawa::search::{SearchIndex, indexer};
use engawa::workflows::moderation::{self, Decision, Moderator, Site};

fn time<T>(f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<(T, Duration)> {
    let started = Instant::now();
    let value = f()?;
    Ok((value, started.elapsed()))
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn main() -> anyhow::Result<()> {
    let n: usize = common::setting("BENCH_STORIES", 100_000);
    let dir = tempfile::tempdir()?;
    let url = common::database_url(dir.path());
    let pool = engawa::db::connect(&url)?;
    let mut conn = pool.get()?;
    let ((), generated) = time(|| {
        engawa::demo::synthetic::generate(&mut conn, n, 42, engawa::models::now(), &|_| {})
    })?;
    let (index, _) = SearchIndex::open(&dir.path().join("search"))?;
    let (_, built) = time(|| indexer::rebuild(&pool, &index, &|_, _| {}))?;
    indexer::catch_up(&pool, &index)?;
    let segments = index.searcher().segment_readers().len();
    println!(
        "Corpus: {n} stories ({}), generated in {:.1} s, indexed in {:.1} s into {segments} segments.\n",
        db::Kind::of(&url).name(),
        generated.as_secs_f64(),
        built.as_secs_f64()
    );

    let email = Email::parse("bench@engawa.test").map_err(|e| anyhow::anyhow!("{}", e.0))?;
    let staff = engawa::models::user::User::create(
        &mut conn,
        &email,
        "bench",
        Role::Moderator,
        "unused",
        engawa::models::now(),
    )?;
    let moderator = Moderator {
        id: staff,
        name: "bench",
    };
    let settings = engawa::config::Settings::load(|k| match k {
        "ENGAWA_DATA_DIR" => Some(dir.path().to_string_lossy().into_owned()),
        "DATABASE_URL" => Some(url.clone()),
        "ENGAWA_CONFIG" => Some("/dev/null".to_owned()),
        "ENGAWA_ERASURE_REWRITE_MINUTES" => Some("0".to_owned()),
        _ => None,
    })?;
    let site = Site {
        base_url: &settings.base_url,
    };
    let approved: Vec<String> = stories::table
        .filter(stories::status.eq(StoryStatus::Approved.as_str()))
        .order(stories::id)
        .select(stories::public_id)
        .load(&mut conn)?;
    let picks: Vec<&String> = [0.1, 0.35, 0.6, 0.85, 0.99]
        .iter()
        .map(|f| &approved[((approved.len() - 1) as f64 * f) as usize])
        .collect();

    println!(
        "| story (position) | decision: request's DB work (ms) | indexer: delete + commit + segment rewrite (ms) | text erased at retention end (ms) | database files cleaned (ms) |"
    );
    println!("|---|---|---|---|---|");
    let mut last_rewrite = None;
    for (public_id, position) in picks.iter().zip([10, 35, 60, 85, 99]) {
        let id = PublicId::parse(public_id).map_err(|e| anyhow::anyhow!("{}", e.0))?;
        let decision = Decision::Reject {
            reason: "サイトの趣旨に合わない".to_owned(),
            note: None,
            tell: false,
        };
        let (_, decided) = time(|| {
            moderation::decide(
                &mut conn,
                &id,
                &decision,
                &moderator,
                &site,
                engawa::models::now(),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))
        })?;
        let (_, indexed) = time(|| indexer::catch_up(&pool, &index))?;
        let later = engawa::models::now() + chrono::Duration::days(31);
        let (_, erased) = time(|| {
            Ok(moderation::expire_rejected(
                &mut conn,
                settings.rejected_retention,
                later,
            )?)
        })?;
        let (_, cleaned) = time(|| engawa::erasure::clean_up(&pool, &settings, &mut last_rewrite))?;
        println!(
            "| {public_id} ({position} %) | {} | {} | {} | {} |",
            ms(decided),
            ms(indexed),
            ms(erased),
            ms(cleaned)
        );
    }
    // The clean-up after a decision mail left (or an unsubscription): an address, not a story.
    engawa::models::erasure::ErasureQueue::request(
        &mut conn,
        engawa::models::erasure::Held::Address,
        None,
    )?;
    let (_, cleaned) = time(|| {
        last_rewrite = None;
        engawa::erasure::clean_up(&pool, &settings, &mut last_rewrite)
    })?;
    println!(
        "\nAn address's clean-up (after a decision mail left, or an unsubscription): {} ms.",
        ms(cleaned)
    );
    Ok(())
}
