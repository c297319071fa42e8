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
        // The mailer parses it again when it sends; an address it would refuse is refused here,
        // where the person can still correct it, not days later in a failing queue.
        if raw.parse::<lettre::Address>().is_err() {
            return Err(Invalid::new(
                "このメールアドレスには送信できません。記号の使い方をご確認ください（例：name@example.jp）。",
            ));
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
    fn addresses_the_mailer_would_refuse_are_refused_with_a_japanese_message() {
        for raw in [
            "a..b@example.jp",
            ".hanako@example.jp",
            "hanako.@example.jp",
            "a(b)@example.jp",
            "a\"b@example.jp",
            "a\\b@example.jp",
            "a[b]@example.jp",
            "hanako@-example.jp",
        ] {
            let e = Email::parse(raw).expect_err(raw);
            assert!(e.0.contains("メールアドレス"), "{raw}: {}", e.0);
        }
        assert!(Email::parse("hanako.y+x@example.jp").is_ok());
        // Caught by the mailer's parser alone: the older checks let it through.
        assert!(
            Email::parse("a..b@example.jp")
                .expect_err("refused")
                .0
                .contains("送信できません")
        );
    }

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
