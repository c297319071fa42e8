//! Database access: one connection type for SQLite and PostgreSQL, chosen at run time from the URL,
//! a pool of them, and the migrations of each backend.

pub mod schema;

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, anyhow};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Every connection the app uses. Queries are written once against this type.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// The backend type of [`DbConn`], for boxed queries.
pub type Backend = <DbConn as Connection>::Backend;

pub type DbPool = Pool<Manager>;
pub type PooledConn = PooledConnection<Manager>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

impl Kind {
    pub fn of(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Kind::Postgres
        } else {
            Kind::Sqlite
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Sqlite => "SQLite",
            Kind::Postgres => "PostgreSQL",
        }
    }
}

// busy_timeout comes first: switching to WAL itself needs the lock another process may hold.
// synchronous = FULL: a transaction is on disk before its commit returns, so a submission whose
// receipt was shown survives a power cut as well as a killed process (with NORMAL, the last
// commits could roll back after a power cut). Writes are rare here; one fsync each is cheap.
// secure_delete: deleted or overwritten content is zeroed in the page instead of left in free
// space, so an erased story's text is not in the file (the WAL is handled by `scrub`).
const SQLITE_SETUP: &str = "PRAGMA busy_timeout = 5000;
PRAGMA secure_delete = ON;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;";

/// Opens one connection, dispatching on the URL so that the real cause of a failure
/// ("password authentication failed", "Connection refused") reaches the operator;
/// the derived `establish` would only say that no backend accepted the URL.
pub fn establish(url: &str) -> Result<DbConn, ConnectionError> {
    match Kind::of(url) {
        Kind::Postgres => PgConnection::establish(url).map(DbConn::Postgres),
        Kind::Sqlite => {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            let mut conn = SqliteConnection::establish(path)?;
            conn.batch_execute(SQLITE_SETUP)
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
            Ok(DbConn::Sqlite(conn))
        }
    }
}

/// Runs `f` in a transaction meant to write, committing when it returns `Ok`.
///
/// On SQLite the transaction starts with `BEGIN IMMEDIATE`, taking the write lock up front and
/// waiting for it (busy_timeout). A deferred transaction that reads first and then writes cannot
/// wait: if another connection wrote in between, SQLite answers "database is locked" at once, so
/// two moderators, or a moderator and the mail scheduler, would make each other fail. Inside a
/// transaction already, `f` runs in a savepoint as usual.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <DbConn as Connection>::TransactionManager;

    let DbConn::Sqlite(sqlite) = conn else {
        return conn.transaction(f);
    };
    let depth =
        AnsiTransactionManager::transaction_manager_status_mut(sqlite).transaction_depth()?;
    if depth.is_some() {
        return conn.transaction(f);
    }
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    match f(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => match Manager::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// PostgreSQL advisory lock keys, one per purpose.
const MIGRATION_LOCK: i64 = 8217402;
/// Writers of outbox rows take turns (`Outbox::publish`).
pub const OUTBOX_LOCK: i64 = 8217403;
/// One node at a time rewrites tables after erasures (`erasure::clean_up`).
pub const ERASURE_LOCK: i64 = 8217404;

/// Takes a PostgreSQL session lock if it is free; it lasts until the connection closes.
/// Serializes the transaction it runs in with any other taking the same `name`, until either
/// commits (PostgreSQL: a transaction-level advisory lock). SQLite's write transactions are
/// serialized already.
pub fn lock_in_transaction(conn: &mut DbConn, name: &str) -> diesel::QueryResult<()> {
    use diesel::RunQueryDsl;
    if let DbConn::Postgres(_) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1)::bigint)")
            .bind::<diesel::sql_types::Text, _>(name)
            .execute(conn)?;
    }
    Ok(())
}

pub fn try_lock_for_session(conn: &mut DbConn, key: i64) -> anyhow::Result<bool> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    let lock: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
        .bind::<diesel::sql_types::BigInt, _>(key)
        .get_result(conn)
        .context("advisory lock")?;
    Ok(lock.locked)
}

/// Makes text that erasures removed unreadable in the database's own files; `false` when it
/// could not yet, and the caller tries again later.
///
/// SQLite (with `secure_delete`) zeroes it in the main file already; the WAL still holds the
/// page images written before, so this checkpoints and truncates it. That waits for readers
/// (busy_timeout) and fails if one kept reading.
///
/// PostgreSQL leaves dead row versions in the table files until the space is reused, also after
/// VACUUM; `VACUUM FULL` rewrites each of `tables` with its TOAST and indexes into new files. It still
/// copies row versions that some snapshot can see, so it waits until no session's snapshot or
/// replication slot is older than `erased_by` (the newest erasing transaction). It holds each
/// table's exclusive lock for the rewrite (docs/BENCHMARKS.md), so callers batch erasures.
pub fn scrub(conn: &mut DbConn, tables: &[&str], erased_by: Option<i64>) -> anyhow::Result<bool> {
    use diesel::RunQueryDsl;
    match conn {
        DbConn::Sqlite(c) => {
            #[derive(diesel::QueryableByName)]
            struct Checkpoint {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                busy: i64,
            }
            let done: Checkpoint = diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)")
                .get_result(c)
                .context("WAL checkpoint")?;
            Ok(done.busy == 0)
        }
        DbConn::Postgres(c) => {
            if let Some(xid) = erased_by {
                #[derive(diesel::QueryableByName)]
                struct Older {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    older: i64,
                }
                // age() compares 32-bit xids across wraparound; the erasing transaction's
                // txid_current() keeps its low 32 bits as its xid.
                let older: Older = diesel::sql_query(
                    "SELECT (SELECT count(*) FROM pg_stat_activity
                             WHERE (datname = current_database() OR datname IS NULL)
                               AND pid <> pg_backend_pid() AND backend_xmin IS NOT NULL
                               AND age(backend_xmin) >= age(($1 % 4294967296)::text::xid))
                          + (SELECT count(*) FROM pg_replication_slots
                             WHERE xmin IS NOT NULL AND age(xmin) >= age(($1 % 4294967296)::text::xid))
                          AS older",
                )
                .bind::<diesel::sql_types::BigInt, _>(xid)
                .get_result(c)
                .context("looking for snapshots older than the erasure")?;
                if older.older > 0 {
                    return Ok(false);
                }
            }
            if tables.is_empty() {
                return Ok(true);
            }
            c.batch_execute(&format!("VACUUM FULL {}", tables.join(", ")))
                .context("rewriting the tables that held erased text")?;
            Ok(true)
        }
    }
}

/// Creates connections for the pool with [`establish`].
#[derive(Debug)]
pub struct Manager {
    url: String,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        establish(&self.url).map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

/// Connects to the database, applies pending migrations and returns a pool.
/// Errors name the database and the real cause in one line.
pub fn connect(url: &str) -> anyhow::Result<DbPool> {
    let kind = Kind::of(url);
    if kind == Kind::Sqlite {
        let path = Path::new(url.strip_prefix("sqlite://").unwrap_or(url));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
        }
    }
    let mut conn = establish(url).map_err(|e| {
        anyhow!(
            "cannot connect to {} at {}: {}",
            kind.name(),
            redact_url(url),
            e.to_string().trim()
        )
    })?;
    migrate(&mut conn)?;
    drop(conn);

    // SQLite serializes writers anyway; a few connections serve concurrent readers.
    let size = match kind {
        Kind::Sqlite => 8,
        Kind::Postgres => 10,
    };
    Pool::builder()
        .max_size(size)
        .connection_timeout(Duration::from_secs(10))
        .build(Manager {
            url: url.to_owned(),
        })
        .with_context(|| format!("cannot open a pool of {} connections", kind.name()))
}

/// Applies the pending migrations of the connection's backend.
pub fn migrate(conn: &mut DbConn) -> anyhow::Result<()> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        DbConn::Postgres(c) => {
            // Nodes starting together take turns: one migrates, the others then find nothing to do.
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                .map_err(|e| anyhow!("cannot lock the database for migrations: {e}"))?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len());
            let _ = c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
            result
        }
    }
    .map_err(|e| anyhow!("cannot apply database migrations: {e}"))?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(())
}

/// Copies a live SQLite database to `dest` with `VACUUM INTO`: one consistent snapshot, taken
/// while the site keeps serving (writers wait only for the copy's read transaction to start).
/// Returns the number of stories and guides in the copy, read back from it.
pub fn backup_sqlite(conn: &mut DbConn, dest: &Path) -> anyhow::Result<(i64, i64)> {
    use diesel::RunQueryDsl;
    if dest.exists() {
        anyhow::bail!(
            "{} already exists; choose a new file for the backup",
            dest.display()
        );
    }
    let DbConn::Sqlite(c) = conn else {
        anyhow::bail!(
            "engawa backup copies SQLite databases; for PostgreSQL use pg_dump (docs/OPERATIONS.md)"
        );
    };
    let target = dest
        .to_str()
        .ok_or_else(|| anyhow!("the backup path must be valid UTF-8"))?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<diesel::sql_types::Text, _>(target)
        .execute(c)
        .map_err(|e| anyhow!("the backup failed: {e}"))?;
    let mut copy = SqliteConnection::establish(target)
        .map_err(|e| anyhow!("the backup does not open: {e}"))?;
    #[derive(diesel::QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let check: Check = diesel::sql_query("PRAGMA integrity_check").get_result(&mut copy)?;
    if check.integrity_check != "ok" {
        anyhow::bail!(
            "the backup failed its integrity check: {}",
            check.integrity_check
        );
    }
    use diesel::QueryDsl;
    let stories: i64 = schema::stories::table.count().get_result(&mut copy)?;
    let guides: i64 = schema::guides::table.count().get_result(&mut copy)?;
    Ok((stories, guides))
}

/// The URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact_url("postgres://engawa:s3cret@db.internal:5432/engawa"),
            "postgres://engawa@db.internal:5432/engawa"
        );
        assert_eq!(redact_url("data/engawa.sqlite3"), "data/engawa.sqlite3");
    }

    #[test]
    fn the_backend_follows_the_url() {
        assert_eq!(Kind::of("postgresql://localhost/x"), Kind::Postgres);
        assert_eq!(Kind::of("postgres://localhost/x"), Kind::Postgres);
        assert_eq!(Kind::of("sqlite://data/e.sqlite3"), Kind::Sqlite);
        assert_eq!(Kind::of("/tmp/e.sqlite3"), Kind::Sqlite);
    }

    #[test]
    fn sqlite_connections_use_wal_and_foreign_keys() {
        use diesel::RunQueryDsl;
        use diesel::sql_types::{BigInt, Text};
        #[derive(diesel::QueryableByName)]
        struct Mode {
            #[diesel(sql_type = Text)]
            journal_mode: String,
        }
        #[derive(diesel::QueryableByName)]
        struct Fk {
            #[diesel(sql_type = BigInt)]
            foreign_keys: i64,
        }
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("t.sqlite3");
        let DbConn::Sqlite(mut c) = establish(url.to_str().unwrap()).unwrap() else {
            panic!("expected SQLite");
        };
        let mode: Mode = diesel::sql_query("PRAGMA journal_mode")
            .get_result(&mut c)
            .unwrap();
        let fk: Fk = diesel::sql_query("PRAGMA foreign_keys")
            .get_result(&mut c)
            .unwrap();
        assert_eq!(mode.journal_mode, "wal");
        assert_eq!(fk.foreign_keys, 1);
    }

    /// A transaction that reads, then writes after another connection wrote, waits for its turn
    /// instead of failing with "database is locked" (found with two moderators and the mail
    /// scheduler at work at once).
    #[test]
    fn a_sqlite_write_transaction_that_reads_first_waits_for_another_writer() {
        use diesel::RunQueryDsl;
        use std::sync::mpsc;
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("t.sqlite3");
        let url = url.to_str().unwrap().to_owned();
        let mut first = establish(&url).unwrap();
        first
            .batch_execute("CREATE TABLE t (n INTEGER NOT NULL)")
            .unwrap();
        let (read, wait) = mpsc::channel();
        let other = {
            let url = url.clone();
            std::thread::spawn(move || {
                wait.recv().unwrap();
                let mut second = establish(&url).unwrap();
                diesel::sql_query("INSERT INTO t VALUES (2)").execute(&mut second)
            })
        };
        let written = write_transaction(&mut first, |conn| {
            diesel::sql_query("SELECT n FROM t").execute(conn)?;
            read.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(300));
            diesel::sql_query("INSERT INTO t VALUES (1)").execute(conn)
        });
        assert_eq!(written, Ok(1));
        assert_eq!(other.join().unwrap(), Ok(1));
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            rows: i64,
        }
        let count: Count = diesel::sql_query("SELECT count(*) AS rows FROM t")
            .get_result(&mut first)
            .unwrap();
        assert_eq!(count.rows, 2);
    }
}
