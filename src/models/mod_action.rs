use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::mod_actions;
use crate::db::{Backend, DbConn};
use crate::domain::StoryField;
use crate::domain::status::text_enum;

text_enum!(
    /// What happened: to a story (submitter and system events are logged beside staff ones so
    /// that a story's whole history reads in one place), to a staff account, or to a guide's
    /// place on the public site.
    ActionKind, "操作の種類" {
        Submit => "submit", "投稿";
        Resubmit => "resubmit", "再投稿";
        Withdraw => "withdraw", "取り下げ";
        Approve => "approve", "承認";
        Reject => "reject", "不採用";
        RequestChanges => "request_changes", "修正依頼";
        Edit => "edit", "編集部による修正";
        Hide => "hide", "通報による非公開";
        Erase => "erase", "保存期間の終了による消去";
        Invite => "invite", "スタッフの招待";
        Join => "join", "招待による登録";
        ChangeRole => "change_role", "役割の変更";
        Disable => "disable", "アカウントの無効化";
        Enable => "enable", "アカウントの有効化";
        IssueReset => "issue_reset", "パスワード再設定リンクの発行";
        ResetPassword => "reset_password", "パスワードの再設定";
        ChangePassword => "change_password", "パスワードの変更";
        PublishGuide => "publish_guide", "ガイドの公開";
        ScheduleGuide => "schedule_guide", "ガイドの予約公開";
        UnpublishGuide => "unpublish_guide", "ガイドの非公開";
        ChangeSynonyms => "change_synonyms", "検索の同義語の変更";
    }
);

/// What a row that is not about a story is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A staff account, by id.
    Staff(i32),
    /// A guide, by its address's slug when it happened.
    Guide(String),
    /// An invitation, before its account exists (the note says to whom).
    Invitation,
    /// A synonym group of search, by id (the note holds its words).
    Synonyms(i32),
}

impl Subject {
    fn stored(&self) -> String {
        match self {
            Subject::Staff(id) => format!("staff:{id}"),
            Subject::Guide(slug) => format!("guide:{slug}"),
            Subject::Invitation => "invitation:".to_owned(),
            Subject::Synonyms(id) => format!("synonyms:{id}"),
        }
    }

    pub fn read(stored: &str) -> Option<Subject> {
        match stored.split_once(':')? {
            ("staff", id) => id.parse().ok().map(Subject::Staff),
            ("guide", slug) => Some(Subject::Guide(slug.to_owned())),
            ("invitation", _) => Some(Subject::Invitation),
            ("synonyms", id) => id.parse().ok().map(Subject::Synonyms),
            _ => None,
        }
    }
}

/// Who did it, as the log shows it.
pub enum Actor<'a> {
    Staff { id: i32, name: &'a str },
    Submitter,
    System,
}

impl Actor<'_> {
    fn parts(&self) -> (Option<i32>, &str) {
        match self {
            Actor::Staff { id, name } => (Some(*id), name),
            Actor::Submitter => (None, "投稿者"),
            Actor::System => (None, "システム"),
        }
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = mod_actions)]
pub struct ModAction {
    pub id: i32,
    pub kind: String,
    pub story_id: Option<i32>,
    pub story_public_id: String,
    pub actor_id: Option<i32>,
    pub actor_label: String,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
    /// The field an editors' change changed (its name, never its text).
    pub field: Option<String>,
    /// For a row about a staff account or a guide: `staff:<id>`, `guide:<slug>`.
    pub subject: Option<String>,
}

/// Which log rows to show.
#[derive(Debug, Default, Clone)]
pub struct LogFilter {
    pub kind: Option<ActionKind>,
    pub actor_id: Option<i32>,
    pub story_public_id: Option<String>,
}

/// One audit row about to be written, named by what happened:
/// `ModAction::about(story_id, public_id).by(actor).approve().note(n).record(conn, now)`.
#[must_use = "an audit row is written only by `record`"]
pub struct Entry<'a> {
    kind: ActionKind,
    story_id: Option<i32>,
    public_id: &'a str,
    subject: Option<Subject>,
    actor: Actor<'a>,
    reason: Option<&'a str>,
    note: Option<&'a str>,
    field: Option<StoryField>,
}

/// The story an audit row is about, before what happened is named.
pub struct About<'a> {
    story_id: Option<i32>,
    public_id: &'a str,
    subject: Option<Subject>,
    actor: Actor<'a>,
}

impl<'a> About<'a> {
    pub fn by(self, actor: Actor<'a>) -> Self {
        About { actor, ..self }
    }

    fn entry(self, kind: ActionKind) -> Entry<'a> {
        Entry {
            kind,
            story_id: self.story_id,
            public_id: self.public_id,
            subject: self.subject,
            actor: self.actor,
            reason: None,
            note: None,
            field: None,
        }
    }

    pub fn submit(self) -> Entry<'a> {
        self.entry(ActionKind::Submit)
    }
    pub fn resubmit(self) -> Entry<'a> {
        self.entry(ActionKind::Resubmit)
    }
    pub fn withdraw(self) -> Entry<'a> {
        self.entry(ActionKind::Withdraw)
    }
    pub fn approve(self) -> Entry<'a> {
        self.entry(ActionKind::Approve)
    }
    pub fn reject(self, reason: &'a str) -> Entry<'a> {
        Entry {
            reason: Some(reason),
            ..self.entry(ActionKind::Reject)
        }
    }
    pub fn request_changes(self) -> Entry<'a> {
        self.entry(ActionKind::RequestChanges)
    }
    /// The editors changed one field; a change of several fields is one row each.
    pub fn edit(self, field: StoryField) -> Entry<'a> {
        Entry {
            field: Some(field),
            ..self.entry(ActionKind::Edit)
        }
    }
    pub fn hide(self) -> Entry<'a> {
        self.entry(ActionKind::Hide)
    }
    pub fn erase(self) -> Entry<'a> {
        self.entry(ActionKind::Erase)
    }
    pub fn invite(self) -> Entry<'a> {
        self.entry(ActionKind::Invite)
    }
    pub fn join(self) -> Entry<'a> {
        self.entry(ActionKind::Join)
    }
    /// `change` reads 「編集者 → モデレーター」; it is the row's note.
    pub fn change_role(self, change: &'a str) -> Entry<'a> {
        Entry {
            note: Some(change),
            ..self.entry(ActionKind::ChangeRole)
        }
    }
    pub fn disable(self) -> Entry<'a> {
        self.entry(ActionKind::Disable)
    }
    pub fn enable(self) -> Entry<'a> {
        self.entry(ActionKind::Enable)
    }
    pub fn issue_reset(self) -> Entry<'a> {
        self.entry(ActionKind::IssueReset)
    }
    pub fn reset_password(self) -> Entry<'a> {
        self.entry(ActionKind::ResetPassword)
    }
    pub fn change_password(self) -> Entry<'a> {
        self.entry(ActionKind::ChangePassword)
    }
    /// A guide's place on the public site changed: published, scheduled or taken off.
    pub fn guide(self, kind: ActionKind) -> Entry<'a> {
        self.entry(kind)
    }
    /// A synonym group of search was added, changed or removed (the note says which words).
    pub fn change_synonyms(self) -> Entry<'a> {
        self.entry(ActionKind::ChangeSynonyms)
    }
}

impl<'a> Entry<'a> {
    pub fn note(self, note: Option<&'a str>) -> Self {
        Entry { note, ..self }
    }

    /// Writes the row; call it inside the transaction that makes the change it records.
    pub fn record(self, conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<()> {
        let (actor_id, actor_label) = self.actor.parts();
        diesel::insert_into(mod_actions::table)
            .values((
                mod_actions::kind.eq(self.kind.as_str()),
                mod_actions::story_id.eq(self.story_id),
                mod_actions::story_public_id.eq(self.public_id),
                mod_actions::actor_id.eq(actor_id),
                mod_actions::actor_label.eq(actor_label),
                mod_actions::reason.eq(self.reason),
                mod_actions::note.eq(self.note),
                mod_actions::created_at.eq(now),
                mod_actions::field.eq(self.field.map(StoryField::as_str)),
                mod_actions::subject.eq(self.subject.as_ref().map(Subject::stored)),
            ))
            .execute(conn)
            .map(|_| ())
    }
}

impl ModAction {
    /// Starts an audit row about a story; the actor is the system unless `by` names another.
    pub fn about(story_id: i32, public_id: &str) -> About<'_> {
        About {
            story_id: Some(story_id),
            public_id,
            subject: None,
            actor: Actor::System,
        }
    }

    /// Starts an audit row about a staff account or a guide.
    pub fn about_other<'a>(subject: Subject) -> About<'a> {
        About {
            story_id: None,
            public_id: "",
            subject: Some(subject),
            actor: Actor::System,
        }
    }

    fn filtered(filter: &LogFilter) -> mod_actions::BoxedQuery<'static, Backend> {
        let mut q = mod_actions::table.into_boxed();
        if let Some(kind) = filter.kind {
            q = q.filter(mod_actions::kind.eq(kind.as_str()));
        }
        if let Some(actor) = filter.actor_id {
            q = q.filter(mod_actions::actor_id.eq(actor));
        }
        if let Some(id) = &filter.story_public_id {
            q = q.filter(mod_actions::story_public_id.eq(id.clone()));
        }
        q
    }

    /// The fields of a story the editors have changed, in the form's order.
    pub fn edited_fields(conn: &mut DbConn, story_id: i32) -> QueryResult<Vec<StoryField>> {
        let names: Vec<Option<String>> = mod_actions::table
            .filter(mod_actions::story_id.eq(story_id))
            .filter(mod_actions::kind.eq(ActionKind::Edit.as_str()))
            .select(mod_actions::field)
            .distinct()
            .load(conn)?;
        Ok(StoryField::ALL
            .iter()
            .copied()
            .filter(|f| names.iter().flatten().any(|n| n == f.as_str()))
            .collect())
    }

    /// Newest first, one page, and the number of matching rows.
    pub fn list(
        conn: &mut DbConn,
        filter: &LogFilter,
        limit: i64,
        offset: i64,
    ) -> QueryResult<(Vec<ModAction>, i64)> {
        let total = Self::filtered(filter).count().get_result(conn)?;
        let rows = Self::filtered(filter)
            // In the order things happened: by id, since a submitter's times are kept to the hour.
            .order(mod_actions::id.desc())
            .select(ModAction::as_select())
            .limit(limit)
            .offset(offset)
            .load(conn)?;
        Ok((rows, total))
    }

    /// Empties the notes of a story's rows (messages to its submitter, which may quote what
    /// they wrote); the rows keep what happened, when and by whom.
    pub fn erase_messages(conn: &mut DbConn, story_id: i32) -> QueryResult<()> {
        diesel::update(mod_actions::table.filter(mod_actions::story_id.eq(story_id)))
            .set(mod_actions::note.eq(None::<String>))
            .execute(conn)
            .map(|_| ())
    }

    pub fn for_story(conn: &mut DbConn, story_id: i32) -> QueryResult<Vec<ModAction>> {
        mod_actions::table
            .filter(mod_actions::story_id.eq(story_id))
            .order(mod_actions::id.asc())
            .select(ModAction::as_select())
            .load(conn)
    }

    /// (kind, time) of every outcome, for the public monthly counts.
    pub fn outcomes(conn: &mut DbConn) -> QueryResult<Vec<(String, NaiveDateTime)>> {
        mod_actions::table
            .filter(mod_actions::kind.eq_any([
                ActionKind::Submit.as_str(),
                ActionKind::Approve.as_str(),
                ActionKind::Reject.as_str(),
                ActionKind::Withdraw.as_str(),
                ActionKind::Hide.as_str(),
            ]))
            .select((mod_actions::kind, mod_actions::created_at))
            .load(conn)
    }
}
