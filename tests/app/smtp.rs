//! A real SMTP server for tests (mailin-embedded on a TCP port), keeping what it receives.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailin_embedded::{Handler, Response, Server, SslConfig, response};

/// A mail as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    /// The message as it came over the wire, headers included.
    pub raw: String,
}

#[derive(Clone, Default)]
struct Collector {
    inbox: Arc<Mutex<Vec<Received>>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Collector {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let parsed = mail_parser::MessageParser::default().parse(&self.data);
        let (subject, body) = parsed.map_or_else(Default::default, |m| {
            (
                m.subject().unwrap_or_default().to_owned(),
                m.body_text(0).map(|b| b.into_owned()).unwrap_or_default(),
            )
        });
        let raw = String::from_utf8_lossy(&self.data).into_owned();
        self.inbox.lock().unwrap().push(Received {
            to: self.to.clone(),
            subject,
            body,
            raw,
        });
        response::OK
    }
}

/// The first address starting with `prefix` in a mail body, as a path on
/// `https://engawa.example`.
pub fn link(body: &str, prefix: &str) -> String {
    let start = body
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {body}"));
    let url: String = body[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    url.trim_start_matches("https://engawa.example").to_owned()
}

/// A port on loopback that nothing listens on (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct SmtpServer {
    inbox: Arc<Mutex<Vec<Received>>>,
}

impl SmtpServer {
    /// Starts a server on `port`; it runs until the test process ends.
    pub fn start(port: u16) -> Self {
        let collector = Collector::default();
        let inbox = collector.inbox.clone();
        let mut server = Server::new(collector);
        server
            .with_name("smtp.engawa.test")
            .with_ssl(SslConfig::None)
            .unwrap()
            .with_addr(("127.0.0.1", port))
            .unwrap();
        std::thread::spawn(move || {
            if let Err(e) = server.serve() {
                eprintln!("test SMTP server stopped: {e}");
            }
        });
        // Wait until it accepts connections.
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the SMTP server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        SmtpServer { inbox }
    }

    pub fn received(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }

    /// Waits until `count` mails have arrived, and returns them.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        self.wait_for_mail(count, |_| true).await
    }

    /// Waits until `count` mails to `address` alone have arrived, and returns those.
    pub async fn wait_for_mail_to(&self, address: &str, count: usize) -> Vec<Received> {
        self.wait_for_mail(count, |m| m.to == [address]).await
    }

    async fn wait_for_mail(
        &self,
        count: usize,
        which: impl Fn(&Received) -> bool,
    ) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let got: Vec<Received> = self.received().into_iter().filter(|m| which(m)).collect();
            if got.len() >= count {
                return got;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "expected {count} mails, got {got:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
