//! Filter counts over the text query's matches: for each dimension, the matches that pass every
//! *other* active filter, counted by their value in that dimension (so a reader sees how many
//! results each choice would give). Also the total that passes every filter.
//!
//! The collector only marks which documents match, one bit each. Counting then goes one of two
//! ways, whichever costs less for this many matches: document by document (few matches), or
//! value by value, each value's documents against the matches a machine word at a time (many
//! matches: a common word over a million stories matched half of them, and counting those one by
//! one was most of the search's time).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, Score, Searcher, SegmentOrdinal, SegmentReader, Term};

use crate::domain::LengthBucket;

/// The active filters, by stored value.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub kind: Option<String>,
    pub how_met: Option<String>,
    pub continuing: Option<String>,
    pub length: Option<LengthBucket>,
    pub tag: Option<String>,
}

impl Filters {
    fn values(&self) -> [Option<&str>; DIMS] {
        [
            self.kind.as_deref(),
            self.how_met.as_deref(),
            self.tag.as_deref(),
            self.continuing.as_deref(),
            self.length.map(LengthBucket::as_str),
        ]
    }
}

#[derive(Debug, Default, PartialEq)]
pub struct Counts {
    pub total: usize,
    pub kinds: HashMap<String, usize>,
    pub how_met: HashMap<String, usize>,
    pub continuing: HashMap<String, usize>,
    pub lengths: HashMap<String, usize>,
    pub tags: HashMap<String, usize>,
}

fn in_bucket(months: Option<u64>, bucket: LengthBucket) -> bool {
    let (min, max) = bucket.month_range();
    months.is_some_and(|m| {
        let m = i64::try_from(m).unwrap_or(i64::MAX);
        m >= i64::from(min) && max.is_none_or(|x| m < i64::from(x))
    })
}

/// The dimensions: kind, how_met, tag, continuing and length, in this order everywhere
/// (`Filters::values`, `SegmentFacets::dims`, the counts).
const DIMS: usize = 5;
/// The string dimensions' fast fields, in that order (length comes from `length_months`).
const STR_FIELDS: [&str; 4] = ["kind", "how_met", "tag", "continuing"];

/// A value held by at least one document in this many gets a bit per document; rarer values
/// keep the list of their documents (which then costs less memory than the bits, and less time
/// to count).
const DENSE_EVERY: usize = 32;

fn words(max_doc: DocId) -> usize {
    (max_doc as usize).div_ceil(64)
}

fn has(bits: &[u64], doc: DocId) -> bool {
    bits[doc as usize / 64] & (1 << (doc % 64)) != 0
}

/// The documents of one segment that hold one value.
enum Holders {
    Bits(Vec<u64>),
    Docs(Vec<DocId>),
}

impl Holders {
    /// How many of them are set in `mask`.
    fn count_in(&self, mask: &[u64]) -> usize {
        match self {
            Holders::Bits(bits) => bits
                .iter()
                .zip(mask)
                .map(|(b, m)| (b & m).count_ones() as usize)
                .sum(),
            Holders::Docs(docs) => docs.iter().filter(|d| has(mask, **d)).count(),
        }
    }

    fn to_bits(&self, words: usize) -> Vec<u64> {
        match self {
            Holders::Bits(bits) => bits.clone(),
            Holders::Docs(docs) => {
                let mut bits = vec![0; words];
                for &d in docs {
                    bits[d as usize / 64] |= 1 << (d % 64);
                }
                bits
            }
        }
    }
}

/// One dimension of one segment: each document's values as ordinals into `terms`, and each
/// value's documents.
struct Dim {
    terms: Vec<String>,
    /// Document `d`'s ordinals are `ords[offsets[d]..offsets[d + 1]]`.
    offsets: Vec<u32>,
    ords: Vec<u32>,
    holders: Vec<Holders>,
}

impl Dim {
    /// `values(doc, out)` appends the document's ordinals into `terms`, each once.
    fn build(
        terms: Vec<String>,
        max_doc: DocId,
        mut values: impl FnMut(DocId, &mut Vec<u32>),
    ) -> Self {
        let mut offsets = Vec::with_capacity(max_doc as usize + 1);
        offsets.push(0);
        let mut ords = Vec::new();
        let mut docs: Vec<Vec<DocId>> = vec![Vec::new(); terms.len()];
        for doc in 0..max_doc {
            let from = ords.len();
            values(doc, &mut ords);
            for &o in &ords[from..] {
                if let Some(list) = docs.get_mut(o as usize) {
                    list.push(doc);
                }
            }
            offsets.push(u32::try_from(ords.len()).unwrap_or(u32::MAX));
        }
        let holders = docs
            .into_iter()
            .map(|list| {
                let holders = Holders::Docs(list);
                match &holders {
                    Holders::Docs(l) if l.len() * DENSE_EVERY >= max_doc as usize => {
                        Holders::Bits(holders.to_bits(words(max_doc)))
                    }
                    _ => holders,
                }
            })
            .collect();
        Dim {
            terms,
            offsets,
            ords,
            holders,
        }
    }

    fn read(column: Option<StrColumn>, max_doc: DocId) -> tantivy::Result<Self> {
        let Some(column) = column else {
            return Ok(Dim::build(Vec::new(), max_doc, |_, _| {}));
        };
        let mut terms = Vec::new();
        let mut term = String::new();
        for ord in 0..column.dictionary().num_terms() as u64 {
            column.ord_to_str(ord, &mut term)?;
            terms.push(term.clone());
        }
        Ok(Dim::build(terms, max_doc, |doc, out| {
            out.extend(
                column
                    .ords()
                    .values_for_doc(doc)
                    .filter_map(|o| u32::try_from(o).ok()),
            );
        }))
    }

    fn of(&self, doc: DocId) -> &[u32] {
        let from = self.offsets[doc as usize] as usize;
        let to = self.offsets[doc as usize + 1] as usize;
        &self.ords[from..to]
    }

    /// The filter's value as an ordinal here: None without a filter, Some(None) when the value
    /// does not occur in this segment (so nothing passes).
    fn wanted(&self, value: Option<&str>) -> Option<Option<u32>> {
        value.map(|v| {
            self.terms
                .iter()
                .position(|t| t == v)
                .and_then(|o| u32::try_from(o).ok())
        })
    }
}

/// A segment's facet values, read once from its fast fields: segments never change, and reading
/// the columns document by document on every search cost as much as the search itself.
pub struct SegmentFacets {
    max_doc: DocId,
    dims: [Dim; DIMS],
}

impl SegmentFacets {
    fn read(reader: &SegmentReader) -> tantivy::Result<Self> {
        let fast = reader.fast_fields();
        let max_doc = reader.max_doc();
        let months = fast.u64("length_months")?;
        let mut dims = Vec::with_capacity(DIMS);
        for field in STR_FIELDS {
            dims.push(Dim::read(fast.str(field)?, max_doc)?);
        }
        dims.push(Dim::build(
            LengthBucket::ALL
                .iter()
                .map(|b| b.as_str().to_owned())
                .collect(),
            max_doc,
            |doc, out| {
                let m = months.first(doc);
                out.extend(
                    (0u32..)
                        .zip(LengthBucket::ALL)
                        .filter(|(_, b)| in_bucket(m, **b))
                        .map(|(i, _)| i),
                );
            },
        ));
        Self::new(max_doc, dims)
    }

    fn new(max_doc: DocId, dims: Vec<Dim>) -> tantivy::Result<Self> {
        Ok(SegmentFacets {
            max_doc,
            dims: dims
                .try_into()
                .map_err(|_| tantivy::TantivyError::InternalError("facet dims".to_owned()))?,
        })
    }

    /// Each dimension's count per ordinal and the total, for the matches (a bit per document)
    /// under the filters (`wanted`, as `Dim::wanted` gives them).
    fn count(
        &self,
        wanted: &[Option<Option<u32>>; DIMS],
        matches: &[u64],
        matched: usize,
    ) -> ([Vec<usize>; DIMS], usize) {
        let words = matches.len();
        // Rough costs in the same unit: a document's values looked up in every dimension, against
        // a word of every dense value plus a bit test per rare value's document.
        let (dense, rare) =
            self.dims
                .iter()
                .flat_map(|d| &d.holders)
                .fold((0, 0), |(dense, rare), h| match h {
                    Holders::Bits(_) => (dense + 1, rare),
                    Holders::Docs(docs) => (dense, rare + docs.len()),
                });
        if matched * DIMS * 8 < words * (dense + DIMS) + rare * 2 {
            self.count_by_document(wanted, matches)
        } else {
            self.count_by_value(wanted, matches)
        }
    }

    fn passes(&self, wanted: &[Option<Option<u32>>; DIMS], dim: usize, doc: DocId) -> bool {
        match wanted[dim] {
            None => true,
            Some(None) => false,
            Some(Some(w)) => self.dims[dim].of(doc).contains(&w),
        }
    }

    fn count_by_document(
        &self,
        wanted: &[Option<Option<u32>>; DIMS],
        matches: &[u64],
    ) -> ([Vec<usize>; DIMS], usize) {
        let mut counts = self.dims.each_ref().map(|d| vec![0; d.terms.len()]);
        let mut total = 0;
        const ALL: u8 = (1 << DIMS) - 1;
        for doc in set_bits(matches) {
            // Bit d set: the document passes dimension d's filter. It counts for a dimension
            // when it passes every other one.
            let passed =
                (0..DIMS).fold(0u8, |m, d| m | (u8::from(self.passes(wanted, d, doc)) << d));
            for (d, counts) in counts.iter_mut().enumerate() {
                if passed | (1 << d) == ALL {
                    for &o in self.dims[d].of(doc) {
                        if let Some(slot) = counts.get_mut(o as usize) {
                            *slot += 1;
                        }
                    }
                }
            }
            total += usize::from(passed == ALL);
        }
        (counts, total)
    }

    fn count_by_value(
        &self,
        wanted: &[Option<Option<u32>>; DIMS],
        matches: &[u64],
    ) -> ([Vec<usize>; DIMS], usize) {
        let words = matches.len();
        // Each active filter's documents as bits (None: no filter).
        let filters: Vec<Option<Vec<u64>>> = (0..DIMS)
            .map(|d| {
                wanted[d].map(
                    |w| match w.and_then(|o| self.dims[d].holders.get(o as usize)) {
                        Some(h) => h.to_bits(words),
                        None => vec![0; words],
                    },
                )
            })
            .collect();
        // masks[d]: the matches that pass every filter but dimension d's; `all`: every filter.
        let mut masks: Vec<Vec<u64>> = vec![vec![0; words]; DIMS];
        let mut total = 0;
        for w in 0..words {
            let m = matches[w];
            if m == 0 {
                continue;
            }
            let pass = filters
                .iter()
                .map(|f| f.as_ref().map_or(!0, |bits| bits[w]));
            let all = pass.clone().fold(m, |a, p| a & p);
            total += all.count_ones() as usize;
            for (d, mask) in masks.iter_mut().enumerate() {
                mask[w] = pass
                    .clone()
                    .enumerate()
                    .filter(|(e, _)| *e != d)
                    .fold(m, |a, (_, p)| a & p);
            }
        }
        let counts = std::array::from_fn(|d| {
            self.dims[d]
                .holders
                .iter()
                .map(|h| h.count_in(&masks[d]))
                .collect()
        });
        (counts, total)
    }
}

/// The documents whose bits are set, ascending.
fn set_bits(bits: &[u64]) -> impl Iterator<Item = DocId> + '_ {
    (0u32..).zip(bits).flat_map(|(w, &word)| {
        let mut rest = word;
        std::iter::from_fn(move || {
            (rest != 0).then(|| {
                let bit = rest.trailing_zeros();
                rest &= rest - 1;
                w * 64 + bit
            })
        })
    })
}

/// Facet values per segment, kept for as long as the segment is searched.
#[derive(Default)]
pub struct FacetCache {
    segments: Mutex<HashMap<SegmentId, Arc<SegmentFacets>>>,
}

impl FacetCache {
    fn get(&self, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentFacets>> {
        let id = reader.segment_id();
        if let Some(found) = self.lock().get(&id) {
            return Ok(found.clone());
        }
        // Read outside the lock; two searches reading the same new segment at once is harmless.
        let facets = Arc::new(SegmentFacets::read(reader)?);
        self.lock().insert(id, facets.clone());
        Ok(facets)
    }

    /// Forgets segments the searcher no longer has (merged away).
    pub fn keep_only(&self, searcher: &Searcher) {
        let live: Vec<SegmentId> = searcher
            .segment_readers()
            .iter()
            .map(|r| r.segment_id())
            .collect();
        self.lock().retain(|id, _| live.contains(id));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SegmentId, Arc<SegmentFacets>>> {
        self.segments.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct FacetCollector {
    pub filters: Filters,
    pub cache: Arc<FacetCache>,
}

pub struct FacetSegment {
    facets: Arc<SegmentFacets>,
    wanted: [Option<Option<u32>>; DIMS],
    /// A bit per document of the segment: set when it matches.
    matches: Vec<u64>,
    matched: usize,
}

impl Collector for FacetCollector {
    type Fruit = Counts;
    type Child = FacetSegment;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<FacetSegment> {
        let facets = self.cache.get(reader)?;
        let values = self.filters.values();
        Ok(FacetSegment {
            wanted: std::array::from_fn(|d| facets.dims[d].wanted(values[d])),
            matches: vec![0; words(facets.max_doc)],
            matched: 0,
            facets,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Counts>) -> tantivy::Result<Counts> {
        let mut all = Counts::default();
        for f in fruits {
            all.total += f.total;
            for (map, part) in [
                (&mut all.kinds, f.kinds),
                (&mut all.how_met, f.how_met),
                (&mut all.tags, f.tags),
                (&mut all.continuing, f.continuing),
                (&mut all.lengths, f.lengths),
            ] {
                for (k, n) in part {
                    *map.entry(k).or_default() += n;
                }
            }
        }
        Ok(all)
    }
}

impl FacetCollector {
    /// The counts for the documents holding any of `terms`, read straight from their postings
    /// into the bits the collector would mark: no scorers, no union walked document by document
    /// (for a word in nearly every story, that walk was most of the count's time).
    pub fn count_any(&self, searcher: &Searcher, terms: &[Term]) -> tantivy::Result<Counts> {
        let fruits = super::segments::each(searcher, |ord, reader| {
            let mut segment = self.for_segment(ord, reader)?;
            let alive = reader.alive_bitset();
            let matches = &mut segment.matches;
            for term in terms {
                let Some(mut postings) = reader
                    .inverted_index(term.field())?
                    .read_block_postings(term, IndexRecordOption::Basic)?
                else {
                    continue;
                };
                while !postings.docs().is_empty() {
                    for &doc in postings.docs() {
                        if alive.is_none_or(|a| a.is_alive(doc))
                            && let Some(word) = matches.get_mut(doc as usize / 64)
                        {
                            *word |= 1 << (doc % 64);
                        }
                    }
                    postings.advance();
                }
            }
            segment.matched = matches.iter().map(|w| w.count_ones() as usize).sum();
            Ok(segment.harvest())
        })?;
        self.merge_fruits(fruits)
    }
}

impl SegmentCollector for FacetSegment {
    type Fruit = Counts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let Some(word) = self.matches.get_mut(doc as usize / 64) {
            *word |= 1 << (doc % 64);
            self.matched += 1;
        }
    }

    fn harvest(self) -> Counts {
        let (counts, total) = self.facets.count(&self.wanted, &self.matches, self.matched);
        let [kinds, how_met, tags, continuing, lengths] = std::array::from_fn(|d| {
            counts[d]
                .iter()
                .zip(&self.facets.dims[d].terms)
                .filter(|(n, _)| **n > 0)
                .map(|(n, t)| (t.clone(), *n))
                .collect()
        });
        Counts {
            total,
            kinds,
            how_met,
            tags,
            continuing,
            lengths,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    const TERMS: [usize; DIMS] = [2, 6, 300, 2, 4];
    const TAG: usize = 2;

    /// Each document's ordinals per dimension: low ordinals common, high ones rare, some
    /// documents without a value, several tags to a document.
    fn documents(rng: &mut StdRng, max_doc: usize) -> Vec<[Vec<u32>; DIMS]> {
        (0..max_doc)
            .map(|_| {
                std::array::from_fn(|d| {
                    let n = TERMS[d] as u32;
                    let k = if d == TAG {
                        rng.random_range(0..4)
                    } else {
                        usize::from(rng.random_range(0..10) > 0)
                    };
                    let mut v: Vec<u32> = (0..k)
                        .map(|_| rng.random_range(0..n).min(rng.random_range(0..n)))
                        .collect();
                    v.sort_unstable();
                    v.dedup();
                    v
                })
            })
            .collect()
    }

    fn segment(docs: &[[Vec<u32>; DIMS]]) -> SegmentFacets {
        let max_doc = docs.len() as DocId;
        let dims = (0..DIMS)
            .map(|d| {
                let terms = (0..TERMS[d]).map(|i| format!("v{i}")).collect();
                Dim::build(terms, max_doc, |doc, out| {
                    out.extend(&docs[doc as usize][d]);
                })
            })
            .collect();
        SegmentFacets::new(max_doc, dims).expect("five dimensions")
    }

    /// Counted the plainest way, straight from the documents' values.
    fn expected(
        docs: &[[Vec<u32>; DIMS]],
        wanted: &[Option<Option<u32>>; DIMS],
        matched: &[DocId],
    ) -> ([Vec<usize>; DIMS], usize) {
        let mut counts = TERMS.map(|n| vec![0; n]);
        let mut total = 0;
        let passes = |doc: &[Vec<u32>; DIMS], d: usize| match wanted[d] {
            None => true,
            Some(None) => false,
            Some(Some(w)) => doc[d].contains(&w),
        };
        for &m in matched {
            let doc = &docs[m as usize];
            for d in 0..DIMS {
                if (0..DIMS).filter(|e| *e != d).all(|e| passes(doc, e)) {
                    for &o in &doc[d] {
                        counts[d][o as usize] += 1;
                    }
                }
            }
            total += usize::from((0..DIMS).all(|e| passes(doc, e)));
        }
        (counts, total)
    }

    #[test]
    fn both_ways_of_counting_agree_with_the_plain_count_under_any_filters() {
        let mut rng = StdRng::seed_from_u64(21);
        let docs = documents(&mut rng, 5000);
        let facets = segment(&docs);
        let holders = facets.dims.iter().flat_map(|d| &d.holders);
        assert!(holders.clone().any(|h| matches!(h, Holders::Bits(_))));
        assert!(holders.clone().any(|h| matches!(h, Holders::Docs(_))));
        for round in 0..200 {
            let share = [1, 2, 10, 100, 1000][round % 5];
            let matched: Vec<DocId> = (0..docs.len() as DocId)
                .filter(|_| rng.random_range(0..1000) < share)
                .collect();
            let mut bits = vec![0; words(docs.len() as DocId)];
            for &m in &matched {
                bits[m as usize / 64] |= 1 << (m % 64);
            }
            let wanted: [Option<Option<u32>>; DIMS] =
                std::array::from_fn(|d| match rng.random_range(0..6) {
                    0 => Some(Some(rng.random_range(0..TERMS[d] as u32))),
                    1 if d == TAG => Some(Some(rng.random_range(200..TERMS[d] as u32))),
                    2 if round % 7 == 0 => Some(None),
                    _ => None,
                });
            let want = expected(&docs, &wanted, &matched);
            assert_eq!(facets.count_by_document(&wanted, &bits), want, "{wanted:?}");
            assert_eq!(facets.count_by_value(&wanted, &bits), want, "{wanted:?}");
            assert_eq!(facets.count(&wanted, &bits, matched.len()), want);
        }
    }

    #[test]
    fn set_bits_gives_each_document_once_in_order() {
        let bits = [0b1001, 0, 1 << 63];
        assert_eq!(set_bits(&bits).collect::<Vec<_>>(), vec![0, 3, 191]);
    }
}
