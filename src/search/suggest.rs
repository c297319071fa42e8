//! もしかして: for a word that finds nothing, the closest word the site's titles and tags use.
//! Closeness is the edit distance between folded forms, so a kana or kanji spelling of the same
//! word (こども / 子ども) or a slip of one letter (ピラテス / ピラティス) is near, and the suggestion
//! is shown as the site writes it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::Searcher;
use tantivy::index::SegmentId;
use tantivy::schema::Field;

use super::analyzer::normalized;

/// A word of the vocabulary: its folded letters, its spelling on the site, how many pages use it.
struct Entry {
    folded: Vec<char>,
    written: String,
    pages: u64,
}

/// The vocabulary of the searcher last asked about, kept until its segments change: it is read
/// from the index's term dictionaries only when a search finds nothing.
#[derive(Default)]
pub struct VocabularyCache {
    current: Mutex<Option<Vocabulary>>,
}

/// The segments a vocabulary was read from, and its words.
type Vocabulary = (Vec<SegmentId>, Arc<Vec<Entry>>);

impl VocabularyCache {
    fn vocabulary(
        &self,
        searcher: &Searcher,
        fields: &[Field],
    ) -> tantivy::Result<Arc<Vec<Entry>>> {
        let ids: Vec<SegmentId> = searcher
            .segment_readers()
            .iter()
            .map(|r| r.segment_id())
            .collect();
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((seen, vocabulary)) = current.as_ref()
            && *seen == ids
        {
            return Ok(vocabulary.clone());
        }
        let mut pages: HashMap<String, u64> = HashMap::new();
        for reader in searcher.segment_readers() {
            for &field in fields {
                let inverted = reader.inverted_index(field)?;
                let mut stream = inverted.terms().stream()?;
                while stream.advance() {
                    if let Ok(word) = std::str::from_utf8(stream.key()) {
                        *pages.entry(word.to_owned()).or_default() +=
                            u64::from(stream.value().doc_freq);
                    }
                }
            }
        }
        // One entry per folded form, in the spelling most pages use.
        let mut by_form: HashMap<String, (String, u64, u64)> = HashMap::new();
        for (written, n) in pages {
            let (best, best_pages, all) = by_form.entry(normalized(&written)).or_default();
            *all += n;
            if n > *best_pages {
                (*best, *best_pages) = (written, n);
            }
        }
        let vocabulary = Arc::new(
            by_form
                .into_iter()
                .map(|(form, (written, _, pages))| Entry {
                    folded: form.chars().collect(),
                    written,
                    pages,
                })
                .collect::<Vec<_>>(),
        );
        *current = Some((ids, vocabulary.clone()));
        Ok(vocabulary)
    }

    /// The vocabulary's word closest to `word` (never `word` itself), if one is close enough.
    pub fn nearest(
        &self,
        searcher: &Searcher,
        fields: &[Field],
        word: &str,
    ) -> tantivy::Result<Option<String>> {
        let folded: Vec<char> = normalized(word).chars().collect();
        if folded.is_empty() {
            return Ok(None);
        }
        let most = allowed_distance(folded.len());
        let vocabulary = self.vocabulary(searcher, fields)?;
        let best = vocabulary
            .iter()
            .filter(|e| e.folded != folded && e.folded.len().abs_diff(folded.len()) <= most)
            .filter_map(|e| {
                let d = distance(&folded, &e.folded, most)?;
                Some((d, std::cmp::Reverse(e.pages), &e.written))
            })
            .min();
        Ok(best.map(|(_, _, w)| w.clone()))
    }
}

/// How many letters may differ: one in a short word, more in a long one (a third at most).
fn allowed_distance(len: usize) -> usize {
    match len {
        0..=1 => 0,
        2..=5 => 1,
        6..=8 => 2,
        _ => 3,
    }
}

/// Levenshtein distance, or None once it must exceed `most`.
fn distance(a: &[char], b: &[char], most: usize) -> Option<usize> {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut row = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            row[j + 1] = substitute.min(previous[j + 1] + 1).min(row[j] + 1);
        }
        if row.iter().min().is_some_and(|m| *m > most) {
            return None;
        }
        std::mem::swap(&mut previous, &mut row);
    }
    let d = previous[b.len()];
    (d <= most).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(a: &str, b: &str) -> Option<usize> {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        distance(&a, &b, 3)
    }

    #[test]
    fn edit_distance_counts_letters() {
        assert_eq!(d("ぴらてす", "ぴらていす"), Some(1));
        assert_eq!(d("こども", "子ども"), Some(1));
        assert_eq!(d("長続き", "長続き"), Some(0));
        assert_eq!(d("abcdefgh", "zzzzzzzz"), None);
        assert_eq!(allowed_distance(1), 0);
        assert_eq!(allowed_distance(4), 1);
    }
}
