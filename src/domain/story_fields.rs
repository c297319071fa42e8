//! The structured fields of a story: how long, how they met, whether it continues, their rules.

use super::Invalid;
use super::status::{read_back_as, text_enum};

text_enum!(
    /// Where the two people met. The values are also the form and URL values.
    HowMet, "出会いのきっかけ" {
        Hobby => "hobby", "趣味のコミュニティ";
        Workplace => "workplace", "職場";
        App => "app", "マッチングアプリ";
        Friends => "friends", "友人の紹介";
        Other => "other", "その他";
    }
);

read_back_as!(HowMet, HowMet::Other);

text_enum!(
    /// A field of a story that its submitter wrote and the editors may change, named as the
    /// form names it.
    StoryField, "欄" {
        Title => "title", "タイトル";
        Body => "body", "本文";
        PenName => "pen_name", "ペンネーム";
        Length => "length", "交際期間";
        HowMet => "how_met", "出会いのきっかけ";
        Continuing => "continuing", "関係が続いているか";
        Rules => "rules", "ふたりで決めたルール";
        Tags => "tags", "タグ";
    }
);

impl HowMet {
    /// The phrase used in a story's card: 「趣味のコミュニティで出会った」.
    pub fn card_phrase(self) -> &'static str {
        match self {
            HowMet::Hobby => "趣味のコミュニティで出会った",
            HowMet::Workplace => "職場で出会った",
            HowMet::App => "マッチングアプリで出会った",
            HowMet::Friends => "友人の紹介で出会った",
            HowMet::Other => "その他のきっかけで出会った",
        }
    }
}

text_enum!(
    /// Whether the relationship continues, as a filter: the values are the URL's.
    Continuance, "関係の状態" {
        Continuing => "yes", "継続中";
        Ended => "no", "終わった";
    }
);

impl Continuance {
    pub fn of(continuing: bool) -> Self {
        if continuing {
            Continuance::Continuing
        } else {
            Continuance::Ended
        }
    }
}

/// What a story tells of the relationship, shown as one line under its title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relationship {
    pub length: RelationshipLength,
    pub how_met: HowMet,
    pub continuing: bool,
    /// False for a story that came without these facts (a WordPress import): the values above
    /// are placeholders, shown to nobody as facts, until a moderator sets them.
    pub known: bool,
}

impl Relationship {
    /// 「交際4年目・趣味のコミュニティで出会った・継続中」, when the facts are known.
    pub fn facts(&self) -> Option<String> {
        self.known.then(|| self.facts_line())
    }

    fn facts_line(&self) -> String {
        format!(
            "{}・{}・{}",
            self.length.nth_year_label(),
            self.how_met.card_phrase(),
            if self.continuing {
                "継続中"
            } else {
                "現在は終了"
            }
        )
    }
}

/// How long the relationship has lasted, in whole months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RelationshipLength(i32);

/// Months read back from a row or the search index. The database checks the range, so a value
/// outside it means the row was changed outside the app; it reads as zero rather than failing.
impl From<i32> for RelationshipLength {
    fn from(months: i32) -> Self {
        Self::from_months(months).unwrap_or(RelationshipLength(0))
    }
}

impl RelationshipLength {
    pub const MAX_YEARS: i32 = 60;

    pub fn from_months(months: i32) -> Result<Self, Invalid> {
        if (0..=Self::MAX_YEARS * 12 + 11).contains(&months) {
            Ok(RelationshipLength(months))
        } else {
            Err(Invalid::new(format!(
                "交際期間は0か月から{}年の間で入力してください。",
                Self::MAX_YEARS
            )))
        }
    }

    /// Parses the two form fields; empty fields count as zero but not both.
    pub fn from_years_months(years: &str, months: &str) -> Result<Self, Invalid> {
        let number = |raw: &str, what: &str| -> Result<i32, Invalid> {
            let raw: String = raw
                .trim()
                .chars()
                .map(|c| match c {
                    '０'..='９' => {
                        char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c)
                    }
                    _ => c,
                })
                .collect();
            if raw.is_empty() {
                return Ok(0);
            }
            raw.parse::<i32>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| Invalid::new(format!("{what}は0以上の数字で入力してください。")))
        };
        let (y, m) = (number(years, "年数")?, number(months, "月数")?);
        if years.trim().is_empty() && months.trim().is_empty() {
            return Err(Invalid::new("交際期間を入力してください。"));
        }
        if m > 11 {
            return Err(Invalid::new("月数は0から11の間で入力してください。"));
        }
        if y > Self::MAX_YEARS {
            return Self::from_months(i32::MAX);
        }
        Self::from_months(y * 12 + m)
    }

    pub fn months(self) -> i32 {
        self.0
    }

    /// 「交際4年目」: the year of the relationship they are in.
    pub fn nth_year_label(self) -> String {
        format!("交際{}年目", self.0 / 12 + 1)
    }

    /// 「3年4か月」, 「8か月」, 「5年」.
    pub fn duration_label(self) -> String {
        match (self.0 / 12, self.0 % 12) {
            (0, m) => format!("{m}か月"),
            (y, 0) => format!("{y}年"),
            (y, m) => format!("{y}年{m}か月"),
        }
    }
}

text_enum!(
    /// The ranges readers browse stories by.
    LengthBucket, "交際期間の区分" {
        UnderOneYear => "under-1y", "1年未満";
        OneToThreeYears => "1-3y", "1〜3年";
        ThreeYearsPlus => "3y-plus", "3年以上";
        FiveYearsPlus => "5y-plus", "5年以上";
    }
);

impl LengthBucket {
    /// The months range `[min, max)` the bucket covers; `None` means no upper bound.
    pub fn month_range(self) -> (i32, Option<i32>) {
        match self {
            LengthBucket::UnderOneYear => (0, Some(12)),
            LengthBucket::OneToThreeYears => (12, Some(36)),
            LengthBucket::ThreeYearsPlus => (36, None),
            LengthBucket::FiveYearsPlus => (60, None),
        }
    }
}

/// The ground rules the two agreed on, one per line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rules(Vec<String>);

impl Rules {
    pub const MAX_RULES: usize = 20;
    pub const MAX_CHARS_PER_RULE: usize = 200;

    pub fn parse_lines(raw: &str) -> Result<Self, Invalid> {
        Self::parse_list(raw.lines())
    }

    pub fn parse_list<'a>(raw: impl IntoIterator<Item = &'a str>) -> Result<Self, Invalid> {
        let rules: Vec<String> = raw
            .into_iter()
            .map(|line| {
                line.trim()
                    .trim_start_matches(['-', '・', '*'])
                    .trim()
                    .to_owned()
            })
            .filter(|line| !line.is_empty())
            .collect();
        for rule in &rules {
            super::text::check_characters(rule, "ルール")?;
        }
        if rules.len() > Self::MAX_RULES {
            return Err(Invalid::new(format!(
                "ルールは{}個までにしてください。",
                Self::MAX_RULES
            )));
        }
        if let Some(long) = rules
            .iter()
            .find(|r| r.chars().count() > Self::MAX_CHARS_PER_RULE)
        {
            let start: String = long.chars().take(10).collect();
            return Err(Invalid::new(format!(
                "ルールは1つ{}文字以内にしてください（「{start}…」）。",
                Self::MAX_CHARS_PER_RULE
            )));
        }
        if rules.iter().any(|r| r.chars().any(char::is_control)) {
            return Err(Invalid::new("ルールに使えない制御文字が含まれています。"));
        }
        Ok(Rules(rules))
    }

    /// The stored form: one rule per line.
    pub fn to_stored(&self) -> String {
        self.0.join("\n")
    }

    pub fn from_stored(stored: &str) -> Self {
        Rules(stored.lines().map(str::to_owned).collect())
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_read_as_one_line() {
        let r = Relationship {
            length: RelationshipLength::from_months(40).unwrap(),
            how_met: HowMet::Hobby,
            continuing: true,
            known: true,
        };
        assert_eq!(
            r.facts().as_deref(),
            Some("交際4年目・趣味のコミュニティで出会った・継続中")
        );
        let ended = Relationship {
            continuing: false,
            ..r
        };
        assert_eq!(
            ended.facts().as_deref(),
            Some("交際4年目・趣味のコミュニティで出会った・現在は終了")
        );
        let untold = Relationship { known: false, ..r };
        assert_eq!(
            untold.facts(),
            None,
            "placeholders are never shown as facts"
        );
    }

    #[test]
    fn a_length_out_of_range_reads_back_as_zero() {
        assert_eq!(RelationshipLength::from(-1).months(), 0);
        assert_eq!(RelationshipLength::from(100_000).months(), 0);
        assert_eq!(RelationshipLength::from(25).months(), 25);
    }

    #[test]
    fn lengths_read_naturally() {
        let l = RelationshipLength::from_months(40).unwrap();
        assert_eq!(l.nth_year_label(), "交際4年目");
        assert_eq!(l.duration_label(), "3年4か月");
        assert_eq!(
            RelationshipLength::from_months(8).unwrap().duration_label(),
            "8か月"
        );
        assert_eq!(
            RelationshipLength::from_months(60)
                .unwrap()
                .duration_label(),
            "5年"
        );
        assert_eq!(
            RelationshipLength::from_months(8).unwrap().nth_year_label(),
            "交際1年目"
        );
    }

    #[test]
    fn form_fields_accept_full_width_digits() {
        let l = RelationshipLength::from_years_months("３", "４").unwrap();
        assert_eq!(l.months(), 40);
        assert_eq!(
            RelationshipLength::from_years_months("5", "")
                .unwrap()
                .months(),
            60
        );
    }

    #[test]
    fn impossible_lengths_are_refused() {
        assert!(RelationshipLength::from_years_months("", "").is_err());
        assert!(RelationshipLength::from_years_months("1", "12").is_err());
        assert!(RelationshipLength::from_years_months("-1", "0").is_err());
        assert!(RelationshipLength::from_years_months("99", "0").is_err());
        assert!(RelationshipLength::from_years_months("三", "0").is_err());
        assert!(RelationshipLength::from_months(-1).is_err());
    }

    #[test]
    fn buckets_cover_their_ranges() {
        assert_eq!(
            LengthBucket::parse("3y-plus").unwrap().month_range(),
            (36, None)
        );
        assert_eq!(
            LengthBucket::parse("under-1y").unwrap().month_range(),
            (0, Some(12))
        );
        assert!(LengthBucket::parse("forever").is_err());
    }

    #[test]
    fn rules_are_one_per_line_without_bullets() {
        let r = Rules::parse_lines("・連絡は平日の昼だけ\n\n- 家族の予定を最優先\r\n").unwrap();
        assert_eq!(r.as_slice(), ["連絡は平日の昼だけ", "家族の予定を最優先"]);
        assert_eq!(Rules::from_stored(&r.to_stored()), r);
        assert!(Rules::parse_lines(&"長".repeat(201)).is_err());
    }
}
