//! Steps for the compliance evidence pack: a copy of the repository with a run in which every
//! requirement passes, holes planted in the copy, and the pack built from it.

use std::path::PathBuf;

use cucumber::{gherkin::Step, given, then, when};
use sentinel_evidence::{Inputs, RunRecord, assemble, manifest, pack, record};
use sentinel_testkit::evidence as fixture;

use crate::world::SuiteWorld;

const STORES: [&str; 2] = ["sqlite", "postgres"];

fn dir(world: &SuiteWorld) -> PathBuf {
    world
        .evidence
        .dir
        .as_ref()
        .expect("a copy of the repository")
        .path()
        .to_path_buf()
}

fn root(world: &SuiteWorld) -> PathBuf {
    dir(world).join("root")
}

fn results(world: &SuiteWorld) -> PathBuf {
    dir(world).join("results")
}

fn build(world: &mut SuiteWorld) {
    let inputs = Inputs {
        root: root(world),
        results: results(world),
        test_log: None,
        stores: STORES.iter().map(|s| (*s).to_owned()).collect(),
    };
    let evidence = assemble(&inputs).expect("the pack's inputs are readable");
    let record = RunRecord::of(&evidence, &inputs.root, record::now(), "bdd");
    let out = dir(world).join(format!("pack-{}", world.evidence.built.len()));
    pack::write_pack(&evidence, &record, &out, world.evidence.key.as_deref()).expect("pack");
    world.evidence.built.push(evidence);
}

fn last(world: &SuiteWorld) -> &sentinel_evidence::Evidence {
    world.evidence.built.last().expect("a pack was built")
}

fn pack_dir(world: &SuiteWorld, n: usize) -> PathBuf {
    dir(world).join(format!("pack-{n}"))
}

#[given("a copy of the repository with every requirement passing on both stores")]
async fn a_passing_copy(world: &mut SuiteWorld) {
    let temp = tempfile::tempdir().expect("temp dir");
    let root = temp.path().join("root");
    fixture::copy_workspace(&root);
    fixture::passing_results(&root, &temp.path().join("results"), &STORES);
    world.evidence.dir = Some(temp);
}

#[given("a requirement with no scenario")]
async fn requirement_without_scenario(world: &mut SuiteWorld) {
    fixture::add_requirement_without_scenario(&root(world), "REQ-NEW-001");
}

#[given(expr = "a threat naming the requirement {string} and the test {string}")]
async fn threat_with_holes(world: &mut SuiteWorld, requirement: String, test: String) {
    fixture::add_threat(
        &root(world),
        &format!("| T-99 | T | a threat | a control | {requirement} | {test} |"),
    );
}

#[given(expr = "a security requirement {string} that answers no threat")]
async fn unanswered_security_requirement(world: &mut SuiteWorld, id: String) {
    fixture::add_security_requirement(&root(world), &id);
}

#[then("the pack holds the threat model with every threat traced to its requirements and tests")]
async fn pack_holds_threat_model(world: &mut SuiteWorld) {
    let evidence = last(world);
    let pack = pack_dir(world, world.evidence.built.len() - 1);
    let model = std::fs::read_to_string(pack.join("security.md")).expect("security.md");
    assert!(model.contains("STRIDE"));
    assert!(evidence.threats.len() >= 20, "{}", evidence.threats.len());
    for threat in evidence.threats.iter().filter(|t| !t.open) {
        assert!(
            !threat.requirements.is_empty() && !threat.tests.is_empty(),
            "{threat:?}"
        );
    }
    let page = std::fs::read_to_string(pack.join("evidence.md")).expect("evidence.md");
    assert!(page.contains("## Threat model") && page.contains("T-01"));
}

#[given(regex = r"^a failing scenario for (REQ-[A-Z]+-\d+) on (\w+)$")]
async fn failing_scenario(world: &mut SuiteWorld, requirement: String, store: String) {
    fixture::fail_scenario(&results(world), &store, &requirement);
}

#[given("a hazard without a control")]
async fn hazard_without_control(world: &mut SuiteWorld) {
    fixture::add_hazard_without_control(&root(world), "RISK-999");
}

#[given(expr = "the direct dependency {string} without a SOUP entry")]
async fn dependency_without_rationale(world: &mut SuiteWorld, name: String) {
    fixture::drop_soup_entry(&root(world), &name);
}

#[given(expr = "a SOUP entry for {string}, which is not in Cargo.lock")]
async fn stale_soup_entry(world: &mut SuiteWorld, name: String) {
    fixture::append(
        &root(world),
        "docs/soup.toml",
        &format!(
            "\n[[soup]]\nname = \"{name}\"\nscope = \"runtime\"\npurpose = \"p\"\nwhy = \"w\"\n\
             requirements = \"r\"\nneeds = \"n\"\nanomaly_list = \"https://example.invalid\"\n"
        ),
    );
}

#[given(regex = r"^the statement of (REQ-[A-Z]+-\d+) is changed$")]
async fn statement_changed(world: &mut SuiteWorld, requirement: String) {
    let path = root(world).join("traceability/requirements.toml");
    let text = std::fs::read_to_string(&path).expect("requirements");
    let at = text
        .find(&format!("id = \"{requirement}\""))
        .expect("the requirement");
    let statement = at + text[at..].find("statement = \"\"\"").expect("a statement") + 17;
    let changed = format!(
        "{}Within one second, {}",
        &text[..statement],
        &text[statement..]
    );
    std::fs::write(&path, changed).expect("write");
}

#[given(regex = r"^the audit log of one scenario's database on (\w+) did not verify$")]
async fn audit_log_broken(world: &mut SuiteWorld, store: String) {
    let audit = serde_json::json!([{
        "scenario": "Audit:42 (a scenario)", "checked": 7, "intact": false,
        "problem": "sequence 3: record content does not match its hash", "tampered": false
    }]);
    std::fs::write(
        results(world).join(format!("audit-{store}.json")),
        audit.to_string(),
    )
    .expect("audit report");
}

#[given("a signing key")]
async fn signing_key(world: &mut SuiteWorld) {
    let path = dir(world).join("signing-key.der");
    fixture::signing_key(&path);
    world.evidence.key = Some(path);
}

#[when("the evidence pack is built")]
async fn built(world: &mut SuiteWorld) {
    build(world);
}

#[when("the evidence pack is built twice")]
async fn built_twice(world: &mut SuiteWorld) {
    build(world);
    build(world);
}

#[when(regex = r"^the scenarios of (REQ-[A-Z]+-\d+) are marked reviewed$")]
async fn marked_reviewed(world: &mut SuiteWorld, requirement: String) {
    sentinel_traceability::catalogue::record_review(
        &root(world).join("traceability"),
        &[requirement],
    )
    .expect("review");
}

#[when("a file of the pack is altered")]
async fn pack_altered(world: &mut SuiteWorld) {
    let path = pack_dir(world, 0).join("evidence.md");
    let mut text = std::fs::read_to_string(&path).expect("markdown");
    text = text
        .replacen("FAIL", "PASS", 1)
        .replacen("covered", "c0vered", 1);
    std::fs::write(&path, text).expect("write");
}

#[then("it passes with no hole")]
async fn passes(world: &mut SuiteWorld) {
    assert_eq!(last(world).holes, Vec::<String>::new());
}

#[then("it fails naming:")]
async fn fails_naming(world: &mut SuiteWorld, step: &Step) {
    let holes = &last(world).holes;
    assert!(!last(world).passes());
    for row in &step.table.as_ref().expect("a table").rows {
        assert!(
            holes.iter().any(|h| h.contains(&row[0])),
            "no hole names {:?}; holes: {holes:#?}",
            row[0]
        );
    }
}

#[then("the pack holds the matrix, risks, rules, SOUP, SBOM, audit verification and run record")]
async fn pack_holds_everything(world: &mut SuiteWorld) {
    let evidence = last(world);
    let pack = pack_dir(world, world.evidence.built.len() - 1);
    for file in pack::FILES.iter().chain(&[manifest::MANIFEST]) {
        assert!(pack.join(file).is_file(), "{file} is missing");
    }
    assert!(evidence.matrix.rows.iter().all(|r| r.scenarios.len() == 1));
    assert!(evidence.risks.iter().all(|r| r.controls_verified));
    assert_eq!(evidence.audit.len(), 2);
    let html = std::fs::read_to_string(pack.join("evidence.html")).expect("html");
    for part in [
        "Trace matrix",
        "Risk register",
        "IMDRF",
        "SOUP",
        "Audit log verification",
        "§5.7.5",
    ] {
        assert!(html.contains(part), "the page has no {part}");
    }
    let sbom: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pack.join("sbom.cdx.json")).expect("sbom"))
            .expect("json");
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    assert_eq!(sbom["specVersion"], "1.5");
    let components = sbom["components"].as_array().expect("components");
    assert_eq!(components.len(), evidence.soup.locked);
    let tokio = components
        .iter()
        .find(|c| c["name"] == "tokio")
        .expect("tokio in the SBOM");
    assert_eq!(tokio["hashes"][0]["alg"], "SHA-256");
    assert!(
        tokio["purl"]
            .as_str()
            .expect("purl")
            .starts_with("pkg:cargo/tokio@")
    );
}

#[then("every built-in rule is listed with its IMDRF category and priority")]
async fn rules_listed(world: &mut SuiteWorld) {
    let rules = &last(world).rules;
    let library = sentinel_rules::domain::rule::builtin().expect("library");
    assert_eq!(rules.len(), library.len());
    let level2 = rules
        .iter()
        .find(|r| r.name == "hypoglycaemia-level-2")
        .expect("hypoglycaemia level 2");
    assert_eq!(
        (level2.category.as_str(), level2.priority.as_str()),
        ("III", "high")
    );
}

#[then("the two packs differ only in the run record and the page that shows it")]
async fn packs_differ_only_in_record(world: &mut SuiteWorld) {
    let (a, b) = (pack_dir(world, 0), pack_dir(world, 1));
    for file in ["evidence.md", "evidence.json", "sbom.cdx.json"] {
        let read = |d: &PathBuf| std::fs::read(d.join(file)).expect("pack file");
        assert!(read(&a) == read(&b), "{file} differs between two packs");
    }
}

#[then("the signed manifest verifies with the public key")]
async fn signed_manifest_verifies(world: &mut SuiteWorld) {
    let pack = pack_dir(world, 0);
    let key = pack.join(manifest::PUBLIC_KEY);
    assert_eq!(
        manifest::verify(&pack, Some(&key)).expect("verify"),
        Vec::<String>::new()
    );
}

#[then("verification names the altered file")]
async fn verification_names_file(world: &mut SuiteWorld) {
    let pack = pack_dir(world, 0);
    let key = pack.join(manifest::PUBLIC_KEY);
    let problems = manifest::verify(&pack, Some(&key)).expect("verify");
    assert_eq!(problems, ["evidence.md: differs from the manifest"]);
}
