#![no_main]
//! Markdown → HTML: any text renders without panicking, and the HTML holds no element or
//! attribute that runs script. (Every `<` in the output opens a real tag: text is escaped.)

use libfuzzer_sys::fuzz_target;

const FORBIDDEN: [&str; 8] = [
    "<script", "<iframe", "<style", "<svg", "<object", "<embed", "<form", "<math",
];

fuzz_target!(|text: &str| {
    let html = engawa::markdown::render(text).html.to_ascii_lowercase();
    for element in FORBIDDEN {
        assert!(!html.contains(element), "{element} in {html}");
    }
    for tag in html.split('<').skip(1) {
        let inside = tag.split('>').next().unwrap_or_default();
        for attribute in inside.split_whitespace().skip(1) {
            let name = attribute.split('=').next().unwrap_or_default();
            assert!(!name.starts_with("on"), "{name} in <{inside}>");
            assert!(name != "style", "style in <{inside}>");
            if let Some(value) = attribute
                .strip_prefix("href=")
                .or(attribute.strip_prefix("src="))
            {
                let value = value.trim_matches('"');
                for scheme in ["javascript:", "vbscript:", "data:"] {
                    assert!(!value.starts_with(scheme), "{value} in <{inside}>");
                }
            }
        }
    }
});
