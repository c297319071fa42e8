//! The one error type of the web app, and how each kind becomes a page.
//!
//! Use `NotFound` for anything a reader may not see (missing, draft, pending: the answer is the
//! same, so nobody learns that hidden content exists), `BadRequest` for input we cannot use with
//! a Japanese message safe to show, `Forbidden` for a missing or wrong CSRF token or a role that
//! may not do this, `TooManyRequests` for a rate limit, `PayloadTooLarge` for a body over its
//! route's limit, `RequestTimeout` for a body that arrived too slowly, `UriTooLong` and
//! `HeadersTooLarge` for a request head over our limits, `LoginRequired` to send a visitor to the
//! staff login, and `Internal` for everything else: its cause is logged and never shown.
//! Form validation is not an error: handlers re-render the form with status 422.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::views::PageMeta;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("forbidden")]
    Forbidden,
    #[error("too many requests: {0}")]
    TooManyRequests(String),
    /// A one-time link that is unknown, used or expired (which one is not said).
    #[error("gone: {0}")]
    Gone(String),
    /// A request body over its route's limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// An address (path and query) over its limit.
    #[error("URI too long")]
    UriTooLong,
    /// Request headers over their limit together.
    #[error("headers too large")]
    HeadersTooLarge,
    /// A request body that did not arrive within the deadline.
    #[error("request body timed out")]
    RequestTimeout,
    /// Redirects to the staff login, which returns to `next` afterwards.
    #[error("login required")]
    LoginRequired { next: String },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        AppError::BadRequest(message.into())
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(cause.into())
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => AppError::NotFound,
            other => AppError::internal(other),
        }
    }
}

impl From<r2d2::Error> for AppError {
    fn from(e: r2d2::Error) -> Self {
        AppError::internal(e)
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::internal(e)
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::internal(e)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    meta: PageMeta,
    heading: &'static str,
    message: String,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Gone(_) => StatusCode::GONE,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            AppError::UriTooLong => StatusCode::URI_TOO_LONG,
            AppError::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            AppError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::LoginRequired { next } = self {
            let location = format!("/mod/login?next={}", crate::views::encode(next));
            return HttpResponse::SeeOther()
                .insert_header((actix_web::http::header::LOCATION, location))
                .finish();
        }
        let (heading, message) = match self {
            AppError::NotFound => (
                "ページが見つかりません",
                "お探しのページは移動したか、削除されたか、まだ公開されていません。".to_owned(),
            ),
            AppError::BadRequest(message) => ("リクエストを処理できませんでした", message.clone()),
            AppError::Forbidden => (
                "この操作はできません",
                "フォームの有効期限が切れたか、この操作をする権限がありません。前のページを再読み込みしてから、もう一度お試しください。".to_owned(),
            ),
            AppError::TooManyRequests(message) => ("しばらく時間をおいてください", message.clone()),
            AppError::Gone(message) => ("このリンクは使えません", message.clone()),
            AppError::PayloadTooLarge => (
                "送信された内容が大きすぎます",
                "一度に送れる量を超えています。文章を短くしてから、もう一度お試しください。".to_owned(),
            ),
            AppError::RequestTimeout => (
                "送信に時間がかかりすぎました",
                "通信が途切れがちだったため、送信された内容を最後まで受け取れず、何も保存していません。ブラウザの「戻る」で前のページに戻り、通信状態のよいところで、もう一度送信してください。".to_owned(),
            ),
            AppError::UriTooLong => (
                "アドレスが長すぎます",
                "このアドレスは長すぎるため開けません。トップページや検索から、もう一度お探しください。".to_owned(),
            ),
            AppError::HeadersTooLarge => (
                "リクエストが大きすぎます",
                "ブラウザから送られた情報（クッキーなど）が大きすぎるため、表示できません。このサイトのクッキーを削除してから、もう一度お試しください。".to_owned(),
            ),
            AppError::LoginRequired { .. } => ("ログインが必要です", String::new()),
            AppError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed");
                (
                    "ただいま表示できません",
                    "サーバーで問題が起きました。時間をおいてもう一度お試しください。".to_owned(),
                )
            }
        };
        let page = ErrorPage {
            meta: PageMeta::error(heading),
            heading,
            message,
        };
        let body = page.render().unwrap_or_else(|e| {
            tracing::error!(error = %e, "error page failed to render");
            heading.to_owned()
        });
        HttpResponse::build(self.status_code())
            .content_type("text/html; charset=utf-8")
            .body(body)
    }
}
