//! One-time links for staff: an invitation that creates an account, a reset that sets a new
//! password. Only the SHA-256 of a link's token is stored; the token itself is shown once to the
//! admin who made it and mailed to its owner.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::staff_links;
use crate::domain::{Email, Role};
use crate::secrets::{random_hex, sha256_hex};

/// How long an invitation can be used.
pub const INVITE_DAYS: i64 = 7;
/// How long a password reset can be used.
pub const RESET_HOURS: i64 = 24;

/// The account an invitation will create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub email: Email,
    pub display_name: String,
    pub role: Role,
}

/// What a link does when it is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// Creates this account.
    Invite(Invitation),
    /// Sets a new password for this account.
    Reset { user_id: i32 },
}

/// A link that can still be used.
#[derive(Debug, Clone)]
pub struct StaffLink {
    pub id: i32,
    pub purpose: Purpose,
    /// The admin who made it; None once their account is gone.
    pub created_by: Option<i32>,
    pub expires_at: NaiveDateTime,
}

#[derive(Queryable)]
struct Row {
    id: i32,
    purpose: String,
    user_id: Option<i32>,
    email: Option<String>,
    display_name: Option<String>,
    role: Option<String>,
    created_by: Option<i32>,
    expires_at: NaiveDateTime,
}

impl StaffLink {
    /// Stores a new link and returns its token (shown once, never stored). A new reset replaces
    /// the account's earlier unused ones; a new invitation, the earlier ones for that address.
    pub fn issue(
        conn: &mut DbConn,
        purpose: &Purpose,
        by: i32,
        now: NaiveDateTime,
    ) -> QueryResult<String> {
        let token = random_hex(32);
        let (kind, user_id, email, display_name, role, expires_at) = match purpose {
            Purpose::Invite(Invitation {
                email,
                display_name,
                role,
            }) => {
                diesel::delete(
                    staff_links::table
                        .filter(staff_links::purpose.eq("invite"))
                        .filter(staff_links::email.eq(email.as_ref()))
                        .filter(staff_links::used_at.is_null()),
                )
                .execute(conn)?;
                (
                    "invite",
                    None,
                    Some(email.as_ref().to_owned()),
                    Some(display_name.clone()),
                    Some(role.as_str()),
                    now + chrono::Duration::days(INVITE_DAYS),
                )
            }
            Purpose::Reset { user_id } => {
                diesel::delete(
                    staff_links::table
                        .filter(staff_links::purpose.eq("reset"))
                        .filter(staff_links::user_id.eq(user_id))
                        .filter(staff_links::used_at.is_null()),
                )
                .execute(conn)?;
                (
                    "reset",
                    Some(*user_id),
                    None,
                    None,
                    None,
                    now + chrono::Duration::hours(RESET_HOURS),
                )
            }
        };
        diesel::insert_into(staff_links::table)
            .values((
                staff_links::token_hash.eq(sha256_hex(token.as_bytes())),
                staff_links::purpose.eq(kind),
                staff_links::user_id.eq(user_id),
                staff_links::email.eq(email),
                staff_links::display_name.eq(display_name),
                staff_links::role.eq(role),
                staff_links::created_by.eq(Some(by)),
                staff_links::created_at.eq(now),
                staff_links::expires_at.eq(expires_at),
            ))
            .execute(conn)?;
        Ok(token)
    }

    /// The link with this token, if it is unused and has not expired.
    pub fn find_usable(
        conn: &mut DbConn,
        token: &str,
        now: NaiveDateTime,
    ) -> QueryResult<Option<StaffLink>> {
        let row: Option<Row> = staff_links::table
            .filter(staff_links::token_hash.eq(sha256_hex(token.as_bytes())))
            .filter(staff_links::used_at.is_null())
            .filter(staff_links::expires_at.gt(now))
            .select((
                staff_links::id,
                staff_links::purpose,
                staff_links::user_id,
                staff_links::email,
                staff_links::display_name,
                staff_links::role,
                staff_links::created_by,
                staff_links::expires_at,
            ))
            .first(conn)
            .optional()?;
        Ok(row.and_then(|r| {
            let purpose = match (r.purpose.as_str(), r.user_id) {
                ("reset", Some(user_id)) => Purpose::Reset { user_id },
                ("invite", _) => Purpose::Invite(Invitation {
                    email: Email::parse(r.email.as_deref()?).ok()?,
                    display_name: r.display_name?,
                    role: Role::parse(r.role.as_deref()?).ok()?,
                }),
                _ => return None,
            };
            Some(StaffLink {
                id: r.id,
                purpose,
                created_by: r.created_by,
                expires_at: r.expires_at,
            })
        }))
    }

    /// Deletes the unused links for the account `user_id` and those its holder made: when an
    /// account is disabled, nothing it could open or hand out stays usable.
    pub fn revoke_around(conn: &mut DbConn, user_id: i32) -> QueryResult<usize> {
        diesel::delete(
            staff_links::table
                .filter(staff_links::used_at.is_null())
                .filter(
                    staff_links::user_id
                        .eq(user_id)
                        .or(staff_links::created_by.eq(user_id)),
                ),
        )
        .execute(conn)
    }

    /// Marks the link used, if nobody used it first; false when somebody did.
    pub fn mark_used(conn: &mut DbConn, id: i32, now: NaiveDateTime) -> QueryResult<bool> {
        let n = diesel::update(
            staff_links::table
                .find(id)
                .filter(staff_links::used_at.is_null()),
        )
        .set(staff_links::used_at.eq(Some(now)))
        .execute(conn)?;
        Ok(n == 1)
    }
}
