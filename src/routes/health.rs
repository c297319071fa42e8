//! `/healthz`: the process answers. `/readyz`: it can serve — the database answers and the
//! search index has caught up with the outbox (a load balancer should route only to ready nodes).

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};

use crate::models::outbox::Outbox;
use crate::startup::AppState;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(crate::metrics::endpoint));
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
