//! No client address is stored anywhere: not in the database, not in the logs.

use std::process::{Command, Stdio};

use crate::helpers::{Browser, TestDatabase, as_refs, database_text, story_fields};
use crate::process::ServerProcess;

/// Every client in this test connects from this loopback address, which appears nowhere else.
const CLIENT: &str = "127.0.0.3";

#[tokio::test]
async fn no_client_address_reaches_the_database_or_the_logs() {
    let db = TestDatabase::new();
    // A staff account, made with the CLI before the server starts.
    let mut add = Command::new(env!("CARGO_BIN_EXE_engawa"))
        .args([
            "user",
            "add",
            "--email",
            "mod@engawa.test",
            "--role",
            "moderator",
        ])
        .env("DATABASE_URL", &db.url)
        .env("ENGAWA_DATA_DIR", db.data_dir())
        .env("ENGAWA_CONFIG", "/dev/null")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut add.stdin.take().unwrap(), b"moderator-password\n").unwrap();
    assert!(add.wait().unwrap().success());

    let server = ServerProcess::start(&db, &["serve"], &[("ENGAWA_LOG", "debug")]);
    let address = server.address.clone();

    let source = Some(CLIENT.parse().unwrap());
    let reader = Browser::from_source(&address, source);
    let code = reader
        .send_story(&as_refs(&story_fields("住所のない話")))
        .await;
    reader
        .submit("/stories/status", "/stories/status", &[("code", &code)])
        .await;
    reader
        .submit(
            "/stories/status",
            "/stories/status",
            &[("code", "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ")],
        )
        .await;
    let moderator = Browser::from_source(&address, source);
    moderator
        .submit(
            "/mod/login",
            "/mod/login",
            &[
                ("email", "mod@engawa.test"),
                ("password", "wrong-password!"),
            ],
        )
        .await;
    moderator
        .login("mod@engawa.test", "moderator-password")
        .await;
    let queue = moderator.get("/mod").await;
    let public_id = queue
        .attr("table.queue tbody a.story-title", "href")
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    moderator.approve(&public_id).await;
    reader
        .submit(
            &format!("/stories/{public_id}/report"),
            &format!("/stories/{public_id}/report"),
            &[("reason", "spam")],
        )
        .await;
    assert_eq!(
        reader.get(&format!("/stories/{public_id}")).await.status,
        200
    );

    let log = server.log();
    server.kill();
    assert!(
        log.contains("GET /stories/"),
        "the request log was captured:\n{log}"
    );
    assert!(
        !log.contains(CLIENT),
        "the log holds the client address:\n{log}"
    );
    let stored = database_text(&db);
    assert!(stored.contains("住所のない話"), "the database dump is real");
    assert!(
        !stored.contains(CLIENT),
        "the database holds the client address"
    );
}
