/// Declares a status enum stored as text, with its Japanese label.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($variant:ident => $value:literal, $label:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The value stored in the database and used in URLs and files.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value,)+
                }
            }

            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }

            pub fn parse(raw: &str) -> Result<Self, $crate::domain::Invalid> {
                match raw.trim() {
                    $($value => Ok($name::$variant),)+
                    other => Err($crate::domain::Invalid::new(format!(concat!($what, "「{}」は使えません。"), other))),
                }
            }
        }
    };
}

pub(crate) use text_enum;

/// Declares how a status stored as text reads back from a row: the app writes only known
/// values, so an unknown one means the row was changed outside the app, and it reads as the
/// least public value rather than failing the page.
macro_rules! read_back_as {
    ($name:ident, $fallback:expr) => {
        impl From<String> for $name {
            fn from(raw: String) -> Self {
                Self::parse(&raw).unwrap_or($fallback)
            }
        }
    };
}

pub(crate) use read_back_as;

text_enum!(
    /// Only published guides are public.
    GuideStatus, "公開状態" {
        Draft => "draft", "下書き";
        Scheduled => "scheduled", "公開予約";
        Published => "published", "公開中";
        Unpublished => "unpublished", "非公開";
    }
);

text_enum!(
    /// Only approved stories are public.
    StoryStatus, "審査状態" {
        Pending => "pending", "審査待ち";
        ChangesRequested => "changes_requested", "修正のお願い中";
        Approved => "approved", "公開中";
        Held => "held", "通報により一時非公開";
        Rejected => "rejected", "不採用";
        Withdrawn => "withdrawn", "取り下げ済み";
    }
);

text_enum!(
    /// A staff member's role. Admins do everything; moderators moderate; editors edit guides.
    Role, "役割" {
        Admin => "admin", "管理者";
        Moderator => "moderator", "モデレーター";
        Editor => "editor", "編集者";
    }
);

read_back_as!(GuideStatus, GuideStatus::Draft);
read_back_as!(StoryStatus, StoryStatus::Pending);

/// Everything that can happen to a story after it was sent, by whom it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoryAction {
    /// A moderator takes it for a while, so that others leave it alone.
    Claim,
    /// A moderator publishes it.
    Approve,
    /// A moderator keeps a published story up and closes readers' open reports on it.
    KeepPublished,
    RequestChanges,
    Reject,
    /// A moderator removes identifying details from what the submitter wrote.
    Edit,
    /// The submitter answers a change request.
    Resubmit,
    /// The submitter takes it back; its text is erased.
    Withdraw,
    /// A reader reports it.
    Report,
    /// Enough readers reported it: it is hidden until a moderator decides.
    Hide,
    /// The retention period of a rejected story's text ended.
    EraseExpired,
}

impl StoryAction {
    pub const ALL: [StoryAction; 11] = [
        StoryAction::Claim,
        StoryAction::Approve,
        StoryAction::KeepPublished,
        StoryAction::RequestChanges,
        StoryAction::Reject,
        StoryAction::Edit,
        StoryAction::Resubmit,
        StoryAction::Withdraw,
        StoryAction::Report,
        StoryAction::Hide,
        StoryAction::EraseExpired,
    ];

    /// The status a story has after the action; `None` where the action leaves it as it was.
    pub fn leads_to(self) -> Option<StoryStatus> {
        use StoryAction::*;
        match self {
            Approve | KeepPublished => Some(StoryStatus::Approved),
            RequestChanges => Some(StoryStatus::ChangesRequested),
            Reject => Some(StoryStatus::Rejected),
            Resubmit => Some(StoryStatus::Pending),
            Withdraw => Some(StoryStatus::Withdrawn),
            Hide => Some(StoryStatus::Held),
            Claim | Edit | Report | EraseExpired => None,
        }
    }

    pub fn label(self) -> &'static str {
        use StoryAction::*;
        match self {
            Claim => "担当",
            Approve => "承認",
            KeepPublished => "公開の継続",
            RequestChanges => "修正依頼",
            Reject => "不採用",
            Edit => "編集部による修正",
            Resubmit => "再投稿",
            Withdraw => "取り下げ",
            Report => "通報",
            Hide => "通報による非公開",
            EraseExpired => "保存期間の終了による消去",
        }
    }
}

impl StoryStatus {
    /// The one rule of what may happen to a story: the models refuse what this refuses, and the
    /// pages offer what it allows. `open_reports`: readers' reports on the story wait for a
    /// decision (only keeping a published story up depends on it).
    pub fn allows(self, action: StoryAction, open_reports: bool) -> bool {
        use StoryAction::*;
        use StoryStatus::*;
        match action {
            // What waits for a moderator's decision.
            Claim | Approve => matches!(self, Pending | ChangesRequested | Held),
            KeepPublished => self == Approved && open_reports,
            Reject => matches!(self, Pending | ChangesRequested | Held | Approved),
            // A story the submitter is already revising is not asked again.
            RequestChanges => matches!(self, Pending | Held),
            // A rejected story's text is erased when its retention ends; an edit would restart
            // that clock. A withdrawn one has no text left.
            Edit => !matches!(self, Rejected | Withdrawn),
            Resubmit => self == ChangesRequested,
            Withdraw => self != Withdrawn,
            Report | Hide => self.is_public(),
            EraseExpired => self == Rejected,
        }
    }

    /// The statuses `action` may start from (for guarded updates in SQL).
    pub fn allowing(action: StoryAction, open_reports: bool) -> Vec<StoryStatus> {
        Self::ALL
            .iter()
            .copied()
            .filter(|s| s.allows(action, open_reports))
            .collect()
    }

    /// Whether the submitter's part is over: the story was published, not taken, or withdrawn.
    /// The address they left for news is kept until then, and deleted then.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            StoryStatus::Approved | StoryStatus::Rejected | StoryStatus::Withdrawn
        )
    }

    /// The status readers may see (`models::visibility` turns it into SQL).
    pub const PUBLIC: StoryStatus = StoryStatus::Approved;

    pub fn is_public(self) -> bool {
        self == Self::PUBLIC
    }
}

/// Everything an editor (or the scheduler) does to a guide's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GuideAction {
    /// Save the text, keeping the status.
    Save,
    PublishNow,
    /// Publish by itself at a chosen time.
    Schedule,
    /// Take it off the public site, or cancel its schedule; it keeps its text and revisions.
    Unpublish,
    /// The scheduler publishes it when its time comes.
    PublishDue,
}

impl GuideAction {
    pub const ALL: [GuideAction; 5] = [
        GuideAction::Save,
        GuideAction::PublishNow,
        GuideAction::Schedule,
        GuideAction::Unpublish,
        GuideAction::PublishDue,
    ];

    pub fn label(self) -> &'static str {
        match self {
            GuideAction::Save => "保存",
            GuideAction::PublishNow => "公開",
            GuideAction::Schedule => "公開予約",
            GuideAction::Unpublish => "非公開にする",
            GuideAction::PublishDue => "予約の公開",
        }
    }

    /// The status a guide in status `from` has after the action.
    pub fn leads_to(self, from: GuideStatus) -> GuideStatus {
        match self {
            GuideAction::Save => from,
            GuideAction::PublishNow | GuideAction::PublishDue => GuideStatus::Published,
            GuideAction::Schedule => GuideStatus::Scheduled,
            GuideAction::Unpublish => GuideStatus::Unpublished,
        }
    }
}

impl GuideStatus {
    /// The one rule of what may happen to a guide, for the editor's page and the models alike.
    pub fn allows(self, action: GuideAction) -> bool {
        use GuideStatus::*;
        match action {
            GuideAction::Save | GuideAction::PublishNow | GuideAction::Schedule => true,
            GuideAction::Unpublish => matches!(self, Published | Scheduled),
            GuideAction::PublishDue => self == Scheduled,
        }
    }

    /// The statuses `action` may start from (for guarded updates in SQL).
    pub fn allowing(action: GuideAction) -> Vec<GuideStatus> {
        Self::ALL
            .iter()
            .copied()
            .filter(|s| s.allows(action))
            .collect()
    }

    /// The status readers may see.
    pub const PUBLIC: GuideStatus = GuideStatus::Published;

    pub fn is_public(self) -> bool {
        self == Self::PUBLIC
    }
}

impl Role {
    pub fn can_moderate(self) -> bool {
        matches!(self, Role::Admin | Role::Moderator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_text() {
        for s in StoryStatus::ALL {
            assert_eq!(StoryStatus::parse(s.as_str()).unwrap(), *s);
        }
        for s in GuideStatus::ALL {
            assert_eq!(GuideStatus::parse(s.as_str()).unwrap(), *s);
        }
        assert!(StoryStatus::parse("public").is_err());
    }

    #[test]
    fn a_stored_value_the_app_never_writes_reads_as_the_least_public_one() {
        assert_eq!(
            StoryStatus::from("approved".to_owned()),
            StoryStatus::Approved
        );
        assert_eq!(StoryStatus::from("public".to_owned()), StoryStatus::Pending);
        assert_eq!(
            GuideStatus::from("published".to_owned()),
            GuideStatus::Published
        );
        assert_eq!(GuideStatus::from("live".to_owned()), GuideStatus::Draft);
        assert_eq!(
            crate::domain::HowMet::from("app".to_owned()),
            crate::domain::HowMet::App
        );
        assert_eq!(
            crate::domain::HowMet::from("bar".to_owned()),
            crate::domain::HowMet::Other
        );
    }

    /// The whole table, written out once by hand: a change to the rules shows here as a
    /// changed row, not only as a changed `matches!`.
    #[test]
    fn every_story_status_and_action() {
        use StoryAction::*;
        // Columns: Pending, ChangesRequested, Approved, Held, Rejected, Withdrawn.
        let table: [(StoryAction, [bool; 6]); 11] = [
            (Claim, [true, true, false, true, false, false]),
            (Approve, [true, true, false, true, false, false]),
            (KeepPublished, [false, false, false, false, false, false]),
            (RequestChanges, [true, false, false, true, false, false]),
            (Reject, [true, true, true, true, false, false]),
            (Edit, [true, true, true, true, false, false]),
            (Resubmit, [false, true, false, false, false, false]),
            (Withdraw, [true, true, true, true, true, false]),
            (Report, [false, false, true, false, false, false]),
            (Hide, [false, false, true, false, false, false]),
            (EraseExpired, [false, false, false, false, true, false]),
        ];
        for (action, row) in table {
            for (status, allowed) in StoryStatus::ALL.iter().zip(row) {
                assert_eq!(
                    status.allows(action, false),
                    allowed,
                    "{status:?} {action:?}"
                );
                let with_reports =
                    allowed || (action == KeepPublished && *status == StoryStatus::Approved);
                assert_eq!(
                    status.allows(action, true),
                    with_reports,
                    "{status:?} {action:?} reported"
                );
            }
        }
        assert_eq!(
            StoryStatus::allowing(Hide, false),
            vec![StoryStatus::Approved]
        );
    }

    #[test]
    fn every_guide_status_and_action() {
        use GuideAction::*;
        // Columns: Draft, Scheduled, Published, Unpublished.
        let table: [(GuideAction, [bool; 4], [GuideStatus; 4]); 5] = {
            use GuideStatus::*;
            [
                (Save, [true; 4], [Draft, Scheduled, Published, Unpublished]),
                (PublishNow, [true; 4], [Published; 4]),
                (Schedule, [true; 4], [Scheduled; 4]),
                (Unpublish, [false, true, true, false], [Unpublished; 4]),
                (PublishDue, [false, true, false, false], [Published; 4]),
            ]
        };
        for (action, allowed, leads) in table {
            for (i, status) in GuideStatus::ALL.iter().enumerate() {
                assert_eq!(status.allows(action), allowed[i], "{status:?} {action:?}");
                assert_eq!(action.leads_to(*status), leads[i], "{status:?} {action:?}");
            }
        }
    }
}
