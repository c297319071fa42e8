//! Changes that span several tables in one transaction, each with its audit or revision row and,
//! through `models::visibility`, its announcement: what moderators, submitters, readers'
//! reports and editors do.

pub mod editorial;
pub mod moderation;
pub mod reports;
