//! The registry domain: plain types and functions, unit-tested without a server or a database.
//! Filled in by the issue that builds the service.
