use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{featured_stories, guides, redirects, stories};
use crate::domain::{GuideBody, GuideStatus, Slug, Summary, TagName, Title};
use crate::markdown::{self, TocEntry};
use crate::models::story::StoryListItem;
use crate::models::tag::Tag;
use crate::models::visibility::{guide_is_public, published_guides, story_is_public};

/// A guide as stored.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = guides)]
pub struct Guide {
    pub id: i32,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub body_markdown: String,
    pub body_html: String,
    pub toc_json: String,
    #[diesel(deserialize_as = String)]
    pub status: GuideStatus,
    pub author_id: Option<i32>,
    pub author_name: String,
    pub published_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub scheduled_at: Option<NaiveDateTime>,
    pub category: String,
    pub version: i32,
    pub featured_on_home: bool,
}

/// What a listing needs of a guide.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = guides)]
pub struct GuideListItem {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub published_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// A new guide, every field already parsed.
#[derive(Debug, Clone)]
pub struct GuideInput {
    pub slug: Slug,
    pub title: Title,
    pub summary: Summary,
    pub body: GuideBody,
    pub status: GuideStatus,
    pub author_id: Option<i32>,
    pub author_name: String,
    /// When it was first published, if it is (an import keeps the original date); now if not given.
    pub published_at: Option<NaiveDateTime>,
    pub scheduled_at: Option<NaiveDateTime>,
    pub category: String,
    pub featured_on_home: bool,
    pub tags: Vec<TagName>,
}

impl Guide {
    pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Guide> {
        guides::table
            .find(id)
            .select(Guide::as_select())
            .first(conn)
    }

    /// Every guide, whatever its status, most recently changed first: the editors' list.
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Guide>> {
        guides::table
            .order((guides::updated_at.desc(), guides::id.desc()))
            .select(Guide::as_select())
            .load(conn)
    }

    /// The newest published guide marked for the home page.
    pub fn featured_on_home(conn: &mut DbConn) -> QueryResult<Option<GuideListItem>> {
        published_guides()
            .filter(guides::featured_on_home.eq(true))
            .order((guides::published_at.desc(), guides::id.desc()))
            .select(GuideListItem::as_select())
            .first(conn)
            .optional()
    }

    pub fn toc(&self) -> Vec<TocEntry> {
        // Written by us at save time; an unreadable value only loses the table of contents.
        serde_json::from_str(&self.toc_json).unwrap_or_default()
    }

    /// A published guide by slug; drafts are not found.
    pub fn find_published(conn: &mut DbConn, slug: &Slug) -> QueryResult<Guide> {
        guides::table
            .filter(guides::slug.eq(slug.as_ref()))
            .filter(guide_is_public())
            .select(Guide::as_select())
            .first(conn)
    }

    /// Which of these slugs are published guides now.
    pub fn published_among(conn: &mut DbConn, slugs: &[&str]) -> QueryResult<Vec<String>> {
        guides::table
            .filter(guides::slug.eq_any(slugs))
            .filter(guide_is_public())
            .select(guides::slug)
            .load(conn)
    }

    pub fn all_published(conn: &mut DbConn) -> QueryResult<Vec<Guide>> {
        published_guides()
            .order(guides::id)
            .select(Guide::as_select())
            .load(conn)
    }

    pub fn slug_taken(conn: &mut DbConn, slug: &Slug) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            guides::table.filter(guides::slug.eq(slug.as_ref())),
        ))
        .get_result(conn)
    }

    /// Published guides, newest first.
    pub fn list_published(
        conn: &mut DbConn,
        limit: i64,
        offset: i64,
    ) -> QueryResult<Vec<GuideListItem>> {
        published_guides()
            .order((guides::published_at.desc(), guides::id.desc()))
            .select(GuideListItem::as_select())
            .limit(limit)
            .offset(offset)
            .load(conn)
    }

    pub fn count_published(conn: &mut DbConn) -> QueryResult<i64> {
        published_guides().count().get_result(conn)
    }

    pub fn published_with_tag(conn: &mut DbConn, tag_id: i32) -> QueryResult<Vec<GuideListItem>> {
        published_guides()
            .filter(guides::id.eq_any(Tag::guides_tagged(tag_id)))
            .order((guides::published_at.desc(), guides::id.desc()))
            .select(GuideListItem::as_select())
            .load(conn)
    }

    pub fn count_all(conn: &mut DbConn) -> QueryResult<i64> {
        guides::table.count().get_result(conn)
    }

    /// Saves a new guide with its tags; call inside a transaction so that both land or neither.
    /// Only `workflows::editorial::add` calls it: a guide also needs its first revision and,
    /// when public, its announcement.
    pub fn insert(conn: &mut DbConn, input: &GuideInput, now: NaiveDateTime) -> QueryResult<i32> {
        let rendered = markdown::render(input.body.as_ref());
        let toc_json = serde_json::to_string(&rendered.toc).unwrap_or_else(|_| "[]".to_owned());
        let published_at = input
            .status
            .is_public()
            .then(|| input.published_at.unwrap_or(now));
        let id = diesel::insert_into(guides::table)
            .values((
                guides::slug.eq(input.slug.as_ref()),
                guides::title.eq(input.title.as_ref()),
                guides::summary.eq(input.summary.as_ref()),
                guides::body_markdown.eq(input.body.as_ref()),
                guides::body_html.eq(&rendered.html),
                guides::toc_json.eq(&toc_json),
                guides::status.eq(input.status.as_str()),
                guides::author_id.eq(input.author_id),
                guides::author_name.eq(&input.author_name),
                guides::published_at.eq(published_at),
                guides::scheduled_at.eq(input.scheduled_at),
                guides::category.eq(&input.category),
                guides::featured_on_home.eq(input.featured_on_home),
                guides::created_at.eq(now),
                guides::updated_at.eq(published_at.unwrap_or(now)),
            ))
            .returning(guides::id)
            .get_result(conn)?;
        Tag::attach_to_guide(conn, id, &input.tags)?;
        Ok(id)
    }

    /// Where an old address of a guide points now, if the guide is public.
    pub fn redirect_for(conn: &mut DbConn, from_path: &str) -> QueryResult<Option<String>> {
        redirects::table
            .inner_join(guides::table)
            .filter(redirects::from_path.eq(from_path))
            .filter(guide_is_public())
            .select(guides::slug)
            .first::<String>(conn)
            .optional()
            .map(|s| s.map(|slug| crate::paths::guide(&slug)))
    }

    /// Public stories featured on a guide, in order.
    pub fn featured_stories(conn: &mut DbConn, guide_id: i32) -> QueryResult<Vec<StoryListItem>> {
        featured_stories::table
            .inner_join(stories::table)
            .filter(featured_stories::guide_id.eq(guide_id))
            .filter(story_is_public())
            .order(featured_stories::position)
            .select(StoryListItem::as_select())
            .load(conn)
    }

    /// Every story featured on a guide, public or not (for the editor's form).
    pub fn featured_ids(conn: &mut DbConn, guide_id: i32) -> QueryResult<Vec<String>> {
        featured_stories::table
            .inner_join(stories::table)
            .filter(featured_stories::guide_id.eq(guide_id))
            .order(featured_stories::position)
            .select(stories::public_id)
            .load(conn)
    }
}
