//! Watching a group rebalance: every member reports what the coordinator took from it and
//! gave to it, on one shared timeline.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::TopicPartitionList;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};

/// What a rebalance callback told one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// These partitions are now yours: start fetching them.
    Assigned,
    /// Give these up: finish (and commit) what you did with them, then stop fetching them.
    Revoked,
    /// Revoked after the fact: the coordinator already gave them to someone else (this member
    /// was too slow or out of touch). Committing for them now would be rejected.
    Lost,
    /// Not a callback: what librdkafka's debug log says about who computed the assignment.
    Note,
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub member: String,
    /// Since the timeline started.
    pub at: Duration,
    pub change: Change,
    pub partitions: Vec<i32>,
    /// The librdkafka log line, for a `Note`.
    pub text: String,
}

#[derive(Default)]
struct State {
    events: Vec<Event>,
    owned: BTreeMap<String, BTreeSet<i32>>,
}

/// The events of every member of a group, in the order they happened. Clones share it.
#[derive(Clone)]
pub struct Timeline {
    start: Instant,
    print: bool,
    state: Arc<Mutex<State>>,
}

impl Timeline {
    /// A timeline; with `print`, every event is also printed as it happens.
    pub fn new(print: bool) -> Timeline {
        Timeline { start: Instant::now(), print, state: Arc::default() }
    }

    /// Time since the timeline started.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Prints a line of the story at the current time (the demo's own steps).
    pub fn say(&self, text: &str) {
        if self.print {
            println!("{:>6.2}s  {text}", self.elapsed().as_secs_f64());
        }
    }

    fn record(&self, member: &str, change: Change, partitions: Vec<i32>, text: String) {
        let mut state = self.state.lock().unwrap();
        let owned = state.owned.entry(member.to_string()).or_default();
        match change {
            Change::Assigned => owned.extend(&partitions),
            Change::Revoked | Change::Lost => owned.retain(|p| !partitions.contains(p)),
            Change::Note => {}
        }
        let now_owns = list(owned.iter().copied());
        let event =
            Event { member: member.to_string(), at: self.elapsed(), change, partitions, text };
        if self.print {
            let at = event.at.as_secs_f64();
            match change {
                Change::Note => println!("{at:>6.2}s  {member:<3} {}", event.text),
                _ => println!(
                    "{at:>6.2}s  {member:<3} {:<9} {:<14} -> owns {now_owns}",
                    format!("{change:?}").to_lowercase(),
                    list(event.partitions.iter().copied()),
                ),
            }
        }
        state.events.push(event);
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<Event> {
        self.state.lock().unwrap().events.clone()
    }

    /// The partitions `member` owns now, as its callbacks told it.
    pub fn owned(&self, member: &str) -> BTreeSet<i32> {
        self.state.lock().unwrap().owned.get(member).cloned().unwrap_or_default()
    }

    /// For each partition `0..partitions`, how long it had no owner after `since` (a
    /// partition nobody owned yet does not count).
    pub fn unowned(&self, partitions: i32, since: Duration) -> Vec<Duration> {
        let state = self.state.lock().unwrap();
        let n = partitions as usize;
        let (mut owners, mut free_since, mut total) =
            (vec![0usize; n], vec![None; n], vec![Duration::ZERO; n]);
        let overlap = |from: Duration, to: Duration| to.saturating_sub(from.max(since));
        for event in &state.events {
            for &p in event.partitions.iter().filter(|p| (**p as usize) < n) {
                let p = p as usize;
                match event.change {
                    Change::Assigned => {
                        owners[p] += 1;
                        if let Some(from) = free_since[p].take() {
                            total[p] += overlap(from, event.at);
                        }
                    }
                    Change::Revoked | Change::Lost => {
                        owners[p] = owners[p].saturating_sub(1);
                        if owners[p] == 0 {
                            free_since[p] = Some(event.at);
                        }
                    }
                    Change::Note => {}
                }
            }
        }
        let now = self.elapsed();
        for (p, from) in free_since.iter().enumerate() {
            if let Some(from) = from {
                total[p] += overlap(*from, now);
            }
        }
        total
    }

    /// Which member owned each partition at `at`, as the callbacks told them.
    pub fn owners(&self, at: Duration) -> BTreeMap<i32, String> {
        let mut owners = BTreeMap::new();
        for event in self.state.lock().unwrap().events.iter().filter(|e| e.at <= at) {
            for p in &event.partitions {
                match event.change {
                    Change::Assigned => {
                        owners.insert(*p, event.member.clone());
                    }
                    Change::Revoked | Change::Lost => {
                        owners.remove(p);
                    }
                    Change::Note => {}
                }
            }
        }
        owners
    }

    /// How many partitions members gave up (revoked or lost) after `since`.
    pub fn revoked_since(&self, since: Duration) -> usize {
        let state = self.state.lock().unwrap();
        let revoked = state
            .events
            .iter()
            .filter(|e| e.at > since && matches!(e.change, Change::Revoked | Change::Lost));
        revoked.map(|e| e.partitions.len()).sum()
    }

    /// True when `members` own all `partitions` partitions between them, each exactly once,
    /// and every one of them owns at least one: the group has settled.
    pub fn settled(&self, members: &[&str], partitions: i32) -> bool {
        let state = self.state.lock().unwrap();
        let mut seen = BTreeSet::new();
        for member in members {
            let owned = match state.owned.get(*member) {
                Some(owned) if !owned.is_empty() => owned,
                _ => return false,
            };
            for p in owned {
                if !seen.insert(*p) {
                    return false;
                }
            }
        }
        seen.len() == partitions as usize
    }
}

/// `0 1 2`, or `-` for none.
pub fn list(partitions: impl IntoIterator<Item = i32>) -> String {
    let text: Vec<String> = partitions.into_iter().map(|p| p.to_string()).collect();
    if text.is_empty() { "-".to_string() } else { text.join(" ") }
}

/// The two debug lines that show where an assignment was computed: in a client (classic
/// protocol: the group leader runs the assignor) or in the broker (KIP-848: the member
/// receives its target assignment in a heartbeat answer).
fn who_assigned(fac: &str, message: &str) -> Option<(Vec<i32>, String)> {
    if fac == "ASSIGNOR" && message.contains("assignor run") {
        // Group "g": "range" assignor run for 2 member(s)
        let (_, run) = message.rsplit_once("\": ")?;
        return Some((vec![], format!("this member is the leader: {run}")));
    }
    let (_, target) = message.split_once("received target assignment")?;
    // "(null)(<topic id>)[0], (null)(<topic id>)[1]": partitions by topic id, not name.
    let partitions: Vec<i32> =
        target.split('[').skip(1).filter_map(|part| part.split_once(']')?.0.parse().ok()).collect();
    let text = format!(
        "heartbeat answer from the coordinator: target assignment {}",
        list(partitions.clone())
    );
    Some((partitions, text))
}

fn partitions_of(list: &TopicPartitionList) -> Vec<i32> {
    let mut partitions: Vec<i32> = list.elements().iter().map(|e| e.partition()).collect();
    partitions.sort();
    partitions
}

// ANCHOR: context
/// A member's consumer context: it writes each rebalance callback on the group's timeline.
pub struct Watch {
    pub member: String,
    pub timeline: Timeline,
}

impl ClientContext for Watch {
    // With `debug=cgrp`, librdkafka says who computed the assignment: keep those lines.
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        if let Some(note) = who_assigned(fac, message) {
            let (partitions, text) = note;
            self.timeline.record(&self.member, Change::Note, partitions, text);
        } else if (level as i32) <= RDKafkaLogLevel::Warning as i32 {
            eprintln!("[{}] librdkafka {fac}: {message}", self.member);
        }
    }
}

impl ConsumerContext for Watch {
    // Before librdkafka stops fetching the revoked partitions: the last moment to commit
    // what was processed from them.
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            // Lost: the coordinator already moved them (session timeout, fenced member).
            let change = if consumer.assignment_lost() { Change::Lost } else { Change::Revoked };
            self.timeline.record(&self.member, change, partitions_of(list), String::new());
        }
    }

    // After librdkafka started fetching the assigned partitions.
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => {
                let partitions = partitions_of(list);
                self.timeline.record(&self.member, Change::Assigned, partitions, String::new())
            }
            Rebalance::Error(e) => eprintln!("[{}] rebalance failed: {e}", self.member),
            Rebalance::Revoke(_) => {}
        }
    }
}
// ANCHOR_END: context
