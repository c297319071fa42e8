//! A group of words search treats as one (恋人・パートナー・相手), as editors write it.

use unicode_normalization::UnicodeNormalization;

use super::Invalid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynonymGroup(Vec<String>);

fn is_separator(c: char) -> bool {
    matches!(c, '・' | '、' | ',' | '，' | '､') || c.is_whitespace()
}

impl SynonymGroup {
    pub const MAX_WORDS: usize = 10;
    pub const MAX_CHARS: usize = 20;
    /// How the words are joined when stored and shown.
    pub const SEPARATOR: char = '・';

    /// Words separated by ・, 、, commas or spaces, as editors type them in the panel.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let text: String = raw.nfkc().collect();
        Self::from_words(text.split(is_separator).filter(|w| !w.is_empty()))
    }

    /// The group of these words. A word cannot hold a separator or a space (a reader's query is
    /// split at spaces, so such a word would never be looked up), nor be one character: in an
    /// index of character grams it would match inside other words (夫 in 大丈夫 and 工夫).
    pub fn from_words<'a>(raw: impl IntoIterator<Item = &'a str>) -> Result<Self, Invalid> {
        let mut words: Vec<String> = Vec::new();
        for word in raw {
            let word: String = word.nfkc().collect();
            let word = word.trim();
            if word.contains(is_separator) {
                return Err(Invalid::new(format!(
                    "言葉に区切りの記号や空白は入れられません：{word}"
                )));
            }
            if word.chars().count() < 2 {
                return Err(Invalid::new(format!(
                    "1文字の言葉は、ほかの言葉の一部にも一致してしまうため使えません（例：「夫」は「大丈夫」にも一致します）：{word}"
                )));
            }
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
        assert!(SynonymGroup::parse("夫・旦那").is_err(), "one character");
        assert!(SynonymGroup::from_words(["恋人", "パート ナー"]).is_err());
        assert!(SynonymGroup::from_words(["恋人", "パートナー"]).is_ok());
        assert!(SynonymGroup::parse("").is_err());
        assert!(SynonymGroup::parse("恋人・-相手").is_err());
        assert!(SynonymGroup::parse(&format!("恋人・{}", "あ".repeat(21))).is_err());
        let many: Vec<String> = (0..11).map(|i| format!("語{i}")).collect();
        assert!(SynonymGroup::parse(&many.join("・")).is_err());
    }
}
