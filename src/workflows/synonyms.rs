//! The editors' synonym groups for search: add, change, remove. Each change is one transaction
//! with its audit row and its content event (cached search pages on every node must go).

use chrono::NaiveDateTime;

use crate::db::DbConn;
use crate::domain::SynonymGroup;
use crate::models::mod_action::{Actor, ModAction, Subject};
use crate::models::synonym::SynonymRow;
use crate::models::visibility;
use crate::search::analyzer::normalized;

#[derive(Debug, thiserror::Error)]
pub enum SynonymsRefused {
    #[error("not found")]
    NotFound,
    /// A word already belongs to another group: a word can mean only one thing to search.
    #[error("{0}")]
    Taken(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Refuses a group sharing a word (as search compares words) with another group than `except`.
fn check_free(
    conn: &mut DbConn,
    group: &SynonymGroup,
    except: Option<i32>,
) -> Result<(), SynonymsRefused> {
    for other in SynonymRow::all(conn)?
        .into_iter()
        .filter(|r| Some(r.id) != except)
    {
        let theirs: Vec<String> = other.words().iter().map(|w| normalized(w)).collect();
        if let Some(word) = group
            .words()
            .iter()
            .find(|w| theirs.contains(&normalized(w)))
        {
            return Err(SynonymsRefused::Taken(format!(
                "「{word}」はすでに別のグループ（{}）にあります。1つの言葉は1つのグループにだけ入れられます。",
                other.words
            )));
        }
    }
    Ok(())
}

fn existing(conn: &mut DbConn, id: i32) -> Result<SynonymRow, SynonymsRefused> {
    SynonymRow::find(conn, id).map_err(|e| match e {
        diesel::result::Error::NotFound => SynonymsRefused::NotFound,
        e => e.into(),
    })
}

fn log(
    conn: &mut DbConn,
    id: i32,
    by: Actor,
    note: &str,
    now: NaiveDateTime,
) -> Result<(), SynonymsRefused> {
    ModAction::about_other(Subject::Synonyms(id))
        .by(by)
        .change_synonyms()
        .note(Some(note))
        .record(conn, now)
        .map_err(Into::into)
}

/// Runs a change of the groups in one transaction that first announces it: the announcement
/// takes the outbox's turn (on PostgreSQL a lock held to the commit), so two editors' changes
/// run one after the other and the second sees the first's words when it checks for a word
/// already taken.
fn change_groups<T>(
    conn: &mut DbConn,
    now: NaiveDateTime,
    change: impl FnOnce(&mut DbConn) -> Result<T, SynonymsRefused>,
) -> Result<T, SynonymsRefused> {
    crate::db::write_transaction(conn, |conn| {
        visibility::synonyms_changed(conn, now)?;
        change(conn)
    })
}

pub fn add(
    conn: &mut DbConn,
    group: &SynonymGroup,
    by: Actor,
    now: NaiveDateTime,
) -> Result<i32, SynonymsRefused> {
    change_groups(conn, now, |conn| {
        check_free(conn, group, None)?;
        let id = SynonymRow::insert(conn, group, now)?;
        log(conn, id, by, &format!("追加：{}", group.joined()), now)?;
        Ok(id)
    })
}

pub fn change(
    conn: &mut DbConn,
    id: i32,
    group: &SynonymGroup,
    by: Actor,
    now: NaiveDateTime,
) -> Result<(), SynonymsRefused> {
    change_groups(conn, now, |conn| {
        let before = existing(conn, id)?;
        check_free(conn, group, Some(id))?;
        SynonymRow::update(conn, id, group, now)?;
        log(
            conn,
            id,
            by,
            &format!("変更：{} → {}", before.words, group.joined()),
            now,
        )
    })
}

pub fn remove(
    conn: &mut DbConn,
    id: i32,
    by: Actor,
    now: NaiveDateTime,
) -> Result<(), SynonymsRefused> {
    change_groups(conn, now, |conn| {
        let before = existing(conn, id)?;
        SynonymRow::delete(conn, id)?;
        log(conn, id, by, &format!("削除：{}", before.words), now)
    })
}
