//! Chapter 12: two order-service instances, one topic, two consumers (a JDBC sink writing one
//! shared table and a catalog service keeping stock), convergence measured, a consumer outage
//! survived, a replay made harmless.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ch11_order_service::http::serve;
use ch11_order_service::{
    Cleanup, NewOrder, Order, OrderRepository, Tables, migrate, order_topic,
    outbox_connector_config, outbox_topics, wait_outbox_capturing,
};
use ch12_data_sync::{
    Catalog, CatalogStats, CatalogTables, INITIAL_STOCK, PRODUCTS, count,
    create_shared_orders_table, group_position, shared_table_sink_config, stock,
};
use clap::Parser;
use workbook_support::connect::{ConnectClient, wait_sink_assigned};
use workbook_support::{Env, db, kafka, names, wait};

#[derive(Parser, Debug)]
#[command(about = "Two order-service instances publish to one topic; \
             a JDBC sink and a catalog consumer converge")]
struct Args {
    /// Orders to place (spread over the two instances) before the catalog outage.
    #[arg(short = 'n', long, default_value_t = 20)]
    orders: usize,
    /// Orders to place while the catalog consumer is stopped.
    #[arg(long, default_value_t = 6)]
    late_orders: usize,
    /// How long convergence may take before the demo gives up, in seconds.
    #[arg(long, default_value_t = 90)]
    deadline: u64,
    /// Keep the connectors, tables and topics at the end.
    #[arg(long)]
    keep: bool,
}

/// Everything the demo started, so each step reads as the book describes it.
struct Demo {
    env: Env,
    pool: sqlx::MySqlPool,
    http: reqwest::Client,
    instances: Vec<(String, String, OrderRepository)>, // (name, base URL, repository)
    shared: String,
    catalog: CatalogTables,
    topic: String,
    group: String,
    stats: Arc<CatalogStats>,
    deadline: Duration,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let env = Env::load()?;
    kafka::probe(&env).await?; // Kafka at …, or a clear error within seconds
    let pool = db::pool(&env).await?;
    let run = names::unique_table("ch12");
    let prefix = names::unique("ch12");
    let mut cleanup = Cleanup::new(&env);

    // ANCHOR: topology
    // Two instances of chapter 11's service: own tables, own HTTP port, same code.
    let mut instances = Vec::new();
    for name in ["a", "b"] {
        let tables = Tables::for_instance(&format!("{run}_{name}"))?;
        for table in tables.all() {
            cleanup.table(table);
        }
        migrate(&pool, &tables).await?;
        let repository = OrderRepository { pool: pool.clone(), tables };
        let (address, _server) = serve(repository.clone(), 0).await?;
        println!(
            "order-service {name}: http://{address}, tables {}, {}",
            repository.tables.orders, repository.tables.outbox
        );
        instances.push((name.to_string(), format!("http://{address}"), repository));
    }
    // One source connector captures both outboxes into ONE topic. The topic is made now,
    // with the partitions the connector would give it, so that both consumers are reading it
    // before the first order is placed.
    let client = ConnectClient::new(&env)?;
    let outboxes: Vec<&str> = instances.iter().map(|(_, _, r)| r.tables.outbox.as_str()).collect();
    let source = cleanup.connector(format!("{prefix}-outbox"));
    for topic in outbox_topics(&prefix) {
        cleanup.topic(topic);
    }
    let topic = order_topic(&prefix);
    kafka::create_topic(&env, &topic, 3).await?;
    client.put_connector(&source, &outbox_connector_config(&env, &prefix, &outboxes)?).await?;
    // Capturing, not just RUNNING. The outboxes share one binlog position,
    // so markers in one of them suffice.
    wait_outbox_capturing(&env, &source, &prefix, outboxes[0], Duration::from_secs(60)).await?;
    println!("source {source}: {} → {topic}", outboxes.join(" + "));
    // Consumer 1: the JDBC sink keeps one shared table.
    let shared = cleanup.table(format!("{run}_orders_all"));
    create_shared_orders_table(&pool, &shared).await?;
    let sink = cleanup.connector(format!("{prefix}-sink"));
    client.put_connector(&sink, &shared_table_sink_config(&env, &topic, &shared)?).await?;
    // RUNNING comes before the sink's consumer has joined its group: wait until it
    // holds the topic's partitions.
    wait_sink_assigned(&env, &sink, &topic, Duration::from_secs(60)).await?;
    println!("sink {sink}: {topic} → {shared} (upsert by order_id, consumer group connect-{sink})");
    // Consumer 2: the catalog service keeps stock per product, in its own group.
    let catalog = CatalogTables::with_prefix(&format!("{run}_catalog"));
    cleanup.table(&catalog.stock);
    cleanup.table(&catalog.processed);
    catalog.create(&pool).await?;
    let group = format!("{prefix}-catalog");
    let stats = Arc::new(CatalogStats::default());
    let consumer = Catalog::start(&env, &pool, &catalog, &topic, &group, stats.clone());
    println!("catalog: {topic} → {} (consumer group {group})", catalog.stock);
    // ANCHOR_END: topology

    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let demo = Demo {
        env: env.clone(),
        pool: pool.clone(),
        http,
        instances,
        shared,
        catalog,
        topic,
        group,
        stats,
        deadline: Duration::from_secs(args.deadline),
    };

    // ANCHOR: converge
    println!("\n1. {} orders, alternating between the instances", args.orders);
    let first_post = Instant::now();
    let mut placed = demo.place(args.orders, 0).await?;
    let last_answer = Instant::now();
    let converged = demo.converge(&placed).await?;
    println!(
        "   converged {} ms after the first POST, {} ms after the last POST answered",
        (converged - first_post).as_millis(),
        (converged - last_answer).as_millis()
    );
    demo.report().await?;
    // ANCHOR_END: converge

    // ANCHOR: outage
    println!("\n2. The catalog consumer stops; {} more orders arrive", args.late_orders);
    consumer.stop().await?;
    let applied_before = demo.stats.applied.load(Ordering::Relaxed);
    placed.extend(demo.place(args.late_orders, args.orders).await?);
    let sink_rows = wait::until(
        "the sink has every order",
        demo.deadline,
        Duration::from_millis(100),
        || async {
            let rows = count(&demo.pool, &demo.shared).await?;
            Ok((rows == placed.len() as i64).then_some(rows))
        },
    )
    .await?;
    let probe = demo.env.clone();
    let (group, topic) = (demo.group.clone(), demo.topic.clone());
    let (committed, end) =
        tokio::task::spawn_blocking(move || group_position(&probe, &group, &topic)).await??;
    println!(
        "   sink table: {sink_rows} rows; \
         catalog: down, committed offsets {committed} of {end} (lag {})",
        end - committed
    );
    println!("   restarting the catalog consumer in the same group");
    let restarted = Instant::now();
    let consumer = Catalog::start(
        &demo.env,
        &demo.pool,
        &demo.catalog,
        &demo.topic,
        &demo.group,
        demo.stats.clone(),
    );
    let caught_up = demo.converge(&placed).await?;
    println!(
        "   caught up {} ms after the restart: applied {} more events, nothing lost",
        (caught_up - restarted).as_millis(),
        demo.stats.applied.load(Ordering::Relaxed) - applied_before
    );
    demo.report().await?;
    // ANCHOR_END: outage

    // ANCHOR: replay
    println!(
        "\n3. Replay: a second catalog consumer in a NEW group \
         reads the whole topic into the same read model"
    );
    consumer.stop().await?;
    let before = stock(&demo.pool, &demo.catalog).await?;
    let replay_stats = Arc::new(CatalogStats::default());
    let replay_group = format!("{}-replay", demo.group);
    let replay = Catalog::start(
        &demo.env,
        &demo.pool,
        &demo.catalog,
        &demo.topic,
        &replay_group,
        replay_stats.clone(),
    );
    wait::until(
        "the replay has read every event",
        demo.deadline,
        Duration::from_millis(100),
        || async {
            Ok((replay_stats.skipped.load(Ordering::Relaxed)
                + replay_stats.applied.load(Ordering::Relaxed)
                >= placed.len() as u64)
                .then_some(()))
        },
    )
    .await?;
    replay.stop().await?;
    let after = stock(&demo.pool, &demo.catalog).await?;
    println!(
        "   {} events redelivered: applied {}, skipped as already applied {}; stock {}",
        placed.len(),
        replay_stats.applied.load(Ordering::Relaxed),
        replay_stats.skipped.load(Ordering::Relaxed),
        if before == after { "unchanged" } else { "CHANGED (double-counted!)" }
    );
    // ANCHOR_END: replay

    if args.keep {
        cleanup.keep();
        println!("\nKept connectors {source} and {sink}, tables {run}_*, topics {prefix}*");
    } else {
        drop(cleanup);
        println!(
            "\nDeleted connectors {source} and {sink}, \
             dropped tables {run}_*, deleted topics {prefix}*"
        );
    }
    Ok(())
}

impl Demo {
    /// Places `n` orders through the HTTP APIs, instance a, b, a, b, ...
    async fn place(&self, n: usize, offset: usize) -> Result<Vec<Order>> {
        let mut placed = Vec::new();
        for i in offset..offset + n {
            let (_, base, _) = &self.instances[i % self.instances.len()];
            let new = NewOrder {
                user_id: format!("user-{}", i % 5),
                product_id: PRODUCTS[i % PRODUCTS.len()].to_string(),
                qty: (i % 4 + 1) as i32,
                unit_price: 1200,
            };
            let response = self
                .http
                .post(format!("{base}/orders"))
                .json(&new)
                .send()
                .await
                .context("POST /orders")?;
            if !response.status().is_success() {
                bail!("POST {base}/orders answered {}", response.status());
            }
            placed.push(response.json().await.context("reading the created order")?);
        }
        Ok(placed)
    }

    /// Polls until the shared table holds every placed order and the stock
    /// reflects every one of them.
    async fn converge(&self, placed: &[Order]) -> Result<Instant> {
        let expected = expected_stock(placed);
        wait::until(
            "the sink table and the read model converge",
            self.deadline,
            Duration::from_millis(50),
            || async {
                let rows = count(&self.pool, &self.shared).await?;
                let stock = stock(&self.pool, &self.catalog).await?;
                Ok((rows == placed.len() as i64 && stock == expected).then_some(()))
            },
        )
        .await?;
        Ok(Instant::now())
    }

    async fn report(&self) -> Result<()> {
        let mut per_instance = Vec::new();
        for (name, _, repo) in &self.instances {
            per_instance.push(format!("{name}: {}", repo.count_orders().await?));
        }
        println!(
            "   orders per instance {{{}}}, shared table {}: {} rows",
            per_instance.join(", "),
            self.shared,
            count(&self.pool, &self.shared).await?
        );
        let stock: Vec<String> = stock(&self.pool, &self.catalog)
            .await?
            .iter()
            .map(|(p, s)| format!("{p}={s}"))
            .collect();
        println!("   catalog stock (started at {INITIAL_STOCK} each): {}", stock.join(" "));
        Ok(())
    }
}

fn expected_stock(placed: &[Order]) -> Vec<(String, i64)> {
    PRODUCTS
        .iter()
        .map(|p| {
            let sold: i64 =
                placed.iter().filter(|o| o.product_id == *p).map(|o| i64::from(o.qty)).sum();
            (p.to_string(), INITIAL_STOCK - sold)
        })
        .collect()
}
