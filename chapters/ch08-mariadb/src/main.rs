//! Chapter 08: who we are to MariaDB, what we may do, migrations, and "Access denied" on purpose.

use anyhow::Result;
use ch08_mariadb::{
    customers, grants, mariadb_error, migrate, try_statement, upsert_customer, whoami,
};
use clap::Parser;
use workbook_support::{Env, db};

#[derive(Parser, Debug)]
#[command(about = "MariaDB from Rust: the workbook user, its grants, migrations \
             and three kinds of Access denied")]
struct Args {
    /// Email of the customer to insert or update (the unique key).
    #[arg(long, default_value = "minsu@example.com")]
    email: String,
    /// Name to store for that customer (any Unicode text: the table is utf8mb4).
    #[arg(long, default_value = "김민수")]
    name: String,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let env = Env::load()?;
    println!("DATABASE_URL = {}", db::redact(&env.database_url));
    let pool = db::pool(&env).await?;

    let (version, user, current_user) = whoami(&pool).await?;
    println!("  server          {version}");
    println!("  USER()          {user}   (who we said we are, and the address we came from)");
    println!("  CURRENT_USER()  {current_user}   (the account MariaDB matched: its grants apply)");
    println!("\nSHOW GRANTS");
    for grant in grants(&pool).await? {
        println!("  {grant}");
    }

    println!("\nsqlx::migrate!(\"./migrations\")  (bookkeeping in mydb._ch08_migrations)");
    for (version, description) in migrate(&pool).await? {
        println!("  applied {version:>4}  {description}");
    }
    upsert_customer(&pool, &args.email, &args.name).await?;
    println!("\nSELECT id, email, name, tier FROM ch08_customers");
    for (id, email, name, tier) in customers(&pool).await? {
        println!("  {id:>3}  {email:<24} {name:<12} {tier}");
    }

    // ANCHOR: access_denied
    println!("\nAccess denied, three different refusals:");
    let mut wrong = db::Address::parse(&env.database_url)?;
    wrong.password = "not-the-password".to_string();
    match db::pool_for_url(&wrong.url()).await {
        Ok(_) => println!("  1. a wrong password was accepted?!"),
        Err(e) => println!("  1. wrong password, login refused:\n     {}", mariadb_error(&e)),
    }
    // Logged in, but the account has no right to this: a different error number, same words.
    if let Some(refusal) = try_statement(&pool, "SELECT user, host FROM mysql.user").await {
        println!("  2. reading mysql.user as workbook:\n     {refusal}");
    }
    if let Some(refusal) = try_statement(&pool, "CREATE DATABASE ch08_other").await {
        println!("  3. creating another database as workbook:\n     {refusal}");
    }
    // ANCHOR_END: access_denied
    Ok(())
}
