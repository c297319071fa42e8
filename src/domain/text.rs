use super::Invalid;

/// Trims `raw` and checks its length in characters; `what` names the field in the message.
fn bounded(raw: &str, what: &str, min: usize, max: usize) -> Result<String, Invalid> {
    let text = raw.trim();
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(Invalid::new(format!(
            "{what}に使えない制御文字が含まれています。"
        )));
    }
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
    /// The Markdown text of a guide; guides can be long.
    GuideBody, "本文", 1, 200_000
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
        let name = bounded(raw, "ペンネーム", 0, Self::MAX_CHARS)?;
        if name.contains('\n') {
            return Err(Invalid::new("ペンネームは1行で入力してください。"));
        }
        Ok(PenName(if name.is_empty() {
            Self::ANONYMOUS.to_owned()
        } else {
            name
        }))
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
