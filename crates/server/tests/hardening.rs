//! The defences of the security review (issue 8): security headers and no inline script, cross-site
//! requests with the session cookie refused, Secure cookies and links from the configured public URL,
//! `/metrics` for the ops role, connection timeouts and limits, and a private SQLite file.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

#[macro_use]
mod common;

use common::{COMMUNE, TestApp};
use kiemdich_domain::UnitCode;
use kiemdich_server::{AppState, PublicUrl, ServeOptions, new_token, token_hash};
use kiemdich_store::Role;
use reqwest::header::{CACHE_CONTROL, SET_COOKIE};
use reqwest::{RequestBuilder, Response};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

on_both_backends!(
    every_response_has_the_security_headers_and_no_page_runs_inline_script,
    cross_site_requests_with_the_session_cookie_are_refused_and_change_nothing,
    metrics_are_for_the_ops_role,
    poster_links_follow_the_public_url_not_the_host_header,
    cookies_are_secure_when_the_public_url_is_https,
);

/// A token of `role` for the whole province.
async fn token_of(app: &TestApp, role: Role) -> String {
    let t = new_token();
    app.store
        .create_token(
            &token_hash(&t),
            "test",
            role,
            &UnitCode::parse("94").unwrap(),
            None,
            None,
        )
        .await
        .unwrap();
    t
}

/// Serves `state` a second time on a new port with `options`; returns its URL.
async fn serve_again(state: AppState, options: ServeOptions) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(kiemdich_server::serve_with(listener, state, options));
    url
}

/// The same app, reached at another URL.
fn at(app: TestApp, url: String) -> TestApp {
    TestApp { url, ..app }
}

fn session(token: &str) -> String {
    format!("kd_session={token}")
}

/// A page's inline event handlers (`onclick=`, `onload=`, …) and `<script>` elements with code in them.
fn inline_script(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in html.match_indices(" on") {
        let name: String = html[i + 3..]
            .chars()
            .take_while(char::is_ascii_lowercase)
            .collect();
        if !name.is_empty() && html[i + 3 + name.len()..].starts_with('=') {
            found.push(format!("on{name}="));
        }
    }
    for (i, _) in html.match_indices("<script") {
        let tag = &html[i..i + html[i..].find('>').unwrap()];
        if !tag.contains("src=") && !tag.contains("type=\"application/json\"") {
            found.push(tag.to_owned());
        }
    }
    found
}

fn assert_security_headers(res: &Response, what: &str) {
    let h = res.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'self'",
        "script-src 'self';",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "worker-src 'self'",
    ] {
        assert!(
            csp.contains(directive),
            "{what}: {directive} missing in {csp}"
        );
    }
    assert!(!csp.contains("script-src 'self' 'unsafe"), "{what}: {csp}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
}

async fn every_response_has_the_security_headers_and_no_page_runs_inline_script(app: TestApp) {
    let pass = app.declare(vec![common::person(0)]).await["people"][0]["pass"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let venue = app.location("market", COMMUNE).await;
    let code = kiemdich_pass::sign_venue(venue, &app.state.signer().unwrap());
    let pages = [
        "/".to_owned(),
        format!("/checkin?code={code}"),
        "/officer".into(),
        "/officer/paper-form".into(),
        "/scan".into(),
        "/venue".into(),
        format!("/venue/{venue}/poster"),
        "/admin".into(),
        "/health".into(),
        format!("/passes/{pass}/card"),
    ];
    for path in &pages {
        let res = app
            .client
            .get(app.at(path))
            .header("Cookie", session(&app.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_security_headers(&res, path);
        assert_eq!(res.headers()[CACHE_CONTROL], "no-store", "{path}");
        let html = res.text().await.unwrap();
        assert_eq!(inline_script(&html), Vec::<String>::new(), "{path}");
    }
    let card = app
        .get(&format!("/passes/{pass}/card"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        card.contains("data-print") && card.contains("/static/app.js"),
        "{card}"
    );
    // API answers (a pass QR included), errors and unknown paths: no caching either.
    for path in [
        "/api/v1/trust-list".to_owned(),
        format!("/api/v1/passes/{pass}/qr.svg"),
        "/api/v1/me".into(),
        "/no/such/page".into(),
        "/sw.js".into(),
    ] {
        let res = app.get(&path, None).await;
        assert_security_headers(&res, &path);
        assert_eq!(res.headers()[CACHE_CONTROL], "no-store", "{path}");
    }
    // Static assets keep their caching.
    let res = app.get("/static/app.js", None).await;
    assert_security_headers(&res, "/static/app.js");
    assert_eq!(res.headers()[CACHE_CONTROL], "public, max-age=3600");
}

/// A request as a browser on another site would send it: `text/plain` (no CORS preflight) with the cookie.
fn cross_site(req: RequestBuilder, token: &str) -> RequestBuilder {
    req.header("Cookie", session(token))
        .header("Content-Type", "text/plain")
        .header("Origin", "https://evil.example")
        .header("Sec-Fetch-Site", "cross-site")
        .body("{}")
}

async fn assert_refused(res: Response) {
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "forbidden", "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("cross-site"),
        "{body}"
    );
}

async fn cross_site_requests_with_the_session_cookie_are_refused_and_change_nothing(app: TestApp) {
    let (res, _) = app.resident_sign_in(0).await;
    let resident = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = |token: String| {
        let app = &app;
        async move {
            let req = app.client.get(app.at("/api/v1/me"));
            req.header("Cookie", session(&token))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let logout = || app.client.post(app.at("/api/v1/auth/logout"));
    let rotate = || app.client.post(app.at("/api/v1/keys/rotate"));
    let kid = app.state.signer().unwrap().kid();
    let keys = app.count("signing_keys").await;

    // Cross-site, whatever the browser says about it: refused, and nothing happened.
    assert_refused(cross_site(logout(), &resident).send().await.unwrap()).await;
    assert_eq!(me(resident.clone()).await, 200, "the session survives");
    assert_refused(cross_site(rotate(), &app.admin).send().await.unwrap()).await;
    let same_site = rotate()
        .header("Cookie", session(&app.admin))
        .header("Sec-Fetch-Site", "same-site");
    assert_refused(same_site.send().await.unwrap()).await;
    let foreign_origin = rotate()
        .header("Cookie", session(&app.admin))
        .header("Origin", "https://evil.example");
    assert_refused(foreign_origin.send().await.unwrap()).await;
    let null_origin = rotate()
        .header("Cookie", session(&app.admin))
        .header("Origin", "null");
    assert_refused(null_origin.send().await.unwrap()).await;
    // The cookie with nothing saying where the request comes from: refused too.
    let unknown = rotate().header("Cookie", session(&app.admin));
    assert_refused(unknown.send().await.unwrap()).await;
    // Even without a cookie, another site cannot fire sign-ins or one-time codes through a visitor.
    let otp = app
        .client
        .post(app.at("/api/v1/otp"))
        .header("Sec-Fetch-Site", "cross-site")
        .json(&json!({"citizen_id": common::RESIDENTS[0].0}));
    assert_refused(otp.send().await.unwrap()).await;
    assert_eq!(app.count("signing_keys").await, keys);
    assert_eq!(app.state.signer().unwrap().kid(), kid);

    // The site's own pages: Sec-Fetch-Site, or (older browsers) an Origin that is the Host.
    let own = rotate()
        .header("Cookie", session(&app.admin))
        .header("Sec-Fetch-Site", "same-origin");
    assert_eq!(own.send().await.unwrap().status(), 200);
    assert_eq!(app.count("signing_keys").await, keys + 1);
    let own_origin = rotate()
        .header("Cookie", session(&app.admin))
        .header("Origin", &app.url);
    assert_eq!(own_origin.send().await.unwrap().status(), 200);
    // A bearer token is never sent by a browser on its own: no origin check.
    let bearer = cross_site(rotate(), "").bearer_auth(&app.admin);
    assert_eq!(bearer.send().await.unwrap().status(), 200);
    assert_eq!(app.count("signing_keys").await, keys + 3);
    let own_logout = logout()
        .header("Cookie", session(&resident))
        .header("Sec-Fetch-Site", "same-origin");
    assert_eq!(own_logout.send().await.unwrap().status(), 204);
    assert_eq!(me(resident).await, 401, "logged out");
}

async fn metrics_are_for_the_ops_role(app: TestApp) {
    let ops = token_of(&app, Role::Ops).await;
    assert_eq!(app.get("/metrics", None).await.status(), 401);
    for token in [&app.officer, &app.admin, &app.checkpoint] {
        assert_eq!(app.get("/metrics", Some(token)).await.status(), 403);
    }
    let res = app.get("/metrics", Some(&ops)).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("kiemdich_http_requests_total")
    );
    let by_session = app
        .client
        .get(app.at("/metrics"))
        .header("Cookie", session(&ops))
        .send()
        .await
        .unwrap();
    assert_eq!(by_session.status(), 200);
    // The ops role reads counters, nothing else.
    assert_eq!(
        app.get("/api/v1/residents?q=Nguyen", Some(&ops))
            .await
            .status(),
        403
    );

    // A separate metrics listener serves /metrics without a token, and nothing else.
    let private = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let private_url = format!("http://{}", private.local_addr().unwrap());
    let options = ServeOptions {
        metrics_listener: Some(private),
        ..ServeOptions::default()
    };
    serve_again(app.state.clone(), options).await;
    let get = |path: &str| app.client.get(format!("{private_url}{path}")).send();
    let res = get("/metrics").await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("kiemdich_passes_issued_total")
    );
    assert_eq!(get("/api/v1/trust-list").await.unwrap().status(), 404);
}

async fn poster(app: &TestApp, url: &str, venue: i64) -> String {
    let res = app
        .client
        .get(format!("{url}/venue/{venue}/poster"))
        .header("Cookie", session(&app.admin))
        .header("Host", "evil.example")
        .header("X-Forwarded-Host", "evil.example")
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

async fn poster_links_follow_the_public_url_not_the_host_header(app: TestApp) {
    let venue = app.location("market", COMMUNE).await;
    let html = poster(&app, &app.url, venue).await;
    assert!(!html.contains("evil.example"), "{html}");
    assert!(
        html.contains(&format!("{}/checkin?code=KDV1:{venue}.", app.url)),
        "{html}"
    );
    let public = PublicUrl::parse("https://kiemdich.example.vn").unwrap();
    let url = serve_again(
        app.state.clone().with_public_url(public),
        ServeOptions::default(),
    )
    .await;
    let html = poster(&app, &url, venue).await;
    assert!(!html.contains("evil.example"), "{html}");
    assert!(
        html.contains(&format!(
            "https://kiemdich.example.vn/checkin?code=KDV1:{venue}."
        )),
        "{html}"
    );
}

async fn cookies_are_secure_when_the_public_url_is_https(app: TestApp) {
    let (res, _) = app.resident_sign_in(0).await;
    let plain = res.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(!plain.contains("Secure"), "{plain}");
    assert!(res.headers().get("strict-transport-security").is_none());
    let public = PublicUrl::parse("https://kiemdich.example.vn").unwrap();
    let url = serve_again(
        app.state.clone().with_public_url(public),
        ServeOptions::default(),
    )
    .await;
    let app = at(app, url);
    let (res, _) = app.resident_sign_in(1).await;
    assert_eq!(res.status(), 200);
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("kd_session=")
            && cookie.ends_with("; Secure")
            && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    assert!(
        res.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = no_redirects.get(app.at("/lang/en")).send().await.unwrap();
    let lang = res.headers()[SET_COOKIE].to_str().unwrap();
    assert!(
        lang.starts_with("kd_lang=en") && lang.contains("; Secure"),
        "{lang}"
    );
    // The Origin of the public URL is this site's even when the proxy passes another Host.
    let res = app
        .client
        .post(app.at("/api/v1/auth/logout"))
        .header("Cookie", session(&app.admin))
        .header("Origin", "https://kiemdich.example.vn")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
}

// Connections: backend-independent, on SQLite only.

/// A server over a fresh SQLite app with `options`.
async fn app_with(options: ServeOptions) -> (TestApp, std::net::SocketAddr) {
    let app = common::spawn(common::Backend::Sqlite).await.unwrap();
    let url = serve_again(app.state.clone(), options).await;
    let addr = url.trim_start_matches("http://").parse().unwrap();
    (app, addr)
}

/// Reads until the server closes the connection or `limit` passes; what was read, and when it ended.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Option<Duration>) {
    let start = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&out).into(), Some(start.elapsed())),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return (String::from_utf8_lossy(&out).into(), Some(start.elapsed()));
            }
            Err(_) => return (String::from_utf8_lossy(&out).into(), None),
        }
        if start.elapsed() > limit {
            return (String::from_utf8_lossy(&out).into(), None);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_sends_half_a_header_or_idles_is_disconnected() {
    let options = ServeOptions {
        header_read_timeout: Duration::from_secs(1),
        ..ServeOptions::default()
    };
    let (_app, addr) = app_with(options).await;
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let (_, closed) = read_until_closed(&mut slow, Duration::from_secs(5));
    let closed = closed.expect("the half-sent request's connection is closed");
    assert!(
        closed >= Duration::from_millis(800) && closed < Duration::from_secs(3),
        "{closed:?}"
    );
    // A kept-alive connection that sends nothing more is closed after the same time.
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (answer, closed) = read_until_closed(&mut idle, Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(closed.expect("the idle connection is closed") < Duration::from_secs(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_larger_than_the_limit_is_refused_before_it_is_read() {
    let (app, addr) = app_with(ServeOptions::default()).await;
    let mut s = TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST /api/v1/declarations HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n{{\"people\":",
        app.officer
    );
    s.write_all(head.as_bytes()).unwrap();
    let start = Instant::now();
    let (answer, _) = read_until_closed(&mut s, Duration::from_secs(3));
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
    assert!(answer.contains("\"too_large\""), "{answer}");
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(app.count("declarations").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_for_a_free_one() {
    let options = ServeOptions {
        max_connections: 1,
        header_read_timeout: Duration::from_secs(5),
        ..ServeOptions::default()
    };
    let (_app, addr) = app_with(options).await;
    let holder = TcpStream::connect(addr).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut waiting = TcpStream::connect(addr).unwrap();
    waiting
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (early, _) = read_until_closed(&mut waiting, Duration::from_millis(700));
    assert_eq!(
        early, "",
        "the second connection is not served while the first holds the only slot"
    );
    drop(holder);
    let (answer, closed) = read_until_closed(&mut waiting, Duration::from_secs(3));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(closed.is_some());
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_database_and_its_wal_are_created_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("kiemdich_mode_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("kiemdich.db");
    let store = kiemdich_store::Store::open_data_dir(&dir).await.unwrap();
    store.upsert_units(&common::soctrang_units()).await.unwrap();
    for file in ["kiemdich.db", "kiemdich.db-wal", "kiemdich.db-shm"] {
        let mode = std::fs::metadata(dir.join(file))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{file}: {mode:o}");
    }
    drop(store);
    std::fs::remove_dir_all(&dir).ok();
    assert!(!db.exists());
}
