//! Finds personal information in what a submitter wrote: e-mail addresses, phone numbers, URLs,
//! LINE and SNS ids, postal codes. Text is compared in a normalized form (full-width digits and
//! letters, and the many dashes people type, folded to ASCII) but spans point into the original.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Email,
    Phone,
    Url,
    SnsId,
    PostalCode,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Email => "メールアドレス",
            Kind::Phone => "電話番号",
            Kind::Url => "URL",
            Kind::SnsId => "LINE・SNSのID",
            Kind::PostalCode => "郵便番号",
        }
    }
}

/// One finding, with the text as the person typed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: Kind,
    /// Which field it was found in, e.g. 本文.
    pub field: String,
    pub text: String,
    /// Where the text starts in its field, in bytes; only while the form is shown again.
    #[serde(skip)]
    pub at: usize,
}

// Checked in this order; a later pattern never reports text inside an earlier finding.
static PATTERNS: LazyLock<Vec<(Kind, Regex)>> = LazyLock::new(|| {
    let p = |kind, re: &str| (kind, Regex::new(re).expect("valid pattern"));
    vec![
        p(
            Kind::Email,
            r"(?i)[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}",
        ),
        p(
            Kind::Url,
            r"(?i)(?:(?-u:\b)https?://|(?-u:\b)www\.)[^\s<>「」『』（）()、。]+|(?-u:\b)[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|jp|me|io|info|link|xyz|app)(?:/[^\s<>「」『』（）()、。]*)?",
        ),
        p(
            Kind::SnsId,
            r"(?i)(?:(?-u:\b)(?:line|instagram|insta|twitter|tiktok|facebook|discord|threads|kakao)|ライン|インスタ(?:グラム)?|ツイッター|カカオ)\s*(?:の)?\s*(?:id|アカウント|ユーザー名)?\s*(?:は|:|=)?\s*@?[a-z0-9._-]{4,}",
        ),
        p(Kind::SnsId, r"(?i)(?:^|[^a-z0-9._-])(@[a-z0-9_.]{3,30})"),
        p(
            Kind::Phone,
            r"(?:\+81[-\s]?|\(?(?-u:\b)0)[0-9]{1,4}[-\s)]{0,2}[0-9]{1,4}[-\s]?[0-9]{3,4}(?-u:\b)",
        ),
        p(
            Kind::PostalCode,
            r"〒\s*[0-9]{3}-?[0-9]{4}|(?-u:\b)[0-9]{3}-[0-9]{4}(?-u:\b)",
        ),
    ]
});

/// Folds width variants and dashes; returns the folded text and, for each of its bytes, the byte
/// offset of the original character it came from.
fn fold(text: &str) -> (String, Vec<usize>) {
    let mut folded = String::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len());
    for (offset, c) in text.char_indices() {
        let start = folded.len();
        match c {
            // Dashes, minus signs and the long vowel mark people type between digits.
            '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' | '－' | 'ー' | 'ｰ' => {
                folded.push('-')
            }
            '　' => folded.push(' '),
            '〒' => folded.push('〒'),
            _ => folded.extend(c.nfkc()),
        }
        origin.extend(std::iter::repeat_n(offset, folded.len() - start));
    }
    (folded, origin)
}

/// Every finding in `text`, in order; `field` names where the text came from.
pub fn scan(field: &str, text: &str) -> Vec<Finding> {
    let (folded, origin) = fold(text);
    let original_end = |folded_end: usize| -> usize {
        if folded_end >= folded.len() {
            return text.len();
        }
        // The original character containing the last folded byte ends where the next one starts.
        let last = origin[folded_end - 1];
        text[last..]
            .chars()
            .next()
            .map_or(text.len(), |c| last + c.len_utf8())
    };
    // Findings so far by start → end; they never overlap, so the one starting last before `e` is
    // the only one that can overlap [s, e). Logarithmic per match, where a list scan made a text
    // full of matches quadratic.
    let mut taken: BTreeMap<usize, usize> = BTreeMap::new();
    let mut found: Vec<(usize, Finding)> = Vec::new();
    for (kind, re) in PATTERNS.iter() {
        for caps in re.captures_iter(&folded) {
            let m = caps
                .get(1)
                .unwrap_or_else(|| caps.get(0).expect("group 0 always matches"));
            let (s, e) = (m.start(), m.end());
            if taken.range(..e).next_back().is_some_and(|(_, te)| s < *te) {
                continue;
            }
            // Phone numbers need 10 or 11 digits (domestic) to avoid flagging years and counts.
            if *kind == Kind::Phone {
                let digits = m.as_str().bytes().filter(u8::is_ascii_digit).count();
                let international = m.as_str().starts_with("+81");
                if !(international || (10..=11).contains(&digits)) {
                    continue;
                }
            }
            taken.insert(s, e);
            let (os, oe) = (origin[s], original_end(e));
            found.push((
                os,
                Finding {
                    kind: *kind,
                    field: field.to_owned(),
                    text: text[os..oe].to_owned(),
                    at: os,
                },
            ));
        }
    }
    found.sort_by_key(|(start, _)| *start);
    found.into_iter().map(|(_, f)| f).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, String)> {
        scan("本文", text)
            .into_iter()
            .map(|f| (f.kind, f.text))
            .collect()
    }

    #[test]
    fn email_addresses_including_full_width() {
        assert_eq!(
            kinds("連絡は taro.y@example.co.jp まで"),
            vec![(Kind::Email, "taro.y@example.co.jp".into())]
        );
        assert_eq!(
            kinds("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
            vec![(Kind::Email, "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ".into())]
        );
    }

    #[test]
    fn japanese_phone_numbers_in_every_common_form() {
        for phone in [
            "090-1234-5678",
            "09012345678",
            "03-1234-5678",
            "0120-123-456",
            "(03)1234-5678",
            "０９０－１２３４－５６７８",
            "０９０ー１２３４ー５６７８",
            "+81 90-1234-5678",
            "06 1234 5678",
        ] {
            let found = kinds(&format!("電話は{phone}です"));
            assert_eq!(found.len(), 1, "{phone}: {found:?}");
            assert_eq!(found[0].0, Kind::Phone, "{phone}");
            assert!(
                found[0].1.ends_with(&phone[phone.len() - 3..]) || found[0].1.contains('５'),
                "{phone}: {found:?}"
            );
        }
    }

    #[test]
    fn years_counts_and_durations_are_not_phone_numbers() {
        for text in [
            "2019年から2026年まで",
            "交際5年、月1回",
            "1234567",
            "2026-11-26に会った",
            "第3回",
        ] {
            assert!(kinds(text).is_empty(), "{text}: {:?}", kinds(text));
        }
    }

    #[test]
    fn urls_with_and_without_a_scheme() {
        assert_eq!(
            kinds("ブログ https://example.com/me を見て"),
            vec![(Kind::Url, "https://example.com/me".into())]
        );
        assert_eq!(
            kinds("www.example.jp/page"),
            vec![(Kind::Url, "www.example.jp/page".into())]
        );
        assert_eq!(
            kinds("note.com/someone に書いた"),
            vec![(Kind::Url, "note.com/someone".into())]
        );
        assert_eq!(kinds("ｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｃｏｍ").len(), 1);
    }

    #[test]
    fn line_and_sns_ids() {
        assert_eq!(kinds("LINEのIDは taro_1985 です")[0].0, Kind::SnsId);
        assert_eq!(kinds("ＬＩＮＥ ＩＤ：ｔａｒｏ１９８５")[0].0, Kind::SnsId);
        assert_eq!(kinds("インスタ @hanako.days をフォロー")[0].0, Kind::SnsId);
        assert_eq!(
            kinds("Xは@taro_x です"),
            vec![(Kind::SnsId, "@taro_x".into())]
        );
        assert!(kinds("LINEで連絡をとっています").is_empty());
    }

    #[test]
    fn postal_codes() {
        assert_eq!(
            kinds("〒150-0001 に住んでいます"),
            vec![(Kind::PostalCode, "〒150-0001".into())]
        );
        assert_eq!(
            kinds("〒１５００００１"),
            vec![(Kind::PostalCode, "〒１５００００１".into())]
        );
        assert_eq!(kinds("住所は150-0001です")[0].0, Kind::PostalCode);
    }

    #[test]
    fn an_email_is_not_also_an_sns_handle_or_url() {
        let found = kinds("a.b@example.com");
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn ordinary_stories_have_no_findings() {
        let text = "読書会で出会って五年。連絡は平日の昼だけ、会うのは月に一度。LINEはお互いに使っていません。";
        assert!(kinds(text).is_empty(), "{:?}", kinds(text));
    }
}
