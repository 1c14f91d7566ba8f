//! The `external` backend: nothing is started; your own cluster's addresses are recorded.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use workbook_support::env as contract;

use crate::environment::{Running, UpOptions};
use crate::layout::Layout;
use crate::state::{Backend, Component, State};

pub async fn up(options: &UpOptions, layout: &Layout) -> Result<Running> {
    let from = |flag: &Option<String>, key: &str| {
        flag.clone().or_else(|| std::env::var(key).ok()).with_context(|| {
            format!("the external backend needs {key} (or its --{} flag)", key.to_lowercase().replace('_', "-"))
        })
    };
    let bootstrap = from(&options.bootstrap_servers, contract::KAFKA_BOOTSTRAP_SERVERS)?;
    let database_url = from(&options.database_url, contract::DATABASE_URL)?;
    let connect_url = from(&options.connect_url, contract::CONNECT_URL)?;
    let mut env = BTreeMap::from([
        (contract::KAFKA_BOOTSTRAP_SERVERS.to_string(), bootstrap.clone()),
        (contract::DATABASE_URL.to_string(), database_url.clone()),
        (contract::CONNECT_URL.to_string(), connect_url.clone()),
    ]);
    // Your Connect worker may see your cluster at other addresses than you do: export these and
    // they are recorded too (else connector configs get the addresses above).
    for key in [
        contract::CONNECT_BOOTSTRAP_SERVERS,
        contract::CONNECT_DATABASE_URL,
        contract::WORKBOOK_FILES_DIR,
        contract::CONNECT_FILES_DIR,
        contract::CONNECT_PLUGIN_PATH,
    ] {
        if let Ok(value) = std::env::var(key) {
            env.insert(key.to_string(), value);
        }
    }
    let component = |name: &str, address: &str| Component {
        name: name.to_string(),
        address: address.to_string(),
        pid: None,
        container: None,
        log: None,
    };
    let components = vec![
        component("kafka", &bootstrap),
        component("connect", &connect_url),
        component("mariadb", &workbook_support::db::redact(&database_url)),
    ];
    let state = State::new(Backend::External, options.brokers, !options.no_connect, layout, components);
    println!("  external backend: recording your addresses; `cargo xtask status` checks them");
    Ok(Running { state, env })
}
