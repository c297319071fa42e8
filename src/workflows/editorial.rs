//! The editors' side of guides: saving with optimistic locking, statuses and scheduling,
//! revisions with restore, slug changes that leave redirects, featured stories. Each save is one
//! transaction with its revision row and, when the public side changes, its outbox event.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{featured_stories, guide_revisions, guide_tags, guides, redirects};
use crate::domain::{
    Byline, GuideAction, GuideBody, GuideStatus, PublicId, Slug, Summary, TagName, Title,
};
use crate::markdown;
use crate::models::guide::{Guide, GuideInput};
use crate::models::mod_action::{ActionKind, Actor, ModAction, Subject};
use crate::models::revision::Revision;
use crate::models::story::Story;
use crate::models::tag::Tag;
use crate::models::visibility::{self, GuidePlace};

/// Everything an editor writes on a guide, parsed.
#[derive(Debug, Clone)]
pub struct GuideDraft {
    pub title: Title,
    /// Left empty, one is made from the title when the guide is saved.
    pub slug: Option<Slug>,
    pub summary: Summary,
    pub body: GuideBody,
    pub tags: Vec<TagName>,
    pub category: String,
    pub featured: Vec<PublicId>,
    pub on_home: bool,
    /// The name readers see as the guide's author: 編集部 unless the editors choose another.
    pub byline: Byline,
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
pub type Editor<'a> = super::StaffMember<'a>;

/// The audit row for a change of a guide's place on the public site, if it changed: published,
/// scheduled, or taken off (to a draft or unpublished).
fn log_place(
    conn: &mut DbConn,
    slug: &str,
    before: Option<GuideStatus>,
    after: GuideStatus,
    by: Actor,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let kind = match after {
        _ if before == Some(after) => return Ok(()),
        GuideStatus::Published => ActionKind::PublishGuide,
        GuideStatus::Scheduled => ActionKind::ScheduleGuide,
        GuideStatus::Draft | GuideStatus::Unpublished => match before {
            Some(GuideStatus::Published | GuideStatus::Scheduled) => ActionKind::UnpublishGuide,
            _ => return Ok(()),
        },
    };
    ModAction::about_other(Subject::Guide(slug.to_owned()))
        .by(by)
        .guide(kind)
        .record(conn, now)
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
    /// The guide's status does not allow this (`GuideStatus::allows`).
    #[error("{0}")]
    NotAllowed(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// The draft's slug if it is free (else `SlugTaken`), or a free one made from its title.
fn slug_for(
    conn: &mut DbConn,
    d: &GuideDraft,
    except: Option<i32>,
    now: NaiveDateTime,
) -> Result<Slug, EditRefused> {
    match &d.slug {
        Some(slug) if slug_free(conn, slug, except)? => Ok(slug.clone()),
        Some(_) => Err(EditRefused::SlugTaken),
        None => Ok(suggest_slug(conn, d.title.as_ref(), now)?),
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
        let story_id = Story::find_public(conn, public_id)
            .optional()?
            .map(|s| s.id);
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

impl Intent {
    pub fn action(self) -> GuideAction {
        match self {
            Intent::Save => GuideAction::Save,
            Intent::PublishNow => GuideAction::PublishNow,
            Intent::Schedule(_) => GuideAction::Schedule,
        }
    }
}

/// Where a guide in status `current` goes with `intent`, if the rules allow it.
fn status_for(
    intent: Intent,
    current: GuideStatus,
) -> Result<(GuideStatus, Option<NaiveDateTime>), EditRefused> {
    let action = intent.action();
    if !current.allows(action) {
        return Err(refused(current, action));
    }
    let at = match intent {
        Intent::Schedule(at) => Some(at),
        _ => None,
    };
    Ok((action.leads_to(current), at))
}

fn refused(status: GuideStatus, action: GuideAction) -> EditRefused {
    EditRefused::NotAllowed(format!(
        "「{}」のガイドには「{}」を行えません。",
        status.label(),
        action.label()
    ))
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
    slug: &Slug,
    d: &GuideDraft,
    p: &Placement,
    now: NaiveDateTime,
) -> Result<(), EditRefused> {
    let rendered = markdown::render(d.body.as_ref());
    let toc_json = serde_json::to_string(&rendered.toc).unwrap_or_else(|_| "[]".to_owned());
    diesel::update(guides::table.find(id))
        .set((
            guides::slug.eq(slug.as_ref()),
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
            guides::author_name.eq(d.byline.as_ref()),
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
    if status.is_public() {
        Some(existing.unwrap_or(now))
    } else {
        existing
    }
}

/// Adds a guide with its tags, its first revision (recorded as by `by`) and, when it is public,
/// its announcement: the one way a guide comes into being (an editor's draft, an import, the
/// demo content).
pub fn add(
    conn: &mut DbConn,
    input: &GuideInput,
    (by, note): (&str, &str),
    now: NaiveDateTime,
) -> QueryResult<i32> {
    // A new guide at an address that used to redirect elsewhere takes the address back.
    diesel::delete(
        redirects::table.filter(redirects::from_path.eq(crate::paths::guide(input.slug.as_ref()))),
    )
    .execute(conn)?;
    let id = Guide::insert(conn, input, now)?;
    Revision::record(conn, id, input.author_id, by, note, now)?;
    visibility::guide_changed(
        conn,
        None,
        GuidePlace {
            status: input.status,
            slug: input.slug.as_ref(),
        },
        now,
    )?;
    Ok(id)
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
        let slug = slug_for(conn, d, None, now)?;
        let (status, scheduled_at) = status_for(intent, GuideStatus::Draft)?;
        let input = GuideInput {
            slug,
            title: d.title.clone(),
            summary: d.summary.clone(),
            body: d.body.clone(),
            status,
            author_id: Some(by.id),
            author_name: d.byline.as_ref().to_owned(),
            published_at: None,
            scheduled_at,
            category: d.category.clone(),
            featured_on_home: d.on_home,
            tags: d.tags.clone(),
        };
        let id = add(conn, &input, (by.name, "作成"), now)?;
        log_place(conn, input.slug.as_ref(), None, status, by.actor(), now)?;
        set_featured(conn, id, &d.featured)?;
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
        let slug = slug_for(conn, d, Some(id), now)?;
        let before = guide.status;
        let (status, scheduled_at) = status_for(intent, before)?;
        let scheduled_at = scheduled_at.or(if status == GuideStatus::Scheduled {
            guide.scheduled_at
        } else {
            None
        });
        if guide.slug != slug.as_ref() {
            diesel::delete(
                redirects::table
                    .filter(redirects::from_path.eq(crate::paths::guide(slug.as_ref()))),
            )
            .execute(conn)?;
            diesel::insert_into(redirects::table)
                .values((
                    redirects::from_path.eq(crate::paths::guide(&guide.slug)),
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
        write(conn, id, &slug, d, &placement, now)?;
        Revision::record(conn, id, Some(by.id), by.name, note, now)?;
        log_place(conn, slug.as_ref(), Some(before), status, by.actor(), now)?;
        visibility::guide_changed(
            conn,
            Some(GuidePlace {
                status: before,
                slug: &guide.slug,
            }),
            GuidePlace {
                status,
                slug: slug.as_ref(),
            },
            now,
        )?;
        Ok(())
    })
}

/// Takes a guide off the public site (it keeps its text and revisions).
pub fn unpublish(
    conn: &mut DbConn,
    id: i32,
    by: &Editor,
    now: NaiveDateTime,
) -> Result<(), EditRefused> {
    crate::db::write_transaction(conn, |conn| {
        let guide = Guide::find(conn, id)
            .optional()?
            .ok_or(EditRefused::NotFound)?;
        let before = guide.status;
        if !before.allows(GuideAction::Unpublish) {
            return Err(refused(before, GuideAction::Unpublish));
        }
        let after = GuideAction::Unpublish.leads_to(before);
        diesel::update(guides::table.find(id))
            .set((
                guides::status.eq(after.as_str()),
                guides::scheduled_at.eq(None::<NaiveDateTime>),
                guides::version.eq(guide.version + 1),
                guides::updated_at.eq(now),
            ))
            .execute(conn)?;
        let place = |status| GuidePlace {
            status,
            slug: &guide.slug,
        };
        visibility::guide_changed(conn, Some(place(before)), place(after), now)?;
        log_place(conn, &guide.slug, Some(before), after, by.actor(), now)?;
        Ok(())
    })
}

/// Publishes every scheduled guide whose time has come; returns their slugs. Each one is its own
/// conditional update, so two nodes running this at once publish each guide once.
pub fn publish_due(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Vec<String>> {
    let from: Vec<&str> = GuideStatus::allowing(GuideAction::PublishDue)
        .into_iter()
        .map(GuideStatus::as_str)
        .collect();
    let due: Vec<(i32, String, String, Option<NaiveDateTime>)> = guides::table
        .filter(guides::status.eq_any(&from))
        .filter(guides::scheduled_at.le(now))
        .select((
            guides::id,
            guides::slug,
            guides::status,
            guides::scheduled_at,
        ))
        .load(conn)?;
    let mut published = Vec::new();
    for (id, slug, was, at) in due {
        let was = GuideStatus::parse(&was).unwrap_or(GuideStatus::Draft);
        let after = GuideAction::PublishDue.leads_to(was);
        let done = crate::db::write_transaction(conn, |conn| {
            // Conditional on the status read: two nodes publish each guide once.
            let n = diesel::update(
                guides::table
                    .filter(guides::id.eq(id))
                    .filter(guides::status.eq(was.as_str())),
            )
            .set((
                guides::status.eq(after.as_str()),
                guides::published_at.eq(at.unwrap_or(now)),
                guides::scheduled_at.eq(None::<NaiveDateTime>),
                guides::updated_at.eq(now),
            ))
            .execute(conn)?;
            if n == 1 {
                let place = |status| GuidePlace {
                    status,
                    slug: &slug,
                };
                visibility::guide_changed(conn, Some(place(was)), place(after), now)?;
                log_place(conn, &slug, Some(was), after, Actor::System, now)?;
            }
            QueryResult::Ok(n == 1)
        })?;
        if done {
            published.push(slug);
        }
    }
    Ok(published)
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
            slug: Some(Slug::parse(&rev.slug).map_err(invalid)?),
            summary: Summary::parse(&rev.summary).map_err(invalid)?,
            body: GuideBody::parse(&rev.body_markdown).map_err(invalid)?,
            tags: TagName::parse_list(rev.tags.split(',').filter(|t| !t.trim().is_empty()))
                .map_err(invalid)?,
            category: rev.category.clone(),
            featured: Guide::featured_ids(conn, guide_id)?
                .iter()
                .filter_map(|p| PublicId::parse(p).ok())
                .collect(),
            on_home: guide.featured_on_home,
            // The byline is the guide's now: a restore brings back text, not the signature.
            byline: Byline::parse(&guide.author_name).map_err(invalid)?,
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
