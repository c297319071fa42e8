//! Staff accounts, for admins: who has access, and turning an account off (which ends its sessions).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Panel, PanelNav, panel_meta, see_other};
use crate::csrf::TokenForm;
use crate::error::AppError;
use crate::models::user::User;
use crate::routes::private_page;
use crate::views::{PageMeta, date_ja, time_ja};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/users", web::get().to(list))
        .route("/users/{id}/disable", web::post().to(disable))
        .route("/users/{id}/enable", web::post().to(enable));
}

pub struct UserRow {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub disabled: bool,
    pub created: String,
    pub is_self: bool,
    /// 「3回（最後：2026年12月1日 14:05）」, or empty.
    pub failed_logins: String,
}

#[derive(Template)]
#[template(path = "mod/users.html")]
struct UsersPage {
    meta: PageMeta,
    nav: PanelNav,
    users: Vec<UserRow>,
}

async fn list(Panel { state, staff, csrf }: Panel) -> Result<HttpResponse, AppError> {
    staff.require_admin()?;
    let users = state.db(|conn| Ok(User::list(conn)?)).await?;
    private_page(
        &UsersPage {
            meta: panel_meta("スタッフ"),
            nav: PanelNav::new(&staff, &csrf),
            users: users
                .into_iter()
                .map(|u| UserRow {
                    is_self: u.id == staff.user.id,
                    role: u.role().label(),
                    id: u.id,
                    name: u.display_name,
                    email: u.email,
                    disabled: u.disabled,
                    created: date_ja(u.created_at),
                    failed_logins: match u.last_failed_login_at {
                        Some(last) if u.failed_logins > 0 => format!(
                            "{}回（最後：{} {}）",
                            u.failed_logins,
                            date_ja(last),
                            time_ja(last)
                        ),
                        _ => String::new(),
                    },
                })
                .collect(),
        },
        StatusCode::OK,
    )
}

async fn set_disabled(
    Panel { state, staff, csrf }: Panel,
    id: i32,
    form: web::Form<TokenForm>,
    disabled: bool,
) -> Result<HttpResponse, AppError> {
    staff.require_admin()?;
    csrf.verify(&form.csrf_token)?;
    if id == staff.user.id {
        return Err(AppError::bad_request(
            "自分のアカウントは無効にできません。",
        ));
    }
    state
        .db(move |conn| {
            User::find(conn, id)?;
            Ok(User::set_disabled(conn, id, disabled)?)
        })
        .await?;
    Ok(see_other("/mod/users"))
}

async fn disable(
    panel: Panel,
    id: web::Path<i32>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    set_disabled(panel, id.into_inner(), form, true).await
}

async fn enable(
    panel: Panel,
    id: web::Path<i32>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    set_disabled(panel, id.into_inner(), form, false).await
}
