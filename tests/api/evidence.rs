//! The `evidence` command as a quality engineer runs it: on a copy of the repository with holes
//! planted, it exits non-zero and names each; a signed pack verifies, and an altered one not.

use std::{path::Path, process::ExitCode};

use sentinel_testkit::evidence as fixture;

/// Runs `evidence args…` in process: its exit code (0, 1 or 2) and what it wrote.
fn evidence(args: &[&str]) -> (Option<i32>, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = sentinel_evidence::cli::run(
        std::iter::once("evidence").chain(args.iter().copied()),
        &mut out,
        &mut err,
    );
    let code = [
        (ExitCode::SUCCESS, 0),
        (ExitCode::FAILURE, 1),
        (ExitCode::from(2), 2),
    ]
    .into_iter()
    .find(|(c, _)| *c == code)
    .map(|(_, n)| n);
    (
        code,
        String::from_utf8_lossy(&out).into_owned() + &String::from_utf8_lossy(&err),
    )
}

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

#[test]
fn a_clean_copy_passes_and_verifies_then_each_planted_hole_is_named_and_fails_the_command() {
    let temp = tempfile::tempdir().unwrap();
    let (root, results, out) = (
        temp.path().join("root"),
        temp.path().join("results"),
        temp.path().join("pack"),
    );
    fixture::copy_workspace(&root);
    fixture::passing_results(&root, &results, &["sqlite", "postgres"]);
    let key = temp.path().join("key.der");
    fixture::signing_key(&key);
    let build = [
        "--root",
        s(&root),
        "--results",
        s(&results),
        "--out",
        s(&out),
        "--sign-key",
        s(&key),
    ];

    let (code, output) = evidence(&build);
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("evidence: PASS"), "{output}");
    let public = out.join("signing-key.pub.pem");
    let (code, output) = evidence(&["verify", "--pack", s(&out), "--public-key", s(&public)]);
    assert_eq!(code, Some(0), "{output}");

    std::fs::write(out.join("evidence.json"), "{}").unwrap();
    let (code, output) = evidence(&["verify", "--pack", s(&out), "--public-key", s(&public)]);
    assert_eq!(code, Some(1), "{output}");
    assert!(
        output.contains("evidence.json: differs from the manifest"),
        "{output}"
    );

    fixture::add_requirement_without_scenario(&root, "REQ-NEW-001");
    fixture::fail_scenario(&results, "sqlite", "REQ-RUL-001");
    fixture::add_hazard_without_control(&root, "RISK-999");
    fixture::drop_soup_entry(&root, "governor");

    let (code, output) = evidence(&build);
    assert_eq!(code, Some(1), "{output}");
    for hole in [
        "hole: REQ-NEW-001: no passing scenario on sqlite",
        "hole: REQ-NEW-001: no passing scenario on postgres",
        "(verifies REQ-RUL-001): fails on sqlite",
        "hole: RISK-999: hazard has no risk control",
        "hole: SOUP governor: direct dependency without a rationale",
        "evidence: FAIL",
    ] {
        assert!(output.contains(hole), "{hole:?} not named in:\n{output}");
    }
}
