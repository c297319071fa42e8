//! The docs name a test for each guarantee (docs/SECURITY.md, the last column of its table):
//! every test or file named there exists, so a renamed or deleted test cannot leave a claim
//! without its proof.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            // The fuzz targets' own build folder is not ours.
            if !path.ends_with("target") {
                rust_files(&path, found);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// Whether `module::…::name` names a test function (or, ending in `tests`, a test module) in a
/// file whose path holds `module` as a file or folder name.
fn exists(name: &str, files: &[(PathBuf, String)]) -> bool {
    let parts: Vec<&str> = name.split("::").collect();
    let (module, last) = (parts[0], parts[parts.len() - 1]);
    files.iter().any(|(path, text)| {
        let in_module = path
            .components()
            .any(|c| c.as_os_str() == module || c.as_os_str() == format!("{module}.rs").as_str());
        in_module
            && if last == "tests" {
                text.contains("mod tests {")
            } else {
                text.contains(&format!("fn {last}("))
            }
    })
}

#[test]
fn every_test_named_in_security_md_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    rust_files(&root.join("src"), &mut paths);
    rust_files(&root.join("tests"), &mut paths);
    let files: Vec<(PathBuf, String)> = paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect();
    let security = std::fs::read_to_string(root.join("docs/SECURITY.md")).unwrap();
    let mut named = 0;
    let mut missing = Vec::new();
    for row in security
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
    {
        let cells: Vec<&str> = row
            .split('|')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        let Some(shown_by) = cells.last().filter(|_| cells.len() >= 4) else {
            continue;
        };
        for quoted in shown_by.split('`').skip(1).step_by(2) {
            if quoted.contains("::") {
                named += 1;
                if !exists(quoted, &files) {
                    missing.push(quoted.to_owned());
                }
            } else if quoted.contains('/') && (quoted.ends_with(".rs") || quoted.ends_with('/')) {
                named += 1;
                if !root.join(quoted).exists() && !root.join("src").join(quoted).exists() {
                    missing.push(quoted.to_owned());
                }
            }
        }
    }
    assert!(
        named >= 40,
        "only {named} tests named: is the table still there?"
    );
    assert!(
        missing.is_empty(),
        "named in docs/SECURITY.md but not found: {missing:#?}"
    );
}
