//! Server-rendered pages: residents (`/`), commune officers (`/officer`), scanner staff (`/scan`), venue owners
//! (`/venue`) and administrators (`/admin`). Vietnamese by default, English on request; mobile-first; every
//! page well under 150 KB. Pages read data through the same handlers as the API, so the same role, jurisdiction
//! and audit rules apply; forms post JSON to the API through `static/app.js`.

mod admin;
mod certificate;
mod health;
mod health_book;
mod lab;
mod map;
mod officer;
pub(crate) mod print;
mod proximity;
mod public;
mod resident;
mod risk;
mod samples;
mod scan;
pub(crate) mod vaccination;
mod venue;

use crate::AppState;
use crate::auth::{cookie, request_token};
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use kiemdich_domain::catalogue::{Common as C, Labelled as _, Lang, script_table};
use kiemdich_store::{Principal, Role};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(resident::home))
        .route("/checkin", get(resident::checkin))
        .route("/officer", get(officer::page))
        .route("/officer/paper-form", get(officer::paper_form))
        .route("/scan", get(scan::page))
        .route("/venue", get(venue::page))
        .route("/venue/{id}/poster", get(venue::poster))
        .route("/admin", get(admin::page))
        .route("/health", get(health::page))
        .route("/health/proximity", get(proximity::counts))
        .route("/vaccination", get(vaccination::page))
        .route("/vaccination/certificate", get(certificate::staff))
        .route("/me/certificate", get(certificate::own))
        .route("/me/health-book", get(health_book::own))
        .route("/health-book/{citizen_id}", get(health_book::staff))
        .route("/lab", get(lab::page).post(lab::enter))
        .route("/samples/labels", get(samples::labels))
        .route("/samples/{id}/slip", get(samples::slip))
        .route("/map", get(map::page))
        .route("/public", get(public::page))
        .route("/risk", get(risk::page))
        .route("/lang/{code}", get(switch_language))
        .route("/static/{file}", get(static_file))
        .route("/sw.js", get(service_worker))
        .route(
            crate::basemap::PMTILES_PATH,
            get(crate::basemap::pmtiles_file),
        )
}

pub const LANG_COOKIE: &str = "kd_lang";

/// The language of a request: the visitor's choice (the language cookie), else Vietnamese. Pages ignore the
/// browser's `Accept-Language`: a province's pages are Vietnamese unless a person asks otherwise.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .unwrap_or_default()
}

/// Who is looking at a page: the signed-in principal, if the session is valid (an expired one shows the
/// sign-in form rather than an error), and the language.
pub struct Viewer {
    pub who: Option<Principal>,
    pub lang: Lang,
    /// The rules' offset from UTC, for the scripts that show times (`data-utc-offset` on the page).
    pub utc_offset_hours: i32,
    /// The name of the signed-in principal's unit, as the header shows it.
    pub unit_name: Option<String>,
    /// The department and hotline the header names.
    pub authority: crate::Authority,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Viewer, Response> {
        let lang = lang_of(&parts.headers);
        let who = match request_token(&parts.headers).ok().flatten() {
            Some(t) => st.principal_of(&t).await.map_err(|e| e.into_response())?,
            None => None,
        };
        let unit_name = who
            .as_ref()
            .and_then(|p| st.units().get(&p.unit).map(|u| u.name.clone()));
        Ok(Viewer {
            who,
            lang,
            utc_offset_hours: st.rules.tracing.utc_offset_hours,
            unit_name,
            authority: st.authority(),
        })
    }
}

impl Viewer {
    /// The principal if it has one of `roles`.
    pub fn with_role(&self, roles: &[Role]) -> Option<&Principal> {
        self.who.as_ref().filter(|p| roles.contains(&p.role))
    }

    /// The principal if it has one of `roles`, else the page `title` at `path` with the staff sign-in form.
    pub fn staff(
        &self,
        roles: &[Role],
        title: &str,
        path: &str,
    ) -> Result<Principal, Html<String>> {
        self.with_role(roles)
            .cloned()
            .ok_or_else(|| layout(self, title, path, login_form(self.lang, roles), &["app.js"]))
    }
}

/// The page frame: skip link, header with the sections and the language switch, main content, scripts.
pub fn layout(v: &Viewer, title: &str, path: &str, body: Markup, scripts: &[&str]) -> Html<String> {
    let l = v.lang;
    let nav = [
        ("/", l.t(C::Residents)),
        ("/public", l.t(C::Situation)),
        ("/officer", l.t(C::Officers)),
        ("/scan", l.t(C::Scanner)),
        ("/venue", l.t(C::Venues)),
        ("/health", l.t(C::Health)),
        ("/lab", l.t(kiemdich_domain::catalogue::Testing::LabNav)),
        ("/vaccination", l.t(C::Vaccination)),
        ("/risk", l.t(C::RiskLevels)),
        ("/map", l.t(C::Map)),
        ("/admin", l.t(C::Admin)),
    ];
    // A signed-in resident has nothing to do in the staff sections.
    let resident = v.who.as_ref().is_some_and(|p| p.role == Role::Resident);
    let nav = if resident { &nav[..2] } else { &nav[..] };
    Html(
        html! {
            (DOCTYPE)
            html lang=(l.code()) data-utc-offset=(v.utc_offset_hours) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · kiemdich" }
                    style { (PreEscaped(CSS)) }
                }
                body {
                    a class="skip" href="#main" { (l.t(C::SkipToContent)) }
                    header {
                        p class="authority" {
                            strong { (v.authority.department) } " · " (l.t(C::Hotline)) " "
                            a href={"tel:" (v.authority.hotline.replace(' ', ""))} { (v.authority.hotline) }
                        }
                        nav aria-label=(l.t(C::Sections)) {
                            @for (href, label) in nav.iter().copied() {
                                a href=(href) aria-current=[(href == path).then_some("page")] { (label) }
                            }
                            @for other in Lang::ALL.into_iter().filter(|o| *o != l) {
                                a href={"/lang/" (other.code()) "?back=" (path)} lang=(other.code()) hreflang=(other.code()) { (other.own_name()) }
                            }
                        }
                        @if let Some(p) = &v.who {
                            p class="who" {
                                // A resident's session is named by their id, which the header need not show.
                                @if p.role != Role::Resident { (p.name) " · " }
                                (p.role.name(l)) " · " (v.unit_name.as_deref().unwrap_or(p.unit.as_str())) " "
                                button type="button" class="link" data-logout { (l.t(C::SignOut)) }
                            }
                        }
                    }
                    main id="main" {
                        h1 { (title) }
                        (body)
                    }
                    @if !scripts.is_empty() {
                        (crate::html::json_script("kd-text", &serde_json::json!(script_table(l))))
                    }
                    @for s in scripts { script src={"/static/" (s)} defer {} }
                }
            }
        }
        .into_string(),
    )
}

/// The staff sign-in form, posting to `/api/v1/auth/login`; on success the page reloads with the session cookie.
pub fn login_form(l: Lang, roles: &[Role]) -> Markup {
    let roles: Vec<&str> = roles.iter().map(|r| r.name(l)).collect();
    let roles = roles.join(", ");
    html! {
        p { (l.t(C::SignInWithAStaffAccount)) " (" (roles) ")." }
        form data-api="/api/v1/auth/login" data-then="reload" class="card" {
            label { (l.t(C::Username)) input name="username" autocomplete="username" required; }
            label { (l.t(C::Password)) input name="password" type="password" autocomplete="current-password" required; }
            (alert())
            button { (l.t(C::SignIn)) }
        }
    }
}

/// A page that could not be made: the store failed. Answered with the error's status and its message in the
/// page's language, never as an empty list with 200 (STYLE: pages show an error, they do not hide one).
pub struct PageError(crate::error::ApiError, Lang);

impl Viewer {
    /// Turns a failed read into an error page in this viewer's language.
    pub fn failed<E: Into<crate::error::ApiError>>(
        &self,
    ) -> impl FnOnce(E) -> PageError + use<'_, E> {
        let lang = self.lang;
        move |e| PageError(e.into(), lang)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let PageError(e, l) = self;
        let body = html! {
            (DOCTYPE)
            html lang=(l.code()) {
                head { meta charset="utf-8"; meta name="viewport" content="width=device-width, initial-scale=1"; title { "kiemdich" } }
                body { main { p role="alert" { (e.message_in(l)) } p { a href="/" { (l.t(C::Residents)) } } } }
            }
        };
        (e.status(), Html(body.into_string())).into_response()
    }
}

/// The place where a form shows the API's answer or its errors.
pub fn alert() -> Markup {
    html! { div class="alert" role="alert" aria-live="assertive" hidden {} }
}

/// A `<select>` of every commune, by district, for forms.
/// A commune picker grouped by district, so that the many "Phường 1" of a province are told apart; it works
/// without JavaScript, and typing a name jumps to it.
pub fn commune_select(st: &AppState, name: &str, label: &str, selected: Option<&str>) -> Markup {
    let tree = st.units();
    let mut districts: Vec<_> = tree
        .all()
        .filter(|u| u.level == kiemdich_domain::UnitLevel::District)
        .collect();
    districts.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
    html! {
        label { (label)
            select name=(name) required data-filter {
                option value="" { "—" }
                @for d in districts {
                    optgroup label=(d.name) {
                        @for c in tree.children(&d.code) {
                            option value=(c.code.as_str()) selected[selected == Some(c.code.as_str())] { (c.name) ", " (d.name) }
                        }
                    }
                }
            }
        }
    }
}

/// A picker of the units inside the caller's jurisdiction: the whole jurisdiction first (value ""), then each
/// district with its communes, by name. Works without JavaScript.
pub fn unit_select(
    st: &AppState,
    who: &Principal,
    name: &str,
    label: &str,
    selected: Option<&str>,
) -> Markup {
    let tree = st.units();
    let own = tree
        .get(&who.unit)
        .map_or_else(|| who.unit.to_string(), |u| u.name.clone());
    let mut districts: Vec<_> = tree
        .all()
        .filter(|u| {
            u.level == kiemdich_domain::UnitLevel::District && tree.contains(&who.unit, &u.code)
        })
        .collect();
    districts.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
    let chosen = |code: &str| selected == Some(code);
    html! {
        label { (label)
            select name=(name) data-filter {
                option value="" { (own) }
                @for d in districts {
                    optgroup label=(d.name) {
                        option value=(d.code.as_str()) selected[chosen(d.code.as_str())] { (d.name) }
                        @for c in tree.children(&d.code) {
                            option value=(c.code.as_str()) selected[chosen(c.code.as_str())] { (c.name) ", " (d.name) }
                        }
                    }
                }
            }
        }
    }
}

/// A place people travel from or to, by name: this province, its districts and communes, then every other
/// province of the country. Works without JavaScript; typing a name jumps to it.
pub fn place_select(st: &AppState, l: Lang, name: &str, label: &str) -> Markup {
    let tree = st.units();
    let mut districts: Vec<_> = tree
        .all()
        .filter(|u| u.level == kiemdich_domain::UnitLevel::District)
        .collect();
    districts.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
    let own: Vec<_> = tree
        .all()
        .filter(|u| u.level == kiemdich_domain::UnitLevel::Province)
        .collect();
    html! {
        label { (label)
            select name=(name) data-filter {
                option value="" { "—" }
                @for p in &own {
                    optgroup label=(p.name) {
                        option value=(p.code.as_str()) { (p.name) }
                        @for d in &districts {
                            option value=(d.code.as_str()) { (d.name) }
                            @for c in tree.children(&d.code) {
                                option value=(c.code.as_str()) { (c.name) ", " (d.name) }
                            }
                        }
                    }
                }
                optgroup label=(l.t(C::OtherProvinces)) {
                    @for (code, province) in crate::services::people::PROVINCES.all().filter(|(c, _)| tree.get(c).is_none()) {
                        option value=(code.as_str()) { (province) }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct Back {
    back: Option<String>,
}

/// Sets the language cookie and returns to the page the visitor was on (same site only).
async fn switch_language(Path(code): Path<String>, Query(q): Query<Back>) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default().code();
    let back = q
        .back
        .filter(|b| b.starts_with('/') && !b.starts_with("//"))
        .unwrap_or_else(|| "/".into());
    (
        [(
            header::SET_COOKIE,
            format!("{LANG_COOKIE}={lang}; Path=/; SameSite=Lax; Max-Age=31536000"),
        )],
        Redirect::to(&back),
    )
        .into_response()
}

const APP_JS: &str = include_str!("../../static/app.js");
const SCAN_JS: &str = include_str!("../../static/scan.js");
const CAMERA_JS: &str = include_str!("../../static/camera.js");
const LAB_JS: &str = include_str!("../../static/lab.js");
const SW_JS: &str = include_str!("../../static/sw.js");
const JSQR_JS: &str = include_str!("../../static/vendor/jsQR.js");
const MAP_JS: &str = include_str!("../../static/map.js");
const LEAFLET_JS: &str = include_str!("../../static/vendor/leaflet.js");
const LEAFLET_CSS: &str = include_str!("../../static/vendor/leaflet.css");
const PMTILES_JS: &str = include_str!("../../static/vendor/pmtiles.js");

async fn static_file(Path(file): Path<String>) -> Response {
    const JS: &str = "text/javascript; charset=utf-8";
    let (body, kind) = match file.as_str() {
        "app.js" => (APP_JS, JS),
        "scan.js" => (SCAN_JS, JS),
        "camera.js" => (CAMERA_JS, JS),
        "lab.js" => (LAB_JS, JS),
        "map.js" => (MAP_JS, JS),
        "jsQR.js" => (JSQR_JS, JS),
        "leaflet.js" => (LEAFLET_JS, JS),
        "pmtiles.js" => (PMTILES_JS, JS),
        "leaflet.css" => (LEAFLET_CSS, "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// The scanner's service worker, at the root so that it may control `/scan`.
async fn service_worker() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SW_JS,
    )
        .into_response()
}

/// One style sheet for every page: mobile-first, system fonts, contrast of at least 4.5:1.
const CSS: &str = "*{box-sizing:border-box}body{font:16px/1.45 system-ui,sans-serif;margin:0;color:#111;background:#fff}\
.skip{position:absolute;left:-999px}.skip:focus{left:.5rem;top:.5rem;background:#fff;padding:.5rem;z-index:9}\
header{background:#0b3d6b;color:#fff;padding:.5rem .75rem}header nav{display:flex;flex-wrap:wrap;gap:.25rem .9rem}\
header a{color:#fff}.authority{margin:0 0 .3rem;font-size:.9rem}header a[aria-current]{font-weight:700;text-decoration-thickness:3px}.who{margin:.3rem 0 0;font-size:.9rem}\
main{max-width:46rem;margin:auto;padding:.75rem}h1{font-size:1.4rem;margin:.5rem 0}h2{font-size:1.15rem;margin:1.25rem 0 .5rem}\
label{display:block;margin:.5rem 0;font-weight:600}input,select,textarea{display:block;width:100%;font:inherit;padding:.5rem;border:1px solid #555;border-radius:.3rem;margin-top:.2rem;background:#fff;color:#111}\
input[type=checkbox],input[type=radio]{display:inline;width:auto;margin:0 .4rem 0 0}fieldset{border:1px solid #888;border-radius:.4rem;margin:.75rem 0;padding:.5rem .75rem}\
.check{font-weight:400}button,.button{display:inline-block;font:inherit;font-weight:600;padding:.6rem 1rem;margin:.4rem .4rem .4rem 0;border:0;border-radius:.3rem;background:#0b5cad;color:#fff;cursor:pointer;text-decoration:none}\
button.secondary,.button.secondary{background:#e8eef5;color:#0b3d6b;border:1px solid #0b3d6b}button.link{background:none;color:#fff;text-decoration:underline;padding:0;margin:0}\
:focus-visible{outline:3px solid #f2a900;outline-offset:2px}.card{border:1px solid #bbb;border-radius:.5rem;padding:.75rem;margin:.75rem 0}\
.alert{border-left:5px solid #b00020;background:#fdecee;padding:.5rem .75rem;margin:.5rem 0}.alert.ok{border-color:#1b6e35;background:#e9f6ee}\
table{border-collapse:collapse;width:100%;font-size:.95rem}th,td{text-align:left;border-bottom:1px solid #ccc;padding:.35rem .3rem;vertical-align:top}\
.mono{font-family:monospace;word-break:break-all}.muted{color:#444}.grid2{display:grid;grid-template-columns:1fr;gap:0 1rem}@media(min-width:40rem){.grid2{grid-template-columns:1fr 1fr}}\
.status{display:inline-block;padding:.1rem .5rem;border-radius:1rem;font-weight:700;border:2px solid #111}\
.green{background:#1b873f;color:#fff}.yellow{background:#f2c200;color:#111}.orange{background:#b35300;color:#fff}.red{background:#b3261e;color:#fff}\
.qr img{width:100%;max-width:20rem;height:auto;image-rendering:pixelated}video{width:100%;max-width:100%;height:auto}button[hidden],video[hidden]{display:none}\
.field-error{color:#b00020;font-weight:600;margin:.1rem 0 .5rem}[aria-invalid=true]{border:2px solid #b00020}\
.tiles{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(9.5rem,1fr));gap:.5rem}\
.tiles a,.tiles div{display:block;border:1px solid #bbb;border-radius:.5rem;padding:.6rem;color:#111;text-decoration:none;height:100%}\
.pass{border:12px solid #111;border-radius:1rem;padding:.75rem;text-align:center;max-width:24rem;margin:.5rem auto}\
.pass.green{border-color:#1b873f}.pass.yellow{border-color:#f2c200}.pass.orange{border-color:#b35300}.pass.red{border-color:#b3261e}\
.pass.green,.pass.yellow,.pass.orange,.pass.red{background:#fff;color:#111}.pass .qr img{max-width:100%}\
.pass-name{font-size:1.35rem;font-weight:700;margin:.2rem 0}.pass-colour{font-size:1.2rem;font-weight:700;margin:.2rem 0}\
.pass-vacc{border:1px solid #555;border-radius:.4rem;padding:.2rem .5rem;margin:.3rem auto;display:inline-block}\
.banner{border-left:10px solid #111;background:#fff7e6;padding:.5rem 1rem;margin:.75rem 0}.banner.red{border-color:#b3261e;background:#fdecee}\
.banner.orange{border-color:#b35300}.banner.yellow{border-color:#f2c200}.banner h2{margin-top:.3rem}\
.tiles strong{display:block;font-size:1.6rem}.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}\
tr.differs td,tr.differs th{background:#fdecee;font-weight:700}.tree,.tree ul{list-style:none;padding-left:1rem;margin:.2rem 0}.tree a[aria-current]{font-weight:700}.tiles a:hover{border-color:#0b5cad}.scroll{overflow-x:auto}\
#map{height:60vh;min-height:18rem;border:1px solid #888;border-radius:.4rem;margin:.5rem 0;background:#eef3f7}\
.legend{margin:.5rem 0}.legend ul{list-style:none;padding:0;margin:.2rem 0;display:flex;flex-wrap:wrap;gap:.2rem 1rem}\
.swatch{display:inline-block;width:1rem;height:1rem;border:1px solid #333;vertical-align:-.15rem;margin-right:.35rem}.swatch.none{background:#c9c9c9}\
.map-count{background:#0b3d6b;color:#fff;border-radius:.6rem;font-weight:700;text-align:center;font-size:.8rem;line-height:22px}\
.big-code{display:block;font:700 2.4rem/1.2 monospace;letter-spacing:.15em;margin:.5rem 0}.big-code[hidden]{display:none}";
