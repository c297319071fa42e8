//! The text of every mail the site sends. No mail quotes a story, so a mail read over someone's
//! shoulder gives little away; a change request carries the moderator's own message (the panel
//! says it goes by mail), and a rejection says why only when the moderator chose to.

use super::Mail;

pub const MODERATOR_ALERT: &str = "moderator_alert";
pub const DECISION: &str = "decision";

/// What a moderators' alert says: the queue's state, never a story.
pub struct Alert {
    /// Items that entered the queue (new, sent again, hidden by reports) since the last alert.
    pub arrivals: i32,
    /// Items waiting for a moderator now.
    pub waiting: usize,
    /// How long the oldest has waited: 「3時間前」.
    pub oldest: Option<String>,
    /// Whether an item has waited longer than the reminder time.
    pub reminder: bool,
}

pub fn moderator_alert(to: Vec<String>, alert: &Alert, base_url: &str) -> Mail {
    let Alert {
        arrivals, waiting, ..
    } = alert;
    let mut body = String::new();
    if alert.reminder {
        body.push_str("長く審査を待っている体験談があります。\n");
    }
    if *arrivals > 0 {
        body.push_str(&format!(
            "前回のお知らせのあと、{arrivals}件が審査キューに入りました（新しい投稿・修正版・通報による非公開）。\n"
        ));
    }
    body.push_str(&format!("現在、審査待ちは{waiting}件です。"));
    if let Some(oldest) = &alert.oldest {
        body.push_str(&format!("いちばん古いものは{oldest}から待っています。"));
    }
    body.push_str(&format!(
        "\n\n審査キュー: {base_url}/mod\n\n\
         このお知らせは、一定の間隔で最大1通にまとめて送っています。\n"
    ));
    Mail {
        kind: MODERATOR_ALERT.to_owned(),
        to,
        unsubscribe: None,
        story: None,
        subject: if alert.reminder {
            format!("【縁側】長く待っている体験談があります（審査待ち{waiting}件）")
        } else {
            format!("【縁側】審査待ちの体験談が{waiting}件あります")
        },
        body,
    }
}

pub const STORY_HIDDEN: &str = "story_hidden";

/// To the moderators when reports hid a story: how many readers, why, where to decide. Like every
/// mail, it quotes nothing of the story.
pub fn story_hidden(
    to: Vec<String>,
    public_id: &str,
    readers: i64,
    reasons: &[(String, i64)],
    base_url: &str,
) -> Mail {
    let reasons: String = reasons
        .iter()
        .map(|(label, n)| format!("・{label}：{n}件\n"))
        .collect();
    Mail {
        kind: STORY_HIDDEN.to_owned(),
        to,
        unsubscribe: None,
        story: None,
        subject: "【縁側】通報により体験談を非公開にしました".to_owned(),
        body: format!(
            "公開中の体験談に{readers}人の読者から通報があったため、確認が済むまで非公開にしました。\n\n\
             通報の理由:\n{reasons}\n\
             確認する: {base_url}/mod/stories/{public_id}\n\n\
             問題がなければ公開に戻してください。通報に根拠がないと判断した場合は、その旨を選んで戻すと、\
             同じ読者からのこの体験談への通報は数えられなくなります。\n"
        ),
    }
}

/// A decision mail to a submitter: one address, used once.
fn decision(to: &str, subject: &str, body: String) -> Mail {
    Mail {
        kind: DECISION.to_owned(),
        to: vec![to.to_owned()],
        unsubscribe: None,
        story: None,
        subject: subject.to_owned(),
        body,
    }
}

pub fn story_approved(to: &str, public_url: &str) -> Mail {
    decision(
        to,
        "【縁側】体験談を公開しました",
        format!(
            "縁側に体験談をお寄せいただき、ありがとうございました。\n\
             審査のうえ、公開いたしました。\n\n\
             {public_url}\n\n\
             受付番号があれば、いつでも状況の確認や取り下げができます。\n\
             このメールアドレスは、このお知らせを送ったあと削除しました。\n"
        ),
    )
}

/// `told`: the reason and the moderator's note, when the moderator chose to tell them by mail
/// (the status page always shows them).
pub fn story_rejected(to: &str, told: Option<(&str, Option<&str>)>, status_url: &str) -> Mail {
    let why = match told {
        Some((reason, Some(note))) => format!("理由: {reason}\n{note}\n\n"),
        Some((reason, None)) => format!("理由: {reason}\n\n"),
        None => String::new(),
    };
    decision(
        to,
        "【縁側】体験談の審査結果のお知らせ",
        format!(
            "縁側に体験談をお寄せいただき、ありがとうございました。\n\
             審査の結果、今回は公開を見送らせていただきました。\n\n\
             {why}\
             受付番号をお持ちであれば、{status_url} で詳しい状況の確認や、内容の取り下げ（削除）ができます。\n\
             このメールアドレスは、このお知らせを送ったあと削除しました。\n"
        ),
    )
}

/// The moderator's request for changes, in their words; the address is kept for the decision
/// that follows.
pub fn changes_requested(to: &str, message: &str, status_url: &str) -> Mail {
    decision(
        to,
        "【縁側】体験談の修正のお願い",
        format!(
            "縁側に体験談をお寄せいただき、ありがとうございました。\n\
             公開の前に、編集部から修正のお願いがあります。\n\n\
             {message}\n\n\
             受付番号を {status_url} に入力すると、内容を直して送り直すことができます。\n\
             このメールアドレスは、公開か不採用が決まってお知らせを送るまで保管し、その後削除します。\n"
        ),
    )
}

pub const SUBSCRIPTION_CONFIRM: &str = "subscription_confirm";
pub const DIGEST: &str = "digest";

/// `forgotten_after_days`: how long an unconfirmed request is kept.
pub fn confirm_subscription(to: &str, confirm_url: &str, forgotten_after_days: i64) -> Mail {
    Mail {
        kind: SUBSCRIPTION_CONFIRM.to_owned(),
        to: vec![to.to_owned()],
        unsubscribe: None,
        story: None,
        subject: "【縁側】メール配信の登録を確認してください".to_owned(),
        body: format!(
            "縁側の新着のお知らせに、このメールアドレスで登録の申し込みがありました。\n\
             登録する場合は、次のページを開いて「登録を確定する」を押してください。\n\n\
             {confirm_url}\n\n\
             心当たりがない場合は、このメールを無視してください。確定しない限り、このアドレスに何も送りません。\n\
             {forgotten_after_days}日以内に確定されない場合、このアドレスは削除します。\n"
        ),
    }
}

/// One line of a digest: a title and its address.
pub struct DigestItem {
    pub kind: &'static str,
    pub title: String,
    pub url: String,
}

pub fn digest(to: &str, items: &[DigestItem], unsubscribe_url: &str) -> Mail {
    let list: String = items
        .iter()
        .map(|i| format!("・［{}］{}\n  {}\n", i.kind, i.title, i.url))
        .collect();
    Mail {
        kind: DIGEST.to_owned(),
        to: vec![to.to_owned()],
        unsubscribe: Some(unsubscribe_url.to_owned()),
        story: None,
        subject: format!("【縁側】新着のお知らせ（{}件）", items.len()),
        body: format!(
            "縁側の新着です。\n\n{list}\n配信の停止はこちら（ワンクリックで停止し、アドレスを削除します）：\n{unsubscribe_url}\n"
        ),
    }
}

pub const STAFF_LINK: &str = "staff_link";

fn staff_link(to: &str, subject: &str, body: String) -> Mail {
    Mail {
        kind: STAFF_LINK.to_owned(),
        to: vec![to.to_owned()],
        unsubscribe: None,
        story: None,
        subject: subject.to_owned(),
        body,
    }
}

/// An invitation to the panel, with its one-time link.
pub fn staff_invite(to: &str, name: &str, role: &str, link: &str, valid_days: i64) -> Mail {
    staff_link(
        to,
        "【縁側】管理画面への招待",
        format!(
            "{name}さん\n\n\
             縁側の管理画面に{role}として招待されました。\n\
             次のリンクを開いてパスワードを決めると、アカウントができます。\n\n\
             {link}\n\n\
             このリンクは一度だけ、{valid_days}日間使えます。心当たりがない場合は、このメールを破棄してください。\n"
        ),
    )
}

/// A one-time link to set a new password.
pub fn staff_reset(to: &str, link: &str, valid_hours: i64) -> Mail {
    staff_link(
        to,
        "【縁側】パスワードの再設定",
        format!(
            "縁側の管理画面のパスワードを再設定するためのリンクです。\n\n\
             {link}\n\n\
             このリンクは一度だけ、{valid_hours}時間使えます。新しいパスワードを決めると、\
             このアカウントのすべてのログインが終了します。心当たりがない場合は、管理者に知らせてください。\n"
        ),
    )
}
