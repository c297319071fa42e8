//! Staff passwords: argon2id with a random salt, in PHC string form.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::domain::Invalid;

pub const MIN_CHARS: usize = 12;

/// Refuses passwords too short to resist guessing.
pub fn check_strength(password: &str) -> Result<(), Invalid> {
    if password.chars().count() < MIN_CHARS {
        Err(Invalid::new(format!(
            "パスワードは{MIN_CHARS}文字以上にしてください。"
        )))
    } else {
        Ok(())
    }
}

/// A new password typed twice: the same both times, and strong enough.
pub fn check_new(password: &str, confirm: &str) -> Result<(), Invalid> {
    if password != confirm {
        return Err(Invalid::new("新しいパスワードが確認用と一致しません。"));
    }
    check_strength(password)
}

pub fn hash(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

/// Verifies against the stored hash; with no hash (unknown account) it verifies against a
/// dummy so that both answers take the same time.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: LazyLock<String> =
        LazyLock::new(|| hash("not a real password, only for timing").unwrap_or_default());
    let target = stored.unwrap_or(DUMMY.as_str());
    let ok = PasswordHash::new(target)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false);
    ok && stored.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", Some(&h)));
        assert!(!verify("correct horse batterx", Some(&h)));
        assert!(!verify("correct horse battery", None));
        assert!(!verify("x", Some("not a hash")));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_strength("short").is_err());
        assert!(check_strength("長いパスワードを十二文字以上").is_ok());
    }
}
