//! `cargo xtask book --serve`: a tiny static file server with live reload.
//!
//! The built book is plain files, so a few dozen lines of `std::net` serve it; no web framework,
//! no separate `mdbook serve` install. Live reload: every HTML page gets a small script that
//! polls `/__workbook_reload`, which answers the number of the current build; when that number
//! changes (a rebuild after you saved a file), the page reloads itself.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};

/// The endpoint the injected script polls.
pub const RELOAD_PATH: &str = "/__workbook_reload";

/// Serves `root` on 127.0.0.1:`port` in background threads; `build` is the current build number.
pub fn start(root: PathBuf, port: u16, build: Arc<AtomicU64>) -> Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).with_context(|| {
        format!("cannot listen on 127.0.0.1:{port}; is something else using it? Pick another port with --port")
    })?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (root, build) = (root.clone(), build.clone());
            // One thread per connection: a browser opens a handful, and each is short-lived.
            std::thread::spawn(move || {
                let _ = handle(stream, &root, &build);
            });
        }
    });
    Ok(())
}

fn handle(mut stream: TcpStream, root: &Path, build: &AtomicU64) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut request_line = String::new();
    let mut reader = BufReader::new(stream.try_clone()?);
    reader.read_line(&mut request_line)?;
    // Read (and ignore) the headers, so the browser sees a well-behaved server.
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let response = respond(&request_line, root, build.load(Ordering::SeqCst));
    stream.write_all(&response)?;
    stream.flush()
}

/// The whole HTTP response to one request line (pure except for reading the file).
pub fn respond(request_line: &str, root: &Path, build: u64) -> Vec<u8> {
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return response(400, "text/plain; charset=utf-8", b"bad request".to_vec(), true);
    };
    let head_only = method == "HEAD";
    if method != "GET" && !head_only {
        return response(405, "text/plain; charset=utf-8", b"only GET and HEAD".to_vec(), head_only);
    }
    let path = target.split(['?', '#']).next().unwrap_or("/");
    if path == RELOAD_PATH {
        return response(200, "text/plain; charset=utf-8", build.to_string().into_bytes(), head_only);
    }
    match resolve(root, path).and_then(|file| std::fs::read(&file).ok().map(|body| (file, body))) {
        Some((file, body)) => {
            let kind = content_type(&file);
            let body = if kind.starts_with("text/html") { inject_reload(body, build) } else { body };
            response(200, kind, body, head_only)
        }
        None => {
            let body = std::fs::read(root.join("404.html")).unwrap_or_else(|_| b"not found".to_vec());
            response(404, "text/html; charset=utf-8", inject_reload(body, build), head_only)
        }
    }
}

fn response(status: u16, content_type: &str, body: Vec<u8>, head_only: bool) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-cache\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend(body);
    }
    out
}

/// The file a URL path names under `root`, if it exists; never a file outside `root`.
pub fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
    let relative = Path::new(decoded.trim_start_matches('/'));
    if relative.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None; // `..`, or an absolute path smuggled in: refuse.
    }
    let mut file = root.join(relative);
    if file.is_dir() {
        file = file.join("index.html");
    }
    file.is_file().then_some(file)
}

/// `%20` -> ` `; `None` for malformed escapes or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The media types an mdBook build contains.
pub fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "txt" | "md" | "rs" | "toml" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Adds the live-reload script before `</body>` (or at the end when there is none).
pub fn inject_reload(html: Vec<u8>, build: u64) -> Vec<u8> {
    let script = format!(
        r#"<script>
// Added by `cargo xtask book --serve`: reload when the book is rebuilt.
(function () {{
  const built = "{build}";
  async function poll() {{
    try {{
      const answer = await fetch("{RELOAD_PATH}", {{ cache: "no-store" }});
      if ((await answer.text()).trim() !== built) {{ location.reload(); return; }}
    }} catch (e) {{ /* the server is restarting: try again */ }}
    setTimeout(poll, 1000);
  }}
  setTimeout(poll, 1000);
}})();
</script>
"#
    );
    let text = String::from_utf8_lossy(&html);
    match text.rfind("</body>") {
        Some(at) => format!("{}{script}{}", &text[..at], &text[at..]).into_bytes(),
        None => format!("{text}{script}").into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("css")).unwrap();
        std::fs::write(dir.path().join("index.html"), "<html><body><p>home</p></body></html>").unwrap();
        std::fs::write(dir.path().join("css/book.css"), "body {}").unwrap();
        std::fs::write(dir.path().join("my page.html"), "<body>spaced</body>").unwrap();
        std::fs::write(dir.path().join("404.html"), "<body>lost</body>").unwrap();
        dir
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn serves_files_with_their_type() {
        let dir = site();
        let css = text(respond("GET /css/book.css HTTP/1.1\r\n", dir.path(), 1));
        assert!(
            css.starts_with("HTTP/1.1 200 OK\r\nContent-Type: text/css; charset=utf-8\r\nContent-Length: 7\r\n"),
            "{css}"
        );
        assert!(css.ends_with("\r\n\r\nbody {}"));
        let home = text(respond("GET /?x=1 HTTP/1.1", dir.path(), 1));
        assert!(home.contains("<p>home</p><script>"), "directory -> index.html, script injected: {home}");
        assert!(text(respond("GET /my%20page.html HTTP/1.1", dir.path(), 1)).contains("spaced"));
    }

    #[test]
    fn the_reload_endpoint_answers_the_build_number() {
        let dir = site();
        let answer = text(respond("GET /__workbook_reload HTTP/1.1", dir.path(), 42));
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\nContent-Type: text/plain"));
        assert!(answer.ends_with("\r\n\r\n42"));
    }

    #[test]
    fn refuses_to_leave_the_root_and_says_not_found() {
        let dir = site();
        for target in ["/../secret", "/css/../../etc/passwd", "/%2e%2e/secret", "/nope.html", "/bad%zz"] {
            let answer = text(respond(&format!("GET {target} HTTP/1.1"), dir.path(), 1));
            assert!(answer.starts_with("HTTP/1.1 404 Not Found"), "{target}: {answer}");
            assert!(answer.contains("lost"));
        }
        assert!(text(respond("POST / HTTP/1.1", dir.path(), 1)).starts_with("HTTP/1.1 405"));
        assert!(text(respond("", dir.path(), 1)).starts_with("HTTP/1.1 400"));
    }

    #[test]
    fn head_sends_no_body() {
        let dir = site();
        let answer = text(respond("HEAD /css/book.css HTTP/1.1", dir.path(), 1));
        assert!(answer.contains("Content-Length: 7") && answer.ends_with("\r\n\r\n"), "{answer}");
    }

    #[test]
    fn injects_before_the_last_body_end() {
        let html = text(inject_reload(b"<body>x</body>".to_vec(), 7));
        assert!(html.starts_with("<body>x<script>"));
        assert!(html.contains(r#"const built = "7";"#));
        assert!(html.ends_with("</script>\n</body>"));
    }

    #[test]
    fn serves_over_tcp() {
        let dir = site();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        start(dir.path().to_path_buf(), port, Arc::new(AtomicU64::new(3))).unwrap();
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.write_all(b"GET /__workbook_reload HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK") && answer.ends_with("\r\n\r\n3"), "{answer}");
    }
}
