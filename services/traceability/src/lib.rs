//! Traceability: the requirement and risk catalogue kept in `traceability/`, the outcomes of
//! the BDD scenarios that verify them, and the [`gate`] that fails the test run on any hole.

pub mod catalogue;
pub mod gate;
pub mod matrix;
pub mod outcomes;

pub use catalogue::{
    Acceptability, Catalogue, CatalogueError, Control, ControlType, Probability, Requirement,
    RequirementKind, Risk, SafetyClass, Severity, Status,
};
pub use gate::{Hole, check};
pub use matrix::{Matrix, RiskStatus, State, Verdict, register};
pub use outcomes::{ScenarioOutcome, from_cucumber_json};
