//! Cheap polling: every successful GET gets an ETag (a hash of its body), and a request that
//! already holds the same version gets 304 with no body. Last-Modified set by a handler (feeds)
//! answers If-Modified-Since the same way.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, HttpResponseBuilder};

use crate::secrets::sha256_hex;

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let method = req.method().clone();
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let if_modified_since = req
        .headers()
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(httpdate);
    let res = next.call(req).await?;
    let no_store = res
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("no-store"));
    if !(method == Method::GET || method == Method::HEAD)
        || res.status() != StatusCode::OK
        || no_store
    {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let (mut head, body) = res.into_parts();
    let bytes = actix_web::body::to_bytes(body)
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.into()))?;
    let etag = format!("W/\"{}\"", &sha256_hex(&bytes)[..24]);
    let matches_etag = if_none_match
        .as_deref()
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let not_modified_since = if_none_match.is_none()
        && if_modified_since.is_some_and(|since| {
            head.headers()
                .get(header::LAST_MODIFIED)
                .and_then(|v| v.to_str().ok())
                .and_then(httpdate)
                .is_some_and(|modified| modified <= since)
        });
    let etag_value =
        HeaderValue::from_str(&etag).map_err(actix_web::error::ErrorInternalServerError)?;
    if matches_etag || not_modified_since {
        let mut builder = HttpResponseBuilder::new(StatusCode::NOT_MODIFIED);
        builder.insert_header((header::ETAG, etag_value));
        for name in [header::CACHE_CONTROL, header::LAST_MODIFIED, header::VARY] {
            if let Some(v) = head.headers().get(&name) {
                builder.insert_header((name.clone(), v.clone()));
            }
        }
        return Ok(ServiceResponse::new(req, builder.finish()));
    }
    head.headers_mut().insert(header::ETAG, etag_value);
    if !head.headers().contains_key(header::CACHE_CONTROL) {
        head.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    let response: HttpResponse = head.set_body(bytes).map_into_boxed_body();
    Ok(ServiceResponse::new(req, response))
}

fn httpdate(v: &str) -> Option<std::time::SystemTime> {
    v.parse::<header::HttpDate>()
        .ok()
        .map(std::time::SystemTime::from)
}
