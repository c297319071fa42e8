//! Rendered public pages, kept per node and keyed on the content version: the newest outbox row
//! (every change the public can see writes one, in its transaction) and the newest row the search
//! index has applied. Any publication, withdrawal or edit changes the version, so a cached page is
//! never older than the database it came from; pages that differ per visitor or depend on the
//! clock (forms, feeds with their cooling-off, the sitemap, transparency) are not cached.

use std::collections::HashMap;
use std::sync::Mutex;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{HttpResponse, HttpResponseBuilder};

use crate::models::outbox::Outbox;
use crate::startup::AppState;

/// Beyond this many pages the cache starts over (search pages are as many as queries).
const CAPACITY: usize = 4096;

type Version = (i64, i64);

struct Page {
    version: Version,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

#[derive(Default)]
pub struct PageCache {
    pages: Mutex<HashMap<String, Page>>,
}

/// Public pages that read the same for every visitor and change only with content.
fn cacheable(path: &str) -> bool {
    let is_story = |rest: &str| rest.len() == 12 && rest.bytes().all(|b| b.is_ascii_alphanumeric());
    match path {
        "/" | "/guides" | "/stories" | "/search" => true,
        _ => {
            if let Some(rest) = path.strip_prefix("/stories/") {
                is_story(rest)
            } else if let Some(rest) = path.strip_prefix("/guides/") {
                !rest.contains('/') && !rest.starts_with("feed")
            } else if let Some(rest) = path.strip_prefix("/tags/") {
                !rest.contains('/')
            } else {
                false
            }
        }
    }
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (Some(state), true) = (state, req.method() == Method::GET && cacheable(req.path())) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let pool = state.pool.clone();
    let newest = web::block(move || -> anyhow::Result<i64> {
        let mut conn = pool.get()?;
        Ok(Outbox::max_id(&mut conn)?)
    })
    .await;
    let Ok(Ok(newest)) = newest else {
        // Without a version there is no safe cached answer; the handler reports the trouble.
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let version = (newest, state.search.last_applied().unwrap_or(-1));
    let key = format!("{}?{}", req.path(), req.query_string());
    {
        let pages = state
            .page_cache
            .pages
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(page) = pages.get(&key).filter(|p| p.version == version) {
            let mut builder = HttpResponseBuilder::new(StatusCode::OK);
            for (name, value) in &page.headers {
                builder.insert_header((name.clone(), value.clone()));
            }
            let response = builder.body(page.body.clone());
            return Ok(req.into_response(response));
        }
    }
    let res = next.call(req).await?;
    if res.status() != StatusCode::OK
        || res
            .headers()
            .contains_key(actix_web::http::header::SET_COOKIE)
    {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let body = actix_web::body::to_bytes(body)
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.into()))?;
    let headers: Vec<(HeaderName, HeaderValue)> = head
        .headers()
        .iter()
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    {
        let mut pages = state
            .page_cache
            .pages
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if pages.len() >= CAPACITY {
            pages.clear();
        }
        pages.insert(
            key,
            Page {
                version,
                headers,
                body: body.clone(),
            },
        );
    }
    let response: HttpResponse = head.set_body(body).map_into_boxed_body();
    Ok(ServiceResponse::new(req, response))
}

#[cfg(test)]
mod tests {
    use super::cacheable;

    #[test]
    fn only_pages_that_read_the_same_for_everyone() {
        for yes in [
            "/",
            "/guides",
            "/guides/rules",
            "/stories",
            "/stories/abcdefghjkmn",
            "/tags/%E3%83%AB",
            "/search",
        ] {
            assert!(cacheable(yes), "{yes}");
        }
        for no in [
            "/stories/new",
            "/stories/status",
            "/stories/abcdefghjkmn/report",
            "/feed.atom",
            "/guides/feed.xml",
            "/tags/x/feed.atom",
            "/sitemap.xml",
            "/transparency",
            "/mod",
            "/subscribe",
            "/stories/receipt",
        ] {
            assert!(!cacheable(no), "{no}");
        }
    }
}
