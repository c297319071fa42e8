//! Cheap polling: every successful GET gets an ETag (a hash of its body), and a request that
//! already holds the same version gets 304 with no body. Last-Modified set by a handler (feeds)
//! answers If-Modified-Since the same way. The page cache answers from its stored ETag with the
//! same rules, so a cached page costs no hashing.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, HttpResponseBuilder};

use crate::secrets::sha256_hex;

/// What a request says it already holds.
pub struct Validators {
    if_none_match: Option<String>,
    if_modified_since: Option<std::time::SystemTime>,
}

impl Validators {
    pub fn of(headers: &HeaderMap) -> Self {
        Validators {
            if_none_match: headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            if_modified_since: headers
                .get(header::IF_MODIFIED_SINCE)
                .and_then(|v| v.to_str().ok())
                .and_then(httpdate),
        }
    }

    /// Whether the client's copy is the response with these headers (ETag already set).
    pub fn hold(&self, response_headers: &HeaderMap) -> bool {
        let etag = response_headers
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        match &self.if_none_match {
            Some(tags) => tags
                .split(',')
                .any(|t| t.trim() == "*" || (!etag.is_empty() && t.trim() == etag)),
            None => self.if_modified_since.is_some_and(|since| {
                response_headers
                    .get(header::LAST_MODIFIED)
                    .and_then(|v| v.to_str().ok())
                    .and_then(httpdate)
                    .is_some_and(|modified| modified <= since)
            }),
        }
    }
}

/// 304 for a response with these headers: its validators and caching rules, no body.
pub fn not_modified(response_headers: &HeaderMap) -> HttpResponse {
    let mut builder = HttpResponseBuilder::new(StatusCode::NOT_MODIFIED);
    for name in [
        header::ETAG,
        header::CACHE_CONTROL,
        header::LAST_MODIFIED,
        header::VARY,
    ] {
        if let Some(v) = response_headers.get(&name) {
            builder.insert_header((name.clone(), v.clone()));
        }
    }
    builder.finish()
}

/// Gives a response its ETag and default caching rule, as every successful GET gets them.
pub fn stamp(headers: &mut HeaderMap, body: &[u8]) -> Result<(), actix_web::Error> {
    let etag = format!("W/\"{}\"", &sha256_hex(body)[..24]);
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).map_err(actix_web::error::ErrorInternalServerError)?,
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    Ok(())
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let method = req.method().clone();
    let validators = Validators::of(req.headers());
    let res = next.call(req).await?;
    let no_store = res
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("no-store"));
    if method != Method::GET
        || res.status() != StatusCode::OK
        || no_store
        || res.headers().contains_key(header::ETAG)
    {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let (mut head, body) = res.into_parts();
    let bytes = actix_web::body::to_bytes(body)
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.into()))?;
    stamp(head.headers_mut(), &bytes)?;
    if validators.hold(head.headers()) {
        return Ok(ServiceResponse::new(req, not_modified(head.headers())));
    }
    let response: HttpResponse = head.set_body(bytes).map_into_boxed_body();
    Ok(ServiceResponse::new(req, response))
}

fn httpdate(v: &str) -> Option<std::time::SystemTime> {
    v.parse::<header::HttpDate>()
        .ok()
        .map(std::time::SystemTime::from)
}

/// HEAD is answered as GET: routing, caching and headers are the same, and the HTTP layer
/// (which remembers the method it read) sends no body.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}
