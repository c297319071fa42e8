//! Delivers queued mail: through SMTP when `smtp_url` is set, otherwise as .eml files in
//! `data/outbox/`. Failed deliveries are retried with a doubling delay, capped at an hour.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{FileTransport, Message, SmtpTransport, Transport};

use super::Mail;
use crate::config::Settings;
use crate::db::DbPool;
use crate::models::now;
use crate::models::outbox::Outbox;

/// How often the worker looks for due mail.
pub const POLL: Duration = Duration::from_secs(1);
/// How long a worker holds a mail before another may try it.
const LEASE: Duration = Duration::from_secs(120);
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

    fn send(&self, message: &Message) -> anyhow::Result<()> {
        match self {
            Sender::Smtp(t) => t.send(message).map(|_| ()).map_err(anyhow::Error::from),
            Sender::Files(dir) => FileTransport::new(dir)
                .send(message)
                .map(|_| ())
                .map_err(anyhow::Error::from),
        }
    }
}

fn build(mail: &Mail, from: &Mailbox) -> anyhow::Result<Message> {
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
    builder
        .body(mail.body.clone())
        .context("cannot build the message")
}

fn retry_delay(base: Duration, attempts: i32) -> Duration {
    let factor = 2u32.saturating_pow(attempts.clamp(0, 16) as u32 - 1);
    base.saturating_mul(factor).min(MAX_RETRY)
}

/// Sends every due mail once; returns how many were delivered.
pub fn deliver_due(pool: &DbPool, sender: &Sender, settings: &Settings) -> anyhow::Result<usize> {
    let from: Mailbox = settings
        .mail_from
        .parse()
        .with_context(|| format!("ENGAWA_MAIL_FROM is not an address: {}", settings.mail_from))?;
    let mut conn = pool.get()?;
    let due = Outbox::due_mail(&mut conn, now(), 20)?;
    let mut delivered = 0;
    for row in due {
        let lease = now() + chrono::Duration::from_std(LEASE).unwrap_or_default();
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
                sender.send(&build(&mail, &from)?).map(|_| mail)
            });
        match result {
            Ok(mail) => {
                Outbox::delivered(&mut conn, row.id, &mail.redacted(), now())?;
                tracing::info!(id = row.id, kind = %mail.kind, "mail delivered");
                delivered += 1;
            }
            Err(e) => {
                let delay = retry_delay(settings.mail_retry, attempts);
                let next = now() + chrono::Duration::from_std(delay).unwrap_or_default();
                let error = format!("{e:#}");
                tracing::warn!(id = row.id, attempts, retry_in_s = delay.as_secs(), error = %error, "mail not delivered; will retry");
                Outbox::failed(&mut conn, row.id, attempts, next, &error)?;
            }
        }
    }
    Ok(delivered)
}

/// Runs the delivery loop as a task of the current Tokio runtime, so it ends with the server's.
pub fn spawn(pool: DbPool, settings: Settings) -> anyhow::Result<()> {
    let sender = std::sync::Arc::new(Sender::from_settings(&settings)?);
    tokio::spawn(async move {
        loop {
            let (pool, sender, settings) = (pool.clone(), sender.clone(), settings.clone());
            match actix_web::web::block(move || deliver_due(&pool, &sender, &settings)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(error = format!("{e:#}"), "mail delivery failed"),
                Err(e) => tracing::error!(error = %e, "mail delivery task failed"),
            }
            tokio::time::sleep(POLL).await;
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let formatted = String::from_utf8(build(&mail, &from).unwrap().formatted()).unwrap();
        assert!(formatted.contains("To: a@example.jp"));
        assert!(formatted.contains("Subject: =?utf-8?"));
        assert!(formatted.contains("Content-Type: text/plain; charset=utf-8"));
    }
}
