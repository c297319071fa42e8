//! Near-duplicate detection without tracking anyone: a MinHash signature of a story's text (its
//! character trigrams, after folding width, case, spaces and punctuation), compared with those of
//! recent stories. A lightly edited copy shares most trigrams and so most of the signature;
//! unrelated stories share almost none. Bands of the signature (locality-sensitive hashing) let
//! the database find candidates without comparing every story.

use std::collections::HashSet;

use unicode_normalization::UnicodeNormalization;

/// Values in a signature. The estimate of the similarity is within ±0.12 for 64 (one standard
/// deviation at 0.5); enough to tell an edited copy (0.6–0.95) from another story (under 0.1).
pub const SIGNATURE_LEN: usize = 64;
/// The signature cut into this many bands of `ROWS` values; two stories sharing any band are
/// candidates. With 16 × 4, a pair at similarity 0.5 is found with probability 0.65, at 0.7 with
/// 0.98, at 0.2 with 0.03.
pub const BANDS: usize = 16;
const ROWS: usize = SIGNATURE_LEN / BANDS;
/// From this estimated similarity on, moderators are shown the other story.
pub const THRESHOLD: f64 = 0.5;
const SHINGLE: usize = 3;

/// A story's signature: the least hash of its trigrams under each of 64 hash functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature(pub [u32; SIGNATURE_LEN]);

/// 64-bit FNV-1a: stable across builds and releases, as stored signatures need.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// splitmix64's finalizer: turns one hash into the i-th of many independent-looking ones.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The text as compared: width and case folded, only letters and digits (any script) kept.
fn folded(text: &str) -> Vec<char> {
    text.nfkc()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

impl Signature {
    /// None for a text too short to have a trigram.
    pub fn of(text: &str) -> Option<Self> {
        let chars = folded(text);
        let shingles: HashSet<u64> = chars
            .windows(SHINGLE)
            .map(|w| {
                let s: String = w.iter().collect();
                fnv1a(s.as_bytes())
            })
            .collect();
        if shingles.is_empty() {
            return None;
        }
        let mut signature = [u32::MAX; SIGNATURE_LEN];
        for shingle in shingles {
            for (i, slot) in signature.iter_mut().enumerate() {
                let seed = 0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(i as u64 + 1);
                // The high half: the low bits of a multiply-mix are the weaker ones.
                let value = (mix(shingle ^ seed) >> 32) as u32;
                *slot = (*slot).min(value);
            }
        }
        Some(Signature(signature))
    }

    /// The estimated Jaccard similarity of the two texts' trigram sets, 0 to 1.
    pub fn similarity(&self, other: &Signature) -> f64 {
        let same = self
            .0
            .iter()
            .zip(other.0)
            .filter(|(a, b)| **a == *b)
            .count();
        same as f64 / SIGNATURE_LEN as f64
    }

    /// Each band's bucket, as stored for lookups.
    pub fn bands(&self) -> [i64; BANDS] {
        let mut bands = [0i64; BANDS];
        for (band, rows) in self.0.chunks(ROWS).enumerate() {
            let bytes: Vec<u8> = rows.iter().flat_map(|v| v.to_le_bytes()).collect();
            bands[band] = fnv1a(&bytes) as i64;
        }
        bands
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != SIGNATURE_LEN * 4 {
            return None;
        }
        let mut signature = [0u32; SIGNATURE_LEN];
        for (slot, chunk) in signature.iter_mut().zip(bytes.chunks(4)) {
            *slot = u32::from_le_bytes(chunk.try_into().ok()?);
        }
        Some(Signature(signature))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORY: &str = "読書会で出会って五年になります。連絡は平日の昼だけ、会うのは月に一度の読書会のあとに\
        喫茶店で一時間だけと決めています。お互いの家庭のことは話しますが、相手の家族を悪く言わないこと、\
        記念日を作らないことがふたりのルールです。";

    #[test]
    fn an_edited_copy_is_similar_and_another_story_is_not() {
        let original = Signature::of(STORY).unwrap();
        let edited = STORY
            .replace("五年", "六年")
            .replace("喫茶店", "カフェ")
            .replace("ふたりの", "私たちの");
        let copy = Signature::of(&format!("　{edited}！！")).unwrap();
        assert!(
            original.similarity(&copy) >= THRESHOLD,
            "{}",
            original.similarity(&copy)
        );
        let other = Signature::of(
            "職場の同僚として知り合い、三年目です。メッセージは家族が寝たあとには送らない、\
             誕生日の贈り物はしない、と最初に決めました。困ったときに相談できる相手がいることが支えです。",
        )
        .unwrap();
        assert!(
            original.similarity(&other) < 0.2,
            "{}",
            original.similarity(&other)
        );
    }

    #[test]
    fn width_case_and_punctuation_do_not_matter() {
        let a = Signature::of("ＬＩＮＥは使わない、と決めた。").unwrap();
        let b = Signature::of("line は使わない と決めた").unwrap();
        assert_eq!(a, b);
        assert!(Signature::of("、。 ！").is_none());
    }

    #[test]
    fn signatures_round_trip_and_bands_follow_the_signature() {
        let s = Signature::of(STORY).unwrap();
        assert_eq!(Signature::from_bytes(&s.to_bytes()), Some(s.clone()));
        assert_eq!(s.bands(), Signature::of(STORY).unwrap().bands());
        assert!(Signature::from_bytes(&[1, 2, 3]).is_none());
    }
}
