use actix_web::{HttpResponse, web};
use askama::Template;

use crate::db::DbConn;
use crate::domain::{HowMet, LengthBucket};
use crate::error::AppError;
use crate::models::guide::Guide;
use crate::models::story::{Story, StoryFilter};
use crate::models::tag::Tag;
use crate::routes::page;
use crate::state::AppState;
use crate::views::{GuideCard, PageMeta, SITE_NAME, SITE_TAGLINE, StoryCard};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home));
}

/// A link to a filtered list of stories, with how many there are.
pub struct BrowseLink {
    pub label: &'static str,
    pub href: String,
    pub count: i64,
}

impl BrowseLink {
    fn count(
        conn: &mut DbConn,
        label: &'static str,
        href: String,
        filter: &StoryFilter,
    ) -> Result<Self, AppError> {
        Ok(BrowseLink {
            label,
            href,
            count: Story::count_public(conn, filter)?,
        })
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    meta: PageMeta,
    guides: Vec<GuideCard>,
    stories: Vec<StoryCard>,
    by_length: Vec<BrowseLink>,
    by_how_met: Vec<BrowseLink>,
    featured_guide: Option<GuideCard>,
}

const LATEST_GUIDES: i64 = 3;
const LATEST_STORIES: i64 = 6;

async fn home(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let (guides, stories, by_length, by_how_met, featured_guide) = state
        .db(|conn| {
            let guides = Guide::list_published(conn, LATEST_GUIDES, 0)?;
            let (latest, _) = Story::list_public(conn, &StoryFilter::default(), LATEST_STORIES, 0)?;
            let ids: Vec<i32> = latest.iter().map(|s| s.id).collect();
            let tags = Tag::of_stories(conn, &ids)?;
            let stories: Vec<StoryCard> = latest
                .iter()
                .map(|s| StoryCard::new(s, tags.get(&s.id).map_or(&[][..], Vec::as_slice)))
                .collect();
            let by_length = [
                LengthBucket::ThreeYearsPlus,
                LengthBucket::FiveYearsPlus,
                LengthBucket::OneToThreeYears,
                LengthBucket::UnderOneYear,
            ]
            .into_iter()
            .map(|b| {
                let filter = StoryFilter {
                    length: Some(b),
                    ..Default::default()
                };
                BrowseLink::count(
                    conn,
                    b.label(),
                    format!("/stories?length={}", b.as_str()),
                    &filter,
                )
            })
            .collect::<Result<Vec<_>, AppError>>()?;
            let by_how_met = HowMet::ALL
                .iter()
                .map(|h| {
                    let filter = StoryFilter {
                        how_met: Some(*h),
                        ..Default::default()
                    };
                    BrowseLink::count(
                        conn,
                        h.label(),
                        format!("/stories?how_met={}", h.as_str()),
                        &filter,
                    )
                })
                .collect::<Result<Vec<_>, AppError>>()?;
            let featured_guide = Guide::featured_on_home(conn)?;
            Ok((guides, stories, by_length, by_how_met, featured_guide))
        })
        .await?;
    page(&HomePage {
        meta: PageMeta {
            title: format!("{SITE_NAME} — {SITE_TAGLINE}"),
            ..PageMeta::new(
                &state.settings.base_url,
                SITE_NAME,
                "既婚者どうしが家庭を大切にしながら築く、節度あるセカンドパートナーという関係。その体験談と、長く健やかに続けるためのガイドを匿名で読める場所です。",
                "/",
            )
        },
        guides: guides.iter().map(GuideCard::from).collect(),
        stories,
        by_length,
        by_how_met,
        featured_guide: featured_guide.as_ref().map(GuideCard::from),
    })
}
