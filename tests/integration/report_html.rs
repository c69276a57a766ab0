//! The HTML report (issue 15) in a real browser: a crawl of the simulated GitHub with pull
//! requests, issues and CI runs is reported with `octoshard::report::html::write_html`, and
//! headless Chromium (from `OCTOSHARD_TEST_CHROMIUM`, which `scripts/browser.sh` installs and
//! exports) renders it to a non-blank screenshot, shows every chart with the numbers SQL gives,
//! makes no network request, and shows hostile text as text.

use std::io::{Read, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::deep::deep_hub;
use crate::util::*;

/// A description that would run script or add an element if it were not escaped.
const HOSTILE_DESCRIPTION: &str =
    "<script>document.title='pwned'</script>\"><img src=x onerror=\"document.title='pwned'\"><b>bold</b>";
/// A language name doing the same inside the SVG text of a chart.
const HOSTILE_LANGUAGE: &str = "\"><img src=x onerror=alert(1)>";
/// Every chart the crawl below has data for.
const CHARTS: &[&str] = &[
    "languages",
    "stars",
    "repositories-created",
    "pulls-issues",
    "ci-success",
    "shard-coverage",
    "api-spend",
    "categories",
];
/// How long one Chromium run may take before it is killed.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(90);

/// The crawled database and its report, made once for every test of this file, in
/// `target/tmp/report_html` (a static is never dropped: a temporary folder would stay behind
/// after every run; this one is replaced by the next).
struct Fixture {
    db: PathBuf,
    page: PathBuf,
    report: octoshard::report::html::HtmlReport,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let hub = deep_hub(400, options());
        let end = hub.universe().max_id() + 1;
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_html");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("remove the previous run's fixture");
        }
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("merged.sqlite");
        success(&run(octoshard(&hub.url())
            .env("GITHUB_TOKEN", TOKEN)
            .args(["run", "--retry-delay", "1ms", "--no-pacing", "--probes", "0", "--shards", "3"])
            .args(["--source", &format!("ids:0..{end}"), "--collect", "metadata,pulls,issues,runs"])
            .arg("--out")
            .arg(&db)));
        hostile_and_categories(&db);
        let report = octoshard::report::html::write_html(&db, &dir.join("report")).expect("write the HTML report");
        let page = dir.join("report").join("index.html");
        Fixture { db, page, report }
    })
}

/// Puts hostile text where the page shows it (the most starred repository's description, the
/// most common language), and rows of the table an analyzer writes, with categories by language.
fn hostile_and_categories(db: &Path) {
    let conn = Connection::open(db).unwrap();
    conn.execute_batch(&format!(
        "UPDATE repositories SET description = '{}'
           WHERE id = (SELECT id FROM repositories ORDER BY stargazers_count DESC, id LIMIT 1);
         UPDATE repositories SET language = '{}'
           WHERE language = (SELECT language FROM repositories WHERE language IS NOT NULL
                             GROUP BY language ORDER BY count(*) DESC, language LIMIT 1);
         DELETE FROM analyzed_repositories;
         INSERT INTO analyzed_repositories
             (repo_id, analyzer, analyzer_version, category, score, signals, input_hash, analyzed_at, fetched_at)
           SELECT id, 'rules', '1', CASE WHEN fork THEN 'fork' WHEN language IS NULL THEN 'docs'
                                         WHEN stargazers_count > 10 THEN 'popular' ELSE 'library' END, 1.0, '{{}}',
                  'h', fetched_at, fetched_at
           FROM repositories;
         INSERT INTO analyzed_repositories
             (repo_id, analyzer, analyzer_version, category, score, signals, input_hash, analyzed_at, fetched_at)
           SELECT id, 'other', '1', 'x', 0.0, '{{}}', 'h', fetched_at, fetched_at FROM repositories LIMIT 5;",
        HOSTILE_DESCRIPTION.replace('\'', "''"),
        HOSTILE_LANGUAGE.replace('\'', "''"),
    ))
    .unwrap();
}

/// The Chromium binary; its absence fails the setup (never skips).
fn chromium() -> PathBuf {
    let path = std::env::var_os("OCTOSHARD_TEST_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| {
        panic!(
            "setup: OCTOSHARD_TEST_CHROMIUM is not set; run `eval \"$(bash scripts/browser.sh)\"` first \
             (scripts/test.sh does)"
        )
    });
    assert!(path.is_file(), "setup: OCTOSHARD_TEST_CHROMIUM={} is not a file; run scripts/browser.sh", path.display());
    path
}

/// Runs headless Chromium on `page` with `args`, in a profile of its own and its own process
/// group (killed whole after [`CHROMIUM_TIMEOUT`]); returns its stdout. Every request that would
/// leave the machine, loopback included, goes to the proxy at `proxy_port`.
fn headless(page: &Path, proxy_port: u16, args: &[String]) -> String {
    use std::os::unix::process::CommandExt as _;
    let profile = TestDir::new();
    let stdout_path = profile.path("stdout");
    let stderr_path = profile.path("stderr");
    let mut command = Command::new(chromium());
    command
        .args(["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        .args(["--no-first-run", "--no-default-browser-check", "--hide-scrollbars", "--mute-audio"])
        // Chromium's own background traffic (updates, metrics, safe browsing) is not the page's.
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .args(["--disable-default-apps", "--disable-domain-reliability", "--no-pings", "--metrics-recording-only"])
        .args([
            "--disable-client-side-phishing-detection",
            "--disable-extensions",
            "--disable-features=OptimizationHints,MediaRouter,Translate,NetworkTimeServiceQuerying,AccountConsistency,ChromeSignin",
        ])
        .arg(format!("--user-data-dir={}", profile.path("profile").display()))
        .arg(format!("--proxy-server=http://127.0.0.1:{proxy_port}"))
        .arg("--proxy-bypass-list=<-loopback>")
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .process_group(0);
    let mut child = command.spawn().expect("start chromium");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > CHROMIUM_TIMEOUT {
            // The group holds Chromium's helpers (zygote, renderer) too.
            kill_group(child.id());
            let _ = child.wait();
            panic!(
                "chromium did not finish within {CHROMIUM_TIMEOUT:?}; stderr:\n{}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // Helpers left behind by a finished Chromium go with its group.
    kill_group(child.id());
    assert!(
        status.success(),
        "chromium failed: {status}; stderr:\n{}",
        std::fs::read_to_string(&stderr_path).unwrap_or_default()
    );
    std::fs::read_to_string(&stdout_path).unwrap()
}

/// SIGKILL to the process group `leader` made (`process_group(0)`), with the system call: never
/// through the `kill` program, whose Debian 12 version (procps 4.0.2) takes `kill -KILL -PGID`
/// for `kill -KILL -1`, every process of the user.
fn kill_group(leader: u32) {
    let group = libc::pid_t::try_from(leader).expect("a pid");
    assert!(group > 1, "process group {group}: never 0, 1 or all");
    // SAFETY: kill(2) with a negative pid signals exactly that process group; no memory is shared.
    unsafe { libc::kill(-group, libc::SIGKILL) };
}

/// A proxy that answers nothing and records the first bytes of every connection made to it.
struct Recorder {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Recorder {
    fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            stream.set_nonblocking(false).unwrap();
                            stream.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
                            let mut head = [0u8; 200];
                            let n = stream.read(&mut head).unwrap_or(0);
                            let line = String::from_utf8_lossy(&head[..n]).lines().next().unwrap_or("").to_string();
                            seen.lock().unwrap().push(line);
                            let _ = stream.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(10))
                        }
                        Err(e) => panic!("recorder: {e}"),
                    }
                }
            })
        };
        Recorder { port, seen, stop, thread: Some(thread) }
    }

    /// Stops listening and returns what came.
    fn finish(mut self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap();
        self.seen.lock().unwrap().clone()
    }
}

/// Domains of Chromium's own background services (component updater, account sign-in, network
/// time) that Chromium 156 calls in headless mode whatever the flags; the report names none of
/// them (checked), so a request there is the browser's, not the page's.
const CHROMIUM_SERVICES: &[&str] = &["google.com", "googleapis.com", "gvt1.com", "gstatic.com"];

/// The host a proxied request line is for: `CONNECT host:443 HTTP/1.1` or `GET http://host/p HTTP/1.1`.
fn host(line: &str) -> String {
    let target = line.split_whitespace().nth(1).unwrap_or("");
    let target = target.split_once("://").map_or(target, |(_, rest)| rest);
    let authority = target.split('/').next().unwrap_or("");
    authority.rsplit_once(':').map_or(authority, |(host, _)| host).to_ascii_lowercase()
}

/// The requests a page made: what the proxy saw, less Chromium's own services.
fn page_requests(seen: Vec<String>) -> Vec<String> {
    seen.into_iter()
        .filter(|line| {
            let host = host(line);
            !CHROMIUM_SERVICES.iter().any(|domain| host == *domain || host.ends_with(&format!(".{domain}")))
        })
        .collect()
}

/// The page as Chromium's DOM after loading (scripts would have run by then).
fn dom(page: &Path) -> String {
    let recorder = Recorder::start();
    let dom = headless(page, recorder.port, &["--dump-dom".to_string()]);
    assert_eq!(page_requests(recorder.finish()), Vec::<String>::new(), "requests while dumping the DOM");
    assert!(dom.contains("</html>"), "not a dumped DOM:\n{dom}");
    dom
}

/// The text between `start` (from its first occurrence) and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

/// Every number in `text`, in order: `1,234` is 1234, `93.4` is 93.4, `2024-01` is 2024 and 1.
fn numbers(text: &str) -> Vec<f64> {
    text.split(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.'))
        .map(|token| token.trim_matches(|c| c == ',' || c == '.').replace(',', ""))
        .filter(|token| !token.is_empty())
        .map(|token| token.parse().unwrap_or_else(|_| panic!("not a number: {token}")))
        .collect()
}

fn sql_i64(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |row| row.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn sql_text(conn: &Connection, sql: &str) -> String {
    conn.query_row(sql, [], |row| row.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Months from `first` to `last` (`YYYY-MM`), both included, and the four numbers of both.
fn month_span(first: &str, last: &str) -> (f64, [f64; 4]) {
    let parse = |m: &str| -> (f64, f64) {
        let (y, mo) = m.split_once('-').unwrap();
        (y.parse().unwrap(), mo.parse().unwrap())
    };
    let ((y1, m1), (y2, m2)) = (parse(first), parse(last));
    ((y2 - y1) * 12.0 + (m2 - m1) + 1.0, [y1, m1, y2, m2])
}

/// Each chart's caption numbers, computed here with SQL of its own from the database.
fn expected_captions(db: &Path) -> Vec<(&'static str, Vec<f64>)> {
    let conn = Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let n = |sql: &str| sql_i64(&conn, sql) as f64;

    let repositories = n("SELECT count(*) FROM repositories");
    let languages = n("SELECT count(DISTINCT language) FROM repositories");
    let max_stars = n("SELECT max(stargazers_count) FROM repositories");
    let buckets = if max_stars > 0.0 { (max_stars.log10().floor() + 2.0).round() } else { 1.0 };

    let created = n("SELECT count(*) FROM repositories WHERE created_at IS NOT NULL");
    let (months, ends) = month_span(
        &sql_text(&conn, "SELECT substr(min(created_at), 1, 7) FROM repositories"),
        &sql_text(&conn, "SELECT substr(max(created_at), 1, 7) FROM repositories"),
    );

    let times = "SELECT created_at AS t FROM pull_requests UNION ALL SELECT closed_at FROM pull_requests
                 UNION ALL SELECT created_at FROM issues UNION ALL SELECT closed_at FROM issues";
    let (item_months, _) = month_span(
        &sql_text(&conn, &format!("SELECT substr(min(t), 1, 7) FROM ({times}) WHERE t IS NOT NULL")),
        &sql_text(&conn, &format!("SELECT substr(max(t), 1, 7) FROM ({times}) WHERE t IS NOT NULL")),
    );

    let runs = n("SELECT count(*) FROM ci_runs WHERE status = 'completed'");
    let successes = n("SELECT count(*) FROM ci_runs WHERE status = 'completed' AND conclusion = 'success'");
    let workflows =
        n("SELECT count(DISTINCT coalesce(workflow_name, '(unnamed)')) FROM ci_runs WHERE status = 'completed'");
    let rate = (1000.0 * successes / runs).round() / 10.0;

    let ranges = "FROM work_items WHERE kind = 'id_range'";
    let inside = n("SELECT count(*) FROM repositories r WHERE EXISTS (SELECT 1 FROM work_items w
                    WHERE w.kind = 'id_range' AND r.id >= json_extract(w.spec, '$.from')
                    AND r.id < CAST(json_extract(w.spec, '$.to') AS REAL))");

    let categories = n("SELECT count(DISTINCT category) FROM analyzed_repositories WHERE analyzer = 'rules'");

    vec![
        ("languages", vec![repositories, languages, languages.min(15.0)]),
        ("stars", vec![repositories, n("SELECT count(*) FROM repositories WHERE stargazers_count > 0"), buckets]),
        ("repositories-created", [vec![created, months], ends.to_vec()].concat()),
        (
            "pulls-issues",
            vec![
                n("SELECT count(*) FROM pull_requests"),
                n("SELECT count(closed_at) FROM pull_requests"),
                n("SELECT count(*) FROM issues"),
                n("SELECT count(closed_at) FROM issues"),
                item_months,
            ],
        ),
        ("ci-success", vec![runs, workflows, successes, rate, workflows.min(15.0)]),
        (
            "shard-coverage",
            vec![
                n(&format!("SELECT count(DISTINCT shard) {ranges}")),
                n(&format!("SELECT count(*) {ranges}")),
                n(&format!("SELECT count(*) {ranges} AND status = 'completed'")),
                n(&format!("SELECT count(*) {ranges} AND status = 'failed'")),
                inside,
            ],
        ),
        (
            "api-spend",
            vec![
                n("SELECT sum(cost) FROM api_request_totals"),
                n("SELECT sum(requests) FROM api_request_totals"),
                n("SELECT count(DISTINCT hour) FROM api_request_totals"),
                n("SELECT count(DISTINCT shard) FROM api_request_totals"),
            ],
        ),
        (
            "categories",
            vec![
                n("SELECT count(DISTINCT repo_id) FROM analyzed_repositories WHERE analyzer = 'rules'"),
                categories,
                categories.min(15.0),
            ],
        ),
    ]
}

#[test]
fn every_chart_is_drawn_with_shapes_and_captions_equal_to_sql() {
    let fixture = fixture();
    let drawn: Vec<&str> = fixture.report.drawn.iter().map(|c| c.id).collect();
    assert_eq!(drawn, CHARTS, "skipped: {:?}", fixture.report.skipped);
    let dom = dom(&fixture.page);
    for (id, want) in expected_captions(&fixture.db) {
        let figure = between(&dom, &format!("data-chart=\"{id}\""), "</figure>")
            .unwrap_or_else(|| panic!("no data-chart=\"{id}\" element in the DOM"));
        let svg = between(figure, "<svg", "</svg>").unwrap_or_else(|| panic!("{id}: no <svg>"));
        let shapes: usize =
            ["<rect", "<path", "<polyline", "<circle", "<line"].iter().map(|t| svg.matches(t).count()).sum();
        assert!(shapes > 10, "{id}: only {shapes} shapes drawn");
        assert!(svg.matches("<text").count() >= 4, "{id}: axis labels and descriptions are text");
        let caption = between(figure, "<figcaption>", "</figcaption>").unwrap_or_else(|| panic!("{id}: no caption"));
        assert!(!figure.contains("<h2></h2>"), "{id}: a title");
        let got = numbers(caption);
        assert_eq!(got, want, "{id}: caption \"{caption}\"");
        let reported = &fixture.report.drawn.iter().find(|c| c.id == id).unwrap().caption;
        assert_eq!(numbers(reported), want, "{id}: HtmlReport's caption");
    }
    // The header says when the data was fetched (the newest row, not the clock) and counts rows.
    let conn = Connection::open_with_flags(&fixture.db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let newest = sql_text(
        &conn,
        "SELECT max(t) FROM (SELECT max(fetched_at) AS t FROM repositories UNION ALL SELECT max(fetched_at) FROM pull_requests
         UNION ALL SELECT max(fetched_at) FROM issues UNION ALL SELECT max(fetched_at) FROM ci_runs
         UNION ALL SELECT max(fetched_at) FROM etags)",
    );
    assert!(dom.contains(&format!("<time datetime=\"{newest}\">{newest}</time>")), "fetched time {newest}");
    for table in ["repositories", "pull_requests", "issues", "ci_runs", "work_items", "api_request_totals"] {
        let rows = sql_i64(&conn, &format!("SELECT count(*) FROM {table}"));
        let row = between(&dom, &format!("<tr data-table=\"{table}\">"), "</tr>").unwrap();
        assert_eq!(numbers(row), vec![rows as f64], "{table} row count");
    }
    assert!(fixture.report.bytes < 2_000_000, "a small crawl gives a small page: {} bytes", fixture.report.bytes);
}

#[test]
fn the_report_renders_to_a_screenshot_that_is_not_blank() {
    let fixture = fixture();
    let shots = TestDir::new();
    let shot = shots.path("report.png");
    let recorder = Recorder::start();
    headless(
        &fixture.page,
        recorder.port,
        &[format!("--screenshot={}", shot.display()), "--window-size=1280,5000".to_string()],
    );
    assert_eq!(page_requests(recorder.finish()), Vec::<String>::new(), "requests while rendering");
    let bytes = std::fs::read(&shot).expect("chromium wrote the screenshot");
    let image = decode_png(&bytes);
    assert_eq!((image.width, image.height), (1280, 5000));
    let (distinct, inked) = image.variance();
    assert!(distinct >= 16, "{distinct} distinct colors: a blank page");
    assert!(inked > 0.02, "only {:.2}% of the pixels are not white", inked * 100.0);
    // Kept for people to look at: target/test-artifacts/report.png (and the page beside it).
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::copy(&shot, artifacts.join("report.png")).unwrap();
    std::fs::copy(&fixture.page, artifacts.join("report.html")).unwrap();
}

#[test]
fn the_page_makes_no_network_request_while_a_control_page_does() {
    let fixture = fixture();
    let page = std::fs::read_to_string(&fixture.page).unwrap();
    // Every place a page can name something to load, at every occurrence: no URL of anywhere.
    let lower = page.to_ascii_lowercase();
    for attribute in ["src=", "href=", "url(", "@import", "<link", "<script", "srcset=", "action="] {
        for (at, _) in lower.match_indices(attribute) {
            let after = &lower[at..(at + 120).min(lower.len())];
            let value = after.split(['>', ' ']).next().unwrap_or("");
            for scheme in ["http:", "https:", "//", "ftp:", "ws:", "wss:"] {
                assert!(!value.contains(scheme), "{attribute} loads from elsewhere: {value}");
            }
        }
    }
    let outside = ["http://", "https://"].iter().map(|s| lower.matches(s).count()).sum::<usize>();
    let namespaces = lower.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
    assert_eq!(outside, namespaces, "the only URLs are the SVG namespace names (never loaded)");
    assert!(!page.contains("<script"), "no script at all");
    for domain in CHROMIUM_SERVICES {
        assert!(!page.contains(domain), "the page names {domain}: its requests could not be told from Chromium's");
    }
    assert!(page.contains("content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\""));

    let recorder = Recorder::start();
    headless(&fixture.page, recorder.port, &["--dump-dom".to_string()]);
    assert_eq!(page_requests(recorder.finish()), Vec::<String>::new(), "the report made requests");

    // The recorder does see a page that loads an image from elsewhere: silence above means something.
    let control = TestDir::new();
    let control_page =
        control.write("control.html", "<html><body><img src=\"http://203.0.113.7/x.png\"></body></html>");
    let recorder = Recorder::start();
    headless(&control_page, recorder.port, &["--dump-dom".to_string()]);
    let seen = page_requests(recorder.finish());
    assert!(seen.iter().any(|line| host(line) == "203.0.113.7"), "the control page's request was not seen: {seen:?}");
}

#[test]
fn hostile_text_is_shown_escaped_and_never_becomes_elements() {
    let fixture = fixture();
    let dom = dom(&fixture.page);
    // Nothing ran: the title is the page's own (the hostile text would have set it to "pwned").
    let title = between(&dom, "<title>", "</title>").unwrap();
    assert_eq!(title, "octoshard report: merged.sqlite");
    for tag in ["<img", "<script", "<b>", "<iframe"] {
        assert!(!dom.contains(tag), "{tag} in the DOM");
    }
    // The description is in the table as text, escaped by the serializer exactly as it was escaped.
    let table = between(&dom, "id=\"top-repositories\"", "</section>").unwrap();
    assert!(
        table.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;\"&gt;&lt;img src=x onerror=\"document.title='pwned'\"&gt;&lt;b&gt;bold&lt;/b&gt;"),
        "the description is shown as text:\n{table}"
    );
    let rows = table.matches("<tr>").count();
    assert_eq!(table.matches("<td").count(), 4 * (rows - 1), "four cells a row, none added");
    // In a chart's SVG text too.
    let languages = between(&dom, "data-chart=\"languages\"", "</figure>").unwrap();
    assert!(languages.contains("\"&gt;&lt;img src=x onerror=alert(1)&gt;"), "{languages}");
}

/// An 8-bit RGB or RGBA PNG, decoded (all five row filters) into its pixels.
struct Image {
    width: usize,
    height: usize,
    channels: usize,
    pixels: Vec<u8>,
}

impl Image {
    /// Distinct colors (of a sample) and the share of pixels that are not white.
    fn variance(&self) -> (usize, f64) {
        let mut colors = std::collections::BTreeSet::new();
        let mut inked = 0usize;
        let total = self.width * self.height;
        for pixel in self.pixels.chunks(self.channels) {
            if pixel[..3].iter().any(|v| *v < 250) {
                inked += 1;
            }
            if colors.len() < 4096 {
                colors.insert((pixel[0], pixel[1], pixel[2]));
            }
        }
        (colors.len(), inked as f64 / total as f64)
    }
}

fn decode_png(bytes: &[u8]) -> Image {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let (mut width, mut height, mut channels) = (0, 0, 0);
    let mut data = Vec::new();
    let mut at = 8;
    while at + 8 <= bytes.len() {
        let length = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let kind = &bytes[at + 4..at + 8];
        let body = &bytes[at + 8..at + 8 + length];
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(body[0..4].try_into().unwrap()) as usize;
                height = u32::from_be_bytes(body[4..8].try_into().unwrap()) as usize;
                assert_eq!(body[8], 8, "bit depth");
                channels = match body[9] {
                    2 => 3,
                    6 => 4,
                    other => panic!("color type {other}"),
                };
                assert_eq!(body[12], 0, "interlaced");
            }
            b"IDAT" => data.extend_from_slice(body),
            b"IEND" => break,
            _ => {}
        }
        at += 12 + length;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&data[..]).read_to_end(&mut raw).unwrap();
    let stride = width * channels;
    assert_eq!(raw.len(), height * (stride + 1), "decoded size");
    let mut pixels = vec![0u8; height * stride];
    for y in 0..height {
        let filter = raw[y * (stride + 1)];
        let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
        for x in 0..stride {
            let a = if x >= channels { pixels[y * stride + x - channels] as i16 } else { 0 };
            let b = if y > 0 { pixels[(y - 1) * stride + x] as i16 } else { 0 };
            let c = if x >= channels && y > 0 { pixels[(y - 1) * stride + x - channels] as i16 } else { 0 };
            let predictor = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) / 2,
                4 => {
                    let p = a + b - c;
                    let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                other => panic!("filter {other}"),
            };
            pixels[y * stride + x] = (line[x] as i16 + predictor) as u8;
        }
    }
    Image { width, height, channels, pixels }
}
