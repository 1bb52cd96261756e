//! The pack's human-readable forms: one printable HTML page and Markdown.

pub mod html;
pub mod markdown;

use sentinel_traceability::Verdict;

pub(crate) fn verdict_mark(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Passed => "✓",
        Verdict::Failed => "✗",
        Verdict::NotRun => "–",
    }
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
