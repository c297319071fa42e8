//! The guide editor's form: its fields as typed, their errors, and parsing them into a draft
//! (with the publishing time read in the editors' time zone).

use chrono::{NaiveDateTime, TimeZone};
use serde::Deserialize;

use crate::domain::{Byline, GuideBody, PublicId, Slug, Summary, TagName, Title};
use crate::models::guide::Guide;
use crate::models::now;
use crate::state::AppState;
use crate::workflows::editorial::{GuideDraft, Intent};

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct GuideForm {
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub body: String,
    pub tags: String,
    pub category: String,
    pub featured: String,
    pub on_home: String,
    pub byline: String,
    pub publish_at: String,
    pub version: String,
    pub action: String,
    pub csrf_token: String,
}

#[derive(Debug, Default)]
pub struct GuideErrors {
    pub title: Option<String>,
    pub slug: Option<String>,
    pub summary: Option<String>,
    pub body: Option<String>,
    pub tags: Option<String>,
    pub category: Option<String>,
    pub featured: Option<String>,
    pub byline: Option<String>,
    pub publish_at: Option<String>,
    pub form: Option<String>,
}

impl GuideErrors {
    fn any(&self) -> bool {
        [
            &self.title,
            &self.slug,
            &self.summary,
            &self.body,
            &self.tags,
            &self.category,
            &self.featured,
            &self.byline,
            &self.publish_at,
            &self.form,
        ]
        .iter()
        .any(|e| e.is_some())
    }
}

fn take<T>(r: Result<T, crate::domain::Invalid>, slot: &mut Option<String>) -> Option<T> {
    r.map_err(|e| *slot = Some(e.0)).ok()
}

impl GuideForm {
    pub fn from_guide(g: &Guide, tags: &[String], featured: &[String], state: &AppState) -> Self {
        GuideForm {
            title: g.title.clone(),
            slug: g.slug.clone(),
            summary: g.summary.clone(),
            body: g.body_markdown.clone(),
            tags: tags.join(", "),
            category: g.category.clone(),
            featured: featured.join("\n"),
            on_home: if g.featured_on_home {
                "yes".into()
            } else {
                String::new()
            },
            publish_at: g
                .scheduled_at
                .map(|t| {
                    state
                        .settings
                        .timezone
                        .from_utc_datetime(&t)
                        .format("%Y-%m-%dT%H:%M")
                        .to_string()
                })
                .unwrap_or_default(),
            byline: g.author_name.clone(),
            version: g.version.to_string(),
            ..Default::default()
        }
    }

    /// The form of a new guide: signed 編集部 until the editors choose another name.
    pub fn new_guide() -> Self {
        GuideForm {
            byline: Byline::EDITORS.to_owned(),
            ..Default::default()
        }
    }

    /// Parses every field; the slug may be empty (one is suggested from the title).
    pub fn parse(&self, state: &AppState) -> (Option<(GuideDraft, Intent)>, GuideErrors) {
        let mut e = GuideErrors::default();
        let title = take(Title::parse_line(&self.title), &mut e.title);
        let slug = if self.slug.trim().is_empty() {
            Some(None)
        } else {
            take(Slug::parse(&self.slug), &mut e.slug).map(Some)
        };
        let summary = take(Summary::parse(&self.summary), &mut e.summary);
        let body = take(GuideBody::parse(&self.body), &mut e.body);
        let tags = take(
            TagName::parse_list(
                self.tags
                    .split([',', '、', '，'])
                    .filter(|t| !t.trim().is_empty()),
            ),
            &mut e.tags,
        );
        let category = self.category.trim().to_owned();
        if category.chars().count() > 40 {
            e.category = Some("カテゴリは40文字以内にしてください。".to_owned());
        }
        let featured: Result<Vec<PublicId>, _> = self
            .featured
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .map(|s| PublicId::parse(s.rsplit('/').next().unwrap_or(s)))
            .collect();
        let featured = take(featured, &mut e.featured);
        let byline = take(Byline::parse(&self.byline), &mut e.byline);
        let intent = match self.action.as_str() {
            "publish" => Some(Intent::PublishNow),
            "schedule" => match parse_local(&self.publish_at, state) {
                Ok(at) if at > now() => Some(Intent::Schedule(at)),
                Ok(_) => {
                    e.publish_at = Some("公開日時は今より後にしてください。".to_owned());
                    None
                }
                Err(message) => {
                    e.publish_at = Some(message);
                    None
                }
            },
            _ => Some(Intent::Save),
        };
        match (title, slug, summary, body, tags, featured, byline, intent) {
            (
                Some(title),
                Some(slug),
                Some(summary),
                Some(body),
                Some(tags),
                Some(featured),
                Some(byline),
                Some(intent),
            ) if !e.any() => (
                Some((
                    GuideDraft {
                        title,
                        slug,
                        summary,
                        body,
                        tags,
                        category,
                        featured,
                        on_home: self.on_home == "yes",
                        byline,
                    },
                    intent,
                )),
                e,
            ),
            _ => (None, e),
        }
    }
}

/// A local date and time in the editors' time zone, as a datetime-local field sends it, in UTC.
/// The editor's local time as UTC, or the message to show beside the field.
fn parse_local(raw: &str, state: &AppState) -> Result<NaiveDateTime, String> {
    let raw = raw.trim();
    let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M"))
        .map_err(|_| "公開日時を「2026-12-01T09:00」の形で入力してください。".to_owned())?;
    let zone = state.settings.timezone;
    // A time skipped when the clocks go forward does not exist there; a repeated one (clocks
    // going back) is taken at its first occurrence.
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.naive_utc())
        .ok_or_else(|| {
            format!(
                "この日時は時計の切り替えのため{}には存在しません。前後の時刻を入力してください。",
                zone.name()
            )
        })
}
