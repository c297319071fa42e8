//! Login, logout and password change.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::{Panel, PanelNav, panel_meta, see_other};
use crate::cookies::Jar;
use crate::csrf::{Csrf, TokenForm};
use crate::domain::Email;
use crate::error::AppError;
use crate::models::now;
use crate::models::session::{KnownDevice, LoginKeys, LoginThrottle, Session};
use crate::models::user::User;
use crate::passwords;
use crate::routes::private_page;
use crate::routes::visitor::Visitor;
use crate::staff::{Staff, safe_next};
use crate::views::PageMeta;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::get().to(login_form))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout))
        .route("/password", web::get().to(password_form))
        .route("/password", web::post().to(change_password));
}

#[derive(Template)]
#[template(path = "mod/login.html")]
struct LoginPage {
    meta: PageMeta,
    csrf: String,
    next: String,
    email: String,
    message: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
    changed: Option<String>,
    joined: Option<String>,
}

async fn login_form(csrf: Csrf, query: web::Query<NextQuery>) -> Result<HttpResponse, AppError> {
    private_page(
        &LoginPage {
            meta: panel_meta("ログイン"),
            csrf: csrf.token().to_owned(),
            next: safe_next(query.next.as_deref().unwrap_or("/mod")).to_owned(),
            email: String::new(),
            message: match (&query.changed, &query.joined) {
                (Some(_), _) => Some(
                    "パスワードを変更しました。新しいパスワードでログインしてください。".to_owned(),
                ),
                (None, Some(_)) => Some(
                    "アカウントを作りました。決めたパスワードでログインしてください。".to_owned(),
                ),
                (None, None) => None,
            },
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf_token: String,
}

const BAD_LOGIN: &str = "メールアドレスかパスワードが正しくありません。";

/// What a login attempt came to.
enum Attempt {
    SignedIn(String),
    /// Too many failures under this attempt's keys: try again at this time.
    Wait(NaiveDateTime),
    Refused,
}

fn wait_message(until: NaiveDateTime, now: NaiveDateTime) -> (String, i64) {
    let seconds = ((until - now).num_milliseconds() + 999)
        .div_euclid(1000)
        .max(1);
    let left = if seconds < 60 {
        format!("{seconds}秒")
    } else {
        format!("{}分", (seconds + 59) / 60)
    };
    (
        format!(
            "ログインに続けて失敗したため、次に試せるまで少しお待ちください（あと{left}ほど）。失敗が続くほど待ち時間が長くなります。"
        ),
        seconds,
    )
}

async fn login(visitor: Visitor, form: web::Form<LoginForm>) -> Result<HttpResponse, AppError> {
    let Visitor { state, req, csrf } = &visitor;
    csrf.verify(&form.csrf_token)?;
    let form = form.into_inner();
    let again = |status: StatusCode, message: &str| {
        private_page(
            &LoginPage {
                meta: panel_meta("ログイン"),
                csrf: csrf.token().to_owned(),
                next: safe_next(&form.next).to_owned(),
                email: form.email.clone(),
                message: Some(message.to_owned()),
            },
            status,
        )
    };
    let network = crate::client::network(visitor.client(), state.settings.rate_limit_ipv6_prefix);
    let https = state.settings.is_https();
    let known_device = KnownDevice::holds(
        &state.secret,
        &form.email,
        Jar::KnownDevice.read(req, https).as_deref(),
    );
    let started = now();
    // Unknown and known addresses go through the same steps, so neither answer nor timing tells them apart.
    let email = Email::parse_lowercase(&form.email).ok();
    let (typed, password) = (form.email.clone(), form.password.clone());
    let attempt = state
        .db(move |conn| {
            let keys = LoginKeys::new(conn, &typed, &network, started)?;
            if let Some(until) = LoginThrottle::begin(conn, &keys, known_device, started)? {
                return Ok(Attempt::Wait(until));
            }
            let user = match &email {
                Some(e) => User::find_by_email(conn, e)?,
                None => None,
            };
            let verified =
                passwords::verify(&password, user.as_ref().map(|u| u.password_hash.as_str()));
            match user {
                Some(user) if verified && !user.disabled => {
                    LoginThrottle::succeeded(conn, &keys, now())?;
                    Ok(Attempt::SignedIn(Session::create(conn, user.id, now())?))
                }
                other => {
                    LoginThrottle::failed(conn, &keys, other.map(|u| u.id), now())?;
                    Ok(Attempt::Refused)
                }
            }
        })
        .await?;
    match attempt {
        Attempt::SignedIn(token) => {
            crate::csrf::renew(req);
            let mut response = see_other(safe_next(&form.next));
            response
                .add_cookie(&Jar::Session.cookie(token, https))
                .map_err(AppError::internal)?;
            let mut device =
                Jar::KnownDevice.cookie(KnownDevice::token(&state.secret, &form.email), https);
            device.set_max_age(actix_web::cookie::time::Duration::days(365));
            response.add_cookie(&device).map_err(AppError::internal)?;
            Ok(response)
        }
        Attempt::Wait(until) => {
            let (message, seconds) = wait_message(until, started);
            let mut page = again(StatusCode::TOO_MANY_REQUESTS, &message)?;
            page.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(seconds),
            );
            Ok(page)
        }
        Attempt::Refused => again(StatusCode::UNPROCESSABLE_ENTITY, BAD_LOGIN),
    }
}

async fn logout(
    Panel { state, staff, csrf }: Panel,
    req: HttpRequest,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf_token)?;
    let token = staff.token.clone();
    state
        .db(move |conn| Ok(Session::end(conn, &token)?))
        .await?;
    crate::csrf::renew(&req);
    let mut response = see_other("/mod/login");
    response
        .add_cookie(&Jar::Session.removal(state.settings.is_https()))
        .map_err(AppError::internal)?;
    Ok(response)
}

#[derive(Template)]
#[template(path = "mod/password.html")]
struct PasswordPage {
    meta: PageMeta,
    nav: PanelNav,
    message: Option<String>,
}

async fn password_form(staff: Staff, csrf: Csrf) -> Result<HttpResponse, AppError> {
    private_page(
        &PasswordPage {
            meta: panel_meta("パスワードの変更"),
            nav: PanelNav::new(&staff, &csrf),
            message: None,
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    csrf_token: String,
}

async fn change_password(
    Panel { state, staff, csrf }: Panel,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf_token)?;
    let problem = if !passwords::verify(&form.current, Some(&staff.user.password_hash)) {
        Some("いまのパスワードが正しくありません。".to_owned())
    } else {
        passwords::check_new(&form.new_password, &form.confirm)
            .err()
            .map(|e| e.0)
    };
    if let Some(message) = problem {
        return private_page(
            &PasswordPage {
                meta: panel_meta("パスワードの変更"),
                nav: PanelNav::new(&staff, &csrf),
                message: Some(message),
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let hash = passwords::hash(&form.new_password)?;
    let user = staff.user.clone();
    // Every session of the account ends, this one included.
    state
        .db(move |conn| {
            Ok(crate::workflows::staff::change_password(
                conn,
                &crate::workflows::StaffMember::from(&user),
                &hash,
                now(),
            )?)
        })
        .await?;
    let mut response = see_other("/mod/login?changed=1");
    response
        .add_cookie(&Jar::Session.removal(state.settings.is_https()))
        .map_err(AppError::internal)?;
    Ok(response)
}
