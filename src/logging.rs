//! What the log may hold: never query strings, form values, tokens, story text or addresses, at
//! any level. The access line is written by `middleware::access_log` (method, route pattern, status,
//! time); this module decides which crates may log how much.

use tracing_subscriber::EnvFilter;

/// The most any other crate may log. At debug, dependencies write request heads and bodies,
/// SQL with its values, or documents as they are indexed; at info they write none of that.
const DEPENDENCIES_AT_MOST: &str = "info";

const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// A filter from `ENGAWA_LOG` (default `info`). A bare level applies to Engawa, and to the other
/// crates only up to `info`; directives naming Engawa's modules are kept; directives naming
/// other crates are ignored, so that no setting lets a dependency log content.
pub fn filter(spec: Option<&str>) -> EnvFilter {
    EnvFilter::try_new(directives(spec)).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// The directives `filter` is made of.
fn directives(spec: Option<&str>) -> String {
    let spec = spec.unwrap_or("info");
    let mut dependencies = DEPENDENCIES_AT_MOST;
    let mut ours = Vec::new();
    for directive in spec.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let level = directive.to_ascii_lowercase();
        if let Some(rank) = LEVELS.iter().position(|l| *l == level) {
            let cap = LEVELS
                .iter()
                .position(|l| *l == DEPENDENCIES_AT_MOST)
                .unwrap_or(3);
            dependencies = LEVELS[rank.min(cap)];
            ours.push(format!("engawa={level}"));
        } else if directive == "engawa"
            || directive.starts_with("engawa=")
            || directive.starts_with("engawa::")
        {
            ours.push(directive.to_owned());
        }
    }
    std::iter::once(dependencies.to_owned())
        .chain(ours)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_level_opens_engawa_but_not_its_dependencies() {
        assert_eq!(directives(Some("debug")), "info,engawa=debug");
        assert_eq!(directives(Some("trace")), "info,engawa=trace");
        assert_eq!(directives(Some("warn")), "warn,engawa=warn");
        assert_eq!(directives(None), "info,engawa=info");
    }

    #[test]
    fn directives_for_other_crates_are_ignored() {
        let f = directives(Some(
            "info,actix_http=trace,tantivy=debug,engawa::search=debug",
        ));
        assert_eq!(f, "info,engawa=info,engawa::search=debug");
    }
}
