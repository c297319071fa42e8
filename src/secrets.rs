//! The site's secret key and the hashes made with it.
//!
//! The key signs CSRF tokens. It comes from `ENGAWA_SECRET_KEY` (every node of a multi-node site
//! must share it) or, for a single machine, from `secret.key` in the data dir, created on first run.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

const KEY_FILE: &str = "secret.key";
const MIN_KEY_CHARS: usize = 32;

#[derive(Clone)]
pub struct SecretKey(Vec<u8>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

impl SecretKey {
    /// The configured key, or the one kept in the data dir (created when missing).
    pub fn load(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        if let Some(key) = configured {
            if key.trim().chars().count() < MIN_KEY_CHARS {
                bail!("ENGAWA_SECRET_KEY must be at least {MIN_KEY_CHARS} characters long");
            }
            return Ok(SecretKey(key.trim().as_bytes().to_vec()));
        }
        let path = data_dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) if text.trim().len() >= MIN_KEY_CHARS => {
                return Ok(SecretKey(text.trim().as_bytes().to_vec()));
            }
            Ok(_) => bail!("{} is too short to be a secret key", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
        let key = random_hex(32);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        file.write_all(key.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        tracing::info!(path = %path.display(), "created a new secret key");
        Ok(SecretKey(key.into_bytes()))
    }

    /// Copies the key file beside a backup at `dest` (as `DEST.secret.key`, owner-only), so that
    /// a restore keeps signed links (confirmation, unsubscribe) working. `None` when the key
    /// comes from `ENGAWA_SECRET_KEY`: it lives wherever that is kept.
    pub fn back_up(
        configured: Option<&str>,
        data_dir: &Path,
        dest: &Path,
    ) -> anyhow::Result<Option<std::path::PathBuf>> {
        if configured.is_some() {
            return Ok(None);
        }
        let from = data_dir.join(KEY_FILE);
        let key =
            std::fs::read(&from).with_context(|| format!("cannot read {}", from.display()))?;
        let mut to = dest.as_os_str().to_owned();
        to.push(".secret.key");
        let to = std::path::PathBuf::from(to);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .open(&to)
            .and_then(|mut f| f.write_all(&key).and_then(|()| f.sync_all()))
            .with_context(|| format!("cannot write {}", to.display()))?;
        Ok(Some(to))
    }

    /// HMAC-SHA256 of `data` under this key, for `purpose` (so that one use's value is never
    /// valid for another), as hex.
    pub fn sign(&self, purpose: &str, data: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether `signature` is `sign(purpose, data)`, compared in constant time.
    pub fn verify(&self, purpose: &str, data: &[u8], signature: &str) -> bool {
        let Ok(given) = hex::decode(signature) else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        mac.verify_slice(&given).is_ok()
    }
}

/// `n` random bytes as hex, from the operating system's generator.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// SHA-256 as hex: for tokens with enough entropy that a plain hash cannot be reversed.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_kept_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a = SecretKey::load(None, dir.path()).unwrap();
        let b = SecretKey::load(None, dir.path()).unwrap();
        assert_eq!(a.sign("t", b"x"), b.sign("t", b"x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_short_configured_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(SecretKey::load(Some("short"), dir.path()).is_err());
    }

    #[test]
    fn signatures_are_bound_to_their_purpose() {
        let key = SecretKey(b"0123456789abcdef0123456789abcdef".to_vec());
        let sig = key.sign("csrf", b"abc");
        assert!(key.verify("csrf", b"abc", &sig));
        assert!(!key.verify("other", b"abc", &sig));
        assert!(!key.verify("csrf", b"abd", &sig));
        assert!(!key.verify("csrf", b"abc", "zz"));
    }
}
