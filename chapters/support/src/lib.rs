//! What every chapter of the workbook shares.
//!
//! A chapter never hard-codes an address: it calls [`Env::load`] and gets the broker list,
//! the MariaDB URL and the Kafka Connect URL that `cargo xtask up` wrote to `.workbook/env`
//! (or that you exported yourself to point the workbook at your own cluster).
//! Every client built here has timeouts, so a service that is not running is a clear error
//! within seconds, never a hang.

pub mod cleanup;
pub mod connect;
pub mod db;
pub mod env;
pub mod envfile;
pub mod example;
pub mod kafka;
pub mod mistakes;
pub mod names;
pub mod wait;
pub mod xtask;

pub use env::Env;
