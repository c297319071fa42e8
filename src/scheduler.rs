//! Time-driven work: publishes scheduled guides when their time comes, queues subscribers'
//! digests, and forgets what is no longer needed (rejected stories' text, unconfirmed
//! subscriptions, readers' report hashes, login failure counts, the daily keys behind them). Each node runs it; conditional updates make sure each happens once.

use std::time::Duration;

use crate::config::Settings;
use crate::db::DbPool;
use crate::models::now;
use crate::models::subscription;
use crate::secrets::SecretKey;
use crate::workflows::{editorial, moderation};

const POLL: Duration = Duration::from_secs(1);

pub fn spawn(
    pool: DbPool,
    settings: Settings,
    key: SecretKey,
    passes: std::sync::Arc<crate::metrics::WorkerPasses>,
) {
    tokio::spawn(async move {
        loop {
            let (p, s, k) = (pool.clone(), settings.clone(), key.clone());
            let result = actix_web::web::block(move || -> anyhow::Result<Vec<String>> {
                let mut conn = p.get()?;
                let published = editorial::publish_due(&mut conn, now())?;
                let expired = moderation::expire_rejected(&mut conn, s.rejected_retention, now())?;
                if expired > 0 {
                    tracing::info!(
                        stories = expired,
                        "rejected stories' text erased after the retention period"
                    );
                }
                let digests = subscription::send_digests(
                    &mut conn,
                    &s.base_url,
                    &k,
                    s.digest_interval,
                    s.feed_delay,
                    now(),
                )?;
                let times = moderation::AlertTimes {
                    interval: s.moderator_alert_interval,
                    remind_after: s.moderator_reminder,
                };
                moderation::alert_moderators(&mut conn, &s.base_url, &times, now())?;
                subscription::Subscription::forget_unconfirmed(&mut conn, now())?;
                crate::models::report::Report::forget_readers(&mut conn, now())?;
                crate::models::session::LoginThrottle::forget_old(&mut conn, now())?;
                let yesterday = now().date() - chrono::Days::new(1);
                crate::models::daily_key::DailyKey::forget_before(&mut conn, yesterday)?;
                if digests > 0 {
                    tracing::info!(digests, "digests queued");
                }
                Ok(published)
            })
            .await;
            match result {
                Ok(Ok(slugs)) => {
                    for slug in slugs {
                        tracing::info!(%slug, "scheduled guide published");
                    }
                }
                Ok(Err(e)) => tracing::error!(
                    error = format!("{e:#}"),
                    "scheduled publishing failed; will retry"
                ),
                Err(e) => tracing::error!(error = %e, "scheduled publishing task failed"),
            }
            passes.finished(crate::metrics::Worker::Scheduler);
            tokio::time::sleep(POLL).await;
        }
    });
}
