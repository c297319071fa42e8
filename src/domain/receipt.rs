use rand::Rng;
use unicode_normalization::UnicodeNormalization;

use super::Invalid;
use crate::secrets::sha256_hex;

/// The code a submitter keeps to see, answer or withdraw their story. 25 characters of
/// Crockford's base32 (125 bits), shown in groups of five; only its SHA-256 is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct ReceiptCode(String);

impl std::fmt::Debug for ReceiptCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReceiptCode(…)")
    }
}

const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const LEN: usize = 25;

impl ReceiptCode {
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        ReceiptCode(
            (0..LEN)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                .collect(),
        )
    }

    /// Accepts the code as people retype it: any case, full-width, with or without hyphens and
    /// spaces, O for 0 and I or L for 1.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code: String = raw
            .nfkc()
            .filter(|c| !c.is_whitespace() && *c != '-' && *c != 'ー')
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            })
            .collect();
        if code.len() == LEN && code.bytes().all(|b| ALPHABET.contains(&b)) {
            Ok(ReceiptCode(code))
        } else {
            Err(Invalid::new(
                "受付番号は25文字です（ハイフンは省略できます）。もう一度ご確認ください。",
            ))
        }
    }

    /// The stored form.
    pub fn hash(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }

    /// XXXXX-XXXXX-XXXXX-XXXXX-XXXXX
    pub fn display(&self) -> String {
        self.0
            .as_bytes()
            .chunks(5)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("-")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_survives_retyping() {
        let code = ReceiptCode::generate();
        let shown = code.display();
        assert_eq!(shown.len(), 29);
        assert_eq!(ReceiptCode::parse(&shown).unwrap(), code);
        assert_eq!(
            ReceiptCode::parse(&shown.to_lowercase().replace('-', " ")).unwrap(),
            code
        );
        let full_width: String = shown
            .chars()
            .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
            .collect();
        assert_eq!(ReceiptCode::parse(&full_width).unwrap(), code);
    }

    #[test]
    fn look_alike_letters_are_read_as_digits() {
        let a = ReceiptCode::parse("O0000-I1111-L1111-22222-33333").unwrap();
        let b = ReceiptCode::parse("00000-11111-11111-22222-33333").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.hash(), b.hash());
    }

    #[test]
    fn wrong_lengths_and_letters_are_refused() {
        assert!(ReceiptCode::parse("ABCDE").is_err());
        assert!(ReceiptCode::parse("UUUUU-UUUUU-UUUUU-UUUUU-UUUUU").is_err());
        assert!(ReceiptCode::parse("").is_err());
    }

    #[test]
    fn codes_are_not_repeated() {
        assert_ne!(ReceiptCode::generate(), ReceiptCode::generate());
    }
}
