use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{guide_tags, story_tags, tags};
use crate::domain::TagName;

pub struct Tag;

impl Tag {
    /// The ids of the stories with a tag, as a subquery.
    pub fn stories_tagged(
        tag_id: i32,
    ) -> diesel::dsl::Select<
        diesel::dsl::Filter<story_tags::table, diesel::dsl::Eq<story_tags::tag_id, i32>>,
        story_tags::story_id,
    > {
        story_tags::table
            .filter(story_tags::tag_id.eq(tag_id))
            .select(story_tags::story_id)
    }

    /// The ids of the guides with a tag, as a subquery.
    pub fn guides_tagged(
        tag_id: i32,
    ) -> diesel::dsl::Select<
        diesel::dsl::Filter<guide_tags::table, diesel::dsl::Eq<guide_tags::tag_id, i32>>,
        guide_tags::guide_id,
    > {
        guide_tags::table
            .filter(guide_tags::tag_id.eq(tag_id))
            .select(guide_tags::guide_id)
    }

    /// The id of the tag, creating it when it is new.
    pub fn id_for(conn: &mut DbConn, name: &TagName) -> QueryResult<i32> {
        let existing = tags::table
            .filter(tags::name.eq(name.as_ref()))
            .select(tags::id)
            .first::<i32>(conn)
            .optional()?;
        match existing {
            Some(id) => Ok(id),
            None => diesel::insert_into(tags::table)
                .values(tags::name.eq(name.as_ref()))
                .returning(tags::id)
                .get_result(conn),
        }
    }

    pub fn find(conn: &mut DbConn, name: &TagName) -> QueryResult<Option<i32>> {
        tags::table
            .filter(tags::name.eq(name.as_ref()))
            .select(tags::id)
            .first(conn)
            .optional()
    }

    pub fn attach_to_guide(conn: &mut DbConn, guide_id: i32, names: &[TagName]) -> QueryResult<()> {
        for name in names {
            let tag_id = Self::id_for(conn, name)?;
            diesel::insert_into(guide_tags::table)
                .values((
                    guide_tags::guide_id.eq(guide_id),
                    guide_tags::tag_id.eq(tag_id),
                ))
                .execute(conn)?;
        }
        Ok(())
    }

    pub fn attach_to_story(conn: &mut DbConn, story_id: i32, names: &[TagName]) -> QueryResult<()> {
        for name in names {
            let tag_id = Self::id_for(conn, name)?;
            diesel::insert_into(story_tags::table)
                .values((
                    story_tags::story_id.eq(story_id),
                    story_tags::tag_id.eq(tag_id),
                ))
                .execute(conn)?;
        }
        Ok(())
    }

    pub fn detach_from_story(conn: &mut DbConn, story_id: i32) -> QueryResult<()> {
        diesel::delete(story_tags::table.filter(story_tags::story_id.eq(story_id)))
            .execute(conn)
            .map(|_| ())
    }

    /// Deletes the tags that no story or guide uses any more: a tag name a submitter typed
    /// leaves with the last story that had it.
    pub fn remove_unused(conn: &mut DbConn) -> QueryResult<usize> {
        diesel::delete(
            tags::table
                .filter(diesel::dsl::not(
                    tags::id.eq_any(story_tags::table.select(story_tags::tag_id)),
                ))
                .filter(diesel::dsl::not(
                    tags::id.eq_any(guide_tags::table.select(guide_tags::tag_id)),
                )),
        )
        .execute(conn)
    }

    pub fn of_guide(conn: &mut DbConn, guide_id: i32) -> QueryResult<Vec<String>> {
        guide_tags::table
            .inner_join(tags::table)
            .filter(guide_tags::guide_id.eq(guide_id))
            .select(tags::name)
            .order(tags::name)
            .load(conn)
    }

    /// Tags of many stories in one query, keyed by story id.
    pub fn of_stories(
        conn: &mut DbConn,
        story_ids: &[i32],
    ) -> QueryResult<HashMap<i32, Vec<String>>> {
        let rows: Vec<(i32, String)> = story_tags::table
            .inner_join(tags::table)
            .filter(story_tags::story_id.eq_any(story_ids))
            .select((story_tags::story_id, tags::name))
            .order(tags::name)
            .load(conn)?;
        let mut by_story: HashMap<i32, Vec<String>> = HashMap::new();
        for (story_id, name) in rows {
            by_story.entry(story_id).or_default().push(name);
        }
        Ok(by_story)
    }
}
