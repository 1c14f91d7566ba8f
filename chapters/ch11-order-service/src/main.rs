//! Chapter 11: an order service on MariaDB. It migrates its tables, serves an HTTP API, and
//! announces every new order through a transactional outbox that Debezium publishes to Kafka. It
//! then shows what the tempting alternative, committing and then sending to Kafka yourself (a dual
//! write), loses in a crash.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ch11_order_service::http::serve;
use ch11_order_service::{
    Cleanup, Failpoint, NewOrder, Order, OrderRepository, Tables, migrate, next_records,
    order_topic, outbox_connector_config, outbox_topics, redacted, subscribe,
    wait_outbox_capturing,
};
use clap::Parser;
use rdkafka::producer::FutureProducer;
use serde_json::json;
use workbook_support::connect::ConnectClient;
use workbook_support::{Env, db, kafka, names};

#[derive(Parser, Debug)]
#[command(
    about = "An order service on MariaDB (sqlx + axum) whose OrderCreated events reach Kafka \
             through an outbox"
)]
struct Args {
    /// Instance name; its tables are <instance>_orders, <instance>_outbox, <instance>_migrations in
    /// mydb (default: a new ch11_… name per run).
    #[arg(long)]
    instance: Option<String>,
    /// HTTP port on 127.0.0.1 (0 = any free port; the address is printed).
    #[arg(short, long, default_value_t = 0)]
    port: u16,
    /// How many orders the demo places through the HTTP API.
    #[arg(short = 'n', long, default_value_t = 3)]
    orders: usize,
    /// After the demo, keep serving the API until Ctrl-C (try it with curl).
    #[arg(long)]
    serve: bool,
    /// Keep the tables, the connector and the topics at the end.
    #[arg(long)]
    keep: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let env = Env::load()?;
    // No broker, no demo: say so in seconds, before anything is made that would need cleaning up.
    kafka::probe(&env).await?;
    let instance = args.instance.clone().unwrap_or_else(|| names::unique_table("ch11"));
    let tables = Tables::for_instance(&instance)?;
    let prefix = names::unique("ch11");
    let mut cleanup = Cleanup::new(&env);
    for table in tables.all() {
        cleanup.table(table);
    }
    let connector = cleanup.connector(format!("{prefix}-outbox"));
    for topic in outbox_topics(&prefix) {
        cleanup.topic(topic);
    }
    let direct_topic = cleanup.topic(format!("{prefix}.direct"));

    // ANCHOR: start
    let pool = db::pool(&env).await?;
    println!("MariaDB {}: instance {instance}", db::redact(&env.database_url));
    for (version, description) in migrate(&pool, &tables).await? {
        println!("  migration {version} applied: {description}");
    }
    let repository = OrderRepository { pool: pool.clone(), tables: tables.clone() };
    let (address, _server) = serve(repository.clone(), args.port).await?;
    println!("HTTP API listening on http://{address}");
    // ANCHOR_END: start

    // ANCHOR: connect
    let client = ConnectClient::new(&env)?;
    let config = outbox_connector_config(&env, &prefix, &[&tables.outbox])?;
    let shown = redacted(&config);
    let started = Instant::now();
    client.put_connector(&connector, &config).await?;
    // RUNNING is not capturing yet: wait until a marker event written to the outbox comes out of
    // the router.
    wait_outbox_capturing(&env, &connector, &prefix, &tables.outbox, Duration::from_secs(60))
        .await?;
    println!(
        "\nDebezium source {connector} capturing after {} ms: mydb.{} → {}",
        started.elapsed().as_millis(),
        tables.outbox,
        order_topic(&prefix)
    );
    for key in [
        "transforms.outbox.type",
        "transforms.outbox.route.topic.replacement",
        "transforms.outbox.table.expand.json.payload",
        "transforms.outbox.table.fields.additional.placement",
    ] {
        println!("  {key} = {}", shown[key].as_str().unwrap_or_default());
    }
    // ANCHOR_END: connect

    // ANCHOR: place_orders
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let base = format!("http://{address}");
    let consumer = subscribe(&env, &order_topic(&prefix), &names::unique("ch11-reader"))?;
    println!("\nPOST /orders ×{}", args.orders);
    let mut placed: Vec<(Order, Instant)> = Vec::new();
    for i in 0..args.orders {
        let new = NewOrder {
            user_id: ["alice", "bob"][i % 2].to_string(),
            product_id: format!("CATALOG-00{}", i % 3 + 1),
            qty: i as i32 + 1,
            unit_price: 1500,
        };
        let response =
            http.post(format!("{base}/orders")).json(&new).send().await.context("POST /orders")?;
        let status = response.status();
        if !status.is_success() {
            bail!("POST /orders answered {status}: {}", response.text().await.unwrap_or_default());
        }
        let order: Order = response.json().await.context("reading the created order")?;
        println!(
            "  {status} order_id={} user={} {}×{} total={}",
            order.order_id, order.user_id, order.qty, order.product_id, order.total_price
        );
        placed.push((order, Instant::now()));
    }
    // ANCHOR_END: place_orders

    if let Some((first, _)) = placed.first() {
        let one: serde_json::Value =
            http.get(format!("{base}/orders/{}", first.order_id)).send().await?.json().await?;
        println!("GET /orders/{} → {one}", first.order_id);
        let mine: Vec<Order> =
            http.get(format!("{base}/users/alice/orders")).send().await?.json().await?;
        println!("GET /users/alice/orders → {} order(s)", mine.len());
    }

    // ANCHOR: read_events
    let records = next_records(&consumer, placed.len(), Duration::from_secs(60)).await?;
    println!("\nEvents on {} (published by Debezium from the outbox):", order_topic(&prefix));
    let mut slowest = Duration::ZERO;
    for record in &records {
        if let Some((_, at)) = placed.iter().find(|(o, _)| o.order_id == record.key) {
            slowest = slowest.max(at.elapsed());
        }
        println!(
            "  partition {} offset {} key={} eventType={} id={}\n    {}",
            record.partition,
            record.offset,
            record.key,
            record.event_type.as_deref().unwrap_or("-"),
            record.event_id.as_deref().unwrap_or("-"),
            record.payload
        );
    }
    // ANCHOR_END: read_events
    println!(
        "  every event read at most {} ms after its POST answered (measured when the last one \
         arrived)",
        slowest.as_millis()
    );

    // ANCHOR: crash_outbox
    println!(
        "\nA crash inside the transaction (after the order INSERT, before the outbox INSERT and \
         COMMIT):"
    );
    let (orders_before, outbox_before) =
        (repository.count_orders().await?, repository.outbox().await?.len());
    let new = NewOrder {
        user_id: "carol".into(),
        product_id: "CATALOG-001".into(),
        qty: 1,
        unit_price: 1500,
    };
    let error = repository.create(&new, Failpoint::AfterOrderInsert).await.unwrap_err();
    println!("  error: {error}");
    println!(
        "  orders {orders_before} → {}, outbox rows {outbox_before} → {}: neither was written",
        repository.count_orders().await?,
        repository.outbox().await?.len()
    );
    // ANCHOR_END: crash_outbox

    // ANCHOR: crash_dual_write
    println!(
        "\nThe dual write instead (commit to MariaDB, then send to {direct_topic} ourselves):"
    );
    kafka::create_topic(&env, &direct_topic, 3).await?;
    let producer: FutureProducer =
        kafka::producer_config(&env).create().context("creating a producer")?;
    let direct_reader = subscribe(&env, &direct_topic, &names::unique("ch11-direct"))?;
    let before = repository.count_orders().await?;
    let ok = repository.create_then_publish(&new, &producer, &direct_topic, false).await?;
    println!("  order {} committed and sent", ok.order_id);
    let error =
        repository.create_then_publish(&new, &producer, &direct_topic, true).await.unwrap_err();
    println!("  {error}");
    let sent = next_records(&direct_reader, 1, Duration::from_secs(30)).await?;
    let lost = next_records(&direct_reader, 1, Duration::from_secs(3)).await.is_err();
    println!(
        "  orders committed: {}, events on {direct_topic}: {}{}",
        repository.count_orders().await? - before,
        sent.len(),
        if lost { " (no second event within 3 s: it is lost for good)" } else { "" }
    );
    // ANCHOR_END: crash_dual_write

    if args.serve {
        println!("\nServing http://{address} until Ctrl-C. Try:");
        println!(
            "  curl -s -X POST http://{address}/orders -H 'Content-Type: application/json' -d '{}'",
            json!({"user_id": "alice", "product_id": "CATALOG-002", "qty": 2, "unit_price": 900})
        );
        println!("  curl -s http://{address}/users/alice/orders");
        println!(
            "  cargo xtask cli kafka-console-consumer --bootstrap-server {} --topic {} \
             --from-beginning --formatter-property print.key=true --formatter-property \
             print.headers=true",
            env.bootstrap_servers,
            order_topic(&prefix)
        );
        tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    }
    if args.keep {
        cleanup.keep();
        println!(
            "\nKept connector {connector}, tables {}/{}/{}, topics {prefix}*",
            tables.orders, tables.outbox, tables.migrations
        );
    } else {
        drop(cleanup);
        println!(
            "\nDeleted connector {connector}, dropped the instance's tables, deleted topics \
             {prefix}*"
        );
    }
    Ok(())
}
