//! The editors' side of guides: saving with optimistic locking, statuses and scheduling,
//! revisions with restore, slug changes that leave redirects, featured stories. Each save is one
//! transaction with its revision row and, when the public side changes, its outbox event.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{
    featured_stories, guide_revisions, guide_tags, guides, redirects, stories, tags,
};
use crate::domain::{GuideBody, GuideStatus, PublicId, Slug, StoryStatus, Summary, TagName, Title};
use crate::markdown;
use crate::models::guide::Guide;
use crate::models::outbox::{GUIDE_PUBLISHED, GUIDE_REMOVED, Outbox};
use crate::models::tag::Tag;

/// Everything an editor writes on a guide, parsed.
#[derive(Debug, Clone)]
pub struct GuideDraft {
    pub title: Title,
    pub slug: Slug,
    pub summary: Summary,
    pub body: GuideBody,
    pub tags: Vec<TagName>,
    pub category: String,
    pub featured: Vec<PublicId>,
    pub on_home: bool,
}

/// What the save should do to the guide's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// Keep the status (a new guide starts as a draft).
    Save,
    PublishNow,
    /// Publish by itself at this UTC time.
    Schedule(NaiveDateTime),
}

/// Who is editing.
pub struct Editor<'a> {
    pub id: i32,
    pub name: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum EditRefused {
    #[error("not found")]
    NotFound,
    /// Someone saved since this editor opened the guide.
    #[error("conflict with version {current} by {by}")]
    Conflict { current: i32, by: String },
    #[error("slug taken")]
    SlugTaken,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

fn path(slug: &str) -> String {
    format!("/guides/{slug}")
}

fn announce(
    conn: &mut DbConn,
    before: Option<GuideStatus>,
    after: GuideStatus,
    slug: &str,
    old_slug: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let was_public = before == Some(GuideStatus::Published);
    if let Some(old) = old_slug.filter(|o| *o != slug && was_public) {
        Outbox::guide_event(conn, GUIDE_REMOVED, old, now)?;
    }
    match (was_public, after == GuideStatus::Published) {
        (_, true) => Outbox::guide_event(conn, GUIDE_PUBLISHED, slug, now),
        (true, false) => Outbox::guide_event(conn, GUIDE_REMOVED, slug, now),
        (false, false) => Ok(()),
    }
}

fn slug_free(conn: &mut DbConn, slug: &Slug, except: Option<i32>) -> QueryResult<bool> {
    let mut q = guides::table
        .filter(guides::slug.eq(slug.as_ref()))
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(guides::id.ne(id));
    }
    Ok(q.select(guides::id)
        .first::<i32>(conn)
        .optional()?
        .is_none())
}

/// A free slug from the title's latin words, else from the date; `-2`, `-3`… when taken.
pub fn suggest_slug(conn: &mut DbConn, title: &str, now: NaiveDateTime) -> QueryResult<Slug> {
    let words: Vec<String> = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let base = if words.is_empty() {
        format!("guide-{}", now.format("%Y%m%d"))
    } else {
        words
            .join("-")
            .chars()
            .take(60)
            .collect::<String>()
            .trim_end_matches('-')
            .to_owned()
    };
    let mut n = 1;
    loop {
        let candidate = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        if let Ok(slug) = Slug::parse(&candidate)
            && slug_free(conn, &slug, None)?
        {
            return Ok(slug);
        }
        n += 1;
    }
}

fn set_featured(
    conn: &mut DbConn,
    guide_id: i32,
    featured: &[PublicId],
) -> Result<(), EditRefused> {
    diesel::delete(featured_stories::table.filter(featured_stories::guide_id.eq(guide_id)))
        .execute(conn)?;
    for (position, public_id) in featured.iter().enumerate() {
        let story_id: Option<i32> = stories::table
            .filter(stories::public_id.eq(public_id.as_ref()))
            .filter(stories::status.eq(StoryStatus::Approved.as_str()))
            .select(stories::id)
            .first(conn)
            .optional()?;
        let story_id = story_id.ok_or_else(|| {
            EditRefused::Invalid(format!(
                "紹介する体験談「{}」は公開中の体験談ではありません。",
                public_id.as_ref()
            ))
        })?;
        diesel::insert_into(featured_stories::table)
            .values((
                featured_stories::guide_id.eq(guide_id),
                featured_stories::story_id.eq(story_id),
                featured_stories::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn status_for(intent: Intent, current: GuideStatus) -> (GuideStatus, Option<NaiveDateTime>) {
    match intent {
        Intent::Save => (current, None),
        Intent::PublishNow => (GuideStatus::Published, None),
        Intent::Schedule(at) => (GuideStatus::Scheduled, Some(at)),
    }
}

/// Where a guide stands after a save.
struct Placement {
    status: GuideStatus,
    scheduled_at: Option<NaiveDateTime>,
    published_at: Option<NaiveDateTime>,
    version: i32,
}

/// Writes the draft into guide `id` (already created), sets status, tags, featured stories.
fn write(
    conn: &mut DbConn,
    id: i32,
    d: &GuideDraft,
    p: &Placement,
    now: NaiveDateTime,
) -> Result<(), EditRefused> {
    let rendered = markdown::render(d.body.as_ref());
    let toc_json = serde_json::to_string(&rendered.toc).unwrap_or_else(|_| "[]".to_owned());
    diesel::update(guides::table.find(id))
        .set((
            guides::slug.eq(d.slug.as_ref()),
            guides::title.eq(d.title.as_ref()),
            guides::summary.eq(d.summary.as_ref()),
            guides::body_markdown.eq(d.body.as_ref()),
            guides::body_html.eq(&rendered.html),
            guides::toc_json.eq(&toc_json),
            guides::status.eq(p.status.as_str()),
            guides::scheduled_at.eq(p.scheduled_at),
            guides::published_at.eq(p.published_at),
            guides::category.eq(&d.category),
            guides::featured_on_home.eq(d.on_home),
            guides::version.eq(p.version),
            guides::updated_at.eq(now),
        ))
        .execute(conn)?;
    diesel::delete(guide_tags::table.filter(guide_tags::guide_id.eq(id))).execute(conn)?;
    Tag::attach_to_guide(conn, id, &d.tags)?;
    set_featured(conn, id, &d.featured)
}

fn published_at_for(
    status: GuideStatus,
    existing: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Option<NaiveDateTime> {
    match status {
        GuideStatus::Published => Some(existing.unwrap_or(now)),
        _ => existing,
    }
}

/// Creates a guide from an editor's draft; returns its id.
pub fn create(
    conn: &mut DbConn,
    d: &GuideDraft,
    intent: Intent,
    by: &Editor,
    now: NaiveDateTime,
) -> Result<i32, EditRefused> {
    crate::db::write_transaction(conn, |conn| {
        if !slug_free(conn, &d.slug, None)? {
            return Err(EditRefused::SlugTaken);
        }
        let (status, scheduled_at) = status_for(intent, GuideStatus::Draft);
        let id: i32 = diesel::insert_into(guides::table)
            .values((
                guides::slug.eq(d.slug.as_ref()),
                guides::title.eq(d.title.as_ref()),
                guides::summary.eq(""),
                guides::body_markdown.eq(""),
                guides::body_html.eq(""),
                guides::toc_json.eq("[]"),
                guides::status.eq(GuideStatus::Draft.as_str()),
                guides::author_id.eq(by.id),
                guides::author_name.eq(by.name),
                guides::created_at.eq(now),
                guides::updated_at.eq(now),
            ))
            .returning(guides::id)
            .get_result(conn)?;
        diesel::delete(redirects::table.filter(redirects::from_path.eq(path(d.slug.as_ref()))))
            .execute(conn)?;
        let placement = Placement {
            status,
            scheduled_at,
            published_at: published_at_for(status, None, now),
            version: 1,
        };
        write(conn, id, d, &placement, now)?;
        Revision::record(conn, id, Some(by.id), by.name, "作成", now)?;
        announce(conn, None, status, d.slug.as_ref(), None, now)?;
        Ok(id)
    })
}

/// How a save changes a guide: from which version, to which status, with what note.
pub struct Change<'a> {
    pub expected_version: i32,
    pub intent: Intent,
    pub note: &'a str,
}

/// Saves an editor's draft over guide `id`, if nobody saved since `change.expected_version`.
pub fn update(
    conn: &mut DbConn,
    id: i32,
    d: &GuideDraft,
    change: &Change,
    by: &Editor,
    now: NaiveDateTime,
) -> Result<(), EditRefused> {
    let (expected_version, intent, note) = (change.expected_version, change.intent, change.note);
    crate::db::write_transaction(conn, |conn| {
        let guide = Guide::find(conn, id)
            .optional()?
            .ok_or(EditRefused::NotFound)?;
        if guide.version != expected_version {
            let by = guide_revisions::table
                .filter(guide_revisions::guide_id.eq(id))
                .filter(guide_revisions::version.eq(guide.version))
                .select(guide_revisions::author_label)
                .first::<String>(conn)
                .optional()?
                .unwrap_or_else(|| "ほかの編集者".to_owned());
            return Err(EditRefused::Conflict {
                current: guide.version,
                by,
            });
        }
        if !slug_free(conn, &d.slug, Some(id))? {
            return Err(EditRefused::SlugTaken);
        }
        let before = guide.status();
        let (status, scheduled_at) = status_for(intent, before);
        let scheduled_at = scheduled_at.or(if status == GuideStatus::Scheduled {
            guide.scheduled_at
        } else {
            None
        });
        if guide.slug != d.slug.as_ref() {
            diesel::delete(redirects::table.filter(redirects::from_path.eq(path(d.slug.as_ref()))))
                .execute(conn)?;
            diesel::insert_into(redirects::table)
                .values((
                    redirects::from_path.eq(path(&guide.slug)),
                    redirects::guide_id.eq(id),
                ))
                .execute(conn)?;
        }
        let placement = Placement {
            status,
            scheduled_at,
            published_at: published_at_for(status, guide.published_at, now),
            version: guide.version + 1,
        };
        write(conn, id, d, &placement, now)?;
        Revision::record(conn, id, Some(by.id), by.name, note, now)?;
        announce(
            conn,
            Some(before),
            status,
            d.slug.as_ref(),
            Some(&guide.slug),
            now,
        )?;
        Ok(())
    })
}

/// Takes a guide off the public site (it keeps its text and revisions).
pub fn unpublish(conn: &mut DbConn, id: i32, now: NaiveDateTime) -> Result<(), EditRefused> {
    crate::db::write_transaction(conn, |conn| {
        let guide = Guide::find(conn, id)
            .optional()?
            .ok_or(EditRefused::NotFound)?;
        let before = guide.status();
        diesel::update(guides::table.find(id))
            .set((
                guides::status.eq(GuideStatus::Unpublished.as_str()),
                guides::scheduled_at.eq(None::<NaiveDateTime>),
                guides::version.eq(guide.version + 1),
                guides::updated_at.eq(now),
            ))
            .execute(conn)?;
        announce(
            conn,
            Some(before),
            GuideStatus::Unpublished,
            &guide.slug,
            None,
            now,
        )?;
        Ok(())
    })
}

/// Publishes every scheduled guide whose time has come; returns their slugs. Each one is its own
/// conditional update, so two nodes running this at once publish each guide once.
pub fn publish_due(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Vec<String>> {
    let due: Vec<(i32, String, Option<NaiveDateTime>)> = guides::table
        .filter(guides::status.eq(GuideStatus::Scheduled.as_str()))
        .filter(guides::scheduled_at.le(now))
        .select((guides::id, guides::slug, guides::scheduled_at))
        .load(conn)?;
    let mut published = Vec::new();
    for (id, slug, at) in due {
        let done = crate::db::write_transaction(conn, |conn| {
            let n = diesel::update(
                guides::table
                    .filter(guides::id.eq(id))
                    .filter(guides::status.eq(GuideStatus::Scheduled.as_str())),
            )
            .set((
                guides::status.eq(GuideStatus::Published.as_str()),
                guides::published_at.eq(at.unwrap_or(now)),
                guides::scheduled_at.eq(None::<NaiveDateTime>),
                guides::updated_at.eq(now),
            ))
            .execute(conn)?;
            if n == 1 {
                Outbox::guide_event(conn, GUIDE_PUBLISHED, &slug, now)?;
            }
            QueryResult::Ok(n == 1)
        })?;
        if done {
            published.push(slug);
        }
    }
    Ok(published)
}

/// Where an old address of a guide points now, if the guide is public.
pub fn redirect_for(conn: &mut DbConn, from_path: &str) -> QueryResult<Option<String>> {
    redirects::table
        .inner_join(guides::table)
        .filter(redirects::from_path.eq(from_path))
        .filter(guides::status.eq(GuideStatus::Published.as_str()))
        .select(guides::slug)
        .first::<String>(conn)
        .optional()
        .map(|s| s.map(|slug| path(&slug)))
}

/// Approved stories featured on a guide, in order.
pub fn featured(
    conn: &mut DbConn,
    guide_id: i32,
) -> QueryResult<Vec<crate::models::story::StoryListItem>> {
    featured_stories::table
        .inner_join(stories::table)
        .filter(featured_stories::guide_id.eq(guide_id))
        .filter(stories::status.eq(StoryStatus::Approved.as_str()))
        .order(featured_stories::position)
        .select(crate::models::story::StoryListItem::as_select())
        .load(conn)
}

pub fn featured_ids(conn: &mut DbConn, guide_id: i32) -> QueryResult<Vec<String>> {
    featured_stories::table
        .inner_join(stories::table)
        .filter(featured_stories::guide_id.eq(guide_id))
        .order(featured_stories::position)
        .select(stories::public_id)
        .load(conn)
}

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

/// Restores an old revision's text as a new version (the status stays as it is).
pub fn restore(
    conn: &mut DbConn,
    guide_id: i32,
    revision_id: i32,
    by: &Editor,
    now: NaiveDateTime,
) -> Result<(), EditRefused> {
    crate::db::write_transaction(conn, |conn| {
        let guide = Guide::find(conn, guide_id)
            .optional()?
            .ok_or(EditRefused::NotFound)?;
        let rev = Revision::find(conn, guide_id, revision_id)
            .optional()?
            .ok_or(EditRefused::NotFound)?;
        let invalid = |e: crate::domain::Invalid| EditRefused::Invalid(e.0);
        let draft = GuideDraft {
            title: Title::parse_line(&rev.title).map_err(invalid)?,
            slug: Slug::parse(&rev.slug).map_err(invalid)?,
            summary: Summary::parse(&rev.summary).map_err(invalid)?,
            body: GuideBody::parse(&rev.body_markdown).map_err(invalid)?,
            tags: TagName::parse_list(rev.tags.split(',').filter(|t| !t.trim().is_empty()))
                .map_err(invalid)?,
            category: rev.category.clone(),
            featured: featured_ids(conn, guide_id)?
                .iter()
                .filter_map(|p| PublicId::parse(p).ok())
                .collect(),
            on_home: guide.featured_on_home,
        };
        let note = format!("版{}から復元", rev.version);
        let change = Change {
            expected_version: guide.version,
            intent: Intent::Save,
            note: &note,
        };
        update(conn, guide_id, &draft, &change, by, now)
    })
}

/// How long a comparison of two versions may search for the smallest difference; past it the
/// difference shown is correct but coarser. Two unrelated versions of a long guide, a line per
/// character, would otherwise take seconds.
const DIFF_DEADLINE: std::time::Duration = std::time::Duration::from_millis(20);

/// The lines of `old` and `new`, each kept, added or removed, in order.
pub fn line_changes(old: &str, new: &str) -> Vec<(similar::ChangeTag, String)> {
    similar::TextDiff::configure()
        .timeout(DIFF_DEADLINE)
        .diff_lines(old, new)
        .iter_all_changes()
        .map(|c| (c.tag(), c.value().trim_end_matches('\n').to_owned()))
        .collect()
}
