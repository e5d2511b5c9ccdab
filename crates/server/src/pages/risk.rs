//! `/risk`: commune risk levels for officials. A week (default the last full one), the communes by district
//! with their cases per 100,000, coverage, capacity, the computed level and how it was computed (unconfirmed
//! thresholds marked), the official level and its decision; a form to record a decision prefilled with the
//! computed levels; the capacity checklist; the decisions with their signed PDFs.

use super::{Viewer, alert, layout};
use crate::AppState;
use crate::services::risk as svc;
use axum::extract::{Query, State};
use axum::response::Html;
use kiemdich_domain::catalogue::{Lang, Risk as T, fill};
use kiemdich_domain::risk::{Aggregate, Assessment, Measure, RuleSet};
use kiemdich_domain::{AdminUnit, IsoWeek, LocalClock, RiskLevel, UnitLevel};
use kiemdich_store::{DecisionRecord, Principal, Role};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Deserialize)]
pub struct RiskQuery {
    week: Option<String>,
}

pub async fn page(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<RiskQuery>,
) -> Html<String> {
    let l = v.lang;
    let title = l.t(T::Title);
    let p = match v.staff(&[Role::Health, Role::Admin], title, "/risk") {
        Ok(p) => p,
        Err(page) => return page,
    };
    let body = match body(&st, l, &p, q.week.as_deref()).await {
        Ok(b) => b,
        Err(e) => html! {
            (week_form(l, None))
            p class="alert" role="alert" { (e.message_in(l)) }
        },
    };
    layout(&v, title, "/risk", body, &["app.js"])
}

fn level_text(l: Lang, level: Option<RiskLevel>) -> String {
    match level {
        Some(n) => fill(l.t(T::Level), &[("n", &n.to_string())]),
        None => l.t(T::NoData).to_owned(),
    }
}

fn level_badge(l: Lang, level: Option<RiskLevel>) -> Markup {
    html! {
        @match level {
            Some(n) => span class={"status " (n.colour())} { (level_text(l, Some(n))) },
            None => span class="muted" { (l.t(T::NoData)) },
        }
    }
}

fn number(v: Option<f64>) -> String {
    match v {
        // Vietnamese write a decimal comma.
        Some(x) => format!("{:.1}", x).replace('.', ","),
        None => "—".into(),
    }
}

fn week_form(l: Lang, week: Option<IsoWeek>) -> Markup {
    html! {
        form method="get" action="/risk" class="card" {
            label { (l.t(T::Week)) input type="week" name="week" value=[week.map(|w| w.to_string())] required; }
            button { (l.t(T::Show)) }
        }
    }
}

async fn body(
    st: &AppState,
    l: Lang,
    who: &Principal,
    week: Option<&str>,
) -> Result<Markup, crate::error::ApiError> {
    let week = svc::parse_week(st, "week", week)?;
    let (set, computed) = svc::assess_within(st, &who.unit, week).await?;
    let day = week.sunday().min(svc::today(st));
    let levels = svc::levels_on(st, &who.unit, day).await?;
    let decisions = svc::decisions(st, who).await?;
    let tree = st.units();
    let mut districts: Vec<&AdminUnit> = tree
        .all()
        .filter(|u| u.level == UnitLevel::District && tree.contains(&who.unit, &u.code))
        .collect();
    districts.sort_by(|a, b| a.code.cmp(&b.code));
    let above: HashMap<_, Aggregate> = match &set {
        Some(s) => tree
            .all()
            .filter(|u| u.level != UnitLevel::Commune && tree.contains(&who.unit, &u.code))
            .filter_map(|u| {
                let ls: Vec<RiskLevel> = tree
                    .communes()
                    .filter(|c| tree.contains(&u.code, &c.code))
                    .filter_map(|c| computed.get(&c.code).and_then(|a| a.level))
                    .collect();
                s.aggregate(&ls).map(|a| (u.code.clone(), a))
            })
            .collect(),
        None => HashMap::new(),
    };
    let own = tree.get(&who.unit).cloned();
    let province_writer = who.unit.level() == UnitLevel::Province;
    let communes_of = |d: &AdminUnit| -> Vec<&AdminUnit> {
        let mut c: Vec<&AdminUnit> = tree.children(&d.code).collect();
        c.sort_by(|a, b| a.code.cmp(&b.code));
        c
    };
    let official = |code| levels.get(code).and_then(|x: &svc::UnitLevels| x.official);
    let decision = |code| {
        levels
            .get(code)
            .and_then(|x: &svc::UnitLevels| x.decision.clone())
    };
    Ok(html! {
        (week_form(l, Some(week)))
        p class="muted" { (fill(l.t(T::WeekRange), &[("from", &LocalClock::date(week.monday())), ("to", &LocalClock::date(week.sunday()))])) }
        @match &set {
            None => p class="alert" role="status" { (l.t(T::NoRuleSet)) },
            Some(s) => (rule_set(l, s)),
        }
        h2 { (l.t(T::Summary)) }
        div class="scroll" {
            table {
                thead { tr { th scope="col" { (l.t(T::District)) } th scope="col" { (l.t(T::Computed)) } th scope="col" { (l.t(T::Official)) } } }
                tbody {
                    @for u in own.iter().filter(|u| u.level != UnitLevel::Commune).chain(districts.iter().copied()) {
                        tr {
                            th scope="row" { (u.name) }
                            td { (level_badge(l, above.get(&u.code).map(|a| a.level)))
                                 @if let Some(a) = above.get(&u.code) { br; span class="muted" { (aggregate_text(l, a)) } } }
                            td { @match official(&u.code) {
                                    Some(o) => { (level_badge(l, Some(o))) @if let Some(d) = decision(&u.code) { br; span class="muted" { (d) } } },
                                    None => span class="muted" { (l.t(T::NoDecision)) },
                                } }
                        }
                    }
                }
            }
        }
        @for d in &districts {
            h2 { (d.name) }
            div class="scroll" {
                table {
                    thead { tr {
                        th scope="col" { (l.t(T::Commune)) } th scope="col" { (l.t(T::CasesPer100k)) } th scope="col" { (l.t(T::Coverage)) }
                        th scope="col" { (l.t(T::Capacity)) } th scope="col" { (l.t(T::Computed)) } th scope="col" { (l.t(T::Official)) }
                    } }
                    tbody {
                        @for c in communes_of(d) {
                            @let a = computed.get(&c.code);
                            tr {
                                th scope="row" { (c.name) }
                                td { (number(value(a, |m| m == Measure::CommunityCasesPer100k))) }
                                td { (number(value(a, |m| matches!(m, Measure::AdultFirstDosePct | Measure::PopulationFullPct)))) "%" }
                                td { (number(value(a, |m| m == Measure::CapacityMetPct))) "%" }
                                td { (level_badge(l, a.and_then(|a| a.level)))
                                     @if let Some(a) = a { (explanation(l, a)) } }
                                td { @match official(&c.code) {
                                        Some(o) => { (level_badge(l, Some(o))) @if let Some(n) = decision(&c.code) { br; span class="muted" { (n) } } },
                                        None => span class="muted" { (l.t(T::NoDecision)) },
                                    } }
                            }
                        }
                    }
                }
            }
        }
        h2 { (l.t(T::RecordDecision)) }
        @if province_writer {
            (decision_form(l, &districts, &communes_of, &computed))
        } @else {
            p class="muted" { (l.t(T::OnlyProvince)) }
        }
        @if let Some(s) = &set {
            h2 { (l.t(T::Checklist)) }
            (checklist_form(st, l, who, s, week))
        }
        h2 { (l.t(T::History)) }
        (history(l, &decisions, province_writer))
    })
}

fn value(a: Option<&Assessment>, pick: impl Fn(Measure) -> bool) -> Option<f64> {
    a?.criteria.iter().find(|c| pick(c.measure))?.value
}

fn aggregate_text(l: Lang, a: &Aggregate) -> String {
    let share = format!("{:.0}", a.share * 100.0);
    let mut s = fill(
        l.t(T::Aggregated),
        &[
            ("level", &a.level.to_string()),
            ("n", &a.at_or_above.to_string()),
            ("total", &a.total.to_string()),
            ("share", &share),
        ],
    );
    if !a.confirmed {
        s.push_str(&format!(" ({})", l.t(T::Unconfirmed)));
    }
    s
}

fn rule_set(l: Lang, s: &RuleSet) -> Markup {
    html! {
        div class="card" {
            p { strong { (l.t(T::RuleSet)) ": " } (s.title) }
            p class="muted" { (l.t(T::SourceToCheck)) ": " (s.source) }
            @if s.has_unconfirmed() { p { (l.t(T::UnconfirmedNote)) } }
        }
    }
}

/// The criteria with their values and bands, and the adjustments applied.
fn explanation(l: Lang, a: &Assessment) -> Markup {
    html! {
        details {
            summary { (l.t(T::Why)) }
            ul {
                @for c in &a.criteria {
                    li { (c.measure.name(l)) ": " (number(c.value)) " · " (c.band.name(l))
                         @if !c.confirmed { " (" em { (l.t(T::Unconfirmed)) } ")" } }
                }
            }
            p { strong { (l.t(T::Adjustments)) ": " }
                @if a.adjustments.is_empty() { (l.t(T::NoAdjustment)) }
                @for x in &a.adjustments {
                    br; (if x.effect > 0 { "+1 " } else { "−1 " }) (x.reason.get(l))
                    @if !x.confirmed { " (" em { (l.t(T::Unconfirmed)) } ")" }
                }
            }
        }
    }
}

fn decision_form<'t>(
    l: Lang,
    districts: &[&'t AdminUnit],
    communes_of: &dyn Fn(&AdminUnit) -> Vec<&'t AdminUnit>,
    computed: &BTreeMap<kiemdich_domain::UnitCode, Assessment>,
) -> Markup {
    let mut i = 0usize;
    html! {
        form data-api="/api/v1/risk-decisions" data-then="reload" class="card" {
            div class="grid2" {
                label { (l.t(T::DecisionNumber)) input name="number" required placeholder="136/QĐ-SYT"; }
                label { (l.t(T::IssuedBy)) input name="issued_by" required; }
                label { (l.t(T::DecisionDate)) input name="date" type="date" required; }
                label { (l.t(T::EffectiveFrom)) input name="effective_from" type="date" required; }
            }
            p class="muted" { (l.t(T::LevelsPrefilled)) }
            @for d in districts {
                fieldset {
                    legend { (d.name) }
                    div class="grid2" {
                        @for c in communes_of(d) {
                            @let n = { let n = i; i += 1; n };
                            @let suggested = computed.get(&c.code).and_then(|a| a.level);
                            input type="hidden" name={"levels." (n) ".unit"} value=(c.code.as_str());
                            label { (c.name)
                                select name={"levels." (n) ".level"} data-num required aria-label=(fill(l.t(T::LevelOf), &[("name", &c.name)])) {
                                    option value="" { "—" }
                                    @for lv in RiskLevel::ALL {
                                        option value=(lv.get()) selected[suggested == Some(lv)] { (level_text(l, Some(lv))) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (alert())
            button { (l.t(T::Save)) }
        }
    }
}

fn checklist_form(st: &AppState, l: Lang, who: &Principal, s: &RuleSet, week: IsoWeek) -> Markup {
    let tree = st.units();
    let mut communes: Vec<&AdminUnit> = tree
        .communes()
        .filter(|c| tree.contains(&who.unit, &c.code))
        .collect();
    communes.sort_by(|a, b| a.code.cmp(&b.code));
    let name_of = |c: &AdminUnit| {
        c.parent_code
            .as_ref()
            .and_then(|p| tree.get(p))
            .map_or_else(|| c.name.clone(), |d| format!("{}, {}", c.name, d.name))
    };
    html! {
        form data-api="/api/v1/units/{code}/checklist" data-method="PUT" data-then="done" data-done=(l.t(T::Saved)) data-path-from="code" class="card" {
            p class="muted" { (fill(l.t(T::ChecklistFor), &[("week", &format!("{} – {}", LocalClock::date(week.monday()), LocalClock::date(week.sunday())))])) }
            input type="hidden" name="week" value=(week.to_string());
            label { (l.t(T::Commune))
                select name="code" required data-filter data-not-sent {
                    option value="" { "—" }
                    @for c in &communes { option value=(c.code.as_str()) { (name_of(c)) } }
                }
            }
            fieldset {
                legend { (l.t(T::Met)) }
                @for item in &s.capacity_checklist {
                    label class="check" { input type="checkbox" name={"answers." (item.id)} data-bool; (if l == Lang::En { &item.en } else { &item.vi }) }
                }
            }
            (alert())
            button { (l.t(T::SaveChecklist)) }
        }
    }
}

fn history(l: Lang, decisions: &[DecisionRecord], can_upload: bool) -> Markup {
    html! {
        @if decisions.is_empty() { p { (l.t(T::NoDecisions)) } }
        @else {
            ul {
                @for d in decisions {
                    li class="card" {
                        strong { (d.number) } " · " (d.issued_by) " · " (LocalClock::date(d.date)) " · "
                        (l.t(T::EffectiveFrom)) " " (LocalClock::date(d.effective_from))
                        br;
                        @match &d.file {
                            Some(_) => a href={"/api/v1/risk-decisions/" (d.id) "/file"} { (l.t(T::SignedFile)) },
                            None => span class="muted" { (l.t(T::NoFile)) },
                        }
                        @if can_upload {
                            form data-upload={"/api/v1/risk-decisions/" (d.id) "/file"} data-done=(l.t(T::Saved)) {
                                label { (l.t(T::AttachFile)) input type="file" name="file" accept="application/pdf"; }
                                (alert())
                                button class="secondary" { (l.t(T::Upload)) }
                            }
                        }
                    }
                }
            }
        }
    }
}
