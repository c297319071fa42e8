//! Types that parse: every value that reaches a model has been checked once, here.
//! Each `parse` returns the value or an [`Invalid`] whose message is shown to people as is.

mod email;
mod public_id;
mod receipt;
mod slug;
pub(crate) mod status;
mod story_fields;
mod synonyms;
mod tag;
mod text;

pub use email::Email;
pub use public_id::PublicId;
pub use receipt::ReceiptCode;
pub use slug::Slug;
pub use status::{GuideAction, GuideStatus, Role, StoryAction, StoryStatus};
pub use story_fields::{
    Continuance, HowMet, LengthBucket, Relationship, RelationshipLength, Rules, StoryField,
};
pub use synonyms::SynonymGroup;
pub use tag::TagName;
pub use text::{Byline, GuideBody, PenName, StoryBody, Summary, Title, forbidden_character};

/// Why a value was refused, in Japanese, ready to show beside the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(message: impl Into<String>) -> Self {
        Invalid(message.into())
    }
}
