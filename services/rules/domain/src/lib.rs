//! The rules domain: plain types and functions, unit-tested without a server or a database.
//!
//! - [`lifecycle`]: a rule version from draft to retired, approved by a second person.
//! - [`alert`]: an alert from raised to resolved: acknowledge, snooze, escalate, latch.
//! - [`classification`]: the IMDRF SaMD category of a rule and the IEC 60601-1-8 priority of
//!   its alert, each computed from the two judgements the standard asks for.
//! - [`logic`]: the kinds of rule logic, each a small state machine over samples.
//! - [`news2`]: the NEWS2 early-warning score (Royal College of Physicians, 2017), and
//!   [`news2_inputs`]: the latest value of each of its parameters, gathered from readings.
//! - [`rule`]: a rule as data — what it watches, its logic, its classification — checked
//!   before it can be drafted, and the built-in library.
//! - [`silence`]: which patients have a device gone quiet, judged on the clock.

pub mod alert;
pub mod backtest;
pub mod classification;
pub mod engine;
pub mod lifecycle;
pub mod logic;
pub mod news2;
pub mod news2_inputs;
pub mod rule;
pub mod silence;
