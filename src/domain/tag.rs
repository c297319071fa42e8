use unicode_normalization::UnicodeNormalization;

use super::Invalid;

/// A tag, normalized so that 「ＬＩＮＥ」 and 「line」 are the same tag.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TagName(String);

impl TagName {
    pub const MAX_CHARS: usize = 30;
    pub const MAX_PER_ITEM: usize = 10;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let normalized: String = raw.nfkc().collect::<String>().to_lowercase();
        let name = normalized.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err(Invalid::new("空のタグは使えません。"));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(Invalid::new(format!(
                "タグは{}文字以内にしてください：{name}",
                Self::MAX_CHARS
            )));
        }
        super::text::check_characters(&name, "タグ")?;
        if name.chars().any(|c| {
            matches!(
                c,
                '/' | '\\' | ',' | '、' | '?' | '#' | '%' | '<' | '>' | '"'
            )
        }) {
            return Err(Invalid::new(format!(
                "タグに使えない記号が含まれています：{name}"
            )));
        }
        Ok(TagName(name))
    }

    /// Parses a list of tags, dropping duplicates and keeping the first spelling's order.
    /// Stops at the first tag past the limit, so a list of 50,000 costs no more than eleven.
    pub fn parse_list<'a>(raw: impl IntoIterator<Item = &'a str>) -> Result<Vec<Self>, Invalid> {
        let too_many = || {
            Invalid::new(format!(
                "タグは{}個までにしてください。",
                Self::MAX_PER_ITEM
            ))
        };
        let mut tags: Vec<TagName> = Vec::new();
        for (count, item) in raw.into_iter().enumerate() {
            // Repeats are dropped, but not without end: no one types one tag a hundred times.
            if count >= Self::MAX_PER_ITEM * 10 {
                return Err(too_many());
            }
            let tag = Self::parse(item)?;
            // At most MAX_PER_ITEM entries to compare with.
            if !tags.contains(&tag) {
                if tags.len() == Self::MAX_PER_ITEM {
                    return Err(too_many());
                }
                tags.push(tag);
            }
        }
        Ok(tags)
    }
}

impl AsRef<str> for TagName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_and_case_variants_are_one_tag() {
        assert_eq!(
            TagName::parse("ＬＩＮＥ").unwrap(),
            TagName::parse("line").unwrap()
        );
        assert_eq!(TagName::parse(" ﾙｰﾙ ").unwrap().as_ref(), "ルール");
    }

    #[test]
    fn path_characters_are_refused() {
        for bad in ["a/b", "..\\x", "x?y", "", "   ", "<b>"] {
            assert!(TagName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lists_drop_duplicates_and_are_capped() {
        let tags = TagName::parse_list(["職場", "ルール", "職場"]).unwrap();
        assert_eq!(tags.len(), 2);
        let many: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
        assert!(TagName::parse_list(many.iter().map(String::as_str)).is_err());
        let repeated = vec!["職場"; 100];
        assert_eq!(TagName::parse_list(repeated).unwrap().len(), 1);
        assert!(TagName::parse_list(vec!["職場"; 101]).is_err());
    }
}
