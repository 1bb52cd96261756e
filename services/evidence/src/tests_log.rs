//! The unit and integration tests of the run, read from `cargo test`'s own summary lines (libtest
//! has no stable machine-readable output), and the BDD runner's closing line.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestBinary {
    /// What cargo said it ran: `unittests src/lib.rs (sentinel_audit)`, `tests/suite.rs`, …
    pub name: String,
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
}

fn count(summary: &str, label: &str) -> u64 {
    summary
        .split(';')
        .find_map(|part| {
            let part = part.trim().trim_start_matches("test result: ok.");
            let part = part.trim_start_matches("test result: FAILED.").trim();
            part.strip_suffix(label).and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Each test binary `cargo test` ran, with its counts.
pub fn parse(log: &str) -> Vec<TestBinary> {
    let mut binaries = Vec::new();
    let mut current: Option<String> = None;
    for line in log.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("Running ") {
            // `Running unittests src/lib.rs (target/debug/deps/sentinel_audit-0123)`
            let name = match rest.rsplit_once(" (") {
                Some((what, path)) => {
                    let binary = path.trim_end_matches(')').rsplit('/').next().unwrap_or("");
                    let binary = binary.rsplit_once('-').map_or(binary, |(b, _)| b);
                    format!("{what} ({binary})")
                }
                None => rest.to_owned(),
            };
            current = Some(name);
        } else if let Some(rest) = line.strip_prefix("Doc-tests ") {
            current = Some(format!("doc-tests {rest}"));
        } else if line.starts_with("test result:") {
            if let Some(name) = current.take() {
                binaries.push(TestBinary {
                    name,
                    passed: count(line, "passed"),
                    failed: count(line, "failed"),
                    ignored: count(line, "ignored"),
                });
            }
        } else if let Some(rest) = line.strip_prefix("bdd: ") {
            // `bdd: 526 passed, 0 failed`
            let mut numbers = rest
                .split(',')
                .filter_map(|p| p.split_whitespace().next()?.parse::<u64>().ok());
            if let (Some(name), Some(passed), Some(failed)) =
                (current.take(), numbers.next(), numbers.next())
            {
                binaries.push(TestBinary {
                    name,
                    passed,
                    failed,
                    ignored: 0,
                });
            }
        }
    }
    binaries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_binary_and_the_bdd_runner() {
        let log = "\
     Running unittests src/lib.rs (target/debug/deps/sentinel_audit-0a1b2c)
running 3 tests
test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s
     Running tests/bdd/main.rs (target/debug/deps/bdd-99)
bdd: 526 passed, 2 failed
   Doc-tests sentinel_audit
test result: FAILED. 0 passed; 4 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
";
        assert_eq!(
            parse(log),
            [
                TestBinary {
                    name: "unittests src/lib.rs (sentinel_audit)".into(),
                    passed: 3,
                    failed: 0,
                    ignored: 1
                },
                TestBinary {
                    name: "tests/bdd/main.rs (bdd)".into(),
                    passed: 526,
                    failed: 2,
                    ignored: 0
                },
                TestBinary {
                    name: "doc-tests sentinel_audit".into(),
                    passed: 0,
                    failed: 4,
                    ignored: 0
                },
            ]
        );
    }
}
