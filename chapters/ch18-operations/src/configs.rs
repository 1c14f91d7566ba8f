//! Topic configurations, read and changed while the topic is in use.

use anyhow::{Context, Result, anyhow};
use rdkafka::admin::{AdminClient, AdminOptions, AlterConfig, ConfigSource, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use workbook_support::kafka::ADMIN_TIMEOUT;

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
