//! Settings: environment variables (`ENGAWA_*`, `DATABASE_URL`) over an optional `engawa.toml`,
//! over defaults chosen so that a newcomer can run the site with no configuration at all.
//! Each setting has one environment variable and one key in the file (the variable's name,
//! lowercased, without `ENGAWA_`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};

/// The settings file read when `ENGAWA_CONFIG` does not name another one. It is optional.
pub const DEFAULT_CONFIG_FILE: &str = "engawa.toml";

#[derive(Debug, Clone)]
pub struct Settings {
    /// Address the HTTP server listens on; port 0 picks a free port (tests rely on it).
    pub bind: String,
    /// Holds the SQLite database by default, the generated secret key and the mail folder.
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Absolute origin used in canonical links, mails and feeds, without a trailing slash.
    pub base_url: String,
    /// Signs CSRF tokens and keys hashes; generated into the data dir when not given.
    pub secret_key: Option<String>,
    /// `smtp://user:pass@host:587` or `smtps://…`; without it mail is written to `data/outbox/`.
    pub smtp_url: Option<String>,
    pub mail_from: String,
    /// At most one "new stories are waiting" mail to moderators per this interval; every
    /// interval in which items entered the queue sends one.
    pub moderator_alert_interval: Duration,
    /// An item waiting longer than this brings a reminder (at most one per this time).
    pub moderator_reminder: Duration,
    /// First retry delay of a mail that could not be sent; it doubles up to an hour.
    pub mail_retry: Duration,
    /// Open reports that hide a published story until a moderator decides.
    pub report_threshold: i64,
    /// Submissions allowed from one address per hour.
    pub submissions_per_hour: usize,
    /// The story form is refused when sent sooner than this after it was served (0: no check).
    pub min_fill_time: Duration,
    /// The reasons a moderator picks from when rejecting.
    pub reject_reasons: Vec<String>,
    /// The time zone editors schedule in.
    pub timezone: chrono_tz::Tz,
    /// How long an approved story waits before it enters feeds, the sitemap and digests.
    pub feed_delay: Duration,
    /// How often a subscriber gets a digest.
    pub digest_interval: Duration,
    /// Proxies whose X-Forwarded-For is believed (for rate limits).
    pub trusted_proxies: crate::client::TrustedProxies,
    /// `/metrics` answers requests with this bearer token, or from `metrics_allow`.
    pub metrics_token: Option<String>,
    pub metrics_allow: crate::client::TrustedProxies,
    /// How long a client may take to send a request body (the head has its own timeout).
    pub body_timeout: Duration,
    /// Searches one client address may run per minute on a node (cached pages do not count).
    pub searches_per_minute: usize,
    /// IPv6 clients share rate limits per network of this prefix length (IPv4: per address).
    pub rate_limit_ipv6_prefix: u8,
    /// Adds `/__fault/panic`, a route that panics, so a test can prove that a panic becomes a
    /// 500 page. Never set in production (it only ever answers 500, but it has no use there).
    pub fault_injection: bool,
    /// How long a rejected story's text is kept (so its submitter can read the decision).
    pub rejected_retention: Duration,
    /// On PostgreSQL, the least time between two rewrites of the tables that held erased text:
    /// erased text is unreadable in the table files within this time plus one rewrite.
    pub erasure_rewrite_interval: Duration,
    /// A mail that could not be delivered for this long is dropped with its address.
    pub mail_give_up: Duration,
    /// How long a node holds a mail it is sending before another node (or itself, restarted
    /// after a crash) may try it: longer than the slowest SMTP exchange, or it could go twice.
    pub mail_lease: Duration,
}

const KEYS: &[&str] = &[
    "bind",
    "data_dir",
    "database_url",
    "base_url",
    "secret_key",
    "smtp_url",
    "mail_from",
    "moderator_alert_minutes",
    "moderator_reminder_hours",
    "mail_retry_seconds",
    "report_threshold",
    "submissions_per_hour",
    "min_fill_seconds",
    "reject_reasons",
    "timezone",
    "feed_delay_minutes",
    "digest_days",
    "trusted_proxies",
    "metrics_token",
    "metrics_allow",
    "fault_injection",
    "body_timeout_seconds",
    "searches_per_minute",
    "rate_limit_ipv6_prefix",
    "rejected_retention_days",
    "erasure_rewrite_minutes",
    "mail_give_up_hours",
    "mail_lease_seconds",
];

const DEFAULT_REJECT_REASONS: &[&str] = &[
    "個人を特定できる情報が含まれている",
    "サイトの趣旨に合わない",
    "他者を傷つける表現が含まれている",
    "内容が確認できない・重複している",
];

struct Source<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    file: toml::Table,
}

impl Source<'_> {
    /// The environment variable, else the file's key, as text.
    fn get(&self, key: &str) -> Option<String> {
        let var = match key {
            "database_url" => "DATABASE_URL".to_owned(),
            _ => format!("ENGAWA_{}", key.to_uppercase()),
        };
        (self.env)(&var).or_else(|| match self.file.get(key)? {
            toml::Value::String(s) => Some(s.clone()),
            toml::Value::Array(items) => Some(
                items
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            other => Some(other.to_string()),
        })
    }

    fn number<T: std::str::FromStr>(&self, key: &str, default: T) -> anyhow::Result<T> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("{key} must be a whole number, got {v:?}")),
        }
    }

    fn flag(&self, key: &str, default: bool) -> anyhow::Result<bool> {
        match self.get(key).map(|v| v.trim().to_lowercase()) {
            None => Ok(default),
            Some(v) => match v.as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => anyhow::bail!("{key} must be true or false, got {v:?}"),
            },
        }
    }
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
            None => toml::Table::new(),
        };
        let src = Source { env: &env, file };

        let bind = src
            .get("bind")
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let data_dir = src
            .get("data_dir")
            .map_or_else(|| PathBuf::from("data"), PathBuf::from);
        let database_url = src.get("database_url").unwrap_or_else(|| {
            data_dir
                .join("engawa.sqlite3")
                .to_string_lossy()
                .into_owned()
        });
        let base_url = match src.get("base_url") {
            Some(url) => parse_base_url(&url)?,
            None => format!("http://{bind}"),
        };
        let reject_reasons = match src.get("reject_reasons") {
            Some(list) => list
                .split(['\n', ','])
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect(),
            None => DEFAULT_REJECT_REASONS
                .iter()
                .map(|r| (*r).to_owned())
                .collect(),
        };
        Ok(Settings {
            secret_key: src.get("secret_key"),
            smtp_url: src.get("smtp_url"),
            mail_from: src
                .get("mail_from")
                .unwrap_or_else(|| "縁側 <no-reply@engawa.invalid>".to_owned()),
            moderator_alert_interval: Duration::from_secs(
                60 * src.number("moderator_alert_minutes", 30u64)?,
            ),
            moderator_reminder: Duration::from_secs(
                3600 * src.number("moderator_reminder_hours", 24u64)?.max(1),
            ),
            mail_retry: Duration::from_secs(src.number("mail_retry_seconds", 60u64)?.max(1)),
            mail_lease: Duration::from_secs(src.number("mail_lease_seconds", 120u64)?.max(1)),
            report_threshold: src.number("report_threshold", 3i64)?.max(1),
            submissions_per_hour: src.number("submissions_per_hour", 5usize)?,
            min_fill_time: Duration::from_secs(src.number("min_fill_seconds", 3u64)?),
            reject_reasons,
            feed_delay: Duration::from_secs(60 * src.number("feed_delay_minutes", 60u64)?),
            digest_interval: Duration::from_secs(86_400 * src.number("digest_days", 7u64)?.max(1)),
            trusted_proxies: crate::client::TrustedProxies::parse(
                &src.get("trusted_proxies").unwrap_or_default(),
            )?,
            metrics_token: src.get("metrics_token").filter(|t| t.len() >= 16),
            // No network is trusted by default: a local reverse proxy would make every visitor local.
            metrics_allow: crate::client::TrustedProxies::parse(
                &src.get("metrics_allow").unwrap_or_default(),
            )?,
            fault_injection: src.flag("fault_injection", false)?,
            body_timeout: Duration::from_secs(src.number("body_timeout_seconds", 30u64)?.max(1)),
            searches_per_minute: src.number("searches_per_minute", 120usize)?.max(1),
            rate_limit_ipv6_prefix: src.number("rate_limit_ipv6_prefix", 64u8)?.clamp(16, 128),
            rejected_retention: Duration::from_secs(
                86_400 * src.number("rejected_retention_days", 30u64)?,
            ),
            erasure_rewrite_interval: Duration::from_secs(
                60 * src.number("erasure_rewrite_minutes", 10u64)?,
            ),
            mail_give_up: Duration::from_secs(3600 * src.number("mail_give_up_hours", 72u64)?),
            timezone: match src.get("timezone") {
                None => chrono_tz::Asia::Tokyo,
                Some(name) => name.trim().parse().map_err(|_| {
                    anyhow::anyhow!("timezone must be a name such as Asia/Tokyo, got {name:?}")
                })?,
            },
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

    /// Whether the site is served over HTTPS, so cookies can be marked Secure.
    pub fn is_https(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

fn read_file(path: &Path) -> anyhow::Result<toml::Table> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read settings file {}", path.display()))?;
    let table: toml::Table = toml::from_str(&text)
        .with_context(|| format!("invalid settings file {}", path.display()))?;
    if let Some(unknown) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
        bail!(
            "invalid settings file {}: unknown key {unknown:?} (known keys: {})",
            path.display(),
            KEYS.join(", ")
        );
    }
    Ok(table)
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
        assert_eq!(s.submissions_per_hour, 5);
        assert_eq!(s.report_threshold, 3);
        assert!(s.smtp_url.is_none());
        assert!(!s.reject_reasons.is_empty());
        assert_eq!(s.timezone, chrono_tz::Asia::Tokyo);
        assert!(load(&[("ENGAWA_TIMEZONE", "Mars/Olympus")]).is_err());
    }

    #[test]
    fn environment_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("engawa.toml");
        std::fs::write(
            &file,
            "bind = \"0.0.0.0:9000\"\ndata_dir = \"/srv/engawa\"\nreport_threshold = 5\nreject_reasons = [\"一\", \"二\"]\n",
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
        assert_eq!(s.report_threshold, 5);
        assert_eq!(s.reject_reasons, vec!["一", "二"]);
        assert!(s.is_https());
    }

    #[test]
    fn a_relative_base_url_is_refused() {
        let err = load(&[("ENGAWA_BASE_URL", "engawa.example")]).unwrap_err();
        assert!(err.to_string().contains("ENGAWA_BASE_URL"));
    }

    #[test]
    fn fault_injection_is_off_unless_set_to_a_yes() {
        assert!(!load(&[]).unwrap().fault_injection);
        assert!(
            load(&[("ENGAWA_FAULT_INJECTION", "true")])
                .unwrap()
                .fault_injection
        );
        let err = load(&[("ENGAWA_FAULT_INJECTION", "maybe")]).unwrap_err();
        assert!(err.to_string().contains("true or false"), "{err}");
    }

    #[test]
    fn a_number_that_is_not_one_is_refused() {
        let err = load(&[("ENGAWA_REPORT_THRESHOLD", "three")]).unwrap_err();
        assert!(err.to_string().contains("report_threshold"), "{err}");
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
