//! Times every request, counts it in the metrics and writes the access log line.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::state::AppState;

/// The submitter's own pages: the form, the receipt, the status page and what it posts. Their
/// log lines would keep to the second when someone sent, resubmitted or withdrew a story, which
/// the database keeps only to the hour; they are counted, not logged.
fn submitters_page(route: &str) -> bool {
    route == "/stories/new" || route == "/stories/receipt" || route.starts_with("/stories/status")
}

/// Times every request, counts it under its route pattern and writes the access log line: the
/// method, the pattern (never the path or query, which hold search words, ids and signed
/// tokens), the status and the time. No client address: we never record who reads what.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let res = next.call(req).await?;
    if let Some(state) = state {
        let route = res
            .request()
            .match_pattern()
            .unwrap_or_else(|| "(unmatched)".to_owned());
        let seconds = started.elapsed().as_secs_f64();
        state.metrics.record(&route, res.status().as_u16(), seconds);
        if submitters_page(&route) {
            return Ok(res);
        }
        tracing::info!(
            target: "engawa::access",
            "{} {route} {} {:.1}ms",
            res.request().method(),
            res.status().as_u16(),
            seconds * 1000.0
        );
    }
    Ok(res)
}
