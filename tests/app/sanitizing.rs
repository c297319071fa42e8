//! Nothing a writer types can run script or carry raw HTML onto a page.

use serde_json::json;

use crate::helpers::{guide, spawn_app, story, with};

const HOSTILE: &str = r#"はじめに<script>alert('x')</script>

<img src=x onerror=alert(1)>

<div style="position:fixed" onclick="steal()">raw</div>

[押してください](javascript:alert(document.cookie))

[データ](data:text/html;base64,PHNjcmlwdD4=)

<a href="javascript:alert(1)">link</a>

![追跡](https://tracker.example/pixel.gif)

<iframe src="https://evil.example/"></iframe>

<svg onload=alert(1)></svg>

本文は最後まで表示されます。お互いの家庭を大切にすることを約束しました。"#;

#[tokio::test]
async fn script_handlers_javascript_links_and_raw_html_never_reach_a_page() {
    let app = spawn_app().await;
    let story_title = "攻撃<script>alert(1)</script>の話";
    let guide_title = "<img src=x onerror=alert(1)>ガイド";
    app.seed(&[
        with(
            story("hstxxxxxxxx2", story_title, "approved"),
            "body",
            json!(HOSTILE),
        ),
        with(
            with(
                guide("hostile", guide_title, "published"),
                "body",
                json!(HOSTILE),
            ),
            "summary",
            json!("\"><script>alert(2)</script>"),
        ),
    ]);

    // Each page with the hostile titles it shows: its heading, or a card in its list.
    for (path, shown) in [
        ("/stories/hstxxxxxxxx2", &[story_title][..]),
        ("/guides/hostile", &[guide_title][..]),
        ("/", &[story_title, guide_title][..]),
        ("/stories", &[story_title][..]),
        ("/guides", &[guide_title][..]),
    ] {
        let page = app.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        // The hostile item is on the page, escaped into text: the checks below read it.
        let titles = [page.texts("h1"), page.card_titles()].concat();
        for title in shown {
            assert!(
                titles.iter().any(|t| t == title),
                "{path} does not show {title:?} as text: {titles:?}"
            );
        }
        assert_no_executable_markup(path, &page.body);
        // The only script element is our JSON-LD data block.
        let body = page
            .body
            .to_lowercase()
            .replace("<script type=\"application/ld+json\">", "");
        for bad in [
            "<script",
            "<iframe",
            "<svg",
            "position:fixed",
            "tracker.example",
            "evil.example",
            "javascript:",
        ] {
            assert!(!body.contains(bad), "{path} contains {bad}");
        }
    }
    let story_page = app.shown("/stories/hstxxxxxxxx2").await;
    // Escaped, the title still reads as the writer typed it.
    assert_eq!(story_page.text("h1"), "攻撃<script>alert(1)</script>の話");
    assert!(
        story_page
            .text(".prose")
            .contains("本文は最後まで表示されます")
    );
    assert!(
        story_page
            .texts(".prose a")
            .contains(&"押してください".to_owned())
    );
}

/// No element that runs script, no event handler attribute, no script URL, anywhere in the DOM;
/// and no form control inside what a writer wrote.
pub fn assert_no_executable_markup(path: &str, html: &str) {
    let doc = scraper::Html::parse_document(html);
    let controls =
        scraper::Selector::parse(".prose form, .prose input, .prose button, .prose textarea")
            .unwrap();
    assert!(
        doc.select(&controls).next().is_none(),
        "{path} has a form control in its text"
    );
    for node in doc.tree.nodes() {
        let Some(element) = node.value().as_element() else {
            continue;
        };
        let name = element.name();
        assert!(
            ![
                "script", "iframe", "object", "embed", "svg", "math", "style", "base", "link",
                "meta"
            ]
            .contains(&name)
                || matches!(name, "link" | "meta")
                    && !element
                        .attrs()
                        .any(|(a, v)| a == "http-equiv" || (a == "rel" && v == "import"))
                // Structured data is not executed; only ours is allowed.
                || name == "script" && element.attr("type") == Some("application/ld+json"),
            "{path} has a <{name}> element"
        );
        for (attribute, value) in element.attrs() {
            assert!(
                !attribute.starts_with("on"),
                "{path}: <{name} {attribute}=…>"
            );
            assert!(attribute != "style", "{path}: <{name} style=…>");
            let value = value.trim().to_lowercase();
            if ["href", "src", "action", "formaction"].contains(&attribute) {
                assert!(
                    !value.starts_with("javascript:")
                        && !value.starts_with("data:")
                        && !value.starts_with("vbscript:"),
                    "{path}: <{name} {attribute}={value}>"
                );
            }
        }
    }
}
