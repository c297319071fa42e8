//! The site in a real browser: runs the node tests in `tests/e2e` (playwright-core driving
//! Debian's chromium, axe-core, the Nu HTML Checker) against this build's binary, and fails when
//! they fail. What they need is installed here when missing, so `cargo test` works on a fresh
//! machine. Pages do not depend on the database backend, so this runs in the SQLite pass only.

use std::path::Path;
use std::process::Command;

fn run(command: &mut Command) {
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(status.success(), "{command:?} failed: {status}");
}

fn works(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Debian's chromium, Japanese fonts (without them screenshots show boxes) and a Java runtime (for
/// vnu) with apt-get, and the npm packages pinned in `package-lock.json` (without their install
/// scripts: vnu-jar's would download a Java runtime).
fn ensure_tools(e2e: &Path) {
    let mut packages = Vec::new();
    if !Path::new("/usr/bin/chromium").exists() {
        packages.push("chromium");
    }
    let japanese_fonts = Command::new("fc-list")
        .arg(":lang=ja")
        .output()
        .is_ok_and(|o| !o.stdout.is_empty());
    if !japanese_fonts {
        packages.push("fonts-noto-cjk");
    }
    if !works("java", "-version") {
        packages.push("default-jre-headless");
    }
    if !packages.is_empty() {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0"));
        let apt = |args: &[&str]| {
            let mut c = Command::new(if root { "apt-get" } else { "sudo" });
            if !root {
                c.arg("apt-get");
            }
            c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
            run(&mut c);
        };
        apt(&["update", "-qq"]);
        apt(&[&["install", "-y", "-qq"][..], &packages].concat());
    }
    let installed = e2e.join("node_modules/.package-lock.json");
    let stale = match (
        std::fs::metadata(&installed).and_then(|m| m.modified()),
        std::fs::metadata(e2e.join("package-lock.json")).and_then(|m| m.modified()),
    ) {
        (Ok(installed), Ok(wanted)) => installed < wanted,
        _ => true,
    };
    if stale {
        run(Command::new("npm")
            .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
            .current_dir(e2e));
    }
}

#[test]
fn journeys_accessibility_and_valid_html_in_a_real_browser() {
    if std::env::var_os("TEST_DATABASE_URL").is_some() {
        eprintln!("browser tests run in the SQLite pass");
        return;
    }
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e");
    ensure_tools(&e2e);
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
