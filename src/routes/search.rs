//! `/search`: Japanese full-text search over guides and approved stories, with filters.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::{Continuance, HowMet, LengthBucket, TagName};
use crate::error::AppError;
use crate::models::guide::Guide;
use crate::models::story::Story;
use crate::models::synonym::SynonymRow;
use crate::rate_limit::Action;
use crate::search::index::Explained;
use crate::search::query::{Synonyms, parse};
use crate::search::snippet::Segment;
use crate::search::{Hit, Kind, SearchRequest};
use crate::state::AppState;
use crate::views::{PageMeta, Pagination, TagLink, encode};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/search", web::get().to(search));
}

const PER_PAGE: usize = 10;
/// Longer queries are cut: nobody types more, and each word costs a phrase query.
const MAX_QUERY_CHARS: usize = 100;

pub struct HitView {
    pub kind: &'static str,
    pub title: String,
    pub href: String,
    pub facts: Option<String>,
    pub snippet: Vec<Segment>,
    pub tags: Vec<TagLink>,
}

impl From<Hit> for HitView {
    fn from(h: Hit) -> Self {
        HitView {
            kind: h.kind.label(),
            facts: h.story.and_then(|r| r.facts()),
            title: h.title,
            href: h.href,
            snippet: h.snippet,
            tags: h.tags.iter().map(|t| TagLink::new(t)).collect(),
        }
    }
}

/// The hits that are still public in the database. The index follows the database a moment
/// later; a story withdrawn a moment ago must not be offered even for that moment.
async fn still_public(state: &AppState, hits: Vec<Hit>) -> Result<Vec<Hit>, AppError> {
    if hits.is_empty() {
        return Ok(hits);
    }
    let ids: Vec<String> = hits.iter().map(|h| h.id.clone()).collect();
    let public = state
        .db(move |conn| {
            let of = |kind: &str| -> Vec<&str> {
                ids.iter().filter_map(|id| id.strip_prefix(kind)).collect()
            };
            let mut public: Vec<String> = Story::public_among(conn, &of("story:"))?
                .into_iter()
                .map(|id| format!("story:{id}"))
                .collect();
            public.extend(
                Guide::published_among(conn, &of("guide:"))?
                    .into_iter()
                    .map(|slug| format!("guide:{slug}")),
            );
            Ok(public)
        })
        .await?;
    Ok(hits
        .into_iter()
        .filter(|h| public.contains(&h.id))
        .collect())
}

/// The editors' synonym groups: from memory while the content version stands.
async fn synonyms(state: &AppState) -> Result<Arc<Synonyms>, AppError> {
    let version = state.page_cache.version(state.search.last_applied()).0;
    if let Some(held) = state.synonyms.get(version) {
        return Ok(held);
    }
    let groups = state.db(|conn| Ok(SynonymRow::groups(conn)?)).await?;
    let synonyms = Arc::new(Synonyms::new(groups));
    state.synonyms.put(version, synonyms.clone());
    Ok(synonyms)
}

/// Up to five approved stories like the page `id`; the page still renders if search cannot answer.
pub async fn related(state: &AppState, id: String) -> Vec<HitView> {
    if !state.search.is_ready() {
        return Vec::new();
    }
    let index = state.search.clone();
    let hits = match web::block(move || index.related(&id, RELATED)).await {
        Ok(Ok(hits)) => still_public(state, hits).await,
        Ok(Err(e)) => Err(AppError::internal(e)),
        Err(e) => Err(e.into()),
    };
    match hits {
        Ok(hits) => hits.into_iter().map(HitView::from).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "related stories unavailable");
            Vec::new()
        }
    }
}

const RELATED: usize = 5;

/// One choice of a filter, with how many results it would give and the link that applies it.
pub struct FacetLink {
    pub label: String,
    pub count: usize,
    pub href: String,
    pub selected: bool,
}

pub struct FacetGroup {
    pub heading: &'static str,
    pub links: Vec<FacetLink>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    meta: PageMeta,
    q: String,
    ready: bool,
    total: usize,
    hits: Vec<HitView>,
    groups: Vec<FacetGroup>,
    filtered: bool,
    clear_href: String,
    pagination: Pagination,
    notices: Vec<Notice>,
    /// もしかして: the query and its link.
    suggestion: Option<(String, String)>,
    only_excluded: bool,
}

/// A sentence saying what the search did beyond the words as typed, with a link to undo it.
pub struct Notice {
    pub text: String,
    pub link: Option<(String, String)>,
}

/// 『長続き』『秘訣』
fn quoted(words: &[String]) -> String {
    words.iter().map(|w| format!("『{w}』")).collect()
}

fn notices(req: &SearchRequest, explained: &Explained) -> Vec<Notice> {
    let mut notices = Vec::new();
    if !explained.relaxed.is_empty() {
        let whole: Vec<String> = explained.relaxed.iter().map(|(w, _)| w.clone()).collect();
        let parts: Vec<String> = explained
            .relaxed
            .iter()
            .flat_map(|(_, p)| p.iter().cloned())
            .collect();
        let text = if explained.as_written == 0 {
            format!(
                "{}そのものは見つかりませんでした。{}を含むものを表示しています。",
                quoted(&whole),
                quoted(&parts)
            )
        } else {
            format!(
                "{}そのものを含むものは{}件でした。{}を含むものも、そのあとに表示しています。",
                quoted(&whole),
                explained.as_written,
                quoted(&parts)
            )
        };
        notices.push(Notice { text, link: None });
    }
    let parsed = parse(&req.q);
    for w in &explained.widened {
        let exact = parsed.with_exact(&w.word);
        notices.push(Notice {
            text: format!(
                "『{}』に近い言葉（{}）も含めています。",
                w.part,
                w.added.join("、")
            ),
            // Quotes add two characters: a query at the limit would lose its end.
            link: (exact.chars().count() <= MAX_QUERY_CHARS).then(|| {
                (
                    link(req, |r| r.q = exact.clone()),
                    format!("『{}』の言葉どおりに探す", w.word),
                )
            }),
        });
    }
    notices
}

#[derive(Deserialize, Default)]
struct RawQuery {
    q: Option<String>,
    kind: Option<String>,
    length: Option<String>,
    how_met: Option<String>,
    continuing: Option<String>,
    tag: Option<String>,
    page: Option<String>,
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The query string for a request, with `page` left out.
fn query_string(req: &SearchRequest) -> String {
    let mut params = vec![format!("q={}", encode(&req.q))];
    if let Some(k) = req.kind {
        params.push(format!("kind={}", k.as_str()));
    }
    if let Some(l) = req.length {
        params.push(format!("length={}", l.as_str()));
    }
    if let Some(h) = req.how_met {
        params.push(format!("how_met={}", h.as_str()));
    }
    if let Some(c) = req.continuing {
        params.push(format!("continuing={}", c.as_str()));
    }
    if let Some(t) = &req.tag {
        params.push(format!("tag={}", encode(t)));
    }
    params.join("&")
}

fn link(req: &SearchRequest, change: impl FnOnce(&mut SearchRequest)) -> String {
    let mut r = req.clone();
    change(&mut r);
    format!("/search?{}", query_string(&r))
}

/// One filter's choices, each with its count and the link that toggles it in `slot`, keeping
/// the other filters.
fn group<T: Clone + PartialEq>(
    req: &SearchRequest,
    heading: &'static str,
    choices: &[(T, usize)],
    label: impl Fn(&T) -> String,
    slot: fn(&mut SearchRequest) -> &mut Option<T>,
) -> FacetGroup {
    let current = slot(&mut req.clone()).clone();
    FacetGroup {
        heading,
        links: choices
            .iter()
            .map(|(value, n)| FacetLink {
                label: label(value),
                count: *n,
                selected: current.as_ref() == Some(value),
                href: link(req, |r| {
                    let s = slot(r);
                    *s = if s.as_ref() == Some(value) {
                        None
                    } else {
                        Some(value.clone())
                    };
                }),
            })
            .collect(),
    }
}

fn groups(req: &SearchRequest, facets: &crate::search::index::Facets) -> Vec<FacetGroup> {
    vec![
        group(
            req,
            "種類",
            &facets.kinds,
            |k| k.label().to_owned(),
            |r| &mut r.kind,
        ),
        group(
            req,
            "交際期間",
            &facets.lengths,
            |b| b.label().to_owned(),
            |r| &mut r.length,
        ),
        group(
            req,
            "出会いのきっかけ",
            &facets.how_met,
            |h| h.label().to_owned(),
            |r| &mut r.how_met,
        ),
        group(
            req,
            "関係",
            &facets.continuing,
            |c| c.label().to_owned(),
            |r| &mut r.continuing,
        ),
        group(
            req,
            "タグ",
            &facets.tags,
            |t| format!("#{t}"),
            |r| &mut r.tag,
        ),
    ]
}

async fn search(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let raw: RawQuery = serde_urlencoded::from_str(req.query_string())
        .map_err(|_| AppError::bad_request("URLの検索条件を読み取れませんでした。"))?;
    let bad = |e: crate::domain::Invalid| AppError::bad_request(e.0);
    let q: String = present(&raw.q)
        .unwrap_or_default()
        .chars()
        .take(MAX_QUERY_CHARS)
        .collect();
    let page: usize = match present(&raw.page) {
        None => 1,
        Some(p) => p
            .parse()
            .ok()
            .filter(|p| (1..=1000).contains(p))
            .ok_or_else(|| AppError::bad_request("ページ番号が正しくありません。"))?,
    };
    let mut request = SearchRequest {
        kind: match present(&raw.kind) {
            None => None,
            Some(k) => Some(
                Kind::parse(k)
                    .ok_or_else(|| AppError::bad_request("種類の指定が正しくありません。"))?,
            ),
        },
        length: present(&raw.length)
            .map(LengthBucket::parse)
            .transpose()
            .map_err(bad)?,
        how_met: present(&raw.how_met)
            .map(HowMet::parse)
            .transpose()
            .map_err(bad)?,
        continuing: present(&raw.continuing)
            .map(Continuance::parse)
            .transpose()
            .map_err(bad)?,
        tag: present(&raw.tag)
            .map(|t| TagName::parse(t).map(|t| t.as_ref().to_owned()))
            .transpose()
            .map_err(bad)?,
        offset: (page - 1) * PER_PAGE,
        limit: PER_PAGE,
        synonyms: Arc::default(),
        q,
    };
    let ready = state.search.is_ready();
    let searching = ready && !request.q.is_empty();
    // Each search costs a few milliseconds of CPU; one client may not take the node for itself.
    // Pages served from the cache never reach this point and cost nothing.
    if searching
        && !state.limiter.allow(
            Action::Search,
            state.settings.trusted_proxies.client(&req),
            state.settings.searches_per_minute,
            Duration::from_secs(60),
        )
    {
        return Err(AppError::TooManyRequests(
            "短い時間に多くの検索が行われました。1分ほどたってから、もう一度お試しください。"
                .to_owned(),
        ));
    }
    let results = if searching {
        request.synonyms = synonyms(&state).await?;
        let index = state.search.clone();
        let r = request.clone();
        web::block(move || index.search(&r)).await??
    } else {
        crate::search::SearchResults::default()
    };
    let pages = results.total.div_ceil(PER_PAGE).max(1);
    if page > pages {
        return Err(AppError::NotFound);
    }
    let title = if request.q.is_empty() {
        "検索".to_owned()
    } else {
        format!("「{}」の検索結果", request.q)
    };
    let mut meta = PageMeta::new(
        &state.settings.base_url,
        &title,
        "縁側の体験談とガイドを検索します。",
        "/search",
    );
    meta.noindex = !request.q.is_empty();
    let filtered = request.kind.is_some()
        || request.length.is_some()
        || request.how_met.is_some()
        || request.continuing.is_some()
        || request.tag.is_some();
    let page_view = SearchPage {
        meta,
        ready,
        total: results.total,
        groups: if results.total > 0 || filtered {
            groups(&request, &results.facets)
        } else {
            Vec::new()
        },
        hits: still_public(&state, results.hits)
            .await?
            .into_iter()
            .map(HitView::from)
            .collect(),
        filtered,
        notices: notices(&request, &results.explained),
        suggestion: results
            .explained
            .suggestion
            // Without the filters: the words alone find something, the filters may not.
            .map(|s| (format!("/search?q={}", encode(&s)), s)),
        only_excluded: results.explained.only_excluded,
        clear_href: format!("/search?q={}", encode(&request.q)),
        pagination: Pagination::new(
            "/search",
            &query_string(&request),
            page as i64,
            pages as i64,
        ),
        q: request.q,
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut response = crate::routes::render(status, &page_view)?;
    if !ready {
        response.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from_static("30"),
        );
    }
    Ok(response)
}
