//! Static files, compiled into the binary so that the site runs from any directory.

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/site.css", web::get().to(stylesheet));
}

const SITE_CSS: &str = include_str!("../../static/site.css");

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(3600),
        ]))
        .body(SITE_CSS)
}
