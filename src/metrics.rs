//! Prometheus metrics: request counts and latencies by route, and the state of the queues.
//! `/metrics` answers only with `ENGAWA_METRICS_TOKEN` as a bearer token, or to a client in
//! `ENGAWA_METRICS_ALLOW` (resolved through trusted proxies, so a public request relayed by a local
//! proxy is not mistaken for a local one). Routes are recorded by pattern, never by concrete path,
//! so no story id or tag reaches the metrics.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::domain::StoryStatus;
use crate::models::outbox::Outbox;
use crate::models::story::Story;
use crate::startup::AppState;

const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<String, RouteStats>>,
    pub workers: std::sync::Arc<WorkerPasses>,
}

/// The node's background loops.
#[derive(Clone, Copy)]
pub enum Worker {
    Mail,
    Scheduler,
    Erasure,
}

impl Worker {
    const ALL: [Worker; 3] = [Worker::Mail, Worker::Scheduler, Worker::Erasure];

    fn name(self) -> &'static str {
        match self {
            Worker::Mail => "mail",
            Worker::Scheduler => "scheduler",
            Worker::Erasure => "erasure",
        }
    }
}

/// Passes each background loop has finished, failed or not. A count that stops growing is a
/// stuck loop; a test that must show something did *not* happen waits for a pass that began
/// after the moment in question instead of sleeping.
#[derive(Default)]
pub struct WorkerPasses([std::sync::atomic::AtomicU64; 3]);

impl WorkerPasses {
    pub fn finished(&self, worker: Worker) {
        self.0[worker as usize].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP engawa_worker_passes_total Passes finished by each background loop.\n# TYPE engawa_worker_passes_total counter"
        );
        for worker in Worker::ALL {
            let n = self.0[worker as usize].load(std::sync::atomic::Ordering::Relaxed);
            let _ = writeln!(
                out,
                "engawa_worker_passes_total{{worker=\"{}\"}} {n}",
                worker.name()
            );
        }
    }
}

impl Metrics {
    fn record(&self, route: &str, status: u16, seconds: f64) {
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let s = routes.entry(route.to_owned()).or_default();
        *s.by_status.entry(status).or_default() += 1;
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                s.buckets[i] += 1;
            }
        }
        s.sum += seconds;
        s.count += 1;
    }

    fn render(&self, out: &mut String) {
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(
            out,
            "# HELP engawa_http_requests_total Requests answered, by route pattern and status."
        );
        let _ = writeln!(out, "# TYPE engawa_http_requests_total counter");
        for (route, s) in routes.iter() {
            for (status, n) in &s.by_status {
                let _ = writeln!(
                    out,
                    "engawa_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP engawa_http_request_duration_seconds Time to answer, by route pattern."
        );
        let _ = writeln!(out, "# TYPE engawa_http_request_duration_seconds histogram");
        for (route, s) in routes.iter() {
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "engawa_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "engawa_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "engawa_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "engawa_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                s.count
            );
        }
    }
}

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

fn allowed(state: &AppState, req: &HttpRequest) -> bool {
    let by_token = state
        .settings
        .metrics_token
        .as_deref()
        .is_some_and(|token| {
            let given = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            // Compared as keyed hashes, so the time taken says nothing about the token.
            state.secret.sign("metrics", given.as_bytes())
                == state.secret.sign("metrics", token.as_bytes())
        });
    let by_network = state
        .settings
        .trusted_proxies
        .client(req)
        .is_some_and(|ip| state.settings.metrics_allow.contains(ip));
    by_token || by_network
}

pub async fn endpoint(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if !allowed(&state, &req) {
        return HttpResponse::NotFound().finish();
    }
    let pool = state.pool.clone();
    let counts = web::block(move || -> anyhow::Result<(i64, i64, i64)> {
        let mut conn = pool.get()?;
        Ok((
            Story::count_with_status(&mut conn, StoryStatus::Pending)?,
            Outbox::max_id(&mut conn)?,
            Outbox::undelivered_mail_count(&mut conn)?,
        ))
    })
    .await;
    let mut out = String::new();
    state.metrics.render(&mut out);
    state.metrics.workers.render(&mut out);
    if let Ok(Ok((queue, newest, undelivered))) = counts {
        let lag = newest - state.search.last_applied().unwrap_or(0);
        for (name, help, value) in [
            (
                "engawa_moderation_queue_length",
                "Stories waiting for a decision.",
                queue,
            ),
            (
                "engawa_outbox_lag_events",
                "Outbox events this node's search index has not applied.",
                lag,
            ),
            (
                "engawa_mail_undelivered",
                "Mails queued and not yet delivered.",
                undelivered,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP engawa_search_ready Whether this node's search index is ready.\n# TYPE engawa_search_ready gauge\nengawa_search_ready {}",
        u8::from(state.search.is_ready())
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(out)
}
