//! Limits on what one request may send, beyond actix's own (a head within 5 s, at most 128 KiB
//! and 96 headers; body sizes are set per route in `routes`).
//!
//! - The address (path and query) is at most 8 KiB and the headers at most 32 KiB together, as
//!   in common proxies: nothing of ours needs more, and everything we parse stays small.
//! - A request body must arrive within a deadline. actix times out only the head: a client that
//!   sends its headers and then trickles the body a byte at a time would otherwise hold its
//!   connection, its buffer and its handler for as long as it liked, and a few thousand such
//!   clients would exhaust the node. Past the deadline reading the body fails with `TimedOut`,
//!   which the form extractor turns into a 408 page.

use std::io;
use std::pin::Pin;
use std::task::Poll;

use actix_web::ResponseError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use futures_util::{FutureExt, Stream, StreamExt};

use crate::error::AppError;
use crate::state::AppState;

const MAX_URI_BYTES: usize = 8 * 1024;
const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Whether reading a body failed because its deadline passed.
pub fn timed_out(error: &PayloadError) -> bool {
    matches!(error, PayloadError::Io(e) if e.kind() == io::ErrorKind::TimedOut)
}

/// The body of `payload`, failing once with `TimedOut` if it is not complete by `deadline`.
fn within(
    mut payload: Payload,
    deadline: tokio::time::Instant,
) -> impl Stream<Item = Result<web::Bytes, PayloadError>> {
    let mut timer = Box::pin(tokio::time::sleep_until(deadline));
    let mut expired = false;
    futures_util::stream::poll_fn(move |cx| {
        if expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = payload.poll_next_unpin(cx) {
            return Poll::Ready(item);
        }
        if timer.poll_unpin(cx).is_ready() {
            expired = true;
            let late = io::Error::new(io::ErrorKind::TimedOut, "request body too slow");
            return Poll::Ready(Some(Err(PayloadError::Io(late))));
        }
        Poll::Pending
    })
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    // Answered here rather than returned as errors, so that the outer middleware (the security
    // headers) still applies to the page.
    let refuse = |req: ServiceRequest, error: AppError| {
        Ok(req
            .into_response(error.error_response())
            .map_into_right_body())
    };
    let uri = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri > MAX_URI_BYTES {
        return refuse(req, AppError::UriTooLong);
    }
    let headers: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers > MAX_HEADER_BYTES {
        return refuse(req, AppError::HeadersTooLarge);
    }
    // GET and HEAD carry no body worth waiting for; the head timeout covers them.
    if !matches!(*req.method(), Method::GET | Method::HEAD)
        && let Some(state) = req.app_data::<web::Data<AppState>>()
    {
        let deadline = tokio::time::Instant::now() + state.settings.body_timeout;
        let body: Pin<Box<dyn Stream<Item = _>>> = Box::pin(within(req.take_payload(), deadline));
        req.set_payload(Payload::from(body));
    }
    Ok(next.call(req).await?.map_into_left_body())
}
