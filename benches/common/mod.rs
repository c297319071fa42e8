//! What the benchmarks share: settings from the environment and a database in a temp dir.

/// `name` from the environment, or `default` when it is unset or does not parse.
pub fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The database the benchmark runs on: `BENCH_DATABASE_URL` if set (PostgreSQL, say), else a
/// SQLite file in `dir`.
pub fn database_url(dir: &std::path::Path) -> String {
    std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| dir.join("bench.sqlite3").to_string_lossy().into_owned())
}
