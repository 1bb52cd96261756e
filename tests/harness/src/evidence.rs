//! A copy of the repository's evidence inputs and the results of a run in which every
//! requirement passes on every store, for tests that plant holes and watch the evidence
//! command name them.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use sentinel_traceability::Catalogue;

/// The real workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Copies every tracked file of the workspace into `dest`: what `cargo metadata` and the
/// evidence command read, with nothing of `target/`.
pub fn copy_workspace(dest: &Path) {
    let root = workspace_root();
    let listed = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(&root)
        .output()
        .expect("git ls-files");
    assert!(listed.status.success(), "the workspace is a git checkout");
    for name in listed.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        let (from, to) = (root.join(&name), dest.join(&name));
        if !from.is_file() {
            continue;
        }
        std::fs::create_dir_all(to.parent().expect("a parent")).expect("mkdir");
        std::fs::copy(&from, &to).expect("copy");
    }
}

fn scenario(id: &str, line: usize, passed: bool) -> serde_json::Value {
    let status = if passed { "passed" } else { "failed" };
    serde_json::json!({
        "keyword": "Scenario", "type": "scenario", "id": id, "line": line,
        "name": format!("verifies {id}"),
        "tags": [{"name": format!("@{id}"), "line": line - 1}],
        "steps": [{"keyword": "Then ", "line": line + 1, "name": "it holds",
                   "result": {"status": status, "duration": 1}}]
    })
}

/// Writes `<store>.json` (one passing scenario per requirement of the catalogue at `root`)
/// and `audit-<store>.json` (one intact log) for each store into `results`.
pub fn passing_results(root: &Path, results: &Path, stores: &[&str]) {
    let catalogue = Catalogue::load(&root.join("traceability")).expect("catalogue");
    std::fs::create_dir_all(results).expect("results dir");
    for store in stores {
        let elements: Vec<serde_json::Value> = catalogue
            .requirements
            .iter()
            .enumerate()
            .map(|(i, r)| scenario(&r.id, 3 + 4 * i, true))
            .collect();
        let report = serde_json::json!([{
            "uri": "tests/features/everything.feature", "keyword": "Feature",
            "name": "Everything", "line": 1, "elements": elements
        }]);
        std::fs::write(results.join(format!("{store}.json")), report.to_string())
            .expect("write report");
        let audit = serde_json::json!([{
            "scenario": "Everything:3 (verifies)", "checked": 12, "intact": true,
            "problem": "", "tampered": false
        }]);
        std::fs::write(
            results.join(format!("audit-{store}.json")),
            audit.to_string(),
        )
        .expect("write audit report");
    }
}

/// Marks the scenario verifying `requirement` failed in `store`'s results.
pub fn fail_scenario(results: &Path, store: &str, requirement: &str) {
    let path = results.join(format!("{store}.json"));
    let mut report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("report")).expect("json");
    for element in report[0]["elements"].as_array_mut().expect("elements") {
        if element["id"] == requirement {
            element["steps"][0]["result"]["status"] = "failed".into();
        }
    }
    std::fs::write(&path, report.to_string()).expect("write report");
}

/// Appends TOML to a file of the copy.
pub fn append(root: &Path, file: &str, text: &str) {
    let path = root.join(file);
    let mut content = std::fs::read_to_string(&path).expect("read");
    content.push_str(text);
    std::fs::write(&path, content).expect("write");
}

/// Removes the `[[soup]]` entry of `name` from the copy's curated SOUP list.
pub fn drop_soup_entry(root: &Path, name: &str) {
    let path = root.join("docs/soup.toml");
    let text = std::fs::read_to_string(&path).expect("read");
    let kept: Vec<&str> = text
        .split("[[soup]]")
        .filter(|entry| !entry.contains(&format!("name = \"{name}\"")))
        .collect();
    std::fs::write(&path, kept.join("[[soup]]")).expect("write");
}
