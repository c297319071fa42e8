//! The pages behind the one-time links an admin sends: an invitation (choose a password, and the
//! account exists) and a password reset. Nobody is signed in here; the link is the authority,
//! and a link that is unknown, used or expired gets one and the same answer.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{panel_meta, see_other};
use crate::error::AppError;
use crate::models::now;
use crate::models::staff_link::{Invitation, Purpose};
use crate::passwords;
use crate::routes::private_page;
use crate::routes::visitor::Visitor;
use crate::views::PageMeta;
use crate::workflows::staff::{self, StaffRefused};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/join/{token}", web::get().to(join_form))
        .route("/join/{token}", web::post().to(join))
        .route("/reset/{token}", web::get().to(reset_form))
        .route("/reset/{token}", web::post().to(reset));
}

#[derive(Template)]
#[template(path = "mod/set_password.html")]
struct SetPasswordPage {
    meta: PageMeta,
    csrf: String,
    heading: &'static str,
    /// An invitation (else a reset).
    joining: bool,
    /// Whom the account is for (an invitation), or empty.
    who: String,
    action: String,
    message: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordForm {
    new_password: String,
    confirm: String,
    csrf_token: String,
}

/// Which link a page is for.
#[derive(Clone, Copy)]
enum Link {
    Join,
    Reset,
}

impl Link {
    fn heading(self) -> &'static str {
        match self {
            Link::Join => "アカウントを作る",
            Link::Reset => "パスワードの再設定",
        }
    }

    fn path(self, token: &str) -> String {
        match self {
            Link::Join => format!("/mod/join/{token}"),
            Link::Reset => format!("/mod/reset/{token}"),
        }
    }
}

fn page(
    visitor: &Visitor,
    link: Link,
    token: &str,
    who: String,
    message: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    private_page(
        &SetPasswordPage {
            meta: panel_meta(link.heading()),
            csrf: visitor.csrf.token().to_owned(),
            heading: link.heading(),
            joining: matches!(link, Link::Join),
            who,
            action: link.path(token),
            message,
        },
        status,
    )
}

/// The answer to a link that cannot be used: never says which of unknown, used or expired.
fn unusable(message: &str) -> AppError {
    AppError::Gone(message.to_owned())
}

async fn form(visitor: Visitor, token: String, link: Link) -> Result<HttpResponse, AppError> {
    let t = token.clone();
    let found = visitor
        .state
        .db(move |conn| {
            Ok(staff::link_page(
                conn,
                &t,
                matches!(link, Link::Reset),
                now(),
            ))
        })
        .await?;
    let who = match found {
        Ok(Purpose::Invite(Invitation {
            email,
            display_name,
            role,
        })) => format!("{display_name}さん（{}、{}）", email.as_ref(), role.label()),
        Ok(Purpose::Reset { .. }) => String::new(),
        Err(StaffRefused::Refused(message)) => return Err(unusable(message)),
        Err(other) => return Err(other.into()),
    };
    page(&visitor, link, &token, who, None, StatusCode::OK)
}

async fn set(
    visitor: Visitor,
    token: String,
    link: Link,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    visitor.csrf.verify(&form.csrf_token)?;
    if let Err(e) = passwords::check_new(&form.new_password, &form.confirm) {
        return page(
            &visitor,
            link,
            &token,
            String::new(),
            Some(e.0),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let password = form.into_inner().new_password;
    let result = visitor
        .state
        .db(move |conn| {
            let hash = passwords::hash(&password)?;
            Ok(staff::use_link(
                conn,
                &token,
                matches!(link, Link::Reset),
                &hash,
                now(),
            ))
        })
        .await?;
    match result {
        Ok(()) => Ok(see_other(match link {
            Link::Join => "/mod/login?joined=1",
            Link::Reset => "/mod/login?changed=1",
        })),
        Err(StaffRefused::Refused(message)) => Err(unusable(message)),
        Err(other) => Err(other.into()),
    }
}

async fn join_form(visitor: Visitor, token: web::Path<String>) -> Result<HttpResponse, AppError> {
    form(visitor, token.into_inner(), Link::Join).await
}

async fn join(
    visitor: Visitor,
    token: web::Path<String>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    set(visitor, token.into_inner(), Link::Join, form).await
}

async fn reset_form(visitor: Visitor, token: web::Path<String>) -> Result<HttpResponse, AppError> {
    form(visitor, token.into_inner(), Link::Reset).await
}

async fn reset(
    visitor: Visitor,
    token: web::Path<String>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    set(visitor, token.into_inner(), Link::Reset, form).await
}
