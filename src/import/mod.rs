//! Bulk import from JSON Lines: one guide, story or search synonym group per line. Every line is checked first;
//! one bad line means nothing is imported, and every bad line is reported with its number.

use std::collections::HashSet;
use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use serde::Deserialize;

use crate::db::DbConn;
use crate::domain::{
    GuideBody, GuideStatus, HowMet, Invalid, PenName, PublicId, RelationshipLength, Rules, Slug,
    StoryBody, StoryStatus, Summary, SynonymGroup, TagName, Title,
};
use crate::models::guide::{Guide, GuideInput};
use crate::models::mod_action::Actor;
use crate::models::now;
use crate::models::story::{Story, StoryContent, StoryInput};
use crate::workflows::editorial;
use crate::workflows::synonyms::{self, SynonymsRefused};

/// The note on an imported guide's first revision.
pub const FIRST_REVISION: &str = "最初の版";

pub mod html;
pub mod wxr;

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Record {
    Guide(GuideRecord),
    Story(StoryRecord),
    Synonyms(SynonymsRecord),
}

/// Words search treats as one: `{"type":"synonyms","words":["恋人","パートナー","相手"]}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SynonymsRecord {
    words: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GuideRecord {
    slug: String,
    title: String,
    #[serde(default)]
    summary: String,
    body: String,
    #[serde(default = "published")]
    status: String,
    published_at: Option<DateTime<FixedOffset>>,
    author: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoryRecord {
    public_id: Option<String>,
    title: String,
    body: String,
    #[serde(default)]
    pen_name: String,
    length_months: i32,
    how_met: String,
    continuing: bool,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default = "approved")]
    status: String,
    submitted_at: Option<DateTime<FixedOffset>>,
    published_at: Option<DateTime<FixedOffset>>,
}

fn published() -> String {
    GuideStatus::Published.as_str().to_owned()
}

fn approved() -> String {
    StoryStatus::Approved.as_str().to_owned()
}

const DEFAULT_AUTHOR: &str = "編集部";

/// One parsed line, ready to insert.
pub enum Item {
    Guide(GuideInput),
    Story(StoryInput),
    Synonyms(SynonymGroup),
}

/// A line that cannot be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{} invalid line(s); nothing was imported", .0.len())]
    Invalid(Vec<LineError>),
    #[error("the database refused the import; nothing was imported: {0}")]
    Database(#[from] diesel::result::Error),
}

/// How many records an import added.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    pub guides: usize,
    pub stories: usize,
    pub synonyms: usize,
}

fn utc(t: DateTime<FixedOffset>) -> NaiveDateTime {
    t.naive_utc()
}

fn parse_guide(r: GuideRecord) -> Result<GuideInput, Invalid> {
    Ok(GuideInput {
        slug: Slug::parse(&r.slug)?,
        title: Title::parse_line(&r.title)?,
        summary: Summary::parse(&r.summary)?,
        body: GuideBody::parse(&r.body)?,
        status: GuideStatus::parse(&r.status)?,
        author_id: None,
        author_name: r
            .author
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| DEFAULT_AUTHOR.to_owned()),
        published_at: r.published_at.map(utc),
        scheduled_at: None,
        category: String::new(),
        featured_on_home: false,
        tags: TagName::parse_list(r.tags.iter().map(String::as_str))?,
    })
}

fn parse_story(r: StoryRecord) -> Result<StoryInput, Invalid> {
    Ok(StoryInput {
        public_id: match r.public_id {
            Some(id) => PublicId::parse(&id)?,
            None => PublicId::generate(),
        },
        content: StoryContent {
            title: Title::parse_line(&r.title)?,
            body: StoryBody::parse(&r.body)?,
            pen_name: PenName::parse(&r.pen_name)?,
            length: RelationshipLength::from_months(r.length_months)?,
            how_met: HowMet::parse(&r.how_met)?,
            continuing: r.continuing,
            facts_known: true,
            rules: Rules::parse_list(r.rules.iter().map(String::as_str))?,
            tags: TagName::parse_list(r.tags.iter().map(String::as_str))?,
        },
        status: StoryStatus::parse(&r.status)?,
        submitted_at: r.submitted_at.map(utc),
        published_at: r.published_at.map(utc),
        receipt_hash: None,
        contact_email: None,
        pii: Vec::new(),
    })
}

/// Parses every line; blank lines are skipped. Returns all the bad lines, not only the first.
pub fn parse(text: &str) -> Result<Vec<(usize, Item)>, Vec<LineError>> {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let mut slugs = HashSet::new();
    let mut public_ids = HashSet::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = serde_json::from_str::<Record>(line)
            .map_err(|e| format!("not a valid record: {e}"))
            .and_then(|record| match record {
                Record::Guide(g) => parse_guide(g).map(Item::Guide).map_err(|e| e.0),
                Record::Story(s) => parse_story(s).map(Item::Story).map_err(|e| e.0),
                Record::Synonyms(s) => SynonymGroup::from_words(s.words.iter().map(String::as_str))
                    .map(Item::Synonyms)
                    .map_err(|e| e.0),
            })
            .and_then(|item| {
                let fresh = match &item {
                    Item::Guide(g) => slugs.insert(g.slug.as_ref().to_owned()),
                    Item::Story(s) => public_ids.insert(s.public_id.as_ref().to_owned()),
                    // A word in two groups is refused when the group is added.
                    Item::Synonyms(_) => true,
                };
                if fresh {
                    Ok(item)
                } else {
                    Err("the same slug or public_id appears earlier in the file".to_owned())
                }
            });
        match parsed {
            Ok(item) => items.push((line_no, item)),
            Err(reason) => errors.push(LineError {
                line: line_no,
                reason,
            }),
        }
    }
    if errors.is_empty() {
        Ok(items)
    } else {
        Err(errors)
    }
}

/// Imports every record of `text` in one transaction, or nothing.
pub fn import_str(conn: &mut DbConn, text: &str) -> Result<Imported, ImportError> {
    let items = parse(text).map_err(ImportError::Invalid)?;
    let now = now();
    crate::db::write_transaction(conn, |conn| {
        let mut summary = Imported::default();
        let mut conflicts = Vec::new();
        for (line, item) in &items {
            match item {
                Item::Guide(g) => {
                    if Guide::slug_taken(conn, &g.slug)? {
                        conflicts.push(LineError {
                            line: *line,
                            reason: format!(
                                "a guide with slug {:?} already exists",
                                g.slug.as_ref()
                            ),
                        });
                        continue;
                    }
                    editorial::add(conn, g, (&g.author_name, FIRST_REVISION), now)?;
                    summary.guides += 1;
                }
                Item::Story(s) => {
                    if Story::public_id_taken(conn, &s.public_id)? {
                        conflicts.push(LineError {
                            line: *line,
                            reason: format!(
                                "a story with public_id {:?} already exists",
                                s.public_id.as_ref()
                            ),
                        });
                        continue;
                    }
                    Story::insert(conn, s, now)?;
                    summary.stories += 1;
                }
                Item::Synonyms(g) => match synonyms::add(conn, g, Actor::System, now) {
                    Ok(_) => summary.synonyms += 1,
                    Err(SynonymsRefused::Database(e)) => return Err(e.into()),
                    Err(refused) => conflicts.push(LineError {
                        line: *line,
                        reason: refused.to_string(),
                    }),
                },
            }
        }
        if conflicts.is_empty() {
            Ok(summary)
        } else {
            Err(ImportError::Invalid(conflicts))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORY: &str = r#"{"type":"story","title":"職場で出会って五年","body":"同じ部署で働いていた彼女とは、最初は仕事の相談をするだけの間柄でした。お互いに家庭があることを最初から話していました。","length_months":62,"how_met":"workplace","continuing":true,"rules":["連絡は平日の昼だけ"],"tags":["職場"]}"#;

    #[test]
    fn every_bad_line_is_named() {
        let text = format!(
            "{STORY}\n\n{{\"type\":\"story\",\"title\":\"\"}}\nnot json\n{}",
            STORY.replace("workplace", "office")
        );
        let errors = parse(&text).err().expect("invalid");
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5]);
        assert!(errors[2].reason.contains("office"), "{:?}", errors[2]);
    }

    #[test]
    fn unknown_fields_and_types_are_refused() {
        let typo = STORY.replace("\"tags\"", "\"tgas\"");
        assert!(parse(&typo).is_err());
        let kind = STORY.replace("\"story\"", "\"page\"");
        assert!(parse(&kind).is_err());
    }

    #[test]
    fn a_repeated_slug_is_refused() {
        let guide = r#"{"type":"guide","slug":"rules","title":"ルール","body":"本文"}"#;
        let errors = parse(&format!("{guide}\n{guide}")).err().expect("invalid");
        assert_eq!(errors[0].line, 2);
    }
}
