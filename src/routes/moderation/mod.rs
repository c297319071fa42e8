//! The moderation panel under /mod. Every route needs a staff session; every POST a CSRF token.

mod auth;
mod guide_form;
mod guide_revisions;
mod guides;
mod log;
mod queue;
mod staff_links;
mod stats;
mod story;
mod synonyms;
mod users;

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};

use crate::csrf::Csrf;
use crate::error::AppError;
use crate::staff::Staff;
use crate::state::AppState;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/mod")
            .configure(auth::config)
            .configure(queue::config)
            .configure(story::config)
            .configure(log::config)
            .configure(users::config)
            .configure(staff_links::config)
            .configure(stats::config)
            .configure(guides::config)
            .configure(synonyms::config)
            .default_service(web::to(unknown)),
    );
}

/// Unknown panel paths ask for a login first, so the panel's shape is not visible from outside.
async fn unknown(_staff: Staff) -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// What every panel handler starts from: the node's state, the signed-in staff member (else the
/// login page) and the visitor's form token.
pub struct Panel {
    pub state: web::Data<AppState>,
    pub staff: Staff,
    pub csrf: Csrf,
}

impl FromRequest for Panel {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state = req
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("the app state is missing")));
        let staff = Staff::from_request(req, payload);
        let csrf = Csrf::from_request(req, payload);
        Box::pin(async move {
            Ok(Panel {
                state: state?,
                staff: staff.await?,
                csrf: csrf.await?,
            })
        })
    }
}

/// The signed-in staff member as the author of a guide change, if they may edit guides.
pub fn editor(staff: &Staff) -> Result<crate::workflows::editorial::Editor<'_>, AppError> {
    staff.require_editor()?;
    Ok(crate::workflows::editorial::Editor {
        id: staff.user.id,
        name: &staff.user.display_name,
    })
}

/// The panel's navigation, on every panel page.
pub struct PanelNav {
    pub name: String,
    pub is_admin: bool,
    pub moderates: bool,
    pub edits: bool,
    pub csrf: String,
}

impl PanelNav {
    pub fn new(staff: &Staff, csrf: &crate::csrf::Csrf) -> Self {
        PanelNav {
            name: staff.user.display_name.clone(),
            is_admin: staff.user.role() == crate::domain::Role::Admin,
            moderates: staff.require_moderator().is_ok(),
            edits: staff.require_editor().is_ok(),
            csrf: csrf.token().to_owned(),
        }
    }
}

/// A page of the panel: never indexed, never cached.
pub fn panel_meta(title: &str) -> crate::views::PageMeta {
    crate::views::PageMeta {
        title: format!("{title} | 縁側 管理"),
        ..crate::views::PageMeta::error(title)
    }
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location.to_owned()))
        .finish()
}
