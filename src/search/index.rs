//! The tantivy index of published guides and approved stories, under `<data dir>/search`.
//! It is derived data: the indexer (indexer.rs) fills it from the database and the outbox, and
//! records in each commit the last outbox row it applied.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
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

use super::analyzer::{JaTokenizer, TOKENIZER, query_tokens};
use super::facets::{FacetCache, FacetCollector, Filters};
use super::snippet::{Segment, snippet};
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
}

/// How the index was found at start.
#[derive(Debug, PartialEq, Eq)]
pub enum Opened {
    /// Usable, with the last outbox row it applied.
    Existing { last_applied: i64 },
    /// Missing, unreadable or of another shape: it is empty now and must be rebuilt.
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
            Some((i, p.outbox))
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

    pub fn upsert(&self, doc: &SearchDoc) -> anyhow::Result<()> {
        let f = &self.fields;
        let writer = self.lock();
        writer.delete_term(Term::from_field_text(f.id, &doc.id));
        let mut d = TantivyDocument::default();
        d.add_text(f.id, &doc.id);
        d.add_text(f.kind, doc.kind.as_str());
        d.add_text(f.title, &doc.title);
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
        writer.add_document(d)?;
        Ok(())
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
        let mut writer = self.lock();
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&serde_json::to_string(&Payload {
            outbox: last_applied,
        })?);
        prepared.commit()?;
        drop(writer);
        // Before searches see the commit: between reloading and announcing the position below,
        // a page rendered with the new results is cached under the old position, so that window
        // must stay short.
        self.purge_deleted()?;
        self.reader.reload()?;
        // Announced only once searches see it: a page cached under this position shows it.
        self.applied.store(last_applied, Ordering::Release);
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

    /// Every word of the query must appear, in the title or the text; a title match weighs more.
    /// There is no query syntax, so no input can be malformed.
    fn text_query(&self, q: &str) -> Option<Vec<Box<dyn Query>>> {
        let terms: Vec<Box<dyn Query>> = q
            .split_whitespace()
            .map(query_tokens)
            .filter(|tokens| !tokens.is_empty())
            .map(|tokens| {
                let title: Box<dyn Query> = Box::new(BoostQuery::new(
                    self.term_query(self.fields.title, &tokens),
                    TITLE_BOOST,
                ));
                let body = self.term_query(self.fields.body, &tokens);
                Box::new(BooleanQuery::new(vec![
                    (Occur::Should, title),
                    (Occur::Should, body),
                ])) as Box<dyn Query>
            })
            .collect();
        (!terms.is_empty()).then_some(terms)
    }

    /// The text query with every active filter.
    fn combined(&self, text: &[Box<dyn Query>], req: &SearchRequest) -> BooleanQuery {
        let f = &self.fields;
        let exact = |field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, value),
                IndexRecordOption::Basic,
            ))
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            text.iter().map(|q| (Occur::Must, q.box_clone())).collect();
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
        BooleanQuery::new(clauses)
    }

    /// Only the best `req.limit` hits with their snippets: no total, no filter counts.
    pub fn top(&self, req: &SearchRequest) -> anyhow::Result<Vec<Hit>> {
        let Some(text) = self.text_query(&req.q) else {
            return Ok(Vec::new());
        };
        let searcher = self.searcher();
        let query = self.combined(&text, req);
        let top = searcher.search(
            &query,
            &TopDocs::with_limit(req.limit.max(1))
                .and_offset(req.offset)
                .order_by_score(),
        )?;
        let needles: Vec<String> = req.q.split_whitespace().map(str::to_owned).collect();
        top.into_iter()
            .map(|(_, address)| self.hit(&searcher, address, &needles))
            .collect()
    }

    pub fn search(&self, req: &SearchRequest) -> anyhow::Result<SearchResults> {
        let Some(text) = self.text_query(&req.q) else {
            return Ok(SearchResults::default());
        };
        let searcher = self.searcher();
        self.facets.keep_only(&searcher);
        let facets = FacetCollector {
            cache: self.facets.clone(),
            filters: Filters {
                kind: req.kind.map(|k| k.as_str().to_owned()),
                how_met: req.how_met.map(|h| h.as_str().to_owned()),
                continuing: req.continuing.map(|c| c.as_str().to_owned()),
                length: req.length,
                tag: req.tag.clone(),
            },
        };
        let top_docs = TopDocs::with_limit(req.limit.max(1))
            .and_offset(req.offset)
            .order_by_score();
        let text_only =
            BooleanQuery::new(text.iter().map(|q| (Occur::Must, q.box_clone())).collect());
        let filtered = req.kind.is_some()
            || req.length.is_some()
            || req.how_met.is_some()
            || req.continuing.is_some()
            || req.tag.is_some();
        // One pass over the text query gives every count; the filtered top needs a second only
        // when a filter is active.
        let (top, counts) = if filtered {
            let counts = searcher.search(&text_only, &facets)?;
            (
                searcher.search(&self.combined(&text, req), &top_docs)?,
                counts,
            )
        } else {
            searcher.search(&text_only, &(top_docs, facets))?
        };
        let needles: Vec<String> = req.q.split_whitespace().map(str::to_owned).collect();
        let hits = top
            .into_iter()
            .map(|(_, address)| self.hit(&searcher, address, &needles))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let count = |map: &std::collections::HashMap<String, usize>, key: &str| {
            map.get(key).copied().unwrap_or(0)
        };
        let mut tags: Vec<(String, usize)> =
            counts.tags.iter().map(|(t, n)| (t.clone(), *n)).collect();
        tags.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        tags.truncate(TAG_FACETS);
        Ok(SearchResults {
            total: counts.total,
            hits,
            facets: Facets {
                kinds: Kind::ALL
                    .into_iter()
                    .map(|k| (k, count(&counts.kinds, k.as_str())))
                    .collect(),
                lengths: LengthBucket::ALL
                    .iter()
                    .map(|b| (*b, counts.lengths.get(b.as_str()).copied().unwrap_or(0)))
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
        })
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
        let found = searcher.search(
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
        let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        top.into_iter()
            .map(|(_, address)| self.hit(&searcher, address, &[]))
            .collect()
    }
}
