//! `configs`: a topic's settings and where each value comes from (set on the topic, on a broker,
//! or Kafka's default), changed live with no restart. It also shows the trap of the older
//! AlterConfigs request, the only one rust-rdkafka wraps: the list it sends replaces the topic's
//! whole set, so every setting left out of the request falls back to its default.

use anyhow::Result;
use ch18_operations::configs::{describe_until, replace_topic_configs, value_of};
use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
use workbook_support::cleanup::Cleanup;
use workbook_support::kafka::{self, ADMIN_TIMEOUT};
use workbook_support::{Env, names};

pub async fn configs() -> Result<()> {
    let env = Env::load()?;
    let admin = kafka::admin(&env)?;
    let mut cleanup = Cleanup::new(&env);
    let topic = cleanup.topic(names::unique("ch18-configs"));
    let new_topic = NewTopic::new(&topic, 1, TopicReplication::Fixed(-1))
        .set("cleanup.policy", "compact,delete")
        .set("max.message.bytes", "2097152");
    let options = AdminOptions::new().request_timeout(Some(ADMIN_TIMEOUT));
    admin
        .create_topics(&[new_topic], &options)
        .await?
        .remove(0)
        .map_err(|(_, code)| anyhow::anyhow!("{code}"))?;
    println!("created {topic} with cleanup.policy=compact,delete and max.message.bytes=2097152\n");

    let watched = [
        "cleanup.policy",
        "max.message.bytes",
        "retention.ms",
        "min.insync.replicas",
        "segment.bytes",
    ];
    let created = describe_until(&admin, &topic, "the new topic's settings", |s| {
        value_of(s, "cleanup.policy") == Some("compact,delete")
    })
    .await?;
    println!("its settings (a few of {}):", created.len());
    print_settings(&created, &watched);

    println!("\nalter_configs with retention.ms=259200000 (3 days) only:");
    replace_topic_configs(&admin, &topic, &[("retention.ms", "259200000")]).await?;
    let after = describe_until(&admin, &topic, "the new retention", |s| {
        value_of(s, "retention.ms") == Some("259200000")
    })
    .await?;
    print_settings(&after, &watched);
    for name in ["cleanup.policy", "max.message.bytes"] {
        if after.iter().any(|s| s.name == name && s.source == "Default") {
            println!("LOST: {name} is back to Kafka's default; it was not in the request");
        }
    }
    cleanup.run().await;
    Ok(())
}

fn print_settings(settings: &[ch18_operations::configs::Setting], names: &[&str]) {
    for s in settings.iter().filter(|s| names.contains(&s.name.as_str())) {
        println!("  {:<20} {:<16} ({})", s.name, s.value.as_deref().unwrap_or("-"), s.source);
    }
}
