//! Commune officers: assisted declaration from a paper form, printing pass cards and blank forms, resident
//! search in their jurisdiction, and movement reports.

use super::print;
use super::resident::{FormFor, declaration_form};
use super::{Viewer, alert, layout, shown_time};
use crate::AppState;
use crate::auth::Staff;
use crate::routes::locations::{MovementQuery, movements};
use crate::routes::registry::{SearchQuery, search_residents};
use axum::extract::{Query, State};
use axum::response::Html;
use kiemdich_domain::catalogue::{Common as C, Lang, Officer as T};
use kiemdich_store::Role;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

const OFFICERS: &[Role] = &[Role::Officer, Role::Admin];

#[derive(Deserialize)]
pub struct OfficerQuery {
    q: Option<String>,
    movements: Option<String>,
}

pub async fn page(
    State(st): State<AppState>,
    v: Viewer,
    Query(query): Query<OfficerQuery>,
) -> Html<String> {
    let l = v.lang;
    let title = l.t(T::CommuneOfficers);
    let p = match v.staff(OFFICERS, title, "/officer") {
        Ok(p) => p,
        Err(page) => return page,
    };
    let search = match query.q.as_deref().filter(|q| !q.trim().is_empty()) {
        Some(q) => {
            let found = search_residents(
                State(st.clone()),
                Staff(p.clone()),
                Query(SearchQuery {
                    q: q.into(),
                    commune: None,
                    limit: Some(50),
                }),
            )
            .await;
            Some(match found {
                Ok(axum::Json(v)) => residents_table(l, &v["residents"]),
                Err(e) => html! { p class="alert" role="alert" { (e.message_in(l)) } },
            })
        }
        None => None,
    };
    let report = match query.movements {
        Some(unit) => {
            let unit = Some(unit).filter(|u| !u.is_empty());
            let got = movements(
                State(st.clone()),
                Staff(p.clone()),
                Query(MovementQuery {
                    unit,
                    from: None,
                    to: None,
                }),
            )
            .await;
            Some(match got {
                Ok(axum::Json(v)) => movements_tables(&st, l, &v),
                Err(e) => html! { p class="alert" role="alert" { (e.message_in(l)) } },
            })
        }
        None => None,
    };
    let due = crate::routes::follow_ups::list(
        State(st.clone()),
        Staff(p.clone()),
        Query(crate::routes::follow_ups::DayQuery { day: None }),
    )
    .await
    .map(|j| j.0);
    let body = html! {
        nav aria-label=(l.t(T::OfficerTasks)) {
            a href="#follow-h" { (l.t(T::Checks)) } " · "
            a href="#declare-h" { (l.t(T::DeclareForSomeone)) } " · "
            a href="#search-h" { (l.t(T::Search)) } " · "
            a href="#movements-h" { (l.t(T::ArrivalsAndDepartures)) } " · "
            a href="/officer/paper-form" { (l.t(T::PrintABlankPaperForm)) }
        }
        h2 id="follow-h" { (l.t(T::TodaysIsolationAndQuarantineChecks)) }
        @match &due {
            Ok(v) => (follow_ups(l, v)),
            Err(e) => p class="alert" role="alert" { (e.message_in(l)) },
        }
        h2 id="search-h" { (l.t(T::SearchResidentsOfYourJurisdiction)) }
        form method="get" action="/officer" role="search" {
            label { (l.t(T::NameWithOrWithoutDiacritics)) input type="search" name="q" value=[query.q.as_deref()] minlength="2"; }
            button { (l.t(T::Search2)) }
        }
        @if let Some(s) = search { (s) }
        h2 id="movements-h" { (l.t(T::CheckpointArrivalsAndDepartures7Days)) }
        form method="get" action="/officer" {
            label { (l.t(T::UnitCodeEmptyYourJurisdiction)) input name="movements" inputmode="numeric" value=[report.as_ref().map(|_| "")]; }
            button { (l.t(T::ShowReport)) }
        }
        @if let Some(r) = report { (r) }
        h2 id="declare-h" { (l.t(T::DeclareForSomeoneWithoutASmartphone)) }
        p class="muted" { (l.t(T::CopyFromThePaperFormAfter)) }
        (declaration_form(&st, l, None, FormFor::Staff))
    };
    layout(&v, title, "/officer", body, &["app.js"])
}

/// Who to check on today, each with a one-line form to record the outcome of the call or visit.
fn follow_ups(l: Lang, v: &Value) -> Markup {
    let rows = v["follow_ups"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    html! {
        @if rows.is_empty() { p class="muted" { (l.t(T::NobodyToCheckOnToday)) } }
        @for r in rows {
            @let case = r["case_id"].as_i64().unwrap_or_default();
            form data-api="/api/v1/follow-ups" data-then="reload" class="card" {
                p {
                    span class="mono" { (r["citizen_id"].as_str().unwrap_or_default()) } " · "
                    (r["classification"].as_str().unwrap_or_default().to_uppercase())
                    @if let Some(until) = r["quarantine_until"].as_str() { " · " (l.t(T::Until)) " " (until) }
                    @if let Some(done) = r["outcome"].as_str() { " · " strong { (l.t(T::Recorded)) ": " (done) } }
                }
                input type="hidden" name="case_id" value=(case) data-num;
                div class="grid2" {
                    label { (l.t(T::Outcome))
                        select name="outcome" {
                            option value="well" { (l.t(T::Well)) }
                            option value="symptoms" { (l.t(T::Symptoms)) }
                            option value="unreachable" { (l.t(T::Unreachable)) }
                        }
                    }
                    label { (l.t(T::How))
                        select name="channel" {
                            option value="call" { (l.t(T::Call)) }
                            option value="visit" { (l.t(T::Visit)) }
                            option value="sms" { "SMS" }
                        }
                    }
                }
                label { (l.t(T::Note)) input name="note" maxlength="500"; }
                (alert())
                button { (l.t(T::Record)) }
            }
        }
    }
}

fn residents_table(l: Lang, rows: &Value) -> Markup {
    let rows = rows.as_array().map(Vec::as_slice).unwrap_or_default();
    html! {
        p { (rows.len()) " " (l.t(T::Results)) }
        @if !rows.is_empty() {
            table {
                thead { tr { th { (l.t(C::Name)) } th { (l.t(T::Born)) } th { "CCCD" } th { (l.t(C::Commune)) } } }
                tbody {
                    @for r in rows {
                        tr {
                            td { (r["full_name"].as_str().unwrap_or_default()) }
                            td { (r["date_of_birth"].as_str().unwrap_or_default()) }
                            td class="mono" { (r["citizen_id"].as_str().unwrap_or_default()) }
                            td { (r["commune_code"].as_str().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    }
}

fn movements_tables(st: &AppState, l: Lang, report: &Value) -> Markup {
    let table = |caption: &str, rows: &Value| {
        let rows = rows.as_array().map(Vec::as_slice).unwrap_or_default();
        html! {
            table {
                caption { (caption) " (" (rows.len()) ")" }
                thead { tr { th { (l.t(C::Time)) } th { "CCCD" } th { (l.t(C::From)) } th { (l.t(C::To)) } th { (l.t(T::Checkpoint)) } } }
                tbody {
                    @for r in rows {
                        tr {
                            td { (shown_time(st, &r["at"])) }
                            td class="mono" { (r["citizen_id"].as_str().unwrap_or_default()) }
                            td { (r["from_unit"].as_str().unwrap_or_default()) }
                            td { (r["to_unit"].as_str().unwrap_or_default()) }
                            td { (r["location_id"]) }
                        }
                    }
                }
            }
        }
    };
    html! {
        p { (l.t(C::Unit)) " " (report["unit"].as_str().unwrap_or_default()) }
        (table(l.t(T::Arrivals), &report["arrivals"]))
        (table(l.t(T::Departures), &report["departures"]))
    }
}

/// A blank declaration form to print for people who fill it in on paper; the officer copies it in later.
pub async fn paper_form(State(st): State<AppState>, v: Viewer) -> Html<String> {
    Html(print::paper_form(v.lang, &st.authority()))
}
