//! The real `engawa serve` as a separate process, for tests that restart or kill it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::TestDatabase;

pub struct ServerProcess {
    child: Child,
    pub address: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Starts `engawa <args>` on port 0 against `db` and waits for its ready line.
    pub fn start(db: &TestDatabase, args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::launch(db, Command::new(env!("CARGO_BIN_EXE_engawa")), args, env)
    }

    /// The same, started by a shell with `umask` set first (e.g. the common `022`).
    pub fn start_with_umask(
        db: &TestDatabase,
        umask: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let mut shell = Command::new("sh");
        shell.args([
            "-c",
            r#"umask "$0" && exec "$@""#,
            umask,
            env!("CARGO_BIN_EXE_engawa"),
        ]);
        Self::launch(db, shell, args, env)
    }

    fn launch(
        db: &TestDatabase,
        mut command: Command,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        command
            .args(args)
            .env("DATABASE_URL", &db.url)
            .env("ENGAWA_DATA_DIR", db.data_dir())
            .env("ENGAWA_BIND", "127.0.0.1:0")
            .env("ENGAWA_CONFIG", "/dev/null")
            .env("ENGAWA_MIN_FILL_SECONDS", "0")
            .env("ENGAWA_METRICS_TOKEN", crate::helpers::METRICS_TOKEN)
            .stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("engawa starts");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // Logged before announced, so the log read after "ready" holds the ready line.
                let ready = line.split("engawa ready at ").nth(1).map(|rest| {
                    rest.split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned()
                });
                sink.lock().unwrap().push(line);
                if let Some(address) = ready {
                    let _ = tx.send(address);
                }
            }
        });
        let address = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(address) => address,
            Err(_) => panic!(
                "no ready line; the server said:\n{}",
                log.lock().unwrap().join("\n")
            ),
        };
        ServerProcess {
            child,
            address,
            log,
        }
    }

    /// The log once it holds `needle` (lines arrive through a pipe, a moment after the
    /// request they describe was answered), or as it is after `limit`.
    pub fn log_once_it_holds(&self, needle: &str, limit: Duration) -> String {
        let started = std::time::Instant::now();
        loop {
            let log = self.log();
            if log.contains(needle) || started.elapsed() > limit {
                return log;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything the server has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Sends SIGTERM and waits for the process to exit; returns how long that took.
    pub fn terminate(mut self) -> Duration {
        let started = std::time::Instant::now();
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        loop {
            if self.child.try_wait().expect("wait").is_some() {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server ignored SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops it at once, as a crash or `kill -9` would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
