use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::stories;
use crate::db::{Backend, DbConn};
use crate::domain::{
    Email, HowMet, LengthBucket, PenName, PublicId, ReceiptCode, Relationship, RelationshipLength,
    Rules, StoryAction, StoryBody, StoryField, StoryStatus, TagName, Title,
};
use crate::markdown;
use crate::models::similarity;
use crate::models::tag::Tag;
use crate::models::visibility::{self, public_stories};
use crate::pii::Finding;
use crate::similar::Signature;
use diesel::deserialize::FromStaticSqlRow;
use diesel::sql_types::{Bool, Integer, Text};

/// A story as stored.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = stories)]
pub struct Story {
    pub id: i32,
    pub public_id: String,
    pub title: String,
    pub body_markdown: String,
    pub body_html: String,
    pub excerpt: String,
    pub pen_name: String,
    #[diesel(embed)]
    pub relationship: Relationship,
    pub rules: String,
    #[diesel(deserialize_as = String)]
    pub status: StoryStatus,
    pub submitted_at: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
    pub contact_email: Option<String>,
    pub moderator_message: Option<String>,
    pub pii_flags: String,
    pub edited_by_staff: bool,
    pub claimed_by: Option<i32>,
    pub claimed_until: Option<NaiveDateTime>,
}

/// What a listing needs of a story.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = stories)]
pub struct StoryListItem {
    pub id: i32,
    pub public_id: String,
    pub title: String,
    pub excerpt: String,
    pub pen_name: String,
    #[diesel(embed)]
    pub relationship: Relationship,
    pub submitted_at: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
}

/// The relationship's columns, read into the domain type wherever a story is selected.
impl<DB: diesel::backend::Backend> Selectable<DB> for Relationship {
    type SelectExpression = (
        stories::length_months,
        stories::how_met,
        stories::continuing,
        stories::facts_set,
    );

    fn construct_selection() -> Self::SelectExpression {
        (
            stories::length_months,
            stories::how_met,
            stories::continuing,
            stories::facts_set,
        )
    }
}

impl<DB> Queryable<(Integer, Text, Bool, Bool), DB> for Relationship
where
    DB: diesel::backend::Backend,
    (i32, String, bool, bool): FromStaticSqlRow<(Integer, Text, Bool, Bool), DB>,
{
    type Row = (i32, String, bool, bool);

    fn build((months, how_met, continuing, known): Self::Row) -> diesel::deserialize::Result<Self> {
        Ok(Relationship {
            length: months.into(),
            how_met: how_met.into(),
            continuing,
            known,
        })
    }
}

impl Story {
    pub fn rules(&self) -> Rules {
        Rules::from_stored(&self.rules)
    }

    pub fn pii_findings(&self) -> Vec<Finding> {
        serde_json::from_str(&self.pii_flags).unwrap_or_default()
    }
}

/// What a submitter writes, every field parsed; also what they change when asked to.
#[derive(Debug, Clone)]
pub struct StoryContent {
    pub title: Title,
    pub body: StoryBody,
    pub pen_name: PenName,
    pub length: RelationshipLength,
    pub how_met: HowMet,
    pub continuing: bool,
    /// False when the three fields above are placeholders: the story came without them.
    pub facts_known: bool,
    pub rules: Rules,
    pub tags: Vec<TagName>,
}

impl StoryContent {
    /// The fields in which this content differs from `story` as stored with its `tags`.
    pub fn changed_from(&self, story: &Story, tags: &[String]) -> Vec<StoryField> {
        let mut old_tags: Vec<&str> = tags.iter().map(String::as_str).collect();
        let mut new_tags: Vec<&str> = self.tags.iter().map(AsRef::as_ref).collect();
        old_tags.sort_unstable();
        new_tags.sort_unstable();
        let was = story.relationship;
        // Facts set (or cleared) count as changed, whatever the placeholders were.
        let set = self.facts_known != was.known;
        StoryField::ALL
            .iter()
            .copied()
            .filter(|field| match field {
                StoryField::Title => self.title.as_ref() != story.title,
                StoryField::Body => self.body.as_ref() != story.body_markdown,
                StoryField::PenName => self.pen_name.as_ref() != story.pen_name,
                StoryField::Length => set || self.length != was.length,
                StoryField::HowMet => set || self.how_met != was.how_met,
                StoryField::Continuing => set || self.continuing != was.continuing,
                StoryField::Rules => self.rules.to_stored() != story.rules,
                StoryField::Tags => old_tags != new_tags,
            })
            .collect()
    }
}

/// A new story: its content and where it stands.
#[derive(Debug, Clone)]
pub struct StoryInput {
    pub public_id: PublicId,
    pub content: StoryContent,
    pub status: StoryStatus,
    pub submitted_at: Option<NaiveDateTime>,
    pub published_at: Option<NaiveDateTime>,
    /// Hash of the submitter's receipt code; imported stories have none.
    pub receipt_hash: Option<String>,
    pub contact_email: Option<Email>,
    /// Personal-information findings the submitter confirmed, for moderators.
    pub pii: Vec<Finding>,
}

/// How readers narrow the list of stories.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoryFilter {
    pub length: Option<LengthBucket>,
    pub how_met: Option<HowMet>,
    pub tag: Option<TagName>,
}

type BoxedStories = stories::BoxedQuery<'static, Backend>;

/// The columns that hold what a submitter wrote, as written by insert and by replace.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = stories)]
struct ContentRow<'a> {
    title: &'a str,
    body_markdown: &'a str,
    body_html: String,
    excerpt: String,
    pen_name: &'a str,
    length_months: i32,
    how_met: &'a str,
    continuing: bool,
    facts_set: bool,
    rules: String,
    pii_flags: String,
    minhash: Option<Vec<u8>>,
}

impl<'a> ContentRow<'a> {
    fn new(c: &'a StoryContent, pii: &[Finding], signature: Option<&Signature>) -> Self {
        let rendered = markdown::render(c.body.as_ref());
        ContentRow {
            title: c.title.as_ref(),
            body_markdown: c.body.as_ref(),
            body_html: rendered.html,
            excerpt: rendered.excerpt,
            pen_name: c.pen_name.as_ref(),
            length_months: c.length.months(),
            how_met: c.how_met.as_str(),
            continuing: c.continuing,
            facts_set: c.facts_known,
            rules: c.rules.to_stored(),
            pii_flags: findings_json(pii),
            minhash: signature.map(Signature::to_bytes),
        }
    }
}

fn findings_json(findings: &[Finding]) -> String {
    serde_json::to_string(findings).unwrap_or_else(|_| "[]".to_owned())
}

impl Story {
    /// An approved story by public id; every other status is not found.
    pub fn find_public(conn: &mut DbConn, public_id: &PublicId) -> QueryResult<Story> {
        public_stories()
            .filter(stories::public_id.eq(public_id.as_ref()))
            .select(Story::as_select())
            .first(conn)
    }

    /// Which of these public ids are approved stories now. The status is checked here, not in
    /// SQL: beside a list of ids, SQLite without statistics would choose the status index and
    /// read every approved story.
    pub fn public_among(conn: &mut DbConn, public_ids: &[&str]) -> QueryResult<Vec<String>> {
        let found: Vec<(String, String)> = stories::table
            .filter(stories::public_id.eq_any(public_ids))
            .select((stories::public_id, stories::status))
            .load(conn)?;
        Ok(found
            .into_iter()
            .filter(|(_, status)| StoryStatus::parse(status).is_ok_and(StoryStatus::is_public))
            .map(|(id, _)| id)
            .collect())
    }

    /// The search index's rebuild reads the stories in batches: the public ones among the next `limit` stories by id after `after`, with the last id
    /// looked at (None: no stories after `after`).
    pub fn public_after(
        conn: &mut DbConn,
        after: i32,
        limit: i64,
    ) -> QueryResult<(Vec<Story>, Option<i32>)> {
        // The ids by the primary key alone, then the public ones among them: asked for the
        // status and the order at once, SQLite took the status index and sorted every later
        // story for each batch (a rebuild read a million stories' table a thousand times over).
        let ids: Vec<i32> = stories::table
            .filter(stories::id.gt(after))
            .order(stories::id)
            .limit(limit)
            .select(stories::id)
            .load(conn)?;
        let Some(&last) = ids.last() else {
            return Ok((Vec::new(), None));
        };
        let public = public_stories()
            .filter(stories::id.eq_any(ids))
            .order(stories::id)
            .select(Story::as_select())
            .load(conn)?;
        Ok((public, Some(last)))
    }

    pub fn public_id_taken(conn: &mut DbConn, public_id: &PublicId) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            stories::table.filter(stories::public_id.eq(public_id.as_ref())),
        ))
        .get_result(conn)
    }

    /// Approved stories matching `filter`; `tag_id` is the id of `filter.tag`, looked up first.
    fn public_matching(filter: &StoryFilter, tag_id: Option<i32>) -> BoxedStories {
        let mut query = public_stories();
        if filter.length.is_some() || filter.how_met.is_some() {
            // Placeholders of a story that came without its facts match no filter.
            query = query.filter(stories::facts_set.eq(true));
        }
        if let Some(bucket) = filter.length {
            let (min, max) = bucket.month_range();
            query = query.filter(stories::length_months.ge(min));
            if let Some(max) = max {
                query = query.filter(stories::length_months.lt(max));
            }
        }
        if let Some(how_met) = filter.how_met {
            query = query.filter(stories::how_met.eq(how_met.as_str()));
        }
        if let Some(tag_id) = tag_id {
            query = query.filter(stories::id.eq_any(Tag::stories_tagged(tag_id)));
        }
        query
    }

    /// The id of the filter's tag: `Ok(None)` for no tag filter, `Err(())` for a tag nobody uses.
    fn filter_tag_id(
        conn: &mut DbConn,
        filter: &StoryFilter,
    ) -> QueryResult<Result<Option<i32>, ()>> {
        match &filter.tag {
            None => Ok(Ok(None)),
            Some(tag) => Ok(Tag::find(conn, tag)?.map(Some).ok_or(())),
        }
    }

    /// One page of approved stories matching `filter`, newest first, and the number of matches.
    pub fn list_public(
        conn: &mut DbConn,
        filter: &StoryFilter,
        limit: i64,
        offset: i64,
    ) -> QueryResult<(Vec<StoryListItem>, i64)> {
        let Ok(tag_id) = Self::filter_tag_id(conn, filter)? else {
            return Ok((Vec::new(), 0));
        };
        let total: i64 = Self::public_matching(filter, tag_id)
            .count()
            .get_result(conn)?;
        if total == 0 || offset >= total {
            return Ok((Vec::new(), total));
        }
        let items = Self::public_matching(filter, tag_id)
            .order((stories::published_at.desc(), stories::id.desc()))
            .select(StoryListItem::as_select())
            .limit(limit)
            .offset(offset)
            .load(conn)?;
        Ok((items, total))
    }

    pub fn count_public(conn: &mut DbConn, filter: &StoryFilter) -> QueryResult<i64> {
        match Self::filter_tag_id(conn, filter)? {
            Ok(tag_id) => Self::public_matching(filter, tag_id)
                .count()
                .get_result(conn),
            Err(()) => Ok(0),
        }
    }

    pub fn count_all(conn: &mut DbConn) -> QueryResult<i64> {
        stories::table.count().get_result(conn)
    }

    /// Saves a new story with its tags, and announces it if it is public: the one way a story
    /// comes into being (a submission, an import, the demo content). Call inside a transaction
    /// so that all of it lands or none.
    pub fn insert(conn: &mut DbConn, input: &StoryInput, now: NaiveDateTime) -> QueryResult<i32> {
        let c = &input.content;
        let submitted_at = input.submitted_at.unwrap_or(now);
        let published_at = input
            .status
            .is_public()
            .then(|| input.published_at.unwrap_or(now));
        let signature = similarity::signature_of(c.title.as_ref(), c.body.as_ref());
        let id = diesel::insert_into(stories::table)
            .values((
                ContentRow::new(c, &input.pii, signature.as_ref()),
                stories::public_id.eq(input.public_id.as_ref()),
                stories::status.eq(input.status.as_str()),
                stories::submitted_at.eq(submitted_at),
                stories::published_at.eq(published_at),
                stories::updated_at.eq(published_at.unwrap_or(submitted_at)),
                stories::receipt_hash.eq(input.receipt_hash.as_deref()),
                stories::contact_email.eq(input.contact_email.as_ref().map(|e| e.as_ref())),
            ))
            .returning(stories::id)
            .get_result(conn)?;
        similarity::index(conn, id, signature.as_ref())?;
        Tag::attach_to_story(conn, id, &c.tags)?;
        visibility::story_changed(conn, input.public_id.as_ref(), None, input.status, now)?;
        Ok(id)
    }

    /// Moves a story from status `was` (as read in this transaction) to `to`, with its
    /// announcement. Returns false, changing nothing, when the story is no longer in `was`
    /// (another request changed it first).
    pub fn set_status(
        conn: &mut DbConn,
        id: i32,
        public_id: &str,
        was: StoryStatus,
        to: StoryStatus,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let changed = diesel::update(
            stories::table
                .find(id)
                .filter(stories::status.eq(was.as_str())),
        )
        .set((stories::status.eq(to.as_str()), stories::updated_at.eq(now)))
        .execute(conn)?;
        if changed == 0 {
            return Ok(false);
        }
        visibility::story_changed(conn, public_id, Some(was), to, now)?;
        Ok(true)
    }

    /// Replaces everything the submitter wrote (when they answer a change request).
    pub fn replace_content(
        conn: &mut DbConn,
        id: i32,
        c: &StoryContent,
        pii: &[Finding],
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        let signature = similarity::signature_of(c.title.as_ref(), c.body.as_ref());
        diesel::update(stories::table.find(id))
            .set((
                ContentRow::new(c, pii, signature.as_ref()),
                stories::updated_at.eq(now),
            ))
            .execute(conn)?;
        similarity::index(conn, id, signature.as_ref())?;
        Tag::detach_from_story(conn, id)?;
        Tag::attach_to_story(conn, id, &c.tags)?;
        Tag::remove_unused(conn).map(|_| ())
    }

    /// Replaces everything the submitter wrote, as a moderator redacting; the old text is not
    /// kept. A public story's new text is announced.
    pub fn redact(
        conn: &mut DbConn,
        story: &Story,
        c: &StoryContent,
        pii: &[Finding],
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        Self::replace_content(conn, story.id, c, pii, now)?;
        diesel::update(stories::table.find(story.id))
            .set(stories::edited_by_staff.eq(true))
            .execute(conn)?;
        let status = story.status;
        visibility::story_changed(conn, &story.public_id, Some(status), status, now)
    }

    /// Erases everything the submitter wrote, keeping only the row's bare facts and status.
    pub fn erase(conn: &mut DbConn, id: i32, now: NaiveDateTime) -> QueryResult<()> {
        diesel::update(stories::table.find(id))
            .set((
                stories::title.eq(""),
                stories::body_markdown.eq(""),
                stories::body_html.eq(""),
                stories::excerpt.eq(""),
                stories::pen_name.eq(""),
                stories::rules.eq(""),
                stories::contact_email.eq(None::<String>),
                stories::moderator_message.eq(None::<String>),
                stories::pii_flags.eq("[]"),
                stories::claimed_by.eq(None::<i32>),
                stories::claimed_until.eq(None::<NaiveDateTime>),
                stories::updated_at.eq(now),
            ))
            .execute(conn)?;
        similarity::index(conn, id, None)?;
        Tag::detach_from_story(conn, id)?;
        Tag::remove_unused(conn).map(|_| ())
    }

    pub fn find_by_public_id(conn: &mut DbConn, public_id: &PublicId) -> QueryResult<Story> {
        stories::table
            .filter(stories::public_id.eq(public_id.as_ref()))
            .select(Story::as_select())
            .first(conn)
    }

    pub fn find_by_receipt(conn: &mut DbConn, code: &ReceiptCode) -> QueryResult<Option<Story>> {
        stories::table
            .filter(stories::receipt_hash.eq(code.hash()))
            .select(Story::as_select())
            .first(conn)
            .optional()
    }

    /// Since when each item waiting for a moderator has waited: pending stories since they were
    /// sent (or sent again), stories reports hid since they were hidden.
    pub fn waiting_since(conn: &mut DbConn) -> QueryResult<Vec<NaiveDateTime>> {
        let hidden = StoryAction::Hide.leads_to().unwrap_or(StoryStatus::Held);
        let mut since: Vec<NaiveDateTime> = stories::table
            .filter(stories::status.eq(StoryStatus::Pending.as_str()))
            .select(stories::submitted_at)
            .load(conn)?;
        since.extend(
            stories::table
                .filter(stories::status.eq(hidden.as_str()))
                .select(stories::updated_at)
                .load::<NaiveDateTime>(conn)?,
        );
        Ok(since)
    }

    pub fn count_with_status(conn: &mut DbConn, status: StoryStatus) -> QueryResult<i64> {
        stories::table
            .filter(stories::status.eq(status.as_str()))
            .count()
            .get_result(conn)
    }
}
