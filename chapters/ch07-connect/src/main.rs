//! Chapter 07: a file → topic → file pipeline with no code, driven through the Connect REST API;
//! and the files for a standalone worker.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use ch07_connect::{
    Cleanup, Connector, START_TIMEOUT, validate, wait_deleted, wait_for_lines, wait_for_state,
};
use clap::{Parser, Subcommand};
use workbook_support::connect::ConnectClient;
use workbook_support::{Env, names};

#[derive(Parser, Debug)]
#[command(
    about = "Kafka Connect: a FileStream pipeline through the distributed worker's REST API, \
                   or the files for a standalone worker"
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// (default) file → topic → file on the distributed worker of `cargo xtask up`, via REST.
    Pipeline(PipelineArgs),
    /// Write worker.properties + two connector .properties files for
    /// `cargo xtask cli connect-standalone`.
    Standalone(StandaloneArgs),
}

#[derive(clap::Args, Debug, Default)]
struct PipelineArgs {
    /// Topic between the two connectors (default: a new `ch07-lines-…` topic per run,
    /// so reruns start clean).
    #[arg(short, long)]
    topic: Option<String>,
    /// Folder for input.txt and output.txt; it must be readable by the Connect
    /// worker (default: a temp dir).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Keep the connectors (and files) at the end, to poke at them with curl.
    #[arg(long)]
    keep: bool,
}

#[derive(clap::Args, Debug)]
struct StandaloneArgs {
    /// Where to write the files.
    /// (default: `ch07-standalone` in the directory you share with Connect).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The topic the standalone source writes (and its sink reads).
    #[arg(short, long, default_value = "ch07-standalone-lines")]
    topic: String,
    /// Connect's plugin.path (default: the one of the worker `cargo xtask up` started).
    #[arg(long)]
    plugin_path: Option<String>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let env = Env::load()?;
    match args.command.unwrap_or(Command::Pipeline(PipelineArgs::default())) {
        Command::Pipeline(args) => pipeline(&env, args).await,
        Command::Standalone(args) => standalone(&env, args),
    }
}

async fn pipeline(env: &Env, args: PipelineArgs) -> Result<()> {
    let client = ConnectClient::new(env)?;
    let info = client.call(reqwest::Method::GET, "/", None).await?;
    println!("Connect worker {} (Kafka {})", client.url(), info["version"].as_str().unwrap_or("?"));
    println!("\nGET /connector-plugins");
    for plugin in client.plugins().await? {
        println!("  {:<6} {:<58} {}", plugin.kind, plugin.class, plugin.version);
    }

    let topic = args.topic.unwrap_or_else(|| names::unique("ch07-lines"));
    // The only directory the Connect worker shares with us (in Docker it sees it elsewhere).
    let dir = args.dir.unwrap_or_else(|| env.files_dir.join(&topic));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let (input, output) = (dir.join("input.txt"), dir.join("output.txt"));
    std::fs::write(&input, "hello\nkafka\nconnect\n")
        .with_context(|| format!("writing {}", input.display()))?;

    // ANCHOR: create_from_files
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut source = Connector::from_file(&crate_dir.join("connectors/file-source.json"))?;
    let mut sink = Connector::from_file(&crate_dir.join("connectors/file-sink.json"))?;
    // The files are templates: give this run its own names, paths and topic.
    let suffix = topic.trim_start_matches("ch07-lines");
    source.name = format!("{}{suffix}", source.name);
    sink.name = format!("{}{suffix}", sink.name);
    // The worker opens these files itself, so the configs name them as the worker sees them.
    source.set("file", env.connect_path(&input)?).set("topic", &topic);
    sink.set("file", env.connect_path(&output)?).set("topics", &topic);

    let mut cleanup = Cleanup::new(env);
    cleanup.topic(&topic);
    for connector in [&source, &sink] {
        println!(
            "\nPUT /connectors/{}/config\n{}",
            connector.name,
            serde_json::to_string_pretty(&connector.config)?
        );
        cleanup.connector(&connector.name);
        connector.create(&client).await?;
    }
    // ANCHOR_END: create_from_files

    let started = Instant::now();
    for connector in [&source, &sink] {
        let status = wait_for_state(&client, &connector.name, "RUNNING", START_TIMEOUT).await?;
        print_status(&status);
    }
    let lines = wait_for_lines(&output, 3, Duration::from_secs(60)).await?;
    println!("\n{} → topic {topic} → {}", input.display(), output.display());
    println!(
        "  {} lines arrived {} ms after the connectors were created: {lines:?}",
        lines.len(),
        ms(started)
    );

    // ANCHOR: pause_resume
    client.pause(&sink.name).await?;
    let paused = wait_for_state(&client, &sink.name, "PAUSED", START_TIMEOUT).await?;
    print_status(&paused);
    append(&input, "written while the sink was paused")?;
    // The source keeps copying the new line into the topic; the paused sink
    // does not write it out yet.
    let source_offsets = topic_end_offset(env, &topic, 4).await?;
    println!(
        "  the topic now ends at offset {source_offsets}; output.txt still has {} lines",
        read_count(&output)
    );
    let resumed = Instant::now();
    client.resume(&sink.name).await?;
    wait_for_state(&client, &sink.name, "RUNNING", START_TIMEOUT).await?;
    wait_for_lines(&output, 4, Duration::from_secs(60)).await?;
    println!("  resumed: the 4th line reached output.txt {} ms later", ms(resumed));
    // ANCHOR_END: pause_resume

    client.restart(&source.name).await?;
    let restarted = wait_for_state(&client, &source.name, "RUNNING", START_TIMEOUT).await?;
    println!("\nPOST /connectors/{}/restart?includeTasks=true", source.name);
    print_status(&restarted);

    // ANCHOR: bad_config
    // A source without its topic: first ask the plugin (validate), then see what PUT answers.
    let mut bad = source.config.clone();
    bad.remove("topic");
    let bad_name = cleanup.connector(format!("ch07-bad{suffix}"));
    bad.insert("name".to_string(), bad_name.clone().into());
    let bad = serde_json::Value::Object(bad);
    println!("\nPUT /connector-plugins/FileStreamSourceConnector/config/validate (no `topic`)");
    for invalid in validate(&client, &bad).await? {
        println!("  {}: {}", invalid.setting, invalid.errors.join("; "));
    }
    match client.put_connector(&bad_name, &bad).await {
        Ok(_) => println!("  unexpectedly accepted"),
        Err(e) => println!("PUT /connectors/{bad_name}/config\n  {e:#}"),
    }
    // ANCHOR_END: bad_config

    if args.keep {
        cleanup.keep();
        println!(
            "\nKept: connectors {} and {}, files in {}",
            source.name,
            sink.name,
            dir.display()
        );
        return Ok(());
    }
    for connector in [&source, &sink] {
        client.delete(&connector.name).await?;
        wait_deleted(&client, &connector.name, Duration::from_secs(30)).await?;
        println!("\nDELETE /connectors/{}", connector.name);
    }
    println!(
        "GET /connectors → {} connectors left of ours",
        count_ours(&client.connectors().await?, suffix)
    );
    std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    Ok(())
}

fn print_status(status: &ch07_connect::Status) {
    println!("\nGET /connectors/{}/status", status.name);
    println!("  connector {:<8} on {}", status.connector.state, status.connector.worker_id);
    for task in &status.tasks {
        println!("  task {}    {:<8} on {}", task.id, task.state, task.worker_id);
    }
}

fn ms(since: Instant) -> u128 {
    since.elapsed().as_millis()
}

fn append(file: &Path, line: &str) -> Result<()> {
    let mut f = std::fs::OpenOptions::new().append(true).open(file)?;
    writeln!(f, "{line}").with_context(|| format!("appending to {}", file.display()))
}

fn read_count(file: &Path) -> usize {
    ch07_connect::read_lines(file).len()
}

fn count_ours(connectors: &[String], suffix: &str) -> usize {
    connectors.iter().filter(|c| c.ends_with(suffix)).count()
}

/// Waits until the topic's single partition ends at `offset` or later (the
/// source copied the new line).
async fn topic_end_offset(env: &Env, topic: &str, offset: i64) -> Result<i64> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = workbook_support::kafka::client_config(env).create()?;
    let every = Duration::from_millis(100);
    workbook_support::wait::until(
        "the source copied the new line",
        Duration::from_secs(30),
        every,
        || {
            let end =
                consumer.fetch_watermarks(topic, 0, Duration::from_secs(5)).map(|(_, high)| high);
            async move { Ok(end.ok().filter(|high| *high >= offset)) }
        },
    )
    .await
}

/// Writes the standalone worker's files: a worker config and two connector configs, as Kafka's
/// `config/connect-standalone.properties`, `connect-file-source.properties` and
/// `connect-file-sink.properties`.
fn standalone(env: &Env, args: StandaloneArgs) -> Result<()> {
    let plugin_path = match args.plugin_path.or_else(|| env.connect_plugin_path.clone()) {
        Some(path) => path,
        None => ch07_connect::local_plugin_path()?,
    };
    let local_dir = args.dir.unwrap_or_else(|| env.files_dir.join("ch07-standalone"));
    std::fs::create_dir_all(&local_dir)
        .with_context(|| format!("creating {}", local_dir.display()))?;
    // A standalone worker has a REST API too; it must not take the distributed worker's port.
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    // `cargo xtask cli connect-standalone` runs the worker where Connect runs (in Docker: in its
    // container), so every path and address in these files is the worker's view.
    let dir = env.connect_path(&local_dir).unwrap_or_else(|_| local_dir.display().to_string());
    let files = [
        (
            "worker.properties",
            format!(
                "bootstrap.servers={}\nlisteners=http://127.0.0.1:{port}\n\
                 key.converter=org.apache.kafka.connect.storage.StringConverter\n\
                 value.converter=org.apache.kafka.connect.storage.StringConverter\n\
                 # standalone keeps source offsets in a local file, not in a Kafka topic\n\
                 offset.storage.file.filename={dir}/offsets\noffset.flush.interval.ms=1000\n\
                 plugin.path={plugin_path}\nplugin.discovery=service_load\n",
                env.connect_bootstrap_servers
            ),
        ),
        (
            "file-source.properties",
            format!(
                "name=standalone-file-source\nconnector.class={}\ntasks.max=1\n\
                 file={dir}/input.txt\ntopic={}\n\
                 topic.creation.default.replication.factor=1\n\
                 topic.creation.default.partitions=1\n",
                ch07_connect::FILE_SOURCE,
                args.topic
            ),
        ),
        (
            "file-sink.properties",
            format!(
                "name=standalone-file-sink\nconnector.class={}\ntasks.max=1\n\
                 topics={}\nfile={dir}/output.txt\n",
                ch07_connect::FILE_SINK,
                args.topic
            ),
        ),
        ("input.txt", "one\ntwo\nthree\n".to_string()),
    ];
    for (name, text) in files {
        std::fs::write(local_dir.join(name), text).with_context(|| format!("writing {name}"))?;
        println!("wrote {}", local_dir.join(name).display());
    }
    println!("\nREST API of the standalone worker: http://127.0.0.1:{port}");
    println!("Run it (Ctrl-C stops it):");
    println!(
        "  cargo xtask cli connect-standalone {dir}/worker.properties \
         {dir}/file-source.properties {dir}/file-sink.properties"
    );
    Ok(())
}
