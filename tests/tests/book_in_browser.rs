//! The book as a learner sees it: built, then opened page by page in a real browser.
//!
//! Headless Chromium (Debian's `chromium` package; `CHROMIUM=/path` picks another binary) opens
//! every page of `SUMMARY.md` as built in `book/book/` (a copy of it), in every edition built there (English at the top,
//! Korean in `ko/`), in a 1280×800 window, sidebar open, default theme, and this test fails when
//! a page
//!
//! - has a listing, output, table or picture wider than its container (it would scroll
//!   sideways, hiding the end of the line; each one is reported with its page, the heading it is
//!   under, its first line and both widths),
//! - shows an image that did not load, or an `{{#include}}` mdBook left as text,
//! - has a diagram whose colors do not stand out from the page in the light or the dark theme.
//!
//! Every page is saved as a full-page screenshot, `target/book-screenshots/<page>.png`
//! (`ko/<page>.png` for the Korean edition), and each
//! diagram once more in the dark `navy` theme (`<page>.diagram-<n>.navy.png`), for a person to
//! look at.
//!
//! A second test searches the built book the way a learner does (the search box, through the
//! page's own script and index) for Kafka terms.
//!
//! Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON
//! messages ending in a NUL byte, on file descriptors 3 and 4), so no port, no extra crate and
//! nothing downloaded.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use workbook_tests::workspace_root;

/// The window: a laptop screen, the book's default layout (the sidebar stays open from 1080 px).
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 800;

#[test]
fn every_page_fits_the_window_and_loads() {
    let book = built_book();
    let started = Instant::now();
    let shots = target_dir().join("book-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let mut browser = Browser::start();
    let mut report = Vec::new();
    let mut pages = 0;
    for page in editions(&book)
        .into_iter()
        .flat_map(|edition| summary_pages().into_iter().map(move |page| format!("{edition}{page}")))
    {
        let url = file_url(&book.join(&page));
        browser.open(&url);
        let found = browser.evaluate(MEASURE).unwrap_or_else(|e| panic!("{page}: measuring failed: {e}"));
        let name = page.trim_end_matches(".html");
        if let Some(dir) = shots.join(name).parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        browser.screenshot(&shots.join(format!("{name}.png")));
        let mut problems: Vec<String> = strings(&found["problems"]);
        if found["diagrams"].as_u64().unwrap_or(0) > 0 {
            let dark =
                browser.evaluate(&format!("{SET_THEME}('navy'); {CONTRAST}")).unwrap_or_else(|e| panic!("{page}: {e}"));
            problems.extend(strings(&dark).into_iter().map(|p| format!("{p} (navy theme)")));
            browser.screenshot_diagrams(&shots, name);
            let light = browser
                .evaluate(&format!("{SET_THEME}('light'); {CONTRAST}"))
                .unwrap_or_else(|e| panic!("{page}: {e}"));
            problems.extend(strings(&light).into_iter().map(|p| format!("{p} (light theme)")));
        }
        if !problems.is_empty() {
            report.push(format!("{page}:\n  {}", problems.join("\n  ")));
        }
        pages += 1;
    }
    browser.close();
    eprintln!(
        "opened {pages} pages in {:.1} s; screenshots in {}",
        started.elapsed().as_secs_f64(),
        shown(&shots).display()
    );
    assert!(
        report.is_empty(),
        "{} of {pages} pages do not fit a {WIDTH}×{HEIGHT} window or did not load cleanly \
         (widths in CSS px; screenshots in {}):\n{}",
        report.len(),
        shown(&shots).display(),
        report.join("\n")
    );
}

/// The measurement itself, on a page made to fail it every way: if a check stopped finding its
/// problem, the test above would pass on a broken book.
#[test]
fn the_measurement_finds_every_kind_of_problem() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(300);
    let page = format!(
        r#"<!DOCTYPE html><html><body><main style="width: 600px">
        <h2>Listing</h2><pre><code class="language-rust">fn main() {{}} // {long}</code></pre>
        <h2>Solution</h2><details><summary>open</summary>
          <pre><code class="language-text">{long}</code></pre>
          <p>{{{{#include ../../chapters/ch01-why-kafka/src/main.rs:main}}}}</p></details>
        <h2>Table</h2><div class="table-wrapper" style="overflow-x: auto"><table><tr><td style="white-space: nowrap">{long}</td></tr></table></div>
        <h2>Picture</h2><figure class="diagram"><svg width="2000" height="10"></svg></figure>
        <img src="missing.png" alt="gone">
        </main></body></html>"#
    );
    let path = dir.path().join("page.html");
    std::fs::write(&path, page).unwrap();
    let mut browser = Browser::start();
    browser.open(&file_url(&path));
    let found = browser.evaluate(MEASURE).unwrap_or_else(|e| panic!("measuring failed: {e}"));
    browser.close();
    let problems = strings(&found["problems"]);
    let expected = [
        "language-rust under \"Listing\"",
        "language-text under \"Solution\" (in a closed <details>)",
        "table under \"Table\"",
        "svg under \"Picture\"",
        "broken image under \"Picture\": missing.png",
        "an include mdBook could not expand: {{#include ../../chapters/ch01-why-kafka/src/main.rs:main}}",
        "the page scrolls sideways",
    ];
    for wanted in expected {
        assert!(problems.iter().any(|p| p.starts_with(wanted)), "no problem starts with `{wanted}`: {problems:#?}");
    }
    assert_eq!(found["diagrams"], 1);
}

/// mdBook's index splits text on whitespace and `-` only, so `min.insync.replicas` is one word in
/// it (stemmed to `min.insync.replica`, as the query is), and `min.insync.replicas=2` another that
/// the search's prefix expansion also finds. This runs the page's own search on the built index.
#[test]
fn the_search_finds_kafka_terms() {
    let book = built_book();
    let mut browser = Browser::start();
    let index = file_url(&book.join("index.html"));
    // Each term, and pages that explain it: the search must list them.
    let expected = [
        ("min.insync.replicas", &["ch13-reliability.html", "ch02-brokers.html"][..]),
        ("tombstone", &["ch09-source.html", "ch10-sink.html"]),
        ("outbox", &["ch11-order-service.html", "ch12-data-sync.html"]),
    ];
    let mut missing = Vec::new();
    for (term, pages) in expected {
        browser.open(&format!("{index}?search={term}"));
        let results = browser.evaluate(SEARCH_RESULTS).unwrap_or_else(|e| panic!("searching {term}: {e}"));
        let found: BTreeSet<String> =
            strings(&results).iter().map(|href| href.split(['#', '?']).next().unwrap_or("").to_string()).collect();
        for page in pages {
            if !found.contains(*page) {
                missing.push(format!("searching `{term}` does not list {page}; it lists {found:?}"));
            }
        }
    }
    browser.close();
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// What runs in the page

/// Measures the page: every listing, table and picture against its container, broken images,
/// unexpanded includes. Returns `{problems: [text], diagrams: n}`.
const MEASURE: &str = r#"(async () => {
  const main = document.querySelector('main');
  const problems = [];
  // Solutions sit in closed <details>: open them to measure their listings, close them after.
  const closedDetails = [...main.querySelectorAll('details:not([open])')];
  closedDetails.forEach(d => d.open = true);
  // Every image loaded or failed, lazy ones included.
  await Promise.all([...document.images].map(img => {
    img.loading = 'eager';
    return img.complete ? null : new Promise(done => { img.onload = img.onerror = done; });
  }));
  await new Promise(requestAnimationFrame);
  const under = el => {
    let heading = null;
    for (const h of main.querySelectorAll('h1, h2, h3, h4')) {
      if (h.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) heading = h; else break;
    }
    return heading ? `under "${heading.innerText.trim()}"` : 'at the top';
  };
  const firstLine = el => {
    const line = (el.innerText || el.textContent || '').split('\n').find(l => l.trim() !== '') || '';
    return JSON.stringify(line.trim().slice(0, 60));
  };
  const round = n => Math.round(n);
  // Listings and outputs: the <pre> and its <code> scroll when a line is longer than the box.
  for (const pre of main.querySelectorAll('pre')) {
    const code = pre.querySelector('code') || pre;
    for (const el of new Set([pre, code])) {
      if (el.scrollWidth > el.clientWidth + 1) {
        const lang = [...code.classList].find(c => c.startsWith('language-')) || 'pre';
        const closed = closedDetails.some(d => d.contains(pre)) ? ' (in a closed <details>)' : '';
        const shown = code.innerText.trim() !== '' ? code.innerText : code.textContent;
        const longest = Math.max(...shown.split('\n').map(l => [...l].length));
        problems.push(`${lang} ${under(pre)}${closed}, ${firstLine(code)}: ${round(el.scrollWidth)} px of lines in a ${round(el.clientWidth)} px box (longest line ${longest} columns)`);
        break;
      }
    }
  }
  // Tables: mdBook wraps them in a .table-wrapper that scrolls.
  for (const table of main.querySelectorAll('table')) {
    const box = table.closest('.table-wrapper') || table.parentElement;
    const width = table.getBoundingClientRect().width;
    if (width > box.clientWidth + 1) {
      problems.push(`table ${under(table)}, ${firstLine(table.querySelector('tr') || table)}: ${round(width)} px wide in a ${round(box.clientWidth)} px box`);
    }
  }
  // Pictures: diagrams and images, against their container and the column.
  const column = main.getBoundingClientRect();
  for (const pic of main.querySelectorAll('svg, img, figure')) {
    if (pic.closest('button, pre')) continue;
    const rect = pic.getBoundingClientRect();
    const box = pic.parentElement.getBoundingClientRect();
    if (rect.width > box.width + 1 || rect.right > column.right + 1 || rect.left < column.left - 1) {
      const what = pic.tagName.toLowerCase() === 'img' ? `img ${pic.getAttribute('src')}` : pic.tagName.toLowerCase();
      problems.push(`${what} ${under(pic)}: ${round(rect.width)} px wide in a ${round(Math.min(box.width, column.width))} px column`);
    }
  }
  // The page itself must not scroll sideways either.
  const page = document.documentElement;
  if (page.scrollWidth > page.clientWidth + 1) {
    problems.push(`the page scrolls sideways: ${page.scrollWidth} px in a ${page.clientWidth} px window`);
  }
  for (const img of document.images) {
    if (img.naturalWidth === 0) problems.push(`broken image ${under(img)}: ${img.getAttribute('src')}`);
  }
  // textContent, not innerText: hidden text (a closed <details>, a collapsed block) counts too.
  for (const m of main.textContent.matchAll(/\{\{#[a-z_]+[^}]*\}\}/g)) problems.push(`an include mdBook could not expand: ${m[0]}`);
  closedDetails.forEach(d => d.open = false);
  return { problems, diagrams: main.querySelectorAll('figure.diagram').length };
})()"#;

/// Switches mdBook's theme with its own theme menu (which also swaps the code highlighting's
/// style sheet), then forgets the choice so the next page opens in the default theme again.
const SET_THEME: &str = r#"(theme => {
  document.getElementById('mdbook-theme-' + theme).click();
  localStorage.removeItem('mdbook-theme');
  if (!document.documentElement.classList.contains(theme)) throw new Error('the theme menu did not switch to ' + theme);
})"#;

/// The diagrams' colors against the page, in the current theme: lines and labels must stand
/// out from the background (contrast ≥ 3), and so must labels from the fills they sit on.
const CONTRAST: &str = r#"(() => {
  const rgb = color => {
    const m = color.match(/rgba?\(([\d.]+),?\s*([\d.]+),?\s*([\d.]+)/);
    return m ? [+m[1], +m[2], +m[3]] : null;
  };
  const luminance = ([r, g, b]) => {
    const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const contrast = (a, b) => {
    const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const background = rgb(getComputedStyle(document.documentElement).backgroundColor);
  const problems = [];
  document.querySelectorAll('figure.diagram').forEach((figure, i) => {
    const ink = rgb(getComputedStyle(figure).color);
    const fills = new Set();
    // Filled shapes labels sit on (pikchr draws boxes, ovals and cylinders as paths; arrowheads,
    // polygons, are the lines' own color).
    for (const shape of figure.querySelectorAll('path')) {
      const fill = getComputedStyle(shape).fill;
      if (fill !== 'none' && fill !== getComputedStyle(figure).color) fills.add(fill);
    }
    const label = `diagram ${i + 1}` + (figure.querySelector('figcaption') ? ` ("${figure.querySelector('figcaption').innerText}")` : '');
    if (contrast(ink, background) < 3) problems.push(`${label}: lines rgb(${ink}) on background rgb(${background})`);
    for (const fill of fills) {
      const c = rgb(fill);
      if (c && contrast(ink, c) < 3) problems.push(`${label}: labels rgb(${ink}) on fill ${fill}: contrast ${contrast(ink, c).toFixed(1)}`);
    }
    for (const text of figure.querySelectorAll('text')) {
      const c = rgb(getComputedStyle(text).fill);
      if (c && contrast(c, background) < 3) problems.push(`${label}: text "${text.textContent}" in ${getComputedStyle(text).fill} on background rgb(${background})`);
    }
  });
  return problems;
})()"#;

/// Waits for the page's search (opened by `?search=`) to answer; the results' links.
const SEARCH_RESULTS: &str = r#"new Promise((resolve, reject) => {
  const started = Date.now();
  const poll = () => {
    const header = document.getElementById('mdbook-searchresults-header');
    if (header && header.innerText.trim() !== '') {
      resolve([...document.querySelectorAll('#mdbook-searchresults a')].map(a => a.getAttribute('href')));
    } else if (Date.now() - started > 15000) {
      reject(new Error('no search results after 15 s'));
    } else {
      setTimeout(poll, 50);
    }
  };
  poll();
})"#;

// ---------------------------------------------------------------------------------------------
// The book

/// Builds the book once for the tests of this file (`cargo xtask book`) and returns a copy of
/// `book/book/` under `target/` that nothing else writes to: another `cargo xtask book` (a
/// `--serve`, another test run) may rebuild `book/book/` while the pages are being opened.
fn built_book() -> PathBuf {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let root = workspace_root();
        let started = Instant::now();
        let output = Command::new(env!("CARGO"))
            .current_dir(&root)
            .args(["run", "--quiet", "--package", "xtask", "--", "book"])
            .output()
            .expect("running cargo");
        if !output.status.success() {
            return Err(format!(
                "`cargo xtask book` failed:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        eprintln!("built the book in {:.1} s", started.elapsed().as_secs_f64());
        let copy = target_dir().join("book-in-browser");
        let _ = std::fs::remove_dir_all(&copy);
        copy_dir(&root.join("book/book"), &copy).map_err(|e| format!("copying book/book: {e}"))?;
        let missing: Vec<String> = editions(&copy)
            .iter()
            .flat_map(|edition| summary_pages().into_iter().map(move |page| format!("{edition}{page}")))
            .filter(|page| !copy.join(page).is_file())
            .collect();
        if !missing.is_empty() {
            return Err(format!("book/book/ lacks {missing:?}: was it rebuilt while being copied?"));
        }
        Ok(copy)
    });
    built.clone().unwrap_or_else(|e| panic!("{e}"))
}

/// The editions built under `book/book/`, as the prefix of their pages' paths: the English one at
/// the top, each translation in a folder of its language (`ko/`).
fn editions(book: &Path) -> Vec<String> {
    let mut editions = vec![String::new()];
    for entry in std::fs::read_dir(book).unwrap() {
        let dir = entry.unwrap().path();
        let is_language = dir
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_lowercase()));
        if is_language && dir.join("index.html").is_file() {
            editions.push(format!("{}/", dir.file_name().unwrap().to_string_lossy()));
        }
    }
    editions.sort();
    editions
}

/// The built pages, in the order of `SUMMARY.md` (drafts, `[Title]()`, have none).
fn summary_pages() -> Vec<String> {
    let summary = std::fs::read_to_string(workspace_root().join("book/src/SUMMARY.md")).unwrap();
    let mut pages: Vec<String> = summary
        .lines()
        .filter_map(|line| {
            let start = line.find("](")? + 2;
            let end = start + line[start..].find(')')?;
            let target = line[start..end].trim();
            target.strip_suffix(".md").map(|page| format!("{page}.html"))
        })
        .collect();
    pages.dedup();
    assert!(!pages.is_empty(), "SUMMARY.md lists no pages");
    pages
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"))
}

fn shown(path: &Path) -> &Path {
    path.strip_prefix(workspace_root()).unwrap_or(path)
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Chromium over the DevTools protocol

/// Debian's package, unless `CHROMIUM` names another binary.
fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return PathBuf::from(path);
    }
    let path = PathBuf::from("/usr/bin/chromium");
    assert!(
        path.is_file(),
        "{} is missing: install Debian's chromium and fonts-noto-cjk (`.ci/run` does), \
         or set CHROMIUM to a Chromium binary",
        path.display()
    );
    path
}

/// One headless Chromium with one tab, talked to over `--remote-debugging-pipe`.
struct Browser {
    child: Child,
    commands: ChildStdin,
    messages: Receiver<Value>,
    next_id: u64,
    /// The tab's session: page-level commands carry it.
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start() -> Browser {
        let profile = tempfile::tempdir().unwrap();
        // Chromium reads commands from fd 3 and writes answers to fd 4: the shell moves the
        // pipes of stdin and stdout there.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null"#)
            .arg(chromium())
            .args([
                "--headless",
                "--remote-debugging-pipe",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--mute-audio",
                "--force-device-scale-factor=1",
                &format!("--window-size={WIDTH},{HEIGHT}"),
                &format!("--user-data-dir={}", profile.path().display()),
                "about:blank",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromium");
        let commands = child.stdin.take().unwrap();
        let answers = child.stdout.take().unwrap();
        let (sender, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(answers);
            loop {
                let mut message = Vec::new();
                match reader.read_until(0, &mut message) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        message.pop();
                        if let Ok(value) = serde_json::from_slice::<Value>(&message)
                            && sender.send(value).is_err()
                        {
                            break;
                        }
                    }
                }
            }
        });
        let mut browser = Browser { child, commands, messages, next_id: 0, session: String::new(), _profile: profile };
        let target = browser.send(None, "Target.createTarget", json!({ "url": "about:blank" })).unwrap();
        let attached = browser
            .send(None, "Target.attachToTarget", json!({ "targetId": target["targetId"], "flatten": true }))
            .unwrap();
        browser.session = attached["sessionId"].as_str().unwrap().to_string();
        let metrics = json!({ "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": false });
        browser.call("Emulation.setDeviceMetricsOverride", metrics).unwrap();
        browser
    }

    /// A page-level command.
    fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let session = self.session.clone();
        self.send(Some(&session), method, params)
    }

    fn send(&mut self, session: Option<&str>, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = session.into();
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.commands.write_all(&bytes).and_then(|()| self.commands.flush()).map_err(|e| format!("{method}: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let answer = self
                .messages
                .recv_timeout(left)
                .map_err(|_| format!("{method}: Chromium did not answer within 60 s (or exited)"))?;
            if answer["id"].as_u64() == Some(id) {
                return match answer.get("error") {
                    Some(error) => Err(format!("{method}: {error}")),
                    None => Ok(answer["result"].clone()),
                };
            }
            // Anything else is an event; nothing here listens to events.
        }
    }

    /// Runs JavaScript in the page (a promise is awaited) and returns its value.
    fn evaluate(&mut self, expression: &str) -> Result<Value, String> {
        let params = json!({ "expression": expression, "awaitPromise": true, "returnByValue": true });
        let result = self.call("Runtime.evaluate", params)?;
        if let Some(exception) = result.get("exceptionDetails") {
            let text = exception["exception"]["description"].as_str().or(exception["text"].as_str()).unwrap_or("?");
            return Err(text.to_string());
        }
        Ok(result["result"]["value"].clone())
    }

    /// Opens a page and waits until it has loaded, its scripts have run and its fonts are in.
    fn open(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url })).unwrap_or_else(|e| panic!("{e}"));
        let wanted = url.split('#').next().unwrap_or(url);
        let ready = r#"new Promise(resolve => {
            const done = () => document.fonts.ready.then(() => requestAnimationFrame(() => resolve(location.href)));
            if (document.readyState === 'complete') done(); else addEventListener('load', done);
        })"#;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            // Until the navigation commits, this runs in the previous document (or fails while
            // that one is torn down): ask again.
            if let Ok(Value::String(href)) = self.evaluate(ready)
                && href.split('#').next() == Some(wanted)
            {
                return;
            }
            assert!(Instant::now() < deadline, "{url} did not load within 30 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Saves the whole page, top to bottom, as a PNG.
    fn screenshot(&mut self, path: &Path) {
        let height = self.evaluate("document.documentElement.scrollHeight").unwrap().as_f64().unwrap_or(HEIGHT.into());
        self.capture(json!({ "x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1 }), path);
    }

    /// Saves each diagram of the page as it looks now: `<name>.diagram-<n>.<theme>.png`.
    fn screenshot_diagrams(&mut self, dir: &Path, name: &str) {
        let script = r#"({ theme: ['light', 'rust', 'coal', 'navy', 'ayu'].find(t => document.documentElement.classList.contains(t)),
            boxes: [...document.querySelectorAll('figure.diagram')].map(f => {
                const r = f.getBoundingClientRect();
                return { x: r.x + scrollX - 8, y: r.y + scrollY - 8, width: r.width + 16, height: r.height + 16, scale: 1 };
            }) })"#;
        let found = self.evaluate(script).unwrap_or_else(|e| panic!("{name}: {e}"));
        let theme = found["theme"].as_str().unwrap_or("theme").to_string();
        for (n, clip) in found["boxes"].as_array().cloned().unwrap_or_default().into_iter().enumerate() {
            self.capture(clip, &dir.join(format!("{name}.diagram-{}.{theme}.png", n + 1)));
        }
    }

    fn capture(&mut self, clip: Value, path: &Path) {
        let params = json!({ "format": "png", "optimizeForSpeed": true, "captureBeyondViewport": true, "clip": clip });
        let shot = self.call("Page.captureScreenshot", params).unwrap_or_else(|e| panic!("{e}"));
        let png = base64_decode(shot["data"].as_str().unwrap_or(""));
        std::fs::write(path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    fn close(mut self) {
        let _ = self.send(None, "Browser.close", json!({}));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Browser.close (or a failed test) leaves a process to reap; never leave one running.
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Standard base64 (the screenshots' encoding).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut buffer, mut bits) = (0u32, 0);
    for sextet in text.bytes().filter_map(value) {
        buffer = (buffer << 6) | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

#[test]
fn base64_decodes() {
    assert_eq!(base64_decode("aGVsbG8sIEthZmth"), b"hello, Kafka");
    assert_eq!(base64_decode("YQ=="), b"a");
    assert_eq!(base64_decode("YWI="), b"ab");
}
