//! The text of every mail the site sends. No mail ever quotes a story, so a mail read over
//! someone's shoulder gives nothing away.

use super::Mail;

pub const MODERATOR_ALERT: &str = "moderator_alert";
pub const DECISION: &str = "decision";

pub fn moderator_alert(to: Vec<String>, waiting: i64, base_url: &str) -> Mail {
    Mail {
        kind: MODERATOR_ALERT.to_owned(),
        to,
        subject: format!("【縁側】審査待ちの体験談が{waiting}件あります"),
        body: format!(
            "新しい体験談が届いています。現在、審査待ちは{waiting}件です。\n\n\
             審査キュー: {base_url}/mod\n\n\
             このお知らせは、一定の間隔で最大1通にまとめて送っています。\n"
        ),
    }
}

pub fn story_approved(to: &str, public_url: &str) -> Mail {
    Mail {
        kind: DECISION.to_owned(),
        to: vec![to.to_owned()],
        subject: "【縁側】体験談を公開しました".to_owned(),
        body: format!(
            "縁側に体験談をお寄せいただき、ありがとうございました。\n\
             審査のうえ、公開いたしました。\n\n\
             {public_url}\n\n\
             受付番号があれば、いつでも状況の確認や取り下げができます。\n\
             このメールアドレスは、このお知らせを送ったあと削除しました。\n"
        ),
    }
}

pub fn story_rejected(to: &str, reason: &str, status_url: &str) -> Mail {
    Mail {
        kind: DECISION.to_owned(),
        to: vec![to.to_owned()],
        subject: "【縁側】体験談の審査結果のお知らせ".to_owned(),
        body: format!(
            "縁側に体験談をお寄せいただき、ありがとうございました。\n\
             審査の結果、今回は公開を見送らせていただきました。\n\n\
             理由: {reason}\n\n\
             受付番号をお持ちであれば、{status_url} から内容の取り下げ（削除）ができます。\n\
             このメールアドレスは、このお知らせを送ったあと削除しました。\n"
        ),
    }
}
