//! The tantivy index of published guides and approved stories, under `<data dir>/search`.
//! It is derived data: the indexer (indexer.rs) fills it from the database and the outbox, and
//! records in each commit the last outbox row it applied.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::indexer::{LogMergePolicy, NoMergePolicy};
use tantivy::query::{
    BooleanQuery, BoostQuery, MoreLikeThisQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{
    FAST, IndexRecordOption, NumericOptions, OwnedValue, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term,
};

use super::analyzer::{JaTokenizer, TOKENIZER, document_tokens, query_tokens};
use super::exclusion::Excluded;
use super::facets::{Counts, FacetCache, FacetCollector, Filters};
use super::phrase::{self, Clause};
use super::query::{Forms, Need, Parsed, Piece, Synonyms, parse, pieces, vocabulary_words};
use super::segments;
use super::snippet::{Segment, snippet};
use super::suggest::VocabularyCache;
use crate::domain::{Continuance, HowMet, LengthBucket, Relationship};

/// What kind of page a result is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Story,
    Guide,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Story, Kind::Guide];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Story => "story",
            Kind::Guide => "guide",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Story => "体験談",
            Kind::Guide => "ガイド",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Kind::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// One guide or story as the index holds it.
#[derive(Debug, Clone)]
pub struct SearchDoc {
    /// `story:<public id>` or `guide:<slug>`.
    pub id: String,
    pub kind: Kind,
    pub title: String,
    /// Plain text: the body, the rules and the tags.
    pub body: String,
    pub tags: Vec<String>,
    pub href: String,
    /// Story facts: months, way of meeting, whether it continues.
    pub story: Option<Relationship>,
    pub summary: String,
}

struct Fields {
    id: tantivy::schema::Field,
    kind: tantivy::schema::Field,
    title: tantivy::schema::Field,
    body: tantivy::schema::Field,
    tag: tantivy::schema::Field,
    how_met: tantivy::schema::Field,
    length_months: tantivy::schema::Field,
    continuing: tantivy::schema::Field,
    href: tantivy::schema::Field,
    summary: tantivy::schema::Field,
    /// The words of titles, whole (not grams): もしかして's vocabulary with the tags.
    words: tantivy::schema::Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        kind: b.add_text_field("kind", STRING | STORED | FAST),
        title: b.add_text_field("title", text.clone()),
        body: b.add_text_field("body", text),
        tag: b.add_text_field("tag", STRING | STORED | FAST),
        how_met: b.add_text_field("how_met", STRING | STORED | FAST),
        length_months: b.add_u64_field(
            "length_months",
            NumericOptions::default()
                .set_indexed()
                .set_stored()
                .set_fast(),
        ),
        // "yes" or "no", a filter with counts like how_met; guides have none.
        continuing: b.add_text_field("continuing", STRING | STORED | FAST),
        href: b.add_text_field("href", STORED),
        summary: b.add_text_field("summary", STORED),
        words: b.add_text_field("words", STRING),
    };
    (b.build(), fields)
}

fn in_use(dir: &Path, e: tantivy::TantivyError) -> anyhow::Error {
    anyhow::anyhow!(
        "the search index at {} is in use by another process (is `engawa serve` running?): {e}",
        dir.display()
    )
}

#[derive(Serialize, Deserialize)]
struct Payload {
    outbox: i64,
    /// Set by a rebuild's commits before its last: an index left so (the rebuild stopped or
    /// failed) holds only part of the content, and is rebuilt rather than served.
    #[serde(default)]
    rebuilding: bool,
}

/// How the index was found at start.
#[derive(Debug, PartialEq, Eq)]
pub enum Opened {
    /// Usable, with the last outbox row it applied.
    Existing { last_applied: i64 },
    /// Missing, unreadable, of another shape or left half-built by a rebuild that did not
    /// finish: it is empty now and must be rebuilt.
    Fresh,
}

pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    ready: AtomicBool,
    /// The outbox position of the searcher currently served; -1 before the first commit.
    applied: AtomicI64,
    dir: PathBuf,
    facets: Arc<FacetCache>,
    vocabulary: VocabularyCache,
}

const WRITER_MEMORY: usize = 64 * 1024 * 1024;
const TITLE_BOOST: f32 = 3.0;
/// How many tags the tag filter offers.
const TAG_FACETS: usize = 12;

impl SearchIndex {
    pub fn open(dir: &Path) -> anyhow::Result<(Self, Opened)> {
        let (schema, fields) = schema();
        let found = Index::open_in_dir(dir).ok();
        if let Some(index) = &found {
            // Never clear an index another process is writing to.
            index.tokenizers().register(TOKENIZER, JaTokenizer);
            drop(
                index
                    .writer::<TantivyDocument>(WRITER_MEMORY)
                    .map_err(|e| in_use(dir, e))?,
            );
        }
        let existing = found.filter(|i| i.schema() == schema).and_then(|i| {
            let payload = i.load_metas().ok()?.payload?;
            let p: Payload = serde_json::from_str(&payload).ok()?;
            (!p.rebuilding).then_some((i, p.outbox))
        });
        let (index, opened) = match existing {
            Some((index, last_applied)) => (index, Opened::Existing { last_applied }),
            None => {
                if dir.exists() {
                    std::fs::remove_dir_all(dir).with_context(|| {
                        format!("cannot clear the search index at {}", dir.display())
                    })?;
                }
                std::fs::create_dir_all(dir).with_context(|| {
                    format!("cannot create the search index at {}", dir.display())
                })?;
                (Index::create_in_dir(dir, schema)?, Opened::Fresh)
            }
        };
        index.tokenizers().register(TOKENIZER, JaTokenizer);
        let mut index = index;
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 4);
        if threads > 1 {
            index.set_multithread_executor(threads)?;
        }
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let writer = index.writer(WRITER_MEMORY).with_context(|| {
            format!(
                "the search index at {} is in use by another process",
                dir.display()
            )
        })?;
        let ready = matches!(opened, Opened::Existing { .. });
        Ok((
            SearchIndex {
                index,
                reader,
                writer: Mutex::new(writer),
                fields,
                ready: AtomicBool::new(ready),
                applied: AtomicI64::new(match opened {
                    Opened::Existing { last_applied } => last_applied,
                    Opened::Fresh => -1,
                }),
                dir: dir.to_owned(),
                facets: Arc::default(),
                vocabulary: VocabularyCache::default(),
            },
            opened,
        ))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds the document, replacing the one with its id.
    pub fn upsert(&self, doc: &SearchDoc) -> anyhow::Result<()> {
        self.lock()
            .delete_term(Term::from_field_text(self.fields.id, &doc.id));
        self.add(doc)
    }

    /// Adds a document the index does not hold (a rebuild's: each delete is a lookup in every
    /// segment at the next commit, a million of them for nothing).
    pub fn add(&self, doc: &SearchDoc) -> anyhow::Result<()> {
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        d.add_text(f.id, &doc.id);
        d.add_text(f.kind, doc.kind.as_str());
        d.add_text(f.title, &doc.title);
        for word in vocabulary_words(&doc.title) {
            d.add_text(f.words, &word);
        }
        d.add_text(f.body, &doc.body);
        for tag in &doc.tags {
            d.add_text(f.tag, tag);
        }
        d.add_text(f.href, &doc.href);
        d.add_text(f.summary, &doc.summary);
        if let Some(r) = doc.story {
            d.add_u64(
                f.length_months,
                u64::try_from(r.length.months()).unwrap_or(0),
            );
            d.add_text(f.how_met, r.how_met.as_str());
            d.add_text(f.continuing, Continuance::of(r.continuing).as_str());
        }
        self.lock().add_document(d)?;
        Ok(())
    }

    /// Runs a rebuild without background merges: it merges each part once itself, where
    /// merging as segments pile up rewrote every document several times over.
    pub fn without_merges<T>(&self, rebuild: impl FnOnce() -> T) -> T {
        /// Puts background merges back however the rebuild ends, a panic included (a server
        /// left without them would pile up a segment per commit).
        struct Restore<'a>(&'a SearchIndex);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                self.0
                    .lock()
                    .set_merge_policy(Box::new(LogMergePolicy::default()));
            }
        }
        self.lock().set_merge_policy(Box::new(NoMergePolicy));
        let _restore = Restore(self);
        rebuild()
    }

    pub fn delete(&self, id: &str) {
        self.lock()
            .delete_term(Term::from_field_text(self.fields.id, id));
    }

    pub fn clear(&self) -> anyhow::Result<()> {
        self.lock().delete_all_documents()?;
        Ok(())
    }

    /// Makes the changes visible, recording the last outbox row they include. A deleted document
    /// (a withdrawn story, the old version of an edited one) stays in its segment's files until
    /// the segment is rewritten, so those segments are rewritten before the position is
    /// announced: once a node reports a position, removed text is gone from its index files.
    pub fn commit(&self, last_applied: i64) -> anyhow::Result<()> {
        self.write_commit(Payload {
            outbox: last_applied,
            rebuilding: false,
        })?;
        // Announced only once searches see it: a page cached under this position shows it.
        self.applied.store(last_applied, Ordering::Release);
        Ok(())
    }

    /// Commits a part of a rebuild: on disk, the index says it is half-built until the rebuild's
    /// last commit, and no position is announced.
    pub fn commit_part(&self, last_applied: i64) -> anyhow::Result<()> {
        self.write_commit(Payload {
            outbox: last_applied,
            rebuilding: true,
        })
    }

    fn write_commit(&self, payload: Payload) -> anyhow::Result<()> {
        let mut writer = self.lock();
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&serde_json::to_string(&payload)?);
        prepared.commit()?;
        drop(writer);
        // Before searches see the commit: between reloading and announcing the position, a page
        // rendered with the new results is cached under the old position, so that window must
        // stay short.
        self.purge_deleted()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Drops every change since the last commit (a rebuild that failed: its cleared index and
    /// the documents it had added).
    pub fn rollback(&self) -> anyhow::Result<()> {
        self.lock().rollback()?;
        Ok(())
    }

    /// Rewrites every segment that holds deleted documents (a merge of that segment alone keeps
    /// only the live ones); the old files are deleted when the merge ends.
    fn purge_deleted(&self) -> anyhow::Result<()> {
        for _ in 0..50 {
            let with_deletes: Vec<_> = self
                .index
                .searchable_segment_metas()?
                .into_iter()
                .filter(|m| m.has_deletes())
                .map(|m| m.id())
                .collect();
            if with_deletes.is_empty() {
                return Ok(());
            }
            for id in with_deletes {
                // Held by a background merge: its result is checked on the next round.
                if !self.merge(&[id])? {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
            }
        }
        anyhow::bail!("segments with deleted documents remain after 50 rounds of rewriting")
    }

    /// Merges `ids` into one segment and waits; `false` when a background merge holds one of
    /// them (the writer is released before the caller waits to try again).
    fn merge(&self, ids: &[tantivy::index::SegmentId]) -> anyhow::Result<bool> {
        let merging = self.lock().merge(ids);
        match merging.wait() {
            Ok(_) => Ok(true),
            Err(tantivy::TantivyError::InvalidArgument(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// How many segments a rebuild leaves, and threads a search uses: one per core, so that a
    /// slow query is split across them.
    pub fn parts(&self) -> usize {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 4)
    }

    pub fn segment_ids(&self) -> anyhow::Result<Vec<tantivy::index::SegmentId>> {
        Ok(self.index.searchable_segment_ids()?)
    }

    /// Merges the segments not in `keep` into one and waits. A background merge may take some
    /// of them first; then it tries again.
    pub fn merge_segments_except(&self, keep: &[tantivy::index::SegmentId]) -> anyhow::Result<()> {
        for _ in 0..20 {
            let ids: Vec<_> = self
                .segment_ids()?
                .into_iter()
                .filter(|id| !keep.contains(id))
                .collect();
            if ids.len() <= 1 || self.merge(&ids)? {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        self.reader.reload()?;
        Ok(())
    }

    /// The last outbox row that searches already reflect.
    pub fn last_applied(&self) -> Option<i64> {
        let applied = self.applied.load(Ordering::Acquire);
        (applied >= 0).then_some(applied)
    }

    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

/// What a reader asks for.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub q: String,
    pub kind: Option<Kind>,
    pub length: Option<LengthBucket>,
    pub how_met: Option<HowMet>,
    pub continuing: Option<Continuance>,
    pub tag: Option<String>,
    pub offset: usize,
    pub limit: usize,
    /// The editors' synonym groups, applied to the query's words.
    pub synonyms: Arc<Synonyms>,
}

#[derive(Debug, Clone)]
pub struct Hit {
    pub id: String,
    pub kind: Kind,
    pub title: String,
    pub href: String,
    pub snippet: Vec<Segment>,
    pub story: Option<Relationship>,
    pub tags: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Facets {
    pub kinds: Vec<(Kind, usize)>,
    pub lengths: Vec<(LengthBucket, usize)>,
    pub how_met: Vec<(HowMet, usize)>,
    pub continuing: Vec<(Continuance, usize)>,
    pub tags: Vec<(String, usize)>,
}

#[derive(Debug, Default)]
pub struct SearchResults {
    pub total: usize,
    pub hits: Vec<Hit>,
    pub facets: Facets,
    pub explained: Explained,
}

/// The text clauses a page is searched with, and the text to mark in its snippets.
struct Chosen {
    /// What a document must match: enough to count and filter.
    matching: Vec<(Occur, Box<dyn Query>)>,
    /// The same documents with what ranks them (relaxed: the parts' nearness), for the top.
    scored: Vec<(Occur, Box<dyn Query>)>,
    needles: Vec<String>,
    /// When any one of these terms is a match (see `SearchIndex::any_term`): the count reads
    /// their postings straight, and the top is their flat union.
    terms: Option<Vec<Term>>,
    /// When any one of these phrases is a match (and not every one is a single term): the
    /// page's count and top are read by `phrase::page`.
    phrases: Option<Vec<Clause>>,
}

/// What the search did beyond the words as typed, for the results page to say.
#[derive(Debug, Default, Clone)]
pub struct Explained {
    /// Words that found little as written and were searched by their content parts.
    pub relaxed: Vec<(String, Vec<String>)>,
    /// How many results the words as written found, when some were relaxed.
    pub as_written: usize,
    /// Related words included from the editors' synonym groups.
    pub widened: Vec<Widened>,
    /// For a query that finds nothing: the closest query that finds something.
    pub suggestion: Option<String>,
    /// The query only excludes (`-word`): there is nothing to find.
    pub only_excluded: bool,
}

/// Words a synonym group added for one word (or part of a word) of the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Widened {
    /// The query's word, as typed.
    pub word: String,
    /// The word or part of it that the group widened.
    pub part: String,
    pub added: Vec<String>,
}

/// A query parsed, with the forms each word is searched in.
struct Plan {
    parsed: Parsed,
    all: Vec<Vec<(Need, Forms)>>,
    none: Vec<Forms>,
}

impl Plan {
    fn new(parsed: Parsed, synonyms: &Synonyms) -> Plan {
        let forms = |n: &Need| (n.clone(), Forms::of(n, synonyms));
        Plan {
            all: parsed
                .all
                .iter()
                .map(|g| g.iter().map(forms).collect())
                .collect(),
            // An exclusion takes the word as typed (folded, never widened): a reader who
            // excludes 相手 has not asked to lose every story that says 恋人.
            none: parsed
                .none
                .iter()
                .map(|n| Forms::of(n, &Synonyms::default()))
                .collect(),
            parsed,
        }
    }

    fn words(&self) -> impl Iterator<Item = &(Need, Forms)> {
        self.all.iter().flatten()
    }

    fn relaxable(&self) -> bool {
        self.words().any(|(_, f)| f.relaxable())
    }

    fn needles(&self, relaxed: bool) -> Vec<String> {
        self.words().flat_map(|(_, f)| f.needles(relaxed)).collect()
    }

    fn relaxed(&self) -> Vec<(String, Vec<String>)> {
        self.words()
            .filter(|(_, f)| f.relaxable())
            .map(|(n, f)| {
                (
                    n.text().to_owned(),
                    f.parts.iter().map(|p| p[0].clone()).collect(),
                )
            })
            .collect()
    }

    fn widened(&self, relaxed: bool) -> Vec<Widened> {
        let mut widened: Vec<Widened> = Vec::new();
        for (n, f) in self.words() {
            for (part, added) in f.widened(relaxed) {
                // A word typed twice is said once.
                if !widened.iter().any(|w| w.part == part) {
                    widened.push(Widened {
                        word: n.text().to_owned(),
                        part,
                        added,
                    });
                }
            }
        }
        widened
    }
}

/// An exact phrase outweighs any ranking of its parts found apart; parts close together come
/// next (NEAR_SLOP positions of leeway, about as many characters).
const EXACT_BOOST: f32 = 20.0;
const NEAR_BOOST: f32 = 5.0;
const NEAR_SLOP: u32 = 30;
/// Beyond this many terms the nearness phrase costs more than the order it gives is worth.
const NEAR_TERMS: usize = 12;
/// Fewer results than a page: words are then also searched by their parts.
const RELAX_BELOW: usize = 10;

/// Every clause as one query. A lone required clause is the query itself: tantivy then sees the
/// union of terms inside and can skip what cannot reach the top, which it does not do through a
/// boolean query around it.
fn all_of(clauses: &[(Occur, Box<dyn Query>)]) -> Box<dyn Query> {
    match clauses {
        [(Occur::Must, only)] => only.box_clone(),
        _ => Box::new(BooleanQuery::new(
            clauses.iter().map(|(o, q)| (*o, q.box_clone())).collect(),
        )),
    }
}

/// Whether the relaxed search replaces the words as written: they found fewer than a page, and
/// it finds more.
fn relaxes(as_written: usize, relaxed: usize) -> bool {
    as_written < RELAX_BELOW && relaxed > as_written
}

fn any_of(mut queries: Vec<Box<dyn Query>>) -> Option<Box<dyn Query>> {
    match queries.len() {
        0 => None,
        1 => queries.pop(),
        _ => Some(Box::new(BooleanQuery::new(
            queries.into_iter().map(|q| (Occur::Should, q)).collect(),
        ))),
    }
}

impl SearchIndex {
    fn term_query(
        &self,
        field: tantivy::schema::Field,
        tokens: &[(usize, String)],
    ) -> Box<dyn Query> {
        if tokens.len() == 1 {
            Box::new(TermQuery::new(
                Term::from_field_text(field, &tokens[0].1),
                IndexRecordOption::WithFreqs,
            ))
        } else {
            Box::new(PhraseQuery::new_with_offset(
                tokens
                    .iter()
                    .map(|(p, t)| (*p, Term::from_field_text(field, t)))
                    .collect(),
            ))
        }
    }

    /// `text` as a phrase in the title (weighing more) or the text; None without letters.
    fn text_match(&self, text: &str) -> Option<Box<dyn Query>> {
        let tokens = query_tokens(text);
        if tokens.is_empty() {
            return None;
        }
        let title: Box<dyn Query> = Box::new(BoostQuery::new(
            self.term_query(self.fields.title, &tokens),
            TITLE_BOOST,
        ));
        let body = self.term_query(self.fields.body, &tokens);
        Some(Box::new(BooleanQuery::new(vec![
            (Occur::Should, title),
            (Occur::Should, body),
        ])))
    }

    /// One word of the query: any of its spellings as a phrase; relaxed, every content part
    /// instead, ranked by the phrase, then by the parts' nearness.
    /// `ranked`: with the nearness of the parts, which only orders what the rest matches (and
    /// costs a position check in each document holding every part).
    fn need_query(&self, forms: &Forms, relaxed: bool, ranked: bool) -> Option<Box<dyn Query>> {
        let exact = any_of(
            forms
                .exact
                .iter()
                .filter_map(|t| self.text_match(t))
                .collect(),
        );
        if !(relaxed && forms.relaxable()) {
            return exact;
        }
        let parts: Vec<(Occur, Box<dyn Query>)> = forms
            .parts
            .iter()
            .filter_map(|part| any_of(part.iter().filter_map(|t| self.text_match(t)).collect()))
            .map(|q| (Occur::Must, q))
            .collect();
        // Either every part, or a spelling of the whole (which a synonym may spell with other
        // parts): relaxing never loses what the word as written found.
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Should, Box::new(BooleanQuery::new(parts)))];
        if let Some(e) = exact {
            clauses.push((Occur::Should, Box::new(BoostQuery::new(e, EXACT_BOOST))));
        }
        if let Some(n) = self.near(forms).filter(|_| ranked) {
            clauses.push((Occur::Should, Box::new(BoostQuery::new(n, NEAR_BOOST))));
        }
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    /// The parts as written close together in the text: a phrase with leeway, each part placed
    /// where it stood in the query.
    fn near(&self, forms: &Forms) -> Option<Box<dyn Query>> {
        let mut terms = Vec::new();
        let mut at = 0;
        for part in &forms.parts {
            terms.extend(
                query_tokens(&part[0])
                    .into_iter()
                    .map(|(p, t)| (at + p, Term::from_field_text(self.fields.body, &t))),
            );
            // The part's width in index positions (a Latin word is one), and one for the
            // particle between.
            let width = document_tokens(&part[0])
                .iter()
                .map(|t| t.position + 1)
                .max();
            at += width.unwrap_or(0) + 1;
        }
        if !(2..=NEAR_TERMS).contains(&terms.len()) {
            return None;
        }
        let mut phrase = PhraseQuery::new_with_offset(terms);
        phrase.set_slop(NEAR_SLOP);
        Some(Box::new(phrase))
    }

    /// Every group of words must match and no excluded one may; None when nothing is to find.
    fn text_clauses(
        &self,
        plan: &Plan,
        relaxed: bool,
        ranked: bool,
    ) -> Option<Vec<(Occur, Box<dyn Query>)>> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = plan
            .all
            .iter()
            .filter_map(|group| {
                any_of(
                    group
                        .iter()
                        .filter_map(|(_, f)| self.need_query(f, relaxed, ranked))
                        .collect(),
                )
            })
            .map(|q| (Occur::Must, q))
            .collect();
        if clauses.is_empty() {
            return None;
        }
        clauses.extend(
            plan.none
                .iter()
                .filter_map(|f| self.need_query(f, false, false))
                .map(|q| (Occur::MustNot, Box::new(Excluded(q)) as Box<dyn Query>)),
        );
        Some(clauses)
    }

    /// The text query with every active filter.
    fn combined(&self, text: &[(Occur, Box<dyn Query>)], req: &SearchRequest) -> Box<dyn Query> {
        let f = &self.fields;
        let exact = |field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, value),
                IndexRecordOption::Basic,
            ))
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            text.iter().map(|(o, q)| (*o, q.box_clone())).collect();
        let filters = [
            req.kind.map(|k| exact(f.kind, k.as_str())),
            req.how_met.map(|h| exact(f.how_met, h.as_str())),
            req.continuing.map(|c| exact(f.continuing, c.as_str())),
            req.tag.as_deref().map(|t| exact(f.tag, t)),
            req.length.map(|b| {
                let (min, max) = b.month_range();
                let term =
                    |m: i32| Term::from_field_u64(f.length_months, u64::try_from(m).unwrap_or(0));
                let upper = max.map_or(Bound::Unbounded, |m| Bound::Excluded(term(m)));
                Box::new(RangeQuery::new(Bound::Included(term(min)), upper)) as Box<dyn Query>
            }),
        ];
        clauses.extend(filters.into_iter().flatten().map(|q| (Occur::Must, q)));
        all_of(&clauses)
    }

    /// The query's text clauses, as written or relaxed, with the needles to mark.
    fn chosen(&self, plan: &Plan, relaxed: bool) -> Option<Chosen> {
        let matching = self.text_clauses(plan, relaxed, false)?;
        let (terms, scored) = match self.any_term(plan, relaxed) {
            Some((terms, flat)) => (Some(terms), vec![(Occur::Must, flat)]),
            None => (None, self.text_clauses(plan, relaxed, true)?),
        };
        let phrases = match terms {
            Some(_) => None,
            None => self.any_phrase(plan, relaxed),
        };
        Some(Chosen {
            matching,
            scored,
            needles: plan.needles(relaxed),
            terms,
            phrases,
        })
    }

    /// Each spelling of a query that any one of them matches, as the index's terms at their
    /// places: one group of words (or words joined by OR), nothing excluded, no word relaxed
    /// into parts.
    fn spellings(plan: &Plan, relaxed: bool) -> Option<Vec<Vec<(usize, String)>>> {
        let [group] = plan.all.as_slice() else {
            return None;
        };
        if !plan.none.is_empty() {
            return None;
        }
        let mut spellings = Vec::new();
        for (_, forms) in group {
            if relaxed && forms.relaxable() {
                return None;
            }
            for spelling in &forms.exact {
                let tokens = query_tokens(spelling);
                if tokens.is_empty() {
                    return None;
                }
                spellings.push(tokens);
            }
        }
        (!spellings.is_empty()).then_some(spellings)
    }

    /// The title and text phrases of such a query, each weighed by the title's boost and by
    /// how many spellings reach it (the nested clauses count it that often).
    fn any_phrase(&self, plan: &Plan, relaxed: bool) -> Option<Vec<Clause>> {
        let mut phrases: Vec<Vec<(usize, Term)>> = Vec::new();
        for tokens in Self::spellings(plan, relaxed)? {
            for field in [self.fields.title, self.fields.body] {
                phrases.push(
                    tokens
                        .iter()
                        .map(|(p, t)| (*p, Term::from_field_text(field, t)))
                        .collect(),
                );
            }
        }
        phrases.sort();
        Some(
            phrases
                .chunk_by(|a, b| a == b)
                .filter_map(|same| {
                    Clause::new(
                        same[0].clone(),
                        self.boost(&same[0][0].1) * same.len() as f32,
                    )
                })
                .collect(),
        )
    }

    fn boost(&self, term: &Term) -> f32 {
        if term.field() == self.fields.title {
            TITLE_BOOST
        } else {
            1.0
        }
    }

    /// The title and text terms of a query that any one of them matches: one group of words (or
    /// words joined by OR), nothing excluded, each spelling of each word one term of the index
    /// (up to four characters of a run, or one Latin word), and no word relaxed into parts.
    /// With them, each once, the same query as one flat union: the nested clauses' scores (a
    /// term that two spellings or two words reach counts as often as they do), in a form where
    /// tantivy skips blocks that cannot reach the top.
    fn any_term(&self, plan: &Plan, relaxed: bool) -> Option<(Vec<Term>, Box<dyn Query>)> {
        let mut terms = Vec::new();
        for tokens in Self::spellings(plan, relaxed)? {
            let [(_, token)] = tokens.try_into().ok()?;
            for field in [self.fields.title, self.fields.body] {
                terms.push(Term::from_field_text(field, &token));
            }
        }
        terms.sort();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for same in terms.chunk_by(|a, b| a == b) {
            let weight = self.boost(&same[0]) * same.len() as f32;
            let q: Box<dyn Query> = Box::new(TermQuery::new(
                same[0].clone(),
                IndexRecordOption::WithFreqs,
            ));
            clauses.push((Occur::Should, Box::new(BoostQuery::new(q, weight))));
        }
        terms.dedup();
        (!terms.is_empty()).then(|| {
            (
                terms,
                Box::new(BooleanQuery::new(clauses)) as Box<dyn Query>,
            )
        })
    }

    /// Only the best `req.limit` hits with their snippets: no total, no filter counts. Relaxed
    /// as the page is (counting the words as written only when they could be relaxed).
    pub fn top(&self, req: &SearchRequest) -> anyhow::Result<Vec<Hit>> {
        let plan = Plan::new(parse(&req.q), &req.synonyms);
        let searcher = self.searcher();
        let Some(strict) = self.chosen(&plan, false) else {
            return Ok(Vec::new());
        };
        if !plan.relaxable() {
            return self.best(&searcher, &strict, req);
        }
        // Enough hits to tell whether to relax (fewer than RELAX_BELOW is the total) and to
        // serve the page from, in one pass each.
        let want = RELAX_BELOW.max(req.offset + req.limit.max(1));
        let top_of = |c: &Chosen| {
            segments::search(
                &searcher,
                &*self.combined(&c.scored, req),
                &TopDocs::with_limit(want).order_by_score(),
            )
        };
        let as_written = top_of(&strict)?;
        let (chosen, top) = match self.chosen(&plan, true) {
            Some(wide) if as_written.len() < RELAX_BELOW => {
                let wider = top_of(&wide)?;
                if relaxes(as_written.len(), wider.len()) {
                    (wide, wider)
                } else {
                    (strict, as_written)
                }
            }
            _ => (strict, as_written),
        };
        let addresses = top
            .into_iter()
            .skip(req.offset)
            .take(req.limit.max(1))
            .map(|(_, a)| a);
        self.hits(&searcher, addresses, &chosen.needles)
    }

    /// The page's hits, scored, with their snippets. Alone in its pass, so that tantivy skips
    /// blocks of documents that cannot enter the top (block-max WAND) where it can.
    fn best(
        &self,
        searcher: &Searcher,
        chosen: &Chosen,
        req: &SearchRequest,
    ) -> anyhow::Result<Vec<Hit>> {
        let top = segments::search(
            searcher,
            &*self.combined(&chosen.scored, req),
            &TopDocs::with_limit(req.limit.max(1))
                .and_offset(req.offset)
                .order_by_score(),
        )?;
        self.hits(searcher, top.into_iter().map(|(_, a)| a), &chosen.needles)
    }

    fn hits(
        &self,
        searcher: &Searcher,
        addresses: impl Iterator<Item = DocAddress>,
        needles: &[String],
    ) -> anyhow::Result<Vec<Hit>> {
        addresses
            .map(|address| self.hit(searcher, address, needles))
            .collect()
    }

    /// A page of results with counts. The words as written first; when they find fewer than
    /// a page and some word has parts, the relaxed search replaces them if it finds more.
    pub fn search(&self, req: &SearchRequest) -> anyhow::Result<SearchResults> {
        let plan = Plan::new(parse(&req.q), &req.synonyms);
        let searcher = self.searcher();
        let Some(strict) = self.chosen(&plan, false) else {
            return Ok(SearchResults {
                explained: Explained {
                    only_excluded: !plan.none.is_empty(),
                    ..Explained::default()
                },
                ..SearchResults::default()
            });
        };
        self.facets.keep_only(&searcher);
        let (mut counts, mut hits) = self.page(&searcher, &strict, req)?;
        let as_written = counts.total;
        let mut relaxed = false;
        if plan.relaxable()
            && as_written < RELAX_BELOW
            && let Some(wide) = self.chosen(&plan, true)
        {
            let (wider, wider_hits) = self.page(&searcher, &wide, req)?;
            if relaxes(as_written, wider.total) {
                (counts, hits, relaxed) = (wider, wider_hits, true);
            }
        }
        let mut results = Self::results(counts, hits);
        results.explained = Explained {
            relaxed: if relaxed { plan.relaxed() } else { Vec::new() },
            as_written,
            widened: plan.widened(relaxed),
            suggestion: if results.total == 0 {
                self.suggestion(&searcher, &plan, &req.synonyms)?
            } else {
                None
            },
            only_excluded: false,
        };
        Ok(results)
    }

    /// One page's hits and every filter's counts. Any one of a few phrases, unfiltered: both
    /// from one walk of the postings (`phrase::page`). Otherwise one pass gives both, unless
    /// the counts must ignore the filters (then the top takes a pass of its own) or any one of
    /// a few terms matches (then the counts read the postings alone and the top, alone, skips
    /// blocks of documents that cannot enter it: block-max WAND, which a phrase cannot use).
    fn page(
        &self,
        searcher: &Searcher,
        chosen: &Chosen,
        req: &SearchRequest,
    ) -> anyhow::Result<(Counts, Vec<Hit>)> {
        let facets = self.facet_collector(req);
        let filtered = req.kind.is_some()
            || req.length.is_some()
            || req.how_met.is_some()
            || req.continuing.is_some()
            || req.tag.is_some();
        // Read from the postings when they can be (see `phrase.rs`). The positions are opened
        // again by name: the directory hands back the mapping this searcher's segments hold,
        // even when a merge has deleted the file since (tested); should that ever fail, the
        // search goes tantivy's way.
        let read = match &chosen.phrases {
            Some(clauses) if !filtered => {
                phrase::page(searcher, clauses, &facets, req.offset + req.limit.max(1))
                    .inspect_err(|e| tracing::warn!(error = %e, "phrase read from the postings failed; searching the usual way"))
                    .ok()
            }
            _ => None,
        };
        if let Some((counts, top)) = read {
            let addresses = top.into_iter().skip(req.offset).map(|(_, a)| a);
            return Ok((counts, self.hits(searcher, addresses, &chosen.needles)?));
        }
        if filtered || chosen.terms.is_some() {
            let counts = match &chosen.terms {
                Some(terms) => facets.count_any(searcher, terms)?,
                None => segments::search(searcher, &*all_of(&chosen.matching), &facets)?,
            };
            return Ok((counts, self.best(searcher, chosen, req)?));
        }
        let top_docs = TopDocs::with_limit(req.limit.max(1))
            .and_offset(req.offset)
            .order_by_score();
        let (top, counts) =
            segments::search(searcher, &*all_of(&chosen.scored), &(top_docs, facets))?;
        let hits = self.hits(searcher, top.into_iter().map(|(_, a)| a), &chosen.needles)?;
        Ok((counts, hits))
    }

    fn facet_collector(&self, req: &SearchRequest) -> FacetCollector {
        FacetCollector {
            cache: self.facets.clone(),
            filters: Filters {
                kind: req.kind.map(|k| k.as_str().to_owned()),
                how_met: req.how_met.map(|h| h.as_str().to_owned()),
                continuing: req.continuing.map(|c| c.as_str().to_owned()),
                length: req.length,
                tag: req.tag.clone(),
            },
        }
    }

    /// The hits with the filters' counts in the order the page shows them.
    fn results(counts: Counts, hits: Vec<Hit>) -> SearchResults {
        let count = |map: &std::collections::HashMap<String, usize>, key: &str| {
            map.get(key).copied().unwrap_or(0)
        };
        let mut tags: Vec<(String, usize)> =
            counts.tags.iter().map(|(t, n)| (t.clone(), *n)).collect();
        tags.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        tags.truncate(TAG_FACETS);
        SearchResults {
            total: counts.total,
            hits,
            facets: Facets {
                kinds: Kind::ALL
                    .into_iter()
                    .map(|k| (k, count(&counts.kinds, k.as_str())))
                    .collect(),
                lengths: LengthBucket::ALL
                    .iter()
                    .map(|b| (*b, count(&counts.lengths, b.as_str())))
                    .collect(),
                how_met: HowMet::ALL
                    .iter()
                    .map(|h| (*h, count(&counts.how_met, h.as_str())))
                    .collect(),
                continuing: Continuance::ALL
                    .iter()
                    .map(|c| (*c, count(&counts.continuing, c.as_str())))
                    .collect(),
                tags,
            },
            explained: Explained::default(),
        }
    }

    /// How many documents the query's words find, without filters, relaxed where they can be.
    fn text_count(&self, searcher: &Searcher, plan: &Plan) -> anyhow::Result<usize> {
        Ok(match self.text_clauses(plan, true, false) {
            Some(clauses) => segments::search(searcher, &BooleanQuery::new(clauses), &Count)?,
            None => 0,
        })
    }

    /// もしかして: for words that find nothing, the closest words of titles and tags; else, for a
    /// query whose words each find something but not together, the query without the word that
    /// leaves the most results. None when the words find something without the filters (the
    /// page offers to remove those) or nothing close enough exists.
    fn suggestion(
        &self,
        searcher: &Searcher,
        plan: &Plan,
        synonyms: &Synonyms,
    ) -> anyhow::Result<Option<String>> {
        if self.text_count(searcher, plan)? > 0 {
            return Ok(None);
        }
        let count =
            |parsed: &Parsed| self.text_count(searcher, &Plan::new(parsed.clone(), synonyms));
        let vocabulary = [self.fields.words, self.fields.tag];
        // Each content part of each word that finds nothing alone, replaced by its nearest
        // word (こどもの受験: こども becomes 子ども, 受験 stays).
        let mut fixes: Vec<(String, String)> = Vec::new();
        for (need, _) in plan.words() {
            let Need::Word(word) = need else { continue };
            let mut fixed = String::new();
            let mut changed = false;
            for piece in pieces(word) {
                match piece {
                    Piece::Joint(j) => fixed.push_str(&j),
                    Piece::Content(c) => {
                        let alone = Parsed {
                            all: vec![vec![Need::Word(c.clone())]],
                            none: Vec::new(),
                        };
                        let near = if count(&alone)? == 0 {
                            self.vocabulary.nearest(searcher, &vocabulary, &c)?
                        } else {
                            None
                        };
                        changed |= near.is_some();
                        fixed.push_str(near.as_deref().unwrap_or(&c));
                    }
                }
            }
            if changed {
                fixes.push((word.clone(), fixed));
            }
        }
        if !fixes.is_empty() {
            let fixed = plan.parsed.replacing(&|n| match n {
                Need::Word(w) => fixes
                    .iter()
                    .find(|(from, _)| from == w)
                    .map(|(_, to)| Need::Word(to.clone())),
                Need::Exact(_) => None,
            });
            if count(&fixed)? > 0 {
                return Ok(Some(fixed.written()));
            }
        }
        let mut best: Option<(usize, Parsed)> = None;
        for i in 0..plan.parsed.all.len() {
            let fewer = plan.parsed.without(i);
            let n = if fewer.all.is_empty() {
                0
            } else {
                count(&fewer)?
            };
            if n > best.as_ref().map_or(0, |b| b.0) {
                best = Some((n, fewer));
            }
        }
        Ok(best.map(|(_, p)| p.written()))
    }

    fn hit(
        &self,
        searcher: &Searcher,
        address: DocAddress,
        needles: &[String],
    ) -> anyhow::Result<Hit> {
        let f = &self.fields;
        let doc: TantivyDocument = searcher.doc(address)?;
        let text = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let kind = Kind::parse(&text(f.kind)).unwrap_or(Kind::Story);
        let story = match (
            doc.get_first(f.length_months).and_then(|v| v.as_u64()),
            HowMet::parse(&text(f.how_met)).ok(),
            Continuance::parse(&text(f.continuing)).ok(),
        ) {
            (Some(months), Some(how_met), Some(continuing)) => Some(Relationship {
                length: i32::try_from(months).unwrap_or(0).into(),
                how_met,
                continuing: continuing == Continuance::Continuing,
                known: true,
            }),
            _ => None,
        };
        let body = text(f.body);
        let summary = text(f.summary);
        Ok(Hit {
            id: text(f.id),
            kind,
            title: text(f.title),
            href: text(f.href),
            snippet: snippet(if body.is_empty() { &summary } else { &body }, needles),
            story,
            tags: doc
                .get_all(f.tag)
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        })
    }

    /// Up to `limit` approved stories like the document `id`, by the words they share.
    pub fn related(&self, id: &str, limit: usize) -> anyhow::Result<Vec<Hit>> {
        let f = &self.fields;
        let searcher = self.searcher();
        let found = segments::search(
            &searcher,
            &TermQuery::new(Term::from_field_text(f.id, id), IndexRecordOption::Basic),
            &TopDocs::with_limit(1).order_by_score(),
        )?;
        let Some((_, address)) = found.into_iter().next() else {
            return Ok(Vec::new());
        };
        let doc: TantivyDocument = searcher.doc(address)?;
        let values =
            |field| -> Vec<OwnedValue> { doc.get_all(field).map(OwnedValue::from).collect() };
        let like = MoreLikeThisQuery::builder()
            .with_min_doc_frequency(2)
            .with_max_doc_frequency(searcher.num_docs() / 5 + 2)
            .with_min_term_frequency(1)
            .with_max_query_terms(40)
            .with_min_word_length(2)
            .with_document_fields(vec![(f.title, values(f.title)), (f.body, values(f.body))]);
        let query = BooleanQuery::new(vec![
            (Occur::Must, Box::new(like) as Box<dyn Query>),
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.kind, Kind::Story.as_str()),
                    IndexRecordOption::Basic,
                )),
            ),
            (
                Occur::MustNot,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.id, id),
                    IndexRecordOption::Basic,
                )),
            ),
        ]);
        let top = segments::search(
            &searcher,
            &query,
            &TopDocs::with_limit(limit).order_by_score(),
        )?;
        top.into_iter()
            .map(|(_, address)| self.hit(&searcher, address, &[]))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::seq::IndexedRandom;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::domain::RelationshipLength;

    const WORDS: [&str; 8] = [
        "ルール",
        "カフェ",
        "喫茶店",
        "約束",
        "家族の予定",
        "月に一度",
        "灯台",
        "映画",
    ];

    /// Random stories and guides over a few words, some deleted after their commit so that the
    /// segments hold deleted documents too.
    fn random_index(dir: &Path) -> SearchIndex {
        let (index, _) = SearchIndex::open(dir).expect("index opens");
        let mut rng = StdRng::seed_from_u64(21);
        for i in 0..3000 {
            let mut text = |n: usize| {
                (0..rng.random_range(0..n))
                    .map(|_| *WORDS.choose(&mut rng).expect("words"))
                    .collect::<Vec<_>>()
                    .join("と")
            };
            let (title, body) = (text(2), text(6));
            let story = rng.random_bool(0.9).then(|| Relationship {
                length: RelationshipLength::from(rng.random_range(0..200)),
                how_met: *HowMet::ALL.choose(&mut rng).expect("ways"),
                continuing: rng.random_bool(0.7),
                known: true,
            });
            index
                .upsert(&SearchDoc {
                    id: format!("doc:{i}"),
                    kind: if story.is_some() {
                        Kind::Story
                    } else {
                        Kind::Guide
                    },
                    title,
                    body,
                    tags: (0..rng.random_range(0..3))
                        .map(|_| format!("tag{}", rng.random_range(0..5)))
                        .collect(),
                    href: format!("/doc/{i}"),
                    story,
                    summary: String::new(),
                })
                .expect("added");
            if i % 1000 == 999 {
                index.commit(i).expect("committed");
            }
        }
        for i in (0..3000).step_by(7) {
            index.delete(&format!("doc:{i}"));
        }
        // Committed without `commit`'s rewriting of segments with deleted documents: a search
        // may meet them between a commit and that rewrite.
        index.lock().commit().expect("committed");
        index.reader.reload().expect("reloaded");
        index
    }

    #[test]
    fn terms_read_from_their_postings_count_and_rank_as_the_clauses_do() {
        let dir = tempfile::tempdir().expect("temp dir");
        let index = random_index(dir.path());
        let searcher = index.searcher();
        assert!(
            searcher
                .segment_readers()
                .iter()
                .any(|r| r.alive_bitset().is_some()),
            "some segment holds deleted documents"
        );
        // Two spellings that fold to one term (カフェ, かふぇ): the nested clauses score it twice.
        let synonyms = Synonyms::new(vec![vec![
            "カフェ".to_owned(),
            "かふぇ".to_owned(),
            "喫茶店".to_owned(),
        ]]);
        let mut rng = StdRng::seed_from_u64(7);
        for q in [
            "ルール",
            "カフェ",
            "約束 OR 灯台",
            "月に一度",
            "ルール OR 映画 OR 約束",
            // Words that reach the same terms: each counts as often as it is reached.
            "カフェ OR 喫茶店 OR 灯台",
            "灯台 OR \"灯台\"",
            "\"ルール\"",
        ] {
            let plan = Plan::new(parse(q), &synonyms);
            // Relaxed, a word with parts needs them all (no union of terms); a word without
            // parts is searched as it was.
            let relaxed = index.chosen(&plan, true).expect("words to find");
            let chosen = index.chosen(&plan, false).expect("words to find");
            if plan.relaxable() {
                assert!(relaxed.terms.is_none(), "{q}");
            } else {
                assert_eq!(relaxed.terms, chosen.terms, "{q}");
            }
            let terms = chosen.terms.as_ref().expect("single terms");
            for round in 0..20 {
                let req = SearchRequest {
                    q: q.to_owned(),
                    how_met: (round % 2 == 1).then(|| *HowMet::ALL.choose(&mut rng).expect("ways")),
                    continuing: (round % 3 == 1)
                        .then(|| *Continuance::ALL.choose(&mut rng).expect("continuing")),
                    length: (round % 4 == 3)
                        .then(|| *LengthBucket::ALL.choose(&mut rng).expect("lengths")),
                    tag: (round % 5 == 4).then(|| format!("tag{}", rng.random_range(0..6))),
                    kind: (round % 6 == 5).then_some(Kind::Story),
                    limit: 10,
                    ..SearchRequest::default()
                };
                let facets = index.facet_collector(&req);
                let read = facets.count_any(&searcher, terms).expect("counted");
                let walked = searcher
                    .search(&*all_of(&chosen.matching), &facets)
                    .expect("counted");
                assert!(walked.total > 0 || round > 0, "{q} finds something");
                assert_eq!(read, walked, "{q}, round {round}");
            }
            // The flat union ranks as the nested clauses do.
            let top = |clauses: &[(Occur, Box<dyn Query>)]| {
                searcher
                    .search(&*all_of(clauses), &TopDocs::with_limit(20).order_by_score())
                    .expect("searched")
                    .into_iter()
                    .map(|(score, address)| ((score * 1000.0).round() as i64, address))
                    .collect::<Vec<_>>()
            };
            // Scores summed in another order may differ in the last bits: equal scores then
            // come in another order, so each score's documents are compared as a set.
            let top = |clauses: &[(Occur, Box<dyn Query>)]| {
                let mut top = top(clauses);
                top.sort_by_key(|(score, a)| (-score, a.segment_ord, a.doc_id));
                top
            };
            let nested = index.text_clauses(&plan, false, true).expect("clauses");
            assert_eq!(top(&chosen.scored), top(&nested), "{q}");
        }
        // Phrases read from the postings count and rank as tantivy's phrase queries do.
        for q in [
            "家族の予定",
            "家族の予定 OR 灯台",
            "ルールと約束",
            "\"月に一度と灯台\"",
            "カフェと映画 OR 映画とかふぇ",
            "喫茶店と灯台とルール",
            "\"ルールとルールと\"",
        ] {
            let plan = Plan::new(parse(q), &synonyms);
            let chosen = index.chosen(&plan, false).expect("words to find");
            assert!(chosen.terms.is_none(), "{q}");
            let clauses = chosen.phrases.as_ref().expect("phrases");
            let req = SearchRequest {
                q: q.to_owned(),
                limit: 10,
                ..SearchRequest::default()
            };
            let facets = index.facet_collector(&req);
            // Every match ranked, not just a page: a wrong score anywhere shows.
            let (read, top) = phrase::page(&searcher, clauses, &facets, 3000).expect("read");
            // A page's worth is the head of the whole ranking (kept while passing over most).
            let (_, ten) = phrase::page(&searcher, clauses, &facets, 10).expect("read");
            assert_eq!(ten, top[..10], "{q}");
            let walked = searcher
                .search(&*all_of(&chosen.matching), &facets)
                .expect("counted");
            assert!(walked.total > 10, "{q} finds {}", walked.total);
            assert_eq!(read, walked, "{q}");
            let tantivy = searcher
                .search(
                    &*all_of(&chosen.scored),
                    &TopDocs::with_limit(3000).order_by_score(),
                )
                .expect("searched");
            // The same documents in the same order; two may trade places only when their
            // scores tie to within the last bits (see `phrase::page`).
            assert_eq!(top.len(), tantivy.len(), "{q}");
            for ((score, at), (theirs, their_at)) in top.iter().zip(&tantivy) {
                assert!(
                    (score - theirs).abs() < 1e-4,
                    "{q}: {score} against {theirs}"
                );
                assert!(
                    at == their_at
                        || tantivy
                            .iter()
                            .any(|(s, a)| a == at && (s - score).abs() < 1e-4),
                    "{q}: {at:?} in the place of {their_at:?}"
                );
            }
        }
        // A phrase of several terms, or a word excluded, is no union of terms.
        for q in ["家族の予定のルール", "ルール -灯台", "ルール 約束"] {
            let plan = Plan::new(parse(q), &synonyms);
            assert!(
                index.chosen(&plan, false).expect("words").terms.is_none(),
                "{q}"
            );
            assert_eq!(
                index.chosen(&plan, false).expect("words").phrases.is_some(),
                q == "家族の予定のルール",
                "{q}"
            );
        }
    }

    /// A search holds its searcher while the index merges: the segments it reads are merged
    /// away and their files deleted. The phrase reader opens the positions again by name; it
    /// must still read what the held searcher sees, and the page must be the same.
    #[test]
    fn a_phrase_read_under_a_held_searcher_survives_a_merge() {
        let dir = tempfile::tempdir().expect("temp dir");
        let index = random_index(dir.path());
        let held = index.searcher();
        let synonyms = Synonyms::default();
        let plan = Plan::new(parse("家族の予定"), &synonyms);
        let chosen = index.chosen(&plan, false).expect("words to find");
        let clauses = chosen.phrases.as_ref().expect("phrases");
        let req = SearchRequest {
            q: "家族の予定".to_owned(),
            limit: 10,
            ..SearchRequest::default()
        };
        let facets = index.facet_collector(&req);
        let before = phrase::page(&held, clauses, &facets, 10).expect("read");
        let page = |searcher: &Searcher| {
            let (counts, hits) = index.page(searcher, &chosen, &req).expect("page");
            (counts, hits.into_iter().map(|h| h.id).collect::<Vec<_>>())
        };
        let page_before = page(&held);
        assert!(page_before.0.total > 10);

        let old: Vec<_> = held
            .segment_readers()
            .iter()
            .map(|r| r.segment_id())
            .collect();
        index.merge_segments_except(&[]).expect("merged");
        let positions = |id: &tantivy::index::SegmentId| {
            dir.path()
                .join(format!("{}.pos", id.uuid_string()))
                .exists()
        };
        assert!(
            old.iter().all(|id| !positions(id)),
            "the held segments' files are deleted"
        );
        assert!(
            !index
                .searcher()
                .segment_readers()
                .iter()
                .any(|r| old.contains(&r.segment_id())),
            "the index has moved on"
        );

        let after = phrase::page(&held, clauses, &facets, 10).expect("read after the merge");
        assert_eq!(after.0, before.0);
        assert_eq!(after.1, before.1);
    }
}
