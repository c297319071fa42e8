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
}
