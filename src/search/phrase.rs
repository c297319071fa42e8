//! A phrase's documents and how often each holds it, read from the postings with a running
//! place in the positions. Tantivy 0.27's phrase scorer finds each document's positions by
//! summing the frequencies of the documents before it in its block of 128
//! (`SegmentPostings::append_positions_with_offset`), up to 128 additions a document: for a
//! phrase in a sixth of a million stories that was most of a search. Walking each term's blocks
//! in order keeps the place as it goes, so each document's positions cost one read.

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::directory::CompositeFile;
use tantivy::index::SegmentComponent;
use tantivy::positions::PositionReader;
use tantivy::postings::BlockSegmentPostings;
use tantivy::query::Bm25Weight;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentReader, TERMINATED, Term};

use super::facets::{Counts, FacetCollector};
use super::segments;

/// Positions are stored in bitpacked blocks of this many, then a shorter tail.
const BLOCK: u64 = 128;

/// A term's positions, read a whole block at a time where they are bitpacked: read one by one,
/// tantivy's reader (a call, its checks and a copy each time) took a fifth of a phrase's time
/// when each document holds each term once.
struct Positions {
    reader: PositionReader,
    /// The places before this are in whole bitpacked blocks (reading past them would ask the
    /// tail's shorter block for more than it has).
    packed: u64,
    block: [u32; BLOCK as usize],
    /// The place of `block`'s first position, u64::MAX before the first read.
    block_at: u64,
}

impl Positions {
    fn open(bytes: tantivy::directory::OwnedBytes) -> std::io::Result<Positions> {
        // The bytes begin with how many bitpacked blocks there are, as tantivy's `VInt`: seven
        // bits a byte, the last byte with its high bit set.
        let mut blocks = 0u64;
        for (i, byte) in bytes.as_slice().iter().take(10).enumerate() {
            blocks |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 != 0 {
                return Ok(Positions {
                    reader: PositionReader::open(bytes)?,
                    packed: blocks * BLOCK,
                    block: [0; BLOCK as usize],
                    block_at: u64::MAX,
                });
            }
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "positions without their block count",
        ))
    }

    /// Makes `block` the one holding `place`, if that one is bitpacked.
    fn load(&mut self, place: u64) -> Option<usize> {
        if place >= self.packed {
            return None;
        }
        let start = place - place % BLOCK;
        if start != self.block_at {
            self.reader.read(start, &mut self.block);
            self.block_at = start;
        }
        usize::try_from(place - start).ok()
    }

    /// The position at `place` in the term's positions.
    fn at(&mut self, place: u64) -> u32 {
        match self.load(place) {
            Some(i) => self.block[i],
            None => {
                let mut one = [0];
                self.reader.read(place, &mut one);
                one[0]
            }
        }
    }

    /// The positions from `place` on, as many as `out` holds.
    fn read(&mut self, place: u64, out: &mut [u32]) {
        match self.load(place) {
            Some(i) if i + out.len() <= self.block.len() => {
                out.copy_from_slice(&self.block[i..i + out.len()])
            }
            _ => self.reader.read(place, out),
        }
    }
}

/// One term of the phrase, walked block by block, with where its current document's positions
/// begin in the term's positions.
struct Cursor {
    block: BlockSegmentPostings,
    at: usize,
    place: u64,
    positions: Positions,
    /// The term's place in the phrase.
    offset: u32,
}

impl Cursor {
    fn doc(&self) -> DocId {
        self.block
            .docs()
            .get(self.at)
            .copied()
            .unwrap_or(TERMINATED)
    }

    fn freq(&self) -> u32 {
        self.block.freqs().get(self.at).copied().unwrap_or(0)
    }

    /// Moves to the first document at or after `target`, keeping the place in the positions:
    /// whole blocks that end before it are passed by their frequencies' sum.
    fn seek(&mut self, target: DocId) -> DocId {
        while self.block.docs().last().is_some_and(|last| *last < target) {
            self.place += self.block.freqs()[self.at..]
                .iter()
                .map(|f| u64::from(*f))
                .sum::<u64>();
            self.block.advance();
            self.at = 0;
        }
        while self.doc() < target {
            self.place += u64::from(self.freq());
            self.at += 1;
        }
        self.doc()
    }

    /// Where the phrase begins by this term's only position in the current document (its
    /// frequency is 1), if it can begin there.
    fn start(&mut self) -> Option<u32> {
        self.positions.at(self.place).checked_sub(self.offset)
    }

    /// The current document's positions, each less the term's place in the phrase (positions
    /// before it cannot begin the phrase), in order.
    fn starts(&mut self, out: &mut Vec<u32>) {
        out.clear();
        out.resize(self.freq() as usize, 0);
        self.positions.read(self.place, out);
        let mut at = 0u32;
        let mut kept = 0;
        for i in 0..out.len() {
            // Stored as gaps from the previous position of the document.
            at += out[i];
            if at >= self.offset {
                out[kept] = at - self.offset;
                kept += 1;
            }
        }
        out.truncate(kept);
    }
}

/// How many times the phrase begins in the cursors' current document, if at all.
fn occurrences(cursors: &mut [Cursor], starts: &mut Vec<u32>, other: &mut Vec<u32>) -> Option<u32> {
    if cursors.iter().all(|c| c.freq() == 1) {
        // Most documents hold each term once: one position each, compared, no lists.
        let first = cursors[0].start();
        return (first.is_some() && cursors[1..].iter_mut().all(|c| c.start() == first))
            .then_some(1);
    }
    cursors[0].starts(starts);
    for c in &mut cursors[1..] {
        if starts.is_empty() {
            break;
        }
        c.starts(other);
        intersect(starts, other);
    }
    (!starts.is_empty()).then_some(starts.len() as u32)
}

/// Keeps in `left` the values also in `right`; both sorted.
fn intersect(left: &mut Vec<u32>, right: &[u32]) {
    let (mut i, mut j, mut kept) = (0, 0, 0);
    while i < left.len() && j < right.len() {
        match left[i].cmp(&right[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                left[kept] = left[i];
                kept += 1;
                i += 1;
                j += 1;
            }
        }
    }
    left.truncate(kept);
}

/// Each live document of the segment holding the phrase (terms of one field, each at its
/// place), as `each` makes it of the document and how many times it holds the phrase, in
/// document order.
fn matches<T>(
    searcher: &Searcher,
    reader: &SegmentReader,
    phrase: &[(usize, Term)],
    each: impl Fn(DocId, u32) -> T,
) -> tantivy::Result<Vec<T>> {
    let mut found = Vec::new();
    let field = phrase[0].1.field();
    let inverted = reader.inverted_index(field)?;
    let alive = reader.alive_bitset();
    let live = |doc: DocId| alive.is_none_or(|a| a.is_alive(doc));
    if let [(_, term)] = phrase {
        // One term: its frequency is the count, no positions needed.
        let Some(mut block) = inverted.read_block_postings(term, IndexRecordOption::WithFreqs)?
        else {
            return Ok(found);
        };
        found.reserve(block.doc_freq() as usize);
        while !block.docs().is_empty() {
            for (doc, freq) in block.docs().iter().zip(block.freqs()) {
                if live(*doc) {
                    found.push(each(*doc, *freq));
                }
            }
            block.advance();
        }
        return Ok(found);
    }
    let index = searcher.index();
    let segment = index.segment(index.new_segment_meta(reader.segment_id(), reader.max_doc()));
    let file = segment.open_read(SegmentComponent::Positions)?;
    let Some(positions) = CompositeFile::open(&file)?.open_read(field) else {
        return Ok(found);
    };
    // Places counted from the phrase's first term, so that a match may begin at position 0.
    let first = phrase.iter().map(|(at, _)| *at).min().unwrap_or(0);
    let mut cursors = Vec::with_capacity(phrase.len());
    for (at, term) in phrase {
        let Some(info) = inverted.get_term_info(term)? else {
            return Ok(found);
        };
        cursors.push(Cursor {
            block: inverted
                .read_block_postings_from_terminfo(&info, IndexRecordOption::WithFreqs)?,
            at: 0,
            place: 0,
            positions: Positions::open(positions.read_bytes_slice(info.positions_range)?)?,
            offset: u32::try_from(at - first)
                .map_err(|_| tantivy::TantivyError::InvalidArgument("a phrase too long".into()))?,
        });
    }
    // Led by the rarest term, the walk visits the fewest documents; the others only seek.
    cursors.sort_by_key(|c| c.block.doc_freq());
    found.reserve(cursors[0].block.doc_freq() as usize);
    let (mut starts, mut other) = (Vec::new(), Vec::new());
    let mut doc = cursors[0].doc();
    'docs: while doc != TERMINATED {
        for c in &mut cursors[1..] {
            let at = c.seek(doc);
            if at == TERMINATED {
                break 'docs;
            }
            if at != doc {
                doc = cursors[0].seek(at);
                continue 'docs;
            }
        }
        if live(doc)
            && let Some(count) = occurrences(&mut cursors, &mut starts, &mut other)
        {
            found.push(each(doc, count));
        }
        doc = cursors[0].seek(doc + 1);
    }
    Ok(found)
}

/// One clause of a query that any one of its phrases matches: the phrase (never empty), and
/// its weight (the title's boost, times how many of the query's spellings reach it).
pub struct Clause {
    phrase: Vec<(usize, Term)>,
    weight: Score,
}

impl Clause {
    pub fn new(phrase: Vec<(usize, Term)>, weight: Score) -> Option<Clause> {
        (!phrase.is_empty()).then_some(Clause { phrase, weight })
    }
}

/// Every filter's counts and the best `want` documents (score, then address) for documents
/// matching any of `clauses`, each scored as tantivy scores a phrase (BM25 of the phrase's
/// count and the field's length) and summed over the clauses it matches. The sum may differ
/// from tantivy's in the last bit (a clause weighed ×n where tantivy adds it n times, in
/// another order), which only ever reorders documents whose scores tie to within that.
pub fn page(
    searcher: &Searcher,
    clauses: &[Clause],
    facets: &FacetCollector,
    want: usize,
) -> tantivy::Result<(Counts, Vec<(Score, DocAddress)>)> {
    let weights = clauses
        .iter()
        .map(|c| {
            let terms: Vec<Term> = c.phrase.iter().map(|(_, t)| t.clone()).collect();
            Ok(Scores::new(
                Bm25Weight::for_terms(searcher, &terms)?.boost_by(c.weight),
            ))
        })
        .collect::<tantivy::Result<Vec<_>>>()?;
    let parts = segments::each(searcher, |ord, reader| {
        let mut scored: Vec<(DocId, Score)> = Vec::new();
        for (clause, weight) in clauses.iter().zip(&weights) {
            let norms = reader.get_fieldnorms_reader(clause.phrase[0].1.field())?;
            let these = matches(searcher, reader, &clause.phrase, |doc, count| {
                (doc, weight.score(norms.fieldnorm_id(doc), count))
            })?;
            scored = summed(scored, these);
        }
        let mut segment = facets.for_segment(ord, reader)?;
        // Counted on the way: `best` passes over every match.
        let top = best(
            scored.into_iter().map(|(doc, score)| {
                segment.collect(doc, 0.0);
                (score, DocAddress::new(ord, doc))
            }),
            want,
        );
        Ok((segment.harvest(), top))
    })?;
    let (counts, tops): (Vec<Counts>, Vec<_>) = parts.into_iter().unzip();
    let top = best(tops.into_iter().flatten(), want);
    Ok((facets.merge_fruits(counts)?, top))
}

/// How many times a document holding the phrase mostly holds it: their scores are worked out
/// once per search for every field length.
const COMMON_COUNTS: usize = 8;

/// A clause's scores as its `Bm25Weight` gives them, looked up: a division for every match
/// was a sixth of a common phrase's time.
struct Scores {
    weight: Bm25Weight,
    /// The score of count `c` in a field of length id `n` at `(c - 1) * 256 + n`.
    table: Vec<Score>,
}

impl Scores {
    fn new(weight: Bm25Weight) -> Scores {
        let table = (1..=COMMON_COUNTS as u32)
            .flat_map(|count| (0..=u8::MAX).map(move |id| (id, count)))
            .map(|(id, count)| weight.score(id, count))
            .collect();
        Scores { weight, table }
    }

    fn score(&self, fieldnorm_id: u8, count: u32) -> Score {
        let at = (count as usize)
            .checked_sub(1)
            .map(|c| c * 256 + usize::from(fieldnorm_id));
        match at.and_then(|at| self.table.get(at)) {
            Some(score) => *score,
            None => self.weight.score(fieldnorm_id, count),
        }
    }
}

/// Score descending, then address: tantivy's order, ties included.
fn better(a: &(Score, DocAddress), b: &(Score, DocAddress)) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

/// The best `want` of `all`, in order, without sorting them all (a phrase can match a sixth
/// of the stories): those not better than the last of the best so far are passed over, and
/// the kept ones are cut back to the best `want` whenever they reach twice as many.
fn best(all: impl Iterator<Item = (Score, DocAddress)>, want: usize) -> Vec<(Score, DocAddress)> {
    if want == 0 {
        return Vec::new();
    }
    let mut kept: Vec<(Score, DocAddress)> = Vec::with_capacity(2 * want);
    let mut floor: Option<(Score, DocAddress)> = None;
    for item in all {
        if floor.is_some_and(|f| better(&item, &f).is_ge()) {
            continue;
        }
        kept.push(item);
        if kept.len() >= 2 * want {
            kept.select_nth_unstable_by(want - 1, better);
            kept.truncate(want);
            floor = Some(kept[want - 1]);
        }
    }
    kept.sort_by(better);
    kept.truncate(want);
    kept
}

/// Two lists of documents in order, merged, the scores of a document in both added.
fn summed(a: Vec<(DocId, Score)>, b: Vec<(DocId, Score)>) -> Vec<(DocId, Score)> {
    if a.is_empty() {
        return b;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        match x.0.cmp(&y.0) {
            std::cmp::Ordering::Less => {
                out.push(x);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(y);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push((x.0, x.1 + y.1));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}
