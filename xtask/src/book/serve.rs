//! `cargo xtask book --serve`: the built book over HTTP on 127.0.0.1, with live reload.
//!
//! tower-http's `ServeDir` serves the files of a built book (any edition's directory), inside an
//! axum router; nothing else to install. Live reload: every HTML page gets a small script that
//! polls `/__workbook_reload`, which answers the number of the current build; when that number
//! changes (a rebuild after you saved a file), the page reloads itself.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::map_response_with_state;
use axum::response::Response;
use axum::routing::get;
use tower_http::services::{ServeDir, ServeFile};

/// The endpoint the injected script polls.
pub const RELOAD_PATH: &str = "/__workbook_reload";

/// The number of the build on show: the serving side adds one after each successful rebuild.
pub type BuildNumber = Arc<AtomicU64>;

/// Serves the built book in `root` on 127.0.0.1:`port` (0: any free port) in the background, on
/// the async runtime this is called from, or on a thread of its own when there is none; returns the
/// address it listens on. Call it once per directory to serve several (an edition each).
pub fn start(root: impl AsRef<Path>, port: u16, build: BuildNumber) -> Result<SocketAddr> {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).with_context(|| {
        format!("cannot listen on 127.0.0.1:{port}; is something else using it? Pick another port with --port")
    })?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let serving = serve(listener, router(root.as_ref(), build));
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn(serving)),
        Err(_) => {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            std::thread::spawn(move || runtime.block_on(serving));
        }
    }
    Ok(address)
}

/// Answers requests on `listener` until the program ends.
async fn serve(listener: std::net::TcpListener, app: Router) {
    let address = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let served = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => axum::serve(listener, app).await,
        Err(e) => Err(e),
    };
    if let Err(e) = served {
        eprintln!("error: serving the book on {address} stopped: {e}");
    }
}

/// The files under `root` (a directory's `index.html` for the directory, `404.html` for what is
/// not there; never anything outside `root`), the reload endpoint, and the script in every page.
pub fn router(root: &Path, build: BuildNumber) -> Router {
    let files = ServeDir::new(root).not_found_service(ServeFile::new(root.join("404.html")));
    let current = build.clone();
    Router::new()
        .route(RELOAD_PATH, get(move || async move { current.load(Ordering::SeqCst).to_string() }))
        .fallback_service(files)
        .layer(map_response_with_state(build, for_live_reload))
}

/// Every answer: not to be reused without asking (the book changes under the browser). An HTML
/// page: with the reload script, which knows the build it came from.
async fn for_live_reload(State(build): State<BuildNumber>, response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    parts.headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let is_html = parts.headers.get(header::CONTENT_TYPE).is_some_and(|kind| kind.as_bytes().starts_with(b"text/html"));
    if !is_html || parts.status == StatusCode::NOT_MODIFIED {
        return Response::from_parts(parts, body);
    }
    let html = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(html) => html,
        Err(e) => {
            let mut failed = Response::new(Body::from(format!("reading the page failed: {e}")));
            *failed.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            return failed;
        }
    };
    let page = inject_reload(&html, build.load(Ordering::SeqCst));
    // The page is no longer the file: its length and date do not describe it, and a browser
    // asking "changed since?" must get the page of the current build.
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::LAST_MODIFIED);
    parts.headers.remove(header::ETAG);
    Response::from_parts(parts, Body::from(page))
}

/// Adds the live-reload script before `</body>` (or at the end when there is none).
pub fn inject_reload(html: &[u8], build: u64) -> Vec<u8> {
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
    let text = String::from_utf8_lossy(html);
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
        std::fs::create_dir_all(dir.path().join("css")).unwrap();
        std::fs::create_dir_all(dir.path().join("ko")).unwrap();
        std::fs::write(dir.path().join("index.html"), "<html><body><p>home</p></body></html>").unwrap();
        std::fs::write(dir.path().join("ko/index.html"), "<body>korean</body>").unwrap();
        std::fs::write(dir.path().join("css/book.css"), "body {}").unwrap();
        std::fs::write(dir.path().join("my page.html"), "<body>spaced</body>").unwrap();
        std::fs::write(dir.path().join("404.html"), "<body>lost</body>").unwrap();
        dir
    }

    /// One request over a real socket, as a browser sends it; the whole answer as text.
    async fn ask(address: SocketAddr, method: &str, target: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let request = format!("{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer
    }

    async fn served(build: u64) -> (tempfile::TempDir, SocketAddr) {
        let dir = site();
        let address = start(dir.path(), 0, Arc::new(AtomicU64::new(build))).unwrap();
        (dir, address)
    }

    #[tokio::test]
    async fn serves_files_with_their_type_and_pages_with_the_script() {
        let (_dir, address) = served(1).await;
        let css = ask(address, "GET", "/css/book.css").await;
        assert!(css.starts_with("HTTP/1.1 200 OK\r\n"), "{css}");
        assert!(css.contains("content-type: text/css") && css.ends_with("\r\n\r\nbody {}"), "{css}");
        assert!(css.contains("cache-control: no-cache"), "{css}");
        let home = ask(address, "GET", "/?x=1").await;
        assert!(home.contains("<p>home</p><script>"), "directory -> index.html, script injected: {home}");
        assert!(!home.contains("last-modified"), "{home}");
        assert!(ask(address, "GET", "/my%20page.html").await.contains("spaced"));
        assert!(ask(address, "GET", "/ko/").await.contains("korean<script>"), "an edition in a subfolder");
    }

    #[tokio::test]
    async fn the_reload_endpoint_answers_the_build_number() {
        let (_dir, address) = served(42).await;
        let answer = ask(address, "GET", RELOAD_PATH).await;
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.ends_with("\r\n\r\n42"), "{answer}");
    }

    #[tokio::test]
    async fn never_leaves_the_root_and_says_not_found() {
        let (_dir, address) = served(1).await;
        for target in ["/../secret", "/css/../../etc/passwd", "/%2e%2e/secret", "/nope.html"] {
            let answer = ask(address, "GET", target).await;
            assert!(answer.starts_with("HTTP/1.1 404 Not Found"), "{target}: {answer}");
            assert!(answer.contains("lost<script>"), "{target}: the book's own 404 page: {answer}");
        }
        assert!(ask(address, "POST", "/").await.starts_with("HTTP/1.1 405"));
    }

    #[tokio::test]
    async fn head_sends_no_body() {
        let (_dir, address) = served(1).await;
        let answer = ask(address, "HEAD", "/css/book.css").await;
        assert!(answer.starts_with("HTTP/1.1 200 OK") && answer.ends_with("\r\n\r\n"), "{answer}");
    }

    #[test]
    fn injects_before_the_last_body_end() {
        let html = String::from_utf8(inject_reload(b"<body>x</body>", 7)).unwrap();
        assert!(html.starts_with("<body>x<script>"));
        assert!(html.contains(r#"const built = "7";"#));
        assert!(html.ends_with("</script>\n</body>"));
    }

    #[test]
    fn serves_without_an_async_runtime_too() {
        let dir = site();
        let address = start(dir.path(), 0, Arc::new(AtomicU64::new(5))).unwrap();
        let answer = tokio::runtime::Runtime::new().unwrap().block_on(ask(address, "GET", RELOAD_PATH));
        assert!(answer.ends_with("\r\n\r\n5"), "{answer}");
    }

    #[tokio::test]
    async fn a_port_in_use_is_named() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let err = start(site().path(), port, Arc::new(AtomicU64::new(1))).unwrap_err().to_string();
        assert!(err.contains(&format!("127.0.0.1:{port}")) && err.contains("--port"), "{err}");
    }
}
