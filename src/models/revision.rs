//! Saved versions of guides: one row a save, with the text as it was after it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{guide_revisions, guide_tags, tags};
use crate::models::guide::Guide;

/// One saved version of a guide.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = guide_revisions)]
pub struct Revision {
    pub id: i32,
    pub guide_id: i32,
    pub version: i32,
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub body_markdown: String,
    pub tags: String,
    pub category: String,
    pub author_id: Option<i32>,
    pub author_label: String,
    pub note: String,
    pub created_at: NaiveDateTime,
}

impl Revision {
    /// Snapshots the guide as it is now, under its current version.
    pub fn record(
        conn: &mut DbConn,
        guide_id: i32,
        author_id: Option<i32>,
        author: &str,
        note: &str,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        let g = Guide::find(conn, guide_id)?;
        let tag_names: Vec<String> = guide_tags::table
            .inner_join(tags::table)
            .filter(guide_tags::guide_id.eq(guide_id))
            .select(tags::name)
            .order(tags::name)
            .load(conn)?;
        diesel::insert_into(guide_revisions::table)
            .values((
                guide_revisions::guide_id.eq(guide_id),
                guide_revisions::version.eq(g.version),
                guide_revisions::title.eq(&g.title),
                guide_revisions::slug.eq(&g.slug),
                guide_revisions::summary.eq(&g.summary),
                guide_revisions::body_markdown.eq(&g.body_markdown),
                guide_revisions::tags.eq(tag_names.join(", ")),
                guide_revisions::category.eq(&g.category),
                guide_revisions::author_id.eq(author_id),
                guide_revisions::author_label.eq(author),
                guide_revisions::note.eq(note),
                guide_revisions::created_at.eq(now),
            ))
            .execute(conn)
            .map(|_| ())
    }

    pub fn of_guide(conn: &mut DbConn, guide_id: i32) -> QueryResult<Vec<Revision>> {
        guide_revisions::table
            .filter(guide_revisions::guide_id.eq(guide_id))
            .order(guide_revisions::version.desc())
            .select(Revision::as_select())
            .load(conn)
    }

    pub fn find(conn: &mut DbConn, guide_id: i32, id: i32) -> QueryResult<Revision> {
        guide_revisions::table
            .filter(guide_revisions::guide_id.eq(guide_id))
            .filter(guide_revisions::id.eq(id))
            .select(Revision::as_select())
            .first(conn)
    }
}
