//! What every handler, middleware and extractor can reach: the shared state of one node. It
//! holds only types from lower modules, so anything above may import it without a loop;
//! `startup` builds it and wires the server.

use std::sync::Arc;

use actix_web::web;

use crate::config::Settings;
use crate::db::{DbConn, DbPool};
use crate::error::AppError;
use crate::rate_limit::RateLimiter;
use crate::search::SearchIndex;
use crate::secrets::SecretKey;

/// What every handler can reach.
pub struct AppState {
    pub pool: DbPool,
    pub settings: Settings,
    pub secret: SecretKey,
    pub limiter: RateLimiter,
    pub search: Arc<SearchIndex>,
    /// Set on SIGTERM: /readyz answers 503 so the load balancer stops sending, while the server
    /// keeps serving for the drain period.
    pub draining: std::sync::atomic::AtomicBool,
    pub metrics: crate::metrics::Metrics,
    pub page_cache: crate::page_cache::PageCache,
    pub synonyms: crate::search::synonym_cache::SynonymCache,
    pub feed_clock: crate::feeds::FeedClock,
}

impl AppState {
    /// Runs `job` with a pooled connection on the blocking thread pool.
    pub async fn db<T, F>(&self, job: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            job(&mut conn)
        })
        .await?
    }
}
