//! The moderation panel under /mod. Every route needs a staff session; every POST a CSRF token.

mod auth;
mod guides;
mod log;
mod queue;
mod story;
mod users;

use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::staff::Staff;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/mod")
            .configure(auth::config)
            .configure(queue::config)
            .configure(story::config)
            .configure(log::config)
            .configure(users::config)
            .configure(guides::config)
            .default_service(web::to(unknown)),
    );
}

/// Unknown panel paths ask for a login first, so the panel's shape is not visible from outside.
async fn unknown(_staff: Staff) -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// The panel's navigation, on every panel page.
pub struct PanelNav {
    pub name: String,
    pub is_admin: bool,
    pub moderates: bool,
    pub edits: bool,
    pub csrf: String,
}

impl PanelNav {
    pub fn new(staff: &Staff, csrf: &crate::csrf::Csrf) -> Self {
        PanelNav {
            name: staff.user.display_name.clone(),
            is_admin: staff.user.role() == crate::domain::Role::Admin,
            moderates: staff.require_moderator().is_ok(),
            edits: staff.require_editor().is_ok(),
            csrf: csrf.token().to_owned(),
        }
    }
}

/// A page of the panel: never indexed, never cached.
pub fn panel_meta(title: &str) -> crate::views::PageMeta {
    crate::views::PageMeta {
        title: format!("{title} | 縁側 管理"),
        ..crate::views::PageMeta::error(title)
    }
}

pub fn panel_page(
    template: &impl askama::Template,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(actix_web::http::header::CacheControl(vec![
            actix_web::http::header::CacheDirective::NoStore,
        ]))
        .body(template.render()?))
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location.to_owned()))
        .finish()
}
