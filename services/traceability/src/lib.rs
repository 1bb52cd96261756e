//! Traceability: the requirement and risk catalogue kept in `traceability/`, the outcomes of
//! the BDD scenarios that verify them, and the [`gate`] that fails the test run on any hole.

pub mod catalogue;
pub mod gate;
pub mod outcomes;

pub use catalogue::{Catalogue, CatalogueError, Requirement, RequirementKind, Risk};
pub use gate::{Hole, check};
pub use outcomes::{ScenarioOutcome, from_cucumber_json};
