//! `/healthz`: the process answers. `/readyz`: it can serve — the database answers and the
//! search index has caught up with the outbox (a load balancer should route only to ready nodes).
//! `/metrics`: Prometheus text, only with `ENGAWA_METRICS_TOKEN` as a bearer token, or to a client
//! in `ENGAWA_METRICS_ALLOW` (resolved through trusted proxies, so a public request relayed by a
//! local proxy is not mistaken for a local one).

use actix_web::http::header::{CacheControl, CacheDirective};
use std::fmt::Write;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::domain::StoryStatus;
use crate::models::outbox::Outbox;
use crate::models::story::Story;
use crate::state::AppState;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

fn plain(ok: bool, text: &str) -> HttpResponse {
    let mut r = if ok {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    r.content_type("text/plain; charset=utf-8")
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .body(text.to_owned())
}

async fn healthz() -> HttpResponse {
    plain(true, "ok\n")
}

/// How far the index may lag behind the outbox and still count as caught up.
const MAX_LAG: i64 = 100;

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.draining.load(std::sync::atomic::Ordering::SeqCst) {
        return plain(false, "shutting down\n");
    }
    let pool = state.pool.clone();
    let newest = web::block(move || -> anyhow::Result<i64> {
        let mut conn = pool.get_timeout(std::time::Duration::from_secs(2))?;
        Ok(Outbox::max_id(&mut conn)?)
    })
    .await;
    let newest = match newest {
        Ok(Ok(n)) => n,
        Ok(Err(e)) => {
            tracing::warn!(
                error = format!("{e:#}"),
                "not ready: the database does not answer"
            );
            return plain(false, "database unreachable\n");
        }
        Err(_) => return plain(false, "database unreachable\n"),
    };
    if !state.search.is_ready() {
        return plain(false, "search index rebuilding\n");
    }
    let applied = state.search.last_applied().unwrap_or(0);
    if newest - applied > MAX_LAG {
        return plain(
            false,
            &format!("search index behind by {} events\n", newest - applied),
        );
    }
    plain(true, "ready\n")
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

async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
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
