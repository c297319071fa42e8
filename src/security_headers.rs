//! The headers every response carries, whatever answered it (a handler, the page cache, an
//! error page, a 304): the browser may load nothing from elsewhere and run no inline script,
//! pages cannot be framed, readers' referrers never leave the site, and over HTTPS the browser
//! is told to stay on HTTPS.

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::DefaultHeaders;

/// Scripts and styles only as files from this site (there are no inline ones to allow), images
/// from this site, forms posting only here. JSON-LD is a data block, not a script, and needs no
/// exception.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

const ALWAYS: [(&str, &str); 7] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    // Stories must not tell other sites where their readers came from, nor the reverse.
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    ),
];

const OVER_HTTPS: (&str, &str) = (
    "strict-transport-security",
    "max-age=63072000; includeSubDomains",
);

fn policy(https: bool) -> impl Iterator<Item = (&'static str, &'static str)> {
    ALWAYS.into_iter().chain(https.then_some(OVER_HTTPS))
}

pub fn middleware(https: bool) -> DefaultHeaders {
    policy(https).fold(DefaultHeaders::new(), |headers, header| headers.add(header))
}

/// The same headers, for a response made outside the middleware (after a panic).
pub fn apply(headers: &mut HeaderMap, https: bool) {
    for (name, value) in policy(https) {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
}
