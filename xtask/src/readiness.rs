//! Readiness checks.
