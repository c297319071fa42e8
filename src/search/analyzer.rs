//! Japanese-aware tokens without a dictionary.
//!
//! Text is NFKC-normalized and lowercased (so ｶﾀｶﾅ, full-width letters and digits meet their
//! usual forms), then folded the way readers' spellings differ from writers' (`fold`): katakana
//! as hiragana, small kana as large, iteration marks spelled out, and every number written in
//! kanji digits (3年, ３年, 三年 are all 三年; 十年 and 10年 are 一〇年; 二十五 is 二五). Runs of kanji, hiragana and katakana give, at every character's position, the
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
pub const TOKENIZER: &str = "ja_4gram_folded";

fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'   // hiragana, katakana (with ー)
        | '\u{31F0}'..='\u{31FF}' // katakana phonetic extensions
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}' // compatibility ideographs
        | '々' | '〆' | '〇'
    )
}

/// One normalized character with the byte range of the original text it came from.
type Folded = (char, usize, usize);

/// Kana as hiragana, small kana as large: ぱーとなー, パートナー and ﾊﾟｰﾄﾅｰ are one word, as are
/// マッチング and まつちんぐ. The long-vowel mark stays (it is in both spellings). The choice
/// follows Groonga's NormalizerNFKC `unify_kana` and `unify_kana_case`; voiced marks are kept
/// (はな and ばな are different words).
fn fold_kana(c: char) -> char {
    let c = match c {
        // Katakana ァ..ヶ are hiragana ぁ..ゖ 0x60 code points higher.
        'ァ'..='ヶ' => char::from_u32(u32::from(c) - 0x60).unwrap_or(c),
        'ヽ' => 'ゝ',
        'ヾ' => 'ゞ',
        _ => c,
    };
    match c {
        'ぁ' => 'あ',
        'ぃ' => 'い',
        'ぅ' => 'う',
        'ぇ' => 'え',
        'ぉ' => 'お',
        'っ' => 'つ',
        'ゃ' => 'や',
        'ゅ' => 'ゆ',
        'ょ' => 'よ',
        'ゎ' => 'わ',
        // The small ヵ and ヶ of counters (3ヶ月) are read か, as in 3か月.
        'ゕ' | 'ゖ' => 'か',
        _ => c,
    }
}

/// The kanji digit for a digit value.
const KANJI_DIGITS: [char; 10] = ['〇', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

fn kanji_digit(c: char) -> Option<u32> {
    match c {
        '零' => Some(0),
        _ => KANJI_DIGITS.iter().position(|d| *d == c).map(|v| v as u32),
    }
}

fn kanji_unit(c: char) -> Option<u64> {
    match c {
        '十' => Some(10),
        '百' => Some(100),
        '千' => Some(1000),
        '万' => Some(10_000),
        '億' => Some(100_000_000),
        _ => None,
    }
}

/// The value of a kanji number with units (二十五, 千二百, 三万五千); None if it overflows.
fn kanji_number(chars: &[char]) -> Option<u64> {
    let (mut total, mut section, mut digit) = (0u64, 0u64, None::<u64>);
    for &c in chars {
        if let Some(d) = kanji_digit(c) {
            digit = Some(
                digit
                    .unwrap_or(0)
                    .checked_mul(10)?
                    .checked_add(u64::from(d))?,
            );
        } else if let Some(unit) = kanji_unit(c) {
            if unit >= 10_000 {
                let n = section.checked_add(digit.unwrap_or(0))?;
                total = total.checked_add(n.max(1).checked_mul(unit)?)?;
                section = 0;
            } else {
                section = section.checked_add(digit.unwrap_or(1).checked_mul(unit)?)?;
            }
            digit = None;
        }
    }
    total.checked_add(section)?.checked_add(digit.unwrap_or(0))
}

/// Every number in kanji digits, whatever it was written in: a run of ASCII digits (not part of
/// a Latin word such as line2) digit by digit, a kanji number with units by its value. The
/// digits of one kanji number all keep the number's whole original range.
fn fold_numbers(chars: Vec<Folded>) -> Vec<Folded> {
    let is_numeral = |c: char| kanji_digit(c).is_some() || kanji_unit(c).is_some();
    let latin = |c: Option<&Folded>| c.is_some_and(|(c, _, _)| c.is_ascii_alphabetic());
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].0;
        if c.is_ascii_digit() {
            let end = i + chars[i..]
                .iter()
                .take_while(|(c, _, _)| c.is_ascii_digit())
                .count();
            let in_word =
                latin(i.checked_sub(1).and_then(|p| chars.get(p))) || latin(chars.get(end));
            for &(d, from, to) in &chars[i..end] {
                let kanji = if in_word {
                    d
                } else {
                    KANJI_DIGITS[(d as u8 - b'0') as usize]
                };
                out.push((kanji, from, to));
            }
            i = end;
        } else if is_numeral(c) {
            let end = i + chars[i..]
                .iter()
                .take_while(|(c, _, _)| is_numeral(*c))
                .count();
            let run: Vec<char> = chars[i..end].iter().map(|(c, _, _)| *c).collect();
            let (from, to) = (chars[i].1, chars[end - 1].2);
            match run
                .iter()
                .any(|c| kanji_unit(*c).is_some())
                .then(|| kanji_number(&run))
            {
                Some(Some(value)) => out.extend(
                    value
                        .to_string()
                        .bytes()
                        .map(|b| (KANJI_DIGITS[(b - b'0') as usize], from, to)),
                ),
                // Digits only (二〇二六, 零), or too large to read: digit by digit.
                _ => out.extend(chars[i..end].iter().map(|&(c, f, t)| {
                    (kanji_digit(c).map_or(c, |d| KANJI_DIGITS[d as usize]), f, t)
                })),
            }
            i = end;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// How readers' spellings differ from writers', undone on both sides (see the module comment).
fn fold(chars: Vec<Folded>) -> Vec<Folded> {
    let mut out: Vec<Folded> = Vec::with_capacity(chars.len());
    for (c, from, to) in chars {
        let c = match fold_kana(c) {
            // Iteration marks repeat the kana before them (ゞ voiced): すゝめ, いすゞ.
            'ゝ' => out.last().map_or('ゝ', |p| p.0),
            'ゞ' => out.last().map_or('ゞ', |p| {
                unicode_normalization::char::compose(p.0, '\u{3099}').unwrap_or(p.0)
            }),
            c => c,
        };
        out.push((c, from, to));
    }
    fold_numbers(out)
}

/// Characters NFKC and lowercasing leave as they are: most of a Japanese text (kana, common
/// kanji, the usual punctuation, ASCII lowercase and digits). They skip the per-character
/// normalizer, which was a quarter of a search's time (every hit's text is normalized for its
/// snippet) and as much of indexing.
fn unchanged(c: char) -> bool {
    matches!(c,
        'a'..='z' | '0'..='9' | ' ' | '\n'
        | '\u{3001}'..='\u{3002}' // 、。
        | '\u{300C}'..='\u{300F}' // 「」『』
        | '\u{3041}'..='\u{3096}' // hiragana
        | '\u{30A1}'..='\u{30FA}' // katakana
        | '\u{30FC}' // ー
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
    )
}

/// NFKC, lowercase and `fold`, with the byte range in `text` each output char came from.
pub fn normalize(text: &str) -> Vec<(char, usize, usize)> {
    let mut out: Vec<(char, usize, usize)> = Vec::with_capacity(text.len());
    for (offset, c) in text.char_indices() {
        let end = offset + c.len_utf8();
        if unchanged(c) {
            out.push((c, offset, end));
            continue;
        }
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
    fold(out)
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

    #[test]
    fn the_characters_that_skip_the_normalizer_are_those_it_leaves_alone() {
        let skipped: Vec<char> = (0..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|c| unchanged(*c))
            .collect();
        assert!(skipped.len() > 20_000);
        for c in skipped {
            let nfkc: String = std::iter::once(c).nfkc().collect();
            assert_eq!(nfkc, c.to_string(), "{c:?}");
            assert_eq!(c.to_lowercase().to_string(), c.to_string(), "{c:?}");
        }
        // A voiced mark written apart still joins the kana before it.
        assert_eq!(normalized("か\u{3099}"), normalized("が"));
    }

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
        assert_eq!(normalized("ｶﾀｶﾅ ＬＩＮＥ ５年"), "かたかな line 五年");
        let t = texts("LINE交換は5年目");
        assert!(t.contains(&(0, "line".into())));
        assert!(t.contains(&(1, "交換".into())));
        assert!(t.contains(&(4, "五年目".into())), "{t:?}");
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
        assert_eq!(query_tokens("5年"), vec![(0, "五年".into())]);
        // A two-character run then a word: the word is two positions on, as in a document.
        assert_eq!(
            query_tokens("交際line"),
            vec![(0, "交際".into()), (2, "line".into())]
        );
        assert!(query_tokens("「」、。!?").is_empty());
    }

    #[test]
    fn half_width_voiced_kana_join_their_mark() {
        assert_eq!(normalized("ﾏｯﾁﾝｸﾞｱﾌﾟﾘ"), "まつちんぐあぷり");
    }

    #[test]
    fn numbers_are_one_thing_however_written() {
        for (a, b) in [
            ("三年", "3年"),
            ("３年目", "3年目"),
            ("十年", "10年"),
            ("二十五歳", "25歳"),
            ("〇", "0"),
            ("零", "0"),
            ("百二十", "120"),
            ("千二百", "1200"),
            ("三万五千", "35000"),
            ("二〇二六年", "2026年"),
            ("一億", "100000000"),
        ] {
            assert_eq!(normalized(a), normalized(b), "{a} = {b}");
        }
        assert_ne!(normalized("三年"), normalized("四年"));
        assert_ne!(normalized("十五"), normalized("五十"));
        // Digits inside a Latin word are part of the word.
        assert_eq!(normalized("line2"), "line2");
        assert_eq!(normalized("3年"), "三年");
    }

    #[test]
    fn kana_fold_together_with_their_marks() {
        for (a, b) in [
            ("ぱーとなー", "パートナー"),
            ("かふぇ", "カフェ"),
            ("まっちんぐあぷり", "マッチングアプリ"),
            ("ﾏｯﾁﾝｸﾞｱﾌﾟﾘ", "マッチングアプリ"),
            ("3ヶ月", "3か月"),
            ("3ヵ月", "三か月"),
            ("すゝめ", "すすめ"),
            ("いすゞ", "いすず"),
            ("ヴ", "ゔ"),
        ] {
            assert_eq!(normalized(a), normalized(b), "{a} = {b}");
        }
        // Voiced marks and the long-vowel mark are part of the word.
        assert_ne!(normalized("はな"), normalized("ばな"));
        assert_ne!(normalized("カード"), normalized("カド"));
    }

    #[test]
    fn a_folded_number_keeps_the_range_of_what_was_written() {
        let text = "交際二十五年";
        let folded = normalize(text);
        let digits: Vec<&(char, usize, usize)> = folded
            .iter()
            .filter(|(c, _, _)| "二五".contains(*c))
            .collect();
        assert_eq!(digits.len(), 2);
        for (_, from, to) in digits {
            assert_eq!(&text[*from..*to], "二十五");
        }
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "ﾏｯﾁﾝｸﾞアプリ";
        for t in document_tokens(text) {
            assert!(text.is_char_boundary(t.offset_from) && text.is_char_boundary(t.offset_to));
        }
    }
}
