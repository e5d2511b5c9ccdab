//! The pages as a person uses them, in Debian's headless Chromium driven over WebDriver (chromedriver): a
//! resident declares and gets a pass whose QR reads back to the token; the scanner reads a QR from a fake camera
//! and admits; the scanner goes offline, scans, comes back, and the server holds each scan exactly once; an
//! officer prints a pass card; the card, the venue poster and the paper form print on one A4 page each without
//! the site's menu; axe-core finds no WCAG A/AA violation on any page, every page stays under 150 KB
//! transferred and fits a 360 px screen, and no page shows an internal code. Screenshots and the printed
//! documents go to `target/browser-artifacts/`.
//!
//! Needs `chromium` and `chromium-driver` (Debian) and `npm ci` in `tests/browser` (axe-core); `.ci/run`
//! installs them. Without them the tests say so and pass, except under CI, where they fail.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

mod common;

use common::{Backend, COMMUNE, RESIDENTS, TestApp, foreign_vaccination, person, read_qr_png};
use kiemdich_server::hash_password;
use kiemdich_store::Role;
use reqwest::Client;
use serde_json::{Value, json};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const PASSWORD: &str = "browser-test-password";

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    // Chromium refuses a camera file whose path has `..` in it.
    dir.canonicalize().unwrap()
}

fn axe_source() -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(path).ok()
}

/// Whether the browser tools are here; under CI their absence is a failure, elsewhere a notice.
fn tools_present() -> bool {
    let present = Path::new("/usr/bin/chromedriver").exists()
        && Path::new("/usr/bin/chromium").exists()
        && axe_source().is_some();
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "browser tests need chromium, chromium-driver and `npm ci` in crates/server/tests/browser"
        );
        eprintln!(
            "skipped: chromium, chromium-driver or axe-core (npm ci in tests/browser) is missing"
        );
    }
    present
}

/// One chromedriver with one Chromium session; both end when this is dropped.
struct Browser {
    driver: Child,
    http: Client,
    base: String,
    _profile: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Browser {
    /// Kills chromedriver's whole process group: Chromium too, which outlives chromedriver otherwise (also when
    /// a test fails).
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    /// Starts Chromium headless with a fresh profile; `camera` is a Y4M file played as the fake webcam.
    async fn start(width: u32, camera: Option<&Path>) -> Browser {
        let port = free_port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let http = Client::new();
        let root = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{root}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile =
            std::env::temp_dir().join(format!("kiemdich-chromium-{}-{port}", std::process::id()));
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-quic".into(),
            format!("--user-data-dir={}", profile.display()),
            format!("--window-size={width},900"),
        ];
        if let Some(file) = camera {
            args.push("--use-fake-ui-for-media-stream".into());
            args.push("--use-fake-device-for-media-stream".into());
            args.push(format!(
                "--use-file-for-fake-video-capture={}",
                file.display()
            ));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}}}});
        let res: Value = http
            .post(format!("{root}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {res}"));
        let b = Browser {
            driver,
            http,
            base: format!("{root}/session/{session}"),
            _profile: TempDir(profile),
        };
        // Headless Chromium's window is at least 500 px wide whatever it is asked for; a phone's viewport it
        // is told through DevTools, for every page this browser opens.
        if width < 500 {
            b.cdp(
                "Emulation.setDeviceMetricsOverride",
                json!({"width": width, "height": 800, "deviceScaleFactor": 2, "mobile": true}),
            )
            .await;
        }
        b
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res: Value = req.send().await.unwrap().json().await.unwrap();
        if let Some(err) = res["value"].get("error") {
            panic!("WebDriver {path}: {err}: {}", res["value"]["message"]);
        }
        res["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.cmd(reqwest::Method::POST, path, Some(body)).await
    }

    /// Opens `url`, first failing on any Content-Security-Policy violation the previous page logged.
    async fn goto(&self, url: &str) {
        let logs = self.post("/se/log", json!({"type": "browser"})).await;
        for l in logs.as_array().into_iter().flatten() {
            let m = l["message"].as_str().unwrap_or_default();
            assert!(!m.contains("Content Security Policy"), "CSP violation: {m}");
        }
        self.post("/url", json!({"url": url})).await;
    }

    async fn js(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// Runs an async script: the last argument is the callback.
    async fn js_async(&self, script: &str, args: Value) -> Value {
        self.post("/execute/async", json!({"script": script, "args": args}))
            .await
    }

    async fn find(&self, css: &str) -> String {
        self.wait(&format!("document.querySelector({css:?}) !== null"), css)
            .await;
        let v = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        v[ELEMENT].as_str().unwrap().to_owned()
    }

    async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.post(&format!("/element/{el}/click"), json!({})).await;
    }

    /// Types into a field as a keyboard would.
    async fn fill(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.post(&format!("/element/{el}/clear"), json!({})).await;
        self.post(&format!("/element/{el}/value"), json!({"text": text}))
            .await;
    }

    /// Waits until a JavaScript condition holds (up to 20 s).
    async fn wait(&self, condition: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if self
                .js(&format!("return !!({condition});"), json!([]))
                .await
                == json!(true)
            {
                return;
            }
            if Instant::now() > deadline {
                let name = format!(
                    "timeout-{}.png",
                    what.replace(|c: char| !c.is_alphanumeric(), "_")
                );
                Box::pin(self.screenshot(&name)).await;
                let text = self.js("return document.body.innerText", json!([])).await;
                panic!("timed out waiting for {what}; the page says: {text}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, name: &str) -> Vec<u8> {
        let b64 = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        save(name, &b64)
    }

    async fn element_screenshot(&self, css: &str, name: &str) -> Vec<u8> {
        let el = self.find(css).await;
        let b64 = self
            .cmd(
                reqwest::Method::GET,
                &format!("/element/{el}/screenshot"),
                None,
            )
            .await;
        save(name, &b64)
    }

    /// Cuts the browser off the network (or restores it), as a phone losing signal.
    async fn set_offline(&self, offline: bool) {
        let conditions = json!({"network_conditions": {"offline": offline, "latency": 0,
            "download_throughput": -1, "upload_throughput": -1}});
        self.post("/chromium/network_conditions", conditions).await;
    }

    /// Signs in through the API from inside the page, which leaves the session cookie in the browser.
    async fn sign_in(&self, app: &TestApp, username: &str) {
        self.goto(&app.at("/healthz")).await;
        let status = self
            .js_async(
                "const done = arguments[arguments.length - 1];
                 fetch('/api/v1/auth/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
                   body: JSON.stringify({username: arguments[0], password: arguments[1]})}).then(r => done(r.status));",
                json!([username, PASSWORD]),
            )
            .await;
        assert_eq!(status, 200, "sign-in of {username}");
    }
}

fn save(name: &str, b64: &Value) -> Vec<u8> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.as_str().unwrap())
        .unwrap();
    std::fs::write(artifacts().join(name), &bytes).unwrap();
    bytes
}

async fn app_with_staff() -> TestApp {
    let app = common::spawn(Backend::Sqlite).await.unwrap();
    let hash = hash_password(PASSWORD).unwrap();
    let province = kiemdich_domain::UnitCode::parse("94").unwrap();
    for (name, role) in [
        ("admin1", Role::Admin),
        ("officer1", Role::Officer),
        ("scanner1", Role::Checkpoint),
        ("venue1", Role::Venue),
        ("lab1", Role::Lab),
    ] {
        app.store
            .create_staff(name, &hash, role, &province)
            .await
            .unwrap();
    }
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_signs_in_declares_and_gets_a_pass_whose_qr_reads_back() {
    if !tools_present() {
        return;
    }
    let app = app_with_staff().await;
    let b = Browser::start(412, None).await;
    let (citizen, phone) = (RESIDENTS[0].0, RESIDENTS[0].5);
    b.goto(&app.at("/")).await;
    b.fill("[name=citizen_id]", citizen).await;
    b.click("form[data-api='/api/v1/otp'] button").await;
    b.wait(
        "!document.getElementById('code-step').hidden",
        "the code step",
    )
    .await;
    let code = app.sent_code(phone).await;
    b.fill("#code-step [name=code]", &code).await;
    b.click("#code-step button").await;
    // Signed in, the form is filled from the registry; the resident only confirms and consents.
    b.find("#declare").await;
    let name = b
        .js(
            "return document.querySelector('[name=\"people.0.full_name\"]').value",
            json!([]),
        )
        .await;
    assert_eq!(name, RESIDENTS[0].1);
    b.click("#consent").await;
    b.click("#declare > button:not([type=button])").await;
    b.find("#result .qr[data-token] img").await;
    b.wait(
        "document.querySelector('#result .qr img').complete && document.querySelector('#result .qr img').naturalWidth > 0",
        "the QR image",
    )
    .await;
    let shown = b
        .js(
            "return document.querySelector('#result .qr').dataset.token",
            json!([]),
        )
        .await;
    let stored = app.store.latest_pass(citizen).await.unwrap().unwrap().token;
    assert_eq!(shown, stored);
    let png = b
        .element_screenshot("#result .qr", "resident-pass-qr.png")
        .await;
    assert_eq!(
        read_qr_png(&png).0,
        stored,
        "the QR on screen reads back to the pass"
    );
    b.screenshot("resident-declared.png").await;
    // Sent again unchanged (a lost answer, a second press): the same declaration answers, none is added.
    let declared = app.count("declarations").await;
    b.js(
        "document.querySelector('#result .card').id = 'first-answer'",
        json!([]),
    )
    .await;
    b.click("#declare > button:not([type=button])").await;
    b.wait(
        "!document.getElementById('first-answer') && document.querySelector('#result .qr')",
        "the answer to the form sent again",
    )
    .await;
    assert_eq!(app.count("declarations").await, declared);
    let shown = b
        .js(
            "return document.querySelector('#result .qr').dataset.token",
            json!([]),
        )
        .await;
    assert_eq!(shown, stored, "the first answer's pass, still the live one");
    // The resident's page now shows the pass, and the read of their own data is audited.
    b.goto(&app.at("/")).await;
    b.find(".qr img").await;
    let audit = app
        .store
        .audit_entries(&format!("citizen:{citizen}"), 50)
        .await
        .unwrap();
    assert!(audit.iter().any(|e| e.action == "resident.self_read"));
    // A daily update with SpO2 90: the page says at once that the station was told and when to call 115.
    b.fill("#update [name=spo2]", "90").await;
    b.click("#update button").await;
    b.wait(
        "document.getElementById('update').innerText.includes('trạm y tế đã được báo')",
        "the urgent reply",
    )
    .await;
    b.screenshot("resident-urgent-update.png").await;
}

/// A Y4M video (one frame, looped by Chromium) of `text` as a QR code on white.
fn qr_video(text: &str) -> PathBuf {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).unwrap();
    let (w, h, scale, quiet) = (640usize, 480usize, 6usize, 4usize);
    let modules = code.width();
    let side = (modules + 2 * quiet) * scale;
    let (ox, oy) = ((w - side) / 2, (h - side) / 2);
    let colors = code.to_colors();
    let mut y_plane = vec![235u8; w * h];
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (mx, my) = (i % modules + quiet, i / modules + quiet);
            for y in 0..scale {
                let row = (oy + my * scale + y) * w + ox + mx * scale;
                y_plane[row..row + scale].fill(16);
            }
        }
    }
    let mut file = b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\nFRAME\n".to_vec();
    file.extend_from_slice(&y_plane);
    file.extend(std::iter::repeat_n(128u8, w * h / 2));
    let path = artifacts().join("camera-feed.y4m");
    std::fs::write(&path, file).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scanner_reads_a_qr_from_the_camera_and_admits() {
    if !tools_present() {
        return;
    }
    let app = app_with_staff().await;
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let token = app.pass_of(0, false).await;
    // A small phone's screen: the camera's 640 px picture must fit it.
    let b = Browser::start(360, Some(&qr_video(&token))).await;
    b.sign_in(&app, "scanner1").await;
    b.goto(&app.at("/scan")).await;
    b.js(
        &format!("document.getElementById('location').value = '{checkpoint}'"),
        json!([]),
    )
    .await;
    assert_eq!(
        b.js(
            "return document.getElementById('camera-stop').getBoundingClientRect().width",
            json!([])
        )
        .await,
        0,
        "no stop button before the camera runs"
    );
    b.click("#camera-start").await;
    b.wait(
        "document.getElementById('decision').dataset.decision === 'admit'",
        "admit from the camera",
    )
    .await;
    let text = b
        .js(
            "return document.getElementById('decision').textContent",
            json!([]),
        )
        .await;
    assert!(text.as_str().unwrap().contains("Nguyễn Văn An"), "{text}");
    b.screenshot("scanner-camera-admit.png").await;
    let fit = b
        .js(
            "const v = document.getElementById('camera');
             return [v.videoWidth, v.getBoundingClientRect().width, window.innerWidth,
                     document.documentElement.scrollWidth - window.innerWidth];",
            json!([]),
        )
        .await;
    assert!(
        fit[0].as_f64().unwrap() >= 640.0
            && fit[2] == 360
            && fit[1].as_f64().unwrap() > 0.0
            && fit[1].as_f64().unwrap() <= 360.0
            && fit[1].as_f64().unwrap() <= fit[2].as_f64().unwrap()
            && fit[3].as_i64().unwrap() <= 0,
        "the 640 px picture fits the 360 px screen: [picture, shown, window, overflow] = {fit}"
    );
    // Stop: the camera's tracks end, the preview goes, and Start comes back.
    b.js(
        "window.cameraStream = document.getElementById('camera').srcObject",
        json!([]),
    )
    .await;
    b.click("#camera-stop").await;
    let stopped = b
        .js(
            "const v = document.getElementById('camera');
             return [window.cameraStream.getTracks().every(t => t.readyState === 'ended'), v.hidden,
                     v.getBoundingClientRect().width, document.getElementById('camera-stop').hidden,
                     document.getElementById('camera-start').getBoundingClientRect().width > 0];",
            json!([]),
        )
        .await;
    assert_eq!(
        stopped,
        json!([true, true, 0, true, true]),
        "[tracks ended, video hidden, width, stop hidden, start shown]"
    );
    // Start again: the camera reads the pass once more.
    b.js("clearResult()", json!([])).await;
    b.click("#camera-start").await;
    b.wait(
        "document.getElementById('decision').dataset.decision === 'admit' && !document.getElementById('camera').hidden",
        "admit from the camera started again",
    )
    .await;
    b.wait(
        "document.getElementById('queue').dataset.pending === '0'",
        "the scan to reach the server",
    )
    .await;
    let presence: Value = app
        .get(
            &format!("/api/v1/locations/{checkpoint}/presence"),
            Some(&app.health),
        )
        .await
        .json()
        .await
        .unwrap();
    let events = presence["events"].as_array().unwrap();
    assert!(!events.is_empty(), "the camera scan is stored");
    assert!(
        events
            .iter()
            .all(|e| e["decision"] == "admit" && e["method"] == "pass")
    );
}

/// What the scanner's result box says.
/// The scanner signed in as `scanner1` at `place`, synced once, then cut off from the network.
async fn offline_scanner_at(app: &TestApp, place: i64) -> Browser {
    let b = Browser::start(412, None).await;
    b.sign_in(app, "scanner1").await;
    b.goto(&app.at("/scan")).await;
    b.js(
        &format!("document.getElementById('location').value = '{place}'"),
        json!([]),
    )
    .await;
    b.wait(
        "document.getElementById('queue').dataset.synced === 'yes'",
        "the first sync of the trust lists",
    )
    .await;
    b.set_offline(true).await;
    b.wait(
        "navigator.onLine === false",
        "the browser to see it is offline",
    )
    .await;
    b
}

/// Types `token` into the scanner, waits for `decision`, and returns what the decision box says.
async fn scan_by_hand(b: &Browser, token: &str, decision: &str) -> String {
    b.fill("#token", token).await;
    b.click("#manual button").await;
    b.wait(
        &format!("document.getElementById('decision').dataset.decision === '{decision}'"),
        "an offline decision",
    )
    .await;
    decision_text(b).await
}

async fn decision_text(b: &Browser) -> String {
    b.js(
        "return document.getElementById('decision').innerText",
        json!([]),
    )
    .await
    .as_str()
    .unwrap()
    .to_owned()
}

/// The internal codes ([`RAW_CODES`]) a text shows.
async fn codes_in(b: &Browser, text: &str) -> Value {
    b.js(
        "return arguments[0].match(new RegExp(arguments[1], 'g')) || []",
        json!([text, RAW_CODES]),
    )
    .await
}

/// Offline, the scanner reads the vaccination state from the pass and shows it beside the colour; at a place
/// requiring two doses it refuses an admitted colour without them, saying why and what to do next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_scanner_shows_the_vaccination_state_beside_the_colour() {
    if !tools_present() {
        return;
    }
    let app = app_with_staff().await;
    let res = app
        .post(
            "/api/v1/locations",
            Some(&app.officer),
            &json!({"name": "Nhà hàng", "kind": "business", "commune_code": COMMUNE, "lat": 9.6, "lon": 105.97,
                    "vaccination": {"min_doses": 2, "min_days_since_last": 14}}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let restaurant = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    app.dose(0, "2021-07-01").await;
    app.dose(0, "2021-09-12").await;
    let (vaccinated, none) = (app.pass_of(0, false).await, app.pass_of(1, false).await);
    let b = offline_scanner_at(&app, restaurant).await;
    for (token, decision, expected) in [
        (&vaccinated, "admit", "Đã tiêm 2 mũi · mũi cuối 12/09/2021"),
        (&none, "refuse", "Chưa có dữ liệu tiêm chủng"),
    ] {
        let text = scan_by_hand(&b, token, decision).await;
        // Its own line, beside the colour's.
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        assert!(
            lines.contains(&"Xanh") && lines.contains(&expected),
            "{text}"
        );
        if decision == "refuse" {
            assert!(text.contains("liên hệ trạm y tế xã"), "{text}");
        }
    }
    b.screenshot("scanner-offline-vaccination.png").await;
}

/// Offline, the scanner verifies a foreign visitor's EU certificate against the signers' keys it synced: it
/// admits a valid one at a checkpoint (which accepts them), showing the name and birth year to compare with the
/// passport and the certificate's type, country and expiry; an expired one is refused with what to do; back
/// online, the server agrees with both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_scanner_decides_a_foreign_visitors_certificate() {
    if !tools_present() {
        return;
    }
    let app = app_with_staff().await;
    let signer = app.foreign_signer(&kiemdich_dcc::CertType::ALL).await;
    let now = chrono::Utc::now();
    let valid = foreign_vaccination(&signer, (2, 2), 40, now);
    let expired = foreign_vaccination(&signer, (2, 2), 500, now - chrono::Duration::days(400));
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let b = offline_scanner_at(&app, checkpoint).await;
    for (token, decision, expected) in [
        (
            &valid,
            "admit",
            "Chứng nhận COVID EU · tiêm chủng · DE · hết hạn",
        ),
        (&expired, "refuse", "Chứng nhận COVID đã hết hạn"),
    ] {
        let text = scan_by_hand(&b, token, decision).await;
        assert!(
            text.contains("Erika Mustermann") && text.contains("1964"),
            "{text}"
        );
        assert!(text.contains(expected), "{text}");
    }
    b.screenshot("scanner-offline-dcc.png").await;
    b.set_offline(false).await;
    b.wait(
        "document.getElementById('queue').dataset.pending === '0'",
        "the queue to reach the server",
    )
    .await;
    let conflicts = b
        .js(
            "return document.getElementById('conflicts').children.length",
            json!([]),
        )
        .await;
    assert_eq!(conflicts, json!(0), "the server decided as the scanner did");
    assert_eq!(app.count("presence_events").await, 2);
}

/// Staff compare an ID look-up with the card in their hand, read why someone is refused and what to do next,
/// never see the previous person's result, and find the device where they left it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scanner_shows_who_was_looked_up_why_a_refusal_and_what_next_and_forgets_old_results() {
    if !tools_present() {
        return;
    }
    let app = app_with_staff().await;
    let (first, second) = (
        app.location("checkpoint", COMMUNE).await,
        app.location("checkpoint", COMMUNE).await,
    );
    app.pass_of(0, false).await;
    let sick = app.pass_of(1, true).await;
    let b = Browser::start(412, None).await;
    b.sign_in(&app, "scanner1").await;
    b.goto(&app.at("/scan")).await;
    // The device's place: chosen once, here again after a reload.
    let default = b
        .js(
            "return document.getElementById('location').value",
            json!([]),
        )
        .await;
    let chosen = if default == json!(first.to_string()) {
        second
    } else {
        first
    };
    b.click(&format!("#location option[value='{chosen}']"))
        .await;
    b.click("#dir-out").await;
    b.goto(&app.at("/scan")).await;
    b.wait(
        "document.getElementById('queue').dataset.pending === '0'",
        "the first sync",
    )
    .await;
    let kept = b
        .js(
            "return [document.getElementById('location').value, document.getElementById('dir-out').checked]",
            json!([]),
        )
        .await;
    assert_eq!(
        kept,
        json!([chosen.to_string(), true]),
        "the place and direction survive a reload"
    );

    // An ID look-up: the registry's name and birth year, to hold against the card.
    b.fill("#citizen", RESIDENTS[0].0).await;
    b.click("#id-checked").await;
    b.click("#lookup button").await;
    b.wait(
        "document.getElementById('decision').dataset.decision === 'admit'",
        "the ID look-up",
    )
    .await;
    let text = decision_text(&b).await;
    assert!(
        text.contains(RESIDENTS[0].1) && text.contains("1990"),
        "{text}"
    );
    assert_eq!(codes_in(&b, &text).await, json!([]), "{text}");
    b.screenshot("scanner-id-lookup.png").await;

    // A new scan takes the previous result away at once: the box says it is checking, then the refusal.
    b.js(
        "window.boxSaid = [];
         new MutationObserver(ms => ms.forEach(m => { if (m.addedNodes.length)
           window.boxSaid.push([...m.addedNodes].map(n => n.textContent).join(' ')); }))
           .observe(document.getElementById('decision'), {childList: true});",
        json!([]),
    )
    .await;
    b.fill("#token", &sick).await;
    b.click("#manual button").await;
    b.wait(
        "document.getElementById('decision').dataset.decision === 'refuse'",
        "the refusal of a yellow pass",
    )
    .await;
    let said = b.js("return window.boxSaid", json!([])).await;
    let said: Vec<&str> = said
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(said.first(), Some(&"Đang kiểm tra…"), "{said:?}");
    assert!(
        said.iter().all(|s| !s.contains(RESIDENTS[0].1)),
        "the previous person stays on screen: {said:?}"
    );
    assert_eq!(
        b.js("return document.getElementById('token').value", json!([]))
            .await,
        "",
        "the pass code is gone after the check"
    );
    let text = decision_text(&b).await;
    assert!(
        text.contains("KHÔNG CHO VÀO")
            && text.contains("Mời đến lều y tế")
            && text.contains(RESIDENTS[1].1),
        "the refusal says why and what next: {text}"
    );
    assert_eq!(codes_in(&b, &text).await, json!([]), "{text}");
    b.screenshot("scanner-refusal-next-step.png").await;

    // Someone who never declared, looked up by ID: refused, with the next step and no code.
    b.fill("#citizen", RESIDENTS[3].0).await;
    b.click("#lookup button").await;
    b.wait(
        "document.getElementById('decision').innerText.includes('1970')",
        "the look-up of someone who never declared",
    )
    .await;
    let text = decision_text(&b).await;
    assert!(
        text.contains(RESIDENTS[3].1)
            && text.contains("chưa khai báo")
            && !text.contains("no_declaration"),
        "{text}"
    );
    assert_eq!(codes_in(&b, &text).await, json!([]), "{text}");

    // A result clears itself (here after a second rather than the usual twenty).
    b.js("clearAfterMs = 1000", json!([])).await;
    b.fill("#citizen", RESIDENTS[0].0).await;
    b.click("#lookup button").await;
    b.wait(
        "document.getElementById('decision').dataset.decision === 'admit'",
        "the second ID look-up",
    )
    .await;
    b.wait(
        "document.getElementById('decision').hidden && document.getElementById('decision').textContent === ''",
        "the result to clear itself",
    )
    .await;

    // The scans were made where the device stands, in the direction it remembered.
    b.wait(
        "document.getElementById('queue').dataset.pending === '0'",
        "the manual scan to reach the server",
    )
    .await;
    let presence: Value = app
        .get(
            &format!("/api/v1/locations/{chosen}/presence"),
            Some(&app.health),
        )
        .await
        .json()
        .await
        .unwrap();
    let events = presence["events"].as_array().unwrap();
    assert_eq!(events.len(), 4, "{presence}");
    assert!(events.iter().all(|e| e["direction"] == "out"), "{presence}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_scanner_keeps_scans_and_the_server_stores_each_once() {
    if !tools_present() {
        return;
    }
    let app = app_with_staff().await;
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let (a, revoked_meanwhile) = (app.pass_of(0, false).await, app.pass_of(1, false).await);
    // Online once (the trust list and revocations are cached), then offline.
    let b = offline_scanner_at(&app, checkpoint).await;
    // Revoked on the server while the scanner cannot know.
    let pass_id = app
        .store
        .latest_pass(RESIDENTS[1].0)
        .await
        .unwrap()
        .unwrap()
        .id;
    let res = app
        .post(
            &format!("/api/v1/passes/{pass_id}/revoke"),
            Some(&app.officer),
            &json!({"reason": "test"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    for (i, token) in [&a, &revoked_meanwhile, &a].iter().enumerate() {
        b.fill("#token", token).await;
        b.click("#manual button").await;
        b.wait(
            &format!(
                "document.getElementById('queue').dataset.pending === '{}'",
                i + 1
            ),
            "the queued scan",
        )
        .await;
        b.wait(
            "document.getElementById('decision').dataset.decision === 'admit'",
            "an offline admit",
        )
        .await;
    }
    b.screenshot("scanner-offline-queue.png").await;
    // A long day offline: 120 more scans queued, and one too old for the server to take.
    b.js_async(
        "const [place, token, done] = arguments;
         const at = t => new Date(Date.now() - t * 1000).toISOString();
         const bulk = [...Array(120).keys()].map(i => ({ idempotency_key: `bulk-${i}`, location_id: place, token,
           direction: 'out', scanned_at: at(600 - i), local_decision: 'admit', offline: true }));
         bulk.push({ idempotency_key: 'too-old', location_id: place, token, direction: 'in', scanned_at: at(4 * 86400),
           local_decision: 'admit', offline: true });
         Promise.all(bulk.map(item => idb('queue', 'readwrite', s => s.put(item)))).then(renderQueue).then(() => done(1));",
        json!([checkpoint, a]),
    )
    .await;
    assert_eq!(
        app.count("presence_events").await,
        0,
        "nothing reached the server offline"
    );
    // Every batch the page sends, by its number of scans.
    b.js(
        "window.batches = []; const send = window.fetch;
         window.fetch = (url, init) => { if (String(url).endsWith('/api/v1/scans/batch')) batches.push(JSON.parse(init.body).scans.length);
           return send(url, init); };",
        json!([]),
    )
    .await;
    b.set_offline(false).await;
    b.wait(
        "document.getElementById('queue').dataset.pending === '0'",
        "the queue to drain",
    )
    .await;
    let batches = b.js("return window.batches", json!([])).await;
    let sizes: Vec<u64> = batches
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    assert!(
        sizes.len() >= 2 && sizes.iter().all(|&n| n <= 100) && sizes.iter().sum::<u64>() >= 124,
        "the queue of 124 goes in batches of at most 100: {sizes:?}"
    );
    // Sync again, as after a lost answer: nothing is stored twice, and the refused scan is not sent again.
    b.js_async(
        "const done = arguments[0]; sync().then(() => done(1));",
        json!([]),
    )
    .await;
    assert_eq!(
        app.count("presence_events").await,
        123,
        "each scan exactly once, the one too old never"
    );
    // The scanner's own keys are ordered by time (UUID version 7), so its queue, kept in key order, went out in
    // the order it was scanned, and one device's keys sit together in the server's index.
    let keys: Vec<String> = {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar(
            "SELECT idempotency_key FROM presence_events WHERE idempotency_key NOT LIKE 'bulk-%' ORDER BY id",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
    };
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(
        keys.iter()
            .all(|k| k.len() == 36 && k.as_bytes()[14] == b'7')
            && keys.is_sorted(),
        "{keys:?}"
    );
    // A key the server holds for another scan: refused for good, kept aside.
    b.js_async(
        "const [place, token, done] = arguments;
         idb('queue', 'readwrite', s => s.put({ idempotency_key: 'bulk-0', location_id: place, token, direction: 'in',
           scanned_at: new Date().toISOString(), local_decision: 'admit', offline: true }))
           .then(function again() { return syncing ? new Promise(r => setTimeout(r, 50)).then(again) : sync(); })
           .then(() => done(1));",
        json!([checkpoint, a]),
    )
    .await;
    assert_eq!(app.count("presence_events").await, 123);
    b.wait(
        "document.getElementById('queue').dataset.pending === '0' && document.querySelectorAll('#conflicts li').length === 3",
        "the revoked pass flagged, the scans refused kept aside",
    )
    .await;
    let kept = b
        .js(
            "return [...document.querySelectorAll('#conflicts li')].map(li => [li.dataset.status, li.textContent])",
            json!([]),
        )
        .await;
    let kept: Vec<(String, String)> = serde_json::from_value(kept).unwrap();
    let with = |status: &str| {
        kept.iter()
            .find(|(s, _)| s == status)
            .map(|(_, t)| t.as_str())
    };
    assert!(
        with("422").is_some_and(|t| t.contains("Máy chủ không nhận lượt quét này")),
        "{kept:?}"
    );
    assert!(
        with("409").is_some_and(|t| t.contains("Máy chủ đã có một lượt quét khác với cùng mã")),
        "{kept:?}"
    );
    assert!(with("differs").is_some(), "{kept:?}");
    b.screenshot("scanner-synced-conflict.png").await;
    let presence: Value = app
        .get(
            &format!("/api/v1/locations/{checkpoint}/presence"),
            Some(&app.health),
        )
        .await
        .json()
        .await
        .unwrap();
    let refused: Vec<&Value> = presence["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["decision"] == "refuse")
        .collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0]["reason"], "revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_declares_for_someone_without_a_phone_and_prints_the_card() {
    if !tools_present() {
        return;
    }
    let app = app_with_staff().await;
    let b = Browser::start(412, None).await;
    b.sign_in(&app, "officer1").await;
    b.goto(&app.at("/officer")).await;
    let (id, name, dob, sex, commune, _) = RESIDENTS[2];
    // The officer types the citizen id; the rest comes from the registry.
    b.fill("[name='people.0.citizen_id']", id).await;
    b.click("[name='people.0.phone']").await;
    b.wait(
        "document.querySelector('[name=\"people.0.full_name\"]').value !== ''",
        "the form filled from the registry",
    )
    .await;
    let filled = b
        .js(
            "return ['full_name', 'date_of_birth', 'sex', 'commune_code']
               .map(f => document.querySelector(`[name=\"people.0.${f}\"]`).value)",
            json!([]),
        )
        .await;
    assert_eq!(filled, json!([name, dob, sex, commune]));
    // Long place pickers have a search box: typing a name without diacritics leaves the matching places.
    let left = |q: &'static str| {
        b.js(
            "const s = document.querySelector('[name=\"people.0.travel.departure_unit\"]');
             const box = s.previousElementSibling;
             box.value = arguments[0];
             box.dispatchEvent(new Event('input'));
             return [...s.options].filter(o => !o.hidden).map(o => o.value);",
            json!([q]),
        )
    };
    assert_eq!(left("can tho").await, json!(["", "92"]));
    let phuong5 = left("phuong 5").await;
    assert!(
        phuong5.as_array().unwrap().contains(&json!(commune)),
        "{phuong5}"
    );
    left("").await;
    b.click("#consent").await;
    b.click("#declare > button:not([type=button])").await;
    b.click("#result a[data-card]").await;
    b.find(".card .qr svg").await;
    let text = b.js("return document.body.textContent", json!([])).await;
    assert!(text.as_str().unwrap().contains(name));
    b.screenshot("officer-pass-card.png").await;
    let pdf = b.post("/print", json!({"orientation": "portrait"})).await;
    let pdf = save("officer-pass-card.pdf", &pdf);
    assert!(pdf.starts_with(b"%PDF"), "the card prints");
    let stored = app.store.latest_pass(id).await.unwrap().unwrap();
    assert!(stored.revoked_at.is_none());
}

/// Runs axe-core (WCAG 2 A and AA rules) and returns the violations.
async fn axe(b: &Browser) -> Vec<Value> {
    b.js(&axe_source().unwrap(), json!([])).await;
    let result = b
        .js_async(
            "const done = arguments[0];
             axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
               .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))));",
            json!([]),
        )
        .await;
    result.as_array().unwrap().clone()
}

/// A market with a name as people give it (the shared helper names a place after its kind's code, which the
/// check for internal codes would take for a leak).
async fn market(app: &TestApp) -> i64 {
    let body = json!({"name": "Chợ Phường 1", "kind": "market", "commune_code": COMMUNE,
        "address": "Quốc lộ 1A", "lat": 9.6, "lon": 105.97});
    let res = app
        .post("/api/v1/locations", Some(&app.officer), &body)
        .await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// Every page, with the account that sees it (`None`: nobody signed in), over data that fills them: a venue,
/// a pass, a case with its contacts traced.
async fn pages_to_walk(app: &TestApp) -> Vec<(Option<&'static str>, String)> {
    let venue = market(app).await;
    let pass = app.declare(vec![person(0)]).await["people"][0]["pass"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let day = app
        .state
        .rules
        .tracing
        .local_date(chrono::Utc::now().timestamp());
    let case: Value = app
        .post(
            "/api/v1/cases",
            Some(&app.health),
            &json!({"citizen_id": RESIDENTS[1].0, "onset_date": day.to_string()}),
        )
        .await
        .json()
        .await
        .unwrap();
    let case = case["id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/cases/{case}/trace"),
        Some(&app.health),
        &json!({}),
    )
    .await;
    let key = app.state.signer().unwrap();
    let checkin = format!("/checkin?code={}", kiemdich_pass::sign_venue(venue, &key));
    let mut pages: Vec<(Option<&str>, String)> = vec![
        (None, "/".into()),
        (None, "/public".into()),
        (None, checkin),
        (None, "/officer".into()),
        (None, "/scan".into()),
        (None, format!("/passes/{pass}/card")),
    ];
    for p in [
        "/officer",
        "/officer/paper-form",
        "/scan",
        "/venue",
        "/admin",
    ] {
        pages.push((Some("admin1"), p.into()));
    }
    pages.push((Some("admin1"), format!("/venue/{venue}/poster")));
    pages.push((Some("admin1"), format!("/venue?counts={venue}")));
    pages.push((Some("venue1"), "/venue".into()));
    pages.push((Some("admin1"), "/health".into()));
    // A person found, with the health update form and the link to the book; the book itself, printable.
    pages.push((Some("admin1"), format!("/officer?q={}", RESIDENTS[1].0)));
    pages.push((Some("admin1"), format!("/health-book/{}", RESIDENTS[1].0)));
    pages.push((Some("admin1"), format!("/health?case={case}")));
    // Key upload codes and keys received per unit and day (with the code issued for the case, one row).
    let res = app
        .post(
            "/api/v1/proximity/codes",
            Some(&app.health),
            &json!({"case_id": case}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    pages.push((Some("admin1"), "/health/proximity".into()));
    // Risk levels with a decision recorded, so that levels, the history and its forms show.
    let res = app
        .post(
            "/api/v1/risk-decisions",
            Some(&app.health),
            &json!({"number": "136/QĐ-SYT", "date": day.to_string(), "issued_by": "Sở Y tế",
                "effective_from": day.to_string(), "levels": [{"unit": COMMUNE, "level": 2}]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    pages.push((Some("admin1"), "/risk".into()));
    pages.push((Some("admin1"), "/map".into()));
    // The laboratory's result entry: empty, and with a label found (whose sample, the result form).
    let sample = collected_sample(app, 2).await;
    let label =
        kiemdich_domain::testing::label(kiemdich_domain::testing::LabelKind::Sample, sample);
    pages.push((Some("lab1"), "/lab".into()));
    pages.push((Some("lab1"), format!("/lab?label={label}")));
    pages
}

/// A walk through every page of [`pages_to_walk`] in a browser `width` pixels wide: each page is opened,
/// signed in as its account (signing in or out only when the account changes), and loaded before
/// [`Walk::next`] hands it to the test.
struct Walk {
    // The browser closes before the server it walks stops: fields drop in this order.
    b: Browser,
    app: TestApp,
    pages: std::vec::IntoIter<(Option<&'static str>, String)>,
    signed_in: Option<&'static str>,
}

impl Walk {
    /// The walk, or `None` when Chromium or axe is missing.
    async fn start(width: u32) -> Option<Walk> {
        if !tools_present() {
            return None;
        }
        let app = app_with_staff().await;
        let pages = pages_to_walk(&app).await;
        let b = Browser::start(width, None).await;
        Some(Walk {
            app,
            b,
            pages: pages.into_iter(),
            signed_in: None,
        })
    }

    /// Opens the next page, as its account; `None` at the end of the walk.
    async fn next(&mut self) -> Option<(Option<&'static str>, String)> {
        let (who, path) = self.pages.next()?;
        if who != self.signed_in {
            match who {
                Some(user) => self.b.sign_in(&self.app, user).await,
                None => {
                    self.b
                        .js(
                            "document.cookie = 'kd_session=; Max-Age=0; Path=/'",
                            json!([]),
                        )
                        .await;
                }
            }
            self.signed_in = who;
        }
        self.b.goto(&self.app.at(&path)).await;
        self.b
            .wait("document.readyState === 'complete'", &path)
            .await;
        Some((who, path))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_is_accessible_small_and_fits_a_phone() {
    let Some(mut walk) = Walk::start(360).await else {
        return;
    };
    let mut failures = Vec::new();
    while let Some((who, path)) = walk.next().await {
        let b = &walk.b;
        let violations = axe(b).await;
        if !violations.is_empty() {
            failures.push(format!("{path} ({who:?}): {}", Value::from(violations)));
        }
        let bytes = b
            .js(
                "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
                   .reduce((n, e) => n + (e.transferSize || e.encodedBodySize || 0), 0)",
                json!([]),
            )
            .await
            .as_u64()
            .unwrap();
        if bytes > 150_000 {
            failures.push(format!("{path}: {bytes} bytes transferred"));
        }
        let overflow = b.overflow_px().await;
        if overflow > 0 {
            failures.push(format!("{path}: {overflow} px wider than a 360 px screen"));
        }
        // People read local times (14:37 29/11/2026), never ISO or UTC ones.
        let iso = b
            .js(
                "return (document.body.innerText.match(/\\d{4}-\\d\\d-\\d\\dT[\\d:]+|UTC/g) || []).join(' ')",
                json!([]),
            )
            .await;
        if iso != "" {
            failures.push(format!("{path}: ISO or UTC times shown: {iso}"));
        }
        let file = format!(
            "page{}-{}.png",
            path.replace(['/', '?', '=', '&', ':', '.'], "_")
                .chars()
                .take(60)
                .collect::<String>(),
            who.unwrap_or("public")
        );
        b.screenshot(&file).await;
    }
    // English on request, kept for the next pages, and as accessible.
    let (b, app) = (&walk.b, &walk.app);
    b.goto(&app.at("/lang/en?back=/officer")).await;
    b.wait("document.readyState === 'complete'", "the English page")
        .await;
    let lang = b
        .js(
            "return document.documentElement.lang + ' ' + document.querySelector('h1').textContent",
            json!([]),
        )
        .await;
    assert_eq!(lang, "en Commune officers");
    let violations = axe(b).await;
    if !violations.is_empty() {
        failures.push(format!("/officer in English: {}", Value::from(violations)));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What the site's frame shows and a printed document must not: the sections of the menu, the signed-in
/// user's sign-out, the skip link (Vietnamese, as the walk sees them).
const SITE_CHROME: &[&str] = &[
    "Người dân",
    "Cán bộ xã",
    "Quét mã",
    "Đăng xuất",
    "Bỏ qua đến nội dung",
];

/// A4 in PostScript points, as a PDF's `MediaBox` says it.
const A4_POINTS: (f64, f64) = (595.28, 841.89);

/// The `MediaBox` width and height of each page of a PDF from Chromium (Skia writes each page's dictionary
/// uncompressed).
fn media_boxes(pdf: &[u8]) -> Vec<(f64, f64)> {
    let text = String::from_utf8_lossy(pdf);
    text.split("/MediaBox")
        .skip(1)
        .map(|rest| {
            let inside = rest.trim_start().strip_prefix('[').unwrap();
            let numbers: Vec<f64> = inside[..inside.find(']').unwrap()]
                .split_whitespace()
                .map(|n| n.parse().unwrap())
                .collect();
            assert_eq!(numbers[..2], [0.0, 0.0], "a media box from the origin");
            (numbers[2], numbers[3])
        })
        .collect()
}

/// The number of pages a PDF says it has (`/Type /Page`, not `/Pages`).
fn page_count(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf).replace("/Type /", "/Type/");
    text.match_indices("/Type/Page")
        .filter(|(at, m)| !text[at + m.len()..].starts_with('s'))
        .count()
}

impl Browser {
    /// How many pixels the page is wider than the screen. A mobile viewport widens to fit content that is too
    /// wide, so the overflow is measured against the screen, not the viewport.
    async fn overflow_px(&self) -> i64 {
        self.js(
            "return Math.max(window.innerWidth, document.documentElement.scrollWidth) - screen.width",
            json!([]),
        )
        .await
        .as_i64()
        .unwrap()
    }

    /// A DevTools command through chromedriver.
    async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.post("/goog/cdp/execute", json!({"cmd": cmd, "params": params}))
            .await
    }

    /// Prints the page as the browser's print dialog would: the document's `@page` size decides the paper.
    /// (WebDriver's own Print Page, `POST /print`, prints on its default paper, US Letter, whatever the
    /// document asks for, so it cannot show that a document asks for A4.)
    async fn print_pdf(&self, name: &str) -> Vec<u8> {
        let res = self
            .cdp(
                "Page.printToPDF",
                json!({"preferCSSPageSize": true, "printBackground": true}),
            )
            .await;
        save(name, &res["data"])
    }
}

/// (b) The pass card, the venue poster, the paper form, a result slip and a sheet of sample labels print on one
/// A4 page each, without the site's menu, signed-in user or print button (the sample documents pass axe), and
/// the poster's QR is at least 12 cm wide on paper.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printed_documents_are_one_a4_page_without_the_site_chrome() {
    if !tools_present() {
        return;
    }
    if std::env::var_os("CI").is_some() {
        let fonts = Command::new("fc-list").output().unwrap();
        assert!(
            String::from_utf8_lossy(&fonts.stdout).contains("Khmer"),
            "the card and poster print Khmer: install fonts-khmeros"
        );
    }
    let app = app_with_staff().await;
    let venue = market(&app).await;
    let pass = app.declare(vec![person(0)]).await["people"][0]["pass"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = Browser::start(1280, None).await;
    // Signed in, so that a document in the site's frame would show the user and the sign-out.
    b.sign_in(&app, "admin1").await;
    let (sample, other_sample) = (
        resulted_sample(&app, 0).await,
        resulted_sample(&app, 1).await,
    );
    let sample_documents = [
        ("result-slip", format!("/samples/{sample}/slip")),
        (
            "sample-labels",
            format!("/samples/labels?ids={sample},{other_sample}"),
        ),
    ];
    let mut documents = vec![
        ("card", format!("/passes/{pass}/card")),
        ("poster", format!("/venue/{venue}/poster")),
        ("paper-form", "/officer/paper-form".to_owned()),
    ];
    documents.extend(sample_documents.iter().cloned());
    let mut failures = Vec::new();
    for (name, path) in &documents {
        b.goto(&app.at(path)).await;
        b.wait("document.readyState === 'complete'", path).await;
        let chrome = b
            .js(
                "return document.querySelectorAll('nav, header, .skip, .who, [data-logout], [href^=\"/lang/\"]').length",
                json!([]),
            )
            .await;
        if chrome != 0 {
            failures.push(format!("{path}: {chrome} elements of the site's frame"));
        }
        let button = b
            .js(
                "const b = document.querySelector('[data-print]'); return b && b.offsetParent !== null ? b.innerText.trim() : ''",
                json!([]),
            )
            .await;
        assert_ne!(button, "", "{path}: a print button on screen");
        let back = b
            .js(
                "return document.querySelector('.toolbar a').innerText.trim()",
                json!([]),
            )
            .await;

        // As the printer sees it: print media, on the printable area of an A4 sheet (186 × 273 mm at CSS's
        // 96 px to the inch).
        b.cdp("Emulation.setEmulatedMedia", json!({"media": "print"}))
            .await;
        b.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 703, "height": 1032, "deviceScaleFactor": 1, "mobile": false}),
        )
        .await;
        let hidden = b
            .js(
                "return [...document.querySelectorAll('[data-print], .toolbar')].every(e => getComputedStyle(e).display === 'none' || e.offsetParent === null)",
                json!([]),
            )
            .await;
        if hidden != true {
            failures.push(format!("{path}: the print button prints"));
        }
        let text = b.js("return document.body.innerText", json!([])).await;
        let text = text.as_str().unwrap();
        for chrome in SITE_CHROME {
            if text.contains(chrome) {
                failures.push(format!("{path}: prints the site's {chrome:?}"));
            }
        }
        for control in [button.as_str().unwrap(), back.as_str().unwrap()] {
            if text.lines().any(|l| l.trim() == control) {
                failures.push(format!("{path}: prints {control:?}"));
            }
        }
        if *name == "poster" {
            let width = b
                .js(
                    "return document.querySelector('.qr svg').getBoundingClientRect().width",
                    json!([]),
                )
                .await
                .as_f64()
                .unwrap();
            // 12 cm at CSS's 96 px to the inch.
            if width < 12.0 / 2.54 * 96.0 {
                failures.push(format!(
                    "{path}: the QR prints {width} px wide, under 12 cm"
                ));
            }
            assert!(text.contains("QUÉT MÃ QR KHI VÀO / RA"), "{text}");
        }
        b.screenshot(&format!("print-{name}-as-printed.png")).await;
        b.cdp("Emulation.clearDeviceMetricsOverride", json!({}))
            .await;
        b.cdp("Emulation.setEmulatedMedia", json!({"media": ""}))
            .await;

        let pdf = b.print_pdf(&format!("print-{name}.pdf")).await;
        assert!(pdf.starts_with(b"%PDF"), "{path} prints a PDF");
        let boxes = media_boxes(&pdf);
        let pages = page_count(&pdf);
        if pages != 1 || boxes.len() != 1 {
            failures.push(format!("{path}: {pages} pages, media boxes {boxes:?}"));
        }
        for (w, h) in &boxes {
            if (w - A4_POINTS.0).abs() > 2.0 || (h - A4_POINTS.1).abs() > 2.0 {
                failures.push(format!("{path}: a {w} × {h} pt page, not A4"));
            }
        }
    }

    // The sample documents pass axe as they show on screen.
    for (_, path) in &sample_documents {
        b.goto(&app.at(path)).await;
        b.wait("document.readyState === 'complete'", path).await;
        let violations = axe(&b).await;
        if !violations.is_empty() {
            failures.push(format!("{path}: {}", Value::from(violations)));
        }
    }

    // A revoked pass prints as void: no QR, no colour, the notice.
    let res = app
        .post(
            &format!("/api/v1/passes/{pass}/revoke"),
            Some(&app.officer),
            &json!({"reason": "test"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    b.goto(&app.at(&format!("/passes/{pass}/card"))).await;
    b.wait("document.readyState === 'complete'", "the void card")
        .await;
    let void = b
        .js(
            "return [document.querySelector('.void') && document.querySelector('.void').innerText, document.querySelectorAll('.qr, .band').length]",
            json!([]),
        )
        .await;
    assert!(
        void[0]
            .as_str()
            .unwrap_or_default()
            .contains("KHÔNG CÒN HIỆU LỰC")
            && void[1] == 0,
        "{void}"
    );
    let pdf = b.print_pdf("print-card-void.pdf").await;
    assert_eq!(page_count(&pdf), 1);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A PCR sample of resident `i` collected a day ago, with a negative result from CDC Sóc Trăng: its id.
async fn resulted_sample(app: &TestApp, i: usize) -> i64 {
    let id = collected_sample(app, i).await;
    let res = app
        .post(
            "/api/v1/results",
            Some(&app.health),
            &json!({"sample_id": id, "result": "negative", "tested_at": hours_ago(1), "lab": "CDC Sóc Trăng"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    id
}

/// An RFC 3339 time `h` hours ago.
fn hours_ago(h: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::hours(h))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A PCR sample of resident `i`, collected a day ago and not yet resulted; its id.
async fn collected_sample(app: &TestApp, i: usize) -> i64 {
    let res = app
        .post(
            "/api/v1/samples",
            Some(&app.health),
            &json!({"citizen_id": RESIDENTS[i].0, "reason": "screening", "test_type": "pcr", "collected_at": hours_ago(26)}),
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// The lab types a label (the camera is for phones), checks whose sample it is, records a negative and sees
/// the confirmation with the slip to print and the next label ready; axe finds nothing at either step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lab_types_a_label_checks_the_person_and_records_a_negative() {
    if !tools_present() {
        return;
    }
    let app = app_with_staff().await;
    let id = collected_sample(&app, 2).await;
    let label = kiemdich_domain::testing::label(kiemdich_domain::testing::LabelKind::Sample, id);
    let b = Browser::start(412, None).await;
    b.sign_in(&app, "lab1").await;
    b.goto(&app.at("/lab")).await;
    b.fill("#lab-label", &label).await;
    b.click("#lab-find button:not([type=button])").await;
    b.find("#lab-result").await;
    let text = b.js("return document.body.innerText", json!([])).await;
    let text = text.as_str().unwrap();
    assert!(text.contains(RESIDENTS[2].1), "{text}");
    assert!(text.contains("RT-PCR"), "{text}");
    let violations = axe(&b).await;
    assert!(violations.is_empty(), "{}", Value::from(violations));
    b.screenshot("lab-check.png").await;
    b.click("#result-negative").await;
    b.click("#lab-result button").await;
    b.find("#lab-saved").await;
    let text = b.js("return document.body.innerText", json!([])).await;
    assert!(text.as_str().unwrap().contains("Đã lưu kết quả."), "{text}");
    let slip = b
        .js(
            "return document.querySelector(`a[href='/samples/${arguments[0]}/slip']`) !== null
               && document.activeElement.id",
            json!([id]),
        )
        .await;
    assert_eq!(
        slip, "lab-label",
        "the slip linked and the next label's field focused"
    );
    let violations = axe(&b).await;
    assert!(violations.is_empty(), "{}", Value::from(violations));
    b.screenshot("lab-saved.png").await;
    let stored = app.store.samples(&[id]).await.unwrap();
    assert_eq!(
        stored[0].result.as_ref().map(|r| r.result),
        Some(kiemdich_domain::TestResult::Negative)
    );
}

/// Internal codes a person must never read: ISO times and dates, and the codes of statuses, kinds, reasons,
/// states and outcomes, which every page shows by their label.
const RAW_CODES: &str = r"\d{4}-\d\d-\d\d(T[\d:.]+Z?)?|\b(green|yellow|orange|red|matched|mismatch|not_found|valid|revoked|expired|superseded|isolating_home|isolating_facility|hospitalised|released|died|well|symptoms|unreachable|business|market|health_facility|public_service|checkpoint|hospital|agency|school|status_\w+_not_admitted|bad_base45|bad_signature|unknown_key)\b";

/// Every Vietnamese page's visible text is free of internal codes (what a `.mono` or `<code>` element shows on
/// purpose, such as a link, is left out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_shows_internal_codes() {
    let Some(mut walk) = Walk::start(1024).await else {
        return;
    };
    let mut findings = Vec::new();
    while let Some((who, path)) = walk.next().await {
        let found = walk
            .b
            .js(
                "const quiet = [...document.querySelectorAll('code, .mono')];
                 quiet.forEach(e => { e.dataset.display = e.style.display; e.style.display = 'none'; });
                 const text = document.body.innerText;
                 quiet.forEach(e => { e.style.display = e.dataset.display; });
                 const re = new RegExp(arguments[0], 'g');
                 return text.split('\\n').map(l => [l.trim(), l.match(re)]).filter(([, m]) => m)
                   .map(([l, m]) => l + '  ⟵ ' + m.join(', '));",
                json!([RAW_CODES]),
            )
            .await;
        for line in found.as_array().unwrap() {
            findings.push(format!(
                "{path} ({}): {}",
                who.unwrap_or("public"),
                line.as_str().unwrap()
            ));
        }
    }
    assert!(
        findings.is_empty(),
        "internal codes shown:\n{}",
        findings.join("\n")
    );
}

/// A name for the `i`th of a crowd: names hold letters only.
fn crowd_name(i: u32) -> String {
    let letter = |n: u32| char::from(b'a' + u8::try_from(n % 26).unwrap());
    format!(
        "Trần Thị {}{}",
        letter(i / 26).to_ascii_uppercase(),
        letter(i)
    )
}

/// 443 people who shared a market with a case for half an hour: registered, and in the visit log.
async fn crowd_at_the_market(app: &TestApp, market: i64, from: i64, n: u32) {
    let people: Vec<_> = (0..n)
        .map(|i| {
            kiemdich_domain::RegistryRecord::parse(&kiemdich_domain::person::RawRegistryRow {
                citizen_id: format!("09409{:07}", 100_000 + i),
                full_name: crowd_name(i),
                date_of_birth: "1990-01-01".into(),
                sex: "M".into(),
                commune_code: common::COMMUNE.into(),
                address: "Chợ Phường 1".into(),
                phone: String::new(),
                household_id: String::new(),
            })
            .unwrap()
        })
        .collect();
    app.store.upsert_residents(&people).await.unwrap();
    let visits: Vec<kiemdich_domain::Visit> = people
        .iter()
        .map(|p| kiemdich_domain::Visit {
            location_id: market,
            citizen: kiemdich_store::citizen_number(p.citizen_id.as_str()).unwrap(),
            entered_at: from,
            exited_at: Some(from + 30 * 60),
        })
        .collect();
    app.store.import_visits(&visits).await.unwrap();
}

/// The issue's walk-through: one click confirmed 443 contacts and stopped their passes without a word. Now the
/// trace says how many, and confirming asks first with the count and what happens, then says what it did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirming_443_contacts_asks_first_and_says_what_it_did() {
    if !tools_present() {
        return;
    }
    let app = app_with_staff().await;
    let venue = market(&app).await;
    // Yesterday morning, so that the hour at the market lies wholly in the past whatever the time of day (just
    // after midnight, today's first hour is still to come).
    let now = chrono::Utc::now().timestamp();
    let day = app.state.rules.tracing.local_date(now) - chrono::Duration::days(1);
    let from = app.state.rules.tracing.day_start(day) + 8 * 3600;
    crowd_at_the_market(&app, venue, from, 443).await;
    let index = kiemdich_domain::Visit {
        location_id: venue,
        citizen: kiemdich_store::citizen_number(RESIDENTS[1].0).unwrap(),
        entered_at: from,
        exited_at: Some(from + 60 * 60),
    };
    app.store.import_visits(&[index]).await.unwrap();
    let case: Value = app
        .post(
            "/api/v1/cases",
            Some(&app.health),
            &json!({"citizen_id": RESIDENTS[1].0, "onset_date": day.to_string()}),
        )
        .await
        .json()
        .await
        .unwrap();
    let case = case["id"].as_i64().unwrap();
    let traced: Value = app
        .post(
            &format!("/api/v1/cases/{case}/trace"),
            Some(&app.health),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        traced["contacts"].as_array().unwrap().len(),
        443,
        "{traced}"
    );

    let b = Browser::start(1280, None).await;
    b.goto(&app.url).await;
    b.sign_in(&app, "admin1").await;
    b.goto(&format!("{}/health?case={case}", app.url)).await;
    let text = b.js("return document.body.innerText", json!([])).await;
    let text = text.as_str().unwrap();
    assert!(text.contains("Tìm thấy 443 F1 và 0 F2"), "counts first");
    assert!(text.contains(&crowd_name(7)), "contacts by name");
    b.element_screenshot("form[data-confirm-count]", "trace-443-contacts.png")
        .await;
    assert!(
        !text.contains("T0") && !text.contains("Z "),
        "local times only"
    );
    // Decline: nothing happens.
    b.js(
        "window.confirm = m => { window.asked = m; return false; }",
        json!([]),
    )
    .await;
    b.click("form[data-confirm-count] button:not([type=button])")
        .await;
    let asked = b.js("return window.asked || ''", json!([])).await;
    assert_eq!(
        asked,
        "443 người sẽ thành F1/F2; thẻ của họ dừng ngay và họ được báo tin. Tiếp tục?"
    );
    assert_eq!(app.count("cases").await, 1, "declined: no one confirmed");
    // Untick two people; the question counts what is ticked.
    b.js(
        "document.querySelectorAll('[name=citizen_ids]')[0].click(); document.querySelectorAll('[name=citizen_ids]')[1].click()",
        json!([]),
    )
    .await;
    b.js(
        "window.confirm = m => { window.asked = m; return true; }",
        json!([]),
    )
    .await;
    b.click("form[data-confirm-count] button:not([type=button])")
        .await;
    b.wait(
        "document.querySelector('form[data-confirm-count] .alert.ok')",
        "the result message",
    )
    .await;
    let asked = b.js("return window.asked", json!([])).await;
    assert!(asked.as_str().unwrap().starts_with("441 người"), "{asked}");
    let said = b
        .js(
            "return document.querySelector('form[data-confirm-count] .alert').textContent",
            json!([]),
        )
        .await;
    assert!(
        said.as_str().unwrap().starts_with("Đã xác nhận 441 người"),
        "{said}"
    );
    assert_eq!(app.count("cases").await, 442);
    b.element_screenshot("form[data-confirm-count] .alert", "trace-443-confirmed.png")
        .await;
}

/// The staff map in a real browser: the communes drawn from the server's GeoJSON, a case counted at its commune,
/// and a case found by its number with the map flying to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_staff_map_counts_a_case_at_its_commune_and_finds_it() {
    if !tools_present() {
        return;
    }
    let app = app_with_staff().await;
    common::load_geometry(&app).await;
    let case = app.confirmed_case(0, 0).await;
    let b = Browser::start(1024, None).await;
    b.sign_in(&app, "admin1").await;
    b.goto(&app.at("/map")).await;
    // The count sits on the case's commune once the communes are drawn.
    b.wait(
        "[...document.querySelectorAll('.map-count')].some(m => m.textContent === '1')",
        "the case counted on the map",
    )
    .await;
    let attribution = b
        .js(
            "return document.querySelector('.leaflet-control-attribution').textContent",
            json!([]),
        )
        .await;
    assert!(
        attribution
            .as_str()
            .unwrap()
            .contains("Ranh giới xã: minh họa"),
        "the illustrative communes are credited as such: {attribution}"
    );
    b.fill("#case-search [name=q]", &case.to_string()).await;
    b.click("#case-search button").await;
    b.wait(
        "document.querySelector('#case-search .alert.ok') !== null",
        "the case found",
    )
    .await;
    let said = b
        .js(
            "return document.querySelector('#case-search .alert').textContent",
            json!([]),
        )
        .await;
    assert!(
        said.as_str().unwrap().contains(&format!("Ca số {case}")),
        "{said}"
    );
}

/// A pocket card's page, 170 × 54 mm, in PostScript points.
const POCKET_POINTS: (f64, f64) = (170.0 / 25.4 * 72.0, 54.0 / 25.4 * 72.0);

/// The vaccination certificate, as a health administrator prints it for a person: A4 and the pocket card each
/// print on one page of their size, without the site's frame or the print button; the QR is at least 45 mm (A4)
/// or 35 mm (card) wide on paper and, as Chromium draws it, reads back to exactly the HC1 the API serves; axe
/// finds no violation on either, and neither is wider than a phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vaccination_certificate_prints_on_one_page_of_its_size_with_a_readable_qr() {
    if !tools_present() {
        return;
    }
    let app = app_with_staff().await;
    app.install_dsc().await;
    app.dose(0, "2021-09-01").await;
    app.dose(0, "2021-10-01").await;
    let dcc: Value = app
        .get_json(
            &format!("/api/v1/residents/{}/dcc", RESIDENTS[0].0),
            Some(&app.health),
        )
        .await;
    let b = Browser::start(412, None).await;
    b.sign_in(&app, "admin1").await;
    // The staff page leads to it.
    b.goto(&app.at(&format!("/vaccination?q={}", RESIDENTS[0].0)))
        .await;
    b.click("a[href$='size=a4']").await;
    b.wait(
        "location.pathname === '/vaccination/certificate' && document.readyState === 'complete'",
        "the certificate",
    )
    .await;
    let mut failures = Vec::new();
    // The printable area at CSS's 96 px to the inch: A4 less 12 mm margins, the card's whole page.
    for (size, paper, area, min_mm) in [
        ("a4", A4_POINTS, (703, 1032), 45.0),
        ("pocket", POCKET_POINTS, (643, 204), 35.0),
    ] {
        let path = format!(
            "/vaccination/certificate?citizen_id={}&size={size}",
            RESIDENTS[0].0
        );
        b.goto(&app.at(&path)).await;
        b.wait("document.readyState === 'complete'", &path).await;
        let violations = axe(&b).await;
        if !violations.is_empty() {
            failures.push(format!("{size}: {}", Value::from(violations)));
        }
        let overflow = b.overflow_px().await;
        if overflow > 0 {
            failures.push(format!("{size}: {overflow} px wider than the phone"));
        }
        // The QR as Chromium draws it on screen reads back to the HC1.
        b.js(
            "document.querySelector('.qr svg').scrollIntoView({block: 'center'})",
            json!([]),
        )
        .await;
        let shot = b
            .element_screenshot(".qr svg", &format!("certificate-{size}-qr.png"))
            .await;
        assert_eq!(read_qr_png(&shot).0, dcc["hc1"].as_str().unwrap(), "{size}");
        b.screenshot(&format!("certificate-{size}.png")).await;

        // As the printer sees it: the QR's width on paper, no toolbar, nothing cut off.
        b.cdp("Emulation.setEmulatedMedia", json!({"media": "print"}))
            .await;
        b.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": area.0, "height": area.1, "deviceScaleFactor": 1, "mobile": false}),
        )
        .await;
        let printed = b
            .js(
                "return [document.querySelector('.qr svg').getBoundingClientRect().width,
                   [...document.querySelectorAll('[data-print], .toolbar')].every(e => getComputedStyle(e).display === 'none' || e.offsetParent === null),
                   document.body.innerText,
                   [...document.querySelectorAll('.panel')].filter(p => p.scrollHeight > p.clientHeight + 1).length]",
                json!([]),
            )
            .await;
        if printed[3] != 0 {
            failures.push(format!(
                "{size}: {} card panels cut their content off",
                printed[3]
            ));
        }
        let width_mm = printed[0].as_f64().unwrap() / 96.0 * 25.4;
        eprintln!("{size}: the QR prints {width_mm:.1} mm wide");
        if width_mm < min_mm {
            failures.push(format!("{size}: the QR prints {width_mm:.1} mm wide"));
        }
        if printed[1] != true {
            failures.push(format!("{size}: the print button prints"));
        }
        let text = printed[2].as_str().unwrap();
        for chrome in SITE_CHROME {
            if text.contains(chrome) {
                failures.push(format!("{size}: prints the site's {chrome:?}"));
            }
        }
        for fact in [
            RESIDENTS[0].1,
            "01/10/2021",
            "Comirnaty",
            dcc["uvci"].as_str().unwrap(),
        ] {
            if !text.contains(fact) {
                failures.push(format!("{size}: {fact} is not printed"));
            }
        }
        b.screenshot(&format!("certificate-{size}-as-printed.png"))
            .await;
        b.cdp("Emulation.setEmulatedMedia", json!({"media": ""}))
            .await;
        b.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 412, "height": 800, "deviceScaleFactor": 2, "mobile": true}),
        )
        .await;

        let pdf = b.print_pdf(&format!("certificate-{size}.pdf")).await;
        let boxes = media_boxes(&pdf);
        let pages = page_count(&pdf);
        if pages != 1 || boxes.len() != 1 {
            failures.push(format!("{size}: {pages} pages, media boxes {boxes:?}"));
        }
        for (w, h) in &boxes {
            if (w - paper.0).abs() > 2.0 || (h - paper.1).abs() > 2.0 {
                failures.push(format!(
                    "{size}: a {w} × {h} pt page, not {} × {}",
                    paper.0, paper.1
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A vaccinator of a commune finds a person by citizen id, records a dose with the pickers, and sees it listed;
/// the page passes axe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vaccinator_finds_a_person_records_a_dose_and_sees_it_listed() {
    if !tools_present() {
        return;
    }
    let app = app_with_staff().await;
    let hash = hash_password(PASSWORD).unwrap();
    let commune = kiemdich_domain::UnitCode::parse(COMMUNE).unwrap();
    app.store
        .create_staff("vaccinator1", &hash, Role::Vaccinator, &commune)
        .await
        .unwrap();
    let b = Browser::start(412, None).await;
    b.sign_in(&app, "vaccinator1").await;
    b.goto(&app.at("/vaccination")).await;
    b.fill("input[name='q']", RESIDENTS[0].0).await;
    b.click("form[role='search'] button").await;
    b.find("form[data-api$='/vaccinations'] select[name='product']")
        .await;
    assert!(
        b.js("return document.body.innerText", json!([]))
            .await
            .as_str()
            .unwrap()
            .contains(RESIDENTS[0].1)
    );
    // The vaccine by its name, the date by the date picker (set as a browser's picker sets it), a facility.
    b.js(
        "const f = document.querySelector('form[data-api$=\"/vaccinations\"]');
         const product = f.querySelector('[name=product]');
         product.value = [...product.options].find(o => o.textContent.includes('Pfizer')).value;
         product.dispatchEvent(new Event('change', {bubbles: true}));
         f.querySelector('[name=date]').value = '2021-09-01';",
        json!([]),
    )
    .await;
    b.fill("form[data-api$='/vaccinations'] [name='lot']", "FF2021")
        .await;
    b.fill(
        "form[data-api$='/vaccinations'] [name='site']",
        "Trạm Y tế Phường 2",
    )
    .await;
    b.click("form[data-api$='/vaccinations'] button:not([type=button])")
        .await;
    // The page reloads with the dose in the person's table.
    b.wait(
        "[...document.querySelectorAll('table td')].some(td => td.textContent === '01/09/2021')",
        "the dose listed",
    )
    .await;
    let row = b
        .js(
            "return [...document.querySelectorAll('table tbody tr')].map(r => r.innerText).join('\\n')",
            json!([]),
        )
        .await;
    let row = row.as_str().unwrap();
    assert!(
        row.contains("FF2021") && row.contains("Trạm Y tế Phường 2"),
        "{row}"
    );
    let stored: Value = app
        .get_json(
            &format!("/api/v1/residents/{}/vaccinations", RESIDENTS[0].0),
            Some(&app.health),
        )
        .await;
    assert_eq!(stored.as_array().unwrap().len(), 1, "{stored}");
    assert_eq!(stored[0]["product"], "EU/1/20/1528");
    b.screenshot("vaccination-recorded.png").await;
    let violations = axe(&b).await;
    assert!(violations.is_empty(), "{}", Value::from(violations));
}

/// A health officer creates a key upload code on a confirmed case's page: the code appears large, readable
/// over the phone, with its expiry in Vietnam time, and it is the code the upload takes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_health_officer_creates_a_key_upload_code_and_reads_it_out() {
    if !tools_present() {
        return;
    }
    let app = app_with_staff().await;
    let case = app.confirmed_case(0, 1).await;
    let b = Browser::start(412, None).await;
    b.goto(&app.url).await;
    b.sign_in(&app, "admin1").await;
    b.goto(&app.at(&format!("/health?case={case}"))).await;
    b.click("form[data-then='proximityCode'] button").await;
    b.wait(
        "!document.querySelector('.big-code').hidden",
        "the code shown",
    )
    .await;
    let shown = b
        .js(
            "const c = document.querySelector('.big-code');
             return [c.textContent, getComputedStyle(c).fontSize, c.closest('form').querySelector('[role=alert]').textContent];",
            json!([]),
        )
        .await;
    let code = shown[0].as_str().unwrap();
    assert_eq!(code.len(), 9, "{shown}");
    assert!(
        shown[1]
            .as_str()
            .unwrap()
            .trim_end_matches("px")
            .parse::<f64>()
            .unwrap()
            >= 32.0
    );
    let expires = chrono::Utc::now().timestamp() + 24 * 3600;
    let clock = app.state.rules.clock();
    let said = shown[2].as_str().unwrap();
    assert!(
        said.contains(&clock.time(expires)) || said.contains(&clock.time(expires - 60)),
        "{said}"
    );
    let key = json!({"key": "AAAAAAAAAAAAAAAAAAAAAA==", "rolling_start_interval_number": chrono::Utc::now().timestamp() / 600 / 144 * 144});
    let res = app
        .post(
            "/api/v1/proximity/keys",
            None,
            &json!({"code": code, "consent": true, "keys": [key]}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
}
