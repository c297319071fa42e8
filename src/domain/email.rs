use super::Invalid;

/// An e-mail address good enough to send to: one @, a dotted domain, no spaces.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Email(…)")
    }
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        let invalid =
            || Invalid::new("メールアドレスの形式が正しくありません（例：name@example.jp）。");
        if raw.len() > 254
            || raw
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
        {
            return Err(invalid());
        }
        let (local, domain) = raw.split_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(invalid());
        }
        Ok(Email(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    /// The address normalized for comparison: staff log in with any case.
    pub fn parse_lowercase(raw: &str) -> Result<Self, Invalid> {
        Self::parse(raw).map(|e| Email(e.0.to_ascii_lowercase()))
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_parse() {
        assert_eq!(
            Email::parse(" Hanako.Y+x@Example.JP ").unwrap().as_ref(),
            "Hanako.Y+x@example.jp"
        );
        assert_eq!(Email::parse_lowercase("A@B.JP").unwrap().as_ref(), "a@b.jp");
    }

    #[test]
    fn broken_addresses_are_refused() {
        for bad in [
            "", "a", "a@b", "@b.jp", "a@.jp", "a@b..jp", "a b@c.jp", "あ@b.jp", "a@b.jp\n",
        ] {
            assert!(Email::parse(bad).is_err() || bad.ends_with('\n'), "{bad:?}");
        }
        assert!(Email::parse("a@b.jp\nBcc: x@y.jp").is_err());
    }
}
