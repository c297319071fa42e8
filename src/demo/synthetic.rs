//! A synthetic corpus of approved stories for benchmarks: `engawa demo --stories N`.
//! Sentences are assembled from hand-written fragments, so the text reads as natural Japanese
//! and the vocabulary, lengths and tags vary the way real stories do. The same seed gives the
//! same corpus.

use chrono::{Duration, NaiveDateTime};
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};

use crate::db::DbConn;
use crate::domain::{
    HowMet, PenName, PublicId, RelationshipLength, Rules, StoryBody, StoryStatus, TagName, Title,
};
use crate::models::story::{Story, StoryContent, StoryInput};

const MET: [(HowMet, &[&str]); 5] = [
    (
        HowMet::Hobby,
        &[
            "地域の読書会で、同じ作家が好きだとわかったのが始まりでした。",
            "市民合唱団で隣のパートだった人と、練習の帰りに話すようになりました。",
            "山歩きのサークルで、同じペースで歩く人がいました。",
            "オンラインゲームのギルドで、いつも一緒に遊んでいた仲間でした。",
            "写真教室で撮った作品を見せ合ううちに、親しくなりました。",
            "料理教室の同じ班になり、片付けをしながら話すのが楽しみになりました。",
        ],
    ),
    (
        HowMet::Workplace,
        &[
            "入社同期の彼女とは、新人研修のころから何でも話せる仲でした。",
            "隣の部署の先輩と、社内のプロジェクトで一緒になりました。",
            "取引先の担当者として何年も顔を合わせているうちに、打ち解けました。",
            "異動先の職場で、仕事を丁寧に教えてくれたのが彼でした。",
            "同じフロアで働く人と、昼休みに本の話をするようになりました。",
        ],
    ),
    (
        HowMet::App,
        &[
            "既婚者どうしが話し相手を探すためのアプリで知り合いました。",
            "マッチングアプリで「身体の関係は望みません」と書いていたのは、お互いさまでした。",
            "アプリで最初の三か月はメッセージだけのやりとりでした。",
            "趣味の話ができる相手を探して登録したアプリで、彼と出会いました。",
        ],
    ),
    (
        HowMet::Friends,
        &[
            "学生時代の友人が開いた食事会で、彼女と出会いました。",
            "幼なじみが「話が合いそう」と紹介してくれたのが、今のパートナーです。",
            "共通の友人の結婚式の二次会で、同じテーブルになりました。",
            "友人の引っ越しを手伝った日に、初めて言葉を交わしました。",
        ],
    ),
    (
        HowMet::Other,
        &[
            "子どもの習い事の送迎で、毎週顔を合わせていたのが彼女でした。",
            "災害ボランティアの活動で、同じ班になりました。",
            "通っていた整骨院の待合室で、何度か話すうちに親しくなりました。",
            "親の介護で通う施設で、同じ立場の人と出会いました。",
        ],
    ),
];

const MIDDLE: &[&str] = &[
    "お互いに結婚していることは、最初から話していました。",
    "最初は月に一度、喫茶店で一時間だけ話すだけでした。",
    "家庭を壊したいわけではない、という気持ちは二人とも同じでした。",
    "連絡は平日の昼休みだけ、と最初に決めました。",
    "休日と家族の行事の日には、連絡をしないことにしています。",
    "贈り物は形に残らないものにしよう、と話し合いました。",
    "相手の家族の悪口は言わない、というのが彼女の提案でした。",
    "会うのは昼間だけ、お酒の席では会わないようにしています。",
    "子どもの受験の時期は、しばらく連絡を控えました。",
    "季節の変わり目ごとに、ルールを見直す時間をとっています。",
    "相手に多くを求めないことが、長続きの秘訣だと思います。",
    "連絡が途切れても責めない、というルールを大切にしています。",
    "話すのは本や映画のこと、仕事の悩み、ときどき子どものことです。",
    "周りに誤解されないよう、職場では同僚以上の態度をとらないようにしています。",
    "スマートフォンの通知を気にしている自分に気づき、使い方を見直しました。",
    "配偶者には「友人と会う」と話していて、それは嘘ではありません。",
    "写真やメッセージは、必要以上に残さないようにしています。",
    "一度だけ、関係をやめようと話し合ったことがあります。",
    "そのときは一か月だけ距離を置いて、お互いの気持ちを確かめました。",
    "家族との予定を必ず優先する、という約束は一度も破っていません。",
    "会えない時期が続いても、不思議と不安にはなりませんでした。",
    "年に一度、関係を続けるかどうかを話し合う日を決めています。",
    "お金のやりとりは一切しないことにしています。",
    "相手の家の近くには行かない、と決めています。",
    "仕事で大きな失敗をした日、黙って話を聞いてくれたことを覚えています。",
    "誕生日にはメッセージを一通だけ送る、というのが二人の習慣です。",
    "夫が単身赴任になった年は、かえって連絡を減らしました。",
    "妻の体調が悪かった時期は、しばらく会うのをやめていました。",
    "本の感想を手紙に書いて渡すのが、いつのまにか楽しみになりました。",
    "同じ映画を別々に観て、次に会ったときに感想を話すこともあります。",
    "お互いの子どもの成長を、少し離れたところから喜び合っています。",
    "周りの人に気づかれたらどうするか、一度きちんと話し合いました。",
    "罪悪感がまったくないと言えば嘘になります。",
    "それでも、この関係が家族を傷つけないように、できることはしてきたつもりです。",
    "カウンセラーに相談したこともあり、気持ちが軽くなりました。",
    "雨の日に傘を貸してくれた、それだけのことがずっと心に残っています。",
    "会う場所は駅前の喫茶店か、大きな書店の中と決めています。",
    "相手の予定に振り回されないよう、自分の時間も大切にしています。",
    "年末は家族と過ごすので、その前に一度だけ会って一年を振り返ります。",
    "話せない日が続いても、どこかで元気にしていると思えるだけで十分です。",
];

const ENDINGS_CONTINUING: &[&str] = &[
    "この関係があるから、家庭でも穏やかでいられるのかもしれません。",
    "これからも無理のない距離で、この関係を大切にしていきたいと思います。",
    "特別なことは何もありませんが、その「何もなさ」を守りたいと思っています。",
    "続けると決めるたびに、家族への感謝も新しくなる気がしています。",
];

const ENDINGS_ENDED: &[&str] = &[
    "最後は約束どおり会って伝え、関係を終えました。",
    "短い期間でしたが、自分が何を大切にしたいのかを教えてくれた時間でした。",
    "終わり方を最初に決めていたので、きれいに区切りをつけられました。",
    "今も共通の知人の集まりでは、以前と同じように笑って話せています。",
];

const RULES: &[&str] = &[
    "連絡は平日の昼だけ",
    "会うのは月に一度、昼間だけ",
    "家族の予定を最優先にする",
    "贈り物は形に残らないもの",
    "お互いの配偶者の悪口は言わない",
    "連絡が途切れても責めない",
    "お金のやりとりはしない",
    "写真は送り合わない",
    "季節ごとにルールを見直す",
    "終えるときは会って伝える",
];

const TAGS: &[&str] = &[
    "ルール",
    "長続き",
    "家族",
    "職場",
    "アプリ",
    "趣味",
    "読書",
    "音楽",
    "終わり方",
    "はじめに",
    "連絡",
    "距離感",
    "子育て",
    "介護",
    "ボランティア",
    "ゲーム",
    "友人",
    "見直し",
];

const TITLE_HEADS: &[&str] = &[
    "読書会で出会って",
    "職場の同期として",
    "アプリで知り合って",
    "友人の紹介から",
    "送迎の待ち時間に",
    "合唱団の帰り道で",
    "山歩きの仲間と",
    "ボランティアで出会い",
];

fn story(rng: &mut StdRng) -> StoryContent {
    let (how_met, openings) = *MET.choose(rng).expect("non-empty");
    let years = rng.random_range(0..10);
    let months = years * 12 + rng.random_range(0..12);
    let continuing = rng.random_bool(0.75);
    let mut sentences: Vec<&str> = vec![openings.choose(rng).expect("non-empty")];
    let mut middle: Vec<&str> = MIDDLE.to_vec();
    middle.shuffle(rng);
    let wanted = rng.random_range(26..46);
    sentences.extend(middle.iter().cycle().take(wanted));
    sentences.push(
        if continuing {
            ENDINGS_CONTINUING
        } else {
            ENDINGS_ENDED
        }
        .choose(rng)
        .expect("non-empty"),
    );
    let mut body = String::new();
    for (i, s) in sentences.iter().enumerate() {
        body.push_str(s);
        if i % 4 == 3 {
            body.push_str("\n\n");
        }
    }
    let length = RelationshipLength::from_months(months).expect("in range");
    let title = format!(
        "{}{}",
        TITLE_HEADS.choose(rng).expect("non-empty"),
        length.duration_label()
    );
    let (rule_count, tag_count) = (rng.random_range(0..4), rng.random_range(1..4));
    let rules: Vec<&str> = RULES.choose_multiple(rng, rule_count).copied().collect();
    let tags: Vec<&str> = TAGS.choose_multiple(rng, tag_count).copied().collect();
    StoryContent {
        title: Title::parse_line(&title).expect("valid title"),
        body: StoryBody::parse(&body).expect("valid body"),
        pen_name: PenName::parse("").expect("valid"),
        length,
        how_met,
        continuing,
        facts_known: true,
        rules: Rules::parse_list(rules).expect("valid rules"),
        tags: TagName::parse_list(tags).expect("valid tags"),
    }
}

/// `n` stories as `generate` writes them (not the same ones: the dates draw on the same seed).
pub fn sample(n: usize, seed: u64) -> Vec<StoryContent> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| story(&mut rng)).collect()
}

/// Adds `n` approved stories, each with its outbox event, in transactions of a thousand.
pub fn generate(
    conn: &mut DbConn,
    n: usize,
    seed: u64,
    now: NaiveDateTime,
    progress: &dyn Fn(usize),
) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut done = 0;
    while done < n {
        let batch = (n - done).min(1000);
        crate::db::write_transaction::<_, anyhow::Error, _>(conn, |conn| {
            for _ in 0..batch {
                let published = now - Duration::minutes(rng.random_range(0..60 * 24 * 365 * 3));
                let input = StoryInput {
                    public_id: PublicId::generate(),
                    content: story(&mut rng),
                    status: StoryStatus::Approved,
                    submitted_at: Some(published - Duration::days(2)),
                    published_at: Some(published),
                    receipt_hash: None,
                    contact_email: None,
                    pii: Vec::new(),
                };
                Story::insert(conn, &input, now)?;
            }
            Ok(())
        })?;
        done += batch;
        progress(done);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stories_are_valid_varied_and_reproducible() {
        let mut a = StdRng::seed_from_u64(7);
        let mut b = StdRng::seed_from_u64(7);
        let first: Vec<StoryContent> = (0..50).map(|_| story(&mut a)).collect();
        let again: Vec<StoryContent> = (0..50).map(|_| story(&mut b)).collect();
        assert_eq!(first[0].body, again[0].body);
        let lengths: Vec<usize> = first
            .iter()
            .map(|s| s.body.as_ref().chars().count())
            .collect();
        let avg = lengths.iter().sum::<usize>() / lengths.len();
        assert!((600..1600).contains(&avg), "average {avg} characters");
        let ways: std::collections::HashSet<_> = first.iter().map(|s| s.how_met).collect();
        assert_eq!(ways.len(), 5);
    }
}
