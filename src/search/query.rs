//! A reader's query as readers type it on other sites: words, `"exact phrases"`, `-exclusions`
//! and `OR` between words. Anything else is text, so no query is malformed. Each word is then
//! widened the way a reader means it: by the synonym groups editors keep, and (when the word as
//! written finds little) split at particles into content parts that must all appear.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

use super::analyzer::normalized;

/// One thing a query asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// A word as typed: synonyms and relaxed matching apply.
    Word(String),
    /// A quoted phrase: exactly this text (after the usual folding of kana and numbers).
    Exact(String),
}

impl Need {
    pub fn text(&self) -> &str {
        match self {
            Need::Word(t) | Need::Exact(t) => t,
        }
    }

    fn written(&self) -> String {
        match self {
            Need::Word(t) => t.clone(),
            // Quote marks inside are not letters to search (the analyzer skips them) but would
            // end the phrase early.
            Need::Exact(t) => format!("\"{}\"", t.replace(is_quote, "")),
        }
    }
}

/// A parsed query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Every group must match; a group matches when any of its needs does (`a OR b`).
    pub all: Vec<Vec<Need>>,
    /// None of these may match (`-word`).
    pub none: Vec<Need>,
}

/// Quotes that open a phrase, with the quotes that close it.
fn closing(open: char) -> Option<&'static [char]> {
    match open {
        '"' => Some(&['"']),
        // Some input methods type ” at both ends.
        '“' | '”' => Some(&['”', '"']),
        '「' => Some(&['」']),
        '『' => Some(&['』']),
        _ => None,
    }
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '“' | '”' | '「' | '」' | '『' | '』')
}

fn is_minus(c: char) -> bool {
    matches!(c, '-' | '−')
}

enum Lexeme {
    Need { need: Need, exclude: bool },
    Or,
}

fn lex(q: &str) -> Vec<Lexeme> {
    // NFKC first: ＂, －, ＯＲ and the full-width space are the operators too.
    let chars: Vec<char> = q.nfkc().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let exclude = is_minus(chars[i])
            && chars
                .get(i + 1)
                .is_some_and(|c| !c.is_whitespace() && !is_minus(*c));
        let start = i + usize::from(exclude);
        let quoted = closing(chars[start]).and_then(|ends| {
            let end = chars[start + 1..].iter().position(|c| ends.contains(c))?;
            Some((start + 1, start + 1 + end))
        });
        if let Some((from, to)) = quoted {
            let text: String = chars[from..to].iter().collect::<String>();
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            if !text.is_empty() {
                out.push(Lexeme::Need {
                    need: Need::Exact(text),
                    exclude,
                });
            }
            i = to + 1;
            continue;
        }
        let end = start
            + chars[start..]
                .iter()
                .take_while(|c| !c.is_whitespace())
                .count();
        let word: String = chars[start..end].iter().collect();
        i = end;
        if word == "OR" && !exclude {
            out.push(Lexeme::Or);
        } else {
            out.push(Lexeme::Need {
                need: Need::Word(word),
                exclude,
            });
        }
    }
    out
}

pub fn parse(q: &str) -> Parsed {
    let lexemes = lex(q);
    let positive = |l: Option<&Lexeme>| matches!(l, Some(Lexeme::Need { exclude: false, .. }));
    let mut parsed = Parsed::default();
    let mut join = false;
    for (i, lexeme) in lexemes.iter().enumerate() {
        match lexeme {
            Lexeme::Or => {
                // An operator only between two words to find; anywhere else it is the word "OR".
                if positive(i.checked_sub(1).and_then(|p| lexemes.get(p)))
                    && positive(lexemes.get(i + 1))
                {
                    join = true;
                } else {
                    parsed.all.push(vec![Need::Word("OR".to_owned())]);
                }
            }
            Lexeme::Need {
                need,
                exclude: true,
            } => parsed.none.push(need.clone()),
            Lexeme::Need {
                need,
                exclude: false,
            } => match parsed.all.last_mut() {
                Some(group) if join => group.push(need.clone()),
                _ => parsed.all.push(vec![need.clone()]),
            },
        }
        if !matches!(lexeme, Lexeme::Or) {
            join = false;
        }
    }
    parsed
}

impl Parsed {
    /// The query as a reader would type it.
    pub fn written(&self) -> String {
        let mut words: Vec<String> = self
            .all
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(Need::written)
                    .collect::<Vec<_>>()
                    .join(" OR ")
            })
            .collect();
        words.extend(self.none.iter().map(|n| format!("-{}", n.written())));
        words.join(" ")
    }

    /// The same search with `word` (a word of it) taken exactly as written, in quotes.
    pub fn with_exact(&self, word: &str) -> String {
        self.replacing(&|n| match n {
            Need::Word(t) if t == word => Some(Need::Exact(t.clone())),
            _ => None,
        })
        .written()
    }

    /// The query with each word to find that `change` answers for replaced.
    pub fn replacing(&self, change: &dyn Fn(&Need) -> Option<Need>) -> Parsed {
        Parsed {
            all: self
                .all
                .iter()
                .map(|g| {
                    g.iter()
                        .map(|n| change(n).unwrap_or_else(|| n.clone()))
                        .collect()
                })
                .collect(),
            none: self.none.clone(),
        }
    }

    /// The query without its `i`th group of words to find.
    pub fn without(&self, i: usize) -> Parsed {
        let mut p = self.clone();
        p.all.remove(i);
        p
    }
}

/// Words that join the content words of a natural query (長続き*の*秘訣, 犬*の*散歩*で*出会った),
/// longest first so that との is taken whole rather than as と.
const FUNCTION_WORDS: [&str; 29] = [
    "について",
    "としての",
    "として",
    "からの",
    "までの",
    "との",
    "での",
    "への",
    "には",
    "では",
    "とは",
    "にも",
    "でも",
    "とも",
    "から",
    "まで",
    "より",
    "って",
    "など",
    "の",
    "を",
    "に",
    "は",
    "が",
    "と",
    "で",
    "も",
    "や",
    "へ",
];

fn is_hiragana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{309F}')
}

/// Whether the letter at `i` is hiragana; a long-vowel mark is what the letter before it is
/// (ぱー*と*なー is one word).
fn hiragana_at(chars: &[char], i: usize) -> bool {
    chars[..=i]
        .iter()
        .rev()
        .find(|c| **c != 'ー')
        .is_some_and(|c| is_hiragana(*c))
}

/// A word split into content parts and the function words between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Content(String),
    Joint(String),
}

/// Splits a word at function words. Without a dictionary a particle is told from the inside of
/// a word by its neighbours: it must touch a character that is not hiragana on one side
/// (家族*の*予定, 長続き*の*秘訣, 妻*に*ばれた); between two hiragana it is part of a word
/// (まとめ, どきどき). Punctuation separates too.
pub fn pieces(word: &str) -> Vec<Piece> {
    let chars: Vec<char> = word.nfkc().collect();
    let mut pieces = Vec::new();
    let mut content = String::new();
    let flush = |content: &mut String, pieces: &mut Vec<Piece>| {
        if !content.is_empty() {
            pieces.push(Piece::Content(std::mem::take(content)));
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !c.is_alphanumeric() && !matches!(c, 'ー' | '々' | '〆' | 'ゝ' | 'ゞ' | 'ヽ' | 'ヾ')
        {
            flush(&mut content, &mut pieces);
            pieces.push(Piece::Joint(c.to_string()));
            i += 1;
            continue;
        }
        let joint = (i > 0 && !content.is_empty())
            .then(|| {
                FUNCTION_WORDS.iter().find(|f| {
                    let f: Vec<char> = f.chars().collect();
                    chars[i..].starts_with(&f) && {
                        let before = hiragana_at(&chars, i - 1);
                        let after = i + f.len();
                        match chars.get(after) {
                            Some(c) => {
                                c.is_alphanumeric() && (!before || !hiragana_at(&chars, after))
                            }
                            // A particle at the end: 夫と, not まとめと.
                            None => !before,
                        }
                    }
                })
            })
            .flatten();
        match joint {
            Some(f) => {
                flush(&mut content, &mut pieces);
                pieces.push(Piece::Joint((*f).to_owned()));
                i += f.chars().count();
            }
            None => {
                content.push(c);
                i += 1;
            }
        }
    }
    flush(&mut content, &mut pieces);
    rejoin_okurigana(pieces)
}

/// A particle's letter is often the start of a word's kana ending instead: 手*が*かり, 嫌*が*らせ,
/// 上*が*り症, 盛り上*が*って. A part of at most two letters that starts with hiragana after a
/// joint says that: the joint and the part go back into the part before.
fn rejoin_okurigana(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let weak = matches!(&piece, Piece::Content(c)
            if c.chars().count() <= 2 && c.chars().next().is_some_and(is_hiragana));
        if weak
            && let [.., Piece::Content(_), Piece::Joint(j)] = out.as_slice()
            && j.chars().all(is_hiragana)
        {
            let joint = j.clone();
            out.pop();
            if let (Some(Piece::Content(before)), Piece::Content(after)) = (out.last_mut(), &piece)
            {
                before.push_str(&joint);
                before.push_str(after);
            }
            continue;
        }
        out.push(piece);
    }
    out
}

/// The content parts of a word worth searching for on their own: a lone hiragana (the こ of
/// この人) says nothing.
pub fn content_parts(pieces: &[Piece]) -> Vec<String> {
    pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Content(c) if !(c.chars().count() == 1 && c.chars().all(is_hiragana)) => {
                Some(c.clone())
            }
            _ => None,
        })
        .collect()
}

/// The words of a title as もしかして offers them: its content parts and, inside a part that
/// mixes scripts, its katakana, kanji and Latin runs (ピラティス教室 gives ピラティス and 教室 too).
pub fn vocabulary_words(text: &str) -> Vec<String> {
    fn script(c: char) -> u8 {
        match c {
            '\u{30A0}'..='\u{30FF}' => 1,
            '\u{3041}'..='\u{309F}' => 2,
            c if c.is_ascii_alphanumeric() => 3,
            _ => 4,
        }
    }
    let mut words = Vec::new();
    for part in content_parts(&pieces(text)) {
        let chars: Vec<char> = part.chars().collect();
        let mut start = 0;
        for i in 1..=chars.len() {
            if i == chars.len() || script(chars[i]) != script(chars[start]) {
                if start > 0 || i < chars.len() {
                    words.push(chars[start..i].iter().collect());
                }
                start = i;
            }
        }
        words.push(part);
    }
    words.retain(|w: &String| w.chars().count() >= 2 && !w.chars().all(is_hiragana));
    words.sort_unstable();
    words.dedup();
    words
}

/// The synonym groups editors keep, looked up by a word's normalized form.
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    groups: Vec<Vec<String>>,
    by_word: HashMap<String, usize>,
}

impl Synonyms {
    pub fn new(groups: Vec<Vec<String>>) -> Self {
        let mut by_word = HashMap::new();
        for (i, group) in groups.iter().enumerate() {
            for word in group {
                by_word.entry(normalized(word)).or_insert(i);
            }
        }
        Synonyms { groups, by_word }
    }

    /// The other words of `word`'s group, as editors wrote them.
    pub fn others(&self, word: &str) -> Vec<String> {
        let key = normalized(word);
        self.by_word
            .get(&key)
            .map(|&g| {
                self.groups[g]
                    .iter()
                    .filter(|w| normalized(w) != key)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

/// How many spellings of one word a search tries at most: each is a phrase query.
const MAX_VARIANTS: usize = 16;

/// What one need asks of a document, as text forms each searched as a phrase.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forms {
    /// Any of these, as a phrase: the word and its spellings with synonyms put in.
    pub exact: Vec<String>,
    /// Relaxed: every part (any of its spellings) must appear; empty when the word has fewer
    /// than two content parts.
    pub parts: Vec<Vec<String>>,
    /// Words the synonyms added to the spellings, by the word or part they stand for.
    pub added: Vec<(String, Vec<String>)>,
}

/// How many content parts a relaxed word keeps: each is a required clause (a long paste of a
/// sentence should not become dozens of them).
const MAX_PARTS: usize = 6;

impl Forms {
    pub fn of(need: &Need, synonyms: &Synonyms) -> Forms {
        let word = match need {
            Need::Exact(t) => {
                return Forms {
                    exact: vec![t.clone()],
                    ..Forms::default()
                };
            }
            Need::Word(w) => w,
        };
        let mut added = Vec::new();
        let whole = synonyms.others(word);
        let pieces = pieces(word);
        // Spellings of the whole word: each content piece replaced by its synonyms in turn, as
        // long as the spellings stay few.
        let mut exact: Vec<String> = vec![String::new()];
        for piece in &pieces {
            let choices = match piece {
                Piece::Joint(j) => vec![j.clone()],
                Piece::Content(c) if whole.is_empty() => {
                    let others = synonyms.others(c);
                    if !others.is_empty() && exact.len() * (others.len() + 1) <= MAX_VARIANTS {
                        added.push((c.clone(), others.clone()));
                        std::iter::once(c.clone()).chain(others).collect()
                    } else {
                        vec![c.clone()]
                    }
                }
                Piece::Content(c) => vec![c.clone()],
            };
            exact = exact
                .iter()
                .flat_map(|e| choices.iter().map(move |c| format!("{e}{c}")))
                .collect();
        }
        if !whole.is_empty() {
            added.push((word.clone(), whole.clone()));
            exact.extend(whole);
        }
        exact.dedup();
        let mut parts: Vec<Vec<String>> = Vec::new();
        for part in content_parts(&pieces) {
            if parts.len() < MAX_PARTS && !parts.iter().any(|p| p[0] == part) {
                parts.push(
                    std::iter::once(part.clone())
                        .chain(synonyms.others(&part))
                        .collect(),
                );
            }
        }
        Forms {
            exact,
            parts: if parts.len() >= 2 { parts } else { Vec::new() },
            added,
        }
    }

    /// Words the synonym groups added, by the word or part they stand for: those of the
    /// spellings, and when relaxed those of the parts too.
    pub fn widened(&self, relaxed: bool) -> Vec<(String, Vec<String>)> {
        let mut widened = self.added.clone();
        if relaxed {
            for part in self.parts.iter().filter(|p| p.len() > 1) {
                if !widened.iter().any(|(w, _)| *w == part[0]) {
                    widened.push((part[0].clone(), part[1..].to_vec()));
                }
            }
        }
        widened
    }

    pub fn relaxable(&self) -> bool {
        !self.parts.is_empty()
    }

    /// The text to mark in snippets.
    pub fn needles(&self, relaxed: bool) -> Vec<String> {
        let mut needles = self.exact.clone();
        if relaxed {
            needles.extend(self.parts.iter().flatten().cloned());
        }
        needles
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(v: &[&str]) -> Vec<Need> {
        v.iter().map(|w| Need::Word((*w).to_owned())).collect()
    }

    #[test]
    fn words_phrases_exclusions_and_or() {
        let p = parse("職場 \"三年目の春\" -異動 ヨガ OR ピラティス");
        assert_eq!(
            p.all,
            vec![
                words(&["職場"]),
                vec![Need::Exact("三年目の春".into())],
                words(&["ヨガ", "ピラティス"]),
            ]
        );
        assert_eq!(p.none, words(&["異動"]));
        // Full-width forms are the operators too.
        let p = parse("「長続きの秘訣」　－職場　犬 ＯＲ 猫");
        assert_eq!(p.all[0], vec![Need::Exact("長続きの秘訣".into())]);
        assert_eq!(p.none, words(&["職場"]));
        assert_eq!(p.all[1], words(&["犬", "猫"]));
        let p = parse("-\"オンライン ゲーム\" ゲーム");
        assert_eq!(p.none, vec![Need::Exact("オンライン ゲーム".into())]);
    }

    #[test]
    fn unknown_or_broken_syntax_is_text() {
        // An unclosed quote, OR at either end, a lone minus, a hyphen inside a word.
        let p = parse("\"長続き OR");
        assert_eq!(p.all, vec![words(&["\"長続き"]), words(&["OR"])]);
        assert!(p.none.is_empty());
        let p = parse("OR 犬 - e-mail or 猫");
        assert_eq!(
            p.all,
            vec![
                words(&["OR"]),
                words(&["犬"]),
                words(&["-"]),
                words(&["e-mail"]),
                words(&["or"]),
                words(&["猫"]),
            ]
        );
        // A long-vowel mark is not a minus.
        assert_eq!(parse("ーヒー").all, vec![words(&["ーヒー"])]);
        // OR next to an exclusion joins nothing.
        let p = parse("犬 OR -猫");
        assert_eq!(p.all, vec![words(&["犬"]), words(&["OR"])]);
        assert_eq!(p.none, words(&["猫"]));
        assert_eq!(parse("   "), Parsed::default());
    }

    #[test]
    fn the_exact_link_quotes_one_word() {
        let p = parse("恋人 ルール OR 約束 -職場");
        assert_eq!(p.with_exact("恋人"), "\"恋人\" ルール OR 約束 -職場");
    }

    fn content(word: &str) -> Vec<String> {
        content_parts(&pieces(word))
    }

    #[test]
    fn natural_queries_split_at_particles() {
        assert_eq!(content("長続きの秘訣"), ["長続き", "秘訣"]);
        assert_eq!(content("家族の予定を優先"), ["家族", "予定", "優先"]);
        assert_eq!(content("犬の散歩で出会った"), ["犬", "散歩", "出会った"]);
        assert_eq!(content("罪悪感との向き合い方"), ["罪悪感", "向き合い方"]);
        assert_eq!(content("妻にばれた"), ["妻", "ばれた"]);
        assert_eq!(content("LINEの既読"), ["LINE", "既読"]);
        assert_eq!(content("夫と"), ["夫"]);
        assert_eq!(content("朗読会、感想"), ["朗読会", "感想"]);
        // Inside a hiragana word a particle's letter is just a letter.
        assert_eq!(content("まとめ"), ["まとめ"]);
        assert_eq!(content("どきどき"), ["どきどき"]);
        assert_eq!(content("ぱーとなー"), ["ぱーとなー"]);
        assert_eq!(content("マッチングアプリ"), ["マッチングアプリ"]);
        // A lone hiragana left over says nothing.
        assert_eq!(content("この人"), ["人"]);
    }

    #[test]
    fn a_particle_letter_that_begins_a_kana_ending_does_not_split() {
        assert_eq!(content("手がかり"), ["手がかり"]);
        assert_eq!(content("嫌がらせ"), ["嫌がらせ"]);
        assert_eq!(content("上がり症"), ["上がり症"]);
        assert_eq!(content("盛り上がって"), ["盛り上がって"]);
        assert_eq!(content("妻にばれた"), ["妻", "ばれた"]);
    }

    #[test]
    fn quotes_japanese_readers_type_are_phrases_and_links_stay_phrases() {
        assert_eq!(
            parse("”三年目の春”").all,
            vec![vec![Need::Exact("三年目の春".into())]]
        );
        assert_eq!(
            parse("『こゝろ』").all,
            vec![vec![Need::Exact("こゝろ".into())]]
        );
        // A stray quote in a word does not break the exact link's phrase.
        let p = parse("\"恋人 約束");
        assert_eq!(p.with_exact("\"恋人"), "\"恋人\" 約束");
        assert_eq!(
            parse(&p.with_exact("\"恋人")).all[0],
            vec![Need::Exact("恋人".into())]
        );
    }

    #[test]
    fn a_long_natural_query_keeps_a_few_distinct_parts() {
        let long = "恋人の".repeat(33);
        let f = Forms::of(&Need::Word(long), &Synonyms::default());
        assert!(f.parts.is_empty(), "one distinct part: nothing to relax");
        let f = Forms::of(
            &Need::Word("犬の散歩の公園の夕方の雨の傘の靴の道".into()),
            &Synonyms::default(),
        );
        assert_eq!(f.parts.len(), MAX_PARTS);
    }

    #[test]
    fn titles_give_whole_words_and_their_script_runs() {
        assert_eq!(
            vocabulary_words("ピラティス教室で出会って"),
            ["ピラティス", "ピラティス教室", "出会", "教室"]
        );
        assert_eq!(vocabulary_words("子どもの受験"), ["受験", "子ども"]);
        assert_eq!(vocabulary_words("LINEの既読"), ["LINE", "既読"]);
    }

    fn groups() -> Synonyms {
        Synonyms::new(vec![
            vec!["恋人".into(), "パートナー".into(), "相手".into()],
            vec!["職場".into(), "会社".into()],
            vec!["カフェ".into(), "喫茶店".into()],
        ])
    }

    #[test]
    fn synonyms_widen_words_and_their_parts() {
        let s = groups();
        let f = Forms::of(&Need::Word("恋人".into()), &s);
        assert_eq!(f.exact, ["恋人", "パートナー", "相手"]);
        assert_eq!(
            f.added,
            vec![("恋人".to_owned(), vec!["パートナー".into(), "相手".into()])]
        );
        assert!(!f.relaxable());
        // Looked up folded: かふぇ is カフェ.
        assert_eq!(Forms::of(&Need::Word("かふぇ".into()), &s).exact.len(), 2);
        let f = Forms::of(&Need::Word("会社の飲み会".into()), &s);
        assert_eq!(f.exact, ["会社の飲み会", "職場の飲み会"]);
        assert_eq!(
            f.parts,
            vec![
                vec!["会社".to_owned(), "職場".into()],
                vec!["飲み会".to_owned()]
            ]
        );
        // Quoted: exactly as written.
        let f = Forms::of(&Need::Exact("恋人".into()), &s);
        assert_eq!(f.exact, ["恋人"]);
        assert!(f.added.is_empty());
        assert!(Synonyms::default().is_empty());
    }
}
