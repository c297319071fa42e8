//! Publishes scheduled guides when their time comes. Each node runs it; the conditional update in
//! `editorial::publish_due` makes sure each guide is published once.

use std::time::Duration;

use crate::db::DbPool;
use crate::models::editorial;
use crate::models::now;

const POLL: Duration = Duration::from_secs(1);

pub fn spawn(pool: DbPool) {
    tokio::spawn(async move {
        loop {
            let p = pool.clone();
            let result = actix_web::web::block(move || -> anyhow::Result<Vec<String>> {
                let mut conn = p.get()?;
                Ok(editorial::publish_due(&mut conn, now())?)
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
            tokio::time::sleep(POLL).await;
        }
    });
}
