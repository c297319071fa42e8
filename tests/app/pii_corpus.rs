//! The personal-information check against a corpus written apart from it
//! (`fixtures/pii/positives.jsonl`: realistic sentences, each with the span that must be
//! flagged; `negatives.jsonl`: ordinary story sentences full of numbers, dates, honorifics and
//! service names that must not be), and against every demo and synthetic story.

use std::collections::BTreeMap;

use engawa::pii;

#[derive(serde::Deserialize)]
struct Positive {
    kind: String,
    text: String,
    pii: String,
}

#[derive(serde::Deserialize)]
struct Negative {
    text: String,
}

fn lines<T: serde::de::DeserializeOwned>(name: &str) -> Vec<T> {
    let path = format!(
        "{}/tests/app/fixtures/pii/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// Whether some finding covers part of the span that must be flagged.
fn caught(case: &Positive) -> bool {
    let start = case.text.find(&case.pii).expect("the span is in the text");
    let end = start + case.pii.len();
    pii::scan("本文", &case.text)
        .iter()
        .any(|f| f.at < end && start < f.at + f.text.len())
}

/// Recall and the negatives left alone on one corpus; asserts the goals.
fn measure(name: &str, positives: &[Positive], negatives: &[Negative]) {
    assert!(positives.len() >= 120 && negatives.len() >= 120, "{name}");

    let mut by_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut missed = Vec::new();
    for case in positives {
        let entry = by_kind.entry(case.kind.as_str()).or_default();
        entry.1 += 1;
        if caught(case) {
            entry.0 += 1;
        } else {
            missed.push(format!("{}: {} [{}]", case.kind, case.text, case.pii));
        }
    }
    let flagged: Vec<String> = negatives
        .iter()
        .filter_map(|n| {
            let found = pii::scan("本文", &n.text);
            (!found.is_empty()).then(|| {
                let spans: Vec<String> = found
                    .iter()
                    .map(|f| format!("{}「{}」", f.kind.label(), f.text))
                    .collect();
                format!("{} → {}", n.text, spans.join(" "))
            })
        })
        .collect();

    let found: usize = by_kind.values().map(|(c, _)| c).sum();
    let recall = found as f64 / positives.len() as f64;
    let clean = 1.0 - flagged.len() as f64 / negatives.len() as f64;
    println!("{name}: personal information, by kind (caught / cases):");
    for (kind, (c, n)) in &by_kind {
        println!("  {kind:<10} {c:>3} / {n:<3}");
    }
    println!(
        "recall {:.1} % ({found} of {}); negatives without a flag {:.1} % ({} of {} flagged)",
        recall * 100.0,
        positives.len(),
        clean * 100.0,
        flagged.len(),
        negatives.len()
    );
    println!("missed:\n  {}", missed.join("\n  "));
    println!("flagged negatives:\n  {}", flagged.join("\n  "));
    assert!(recall >= 0.95, "{name}: recall {recall}");
    assert!(clean >= 0.98, "{name}: {} negatives flagged", flagged.len());
}

#[test]
fn the_check_catches_what_people_write_and_leaves_ordinary_text_alone() {
    // Two corpora, each written by someone who saw neither the code nor the other corpus; the
    // second was kept aside while the first was used to build the check, and measured after.
    measure(
        "first corpus",
        &lines::<Positive>("positives.jsonl"),
        &lines::<Negative>("negatives.jsonl"),
    );
    measure(
        "second corpus",
        &lines::<Positive>("holdout_positives.jsonl"),
        &lines::<Negative>("holdout_negatives.jsonl"),
    );
    measure(
        "third corpus",
        &lines::<Positive>("third_positives.jsonl"),
        &lines::<Negative>("third_negatives.jsonl"),
    );
}

/// The demo site's stories and 10,000 of the synthetic ones (`engawa demo --stories`) hold no
/// personal information, and the check finds none.
#[test]
fn demo_and_synthetic_stories_raise_no_flag() {
    let demo = include_str!("../../src/demo/content.jsonl");
    let mut checked = 0;
    for line in demo.lines().filter(|l| l.contains("\"type\": \"story\"")) {
        let story: serde_json::Value = serde_json::from_str(line).unwrap();
        let mut fields: Vec<String> = ["title", "body", "pen_name"]
            .iter()
            .filter_map(|k| story[k].as_str().map(str::to_owned))
            .collect();
        for list in ["rules", "tags"] {
            if let Some(items) = story[list].as_array() {
                fields.extend(items.iter().filter_map(|v| v.as_str().map(str::to_owned)));
            }
        }
        for text in fields {
            let found = pii::scan("本文", &text);
            assert!(found.is_empty(), "{found:?} in {text}");
        }
        checked += 1;
    }
    assert!(checked >= 13);

    for story in engawa::demo::synthetic::sample(10_000, 42) {
        let c = &story;
        let mut fields = vec![
            c.title.as_ref().to_owned(),
            c.body.as_ref().to_owned(),
            c.rules.to_stored(),
        ];
        fields.extend(c.tags.iter().map(|t| t.as_ref().to_owned()));
        for text in fields {
            let found = pii::scan("本文", &text);
            assert!(found.is_empty(), "{found:?} in {text}");
        }
    }
}
