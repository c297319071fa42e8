//! The text as the patterns read it, with the way back: each byte of the folded text knows the
//! byte of the original character it came from, so a finding is highlighted where it was typed.
//!
//! Two foldings: `plain` folds width and case (ＬＩＮＥ → line, ０９０ → 090, ① → 1) and drops
//! invisible characters; `numbers` also reads numbers written in kanji (〇一二三…, 零) and read
//! out in kana (ゼロキューゼロ…) as digits, for the patterns made of digits. Names and places are
//! matched in `plain`, where 六本木 and 一郎 are still words.

use unicode_normalization::UnicodeNormalization;

pub struct Folded {
    pub text: String,
    /// For each byte of `text`, where the original text it came from starts and ends (one
    /// character, or a word read out: ハチ → 8).
    pub origin: Vec<(usize, usize)>,
}

impl Folded {
    /// The original span of the folded bytes `start..end` (`end > start`).
    pub fn original(&self, _original: &str, start: usize, end: usize) -> (usize, usize) {
        let from = self.origin[start].0;
        let to = self.origin[end.max(start + 1) - 1].1;
        (from, to.max(from))
    }
}

/// Characters that show nothing: people (and copy-paste) put them inside numbers and addresses.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}'
    )
}

struct Builder {
    text: String,
    origin: Vec<(usize, usize)>,
}

impl Builder {
    /// Appends what the original `from..to` folds to.
    fn push(&mut self, from: usize, to: usize, folded: impl IntoIterator<Item = char>) {
        let start = self.text.len();
        self.text.extend(folded);
        self.origin
            .extend(std::iter::repeat_n((from, to), self.text.len() - start));
    }
}

fn fold_char(c: char) -> impl Iterator<Item = char> {
    // NFKC folds full width, circled digits and ㈱; lower case folds ＬＩＮＥ and LINE together.
    // The long vowel mark stays itself: it is part of ツイッター, not a dash.
    c.nfkc().flat_map(char::to_lowercase)
}

pub fn plain(text: &str) -> Folded {
    let mut b = Builder {
        text: String::with_capacity(text.len()),
        origin: Vec::with_capacity(text.len()),
    };
    let mut chars = text.char_indices().peekable();
    while let Some((offset, c)) = chars.next() {
        if invisible(c) {
            continue;
        }
        // A voicing mark typed or pasted apart (ﾕｰｻﾞｰ, or decomposed kana) folds with its kana.
        match chars.next_if(|(_, m)| voicing_mark(*m)) {
            Some((at, mark)) => b.push(offset, at + mark.len_utf8(), fold_pair(c, mark)),
            None => b.push(offset, offset + c.len_utf8(), fold_char(c)),
        }
    }
    Folded {
        text: b.text,
        origin: b.origin,
    }
}

fn voicing_mark(c: char) -> bool {
    matches!(c, '\u{3099}' | '\u{309A}' | '\u{FF9E}' | '\u{FF9F}')
}

/// A kana and its voicing mark, as one folded character when they compose.
fn fold_pair(c: char, mark: char) -> Vec<char> {
    let pair: String = [c, mark].into_iter().collect();
    pair.nfkc().flat_map(char::to_lowercase).collect()
}

fn kanji_digit(c: char) -> Option<char> {
    Some(match c {
        '〇' | '零' => '0',
        '一' | '壱' => '1',
        '二' | '弐' => '2',
        '三' | '参' => '3',
        '四' => '4',
        '五' => '5',
        '六' => '6',
        '七' => '7',
        '八' => '8',
        '九' => '9',
        _ => return None,
    })
}

/// Numbers read out in kana, longest spelling first within each digit.
const KANA_DIGITS: &[(&str, char)] = &[
    ("ゼロ", '0'),
    ("ぜろ", '0'),
    ("レイ", '0'),
    ("れい", '0'),
    ("マル", '0'),
    ("まる", '0'),
    ("イチ", '1'),
    ("いち", '1'),
    ("ニイ", '2'),
    ("ニー", '2'),
    ("にい", '2'),
    ("にー", '2'),
    ("ニ", '2'),
    ("に", '2'),
    ("サン", '3'),
    ("さん", '3'),
    ("ヨン", '4'),
    ("よん", '4'),
    ("シ", '4'),
    ("し", '4'),
    ("ゴー", '5'),
    ("ごー", '5'),
    ("ゴ", '5'),
    ("ご", '5'),
    ("ロク", '6'),
    ("ろく", '6'),
    ("ナナ", '7'),
    ("なな", '7'),
    ("シチ", '7'),
    ("しち", '7'),
    ("ハチ", '8'),
    ("はち", '8'),
    ("キュウ", '9'),
    ("キュー", '9'),
    ("きゅう", '9'),
    ("きゅー", '9'),
    ("ク", '9'),
    ("く", '9'),
];

/// Separators that may sit between the words of a number read out.
fn spoken_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '　' | '・' | '･' | '、' | '-' | 'ー' | '－' | '‐' | 'の'
    )
}

/// The digit spelled at the start of `rest`, and its length in bytes.
fn kana_digit(rest: &str) -> Option<(char, usize)> {
    KANA_DIGITS
        .iter()
        .filter(|(word, _)| rest.starts_with(word))
        .max_by_key(|(word, _)| word.len())
        .map(|(word, digit)| (*digit, word.len()))
}

/// A number read out needs this many digits to be read as one: shorter runs of these syllables
/// are ordinary words (さん, に, し).
const SPOKEN_MIN_DIGITS: usize = 7;

pub fn numbers(text: &str) -> Folded {
    let mut b = Builder {
        text: String::with_capacity(text.len()),
        origin: Vec::with_capacity(text.len()),
    };
    let mut at = 0;
    while at < text.len() {
        // A run of kana digits (with separators) long enough to be a number.
        if let Some(run_end) = spoken_run(text, at) {
            let mut i = at;
            while i < run_end {
                let rest = &text[i..];
                match kana_digit(rest) {
                    Some((digit, len)) => {
                        b.push(i, i + len, [digit]);
                        i += len;
                    }
                    // Whatever separates the groups read out is a dash between digits.
                    None => {
                        let c = rest.chars().next().unwrap_or(' ');
                        b.push(i, i + c.len_utf8(), ['-']);
                        i += c.len_utf8();
                    }
                }
            }
            at = run_end;
            continue;
        }
        let c = text[at..].chars().next().unwrap_or(' ');
        let next = text[at + c.len_utf8()..].chars().next();
        if let Some(mark) = next.filter(|m| voicing_mark(*m)) {
            let end = at + c.len_utf8() + mark.len_utf8();
            b.push(at, end, fold_pair(c, mark));
            at = end;
            continue;
        }
        // 〇 is also the mark that hides a digit (090-〇〇〇〇-〇〇〇〇, 〇〇大学): a run of them is
        // zeros only beside another digit (一五〇‐〇〇〇二), and is read once, whole.
        if c == '〇' {
            let run = text[at..].chars().take_while(|d| *d == '〇').count() * c.len_utf8();
            let is_digit =
                |d: Option<char>| d.is_some_and(|d| kanji_digit(d).is_some() || d.is_numeric());
            let zeros = is_digit(text[..at].chars().next_back())
                || is_digit(text[at + run..].chars().next());
            for i in (at..at + run).step_by(c.len_utf8()) {
                b.push(i, i + c.len_utf8(), [if zeros { '0' } else { c }]);
            }
            at += run;
            continue;
        }
        if !invisible(c) {
            match kanji_digit(c) {
                Some(d) => b.push(at, at + c.len_utf8(), [d]),
                None => b.push(at, at + c.len_utf8(), fold_char(c)),
            }
        }
        at += c.len_utf8();
    }
    Folded {
        text: b.text,
        origin: b.origin,
    }
}

/// Where a run of kana digits starting at `at` ends, if it holds enough digits to be a number.
/// A run found is consumed whole; one too short has fewer than `SPOKEN_MIN_DIGITS` starts, each
/// reading at most to the run's end, so the work stays linear in the text.
fn spoken_run(text: &str, at: usize) -> Option<usize> {
    let mut i = at;
    let mut digits = 0;
    let mut end = at;
    loop {
        let rest = &text[i..];
        if let Some((_, len)) = kana_digit(rest) {
            digits += 1;
            i += len;
            end = i;
            continue;
        }
        // Separators count only if more digits follow (`end` stays at the last digit).
        match rest.chars().next() {
            Some(c) if spoken_separator(c) && digits > 0 => i += c.len_utf8(),
            _ => break,
        }
    }
    (digits >= SPOKEN_MIN_DIGITS).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_case_and_invisible_characters_fold_and_spans_map_back() {
        let text = "ＬＩＮＥ\u{200B}ＩＤ：ａｂ";
        let f = plain(text);
        assert_eq!(f.text, "lineid:ab");
        let (s, e) = f.original(text, 4, 6);
        assert_eq!(&text[s..e], "ＩＤ");
    }

    #[test]
    fn voicing_marks_typed_apart_fold_with_their_kana() {
        assert_eq!(plain("ﾕｰｻﾞｰ名").text, "ユーザー名");
        assert_eq!(plain("ユ\u{30FC}サ\u{3099}ー").text, "ユーザー");
        let text = "ｸﾞｰｸﾞﾙ";
        let f = plain(text);
        assert_eq!(f.text, "グーグル");
        assert_eq!(f.original(text, 0, f.text.len()), (0, text.len()));
        // A span that ends with a pair ends after its mark.
        let text = "ｸﾞｰｸﾞ";
        let f = plain(text);
        assert_eq!(f.original(text, 0, f.text.len()), (0, text.len()));
    }

    #[test]
    fn the_long_vowel_mark_is_not_a_dash() {
        assert_eq!(plain("ツイッター").text, "ツイッター");
        assert_eq!(plain("ﾂｲｯﾀｰ").text, "ツイッター");
    }

    #[test]
    fn numbers_in_kanji_and_read_out_in_kana_become_digits() {
        assert_eq!(numbers("〇九〇の一二三四").text, "090の1234");
        assert_eq!(
            numbers("ゼロキューゼロ・イチニサンヨン・ゴーロクナナハチ").text,
            "090-1234-5678"
        );
        assert_eq!(numbers("零一二三四五六七八九壱弐参").text, "0123456789123");
        // Short runs are words, not numbers; words between syllables end a run.
        assert_eq!(numbers("田中さんにしました").text, "田中さんにしました");
        let words = "さんにんでにしのくにへいってしごとをしてきた";
        assert_eq!(numbers(words).text, words);
        // A separator before the first syllable is not part of the number.
        assert_eq!(
            numbers("は、ゼロキューゼロ、イチニサンヨン、ゴーロクナナハチ").text,
            "は、090-1234-5678"
        );
    }
}
