//! The visitor behind a public form: what every such handler starts from.

use std::future::{Ready, ready};
use std::net::IpAddr;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use crate::csrf::Csrf;
use crate::error::AppError;
use crate::rate_limit::Action;
use crate::state::AppState;

/// The app, the request and the visitor's CSRF token, taken together from the request.
pub struct Visitor {
    pub state: web::Data<AppState>,
    pub req: HttpRequest,
    pub csrf: Csrf,
}

impl Visitor {
    /// The client's address as the trusted proxies report it; it keys rate limits and the
    /// login throttle in memory and is never stored.
    pub fn client(&self) -> Option<IpAddr> {
        self.state.settings.trusted_proxies.client(&self.req)
    }

    /// Whether this client may do `action` once more: at most `limit` times per `window`.
    pub fn allowed(&self, action: Action, limit: usize, window: Duration) -> bool {
        self.state
            .limiter
            .allow(action, self.client(), limit, window)
    }
}

impl FromRequest for Visitor {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state = req
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("the app state is missing")));
        ready(
            Csrf::from_request(req, payload)
                .into_inner()
                .and_then(|csrf| {
                    Ok(Visitor {
                        state: state?,
                        req: req.clone(),
                        csrf,
                    })
                }),
        )
    }
}
