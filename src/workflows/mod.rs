//! Changes that span several tables in one transaction, each with its audit or revision row and,
//! through `models::visibility`, its announcement: what moderators, submitters, readers'
//! reports and editors do.

pub mod editorial;
pub mod moderation;
pub mod reports;
pub mod staff;
pub mod synonyms;

use crate::models::mod_action::Actor;
use crate::models::user::User;

/// The signed-in staff member doing it, as the audit log names them.
pub struct StaffMember<'a> {
    pub id: i32,
    pub name: &'a str,
}

impl<'a> From<&'a User> for StaffMember<'a> {
    fn from(u: &'a User) -> Self {
        StaffMember {
            id: u.id,
            name: &u.display_name,
        }
    }
}

impl StaffMember<'_> {
    pub fn actor(&self) -> Actor<'_> {
        Actor::Staff {
            id: self.id,
            name: self.name,
        }
    }
}
