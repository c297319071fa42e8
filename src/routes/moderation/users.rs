//! Staff accounts, for admins: who has access, invitations, roles, turning an account off (which
//! ends its sessions) and on, and password-reset links. Each change is audited
//! (`workflows::staff`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Panel, PanelNav, panel_meta, see_other};
use crate::csrf::TokenForm;
use crate::domain::{Email, Role};
use crate::error::AppError;
use crate::models::now;
use crate::models::staff_link::{INVITE_DAYS, Invitation, RESET_HOURS};
use crate::models::user::User;
use crate::routes::private_page;
use crate::views::{PageMeta, SelectOption, date_ja, time_ja};
use crate::workflows::staff::{self, ByStaff, StaffRefused};
use serde::Deserialize;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/users", web::get().to(list))
        .route("/users/invite", web::post().to(invite))
        .route("/users/{id}/role", web::post().to(change_role))
        .route("/users/{id}/reset", web::post().to(issue_reset))
        .route("/users/{id}/disable", web::post().to(disable))
        .route("/users/{id}/enable", web::post().to(enable));
}

pub struct UserRow {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub role: &'static str,
    /// The role choices, this account's selected.
    pub roles: Vec<SelectOption>,
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
    /// The invitation form as typed, when it comes back with a message.
    invite: InviteForm,
    roles: Vec<SelectOption>,
    message: Option<String>,
}

fn role_options(selected: Role) -> Vec<SelectOption> {
    Role::ALL
        .iter()
        .map(|r| SelectOption {
            value: r.as_str(),
            label: r.label(),
            selected: *r == selected,
        })
        .collect()
}

async fn list(panel: Panel) -> Result<HttpResponse, AppError> {
    panel.staff.require_admin()?;
    users_page(&panel, InviteForm::default(), None, StatusCode::OK).await
}

async fn users_page(
    Panel { state, staff, csrf }: &Panel,
    invite: InviteForm,
    message: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let users = state.db(|conn| Ok(User::list(conn)?)).await?;
    let invited_role = Role::parse(&invite.role).unwrap_or(Role::Editor);
    private_page(
        &UsersPage {
            meta: panel_meta("スタッフ"),
            nav: PanelNav::new(staff, csrf),
            roles: role_options(invited_role),
            invite,
            message,
            users: users
                .into_iter()
                .map(|u| UserRow {
                    is_self: u.id == staff.user.id,
                    role: u.role().label(),
                    roles: role_options(u.role()),
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
        status,
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct InviteForm {
    email: String,
    name: String,
    role: String,
    csrf_token: String,
}

/// A one-time link, shown once: to the admin who made it, to pass on if the mail does not arrive.
#[derive(Template)]
#[template(path = "mod/staff_link.html")]
struct LinkPage {
    meta: PageMeta,
    nav: PanelNav,
    heading: &'static str,
    text: String,
    link: String,
}

fn link_page(
    panel: &Panel,
    heading: &'static str,
    text: String,
    link: String,
) -> Result<HttpResponse, AppError> {
    private_page(
        &LinkPage {
            meta: panel_meta(heading),
            nav: PanelNav::new(&panel.staff, &panel.csrf),
            heading,
            text,
            link,
        },
        StatusCode::OK,
    )
}

async fn invite(panel: Panel, form: web::Form<InviteForm>) -> Result<HttpResponse, AppError> {
    panel.staff.require_admin()?;
    panel.csrf.verify(&form.csrf_token)?;
    let form = form.into_inner();
    let parsed = (|| {
        let email = Email::parse_lowercase(&form.email).map_err(|e| e.0)?;
        let name = form.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 40 || name.contains('\n') {
            return Err("名前を1行、40文字以内で入力してください。".to_owned());
        }
        let role = Role::parse(&form.role).map_err(|e| e.0)?;
        Ok((email, name, role))
    })();
    let (email, name, role) = match parsed {
        Ok(p) => p,
        Err(message) => {
            return users_page(
                &panel,
                form,
                Some(message),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let by = panel.staff.user.clone();
    let base = panel.state.settings.base_url.clone();
    let who = Invitation {
        email: email.clone(),
        display_name: name.clone(),
        role,
    };
    let result = panel
        .state
        .db(move |conn| Ok(staff::invite(conn, &ByStaff::from(&by), &who, &base, now())))
        .await?;
    match result {
        Ok(link) => link_page(
            &panel,
            "招待リンクを発行しました",
            format!(
                "{name}さん（{}、{}）への招待リンクです。同じリンクをメールでも送りました。このリンクが表示されるのはこの一度だけで、{}日間、一度だけ使えます。",
                email.as_ref(),
                role.label(),
                INVITE_DAYS
            ),
            link,
        ),
        Err(StaffRefused::Refused(message)) => {
            users_page(&panel, form, Some(message.to_owned()), StatusCode::CONFLICT).await
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RoleForm {
    role: String,
    csrf_token: String,
}

async fn change_role(
    panel: Panel,
    id: web::Path<i32>,
    form: web::Form<RoleForm>,
) -> Result<HttpResponse, AppError> {
    panel.staff.require_admin()?;
    panel.csrf.verify(&form.csrf_token)?;
    let role = Role::parse(&form.role).map_err(|e| AppError::bad_request(e.0))?;
    let (by, id) = (panel.staff.user.clone(), id.into_inner());
    panel
        .state
        .db(move |conn| {
            Ok(staff::change_role(
                conn,
                &ByStaff::from(&by),
                id,
                role,
                now(),
            ))
        })
        .await??;
    Ok(see_other("/mod/users"))
}

async fn issue_reset(
    panel: Panel,
    id: web::Path<i32>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    panel.staff.require_admin()?;
    panel.csrf.verify(&form.csrf_token)?;
    let (by, id) = (panel.staff.user.clone(), id.into_inner());
    let base = panel.state.settings.base_url.clone();
    let link = panel
        .state
        .db(move |conn| {
            Ok(staff::issue_reset(
                conn,
                &ByStaff::from(&by),
                id,
                &base,
                now(),
            ))
        })
        .await??;
    link_page(
        &panel,
        "パスワード再設定リンクを発行しました",
        format!(
            "同じリンクを本人にメールで送りました。このリンクが表示されるのはこの一度だけで、{RESET_HOURS}時間、一度だけ使えます。使われるまでは、いまのパスワードも使えます。"
        ),
        link,
    )
}

async fn set_disabled(
    panel: Panel,
    id: i32,
    form: web::Form<TokenForm>,
    disabled: bool,
) -> Result<HttpResponse, AppError> {
    panel.staff.require_admin()?;
    panel.csrf.verify(&form.csrf_token)?;
    let by = panel.staff.user.clone();
    panel
        .state
        .db(move |conn| {
            Ok(staff::set_disabled(
                conn,
                &ByStaff::from(&by),
                id,
                disabled,
                now(),
            ))
        })
        .await??;
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
