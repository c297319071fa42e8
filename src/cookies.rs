//! The site's cookies, named and shaped in one place. All are HttpOnly and SameSite=Strict. Over
//! HTTPS they are also Secure and carry the prefix browsers enforce: `__Host-` for site-wide
//! cookies (Secure, Path=/, no Domain, so neither a subdomain nor a plain-HTTP page can set or
//! shadow them) and `__Secure-` for the one that is scoped to a path.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};

#[derive(Clone, Copy)]
pub enum Jar {
    /// The visitor's CSRF id.
    Csrf,
    /// A staff member's session.
    Session,
    /// The receipt code on its way to the receipt page.
    Receipt,
    /// Set at a staff login: this browser has signed in to the account before.
    KnownDevice,
}

impl Jar {
    pub fn name(self, https: bool) -> &'static str {
        match (self, https) {
            (Jar::Csrf, false) => "engawa_csrf",
            (Jar::Csrf, true) => "__Host-engawa_csrf",
            (Jar::Session, false) => "engawa_session",
            (Jar::Session, true) => "__Host-engawa_session",
            (Jar::Receipt, false) => "engawa_receipt",
            (Jar::Receipt, true) => "__Secure-engawa_receipt",
            (Jar::KnownDevice, false) => "engawa_device",
            (Jar::KnownDevice, true) => "__Host-engawa_device",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Jar::Csrf | Jar::Session | Jar::KnownDevice => "/",
            Jar::Receipt => "/stories/receipt",
        }
    }

    pub fn cookie(self, value: String, https: bool) -> Cookie<'static> {
        Cookie::build(self.name(https), value)
            .path(self.path())
            .http_only(true)
            .secure(https)
            .same_site(SameSite::Strict)
            .finish()
    }

    /// A cookie that makes the browser forget this one.
    pub fn removal(self, https: bool) -> Cookie<'static> {
        let mut cookie = self.cookie(String::new(), https);
        cookie.make_removal();
        cookie
    }

    pub fn read(self, req: &HttpRequest, https: bool) -> Option<String> {
        req.cookie(self.name(https)).map(|c| c.value().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::Jar;

    #[test]
    fn over_https_names_carry_the_prefix_their_attributes_allow() {
        for jar in [Jar::Csrf, Jar::Session, Jar::Receipt, Jar::KnownDevice] {
            let plain = jar.cookie("v".into(), false);
            assert_eq!(plain.secure(), Some(false));
            assert!(!plain.name().starts_with("__"));
            let secure = jar.cookie("v".into(), true);
            assert_eq!(secure.secure(), Some(true));
            assert_eq!(secure.http_only(), Some(true));
            assert_eq!(secure.domain(), None);
            if secure.name().starts_with("__Host-") {
                assert_eq!(secure.path(), Some("/"));
            } else {
                assert!(secure.name().starts_with("__Secure-"));
            }
        }
    }
}
