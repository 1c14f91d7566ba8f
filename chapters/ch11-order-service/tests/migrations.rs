//! Migrations run once each, and an applied one is never edited: sqlx keeps a checksum of every
//! migration it applied and refuses a file that changed since. The refusal must say what happened
//! and what to do, since a learner meets it after pulling a newer workbook over kept tables.

use ch11_order_service::{Tables, migrate};
use workbook_support::cleanup::Cleanup;
use workbook_support::{Env, db, names};

#[tokio::test]
async fn an_edited_applied_migration_is_refused_with_what_to_do() -> anyhow::Result<()> {
    let env = Env::load()?;
    let pool = db::pool(&env).await?;
    let tables = Tables::for_instance(&names::unique_table("ch11_mig"))?;
    let mut cleanup = Cleanup::new(&env);
    for table in tables.all() {
        cleanup.table(table);
    }
    let applied = migrate(&pool, &tables).await?;
    assert_eq!(applied.len(), 3, "a new instance gets every migration: {applied:?}");
    assert!(migrate(&pool, &tables).await?.is_empty(), "the second run applies nothing");

    // What sqlx would find if migration 1's file had been edited after it ran.
    let edited =
        format!("UPDATE {} SET checksum = UNHEX('00') WHERE version = 1", tables.migrations);
    sqlx::raw_sql(sqlx::AssertSqlSafe(edited)).execute(&pool).await?;
    let refused = migrate(&pool, &tables).await.expect_err("an edited migration must be refused");

    let said = refused.to_string();
    assert!(
        said.contains("migration 1 was applied")
            && said.contains("never edits an applied migration"),
        "{said}"
    );
    assert!(said.contains(&format!("DROP TABLE {}", tables.orders)), "{said}");
    Ok(())
}
