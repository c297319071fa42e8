//! The data directory (database, search index, secret key, mail files) is the site's user's
//! alone: the directory 0700, every file in it 0600, whatever the umask the site was started
//! with, for files made before this version too.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::Context;

/// Makes every file this process creates from now on private (umask 077). For the `engawa`
/// binary's `main`: the mask is the whole process's, so a library does not set it for its host.
pub fn private_from_now_on() {
    // SAFETY: umask only sets the process's file-creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

/// Creates the data directory if needed and narrows what is already in it (left by an older
/// version, or made under another umask).
pub fn make_private(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    // The directory itself may be a link to where the data lives; what is inside is narrowed
    // without following links (they may point anywhere).
    narrow(&dir.canonicalize()?)
}

fn narrow(path: &Path) -> anyhow::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    let mode = if meta.is_dir() { 0o700 } else { 0o600 };
    if meta.permissions().mode() & 0o777 != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot make {} private", path.display()))?;
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            narrow(&entry?.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_data_dir_is_narrowed_to_its_owner() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        std::fs::create_dir_all(dir.join("search")).unwrap();
        std::fs::write(dir.join("engawa.sqlite3"), "x").unwrap();
        std::fs::write(dir.join("search/meta.json"), "{}").unwrap();
        for (path, mode) in [
            (dir.clone(), 0o755),
            (dir.join("search"), 0o775),
            (dir.join("engawa.sqlite3"), 0o644),
            (dir.join("search/meta.json"), 0o664),
        ] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        private_from_now_on();
        make_private(&dir).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("search")), 0o700);
        assert_eq!(mode(&dir.join("engawa.sqlite3")), 0o600);
        assert_eq!(mode(&dir.join("search/meta.json")), 0o600);
        // And what is made afterwards, whatever umask the process had.
        std::fs::write(dir.join("later"), "y").unwrap();
        assert_eq!(mode(&dir.join("later")), 0o600);
    }
}
