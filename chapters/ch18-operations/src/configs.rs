//! Topic configurations, read and changed while the topic is in use.

use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use rdkafka::admin::{AdminClient, AdminOptions, AlterConfig, ConfigSource, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use workbook_support::kafka::ADMIN_TIMEOUT;
use workbook_support::wait;

pub type Admin = AdminClient<DefaultClientContext>;

/// One configuration value of a topic, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: String,
    pub value: Option<String>,
    pub source: String,
}

// ANCHOR: describe
/// Every configuration value that applies to `topic`, with its source: `DynamicTopic` (set on
/// this topic), `DynamicDefaultBroker` (a cluster-wide default changed at runtime),
/// `StaticBroker` (the broker's server.properties) or `Default` (Kafka's built-in default).
pub async fn describe_topic(admin: &Admin, topic: &str) -> Result<Vec<Setting>> {
    let options = AdminOptions::new().request_timeout(Some(ADMIN_TIMEOUT));
    let results = admin.describe_configs(&[ResourceSpecifier::Topic(topic)], &options).await?;
    let resource = results
        .into_iter()
        .next()
        .context("no answer for the topic")?
        .map_err(|code| anyhow!("describing {topic}: {code}"))?;
    let mut settings: Vec<Setting> = resource
        .entries
        .into_iter()
        .map(|e| Setting {
            name: e.name,
            value: e.value,
            source: source_name(&e.source).to_string(),
        })
        .collect();
    settings.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(settings)
}
// ANCHOR_END: describe

// ANCHOR: describe_until
/// Describes `topic` until `done` holds for its settings, for up to 30 s. The controller
/// answers a change once it has committed it, but each broker applies the new metadata a moment
/// later, and DescribeConfigs is answered by a broker: right after a change it can still show
/// the old values.
pub async fn describe_until(
    admin: &Admin,
    topic: &str,
    what: &str,
    done: impl Fn(&[Setting]) -> bool,
) -> Result<Vec<Setting>> {
    wait::until(what, Duration::from_secs(30), Duration::from_millis(100), || async {
        let settings = describe_topic(admin, topic).await?;
        Ok(done(&settings).then_some(settings))
    })
    .await
}

/// The value of setting `name` in `settings`, if it is there.
pub fn value_of<'a>(settings: &'a [Setting], name: &str) -> Option<&'a str> {
    settings.iter().find(|s| s.name == name).and_then(|s| s.value.as_deref())
}
// ANCHOR_END: describe_until

fn source_name(source: &ConfigSource) -> &'static str {
    match source {
        ConfigSource::DynamicTopic => "DynamicTopic",
        ConfigSource::DynamicBroker => "DynamicBroker",
        ConfigSource::DynamicDefaultBroker => "DynamicDefaultBroker",
        ConfigSource::StaticBroker => "StaticBroker",
        ConfigSource::Default => "Default",
        ConfigSource::Unknown => "Unknown",
    }
}

// ANCHOR: alter
/// Sends `settings` to the broker with the AlterConfigs request, the only one rust-rdkafka 0.39
/// offers. It is not "set these": it is "the topic's settings are now exactly these". Every
/// topic setting not in the list goes back to its default.
pub async fn replace_topic_configs(
    admin: &Admin,
    topic: &str,
    settings: &[(&str, &str)],
) -> Result<()> {
    let mut change = AlterConfig::new(ResourceSpecifier::Topic(topic));
    for (name, value) in settings {
        change = change.set(name, value);
    }
    let options = AdminOptions::new().request_timeout(Some(ADMIN_TIMEOUT));
    for result in admin.alter_configs(&[change], &options).await.context("altering configs")? {
        result.map_err(|(_, code)| anyhow!("altering the configs of {topic}: {code}"))?;
    }
    Ok(())
}
// ANCHOR_END: alter
