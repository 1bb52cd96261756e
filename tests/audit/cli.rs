//! `sentinel audit verify` and `export`, as an auditor runs them: with the public key alone.

use std::process::{Command, Output};

use sentinel_platform::ServiceKind;
use sentinel_testkit::{StoreKind, TestSuite};

use sentinel_testkit::audit::{behind_the_guards, tampering};

use crate::{append, entry, stores};

const SENTINEL: &str = env!("CARGO_BIN_EXE_sentinel");

/// Flags that name the store `config` uses.
fn store_flags(config: &sentinel_platform::Config) -> Vec<String> {
    match &config.database_url {
        Some(url) => vec!["--database-url".into(), url.clone()],
        None => vec!["--data-dir".into(), config.data_dir.display().to_string()],
    }
}

fn run(args: &[String]) -> Output {
    let mut command = Command::new(SENTINEL);
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("SENTINEL_")) {
        command.env_remove(name);
    }
    command.args(args).output().expect("run sentinel")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A suite with ten records, and the path of its public key file.
async fn logged(store: StoreKind) -> (TestSuite, String) {
    let suite = TestSuite::start(store, &[ServiceKind::Audit]).await;
    let mut client = suite.audit().await;
    for i in 0..10 {
        append(
            &mut client,
            entry(&format!("user-{i}"), &format!("alert-{i}")),
        )
        .await;
    }
    let key = suite
        .data_dir()
        .join("audit-signing.pub")
        .display()
        .to_string();
    (suite, key)
}

#[tokio::test]
async fn verify_passes_an_intact_store_and_its_export() {
    for store in stores() {
        let (suite, key) = logged(store).await;
        let flags = store_flags(suite.config());

        let mut verify = vec![
            "audit".into(),
            "verify".into(),
            "--public-key".into(),
            key.clone(),
        ];
        verify.extend(flags.clone());
        let output = run(&verify);
        assert!(
            output.status.success(),
            "{}: {}{}",
            store.name(),
            stdout(&output),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            stdout(&output).starts_with("intact: 10 records, tree size 10"),
            "{}",
            stdout(&output)
        );

        let file = suite.data_dir().join("audit.jsonl").display().to_string();
        let mut export = vec![
            "audit".into(),
            "export".into(),
            "--out".into(),
            file.clone(),
            "--public-key".into(),
            key.clone(),
        ];
        export.extend(flags.clone());
        assert!(run(&export).status.success());
        let output = run(&[
            "audit".into(),
            "verify".into(),
            "--public-key".into(),
            key.clone(),
            "--export".into(),
            file.clone(),
        ]);
        assert!(output.status.success(), "{}", stdout(&output));

        // The FHIR export is one AuditEvent per record.
        let fhir_file = suite.data_dir().join("audit.ndjson").display().to_string();
        let mut fhir = vec![
            "audit".into(),
            "export".into(),
            "--format".into(),
            "fhir".into(),
            "--out".into(),
            fhir_file.clone(),
        ];
        fhir.extend(flags);
        assert!(run(&fhir).status.success());
        let events = std::fs::read_to_string(&fhir_file).unwrap();
        assert_eq!(events.lines().count(), 10);
        for line in events.lines() {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(event["resourceType"], "AuditEvent");
        }
        suite.stop().await;
    }
}

#[tokio::test]
async fn verify_fails_naming_the_sequence_on_a_tampered_store() {
    for store in stores() {
        let (suite, key) = logged(store).await;
        behind_the_guards(
            suite.store(ServiceKind::Audit),
            tampering("changes the actor of record 6"),
        )
        .await;
        let mut verify = vec!["audit".into(), "verify".into(), "--public-key".into(), key];
        verify.extend(store_flags(suite.config()));
        let output = run(&verify);
        assert!(!output.status.success(), "{}", store.name());
        assert!(
            stdout(&output).starts_with("BROKEN at sequence 6:"),
            "{}",
            stdout(&output)
        );
        suite.stop().await;
    }
}

#[tokio::test]
async fn verify_fails_naming_the_sequence_on_each_tampering_of_an_export() {
    let (suite, key) = logged(StoreKind::Sqlite).await;
    let file = suite.data_dir().join("audit.jsonl");
    let mut export = vec![
        "audit".into(),
        "export".into(),
        "--out".into(),
        file.display().to_string(),
        "--public-key".into(),
        key.clone(),
    ];
    export.extend(store_flags(suite.config()));
    assert!(run(&export).status.success());
    let original: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    // Line 0 is the header; line n+1 is record n.
    type Tampering = Box<dyn Fn(&mut Vec<String>)>;
    let tamperings: Vec<(&str, Tampering, u64)> = vec![
        (
            "modified field",
            Box::new(|lines| lines[4] = lines[4].replace("user-3", "user-X")),
            3,
        ),
        (
            "deleted record",
            Box::new(|lines| {
                lines.remove(6);
            }),
            5,
        ),
        ("swapped records", Box::new(|lines| lines.swap(3, 4)), 2),
        (
            "forged append",
            Box::new(|lines| {
                let forged = lines[10]
                    .replace("\"sequence\":9", "\"sequence\":10")
                    .replace("user-9", "intruder");
                lines.insert(11, forged);
            }),
            10,
        ),
    ];
    for (name, tamper, sequence) in tamperings {
        let mut lines = original.clone();
        tamper(&mut lines);
        let tampered = suite.data_dir().join("tampered.jsonl");
        std::fs::write(&tampered, lines.join("\n")).unwrap();
        let output = run(&[
            "audit".into(),
            "verify".into(),
            "--public-key".into(),
            key.clone(),
            "--export".into(),
            tampered.display().to_string(),
        ]);
        assert!(!output.status.success(), "{name} passed");
        assert!(
            stdout(&output).starts_with(&format!("BROKEN at sequence {sequence}:")),
            "{name}: {}",
            stdout(&output)
        );
    }
    // The wrong key verifies nothing.
    let other =
        sentinel_audit::domain::checkpoint::LogSigner::generate("sentinel.local/audit").unwrap();
    let output = run(&[
        "audit".into(),
        "verify".into(),
        "--public-key".into(),
        other.verifier().to_text(),
        "--export".into(),
        file.display().to_string(),
    ]);
    assert!(!output.status.success());
    assert!(
        stdout(&output).starts_with("BROKEN at sequence 0:"),
        "{}",
        stdout(&output)
    );
    suite.stop().await;
}
