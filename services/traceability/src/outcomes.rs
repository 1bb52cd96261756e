//! Scenario outcomes, read from the Cucumber JSON report (the format cucumber-jvm, cucumber-js
//! and the `cucumber` crate share), so the gate judges what actually ran.

use serde::Deserialize;

/// How one scenario ended on one store.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScenarioOutcome {
    /// The feature file, as the report names it.
    pub feature: String,
    pub line: usize,
    pub name: String,
    /// The scenario's tags with the feature's, without the leading `@`.
    pub tags: Vec<String>,
    /// Which store the suite ran on (`sqlite`, `postgres`).
    pub store: String,
    /// Every step and hook passed. Failed, skipped or undefined steps do not pass.
    pub passed: bool,
}

impl ScenarioOutcome {
    /// `feature:line (name)`, how holes and reports name a scenario.
    pub fn label(&self) -> String {
        format!("{}:{} ({})", self.feature, self.line, self.name)
    }

    /// The tags that name requirements.
    pub fn requirement_tags(&self) -> Vec<&str> {
        self.tags
            .iter()
            .map(String::as_str)
            .filter(|t| t.starts_with("REQ-"))
            .collect()
    }
}

#[derive(Deserialize)]
struct Feature {
    uri: Option<String>,
    name: String,
    #[serde(default)]
    tags: Vec<Tag>,
    #[serde(default)]
    elements: Vec<Element>,
}

#[derive(Deserialize)]
struct Element {
    #[serde(rename = "type")]
    kind: String,
    line: usize,
    name: String,
    #[serde(default)]
    tags: Vec<Tag>,
    #[serde(default)]
    steps: Vec<Step>,
    #[serde(default)]
    before: Vec<Hook>,
    #[serde(default)]
    after: Vec<Hook>,
}

#[derive(Deserialize)]
struct Tag {
    name: String,
}

#[derive(Deserialize)]
struct Step {
    result: StepResult,
}

#[derive(Deserialize)]
struct Hook {
    result: StepResult,
}

#[derive(Deserialize)]
struct StepResult {
    status: String,
}

/// The outcomes of every scenario in a Cucumber JSON report of a run on `store`.
pub fn from_cucumber_json(
    json: &str,
    store: &str,
) -> Result<Vec<ScenarioOutcome>, serde_json::Error> {
    let features: Vec<Feature> = serde_json::from_str(json)?;
    let mut outcomes = Vec::new();
    for feature in features {
        let feature_tags: Vec<String> = feature.tags.iter().map(|t| bare(&t.name)).collect();
        let uri = feature.uri.unwrap_or_else(|| feature.name.clone());
        for element in feature
            .elements
            .into_iter()
            .filter(|e| e.kind == "scenario")
        {
            let passed = !element.steps.is_empty()
                && element
                    .steps
                    .iter()
                    .map(|s| &s.result)
                    .chain(element.before.iter().map(|h| &h.result))
                    .chain(element.after.iter().map(|h| &h.result))
                    .all(|result| result.status == "passed");
            let tags = feature_tags
                .iter()
                .cloned()
                .chain(element.tags.iter().map(|t| bare(&t.name)))
                .collect();
            outcomes.push(ScenarioOutcome {
                feature: uri.clone(),
                line: element.line,
                name: element.name,
                tags,
                store: store.to_owned(),
                passed,
            });
        }
    }
    Ok(outcomes)
}

fn bare(tag: &str) -> String {
    tag.trim_start_matches('@').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"[{
      "uri": "tests/features/health.feature", "keyword": "Feature", "name": "Health",
      "tags": [{"name": "@suite", "line": 1}],
      "elements": [
        {"keyword": "Scenario", "type": "scenario", "id": "a", "line": 4, "name": "serving",
         "tags": [{"name": "@REQ-SUITE-001", "line": 4}],
         "steps": [{"keyword": "Given", "line": 5, "name": "x", "result": {"status": "passed", "duration": 1}}]},
        {"keyword": "Scenario", "type": "scenario", "id": "b", "line": 8, "name": "broken",
         "tags": [{"name": "REQ-SUITE-002", "line": 8}],
         "steps": [{"keyword": "Given", "line": 9, "name": "x", "result": {"status": "passed", "duration": 1}},
                   {"keyword": "Then", "line": 10, "name": "y", "result": {"status": "undefined", "duration": 0}}]}
      ]}]"#;

    #[test]
    fn reads_scenarios_with_inherited_tags_and_their_result() {
        let outcomes = from_cucumber_json(REPORT, "sqlite").unwrap();
        assert_eq!(outcomes.len(), 2);
        assert_eq!(outcomes[0].tags, ["suite", "REQ-SUITE-001"]);
        assert!(outcomes[0].passed);
        assert_eq!(outcomes[1].tags, ["suite", "REQ-SUITE-002"]);
        assert!(!outcomes[1].passed, "an undefined step does not pass");
        assert_eq!(outcomes[1].store, "sqlite");
        assert_eq!(outcomes[1].line, 8);
    }
}
