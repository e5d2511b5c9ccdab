//! `TestApp`: the real server on 127.0.0.1:0 over a fresh database — a temporary SQLite file, or a new
//! PostgreSQL database when `KIEMDICH_TEST_PG_URL` is set.

#![allow(dead_code, unused_macros)]
#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

use kiemdich_domain::{AdminUnit, Rules};
use kiemdich_server::{AppState, new_token, token_hash};
use kiemdich_store::{Role, Store, keyring};
use reqwest::{Client, Response};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// Runs each named scenario twice: on SQLite, and on PostgreSQL when [`PG_ENV`] is set.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() {
            if let Some(app) = crate::common::spawn(crate::common::Backend::Sqlite).await { super::$name(app).await } } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() {
            if let Some(app) = crate::common::spawn(crate::common::Backend::Postgres).await { super::$name(app).await } } )* }
    };
}

pub const PG_ENV: &str = "KIEMDICH_TEST_PG_URL";
/// The phone of [`COMMUNE`]'s health station in every test app's configuration.
pub const STATION_PHONE: &str = "0299 3822 000";
/// A commune of Thành phố Sóc Trăng (district 941) and one of Huyện Châu Thành (942).
pub const COMMUNE: &str = "31498";
pub const OTHER_COMMUNE: &str = "31569";

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub url: String,
    pub store: Store,
    pub state: AppState,
    pub data_dir: PathBuf,
    /// The database URL, for counting rows behind the API's back.
    pub db_url: String,
    pub client: Client,
    pub admin: String,
    pub officer: String,
    pub commune_officer: String,
    pub checkpoint: String,
    pub health: String,
    /// Monitoring: reads `/metrics` only.
    pub ops: String,
    /// What the server's sender delivered.
    pub sent: std::sync::Arc<Sent>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).unwrap();
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        u32::from_le_bytes(b)
    )
}

/// Creates a fresh PostgreSQL database next to the one the URL names and returns its URL.
async fn fresh_pg(url: &str) -> String {
    use sqlx::{Connection, Executor};
    let name = unique("kd_test");
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .expect("KIEMDICH_TEST_PG_URL must reach PostgreSQL");
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap();
    let (base, _) = url.rsplit_once('/').expect("URL names a database");
    format!("{base}/{name}")
}

pub fn soctrang_units() -> Vec<AdminUnit> {
    kiemdich_domain::parse_units_json(include_str!("../../../cli/data/soctrang_units.json"))
        .unwrap()
}

/// Returns None (and says so) when the backend is PostgreSQL and no test database was given.
pub async fn spawn(backend: Backend) -> Option<TestApp> {
    let data_dir = temp_data_dir();
    let db_url = match backend {
        Backend::Sqlite => format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("kiemdich.db").display()
        ),
        Backend::Postgres => {
            let Ok(url) = std::env::var(PG_ENV) else {
                eprintln!("skipped on PostgreSQL: {PG_ENV} is not set");
                return None;
            };
            fresh_pg(&url).await
        }
    };
    Some(spawn_on(&db_url, data_dir).await)
}

/// A temporary directory for a test's data (a database file, keys).
pub fn temp_data_dir() -> PathBuf {
    std::env::temp_dir().join(unique("kiemdich_test"))
}

/// The test app over the fresh database `db_url`, its key files in `data_dir`.
pub async fn spawn_on(db_url: &str, data_dir: PathBuf) -> TestApp {
    let db_url = db_url.to_owned();
    std::fs::create_dir_all(&data_dir).unwrap();
    let store = Store::connect(&db_url).await.unwrap();
    store.upsert_units(&soctrang_units()).await.unwrap();
    keyring::generate(&store, &data_dir).await.unwrap();
    seed_residents(&store).await;
    let token = |role: Role, unit: &'static str| token_in(&store, role, unit);
    let ops = token(Role::Ops, "94").await;
    let (admin, officer, commune_officer, checkpoint, health) = (
        token(Role::Admin, "94").await,
        token(Role::Officer, "94").await,
        token(Role::Officer, COMMUNE).await,
        token(Role::Checkpoint, "94").await,
        token(Role::Health, "94").await,
    );
    let sent = std::sync::Arc::new(Sent::default());
    // One commune has its health station's phone configured; the others fall back to the hotline.
    let contact = kiemdich_server::Contact {
        department: None,
        hotline: kiemdich_server::DEFAULT_HOTLINE.into(),
        stations: [(
            kiemdich_domain::UnitCode::parse(COMMUNE).unwrap(),
            STATION_PHONE.to_owned(),
        )]
        .into(),
    };
    let state = AppState::new(store.clone(), data_dir.clone(), "VN-94", Rules::default())
        .await
        .unwrap()
        .with_sender(sent.clone())
        .with_contact(contact);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(kiemdich_server::serve(listener, state.clone()));
    TestApp {
        url,
        store,
        state,
        data_dir,
        db_url,
        // Idle connections are dropped before the server's 10-second idle close, as a well-behaved client
        // does, so that a request never races the server closing its connection.
        client: Client::builder()
            .pool_idle_timeout(std::time::Duration::from_secs(5))
            .build()
            .unwrap(),
        admin,
        officer,
        commune_officer,
        checkpoint,
        health,
        ops,
        sent,
    }
}

/// The messages the server sent, as an SMS gateway would receive them (the outbox never shows codes), and
/// the ids of the codes a test has read.
#[derive(Default)]
pub struct Sent {
    messages: std::sync::Mutex<Vec<kiemdich_store::OutboxMessage>>,
    read: std::sync::Mutex<std::collections::HashSet<i64>>,
}

impl kiemdich_server::notify::Sender for Sent {
    fn send(&self, m: &kiemdich_store::OutboxMessage) -> Result<(), String> {
        self.messages.lock().unwrap().push(m.clone());
        Ok(())
    }
}

impl Sent {
    /// Every message sent so far.
    pub fn all(&self) -> Vec<kiemdich_store::OutboxMessage> {
        self.messages.lock().unwrap().clone()
    }

    /// The newest code sent to `phone` that no test has read yet.
    fn unread_code(&self, phone: &str) -> Option<String> {
        let m = self.all().into_iter().rev().find(|m| {
            m.recipient == phone && m.secret && !self.read.lock().unwrap().contains(&m.id)
        })?;
        self.read.lock().unwrap().insert(m.id);
        m.body
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .map(str::to_owned)
    }
}

/// A new API token with `role` over `unit`.
async fn token_in(store: &Store, role: Role, unit: &str) -> String {
    let t = new_token();
    store
        .create_token(
            &token_hash(&t),
            "test",
            role,
            &kiemdich_domain::UnitCode::parse(unit).unwrap(),
            None,
            None,
        )
        .await
        .unwrap();
    t
}

/// Registry rows the tests declare against.
pub const RESIDENTS: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "094090123456",
        "Nguyễn Văn An",
        "1990-05-17",
        "M",
        COMMUNE,
        "0912345678",
    ),
    (
        "094185000123",
        "Trần Thị Bé",
        "1985-02-03",
        "F",
        COMMUNE,
        "0987654321",
    ),
    ("094315000777", "Lê Thị Cúc", "2015-09-09", "F", COMMUNE, ""),
    (
        "094070000555",
        "Thạch Sà Rết",
        "1970-01-01",
        "M",
        OTHER_COMMUNE,
        "0901112223",
    ),
];

/// Households of the registry: An, Bé and their daughter Cúc live together; Thạch Sà Rết lives alone.
pub const HOUSEHOLDS: &[(&str, &[&str])] =
    &[("HK1", &["094090123456", "094185000123", "094315000777"])];

async fn seed_residents(store: &Store) {
    let records: Vec<_> = RESIDENTS
        .iter()
        .map(|(id, name, dob, sex, commune, phone)| {
            kiemdich_domain::RegistryRecord::parse(&kiemdich_domain::person::RawRegistryRow {
                citizen_id: id.to_string(),
                full_name: name.to_string(),
                date_of_birth: dob.to_string(),
                sex: sex.to_string(),
                commune_code: commune.to_string(),
                address: "1 Lê Lợi".into(),
                phone: phone.to_string(),
                household_id: HOUSEHOLDS
                    .iter()
                    .find(|(_, m)| m.contains(id))
                    .map(|(h, _)| h.to_string())
                    .unwrap_or_default(),
            })
            .unwrap()
        })
        .collect();
    store.upsert_residents(&records).await.unwrap();
}

/// The fields a refusal names, in order.
pub fn error_fields(err: &Value) -> Vec<&str> {
    err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect()
}

/// A phone number as administrators see it in the outbox.
pub fn masked(phone: &str) -> String {
    kiemdich_domain::Phone::parse(phone).unwrap().masked()
}

/// The declaration body for resident `i` of [`RESIDENTS`].
pub fn person(i: usize) -> Value {
    let (id, name, dob, sex, commune, phone) = RESIDENTS[i];
    json!({"citizen_id": id, "full_name": name, "date_of_birth": dob, "sex": sex, "phone": phone, "commune_code": commune, "symptoms": [], "exposures": []})
}

impl TestApp {
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut req = self.client.post(self.at(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.client.get(self.at(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// The Prometheus text at `/metrics`, read as the ops role.
    pub async fn metrics(&self) -> String {
        let res = self.get("/metrics", Some(&self.ops)).await;
        assert_eq!(res.status(), 200);
        res.text().await.unwrap()
    }

    /// Opens a confirmed (F0) case for resident `i` of [`RESIDENTS`], its onset and sample `days_ago` days
    /// before today (Vietnam time), so that it counts on that day; its id.
    pub async fn confirmed_case(&self, i: usize, days_ago: i64) -> i64 {
        let today = self
            .state
            .rules
            .tracing
            .local_date(chrono::Utc::now().timestamp());
        let day = (today - chrono::Duration::days(days_ago)).to_string();
        let res = self
            .post(
                "/api/v1/cases",
                Some(&self.health),
                &json!({"citizen_id": RESIDENTS[i].0, "onset_date": day, "sample_date": day}),
            )
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    /// GET with one request header (a session cookie, a cached copy's tag).
    pub async fn get_with(&self, path: &str, name: &str, value: &str) -> Response {
        self.client
            .get(self.at(path))
            .header(name, value)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.client.delete(self.at(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// GET as JSON, whatever the status (tests assert on the body).
    pub async fn get_json(&self, path: &str, token: Option<&str>) -> Value {
        self.get(path, token).await.json().await.unwrap()
    }

    /// POST and read the answer as JSON, whatever the status.
    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Value {
        self.post(path, token, body).await.json().await.unwrap()
    }

    /// Declares `people` as the province officer and returns the answer, asserting 201.
    pub async fn declare(&self, people: Vec<Value>) -> Value {
        let res = self
            .post(
                "/api/v1/declarations",
                Some(&self.officer),
                &json!({"people": people, "consent": true}),
            )
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        res.json().await.unwrap()
    }

    pub async fn verify(&self, token: &str) -> Value {
        let res = self
            .post("/api/v1/passes/verify", None, &json!({"token": token}))
            .await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// Counts rows of a table straight from the database, to prove that refused requests wrote nothing.
    pub async fn count(&self, table: &str) -> i64 {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&self.db_url).await.unwrap();
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&mut conn)
            .await
            .unwrap()
    }

    /// Records a dose for resident `i` of [`RESIDENTS`] on `date` (`YYYY-MM-DD`) through the API, as a health
    /// officer: the next dose of a Pfizer series.
    pub async fn dose(&self, i: usize, date: &str) {
        let path = format!("/api/v1/residents/{}/vaccinations", RESIDENTS[i].0);
        let before = self.get_json(&path, Some(&self.health)).await;
        let n = before.as_array().unwrap().len() + 1;
        let body = json!({"product": "Pfizer", "dose_number": n, "series_doses": n.max(2), "date": date,
            "lot": "FF2021", "site": "Trạm Y tế"});
        let res = self.post(&path, Some(&self.health), &body).await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }

    /// Creates a location as the province officer and returns its id.
    pub async fn location(&self, kind: &str, commune: &str) -> i64 {
        let body = json!({"name": format!("Chốt {kind}"), "kind": kind, "commune_code": commune, "address": "QL1A", "lat": 9.6, "lon": 105.97});
        let res = self
            .post("/api/v1/locations", Some(&self.officer), &body)
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    /// A new API token with `role` over `unit`.
    pub async fn token(&self, role: Role, unit: &str) -> String {
        token_in(&self.store, role, unit).await
    }

    /// Declares resident `i` (with symptoms when `sick`) and returns the pass token.
    pub async fn pass_of(&self, i: usize, sick: bool) -> String {
        let mut p = person(i);
        if sick {
            p["symptoms"] = json!(["fever"]);
        }
        self.declare(vec![p]).await["people"][0]["pass"]["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The newest one-time code delivered to `phone` and not read before, waiting for the sender.
    pub async fn sent_code(&self, phone: &str) -> String {
        for _ in 0..100 {
            if let Some(code) = self.sent.unread_code(phone) {
                return code;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no code was sent to {phone}")
    }

    /// Signs resident `i` in with a fresh one-time code: the answer, and the code's challenge as sent.
    pub async fn resident_sign_in(&self, i: usize) -> (Response, Value) {
        let challenge: Value = self
            .post("/api/v1/otp", None, &json!({"citizen_id": RESIDENTS[i].0}))
            .await
            .json()
            .await
            .unwrap();
        let code = self.sent_code(RESIDENTS[i].5).await;
        let answer = json!({"challenge_id": challenge["challenge_id"], "code": code});
        (
            self.post("/api/v1/auth/resident", None, &answer).await,
            answer,
        )
    }
}

/// Waits until `count`, a query of one count, finds a row, polling every 20 ms; fails with `what` after 30 s.
pub async fn wait_for_row(db: &sqlx::AnyPool, count: &'static str, what: &str) {
    let started = std::time::Instant::now();
    loop {
        let rows: i64 = sqlx::query_scalar(count).fetch_one(db).await.unwrap();
        if rows > 0 {
            return;
        }
        assert!(started.elapsed().as_secs() < 30, "{what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The demo's geometry: the 11 real district polygons and illustrative communes partitioning each.
pub async fn load_geometry(app: &TestApp) {
    let units = kiemdich_domain::UnitTree::new(soctrang_units());
    let features = kiemdich_geometry::parse_feature_collection(include_str!(
        "../../../cli/data/soctrang_districts.geojson"
    ))
    .unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2021, 11, 1).unwrap();
    let mut rows = Vec::new();
    for f in features {
        let f = f.unwrap();
        let code = kiemdich_domain::UnitCode::parse(&f.code).unwrap();
        let mut communes: Vec<kiemdich_domain::UnitCode> = units
            .children(&code)
            .filter(|u| u.level == kiemdich_domain::UnitLevel::Commune)
            .map(|u| u.code.clone())
            .collect();
        communes.sort();
        let seeds = kiemdich_geometry::points_inside(&f.geometry, communes.len(), 7);
        for (unit, geometry) in communes
            .into_iter()
            .zip(kiemdich_geometry::voronoi_partition(&f.geometry, &seeds))
        {
            rows.push(kiemdich_store::NewBoundary {
                unit,
                geometry,
                valid_from: day,
                source: "illustrative demo geometry".into(),
            });
        }
        rows.push(kiemdich_store::NewBoundary {
            unit: code,
            geometry: f.geometry,
            valid_from: day,
            source: "gis.chinhphu.vn 2019".into(),
        });
    }
    app.store.upsert_boundaries(&rows).await.unwrap();
}

impl TestApp {
    /// Puts an HC1 document signer in service, as `kiemdich dcc dsc install` does: its key in the app's keys/,
    /// its certificate signed for vaccinations by a fresh CSCA, which it returns; the server is refreshed.
    pub async fn install_dsc(&self) -> kiemdich_dcc::Csca {
        use chrono::{Duration, Utc};
        let now = Utc::now();
        let req = kiemdich_dcc::dsc_request("VN", "kiemdich test DSC").unwrap();
        let keys = self.data_dir.join("keys");
        std::fs::create_dir_all(&keys).unwrap();
        std::fs::write(keys.join("dcc-dsc-test.key.pem"), req.key_pem).unwrap();
        let csca =
            kiemdich_dcc::Csca::generate("VN", "kiemdich test CSCA", now - Duration::days(1), 5)
                .unwrap();
        let cert = csca
            .sign_request(
                req.request_pem.as_bytes(),
                &[kiemdich_dcc::CertType::Vaccination],
                now - Duration::hours(1),
                365,
            )
            .unwrap();
        kiemdich_store::dcc::install(
            &self.store,
            &self.data_dir,
            &cert,
            Some(&csca.cert_der().unwrap()),
            now,
        )
        .await
        .unwrap();
        self.state.refresh().await.unwrap();
        csca
    }

    /// A foreign DSC (Germany) allowed to sign `usages`, its certificate imported as a foreign trust list.
    pub async fn foreign_signer(
        &self,
        usages: &[kiemdich_dcc::CertType],
    ) -> kiemdich_dcc::DscSigner {
        use base64::Engine as _;
        use chrono::{Duration, Utc};
        let now = Utc::now();
        let csca = kiemdich_dcc::Csca::generate("DE", "foreign CSCA", now - Duration::days(800), 5)
            .unwrap();
        let req = kiemdich_dcc::dsc_request("DE", "foreign DSC").unwrap();
        let der = csca
            .sign_request(
                req.request_pem.as_bytes(),
                usages,
                now - Duration::days(700),
                1500,
            )
            .unwrap();
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let list = json!({"certificates": [{"kid": b64(&kiemdich_dcc::kid_of(&der)), "certificate": b64(&der)}]});
        kiemdich_store::dcc::import_trust(&self.store, &list.to_string(), "de.json")
            .await
            .unwrap();
        self.state.refresh().await.unwrap();
        kiemdich_dcc::DscSigner::load(&req.key_pem, &der).unwrap()
    }
}

/// A German vaccination certificate for Erika Mustermann (born 1964): dose `dn` of `sd` given `days_ago`,
/// issued at `issued`.
pub fn foreign_vaccination(
    signer: &kiemdich_dcc::DscSigner,
    (dn, sd): (u32, u32),
    days_ago: i64,
    issued: chrono::DateTime<chrono::Utc>,
) -> String {
    use chrono::{Duration, Utc};
    let holder = kiemdich_dcc::Holder {
        family_name: "Mustermann".into(),
        given_name: "Erika".into(),
        date_of_birth: "1964-08-12".into(),
    };
    let v = kiemdich_dcc::Vaccination {
        tg: "840539006".into(),
        vp: "1119349007".into(),
        mp: "EU/1/20/1528".into(),
        ma: "ORG-100030215".into(),
        dose_number: dn,
        series_doses: sd,
        date: (Utc::now() - Duration::days(days_ago)).date_naive(),
        country: "DE".into(),
        issuer: "Robert Koch-Institut".into(),
    };
    kiemdich_dcc::issue(signer, &holder, &v, "DE", None, issued)
        .unwrap()
        .hc1
}

/// Reads the one QR code in a greyscale picture of `w` × `h` pixels: its text and error correction level
/// (rqrr: 0 M, 1 L, 2 H, 3 Q).
pub fn read_qr(w: usize, h: usize, luma: impl FnMut(usize, usize) -> u8) -> (String, u16) {
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, luma);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the picture");
    let (meta, content) = grids[0].decode().unwrap();
    (content, meta.ecc_level)
}

/// Reads the one QR code in a PNG (greyscale, RGB or RGBA): its text and error correction level.
pub fn read_qr_png(png_bytes: &[u8]) -> (String, u16) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let (w, h) = (info.width as usize, info.height as usize);
    read_qr(w, h, |x, y| {
        let px = &buf[(y * w + x) * channels..][..channels.min(3)];
        (px.iter().map(|&c| u32::from(c)).sum::<u32>() / px.len() as u32) as u8
    })
}
