//! Japanese-aware tokens without a dictionary.
//!
//! Text is NFKC-normalized and lowercased (so ｶﾀｶﾅ, full-width letters and digits meet their
//! usual forms). Runs of kanji, hiragana and katakana give, at every character's position, the
//! grams of one to four characters starting there (as far as the run goes); other letters and
//! digits form words, one position each. A query covers each run with the longest grams it can
//! at the same positions, as a phrase: 長続き is the single gram 長続き, which 長い…続き never
//! has; 家族の予定 is 家族の予 at 0 and 族の予定 at 1; a run of up to four characters is one
//! term. This is the approach of Lucene's CJK analyzer and Groonga's TokenBigram with longer
//! grams added: a phrase costs a position check in every document holding all its terms, which
//! made common words the slowest searches, while one term costs none and two long grams are
//! rare outside the phrase itself. The price is a larger index (see docs/BENCHMARKS.md).

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use unicode_normalization::UnicodeNormalization;

/// The name the tokenizer is registered under in the index.
/// A new name whenever the tokens change, so that an index made with the old ones is rebuilt.
pub const TOKENIZER: &str = "ja_4gram";

fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'   // hiragana, katakana (with ー)
        | '\u{31F0}'..='\u{31FF}' // katakana phonetic extensions
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}' // compatibility ideographs
        | '々' | '〆'
    )
}

/// NFKC and lowercase, with the byte offset in `text` of the character each output char came from.
pub fn normalize(text: &str) -> Vec<(char, usize, usize)> {
    let mut out: Vec<(char, usize, usize)> = Vec::with_capacity(text.len());
    for (offset, c) in text.char_indices() {
        let end = offset + c.len_utf8();
        for n in std::iter::once(c).nfkc() {
            // Half-width ｸﾞ is two characters; the voiced mark joins the one before it.
            if matches!(n, '\u{3099}' | '\u{309A}')
                && let Some(last) = out.last_mut()
                && let Some(composed) = unicode_normalization::char::compose(last.0, n)
            {
                *last = (composed, last.1, end);
                continue;
            }
            for l in n.to_lowercase() {
                out.push((l, offset, end));
            }
        }
    }
    out
}

/// The normalized form of a string, for comparing queries and text.
pub fn normalized(text: &str) -> String {
    normalize(text).into_iter().map(|(c, _, _)| c).collect()
}

/// One piece of text: a run of Japanese characters or a word, with its first position.
enum Piece {
    Run(Vec<(char, usize, usize)>),
    Word(Vec<(char, usize, usize)>),
}

fn pieces(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut current: Option<Piece> = None;
    for item in normalize(text) {
        let c = item.0;
        let kind = if is_cjk(c) {
            1
        } else if c.is_alphanumeric() {
            2
        } else {
            0
        };
        match (&mut current, kind) {
            (Some(Piece::Run(chars)), 1) | (Some(Piece::Word(chars)), 2) => chars.push(item),
            (_, 0) => pieces.extend(current.take()),
            (_, 1) => {
                pieces.extend(current.take());
                current = Some(Piece::Run(vec![item]));
            }
            (_, _) => {
                pieces.extend(current.take());
                current = Some(Piece::Word(vec![item]));
            }
        }
    }
    pieces.extend(current);
    pieces
}

fn token(chars: &[(char, usize, usize)], position: usize) -> Token {
    Token {
        offset_from: chars[0].1,
        offset_to: chars[chars.len() - 1].2,
        position,
        text: chars.iter().map(|(c, _, _)| *c).collect(),
        position_length: 1,
    }
}

/// Every token of a document: unigrams, bigrams and trigrams of runs, and words.
pub fn document_tokens(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut position = 0;
    for piece in pieces(text) {
        match piece {
            Piece::Run(chars) => {
                for i in 0..chars.len() {
                    for n in 1..=GRAM.min(chars.len() - i) {
                        tokens.push(token(&chars[i..i + n], position + i));
                    }
                }
                position += chars.len();
            }
            Piece::Word(chars) => {
                tokens.push(token(&chars, position));
                position += 1;
            }
        }
    }
    tokens
}

/// The longest gram indexed.
const GRAM: usize = 4;

/// The tokens a query term must match, with their positions relative to each other: the grams
/// that cover each run and its words.
pub fn query_tokens(text: &str) -> Vec<(usize, String)> {
    let mut tokens = Vec::new();
    let mut position = 0;
    for piece in pieces(text) {
        match piece {
            Piece::Run(chars) => {
                // Grams as long as the run allows, end to end, and one more that ends with the
                // run: the fewest terms that cover it, so the same matches for the least work.
                let n = GRAM.min(chars.len());
                let last = chars.len() - n;
                let starts = (0..=last).step_by(n).chain((last % n != 0).then_some(last));
                for i in starts {
                    tokens.push((
                        position + i,
                        chars[i..i + n].iter().map(|(c, _, _)| *c).collect(),
                    ));
                }
                position += chars.len() - 1;
            }
            Piece::Word(chars) => {
                tokens.push((position, chars.iter().map(|(c, _, _)| *c).collect()))
            }
        }
        position += 1;
    }
    tokens
}

#[derive(Clone, Default)]
pub struct JaTokenizer;

pub struct JaTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl Tokenizer for JaTokenizer {
    type TokenStream<'a> = JaTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> JaTokenStream {
        JaTokenStream {
            tokens: document_tokens(text),
            index: usize::MAX,
        }
    }
}

impl TokenStream for JaTokenStream {
    fn advance(&mut self) -> bool {
        self.index = self.index.wrapping_add(1);
        self.index < self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.index]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<(usize, String)> {
        document_tokens(text)
            .into_iter()
            .map(|t| (t.position, t.text))
            .collect()
    }

    #[test]
    fn runs_give_every_gram_up_to_four_at_each_position() {
        assert!(texts("月に一度").contains(&(0, "月に一度".into())));
        assert!(!texts("家族の予定").contains(&(0, "家族の予定".into())));
        let t = texts("長続き");
        assert_eq!(
            t,
            vec![
                (0, "長".into()),
                (0, "長続".into()),
                (0, "長続き".into()),
                (1, "続".into()),
                (1, "続き".into()),
                (2, "き".into())
            ]
        );
    }

    #[test]
    fn width_case_and_scripts_are_normalized() {
        assert_eq!(normalized("ｶﾀｶﾅ ＬＩＮＥ ５年"), "カタカナ line 5年");
        let t = texts("LINE交換は5年目");
        assert!(t.contains(&(0, "line".into())));
        assert!(t.contains(&(1, "交換".into())));
        assert!(t.contains(&(4, "5".into())));
        assert!(t.contains(&(5, "年目".into())));
    }

    #[test]
    fn query_positions_line_up_with_documents() {
        assert_eq!(query_tokens("長続き"), vec![(0, "長続き".into())]);
        assert_eq!(query_tokens("線"), vec![(0, "線".into())]);
        assert_eq!(query_tokens("家族"), vec![(0, "家族".into())]);
        assert_eq!(query_tokens("月に一度"), vec![(0, "月に一度".into())]);
        assert_eq!(
            query_tokens("家族の予定"),
            vec![(0, "家族の予".into()), (1, "族の予定".into())]
        );
        assert_eq!(
            query_tokens("平日の昼休みに会う"),
            vec![
                (0, "平日の昼".into()),
                (4, "休みに会".into()),
                (5, "みに会う".into())
            ]
        );
        assert_eq!(query_tokens("5年"), vec![(0, "5".into()), (1, "年".into())]);
        // A two-character run then a word: the word is two positions on, as in a document.
        assert_eq!(
            query_tokens("交際5"),
            vec![(0, "交際".into()), (2, "5".into())]
        );
        assert!(query_tokens("「」、。!?").is_empty());
    }

    #[test]
    fn half_width_voiced_kana_join_their_mark() {
        assert_eq!(normalized("ﾏｯﾁﾝｸﾞｱﾌﾟﾘ"), "マッチングアプリ");
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "ﾏｯﾁﾝｸﾞアプリ";
        for t in document_tokens(text) {
            assert!(text.is_char_boundary(t.offset_from) && text.is_char_boundary(t.offset_to));
        }
    }
}
