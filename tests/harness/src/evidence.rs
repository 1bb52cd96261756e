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

/// Adds the approved, reviewed requirement `id` to the copy, with no scenario verifying it.
pub fn add_requirement_without_scenario(root: &Path, id: &str) {
    add_requirement(root, id, "functional");
}

/// Adds the approved, reviewed security requirement `id`, answering no threat and verified by
/// no scenario.
pub fn add_security_requirement(root: &Path, id: &str) {
    add_requirement(root, id, "security");
}

/// Adds a row to the copy's threat model.
pub fn add_threat(root: &Path, row: &str) {
    append(root, "docs/security.md", &format!("{row}\n"));
}

fn add_requirement(root: &Path, id: &str, kind: &str) {
    append(
        root,
        "traceability/requirements.toml",
        &format!(
            "\n[[requirement]]\nid = \"{id}\"\ntitle = \"new\"\nstatement = \"It does.\"\n\
             kind = \"{kind}\"\nsafety_class = \"C\"\nsource = \"test\"\n\
             status = \"approved\"\nrationale = \"needed\"\n"
        ),
    );
    // Reviewed, so the only hole is the missing scenario.
    sentinel_traceability::catalogue::record_review(&root.join("traceability"), &[id.to_owned()])
        .expect("review");
}

/// Adds the risk `id` to the copy's register, with no control.
pub fn add_hazard_without_control(root: &Path, id: &str) {
    append(
        root,
        "traceability/risks.toml",
        &format!(
            "\n[[risk]]\nid = \"{id}\"\nhazard = \"h\"\nhazardous_situation = \"s\"\n\
             harm = \"x\"\nseverity = \"minor\"\nprobability = \"remote\"\n\
             residual_probability = \"remote\"\nresidual_rationale = \"r\"\n"
        ),
    );
}

/// Writes a fresh Ed25519 signing key (PKCS#8 DER) to `path`.
pub fn signing_key(path: &Path) {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).expect("key");
    std::fs::write(path, pkcs8.as_ref()).expect("key file");
}
