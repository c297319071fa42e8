//! The editors' synonym groups for search (`domain::SynonymGroup`), stored as their words
//! joined by ・. Changes go through `workflows::synonyms`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::synonym_groups;
use crate::domain::SynonymGroup;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = synonym_groups)]
pub struct SynonymRow {
    pub id: i32,
    pub words: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl SynonymRow {
    pub fn words(&self) -> Vec<String> {
        self.words
            .split(SynonymGroup::SEPARATOR)
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Every group, oldest first.
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<SynonymRow>> {
        synonym_groups::table
            .order(synonym_groups::id)
            .select(SynonymRow::as_select())
            .load(conn)
    }

    /// Every group's words, as search applies them.
    pub fn groups(conn: &mut DbConn) -> QueryResult<Vec<Vec<String>>> {
        Ok(Self::all(conn)?.iter().map(SynonymRow::words).collect())
    }

    pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<SynonymRow> {
        synonym_groups::table
            .find(id)
            .select(SynonymRow::as_select())
            .first(conn)
    }

    pub fn insert(conn: &mut DbConn, group: &SynonymGroup, now: NaiveDateTime) -> QueryResult<i32> {
        diesel::insert_into(synonym_groups::table)
            .values((
                synonym_groups::words.eq(group.joined()),
                synonym_groups::created_at.eq(now),
                synonym_groups::updated_at.eq(now),
            ))
            .returning(synonym_groups::id)
            .get_result(conn)
    }

    pub fn update(
        conn: &mut DbConn,
        id: i32,
        group: &SynonymGroup,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(synonym_groups::table.find(id))
            .set((
                synonym_groups::words.eq(group.joined()),
                synonym_groups::updated_at.eq(now),
            ))
            .execute(conn)
    }

    pub fn delete(conn: &mut DbConn, id: i32) -> QueryResult<usize> {
        diesel::delete(synonym_groups::table.find(id)).execute(conn)
    }
}
