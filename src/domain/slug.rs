use super::Invalid;

/// The URL name of a guide: lowercase ASCII letters, digits and single hyphens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub const MAX_CHARS: usize = 80;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let slug = raw.trim();
        let valid_chars = slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if slug.is_empty() {
            Err(Invalid::new("スラッグを入力してください。"))
        } else if slug.len() > Self::MAX_CHARS {
            Err(Invalid::new(format!(
                "スラッグは{}文字以内にしてください。",
                Self::MAX_CHARS
            )))
        } else if !valid_chars
            || slug.starts_with('-')
            || slug.ends_with('-')
            || slug.contains("--")
        {
            Err(Invalid::new(
                "スラッグには半角の英小文字・数字・ハイフンだけを使い、ハイフンを先頭・末尾や連続で使わないでください。",
            ))
        } else {
            Ok(Slug(slug.to_owned()))
        }
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_plain_url_words() {
        assert!(Slug::parse("how-to-set-rules").is_ok());
        assert!(Slug::parse("guide-2026").is_ok());
        for bad in [
            "",
            "Upper",
            "with space",
            "-lead",
            "trail-",
            "two--dashes",
            "日本語",
            "a/b",
            "../x",
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
