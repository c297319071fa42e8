//! Stories like one another: each story's MinHash signature and bands (`similar.rs`) kept up to
//! date with its text, and the recent stories most like a given one, for the moderators' queue.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{stories, story_bands};
use crate::domain::StoryStatus;
use crate::similar::{self, Signature};

/// Stories submitted this long before another are compared with it.
pub const RECENT_DAYS: i64 = 90;
/// At most this many similar stories are listed.
const LISTED: usize = 5;
/// At most this many stories sharing a band are compared (the most recent).
const CANDIDATES: i64 = 200;

/// Another story like the one shown, for a link in the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Similar {
    pub public_id: String,
    pub title: String,
    pub status: &'static str,
    /// Estimated share of the two texts' trigrams they have in common, in percent.
    pub percent: u32,
}

/// The text a signature is made of: what a copy would repeat.
pub fn signature_of(title: &str, body: &str) -> Option<Signature> {
    Signature::of(&format!("{title}\n{body}"))
}

/// Replaces the story's signature and bands (none when `signature` is None: an erased story).
pub fn index(conn: &mut DbConn, story_id: i32, signature: Option<&Signature>) -> QueryResult<()> {
    diesel::update(stories::table.find(story_id))
        .set(stories::minhash.eq(signature.map(Signature::to_bytes)))
        .execute(conn)?;
    diesel::delete(story_bands::table.filter(story_bands::story_id.eq(story_id))).execute(conn)?;
    // One row at a time: the connection serves either backend, which rules out batch inserts.
    for (band, bucket) in signature
        .iter()
        .flat_map(|s| s.bands().into_iter().enumerate())
    {
        diesel::insert_into(story_bands::table)
            .values((
                story_bands::story_id.eq(story_id),
                story_bands::band.eq(band as i32),
                story_bands::bucket.eq(bucket),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The stories of the last `RECENT_DAYS` most like `story_id` (from `THRESHOLD` on), most
/// similar first. Withdrawn and erased stories have no signature and are never listed.
pub fn similar_to(
    conn: &mut DbConn,
    story_id: i32,
    now: NaiveDateTime,
) -> QueryResult<Vec<Similar>> {
    let own: Option<Vec<u8>> = stories::table
        .find(story_id)
        .select(stories::minhash)
        .first(conn)?;
    let Some(own) = own.as_deref().and_then(Signature::from_bytes) else {
        return Ok(Vec::new());
    };
    // Recent stories sharing a bucket, found through the index; whether the band is the same
    // is checked here (a bucket is a 64-bit hash: the same value in another band is chance).
    let bands = own.bands();
    let sharing: Vec<(i32, i32, i64)> = story_bands::table
        .inner_join(stories::table)
        .filter(story_bands::band.eq_any(0..similar::BANDS as i32))
        .filter(story_bands::bucket.eq_any(bands))
        .filter(stories::id.ne(story_id))
        .filter(stories::submitted_at.gt(now - Duration::days(RECENT_DAYS)))
        .order(stories::submitted_at.desc())
        .limit(CANDIDATES * similar::BANDS as i64)
        .select((stories::id, story_bands::band, story_bands::bucket))
        .load(conn)?;
    let mut candidates: Vec<i32> = Vec::new();
    for (id, band, bucket) in sharing {
        let same_band = usize::try_from(band)
            .ok()
            .and_then(|b| bands.get(b))
            .is_some_and(|b| *b == bucket);
        if same_band && !candidates.contains(&id) && candidates.len() < CANDIDATES as usize {
            candidates.push(id);
        }
    }
    let rows: Vec<(String, String, String, Option<Vec<u8>>)> = stories::table
        .filter(stories::id.eq_any(&candidates))
        .select((
            stories::public_id,
            stories::title,
            stories::status,
            stories::minhash,
        ))
        .load(conn)?;
    let mut found: Vec<Similar> = rows
        .into_iter()
        .filter_map(|(public_id, title, status, minhash)| {
            let similarity = own.similarity(&Signature::from_bytes(minhash.as_deref()?)?);
            (similarity >= similar::THRESHOLD).then(|| Similar {
                public_id,
                title,
                status: StoryStatus::parse(&status).map_or("", |s| s.label()),
                percent: (similarity * 100.0).round() as u32,
            })
        })
        .collect();
    found.sort_by_key(|s| std::cmp::Reverse(s.percent));
    found.truncate(LISTED);
    Ok(found)
}
