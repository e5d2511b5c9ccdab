//! The jurisdiction matrix of the security issue: for each endpoint that reads or changes a person, location,
//! case, declaration, pass or trace, for each caller (role × unit), for a subject in the caller's commune, in
//! another commune of the same district, in another district, and for an id that does not exist, the expected
//! answer. On both backends.
//!
//! The matrix is data ([`endpoints`] × [`callers`] × [`Place`]); one scenario walks it and collects every
//! mismatch, so that one run shows every hole. Besides the status, each cell checks that:
//! - a refusal (4xx) wrote nothing (row counts of every table a request can write, before and after);
//! - a refusal of a subject outside the caller's jurisdiction names neither its commune nor its name, unless
//!   the request did;
//! - an id outside the jurisdiction answers exactly like an id that does not exist (bodies compared with the
//!   ids taken out).
//!
//! Writes that succeed are idempotent or refused by the state they find (a second case for a person with an
//! active one is a 409, a follow-up recorded again corrects the day's), so the order of the walk does not
//! change the answers.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

#[macro_use]
mod common;

use common::{COMMUNE, OTHER_COMMUNE, TestApp};
use kiemdich_domain::UnitCode;
use kiemdich_server::{new_token, token_hash};
use kiemdich_store::Role;
use serde_json::{Value, json};

on_both_backends!(jurisdiction_matrix);

/// Phường 7, the other commune of Thành phố Sóc Trăng (district 941) used here.
const NEIGHBOUR: &str = "31501";

/// Where a subject is, seen from the callers (whose units are COMMUNE, its district 941, or the province).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Place {
    /// In COMMUNE (31498, district 941).
    Here,
    /// In NEIGHBOUR (31501), another commune of district 941.
    Neighbour,
    /// In OTHER_COMMUNE (31569), district 942.
    Elsewhere,
    /// An id that does not exist.
    Unknown,
}

impl Place {
    const ALL: [Place; 4] = [
        Place::Here,
        Place::Neighbour,
        Place::Elsewhere,
        Place::Unknown,
    ];

    fn commune(self) -> &'static str {
        match self {
            Place::Here | Place::Unknown => COMMUNE,
            Place::Neighbour => NEIGHBOUR,
            Place::Elsewhere => OTHER_COMMUNE,
        }
    }

    fn district(self) -> &'static str {
        match self {
            Place::Elsewhere => "942",
            _ => "941",
        }
    }

    fn label(self) -> String {
        match self {
            Place::Here => format!("same commune ({COMMUNE})"),
            Place::Neighbour => format!("other commune, same district ({NEIGHBOUR})"),
            Place::Elsewhere => format!("other district ({OTHER_COMMUNE})"),
            Place::Unknown => "unknown id".into(),
        }
    }
}

/// The registry rows of the three subjects (born 1980-01-01, male, as the ids say), one per place.
const SUBJECTS: [(&str, &str, &str); 3] = [
    ("094080000101", "Lâm Văn Một", "0911000101"),
    ("094080000102", "Lâm Văn Hai", "0911000102"),
    ("094080000103", "Lâm Văn Ba", "0911000103"),
];
/// Valid ids the registry does not hold: the unknown subject, and a person declared without a registry entry.
const UNKNOWN_CITIZEN: &str = "094080000998";
const STRANGER: &str = "094080000997";
const UNKNOWN_ID: i64 = 999_999;
const UNKNOWN_PASS: &str = "0123456789abcdef0123456789abcdef";
const BIRTH: &str = "1980-01-01";

/// Everything of one place the matrix asks about.
struct Subject {
    commune: &'static str,
    citizen: String,
    name: String,
    phone: String,
    location: i64,
    location_name: String,
    case: i64,
    trace: i64,
    declaration: i64,
    pass: String,
}

struct World {
    subjects: Vec<Subject>,
    unknown: Subject,
    /// The onset date of the subjects' cases.
    onset: String,
}

impl World {
    fn of(&self, p: Place) -> &Subject {
        match p {
            Place::Here => &self.subjects[0],
            Place::Neighbour => &self.subjects[1],
            Place::Elsewhere => &self.subjects[2],
            Place::Unknown => &self.unknown,
        }
    }
}

/// A caller: a role at a unit with its bearer token (none, or an unknown one, for the 401 rows).
struct Caller {
    label: String,
    role: Option<Role>,
    unit: &'static str,
    token: Option<String>,
}

impl Caller {
    fn reaches(&self, p: Place) -> bool {
        self.unit == "94" || self.unit == p.district() || self.unit == p.commune()
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    Status(u16),
    /// 200, and the listing holds the subject.
    Listed,
    /// 200, and the listing does not hold the subject.
    Unlisted,
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expect::Status(s) => write!(f, "{s}"),
            Expect::Listed => write!(f, "200 listing the subject"),
            Expect::Unlisted => write!(f, "200 not listing the subject"),
        }
    }
}

fn s(status: u16) -> Expect {
    Expect::Status(status)
}

enum Call {
    Get(String),
    Post(String, Value),
    Delete(String),
}

fn get(path: String) -> Call {
    Call::Get(path)
}

fn post(path: String, body: Value) -> Call {
    Call::Post(path, body)
}

/// One row of the matrix: an endpoint, who may use it at all, and the answers for a subject inside and
/// outside the caller's jurisdiction (and for an unknown id, where the endpoint names one).
struct Endpoint {
    name: &'static str,
    roles: &'static [Role],
    inside: Expect,
    outside: Expect,
    unknown: Option<Expect>,
    /// Venue owners reach only the venues they registered, whatever their unit (none of the subjects').
    owned_only: bool,
    /// The request itself names the subject's commune or name, so a refusal may repeat them.
    names_subject: bool,
    listed: fn(&Value, &Subject) -> bool,
    call: fn(&World, Place, &Caller) -> Call,
}

fn ep(
    name: &'static str,
    roles: &'static [Role],
    inside: Expect,
    outside: Expect,
    call: fn(&World, Place, &Caller) -> Call,
) -> Endpoint {
    Endpoint {
        name,
        roles,
        inside,
        outside,
        unknown: None,
        owned_only: false,
        names_subject: false,
        listed: |_, _| false,
        call,
    }
}

impl Endpoint {
    fn unknown(mut self, e: Expect) -> Endpoint {
        self.unknown = Some(e);
        self
    }
    fn owned_only(mut self) -> Endpoint {
        self.owned_only = true;
        self
    }
    fn names_subject(mut self) -> Endpoint {
        self.names_subject = true;
        self
    }
    fn listing(mut self, f: fn(&Value, &Subject) -> bool) -> Endpoint {
        self.listed = f;
        self
    }

    /// Whether the role check lets the caller in at all.
    fn admits(&self, c: &Caller) -> bool {
        c.role.is_some_and(|r| self.roles.contains(&r))
    }

    fn expected(&self, c: &Caller, p: Place) -> Expect {
        let Some(role) = c.role else {
            return s(401);
        };
        if !self.roles.contains(&role) {
            return s(403);
        }
        if p == Place::Unknown {
            return self
                .unknown
                .expect("asked only where the endpoint names an id");
        }
        if self.reaches(c, p) {
            self.inside
        } else {
            self.outside
        }
    }

    /// Whether a caller the role check admits reaches the subject of `p` here.
    fn reaches(&self, c: &Caller, p: Place) -> bool {
        p != Place::Unknown && !(self.owned_only && c.role == Some(Role::Venue)) && c.reaches(p)
    }
}

const READERS: &[Role] = &[Role::Admin, Role::Officer, Role::Health];
const DECLARERS: &[Role] = &[Role::Admin, Role::Officer];
const HEALTH: &[Role] = &[Role::Admin, Role::Health];
const ADMIN: &[Role] = &[Role::Admin];
const SCANNERS: &[Role] = &[Role::Admin, Role::Checkpoint];
/// `GET /api/v1/locations` admits these; a location by id is no different. Ops read metrics only, and a
/// resident their own data: both get 403.
const LOCATION_READERS: &[Role] = &[
    Role::Admin,
    Role::Officer,
    Role::Health,
    Role::Checkpoint,
    Role::Venue,
];
const COUNTERS: &[Role] = &[Role::Admin, Role::Officer, Role::Health, Role::Venue];
const PLACERS: &[Role] = &[Role::Admin, Role::Officer, Role::Venue];

/// Whether `list` (a JSON array) holds an object whose `field` equals `value`.
fn holds(list: &Value, field: &str, value: Value) -> bool {
    list.as_array()
        .is_some_and(|a| a.iter().any(|x| x[field] == value))
}

/// The declaration body of a subject living in `commune` (their registry commune, or where they live now).
fn person(s: &Subject, commune: &str, attested: bool) -> Value {
    json!({"citizen_id": s.citizen, "full_name": s.name, "date_of_birth": BIRTH, "sex": "M", "phone": s.phone,
           "commune_code": commune, "symptoms": [], "exposures": [], "identity_document_checked": attested})
}

/// A declaration of `people`; a resident can only declare with themselves among the people, so theirs
/// declares An (resident 0, the signed-in resident) and the subject together.
fn declaration(c: &Caller, people: Vec<Value>) -> Call {
    let mut all = Vec::new();
    if c.role == Some(Role::Resident) {
        all.push(common::person(0));
    }
    all.extend(people);
    post(
        "/api/v1/declarations".into(),
        json!({"people": all, "consent": true}),
    )
}

fn endpoints() -> Vec<Endpoint> {
    use Expect::{Listed, Unlisted};
    vec![
        // The population registry.
        ep("GET /api/v1/residents/{citizen_id}", READERS, s(200), s(404), |w, p, _| {
            get(format!("/api/v1/residents/{}", w.of(p).citizen))
        })
        .unknown(s(404)),
        ep("GET /api/v1/residents?q=lam", READERS, Listed, Unlisted, |_, _, _| {
            get("/api/v1/residents?q=lam&limit=100".into())
        })
        .listing(|b, s| holds(&b["residents"], "citizen_id", json!(s.citizen))),
        ep("GET /api/v1/residents?q=lam&commune={commune}", READERS, Listed, s(403), |w, p, _| {
            get(format!("/api/v1/residents?q=lam&limit=100&commune={}", w.of(p).commune))
        })
        .listing(|b, s| holds(&b["residents"], "citizen_id", json!(s.citizen)))
        .names_subject(),
        // Declarations: by the registry commune; by where the person lives now only with the identity
        // document checked (every caller here reaches 31498); for a person not in the registry, by where
        // they live.
        ep("POST /api/v1/declarations (registered and living in the subject's commune)", DECLARERS, s(201), s(403), |w, p, c| {
            declaration(c, vec![person(w.of(p), w.of(p).commune, false)])
        })
        .names_subject(),
        ep("POST /api/v1/declarations (registered in the subject's commune, living in 31498, document not checked)", DECLARERS, s(201), s(403), |w, p, c| {
            declaration(c, vec![person(w.of(p), COMMUNE, false)])
        })
        .names_subject(),
        ep("POST /api/v1/declarations (registered in the subject's commune, living in 31498, document checked)", DECLARERS, s(201), s(201), |w, p, c| {
            declaration(c, vec![person(w.of(p), COMMUNE, true)])
        })
        .names_subject(),
        ep("POST /api/v1/declarations (not in the registry, living in the subject's commune)", DECLARERS, s(201), s(403), |w, p, c| {
            declaration(c, vec![json!({"citizen_id": STRANGER, "full_name": "Lâm Văn Khách", "date_of_birth": BIRTH, "sex": "M",
                                       "commune_code": w.of(p).commune, "symptoms": [], "exposures": []})])
        })
        .names_subject(),
        ep("GET /api/v1/declarations/{id}", READERS, s(200), s(404), |w, p, _| {
            get(format!("/api/v1/declarations/{}", w.of(p).declaration))
        })
        .unknown(s(404)),
        // Passes.
        ep("POST /api/v1/passes/{id}/revoke", READERS, s(200), s(404), |w, p, _| {
            post(format!("/api/v1/passes/{}/revoke", w.of(p).pass), json!({"reason": "jurisdiction matrix"}))
        })
        .unknown(s(404)),
        // Cases: the subject already has an active case, so a second one inside is a 409 that writes nothing.
        ep("POST /api/v1/cases", HEALTH, s(409), s(422), |w, p, _| {
            post("/api/v1/cases".into(), json!({"citizen_id": w.of(p).citizen, "onset_date": w.onset}))
        })
        .unknown(s(422)),
        ep("GET /api/v1/cases/{id}", HEALTH, s(200), s(404), |w, p, _| {
            get(format!("/api/v1/cases/{}", w.of(p).case))
        })
        .unknown(s(404)),
        ep("POST /api/v1/cases/{id}/trace", HEALTH, s(200), s(404), |w, p, _| {
            post(format!("/api/v1/cases/{}/trace", w.of(p).case), json!({}))
        })
        .unknown(s(404)),
        ep("POST /api/v1/cases/{id}/confirm (no contact named)", HEALTH, s(201), s(404), |w, p, _| {
            let s = w.of(p);
            post(format!("/api/v1/cases/{}/confirm", s.case), json!({"trace_id": s.trace, "citizen_ids": []}))
        })
        .unknown(s(404)),
        ep("POST /api/v1/cases/{id}/state", HEALTH, s(200), s(404), |w, p, _| {
            post(format!("/api/v1/cases/{}/state", w.of(p).case), json!({"state": "isolating_facility"}))
        })
        .unknown(s(404)),
        ep("GET /api/v1/cases/{id}/zones", HEALTH, s(200), s(404), |w, p, _| {
            get(format!("/api/v1/cases/{}/zones", w.of(p).case))
        })
        .unknown(s(404)),
        ep("POST /api/v1/cases/{id}/zones/notify", HEALTH, s(200), s(404), |w, p, _| {
            post(format!("/api/v1/cases/{}/zones/notify", w.of(p).case), json!({}))
        })
        .unknown(s(404)),
        ep("POST /api/v1/cases/{id}/zones/publish", HEALTH, s(201), s(404), |w, p, _| {
            post(format!("/api/v1/cases/{}/zones/publish", w.of(p).case), json!({}))
        })
        .unknown(s(404)),
        ep("DELETE /api/v1/cases/{id}/zones/publish", HEALTH, s(200), s(404), |w, p, _| {
            Call::Delete(format!("/api/v1/cases/{}/zones/publish", w.of(p).case))
        })
        .unknown(s(404)),
        ep("GET /api/v1/cases/{id}/chain", HEALTH, s(200), s(404), |w, p, _| {
            get(format!("/api/v1/cases/{}/chain", w.of(p).case))
        })
        .unknown(s(404)),
        ep("GET /api/v1/traces/{id}", HEALTH, s(200), s(404), |w, p, _| {
            get(format!("/api/v1/traces/{}", w.of(p).trace))
        })
        .unknown(s(404)),
        // Daily follow-up.
        ep("GET /api/v1/follow-ups", READERS, Listed, Unlisted, |_, _, _| {
            get("/api/v1/follow-ups".into())
        })
        .listing(|b, s| holds(&b["follow_ups"], "case_id", json!(s.case))),
        ep("POST /api/v1/follow-ups", READERS, s(201), s(422), |w, p, _| {
            post("/api/v1/follow-ups".into(), json!({"case_id": w.of(p).case, "outcome": "well", "channel": "call"}))
        })
        .unknown(s(422)),
        // Locations, their presence log and counts, scans.
        ep("POST /api/v1/locations (in the subject's commune)", PLACERS, s(201), s(403), |w, p, _| {
            post("/api/v1/locations".into(), json!({"name": "Chợ ma trận", "kind": "market", "commune_code": w.of(p).commune,
                                                    "address": "2 Hai Bà Trưng", "lat": 9.6, "lon": 105.97}))
        })
        .names_subject(),
        ep("GET /api/v1/locations", LOCATION_READERS, Listed, Unlisted, |_, _, _| {
            get("/api/v1/locations".into())
        })
        .owned_only()
        .listing(|b, s| holds(b, "id", json!(s.location))),
        ep("GET /api/v1/locations/{id}", LOCATION_READERS, s(200), s(404), |w, p, _| {
            get(format!("/api/v1/locations/{}", w.of(p).location))
        })
        .owned_only()
        .unknown(s(404)),
        ep("GET /api/v1/locations/{id}/presence", READERS, s(200), s(404), |w, p, _| {
            get(format!("/api/v1/locations/{}/presence", w.of(p).location))
        })
        .unknown(s(404)),
        ep("GET /api/v1/locations/{id}/counts", COUNTERS, s(200), s(404), |w, p, _| {
            get(format!("/api/v1/locations/{}/counts", w.of(p).location))
        })
        .owned_only()
        .unknown(s(404)),
        ep("POST /api/v1/locations/{id}/scans (citizen id, document checked)", SCANNERS, s(201), s(404), |w, p, c| {
            let s = w.of(p);
            post(format!("/api/v1/locations/{}/scans", s.location), json!({"citizen_id": s.citizen, "identity_checked": true,
                "direction": "in", "idempotency_key": format!("{} {:?}", c.label, p)}))
        })
        .unknown(s(404)),
        ep("GET /api/v1/movements?unit={commune}", READERS, s(200), s(403), |w, p, _| {
            get(format!("/api/v1/movements?unit={}", w.of(p).commune))
        })
        .names_subject(),
        // The audit log and the outbox.
        ep("GET /api/v1/audit?subject=citizen:{id}", ADMIN, s(200), s(404), |w, p, _| {
            get(format!("/api/v1/audit?subject=citizen:{}", w.of(p).citizen))
        })
        .unknown(s(404)),
        ep("GET /api/v1/audit?subject=case:{id}", ADMIN, s(200), s(404), |w, p, _| {
            get(format!("/api/v1/audit?subject=case:{}", w.of(p).case))
        })
        .unknown(s(404)),
        ep("GET /api/v1/audit?subject=location:{id}", ADMIN, s(200), s(404), |w, p, _| {
            get(format!("/api/v1/audit?subject=location:{}", w.of(p).location))
        })
        .unknown(s(404)),
        ep("GET /api/v1/audit?subject=declaration:{id}", ADMIN, s(200), s(404), |w, p, _| {
            get(format!("/api/v1/audit?subject=declaration:{}", w.of(p).declaration))
        })
        .unknown(s(404)),
        ep("GET /api/v1/outbox", ADMIN, Listed, Unlisted, |_, _, _| {
            get("/api/v1/outbox".into())
        })
        .listing(|b, s| holds(b, "unit_code", json!(s.commune))),
    ]
}

async fn token(app: &TestApp, role: Role, unit: &str) -> String {
    let t = new_token();
    app.store
        .create_token(
            &token_hash(&t),
            &format!("matrix {} {unit}", role.as_str()),
            role,
            &UnitCode::parse(unit).unwrap(),
            None,
            None,
        )
        .await
        .unwrap();
    t
}

/// Admin, officer, health and checkpoint at the commune, its district and the province; a venue owner of the
/// commune; ops; a signed-in resident of the commune; no token; an unknown token. All fresh, so none of them
/// opened a case or submitted a declaration of the subjects.
async fn callers(app: &TestApp) -> Vec<Caller> {
    let mut out = Vec::new();
    for role in [Role::Admin, Role::Officer, Role::Health, Role::Checkpoint] {
        for unit in [COMMUNE, "941", "94"] {
            out.push(Caller {
                label: format!("{}@{unit}", role.as_str()),
                role: Some(role),
                unit,
                token: Some(token(app, role, unit).await),
            });
        }
    }
    for (role, unit) in [(Role::Venue, COMMUNE), (Role::Ops, "94")] {
        out.push(Caller {
            label: format!("{}@{unit}", role.as_str()),
            role: Some(role),
            unit,
            token: Some(token(app, role, unit).await),
        });
    }
    let (res, _) = app.resident_sign_in(0).await;
    assert_eq!(res.status(), 200);
    let session: Value = res.json().await.unwrap();
    out.push(Caller {
        label: format!("resident@{COMMUNE} (An)"),
        role: Some(Role::Resident),
        unit: COMMUNE,
        token: Some(session["token"].as_str().unwrap().to_owned()),
    });
    out.push(Caller {
        label: "no token".into(),
        role: None,
        unit: "",
        token: None,
    });
    out.push(Caller {
        label: "unknown token".into(),
        role: None,
        unit: "",
        token: Some(new_token()),
    });
    out
}

/// The subjects, built once per backend by the province's officer and health officer (not callers of the
/// matrix): a resident, a market, a declaration with its pass, an active F0 case and a kept trace in each
/// place.
async fn setup(app: &TestApp) -> World {
    let records: Vec<_> = SUBJECTS
        .iter()
        .zip([COMMUNE, NEIGHBOUR, OTHER_COMMUNE])
        .map(|((id, name, phone), commune)| {
            kiemdich_domain::RegistryRecord::parse(&kiemdich_domain::person::RawRegistryRow {
                citizen_id: id.to_string(),
                full_name: name.to_string(),
                date_of_birth: BIRTH.into(),
                sex: "M".into(),
                commune_code: commune.to_string(),
                address: "3 Phú Lợi".into(),
                phone: phone.to_string(),
                household_id: String::new(),
            })
            .unwrap()
        })
        .collect();
    app.store.upsert_residents(&records).await.unwrap();
    let rules = &app.state.rules.tracing;
    let onset =
        (rules.local_date(chrono::Utc::now().timestamp()) - chrono::Duration::days(5)).to_string();
    let mut subjects = Vec::new();
    for (i, place) in [Place::Here, Place::Neighbour, Place::Elsewhere]
        .into_iter()
        .enumerate()
    {
        let (citizen, name, phone) = SUBJECTS[i];
        let mut s = Subject {
            commune: place.commune(),
            citizen: citizen.into(),
            name: name.into(),
            phone: phone.into(),
            location: 0,
            location_name: format!("Chợ phường {}", ["Năm", "Bảy", "Thị trấn"][i]),
            case: 0,
            trace: 0,
            declaration: 0,
            pass: String::new(),
        };
        let res = app
            .post(
                "/api/v1/locations",
                Some(&app.officer),
                &json!({"name": s.location_name, "kind": "market", "commune_code": s.commune, "address": "1 Lê Lợi", "lat": 9.6, "lon": 105.97}),
            )
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        s.location = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let declared = app.declare(vec![person(&s, s.commune, false)]).await;
        s.declaration = declared["declaration_id"].as_i64().unwrap();
        s.pass = declared["people"][0]["pass"]["id"]
            .as_str()
            .expect("a registered person gets a pass")
            .to_owned();
        let res = app
            .post(
                "/api/v1/cases",
                Some(&app.health),
                &json!({"citizen_id": s.citizen, "onset_date": onset}),
            )
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        s.case = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let res = app
            .post(
                &format!("/api/v1/cases/{}/trace", s.case),
                Some(&app.health),
                &json!({}),
            )
            .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        s.trace = res.json::<Value>().await.unwrap()["trace_id"]
            .as_i64()
            .unwrap();
        subjects.push(s);
    }
    let unknown = Subject {
        commune: COMMUNE,
        citizen: UNKNOWN_CITIZEN.into(),
        name: "(nobody)".into(),
        phone: String::new(),
        location: UNKNOWN_ID,
        location_name: "(nowhere)".into(),
        case: UNKNOWN_ID,
        trace: UNKNOWN_ID,
        declaration: UNKNOWN_ID,
        pass: UNKNOWN_PASS.into(),
    };
    World {
        subjects,
        unknown,
        onset,
    }
}

/// What a request can write, counted straight from the database: a refusal must leave all of it unchanged.
const WRITES: &[(&str, &str)] = &[
    ("declarations", "SELECT COUNT(*) FROM declarations"),
    (
        "declaration_people",
        "SELECT COUNT(*) FROM declaration_people",
    ),
    ("passes", "SELECT COUNT(*) FROM passes"),
    (
        "revoked passes",
        "SELECT COUNT(*) FROM passes WHERE revoked_at IS NOT NULL",
    ),
    ("revocations", "SELECT COUNT(*) FROM revocations"),
    ("cases", "SELECT COUNT(*) FROM cases"),
    (
        "cases isolating in a facility",
        "SELECT COUNT(*) FROM cases WHERE state = 'isolating_facility'",
    ),
    (
        "active cases",
        "SELECT COUNT(*) FROM cases WHERE active = 1",
    ),
    ("tracing_runs", "SELECT COUNT(*) FROM tracing_runs"),
    ("follow_ups", "SELECT COUNT(*) FROM follow_ups"),
    ("zone_notices", "SELECT COUNT(*) FROM zone_notices"),
    ("exposure_places", "SELECT COUNT(*) FROM exposure_places"),
    ("outbox", "SELECT COUNT(*) FROM outbox"),
    ("locations", "SELECT COUNT(*) FROM locations"),
    ("presence_events", "SELECT COUNT(*) FROM presence_events"),
    ("audit_log", "SELECT COUNT(*) FROM audit_log"),
];

async fn snapshot(conn: &mut sqlx::AnyConnection) -> Vec<i64> {
    let mut out = Vec::with_capacity(WRITES.len());
    for (_, sql) in WRITES {
        out.push(
            sqlx::query_scalar(sqlx::AssertSqlSafe(*sql))
                .fetch_one(&mut *conn)
                .await
                .unwrap(),
        );
    }
    out
}

/// A body with the ids taken out (the pass id, then every run of digits), to compare answers for
/// different ids.
fn without_ids(body: &str, pass: &str) -> String {
    let body = body.replace(pass, "<pass>");
    let mut out = String::with_capacity(body.len());
    let mut digits = false;
    for ch in body.chars() {
        if ch.is_ascii_digit() {
            if !digits {
                out.push('#');
            }
            digits = true;
        } else {
            out.push(ch);
            digits = false;
        }
    }
    out
}

fn short(body: &str) -> String {
    let one_line = body.replace('\n', " ");
    match one_line.char_indices().nth(240) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

struct Mismatch {
    endpoint: &'static str,
    caller: String,
    place: Place,
    expected: String,
    got: String,
}

async fn jurisdiction_matrix(app: TestApp) {
    use sqlx::Connection;
    let world = setup(&app).await;
    let callers = callers(&app).await;
    let endpoints = endpoints();
    let mut conn = sqlx::AnyConnection::connect(&app.db_url).await.unwrap();
    let mut before = snapshot(&mut conn).await;
    let mut mismatches = Vec::new();
    let mut cells = 0;
    let mut tally: std::collections::BTreeMap<String, usize> = Default::default();
    for ep in &endpoints {
        for caller in &callers {
            let mut answers: Vec<(Place, u16, String)> = Vec::new();
            for place in Place::ALL {
                if place == Place::Unknown && ep.unknown.is_none() {
                    continue;
                }
                cells += 1;
                let expected = ep.expected(caller, place);
                *tally.entry(expected.to_string()).or_default() += 1;
                let token = caller.token.as_deref();
                let res = match (ep.call)(&world, place, caller) {
                    Call::Get(path) => app.get(&path, token).await,
                    Call::Post(path, body) => app.post(&path, token, &body).await,
                    Call::Delete(path) => app.delete(&path, token).await,
                };
                let status = res.status().as_u16();
                let body = res.text().await.unwrap();
                let subject = world.of(place);
                let mut miss = |expected: String, got: String| {
                    mismatches.push(Mismatch {
                        endpoint: ep.name,
                        caller: caller.label.clone(),
                        place,
                        expected,
                        got,
                    })
                };
                let listed =
                    || serde_json::from_str::<Value>(&body).is_ok_and(|v| (ep.listed)(&v, subject));
                let ok = match expected {
                    Expect::Status(e) => status == e,
                    Expect::Listed => status == 200 && listed(),
                    Expect::Unlisted => status == 200 && !listed(),
                };
                if !ok {
                    let got = match (status, expected) {
                        (200, Expect::Listed) => "200 not listing the subject".to_owned(),
                        (200, Expect::Unlisted) => {
                            format!("200 LISTING the subject: {}", short(&body))
                        }
                        _ => format!("{status} {}", short(&body)),
                    };
                    miss(expected.to_string(), got);
                }
                let after = snapshot(&mut conn).await;
                if (400..500).contains(&status) && after != before {
                    let changed: Vec<String> = WRITES
                        .iter()
                        .zip(before.iter().zip(&after))
                        .filter(|(_, (b, a))| b != a)
                        .map(|((table, _), (b, a))| format!("{table} {b} → {a}"))
                        .collect();
                    miss(
                        "a refusal that writes nothing".into(),
                        format!("{status}, and wrote: {}", changed.join(", ")),
                    );
                }
                before = after;
                let outside =
                    place != Place::Unknown && ep.admits(caller) && !ep.reaches(caller, place);
                if outside && status >= 400 && !ep.names_subject {
                    for secret in [subject.commune, &subject.name, &subject.location_name] {
                        if secret != caller.unit && body.contains(secret) {
                            miss(
                                format!("a refusal that does not name {secret:?}"),
                                format!("{status} {}", short(&body)),
                            );
                        }
                    }
                }
                answers.push((place, status, body));
            }
            // Outside the jurisdiction, an id must answer exactly as one that does not exist.
            if !ep.admits(caller) {
                continue;
            }
            let Some((_, unknown_status, unknown_body)) =
                answers.iter().find(|(p, _, _)| *p == Place::Unknown)
            else {
                continue;
            };
            let unknown_text = without_ids(unknown_body, UNKNOWN_PASS);
            for (place, status, body) in &answers {
                if *place != Place::Unknown
                    && !ep.reaches(caller, *place)
                    && status == unknown_status
                    && without_ids(body, &world.of(*place).pass) != unknown_text
                {
                    mismatches.push(Mismatch {
                        endpoint: ep.name,
                        caller: caller.label.clone(),
                        place: *place,
                        expected: format!("the answer to an unknown id: {}", short(unknown_body)),
                        got: format!("{status} {}", short(body)),
                    });
                }
            }
        }
    }
    eprintln!(
        "jurisdiction matrix: {} endpoints × {} callers × places = {cells} cells (expected: {tally:?}), {} mismatches",
        endpoints.len(),
        callers.len(),
        mismatches.len()
    );
    if !mismatches.is_empty() {
        let report: Vec<String> = mismatches
            .iter()
            .map(|m| {
                format!(
                    "- {} | {} | {} | expected {} | got {}",
                    m.endpoint,
                    m.caller,
                    m.place.label(),
                    m.expected,
                    m.got
                )
            })
            .collect();
        panic!(
            "{} of {cells} cells of the jurisdiction matrix do not answer as expected:\n{}",
            mismatches.len(),
            report.join("\n")
        );
    }
}
