//! The `engawa` binary as an operator runs it: import, and clear errors for a bad database.

use std::io::Write;

use crate::helpers::{
    TestDatabase, guide, run_cli, spawn_app, story, succeeded_saying, testing_postgres, with,
};
use serde_json::json;

fn write_file(dir: &std::path::Path, name: &str, lines: &[String]) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).unwrap();
    for line in lines {
        writeln!(file, "{line}").unwrap();
    }
    path
}

/// The one line the binary prints for a fatal error; there must be exactly one.
fn the_error_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("engawa: error:"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0]
}

#[tokio::test]
async fn import_adds_every_record_of_a_valid_file() {
    let app = spawn_app().await;
    let file = write_file(
        app.db.data_dir(),
        "ok.jsonl",
        &[
            guide("imported-guide", "取り込んだガイド", "published").to_string(),
            String::new(),
            with(
                story("mpxrtedxxxx2", "取り込んだ体験談", "approved"),
                "tags",
                json!(["取り込み"]),
            )
            .to_string(),
        ],
    );

    let out = app.cli(&["import", file.to_str().unwrap()]);
    succeeded_saying(
        &out,
        "imported 1 guide(s), 1 story(ies) and 0 synonym group(s)",
    );

    assert_eq!(
        app.get("/guides/imported-guide").await.text("h1"),
        "取り込んだガイド"
    );
    assert_eq!(
        app.get("/stories/mpxrtedxxxx2").await.text("h1"),
        "取り込んだ体験談"
    );
    let tag = app.get("/tags/%E5%8F%96%E3%82%8A%E8%BE%BC%E3%81%BF").await;
    assert_eq!(tag.card_titles(), vec!["取り込んだ体験談"]);
}

#[tokio::test]
async fn import_rejects_a_file_with_one_bad_line_naming_it_and_imports_nothing() {
    let app = spawn_app().await;
    let file = write_file(
        app.db.data_dir(),
        "bad.jsonl",
        &[
            guide("first-guide", "一つ目", "published").to_string(),
            story("gxxdstxryxx2", "正しい体験談", "approved").to_string(),
            with(
                story("badstxryxxx2", "悪い体験談", "approved"),
                "how_met",
                json!("office"),
            )
            .to_string(),
            guide("last-guide", "最後", "published").to_string(),
        ],
    );

    let out = app.cli(&["import", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("bad.jsonl:line 3:"), "{stderr}");
    assert!(stderr.contains("office"), "{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    crate::helpers::assert_no_guides(&app).await;
    let stories = app.shown("/stories").await;
    assert_eq!(
        stories.text(".result-count"),
        "0件の体験談",
        "/stories counts stories of the refused file"
    );
}

#[tokio::test]
async fn import_refuses_a_slug_that_already_exists_and_keeps_what_was_there() {
    let app = spawn_app().await;
    app.seed(&[guide("taken", "元のガイド", "published")]);
    let file = write_file(
        app.db.data_dir(),
        "dup.jsonl",
        &[
            story("newstxryxxx2", "新しい体験談", "approved").to_string(),
            guide("taken", "上書きしようとしたガイド", "published").to_string(),
        ],
    );

    let out = app.cli(&["import", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("line 2: a guide with slug \"taken\" already exists"),
        "{stderr}"
    );
    assert_eq!(app.get("/guides/taken").await.text("h1"), "元のガイド");
    assert_eq!(
        app.get("/stories/newstxryxxx2").await.status,
        404,
        "the valid line was not kept"
    );
}

#[test]
fn an_unreachable_postgres_server_gives_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let out = run_cli(
        "postgres://engawa:secret@127.0.0.1:1/engawa",
        dir.path(),
        &["migrate"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let line = the_error_line(&stderr);
    assert!(
        line.contains("cannot connect to PostgreSQL at postgres://engawa@127.0.0.1:1/engawa"),
        "{line}"
    );
    assert!(line.contains("Connection refused"), "{line}");
    assert!(!stderr.contains("secret"), "the password leaked: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_missing_postgres_database_or_role_is_named() {
    let db = TestDatabase::new();
    if !db.is_postgres() {
        return; // Needs a PostgreSQL server; runs in the PostgreSQL pass of CI.
    }
    let missing_db = db
        .url
        .rsplit_once('/')
        .map(|(base, _)| format!("{base}/engawa_no_such_db"))
        .unwrap();
    let out = run_cli(&missing_db, db.data_dir(), &["migrate"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("database \"engawa_no_such_db\" does not exist"),
        "{stderr}"
    );

    let missing_role = missing_db.replacen("://", "://engawa_no_such_role:pw@", 1);
    let missing_role = if missing_role.matches('@').count() > 1 {
        // The URL already had a user; keep only ours.
        let (scheme, rest) = missing_role.split_once("://").unwrap();
        let host = rest.rsplit_once('@').unwrap().1;
        format!("{scheme}://engawa_no_such_role:pw@{host}")
    } else {
        missing_role
    };
    let out = run_cli(&missing_role, db.data_dir(), &["migrate"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("engawa_no_such_role"), "{stderr}");
    assert!(!stderr.contains(":pw@"), "the password leaked: {stderr}");
}

#[test]
fn an_unwritable_sqlite_location_is_named() {
    let out = run_cli(
        "/proc/engawa/engawa.sqlite3",
        std::path::Path::new("/proc/engawa"),
        &["migrate"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("/proc/engawa"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Starts a throwaway PostgreSQL cluster that demands a password, runs `engawa migrate` with a
/// wrong one, and expects the server's own reason. Needs the server binaries (the PostgreSQL pass
/// of CI has them); as root, the cluster runs as the `postgres` user.
#[test]
fn a_wrong_postgres_password_is_named() {
    if testing_postgres() {
        wrong_password_against_a_fresh_cluster();
    }
}

fn wrong_password_against_a_fresh_cluster() {
    use std::process::Command;
    let bin = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql")
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .find(|p| p.join("initdb").exists())
        .expect("initdb");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap().to_owned();
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let run = |program: &str, args: &[&str]| {
        let program = bin.join(program);
        let mut cmd = if is_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let out = cmd.args(args).output().expect("PostgreSQL tool runs");
        assert!(
            out.status.success(),
            "{program:?} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    if is_root {
        Command::new("chown")
            .args(["postgres", &root])
            .status()
            .unwrap();
    }
    std::fs::write(dir.path().join("pw"), "right-password\n").unwrap();
    let data = format!("{root}/data");
    run(
        "initdb",
        &[
            "-D",
            &data,
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            &format!("--pwfile={root}/pw"),
        ],
    );
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    run(
        "pg_ctl",
        &[
            "-D",
            &data,
            "-o",
            &format!("-p {port} -k {root} -c listen_addresses=127.0.0.1"),
            "-l",
            &format!("{root}/log"),
            "-w",
            "start",
        ],
    );

    let out = run_cli(
        &format!("postgres://postgres:wrong-password@127.0.0.1:{port}/postgres"),
        dir.path(),
        &["migrate"],
    );
    run("pg_ctl", &["-D", &data, "-m", "immediate", "stop"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        the_error_line(&stderr).contains("password authentication failed for user \"postgres\""),
        "{stderr}"
    );
    assert!(
        !stderr.contains("wrong-password"),
        "the password leaked: {stderr}"
    );
}

#[tokio::test]
async fn serve_demo_logs_one_ready_line_and_serves_the_demo_site() {
    let db = TestDatabase::new();
    let server = crate::process::ServerProcess::start(&db, &["serve", "--demo"], &[]);
    assert!(
        server.address.starts_with("http://127.0.0.1:"),
        "{}",
        server.address
    );
    assert!(
        server.log().contains("demo content added"),
        "{}",
        server.log()
    );
    assert_eq!(server.log().matches("engawa ready at").count(), 1);

    let home = reqwest::get(&server.address).await.unwrap();
    assert_eq!(home.status(), 200);
    let body = home.text().await.unwrap();
    assert!(
        body.contains("読書会で出会って五年"),
        "the demo stories are shown"
    );
    assert!(
        body.contains("セカンドパートナーを考え始めたら"),
        "the demo guides are shown"
    );
}
