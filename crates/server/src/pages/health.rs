//! Health officers: their unit today and its case list, open a case, trace it, confirm its contacts, see its
//! zones and its transmission chain. Reads go through the service layer, bounded by jurisdiction and audited
//! as the API's are.

use super::{Viewer, alert, layout, shown_time};
use crate::AppState;
use crate::auth::Staff;
use crate::routes::cases;
use crate::services::health;
use crate::services::people::PersonView;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use kiemdich_domain::catalogue::{Common as C, Health, Health as T, Labelled as _, Lang};
use kiemdich_domain::{CaseClass, LocalClock};
use kiemdich_store::{CaseRecord, ChainLink, Principal, Role};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Deserialize)]
pub struct HealthQuery {
    case: Option<i64>,
    class: Option<String>,
    q: Option<String>,
    ended: Option<String>,
}

impl HealthQuery {
    fn list(&self) -> health::CaseQuery {
        health::CaseQuery {
            class: self.class.clone(),
            q: self.q.clone(),
            ended: self.ended.as_deref() == Some("true"),
        }
    }
}

pub async fn page(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<HealthQuery>,
) -> Html<String> {
    let l = v.lang;
    let title = l.t(T::HealthCasesAndTracing);
    let p = match v.staff(&[Role::Health, Role::Admin], title, "/health") {
        Ok(p) => p,
        Err(page) => return page,
    };
    let body = match q.case {
        None => front(&st, l, &p, &q.list()).await,
        Some(id) => case_view(&st, l, Staff(p), id).await,
    };
    layout(&v, title, "/health", body, &["app.js"])
}

/// The unit today, the case list, and the form to report a case.
async fn front(st: &AppState, l: Lang, who: &Principal, q: &health::CaseQuery) -> Markup {
    let overview = match health::overview(st, who).await {
        Ok(o) => o,
        Err(e) => return refusal(l, &e),
    };
    let list = health::case_list(st, who, q).await;
    html! {
        (overview_cards(l, &overview))
        h2 id="cases" { (l.t(T::CaseList)) }
        (case_filter(l, q))
        @match &list {
            Ok(list) => (case_table(st, l, list)),
            Err(e) => (refusal(l, e)),
        }
        h2 { (l.t(T::ReportACase)) }
        (report_form(l))
    }
}

fn refusal(l: Lang, e: &crate::error::ApiError) -> Markup {
    html! { p class="alert" role="alert" { (e.message_in(l)) } }
}

/// The counts of the unit, each a link to its list.
fn overview_cards(l: Lang, o: &health::Overview) -> Markup {
    let cards: [(Health, String, Option<&str>); 7] = [
        (T::ActiveF0, o.f0.to_string(), Some("f0")),
        (T::F1InQuarantine, o.f1.to_string(), Some("f1")),
        (T::F2Watched, o.f2.to_string(), Some("f2")),
        (
            T::SuspectedCases,
            o.suspected.to_string(),
            Some("suspected"),
        ),
        (
            T::PassesIssuedToday,
            o.passes_issued_today.to_string(),
            None,
        ),
        (T::ScansToday, o.scans_today.to_string(), None),
        (T::FollowUpsDue, o.follow_ups_due.to_string(), None),
    ];
    html! {
        p class="muted" { (o.unit_name) " · " (l.t(T::Today)) " " (LocalClock::date(o.day)) }
        ul class="tiles" {
            @for (label, n, class) in cards {
                li {
                    @match class {
                        Some(c) => a href={"/health?class=" (c) "#cases"} { strong { (n) } span { (l.t(label)) } },
                        None => @if label == T::FollowUpsDue {
                            a href="/officer#follow-ups" { strong { (n) } span { (l.t(label)) } }
                        } @else {
                            div { strong { (n) } span { (l.t(label)) } }
                        },
                    }
                }
            }
        }
    }
}

fn case_filter(l: Lang, q: &health::CaseQuery) -> Markup {
    let chosen = q.class.as_deref().unwrap_or_default();
    html! {
        form method="get" action="/health#cases" class="card filters" {
            label { (l.t(T::SearchNameOrId)) input type="search" name="q" value=[q.q.as_deref()]; }
            label { (l.t(T::Classification))
                select name="class" {
                    option value="" { (l.t(T::AllClasses)) }
                    @for c in CaseClass::ALL {
                        option value=(c.as_str()) selected[chosen == c.as_str()] { (c.name(l)) }
                    }
                }
            }
            label class="check" { input type="checkbox" name="ended" value="true" checked[q.ended]; (l.t(T::IncludeEnded)) }
            button { (l.t(T::Filter)) }
        }
    }
}

fn case_table(st: &AppState, l: Lang, list: &health::CaseList) -> Markup {
    let clock = st.rules.clock();
    html! {
        @if list.cases.is_empty() { p { (l.t(T::NoCases)) } }
        @else {
            div class="scroll" {
                table {
                    thead { tr { th { (l.t(T::Person)) } th { (l.t(T::Classification)) } th { (l.t(T::State)) } th { (l.t(T::Commune)) } th { (l.t(T::Phone)) } th { (l.t(T::Opened)) } } }
                    tbody {
                        @for c in &list.cases {
                            tr {
                                td { a href={"/health?case=" (c.id)} { (person_name(l, &c.person)) }
                                     @if let Some(age) = c.person.age { br; span class="muted" { (l.t(T::Age)) " " (age) } } }
                                td { span class={"status " (c.classification.status().as_str())} { (c.classification.name(l)) } }
                                td { (c.state.name(l)) }
                                td { (c.person.commune_name) }
                                td { @if let Some(p) = &c.person.phone { a href={"tel:" (p)} { (p) } } }
                                td { (shown_rfc3339(&clock, &c.opened_at)) }
                            }
                        }
                    }
                }
            }
            @if list.truncated { p class="muted" { (l.t(T::ListTruncated)) } }
        }
    }
}

/// The person's name, or their masked id and a note when the registry no longer holds them.
fn person_name(l: Lang, p: &PersonView) -> String {
    match &p.full_name {
        Some(n) => n.clone(),
        None => format!("{} ({})", p.display_name(), l.t(T::NotInRegistry)),
    }
}

fn shown_rfc3339(clock: &LocalClock, t: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(t)
        .map_or_else(|_| t.to_owned(), |t| clock.time(t.timestamp()))
}

fn report_form(l: Lang) -> Markup {
    html! {
        form data-api="/api/v1/cases" data-then="case" class="card" {
            label { (l.t(C::CitizenId)) input name="citizen_id" inputmode="numeric" required; }
            label { (l.t(T::Classification))
                select name="classification" { option value="f0" { (CaseClass::F0.name(l)) } option value="suspected" { (CaseClass::Suspected.name(l)) } }
            }
            div class="grid2" {
                label { (l.t(T::SymptomOnset)) input name="onset_date" type="date"; }
                label { (l.t(T::PositiveSample)) input name="sample_date" type="date"; }
                label { (l.t(T::IsolatedOn)) input name="isolated_date" type="date"; }
            }
            (alert())
            button { (l.t(T::Report)) }
        }
    }
}

async fn case_view(st: &AppState, l: Lang, staff: Staff, id: i64) -> Markup {
    let who = staff.0.clone();
    let case = match cases::get_one(State(st.clone()), staff, Path(id)).await {
        Ok(axum::Json(c)) => c,
        Err(e) => return html! { p class="alert" role="alert" { (e.message_in(l)) } },
    };
    let trace = st.store.latest_trace(id).await.ok().flatten();
    let zones = cases::zones(State(st.clone()), Staff(who), Path(id))
        .await
        .ok()
        .map(|j| j.0);
    let (chain, links) = st.store.chain(id).await.unwrap_or_default();
    html! {
        dl {
            dt { (l.t(T::Person)) } dd class="mono" { (case["citizen_id"].as_str().unwrap_or_default()) }
            dt { (l.t(T::Classification)) } dd { (case["classification"].as_str().unwrap_or_default().to_uppercase()) }
            dt { (l.t(T::State)) } dd { (case["state"].as_str().unwrap_or_default()) }
            dt { (l.t(T::Onset)) } dd { (case["onset_date"].as_str().or(case["sample_date"].as_str()).unwrap_or("—")) }
            dt { (l.t(T::QuarantineUntil)) } dd { (case["quarantine_until"].as_str().unwrap_or("—")) }
        }
        form data-api={"/api/v1/cases/" (id) "/trace"} data-then="reload" {
            (alert())
            button { (l.t(T::TraceF1AndF2)) }
        }
        @if let Some((trace_id, result)) = trace {
            (contacts(st, l, id, trace_id, &serde_json::from_str(&result).unwrap_or_default()))
        }
        @if let Some(z) = zones { (zones_table(st, l, &z)) }
        h2 { (l.t(T::TransmissionChain)) }
        (diagram(&chain, &links, id))
        p {
            a href={"/api/v1/cases/" (id) "/chain?format=dot"} { "DOT" } " · "
            a href={"/api/v1/cases/" (id) "/chain?format=csv"} { "CSV" } " · "
            a href={"/api/v1/cases/" (id) "/chain"} { "JSON" }
        }
    }
}

fn contacts(st: &AppState, l: Lang, case: i64, trace_id: i64, result: &Value) -> Markup {
    let rows = result["contacts"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    html! {
        h2 { (l.t(T::TracingResult)) " #" (trace_id) }
        p class="muted" { (l.t(T::Rules)) " " (result["rule_version"].as_str().unwrap_or_default()) " · "
            (shown_time(st, &result["window"]["from"])) " → " (shown_time(st, &result["window"]["to"])) }
        table {
            thead { tr { th { "CCCD" } th { "F" } th { (l.t(T::Via)) } th { (l.t(T::Evidence)) } } }
            tbody {
                @for c in rows {
                    tr {
                        td class="mono" { (c["citizen_id"].as_str().unwrap_or_default()) }
                        td { (c["degree"]) }
                        td class="mono" { (c["via"].as_str().unwrap_or_default()) }
                        td { @for e in c["exposures"].as_array().map(Vec::as_slice).unwrap_or_default() {
                            (l.t(T::Place)) " " (e["location_id"]) ", " (shown_time(st, &e["from"])) ": " (e["minutes"]) " " (l.t(T::Min)) br;
                        } }
                    }
                }
            }
        }
        a href={"/api/v1/traces/" (trace_id) "?format=csv"} { (l.t(T::DownloadCSV)) }
        form data-api={"/api/v1/cases/" (case) "/confirm"} data-then="reload" {
            input type="hidden" name="trace_id" value=(trace_id) data-num;
            (alert())
            button { (l.t(T::ConfirmAllAsF1F2Revoke)) }
        }
    }
}

fn zones_table(st: &AppState, l: Lang, z: &Value) -> Markup {
    let places = z["places"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    html! {
        h2 { (l.t(T::Zones)) }
        table {
            thead { tr { th { (l.t(C::Place)) } th { (l.t(C::From)) } th { (l.t(C::To)) } th { (l.t(T::People)) } } }
            tbody {
                @for p in places {
                    tr { td { (p["name"].as_str().unwrap_or_default()) } td { (shown_time(st, &p["from"])) }
                         td { (shown_time(st, &p["to"])) } td { (p["people_present"]) } }
                }
            }
        }
    }
}

/// The chain as an SVG: one column per generation, one node per case (coloured by class), an arrow per link
/// labelled with the shared minutes.
fn diagram(cases: &[CaseRecord], links: &[ChainLink], current: i64) -> Markup {
    let mut depth: HashMap<i64, usize> = HashMap::new();
    for c in cases {
        let d = c
            .source_case_id
            .and_then(|s| depth.get(&s))
            .map_or(0, |d| d + 1);
        depth.insert(c.id, d);
    }
    let mut rows: HashMap<usize, usize> = HashMap::new();
    let mut at: HashMap<i64, (usize, usize)> = HashMap::new();
    for c in cases {
        let d = depth[&c.id];
        let r = rows.entry(d).or_default();
        at.insert(c.id, (20 + d * 150, 30 + *r * 56));
        *r += 1;
    }
    let width = 20 + (depth.values().max().copied().unwrap_or(0) + 1) * 150;
    let height = 30 + rows.values().max().copied().unwrap_or(1) * 56;
    let fill = |class: &str| match class {
        "f0" => "#b3261e",
        "f1" => "#b35300",
        _ => "#f2c200",
    };
    html! {
        svg viewBox={"0 0 " (width) " " (height)} width=(width) height=(height) role="img" aria-label="chain" style="max-width:100%;height:auto" {
            @for link in links {
                @if let (Some(a), Some(b)) = (at.get(&link.from_case), at.get(&link.to_case)) {
                    line x1=(a.0 + 100) y1=(a.1) x2=(b.0) y2=(b.1) stroke="#444" stroke-width="2" {}
                    text x=((a.0 + 100 + b.0) / 2) y=((a.1 + b.1) / 2 - 4) font-size="11" fill="#111" {
                        (link.exposures.iter().map(|e| e.minutes).sum::<i64>()) "′"
                    }
                }
            }
            @for c in cases {
                @let (x, y) = at[&c.id];
                rect x=(x) y=(y - 16) width="100" height="32" rx="6" fill=(fill(&c.classification))
                    stroke=(if c.id == current { "#111" } else { "none" }) stroke-width="3" {}
                text x=(x + 50) y=(y + 5) font-size="12" text-anchor="middle" fill=(if c.classification == "f0" || c.classification == "f1" { "#fff" } else { "#111" }) {
                    (c.classification.to_uppercase()) " #" (c.id)
                }
            }
        }
    }
}
