//! Email subscriptions: double opt-in, weekly digests, one-click unsubscribe (which deletes the
//! address). Every mail goes through the outbox; links are signed with the site's key.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{guides, stories, subscriptions, tags};
use crate::domain::{Email, TagName};
use crate::mail::messages::{self, DigestItem};
use crate::models::erasure::{ErasureQueue, Held};
use crate::models::tag::Tag;
use crate::models::visibility::{cooled_stories, published_guides};
use crate::secrets::SecretKey;

/// How long a subscription request waits for its confirmation before the address is deleted.
pub const UNCONFIRMED_DAYS: i64 = 7;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subscriptions)]
pub struct Subscription {
    pub id: i32,
    pub email: String,
    pub want_guides: bool,
    pub want_stories: bool,
    pub tag: Option<String>,
    pub created_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
    pub digest_until: Option<NaiveDateTime>,
}

/// What a reader wants to hear about.
#[derive(Debug, Clone)]
pub struct Topics {
    pub guides: bool,
    pub stories: bool,
    pub tag: Option<TagName>,
}

const CONFIRM: &str = "subscription-confirm";
const UNSUBSCRIBE: &str = "unsubscribe";

pub fn confirm_url(base: &str, key: &SecretKey, id: i32) -> String {
    format!(
        "{base}/subscribe/confirm?id={id}&sig={}",
        key.sign(CONFIRM, id.to_string().as_bytes())
    )
}

pub fn unsubscribe_url(base: &str, key: &SecretKey, id: i32) -> String {
    format!(
        "{base}/unsubscribe?id={id}&sig={}",
        key.sign(UNSUBSCRIBE, id.to_string().as_bytes())
    )
}

pub fn confirm_signature_ok(key: &SecretKey, id: i32, sig: &str) -> bool {
    key.verify(CONFIRM, id.to_string().as_bytes(), sig)
}

pub fn unsubscribe_signature_ok(key: &SecretKey, id: i32, sig: &str) -> bool {
    key.verify(UNSUBSCRIBE, id.to_string().as_bytes(), sig)
}

impl Subscription {
    /// Records a request and queues the confirmation mail. An address that is already confirmed
    /// is left as it is and gets nothing, so nobody can learn or change someone else's settings.
    pub fn request(
        conn: &mut DbConn,
        email: &Email,
        topics: &Topics,
        base: &str,
        key: &SecretKey,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        crate::db::write_transaction(conn, |conn| {
            let existing: Option<Subscription> = subscriptions::table
                .filter(subscriptions::email.eq(email.as_ref()))
                .select(Subscription::as_select())
                .first(conn)
                .optional()?;
            let tag = topics.tag.as_ref().map(|t| t.as_ref().to_owned());
            let id = match existing {
                Some(s) if s.confirmed_at.is_some() => return Ok(()),
                Some(s) => {
                    diesel::update(subscriptions::table.find(s.id))
                        .set((
                            subscriptions::want_guides.eq(topics.guides),
                            subscriptions::want_stories.eq(topics.stories),
                            subscriptions::tag.eq(&tag),
                        ))
                        .execute(conn)?;
                    s.id
                }
                None => diesel::insert_into(subscriptions::table)
                    .values((
                        subscriptions::email.eq(email.as_ref()),
                        subscriptions::want_guides.eq(topics.guides),
                        subscriptions::want_stories.eq(topics.stories),
                        subscriptions::tag.eq(&tag),
                        subscriptions::created_at.eq(now),
                    ))
                    .returning(subscriptions::id)
                    .get_result(conn)?,
            };
            messages::confirm_subscription(
                email.as_ref(),
                &confirm_url(base, key, id),
                UNCONFIRMED_DAYS,
            )
            .queue(conn, now)
        })
    }

    /// Confirms a subscription; digests cover what is published from now on (give or take
    /// [`SETTLE`]).
    pub fn confirm(conn: &mut DbConn, id: i32, now: NaiveDateTime) -> QueryResult<bool> {
        let changed = diesel::update(
            subscriptions::table
                .find(id)
                .filter(subscriptions::confirmed_at.is_null()),
        )
        .set((
            subscriptions::confirmed_at.eq(now),
            subscriptions::digest_until.eq(now),
        ))
        .execute(conn)?
            == 1;
        // Confirming twice is fine; confirming a deleted subscription is not.
        Ok(changed || Self::find(conn, id)?.is_some())
    }

    /// Deletes the requests never confirmed within `UNCONFIRMED_DAYS`, and with them the
    /// addresses (someone may have typed another person's).
    pub fn forget_unconfirmed(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
        crate::db::write_transaction(conn, |conn| {
            let gone = diesel::delete(
                subscriptions::table
                    .filter(subscriptions::confirmed_at.is_null())
                    .filter(subscriptions::created_at.lt(now - Duration::days(UNCONFIRMED_DAYS))),
            )
            .execute(conn)?;
            if gone > 0 {
                ErasureQueue::request(conn, Held::Address, None)?;
            }
            Ok(gone)
        })
    }

    /// Deletes the subscription and with it the address.
    pub fn unsubscribe(conn: &mut DbConn, id: i32) -> QueryResult<bool> {
        crate::db::write_transaction(conn, |conn| {
            let gone = diesel::delete(subscriptions::table.find(id)).execute(conn)? == 1;
            if gone {
                ErasureQueue::request(conn, Held::Address, None)?;
            }
            Ok(gone)
        })
    }

    pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Option<Subscription>> {
        subscriptions::table
            .find(id)
            .select(Subscription::as_select())
            .first(conn)
            .optional()
    }
}

/// What a digest for `s` lists: guides published and stories cooled off after `since`, up to `now`.
fn digest_items(
    conn: &mut DbConn,
    s: &Subscription,
    since: NaiveDateTime,
    now: NaiveDateTime,
    delay: Duration,
    base: &str,
) -> QueryResult<Vec<DigestItem>> {
    let tag_id: Option<i32> = match &s.tag {
        Some(name) => match tags::table
            .filter(tags::name.eq(name))
            .select(tags::id)
            .first(conn)
            .optional()?
        {
            Some(id) => Some(id),
            None => return Ok(Vec::new()),
        },
        None => None,
    };
    let mut items = Vec::new();
    if s.want_guides {
        let mut q = published_guides()
            .filter(guides::published_at.gt(since))
            .filter(guides::published_at.le(now));
        if let Some(id) = tag_id {
            q = q.filter(guides::id.eq_any(Tag::guides_tagged(id)));
        }
        let rows: Vec<(String, String)> = q
            .order(guides::published_at)
            .select((guides::title, guides::slug))
            .load(conn)?;
        items.extend(rows.into_iter().map(|(title, slug)| DigestItem {
            kind: "ガイド",
            title,
            url: format!("{base}/guides/{slug}"),
        }));
    }
    if s.want_stories {
        // A story counts from the end of its cooling-off, as in the feeds.
        let mut q = cooled_stories(now - delay).filter(stories::published_at.gt(since - delay));
        if let Some(id) = tag_id {
            q = q.filter(stories::id.eq_any(Tag::stories_tagged(id)));
        }
        let rows: Vec<(String, String)> = q
            .order(stories::published_at)
            .select((stories::title, stories::public_id))
            .load(conn)?;
        items.extend(rows.into_iter().map(|(title, id)| DigestItem {
            kind: "体験談",
            title,
            url: format!("{base}/stories/{id}"),
        }));
    }
    Ok(items)
}

/// How far behind the clock a digest reads. A writer stamps `published_at` before it commits
/// (it may wait for the write lock, or for a worker, in between); an item stamped just before a
/// digest read but committed just after would fall before the next digest's window and never be
/// sent. Reading only up to a minute ago leaves such items for the next digest instead. (Never
/// more than the interval itself, so that short test intervals stay short.)
const SETTLE: std::time::Duration = std::time::Duration::from_secs(60);

/// Queues a digest for every confirmed subscription whose last one is at least `interval` old
/// and that has something new; returns how many were queued. Each claim is a conditional update,
/// so two nodes never send the same digest.
pub fn send_digests(
    conn: &mut DbConn,
    base: &str,
    key: &SecretKey,
    interval: std::time::Duration,
    delay: std::time::Duration,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let settle = Duration::from_std(SETTLE.min(interval)).unwrap_or_default();
    let interval = Duration::from_std(interval).unwrap_or_default();
    let delay = Duration::from_std(delay).unwrap_or_default();
    let due: Vec<Subscription> = subscriptions::table
        .filter(subscriptions::confirmed_at.is_not_null())
        .filter(subscriptions::digest_until.le(now - interval))
        .select(Subscription::as_select())
        .load(conn)?;
    let mut sent = 0;
    for s in due {
        let since = s.digest_until.unwrap_or(now);
        let queued = crate::db::write_transaction(conn, |conn| {
            let claimed = diesel::update(
                subscriptions::table
                    .find(s.id)
                    .filter(subscriptions::digest_until.eq(since)),
            )
            .set(subscriptions::digest_until.eq(now))
            .execute(conn)?;
            if claimed != 1 {
                return QueryResult::Ok(false);
            }
            let items = digest_items(conn, &s, since - settle, now - settle, delay, base)?;
            if items.is_empty() {
                return Ok(false);
            }
            messages::digest(&s.email, &items, &unsubscribe_url(base, key, s.id))
                .queue(conn, now)?;
            Ok(true)
        })?;
        sent += usize::from(queued);
    }
    Ok(sent)
}
