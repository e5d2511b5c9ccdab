//! Health officers: their unit today and its case list, open a case, trace it, confirm its contacts, see its
//! zones and its transmission chain. Reads go through the service layer, bounded by jurisdiction and audited
//! as the API's are.

use super::{Viewer, alert, layout};
use crate::AppState;
use crate::auth::Staff;
use crate::services::health::{self, ChainLinkView, ChainView};
use crate::services::people::PersonView;
use axum::extract::{Query, State};
use axum::response::Html;
use kiemdich_domain::catalogue::fill;
use kiemdich_domain::catalogue::{Common as C, Health, Health as T, Labelled as _, Lang};
use kiemdich_domain::{CaseClass, CaseState, DetectedIn, LocalClock};
use kiemdich_store::{CaseRecord, Principal, Role};
use maud::{Markup, html};
use serde::Deserialize;
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
        (super::health_book::urgent_list(st, l, &overview.urgent))
        (overview_cards(l, &overview, super::officer::OFFICERS.contains(&who.role)))
        p { a href="/health/proximity" { (l.t(T::ProximityCountsLink)) } }
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

/// The counts of the unit, each a link to its list where the viewer has one.
fn overview_cards(l: Lang, o: &health::Overview, follows_up: bool) -> Markup {
    let list = |class: &str| Some(format!("/health?class={class}#cases"));
    let cards: [(Health, String, Option<String>); 7] = [
        (T::ActiveF0, o.f0.to_string(), list("f0")),
        (T::F1InQuarantine, o.f1.to_string(), list("f1")),
        (T::F2Watched, o.f2.to_string(), list("f2")),
        (
            T::SuspectedCases,
            o.suspected.to_string(),
            list("suspected"),
        ),
        (
            T::PassesIssuedToday,
            o.passes_issued_today.to_string(),
            None,
        ),
        (T::ScansToday, o.scans_today.to_string(), None),
        (
            T::FollowUpsDue,
            o.follow_ups_due.to_string(),
            follows_up.then(|| "/officer#follow-h".to_owned()),
        ),
    ];
    html! {
        p class="muted" { (o.unit_name) " · " (l.t(T::Today)) " " (LocalClock::date(o.day)) }
        ul class="tiles" {
            @for (label, n, href) in cards {
                li {
                    @match href {
                        Some(href) => a href=(href) { strong { (n) } span { (l.t(label)) } },
                        None => div { strong { (n) } span { (l.t(label)) } },
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
                                td { (clock.time(c.opened_at.0)) }
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
            label { (l.t(T::DetectedIn))
                select name="detected_in" {
                    @for d in DetectedIn::ALL { option value=(d.as_str()) { (d.name(l)) } }
                }
            }
            (alert())
            button { (l.t(T::Report)) }
        }
    }
}

async fn case_view(st: &AppState, l: Lang, staff: Staff, id: i64) -> Markup {
    let who = staff.0;
    let detail = match health::case_detail(st, &who, id).await {
        Ok(d) => d,
        Err(e) => return refusal(l, &e),
    };
    let trace = health::latest_trace(st, &who, id).await;
    let zones = health::zones(st, &who, id).await.ok();
    let chain = health::chain(st, &who, id).await;
    let c = &detail.case;
    let date = |d: Option<chrono::NaiveDate>| d.map_or_else(|| "—".to_owned(), LocalClock::date);
    html! {
        dl {
            dt { (l.t(T::Person)) } dd { strong { (person_name(l, &detail.person)) }
                @if let Some(age) = detail.person.age { " · " (l.t(T::Age)) " " (age) }
                " · " (detail.person.commune_name)
                @if let Some(p) = &detail.person.phone { " · " a href={"tel:" (p)} { (p) } } }
            dt { (l.t(T::Classification)) } dd { span class={"status " (c.classification.status().as_str())} { (c.classification.name(l)) } }
            dt { (l.t(T::State)) } dd { (c.state.name(l)) }
            dt { (l.t(T::DetectedIn)) } dd { (c.detected_in.name(l)) }
            dt { (l.t(T::Onset)) } dd { (date(c.onset_date.or(c.sample_date))) }
            dt { (l.t(T::QuarantineUntil)) } dd { (date(c.quarantine_until)) }
        }
        @if c.active { (state_form(l, c)) }
        form data-api={"/api/v1/cases/" (id) "/trace"} data-then="reload" {
            (alert())
            button { (l.t(T::TraceF1AndF2)) }
        }
        @match trace {
            Ok(Some(t)) => (contacts(st, l, &t)),
            Ok(None) => p class="muted" { (l.t(T::NoTraceYet)) },
            Err(e) => (refusal(l, &e)),
        }
        @if let Some(z) = zones { (zones_table(st, l, &z)) }
        @if c.classification == kiemdich_domain::CaseClass::F0 { (publish_form(st, l, id)) }
        @if c.classification == kiemdich_domain::CaseClass::F0 && c.active { (super::proximity::code_form(l, id)) }
        h2 { (l.t(T::TransmissionChain)) }
        @match chain {
            Ok(chain) => (chain_view(l, &chain)),
            Err(e) => (refusal(l, &e)),
        }
        p { (l.t(T::Download)) ": "
            a href={"/api/v1/cases/" (id) "/chain?format=dot"} { "DOT" } " · "
            a href={"/api/v1/cases/" (id) "/chain?format=csv"} { "CSV" } " · "
            a href={"/api/v1/cases/" (id) "/chain"} { "JSON" }
        }
    }
}

/// Moves an active case along its course.
fn state_form(l: Lang, c: &CaseRecord) -> Markup {
    html! {
        form data-api={"/api/v1/cases/" (c.id) "/state"} data-then="saved" class="card" {
            label { (l.t(T::ChangeState))
                select name="state" {
                    @for s in CaseState::ALL {
                        option value=(s.as_str()) selected[*s == c.state] { (s.name(l)) }
                    }
                }
            }
            (alert())
            button { (l.t(T::Save)) }
        }
    }
}

/// A kept trace: counts first, then one row per contact with a checkbox, name, age, commune, phone, whom they
/// were reached through, and the places and local times they shared. Confirming asks first, saying what
/// it does for how many people.
fn contacts(st: &AppState, l: Lang, t: &health::TraceView) -> Markup {
    let clock = st.rules.clock();
    let counts = [("f1", t.f1.to_string()), ("f2", t.f2.to_string())];
    let counts: Vec<(&str, &str)> = counts.iter().map(|(k, v)| (*k, v.as_str())).collect();
    html! {
        h2 { (l.t(T::TracingResult)) }
        p { strong { (fill(l.t(T::ContactsFound), &counts)) } }
        p class="muted" { (l.t(T::ExposureWindow)) ": " (clock.time(t.from.0)) " → " (clock.time(t.to.0)) " · " (l.t(T::Rules)) " " (t.rule_version) }
        @if !t.contacts.is_empty() {
            form data-api={"/api/v1/cases/" (t.case_id) "/confirm"} data-then="confirmed" data-confirm-count="citizen_ids" {
                input type="hidden" name="trace_id" value=(t.trace_id) data-num;
                p class="muted" { (l.t(T::ConfirmExplained)) }
                label class="check" { input type="checkbox" data-select-all checked; (l.t(T::SelectAll)) }
                div class="scroll" {
                    table {
                        thead { tr { th { span class="sr" { (l.t(T::SelectAll)) } } th { (l.t(T::ContactPerson)) } th { "F" } th { (l.t(T::Via)) } th { (l.t(T::WhereAndWhen)) } } }
                        tbody {
                            @for (i, c) in t.contacts.iter().enumerate() {
                                tr {
                                    td { input type="checkbox" name="citizen_ids" value=(c.person.citizen_id) checked id={"contact-" (i)} aria-label=(person_name(l, &c.person)); }
                                    td { label for={"contact-" (i)} { (person_name(l, &c.person)) }
                                         br; span class="muted" {
                                            @if let Some(age) = c.person.age { (l.t(T::Age)) " " (age) " · " }
                                            (c.person.commune_name)
                                            @if let Some(p) = &c.person.phone { " · " a href={"tel:" (p)} { (p) } }
                                         } }
                                    td { "F" (c.degree) }
                                    td { (c.via) }
                                    td { @for e in &c.exposures {
                                        (e.place) ", " (clock.time(e.from.0)) " (" (e.minutes) " " (l.t(T::Min)) ")" br;
                                    } }
                                }
                            }
                        }
                    }
                }
                (alert())
                button { (l.t(T::ConfirmSelected)) }
            }
        }
        a href={"/api/v1/traces/" (t.trace_id) "?format=csv"} { (l.t(T::DownloadCSV)) }
    }
}

fn zones_table(st: &AppState, l: Lang, z: &health::ZonesView) -> Markup {
    let clock = st.rules.clock();
    html! {
        h2 { (l.t(T::Zones)) }
        div class="scroll" {
            table {
                thead { tr { th { (l.t(C::Place)) } th { (l.t(C::From)) } th { (l.t(C::To)) } th { (l.t(T::People)) } } }
                tbody {
                    @for p in &z.places {
                        tr { td { (p.name.as_deref().unwrap_or_default()) } td { (clock.time(p.from.0)) }
                             td { (clock.time(p.to.0)) } td { (p.people_present) } }
                    }
                }
            }
        }
        @if !z.places.is_empty() {
            form data-api={"/api/v1/cases/" (z.case_id) "/zones/notify"} data-then="told" data-confirm=(l.t(T::NotifyQuestion)) {
                (alert())
                button class="secondary" { (l.t(T::NotifyZones)) }
            }
        }
    }
}

/// Publishes a confirmed case's places on the public page (or takes them off): names only places and times.
fn publish_form(st: &AppState, l: Lang, id: i64) -> Markup {
    html! {
        form data-api={"/api/v1/cases/" (id) "/zones/publish"} data-then="published" class="card" {
            p class="muted" { (l.t(T::PublishExplained)) }
            label { (l.t(T::PublishDays))
                input name="days" type="number" min="1" max="60" inputmode="numeric" value=(st.rules.exposure_publication_days) data-num;
            }
            (alert())
            button { (l.t(T::PublishPlaces)) }
        }
        form data-api={"/api/v1/cases/" (id) "/zones/publish"} data-method="DELETE" data-then="withdrawn" {
            (alert())
            button class="secondary" { (l.t(T::WithdrawPlaces)) }
        }
    }
}

/// The chain most readable at any size: a summary, then the cases as a tree of who exposed whom, collapsible
/// under each case; the drawing only for chains small enough to read as one.
fn chain_view(l: Lang, chain: &ChainView) -> Markup {
    let (cases, links, current) = (&chain.cases, &chain.links, chain.case_id);
    let count = |class| {
        cases
            .iter()
            .filter(|c| c.classification == class)
            .count()
            .to_string()
    };
    let (n, f0, f1, f2, s) = (
        cases.len().to_string(),
        count(CaseClass::F0),
        count(CaseClass::F1),
        count(CaseClass::F2),
        count(CaseClass::Suspected),
    );
    let mut children: HashMap<i64, Vec<&CaseRecord>> = HashMap::new();
    let linked: std::collections::HashSet<i64> = links.iter().map(|k| k.to_case).collect();
    for k in links {
        if let Some(c) = cases.iter().find(|c| c.id == k.to_case) {
            children.entry(k.from_case).or_default().push(c);
        }
    }
    let roots: Vec<&CaseRecord> = cases.iter().filter(|c| !linked.contains(&c.id)).collect();
    html! {
        p { (fill(l.t(T::ChainSummary), &[("n", &n), ("f0", &f0), ("f1", &f1), ("f2", &f2), ("s", &s)])) }
        ul class="tree" {
            @for r in roots { (tree_node(l, r, &children, current, 0)) }
        }
        @if cases.len() <= DRAWING_MAX {
            details {
                summary { (l.t(T::ChainDrawing)) }
                (diagram(cases, links, current))
            }
        }
    }
}

/// Chains of more cases than this are shown as the tree only: a drawing of hundreds of nodes is unreadable.
const DRAWING_MAX: usize = 30;

fn tree_node(
    l: Lang,
    c: &CaseRecord,
    children: &HashMap<i64, Vec<&CaseRecord>>,
    current: i64,
    depth: usize,
) -> Markup {
    let label = html! {
        a href={"/health?case=" (c.id)} aria-current=[(c.id == current).then_some("true")] { (c.classification.name(l)) " · #" (c.id) }
    };
    let kids = children.get(&c.id).map(Vec::as_slice).unwrap_or_default();
    html! {
        li {
            @if kids.is_empty() || depth > 20 { (label) }
            @else {
                details open[depth < 2] {
                    summary { (label) " (" (kids.len()) ")" }
                    ul { @for k in kids { (tree_node(l, k, children, current, depth + 1)) } }
                }
            }
        }
    }
}

/// The chain as an SVG: one column per generation, one node per case (coloured by class), an arrow per link
/// labelled with the shared minutes.
fn diagram(cases: &[CaseRecord], links: &[ChainLinkView], current: i64) -> Markup {
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
    let fill = |class: CaseClass| match class {
        CaseClass::F0 => "#b3261e",
        CaseClass::F1 => "#b35300",
        CaseClass::F2 | CaseClass::Suspected => "#f2c200",
    };
    html! {
        svg viewBox={"0 0 " (width) " " (height)} width=(width) height=(height) role="img" aria-label="chain" style="max-width:100%;height:auto" {
            @for link in links {
                @if let (Some(a), Some(b)) = (at.get(&link.from_case), at.get(&link.to_case)) {
                    line x1=(a.0 + 100) y1=(a.1) x2=(b.0) y2=(b.1) stroke="#444" stroke-width="2" {}
                    text x=((a.0 + 100 + b.0) / 2) y=((a.1 + b.1) / 2 - 4) font-size="11" fill="#111" {
                        (link.minutes()) "′"
                    }
                }
            }
            @for c in cases {
                @let (x, y) = at[&c.id];
                rect x=(x) y=(y - 16) width="100" height="32" rx="6" fill=(fill(c.classification))
                    stroke=(if c.id == current { "#111" } else { "none" }) stroke-width="3" {}
                text x=(x + 50) y=(y + 5) font-size="12" text-anchor="middle" fill=(if matches!(c.classification, CaseClass::F0 | CaseClass::F1) { "#fff" } else { "#111" }) {
                    (c.classification.as_str().to_uppercase()) " #" (c.id)
                }
            }
        }
    }
}
