//! Email subscription: the form, confirmation (double opt-in) and one-click unsubscribe.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::csrf::{Csrf, TokenForm};
use crate::domain::{Email, TagName};
use crate::error::AppError;
use crate::models::now;
use crate::models::subscription::{self, Subscription, Topics};
use crate::rate_limit::Action;
use crate::routes::moderation::see_other;
use crate::secrets::SecretKey;
use crate::state::AppState;
use crate::views::PageMeta;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/subscribe", web::get().to(form))
        .route("/subscribe", web::post().to(request))
        .route("/subscribe/sent", web::get().to(sent))
        .route("/subscribe/confirm", web::get().to(confirm_page))
        .route("/subscribe/confirm", web::post().to(confirm))
        .route("/unsubscribe", web::get().to(unsubscribe_page))
        .route("/unsubscribe", web::post().to(unsubscribe));
}

#[derive(Template)]
#[template(path = "subscribe.html")]
struct FormPage {
    meta: PageMeta,
    csrf: String,
    email: String,
    guides: bool,
    stories: bool,
    tag: String,
    error: Option<String>,
}

fn meta(state: &AppState, title: &str, path: &str) -> PageMeta {
    let mut meta = PageMeta::new(
        &state.settings.base_url,
        title,
        "縁側の新着をメールで受け取る登録と停止。",
        path,
    );
    meta.noindex = path != "/subscribe";
    meta
}

async fn form(state: web::Data<AppState>, csrf: Csrf) -> Result<HttpResponse, AppError> {
    crate::routes::page(&FormPage {
        meta: meta(&state, "メールで新着を受け取る", "/subscribe"),
        csrf: csrf.token().to_owned(),
        email: String::new(),
        guides: true,
        stories: true,
        tag: String::new(),
        error: None,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SubscribeForm {
    email: String,
    guides: String,
    stories: String,
    tag: String,
    csrf_token: String,
}

const SUBSCRIBE_ATTEMPTS: usize = 5;

async fn request(
    state: web::Data<AppState>,
    req: HttpRequest,
    csrf: Csrf,
    form: web::Form<SubscribeForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf_token)?;
    let again = |error: String, status: StatusCode| -> Result<HttpResponse, AppError> {
        let page = FormPage {
            meta: meta(&state, "メールで新着を受け取る", "/subscribe"),
            csrf: csrf.token().to_owned(),
            email: form.email.clone(),
            guides: form.guides == "yes",
            stories: form.stories == "yes",
            tag: form.tag.clone(),
            error: Some(error),
        };
        Ok(HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(askama::Template::render(&page)?))
    };
    let email = match Email::parse(&form.email) {
        Ok(e) => e,
        Err(e) => return again(e.0, StatusCode::UNPROCESSABLE_ENTITY),
    };
    let tag = match form.tag.trim() {
        "" => None,
        t => match TagName::parse(t) {
            Ok(t) => Some(t),
            Err(e) => return again(e.0, StatusCode::UNPROCESSABLE_ENTITY),
        },
    };
    let topics = Topics {
        guides: form.guides == "yes",
        stories: form.stories == "yes",
        tag,
    };
    if !topics.guides && !topics.stories {
        return again(
            "受け取るもの（ガイド・体験談）を少なくとも一つ選んでください。".to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    if !state.limiter.allow(
        Action::Subscribe,
        state.settings.trusted_proxies.client(&req),
        SUBSCRIBE_ATTEMPTS,
        Duration::from_secs(3600),
    ) {
        return again(
            "短い時間に多くの登録がありました。しばらくたってからお試しください。".to_owned(),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let st = state.clone();
    state
        .db(move |conn| {
            Ok(Subscription::request(
                conn,
                &email,
                &topics,
                &st.settings.base_url,
                &st.secret,
                now(),
            )?)
        })
        .await?;
    // The same answer whether or not the address was already subscribed.
    Ok(see_other("/subscribe/sent"))
}

#[derive(Template)]
#[template(path = "subscribe_message.html")]
struct MessagePage {
    meta: PageMeta,
    heading: &'static str,
    message: &'static str,
    /// A button that posts to this URL (confirmation, unsubscribe).
    action: Option<String>,
    button: &'static str,
    csrf: String,
}

fn message(
    state: &AppState,
    csrf: &Csrf,
    heading: &'static str,
    message: &'static str,
) -> MessagePage {
    MessagePage {
        meta: meta(state, heading, "/subscribe/message"),
        heading,
        message,
        action: None,
        button: "",
        csrf: csrf.token().to_owned(),
    }
}

async fn sent(state: web::Data<AppState>, csrf: Csrf) -> Result<HttpResponse, AppError> {
    crate::routes::page(&message(
        &state,
        &csrf,
        "確認メールを送りました",
        "メールに書かれたリンクを開いて、登録を確定してください。確定するまで、新着のお知らせは送りません。",
    ))
}

/// A link from a mail: the subscription and the signature that makes it authoritative.
#[derive(Deserialize)]
struct Signed {
    id: i32,
    sig: String,
}

impl Signed {
    /// A link whose signature `signed_by` does not accept leads nowhere.
    fn check(
        &self,
        state: &AppState,
        signed_by: fn(&SecretKey, i32, &str) -> bool,
    ) -> Result<(), AppError> {
        if signed_by(&state.secret, self.id, &self.sig) {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}

async fn confirm_page(
    state: web::Data<AppState>,
    csrf: Csrf,
    q: web::Query<Signed>,
) -> Result<HttpResponse, AppError> {
    button_page(
        &state,
        &csrf,
        &q,
        subscription::confirm_signature_ok,
        "/subscribe/confirm",
        "登録を確定する",
        "下のボタンを押すと、メールでのお知らせが始まります。",
    )
}

/// What a signed link in a mail opens, if `signed_by` accepts its signature: one button that
/// posts back to the same address. A button rather than the link itself: mail scanners open
/// links, and must not act on them.
fn button_page(
    state: &AppState,
    csrf: &Csrf,
    link: &Signed,
    signed_by: fn(&SecretKey, i32, &str) -> bool,
    path: &str,
    heading: &'static str,
    text: &'static str,
) -> Result<HttpResponse, AppError> {
    link.check(state, signed_by)?;
    crate::routes::page(&MessagePage {
        action: Some(format!("{path}?id={}&sig={}", link.id, link.sig)),
        button: heading,
        ..message(state, csrf, heading, text)
    })
}

async fn confirm(
    state: web::Data<AppState>,
    csrf: Csrf,
    q: web::Query<Signed>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf_token)?;
    q.check(&state, subscription::confirm_signature_ok)?;
    let id = q.id;
    if !state
        .db(move |conn| Ok(Subscription::confirm(conn, id, now())?))
        .await?
    {
        return Err(AppError::NotFound);
    }
    crate::routes::page(&message(
        &state,
        &csrf,
        "登録しました",
        "新着のお知らせをまとめて、定期的にお送りします。どのメールからも、ワンクリックで配信を停止できます。",
    ))
}

async fn unsubscribe_page(
    state: web::Data<AppState>,
    csrf: Csrf,
    q: web::Query<Signed>,
) -> Result<HttpResponse, AppError> {
    button_page(
        &state,
        &csrf,
        &q,
        subscription::unsubscribe_signature_ok,
        "/unsubscribe",
        "配信を停止する",
        "下のボタンを押すと配信を停止し、メールアドレスを削除します。",
    )
}

/// One-click unsubscribe (RFC 8058): mail programs post here without a page or a CSRF token;
/// the signature in the address is the authority.
async fn unsubscribe(
    state: web::Data<AppState>,
    csrf: Csrf,
    q: web::Query<Signed>,
) -> Result<HttpResponse, AppError> {
    q.check(&state, subscription::unsubscribe_signature_ok)?;
    let id = q.id;
    state
        .db(move |conn| Ok(Subscription::unsubscribe(conn, id)?))
        .await?;
    crate::routes::page(&message(
        &state,
        &csrf,
        "配信を停止しました",
        "メールアドレスは削除しました。これ以上お知らせは届きません。",
    ))
}
