//! Ports: the usual ones (Kafka's 9092, Connect's 8083) when they are free, another free port
//! when not, and a clear error when a port you asked for is taken.

use std::net::{Ipv4Addr, TcpListener};

use anyhow::{Context, Result, bail};

/// Everything the workbook starts listens on loopback only.
pub const HOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// Default ports (Kafka's and Connect's usual ones; MariaDB one above its usual 3306 so a
/// MariaDB or MySQL you already run keeps its port).
pub const KAFKA_PORT: u16 = 9092;
pub const CONTROLLER_PORT: u16 = 9093;
pub const CONNECT_PORT: u16 = 8083;
pub const MARIADB_PORT: u16 = 3307;
/// The local backend's second ports, for the Connect worker alone (its own view of the
/// services): each broker's INTERNAL listener, and MariaDB's extra port.
pub const INTERNAL_PORT: u16 = 9192;
pub const MARIADB_CONNECT_PORT: u16 = 3308;

/// Can we listen on `port` on 127.0.0.1 right now?
pub fn is_free(port: u16) -> bool {
    TcpListener::bind((HOST, port)).is_ok()
}

/// A port the operating system says is free now.
pub fn any_free() -> Result<u16> {
    let listener = TcpListener::bind((HOST, 0)).context("asking the OS for a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Chooses the port for `what` (e.g. "Kafka broker 1").
///
/// - `requested`: the user asked for this port (a flag); if it is taken that is an error.
/// - otherwise `default` if it is free, else any free port (and we say so).
/// - `avoid`: ports already chosen for other components of this `up`.
pub fn choose(what: &str, requested: Option<u16>, default: u16, avoid: &[u16]) -> Result<u16> {
    if let Some(port) = requested {
        if avoid.contains(&port) || !is_free(port) {
            bail!(
                "port {port} (asked for {what}) is already in use by another program.\n\
                 Free it, or pick another port with the flag; `ss -ltnp 'sport = :{port}'` shows who holds it"
            );
        }
        return Ok(port);
    }
    if !avoid.contains(&default) && is_free(default) {
        return Ok(default);
    }
    loop {
        let port = any_free()?;
        if !avoid.contains(&port) {
            println!("  note: port {default} is taken, so {what} uses port {port} (recorded in .workbook/env)");
            return Ok(port);
        }
    }
}

/// Held while one `cargo xtask up` chooses its ports and starts the services on them.
///
/// A port is "free" only until somebody listens on it: two `up`s at the same moment (two
/// chapters' own clusters, or two test programs) would both see 9094 free and both give it to
/// a broker, and one of the two brokers would fail to start. One lock for the whole machine makes
/// the second `up` choose after the first one's services hold their ports.
pub struct PortsLock {
    _lock: nix::fcntl::Flock<std::fs::File>,
}

/// Takes the machine's port lock, waiting (and saying so) while another `up` holds it. The
/// operating system releases it when this process ends, however it ends.
pub fn lock_while_starting() -> Result<PortsLock> {
    use nix::fcntl::{Flock, FlockArg};
    let path = std::env::temp_dir().join("kafka-workbook-ports.lock");
    let open = || {
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            // Created by another user: reading is enough to lock it.
            .or_else(|_| std::fs::File::open(&path))
            .with_context(|| format!("opening {}", path.display()))
    };
    let lock = match Flock::lock(open()?, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => lock,
        Err((file, _)) => {
            drop(file);
            println!("  waiting for another `cargo xtask up` on this machine to start its services (ports)");
            Flock::lock(open()?, FlockArg::LockExclusive)
                .map_err(|(_, errno)| errno)
                .with_context(|| format!("locking {}", path.display()))?
        }
    };
    Ok(PortsLock { _lock: lock })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_requested_port_that_is_taken_is_an_error_that_names_it() {
        let listener = TcpListener::bind((HOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let err = choose("Kafka broker 1", Some(port), KAFKA_PORT, &[]).unwrap_err().to_string();
        assert!(err.contains(&format!("port {port}")) && err.contains("already in use"), "{err}");
    }

    #[test]
    fn a_taken_default_falls_back_to_a_free_port() {
        let listener = TcpListener::bind((HOST, 0)).unwrap();
        let taken = listener.local_addr().unwrap().port();
        let chosen = choose("test", None, taken, &[]).unwrap();
        assert_ne!(chosen, taken);
        assert!(is_free(chosen));
    }

    #[test]
    fn a_second_up_waits_for_the_first_ones_ports() {
        let first = lock_while_starting().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        let second = std::thread::spawn(move || {
            let lock = lock_while_starting().unwrap();
            sender.send(()).unwrap();
            lock
        });
        let waited = receiver.recv_timeout(std::time::Duration::from_millis(300));
        assert!(waited.is_err(), "the second took the lock while the first held it");
        drop(first);
        receiver.recv_timeout(std::time::Duration::from_secs(10)).expect("the second gets it once the first is done");
        drop(second.join().unwrap());
    }

    #[test]
    fn ports_chosen_earlier_are_not_reused() {
        let listener = TcpListener::bind((HOST, 0)).unwrap();
        let free_default = { listener.local_addr().unwrap().port() };
        drop(listener);
        let chosen = choose("test", None, free_default, &[free_default]).unwrap();
        assert_ne!(chosen, free_default);
    }
}
