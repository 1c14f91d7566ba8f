//! Checks for the chapter 08 exercises, against the workbook's MariaDB.

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(
    all(feature = "solutions", not(feature = "mistakes")),
    path = "../solutions/exercises.rs"
)]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use anyhow::{Context, Result, bail, ensure};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use workbook_support::env::{MARIADB_ROOT_PASSWORD, env_file, workbook_dir};
use workbook_support::{Env, db, names};

/// MariaDB's admin: over the private server's socket (local backend) or over TCP (docker backend, where
/// root may log in from the host). The tests need it to create what the `workbook` user may not.
async fn root_pool(env: &Env) -> MySqlPool {
    let vars = workbook_support::envfile::read(&env_file()).unwrap();
    let password =
        vars.get(MARIADB_ROOT_PASSWORD).expect("MARIADB_ROOT_PASSWORD in .workbook/env").clone();
    let tcp: MySqlConnectOptions = env.database_url.parse().unwrap();
    let socket = workbook_dir().join("run").join("mariadb.sock");
    let options =
        if socket.exists() { MySqlConnectOptions::new().socket(&socket) } else { tcp.clone() };
    let options = options.username("root").password(&password).database("mydb");
    MySqlPoolOptions::new().max_connections(1).connect_with(options).await.expect("root login")
}

async fn execute(pool: &MySqlPool, sql: String) -> Result<()> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone())).execute(pool).await.with_context(|| sql)?;
    Ok(())
}

/// A database of the test's own whose default character set is latin1 (MariaDB's built-in default), on
/// which the `workbook` account gets the same rights it has on `mydb`.
struct Latin1Database {
    root: MySqlPool,
    name: String,
    account: String,
}

impl Latin1Database {
    async fn create(env: &Env) -> Result<(Latin1Database, MySqlPool)> {
        let root = root_pool(env).await;
        let workbook = db::pool(env).await?;
        // The account MariaDB matched the workbook user to ('workbook'@'127.0.0.1' on the local backend): grants are per account.
        let current: String =
            sqlx::query_scalar("SELECT CURRENT_USER()").fetch_one(&workbook).await?;
        let (user, host) = current.rsplit_once('@').context("CURRENT_USER() is user@host")?;
        let name = names::unique_table("ch08_ex_latin1");
        let database = Latin1Database { root, name, account: format!("'{user}'@'{host}'") };
        execute(&database.root, format!("CREATE DATABASE {} CHARACTER SET latin1", database.name))
            .await?;
        execute(
            &database.root,
            format!("GRANT ALL PRIVILEGES ON {}.* TO {}", database.name, database.account),
        )
        .await?;
        let options: MySqlConnectOptions = env.database_url.parse()?;
        let pool = MySqlPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(db::CONNECT_TIMEOUT)
            .connect_with(options.database(&database.name))
            .await?;
        Ok((database, pool))
    }

    async fn default_charset(&self) -> Result<String> {
        let charset = sqlx::query_scalar(
            "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
        )
        .bind(&self.name)
        .fetch_one(&self.root)
        .await?;
        Ok(charset)
    }

    /// Takes the grant back and drops the database with everything in it.
    async fn drop(self) {
        let _ = execute(
            &self.root,
            format!("REVOKE ALL PRIVILEGES ON {}.* FROM {}", self.name, self.account),
        )
        .await;
        let _ = execute(&self.root, format!("DROP DATABASE IF EXISTS {}", self.name)).await;
    }
}

#[tokio::test]
async fn create_users_table() {
    let env = Env::load().unwrap();
    let (database, pool) =
        Latin1Database::create(&env).await.expect("creating the test's latin1 database");
    let table = names::unique_table("ch08_ex_users");
    // The learner's code runs in a task of its own, so that even a panic in it leaves no database behind.
    let created = {
        let (pool, table) = (pool.clone(), table.clone());
        tokio::spawn(async move { exercises::create_users_table(&pool, &table).await }).await
    };
    let result = match &created {
        Ok(Ok(())) => check_users_table(&database, &pool, &table).await,
        Ok(Err(e)) => Err(anyhow::anyhow!("creating the table failed: {e:#}")),
        Err(_) => Ok(()),
    };
    pool.close().await;
    database.drop().await;
    if let Err(panicked) = created {
        std::panic::resume_unwind(panicked.into_panic());
    }
    if let Err(e) = result {
        panic!("{e:#}");
    }
}

async fn check_users_table(database: &Latin1Database, pool: &MySqlPool, table: &str) -> Result<()> {
    let charset = database.default_charset().await?;
    ensure!(
        charset == "latin1",
        "the database's default character set is now {charset}, not latin1: the database is shared, its default \
         is not the table's to change (other tables created later would silently change with it)"
    );
    let primary: Vec<(String,)> = sqlx::query_as(
        "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY'",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    ensure!(
        primary == [("id".to_string(),)],
        "the primary key must be exactly (id), found {primary:?}"
    );

    insert_any_text(pool, table).await?;
    let ids: Vec<i64> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT id FROM {table} ORDER BY id")))
            .fetch_all(pool)
            .await?;
    ensure!(
        ids.len() == 2 && ids[0] >= 1 && ids[1] > ids[0],
        "ids must be generated, ascending: {ids:?}"
    );

    let insert = format!("INSERT INTO {table} (email, name) VALUES (?, ?)");
    let duplicate = sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
        .bind("minsu@example.com")
        .bind("someone else")
        .execute(pool);
    ensure!(duplicate.await.is_err(), "a second row with the same email must be refused");
    let missing =
        execute(pool, format!("INSERT INTO {table} (email) VALUES ('x@example.com')")).await;
    ensure!(missing.is_err(), "name is required: a row without one must be refused");
    let missing = execute(pool, format!("INSERT INTO {table} (name) VALUES ('X')")).await;
    ensure!(missing.is_err(), "email is required: a row without one must be refused");

    ids_past_32_bits(pool, table).await?;
    updated_at_is_kept(pool, table).await
}

/// Korean and an emoji must go in and come back unchanged; when they do not, say which character set the
/// column really has.
async fn insert_any_text(pool: &MySqlPool, table: &str) -> Result<()> {
    let insert = format!("INSERT INTO {table} (email, name) VALUES (?, ?)");
    for (email, name) in [("minsu@example.com", "김민수 🚀"), ("jane@example.com", "Jane")] {
        let inserted = sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
            .bind(email)
            .bind(name)
            .execute(pool)
            .await;
        if let Err(e) = inserted {
            let text = e.to_string();
            if text.contains("Incorrect string value") {
                bail!("{}: MariaDB refused {name:?} ({text})", column_charset(pool, table).await?);
            }
            bail!(
                "inserting {name:?} with only an email and a name (MariaDB fills the rest): {text}"
            );
        }
    }
    let stored: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT name FROM {table} WHERE email = 'minsu@example.com'"
    )))
    .fetch_one(pool)
    .await?;
    if stored != "김민수 🚀" {
        bail!("{}: the name came back as {stored:?}", column_charset(pool, table).await?);
    }
    Ok(())
}

/// "the column `name` uses character set latin1, which cannot store every Unicode character…"
async fn column_charset(pool: &MySqlPool, table: &str) -> Result<String> {
    let charset: Option<String> = sqlx::query_scalar(
        "SELECT CHARACTER_SET_NAME FROM information_schema.COLUMNS
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'name'",
    )
    .bind(table)
    .fetch_one(pool)
    .await?;
    let charset = charset.unwrap_or_else(|| "(none)".to_string());
    Ok(format!(
        "the column `name` uses character set {charset}, which cannot store every Unicode character \
         (the database you were given defaults to latin1)"
    ))
}

/// A 64-bit id keeps counting past 2,147,483,647; a 32-bit one stops there.
async fn ids_past_32_bits(pool: &MySqlPool, table: &str) -> Result<()> {
    // The next id as if 3 billion users had signed up (a 32-bit column may refuse even this).
    let altered = execute(pool, format!("ALTER TABLE {table} AUTO_INCREMENT = 3000000000")).await;
    let insert = format!("INSERT INTO {table} (email, name) VALUES ('big@example.com', 'Big')");
    let inserted = execute(pool, insert).await;
    let id: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM {table} WHERE email = 'big@example.com'"
    )))
    .fetch_optional(pool)
    .await?;
    ensure!(
        inserted.is_ok() && id.is_some_and(|id| id >= 3_000_000_000),
        "after 3 billion users the next id must be 3000000000: got {id:?} ({:?}); the id column is not a \
         64-bit integer",
        altered.and(inserted)
    );
    Ok(())
}

/// `updated_at` is filled on INSERT, moves forward on every UPDATE, and keeps microseconds.
async fn updated_at_is_kept(pool: &MySqlPool, table: &str) -> Result<()> {
    // Microseconds since 2000 as an integer: comparable without a date type on the Rust side.
    let read = format!(
        "SELECT TIMESTAMPDIFF(MICROSECOND, '2000-01-01', updated_at), TIMESTAMPDIFF(MICROSECOND, updated_at, NOW(6)) \
         FROM {table} WHERE email = 'jane@example.com'"
    );
    let read = || {
        sqlx::query_as::<_, (Option<i64>, Option<i64>)>(sqlx::AssertSqlSafe(read.clone()))
            .fetch_one(pool)
    };
    let (inserted, age) = read().await.context("reading updated_at (is there such a column?)")?;
    ensure!(inserted.is_some(), "updated_at is NULL after an INSERT: MariaDB must fill it");
    ensure!(
        age.is_some_and(|age| (0..60_000_000).contains(&age)),
        "updated_at must be the time the row was inserted: it is {:?} µs before now",
        age
    );
    let precision: Option<u32> = sqlx::query_scalar(
        "SELECT DATETIME_PRECISION FROM information_schema.COLUMNS
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'updated_at'",
    )
    .bind(table)
    .fetch_one(pool)
    .await?;
    ensure!(
        precision == Some(6),
        "updated_at keeps {} fractional digits: it must keep the microsecond (6), or two changes within one \
         second look simultaneous",
        precision.unwrap_or(0)
    );
    for name in ["Jane Doe", "Jane Roe"] {
        let (before, _) = read().await?;
        execute(
            pool,
            format!("UPDATE {table} SET name = '{name}' WHERE email = 'jane@example.com'"),
        )
        .await?;
        let (after, _) = read().await?;
        ensure!(
            after > before,
            "updated_at did not change when an UPDATE changed the row (still {before:?} µs after 2000): MariaDB \
             must move it forward on every change, without the UPDATE saying so"
        );
    }
    Ok(())
}

/// The plain case, and what sqlx reads out of the URL: scheme, user, host, port and database.
fn check_shape(
    url: &str,
    user: &str,
    host: &str,
    port: u16,
    database: &str,
) -> Result<MySqlConnectOptions> {
    ensure!(
        url.starts_with("mysql://"),
        "{url:?} must start with `mysql://`, the scheme of DATABASE_URL and of every sqlx MySQL/MariaDB URL"
    );
    let options: MySqlConnectOptions = url.parse().map_err(|e| {
        anyhow::anyhow!(
            "sqlx cannot parse {url:?} ({e}): a character of the user or password was read as one of the URL's \
             own separators (`:` `@` `/` `?` `#`)"
        )
    })?;
    ensure!(
        options.get_username() == user,
        "sqlx reads the user out of {url:?} as {:?}, not {user:?}: a character of the password was read as one \
         of the URL's own separators",
        options.get_username()
    );
    ensure!(
        options.get_host() == host && options.get_port() == port,
        "sqlx reads {url:?} as host {} port {}, not {host} port {port} (a URL without a port means MySQL's \
         default 3306)",
        options.get_host(),
        options.get_port()
    );
    ensure!(
        options.get_database() == Some(database),
        "the database must be {database}, sqlx reads {url:?} otherwise"
    );
    Ok(options)
}

#[tokio::test]
async fn database_url() {
    let env = Env::load().unwrap();
    let plain = exercises::database_url("workbook", "pw", "127.0.0.1", 3307, "mydb");
    check_shape(&plain, "workbook", "127.0.0.1", 3307, "mydb").unwrap();
    assert_eq!(plain, "mysql://workbook:pw@127.0.0.1:3307/mydb", "a plain password stays as it is");

    let options: MySqlConnectOptions = env.database_url.parse().unwrap();
    let (host, port) = (options.get_host().to_string(), options.get_port());
    let user = names::unique_table("ch08u").replace("ch08u_", "u");
    // A generated password with every URL separator, a `%` before two hex digits, a space and a `+`.
    let password = "p@ss:w/rd#1?%41 x+y";
    // Built before the account exists, so a panicking attempt leaves no account behind.
    let url = exercises::database_url(&user, password, &host, port, "mydb");
    check_shape(&url, &user, &host, port, "mydb").unwrap();

    let root = root_pool(&env).await;
    // The host part the workbook's own account has: 127.0.0.1 on the local backend; `%` with
    // Docker, where a client reaches MariaDB through a published port and arrives from the gateway.
    let workbook = db::pool(&env).await.unwrap();
    let client_host: String = sqlx::query_scalar("SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', -1)")
        .fetch_one(&workbook)
        .await
        .unwrap();
    let account = format!("'{user}'@'{client_host}'");
    execute(&root, format!("CREATE USER {account} IDENTIFIED BY '{password}'")).await.unwrap();
    let granted = execute(&root, format!("GRANT SELECT ON mydb.* TO {account}")).await;
    let login = db::pool_for_url(&url).await;
    let who = match &login {
        Ok(pool) => {
            sqlx::query_scalar::<_, String>("SELECT CURRENT_USER()").fetch_one(pool).await.ok()
        }
        Err(_) => None,
    };
    execute(&root, format!("DROP USER {account}")).await.unwrap();
    granted.unwrap();
    if let Err(e) = login {
        panic!(
            "MariaDB refused the login with {url:?}: the password MariaDB received is not {password:?}. \
             sqlx percent-decodes the user and password it reads out of the URL, and does nothing else to them \
             ({e:#})"
        );
    }
    assert_eq!(who.as_deref(), Some(format!("{user}@{client_host}").as_str()));
}
