//! Finds what could identify a submitter or the people in their story: phone numbers, e-mail
//! addresses, accounts and handles, URLs, street addresses and postal codes, named workplaces and
//! schools, names with an honorific, card and My Number numbers, car plates. Text is matched in
//! folded forms (`fold`: width, case, invisible characters; digits written in kanji or read out
//! in kana) and every finding is a span of the original text, so the form can show it.
//!
//! Every pattern is a regular expression of the `regex` crate (linear in the text) or a check
//! of a bounded span (a card's Luhn digit, My Number's check digit, a word list), so the scan is
//! linear in the text's size whatever it holds.

mod detect;
mod fold;
mod words;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Email,
    Phone,
    Url,
    SnsId,
    PostalCode,
    Address,
    Workplace,
    School,
    Name,
    CardNumber,
    MyNumber,
    CarPlate,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Email => "メールアドレス",
            Kind::Phone => "電話番号",
            Kind::Url => "URL",
            Kind::SnsId => "LINE・SNSのID",
            Kind::PostalCode => "郵便番号",
            Kind::Address => "住所",
            Kind::Workplace => "勤務先の名前",
            Kind::School => "学校の名前",
            Kind::Name => "人の名前かもしれません",
            Kind::CardNumber => "カード番号",
            Kind::MyNumber => "マイナンバー",
            Kind::CarPlate => "車のナンバー",
        }
    }

    /// Why it matters, in a sentence, for the warning.
    pub fn explanation(self) -> &'static str {
        match self {
            Kind::Email | Kind::Phone | Kind::SnsId | Kind::Url => {
                "連絡先やアカウントは、あなたや相手に直接たどり着く手がかりになります。"
            }
            Kind::PostalCode | Kind::Address => "住んでいる場所や会う場所が分かってしまいます。",
            Kind::Workplace | Kind::School => {
                "勤め先や学校の名前は、知り合いが読めば誰のことか分かります。"
            }
            Kind::Name => {
                "実名やあだ名なら、仮名に書き換えることをおすすめします（仮名ならこのままで大丈夫です）。"
            }
            Kind::CardNumber | Kind::MyNumber | Kind::CarPlate => {
                "番号そのものが、持ち主をひとりに特定します。"
            }
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

/// Every finding in `text`, in order; `field` names where the text came from.
pub fn scan(field: &str, text: &str) -> Vec<Finding> {
    let plain = fold::plain(text);
    let numbers = fold::numbers(text);
    // Spans in the original text, most specific kinds first: a later one never reports text
    // inside an earlier finding. Findings so far by start → end; they never overlap, so the one
    // starting last before `end` is the only one that can overlap [start, end).
    let mut taken: BTreeMap<usize, (usize, Kind)> = BTreeMap::new();
    for (kind, spans) in detect::all(&plain, &numbers, text) {
        for (start, end) in spans {
            if start >= end
                || taken
                    .range(..end)
                    .next_back()
                    .is_some_and(|(_, (e, _))| start < *e)
            {
                continue;
            }
            taken.insert(start, (end, kind));
        }
    }
    taken
        .into_iter()
        .map(|(start, (end, kind))| Finding {
            kind,
            field: field.to_owned(),
            text: text[start..end].to_owned(),
            at: start,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Findings that touch without overlapping are both reported.
    #[test]
    fn adjacent_findings_are_both_reported() {
        assert_eq!(
            kinds("〒150-0001東京都渋谷区神宮前1-2-3"),
            vec![
                (Kind::PostalCode, "〒150-0001".to_owned()),
                (Kind::Address, "東京都渋谷区神宮前1-2-3".to_owned())
            ]
        );
        assert_eq!(
            kinds("hanako@example.jp090-1234-5678"),
            vec![
                (Kind::Email, "hanako@example.jp".to_owned()),
                (Kind::Phone, "090-1234-5678".to_owned())
            ]
        );
    }

    #[test]
    fn every_kind_explains_itself_in_japanese() {
        let mut labels = std::collections::HashSet::new();
        for kind in [
            Kind::Email,
            Kind::Phone,
            Kind::SnsId,
            Kind::Url,
            Kind::PostalCode,
            Kind::Address,
            Kind::Workplace,
            Kind::School,
            Kind::Name,
            Kind::CardNumber,
            Kind::MyNumber,
            Kind::CarPlate,
        ] {
            let why = kind.explanation();
            assert!(why.ends_with('。'), "{why}");
            assert!(why.chars().count() > 15, "{why}");
            assert!(!kind.label().is_empty(), "{kind:?}");
            labels.insert(kind.label());
        }
        assert!(Kind::Phone.explanation().contains("連絡先"));
        // The warning names each kind by its own label.
        assert_eq!(labels.len(), 12, "{labels:?}");
        assert_eq!(Kind::Phone.label(), "電話番号");
    }

    fn kinds(text: &str) -> Vec<(Kind, String)> {
        scan("本文", text)
            .into_iter()
            .map(|f| (f.kind, f.text))
            .collect()
    }

    #[test]
    fn email_addresses_including_full_width_and_spelled_out() {
        assert_eq!(
            kinds("連絡は taro.y@example.co.jp まで"),
            vec![(Kind::Email, "taro.y@example.co.jp".into())]
        );
        assert_eq!(
            kinds("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
            vec![(Kind::Email, "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ".into())]
        );
        assert_eq!(
            kinds("hana アットマーク example ドット jp")[0].0,
            Kind::Email
        );
        assert_eq!(kinds("hana(at)example(dot)com")[0].0, Kind::Email);
        // An address followed by a sentence ends at its top-level domain.
        assert_eq!(
            kinds("hanako@example.jpまで。LINEのIDは hanako77")[0],
            (Kind::Email, "hanako@example.jp".into())
        );
        assert_eq!(kinds("contact@はなみずき.jp まで")[0].0, Kind::Email);
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
            "〇九〇・一二三四・五六七八",
            "ゼロキューゼロ イチニサンヨン ゴーロクナナハチ",
        ] {
            let found = kinds(&format!("電話は{phone}です"));
            assert_eq!(found.len(), 1, "{phone}: {found:?}");
            assert_eq!(found[0].0, Kind::Phone, "{phone}");
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
            "10時から12時、1-2時間",
            "500-1000円くらい",
        ] {
            assert!(kinds(text).is_empty(), "{text}: {:?}", kinds(text));
        }
    }

    #[test]
    fn the_long_vowel_mark_does_not_stop_service_names() {
        // Folding 「ー」 into a dash once made ツイッター and ユーザー名 unmatchable.
        assert_eq!(kinds("ツイッターは@taro_x です")[0].0, Kind::SnsId);
        assert_eq!(kinds("ツイッターのユーザー名はtaro_1985")[0].0, Kind::SnsId);
    }

    #[test]
    fn urls_with_and_without_a_scheme_and_defanged() {
        assert_eq!(
            kinds("ブログ https://example.com/me を見て"),
            vec![(Kind::Url, "https://example.com/me".into())]
        );
        assert_eq!(kinds("note.com/someone に書いた")[0].0, Kind::Url);
        assert_eq!(kinds("ｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｃｏｍ").len(), 1);
        assert_eq!(kinds("hxxps://example[.]com/a")[0].0, Kind::Url);
        assert!(kinds("Mr. Smith, etc. A.M.").is_empty());
    }

    #[test]
    fn line_and_sns_ids() {
        assert_eq!(kinds("LINEのIDは taro_1985 です")[0].0, Kind::SnsId);
        assert_eq!(kinds("ＬＩＮＥ ＩＤ：ｔａｒｏ１９８５")[0].0, Kind::SnsId);
        assert_eq!(kinds("インスタ @hanako.days をフォロー")[0].0, Kind::SnsId);
        let x = kinds("Xは@taro_x です");
        assert_eq!(x.len(), 1, "{x:?}");
        assert!(
            x[0].0 == Kind::SnsId && x[0].1.ends_with("@taro_x"),
            "{x:?}"
        );
        assert!(kinds("LINEで連絡をとっています").is_empty());
        assert!(kinds("LINEのIDは交換していません").is_empty());
        // A service's name with the id after it, no "ID" word and no @.
        assert_eq!(
            kinds("インスタは hanako_88 です"),
            vec![(Kind::SnsId, "インスタは hanako_88".to_owned())]
        );
    }

    #[test]
    fn postal_codes_and_addresses() {
        assert_eq!(
            kinds("〒150-0001 に住んでいます"),
            vec![(Kind::PostalCode, "〒150-0001".into())]
        );
        assert_eq!(kinds("〒１５００００１")[0].0, Kind::PostalCode);
        assert_eq!(kinds("住所は150-0001です")[0].0, Kind::PostalCode);
        assert_eq!(kinds("東京都港区六本木一丁目2番3号に")[0].0, Kind::Address);
        assert!(kinds("3丁目の角の喫茶店で会います").is_empty());
    }

    #[test]
    fn names_with_an_honorific_but_not_generic_words() {
        assert_eq!(
            kinds("田中さんと会った"),
            vec![(Kind::Name, "田中さん".into())]
        );
        for text in [
            "夫さんと相手さん、お子さん",
            "店員さんと皆さん",
            "たくさん話した",
        ] {
            assert!(kinds(text).is_empty(), "{text}: {:?}", kinds(text));
        }
    }

    /// Names in each script before an honorific, and what may follow one; numbers of a phone's
    /// length only.
    #[test]
    fn names_in_every_script_and_phone_numbers_of_a_phones_length() {
        for (text, found) in [
            ("昨日、はなこさんと会った", "はなこさん"),
            ("はなこさんを待った", "はなこさん"),
            ("ミカさんに聞いた", "ミカさん"),
            ("ヤマダさんの話", "ヤマダさん"),
            ("坂口 さんと", "坂口 さん"),
            ("Mikaさんと", "Mikaさん"),
            ("田中さんまで", "田中さん"),
            ("田中さんたち", "田中さん"),
            ("田中さんかも", "田中さん"),
            // Six kanji are still a name; the word after a particle, not the particle.
            ("長谷川由紀子さんと会った", "長谷川由紀子さん"),
            ("となりのさくらちゃんと", "さくらちゃん"),
            ("LINEでゆみさんと話した", "ゆみさん"),
        ] {
            assert_eq!(kinds(text), vec![(Kind::Name, found.to_owned())], "{text}");
        }
        // The honorific starts another word: 様子, 様々, さんぽ, さんざん.
        for text in [
            "田中様子を見る",
            "ミカ様々",
            "田中さんぽ",
            "田中さんざん",
            "田中さんミカ",
            // Longer runs of kanji are phrases.
            "地元商店街振興組合さんと話した",
            // お・ご and a katakana word before kanji make set phrases and compounds.
            "ご馳走様でした",
            "ご苦労様です",
            "ごちそうさまでした",
            "ごくろうさまでした",
            // Roles in katakana; letters that continue a number or word.
            "ママさんたちと",
            "5chさんに書かれた",
            // A hiragana word that ends in a word which is not a name, or in a particle, and
            // hiragana that ends a word in kanji.
            "ねえみなさん、聞いて",
            "メールだけはちゃんと送る",
            "頑張りやさんだね",
        ] {
            assert_eq!(kinds(text), vec![], "{text}");
        }
        for (text, phone) in [
            ("+81 90 1234 5678", true),
            ("0081 90 1234 5678", true),
            ("03-1234-5678", true),
            ("+81 12 3456", false),
            ("031234567", false),
            ("012345678901", false),
        ] {
            assert_eq!(
                kinds(text).iter().any(|(k, _)| *k == Kind::Phone),
                phone,
                "{text}: {:?}",
                kinds(text)
            );
        }
    }

    #[test]
    fn numbers_that_identify_pass_their_check_digits() {
        assert_eq!(kinds("4111 1111 1111 1111")[0].0, Kind::CardNumber);
        assert!(
            kinds("4111 1111 1111 1112")
                .iter()
                .all(|f| f.0 != Kind::CardNumber)
        );
        assert_eq!(kinds("1234 5678 9018")[0].0, Kind::MyNumber);
        assert!(
            kinds("1234 5678 9010")
                .iter()
                .all(|f| f.0 != Kind::MyNumber)
        );
    }

    #[test]
    fn everyday_sentences_a_reviewer_tried_are_not_flagged() {
        for text in [
            "Twitterで2019年に知り合った",
            "LINEは2018年から使っています",
            "LINEで10:30に待ち合わせ",
            "インスタで1000人に見られた",
            "合格ラインは600点、オンラインで受けた",
            "都市部から2週間ほど離れた",
            "昨日病院に行った",
            "今年大学を卒業した",
            "夫は株式会社に勤めている",
            "〇〇大学の先輩です",
            "電話は090-〇〇〇〇-〇〇〇〇と伏せます",
            "これまで同様に、仕様がない",
            "毎日ちゃんと連絡をくれる",
            "元彼さんの話は聞かない",
            "うちのわんちゃんが",
            "楽しかった．みんなで行った．日本に帰って",
            "ランチ@500円だった",
        ] {
            assert!(kinds(text).is_empty(), "{text}: {:?}", kinds(text));
        }
        // A name, and not an address (中村 + 3 looked like a village and a block).
        assert_eq!(
            kinds("中村さんと3月に会った"),
            vec![(Kind::Name, "中村さん".into())]
        );
    }

    #[test]
    fn drawn_out_speech_before_an_honorific_never_panics() {
        for text in [
            "田ーさん",
            "お兄ーちゃん！",
            "田中ーさん",
            "ーさん",
            "ーーちゃん",
        ] {
            let _ = kinds(text);
        }
    }

    #[test]
    fn a_number_read_out_is_highlighted_whole() {
        let found = kinds("電話はゼロキューゼロ イチニサンヨン ゴーロクナナハチです");
        assert_eq!(found[0].1, "ゼロキューゼロ イチニサンヨン ゴーロクナナハチ");
        // A number ending in 〇 ends with it.
        assert_eq!(
            kinds("〇九〇ー一二三四ー五六七〇です"),
            vec![(Kind::Phone, "〇九〇ー一二三四ー五六七〇".to_owned())]
        );
    }

    /// Characters the patterns react to, mixed at random: the scan never panics, and every
    /// finding is exactly the text at its place, in order and without overlaps.
    #[test]
    fn random_text_of_what_the_patterns_react_to_scans_cleanly() {
        let alphabet: Vec<char> = "区町市村丁目番地号一二〇〇九零ー-‐ 　.。@＠aAzZ09０９①㈱株式会社病院大学高校さんちゃん様氏先生田中タナカたなか〒line:IDIDアカウントゼロキューハチのはをにhttp://www.example.jpcom[.]\u{200B}\u{00A0}\n"
            .chars()
            .collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3_000 {
            let len = (next() % 60) as usize;
            let text: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let found = scan("本文", &text);
            let mut end = 0;
            for f in &found {
                assert!(f.at >= end, "overlap in {text:?}: {found:?}");
                assert_eq!(&text[f.at..f.at + f.text.len()], f.text, "{text:?}");
                end = f.at + f.text.len();
            }
        }
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
