//! Search benchmark: builds a synthetic corpus (default 100,000 stories), indexes it, and times
//! 50 Japanese queries against Engawa's index, SQLite FTS5 with the trigram tokenizer, and
//! `LIKE '%…%'`, on the same data in one run. Prints a Markdown table for docs/BENCHMARKS.md.
//!
//! Run: `cargo bench --bench search` (BENCH_STORIES=5000 for a quick look).

mod common;

use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::sql_types::{Integer, Text};
use engawa::db::DbConn;
use engawa::search::{SearchIndex, SearchRequest, indexer};

const QUERIES: [&str; 50] = [
    "線",
    "家",
    "昼",
    "鍵",
    "ルール",
    "家族",
    "連絡",
    "アプリ",
    "職場",
    "読書会",
    "長続き",
    "月に一度",
    "平日の昼休み",
    "家族の予定",
    "贈り物",
    "形に残らない",
    "子どもの受験",
    "喫茶店",
    "同期",
    "合唱団",
    "山歩き",
    "ギルド",
    "写真教室",
    "料理教室",
    "取引先",
    "異動",
    "マッチングアプリ",
    "メッセージ",
    "食事会",
    "幼なじみ",
    "結婚式",
    "引っ越し",
    "送迎",
    "ボランティア",
    "整骨院",
    "介護",
    "悪口",
    "お酒",
    "季節の変わり目",
    "秘訣",
    "通知",
    "配偶者",
    "距離",
    "お金",
    "ルール 家族",
    "連絡 昼休み",
    "アプリ メッセージ",
    "5年",
    "灯台",
    "長い関係",
];

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = Integer)]
    #[allow(dead_code)]
    id: i32,
}

#[derive(diesel::QueryableByName)]
struct Snip {
    #[diesel(sql_type = Text)]
    #[allow(dead_code)]
    s: String,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

struct Timing {
    samples: Vec<Duration>,
    unanswerable: usize,
}

impl Timing {
    fn row(&mut self, name: &str, reference: Option<(Duration, Duration)>) -> (Duration, Duration) {
        self.samples.sort();
        let (p50, p99) = (
            percentile(&self.samples, 0.5),
            percentile(&self.samples, 0.99),
        );
        let ratio = reference.map_or_else(
            || "1.0".to_owned(),
            |(r50, r99)| {
                format!(
                    "{:.1}× / {:.1}×",
                    p50.as_secs_f64() / r50.as_secs_f64(),
                    p99.as_secs_f64() / r99.as_secs_f64()
                )
            },
        );
        println!(
            "| {name} | {} | {} | {} | {} | {ratio} |",
            ms(p50),
            ms(p99),
            ms(*self.samples.last().unwrap_or(&Duration::ZERO)),
            if self.unanswerable > 0 {
                format!("{} of 50", self.unanswerable)
            } else {
                "0".to_owned()
            },
        );
        (p50, p99)
    }
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let out = f();
    (out, started.elapsed())
}

fn main() -> anyhow::Result<()> {
    let stories: usize = common::setting("BENCH_STORIES", 100_000);
    let runs: usize = common::setting("BENCH_RUNS", 20);
    let dir = tempfile::tempdir()?;
    let url = common::database_url(dir.path());
    let pool = engawa::db::connect(&url)?;
    let mut conn = pool.get()?;

    let (_, generated) = time(|| {
        engawa::demo::synthetic::generate(&mut conn, stories, 42, engawa::models::now(), &|_| {})
    });
    let chars: Vec<Row> =
        diesel::sql_query("SELECT CAST(AVG(LENGTH(body_markdown)) AS INTEGER) AS id FROM stories")
            .load(&mut *conn)?;
    let (index, _) = SearchIndex::open(&dir.path().join("search"))?;
    let (built, index_time) = time(|| indexer::rebuild(&pool, &index, &|_, _| {}));
    built?;
    let index_bytes: u64 = std::fs::read_dir(dir.path().join("search"))?
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();

    let with_sqlite = std::env::var("BENCH_ENGAWA_ONLY").is_err();
    let DbConn::Sqlite(sqlite) = &mut *conn else {
        anyhow::bail!("the benchmark uses SQLite")
    };
    let (_, fts_build) = time(|| {
        if !with_sqlite {
            return Ok(());
        }
        sqlite.batch_execute(
            "CREATE VIRTUAL TABLE bench_fts USING fts5(title, body, tokenize = 'trigram');
             INSERT INTO bench_fts (rowid, title, body) SELECT id, title, body_markdown FROM stories WHERE status = 'approved';",
        )
    });
    let fts_bytes: Vec<Row> = diesel::sql_query(
        "SELECT CAST(SUM(pgsize) AS INTEGER) AS id FROM dbstat WHERE name LIKE 'bench_fts%'",
    )
    .load(&mut *conn)
    .unwrap_or_default();

    println!(
        "\nCorpus: {stories} stories, average {} characters; generated in {:.1} s.",
        chars.first().map_or(0, |r| r.id),
        generated.as_secs_f64()
    );
    println!(
        "Engawa index: built in {:.1} s, {:.1} MB on disk, {} segment(s).",
        index_time.as_secs_f64(),
        index_bytes as f64 / 1_048_576.0,
        index.searcher().segment_readers().len()
    );
    println!(
        "FTS5 trigram index: built in {:.1} s, {}.",
        fts_build.as_secs_f64(),
        fts_bytes
            .first()
            .map_or("size unknown".to_owned(), |r| format!(
                "{:.1} MB",
                r.id as f64 / 1_048_576.0
            ))
    );
    println!(
        "\n{runs} runs of each of 50 queries; latency in ms, in-process, after one warm-up run.\n"
    );
    println!(
        "| engine | p50 | p99 | max | queries it cannot answer | ratio to Engawa top 10 (p50 / p99) |"
    );
    println!("|---|---|---|---|---|---|");

    let request = |q: &str| SearchRequest {
        q: q.to_owned(),
        limit: 10,
        ..Default::default()
    };
    let mut top = Timing {
        samples: Vec::new(),
        unanswerable: 0,
    };
    let mut page = Timing {
        samples: Vec::new(),
        unanswerable: 0,
    };
    let mut slowest: Vec<(Duration, Duration, &str)> = Vec::new();
    for q in QUERIES {
        index.top(&request(q))?;
        let (mut worst_top, mut worst_page) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..runs {
            let t = time(|| index.top(&request(q))).1;
            let p = time(|| index.search(&request(q))).1;
            worst_top = worst_top.max(t);
            worst_page = worst_page.max(p);
            top.samples.push(t);
            page.samples.push(p);
        }
        slowest.push((worst_top, worst_page, q));
    }
    let reference = top.row("Engawa: top 10 with snippets", None);
    page.row(
        "Engawa: full results page (top 10, snippets, total, filter counts)",
        Some(reference),
    );
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    let listed: Vec<String> = slowest
        .iter()
        .take(5)
        .map(|(t, p, q)| format!("{q} ({} / {} ms)", ms(*t), ms(*p)))
        .collect();
    eprintln!(
        "slowest queries (top 10 / full page, worst run): {}",
        listed.join(", ")
    );
    if !with_sqlite {
        return Ok(());
    }

    let mut fts = Timing {
        samples: Vec::new(),
        unanswerable: 0,
    };
    for q in QUERIES {
        let terms: Vec<&str> = q.split_whitespace().collect();
        if terms.iter().any(|t| t.chars().count() < 3) {
            fts.unanswerable += 1;
            continue;
        }
        let expr = terms
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(" AND ");
        let sql = "SELECT snippet(bench_fts, 1, '<mark>', '</mark>', '…', 20) AS s FROM bench_fts WHERE bench_fts MATCH ? ORDER BY rank LIMIT 10";
        for _ in 0..=runs {
            let (_, d) = time(|| {
                diesel::sql_query(sql)
                    .bind::<Text, _>(&expr)
                    .load::<Snip>(&mut *conn)
            });
            fts.samples.push(d);
        }
    }
    fts.row(
        "SQLite FTS5 trigram (top 10 by rank with snippets)",
        Some(reference),
    );

    let mut like = Timing {
        samples: Vec::new(),
        unanswerable: 0,
    };
    for q in QUERIES {
        let terms: Vec<String> = q.split_whitespace().map(|t| format!("%{t}%")).collect();
        let clause = terms
            .iter()
            .map(|_| "body_markdown LIKE ?")
            .collect::<Vec<_>>()
            .join(" AND ");
        let sql = format!(
            "SELECT id FROM stories WHERE status = 'approved' AND {clause} ORDER BY published_at DESC LIMIT 10"
        );
        for _ in 0..3 {
            let mut query = diesel::sql_query(sql.clone()).into_boxed::<diesel::sqlite::Sqlite>();
            for t in &terms {
                query = query.bind::<Text, _>(t.clone());
            }
            let DbConn::Sqlite(sqlite) = &mut *conn else {
                unreachable!()
            };
            like.samples.push(time(|| query.load::<Row>(sqlite)).1);
        }
    }
    like.row(
        "SQLite LIKE '%…%' (newest 10, 3 runs per query)",
        Some(reference),
    );
    Ok(())
}
