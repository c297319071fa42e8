//! Static files, compiled into the binary so that the site runs from any directory. Each is
//! served under a name holding a hash of its content, cached by browsers for a year, and
//! compressed once at start; a changed file gets a new name, so no one sees a stale copy.

use std::io::Write;
use std::sync::LazyLock;

use actix_web::http::header::{self, CacheControl, CacheDirective, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::secrets::sha256_hex;

pub struct Asset {
    /// The name pages link to: `/static/site.<hash>.css`.
    pub href: String,
    content_type: &'static str,
    body: &'static [u8],
    gzip: Bytes,
}

impl Asset {
    fn new(stem: &str, extension: &str, content_type: &'static str, body: &'static [u8]) -> Self {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing to memory cannot fail; an empty copy would only mean serving uncompressed.
        let gzip = encoder
            .write_all(body)
            .and_then(|_| encoder.finish())
            .map(Bytes::from)
            .unwrap_or_default();
        Asset {
            href: format!("/static/{stem}.{}.{extension}", &sha256_hex(body)[..12]),
            content_type,
            body,
            gzip,
        }
    }
}

pub static STYLESHEET: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "site",
        "css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/site.css"),
    )
});

/// Where pages link the stylesheet.
pub fn stylesheet_href() -> &'static str {
    &STYLESHEET.href
}

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route(&STYLESHEET.href, web::get().to(hashed))
        // The plain name, for anything that kept an old link: short-lived.
        .route("/static/site.css", web::get().to(plain));
}

fn respond(req: &HttpRequest, asset: &Asset, cache: CacheControl) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.content_type(asset.content_type)
        .insert_header(cache)
        .insert_header((header::VARY, "accept-encoding"));
    let accepts_gzip = crate::page_cache::accepts_gzip(req.headers());
    if accepts_gzip && !asset.gzip.is_empty() {
        res.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")))
            .body(asset.gzip.clone())
    } else {
        res.body(asset.body)
    }
}

async fn hashed(req: HttpRequest) -> HttpResponse {
    respond(
        &req,
        &STYLESHEET,
        CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(365 * 24 * 3600),
            CacheDirective::Extension("immutable".to_owned(), None),
        ]),
    )
}

async fn plain(req: HttpRequest) -> HttpResponse {
    respond(
        &req,
        &STYLESHEET,
        CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(3600)]),
    )
}
