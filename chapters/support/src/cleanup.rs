//! Leave the shared environment as you found it: connectors, tables and topics made by an
//! example or a test are deleted at the end, even when the test panics halfway.

use std::time::Duration;

use crate::connect::ConnectClient;
use crate::{Env, db, kafka};

// ANCHOR: cleanup
/// Deletes the connectors, tables and topics it was given when dropped (or when [`Cleanup::run`]
/// is awaited). Connectors go first: a running connector would recreate its topics.
///
/// Name a thing to the guard where you name it, before it exists, so that a failure halfway
/// still deletes it:
///
/// ```ignore
/// let mut cleanup = Cleanup::new(&env);
/// let topic = cleanup.topic(names::unique("orders"));
/// kafka::create_topic(&env, &topic, 3).await?;
/// ```
pub struct Cleanup {
    env: Env,
    connectors: Vec<String>,
    tables: Vec<String>,
    topics: Vec<String>,
}

impl Cleanup {
    pub fn new(env: &Env) -> Cleanup {
        Cleanup { env: env.clone(), connectors: Vec::new(), tables: Vec::new(), topics: Vec::new() }
    }

    /// Deletes topic `name` at the end; returns the name.
    pub fn topic(&mut self, name: impl Into<String>) -> String {
        remember(&mut self.topics, name)
    }

    /// Drops table `name` (in `DATABASE_URL`'s database) at the end; returns the name.
    pub fn table(&mut self, name: impl Into<String>) -> String {
        remember(&mut self.tables, name)
    }

    /// Deletes connector `name` at the end, before any topic; returns the name.
    pub fn connector(&mut self, name: impl Into<String>) -> String {
        remember(&mut self.connectors, name)
    }

    /// Deletes the topics a Debezium source with this `topic.prefix` creates: one per captured
    /// table (`prefix.database.table`), the schema-change topic (`prefix`) and, as the workbook
    /// names it, the schema history (`schema-history.prefix`).
    pub fn source_topics(&mut self, prefix: &str, database: &str, tables: &[&str]) {
        for table in tables {
            self.topic(format!("{prefix}.{database}.{table}"));
        }
        self.topic(prefix);
        self.topic(format!("schema-history.{prefix}"));
    }

    /// What it will delete, for a message: `topics [a, b], connectors [c], tables [d]`.
    pub fn describe(&self) -> String {
        format!(
            "topics {:?}, connectors {:?}, tables {:?}",
            self.topics, self.connectors, self.tables
        )
    }

    /// Keeps everything (an example's `--keep`): the guard forgets what it was to delete.
    pub fn keep(mut self) {
        self.take();
    }

    /// Deletes everything now; each step gives up after 15 s, so cleaning never hangs a run.
    pub async fn run(mut self) {
        let (connectors, tables, topics) = self.take();
        let limit = Duration::from_secs(15);
        if let Ok(client) = ConnectClient::new(&self.env) {
            for name in &connectors {
                // A connector that was never created answers 404: nothing to clean.
                let _ = tokio::time::timeout(limit, client.delete(name)).await;
            }
            // DELETE returns before the worker has stopped the tasks; a source task still running
            // would create its topics again right after we delete them. Wait until it is gone.
            let gone = crate::wait::until(
                "the deleted connectors to stop",
                limit,
                Duration::from_millis(200),
                || async {
                    for name in &connectors {
                        if client.status(name).await.is_ok() {
                            return Ok(None);
                        }
                    }
                    Ok(Some(()))
                },
            );
            let _ = gone.await;
        }
        if !tables.is_empty()
            && let Ok(Ok(pool)) = tokio::time::timeout(limit, db::pool(&self.env)).await
        {
            for table in &tables {
                let _ = tokio::time::timeout(
                    limit,
                    db::execute(&pool, &format!("DROP TABLE IF EXISTS {table}")),
                )
                .await;
            }
        }
        if !topics.is_empty() {
            let names: Vec<&str> = topics.iter().map(String::as_str).collect();
            let _ = tokio::time::timeout(limit, kafka::delete_topics(&self.env, &names)).await;
        }
    }

    /// Empties the guard, handing over what it held: (connectors, tables, topics).
    fn take(&mut self) -> (Vec<String>, Vec<String>, Vec<String>) {
        (
            std::mem::take(&mut self.connectors),
            std::mem::take(&mut self.tables),
            std::mem::take(&mut self.topics),
        )
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let (connectors, tables, topics) = self.take();
        if connectors.is_empty() && tables.is_empty() && topics.is_empty() {
            return;
        }
        let leftovers = Cleanup { env: self.env.clone(), connectors, tables, topics };
        // Drop cannot be async, and the caller's runtime is blocked right here (its pooled
        // connections with it): clean up on a thread with a runtime of its own.
        let cleaning = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build()
            {
                runtime.block_on(leftovers.run());
            }
        });
        let _ = cleaning.join();
    }
}
// ANCHOR_END: cleanup

impl Cleanup {
    /// A guard holding what a stopped test process left behind: every topic, connector and table
    /// whose name carries its process id, as [`crate::names::unique`] makes them. A test that a
    /// deadline killed never ran its own guard; the checker runs this one for it.
    pub async fn left_by_process(env: &Env, pid: u32) -> Cleanup {
        let marks = [format!("-{pid}-"), format!("_{pid}_")];
        let ours = |name: &str| marks.iter().any(|mark| name.contains(mark.as_str()));
        let mut cleanup = Cleanup::new(env);
        if let Ok(cluster) =
            kafka::fetch_metadata(&env.bootstrap_servers, None, kafka::METADATA_TIMEOUT).await
        {
            cluster.topics.iter().filter(|t| ours(&t.name)).for_each(|t| {
                cleanup.topic(t.name.clone());
            });
        }
        if let Ok(client) = ConnectClient::new(env)
            && let Ok(connectors) = client.connectors().await
        {
            connectors.into_iter().filter(|name| ours(name)).for_each(|name| {
                cleanup.connector(name);
            });
        }
        if let Ok(pool) = db::pool(env).await {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()",
            )
            .fetch_all(&pool)
            .await
            .unwrap_or_default();
            tables.into_iter().filter(|name| ours(name)).for_each(|name| {
                cleanup.table(name);
            });
        }
        cleanup
    }

    /// How many things the guard holds.
    pub fn len(&self) -> usize {
        self.topics.len() + self.connectors.len() + self.tables.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Adds `name` to `list` (once) and returns it.
fn remember(list: &mut Vec<String>, name: impl Into<String>) -> String {
    let name = name.into();
    if !list.contains(&name) {
        list.push(name.clone());
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env::from_sources(|_| Some("127.0.0.1:1".to_string())).unwrap()
    }

    #[test]
    fn each_method_hands_the_name_back_and_remembers_it_once() {
        let mut cleanup = Cleanup::new(&env());
        assert_eq!(cleanup.topic("t"), "t");
        assert_eq!(cleanup.topic(String::from("t")), "t");
        assert_eq!(cleanup.table("users"), "users");
        assert_eq!(cleanup.connector("c"), "c");
        cleanup.source_topics("p", "mydb", &["users"]);
        let described = cleanup.describe();
        let topics = r#"topics ["t", "p.mydb.users", "p", "schema-history.p"]"#;
        assert_eq!(described, format!(r#"{topics}, connectors ["c"], tables ["users"]"#));
        cleanup.keep(); // nothing to delete against a fake environment
    }
}
