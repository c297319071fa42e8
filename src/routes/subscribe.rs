//! Email subscription: the form, confirmation (double opt-in) and one-click unsubscribe.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::csrf::{Csrf, TokenForm};
use crate::domain::{Email, TagName};
use crate::error::AppError;
use crate::models::now;
use crate::models::subscription::{self, Subscription, Topics};
use crate::rate_limit::Action;
use crate::routes::moderation::see_other;
use crate::routes::visitor::Visitor;
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
    visitor: Visitor,
    form: web::Form<SubscribeForm>,
) -> Result<HttpResponse, AppError> {
    let Visitor { state, csrf, .. } = &visitor;
    csrf.verify(&form.csrf_token)?;
    let again = |error: String, status: StatusCode| -> Result<HttpResponse, AppError> {
        let page = FormPage {
            meta: meta(state, "メールで新着を受け取る", "/subscribe"),
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
    if !visitor.allowed(
        Action::Subscribe,
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

/// A page that says one thing, and offers a button when `action` is set.
fn say(
    visitor: &Visitor,
    heading: &'static str,
    message: &'static str,
    action: Option<String>,
) -> Result<HttpResponse, AppError> {
    crate::routes::page(&MessagePage {
        meta: meta(&visitor.state, heading, "/subscribe/message"),
        heading,
        message,
        button: if action.is_some() { heading } else { "" },
        action,
        csrf: visitor.csrf.token().to_owned(),
    })
}

async fn sent(visitor: Visitor) -> Result<HttpResponse, AppError> {
    say(
        &visitor,
        "確認メールを送りました",
        "メールに書かれたリンクを開いて、登録を確定してください。確定するまで、新着のお知らせは送りません。",
        None,
    )
}

/// A link from a mail: the subscription and the signature that makes it authoritative.
#[derive(Deserialize)]
struct Signed {
    id: i32,
    sig: String,
}

/// What a signed link in a mail does: confirm a subscription, or end it.
#[derive(Clone, Copy)]
enum LinkAction {
    Confirm,
    Unsubscribe,
}

impl LinkAction {
    fn signed_by(self) -> fn(&SecretKey, i32, &str) -> bool {
        match self {
            LinkAction::Confirm => subscription::confirm_signature_ok,
            LinkAction::Unsubscribe => subscription::unsubscribe_signature_ok,
        }
    }

    /// The button's page: its address, heading (also the button) and text.
    fn asks(self) -> (&'static str, &'static str, &'static str) {
        match self {
            LinkAction::Confirm => (
                "/subscribe/confirm",
                "登録を確定する",
                "下のボタンを押すと、メールでのお知らせが始まります。",
            ),
            LinkAction::Unsubscribe => (
                "/unsubscribe",
                "配信を停止する",
                "下のボタンを押すと配信を停止し、メールアドレスを削除します。",
            ),
        }
    }

    /// The page after the button: heading and text.
    fn done(self) -> (&'static str, &'static str) {
        match self {
            LinkAction::Confirm => (
                "登録しました",
                "新着のお知らせをまとめて、定期的にお送りします。どのメールからも、ワンクリックで配信を停止できます。",
            ),
            LinkAction::Unsubscribe => (
                "配信を停止しました",
                "メールアドレスは削除しました。これ以上お知らせは届きません。",
            ),
        }
    }
}

impl Signed {
    /// A link whose signature the action does not accept leads nowhere.
    fn check(&self, state: &AppState, action: LinkAction) -> Result<(), AppError> {
        if action.signed_by()(&state.secret, self.id, &self.sig) {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}

/// What a signed link in a mail opens: one button that posts back to the same address. A
/// button rather than the link itself: mail scanners open links, and must not act on them.
fn button_page(
    visitor: &Visitor,
    link: &Signed,
    action: LinkAction,
) -> Result<HttpResponse, AppError> {
    link.check(&visitor.state, action)?;
    let (path, heading, text) = action.asks();
    say(
        visitor,
        heading,
        text,
        Some(format!("{path}?id={}&sig={}", link.id, link.sig)),
    )
}

/// Does what the link says once its signature holds; an unknown subscription is not found.
async fn act(
    visitor: &Visitor,
    link: &Signed,
    action: LinkAction,
) -> Result<HttpResponse, AppError> {
    link.check(&visitor.state, action)?;
    let id = link.id;
    let found = visitor
        .state
        .db(move |conn| {
            Ok(match action {
                LinkAction::Confirm => Subscription::confirm(conn, id, now())?,
                LinkAction::Unsubscribe => {
                    Subscription::unsubscribe(conn, id)?;
                    true
                }
            })
        })
        .await?;
    if !found {
        return Err(AppError::NotFound);
    }
    let (heading, text) = action.done();
    say(visitor, heading, text, None)
}

async fn confirm_page(visitor: Visitor, q: web::Query<Signed>) -> Result<HttpResponse, AppError> {
    button_page(&visitor, &q, LinkAction::Confirm)
}

async fn confirm(
    visitor: Visitor,
    q: web::Query<Signed>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    visitor.csrf.verify(&form.csrf_token)?;
    act(&visitor, &q, LinkAction::Confirm).await
}

async fn unsubscribe_page(
    visitor: Visitor,
    q: web::Query<Signed>,
) -> Result<HttpResponse, AppError> {
    button_page(&visitor, &q, LinkAction::Unsubscribe)
}

/// One-click unsubscribe (RFC 8058): mail programs post here without a page or a CSRF token;
/// the signature in the address is the authority.
async fn unsubscribe(visitor: Visitor, q: web::Query<Signed>) -> Result<HttpResponse, AppError> {
    act(&visitor, &q, LinkAction::Unsubscribe).await
}
