//! A stand-in Docker Engine on a unix socket, for the tests that must not depend on (or touch) a
//! real one: the unit tests of `docker/engine.rs` and, through `#[path]`, the stand-in Docker
//! installation of `tests/stand_in_docker`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Answers as dockerd does: `GET /version` (unversioned or not) with its release and API version,
/// and a request for a newer API version than its own with "client version … is too new"; any
/// other path is not found. `refuse_first` makes it refuse the first request whatever its path (as
/// an engine refuses a client that sends its version). Returns the request lines it saw.
pub fn serve(socket: &Path, engine: &'static str, api: &'static str, refuse_first: bool) -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let listener = UnixListener::bind(socket).unwrap();
    let log = seen.clone();
    std::thread::spawn(move || {
        for (index, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            log.lock().unwrap().push(request_line.trim().to_string());
            let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let asked = path.strip_prefix("/v").and_then(|rest| rest.split('/').next()).map(str::to_string);
            let too_new = asked.as_deref().and_then(api_version).is_some_and(|a| Some(a) > api_version(api));
            let (status, body) = if too_new || (refuse_first && index == 0) {
                let asked = asked.unwrap_or_else(|| "1.52".into());
                (
                    "400 Bad Request",
                    format!(
                        r#"{{"message":"client version {asked} is too new. Maximum supported API version is {api}"}}"#
                    ),
                )
            } else if path.ends_with("/version") {
                (
                    "200 OK",
                    format!(r#"{{"Version":"{engine}","ApiVersion":"{api}","MinAPIVersion":"1.12","Os":"linux"}}"#),
                )
            } else {
                ("404 Not Found", r#"{"message":"the stand-in engine only answers /version"}"#.to_string())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    seen
}

/// An API version such as "1.41" as numbers, so that 1.9 < 1.41.
fn api_version(version: &str) -> Option<(u32, u32)> {
    let (major, minor) = version.trim().split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}
