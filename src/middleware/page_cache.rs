//! Serves public pages that read the same for every visitor from the node's `PageCache`, and
//! refreshes the cache's content version after every write this node answers.

use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web;

use crate::conditional::{Validators, not_modified};
use crate::page_cache::{Page, accepts_gzip};
use crate::state::AppState;

/// Follows changes made outside this node's requests.
pub fn watch(state: web::Data<AppState>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(crate::page_cache::WATCH).await;
            state.page_cache.refresh(state.pool.clone()).await;
        }
    });
}

/// How long a public page that reads the same for every visitor may be served from the cache:
/// until the content changes, or for feeds and the sitemap also at most `CLOCK_BOUND` (and never
/// longer than the cooling-off period itself), because they take a story in only once its
/// cooling-off period has passed.
#[derive(Debug, PartialEq)]
enum Lifetime {
    UntilChange,
    Bounded,
}

/// A story appears in feeds and the sitemap at most this long after its cooling-off ends.
const CLOCK_BOUND: Duration = Duration::from_secs(60);

fn lifetime(path: &str) -> Option<Lifetime> {
    let one = |segment: &str| !segment.is_empty() && !segment.contains('/');
    if path == "/sitemap.xml" {
        return Some(Lifetime::Bounded);
    }
    if let Some((scope, file)) = path.rsplit_once('/')
        && (file == "feed.xml" || file == "feed.atom")
    {
        let known = matches!(scope, "" | "/guides" | "/stories")
            || scope.strip_prefix("/tags/").is_some_and(one);
        return known.then_some(Lifetime::Bounded);
    }
    let page = match path {
        "/" | "/guides" | "/stories" | "/search" => true,
        _ => {
            if let Some(rest) = path.strip_prefix("/stories/") {
                rest.len() == 12 && rest.bytes().all(|b| b.is_ascii_alphanumeric())
            } else if let Some(rest) = path.strip_prefix("/guides/") {
                one(rest)
            } else if let Some(rest) = path.strip_prefix("/tags/") {
                one(rest)
            } else {
                false
            }
        }
    };
    page.then_some(Lifetime::UntilChange)
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let safe = matches!(*req.method(), Method::GET | Method::HEAD);
    if !safe {
        let res = next.call(req).await?;
        // A write: the writer's next page must already show it.
        state.page_cache.refresh(state.pool.clone()).await;
        return Ok(res.map_into_boxed_body());
    }
    let Some(lifetime) = lifetime(req.path()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let cache = &state.page_cache;
    let version = cache.version(state.search.last_applied());
    let key = format!("{}?{}", req.path(), req.query_string());
    if let Some(page) = cache.get(&key, version) {
        let response = if Validators::of(req.headers()).hold(page.headers()) {
            not_modified(page.headers())
        } else {
            page.response(accepts_gzip(req.headers()))
        };
        return Ok(req.into_response(response));
    }
    let res = next.call(req).await?;
    if res.status() != StatusCode::OK || res.headers().contains_key(header::SET_COOKIE) {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let (mut head, body) = res.into_parts();
    let body = actix_web::body::to_bytes(body)
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.into()))?;
    head.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let expires = (lifetime == Lifetime::Bounded)
        .then(|| Instant::now() + CLOCK_BOUND.min(state.settings.feed_delay));
    let page = Page::new(version, expires, head.headers().clone(), body);
    let response = page.response(accepts_gzip(req.headers()));
    cache.put(key, page);
    Ok(ServiceResponse::new(req, response))
}

#[cfg(test)]
mod tests {
    use super::{Lifetime, lifetime};

    #[test]
    fn only_pages_that_read_the_same_for_everyone() {
        for page in [
            "/",
            "/guides",
            "/guides/rules",
            "/stories",
            "/stories/abcdefghjkmn",
            "/tags/%E3%83%AB",
            "/search",
        ] {
            assert_eq!(lifetime(page), Some(Lifetime::UntilChange), "{page}");
        }
        for clocked in [
            "/feed.atom",
            "/feed.xml",
            "/guides/feed.xml",
            "/stories/feed.atom",
            "/tags/x/feed.atom",
            "/sitemap.xml",
        ] {
            assert_eq!(lifetime(clocked), Some(Lifetime::Bounded), "{clocked}");
        }
        for no in [
            "/stories/new",
            "/stories/status",
            "/stories/abcdefghjkmn/report",
            "/mod/feed.atom",
            "/tags/x/y/feed.atom",
            "/transparency",
            "/mod",
            "/subscribe",
            "/stories/receipt",
            "/robots.txt",
        ] {
            assert_eq!(lifetime(no), None, "{no}");
        }
    }
}
