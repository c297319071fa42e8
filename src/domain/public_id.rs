use rand::Rng;

use super::Invalid;

/// The id of a story in its URL: random, so that nobody can count submissions or guess
/// the neighbours of a story. 12 characters from 31 give about 59 bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicId(String);

// Without 0/o, 1/l/i, so that an id read aloud or copied by hand stays right.
const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
const LEN: usize = 12;

impl PublicId {
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let id = (0..LEN)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect();
        PublicId(id)
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if raw.len() == LEN && raw.bytes().all(|b| ALPHABET.contains(&b)) {
            Ok(PublicId(raw.to_owned()))
        } else {
            Err(Invalid::new("体験談のIDが正しくありません。"))
        }
    }
}

impl AsRef<str> for PublicId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_and_differ() {
        let a = PublicId::generate();
        let b = PublicId::generate();
        assert_ne!(a, b);
        assert_eq!(PublicId::parse(a.as_ref()).unwrap(), a);
    }

    #[test]
    fn numbers_and_odd_input_are_not_ids() {
        for bad in ["1", "123456789012", "ABCDEFGHJKMN", "../../etc/pw", ""] {
            assert!(PublicId::parse(bad).is_err(), "{bad:?}");
        }
    }
}
