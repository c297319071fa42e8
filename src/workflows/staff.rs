//! Staff accounts, managed in the panel by admins: invitations, roles, disabling, password
//! resets, and each member's own password. Every change is one transaction with its audit row.

use chrono::NaiveDateTime;
use diesel::{OptionalExtension, QueryResult};

use crate::db::DbConn;
use crate::domain::Role;
use crate::mail::messages;
use crate::models::mod_action::{About, Actor, ModAction, Subject};
use crate::models::staff_link::{INVITE_DAYS, Invitation, Purpose, RESET_HOURS, StaffLink};
use crate::models::user::User;

pub use super::StaffMember as ByStaff;

#[derive(Debug, thiserror::Error)]
pub enum StaffRefused {
    #[error("not found")]
    NotFound,
    /// Said to the person, in Japanese.
    #[error("{0}")]
    Refused(&'static str),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl From<StaffRefused> for crate::error::AppError {
    fn from(r: StaffRefused) -> Self {
        match r {
            StaffRefused::NotFound => crate::error::AppError::NotFound,
            StaffRefused::Database(e) => e.into(),
            StaffRefused::Refused(m) => crate::error::AppError::bad_request(m),
        }
    }
}

pub const TAKEN: &str = "このメールアドレスのアカウントはすでにあります。ログインしてください。";

const UNUSABLE: &str = "このリンクは使えません。期限が切れたか、すでに使われています。管理者に新しいリンクを頼んでください。";

fn find_user(conn: &mut DbConn, id: i32) -> Result<User, StaffRefused> {
    User::find(conn, id)
        .optional()?
        .ok_or(StaffRefused::NotFound)
}

/// The acting admin, read again inside the transaction: a request that began before their own
/// account was disabled or demoted does nothing.
fn still_admin(conn: &mut DbConn, by: &ByStaff) -> Result<(), StaffRefused> {
    let me = find_user(conn, by.id)?;
    if me.disabled || me.role() != Role::Admin {
        return Err(StaffRefused::Refused("この操作は管理者だけができます。"));
    }
    Ok(())
}

/// Refuses a change that would leave no enabled admin (two admins acting on each other at once).
fn an_admin_remains(conn: &mut DbConn) -> Result<(), StaffRefused> {
    if User::enabled_admins(conn)? == 0 {
        return Err(StaffRefused::Refused(
            "有効な管理者がいなくなるため、この変更はできません。",
        ));
    }
    Ok(())
}

fn not_yourself(by: &ByStaff, id: i32, what: &'static str) -> Result<(), StaffRefused> {
    if by.id == id {
        Err(StaffRefused::Refused(what))
    } else {
        Ok(())
    }
}

/// Invites a new staff member: a one-time link, mailed to them and returned to be shown once.
pub fn invite(
    conn: &mut DbConn,
    by: &ByStaff,
    who: &Invitation,
    base_url: &str,
    now: NaiveDateTime,
) -> Result<String, StaffRefused> {
    let Invitation {
        email,
        display_name,
        role,
    } = who;
    crate::db::write_transaction(conn, |conn| {
        still_admin(conn, by)?;
        if User::find_by_email(conn, email)?.is_some() {
            return Err(StaffRefused::Refused(
                "このメールアドレスのアカウントはすでにあります。",
            ));
        }
        let token = StaffLink::issue(conn, &Purpose::Invite(who.clone()), by.id, now)?;
        let link = format!("{base_url}/mod/join/{token}");
        // The log is read by moderators too: the name and role, not the address.
        let who = format!("{display_name}（{}）", role.label());
        ModAction::about_other(Subject::Invitation)
            .by(by.actor())
            .invite()
            .note(Some(&who))
            .record(conn, now)?;
        messages::staff_invite(
            email.as_ref(),
            display_name,
            role.label(),
            &link,
            INVITE_DAYS,
        )
        .queue(conn, now)?;
        Ok(link)
    })
}

/// Uses a one-time link with the password its owner chose: an invitation creates the account,
/// a reset sets the account's password and ends its sessions. `reset` says which kind the page
/// was for; a link of the other kind is as unusable as an unknown one.
pub fn use_link(
    conn: &mut DbConn,
    token: &str,
    reset: bool,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<(), StaffRefused> {
    crate::db::write_transaction(conn, |conn| {
        let Some(link) = link_usable(conn, token, reset, now)? else {
            return Err(StaffRefused::Refused(UNUSABLE));
        };
        // A link is only as good as the admin who made it, now.
        let issuer = match link.created_by {
            Some(id) => User::find(conn, id).optional()?,
            None => None,
        };
        let Some(issuer) = issuer.filter(|u| !u.disabled && u.role() == Role::Admin) else {
            return Err(StaffRefused::Refused(UNUSABLE));
        };
        if !StaffLink::mark_used(conn, link.id, now)? {
            return Err(StaffRefused::Refused(UNUSABLE));
        }
        let (id, name, entry): (i32, String, fn(_) -> _) = match link.purpose {
            Purpose::Invite(Invitation {
                email,
                display_name,
                role,
            }) => {
                if User::find_by_email(conn, &email)?.is_some() {
                    return Err(StaffRefused::Refused(TAKEN));
                }
                let id = User::create(conn, &email, &display_name, role, password_hash, now)
                    .map_err(|e| match e {
                        // Another invitation for the address was used at the same moment.
                        diesel::result::Error::DatabaseError(
                            diesel::result::DatabaseErrorKind::UniqueViolation,
                            _,
                        ) => StaffRefused::Refused(TAKEN),
                        other => other.into(),
                    })?;
                (id, display_name, About::join)
            }
            Purpose::Reset { user_id } => {
                let user = find_user(conn, user_id)?;
                if user.disabled {
                    return Err(StaffRefused::Refused(UNUSABLE));
                }
                User::set_password(conn, user_id, password_hash)?;
                (user_id, user.display_name, About::reset_password)
            }
        };
        // Whoever held the link did it; the log says whose link it was.
        let note = format!("{}が発行したリンクで", issuer.display_name);
        entry(ModAction::about_other(Subject::Staff(id)).by(Actor::Staff { id, name: &name }))
            .note(Some(&note))
            .record(conn, now)?;
        Ok(())
    })
}

/// Gives another staff member a new role.
pub fn change_role(
    conn: &mut DbConn,
    by: &ByStaff,
    id: i32,
    role: Role,
    now: NaiveDateTime,
) -> Result<(), StaffRefused> {
    crate::db::write_transaction(conn, |conn| {
        not_yourself(
            by,
            id,
            "自分の役割は変更できません。ほかの管理者に頼んでください。",
        )?;
        still_admin(conn, by)?;
        let user = find_user(conn, id)?;
        let was = user.role();
        if was == role {
            return Ok(());
        }
        User::set_role(conn, id, role)?;
        an_admin_remains(conn)?;
        let change = format!("{} → {}", was.label(), role.label());
        ModAction::about_other(Subject::Staff(id))
            .by(by.actor())
            .change_role(&change)
            .record(conn, now)?;
        Ok(())
    })
}

/// Disables another staff member's account (ending its sessions) or enables it again.
pub fn set_disabled(
    conn: &mut DbConn,
    by: &ByStaff,
    id: i32,
    disabled: bool,
    now: NaiveDateTime,
) -> Result<(), StaffRefused> {
    crate::db::write_transaction(conn, |conn| {
        not_yourself(by, id, "自分のアカウントは無効にできません。")?;
        still_admin(conn, by)?;
        let user = find_user(conn, id)?;
        if user.disabled == disabled {
            return Ok(());
        }
        User::set_disabled(conn, id, disabled)?;
        if disabled {
            an_admin_remains(conn)?;
            StaffLink::revoke_around(conn, id)?;
        }
        let row = ModAction::about_other(Subject::Staff(id)).by(by.actor());
        if disabled {
            row.disable()
        } else {
            row.enable()
        }
        .record(conn, now)?;
        Ok(())
    })
}

/// Issues a one-time link for another staff member to set a new password: mailed to them and
/// returned to be shown once. Their current password keeps working until the link is used.
pub fn issue_reset(
    conn: &mut DbConn,
    by: &ByStaff,
    id: i32,
    base_url: &str,
    now: NaiveDateTime,
) -> Result<String, StaffRefused> {
    crate::db::write_transaction(conn, |conn| {
        not_yourself(
            by,
            id,
            "自分のパスワードは「パスワードの変更」から変えてください。",
        )?;
        still_admin(conn, by)?;
        let user = find_user(conn, id)?;
        if user.disabled {
            return Err(StaffRefused::Refused(
                "無効なアカウントのパスワードは再設定できません。先に有効にしてください。",
            ));
        }
        let token = StaffLink::issue(conn, &Purpose::Reset { user_id: id }, by.id, now)?;
        let link = format!("{base_url}/mod/reset/{token}");
        ModAction::about_other(Subject::Staff(id))
            .by(by.actor())
            .issue_reset()
            .record(conn, now)?;
        messages::staff_reset(&user.email, &link, RESET_HOURS).queue(conn, now)?;
        Ok(link)
    })
}

/// A staff member's own new password; every session of the account ends.
pub fn change_password(
    conn: &mut DbConn,
    by: &ByStaff,
    password_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    crate::db::write_transaction(conn, |conn| {
        User::set_password(conn, by.id, password_hash)?;
        ModAction::about_other(Subject::Staff(by.id))
            .by(by.actor())
            .change_password()
            .record(conn, now)
    })
}

/// Whether `token` names a link that can still be used for `reset` (else an invitation).
pub fn link_usable(
    conn: &mut DbConn,
    token: &str,
    reset: bool,
    now: NaiveDateTime,
) -> QueryResult<Option<StaffLink>> {
    Ok(StaffLink::find_usable(conn, token, now)?
        .filter(|l| matches!(l.purpose, Purpose::Reset { .. }) == reset))
}

/// What the page behind a link may offer: the link's purpose, or why it cannot be used (an
/// invitation for an address that has an account by now says so before a password is chosen).
pub fn link_page(
    conn: &mut DbConn,
    token: &str,
    reset: bool,
    now: NaiveDateTime,
) -> Result<Purpose, StaffRefused> {
    let Some(link) = link_usable(conn, token, reset, now)? else {
        return Err(StaffRefused::Refused(UNUSABLE));
    };
    if let Purpose::Invite(Invitation { email, .. }) = &link.purpose
        && User::find_by_email(conn, email)?.is_some()
    {
        return Err(StaffRefused::Refused(TAKEN));
    }
    Ok(link.purpose)
}
