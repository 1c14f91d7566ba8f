//! The chapter's operator tasks, one file each: the subcommands of `main.rs`.

pub mod configs;
pub mod lag;
pub mod metrics;
pub mod partitions;
pub mod reassign;
pub mod security;
