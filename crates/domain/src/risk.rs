//! Commune risk levels (Resolution 128/NQ-CP): the rule sets of the Ministry's decisions as data files
//! (`data/risk/*.json`, one per decision, each with its effective dates and source), the week they apply to,
//! and the assessment they give a commune: a level 1–4 with its explanation (each criterion's value and band,
//! each adjustment applied). A value the decision's text does not confirm carries `"confirmed": false` and is
//! shown as such to the official. The computed level is a suggestion; the steering committee's decision is the
//! level that counts.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A risk level: 1 low (green, "new normal"), 2 medium (yellow), 3 high (orange), 4 very high (red).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u8")]
pub struct RiskLevel(u8);

impl RiskLevel {
    pub const ALL: [RiskLevel; 4] = [RiskLevel(1), RiskLevel(2), RiskLevel(3), RiskLevel(4)];

    pub fn new(n: i64) -> Result<RiskLevel, String> {
        match n {
            1..=4 => Ok(RiskLevel(n as u8)),
            _ => Err(format!("a risk level is 1 to 4, got {n}")),
        }
    }

    pub fn parse(s: &str) -> Result<RiskLevel, String> {
        let n: i64 = s
            .trim()
            .parse()
            .map_err(|_| format!("a risk level is 1 to 4, got {s:?}"))?;
        RiskLevel::new(n)
    }

    pub fn get(self) -> u8 {
        self.0
    }

    /// The colour class of the level (pages and the map).
    pub fn colour(self) -> &'static str {
        match self.0 {
            1 => "green",
            2 => "yellow",
            3 => "orange",
            _ => "red",
        }
    }

    /// This level moved by `effect`, kept inside 1 and `ceiling`.
    fn moved(self, effect: i8, ceiling: RiskLevel) -> RiskLevel {
        let n = (i16::from(self.0) + i16::from(effect)).clamp(1, i16::from(ceiling.0));
        RiskLevel(n as u8)
    }
}

impl TryFrom<i64> for RiskLevel {
    type Error = String;
    fn try_from(n: i64) -> Result<RiskLevel, String> {
        RiskLevel::new(n)
    }
}

impl From<RiskLevel> for u8 {
    fn from(l: RiskLevel) -> u8 {
        l.0
    }
}

impl fmt::Display for RiskLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An ISO week, `YYYY-Www`: Monday to Sunday, in the rules' time zone (Vietnam time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IsoWeek {
    monday: NaiveDate,
}

impl IsoWeek {
    pub fn parse(s: &str) -> Result<IsoWeek, String> {
        let bad = || format!("a week is written YYYY-Www (e.g. 2021-W46), got {s:?}");
        let (y, w) = s.trim().split_once("-W").ok_or_else(bad)?;
        if y.len() != 4 || w.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let week: u32 = w.parse().map_err(|_| bad())?;
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)
            .map(|monday| IsoWeek { monday })
            .ok_or_else(|| format!("{year} has no week {week}"))
    }

    /// The week a day falls in.
    pub fn of(day: NaiveDate) -> IsoWeek {
        IsoWeek {
            monday: day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
        }
    }

    pub fn monday(self) -> NaiveDate {
        self.monday
    }

    pub fn sunday(self) -> NaiveDate {
        self.monday + Duration::days(6)
    }

    pub fn previous(self) -> IsoWeek {
        IsoWeek {
            monday: self.monday - Duration::days(7),
        }
    }

    /// The last week that has ended by `today`.
    pub fn last_full(today: NaiveDate) -> IsoWeek {
        IsoWeek::of(today).previous()
    }

    /// Whether the week has begun by `today` (a week still running may be assessed, a future one not).
    pub fn has_begun(self, today: NaiveDate) -> bool {
        self.monday <= today
    }
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.monday.iso_week();
        write!(f, "{:04}-W{:02}", w.year(), w.week())
    }
}

impl TryFrom<String> for IsoWeek {
    type Error = String;
    fn try_from(s: String) -> Result<IsoWeek, String> {
        IsoWeek::parse(&s)
    }
}

impl From<IsoWeek> for String {
    fn from(w: IsoWeek) -> String {
        w.to_string()
    }
}

string_enum!(
    /// What a criterion measures, from a commune's inputs for a week.
    Measure {
        CommunityCasesPer100k = "community_cases_per_100k",
        OxygenPer100k = "oxygen_per_100k",
        DeathsPer100k = "deaths_per_100k",
        FreeBedsPer100k = "free_beds_per_100k",
        AdultFirstDosePct = "adult_first_dose_pct",
        Over50FullPct = "over50_full_pct",
        PopulationFullPct = "population_full_pct",
        VulnerableFullPct = "vulnerable_full_pct",
        CapacityMetPct = "capacity_met_pct",
    }
);

string_enum!(
    /// An official figure of a unit (imported or entered), standing or for one ISO week.
    Figure {
        Population = "population",
        AdultFirstDosePct = "adult_first_dose_pct",
        Over50FullPct = "over50_full_pct",
        PopulationFullPct = "population_full_pct",
        VulnerableFullPct = "vulnerable_full_pct",
        OxygenPatients = "oxygen_patients",
        Deaths = "deaths",
        FreeBeds = "free_beds",
    }
);

impl Figure {
    /// Percentages lie in 0–100; counts are at least 0.
    pub fn check(self, value: f64) -> Result<f64, String> {
        if !value.is_finite() || value < 0.0 {
            return Err(format!("{} must be a number of at least 0", self.as_str()));
        }
        if self.is_percentage() && value > 100.0 {
            return Err(format!(
                "{} is a percentage (0–100), got {value}",
                self.as_str()
            ));
        }
        Ok(value)
    }

    pub fn is_percentage(self) -> bool {
        self.as_str().ends_with("_pct")
    }

    /// Figures that describe one week only (patients on oxygen, deaths): never carried over to another week.
    pub fn is_weekly(self) -> bool {
        matches!(self, Figure::OxygenPatients | Figure::Deaths)
    }
}

string_enum!(
    /// The band a criterion's value falls in.
    Band {
        Level1 = "level_1",
        Level2 = "level_2",
        Level3 = "level_3",
        Level4 = "level_4",
        BelowTarget = "below_target",
        TargetMet = "target_met",
        Low = "low",
        High = "high",
        NoData = "no_data",
    }
);

impl Band {
    fn level(self) -> Option<RiskLevel> {
        match self {
            Band::Level1 => Some(RiskLevel(1)),
            Band::Level2 => Some(RiskLevel(2)),
            Band::Level3 => Some(RiskLevel(3)),
            Band::Level4 => Some(RiskLevel(4)),
            _ => None,
        }
    }
}

/// A text of a rule file in the two staff languages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleText {
    pub vi: String,
    pub en: String,
}

impl RuleText {
    pub fn get(&self, lang: crate::Lang) -> &str {
        match lang {
            crate::Lang::En => &self.en,
            _ => &self.vi,
        }
    }
}

/// One band: values below `below` (or up to `at_most`) fall in it; the last band has neither.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandRule {
    pub band: Band,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<f64>,
    pub confirmed: bool,
}

impl BandRule {
    fn bound(&self) -> Option<f64> {
        self.below.or(self.at_most)
    }

    fn holds(&self, v: f64) -> bool {
        match (self.below, self.at_most) {
            (Some(b), _) => v < b,
            (None, Some(m)) => v <= m,
            (None, None) => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub name: String,
    pub measure: Measure,
    pub bands: Vec<BandRule>,
}

impl Criterion {
    fn band_of(&self, v: f64) -> &BandRule {
        let last = self.bands.len() - 1;
        self.bands
            .iter()
            .find(|b| b.holds(v))
            .unwrap_or(&self.bands[last])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Match {
    Any,
    All,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub criterion: String,
    pub band: Band,
}

/// A step up (+1) or down (−1) from the case band's level when its conditions hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentRule {
    pub rule: String,
    #[serde(rename = "match")]
    pub matching: Match,
    pub when: Vec<Condition>,
    pub effect: i8,
    pub confirmed: bool,
    pub reason: RuleText,
}

/// One item of the treatment-capacity checklist an official answers per commune and week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    pub id: String,
    pub vi: String,
    pub en: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregationMethod {
    /// The highest level L such that at least `share` of the communes are at L or above.
    HighestLevelHeldByShare,
}

/// How a district's or the province's level follows from its communes' levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aggregation {
    pub method: AggregationMethod,
    pub share: f64,
    pub confirmed: bool,
}

/// One decision's rule set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub id: String,
    pub title: String,
    pub decided_on: NaiveDate,
    pub effective_from: NaiveDate,
    #[serde(default)]
    pub effective_to: Option<NaiveDate>,
    pub source: String,
    pub criteria: Vec<Criterion>,
    /// The criterion whose band gives the starting level (new community cases per 100,000 per week).
    pub level_from: String,
    pub adjustments: Vec<AdjustmentRule>,
    pub ceiling: RiskLevel,
    pub capacity_checklist: Vec<ChecklistItem>,
    pub aggregation: Aggregation,
}

/// What is known of a commune for a week. `None` is "no data", never zero.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inputs {
    /// The official population figure, else the registry count.
    pub population: Option<f64>,
    /// New community F0 cases counted this week (found in quarantine or isolation do not count).
    pub community_cases: Option<f64>,
    /// Deaths this week (a figure, else cases that died).
    pub deaths: Option<f64>,
    /// The other figures in force for the week.
    pub figures: BTreeMap<Figure, f64>,
    /// The capacity checklist's answers by item id.
    pub checklist: Option<BTreeMap<String, bool>>,
}

impl Inputs {
    fn per_100k(&self, n: Option<f64>) -> Option<f64> {
        match (n, self.population) {
            (Some(n), Some(p)) if p > 0.0 => Some(n * 100_000.0 / p),
            _ => None,
        }
    }

    /// The value of `m`, or `None` when an input is missing.
    pub fn measure(&self, m: Measure, checklist: &[ChecklistItem]) -> Option<f64> {
        let fig = |f: Figure| self.figures.get(&f).copied();
        match m {
            Measure::CommunityCasesPer100k => self.per_100k(self.community_cases),
            Measure::OxygenPer100k => self.per_100k(fig(Figure::OxygenPatients)),
            Measure::DeathsPer100k => self.per_100k(self.deaths),
            Measure::FreeBedsPer100k => self.per_100k(fig(Figure::FreeBeds)),
            Measure::AdultFirstDosePct => fig(Figure::AdultFirstDosePct),
            Measure::Over50FullPct => fig(Figure::Over50FullPct),
            Measure::PopulationFullPct => fig(Figure::PopulationFullPct),
            Measure::VulnerableFullPct => fig(Figure::VulnerableFullPct),
            Measure::CapacityMetPct => {
                let answers = self.checklist.as_ref()?;
                if checklist.is_empty() {
                    return None;
                }
                let mut met = 0usize;
                for item in checklist {
                    if *answers.get(&item.id)? {
                        met += 1;
                    }
                }
                Some(met as f64 * 100.0 / checklist.len() as f64)
            }
        }
    }
}

/// One criterion as assessed: its value (null for no data) and band.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionResult {
    pub name: String,
    pub measure: Measure,
    pub value: Option<f64>,
    pub band: Band,
    /// Whether the band's threshold is confirmed from the decision's text.
    pub confirmed: bool,
}

/// An adjustment that was applied, with its reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppliedAdjustment {
    pub rule: String,
    pub effect: i8,
    pub reason: RuleText,
    pub confirmed: bool,
}

/// The computed level of a commune for a week, with its explanation. `level` is `None` when the case
/// criterion has no data (no population or no count): said, never guessed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub level: Option<RiskLevel>,
    pub criteria: Vec<CriterionResult>,
    pub adjustments: Vec<AppliedAdjustment>,
}

impl RuleSet {
    pub fn from_json(text: &str) -> Result<RuleSet, String> {
        let set: RuleSet = serde_json::from_str(text).map_err(|e| format!("risk rules: {e}"))?;
        set.validate()
            .map_err(|e| format!("risk rules {}: {e}", set.id))?;
        Ok(set)
    }

    fn validate(&self) -> Result<(), String> {
        let mut names = BTreeSet::new();
        for c in &self.criteria {
            if !names.insert(c.name.as_str()) {
                return Err(format!("criterion {} twice", c.name));
            }
            let Some((last, rest)) = c.bands.split_last() else {
                return Err(format!("criterion {} has no bands", c.name));
            };
            if last.bound().is_some() {
                return Err(format!("the last band of {} must be open", c.name));
            }
            let mut previous = f64::NEG_INFINITY;
            for b in rest {
                let bound = match (b.below, b.at_most) {
                    (Some(x), None) | (None, Some(x)) => x,
                    _ => {
                        return Err(format!(
                            "each band of {} but the last needs one of below, at_most",
                            c.name
                        ));
                    }
                };
                if !bound.is_finite() || bound <= previous {
                    return Err(format!("the bands of {} must rise", c.name));
                }
                previous = bound;
            }
        }
        let base = self
            .criterion(&self.level_from)
            .ok_or_else(|| format!("level_from names no criterion: {}", self.level_from))?;
        if base.bands.iter().any(|b| b.band.level().is_none()) {
            return Err(format!("every band of {} must be a level", base.name));
        }
        for a in &self.adjustments {
            if a.effect != 1 && a.effect != -1 {
                return Err(format!("adjustment {}: effect must be +1 or -1", a.rule));
            }
            if a.when.is_empty() {
                return Err(format!("adjustment {} has no conditions", a.rule));
            }
            for w in &a.when {
                let c = self.criterion(&w.criterion).ok_or_else(|| {
                    format!("adjustment {} names no criterion {}", a.rule, w.criterion)
                })?;
                if !c.bands.iter().any(|b| b.band == w.band) {
                    return Err(format!(
                        "adjustment {}: {} has no band {}",
                        a.rule,
                        c.name,
                        w.band.as_str()
                    ));
                }
            }
        }
        let ids: BTreeSet<&str> = self
            .capacity_checklist
            .iter()
            .map(|i| i.id.as_str())
            .collect();
        if ids.len() != self.capacity_checklist.len() {
            return Err("checklist item ids must be unique".into());
        }
        if !(self.aggregation.share > 0.0 && self.aggregation.share <= 1.0) {
            return Err("aggregation share must lie in (0, 1]".into());
        }
        if let Some(to) = self.effective_to
            && to < self.effective_from
        {
            return Err("effective_to is before effective_from".into());
        }
        Ok(())
    }

    pub fn criterion(&self, name: &str) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.name == name)
    }

    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        self.effective_from <= day && self.effective_to.is_none_or(|to| day <= to)
    }

    /// Whether any threshold, adjustment or the aggregation is unconfirmed.
    pub fn has_unconfirmed(&self) -> bool {
        self.criteria
            .iter()
            .flat_map(|c| &c.bands)
            .any(|b| !b.confirmed)
            || self.adjustments.iter().any(|a| !a.confirmed)
            || !self.aggregation.confirmed
    }

    /// The computed level of a commune from its inputs: the case band's level, then each adjustment whose
    /// conditions hold, kept between 1 and the ceiling. An adjustment whose criteria have no data is not
    /// applied (the criteria say "no data").
    pub fn assess(&self, inputs: &Inputs) -> Assessment {
        let criteria: Vec<CriterionResult> = self
            .criteria
            .iter()
            .map(|c| {
                let value = inputs.measure(c.measure, &self.capacity_checklist);
                let (band, confirmed) = match value {
                    Some(v) => {
                        let b = c.band_of(v);
                        (b.band, b.confirmed)
                    }
                    None => (Band::NoData, true),
                };
                CriterionResult {
                    name: c.name.clone(),
                    measure: c.measure,
                    value: value.map(|v| (v * 100.0).round() / 100.0),
                    band,
                    confirmed,
                }
            })
            .collect();
        let band_of = |name: &str| criteria.iter().find(|c| c.name == name).map(|c| c.band);
        let Some(base) = band_of(&self.level_from).and_then(Band::level) else {
            return Assessment {
                level: None,
                criteria,
                adjustments: Vec::new(),
            };
        };
        let mut level = base;
        let mut adjustments = Vec::new();
        for a in &self.adjustments {
            let holds = |w: &Condition| band_of(&w.criterion) == Some(w.band);
            let applies = match a.matching {
                Match::Any => a.when.iter().any(holds),
                Match::All => a.when.iter().all(holds),
            };
            if applies {
                level = level.moved(a.effect, self.ceiling);
                adjustments.push(AppliedAdjustment {
                    rule: a.rule.clone(),
                    effect: a.effect,
                    reason: a.reason.clone(),
                    confirmed: a.confirmed,
                });
            }
        }
        Assessment {
            level: Some(level),
            criteria,
            adjustments,
        }
    }

    /// The level of a district or province from its communes' levels, with the count that decides it.
    pub fn aggregate(&self, levels: &[RiskLevel]) -> Option<Aggregate> {
        if levels.is_empty() {
            return None;
        }
        let total = levels.len();
        let AggregationMethod::HighestLevelHeldByShare = self.aggregation.method;
        RiskLevel::ALL.iter().rev().find_map(|&l| {
            let at_or_above = levels.iter().filter(|x| **x >= l).count();
            (at_or_above as f64 >= self.aggregation.share * total as f64 || l == RiskLevel(1))
                .then_some(Aggregate {
                    level: l,
                    at_or_above,
                    total,
                    share: self.aggregation.share,
                    confirmed: self.aggregation.confirmed,
                })
        })
    }
}

/// A district's or province's level and why: `at_or_above` of `total` communes are at `level` or above, at
/// least the rule's `share`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Aggregate {
    pub level: RiskLevel,
    pub at_or_above: usize,
    pub total: usize,
    pub share: f64,
    pub confirmed: bool,
}

const SHIPPED: &[(&str, &str)] = &[
    ("4800.json", include_str!("../data/risk/4800.json")),
    ("218.json", include_str!("../data/risk/218.json")),
];

/// Every rule set, in order of their effective dates.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskRules {
    sets: Vec<RuleSet>,
}

impl RiskRules {
    /// The shipped rule files; one that does not parse or validate is an error at start.
    pub fn shipped() -> Result<RiskRules, String> {
        let sets = SHIPPED
            .iter()
            .map(|(file, text)| RuleSet::from_json(text).map_err(|e| format!("{file}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        RiskRules::new(sets)
    }

    pub fn new(mut sets: Vec<RuleSet>) -> Result<RiskRules, String> {
        sets.sort_by_key(|s| s.effective_from);
        if sets.is_empty() {
            return Err("no risk rule set".into());
        }
        Ok(RiskRules { sets })
    }

    pub fn all(&self) -> &[RuleSet] {
        &self.sets
    }

    /// The rule set in force at the end of `week` (its Sunday); before the first, none.
    pub fn for_week(&self, week: IsoWeek) -> Option<&RuleSet> {
        let day = week.sunday();
        self.sets.iter().rev().find(|s| s.in_force_on(day))
    }

    /// The rule set in force on a day.
    pub fn on(&self, day: NaiveDate) -> Option<&RuleSet> {
        self.sets.iter().rev().find(|s| s.in_force_on(day))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> RiskRules {
        RiskRules::shipped().unwrap()
    }

    fn set(id: &str) -> RuleSet {
        rules().all().iter().find(|s| s.id == id).unwrap().clone()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// A commune of 10,000 people with `cases` this week and coverage, capacity all met (4800).
    fn good_4800(cases: f64) -> Inputs {
        let mut figures = BTreeMap::new();
        figures.insert(Figure::AdultFirstDosePct, 90.0);
        figures.insert(Figure::Over50FullPct, 85.0);
        let s = set("4800/QĐ-BYT");
        Inputs {
            population: Some(10_000.0),
            community_cases: Some(cases),
            deaths: Some(0.0),
            figures,
            checklist: Some(
                s.capacity_checklist
                    .iter()
                    .map(|i| (i.id.clone(), true))
                    .collect(),
            ),
        }
    }

    fn level(a: &Assessment) -> u8 {
        a.level.unwrap().get()
    }

    #[test]
    fn levels_and_weeks_parse_once() {
        assert_eq!(RiskLevel::new(4).unwrap().get(), 4);
        assert!(RiskLevel::new(0).is_err() && RiskLevel::new(5).is_err());
        assert!(RiskLevel::parse("x").is_err());
        assert!(serde_json::from_str::<RiskLevel>("5").is_err());
        assert_eq!(
            serde_json::to_string(&RiskLevel::new(2).unwrap()).unwrap(),
            "2"
        );
        let w = IsoWeek::parse("2021-W46").unwrap();
        assert_eq!(w.monday(), day(2021, 11, 15));
        assert_eq!(w.sunday(), day(2021, 11, 21));
        assert_eq!(w.to_string(), "2021-W46");
        assert_eq!(IsoWeek::of(day(2021, 11, 20)), w);
        assert_eq!(IsoWeek::of(day(2021, 11, 15)), w);
        assert_eq!(
            IsoWeek::of(day(2021, 11, 22)),
            IsoWeek::parse("2021-W47").unwrap()
        );
        // 1 Jan 2022 (a Saturday) is in week 52 of 2021.
        assert_eq!(IsoWeek::of(day(2022, 1, 1)).to_string(), "2021-W52");
        assert_eq!(IsoWeek::last_full(day(2021, 11, 22)), w);
        assert!(IsoWeek::parse("2021-W54").is_err());
        assert!(IsoWeek::parse("2021-46").is_err());
        assert!(IsoWeek::parse("2021-W4").is_err());
        assert!(IsoWeek::parse("2020-W53").is_ok());
        assert!(w.has_begun(day(2021, 11, 15)) && !w.has_begun(day(2021, 11, 14)));
    }

    #[test]
    fn the_rule_set_in_force_for_a_week() {
        let r = rules();
        assert_eq!(
            r.for_week(IsoWeek::parse("2021-W46").unwrap()).unwrap().id,
            "4800/QĐ-BYT"
        );
        // 218 takes effect on Thursday 27 Jan 2022: that week ends under it.
        assert_eq!(
            r.for_week(IsoWeek::parse("2022-W04").unwrap()).unwrap().id,
            "218/QĐ-BYT"
        );
        assert_eq!(
            r.for_week(IsoWeek::parse("2022-W03").unwrap()).unwrap().id,
            "4800/QĐ-BYT"
        );
        assert!(r.for_week(IsoWeek::parse("2021-W01").unwrap()).is_none());
        assert_eq!(
            r.for_week(IsoWeek::parse("2026-W48").unwrap()).unwrap().id,
            "218/QĐ-BYT"
        );
    }

    #[test]
    fn decision_4800_case_bands_at_their_boundaries() {
        let s = set("4800/QĐ-BYT");
        // 10,000 people: one case is 10 per 100,000.
        for (cases, want) in [
            (0.0, 1),
            (1.9, 1),
            (2.0, 2),
            (4.99, 2),
            (5.0, 3),
            (14.9, 3),
            (15.0, 4),
            (100.0, 4),
        ] {
            let a = s.assess(&good_4800(cases));
            assert_eq!(level(&a), want, "{cases} cases in 10,000");
            assert!(a.adjustments.is_empty());
        }
        let a = s.assess(&good_4800(15.0));
        let c = &a.criteria[0];
        assert_eq!(
            (c.value, c.band, c.confirmed),
            (Some(150.0), Band::Level4, true)
        );
        let a = s.assess(&good_4800(3.0));
        assert_eq!(
            (a.criteria[0].band, a.criteria[0].confirmed),
            (Band::Level2, false)
        );
    }

    #[test]
    fn decision_4800_low_coverage_and_capacity_raise_to_the_ceiling() {
        let s = set("4800/QĐ-BYT");
        let mut i = good_4800(0.0);
        i.figures.insert(Figure::AdultFirstDosePct, 69.99);
        let a = s.assess(&i);
        assert_eq!(level(&a), 2);
        assert_eq!(a.adjustments.len(), 1);
        assert_eq!(
            (a.adjustments[0].rule.as_str(), a.adjustments[0].effect),
            ("low_vaccination", 1)
        );
        i.figures.insert(Figure::AdultFirstDosePct, 70.0);
        assert_eq!(level(&s.assess(&i)), 1, "70% meets the target");
        i.figures.insert(Figure::Over50FullPct, 79.0);
        assert_eq!(
            level(&s.assess(&i)),
            2,
            "over-50 coverage under 80% raises too"
        );
        if let Some(c) = i.checklist.as_mut() {
            c.insert("oxygen".into(), false);
        }
        let a = s.assess(&i);
        assert_eq!(level(&a), 3);
        assert_eq!(a.adjustments.len(), 2);
        // Level 4 cannot go higher.
        let mut i = good_4800(20.0);
        i.figures.insert(Figure::AdultFirstDosePct, 10.0);
        let a = s.assess(&i);
        assert_eq!(level(&a), 4);
    }

    #[test]
    fn missing_inputs_are_no_data_never_zero() {
        let s = set("4800/QĐ-BYT");
        let i = Inputs {
            population: Some(10_000.0),
            community_cases: Some(0.0),
            ..Inputs::default()
        };
        let a = s.assess(&i);
        assert_eq!(level(&a), 1, "no coverage data does not raise the level");
        assert!(a.adjustments.is_empty());
        let coverage = a
            .criteria
            .iter()
            .find(|c| c.name == "adult_first_dose")
            .unwrap();
        assert_eq!((coverage.value, coverage.band), (None, Band::NoData));
        let a = s.assess(&Inputs {
            population: None,
            ..i.clone()
        });
        assert_eq!(a.level, None, "no population, no rate, no level");
        assert_eq!(a.criteria[0].band, Band::NoData);
        let a = s.assess(&Inputs {
            population: Some(0.0),
            ..i.clone()
        });
        assert_eq!(a.level, None);
        // A checklist with an item unanswered is no data.
        let mut partial = i.clone();
        partial.checklist = Some([("oxygen".to_owned(), true)].into());
        let a = s.assess(&partial);
        let cap = a
            .criteria
            .iter()
            .find(|c| c.name == "treatment_capacity")
            .unwrap();
        assert_eq!(cap.band, Band::NoData);
    }

    fn good_218(cases: f64) -> Inputs {
        let s = set("218/QĐ-BYT");
        let mut figures = BTreeMap::new();
        figures.insert(Figure::PopulationFullPct, 80.0);
        figures.insert(Figure::VulnerableFullPct, 95.0);
        figures.insert(Figure::OxygenPatients, 0.0);
        Inputs {
            population: Some(100_000.0),
            community_cases: Some(cases),
            deaths: Some(0.0),
            figures,
            // Capacity not assessed: the response adjustment (−1) needs every response criterion.
            checklist: None,
        }
        .with_checklist(&s, None)
    }

    impl Inputs {
        fn with_checklist(mut self, s: &RuleSet, all: Option<bool>) -> Inputs {
            self.checklist = all.map(|v| {
                s.capacity_checklist
                    .iter()
                    .map(|i| (i.id.clone(), v))
                    .collect()
            });
            self
        }
    }

    #[test]
    fn decision_218_bands_boundaries_and_adjustments() {
        let s = set("218/QĐ-BYT");
        // 100,000 people: a case is 1 per 100,000.
        for (cases, want) in [
            (49.0, 1),
            (50.0, 2),
            (149.0, 2),
            (150.0, 3),
            (600.0, 3),
            (601.0, 4),
        ] {
            assert_eq!(
                level(&s.assess(&good_218(cases))),
                want,
                "{cases} per 100,000"
            );
        }
        let top = s.assess(&good_218(601.0));
        assert!(top.criteria[0].confirmed, "level 4 above 600 is confirmed");
        // Failing the vaccination criterion raises one level (HCMC, Feb 2022).
        let mut i = good_218(60.0);
        i.figures.insert(Figure::VulnerableFullPct, 89.9);
        let a = s.assess(&i);
        assert_eq!(level(&a), 3);
        assert_eq!(a.adjustments[0].rule, "low_vaccination");
        // Deaths per 100,000 at the band's boundary raise it.
        let mut i = good_218(10.0);
        i.deaths = Some(1.0);
        assert_eq!(level(&s.assess(&i)), 2);
        i.deaths = Some(0.0);
        i.figures.insert(Figure::OxygenPatients, 10.0);
        assert_eq!(level(&s.assess(&i)), 2, "10 on oxygen per 100,000 is high");
        // A strong response lowers one level, never below 1.
        let mut i = good_218(200.0).with_checklist(&s, Some(true));
        i.figures.insert(Figure::FreeBeds, 30.0);
        let a = s.assess(&i);
        assert_eq!(level(&a), 2);
        assert_eq!(
            (a.adjustments[0].rule.as_str(), a.adjustments[0].effect),
            ("strong_response", -1)
        );
        let mut i = good_218(0.0).with_checklist(&s, Some(true));
        i.figures.insert(Figure::FreeBeds, 30.0);
        assert_eq!(level(&s.assess(&i)), 1);
        // Free beds under the threshold: no step down.
        i.figures.insert(Figure::FreeBeds, 29.0);
        i.community_cases = Some(200.0);
        assert_eq!(level(&s.assess(&i)), 3);
    }

    #[test]
    fn soc_trang_20_november_2021_aggregates_to_level_2() {
        // 109 communes: 49 / 34 / 26 at levels 1 / 2 / 3; the province was at level 2.
        let s = set("4800/QĐ-BYT");
        let l = |n| RiskLevel::new(n).unwrap();
        let communes: Vec<RiskLevel> = std::iter::repeat_n(l(1), 49)
            .chain(std::iter::repeat_n(l(2), 34))
            .chain(std::iter::repeat_n(l(3), 26))
            .collect();
        let p = s.aggregate(&communes).unwrap();
        assert_eq!((p.level.get(), p.at_or_above, p.total), (2, 60, 109));
        // 16 Feb 2022, Decision 136/QĐ-SYT: 104 at level 1 and 5 at level 2; the province at level 1.
        let s = set("218/QĐ-BYT");
        let communes: Vec<RiskLevel> = std::iter::repeat_n(l(1), 104)
            .chain(std::iter::repeat_n(l(2), 5))
            .collect();
        assert_eq!(s.aggregate(&communes).unwrap().level.get(), 1);
        // Half exactly at level 3 is enough.
        assert_eq!(s.aggregate(&[l(3), l(1)]).unwrap().level.get(), 3);
        assert!(s.aggregate(&[]).is_none());
    }

    #[test]
    fn bad_rule_files_are_refused() {
        let text = SHIPPED[0].1;
        assert!(RuleSet::from_json(text).is_ok());
        assert!(RuleSet::from_json("{}").is_err());
        assert!(
            RuleSet::from_json(&text.replace("\"below\": 50,", "\"below\": 10,")).is_err(),
            "bands must rise"
        );
        assert!(RuleSet::from_json(&text.replace("\"effect\": 1,", "\"effect\": 2,")).is_err());
        assert!(
            RuleSet::from_json(&text.replace("\"band\": \"target_met\"", "\"band\": \"met\""))
                .is_err()
        );
        assert!(
            RuleSet::from_json(&text.replace(
                "\"level_from\": \"community_cases_per_100k\"",
                "\"level_from\": \"adult_first_dose\""
            ))
            .is_err()
        );
        assert!(RuleSet::from_json(&text.replace("\"share\": 0.5", "\"share\": 1.5")).is_err());
        assert!(RuleSet::from_json(&text.replace("\"ceiling\": 4", "\"ceiling\": 5")).is_err());
        // Every unconfirmed value is marked: 4800's middle bands, its matrix and aggregation.
        assert!(set("4800/QĐ-BYT").has_unconfirmed());
    }

    #[test]
    fn figures_are_checked() {
        assert!(Figure::AdultFirstDosePct.check(100.5).is_err());
        assert!(Figure::Population.check(-1.0).is_err());
        assert!(Figure::Population.check(f64::NAN).is_err());
        assert_eq!(Figure::Population.check(12_000.0), Ok(12_000.0));
        assert!(Figure::Deaths.is_weekly() && !Figure::Population.is_weekly());
    }
}
