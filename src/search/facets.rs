//! Filter counts in one pass over the text query's matches: for each dimension, the matches
//! that pass every *other* active filter, counted by their value in that dimension (so a reader
//! sees how many results each choice would give). Also the total that passes every filter.

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::domain::LengthBucket;

/// The active filters, by stored value.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub kind: Option<String>,
    pub how_met: Option<String>,
    pub length: Option<LengthBucket>,
    pub tag: Option<String>,
}

#[derive(Debug, Default)]
pub struct Counts {
    pub total: usize,
    pub kinds: HashMap<String, usize>,
    pub how_met: HashMap<String, usize>,
    pub lengths: HashMap<&'static str, usize>,
    pub tags: HashMap<String, usize>,
}

pub struct FacetCollector {
    pub filters: Filters,
}

fn in_bucket(months: Option<u64>, bucket: LengthBucket) -> bool {
    let (min, max) = bucket.month_range();
    months.is_some_and(|m| {
        let m = i64::try_from(m).unwrap_or(i64::MAX);
        m >= i64::from(min) && max.is_none_or(|x| m < i64::from(x))
    })
}

/// A string column and the filter's value as an ordinal in this segment.
struct StrDim {
    column: Option<StrColumn>,
    /// None: no filter. Some(None): the filter's value does not occur here, so nothing passes.
    wanted: Option<Option<u64>>,
    counts: Vec<usize>,
}

impl StrDim {
    fn new(column: Option<StrColumn>, wanted: &Option<String>) -> tantivy::Result<Self> {
        let wanted = match (wanted, &column) {
            (None, _) => None,
            (Some(_), None) => Some(None),
            (Some(v), Some(c)) => Some(c.dictionary().term_ord(v.as_bytes())?),
        };
        let counts = vec![0; column.as_ref().map_or(0, |c| c.dictionary().num_terms())];
        Ok(StrDim {
            column,
            wanted,
            counts,
        })
    }

    fn ords(&self, doc: DocId) -> impl Iterator<Item = u64> + '_ {
        self.column
            .iter()
            .flat_map(move |c| c.ords().values_for_doc(doc))
    }

    fn passes(&self, doc: DocId) -> bool {
        match self.wanted {
            None => true,
            Some(None) => false,
            Some(Some(w)) => self.ords(doc).any(|o| o == w),
        }
    }

    fn count(&mut self, doc: DocId) {
        let ords: Vec<u64> = self.ords(doc).collect();
        for o in ords {
            if let Some(slot) = self.counts.get_mut(o as usize) {
                *slot += 1;
            }
        }
    }

    fn harvest(&self) -> HashMap<String, usize> {
        let mut out = HashMap::new();
        if let Some(c) = &self.column {
            let mut term = String::new();
            for (ord, n) in self.counts.iter().enumerate().filter(|(_, n)| **n > 0) {
                if c.ord_to_str(ord as u64, &mut term).unwrap_or(false) {
                    out.insert(term.clone(), *n);
                }
            }
        }
        out
    }
}

pub struct FacetSegment {
    kind: StrDim,
    how_met: StrDim,
    tag: StrDim,
    length: Column<u64>,
    length_filter: Option<LengthBucket>,
    lengths: [usize; 4],
    total: usize,
}

impl Collector for FacetCollector {
    type Fruit = Counts;
    type Child = FacetSegment;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<FacetSegment> {
        let fast = reader.fast_fields();
        Ok(FacetSegment {
            kind: StrDim::new(fast.str("kind")?, &self.filters.kind)?,
            how_met: StrDim::new(fast.str("how_met")?, &self.filters.how_met)?,
            tag: StrDim::new(fast.str("tag")?, &self.filters.tag)?,
            length: fast.u64("length_months")?,
            length_filter: self.filters.length,
            lengths: [0; 4],
            total: 0,
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

impl SegmentCollector for FacetSegment {
    type Fruit = Counts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let months = self.length.first(doc);
        let kind = self.kind.passes(doc);
        let how_met = self.how_met.passes(doc);
        let tag = self.tag.passes(doc);
        let length = self.length_filter.is_none_or(|b| in_bucket(months, b));
        if how_met && length && tag {
            self.kind.count(doc);
        }
        if kind && length && tag {
            self.how_met.count(doc);
        }
        if kind && how_met && tag {
            for (i, b) in LengthBucket::ALL.iter().enumerate() {
                if in_bucket(months, *b) {
                    self.lengths[i] += 1;
                }
            }
        }
        if kind && how_met && length {
            self.tag.count(doc);
        }
        if kind && how_met && length && tag {
            self.total += 1;
        }
    }

    fn harvest(self) -> Counts {
        Counts {
            total: self.total,
            kinds: self.kind.harvest(),
            how_met: self.how_met.harvest(),
            tags: self.tag.harvest(),
            lengths: LengthBucket::ALL
                .iter()
                .zip(self.lengths)
                .map(|(b, n)| (b.as_str(), n))
                .collect(),
        }
    }
}
