//! Wrappers around every request that read the node's `AppState`. (The ones that need nothing of
//! it, such as `conditional` and `security_headers`, stand on their own lower down.)

pub mod access_log;
pub mod page_cache;
pub mod panic_guard;
pub mod request_limits;
