//! A migration of a synced table, as SQL steps on either side of the pipeline.

use anyhow::Result;
use sqlx::mysql::MySqlPool;

// ANCHOR: step
/// One step of a migration: a statement for the source table (the one Debezium captures) or for
/// the copy (the one the JDBC sink writes). The order of the steps is the order they run in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Source(String),
    Sink(String),
}
// ANCHOR_END: step

impl Step {
    pub fn sql(&self) -> &str {
        match self {
            Step::Source(sql) | Step::Sink(sql) => sql,
        }
    }

    /// Runs the step. Both tables live in the same MariaDB here; in production the copy would be
    /// in another service's database, migrated by its owners.
    pub async fn run(&self, pool: &MySqlPool) -> Result<()> {
        crate::execute(pool, self.sql()).await
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Source(sql) => write!(f, "source: {sql}"),
            Step::Sink(sql) => write!(f, "sink:   {sql}"),
        }
    }
}
