//! CSRF protection for every form: a random id in an HttpOnly cookie, and in each form a token
//! that is the id signed with the site's key. A forged request from another site cannot read the
//! cookie, so it cannot produce the token.

use std::future::{Ready, ready};

use crate::cookies::Jar;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use crate::error::AppError;
use crate::secrets::random_hex;
use crate::state::AppState;

/// The name of the hidden field every form carries.
pub const FIELD: &str = "csrf_token";
const PURPOSE: &str = "csrf";

/// The visitor's id from their cookie, if they have one.
#[derive(Clone)]
struct CsrfId(String);

/// An id made for this request because a form needed one; the response carries it as a cookie.
#[derive(Clone)]
struct IssuedId(String);

fn looks_like_an_id(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Reads the visitor's CSRF id before the handler runs, and sets the cookie when a form on the
/// page needed a new one. Pages without forms set no cookie, so readers are not marked and
/// public pages stay the same for everyone.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let https = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.settings.is_https());
    if let Some(id) = Jar::Csrf
        .read(req.request(), https)
        .filter(|v| looks_like_an_id(v))
    {
        req.extensions_mut().insert(CsrfId(id));
    }
    let mut res = next.call(req).await?;
    let issued = res.request().extensions().get::<IssuedId>().cloned();
    if let Some(IssuedId(id)) = issued {
        res.response_mut()
            .add_cookie(&Jar::Csrf.cookie(id, https))?;
    }
    Ok(res)
}

/// A form with nothing but its CSRF token: logout, unpublish, restore, enable/disable.
#[derive(serde::Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    pub csrf_token: String,
}

/// The token for this visitor's forms; also checks a submitted token.
pub struct Csrf {
    token: String,
    id: String,
    state: web::Data<AppState>,
}

impl Csrf {
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Fails with 403 unless `submitted` is this visitor's token.
    pub fn verify(&self, submitted: &str) -> Result<(), AppError> {
        if self
            .state
            .secret
            .verify(PURPOSE, self.id.as_bytes(), submitted)
        {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// Gives the visitor a new id, which the response sets: tokens made for the old one (a form
/// loaded before signing in, say) stop working. Called when someone signs in or out.
pub fn renew(req: &HttpRequest) {
    let id = random_hex(32);
    let mut extensions = req.extensions_mut();
    extensions.insert(CsrfId(id.clone()));
    extensions.insert(IssuedId(id));
}

impl FromRequest for Csrf {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let known = req.extensions().get::<CsrfId>().map(|c| c.0.clone());
        let id = known.unwrap_or_else(|| {
            let id = random_hex(32);
            let mut extensions = req.extensions_mut();
            extensions.insert(CsrfId(id.clone()));
            extensions.insert(IssuedId(id.clone()));
            id
        });
        let state = req.app_data::<web::Data<AppState>>().cloned();
        ready(match state {
            Some(state) => Ok(Csrf {
                token: state.secret.sign(PURPOSE, id.as_bytes()),
                id,
                state,
            }),
            None => Err(AppError::internal(anyhow::anyhow!(
                "the application state is not installed"
            ))),
        })
    }
}
