use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{sessions, users};
use crate::domain::{Email, Role};

/// A staff account.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i32,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    /// Failed logins typed with this account's address, ever; no more is kept of them.
    pub failed_logins: i32,
    pub last_failed_login_at: Option<NaiveDateTime>,
}

impl User {
    pub fn role(&self) -> Role {
        // The database checks the value; an unknown one gets the least power.
        Role::parse(&self.role).unwrap_or(Role::Editor)
    }

    /// Creates an account; `password_hash` comes from `passwords::hash`.
    pub fn create(
        conn: &mut DbConn,
        email: &Email,
        display_name: &str,
        role: Role,
        password_hash: &str,
        now: NaiveDateTime,
    ) -> QueryResult<i32> {
        diesel::insert_into(users::table)
            .values((
                users::email.eq(email.as_ref()),
                users::display_name.eq(display_name),
                users::role.eq(role.as_str()),
                users::password_hash.eq(password_hash),
                users::disabled.eq(false),
                users::created_at.eq(now),
            ))
            .returning(users::id)
            .get_result(conn)
    }

    pub fn find_by_email(conn: &mut DbConn, email: &Email) -> QueryResult<Option<User>> {
        users::table
            .filter(users::email.eq(email.as_ref()))
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<User> {
        users::table.find(id).select(User::as_select()).first(conn)
    }

    pub fn list(conn: &mut DbConn) -> QueryResult<Vec<User>> {
        users::table
            .order(users::id)
            .select(User::as_select())
            .load(conn)
    }

    /// Disables or re-enables an account; disabling ends all its sessions in the same transaction.
    pub fn set_disabled(conn: &mut DbConn, id: i32, disabled: bool) -> QueryResult<()> {
        crate::db::write_transaction(conn, |conn| {
            diesel::update(users::table.find(id))
                .set(users::disabled.eq(disabled))
                .execute(conn)?;
            if disabled {
                diesel::delete(sessions::table.filter(sessions::user_id.eq(id))).execute(conn)?;
            }
            Ok(())
        })
    }

    pub fn set_role(conn: &mut DbConn, id: i32, role: Role) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set(users::role.eq(role.as_str()))
            .execute(conn)
            .map(|_| ())
    }

    /// Replaces the password and ends every session of the account.
    pub fn set_password(conn: &mut DbConn, id: i32, password_hash: &str) -> QueryResult<()> {
        crate::db::write_transaction(conn, |conn| {
            diesel::update(users::table.find(id))
                .set(users::password_hash.eq(password_hash))
                .execute(conn)?;
            diesel::delete(sessions::table.filter(sessions::user_id.eq(id))).execute(conn)?;
            Ok(())
        })
    }

    /// How many enabled admins there are.
    pub fn enabled_admins(conn: &mut DbConn) -> QueryResult<i64> {
        users::table
            .filter(users::disabled.eq(false))
            .filter(users::role.eq(Role::Admin.as_str()))
            .count()
            .get_result(conn)
    }

    /// Addresses of the enabled admins and moderators, for alerts.
    pub fn moderator_emails(conn: &mut DbConn) -> QueryResult<Vec<String>> {
        users::table
            .filter(users::disabled.eq(false))
            .filter(users::role.eq_any([Role::Admin.as_str(), Role::Moderator.as_str()]))
            .select(users::email)
            .order(users::id)
            .load(conn)
    }
}
