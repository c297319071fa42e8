//! Building and running the web server, in a form tests can call with port 0.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{self, Compress};
use actix_web::{App, HttpServer, web};
use anyhow::Context;

use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::rate_limit::RateLimiter;
use crate::search::SearchIndex;
use crate::search::index::Opened;
use crate::secrets::SecretKey;
use crate::state::AppState;
use crate::{conditional, csrf, demo, mail, routes, scheduler, search};

pub struct Application {
    port: u16,
    server: Server,
    pool: DbPool,
    state: web::Data<AppState>,
}

/// After SIGTERM or SIGINT: how long the node keeps serving while reporting not-ready, then how
/// long in-flight requests may take to finish. Together under ten seconds.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(2);
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(7);

impl Application {
    /// Connects to the database, applies migrations, fills an empty database with the demo
    /// content when asked, and binds the listener. The server runs once `run` is awaited.
    pub fn build(settings: Settings, with_demo: bool) -> anyhow::Result<Self> {
        crate::data_dir::make_private(&settings.data_dir)?;
        let pool = db::connect(&settings.database_url)?;
        if with_demo {
            let mut conn = pool.get().context("cannot get a database connection")?;
            match demo::seed_if_empty(&mut conn)? {
                Some(added) => tracing::info!(
                    guides = added.guides,
                    stories = added.stories,
                    "demo content added"
                ),
                None => tracing::info!("database already has content; demo content not added"),
            }
        }
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let settings = settings.with_bound_port(port);
        let secret = SecretKey::load(settings.secret_key.as_deref(), &settings.data_dir)?;
        let metrics = crate::metrics::Metrics::default();
        mail::sender::spawn(pool.clone(), settings.clone(), metrics.workers.clone())?;
        scheduler::spawn(
            pool.clone(),
            settings.clone(),
            secret.clone(),
            metrics.workers.clone(),
        );
        crate::erasure::spawn(pool.clone(), settings.clone(), metrics.workers.clone());
        let (index, opened) = SearchIndex::open(&settings.data_dir.join("search"))?;
        let index = Arc::new(index);
        search::indexer::spawn(pool.clone(), index.clone(), opened == Opened::Fresh);
        let newest = {
            let mut conn = pool.get().context("cannot get a database connection")?;
            crate::models::outbox::Outbox::max_content_id(&mut conn)?
        };
        let limiter = RateLimiter::new(
            settings.rate_limit_ipv6_prefix,
            crate::rate_limit::DEFAULT_CAPACITY,
        );
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            settings,
            secret,
            limiter,
            search: index,
            draining: std::sync::atomic::AtomicBool::new(false),
            metrics,
            page_cache: crate::page_cache::PageCache::new(newest),
            synonyms: Default::default(),
            feed_clock: crate::feeds::FeedClock::default(),
        });
        crate::middleware::page_cache::watch(state.clone());
        let state_for_signals = state.clone();
        let https = state.settings.is_https();
        let fault_injection = state.settings.fault_injection;
        let server = HttpServer::new(move || {
            App::new()
                .wrap(middleware::from_fn(
                    crate::middleware::panic_guard::middleware,
                ))
                .wrap(middleware::from_fn(conditional::middleware))
                .wrap(middleware::from_fn(
                    crate::middleware::page_cache::middleware,
                ))
                .wrap(middleware::from_fn(
                    crate::middleware::access_log::middleware,
                ))
                .wrap(middleware::from_fn(csrf::middleware))
                .wrap(Compress::default())
                .wrap(middleware::from_fn(conditional::head_as_get))
                .wrap(middleware::from_fn(
                    crate::middleware::request_limits::middleware,
                ))
                .wrap(crate::security_headers::middleware(https))
                .app_data(state.clone())
                .configure(routes::config)
                .configure(|cfg| {
                    if fault_injection {
                        cfg.route(
                            "/__fault/panic",
                            web::get().to(crate::middleware::panic_guard::forced_panic),
                        );
                    }
                })
        })
        .listen(listener)?
        // Signals are handled below, so that the node can drain before it stops accepting.
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
        .run();
        Ok(Application {
            port,
            server,
            pool,
            state: state_for_signals,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pool(&self) -> DbPool {
        self.pool.clone()
    }

    /// Serves until SIGTERM or SIGINT, then drains and stops gracefully.
    pub async fn run(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let state = self.state.clone();
        tokio::spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                tracing::error!("cannot listen for shutdown signals");
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            tracing::info!(
                drain_s = DRAIN.as_secs(),
                "shutting down: draining, then finishing requests in flight"
            );
            state
                .draining
                .store(true, std::sync::atomic::Ordering::SeqCst);
            tokio::time::sleep(DRAIN).await;
            handle.stop(true).await;
        });
        self.server.await
    }
}
