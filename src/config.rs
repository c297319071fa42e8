//! Settings: environment variables (`ENGAWA_*`, `DATABASE_URL`) over an optional `engawa.toml`,
//! over defaults chosen so that a newcomer can run the site with no configuration at all.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// The settings file read when `ENGAWA_CONFIG` does not name another one. It is optional.
pub const DEFAULT_CONFIG_FILE: &str = "engawa.toml";

#[derive(Debug, Clone)]
pub struct Settings {
    /// Address the HTTP server listens on; port 0 picks a free port (tests rely on it).
    pub bind: String,
    /// Holds the SQLite database by default and, in later versions, the search index and mail outbox.
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Absolute origin used in canonical links and feeds, without a trailing slash.
    pub base_url: String,
}

/// The same keys as the environment variables, lowercased and without the `ENGAWA_` prefix.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    bind: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    base_url: Option<String>,
}

impl Settings {
    /// Loads settings from the process environment and the settings file it names.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::load(|key| std::env::var(key).ok().filter(|v| !v.is_empty()))
    }

    /// Loads settings with `env` standing in for the process environment.
    pub fn load(env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let file = match env("ENGAWA_CONFIG") {
            Some(path) => read_file(Path::new(&path))?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                read_file(Path::new(DEFAULT_CONFIG_FILE))?
            }
            None => FileSettings::default(),
        };

        let bind = env("ENGAWA_BIND")
            .or(file.bind)
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let data_dir = env("ENGAWA_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data"));
        let database_url = env("DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| {
                data_dir
                    .join("engawa.sqlite3")
                    .to_string_lossy()
                    .into_owned()
            });
        let base_url = match env("ENGAWA_BASE_URL").or(file.base_url) {
            Some(url) => parse_base_url(&url)?,
            None => format!("http://{bind}"),
        };

        Ok(Settings {
            bind,
            data_dir,
            database_url,
            base_url,
        })
    }

    /// The base URL once the real port is known, for servers bound to port 0 without an explicit base URL.
    pub fn with_bound_port(mut self, port: u16) -> Self {
        if self.base_url == format!("http://{}", self.bind) {
            let host = self.bind.rsplit_once(':').map_or("127.0.0.1", |(h, _)| h);
            self.base_url = format!("http://{host}:{port}");
        }
        self
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileSettings> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read settings file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid settings file {}", path.display()))
}

fn parse_base_url(url: &str) -> anyhow::Result<String> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(url.to_owned()),
        _ => bail!(
            "ENGAWA_BASE_URL must be an absolute http(s) URL such as https://example.jp, got {url:?}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::load(|k| vars.get(k).cloned())
    }

    #[test]
    fn defaults_serve_a_newcomer() {
        let s = load(&[]).unwrap();
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.data_dir, PathBuf::from("data"));
        assert_eq!(s.database_url, "data/engawa.sqlite3");
        assert_eq!(s.base_url, "http://127.0.0.1:8080");
    }

    #[test]
    fn environment_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("engawa.toml");
        std::fs::write(
            &file,
            "bind = \"0.0.0.0:9000\"\ndata_dir = \"/srv/engawa\"\n",
        )
        .unwrap();
        let s = load(&[
            ("ENGAWA_CONFIG", file.to_str().unwrap()),
            ("ENGAWA_BIND", "127.0.0.1:7000"),
            ("ENGAWA_BASE_URL", "https://engawa.example/"),
        ])
        .unwrap();
        assert_eq!(s.bind, "127.0.0.1:7000");
        assert_eq!(s.data_dir, PathBuf::from("/srv/engawa"));
        assert_eq!(s.database_url, "/srv/engawa/engawa.sqlite3");
        assert_eq!(s.base_url, "https://engawa.example");
    }

    #[test]
    fn a_relative_base_url_is_refused() {
        let err = load(&[("ENGAWA_BASE_URL", "engawa.example")]).unwrap_err();
        assert!(err.to_string().contains("ENGAWA_BASE_URL"));
    }

    #[test]
    fn an_unknown_key_in_the_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("engawa.toml");
        std::fs::write(&file, "bnid = \"0.0.0.0:9000\"\n").unwrap();
        let err = load(&[("ENGAWA_CONFIG", file.to_str().unwrap())]).unwrap_err();
        assert!(format!("{err:#}").contains("bnid"));
    }

    #[test]
    fn port_zero_gets_the_real_port_in_the_base_url() {
        let s = load(&[("ENGAWA_BIND", "127.0.0.1:0")])
            .unwrap()
            .with_bound_port(41234);
        assert_eq!(s.base_url, "http://127.0.0.1:41234");
    }
}
