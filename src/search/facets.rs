//! Filter counts in one pass over the text query's matches: for each dimension, the matches
//! that pass every *other* active filter, counted by their value in that dimension (so a reader
//! sees how many results each choice would give). Also the total that passes every filter.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;
use tantivy::{DocId, Score, Searcher, SegmentOrdinal, SegmentReader};

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

#[derive(Debug, Default)]
pub struct Counts {
    pub total: usize,
    pub kinds: HashMap<String, usize>,
    pub how_met: HashMap<String, usize>,
    pub continuing: HashMap<String, usize>,
    pub lengths: HashMap<&'static str, usize>,
    pub tags: HashMap<String, usize>,
}

fn in_bucket(months: Option<u64>, bucket: LengthBucket) -> bool {
    let (min, max) = bucket.month_range();
    months.is_some_and(|m| {
        let m = i64::try_from(m).unwrap_or(i64::MAX);
        m >= i64::from(min) && max.is_none_or(|x| m < i64::from(x))
    })
}

/// The string dimensions, in the order `SegmentFacets::dims` holds them.
const KIND: usize = 0;
const HOW_MET: usize = 1;
const TAG: usize = 2;
const CONTINUING: usize = 3;
const DIMS: usize = 4;
/// Their fast fields, in that order.
const DIM_FIELDS: [&str; DIMS] = ["kind", "how_met", "tag", "continuing"];

/// One string dimension of one segment: each document's values as ordinals into `terms`.
struct Dim {
    terms: Vec<String>,
    /// Document `d`'s ordinals are `ords[offsets[d]..offsets[d + 1]]`.
    offsets: Vec<u32>,
    ords: Vec<u32>,
}

impl Dim {
    fn read(column: Option<StrColumn>, max_doc: DocId) -> tantivy::Result<Self> {
        let mut dim = Dim {
            terms: Vec::new(),
            offsets: vec![0],
            ords: Vec::new(),
        };
        let Some(column) = column else {
            dim.offsets.resize(max_doc as usize + 1, 0);
            return Ok(dim);
        };
        let mut term = String::new();
        for ord in 0..column.dictionary().num_terms() as u64 {
            column.ord_to_str(ord, &mut term)?;
            dim.terms.push(term.clone());
        }
        dim.offsets.reserve(max_doc as usize);
        for doc in 0..max_doc {
            dim.ords.extend(
                column
                    .ords()
                    .values_for_doc(doc)
                    .filter_map(|o| u32::try_from(o).ok()),
            );
            dim.offsets
                .push(u32::try_from(dim.ords.len()).unwrap_or(u32::MAX));
        }
        Ok(dim)
    }

    fn of(&self, doc: DocId) -> &[u32] {
        let from = self.offsets[doc as usize] as usize;
        let to = self.offsets[doc as usize + 1] as usize;
        &self.ords[from..to]
    }

    /// The filter's value as an ordinal here: None without a filter, Some(None) when the value
    /// does not occur in this segment (so nothing passes).
    fn wanted(&self, value: &Option<String>) -> Option<Option<u32>> {
        value.as_ref().map(|v| {
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
    dims: [Dim; DIMS],
    /// Bit `i` set: the story is in `LengthBucket::ALL[i]` (buckets overlap).
    lengths: Vec<u8>,
}

impl SegmentFacets {
    fn read(reader: &SegmentReader) -> tantivy::Result<Self> {
        let fast = reader.fast_fields();
        let max_doc = reader.max_doc();
        let months = fast.u64("length_months")?;
        let lengths = (0..max_doc)
            .map(|doc| {
                let m = months.first(doc);
                LengthBucket::ALL
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| in_bucket(m, **b))
                    .fold(0u8, |bits, (i, _)| bits | (1 << i))
            })
            .collect();
        let mut dims = Vec::with_capacity(DIMS);
        for field in DIM_FIELDS {
            dims.push(Dim::read(fast.str(field)?, max_doc)?);
        }
        Ok(SegmentFacets {
            dims: dims
                .try_into()
                .map_err(|_| tantivy::TantivyError::InternalError("facet dims".to_owned()))?,
            lengths,
        })
    }
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
    /// The length filter's bit.
    length_filter: Option<u8>,
    counts: [Vec<usize>; DIMS],
    lengths: [usize; 4],
    total: usize,
    /// No filter is active: every match counts everywhere (the common case, on its own path).
    unfiltered: bool,
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
        let f = &self.filters;
        let dims = &facets.dims;
        let unfiltered = f.kind.is_none()
            && f.how_met.is_none()
            && f.tag.is_none()
            && f.continuing.is_none()
            && f.length.is_none();
        Ok(FacetSegment {
            unfiltered,
            wanted: [
                dims[KIND].wanted(&f.kind),
                dims[HOW_MET].wanted(&f.how_met),
                dims[TAG].wanted(&f.tag),
                dims[CONTINUING].wanted(&f.continuing),
            ],
            length_filter: f.length.and_then(|b| {
                LengthBucket::ALL
                    .iter()
                    .position(|x| *x == b)
                    .map(|i| 1u8 << i)
            }),
            counts: [KIND, HOW_MET, TAG, CONTINUING].map(|d| vec![0; dims[d].terms.len()]),
            lengths: [0; 4],
            total: 0,
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
            ] {
                for (k, n) in part {
                    *map.entry(k).or_default() += n;
                }
            }
            for (k, n) in f.lengths {
                *all.lengths.entry(k).or_default() += n;
            }
        }
        Ok(all)
    }
}

impl FacetSegment {
    fn passes(&self, dim: usize, doc: DocId) -> bool {
        match self.wanted[dim] {
            None => true,
            Some(None) => false,
            Some(Some(w)) => self.facets.dims[dim].of(doc).contains(&w),
        }
    }

    fn count(&mut self, dim: usize, doc: DocId) {
        for &o in self.facets.dims[dim].of(doc) {
            if let Some(slot) = self.counts[dim].get_mut(o as usize) {
                *slot += 1;
            }
        }
    }

    fn harvest_dim(&self, dim: usize) -> HashMap<String, usize> {
        self.counts[dim]
            .iter()
            .zip(&self.facets.dims[dim].terms)
            .filter(|(n, _)| **n > 0)
            .map(|(n, t)| (t.clone(), *n))
            .collect()
    }
}

impl SegmentCollector for FacetSegment {
    type Fruit = Counts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let bits = self.facets.lengths[doc as usize];
        if self.unfiltered {
            for d in 0..DIMS {
                self.count(d, doc);
            }
            for (i, n) in self.lengths.iter_mut().enumerate() {
                *n += usize::from(bits & (1 << i) != 0);
            }
            self.total += 1;
            return;
        }
        let length = self.length_filter.is_none_or(|bit| bits & bit != 0);
        // Bit d set: the document passes dimension d's filter. It counts for a dimension when it
        // passes every other one.
        let passed = (0..DIMS).fold(0u8, |m, d| m | (u8::from(self.passes(d, doc)) << d));
        const ALL: u8 = (1 << DIMS) - 1;
        if length {
            for d in 0..DIMS {
                if passed | (1 << d) == ALL {
                    self.count(d, doc);
                }
            }
        }
        if passed == ALL {
            for (i, n) in self.lengths.iter_mut().enumerate() {
                if bits & (1 << i) != 0 {
                    *n += 1;
                }
            }
            if length {
                self.total += 1;
            }
        }
    }

    fn harvest(self) -> Counts {
        Counts {
            total: self.total,
            kinds: self.harvest_dim(KIND),
            how_met: self.harvest_dim(HOW_MET),
            tags: self.harvest_dim(TAG),
            continuing: self.harvest_dim(CONTINUING),
            lengths: LengthBucket::ALL
                .iter()
                .zip(self.lengths)
                .map(|(b, n)| (b.as_str(), n))
                .collect(),
        }
    }
}
