//! migrations/sqlite and migrations/postgres must produce the same schema.

use std::collections::BTreeSet;

use diesel::sql_types::{Integer, Text};
use diesel::{QueryableByName, RunQueryDsl};
use engawa::db::{self, DbConn};

use crate::helpers::TestDatabase;

#[derive(QueryableByName, Debug)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Integer)]
    not_null: i32,
}

#[derive(QueryableByName)]
struct Index {
    #[diesel(sql_type = Text)]
    name: String,
}

/// (table, column, type, not null) and index names, in one vocabulary for both backends.
type Shape = (BTreeSet<(String, String, String, bool)>, BTreeSet<String>);

fn canonical_type(t: &str) -> String {
    match t.to_lowercase().as_str() {
        "integer" => "integer",
        "text" => "text",
        "boolean" => "boolean",
        "blob" | "bytea" => "bytes",
        "timestamp" | "timestamp without time zone" => "timestamp",
        other => return other.to_owned(),
    }
    .to_owned()
}

fn shape(conn: &mut DbConn) -> Shape {
    let (columns_sql, indexes_sql) = match conn {
        DbConn::Sqlite(_) => (
            "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type,
                    CAST(p.\"notnull\" AS INTEGER) AS not_null
             FROM sqlite_master m JOIN pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
               AND m.name <> '__diesel_schema_migrations'",
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
        ),
        DbConn::Postgres(_) => (
            "SELECT table_name::text AS table_name, column_name::text AS column_name,
                    data_type::text AS data_type,
                    CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END AS not_null
             FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
            "SELECT indexname::text AS name FROM pg_indexes
             WHERE schemaname = 'public' AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key'",
        ),
    };
    let columns: Vec<Column> = diesel::sql_query(columns_sql).load(conn).expect("columns");
    let indexes: Vec<Index> = diesel::sql_query(indexes_sql).load(conn).expect("indexes");
    (
        columns
            .into_iter()
            .map(|c| {
                (
                    c.table_name,
                    c.column_name,
                    canonical_type(&c.data_type),
                    c.not_null == 1,
                )
            })
            .collect(),
        indexes.into_iter().map(|i| i.name).collect(),
    )
}

#[test]
fn both_backends_have_the_same_schema() {
    let pg = TestDatabase::new();
    if !pg.is_postgres() {
        return; // Needs a PostgreSQL server; runs in the PostgreSQL pass of CI.
    }
    let sqlite_dir = tempfile::tempdir().unwrap();
    let sqlite_url = sqlite_dir.path().join("schema.sqlite3");
    let sqlite_pool = db::connect(sqlite_url.to_str().unwrap()).expect("sqlite");
    let pg_pool = db::connect(&pg.url).expect("postgres");

    let (sqlite_columns, sqlite_indexes) = shape(&mut sqlite_pool.get().unwrap());
    let (pg_columns, pg_indexes) = shape(&mut pg_pool.get().unwrap());
    assert!(!sqlite_columns.is_empty());
    let only_sqlite: Vec<_> = sqlite_columns.difference(&pg_columns).collect();
    let only_pg: Vec<_> = pg_columns.difference(&sqlite_columns).collect();
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "only in SQLite: {only_sqlite:#?}\nonly in PostgreSQL: {only_pg:#?}"
    );
    assert_eq!(sqlite_indexes, pg_indexes);
}

#[test]
fn both_migration_folders_hold_the_same_migrations() {
    let names = |backend: &str| -> BTreeSet<String> {
        std::fs::read_dir(format!(
            "{}/migrations/{backend}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
    };
    assert_eq!(names("sqlite"), names("postgres"));
}

#[derive(QueryableByName)]
struct Plan {
    #[diesel(sql_type = Text)]
    detail: String,
}

/// Every node asks the outbox, several times a second, for the newest content event and for the
/// content events after the one it applied. Each must be a lookup in `outbox_by_topic`, never a
/// walk over every event of a topic (at a million stories that kept an idle node's core busy).
#[test]
fn the_outbox_questions_nodes_ask_all_the_time_are_index_lookups() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("plan.sqlite3");
    let pool = db::connect(url.to_str().unwrap()).expect("sqlite");
    let conn = &mut pool.get().unwrap();
    let plan = |conn: &mut DbConn, sql: &str| -> String {
        diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .load::<Plan>(conn)
            .expect("a plan")
            .into_iter()
            .map(|p| p.detail)
            .collect::<Vec<_>>()
            .join("; ")
    };
    // As `Outbox::max_content_id` asks, topic by topic.
    let newest = plan(
        conn,
        "SELECT max(id) FROM outbox WHERE topic = 'story.published'",
    );
    assert!(
        newest.contains("COVERING INDEX outbox_by_topic (topic=?)"),
        "{newest}"
    );
    // As `Outbox::content_events_after` asks.
    let after = plan(
        conn,
        "SELECT * FROM outbox WHERE id > 1000 AND topic IN ('story.published', \
         'story.removed', 'guide.published', 'guide.removed', 'search.synonyms') \
         ORDER BY id LIMIT 500",
    );
    assert!(
        after.contains("INDEX outbox_by_topic (topic=? AND id>?)")
            || after.starts_with("SEARCH outbox USING INTEGER PRIMARY KEY (rowid>?)"),
        "{after}"
    );
}
