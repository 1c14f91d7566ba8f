//! Chapter 17: ALTER TABLE on a captured table, followed through the schema history topic, the
//! change events' schema and the JDBC sink's target table; then a breaking change, the failed sink
//! task, the fix on the sink side and the restart that loses nothing.

use std::time::{Duration, Instant};

use anyhow::Result;
use ch17_schema_change::pipeline::failed_trace;
use ch17_schema_change::{
    Pipeline, ddl_statements, describe_fields, execute, next_change_of, row_schema, rows,
    show_create, show_row, sizes, start, subscribe, wait_converged, wait_restarted,
    wait_sink_failed,
};
use clap::{Parser, ValueEnum};
use rdkafka::consumer::StreamConsumer;
use sqlx::mysql::MySqlPool;
use workbook_support::connect::ConnectClient;
use workbook_support::{Env, db, wait};

#[derive(Parser, Debug)]
#[command(
    about = "ALTER TABLE through MariaDB → Debezium → Kafka → JDBC sink: additive and breaking \
             changes"
)]
struct Args {
    /// The sink's schema.evolution: `basic` adds the new columns, `none` fails on the first one.
    #[arg(long, default_value = "basic")]
    evolution: Evolution,
    /// The breaking change to make after the additive ones.
    #[arg(long, default_value = "drop")]
    breaking: Breaking,
    /// Keep the connectors, tables and topics at the end.
    #[arg(long)]
    keep: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Evolution {
    Basic,
    None,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Breaking {
    /// DROP COLUMN email (NOT NULL in the copy).
    Drop,
    /// RENAME COLUMN name TO full_name.
    Rename,
    /// score INT becomes VARCHAR, then a value that is not a number.
    Type,
}

const DEADLINE: Duration = Duration::from_secs(90);

struct Demo {
    env: Env,
    pool: MySqlPool,
    client: ConnectClient,
    pipeline: Pipeline,
    consumer: StreamConsumer,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let env = Env::load()?;
    let pool = db::pool(&env).await?;
    let pipeline = Pipeline::new("users");
    let cleanup = pipeline.cleanup(&env);
    let (table, copy) = (&pipeline.table, &pipeline.copy);

    create_source(&pool, table).await?;
    let evolution = match args.evolution {
        Evolution::Basic => "basic",
        Evolution::None => "none",
    };
    if matches!(args.evolution, Evolution::None) {
        // With `none` the sink runs no DDL, not even CREATE TABLE: the copy's owners make it.
        let create = format!(
            "CREATE TABLE {copy} (id INT NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL, \
             email VARCHAR(255) NOT NULL)"
        );
        execute(&pool, &create).await?;
        println!("{create}");
    }
    let started = Instant::now();
    start(&env, &pool, &pipeline, evolution, DEADLINE).await?;
    wait_converged(&env, &pool, &pipeline, &["id", "name", "email"], DEADLINE).await?;
    println!(
        "source and sink (schema.evolution={evolution}) running: {copy} equals {table} after {} ms",
        ms(started)
    );
    println!("\n{}", show_create(&pool, copy).await?);

    let consumer = subscribe(&env, &pipeline.topic)?;
    let demo =
        Demo { client: ConnectClient::new(&env)?, env, pool, pipeline: pipeline.clone(), consumer };

    let alter = format!("ALTER TABLE {table} ADD COLUMN nickname VARCHAR(50) NULL");
    let insert = format!(
        "INSERT INTO {table} (name, email, nickname) VALUES ('carol', 'c@example.com', 'caz')"
    );
    demo.change("1. A NULLable column", &alter, &insert).await?;
    if matches!(args.evolution, Evolution::None) {
        demo.fail_and_fix(
            &format!("ALTER TABLE {copy} ADD COLUMN nickname VARCHAR(50) NULL"),
            &["nickname"],
        )
        .await?;
        finish(cleanup, args.keep, &pipeline).await;
        return Ok(());
    }
    demo.converge(&["id", "name", "email", "nickname"]).await?;

    let alter = format!("ALTER TABLE {table} ADD COLUMN plan VARCHAR(20) NOT NULL DEFAULT 'free'");
    let insert =
        format!("INSERT INTO {table} (name, email, plan) VALUES ('dave', 'd@example.com', 'pro')");
    let change = demo.change("2. A NOT NULL column with a DEFAULT", &alter, &insert).await?;
    demo.show_differences(&["id", "plan"]).await?;
    let dave =
        change.value.pointer("/payload/after/id").and_then(serde_json::Value::as_i64).unwrap_or(0);
    let repair = format!("UPDATE {copy} SET plan = 'free' WHERE id < {dave}");
    println!("   repair on the sink side (the rows that existed before the ALTER): {repair}");
    execute(&demo.pool, &repair).await?;
    demo.converge(&["id", "name", "email", "nickname", "plan"]).await?;

    let expand = format!("ALTER TABLE {copy} ADD COLUMN tier VARCHAR(10) NOT NULL DEFAULT 'basic'");
    println!("\n3. The same kind of column, added to the copy first\n   {expand}");
    execute(&demo.pool, &expand).await?;
    let alter = format!("ALTER TABLE {table} ADD COLUMN tier VARCHAR(10) NOT NULL DEFAULT 'basic'");
    let insert =
        format!("INSERT INTO {table} (name, email, tier) VALUES ('erin', 'e@example.com', 'gold')");
    demo.change("", &alter, &insert).await?;
    demo.converge(&["id", "name", "email", "nickname", "plan", "tier"]).await?;

    println!("\nThe schema history topic {}:", ch17_schema_change::history_topic(&pipeline.prefix));
    for ddl in ddl_statements(&demo.env, &pipeline.prefix, table)? {
        println!("  {}", ddl.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    println!("\nThe copy after the additive changes:\n{}", show_create(&demo.pool, copy).await?);
    let (total, payload) = sizes(&change)?;
    println!(
        "\nThe value of dave's event: {total} bytes, of which the payload is {payload} and the \
         schema"
    );
    println!(
        "{} ({}%): with schemas.enable=true every record carries it",
        total - payload,
        100 * (total - payload) / total
    );

    match args.breaking {
        Breaking::Drop => {
            let alter = format!("ALTER TABLE {table} DROP COLUMN email");
            let insert = format!("INSERT INTO {table} (name, nickname) VALUES ('fay', 'f')");
            demo.change("4. A breaking change: DROP COLUMN", &alter, &insert).await?;
            demo.fail_and_fix(
                &format!("ALTER TABLE {copy} MODIFY email LONGTEXT NULL"),
                &["nickname", "plan"],
            )
            .await?;
        }
        Breaking::Rename => {
            let alter = format!("ALTER TABLE {table} RENAME COLUMN name TO full_name");
            let insert =
                format!("INSERT INTO {table} (full_name, email) VALUES ('fay', 'f@example.com')");
            demo.change("4. A breaking change: RENAME COLUMN", &alter, &insert).await?;
            let fix = format!("ALTER TABLE {copy} RENAME COLUMN name TO full_name");
            demo.fail_and_fix(&fix, &["full_name", "email", "plan"]).await?;
        }
        Breaking::Type => {
            let alter = format!("ALTER TABLE {table} ADD COLUMN score INT NULL");
            let insert = format!(
                "INSERT INTO {table} (name, email, score) VALUES ('fay', 'f@example.com', 7)"
            );
            demo.change("4. A breaking change: a new type", &alter, &insert).await?;
            demo.converge(&["id", "score"]).await?;
            let alter = format!("ALTER TABLE {table} MODIFY score VARCHAR(20) NULL");
            let insert = format!(
                "INSERT INTO {table} (name, email, score) VALUES ('gus', 'g@example.com', 'gold')"
            );
            demo.change("", &alter, &insert).await?;
            demo.fail_and_fix(
                &format!("ALTER TABLE {copy} MODIFY score LONGTEXT NULL"),
                &["score"],
            )
            .await?;
        }
    }
    println!("\nThe copy at the end:\n{}", show_create(&demo.pool, copy).await?);
    finish(cleanup, args.keep, &pipeline).await;
    Ok(())
}

impl Demo {
    /// Runs `alter` on the source, then `insert`, and prints the row schema of that row's change
    /// event.
    async fn change(
        &self,
        title: &str,
        alter: &str,
        insert: &str,
    ) -> Result<ch17_schema_change::Change> {
        if !title.is_empty() {
            println!("\n{title}");
        }
        println!("   {alter}");
        execute(&self.pool, alter).await?;
        let id = ch17_schema_change::insert(&self.pool, insert).await?;
        println!("   {insert}");
        let change = next_change_of(&self.consumer, id, DEADLINE).await?;
        println!("   the event of id {id} carries this row schema:");
        for line in row_schema(&change.value).map(describe_fields).unwrap_or_default() {
            println!("     {line}");
        }
        Ok(change)
    }

    async fn converge(&self, columns: &[&str]) -> Result<()> {
        let started = Instant::now();
        let rows = wait_converged(&self.env, &self.pool, &self.pipeline, columns, DEADLINE).await?;
        println!(
            "   the sink applied it: {} equals the source in {columns:?} ({rows} rows, {} ms)",
            self.pipeline.copy,
            ms(started)
        );
        Ok(())
    }

    /// Waits until the copy has every row of the source with `columns`, then prints the rows where
    /// their values differ.
    async fn show_differences(&self, columns: &[&str]) -> Result<()> {
        let (table, copy) = (&self.pipeline.table, &self.pipeline.copy);
        let what = format!("{copy} has the rows of {table} and the columns {columns:?}");
        let (source, copied) = wait::until(&what, DEADLINE, Duration::from_millis(100), || async {
            let (source, copied) =
                (rows(&self.pool, table, columns).await?, rows(&self.pool, copy, columns).await?);
            let same_ids = source.iter().map(|r| &r[0]).eq(copied.iter().map(|r| &r[0]));
            Ok(same_ids.then_some((source, copied)))
        })
        .await?;
        println!(
            "   the sink added the column, but the copy differs from the source in {columns:?}:"
        );
        for (a, b) in source.iter().zip(&copied).filter(|(a, b)| a != b) {
            println!("     source {}   copy {}", show_row(a), show_row(b));
        }
        Ok(())
    }

    // ANCHOR: fail_and_fix
    /// The sink fails on the last change: show its status, apply `fix` to the copy, restart the
    /// failed task and wait until the copy has caught up (nothing lost: the failed record's offset
    /// was never committed, so the task reads it again).
    async fn fail_and_fix(&self, fix: &str, columns: &[&str]) -> Result<()> {
        let status = wait_sink_failed(&self.client, &self.pipeline, DEADLINE).await?;
        let trace = failed_trace(&status).unwrap_or_default();
        let tasks: Vec<String> = status["tasks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| format!("task {} {}", t["id"], t["state"].as_str().unwrap_or("?")))
            .collect();
        println!(
            "   GET /connectors/{}/status: connector {}, {}",
            self.pipeline.sink,
            status["connector"]["state"].as_str().unwrap_or("?"),
            tasks.join(", ")
        );
        println!("   trace: {}", trace.lines().next().unwrap_or_default());
        println!("   caused by: {}", workbook_support::connect::root_cause(&trace));
        println!("   fix on the sink side: {fix}");
        execute(&self.pool, fix).await?;
        self.client.restart(&self.pipeline.sink).await?;
        println!("   POST /connectors/{}/restart?includeTasks=true", self.pipeline.sink);
        wait_restarted(&self.client, &self.pipeline, DEADLINE).await?;
        let mut all = vec!["id"];
        all.extend_from_slice(columns);
        self.converge(&all).await
    }
    // ANCHOR_END: fail_and_fix
}

/// The demo's source table and its two first rows.
async fn create_source(pool: &MySqlPool, table: &str) -> Result<()> {
    ch10_sink::ensure_utf8mb4(pool).await?;
    ch10_sink::create_users_table(pool, table).await?;
    let insert = format!(
        "INSERT INTO {table} (name, email) VALUES ('alice', 'a@example.com'), \
         ('bob', 'b@example.com')"
    );
    execute(pool, &insert).await?;
    println!("mydb.{table}: (id, name, email), 2 rows");
    Ok(())
}

async fn finish(cleanup: ch17_schema_change::Cleanup, keep: bool, pipeline: &Pipeline) {
    if keep {
        cleanup.keep();
        println!(
            "\nKept connectors {} and {}, tables {} and {}",
            pipeline.source, pipeline.sink, pipeline.table, pipeline.copy
        );
    } else {
        cleanup.run().await;
        println!("\nDeleted both connectors, both tables and the topics {}*", pipeline.prefix);
    }
}

fn ms(since: Instant) -> u128 {
    since.elapsed().as_millis()
}
