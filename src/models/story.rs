use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{stories, story_tags};
use crate::db::{Backend, DbConn};
use crate::domain::{
    HowMet, LengthBucket, PenName, PublicId, RelationshipLength, Rules, StoryBody, StoryStatus,
    TagName, Title,
};
use crate::markdown;
use crate::models::tag::Tag;

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
    pub length_months: i32,
    pub how_met: String,
    pub continuing: bool,
    pub rules: String,
    pub status: String,
    pub submitted_at: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
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
    pub length_months: i32,
    pub how_met: String,
    pub continuing: bool,
    pub submitted_at: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
}

/// The structured fields, read back from the row. The database checks both values, so a
/// failure here means the row was changed outside the app; show the safest reading.
macro_rules! structured_fields {
    ($t:ty) => {
        impl $t {
            pub fn length(&self) -> RelationshipLength {
                RelationshipLength::from_months(self.length_months)
                    .unwrap_or_else(|_| RelationshipLength::from_months(0).expect("0 is valid"))
            }

            pub fn how_met(&self) -> HowMet {
                HowMet::parse(&self.how_met).unwrap_or(HowMet::Other)
            }
        }
    };
}
structured_fields!(Story);
structured_fields!(StoryListItem);

impl Story {
    pub fn rules(&self) -> Rules {
        Rules::from_stored(&self.rules)
    }
}

/// A new story, every field already parsed.
#[derive(Debug, Clone)]
pub struct StoryInput {
    pub public_id: PublicId,
    pub title: Title,
    pub body: StoryBody,
    pub pen_name: PenName,
    pub length: RelationshipLength,
    pub how_met: HowMet,
    pub continuing: bool,
    pub rules: Rules,
    pub tags: Vec<TagName>,
    pub status: StoryStatus,
    pub submitted_at: Option<NaiveDateTime>,
    pub published_at: Option<NaiveDateTime>,
}

/// How readers narrow the list of stories.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoryFilter {
    pub length: Option<LengthBucket>,
    pub how_met: Option<HowMet>,
    pub tag: Option<TagName>,
}

type BoxedStories = stories::BoxedQuery<'static, Backend>;

fn approved() -> diesel::dsl::Eq<stories::status, &'static str> {
    stories::status.eq(StoryStatus::Approved.as_str())
}

impl Story {
    /// An approved story by public id; every other status is not found.
    pub fn find_public(conn: &mut DbConn, public_id: &PublicId) -> QueryResult<Story> {
        stories::table
            .filter(stories::public_id.eq(public_id.as_ref()))
            .filter(approved())
            .select(Story::as_select())
            .first(conn)
    }

    pub fn public_id_taken(conn: &mut DbConn, public_id: &PublicId) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            stories::table.filter(stories::public_id.eq(public_id.as_ref())),
        ))
        .get_result(conn)
    }

    /// Approved stories matching `filter`; `tag_id` is the id of `filter.tag`, looked up first.
    fn public_matching(filter: &StoryFilter, tag_id: Option<i32>) -> BoxedStories {
        let mut query = stories::table.filter(approved()).into_boxed();
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
            query = query.filter(
                stories::id.eq_any(
                    story_tags::table
                        .filter(story_tags::tag_id.eq(tag_id))
                        .select(story_tags::story_id),
                ),
            );
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

    /// Saves a new story with its tags; call inside a transaction so that both land or neither.
    pub fn insert(conn: &mut DbConn, input: &StoryInput, now: NaiveDateTime) -> QueryResult<i32> {
        let rendered = markdown::render(input.body.as_ref());
        let submitted_at = input.submitted_at.unwrap_or(now);
        let published_at = match input.status {
            StoryStatus::Approved => Some(input.published_at.unwrap_or(now)),
            _ => None,
        };
        let id = diesel::insert_into(stories::table)
            .values((
                stories::public_id.eq(input.public_id.as_ref()),
                stories::title.eq(input.title.as_ref()),
                stories::body_markdown.eq(input.body.as_ref()),
                stories::body_html.eq(&rendered.html),
                stories::excerpt.eq(&rendered.excerpt),
                stories::pen_name.eq(input.pen_name.as_ref()),
                stories::length_months.eq(input.length.months()),
                stories::how_met.eq(input.how_met.as_str()),
                stories::continuing.eq(input.continuing),
                stories::rules.eq(input.rules.to_stored()),
                stories::status.eq(input.status.as_str()),
                stories::submitted_at.eq(submitted_at),
                stories::published_at.eq(published_at),
                stories::updated_at.eq(published_at.unwrap_or(submitted_at)),
            ))
            .returning(stories::id)
            .get_result(conn)?;
        Tag::attach_to_story(conn, id, &input.tags)?;
        Ok(id)
    }
}
