//! Routes, one module per area. Handlers parse the request, call one model function and render.

mod assets;
mod guides;
mod home;
mod listing;
mod stories;
mod tags;

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::error::AppError;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.configure(home::config)
        .configure(guides::config)
        .configure(stories::config)
        .configure(tags::config)
        .configure(assets::config)
        .default_service(web::to(not_found));
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// A rendered page with status 200.
pub fn page(template: &impl Template) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(template.render()?))
}
