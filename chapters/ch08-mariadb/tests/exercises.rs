//! Checks for the chapter 08 exercises, against the workbook's MariaDB.

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(all(feature = "solutions", not(feature = "mistakes")), path = "../solutions/exercises.rs")]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use workbook_support::env::{MARIADB_ROOT_PASSWORD, env_file, workbook_dir};
use workbook_support::{Env, db, names};

async fn workbook_pool() -> MySqlPool {
    db::pool(&Env::load().unwrap()).await.unwrap()
}

#[tokio::test]
async fn create_users_table() {
    let pool = workbook_pool().await;
    let table = names::unique_table("ch08_ex_users");
    exercises::create_users_table(&pool, &table).await.expect("creating the table");
    let result = check_users_table(&pool, &table).await;
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}"))).execute(&pool).await;
    result.unwrap();
}

async fn check_users_table(pool: &MySqlPool, table: &str) -> anyhow::Result<()> {
    let primary: Vec<(String,)> = sqlx::query_as(
        "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY'",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    anyhow::ensure!(primary == [("id".to_string(),)], "the primary key must be exactly (id), found {primary:?}");

    let insert = format!("INSERT INTO {table} (email, name) VALUES (?, ?)");
    for (email, name) in [("minsu@example.com", "김민수 🚀"), ("jane@example.com", "Jane")] {
        sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
            .bind(email)
            .bind(name)
            .execute(pool)
            .await
            .map_err(|e| anyhow::anyhow!("inserting {name:?} without an id: {e}"))?;
    }
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT id, email, name FROM {table} ORDER BY id")))
            .fetch_all(pool)
            .await?;
    anyhow::ensure!(rows.len() == 2 && rows[0].0 >= 1 && rows[1].0 > rows[0].0, "ids must be generated: {rows:?}");
    anyhow::ensure!(rows[0].2 == "김민수 🚀", "the name must come back unchanged, got {:?}", rows[0].2);

    let duplicate = sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
        .bind("minsu@example.com")
        .bind("someone else")
        .execute(pool)
        .await;
    anyhow::ensure!(duplicate.is_err(), "a second row with the same email must be refused");
    let missing = sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO {table} (email) VALUES ('x@example.com')")))
        .execute(pool)
        .await;
    anyhow::ensure!(missing.is_err(), "name is required: a row without one must be refused");
    Ok(())
}

/// MariaDB's admin, to create a user with an awkward password: over the private server's socket (local backend)
/// or over TCP (docker backend, where root may log in from the host).
async fn root_pool(env: &Env) -> MySqlPool {
    let vars = workbook_support::envfile::read(&env_file()).unwrap();
    let password = vars.get(MARIADB_ROOT_PASSWORD).expect("MARIADB_ROOT_PASSWORD in .workbook/env").clone();
    let tcp: MySqlConnectOptions = env.database_url.parse().unwrap();
    let socket = workbook_dir().join("run").join("mariadb.sock");
    let options = if socket.exists() { MySqlConnectOptions::new().socket(&socket) } else { tcp.clone() };
    let options = options.username("root").password(&password).database("mydb");
    MySqlPoolOptions::new().max_connections(1).connect_with(options).await.expect("root login")
}

#[tokio::test]
async fn database_url() {
    let env = Env::load().unwrap();
    assert_eq!(
        exercises::database_url("workbook", "pw", "127.0.0.1", 3307, "mydb"),
        "mysql://workbook:pw@127.0.0.1:3307/mydb",
        "a plain password stays as it is"
    );

    let root = root_pool(&env).await;
    let user = names::unique_table("ch08u").replace("ch08u_", "u");
    let password = "p@ss:w/rd#1?%x";
    // Built before the account exists, so a panicking attempt leaves no account behind.
    let options: MySqlConnectOptions = env.database_url.parse().unwrap();
    let (host, port) = (options.get_host().to_string(), options.get_port());
    let url = exercises::database_url(&user, password, &host, port, "mydb");
    let create = format!("CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{password}'");
    sqlx::raw_sql(sqlx::AssertSqlSafe(create)).execute(&root).await.unwrap();
    let grant = format!("GRANT SELECT ON mydb.* TO '{user}'@'127.0.0.1'");
    sqlx::raw_sql(sqlx::AssertSqlSafe(grant)).execute(&root).await.unwrap();

    let login = db::pool_for_url(&url).await;
    let who = match &login {
        Ok(pool) => sqlx::query_scalar::<_, String>("SELECT CURRENT_USER()").fetch_one(pool).await.ok(),
        Err(_) => None,
    };
    let drop = format!("DROP USER '{user}'@'127.0.0.1'");
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&root).await.unwrap();
    if let Err(e) = login {
        panic!("could not log in with {url}: {e:#}");
    }
    assert_eq!(who.as_deref(), Some(format!("{user}@127.0.0.1").as_str()));
}
