use super::Invalid;

/// Whether no text field may hold `c`: controls other than line breaks and tabs, noncharacters
/// (U+FFFE, U+FFFF and the like: XML forbids some, and one broke every feed), and the invisible
/// characters that reorder or hide text (bidi overrides and isolates, zero-width spaces, the
/// byte-order mark), which can make a text read differently from what it says. The joiners
/// (U+200C, U+200D) stay: emoji sequences and some scripts need them.
pub fn forbidden_character(c: char) -> bool {
    let n = u32::from(c);
    (c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
        || (0xFDD0..=0xFDEF).contains(&n)
        || n & 0xFFFE == 0xFFFE
        || matches!(n, 0x200B | 0x200E | 0x200F | 0x2060..=0x2064 | 0xFEFF)
        || (0x202A..=0x202E).contains(&n)
        || (0x2066..=0x2069).contains(&n)
}

/// Refuses a text holding a `forbidden_character`, saying where (they cannot be seen).
pub fn check_characters(text: &str, what: &str) -> Result<(), Invalid> {
    match text.chars().position(forbidden_character) {
        Some(at) => Err(Invalid::new(format!(
            "{what}に使えない文字（制御文字や、見えない書式の文字）が含まれています（{}文字目）。消してからもう一度送ってください。",
            at + 1
        ))),
        None => Ok(()),
    }
}

/// Trims `raw` and checks its characters and its length in characters; `what` names the field
/// in the message.
fn bounded(raw: &str, what: &str, min: usize, max: usize) -> Result<String, Invalid> {
    let text = raw.trim();
    check_characters(text, what)?;
    let len = text.chars().count();
    if len < min {
        return Err(Invalid::new(if min <= 1 {
            format!("{what}を入力してください。")
        } else {
            format!("{what}は{min}文字以上で書いてください（いまは{len}文字です）。")
        }));
    }
    if len > max {
        return Err(Invalid::new(format!(
            "{what}は{max}文字以内にしてください（いまは{len}文字です）。"
        )));
    }
    Ok(text.replace("\r\n", "\n"))
}

/// Declares a newtype over a trimmed, length-checked string.
macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, $what:literal, $min:expr, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, Invalid> {
                bounded(raw, $what, $min, $max).map($name)
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

bounded_text!(
    /// A guide or story title, on one line.
    Title, "タイトル", 1, 100
);
bounded_text!(
    /// The short description of a guide, shown in listings and the description meta.
    Summary, "概要", 0, 300
);
bounded_text!(
    /// The Markdown text of a story.
    StoryBody, "本文", 50, 20_000
);
bounded_text!(
    /// The Markdown text of a guide; guides can be long, but a book is not a guide: rendering and
    /// sanitizing the worst 60,000 characters takes about 40 ms (docs/BENCHMARKS.md).
    GuideBody, "本文", 1, 60_000
);

impl Title {
    pub fn parse_line(raw: &str) -> Result<Self, Invalid> {
        if raw.trim().contains('\n') {
            return Err(Invalid::new("タイトルは1行で入力してください。"));
        }
        Self::parse(raw)
    }
}

/// The name a story is signed with; empty means 匿名.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PenName(String);

impl PenName {
    pub const ANONYMOUS: &'static str = "匿名";
    pub const MAX_CHARS: usize = 30;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        one_line_name(raw, "ペンネーム", Self::MAX_CHARS, Self::ANONYMOUS).map(PenName)
    }
}

/// A name on one line, at most `max` characters; empty means `default`.
fn one_line_name(raw: &str, what: &str, max: usize, default: &str) -> Result<String, Invalid> {
    let name = bounded(raw, what, 0, max)?;
    if name.contains('\n') {
        return Err(Invalid::new(format!("{what}は1行で入力してください。")));
    }
    Ok(if name.is_empty() {
        default.to_owned()
    } else {
        name
    })
}

/// The name a guide is signed with on the public site: 編集部 unless its editors choose another.
/// Never taken from a staff account, whose name may be a real person's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Byline(String);

impl Byline {
    pub const EDITORS: &'static str = "編集部";

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        one_line_name(raw, "署名", PenName::MAX_CHARS, Self::EDITORS).map(Byline)
    }
}

impl AsRef<str> for Byline {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for PenName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_and_forbidden_characters_are_refused_saying_where() {
        for c in [
            '\u{7}',
            '\u{1b}',
            '\u{85}',
            '\u{9f}',
            '\u{FFFF}',
            '\u{FFFE}',
            '\u{FDD0}',
            '\u{1FFFF}',
            '\u{10FFFE}',
            '\u{202E}',
            '\u{202A}',
            '\u{2066}',
            '\u{2069}',
            '\u{200B}',
            '\u{200F}',
            '\u{2060}',
            '\u{FEFF}',
        ] {
            let e = Title::parse(&format!("ふたりの{c}話")).expect_err(&format!("{c:?}"));
            assert!(e.0.contains("5文字目"), "{c:?}: {}", e.0);
            let body = format!("{}{c}{}", "あ".repeat(30), "い".repeat(30));
            assert!(StoryBody::parse(&body).is_err(), "{c:?}");
            assert!(PenName::parse(&format!("み{c}どり")).is_err(), "{c:?}");
        }
        for fine in [
            "家族👨\u{200D}👩\u{200D}👧の話",
            "ぜん\u{200C}ぶ",
            "見出し\tと本文",
        ] {
            assert!(Title::parse(fine).is_ok(), "{fine:?}");
        }
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(
            Title::parse_line("  五年目の約束 ").unwrap().as_ref(),
            "五年目の約束"
        );
        assert!(
            Title::parse_line("   ")
                .unwrap_err()
                .0
                .contains("入力してください")
        );
        assert!(
            Title::parse_line(&"あ".repeat(101))
                .unwrap_err()
                .0
                .contains("100文字以内")
        );
        assert!(Title::parse_line("一行目\n二行目").is_err());
        assert!(Title::parse_line("ベル\u{7}").is_err());
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(Title::parse_line(&"縁".repeat(100)).is_ok());
    }

    #[test]
    fn a_story_needs_some_substance() {
        let err = StoryBody::parse("短い").unwrap_err();
        assert!(err.0.contains("50文字以上"), "{err}");
        assert!(StoryBody::parse(&"長".repeat(50)).is_ok());
    }

    #[test]
    fn an_empty_pen_name_is_anonymous() {
        assert_eq!(PenName::parse("  ").unwrap().as_ref(), "匿名");
        assert_eq!(PenName::parse("みどり").unwrap().as_ref(), "みどり");
        assert!(PenName::parse(&"名".repeat(31)).is_err());
    }
}
