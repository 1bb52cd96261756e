//! The pack's human-readable forms: one printable HTML page and Markdown.

pub mod html;
pub mod markdown;

use sentinel_traceability::{State, Verdict};

pub(crate) fn state_name(state: State) -> &'static str {
    match state {
        State::Covered => "covered",
        State::Uncovered => "uncovered",
        State::Failing => "failing",
        State::Suspect => "suspect",
        State::Draft => "draft",
        State::Retired => "retired",
    }
}

pub(crate) fn verdict_mark(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Passed => "✓",
        Verdict::Failed => "✗",
        Verdict::NotRun => "–",
    }
}

pub(crate) fn plain<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// One mark per store, in the order the matrix names its stores.
pub(crate) fn marks(
    stores: &[String],
    link: &sentinel_traceability::matrix::ScenarioLink,
) -> String {
    stores
        .iter()
        .map(|s| verdict_mark(link.results.get(s).copied().unwrap_or(Verdict::NotRun)))
        .collect()
}
