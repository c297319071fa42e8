//! Relevance benchmark: the judged set in tests/app/fixtures/relevance (the demo content plus a
//! corpus written for it, and queries each with the items due in the top 5), searched through
//! Engawa's index as the search page does. Prints hit@5 (the share of queries whose every due
//! item is in the top 5) and MRR (the mean of 1/rank of the first due item found, 0 if none),
//! overall and per kind of query, as a Markdown table for docs/BENCHMARKS.md, then the queries
//! that missed.
//!
//! Run: `cargo bench --bench relevance`.

use std::collections::BTreeMap;
use std::sync::Arc;

use engawa::models::synonym::SynonymRow;
use engawa::search::query::Synonyms;
use engawa::search::{SearchIndex, SearchRequest, indexer};

const DEMO: &str = include_str!("../src/demo/content.jsonl");
const CORPUS: &str = include_str!("../tests/app/fixtures/relevance/corpus.jsonl");
const QUERIES: &str = include_str!("../tests/app/fixtures/relevance/queries.tsv");

/// How far down a due item may be.
const TOP: usize = 5;

struct Judged<'a> {
    query: &'a str,
    due: Vec<String>,
    kind: &'a str,
}

fn judged() -> Vec<Judged<'static>> {
    QUERIES
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut cols = l.split('\t');
            let query = cols.next().unwrap_or_default();
            let due = cols
                .next()
                .unwrap_or_default()
                .split(',')
                .map(|id| {
                    // The index names stories `story:<id>` and guides `guide:<slug>`.
                    if id.starts_with("guide:") {
                        id.to_owned()
                    } else {
                        format!("story:{id}")
                    }
                })
                .collect();
            let kind = cols.next().unwrap_or("other");
            Judged { query, due, kind }
        })
        .collect()
}

#[derive(Default)]
struct Score {
    queries: usize,
    hits: usize,
    reciprocal: f64,
}

impl Score {
    fn add(&mut self, hit: bool, rank: Option<usize>) {
        self.queries += 1;
        self.hits += usize::from(hit);
        self.reciprocal += rank.map_or(0.0, |r| 1.0 / r as f64);
    }

    fn row(&self, name: &str) -> String {
        let n = self.queries.max(1) as f64;
        format!(
            "| {name} | {} | {:.2} | {:.2} |",
            self.queries,
            self.hits as f64 / n,
            self.reciprocal / n
        )
    }
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = dir
        .path()
        .join("bench.sqlite3")
        .to_string_lossy()
        .into_owned();
    let pool = engawa::db::connect(&url)?;
    let mut conn = pool.get()?;
    engawa::import::import_str(&mut conn, &format!("{DEMO}\n{CORPUS}"))?;
    let (index, _) = SearchIndex::open(&dir.path().join("search"))?;
    indexer::rebuild(&pool, &index, &|_, _| {})?;
    // The demo content's starter synonym groups, as the search page applies them.
    let synonyms = Arc::new(Synonyms::new(SynonymRow::groups(&mut conn)?));

    let mut all = Score::default();
    let mut by_kind: BTreeMap<&str, Score> = BTreeMap::new();
    let mut missed = Vec::new();
    for j in judged() {
        let hits = index.top(&SearchRequest {
            q: j.query.to_owned(),
            limit: TOP,
            synonyms: synonyms.clone(),
            ..Default::default()
        })?;
        let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
        let hit = j.due.iter().all(|d| ids.contains(&d.as_str()));
        let rank = ids
            .iter()
            .position(|id| j.due.iter().any(|d| d == id))
            .map(|p| p + 1);
        all.add(hit, rank);
        by_kind.entry(j.kind).or_default().add(hit, rank);
        if !hit {
            missed.push(format!(
                "{} ({}): due {:?}, found {:?}",
                j.query, j.kind, j.due, ids
            ));
        }
    }
    println!("| queries | n | hit@{TOP} | MRR |");
    println!("|---|---|---|---|");
    println!("{}", all.row("all"));
    for (kind, score) in &by_kind {
        println!("{}", score.row(kind));
    }
    println!("\nmissed ({}):", missed.len());
    for m in missed {
        println!("- {m}");
    }
    Ok(())
}
