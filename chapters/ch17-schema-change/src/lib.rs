//! Chapter 17 — Schema change through the pipeline.
//!
//! `ALTER TABLE` on the source database travels like this: MariaDB writes the DDL statement to its
//! binary log; Debezium's source parses it, records it in its schema history topic and describes
//! every later row with the new structure; the JsonConverter puts that structure (the Connect
//! schema) into each record; the JDBC sink compares it with the target table and, with
//! `schema.evolution=basic`, adds the columns it lacks. It never drops a column or changes a type.
//!
//! - [`pipeline`]: chapter 10's round trip, with the sink's `schema.evolution` as a parameter, and
//!   waits that stop at a FAILED sink task.
//! - [`schema`]: the Connect schema a change event carries, read back from the topic.
//! - [`history`]: the DDL statements Debezium recorded in its schema history topic.
//! - [`migration`]: a migration as steps on either side of the pipeline.

pub mod history;
pub mod migration;
pub mod pipeline;
pub mod schema;

pub use history::{ddl_statements, history_topic};
pub use migration::Step;
pub use pipeline::{
    Pipeline, columns, execute, insert, rows, show_create, show_row, sink_config, start,
    wait_converged, wait_restarted, wait_sink_failed,
};
pub use schema::{Change, Impact, describe_fields, next_change_of, row_schema, sizes, subscribe};

// Deleting what an example or test made lives once, in the support crate.
pub use workbook_support::cleanup::Cleanup;
