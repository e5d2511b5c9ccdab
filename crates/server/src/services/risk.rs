//! Commune risk levels: the computed level of each commune for an ISO week (the rule set in force, the week's
//! inputs, the explanation), the steering committee's decisions (the levels that count), district and
//! province levels aggregated as the rule file says, figures and capacity checklists. The map colours
//! communes with [`levels_on`].

use crate::AppState;
use crate::auth::require_role;
use crate::error::{ApiError, ApiResult, ErrorCode};
use chrono::NaiveDate;
use kiemdich_domain::catalogue::{Lang, Problem};
use kiemdich_domain::risk::{Aggregate, Assessment, Band, Figure, Inputs, Measure, RuleSet};
use kiemdich_domain::{
    AdminUnit, FieldErrors, IsoWeek, RiskLevel, UnitCode, UnitLevel, UnitTree, clean_text,
};
use kiemdich_store::{
    DecisionLevel, DecisionRecord, FigureRow, NewDecision, OfficialLevel, Principal, Role,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Who may read risk levels (inside their jurisdiction).
pub const READERS: &[Role] = &[Role::Health, Role::Admin, Role::Officer];
/// Who may record decisions, figures and checklists.
pub const WRITERS: &[Role] = &[Role::Health, Role::Admin];
/// The largest signed PDF a decision may carry.
pub const MAX_PDF_BYTES: usize = 10 * 1024 * 1024;

/// A unit's levels for the map: the official level (the latest decision in force), the computed suggestion,
/// and the number of the decision the official level comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitLevels {
    pub official: Option<RiskLevel>,
    pub computed: Option<RiskLevel>,
    pub decision: Option<String>,
}

/// Where levels are computed: every unit the deployment holds (all provinces at once: a national view), or the
/// units inside one unit (itself included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    Country,
    Within(&'a UnitCode),
}

impl Scope<'_> {
    fn includes(&self, tree: &UnitTree, code: &UnitCode) -> bool {
        match self {
            Scope::Country => true,
            Scope::Within(unit) => tree.contains(unit, code),
        }
    }
}

/// The units in `scope`, each with its communes (a commune with itself) in code order: one pass over the
/// communes and their ancestors, so that a nation's 10,600 communes are not scanned once per district.
fn communes_below<'t>(
    tree: &'t UnitTree,
    scope: Scope<'_>,
) -> HashMap<&'t UnitCode, Vec<&'t UnitCode>> {
    let mut out: HashMap<&UnitCode, Vec<&UnitCode>> = tree
        .all()
        .filter(|u| scope.includes(tree, &u.code))
        .map(|u| (&u.code, Vec::new()))
        .collect();
    for c in tree.communes() {
        let above = tree.ancestors(&c.code);
        for u in std::iter::once(&c.code).chain(above.iter().map(|a| &a.code)) {
            if let Some(list) = out.get_mut(u) {
                list.push(&c.code);
            }
        }
    }
    out.values_mut().for_each(|l| l.sort());
    out
}

/// The week's inputs for each of `communes`: community F0 counted that week, deaths, figures in force,
/// the checklist in force; population from the official figure, else the registry count.
async fn inputs_for(
    st: &AppState,
    communes: &[UnitCode],
    week: IsoWeek,
) -> ApiResult<HashMap<UnitCode, Inputs>> {
    let counts = st.store.week_counts(week.monday(), week.sunday()).await?;
    let mut figures = st.store.figures_for(week).await?;
    let mut checklists = st.store.checklists_for(week).await?;
    let without_population: Vec<String> = communes
        .iter()
        .filter(|c| {
            figures
                .get(*c)
                .is_none_or(|f| !f.contains_key(&Figure::Population))
        })
        .map(|c| c.to_string())
        .collect();
    let registry = if without_population.is_empty() {
        HashMap::new()
    } else {
        st.store.registry_counts(&without_population).await?
    };
    let recorded = recorded_coverage(st, communes, &figures, week).await?;
    let mut out = HashMap::with_capacity(communes.len());
    for c in communes {
        let mut figs = figures.remove(c).unwrap_or_default();
        for (figure, value) in recorded.get(c.as_str()).into_iter().flatten() {
            figs.entry(*figure).or_insert(*value);
        }
        let population = figs
            .remove(&Figure::Population)
            .or_else(|| registry.get(c).map(|n| *n as f64))
            .filter(|p| *p > 0.0);
        let n = counts.get(c).copied().unwrap_or_default();
        let deaths = figs.remove(&Figure::Deaths).or(Some(n.died as f64));
        out.insert(
            c.clone(),
            Inputs {
                population,
                community_cases: Some(n.community as f64),
                deaths,
                figures: figs,
                checklist: checklists.remove(c).map(|(_, answers)| answers),
            },
        );
    }
    Ok(out)
}

/// The coverage figures the dose records give, on the week's Sunday, for each commune that lacks an official
/// one for the week: % of adults with a first dose, % of the older group and of everyone fully vaccinated.
/// An official figure always wins; a commune with no dose recorded at all gets none (no records is no data,
/// not 0%).
async fn recorded_coverage(
    st: &AppState,
    communes: &[UnitCode],
    figures: &HashMap<UnitCode, BTreeMap<Figure, f64>>,
    week: IsoWeek,
) -> ApiResult<HashMap<String, Vec<(Figure, f64)>>> {
    const FROM_RECORDS: [Figure; 3] = [
        Figure::AdultFirstDosePct,
        Figure::Over50FullPct,
        Figure::PopulationFullPct,
    ];
    let lacking: Vec<String> = communes
        .iter()
        .filter(|c| {
            figures
                .get(*c)
                .is_none_or(|f| FROM_RECORDS.iter().any(|x| !f.contains_key(x)))
        })
        .map(|c| c.to_string())
        .collect();
    if lacking.is_empty() {
        return Ok(HashMap::new());
    }
    let coverage = st
        .store
        .coverage(&lacking, &st.rules.vaccination, week.sunday())
        .await?;
    Ok(coverage
        .into_iter()
        .filter(|(_, c)| c.one_dose > 0)
        .map(|(commune, c)| {
            let values = [
                (Figure::AdultFirstDosePct, c.adult_first_dose_pct()),
                (Figure::Over50FullPct, c.older_full_pct()),
                (Figure::PopulationFullPct, c.population_full_pct()),
            ];
            let values = values
                .into_iter()
                .filter_map(|(f, v)| v.map(|v| (f, v)))
                .collect();
            (commune, values)
        })
        .collect())
}

/// Assesses every commune inside `unit` for `week` under the rule set in force.
pub async fn assess_within(
    st: &AppState,
    unit: &UnitCode,
    week: IsoWeek,
) -> ApiResult<(Option<RuleSet>, BTreeMap<UnitCode, Assessment>)> {
    assess_in(st, Scope::Within(unit), week).await
}

/// Assesses every commune in `scope` for `week` under the rule set in force: one grouped count of the week's
/// cases whatever the scope, then the rules off the async workers (a nation is 10,600 communes).
pub async fn assess_in(
    st: &AppState,
    scope: Scope<'_>,
    week: IsoWeek,
) -> ApiResult<(Option<RuleSet>, BTreeMap<UnitCode, Assessment>)> {
    let Some(set) = st.risk.for_week(week).cloned() else {
        return Ok((None, BTreeMap::new()));
    };
    let tree = st.units();
    let mut communes: Vec<UnitCode> = tree
        .communes()
        .filter(|c| scope.includes(&tree, &c.code))
        .map(|c| c.code.clone())
        .collect();
    communes.sort();
    let inputs = inputs_for(st, &communes, week).await?;
    let (set, out) = tokio::task::spawn_blocking(move || {
        let out: BTreeMap<UnitCode, Assessment> = inputs
            .iter()
            .map(|(c, i)| (c.clone(), set.assess(i)))
            .collect();
        (set, out)
    })
    .await
    .map_err(ApiError::internal)?;
    Ok((Some(set), out))
}

/// The official levels on `day` of every unit in `below` (see [`communes_below`]): a commune's from the latest
/// decision naming it; a district's or a province's from a decision naming it, else aggregated from its
/// communes' official levels as the rule set in force says.
fn official_within(
    tree: &UnitTree,
    set: Option<&RuleSet>,
    decided: &HashMap<UnitCode, OfficialLevel>,
    below: &HashMap<&UnitCode, Vec<&UnitCode>>,
) -> HashMap<UnitCode, (OfficialLevel, Option<Aggregate>)> {
    let mut out = HashMap::new();
    for (code, communes) in below {
        if let Some(o) = decided.get(*code) {
            out.insert((*code).clone(), (o.clone(), None));
            continue;
        }
        if tree.get(code).is_none_or(|u| u.level == UnitLevel::Commune) {
            continue;
        }
        let under: Vec<&OfficialLevel> = communes.iter().filter_map(|c| decided.get(*c)).collect();
        let levels: Vec<RiskLevel> = under.iter().map(|o| o.level).collect();
        if let (Some(set), Some(latest)) = (
            set,
            under
                .iter()
                .max_by_key(|o| (o.effective_from, o.decision_id)),
        ) && let Some(agg) = set.aggregate(&levels)
        {
            let o = OfficialLevel {
                level: agg.level,
                decision_id: latest.decision_id,
                decision: latest.decision.clone(),
                effective_from: latest.effective_from,
            };
            out.insert((*code).clone(), (o, Some(agg)));
        }
    }
    out
}

/// Aggregates computed commune levels up to every district and province in `below`.
fn computed_above(
    tree: &UnitTree,
    set: &RuleSet,
    computed: &BTreeMap<UnitCode, Assessment>,
    below: &HashMap<&UnitCode, Vec<&UnitCode>>,
) -> HashMap<UnitCode, Aggregate> {
    below
        .iter()
        .filter(|(code, _)| {
            tree.get(code)
                .is_some_and(|u| u.level != UnitLevel::Commune)
        })
        .filter_map(|(code, communes)| {
            let levels: Vec<RiskLevel> = communes
                .iter()
                .filter_map(|c| computed.get(*c).and_then(|a| a.level))
                .collect();
            set.aggregate(&levels).map(|a| ((*code).clone(), a))
        })
        .collect()
}

/// The levels of every unit inside `unit` (a province or district) on `date`, for the map: see [`levels_in`].
pub async fn levels_on(
    st: &AppState,
    unit: &UnitCode,
    date: NaiveDate,
) -> ApiResult<HashMap<UnitCode, UnitLevels>> {
    levels_in(st, Scope::Within(unit), date).await
}

/// The levels of every unit in `scope` on `date`: the official level in force that day and the computed
/// suggestion of the last full week before it. Cheap at any scope, the whole country included: one grouped
/// count, the figures, checklists and decisions, no per-commune queries, and each unit's communes found in one
/// pass.
pub async fn levels_in(
    st: &AppState,
    scope: Scope<'_>,
    date: NaiveDate,
) -> ApiResult<HashMap<UnitCode, UnitLevels>> {
    let week = IsoWeek::last_full(date);
    let (set, computed) = assess_in(st, scope, week).await?;
    let decided = st.store.official_levels_on(date).await?;
    let tree = st.units();
    let below = communes_below(&tree, scope);
    let official = official_within(&tree, st.risk.on(date), &decided, &below);
    let above = set
        .as_ref()
        .map(|s| computed_above(&tree, s, &computed, &below))
        .unwrap_or_default();
    let mut out = HashMap::with_capacity(below.len());
    for code in below.keys() {
        let computed = match code.level() {
            UnitLevel::Commune => computed.get(*code).and_then(|a| a.level),
            _ => above.get(*code).map(|a| a.level),
        };
        let official = official.get(*code);
        out.insert(
            (*code).clone(),
            UnitLevels {
                official: official.map(|(o, _)| o.level),
                computed,
                decision: official.map(|(o, _)| o.decision.clone()),
            },
        );
    }
    Ok(out)
}

/// One criterion as the API and the page show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionView {
    pub name: String,
    pub measure: Measure,
    /// `null` when an input is missing ("no data").
    pub value: Option<f64>,
    pub band: Band,
    pub confirmed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdjustmentView {
    pub rule: String,
    pub effect: i8,
    pub reason: String,
    pub confirmed: bool,
}

/// The computed level with its explanation; for a district or province, the aggregation that gives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComputedView {
    pub level: Option<RiskLevel>,
    pub criteria: Vec<CriterionView>,
    pub adjustments: Vec<AdjustmentView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<Aggregate>,
}

impl ComputedView {
    fn of(a: &Assessment, lang: Lang) -> ComputedView {
        ComputedView {
            level: a.level,
            criteria: a
                .criteria
                .iter()
                .map(|c| CriterionView {
                    name: c.name.clone(),
                    measure: c.measure,
                    value: c.value,
                    band: c.band,
                    confirmed: c.confirmed,
                })
                .collect(),
            adjustments: a
                .adjustments
                .iter()
                .map(|x| AdjustmentView {
                    rule: x.rule.clone(),
                    effect: x.effect,
                    reason: x.reason.get(lang).to_owned(),
                    confirmed: x.confirmed,
                })
                .collect(),
            aggregate: None,
        }
    }

    fn none() -> ComputedView {
        ComputedView {
            level: None,
            criteria: Vec::new(),
            adjustments: Vec::new(),
            aggregate: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfficialView {
    pub level: RiskLevel,
    pub decision: String,
    pub decision_id: i64,
    pub effective_from: NaiveDate,
    /// For a district or province not named in the decision: how its communes' levels give its level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<Aggregate>,
}

impl OfficialView {
    fn of((o, aggregate): &(OfficialLevel, Option<Aggregate>)) -> OfficialView {
        OfficialView {
            level: o.level,
            decision: o.decision.clone(),
            decision_id: o.decision_id,
            effective_from: o.effective_from,
            aggregate: *aggregate,
        }
    }
}

/// `GET /api/v1/risk-levels`: a unit's computed level for a week and its official level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskLevelView {
    pub unit: UnitCode,
    pub unit_name: String,
    pub week: IsoWeek,
    pub rule_set: Option<String>,
    pub computed: ComputedView,
    pub official: Option<OfficialView>,
}

/// Today in Vietnam time.
pub fn today(st: &AppState) -> NaiveDate {
    st.rules.tracing.local_date(chrono::Utc::now().timestamp())
}

/// A week named in a request: well-formed and begun (a future week has no cases yet).
pub fn parse_week(st: &AppState, field: &str, s: Option<&str>) -> ApiResult<IsoWeek> {
    let today = today(st);
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(IsoWeek::last_full(today));
    };
    let week = IsoWeek::parse(s).map_err(|e| ApiError::field(field, e))?;
    if !week.has_begun(today) {
        return Err(ApiError::field_as(
            field,
            Problem::DateOutOfRange,
            format!("{week} has not begun (today is {today})"),
        ));
    }
    Ok(week)
}

/// A unit named in a request, known and inside the caller's jurisdiction (403 outside it).
fn unit_in_reach(st: &AppState, who: &Principal, field: &str, code: &str) -> ApiResult<AdminUnit> {
    let code = UnitCode::parse(code).map_err(|e| ApiError::field(field, e))?;
    let unit = st
        .units()
        .get(&code)
        .cloned()
        .ok_or_else(|| ApiError::field(field, format!("unknown unit {code}")))?;
    st.check_jurisdiction(who, &code)?;
    Ok(unit)
}

pub async fn risk_level(
    st: &AppState,
    who: &Principal,
    unit: &str,
    week: Option<&str>,
    lang: Lang,
) -> ApiResult<RiskLevelView> {
    require_role(who, READERS)?;
    let unit = unit_in_reach(st, who, "unit", unit)?;
    let week = parse_week(st, "week", week)?;
    let (set, computed) = assess_within(st, &unit.code, week).await?;
    let tree = st.units();
    let computed_view = match (unit.level, &set) {
        (_, None) => ComputedView::none(),
        (UnitLevel::Commune, Some(_)) => computed
            .get(&unit.code)
            .map_or_else(ComputedView::none, |a| ComputedView::of(a, lang)),
        (_, Some(s)) => {
            let below = communes_below(&tree, Scope::Within(&unit.code));
            let agg = computed_above(&tree, s, &computed, &below).remove(&unit.code);
            ComputedView {
                level: agg.map(|a| a.level),
                aggregate: agg,
                ..ComputedView::none()
            }
        }
    };
    let day = week.sunday().min(today(st));
    let decided = st.store.official_levels_on(day).await?;
    let official = official_within(
        &tree,
        st.risk.on(day),
        &decided,
        &communes_below(&tree, Scope::Within(&unit.code)),
    )
    .get(&unit.code)
    .map(OfficialView::of);
    Ok(RiskLevelView {
        unit: unit.code.clone(),
        unit_name: unit.name.clone(),
        week,
        rule_set: set.map(|s| s.id),
        computed: computed_view,
        official,
    })
}

/// `GET /api/v1/risk-levels/history`: every level decided for a unit, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryView {
    pub unit: UnitCode,
    pub unit_name: String,
    pub history: Vec<OfficialLevel>,
}

pub async fn history(st: &AppState, who: &Principal, unit: &str) -> ApiResult<HistoryView> {
    require_role(who, READERS)?;
    let unit = unit_in_reach(st, who, "unit", unit)?;
    Ok(HistoryView {
        history: st.store.level_history(&unit.code).await?,
        unit: unit.code,
        unit_name: unit.name,
    })
}

/// A decision as sent: text fields, so that each problem can be named.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDecision {
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub issued_by: String,
    #[serde(default)]
    pub effective_from: String,
    #[serde(default)]
    pub levels: Vec<RawDecisionLevel>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDecisionLevel {
    #[serde(default)]
    pub unit: String,
    pub level: i64,
}

/// The caller's province, when their jurisdiction is one: decisions are the province's.
fn province_of(who: &Principal) -> ApiResult<UnitCode> {
    if who.unit.level() == UnitLevel::Province {
        Ok(who.unit.clone())
    } else {
        Err(ApiError::forbidden(
            "risk decisions are recorded by the province's health department or administrators",
        ))
    }
}

/// Records a steering committee decision: all of it or nothing; every problem named by its field.
pub async fn record_decision(
    st: &AppState,
    who: &Principal,
    raw: &RawDecision,
) -> ApiResult<DecisionRecord> {
    require_role(who, WRITERS)?;
    let province = province_of(who)?;
    let dates = st.rules.dates_at(chrono::Utc::now().timestamp());
    let mut errs = FieldErrors::default();
    let number = errs.check("number", clean_text(&raw.number, 60));
    let date = errs.check(
        "date",
        dates.parse(&raw.date, kiemdich_domain::DateBounds::past),
    );
    let issued_by = errs.check("issued_by", clean_text(&raw.issued_by, 200));
    let effective_from = errs.check(
        "effective_from",
        dates.parse(&raw.effective_from, kiemdich_domain::DateBounds::planned),
    );
    if let (Some(d), Some(e)) = (date, effective_from)
        && e < d
    {
        errs.push(
            "effective_from",
            format!("{e} is before the decision's date {d}"),
        );
    }
    if raw.levels.is_empty() {
        errs.push("levels", "a decision gives at least one unit a level");
    }
    let tree = st.units();
    let mut levels: Vec<DecisionLevel> = Vec::with_capacity(raw.levels.len());
    for (i, l) in raw.levels.iter().enumerate() {
        let unit = errs
            .check(format!("levels[{i}].unit"), UnitCode::parse(&l.unit))
            .and_then(|code| match tree.get(&code) {
                None => {
                    errs.push(format!("levels[{i}].unit"), format!("unknown unit {code}"));
                    None
                }
                Some(_) if !tree.contains(&province, &code) => {
                    errs.push_as(
                        format!("levels[{i}].unit"),
                        Problem::Invalid,
                        format!("{code} is outside your province {province}"),
                    );
                    None
                }
                Some(_) if levels.iter().any(|x| x.unit == code) => {
                    errs.push(
                        format!("levels[{i}].unit"),
                        format!("{code} is named twice"),
                    );
                    None
                }
                Some(_) => Some(code),
            });
        let level = errs.check(format!("levels[{i}].level"), RiskLevel::new(l.level));
        if let (Some(unit), Some(level)) = (unit, level) {
            levels.push(DecisionLevel { unit, level });
        }
    }
    let (Some(number), Some(date), Some(issued_by), Some(effective_from)) =
        (number, date, issued_by, effective_from)
    else {
        return Err(ApiError::invalid(errs));
    };
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs));
    }
    let d = NewDecision {
        number,
        date,
        issued_by,
        effective_from,
        province,
        levels,
    };
    let recorded = st.store.record_decision(&d, &who.actor).await?;
    // The public map shows the new official levels at once.
    st.invalidate_map();
    Ok(recorded)
}

/// A decision of the caller's province, else 404 (one elsewhere answers like one that does not exist).
pub async fn decision_in_reach(
    st: &AppState,
    who: &Principal,
    id: i64,
) -> ApiResult<DecisionRecord> {
    let d = st
        .store
        .decision(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no decision {id}")))?;
    // A province's decisions are read by its staff at every level, and by a nation's.
    let tree = st.units();
    if tree.contains(&d.province, &who.unit) || tree.contains(&who.unit, &d.province) {
        Ok(d)
    } else {
        Err(ApiError::not_found(format!("no decision {id}")))
    }
}

/// Attaches the signed PDF to a decision: `%PDF-` first, at most [`MAX_PDF_BYTES`].
pub async fn attach_file(
    st: &AppState,
    who: &Principal,
    id: i64,
    file_name: &str,
    body: &[u8],
) -> ApiResult<DecisionRecord> {
    require_role(who, WRITERS)?;
    province_of(who)?;
    decision_in_reach(st, who, id).await?;
    if body.len() > MAX_PDF_BYTES {
        return Err(ApiError::new(
            ErrorCode::TooLarge,
            format!("the signed decision may have at most {MAX_PDF_BYTES} bytes"),
        ));
    }
    if !body.starts_with(b"%PDF-") {
        return Err(ApiError::field(
            "file",
            "the file is not a PDF (it does not start with %PDF-)",
        ));
    }
    let name = clean_text(file_name, 120)
        .ok()
        .filter(|n| !n.contains(['/', '\\', '"']))
        .unwrap_or_else(|| format!("quyet-dinh-{id}.pdf"));
    st.store
        .put_decision_file(id, &name, body, &who.actor)
        .await?;
    decision_in_reach(st, who, id).await
}

/// The decisions of the caller's province (or the province above their unit), newest first.
pub async fn decisions(st: &AppState, who: &Principal) -> ApiResult<Vec<DecisionRecord>> {
    require_role(who, READERS)?;
    let tree = st.units();
    let province = std::iter::once(who.unit.clone())
        .chain(
            tree.ancestors(&who.unit)
                .into_iter()
                .map(|u| u.code.clone()),
        )
        .find(|u| u.level() == UnitLevel::Province);
    match province {
        Some(p) => Ok(st.store.decisions(&p).await?),
        None => Ok(Vec::new()),
    }
}

/// Figures for a unit as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFigures {
    #[serde(default)]
    pub figures: Vec<RawFigure>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFigure {
    #[serde(default)]
    pub figure: String,
    /// A week (`YYYY-Www`), or empty for a standing figure.
    #[serde(default)]
    pub period: Option<String>,
    pub value: f64,
    #[serde(default)]
    pub source: String,
}

/// Parses one figure of `unit`; a future week is refused.
pub fn parse_figure(
    unit: &UnitCode,
    raw: &RawFigure,
    today: NaiveDate,
    errs: &mut FieldErrors,
    at: &str,
) -> Option<FigureRow> {
    let figure = errs.check(format!("{at}figure"), Figure::parse(&raw.figure));
    let period = match raw
        .period
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => Some(None),
        Some(p) => match IsoWeek::parse(p) {
            Ok(w) if w.has_begun(today) => Some(Some(w)),
            Ok(w) => {
                errs.push(format!("{at}period"), format!("{w} has not begun"));
                None
            }
            Err(e) => {
                errs.push(format!("{at}period"), e);
                None
            }
        },
    };
    let value = figure.and_then(|f| errs.check(format!("{at}value"), f.check(raw.value)));
    let source = errs.check(format!("{at}source"), clean_text(&raw.source, 200));
    Some(FigureRow {
        unit_code: unit.clone(),
        figure: figure?,
        period: period?,
        value: value?,
        source: source?,
    })
}

pub async fn put_figures(
    st: &AppState,
    who: &Principal,
    unit: &str,
    raw: &RawFigures,
) -> ApiResult<Vec<FigureRow>> {
    require_role(who, WRITERS)?;
    let unit = UnitCode::parse(unit).map_err(ApiError::not_found)?;
    st.units()
        .get(&unit)
        .ok_or_else(|| ApiError::not_found(format!("no unit {unit}")))?;
    st.check_jurisdiction(who, &unit)?;
    let today = today(st);
    let mut errs = FieldErrors::default();
    if raw.figures.is_empty() {
        errs.push("figures", "no figures");
    }
    let rows: Vec<FigureRow> = raw
        .figures
        .iter()
        .enumerate()
        .filter_map(|(i, f)| parse_figure(&unit, f, today, &mut errs, &format!("figures[{i}].")))
        .collect();
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs));
    }
    st.store.put_figures(&rows, &who.actor).await?;
    st.invalidate_map();
    Ok(st.store.unit_figures(&unit).await?)
}

/// A capacity checklist as sent: the week and an answer for every item of the rule set in force.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChecklist {
    #[serde(default)]
    pub week: Option<String>,
    #[serde(default)]
    pub answers: BTreeMap<String, bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChecklistView {
    pub unit: UnitCode,
    pub week: IsoWeek,
    pub rule_set: String,
    pub answers: BTreeMap<String, bool>,
}

pub async fn put_checklist(
    st: &AppState,
    who: &Principal,
    unit: &str,
    raw: &RawChecklist,
) -> ApiResult<ChecklistView> {
    require_role(who, WRITERS)?;
    let unit = UnitCode::parse(unit).map_err(ApiError::not_found)?;
    st.units()
        .get(&unit)
        .ok_or_else(|| ApiError::not_found(format!("no unit {unit}")))?;
    st.check_jurisdiction(who, &unit)?;
    let week = parse_week(st, "week", raw.week.as_deref())?;
    let set = st.risk.for_week(week).ok_or_else(|| {
        ApiError::field("week", format!("no risk rule set is in force in {week}"))
    })?;
    let mut errs = FieldErrors::default();
    for id in raw.answers.keys() {
        if !set.capacity_checklist.iter().any(|i| &i.id == id) {
            errs.push(
                format!("answers.{id}"),
                format!("{} has no checklist item {id}", set.id),
            );
        }
    }
    for item in &set.capacity_checklist {
        if !raw.answers.contains_key(&item.id) {
            errs.push_as(
                format!("answers.{}", item.id),
                Problem::Required,
                format!("{} is not answered", item.id),
            );
        }
    }
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs));
    }
    st.store
        .put_checklist(&unit, week, &raw.answers, &who.actor)
        .await?;
    st.invalidate_map();
    Ok(ChecklistView {
        unit,
        week,
        rule_set: set.id.clone(),
        answers: raw.answers.clone(),
    })
}
