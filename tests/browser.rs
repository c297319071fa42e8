//! The site in a real browser: runs the node tests in `tests/e2e` (playwright-core driving
//! Debian's chromium, axe-core, the Nu HTML Checker) against this build's binary, and fails when
//! they fail. What they need is installed first when missing (`tests/e2e/install.sh`), so
//! `cargo test` works on a fresh machine. Pages do not depend on the database backend, so CI
//! runs this in the SQLite pass only; asked to run on PostgreSQL it fails rather than pretend.

use std::path::Path;
use std::process::Command;

fn run(command: &mut Command) {
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(status.success(), "{command:?} failed: {status}");
}

#[test]
fn journeys_accessibility_and_valid_html_in_a_real_browser() {
    assert!(
        std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.is_empty())
            || std::env::var_os("TEST_DATABASE_URL").is_none(),
        "the browser tests run the binary on its SQLite default; run them without TEST_DATABASE_URL"
    );
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e");
    run(&mut Command::new(e2e.join("install.sh")));
    run(Command::new("node")
        .args([
            "--test",
            "--test-concurrency=1",
            "--test-reporter=spec",
            "journeys.test.mjs",
            "quality.test.mjs",
        ])
        .current_dir(&e2e)
        .env("ENGAWA_BIN", env!("CARGO_BIN_EXE_engawa")));
}
