//! Who is signed in to the moderation panel: the staff session cookie, checked against the
//! database on every request, so a disabled account or a changed password ends it at once.

use std::future::Future;
use std::pin::Pin;

use crate::cookies::Jar;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};

use crate::domain::Role;
use crate::error::AppError;
use crate::models::now;
use crate::models::session::Session;
use crate::models::user::User;
use crate::state::AppState;

/// A signed-in staff member. Extracting it from a request without a live session redirects to
/// the login page, which returns to the page asked for.
pub struct Staff {
    pub user: User,
    pub token: String,
}

impl Staff {
    pub fn require_moderator(&self) -> Result<(), AppError> {
        if self.user.role().can_moderate() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Editors and admins write guides; moderators do not.
    pub fn require_editor(&self) -> Result<(), AppError> {
        if matches!(self.user.role(), Role::Admin | Role::Editor) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.user.role() == Role::Admin {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// Where the login page should return to: the page asked for when it was a GET, else the queue.
fn return_path(req: &HttpRequest) -> String {
    if req.method() == Method::GET {
        req.uri()
            .path_and_query()
            .map_or_else(|| "/mod".to_owned(), |p| p.as_str().to_owned())
    } else {
        "/mod".to_owned()
    }
}

impl FromRequest for Staff {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let https = state.as_ref().is_some_and(|s| s.settings.is_https());
        let token = Jar::Session
            .read(req, https)
            .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()));
        let next = return_path(req);
        Box::pin(async move {
            let (Some(token), Some(state)) = (token, state) else {
                return Err(AppError::LoginRequired { next });
            };
            let lookup = token.clone();
            match state
                .db(move |conn| Ok(Session::user(conn, &lookup, now())?))
                .await?
            {
                Some(user) => Ok(Staff { user, token }),
                None => Err(AppError::LoginRequired { next }),
            }
        })
    }
}

/// Accepts only paths inside the panel, so `next=` can never send anyone to another site.
pub fn safe_next(next: &str) -> &str {
    let inside = (next == "/mod" || next.starts_with("/mod/") || next.starts_with("/mod?"))
        && !next.contains("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if inside { next } else { "/mod" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_panel_paths_are_returned_to() {
        assert_eq!(safe_next("/mod/stories/abc"), "/mod/stories/abc");
        assert_eq!(safe_next("/mod?done=approve"), "/mod?done=approve");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/mod//evil.example",
            "/\\evil.example",
            "/modx",
            "/",
            "javascript:alert(1)",
            "/mod/\r\nx",
        ] {
            assert_eq!(safe_next(bad), "/mod", "{bad}");
        }
    }
}
