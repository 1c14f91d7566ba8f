//! Checks for the chapter 17 exercises: real ALTER TABLE statements on a captured table, the
//! change events Debezium makes of them, and the JDBC sink applying them to a copy.

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(
    all(feature = "solutions", not(feature = "mistakes")),
    path = "../solutions/exercises.rs"
)]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use std::collections::BTreeMap;
use std::time::Duration;

use ch17_schema_change::pipeline::failed_trace;
use ch17_schema_change::{
    Impact, Pipeline, Step, columns, execute, insert, next_change_of, row_schema, rows, show_row,
    start, subscribe,
};
use rdkafka::consumer::StreamConsumer;
use sqlx::mysql::MySqlPool;
use workbook_support::connect::ConnectClient;
use workbook_support::{Env, db, kafka, wait};

const DEADLINE: Duration = Duration::from_secs(90);

/// One schema change of the `sink_impact` check: statements for the source table, then a row whose
/// change event carries the new schema, what the sink does with it, and why.
struct Case {
    alter: &'static [&'static str],
    insert: &'static str,
    expected: &'static [(&'static str, Impact)],
    why: &'static str,
}

const CASES: &[Case] = &[
    Case {
        alter: &["ALTER TABLE {t} ADD COLUMN nickname VARCHAR(50) NULL"],
        insert: "INSERT INTO {t} (name, email) VALUES ('n1', 'n1@example.com')",
        expected: &[],
        why: "a new NULLable field: basic evolution adds a NULL column, and old rows hold NULL on \
              both sides",
    },
    Case {
        alter: &["ALTER TABLE {t} ADD COLUMN plan VARCHAR(20) NOT NULL DEFAULT 'free'"],
        insert: "INSERT INTO {t} (name, email) VALUES ('n2', 'n2@example.com')",
        expected: &[("plan", Impact::Diverges)],
        why: "a new string field with a DEFAULT: the sink adds a TEXT column, and the MariaDB \
              dialect gives TEXT columns no DEFAULT: old rows hold '' in the copy and 'free' in \
              the source",
    },
    Case {
        alter: &["ALTER TABLE {t} ADD COLUMN logins INT NOT NULL DEFAULT 0"],
        insert: "INSERT INTO {t} (name, email) VALUES ('n3', 'n3@example.com')",
        expected: &[],
        why: "a new int field with a DEFAULT: the copy's INT column gets the same DEFAULT, old \
              rows agree",
    },
    Case {
        alter: &["ALTER TABLE {t} ADD COLUMN tier VARCHAR(10) NULL DEFAULT 'basic'"],
        insert: "INSERT INTO {t} (name, email) VALUES ('n4', 'n4@example.com')",
        expected: &[("tier", Impact::Diverges)],
        why: "a new NULLable string field with a DEFAULT: old rows hold NULL in the copy (a TEXT \
              column without a DEFAULT) and 'basic' in the source",
    },
    Case {
        alter: &["ALTER TABLE {t} ADD COLUMN code VARCHAR(10) NOT NULL"],
        insert: "INSERT INTO {t} (name, email, code) VALUES ('n5', 'n5@example.com', 'c5')",
        expected: &[("code", Impact::Fails)],
        why: "a new NOT NULL field without a DEFAULT: the sink refuses to add such a column (\"not \
              optional but has no default value\")",
    },
    Case {
        alter: &["ALTER TABLE {t} MODIFY name VARCHAR(200) NOT NULL"],
        insert: "INSERT INTO {t} (name, email, code) VALUES ('n6', 'n6@example.com', 'c6')",
        expected: &[],
        why: "VARCHAR(100) to VARCHAR(200) is still a Connect string: nothing changes for the sink",
    },
    Case {
        alter: &["ALTER TABLE {t} MODIFY age VARCHAR(20) NULL"],
        insert: "INSERT INTO {t} (name, email, code, age) VALUES ('n7', 'n7@example.com', 'c7', \
                 'old')",
        expected: &[("age", Impact::Fails)],
        why: "int32 became string: the sink never changes a column's type, and 'old' does not fit \
              the copy's INT column",
    },
    Case {
        alter: &["ALTER TABLE {t} DROP COLUMN note"],
        insert: "INSERT INTO {t} (name, email, code) VALUES ('n8', 'n8@example.com', 'c8')",
        expected: &[],
        why: "a dropped NULLable field: the copy's column stays and takes NULL",
    },
    Case {
        alter: &["ALTER TABLE {t} DROP COLUMN logins"],
        insert: "INSERT INTO {t} (name, email, code) VALUES ('n9', 'n9@example.com', 'c9')",
        expected: &[],
        why: "a dropped int field with a DEFAULT: the copy's INT column has the same DEFAULT and \
              takes it",
    },
    Case {
        alter: &["ALTER TABLE {t} DROP COLUMN plan"],
        insert: "INSERT INTO {t} (name, email, code) VALUES ('n10', 'n10@example.com', 'c10')",
        expected: &[("plan", Impact::Fails)],
        why: "a dropped NOT NULL string field: its TEXT column in the copy has no DEFAULT, so \
              every INSERT without it fails",
    },
    Case {
        alter: &["ALTER TABLE {t} DROP COLUMN email"],
        insert: "INSERT INTO {t} (name, code) VALUES ('n11', 'c11')",
        expected: &[("email", Impact::Fails)],
        why: "a dropped NOT NULL field without a DEFAULT: every INSERT into the copy without it \
              fails",
    },
    Case {
        alter: &["ALTER TABLE {t} RENAME COLUMN name TO full_name"],
        insert: "INSERT INTO {t} (full_name, code) VALUES ('n12', 'c12')",
        expected: &[("full_name", Impact::Fails), ("name", Impact::Fails)],
        why: "a rename is a drop and an add: the copy's name stays NOT NULL, and full_name is a \
              NOT NULL column without a DEFAULT, which the sink refuses to add",
    },
    Case {
        alter: &[
            "UPDATE {t} SET nickname = '' WHERE nickname IS NULL",
            "ALTER TABLE {t} MODIFY nickname VARCHAR(50) NOT NULL",
        ],
        insert: "INSERT INTO {t} (full_name, code, nickname) VALUES ('n13', 'c13', 'nick')",
        expected: &[],
        why: "NULLable became NOT NULL: the copy's NULLable column takes every value the new \
              schema allows",
    },
    Case {
        alter: &["ALTER TABLE {t} MODIFY code VARCHAR(10) NULL"],
        insert: "INSERT INTO {t} (full_name, nickname) VALUES ('n14', 'nick')",
        expected: &[("code", Impact::Fails)],
        why: "NOT NULL became NULLable: the copy's column stays NOT NULL, and the first NULL fails \
              the sink",
    },
];

fn shown(impact: &BTreeMap<String, Impact>) -> String {
    let entries: Vec<String> = impact.iter().map(|(k, v)| format!("{k}: {v:?}")).collect();
    format!("{{{}}}", entries.join(", "))
}

#[tokio::test]
async fn sink_impact() {
    let env = Env::load().unwrap();
    let pool = db::pool(&env).await.unwrap();
    let pipeline = Pipeline::new("impact");
    let _cleanup = pipeline.cleanup(&env);
    let t = &pipeline.table;
    execute(
        &pool,
        &format!(
            "CREATE TABLE {t} (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT \
             NULL, email VARCHAR(255) NOT NULL, note VARCHAR(50) NULL, age INT NULL)"
        ),
    )
    .await
    .unwrap();
    let first = insert(
        &pool,
        &format!(
            "INSERT INTO {t} (name, email, note, age) VALUES ('n0', 'n0@example.com', 'x', 30)"
        ),
    )
    .await
    .unwrap();
    // Only the source is needed: the schemas come from its change events.
    let client = ConnectClient::new(&env).unwrap();
    let source = ch09_source::source_config(&env, &pipeline.prefix, &[t]).unwrap();
    client.put_connector(&pipeline.source, &source).await.unwrap();
    ch09_source::wait_users_capturing(&env, &pipeline.source, &pipeline.topic, t, DEADLINE)
        .await
        .unwrap();
    let consumer = subscribe(&env, &pipeline.topic).unwrap();
    let mut old = row_schema(&next_change_of(&consumer, first, DEADLINE).await.unwrap().value)
        .unwrap()
        .clone();

    let mut wrong = Vec::new();
    for case in CASES {
        for sql in case.alter {
            execute(&pool, &sql.replace("{t}", t)).await.unwrap();
        }
        let id = insert(&pool, &case.insert.replace("{t}", t)).await.unwrap();
        let change = next_change_of(&consumer, id, DEADLINE).await.unwrap();
        let new = row_schema(&change.value).expect("a change event with a row schema").clone();
        let expected: BTreeMap<String, Impact> =
            case.expected.iter().map(|(f, i)| (f.to_string(), *i)).collect();
        let answer = exercises::sink_impact(&old, &new);
        println!("{}: {}", case.alter.last().unwrap().replace("{t}", "t"), shown(&answer));
        if answer != expected {
            wrong.push(format!(
                "- `{}`: expected {}, your answer {}\n  ({})",
                case.alter.last().unwrap().replace("{t}", "t"),
                shown(&expected),
                shown(&answer),
                case.why
            ));
        }
        old = new;
    }
    assert!(
        wrong.is_empty(),
        "{} of {} schema changes misjudged:\n{}",
        wrong.len(),
        CASES.len(),
        wrong.join("\n")
    );
}

/// The columns of the source that carry the address: `email`, `contact` or both.
async fn address_columns(pool: &MySqlPool, table: &str) -> Vec<String> {
    let all = columns(pool, table).await.unwrap();
    all.into_iter().filter(|c| c == "email" || c == "contact").collect()
}

/// The application during the migration: updates user 1 and inserts a user, writing the address
/// into every address column the source has. Returns the new user's id.
async fn app_writes(pool: &MySqlPool, table: &str, n: usize) -> i64 {
    let targets = address_columns(pool, table).await;
    let set: Vec<String> = targets.iter().map(|c| format!("{c} = 'v{n}@example.com'")).collect();
    execute(pool, &format!("UPDATE {table} SET {} WHERE id = 1", set.join(", "))).await.unwrap();
    let values: Vec<String> = targets.iter().map(|_| format!("'app{n}@example.com'")).collect();
    let insert = format!(
        "INSERT INTO {table} (name, {}) VALUES ('app{n}', {})",
        targets.join(", "),
        values.join(", ")
    );
    ch17_schema_change::insert(pool, &insert).await.unwrap()
}

/// The offset the sink's consumer group committed on the topic's partition (the next one it reads).
fn committed(env: &Env, pipeline: &Pipeline) -> anyhow::Result<i64> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::{Offset, TopicPartitionList};
    let group = format!("connect-{}", pipeline.sink);
    let consumer: BaseConsumer = kafka::client_config(env).set("group.id", &group).create()?;
    let mut partitions = TopicPartitionList::new();
    partitions.add_partition(&pipeline.topic, 0);
    let committed = consumer.committed_offsets(partitions, Duration::from_secs(5))?;
    Ok(match committed.find_partition(&pipeline.topic, 0).map(|p| p.offset()) {
        Some(Offset::Offset(at)) => at,
        _ => -1,
    })
}

/// What a failed sink task's root cause says about the step that made it.
fn explain(cause: &str, step: &Step) -> String {
    if cause.contains("field 'email' is not optional but has no default value") {
        return "the copy has no `email` column while the records still carry `email`: the sink \
                tries to add it back, and refuses a NOT NULL column without a DEFAULT. Drop a \
                column from the copy only once no record carries it any more"
            .to_string();
    }
    if cause.contains("is not optional but has no default value") {
        if step.sql().to_uppercase().contains("RENAME") {
            return "RENAME COLUMN reaches the sink as a new NOT NULL column without a DEFAULT (and \
                    an old NOT NULL column that stops arriving): the sink refuses to add such a \
                    column to the copy"
                .to_string();
        }
        return "a new NOT NULL column without a DEFAULT: MariaDB filled the source's rows with '' \
                silently, but the sink refuses to add such a column to the copy"
            .to_string();
    }
    if cause.contains("doesn't have a default value") {
        return "the source stopped sending a column that is still NOT NULL without a DEFAULT in \
                the copy: every new row of the copy fails"
            .to_string();
    }
    "the copy cannot take the records of the new schema".to_string()
}

/// Waits until the sink has processed the topic up to `offset`; a FAILED sink task ends the wait
/// with its root cause, explained.
async fn wait_sink_past(env: &Env, pipeline: &Pipeline, offset: i64, step: &Step) {
    println!("waiting for {} to apply the change at offset {offset}", pipeline.sink);
    let client = ConnectClient::new(env).unwrap();
    let what = format!("{} applied offset {offset}", pipeline.sink);
    let result = wait::until(&what, DEADLINE, Duration::from_millis(200), || async {
        if let Some(trace) = failed_trace(&client.status(&pipeline.sink).await?) {
            let cause = workbook_support::connect::root_cause(&trace);
            return Err(wait::fatal(format!(
                "the sink FAILED: {cause}\n=> {}",
                explain(&cause, step)
            )));
        }
        let (env, pipeline) = (env.clone(), pipeline.clone());
        let at = tokio::task::spawn_blocking(move || committed(&env, &pipeline)).await??;
        Ok((at > offset).then_some(()))
    })
    .await;
    if let Err(e) = result {
        panic!("after `{step}`: {e:#}");
    }
}

/// After `step`: the application writes, the sink applies them, and the copy equals the source in
/// every column the source still has among name, email and contact.
async fn check_after(
    env: &Env,
    pool: &MySqlPool,
    consumer: &StreamConsumer,
    pipeline: &Pipeline,
    n: usize,
    step: &Step,
) {
    let id = app_writes(pool, &pipeline.table, n).await;
    let change = next_change_of(consumer, id, DEADLINE).await.unwrap();
    wait_sink_past(env, pipeline, change.offset, step).await;
    let mut compared = vec!["id".to_string(), "name".to_string()];
    compared.extend(address_columns(pool, &pipeline.table).await);
    let compared: Vec<&str> = compared.iter().map(String::as_str).collect();
    let copy_columns = columns(pool, &pipeline.copy).await.unwrap();
    if let Some(missing) = compared.iter().find(|c| !copy_columns.iter().any(|have| have == *c)) {
        panic!("after `{step}`: the copy has no column `{missing}`, which the source has");
    }
    let source = rows(pool, &pipeline.table, &compared).await.unwrap();
    let copy = rows(pool, &pipeline.copy, &compared).await.unwrap();
    if source != copy {
        let differing: Vec<String> = source
            .iter()
            .zip(&copy)
            .filter(|(a, b)| a != b)
            .map(|(a, b)| format!("  source {}  copy {}", show_row(a), show_row(b)))
            .collect();
        panic!(
            "after `{step}`, the copy differs from the source in {compared:?} ({} rows in the \
             source, {} in the copy):\n{}\n=> the copy only learns a row's new values from a \
             change event of that row",
            source.len(),
            copy.len(),
            differing.join("\n")
        );
    }
}

#[tokio::test]
async fn safe_migration() {
    let env = Env::load().unwrap();
    let pool = db::pool(&env).await.unwrap();
    let pipeline = Pipeline::new("users");
    let _cleanup = pipeline.cleanup(&env);
    let (table, copy) = (&pipeline.table, &pipeline.copy);
    ch10_sink::ensure_utf8mb4(&pool).await.unwrap();
    ch10_sink::create_users_table(&pool, table).await.unwrap();
    let seed = "('ann', 'ann@example.com'), ('ben', 'ben@example.com'), ('cat', 'cat@example.com')";
    execute(&pool, &format!("INSERT INTO {table} (name, email) VALUES {seed}")).await.unwrap();
    start(&env, &pool, &pipeline, "basic", DEADLINE).await.unwrap();
    let consumer = subscribe(&env, &pipeline.topic).unwrap();
    let before = Step::Source("(nothing yet: the pipeline's first copy)".to_string());
    check_after(&env, &pool, &consumer, &pipeline, 0, &before).await;

    let steps = exercises::safe_migration(table, copy);
    assert!(!steps.is_empty(), "no steps: the source still has `email` and no `contact`");
    for (n, step) in steps.iter().enumerate() {
        println!("step {}: {step}", n + 1);
        if let Err(e) = step.run(&pool).await {
            let nulls = if address_columns(&pool, table).await.contains(&"contact".to_string()) {
                rows(&pool, table, &["id", "contact"])
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|r| r[1].is_none())
                    .count()
            } else {
                0
            };
            let hint = if nulls > 0 {
                format!(
                    "\n=> {nulls} rows of the source have no contact: the rows written before \
                     `contact` existed were never backfilled"
                )
            } else {
                String::new()
            };
            panic!("step {} `{step}` failed: {e:#}{hint}", n + 1);
        }
        check_after(&env, &pool, &consumer, &pipeline, n + 1, step).await;
    }

    let sql = "SELECT CAST(COLUMN_NAME AS CHAR), CAST(IS_NULLABLE AS CHAR) FROM \
               information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?";
    let source: Vec<(String, String)> =
        sqlx::query_as(sql).bind(table).fetch_all(&pool).await.unwrap();
    let nullable = |name: &str| source.iter().find(|(c, _)| c == name).map(|(_, n)| n == "YES");
    assert_eq!(nullable("email"), None, "the source still has `email`: the rename is not finished");
    match nullable("contact") {
        None => panic!("the source has no `contact` column"),
        Some(true) => {
            panic!(
                "the source's `contact` is NULLable: the planned column is `contact VARCHAR(255) \
                 NOT NULL`"
            )
        }
        Some(false) => {}
    }
    let copied = rows(&pool, copy, &["id", "contact"]).await.unwrap();
    let without: Vec<String> =
        copied.iter().filter(|r| r[1].is_none()).map(|r| show_row(r)).collect();
    assert!(without.is_empty(), "rows of the copy without a contact: {}", without.join(", "));
}
