//! Leave the shared environment as you found it: connectors, tables and topics made by an
//! example or a test are deleted at the end, even when the test panics halfway.

use std::time::Duration;

use crate::connect::ConnectClient;
use crate::{Env, db, kafka};

// ANCHOR: cleanup
/// Deletes the connectors, tables and topics it holds when dropped (or when [`Cleanup::run`]
/// is awaited). Connectors go first: a running connector would recreate its topics.
pub struct Cleanup {
    pub env: Env,
    pub connectors: Vec<String>,
    pub tables: Vec<String>,
    pub topics: Vec<String>,
}

impl Cleanup {
    pub fn new(env: &Env) -> Cleanup {
        Cleanup { env: env.clone(), connectors: Vec::new(), tables: Vec::new(), topics: Vec::new() }
    }

    /// The topics a Debezium source with this `topic.prefix` creates: one per captured table
    /// (`prefix.database.table`), the schema-change topic (`prefix`) and, as the workbook names
    /// it, the schema history (`schema-history.prefix`).
    pub fn source_topics(&mut self, prefix: &str, database: &str, tables: &[&str]) {
        self.topics.extend(tables.iter().map(|table| format!("{prefix}.{database}.{table}")));
        self.topics.push(prefix.to_string());
        self.topics.push(format!("schema-history.{prefix}"));
    }

    /// Keeps everything (an example's `--keep`): the guard forgets what it was to delete.
    pub fn keep(mut self) {
        self.connectors.clear();
        self.tables.clear();
        self.topics.clear();
    }

    /// Deletes everything now; each step gives up after 15 s, so cleaning never hangs a run.
    pub async fn run(mut self) {
        let limit = Duration::from_secs(15);
        let connectors = std::mem::take(&mut self.connectors);
        let tables = std::mem::take(&mut self.tables);
        let topics = std::mem::take(&mut self.topics);
        if let Ok(client) = ConnectClient::new(&self.env) {
            for name in &connectors {
                // A connector that was never created answers 404: nothing to clean.
                let _ = tokio::time::timeout(limit, client.delete(name)).await;
            }
            // DELETE returns before the worker has stopped the tasks; a source task still running
            // would create its topics again right after we delete them. Wait until it is gone.
            let gone =
                crate::wait::until("the deleted connectors to stop", limit, Duration::from_millis(200), || async {
                    for name in &connectors {
                        if client.status(name).await.is_ok() {
                            return Ok(None);
                        }
                    }
                    Ok(Some(()))
                });
            let _ = gone.await;
        }
        if !tables.is_empty()
            && let Ok(Ok(pool)) = tokio::time::timeout(limit, db::pool(&self.env)).await
        {
            for table in &tables {
                let drop = format!("DROP TABLE IF EXISTS {table}");
                let _ = tokio::time::timeout(limit, sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&pool)).await;
            }
        }
        if !topics.is_empty() {
            let names: Vec<&str> = topics.iter().map(String::as_str).collect();
            let _ = tokio::time::timeout(limit, kafka::delete_topics(&self.env, &names)).await;
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.connectors.is_empty() && self.tables.is_empty() && self.topics.is_empty() {
            return;
        }
        let leftovers = Cleanup {
            env: self.env.clone(),
            connectors: std::mem::take(&mut self.connectors),
            tables: std::mem::take(&mut self.tables),
            topics: std::mem::take(&mut self.topics),
        };
        // Drop cannot be async, and the caller's runtime is blocked right here (its pooled
        // connections with it): clean up on a thread with a runtime of its own.
        let cleaning = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                runtime.block_on(leftovers.run());
            }
        });
        let _ = cleaning.join();
    }
}
// ANCHOR_END: cleanup
