//! The partition's leader and in-sync replicas, polled every 100 ms: what a client could see, when.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use workbook_support::Env;
use workbook_support::kafka::{self, Partition};

/// One observation of the partition's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub at: Duration,
    pub partition: Partition,
}

/// Polls the metadata of partition 0 of a topic every 100 ms on a thread of its own, prints
/// every change (leader, ISR) as it happens, and remembers them.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    history: Arc<Mutex<Vec<Seen>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watcher {
    pub fn start(env: &Env, topic: &str, start: Instant) -> Result<Watcher> {
        let consumer: BaseConsumer =
            kafka::client_config(env).create().context("creating a metadata client")?;
        let (stop, history) =
            (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Vec::<Seen>::new())));
        let (stop2, history2, topic) = (stop.clone(), history.clone(), topic.to_string());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                if let Some(partition) = partition_of(&consumer, &topic) {
                    let mut history = history2.lock().unwrap();
                    if history.last().is_none_or(|seen| seen.partition != partition) {
                        let at = start.elapsed();
                        println!(
                            "  {:>6.2} s  metadata: {}",
                            at.as_secs_f64(),
                            describe(&partition)
                        );
                        history.push(Seen { at, partition });
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Ok(Watcher { stop, history, thread: Some(thread) })
    }

    /// The latest observation.
    pub fn latest(&self) -> Option<Seen> {
        self.history.lock().unwrap().last().cloned()
    }

    /// Every change seen so far.
    pub fn history(&self) -> Vec<Seen> {
        self.history.lock().unwrap().clone()
    }

    /// Waits until the partition's metadata satisfies `ready`, up to `timeout`.
    pub async fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        ready: impl Fn(&Partition) -> bool,
    ) -> Result<Seen> {
        workbook_support::wait::until(what, timeout, Duration::from_millis(20), || async {
            Ok(self.latest().filter(|seen| ready(&seen.partition)))
        })
        .await
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn partition_of(consumer: &BaseConsumer, topic: &str) -> Option<Partition> {
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(1)).ok()?;
    let p = metadata.topics().first()?.partitions().iter().find(|p| p.id() == 0)?;
    Some(Partition {
        id: 0,
        leader: p.leader(),
        replicas: p.replicas().to_vec(),
        isr: p.isr().to_vec(),
    })
}

/// `leader 2, replicas [2,3,1], ISR [2,3,1]`.
pub fn describe(p: &Partition) -> String {
    let ids = |list: &[i32]| list.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
    let leader = if p.leader < 0 { "none".to_string() } else { p.leader.to_string() };
    format!("leader {leader}, replicas [{}], ISR [{}]", ids(&p.replicas), ids(&p.isr))
}
