//! Mail: what we send (messages.rs) and how it leaves (sender.rs). Every mail is first queued in
//! the outbox inside the transaction that causes it, so a slow or absent SMTP server never blocks
//! or fails a request and no mail is lost.

pub mod messages;
pub mod sender;

use chrono::NaiveDateTime;
use diesel::QueryResult;
use serde::{Deserialize, Serialize};

use crate::db::DbConn;
use crate::models::outbox::{MAIL, Outbox};

/// A queued mail, stored as the outbox row's payload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// What kind of mail, for batching and for the log; never the recipient.
    pub kind: String,
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    /// A one-click unsubscribe URL (RFC 8058), for mail sent to subscribers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe: Option<String>,
    /// The public id of the story a mail is about (a decision), so that a mail written to a
    /// file can be deleted when the story is erased. Not part of the message itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story: Option<String>,
}

impl Mail {
    pub fn queue(&self, conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<()> {
        Outbox::publish(conn, MAIL, self, now)
    }

    /// Names the story the mail is about, so that erasing the story cancels it if it is still
    /// queued and deletes it if it was written to a file.
    pub fn about_story(self, public_id: &str) -> Self {
        Mail {
            story: Some(public_id.to_owned()),
            ..self
        }
    }

    /// The payload kept after delivery: the kind only, no address and no text.
    pub fn redacted(&self) -> String {
        serde_json::json!({ "kind": self.kind, "to": [], "subject": "", "body": "" }).to_string()
    }
}
