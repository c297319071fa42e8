//! Delivers queued mail: through SMTP when `smtp_url` is set, otherwise as .eml files in
//! `data/outbox/` (readable only by the site's user, bodies in plain UTF-8, a mail about a story
//! named after it, so that erasing the story deletes them: `crate::erasure`). Failed deliveries
//! are retried with a doubling delay, capped at an hour, and dropped with their address after
//! `mail_give_up`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::{Message, SmtpTransport, Transport};

use super::Mail;
use crate::config::Settings;
use crate::db::DbPool;
use crate::models::erasure::{ErasureQueue, Held};
use crate::models::now;
use crate::models::outbox::Outbox;

/// How often the worker looks for due mail.
pub const POLL: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(3600);

pub enum Sender {
    Smtp(Box<SmtpTransport>),
    Files(PathBuf),
}

impl Sender {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        match &settings.smtp_url {
            Some(url) => {
                let transport = SmtpTransport::from_url(url)
                    .context("invalid ENGAWA_SMTP_URL")?
                    .timeout(Some(Duration::from_secs(15)))
                    .build();
                Ok(Sender::Smtp(Box::new(transport)))
            }
            None => {
                let dir = settings.data_dir.join("outbox");
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create the mail folder {}", dir.display()))?;
                Ok(Sender::Files(dir))
            }
        }
    }

    fn send(&self, mail: &Mail, from: &Mailbox, row_id: i32) -> anyhow::Result<()> {
        match self {
            Sender::Smtp(t) => t
                .send(&build(mail, from, false)?)
                .map(|_| ())
                .map_err(anyhow::Error::from),
            Sender::Files(dir) => {
                use std::io::Write;
                use std::os::unix::fs::OpenOptionsExt;
                // Written aside and renamed, so that a reader never sees half a mail.
                let name = file_name(mail, row_id);
                let partial = dir.join(format!(".{name}.partial"));
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .open(&partial)
                    .with_context(|| format!("cannot write {}", partial.display()))?;
                file.write_all(&build(mail, from, true)?.formatted())?;
                file.sync_all()?;
                std::fs::rename(&partial, dir.join(name))?;
                Ok(())
            }
        }
    }
}

/// The file a mail is written to: named after the story it is about, if any (`story-{id}-`).
pub fn file_name(mail: &Mail, row_id: i32) -> String {
    match &mail.story {
        Some(public_id) => format!("story-{public_id}-{row_id}.eml"),
        None => format!("{row_id}.eml"),
    }
}

/// `eight_bit` writes the body as plain UTF-8 (for files, which people and the erasure read);
/// over SMTP lettre picks an encoding every server takes.
fn build(mail: &Mail, from: &Mailbox, eight_bit: bool) -> anyhow::Result<Message> {
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN);
    for to in &mail.to {
        builder = builder.to(to
            .parse()
            .with_context(|| "a queued recipient is not an address")?);
    }
    if let Some(url) = &mail.unsubscribe {
        use lettre::message::header::{HeaderName, HeaderValue};
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ));
    }
    let body = if eight_bit {
        // lettre would choose base64 for Japanese text; a file is read by people and by the
        // erasure, so it keeps the text as it is (our lines are short, no NUL: valid 8bit).
        let text = mail.body.replace("\r\n", "\n").replace('\n', "\r\n");
        Body::dangerous_pre_encoded(text.into_bytes(), ContentTransferEncoding::EightBit)
    } else {
        Body::new(mail.body.clone())
    };
    builder.body(body).context("cannot build the message")
}

/// An SMTP server's answer often quotes the recipient ("550 <x@example.jp>: no such user");
/// neither the log nor the outbox row may keep it.
fn without_addresses(error: &str) -> String {
    static ADDRESS: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"[^\s<>()\[\]\x22',;:]+@[^\s<>()\[\]\x22',;:]+").expect("valid pattern")
    });
    ADDRESS.replace_all(error, "(address)").into_owned()
}

fn retry_delay(base: Duration, attempts: i32) -> Duration {
    let factor = 2u32.saturating_pow(attempts.clamp(0, 16) as u32 - 1);
    base.saturating_mul(factor).min(MAX_RETRY)
}

/// After a mail to a submitter has left (or been given up), its row no longer holds the address,
/// but the database files still may: queue their clean-up (`crate::erasure`).
fn clean_up_after(conn: &mut crate::db::DbConn, kind: &str) -> diesel::QueryResult<()> {
    if kind == super::messages::DECISION {
        ErasureQueue::request(conn, Held::Address, None)?;
    }
    Ok(())
}

/// Sends every due mail once; returns how many were delivered.
pub fn deliver_due(pool: &DbPool, sender: &Sender, settings: &Settings) -> anyhow::Result<usize> {
    let from: Mailbox = settings
        .mail_from
        .parse()
        .with_context(|| format!("ENGAWA_MAIL_FROM is not an address: {}", settings.mail_from))?;
    let give_up =
        chrono::Duration::from_std(settings.mail_give_up).unwrap_or(chrono::Duration::MAX);
    let mut conn = pool.get()?;
    let due = Outbox::due_mail(&mut conn, now(), 20)?;
    let mut delivered = 0;
    for row in due {
        let lease = now() + chrono::Duration::from_std(settings.mail_lease).unwrap_or_default();
        if !Outbox::claim(&mut conn, &row, lease)? {
            continue;
        }
        let attempts = row.attempts + 1;
        let result = serde_json::from_str::<Mail>(&row.payload)
            .context("unreadable mail payload")
            .and_then(|mail| {
                if mail.to.is_empty() {
                    return Ok(mail);
                }
                sender.send(&mail, &from, row.id).map(|_| mail)
            });
        match result {
            Ok(mail) => {
                crate::db::write_transaction(&mut conn, |conn| {
                    Outbox::delivered(conn, row.id, &mail.redacted(), now())?;
                    clean_up_after(conn, &mail.kind)
                })?;
                tracing::info!(id = row.id, kind = %mail.kind, "mail delivered");
                delivered += 1;
            }
            Err(e) if now() - row.created_at >= give_up => {
                let kind = serde_json::from_str::<Mail>(&row.payload)
                    .map_or_else(|_| String::new(), |m| m.kind);
                let redacted = Mail {
                    kind: kind.clone(),
                    ..Default::default()
                }
                .redacted();
                crate::db::write_transaction(&mut conn, |conn| {
                    Outbox::dropped(conn, row.id, &redacted, now())?;
                    clean_up_after(conn, &kind)
                })?;
                tracing::warn!(id = row.id, attempts, kind = %kind, error = %without_addresses(&format!("{e:#}")), "mail dropped with its address: not deliverable within the give-up time");
            }
            Err(e) => {
                let delay = retry_delay(settings.mail_retry, attempts);
                let next = now() + chrono::Duration::from_std(delay).unwrap_or_default();
                let error = without_addresses(&format!("{e:#}"));
                tracing::warn!(id = row.id, attempts, retry_in_s = delay.as_secs(), error = %error, "mail not delivered; will retry");
                Outbox::failed(&mut conn, row.id, attempts, next, &error)?;
            }
        }
    }
    Ok(delivered)
}

/// Runs the delivery loop as a task of the current Tokio runtime, so it ends with the server's.
pub fn spawn(
    pool: DbPool,
    settings: Settings,
    passes: std::sync::Arc<crate::metrics::WorkerPasses>,
) -> anyhow::Result<()> {
    let sender = std::sync::Arc::new(Sender::from_settings(&settings)?);
    tokio::spawn(async move {
        loop {
            let (pool, sender, settings) = (pool.clone(), sender.clone(), settings.clone());
            match actix_web::web::block(move || deliver_due(&pool, &sender, &settings)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(error = format!("{e:#}"), "mail delivery failed"),
                Err(e) => tracing::error!(error = %e, "mail delivery task failed"),
            }
            passes.finished(crate::metrics::Worker::Mail);
            tokio::time::sleep(POLL).await;
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_errors_lose_their_addresses() {
        assert_eq!(
            without_addresses(
                "permanent error (550): 5.1.1 <hanako.y+x@example.jp>: Recipient address rejected"
            ),
            "permanent error (550): 5.1.1 <(address)>: Recipient address rejected"
        );
        assert_eq!(
            without_addresses("connection refused"),
            "connection refused"
        );
    }

    #[test]
    fn retries_back_off_and_stop_growing() {
        let base = Duration::from_secs(60);
        assert_eq!(retry_delay(base, 1), Duration::from_secs(60));
        assert_eq!(retry_delay(base, 2), Duration::from_secs(120));
        assert_eq!(retry_delay(base, 3), Duration::from_secs(240));
        assert_eq!(retry_delay(base, 30), MAX_RETRY);
    }

    #[test]
    fn a_message_carries_japanese_subject_and_body() {
        let mail = super::super::messages::story_approved(
            "a@example.jp",
            "https://engawa.example/stories/x",
        );
        let from: Mailbox = "縁側 <no-reply@engawa.example>".parse().unwrap();
        let formatted = String::from_utf8(build(&mail, &from, false).unwrap().formatted()).unwrap();
        assert!(formatted.contains("To: a@example.jp"));
        assert!(formatted.contains("Subject: =?utf-8?"));
        assert!(formatted.contains("Content-Type: text/plain; charset=utf-8"));
    }
}
