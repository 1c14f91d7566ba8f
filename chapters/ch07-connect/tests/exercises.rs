//! Checks for the chapter 07 exercises: each config is submitted to the real Connect worker, and what
//! comes out (records in a topic, lines in a file) is compared with what went in.

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(
    all(feature = "solutions", not(feature = "mistakes")),
    path = "../solutions/exercises.rs"
)]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use std::path::Path;
use std::time::{Duration, Instant};

use ch07_connect::{Cleanup, START_TIMEOUT, failure, read_lines, status, validate, wait_for_state};
use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::Value;
use workbook_support::connect::ConnectClient;
use workbook_support::{Env, kafka, names, wait};

/// How long a connector may take to move data once its task runs (normally a second or two).
const DATA_TIMEOUT: Duration = Duration::from_secs(45);

/// A fresh directory under the one the workbook shares with the Connect worker (`env.files_dir`),
/// deleted at the end of the test.
fn shared_dir(env: &Env) -> tempfile::TempDir {
    std::fs::create_dir_all(&env.files_dir).expect("creating the shared files directory");
    tempfile::Builder::new()
        .prefix("ch07-ex-")
        .tempdir_in(&env.files_dir)
        .expect("creating a test directory")
}

/// The worker opens `file` itself, on its own machine: the config must name the test's file as the worker
/// sees it. (With the local backend both names reach the same directory, so only the name can tell.)
fn assert_worker_path(env: &Env, config: &Value, file: &Path) {
    let configured = config.get("file").and_then(Value::as_str).unwrap_or("(none)");
    let theirs = env.connect_path(file).unwrap();
    assert!(
        configured == theirs,
        "`file` is {configured:?}: the worker opens that path itself, on its own machine, where the test's file is \
         {theirs:?} (the shared directory is {} there; {} is your programs' name for it)",
        env.connect_files_dir,
        env.files_dir.display()
    );
}

/// Asks the plugin to check `config` (with a `name`, as PUT would have it) and fails with its errors.
async fn assert_valid(client: &ConnectClient, config: &Value, name: &str) {
    let mut with_name = config.clone();
    with_name["name"] = Value::String(name.to_string());
    let invalid = validate(client, &with_name).await.expect("the validate endpoint answers");
    assert!(invalid.is_empty(), "the worker's validate endpoint rejects the config: {invalid:?}");
}

/// Creates the connector and waits for its task to run; a FAILED task ends the test with its trace.
async fn create_and_run(client: &ConnectClient, name: &str, config: &Value) {
    client.put_connector(name, config).await.expect("the worker accepts the config");
    println!("waiting for connector {name} and its task to be RUNNING");
    if let Err(e) = wait_for_state(client, name, "RUNNING", START_TIMEOUT).await {
        panic!("the connector did not run: {e:#}");
    }
}

/// The source connector writes the test's file into a topic; the records must be the lines as JSON strings.
#[tokio::test]
async fn file_source_connector() {
    let env = Env::load().unwrap();
    let client = ConnectClient::new(&env).unwrap();
    let dir = shared_dir(&env);
    let file = dir.path().join("lines.txt");
    let lines = ["first line", "{\"looks\": \"like json\"}", "안녕하세요 카프카", "42"];
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let topic = names::unique("ch07-ex-source");
    let name = names::unique("ch07-ex-source");
    let mut cleanup = Cleanup::new(&env);
    cleanup.connector(name.to_string());
    cleanup.topic(topic.to_string());

    let config =
        exercises::file_source_connector(&env, &file, &topic).expect("building the config");
    assert_worker_path(&env, &config, &file);
    assert_valid(&client, &config, &name).await;
    create_and_run(&client, &name, &config).await;

    println!("waiting for {} records in topic {topic}", lines.len());
    let values = match read_topic(&env, &topic, lines.len()).await {
        Ok(values) => values,
        Err(e) => panic!("{}", nothing_arrived(&client, &name, &file, &topic, &e).await),
    };
    for (line, value) in lines.iter().zip(&values) {
        assert_json_string(line, value);
    }
    assert_eq!(values.len(), lines.len(), "one record per line of the file, no more");
}

/// What a consumer that parses JSON sees in `value`: it must be exactly the JSON string `line`.
fn assert_json_string(line: &str, value: &[u8]) {
    let text = String::from_utf8_lossy(value);
    match serde_json::from_slice::<Value>(value) {
        Err(_) => panic!(
            "the record for the line {line:?} is {text:?}, which is not JSON: a JSON consumer cannot parse it. \
             Which converter writes the line as plain text?"
        ),
        Ok(Value::String(s)) => {
            assert_eq!(s, line, "the JSON string must be the line exactly as written")
        }
        Ok(Value::Object(o)) if o.contains_key("schema") && o.contains_key("payload") => panic!(
            "the record for the line {line:?} is {text:?}: the line wrapped in a schema envelope \
             ({{\"schema\":…,\"payload\":…}}). The consumer wants the string itself; who adds the envelope?"
        ),
        Ok(other) => panic!(
            "the record for the line {line:?} is {text:?}, which a JSON consumer reads as {other} (not a string): \
             plain text that happens to be valid JSON. Which converter turns a line into a JSON string?"
        ),
    }
}

/// Waits until `topic` exists, then reads `count` records of its partition 0 from the beginning (assigned,
/// not subscribed: the group only names the reader, it joins nothing and commits nothing).
async fn read_topic(env: &Env, topic: &str, count: usize) -> anyhow::Result<Vec<Vec<u8>>> {
    let consumer: BaseConsumer = kafka::group_config(env, &names::unique("ch07-ex-check"))
        .set("enable.auto.commit", "false")
        .create()?;
    let started = Instant::now();
    wait::until(
        &format!("topic {topic} exists"),
        DATA_TIMEOUT,
        Duration::from_millis(250),
        || async {
            let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(5))?;
            let exists = metadata.topics().iter().any(|t| t.name() == topic && t.error().is_none());
            Ok(exists.then_some(()))
        },
    )
    .await?;
    let mut partition = TopicPartitionList::new();
    partition.add_partition_offset(topic, 0, Offset::Beginning)?;
    consumer.assign(&partition)?;
    let mut values = Vec::new();
    let left = DATA_TIMEOUT.saturating_sub(started.elapsed()) + Duration::from_secs(5);
    let deadline = Instant::now() + left;
    while values.len() < count && Instant::now() < deadline {
        // A blocking poll of at most 200 ms: this test has no other work on its runtime.
        if let Some(message) = consumer.poll(Duration::from_millis(200)) {
            values.push(message?.payload().unwrap_or_default().to_vec());
        }
    }
    // Anything past the expected records (a line copied twice) shows up in the final count check.
    if let Some(Ok(message)) = consumer.poll(Duration::from_millis(500)) {
        values.push(message.payload().unwrap_or_default().to_vec());
    }
    anyhow::ensure!(
        values.len() >= count,
        "only {} of {count} records arrived in {} s",
        values.len(),
        left.as_secs()
    );
    Ok(values)
}

/// Why no record arrived, in the learner's terms: most often a topic nobody created.
async fn nothing_arrived(
    client: &ConnectClient,
    name: &str,
    file: &Path,
    topic: &str,
    error: &anyhow::Error,
) -> String {
    let failed = match status(client, name).await {
        Ok(s) => failure(&s).unwrap_or_default(),
        Err(_) => String::new(),
    };
    let env = Env::load().unwrap();
    if kafka::topic_partitions(&env, topic).await.is_err() {
        return format!(
            "nothing arrived: topic {topic} was never created ({error:#}). This broker does not create topics on \
             first use (auto.create.topics.enable=false), and the task's producer waits for it forever. {failed}"
        );
    }
    format!("the lines of {} did not all reach topic {topic}: {error:#} {failed}", file.display())
}

/// The sink connector copies the topics that start with a prefix, and only those, into a file.
#[tokio::test]
async fn file_sink_connector() {
    let env = Env::load().unwrap();
    let client = ConnectClient::new(&env).unwrap();
    let base = names::unique("ch07-ex-shop");
    let prefix = format!("{base}.inventory.");
    let copied = [format!("{prefix}customers"), format!("{prefix}orders")];
    // Names a too-wide pattern would catch: a `.` matching `-`, a prefix matched anywhere in the name.
    let ignored = [format!("{base}-inventory.audit"), format!("archive.{prefix}orders")];
    let name = names::unique("ch07-ex-sink");
    // Registered before anything can panic, so a failing attempt leaves no topic or connector behind.
    let mut cleanup = Cleanup::new(&env);
    cleanup.connector(name.to_string());
    for topic in copied.iter().chain(&ignored) {
        cleanup.topic(topic);
    }
    let admin = kafka::admin(&env).unwrap();
    let new: Vec<NewTopic> = copied
        .iter()
        .chain(&ignored)
        .map(|t| NewTopic::new(t, 1, TopicReplication::Fixed(1)))
        .collect();
    for result in admin.create_topics(&new, &AdminOptions::new()).await.unwrap() {
        result.expect("creating a test topic");
    }
    let dir = shared_dir(&env);
    let file = dir.path().join("out.txt");

    // Records written before the connector exists: a new sink starts at the beginning of its topics.
    let producer: FutureProducer = kafka::producer_config(&env).create().unwrap();
    let send = |topic: &str, text: String| {
        let producer = producer.clone();
        let topic = topic.to_string();
        async move {
            let record = FutureRecord::<(), str>::to(&topic).payload(&text);
            producer
                .send(record, Duration::from_secs(10))
                .await
                .map_err(|(e, _)| e)
                .expect("producing");
        }
    };
    for topic in copied.iter().chain(&ignored) {
        send(topic, format!("{topic} #1")).await;
    }

    let config = exercises::file_sink_connector(&env, &file, &prefix).expect("building the config");
    assert_worker_path(&env, &config, &file);
    assert_valid(&client, &config, &name).await;
    create_and_run(&client, &name, &config).await;

    // The first records prove the sink has joined its group and reads every matching topic; only then
    // does the test write more, which must follow without any further setup.
    let first: Vec<String> = copied.iter().map(|t| format!("{t} #1")).collect();
    wait_for_copies(&client, &name, &file, &first, &ignored).await;
    for topic in copied.iter().chain(&ignored) {
        send(topic, format!("{topic} #2")).await;
    }
    let all: Vec<String> =
        copied.iter().flat_map(|t| [format!("{t} #1"), format!("{t} #2")]).collect();
    let mut lines = wait_for_copies(&client, &name, &file, &all, &ignored).await;
    assert_no_stray(&lines, &ignored);
    let mut expected = all.clone();
    lines.sort();
    expected.sort();
    assert_eq!(
        lines, expected,
        "one plain line per record of each matching topic, each exactly once"
    );
}

/// Fails when the file holds a record of a topic the sink should have left alone.
fn assert_no_stray(lines: &[String], ignored: &[String]) {
    if let Some(stray) =
        lines.iter().find(|l| ignored.iter().any(|t| l.starts_with(&format!("{t} #"))))
    {
        panic!(
            "the file has the record {stray:?}, from a topic whose name does not start with the prefix: \
             the pattern matches too much. `topics.regex` is a Java regex matched against the whole name."
        );
    }
}

/// Polls the file until it holds every `wanted` line; fails at once on a line from an `ignored` topic or a
/// FAILED task, and after a deadline names the topic whose records never came.
async fn wait_for_copies(
    client: &ConnectClient,
    name: &str,
    file: &Path,
    wanted: &[String],
    ignored: &[String],
) -> Vec<String> {
    println!("waiting for {} lines in {}", wanted.len(), file.display());
    let deadline = Instant::now() + DATA_TIMEOUT;
    loop {
        let lines = read_lines(file);
        assert_no_stray(&lines, ignored);
        if wanted.iter().all(|w| lines.contains(w)) {
            return lines;
        }
        if let Ok(status) = status(client, name).await
            && let Some(failure) = failure(&status)
        {
            panic!(
                "the sink task FAILED on the test's records, which are plain text: {failure}\n\
                 (how does the worker turn their bytes into Connect data?)"
            );
        }
        if Instant::now() >= deadline {
            let missing = wanted.iter().find(|w| !lines.contains(w)).unwrap();
            panic!(
                "the sink does not read that topic: the record {missing:?} did not reach the file in {} s \
                 (the file has {lines:?}). A sink reads the topics listed in `topics` (exact names), or those \
                 whose whole name matches the Java regex in `topics.regex`.",
                DATA_TIMEOUT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
