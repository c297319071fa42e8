//! The detectors: each finds spans of one kind in a folded text and maps them back to the
//! original. They run most specific first (`all`); `scan` keeps the first finding for any text.

use std::sync::LazyLock;

use regex::Regex;

use super::Kind;
use super::fold::Folded;
use super::words;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid pattern")
}

/// `words`, longest first, as a regex alternation.
fn alternation(words: &[&str]) -> String {
    let mut sorted: Vec<&str> = words.to_vec();
    sorted.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    sorted
        .iter()
        .map(|w| regex::escape(w))
        .collect::<Vec<_>>()
        .join("|")
}

/// Dashes, dots, slashes and spaces people put between the groups of a number (folded).
const SEP: &str = r"[ \t\r\n\-‐‑‒–—―−─━ー~〜.・/_の]";
/// Ways to write "dot" in an address (folded).
const DOT: &str = r"(?:\.|。|\[\.\]|\(\.\)|\{\.\}|\(dot\)|\[dot\]|\{dot\}| dot |ドット|どっと)";
/// Characters that end a URL.
const URL_END: &str = r#"[^\s<>「」『』（）()、。"'，]"#;
/// Top-level domains recognized without a scheme (with one, any host is a URL).
const TLDS: &str = "com|net|org|jp|me|io|info|link|xyz|app|dev|tokyo|osaka|nagoya|yokohama|kyoto|blog|biz|tv|cc|site|online|shop|page|ly|to|be|fm|us|uk|de|fr|kr|cn|tw|hk|asia|club|work|fun|space|tech|ai|co|art|design|store|jobs|moe|love|life|world|live|news|im";

static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?:\+81|0081){SEP}{{0,2}}\(?0?\)?[1-9][0-9]{{0,3}}\)?{SEP}{{0,2}}[0-9]{{1,4}}{SEP}{{0,2}}[0-9]{{3,4}}|\(0[0-9]{{1,4}}\){SEP}{{0,2}}[0-9]{{1,4}}{SEP}{{0,2}}[0-9]{{3,4}}|0[0-9]{{1,4}}(?:{SEP}{{1,3}}|\()[0-9]{{1,4}}(?:{SEP}{{1,3}}|\)){SEP}{{0,2}}[0-9]{{3,4}}|0(?:{SEP}{{0,3}}[0-9]){{9,10}}"
    ))
});

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    let at = r"(?:@|\(at\)|\[at\]|\{at\}| at |アットマーク|アット|あっとまーく|あっと)";
    // Labels are ASCII or, internationalized, Japanese (はなみずき.jp), never a mix: a mix is
    // an address followed by a sentence (…@example.jpまで。LINE…).
    let label = r"(?:[a-z0-9][a-z0-9\-]*|[\p{Han}\p{Hiragana}\p{Katakana}ー]+)";
    re(&format!(
        r"[a-z0-9][a-z0-9._%+\-]*\s*{at}\s*{label}(?:\s*{DOT}\s*{label})*\s*{DOT}\s*[a-z]{{2,}}"
    ))
});

static URL: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?:https?|hxxps?|h\*\*ps?|ttps?|ftp)(?::|\[:\])//{URL_END}+|www(?:\.|\[\.\]){URL_END}+|(?:[a-z0-9][a-z0-9\-]*(?:\.|\[\.\]|\(\.\)))+(?:{TLDS})(?:/{URL_END}*)?|(?:[\p{{Han}}\p{{Hiragana}}\p{{Katakana}}ー]{{1,20}}(?:\.|\[\.\]))+(?:jp|com|net)(?:/{URL_END}*)?"
    ))
});

/// A service's name, an optional "ID" word and connector, then the id.
fn account_pattern(services: &[&str], id_word_required: bool) -> Regex {
    let id_word = r"(?:id|アイディー|アイディ|あいでぃー|アカウント名|アカウント|あかうんと|ユーザーネーム|ユーザー名|ユーザ名|ユーザーid|ハンドルネーム|ハンドル|垢|名前|名)";
    let (id_word, handle_at) = if id_word_required {
        // Either the ID word, or an @ before the id.
        (
            format!(
                "(?:{id_word}\\s*(?:は|:|=|→|が|を|も)?\\s*[「『(]?\\s*@?|(?:は|:|=|→|が|を|も)?\\s*[「『(]?\\s*@)"
            ),
            "",
        )
    } else {
        (
            format!("(?:{id_word})?\\s*(?:は|:|=|→|が|を|も)?\\s*[「『(]?\\s*"),
            "@?",
        )
    };
    re(&format!(
        r"(?:{})\s*(?:の|で)?\s*{id_word}{handle_at}[a-z0-9][a-z0-9._:\-]{{2,29}}(?:#[0-9]{{4}})?",
        alternation(services)
    ))
}

static ACCOUNT: LazyLock<Regex> = LazyLock::new(|| account_pattern(words::SERVICES, false));
static ACCOUNT_AMBIGUOUS: LazyLock<Regex> =
    LazyLock::new(|| account_pattern(words::AMBIGUOUS_SERVICES, true));
static HANDLE: LazyLock<Regex> = LazyLock::new(|| re(r"@[a-z0-9_][a-z0-9_.]{2,29}"));
/// An "ID" word, a few words, and an id, without a service named (LINEで…。IDは lin_88).
static ID_GIVEN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:id|アイディー|アイディ|アカウント名|アカウント|ユーザーネーム|ユーザー名|ユーザ名|ハンドルネーム)[^a-z0-9@。！？!?\n]{0,8}?@?[a-z0-9][a-z0-9._:\-]{2,29}",
    )
});

static POSTAL: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"〒\s*[0-9]{{3}}\s*{SEP}?\s*[0-9]{{4}}|郵便番号\s*(?:は|:)?\s*[0-9]{{3}}{SEP}?[0-9]{{4}}|[0-9]{{3}}[\-‐‑‒–—―−ー][0-9]{{4}}"
    ))
});

static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    let pref = "北海道|(?:東京|大阪|京都)[都府]?|(?:青森|岩手|宮城|秋田|山形|福島|茨城|栃木|群馬|埼玉|千葉|神奈川|新潟|富山|石川|福井|山梨|長野|岐阜|静岡|愛知|三重|滋賀|兵庫|奈良|和歌山|鳥取|島根|岡山|広島|山口|徳島|香川|愛媛|高知|福岡|佐賀|長崎|熊本|大分|宮崎|鹿児島|沖縄)県?";
    let num = "[0-9〇一二三四五六七八九十百千]+";
    let dash = "(?:-|‐|‑|−|ー|の)";
    re(&format!(
        r"(?:{pref})?\s*[\p{{Han}}\p{{Katakana}}ヶケーノ]{{1,8}}?[市区町村郡]\s*(?P<town>[\p{{Han}}\p{{Katakana}}ヶケーノ0-9ぁ-ゖ--[のにではをへ]]{{0,10}}?)\s*(?:{num}\s*(?:丁目|{dash})\s*{num}(?:\s*(?:番地?|{dash})\s*{num})?(?:\s*号)?|{num}\s*番地?(?:\s*{num}\s*号)?|{num}\s*丁目|(?P<bare>[0-9]{{1,5}}))(?:\s*[\p{{Han}}\p{{Katakana}}ーa-z・]{{1,20}}?\s*{num}\s*(?:階|f|号室|号))?"
    ))
});

static WORKPLACE: LazyLock<Regex> = LazyLock::new(|| {
    let corp = r"株式会社|有限会社|合同会社|合資会社|合名会社|(?:一般|公益)(?:社団|財団)法人|社会福祉法人|医療法人|学校法人|独立行政法人|\(株\)|\(有\)|\(同\)";
    // After the company form a name may hold は or も (株式会社はなまる堂); before it they are
    // particles (夫は株式会社に勤めている).
    let name_after = r"[\p{Han}\p{Katakana}ーa-z0-9&・ぁ-ゖ--[のにでをへがと]]";
    let name_before = r"[\p{Han}\p{Katakana}ーa-z0-9&・ぁ-ゖ--[のにでをへがとはもやか]]";
    let place = r"銀行|信用金庫|信金|信用組合|病院|医院|クリニック|市役所|区役所|町役場|村役場|県庁|警察署|消防署|郵便局|製作所|工務店|商店|法律事務所|会計事務所|商事|物産|製薬|電機|証券|運輸|建設|ホールディングス|コーポレーション";
    re(&format!(
        r"(?:{corp})\s*{name_after}{{1,20}}|{name_before}{{1,20}}\s*(?:{corp})|(?P<inst>[\p{{Han}}\p{{Katakana}}ー]{{2,12}}|[ぁ-ゖ--[のにではがをともへや]]{{3,6}})(?:{place})(?:\s*[\p{{Han}}\p{{Katakana}}ー]{{1,10}}(?:支店|営業所|出張所|本店|工場|店))?"
    ))
});

static SCHOOL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?P<prefix>国立|公立|私立|県立|都立|府立|道立|市立|区立|町立|村立)?(?P<name>(?:[ぁ-ゖ--[のにではがをともへや]]{2,6})?[\p{Han}\p{Katakana}ーヶ]{1,12})(?:小学校|中学校|高等学校|中等教育学校|義務教育学校|高等専門学校|専門学校|短期大学|大学院|大学|女子大|短大|高専|高校|幼稚園|保育園|保育所|こども園|学園|学院)",
    )
});

static NOT_NAMES: LazyLock<std::collections::HashSet<&'static str>> =
    LazyLock::new(|| words::NOT_NAMES.iter().copied().collect());

static HONORIFIC: LazyLock<Regex> =
    LazyLock::new(|| re(r"さん|さま|様|くん|君|ちゃん|氏|先生|せんせい|殿"));

static CARD: LazyLock<Regex> = LazyLock::new(|| re(r"[0-9](?:[ \-]?[0-9]){12,18}"));
static MY_NUMBER: LazyLock<Regex> = LazyLock::new(|| re(r"[0-9]{4}[ \-]?[0-9]{4}[ \-]?[0-9]{4}"));

static PLATE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:[\p{Han}]{1,4}|[ぁ-ゖ]{2,4})\s*[0-9]{2,3}\s*[ぁ-ゖ]\s*(?:[0-9]{1,2}\s*[\-‐ー−]\s*[0-9]{2}|[・.]{1,3}\s*[0-9]{1,3}|[0-9]{4})",
    )
});

fn digits(s: &str) -> impl Iterator<Item = u32> + '_ {
    s.chars().filter_map(|c| c.to_digit(10))
}

fn luhn(number: &str) -> bool {
    let ds: Vec<u32> = digits(number).collect();
    let sum: u32 = ds
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let doubled = d * 2;
            match (i % 2 == 1, doubled > 9) {
                (true, true) => doubled - 9,
                (true, false) => doubled,
                (false, _) => *d,
            }
        })
        .sum();
    (13..=19).contains(&ds.len()) && sum.is_multiple_of(10)
}

/// My Number's check digit (the 12th), from the eleven before it.
fn my_number(number: &str) -> bool {
    let ds: Vec<u32> = digits(number).collect();
    if ds.len() != 12 {
        return false;
    }
    let sum: u32 = (1..=11)
        .map(|n| {
            let p = ds[11 - n];
            let q = if n <= 6 { n as u32 + 1 } else { n as u32 - 5 };
            p * q
        })
        .sum();
    let remainder = sum % 11;
    let check = if remainder <= 1 { 0 } else { 11 - remainder };
    ds[11] == check
}

/// Whether the match `start..end` of `text` stands alone: no digit (or `more` character)
/// right before or after it.
fn alone(text: &str, start: usize, end: usize, more: impl Fn(char) -> bool) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(|c| c.is_ascii_digit() || more(c))
        && !after.is_some_and(|c| c.is_ascii_digit() || more(c))
}

/// Units after a number that make `123-4567` a range, not a postal code.
fn unit_after(text: &str) -> bool {
    const UNITS: &[&str] = &[
        "月",
        "代",
        "才",
        "週",
        "つ",
        "通",
        "泊",
        "cm",
        "kg",
        "年生",
        "期",
        "限",
        "色",
        "品",
        "円",
        "人",
        "件",
        "年",
        "名",
        "個",
        "枚",
        "回",
        "歳",
        "時",
        "分",
        "秒",
        "万",
        "km",
        "m",
        "g",
        "台",
        "点",
        "%",
        "ページ",
        "p",
        "ヶ",
        "か月",
        "日",
        "本",
        "杯",
        "冊",
        "頭",
        "匹",
        "番",
        "号",
        "度",
        "倍",
        "階",
        "位",
        "行",
        "字",
        "曲",
        "話",
        "巻",
        "部",
        "社",
        "店",
        "歩",
        "キロ",
        "メートル",
    ];
    let rest = text.trim_start();
    UNITS.iter().any(|u| rest.starts_with(u))
}

/// Whether the id at the end of an account match is one: it has a letter and either looks like
/// an id (digits, `._-#`) or was introduced as one (an ID word, `:`, `=`, `@`); or, all digits,
/// it was introduced as one. A count or a time (LINEで10:30, インスタで1000人, LINEは2018年) is not.
fn id_ok(matched: &str, after: &str) -> bool {
    let id_len: usize = matched
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || "._-#:".contains(*c))
        .map(char::len_utf8)
        .sum();
    let (intro, id) = matched.split_at(matched.len() - id_len);
    let introduced = intro.ends_with('@')
        || [
            "id",
            "アイディ",
            "アカウント",
            "ユーザ",
            "ハンドル",
            "垢",
            "名",
            ":",
            "=",
            "→",
        ]
        .iter()
        .any(|w| intro.contains(w));
    let letter = id.contains(|c: char| c.is_ascii_alphabetic());
    let looks_like_an_id = id.contains(|c: char| c.is_ascii_digit() || "._-#".contains(c));
    if unit_after(after) {
        return false;
    }
    if letter {
        introduced || looks_like_an_id
    } else {
        introduced && !id.contains(':') && id.len() >= 5
    }
}

/// Keeps a number standing alone (no digit right before or after it) that passes `check`.
fn digits_alone(check: fn(&str) -> bool) -> impl Fn(&regex::Captures, &str) -> bool {
    move |caps, text| {
        let m = caps.get(0).expect("group 0 always matches");
        alone(text, m.start(), m.end(), |_| false) && check(m.as_str())
    }
}

fn spans(
    re: &Regex,
    folded: &Folded,
    original: &str,
    keep: impl Fn(&regex::Captures, &str) -> bool,
) -> Vec<(usize, usize)> {
    re.captures_iter(&folded.text)
        .filter(|caps| keep(caps, &folded.text))
        .map(|caps| {
            let m = caps.get(0).expect("group 0 always matches");
            folded.original(original, m.start(), m.end())
        })
        .collect()
}

fn phone_ok(m: &str) -> bool {
    let n = digits(m).count();
    if m.starts_with('+') || m.starts_with("0081") {
        let national = n - if m.starts_with('+') { 2 } else { 4 };
        (9..=11).contains(&national)
    } else {
        (10..=11).contains(&n)
    }
}

fn is_particle(c: char) -> bool {
    matches!(
        c,
        'の' | 'に' | 'で' | 'は' | 'が' | 'を' | 'と' | 'も' | 'へ' | 'や' | 'か' | 'よ' | 'ね'
    )
}

fn hiragana(c: char) -> bool {
    ('ぁ'..='ゖ').contains(&c) || c == 'ー'
}

/// Hiragana after an honorific that still lets it end a name: particles and the starts of
/// まで, だった, じゃ, って, ら, たち, なら, こそ (anything else continues a word: さんざん).
fn ends_a_name(c: char) -> bool {
    is_particle(c)
        || matches!(
            c,
            'ま' | 'だ' | 'じ' | 'っ' | 'ら' | 'た' | 'な' | 'こ' | 'さ' | 'ご'
        )
}

fn katakana(c: char) -> bool {
    ('ァ'..='ヺ').contains(&c) || c == 'ー'
}

/// The name before an honorific that starts at `at` in `text`, if there is one: the whole run of
/// kanji (up to six) or katakana (two to eight) before it, or a word of hiragana (two to five)
/// that starts after a particle or a mark; never a role, a relation or a set phrase.
fn name_before(text: &str, at: usize, end: usize) -> Option<usize> {
    let after = text[end..].chars().next();
    // 氏名, 様子, 先生方, 様々, さんざん: the honorific starts another word.
    if after
        .is_some_and(|c| is_han(c) || c == '々' || katakana(c) || (hiragana(c) && !ends_a_name(c)))
    {
        return None;
    }
    let mut before: Vec<(usize, char)> = text[..at].char_indices().rev().take(18).collect();
    // 坂口 さん: one space between a name in kanji or katakana and its honorific.
    if before.first().is_some_and(|(_, c)| *c == ' ')
        && before
            .get(1)
            .is_some_and(|(_, c)| is_han(*c) || katakana(*c))
    {
        before.remove(0);
    }
    // The script of the name is that of its last character other than a long vowel mark; after
    // kanji, long vowel marks are drawn-out speech (田中ーさん, お兄ーちゃん), not the name.
    let last = before.iter().map(|(_, c)| *c).find(|c| *c != 'ー')?;
    if is_han(last) {
        let marks = before.iter().take_while(|(_, c)| *c == 'ー').count();
        before.drain(..marks);
    }
    let name_end = before.first().map_or(at, |(i, c)| i + c.len_utf8());
    let run = |script: fn(char) -> bool| before.iter().take_while(|(_, c)| script(*c)).count();
    let not_a_name = |n: &str| NOT_NAMES.contains(n);
    let preceding = |len: usize| before.get(len).map(|(_, c)| *c);
    if is_han(last) {
        // 一ノ瀬, 霞ヶ関: a small katakana joining kanji belongs to the name.
        let len = run(|c| is_han(c) || matches!(c, 'ノ' | 'ヶ' | 'ケ'));
        if len == 0 || len > 6 {
            return None;
        }
        let start = before[len - 1].0;
        let name = &text[start..name_end];
        // After a katakana word it is a compound (ママ友); after お or ご a set phrase (ご馳走様).
        let compound =
            preceding(len).is_some_and(|c| katakana(c) || matches!(c, 'お' | 'ご' | '御'));
        let role = not_a_name(name) || words::NOT_NAME_ENDINGS.iter().any(|e| name.ends_with(e));
        return (!role && !compound).then_some(start);
    }
    if last.is_ascii_alphabetic() {
        let len = run(|c| c.is_ascii_alphabetic());
        if !(2..=15).contains(&len) {
            return None;
        }
        let start = before[len - 1].0;
        let name = &text[start..name_end];
        return (!preceding(len).is_some_and(|c| c.is_ascii_alphanumeric()) && !not_a_name(name))
            .then_some(start);
    }
    if katakana(last) {
        let len = run(katakana);
        if !(2..=8).contains(&len) {
            return None;
        }
        let start = before[len - 1].0;
        let name = &text[start..name_end];
        return (!not_a_name(name) && !name.starts_with('ー')).then_some(start);
    }
    if hiragana(last) {
        let len = run(hiragana);
        // Longest first (names in hiragana are short): a word after a mark or the start, one
        // not starting with a particle after a kanji or katakana word, or one without particles
        // after a particle. It never ends with a particle (…ときは + ちゃんと).
        for n in (2..=len.min(4)).rev() {
            let start = before[n - 1].0;
            let name = &text[start..name_end];
            let first = name.chars().next()?;
            let last = name.chars().next_back()?;
            // Ends in such a word of two characters or more (みんなたくさん).
            let ends_in_a_word = name
                .char_indices()
                .skip(1)
                .take_while(|(i, _)| name.len() - i >= 2 * 3)
                .any(|(i, _)| NOT_NAMES.contains(&name[i..]));
            if first == 'ー'
                || not_a_name(name)
                || ends_in_a_word
                || matches!(last, 'は' | 'が' | 'を' | 'に' | 'で' | 'も' | 'の' | 'て')
            {
                continue;
            }
            // After kanji, hiragana is the word's ending (初めて + ちゃんと), not a name.
            let fits = match preceding(n) {
                None => true,
                Some(c) if hiragana(c) => is_particle(c) && !name.chars().any(is_particle),
                Some(c) if is_han(c) => false,
                Some(c) if katakana(c) || c.is_ascii_alphanumeric() => !is_particle(first),
                Some(_) => true,
            };
            if fits {
                return Some(start);
            }
        }
    }
    None
}

fn names(folded: &Folded, original: &str) -> Vec<(usize, usize)> {
    HONORIFIC
        .find_iter(&folded.text)
        .filter_map(|m| {
            let start = name_before(&folded.text, m.start(), m.end())?;
            Some(folded.original(original, start, m.end()))
        })
        .collect()
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}' | '々')
}

/// Every detector's spans in the original text, most specific kind first.
pub fn all(plain: &Folded, numbers: &Folded, original: &str) -> Vec<(Kind, Vec<(usize, usize)>)> {
    let any = |_: &regex::Captures, _: &str| true;
    let ascii_word = |c: char| c.is_ascii_alphanumeric();
    vec![
        (Kind::Email, spans(&EMAIL, plain, original, any)),
        (
            Kind::Url,
            spans(&URL, plain, original, |caps, text| {
                let m = caps.get(0).expect("group 0");
                let before = text[..m.start()].chars().next_back();
                let after = text[m.end()..].chars().next();
                !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '@' || c == '.')
                    && !after.is_some_and(ascii_word)
            }),
        ),
        (Kind::SnsId, {
            let mut found = spans(&ACCOUNT, plain, original, |caps, text| {
                let m = caps.get(0).expect("group 0");
                // The service's name is a word of its own (not online, オンライン), and the id
                // ends.
                let before = text[..m.start()].chars().next_back();
                let after = text[m.end()..].chars().next();
                !before.is_some_and(|c| ascii_word(c) || katakana(c))
                    && !after.is_some_and(ascii_word)
                    && id_ok(m.as_str(), &text[m.end()..])
            });
            found.extend(spans(&ACCOUNT_AMBIGUOUS, plain, original, |caps, text| {
                let m = caps.get(0).expect("group 0");
                let before = text[..m.start()].chars().next_back();
                let after = text[m.end()..].chars().next();
                !before.is_some_and(ascii_word) && !after.is_some_and(ascii_word)
            }));
            found.extend(spans(&ID_GIVEN, plain, original, |caps, text| {
                let m = caps.get(0).expect("group 0");
                let before = text[..m.start()].chars().next_back();
                let after = text[m.end()..].chars().next();
                !before.is_some_and(ascii_word)
                    && !after.is_some_and(ascii_word)
                    && id_ok(m.as_str(), &text[m.end()..])
            }));
            found.extend(spans(&HANDLE, plain, original, |caps, text| {
                let m = caps.get(0).expect("group 0");
                let before = text[..m.start()].chars().next_back();
                // A handle has a letter or an underscore (ランチ@500円 is a price).
                !before.is_some_and(|c| c.is_ascii_alphanumeric() || "._@-".contains(c))
                    && m.as_str()
                        .contains(|c: char| c.is_ascii_alphabetic() || c == '_')
            }));
            found.sort_unstable();
            found
        }),
        (
            Kind::CardNumber,
            spans(&CARD, numbers, original, digits_alone(luhn)),
        ),
        (
            Kind::MyNumber,
            spans(&MY_NUMBER, numbers, original, digits_alone(my_number)),
        ),
        (
            Kind::Phone,
            spans(&PHONE, numbers, original, digits_alone(phone_ok)),
        ),
        (
            Kind::PostalCode,
            spans(&POSTAL, numbers, original, |caps, text| {
                let m = caps.get(0).expect("group 0");
                m.as_str().starts_with('〒')
                    || m.as_str().starts_with("郵便番号")
                    || (alone(text, m.start(), m.end(), |c| c == ',')
                        && !unit_after(&text[m.end()..]))
            }),
        ),
        (
            Kind::Address,
            spans(&ADDRESS, plain, original, |caps, text| {
                // A bare number right after a town's name (下鴨松ノ木町59) is an address; not
                // after a word in hiragana (中村さんと3月), nor before a unit (59回).
                let end = caps.get(0).expect("group 0").end();
                caps.name("bare").is_none()
                    || (caps.name("town").is_some_and(|t| {
                        !t.as_str().is_empty() && !t.as_str().chars().any(hiragana)
                    }) && !text[end..].starts_with(|c: char| c.is_ascii_digit())
                        && !unit_after(&text[end..]))
            }),
        ),
        (Kind::CarPlate, spans(&PLATE, plain, original, any)),
        (
            Kind::Workplace,
            spans(&WORKPLACE, plain, original, |caps, _| {
                caps.name("inst").is_none_or(|n| {
                    let n = n.as_str();
                    !words::NOT_PROPER.contains(&n)
                        && !words::NOT_PROPER
                            .iter()
                            .any(|w| w.chars().count() >= 2 && n.ends_with(w))
                        && !n.chars().any(|c| "のにではがをともへや".contains(c))
                        && !n.ends_with(['る', 'た', 'い', 'だ', 'な', 'く'])
                })
            }),
        ),
        (
            Kind::School,
            spans(&SCHOOL, plain, original, |caps, _| {
                caps.name("name")
                    .is_some_and(|n| !words::NOT_PROPER.contains(&n.as_str()))
            }),
        ),
        (Kind::Name, names(plain, original)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits() {
        assert!(luhn("4111 1111 1111 1111"));
        assert!(!luhn("4111 1111 1111 1112"));
        assert!(my_number("123456789018"));
        assert!(!my_number("123456789010"));
        // Card test numbers of each length and brand, where doubled digits pass 9 and where
        // they do not; each with its last digit changed fails.
        for valid in [
            "5555555555554444",
            "378282246310005",
            "4012888888881881",
            "6011111111111117",
            "3530111333300000",
            "30569309025904",
            "4222222222222",
        ] {
            assert!(luhn(valid), "{valid}");
            let last = valid.chars().last().and_then(|c| c.to_digit(10)).unwrap();
            let changed = format!("{}{}", &valid[..valid.len() - 1], (last + 1) % 10);
            assert!(!luhn(&changed), "{changed}");
        }
        assert!(!luhn("424242424242"), "too short for a card");
    }

    #[test]
    fn a_number_stands_alone_without_a_digit_or_a_joining_character_beside_it() {
        let none = |_: char| false;
        assert!(alone("電話12345です", 6, 11, none));
        assert!(alone("12345", 0, 5, none));
        assert!(!alone("012345", 1, 6, none), "a digit before");
        assert!(!alone("123456", 0, 5, none), "a digit after");
        assert!(
            !alone("x12345y", 1, 6, |c| c == 'x'),
            "a joining character before"
        );
        assert!(
            !alone("x12345y", 1, 6, |c| c == 'y'),
            "a joining character after"
        );
    }

    #[test]
    fn an_id_needs_a_letter_or_an_introduction() {
        // Letters: an introduction or an id's punctuation is enough.
        assert!(id_ok("id hanako", ""));
        assert!(id_ok("line hana.77", ""));
        assert!(
            !id_ok("line hanako", ""),
            "a word after a service is not an id"
        );
        // Digits only: introduced, five or more, no time.
        assert!(id_ok("@12345", ""), "after an @");
        assert!(id_ok("id 12345", ""));
        assert!(id_ok("アカウント→12345", ""));
        assert!(!id_ok("id 1234", ""), "four digits");
        assert!(!id_ok("line 12345", ""), "not introduced");
        assert!(!id_ok("id 10:30", ""), "a time");
        assert!(!id_ok("id 12345", "人"), "a count");
    }
}
