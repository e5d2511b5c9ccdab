//! Commune officers: assisted declaration from a paper form, printing pass cards and blank forms, resident
//! search in their jurisdiction, and movement reports.

use super::print;
use super::resident::{FormFor, declaration_form};
use super::{Viewer, alert, layout, unit_select};
use crate::AppState;
use crate::services::officer::{
    self, FollowUpLine, FollowUpList, FoundPerson, Movement, Movements,
};
use crate::services::people::unit_name;
use axum::extract::{Query, State};
use axum::response::Html;
use kiemdich_domain::catalogue::fill;
use kiemdich_domain::catalogue::{Common as C, HealthBook, Labelled as _, Lang, Officer as T};
use kiemdich_domain::{CaseClass, FollowUpChannel, FollowUpOutcome, LocalClock, UnitCode};
use kiemdich_store::Role;
use maud::{Markup, html};
use serde::Deserialize;

/// Who works on the officer page.
pub(super) const OFFICERS: &[Role] = &[Role::Officer, Role::Admin];

#[derive(Deserialize)]
pub struct OfficerQuery {
    q: Option<String>,
    /// Which class of follow-ups to show.
    show: Option<String>,
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
        Some(q) => Some(match officer::find_people(&st, &p, q, l).await {
            Ok(found) => people_table(&st, l, &found),
            Err(e) => html! { p class="alert" role="alert" { (e.message_in(l)) } },
        }),
        None => None,
    };
    let report = match query.movements.as_deref() {
        Some(unit) => {
            let unit = match unit {
                "" => Ok(p.unit.clone()),
                u => UnitCode::parse(u).map_err(|e| crate::error::ApiError::field("unit", e)),
            };
            let now = chrono::Utc::now().timestamp();
            let got = match unit {
                Ok(u) => officer::movements(&st, &p, &u, now - 7 * 86_400, now + 1).await,
                Err(e) => Err(e),
            };
            Some(match got {
                Ok(m) => movements_tables(&st, l, &m),
                Err(e) => html! { p class="alert" role="alert" { (e.message_in(l)) } },
            })
        }
        None => None,
    };
    let today = st.rules.tracing.local_date(chrono::Utc::now().timestamp());
    let due = officer::follow_ups(&st, &p, today).await;
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
            Ok(list) => (follow_ups(l, list, query.show.as_deref())),
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
            (unit_select(&st, &p, "movements", l.t(T::UnitCodeEmptyYourJurisdiction), query.movements.as_deref()))
            button { (l.t(T::ShowReport)) }
        }
        @if let Some(r) = report { (r) }
        h2 id="declare-h" { (l.t(T::DeclareForSomeoneWithoutASmartphone)) }
        p class="muted" { (l.t(T::CopyFromThePaperFormAfter)) }
        (declaration_form(&st, l, None, FormFor::Staff, None))
    };
    layout(&v, title, "/officer", body, &["app.js"])
}

/// Who to check on today: a count and a filter, each person with name, phone and address and a form with
/// no outcome chosen in advance; those already checked are listed apart.
fn follow_ups(l: Lang, list: &FollowUpList, show: Option<&str>) -> Markup {
    let due: Vec<&FollowUpLine> = list.due().collect();
    let done: Vec<&FollowUpLine> = list.done().collect();
    let class = show.and_then(|c| CaseClass::parse(c).ok());
    let shown: Vec<&FollowUpLine> = due
        .iter()
        .copied()
        .filter(|f| class.is_none_or(|c| f.classification == c))
        .collect();
    let (n_due, n_done) = (due.len().to_string(), done.len().to_string());
    html! {
        p { strong { (fill(l.t(T::FollowUpCounts), &[("due", &n_due), ("done", &n_done)])) } }
        form method="get" action="/officer#follow-h" class="filters" {
            label { (l.t(T::Show))
                select name="show" {
                    option value="" { (l.t(T::Everyone)) }
                    @for c in CaseClass::ALL {
                        option value=(c.as_str()) selected[class == Some(*c)] { (c.name(l)) }
                    }
                }
            }
            button class="secondary" { (l.t(T::Filter)) }
        }
        @if shown.is_empty() { p class="muted" { (l.t(T::NobodyToCheckOnToday)) } }
        @for f in shown { (follow_up_form(l, f)) }
        @if !done.is_empty() {
            details {
                summary { (fill(l.t(T::CheckedToday), &[("n", &n_done)])) }
                ul {
                    @for f in done {
                        li { strong { (f.person.display_name()) } " · "
                            (f.outcome.map_or("", |o| o.name(l))) " · " (f.channel.map_or("", |c| c.name(l)))
                            @if let Some(n) = f.note.as_deref().filter(|n| !n.is_empty()) { " · " (n) } }
                    }
                }
            }
        }
    }
}

fn follow_up_form(l: Lang, f: &FollowUpLine) -> Markup {
    html! {
        form data-api="/api/v1/follow-ups" data-then="reload" class="card" {
            p {
                strong { (f.person.display_name()) }
                @if let Some(age) = f.person.age { " · " (age) " " (l.t(T::YearsOld)) }
                " · " span class={"status " (f.classification.status().as_str())} { (f.classification.name(l)) }
                @if let Some(until) = f.quarantine_until { " · " (l.t(T::Until)) " " (LocalClock::date(until)) }
                br;
                @if let Some(phone) = &f.person.phone { a href={"tel:" (phone)} { (phone) } " · " }
                (f.person.address.as_deref().unwrap_or_default()) ", " (f.person.commune_name)
            }
            input type="hidden" name="case_id" value=(f.case_id) data-num;
            fieldset {
                legend { (l.t(T::Outcome)) }
                @for o in FollowUpOutcome::ALL {
                    label class="check" { input type="radio" name="outcome" value=(o.as_str()) required; (o.name(l)) }
                }
            }
            label { (l.t(T::How))
                select name="channel" {
                    @for c in [FollowUpChannel::Call, FollowUpChannel::Visit, FollowUpChannel::Sms] {
                        option value=(c.as_str()) { (c.name(l)) }
                    }
                }
            }
            label { (l.t(T::Note)) input name="note" maxlength="500"; }
            (alert())
            button { (l.t(T::Record)) }
        }
    }
}

/// People found by citizen id or name, each with their latest pass and a link to reprint its card.
fn people_table(st: &AppState, l: Lang, found: &[FoundPerson]) -> Markup {
    let clock = st.rules.clock();
    html! {
        p { (found.len()) " " (l.t(T::Results)) }
        @for f in found {
            div class="card" {
                p { strong { (f.person.display_name()) }
                    @if let Some(y) = f.person.birth_year { " · " (l.t(T::Born)) " " (y) }
                    " · " (f.person.commune_name)
                    @if let Some(p) = &f.person.phone { " · " (p) } }
                @match &f.pass {
                    Some(pass) if pass.live => p {
                        span class={"status " (pass.status.as_str())} { (pass.status.name(l)) } " · "
                        (l.t(C::ValidUntil)) " " (clock.time(pass.expires_at.0)) " "
                        a class="button secondary" href={"/passes/" (pass.pass_id) "/card"} { (l.t(T::ReprintCard)) }
                    },
                    Some(_) => p class="muted" { (l.t(T::PassNoLongerValid)) },
                    None => p class="muted" { (l.t(T::NoPassYet)) },
                }
                (super::vaccination::doses_table(l, &f.doses))
                p { a class="button secondary" href={"/health-book/" (f.person.citizen_id)} { (l.t(HealthBook::OpenHealthBook)) } }
                details {
                    summary { (l.t(HealthBook::DailyUpdateForPerson)) }
                    (super::health_book::update_form(l, &format!("/api/v1/residents/{}/health-updates", f.person.citizen_id),
                        &format!("update-{}", f.person.citizen_id), l.t(HealthBook::DailyUpdateForPerson)))
                }
            }
        }
    }
}

fn movements_tables(st: &AppState, l: Lang, report: &Movements) -> Markup {
    let clock = st.rules.clock();
    let place = |code: Option<&str>| code.map_or_else(String::new, |c| unit_name(st, c));
    let table = |caption: &str, rows: &[Movement]| {
        html! {
            table {
                caption { (caption) " (" (rows.len()) ")" }
                thead { tr { th { (l.t(C::Time)) } th { (l.t(C::CitizenId)) } th { (l.t(C::From)) } th { (l.t(C::To)) } th { (l.t(T::Checkpoint)) } } }
                tbody {
                    @for r in rows {
                        tr {
                            td { (clock.time(r.at.0)) }
                            td class="mono" { (r.citizen_id.as_deref().unwrap_or_default()) }
                            td { (place(r.from_unit.as_deref())) }
                            td { (place(r.to_unit.as_deref())) }
                            td { (r.location.as_deref().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    };
    html! {
        p { (l.t(C::Unit)) ": " strong { (report.unit_name) } }
        div class="scroll" {
            (table(l.t(T::Arrivals), &report.arrivals))
            (table(l.t(T::Departures), &report.departures))
        }
    }
}

/// A blank declaration form to print for people who fill it in on paper; the officer copies it in later.
pub async fn paper_form(State(st): State<AppState>, v: Viewer) -> Html<String> {
    Html(print::paper_form(v.lang, &st.authority()))
}
