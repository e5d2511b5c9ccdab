//! The daily health update form (on the resident's page, and on the officer's for a person without a phone)
//! and the electronic health book as a printable A4 document: the resident's own (`/me/health-book`) and a
//! person's for staff in their jurisdiction (`/health-book/{citizen_id}`, linked from the person search).
//! Vietnamese first, times as `14:37 29/11/2026`, names not ids.

use super::print::document;
use super::{Viewer, alert, layout};
use crate::AppState;
use crate::services::health::UrgentLine;
use crate::services::health_book::{self, HealthBookView};
use axum::extract::{Path, State};
use axum::response::Html;
use kiemdich_domain::LocalClock;
use kiemdich_domain::catalogue::{Common as C, HealthBook as T, Labelled as _, Lang};
use kiemdich_domain::declaration::Symptom;
use kiemdich_store::Role;
use maud::{Markup, html};

/// The update form; `api` is where it posts (the resident's own route, or a person's for staff).
pub(crate) fn update_form(l: Lang, api: &str, id: &str, legend: &str) -> Markup {
    let f = |name: &str| format!("{id}-{name}");
    html! {
        form data-api=(api) data-then="update" data-done=(l.t(T::UpdateSaved)) data-urgent=(l.t(T::UpdateUrgent)) class="card" id=(id) {
            fieldset {
                legend { (legend) }
                div class="grid2" {
                    label { (l.t(T::TemperatureC)) input name="temperature_c" inputmode="decimal" data-num autocomplete="off"; }
                    label { (l.t(T::Spo2Percent)) input name="spo2" inputmode="numeric" data-num autocomplete="off"; }
                }
                fieldset {
                    legend { (l.t(T::SymptomsToday)) }
                    @for s in Symptom::ALL {
                        label class="check" for=(f(s.as_str())) {
                            input type="checkbox" id=(f(s.as_str())) name="symptoms" value=(s.as_str()); (s.name(l))
                        }
                    }
                }
                label { (l.t(T::Note)) input name="note" maxlength="500"; }
                p class="muted" { (l.t(T::UpdateAdvice)) }
            }
            (alert())
            button { (l.t(T::SendUpdate)) }
        }
    }
}

/// The people whose update today showed warning signs, at the top of the health overview: name, phone, what
/// they reported, and their book.
pub(crate) fn urgent_list(st: &AppState, l: Lang, urgent: &[UrgentLine]) -> Markup {
    let clock = st.rules.clock();
    html! {
        @if !urgent.is_empty() {
            section class="banner red" role="status" {
                h2 { (l.t(T::UrgentToday)) }
                ul {
                    @for u in urgent {
                        li {
                            a href={"/health-book/" (u.person.citizen_id)} { strong { (u.person.display_name()) } }
                            @if let Some(phone) = &u.person.phone { " · " a href={"tel:" (phone)} { (phone) } }
                            " · " (clock.time(u.at.0))
                            @if let Some(s) = u.spo2 { " · SpO2 " (s) "%" }
                            @if let Some(t) = u.temperature_c { " · " (format!("{t:.1} °C")) }
                            @if !u.symptoms.is_empty() { " · " (u.symptoms.iter().map(|s| s.name(l)).collect::<Vec<_>>().join(", ")) }
                        }
                    }
                }
            }
        }
    }
}

/// `/me/health-book`: the signed-in resident's book, printable.
pub async fn own(State(st): State<AppState>, v: Viewer) -> Html<String> {
    let l = v.lang;
    let title = l.t(T::HealthBookTitle);
    let Some(p) = v.with_role(&[Role::Resident]).cloned() else {
        let body = html! { p { a href="/" { (l.t(C::SignIn)) } } };
        return layout(&v, title, "/me/health-book", body, &["app.js"]);
    };
    match health_book::mine(&st, &p, l).await {
        Ok(book) => Html(document(
            l,
            title,
            "/",
            BOOK_CSS,
            book_markup(&st, l, &v, &book),
        )),
        Err(e) => layout(
            &v,
            title,
            "/me/health-book",
            html! { p class="alert" role="alert" { (e.message_in(l)) } },
            &[],
        ),
    }
}

/// `/health-book/{citizen_id}`: a person's book for staff inside their jurisdiction, printable.
pub async fn staff(
    State(st): State<AppState>,
    v: Viewer,
    Path(citizen_id): Path<String>,
) -> Html<String> {
    let l = v.lang;
    let title = l.t(T::HealthBookTitle);
    let path = format!("/health-book/{citizen_id}");
    let who = match v.staff(health_book::READERS, title, &path) {
        Ok(who) => who,
        Err(page) => return page,
    };
    match health_book::of(&st, &who, &citizen_id, l).await {
        Ok(book) => Html(document(
            l,
            title,
            "/officer",
            BOOK_CSS,
            book_markup(&st, l, &v, &book),
        )),
        Err(e) => layout(
            &v,
            title,
            &path,
            html! { p class="alert" role="alert" { (e.message_in(l)) } },
            &[],
        ),
    }
}

fn none_yet(l: Lang) -> Markup {
    html! { p class="muted" { (l.t(T::NothingRecorded)) } }
}

/// The book as it prints.
fn book_markup(st: &AppState, l: Lang, v: &Viewer, b: &HealthBookView) -> Markup {
    let clock = st.rules.clock();
    let now = chrono::Utc::now().timestamp();
    let p = &b.person;
    let staff = v.with_role(crate::services::testing::ORDERERS).is_some();
    html! {
        header class="book-head" {
            p class="dept" { (v.authority.department) }
            h1 { (l.t(T::HealthBookTitle)) }
            p class="small" { (kiemdich_domain::catalogue::fill(l.t(T::PrintedAt), &[("time", &clock.time(now))])) }
        }
        dl class="facts" {
            dt { (l.t(C::Name)) } dd class="name" { (p.full_name) }
            dt { (l.t(C::DateOfBirth)) } dd { (LocalClock::date(p.date_of_birth)) }
            dt { (l.t(C::Address)) } dd { (p.address) ", " (p.commune_name) }
        }
        section class={"band " (b.status.colour.as_str())} {
            p { (l.t(T::CurrentColour)) ": " strong { (b.status.colour.name(l)) } }
        }
        h2 { (l.t(T::Why)) }
        @if b.status.reasons.is_empty() { p { (l.t(T::NoReason)) } } @else {
            ul {
                @for r in &b.status.reasons {
                    li { (r.detail) " · " (l.t(T::Since)) " " (LocalClock::date(r.since))
                        @if let Some(u) = r.until { " · " (l.t(T::Until)) " " (LocalClock::date(u)) } }
                }
            }
        }
        h2 { (l.t(T::Cases)) }
        @if b.cases.is_empty() { (none_yet(l)) } @else {
            table { tbody { @for c in &b.cases { tr {
                td { (clock.time(c.opened_at.0)) }
                td { (c.classification.name(l)) }
                td { (c.state.name(l)) }
                td { @if let Some(u) = c.quarantine_until { (l.t(T::Until)) " " (LocalClock::date(u)) } }
            } } } }
        }
        h2 { (l.t(T::HealthUpdates)) }
        @if b.health_updates.is_empty() { (none_yet(l)) } @else {
            table { tbody { @for u in &b.health_updates { tr {
                td { (clock.time(u.at.0)) }
                td { @if let Some(t) = u.temperature_c { (format!("{t:.1} °C")) } }
                td { @if let Some(s) = u.spo2 { "SpO2 " (s) "%" } }
                td { (u.symptoms.iter().map(|s| s.name(l)).collect::<Vec<_>>().join(", "))
                    @if u.urgent { " · " strong { (l.t(T::Urgent)) } } }
            } } } }
        }
        h2 { (l.t(T::FollowUps)) }
        @if b.follow_ups.is_empty() { (none_yet(l)) } @else {
            table { tbody { @for f in &b.follow_ups { tr {
                td { (LocalClock::date(f.day)) } td { (f.outcome.name(l)) } td { (f.channel.name(l)) } td { (f.note) }
            } } } }
        }
        h2 { (l.t(T::Samples)) }
        @if b.samples.is_empty() { (none_yet(l)) } @else {
            table { tbody { @for s in &b.samples { tr {
                // Staff print a sample's result slip from here for a person without a phone.
                td { @if staff { a href={"/samples/" (s.id) "/slip"} { (s.label) } } @else { (s.label) } }
                td { (s.test_name) } td { (s.status_name) }
                td { @if let Some(r) = &s.result { (r.result_name) " · " (r.lab) " · " (r.tested_local) } @else { "—" } }
            } } } }
        }
        h2 { (l.t(T::Vaccinations)) }
        (super::vaccination::doses_table(l, &b.vaccinations))
        h2 { (l.t(T::Declarations)) }
        @if b.declarations.is_empty() { (none_yet(l)) } @else {
            table { tbody { @for d in &b.declarations { tr {
                td { (clock.time(d.submitted_at.0)) }
                td { (d.status.name(l)) }
                td { (d.symptoms.iter().map(|s| s.name(l)).chain(d.exposures.iter().map(|e| e.name(l))).collect::<Vec<_>>().join(", ")) }
            } } } }
        }
        h2 { (l.t(T::Passes)) }
        @if b.passes.is_empty() { (none_yet(l)) } @else {
            table { tbody { @for pass in &b.passes { tr {
                td { (clock.time(pass.issued_at.0)) }
                td { (pass.status.name(l)) }
                td { (l.t(C::ValidUntil)) " " (clock.time(pass.expires_at.0)) }
            } } } }
        }
        h2 { (l.t(T::Visits28Days)) }
        @if b.visits.is_empty() { (none_yet(l)) } @else {
            table { tbody { @for e in &b.visits { tr {
                td { (clock.time(e.at.0)) }
                td { (e.location.as_deref().unwrap_or_default()) }
                td { (e.direction.name(l)) }
                td { (e.decision.name(l)) }
            } } } }
        }
    }
}

/// The book on A4: tables that break between rows, the colour band printed in its colour.
const BOOK_CSS: &str = ".book-head{text-align:center;border-bottom:2px solid #111;padding-bottom:2mm;margin-bottom:3mm}\
.dept{font-weight:600}h2{font-size:1.05rem;margin:4mm 0 1mm;border-bottom:1px solid #999}\
.facts{display:grid;grid-template-columns:auto 1fr;gap:1mm 3mm;margin:0}.facts dt{font-weight:600}.facts dd{margin:0}\
.facts .name{font-size:1.3rem;font-weight:800}.muted{color:#555}\
.band{border:2px solid #111;border-radius:2mm;padding:2mm 4mm;margin:3mm 0;font-size:1.2rem}\
.green{background:#1b873f;color:#fff}.yellow{background:#f2c200;color:#111}.orange{background:#b35300;color:#fff}.red{background:#b3261e;color:#fff}\
table{width:100%;border-collapse:collapse;font-size:.9rem}td,th{border-bottom:1px solid #ccc;padding:1mm 2mm;text-align:left;vertical-align:top}\
@media print{tr{break-inside:avoid}h2{break-after:avoid}}";
