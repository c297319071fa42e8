//! A panic in a handler must not drop the visitor's connection or leave them with nothing: it
//! becomes the ordinary 500 page (which says nothing of the cause) with the usual headers, and
//! one log line naming the path. The worker thread survives, so later requests are served.
//!
//! The request cannot be kept aside for the answer (routing needs to own it), so the guard
//! answers with an error whose response is complete in itself; the server turns it into the page.

use std::panic::AssertUnwindSafe;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError, web};
use futures_util::FutureExt;

use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct Panicked {
    message: String,
    https: bool,
}

impl ResponseError for Panicked {
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = AppError::internal(anyhow::anyhow!("{}", self.message)).error_response();
        crate::security_headers::apply(response.headers_mut(), self.https);
        response
    }
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // The pattern, not the path: a path names a story, and its query holds what a reader typed.
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "(unmatched)".to_owned());
    let https = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.settings.is_https());
    // The call itself inside the guarded future: routing and extraction run in it too.
    match AssertUnwindSafe(async move { next.call(req).await })
        .catch_unwind()
        .await
    {
        Ok(result) => result.map(ServiceResponse::map_into_boxed_body),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(Panicked {
                message: format!("handler panicked on {route}: {what}"),
                https,
            }
            .into())
        }
    }
}

/// The route `fault_injection` adds, for the test that proves the guard.
pub async fn forced_panic() -> HttpResponse {
    panic!("forced fault for the panic guard test")
}
