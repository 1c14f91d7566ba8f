//! `security`: a broker of its own with SASL listeners and KRaft's StandardAuthorizer. Kafka's
//! tools, logged in with SCRAM, show authentication (a wrong password is refused) and
//! authorization (alice may do nothing until ACLs allow her to write to a topic and to read it in
//! one group, and still not in another). Then a Rust client logs in as the same alice: with SCRAM
//! only if librdkafka was built with OpenSSL, with PLAIN on the broker's second listener in any
//! build. ACLs name the user, not the listener, so the same ones apply to her there.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ch18_operations::secure::{self, ALICE, ClientErrors, SecureBroker, sasl_client_config};
use ch18_operations::tools;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::producer::{BaseProducer, FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientConfig, Message};

pub fn security() -> Result<()> {
    let listeners = "SCRAM and PLAIN listeners";
    println!("starting a broker of our own: {listeners}, StandardAuthorizer, super user admin");
    let broker = SecureBroker::start()?;
    let bootstrap = broker.bootstrap.clone();
    let kafka_tools = broker.kafka.clone();
    let login = |user: &str, password: &str| {
        broker.login_file(user, password).map(|p| p.display().to_string())
    };
    let (admin, alice, wrong) =
        (login("admin", secure::ADMIN.1)?, login(ALICE.0, ALICE.1)?, login("mallory", "guess")?);
    let as_user = |file: &str, tool: &str, args: &[&str]| {
        let mut full = vec!["--bootstrap-server", bootstrap.as_str(), "--command-config", file];
        full.extend_from_slice(args);
        kafka_tools.run(tool, &full)
    };
    let show = |output: std::process::Output| {
        print!("{}", String::from_utf8_lossy(&output.stdout));
        // The tools log errors with their stack traces; the exception's own line says it all.
        for line in String::from_utf8_lossy(&output.stderr).lines() {
            if line.starts_with("org.apache.kafka.common.errors.") {
                println!("{line}");
            }
        }
        println!();
    };

    println!("\n1. admin creates the user alice (SCRAM credentials) and the topic payments");
    show(as_user(
        &admin,
        "kafka-configs",
        &[
            "--alter",
            "--entity-type",
            "users",
            "--entity-name",
            "alice",
            "--add-config",
            "SCRAM-SHA-256=[iterations=8192,password=alice-secret]",
        ],
    )?);
    show(as_user(
        &admin,
        "kafka-topics",
        &["--create", "--topic", "payments", "--partitions", "1"],
    )?);

    println!("2. a wrong password");
    show(produce_as(&kafka_tools, &bootstrap, &wrong, "hello")?);
    println!("3. alice, before any ACL");
    show(produce_as(&kafka_tools, &bootstrap, &alice, "hello")?);

    println!("4. admin allows alice to write to payments, then to read it in group billing");
    let allow_alice = |operation: &str, resource: &[&str]| {
        let mut args = vec!["--add", "--allow-principal", "User:alice", "--operation", operation];
        args.extend_from_slice(resource);
        as_user(&admin, "kafka-acls", &args)
    };
    // Reading in a group needs Read on the topic and Read on the group (to commit offsets).
    let alice_reads_in = |group: &str| {
        let args = ["--topic", "payments", "--group", group, "--from-beginning"];
        let stop = ["--max-messages", "1", "--timeout-ms", "20000"];
        as_user(&alice, "kafka-console-consumer", &[&args[..], &stop].concat())
    };
    show(allow_alice("Write", &["--topic", "payments"])?);
    show(allow_alice("Read", &["--topic", "payments", "--group", "billing"])?);
    show(produce_as(&kafka_tools, &bootstrap, &alice, "paid 42")?);
    show(alice_reads_in("billing")?);
    println!("5. but not to read it in another group");
    show(alice_reads_in("audit")?);

    println!("6. the ACLs now in the cluster metadata");
    show(as_user(&admin, "kafka-acls", &["--list"])?);

    println!("7. a Rust client as alice");
    rust_client(&broker)?;
    println!("\nstopping the secure broker");
    Ok(())
}

/// `echo VALUE | kafka-console-producer --topic payments` as the user of `login_file`.
fn produce_as(
    kafka_tools: &tools::Kafka,
    bootstrap: &str,
    login_file: &str,
    value: &str,
) -> Result<std::process::Output> {
    use std::io::Write;
    let args =
        ["--bootstrap-server", bootstrap, "--command-config", login_file, "--topic", "payments"];
    println!("> echo '{value}' | kafka-console-producer.sh {}", args.join(" "));
    let mut child = kafka_tools
        .java("org.apache.kafka.tools.ConsoleProducer", "tools-log4j2.yaml")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    writeln!(child.stdin.take().context("stdin")?, "{value}")?;
    Ok(child.wait_with_output()?)
}

/// alice from Rust. SCRAM needs a librdkafka built with OpenSSL; PLAIN, on the broker's second
/// listener, is in every build. Either way the broker sees User:alice, and the same ACLs apply.
fn rust_client(broker: &SecureBroker) -> Result<()> {
    let features = secure::librdkafka_features()?;
    println!(
        "librdkafka {} built with: {}",
        rdkafka::util::get_rdkafka_version().1,
        features.join(",")
    );
    println!("with SCRAM-SHA-256 on {}:", broker.bootstrap);
    let scram = sasl_client_config(&broker.bootstrap, "SCRAM-SHA-256", ALICE.0, ALICE.1);
    match scram.create::<BaseProducer>() {
        Err(e) => say(&format!("creating the client fails: {e}")),
        Ok(_) => say("this librdkafka has SCRAM (the ssl feature); PLAIN works as well"),
    }

    let plain = &broker.plain_bootstrap;
    println!("with PLAIN on {plain}, a wrong password:");
    let refusal = login_refusal(&sasl_client_config(plain, "PLAIN", ALICE.0, "guess"))?;
    say(&format!("the client's error callback: {refusal}"));

    println!("with PLAIN, the right password:");
    let alice = sasl_client_config(plain, "PLAIN", ALICE.0, ALICE.1);
    let (partition, offset) = write_as(&alice, "payments", "paid 7")?;
    say(&format!("wrote payments-{partition}@{offset}"));
    let read = read_as(&alice, "payments", "billing", |m| m.payload() == Some(b"paid 7"))?;
    say(&format!("read {read} in group billing"));
    // No ACL names refunds (which does not exist either: a user without Describe cannot tell).
    match write_as(&alice, "refunds", "refund 7") {
        Ok((partition, offset)) => say(&format!("wrote refunds-{partition}@{offset}")),
        Err(e) => say(&format!("writing to refunds: {e}")),
    }
    match read_as(&alice, "payments", "audit", |_| true) {
        Ok(read) => say(&format!("read {read} in group audit")),
        Err(e) => say(&format!("reading in group audit: {e}")),
    }
    Ok(())
}

/// Prints `text` indented by two spaces, wrapped at 100 columns (the next lines by four).
fn say(text: &str) {
    let mut line = String::from(" ");
    for word in text.split(' ') {
        if line.chars().count() + 1 + word.chars().count() > 100 && !line.trim().is_empty() {
            println!("{line}");
            line = String::from("   ");
        }
        line.push(' ');
        line.push_str(word);
    }
    println!("{line}");
}

/// What librdkafka reports when the broker refuses a client's login. The client does not fail:
/// it logs in again after a pause, and a request only times out in the end; the refusal itself
/// reaches the client context's error callback.
fn login_refusal(config: &ClientConfig) -> Result<String> {
    let errors = ClientErrors::default();
    // A FutureProducer polls its client on a thread of its own: that thread runs the callbacks.
    let producer: FutureProducer<ClientErrors> = config.create_with_context(errors.clone())?;
    // Any request makes librdkafka connect, and so log in.
    let _ = producer.client().fetch_metadata(Some("payments"), Duration::from_secs(1));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(error) = errors.first() {
            return Ok(error);
        }
        if Instant::now() > deadline {
            bail!("no login error reported within 30 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Writes one record; returns its partition and offset, or the broker's refusal.
fn write_as(config: &ClientConfig, topic: &str, value: &str) -> Result<(i32, i64)> {
    let producer: FutureProducer = config.clone().set("message.timeout.ms", "15000").create()?;
    let record = FutureRecord::to(topic).key("rust").payload(value);
    let delivery = tokio::runtime::Handle::current()
        .block_on(producer.send(record, Duration::from_secs(15)))
        .map_err(|(e, _)| e)?;
    Ok((delivery.partition, delivery.offset))
}

/// Reads `topic` as a member of `group` until a record satisfies `wanted`; returns it as
/// `topic-partition@offset: value`, or the first error the consumer gets.
fn read_as(
    config: &ClientConfig,
    topic: &str,
    group: &str,
    wanted: impl Fn(&BorrowedMessage) -> bool,
) -> Result<String> {
    let consumer: BaseConsumer =
        config.clone().set("group.id", group).set("auto.offset.reset", "earliest").create()?;
    consumer.subscribe(&[topic])?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(message) = consumer.poll(Duration::from_millis(100)) {
            let message = message?;
            if wanted(&message) {
                let value = String::from_utf8_lossy(message.payload().unwrap_or_default());
                return Ok(format!(
                    "{}-{}@{}: {value}",
                    message.topic(),
                    message.partition(),
                    message.offset()
                ));
            }
        }
        if Instant::now() > deadline {
            bail!("nothing read from {topic} in group {group} within 30 s");
        }
    }
}
