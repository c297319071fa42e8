//! The story form, shared by a new submission and the answer to a change request: its fields
//! exactly as typed, their parsing into a story, and what the template needs to show it again.

use serde::Deserialize;

use crate::domain::{Email, HowMet, PenName, RelationshipLength, Rules, StoryBody, TagName, Title};
use crate::error::AppError;
use crate::models::story::{Story, StoryContent};
use crate::pii::{self, Finding};
use crate::views::SelectOption;

/// The form's fields as typed. Field names are public: outside tools post to them.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct StoryForm {
    pub title: String,
    pub body: String,
    pub pen_name: String,
    pub length_years: String,
    pub length_months: String,
    pub how_met: String,
    pub continuing: String,
    pub rules: String,
    pub tags: String,
    pub email: String,
    /// Hidden from people by CSS; bots fill it.
    pub website: String,
    /// When the form was served, signed (`fill_time`): a form sent too soon is sent back.
    pub served: String,
    /// "yes" once the person has seen the personal-information warning and keeps the text.
    pub confirm_pii: String,
    pub csrf_token: String,
    /// The receipt code, on the change-request form only.
    pub code: String,
}

/// What a person sees when the form looks sent by a script (a filled honeypot, a form sent the
/// moment it was served): a person just sends it again.
pub const SEND_AGAIN: &str = "送信内容を確認できませんでした。お手数ですが、内容を確かめて、もう一度「送信する」を押してください。";

/// A message beside each field that needs one.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors {
    pub title: Option<String>,
    pub body: Option<String>,
    pub pen_name: Option<String>,
    pub length: Option<String>,
    pub how_met: Option<String>,
    pub continuing: Option<String>,
    pub rules: Option<String>,
    pub tags: Option<String>,
    pub email: Option<String>,
    /// About the form as a whole.
    pub form: Option<String>,
}

impl FieldErrors {
    pub fn is_empty(&self) -> bool {
        [
            &self.title,
            &self.body,
            &self.pen_name,
            &self.length,
            &self.how_met,
            &self.continuing,
            &self.rules,
            &self.tags,
            &self.email,
            &self.form,
        ]
        .iter()
        .all(|e| e.is_none())
    }

    /// The messages in form order, for the summary at the top.
    pub fn all(&self) -> Vec<(&'static str, String)> {
        [
            ("title", &self.title),
            ("body", &self.body),
            ("pen_name", &self.pen_name),
            ("length_years", &self.length),
            ("how_met-hobby", &self.how_met),
            ("continuing-yes", &self.continuing),
            ("rules", &self.rules),
            ("tags", &self.tags),
            ("email", &self.email),
        ]
        .into_iter()
        .filter_map(|(id, e)| e.clone().map(|m| (id, m)))
        .collect()
    }
}

/// What became of a submitted form.
pub enum Parsed {
    /// Every field is valid and nothing needs confirming.
    Ready {
        content: StoryContent,
        email: Option<Email>,
        pii: Vec<Finding>,
    },
    /// Show the form again: with messages, or with personal-information findings to confirm.
    Again {
        errors: FieldErrors,
        pii: Vec<Finding>,
    },
}

fn take<T>(result: Result<T, crate::domain::Invalid>, slot: &mut Option<String>) -> Option<T> {
    result.map_err(|e| *slot = Some(e.0)).ok()
}

impl StoryForm {
    /// The form filled with a story's current content, for a change request.
    pub fn from_story(story: &Story, tags: &[String]) -> Self {
        let length = story.relationship.length;
        let form = StoryForm {
            title: story.title.clone(),
            body: story.body_markdown.clone(),
            pen_name: if story.pen_name == PenName::ANONYMOUS {
                String::new()
            } else {
                story.pen_name.clone()
            },
            length_years: (length.months() / 12).to_string(),
            length_months: (length.months() % 12).to_string(),
            how_met: story.relationship.how_met.as_str().to_owned(),
            continuing: if story.relationship.continuing {
                "yes"
            } else {
                "no"
            }
            .to_owned(),
            rules: story.rules().to_stored(),
            tags: tags.join("、"),
            ..Default::default()
        };
        if story.relationship.known {
            form
        } else {
            form.without_facts()
        }
    }

    /// The form with the three facts (length, how they met, whether it continues) blank.
    pub fn without_facts(self) -> Self {
        StoryForm {
            length_years: String::new(),
            length_months: String::new(),
            how_met: String::new(),
            continuing: String::new(),
            ..self
        }
    }

    /// Whether the three facts were left blank. In the moderators' edit that keeps (or makes)
    /// them 情報未設定; the submitters' forms require them.
    pub fn facts_blank(&self) -> bool {
        [
            &self.length_years,
            &self.length_months,
            &self.how_met,
            &self.continuing,
        ]
        .iter()
        .all(|f| f.trim().is_empty())
    }

    /// Parses every field, collecting each one's message, then checks for personal information.
    pub fn parse(&self, with_email: bool) -> Parsed {
        let mut errors = FieldErrors::default();
        let title = take(Title::parse_line(&self.title), &mut errors.title);
        let body = take(StoryBody::parse(&self.body), &mut errors.body);
        let pen_name = take(PenName::parse(&self.pen_name), &mut errors.pen_name);
        let length = take(
            RelationshipLength::from_years_months(&self.length_years, &self.length_months),
            &mut errors.length,
        );
        let how_met = take(
            if self.how_met.is_empty() {
                Err(crate::domain::Invalid::new(
                    "出会いのきっかけを選んでください。",
                ))
            } else {
                HowMet::parse(&self.how_met)
            },
            &mut errors.how_met,
        );
        let continuing = match self.continuing.as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => {
                errors.continuing = Some("関係が続いているかどうかを選んでください。".to_owned());
                None
            }
        };
        let rules = take(Rules::parse_lines(&self.rules), &mut errors.rules);
        let tags = take(
            TagName::parse_list(
                self.tags
                    .split([',', '、', '，'])
                    .filter(|t| !t.trim().is_empty()),
            ),
            &mut errors.tags,
        );
        let email = if with_email && !self.email.trim().is_empty() {
            take(Email::parse(&self.email), &mut errors.email).map(Some)
        } else {
            Some(None)
        };
        if !self.website.is_empty() {
            errors.form = Some(SEND_AGAIN.to_owned());
        }

        // Only fields within their limits are scanned: one that is too long comes back with its
        // message anyway, and the scan's work stays bounded by the largest valid story.
        let pii: Vec<Finding> = [
            ("タイトル", &self.title, title.is_some()),
            ("ペンネーム", &self.pen_name, pen_name.is_some()),
            ("本文", &self.body, body.is_some()),
            ("ルール", &self.rules, rules.is_some()),
            ("タグ", &self.tags, tags.is_some()),
        ]
        .into_iter()
        .filter(|(_, _, valid)| *valid)
        .flat_map(|(field, text, _)| pii::scan(field, text))
        .collect();

        match (
            title, body, pen_name, length, how_met, continuing, rules, tags, email,
        ) {
            (
                Some(title),
                Some(body),
                Some(pen_name),
                Some(length),
                Some(how_met),
                Some(continuing),
                Some(rules),
                Some(tags),
                Some(email),
            ) if errors.is_empty() && (pii.is_empty() || self.confirm_pii == "yes") => {
                Parsed::Ready {
                    content: StoryContent {
                        title,
                        body,
                        pen_name,
                        length,
                        how_met,
                        continuing,
                        facts_known: true,
                        rules,
                        tags,
                    },
                    email,
                    pii,
                }
            }
            _ => Parsed::Again { errors, pii },
        }
    }

    /// `parse` on the blocking pool: the checks of a long story are CPU work, which on an async
    /// worker would hold every other request waiting on that worker.
    pub async fn parse_off_worker(self, with_email: bool) -> Result<(Self, Parsed), AppError> {
        Ok(actix_web::web::block(move || {
            let parsed = self.parse(with_email);
            (self, parsed)
        })
        .await?)
    }

    /// The way-of-meeting choices, with the typed one selected.
    pub fn how_met_options(&self) -> Vec<SelectOption> {
        HowMet::ALL
            .iter()
            .map(|h| SelectOption {
                value: h.as_str(),
                label: h.label(),
                selected: self.how_met == h.as_str(),
            })
            .collect()
    }
}

/// A finding with a little of the text around it, for the warning.
pub struct FindingView {
    pub field: String,
    pub kind: &'static str,
    /// Why it matters, in a sentence.
    pub explanation: &'static str,
    pub before: String,
    pub text: String,
    pub after: String,
}

/// The findings the warning lists, and how many more there are.
#[derive(Default)]
pub struct FindingViews {
    pub shown: Vec<FindingView>,
    pub more: usize,
}

impl FindingViews {
    pub fn is_empty(&self) -> bool {
        self.shown.is_empty()
    }
}

const CONTEXT_CHARS: usize = 12;
/// A text full of numbers would otherwise make a warning longer than the story.
const SHOWN_FINDINGS: usize = 30;

impl StoryForm {
    fn field_text(&self, field: &str) -> &str {
        match field {
            "タイトル" => &self.title,
            "ペンネーム" => &self.pen_name,
            "本文" => &self.body,
            "ルール" => &self.rules,
            "タグ" => &self.tags,
            _ => "",
        }
    }

    pub fn finding_views(&self, pii: &[Finding]) -> FindingViews {
        let shown = pii
            .iter()
            .take(SHOWN_FINDINGS)
            .map(|f| {
                let text = self.field_text(&f.field);
                let end = f.at + f.text.len();
                let (before, after) = match (text.get(..f.at), text.get(end..)) {
                    (Some(head), Some(tail)) if text.get(f.at..end) == Some(f.text.as_str()) => {
                        let mut before: Vec<char> =
                            head.chars().rev().take(CONTEXT_CHARS).collect();
                        before.reverse();
                        (
                            before.into_iter().collect(),
                            tail.chars().take(CONTEXT_CHARS).collect(),
                        )
                    }
                    _ => (String::new(), String::new()),
                };
                FindingView {
                    field: f.field.clone(),
                    kind: f.kind.label(),
                    explanation: f.kind.explanation(),
                    before,
                    text: f.text.clone(),
                    after,
                }
            })
            .collect();
        FindingViews {
            shown,
            more: pii.len().saturating_sub(SHOWN_FINDINGS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> StoryForm {
        StoryForm {
            title: "職場で出会って五年".into(),
            body: "同じ部署で働いていた彼女とは、最初は仕事の相談をするだけの間柄でした。お互いに家庭があることを最初から話していました。".into(),
            length_years: "5".into(),
            length_months: "".into(),
            how_met: "workplace".into(),
            continuing: "yes".into(),
            rules: "連絡は平日の昼だけ\n家族を優先".into(),
            tags: "職場、ルール".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_form_becomes_a_story() {
        let Parsed::Ready {
            content,
            email,
            pii,
        } = valid().parse(true)
        else {
            panic!("valid")
        };
        assert_eq!(content.length.months(), 60);
        assert_eq!(content.tags.len(), 2);
        assert_eq!(content.pen_name.as_ref(), "匿名");
        assert!(email.is_none() && pii.is_empty());
    }

    #[test]
    fn every_bad_field_gets_its_own_message() {
        let form = StoryForm {
            title: "".into(),
            length_years: "x".into(),
            how_met: "".into(),
            continuing: "".into(),
            email: "nope".into(),
            ..valid()
        };
        let Parsed::Again { errors, .. } = form.parse(true) else {
            panic!("invalid")
        };
        assert!(errors.title.is_some() && errors.length.is_some() && errors.how_met.is_some());
        assert!(errors.continuing.is_some() && errors.email.is_some());
        assert!(errors.body.is_none());
        assert_eq!(errors.all().len(), 5);
    }

    #[test]
    fn personal_information_needs_confirming() {
        let form = StoryForm {
            body: format!("{} 連絡先は090-1234-5678です。", valid().body),
            ..valid()
        };
        let Parsed::Again { errors, pii } = form.parse(true) else {
            panic!("needs confirming")
        };
        assert!(errors.is_empty());
        assert_eq!(pii.len(), 1);
        let confirmed = StoryForm {
            confirm_pii: "yes".into(),
            ..form
        };
        let Parsed::Ready { pii, .. } = confirmed.parse(true) else {
            panic!("confirmed")
        };
        assert_eq!(pii[0].text, "090-1234-5678");
    }

    #[test]
    fn a_filled_honeypot_sends_the_form_back() {
        let form = StoryForm {
            website: "http://spam.example".into(),
            ..valid()
        };
        assert!(matches!(form.parse(true), Parsed::Again { errors, .. } if errors.form.is_some()));
    }
}
