//! A group of words search treats as one (恋人・パートナー・相手), as editors write it.

use unicode_normalization::UnicodeNormalization;

use super::Invalid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynonymGroup(Vec<String>);

impl SynonymGroup {
    pub const MAX_WORDS: usize = 10;
    pub const MAX_CHARS: usize = 20;
    /// How the words are joined when stored and shown.
    pub const SEPARATOR: char = '・';

    /// Words separated by ・, 、, commas or spaces. A word cannot hold a space: a reader's query
    /// is split at spaces, so such a word would never be looked up.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let text: String = raw.nfkc().collect();
        let mut words: Vec<String> = Vec::new();
        for word in text
            .split(|c: char| matches!(c, '・' | '、' | ',' | '，' | '､') || c.is_whitespace())
            .filter(|w| !w.is_empty())
        {
            if word.chars().count() > Self::MAX_CHARS {
                return Err(Invalid::new(format!(
                    "言葉は{}文字以内にしてください：{word}",
                    Self::MAX_CHARS
                )));
            }
            super::text::check_characters(word, "言葉")?;
            if word.starts_with(['-', '"']) || word == "OR" {
                return Err(Invalid::new(format!(
                    "検索の指定（-、\"、OR）は言葉として使えません：{word}"
                )));
            }
            if !words
                .iter()
                .any(|w| w.to_lowercase() == word.to_lowercase())
            {
                words.push(word.to_owned());
            }
        }
        if words.len() < 2 {
            return Err(Invalid::new(
                "同じ意味で扱う言葉を2つ以上、「・」で区切って入力してください。",
            ));
        }
        if words.len() > Self::MAX_WORDS {
            return Err(Invalid::new(format!(
                "1つのグループの言葉は{}個までにしてください。",
                Self::MAX_WORDS
            )));
        }
        Ok(SynonymGroup(words))
    }

    pub fn words(&self) -> &[String] {
        &self.0
    }

    pub fn joined(&self) -> String {
        self.0.join(&Self::SEPARATOR.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_parse_from_what_editors_type() {
        let g = SynonymGroup::parse(" 恋人・パートナー、相手  ").expect("valid");
        assert_eq!(g.words(), ["恋人", "パートナー", "相手"]);
        assert_eq!(g.joined(), "恋人・パートナー・相手");
        // Half-width ･ and full-width commas separate too; duplicates are dropped.
        let g = SynonymGroup::parse("カフェ･喫茶店，カフェ").expect("valid");
        assert_eq!(g.words(), ["カフェ", "喫茶店"]);
        assert!(SynonymGroup::parse("恋人").is_err());
        assert!(SynonymGroup::parse("").is_err());
        assert!(SynonymGroup::parse("恋人・-相手").is_err());
        assert!(SynonymGroup::parse(&format!("恋人・{}", "あ".repeat(21))).is_err());
        let many: Vec<String> = (0..11).map(|i| format!("語{i}")).collect();
        assert!(SynonymGroup::parse(&many.join("・")).is_err());
    }
}
