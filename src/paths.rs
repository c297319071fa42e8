//! The public addresses of stories and guides: written here once, so that links, feeds, the
//! search index, mail and redirects cannot disagree about them.

/// `/stories/{public_id}`
pub fn story(public_id: &str) -> String {
    format!("/stories/{public_id}")
}

/// `/guides/{slug}`
pub fn guide(slug: &str) -> String {
    format!("/guides/{slug}")
}
