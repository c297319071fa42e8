//! The headers every response carries, whatever answered it (a handler, the page cache, an
//! error page, a 304): the browser may load nothing from elsewhere and run no inline script,
//! pages cannot be framed, readers' referrers never leave the site, and over HTTPS the browser
//! is told to stay on HTTPS.

use actix_web::middleware::DefaultHeaders;

/// Scripts and styles only as files from this site (there are no inline ones to allow), images
/// from this site, forms posting only here. JSON-LD is a data block, not a script, and needs no
/// exception.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

pub fn middleware(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("X-Content-Type-Options", "nosniff"))
        // Stories must not tell other sites where their readers came from, nor the reverse.
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add(("Cross-Origin-Resource-Policy", "same-origin"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        ));
    if https {
        headers.add((
            "Strict-Transport-Security",
            "max-age=63072000; includeSubDomains",
        ))
    } else {
        headers
    }
}
