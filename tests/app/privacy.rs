//! No client address is stored anywhere: not in the database, not in the logs.

use std::process::{Command, Stdio};
use std::time::Duration;

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
    let known = reader
        .submit("/stories/status", "/stories/status", &[("code", &code)])
        .await;
    assert_eq!(known.status, 200, "status of a known code: {}", known.body);
    assert!(
        known
            .texts(".story-facts dd")
            .contains(&"住所のない話".to_owned()),
        "the status page does not show the story: {}",
        known.body
    );
    let unknown = reader
        .submit(
            "/stories/status",
            "/stories/status",
            &[("code", "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ")],
        )
        .await;
    assert_eq!(
        unknown.status, 404,
        "status of an unknown code: {}",
        unknown.body
    );
    assert_eq!(
        unknown.text(".error-summary p"),
        "この受付番号の体験談は見つかりませんでした。番号をもう一度ご確認ください。",
        "the unknown code is not answered as unknown"
    );
    let moderator = Browser::from_source(&address, source);
    let refused = moderator
        .submit(
            "/mod/login",
            "/mod/login",
            &[
                ("email", "mod@engawa.test"),
                ("password", "wrong-password!"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "a wrong password: {}", refused.body);
    assert_eq!(
        refused.text(".error-summary"),
        "メールアドレスかパスワードが正しくありません。",
        "a wrong password is not refused as one"
    );
    moderator
        .login("mod@engawa.test", "moderator-password")
        .await;
    let queue = moderator.get("/mod").await;
    assert_eq!(queue.status, 200, "/mod: {}", queue.body);
    let public_id = queue
        .attr("table.queue tbody a.story-title", "href")
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    moderator.approve(&public_id).await;
    let report = reader
        .submit(
            &format!("/stories/{public_id}/report"),
            &format!("/stories/{public_id}/report"),
            &[("reason", "spam")],
        )
        .await;
    assert_eq!(report.status, 303, "the report: {}", report.body);
    assert_eq!(report.location.as_deref(), Some("/stories/reported"));
    assert_eq!(
        reader.get(&format!("/stories/{public_id}")).await.status,
        200
    );

    // The story page was the last request: once its line is in, every line before it is too.
    let log = server.log_once_it_holds("GET /stories/{public_id} 200", Duration::from_secs(10));
    server.kill();
    assert!(
        log.contains("GET /stories/"),
        "the request log was captured:\n{log}"
    );
    for line in [
        "GET /stories/{public_id} 200",
        "POST /mod/login 422",
        "POST /stories/{public_id}/report 303",
    ] {
        assert!(log.contains(line), "the log has no {line:?}:\n{log}");
    }
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
