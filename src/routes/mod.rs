//! Routes, one module per area. Handlers parse the request, call one model function and render.

pub mod assets;
mod feeds;
mod guides;
mod health;
mod home;
mod listing;
pub(crate) mod moderation;
pub(crate) mod search;
mod stories;
pub mod story_form;
mod submit;
mod subscribe;
mod tags;
mod transparency;
mod visitor;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::error::AppError;
use crate::models::guide::Guide;
use crate::state::AppState;

/// Story and guide bodies are long and arrive percent-encoded: up to 20,000 characters of
/// Japanese is about 180 KB on the wire.
/// What any form may carry: a story of 20,000 characters with all its other fields, percent-
/// encoded (a kanji takes nine bytes), fits with room to spare, so a story that is merely too
/// long gets the form back with its text and a message, not this limit.
const FORM_LIMIT: usize = 512 * 1024;

/// Forms up to `limit` bytes; beyond it 413, and a body that is not a form 400, both as pages.
pub fn form_config(limit: usize) -> web::FormConfig {
    web::FormConfig::default()
        .limit(limit)
        .error_handler(|err, _req| {
            tracing::info!(error = %err, "form refused");
            match err {
                actix_web::error::UrlencodedError::Overflow { .. } => {
                    AppError::PayloadTooLarge.into()
                }
                actix_web::error::UrlencodedError::Payload(e)
                    if crate::middleware::request_limits::timed_out(&e) =>
                {
                    AppError::RequestTimeout.into()
                }
                _ => AppError::bad_request(
                    "フォームの内容を読み取れませんでした。形式が正しくありません。",
                )
                .into(),
            }
        })
}

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.app_data(form_config(FORM_LIMIT))
        .app_data(web::QueryConfig::default().error_handler(|_err, _req| {
            AppError::bad_request("URLの検索条件を読み取れませんでした。").into()
        }))
        .app_data(web::PathConfig::default().error_handler(|_err, _req| AppError::NotFound.into()))
        // Before guides, stories and tags: their feeds are not slugs, ids or tag pages.
        .configure(health::config)
        .configure(feeds::config)
        .configure(home::config)
        .configure(guides::config)
        // Before stories: /stories/new is not a story id.
        .configure(submit::config)
        .configure(stories::config)
        .configure(tags::config)
        .configure(search::config)
        .configure(transparency::config)
        .configure(subscribe::config)
        .configure(assets::config)
        .configure(moderation::config)
        .default_service(web::to(not_found));
}

/// Unknown paths: an old address (a renamed guide, an imported permalink) answers 301 with
/// where it moved; anything else is a 404.
async fn not_found(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let path = percent_encoding::percent_decode_str(req.path())
        .decode_utf8_lossy()
        .into_owned();
    // A control character is never part of an old address (and PostgreSQL refuses NUL in text).
    if path.len() > 300
        || path.chars().any(char::is_control)
        || req.method() != actix_web::http::Method::GET
    {
        return Err(AppError::NotFound);
    }
    let moved = state
        .db(move |conn| {
            let alternate = match path.strip_suffix('/') {
                Some(p) if !p.is_empty() => p.to_owned(),
                _ => format!("{path}/"),
            };
            Ok(match Guide::redirect_for(conn, &path)? {
                Some(to) => Some(to),
                None => Guide::redirect_for(conn, &alternate)?,
            })
        })
        .await?;
    match moved {
        Some(location) => Ok(HttpResponse::MovedPermanently()
            .insert_header((actix_web::http::header::LOCATION, location))
            .finish()),
        None => Err(AppError::NotFound),
    }
}

/// Renders a page with its status. Public pages may be kept by browsers and caches.
pub fn render(status: StatusCode, template: &impl Template) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(template.render()?))
}

/// A public page with status 200.
pub fn page(template: &impl Template) -> Result<HttpResponse, AppError> {
    render(StatusCode::OK, template)
}

/// A page nobody may keep (`no-store`): it carries a form token, a receipt code, what a
/// submitter wrote or staff data.
pub fn private_page(
    template: &impl Template,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut response = render(status, template)?;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
