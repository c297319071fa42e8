//! A short passage of a result around the first place the query matches, with the matches
//! marked. Matching happens on normalized text; the passage is cut from the original.

use super::analyzer::{normalize, normalized};

/// A piece of a snippet; `mark` pieces are shown highlighted. The template escapes the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    pub mark: bool,
}

/// Characters of text shown in a snippet, and how many of them come before the first match.
const WINDOW: usize = 120;
const LEAD: usize = 30;

pub fn snippet(text: &str, needles: &[String]) -> Vec<Segment> {
    let chars = normalize(text);
    if chars.is_empty() {
        return Vec::new();
    }
    let folded: Vec<char> = chars.iter().map(|(c, _, _)| *c).collect();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for needle in needles {
        // Folded as the text is (normalizing is idempotent, so a folded needle stays as it is).
        let needle: Vec<char> = normalized(needle)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if needle.is_empty() || needle.len() > folded.len() {
            continue;
        }
        for start in 0..=folded.len() - needle.len() {
            if folded[start..start + needle.len()] == needle[..] {
                ranges.push((start, start + needle.len()));
            }
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in ranges {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }

    let first = merged.first().map_or(0, |r| r.0.saturating_sub(LEAD));
    let last = (first + WINDOW).min(folded.len());
    let byte = |i: usize| {
        if i >= chars.len() {
            text.len()
        } else {
            chars[i].1
        }
    };
    let mut segments = Vec::new();
    let mut push = |from: usize, to: usize, mark: bool| {
        if from < to {
            let piece: String = text[byte(from)..byte(to)]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if !piece.is_empty() {
                segments.push(Segment { text: piece, mark });
            }
        }
    };
    let mut at = first;
    for (s, e) in merged
        .iter()
        .copied()
        .filter(|(s, e)| *e > first && *s < last)
    {
        let (s, e) = (s.max(first), e.min(last));
        push(at, s, false);
        push(s, e, true);
        at = e;
    }
    push(at, last, false);
    if first > 0 {
        segments.insert(
            0,
            Segment {
                text: "…".to_owned(),
                mark: false,
            },
        );
    }
    if last < folded.len() {
        segments.push(Segment {
            text: "…".to_owned(),
            mark: false,
        });
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(segments: &[Segment]) -> String {
        segments
            .iter()
            .map(|s| {
                if s.mark {
                    format!("[{}]", s.text)
                } else {
                    s.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn matches_are_marked_in_the_original_text() {
        let s = snippet("ﾏｯﾁﾝｸﾞアプリで出会いました。", &["アプリ".to_owned()]);
        assert_eq!(render(&s), "ﾏｯﾁﾝｸﾞ[アプリ]で出会いました。");
    }

    #[test]
    fn a_long_text_is_cut_around_the_first_match() {
        let text = format!("{}長続きの秘訣{}", "あ".repeat(200), "い".repeat(200));
        let s = render(&snippet(&text, &["長続き".to_owned()]));
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("[長続き]の秘訣"));
        assert_eq!(s.chars().filter(|c| *c == 'あ').count(), LEAD);
    }

    #[test]
    fn no_match_shows_the_beginning() {
        let s = render(&snippet("はじめの文。つぎの文。", &["ない".to_owned()]));
        assert_eq!(s, "はじめの文。つぎの文。");
    }

    #[test]
    fn overlapping_matches_merge() {
        let s = render(&snippet(
            "ルールのルール",
            &["ルール".to_owned(), "ルールの".to_owned()],
        ));
        assert_eq!(s, "[ルールのルール]");
    }
}
