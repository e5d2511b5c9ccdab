//! Vaccination records: the EU Digital COVID Certificate value sets (`mp`, `ma`, `vp`, `tg`, countries) as
//! shipped data, the names used in Vietnam mapped to them (`data/vaccines_vn.json`), a checked dose, and a
//! person's vaccination state under the rules (fully vaccinated = series completed, counted from a number of
//! days after the completing dose). Pure: the registry lookups (does the person exist, when were they born,
//! which location is a site) are the caller's.

use crate::catalogue::{Lang, Problem};
use crate::person::fold;
use crate::{AsProblem, CitizenId, DateBounds, FieldErrors, UnitCode, clean_text};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

/// One value of an EU DCC value set.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ValueSetEntry {
    pub display: String,
    /// Withdrawn values (`false`) must not be issued any more.
    pub active: bool,
}

/// One EU DCC value-set file: `{valueSetId, valueSetDate, valueSetValues: {code: {display, active, …}}}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValueSet {
    pub value_set_id: String,
    pub value_set_date: NaiveDate,
    pub value_set_values: BTreeMap<String, ValueSetEntry>,
}

impl ValueSet {
    pub fn get(&self, code: &str) -> Option<&ValueSetEntry> {
        self.value_set_values.get(code)
    }

    pub fn is_active(&self, code: &str) -> bool {
        self.get(code).is_some_and(|e| e.active)
    }
}

/// The value sets kiemdich reads, parsed once from the files shipped in `data/dcc-valuesets`.
#[derive(Debug)]
pub struct ValueSets {
    /// Vaccine medicinal products (`v.mp`).
    pub mp: ValueSet,
    /// Marketing-authorisation holders or manufacturers (`v.ma`).
    pub ma: ValueSet,
    /// Vaccine or prophylaxis types (`v.vp`).
    pub vp: ValueSet,
    /// Disease or agent targeted (`tg`): COVID-19 only.
    pub tg: ValueSet,
    /// ISO 3166 alpha-2 countries (`co`).
    pub countries: ValueSet,
}

impl ValueSets {
    /// The `tg` code of COVID-19 (SNOMED CT 840539006), the one disease the value set names.
    pub fn covid_19(&self) -> &str {
        self.tg
            .value_set_values
            .keys()
            .next()
            .map_or("840539006", String::as_str)
    }
}

fn value_set(name: &str, text: &str) -> ValueSet {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("shipped value set {name}: {e}"))
}

static VALUE_SETS: LazyLock<ValueSets> = LazyLock::new(|| ValueSets {
    mp: value_set(
        "mp",
        include_str!("../data/dcc-valuesets/vaccine-medicinal-product.json"),
    ),
    ma: value_set(
        "ma",
        include_str!("../data/dcc-valuesets/vaccine-mah-manf.json"),
    ),
    vp: value_set(
        "vp",
        include_str!("../data/dcc-valuesets/vaccine-prophylaxis.json"),
    ),
    tg: value_set(
        "tg",
        include_str!("../data/dcc-valuesets/disease-agent-targeted.json"),
    ),
    countries: value_set(
        "countries",
        include_str!("../data/dcc-valuesets/country-2-codes.json"),
    ),
});

/// The shipped EU DCC value sets.
pub fn value_sets() -> &'static ValueSets {
    &VALUE_SETS
}

/// A vaccine product kiemdich records: its EU codes, the doses of its primary series, its names.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaccineInfo {
    /// `mp`: an active code of the medicinal-product value set.
    pub mp: String,
    /// `ma`: the marketing-authorisation holder or manufacturer.
    pub ma: String,
    /// `vp`: the vaccine type.
    pub vp: String,
    /// Doses of the primary series (the default "of n").
    pub series_doses: u8,
    /// The name people in Vietnam know it by.
    pub name_vi: String,
    pub name_en: String,
    /// Names and spellings that mean this product (matched folding case, diacritics, spaces and punctuation).
    pub aliases: Vec<String>,
}

/// The products that may be recorded, with the names used in Vietnam.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaccineCatalogue {
    pub version: String,
    pub source: String,
    pub products: Vec<VaccineInfo>,
    #[serde(skip)]
    by_name: HashMap<String, usize>,
}

/// A name as looked up: folded, letters and digits only ("Pfizer-BioNTech" = "pfizer biontech").
fn name_key(s: &str) -> String {
    fold(s).chars().filter(|c| c.is_alphanumeric()).collect()
}

impl VaccineCatalogue {
    /// Parses a catalogue and checks it against the value sets: every `mp` active, every `ma` and `vp` known,
    /// series of 1–9 doses, no name meaning two products.
    pub fn from_json(text: &str, sets: &ValueSets) -> Result<VaccineCatalogue, String> {
        let mut c: VaccineCatalogue =
            serde_json::from_str(text).map_err(|e| format!("vaccines: {e}"))?;
        for (i, p) in c.products.iter().enumerate() {
            if !sets.mp.is_active(&p.mp) {
                return Err(format!("vaccines: {} is not an active mp value", p.mp));
            }
            if sets.ma.get(&p.ma).is_none() {
                return Err(format!("vaccines: {}: unknown ma {}", p.mp, p.ma));
            }
            if sets.vp.get(&p.vp).is_none() {
                return Err(format!("vaccines: {}: unknown vp {}", p.mp, p.vp));
            }
            if !(1..=9).contains(&p.series_doses) {
                return Err(format!("vaccines: {}: series of 1–9 doses", p.mp));
            }
            for name in p.aliases.iter().chain([&p.mp, &p.name_vi, &p.name_en]) {
                let key = name_key(name);
                match c.by_name.insert(key, i) {
                    Some(other) if other != i => {
                        return Err(format!(
                            "vaccines: the name {name:?} means both {} and {}",
                            c.products[other].mp, p.mp
                        ));
                    }
                    _ => {}
                }
            }
        }
        Ok(c)
    }

    /// Every product, in the file's order (the order pickers show).
    pub fn all(&'static self) -> impl Iterator<Item = VaccineProduct> {
        self.products.iter().map(|info| VaccineProduct { info })
    }
}

static VACCINES: LazyLock<VaccineCatalogue> = LazyLock::new(|| {
    VaccineCatalogue::from_json(include_str!("../data/vaccines_vn.json"), value_sets())
        .unwrap_or_else(|e| panic!("shipped vaccines_vn.json: {e}"))
});

/// The shipped catalogue of recordable products.
pub fn vaccines() -> &'static VaccineCatalogue {
    &VACCINES
}

/// Why a product was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaccineError {
    #[error("{0:?} is not a known vaccine product (an EU mp code or a name used in Vietnam)")]
    Unknown(String),
    #[error("{0} was withdrawn from the EU value set (inactive) and may not be recorded")]
    Inactive(String),
    #[error("{0} has no manufacturer in vaccines_vn.json; add it there to record it")]
    Unmapped(String),
}

impl AsProblem for VaccineError {
    fn problem(&self) -> Problem {
        Problem::UnknownVaccine
    }
}

/// A vaccine product that may be recorded: a known, active `mp` code with its `ma`, `vp` and series.
#[derive(Debug, Clone, Copy)]
pub struct VaccineProduct {
    info: &'static VaccineInfo,
}

impl PartialEq for VaccineProduct {
    fn eq(&self, o: &VaccineProduct) -> bool {
        self.info.mp == o.info.mp
    }
}
impl Eq for VaccineProduct {}
impl std::hash::Hash for VaccineProduct {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.info.mp.hash(h);
    }
}
impl PartialOrd for VaccineProduct {
    fn partial_cmp(&self, o: &VaccineProduct) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for VaccineProduct {
    fn cmp(&self, o: &VaccineProduct) -> std::cmp::Ordering {
        self.info.mp.cmp(&o.info.mp)
    }
}

impl VaccineProduct {
    /// An `mp` code or a name used in Vietnam ("Vero Cell", "Pfizer", "AstraZeneca", "Comirnaty", …).
    pub fn parse(s: &str) -> Result<VaccineProduct, VaccineError> {
        let s = s.trim();
        let catalogue = vaccines();
        if let Some(p) = catalogue.products.iter().find(|p| p.mp == s) {
            return Ok(VaccineProduct { info: p });
        }
        if let Some(&i) = catalogue.by_name.get(&name_key(s)) {
            return Ok(VaccineProduct {
                info: &catalogue.products[i],
            });
        }
        match value_sets().mp.get(s) {
            Some(e) if !e.active => Err(VaccineError::Inactive(s.to_owned())),
            Some(_) => Err(VaccineError::Unmapped(s.to_owned())),
            None => Err(VaccineError::Unknown(s.to_owned())),
        }
    }

    /// The product of a stored `mp` code (exactly; no name matching).
    pub fn from_mp(mp: &str) -> Result<VaccineProduct, VaccineError> {
        vaccines()
            .products
            .iter()
            .find(|p| p.mp == mp)
            .map(|info| VaccineProduct { info })
            .ok_or_else(|| VaccineError::Unknown(mp.to_owned()))
    }

    pub fn mp(self) -> &'static str {
        &self.info.mp
    }
    pub fn ma(self) -> &'static str {
        &self.info.ma
    }
    pub fn vp(self) -> &'static str {
        &self.info.vp
    }
    pub fn series_doses(self) -> u8 {
        self.info.series_doses
    }
    pub fn info(self) -> &'static VaccineInfo {
        self.info
    }

    /// The name a reader of `lang` knows it by (Khmer readers get the Vietnamese name).
    pub fn name(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => &self.info.name_en,
            Lang::Vi | Lang::Km => &self.info.name_vi,
        }
    }
}

impl Serialize for VaccineProduct {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.mp())
    }
}

/// An ISO 3166 alpha-2 country code of the value set (`VN`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Country(String);

impl Country {
    pub fn parse(s: &str) -> Result<Country, String> {
        let code = s.trim().to_ascii_uppercase();
        if value_sets().countries.get(&code).is_some() {
            Ok(Country(code))
        } else {
            Err(format!(
                "{:?} is not an ISO 3166 alpha-2 country code",
                s.trim()
            ))
        }
    }

    pub fn vietnam() -> Country {
        Country("VN".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_enum!(
    /// How a dose came in: entered on a page or the API, a CSV import, a FHIR feed.
    DoseSource { Entered = "entered", Csv = "csv", Fhir = "fhir" }
);

string_enum!(
    /// Where a person stands: no dose, part of a series, series completed but not yet counted (the waiting
    /// days of the rules), fully vaccinated.
    VaccinationLevel { None = "none", Partial = "partial", Completed = "completed", Full = "full" }
);

/// Where a dose was given: one of the system's locations (a health facility), or a facility named as typed,
/// with the unit it lies in when known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Site {
    Location {
        id: i64,
    },
    Facility {
        name: String,
        unit: Option<UnitCode>,
    },
}

/// The longest lot number and facility name.
pub const MAX_LOT: usize = 40;
pub const MAX_FACILITY: usize = 160;

/// A dose as typed or imported: text fields, so that each problem can be named. The CSV columns are
/// [`RawDose::COLUMNS`]; `location_id` and `site_unit` come from forms and feeds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct RawDose {
    pub citizen_id: String,
    pub product: String,
    pub dose_number: String,
    /// Empty: the product's primary series.
    pub series_doses: String,
    pub date: String,
    pub lot: String,
    /// A facility name (or the name of a location, which the caller may resolve into `location_id`).
    pub site: String,
    /// Empty: `VN`.
    pub country: String,
    pub location_id: Option<i64>,
    pub site_unit: String,
}

impl RawDose {
    pub const COLUMNS: [&'static str; 8] = [
        "citizen_id",
        "product",
        "dose_number",
        "series_doses",
        "date",
        "lot",
        "site",
        "country",
    ];
}

/// What a dose is checked against besides itself: the dates allowed (the rules' earliest date, today), the
/// vaccination rules, and the person's birth date when the registry holds them.
#[derive(Debug, Clone, Copy)]
pub struct DoseContext<'a> {
    pub dates: DateBounds,
    pub rules: &'a VaccinationRules,
    pub born: Option<NaiveDate>,
}

/// A checked dose, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDose {
    pub citizen: CitizenId,
    pub product: VaccineProduct,
    pub dose_number: u8,
    pub series_doses: u8,
    pub date: NaiveDate,
    pub lot: Option<String>,
    /// Required for a dose given in Vietnam; may be unknown for one given abroad.
    pub site: Option<Site>,
    pub country: Country,
    pub source: DoseSource,
}

/// A stored dose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dose {
    pub citizen: CitizenId,
    pub product: VaccineProduct,
    pub dose_number: u8,
    pub series_doses: u8,
    pub date: NaiveDate,
    pub lot: Option<String>,
    pub site: Option<Site>,
    /// What the site reads as: the location's name, or the facility's.
    pub site_name: Option<String>,
    pub country: Country,
    pub source: DoseSource,
    pub recorded_by: String,
    pub recorded_at: i64,
}

fn small_number(field: &str, s: &str) -> Result<u8, String> {
    s.trim()
        .parse::<u8>()
        .ok()
        .filter(|n| (1..=9).contains(n))
        .ok_or_else(|| {
            format!(
                "{field} must be a whole number from 1 to 9, got {:?}",
                s.trim()
            )
        })
}

impl NewDose {
    /// Checks every field, collecting every problem: unknown or withdrawn product, dose number 0 or above
    /// the series, a date in the future, before the rules' earliest date or before the person's birth, an
    /// unknown country, a dose in Vietnam without a site.
    pub fn parse(
        raw: &RawDose,
        source: DoseSource,
        ctx: &DoseContext<'_>,
    ) -> Result<NewDose, FieldErrors> {
        let mut errs = FieldErrors::default();
        let citizen = errs.check("citizen_id", CitizenId::parse(&raw.citizen_id));
        let product = errs.check("product", VaccineProduct::parse(&raw.product));
        let series_doses = match raw.series_doses.trim() {
            "" => product.map(VaccineProduct::series_doses),
            s => errs.check_as(
                "series_doses",
                Problem::OutOfRange,
                small_number("series_doses", s),
            ),
        };
        let dose_number = errs
            .check_as(
                "dose_number",
                Problem::DoseNumber,
                small_number("dose_number", &raw.dose_number),
            )
            .and_then(|n| match series_doses {
                Some(of) if n > of => {
                    errs.push_as(
                        "dose_number",
                        Problem::DoseNumber,
                        format!("dose {n} is above the series of {of}"),
                    );
                    None
                }
                _ => Some(n),
            });
        let date = match NaiveDate::parse_from_str(raw.date.trim(), "%Y-%m-%d") {
            Err(_) => {
                errs.push_as(
                    "date",
                    Problem::Date,
                    format!("must be YYYY-MM-DD, got {:?}", raw.date.trim()),
                );
                None
            }
            Ok(d) => {
                let earliest = ctx.rules.earliest_dose_date.max(ctx.dates.earliest);
                if d > ctx.dates.today {
                    errs.push_as(
                        "date",
                        Problem::DateOutOfRange,
                        format!("{d} is in the future (today is {})", ctx.dates.today),
                    );
                    None
                } else if ctx.born.is_some_and(|b| d < b) {
                    errs.push_as(
                        "date",
                        Problem::BeforeBirth,
                        format!(
                            "{d} is before the person's birth ({})",
                            ctx.born.unwrap_or(d)
                        ),
                    );
                    None
                } else if d < earliest {
                    errs.push_as(
                        "date",
                        Problem::DateOutOfRange,
                        format!("{d} is before {earliest}, the earliest dose date of the rules"),
                    );
                    None
                } else {
                    Some(d)
                }
            }
        };
        let lot = match raw.lot.trim() {
            "" => Some(None),
            l => errs.check_as("lot", Problem::TooLong, clean_text(l, MAX_LOT).map(Some)),
        };
        let country = match raw.country.trim() {
            "" => Some(Country::vietnam()),
            c => errs.check_as("country", Problem::Country, Country::parse(c)),
        };
        let site_unit = match raw.site_unit.trim() {
            "" => Some(None),
            u => errs.check_as("site_unit", Problem::Unit, UnitCode::parse(u).map(Some)),
        };
        let site = match (raw.location_id, raw.site.trim(), site_unit) {
            (Some(id), _, _) if id > 0 => Some(Some(Site::Location { id })),
            (Some(id), _, _) => {
                errs.push_as("location_id", Problem::Invalid, format!("no location {id}"));
                None
            }
            (None, "", _) => Some(None),
            (None, name, Some(unit)) => errs.check_as(
                "site",
                Problem::TooLong,
                clean_text(name, MAX_FACILITY).map(|name| Some(Site::Facility { name, unit })),
            ),
            (None, _, None) => None,
        };
        if let (Some(None), Some(c)) = (&site, &country)
            && *c == Country::vietnam()
        {
            errs.push_as(
                "site",
                Problem::Required,
                "a dose given in Vietnam names its site (a health location or a facility)",
            );
        }
        match (
            citizen,
            product,
            dose_number,
            series_doses,
            date,
            lot,
            site,
            country,
        ) {
            (
                Some(citizen),
                Some(product),
                Some(dose_number),
                Some(series_doses),
                Some(date),
                Some(lot),
                Some(site),
                Some(country),
            ) if errs.is_empty() => Ok(NewDose {
                citizen,
                product,
                dose_number,
                series_doses,
                date,
                lot,
                site,
                country,
                source,
            }),
            _ => Err(errs),
        }
    }

    /// The fields in which this dose differs from `stored` (the same person, product and date): empty when it
    /// is the same dose. Who recorded it and how are not compared.
    pub fn differences(&self, stored: &Dose) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.dose_number != stored.dose_number {
            out.push("dose_number");
        }
        if self.series_doses != stored.series_doses {
            out.push("series_doses");
        }
        if self.lot != stored.lot {
            out.push("lot");
        }
        if self.site != stored.site {
            out.push("site");
        }
        if self.country != stored.country {
            out.push("country");
        }
        out
    }

    /// The same person, product and date: what makes two doses one.
    pub fn key(&self) -> (CitizenId, VaccineProduct, NaiveDate) {
        (self.citizen, self.product, self.date)
    }
}

/// Versioned vaccination rules (part of [`crate::Rules`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaccinationRules {
    pub source: String,
    /// A person is fully vaccinated this many days after the dose that completes their series.
    pub fully_vaccinated_after_days: u32,
    /// Set while that number is not confirmed from an official text; pages say so.
    pub awaiting_confirmation: bool,
    /// Adults are people of at least this age (the risk rules' "share of adults with one dose").
    pub adult_age: u32,
    /// The older group the risk rules count ("people over 50 fully vaccinated").
    pub older_age: u32,
    /// No dose may be dated before this (the first COVID-19 vaccines authorised anywhere).
    pub earliest_dose_date: NaiveDate,
}

/// What the state needs of a dose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoseFacts {
    pub date: NaiveDate,
    pub dose_number: u8,
    pub series_doses: u8,
}

impl From<&Dose> for DoseFacts {
    fn from(d: &Dose) -> DoseFacts {
        DoseFacts {
            date: d.date,
            dose_number: d.dose_number,
            series_doses: d.series_doses,
        }
    }
}

impl From<&NewDose> for DoseFacts {
    fn from(d: &NewDose) -> DoseFacts {
        DoseFacts {
            date: d.date,
            dose_number: d.dose_number,
            series_doses: d.series_doses,
        }
    }
}

/// A person's vaccination on a day, from their doses up to that day under the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VaccinationState {
    pub as_of: NaiveDate,
    pub level: VaccinationLevel,
    /// Doses given up to `as_of`.
    pub doses: u32,
    pub first_dose: Option<NaiveDate>,
    pub last_dose: Option<NaiveDate>,
    /// The date of the first dose that completed a series (dose n of n).
    pub series_completed_on: Option<NaiveDate>,
    /// From this day the person counts as fully vaccinated (completion plus the rules' days).
    pub fully_vaccinated_from: Option<NaiveDate>,
    /// Whether the rules' waiting days are confirmed from an official text.
    pub rule_confirmed: bool,
}

impl VaccinationState {
    /// The state on `as_of` from `doses` (any order; doses after `as_of` are ignored).
    pub fn of(
        doses: impl IntoIterator<Item = DoseFacts>,
        rules: &VaccinationRules,
        as_of: NaiveDate,
    ) -> VaccinationState {
        let mut s = VaccinationState {
            as_of,
            level: VaccinationLevel::None,
            doses: 0,
            first_dose: None,
            last_dose: None,
            series_completed_on: None,
            fully_vaccinated_from: None,
            rule_confirmed: !rules.awaiting_confirmation,
        };
        for d in doses.into_iter().filter(|d| d.date <= as_of) {
            s.doses += 1;
            s.first_dose = Some(s.first_dose.map_or(d.date, |f| f.min(d.date)));
            s.last_dose = Some(s.last_dose.map_or(d.date, |l| l.max(d.date)));
            if d.dose_number >= d.series_doses {
                s.series_completed_on =
                    Some(s.series_completed_on.map_or(d.date, |c| c.min(d.date)));
            }
        }
        s.fully_vaccinated_from = s
            .series_completed_on
            .map(|c| c + chrono::Duration::days(i64::from(rules.fully_vaccinated_after_days)));
        s.level = match (s.doses, s.fully_vaccinated_from) {
            (0, _) => VaccinationLevel::None,
            (_, Some(full)) if full <= as_of => VaccinationLevel::Full,
            (_, Some(_)) => VaccinationLevel::Completed,
            (_, None) => VaccinationLevel::Partial,
        };
        s
    }

    /// Whether the person counts as fully vaccinated on `as_of`.
    pub fn is_fully_vaccinated(&self) -> bool {
        self.level == VaccinationLevel::Full
    }
}

/// Coverage of one commune on a day, counted from the registry (denominators) and the dose records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub people: u64,
    /// People with at least one dose: none means the records say nothing of the commune yet.
    pub one_dose: u64,
    pub fully_vaccinated: u64,
    pub adults: u64,
    pub adults_one_dose: u64,
    pub older: u64,
    pub older_fully_vaccinated: u64,
}

fn pct(n: u64, of: u64) -> Option<f64> {
    (of > 0).then(|| n as f64 * 100.0 / of as f64)
}

impl Coverage {
    /// % of adults with at least one dose.
    pub fn adult_first_dose_pct(&self) -> Option<f64> {
        pct(self.adults_one_dose, self.adults)
    }
    /// % of the older group fully vaccinated.
    pub fn older_full_pct(&self) -> Option<f64> {
        pct(self.older_fully_vaccinated, self.older)
    }
    /// % of everyone fully vaccinated.
    pub fn population_full_pct(&self) -> Option<f64> {
        pct(self.fully_vaccinated, self.people)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rules;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn raw(product: &str, n: &str, date: &str) -> RawDose {
        RawDose {
            citizen_id: "094090001234".into(),
            product: product.into(),
            dose_number: n.into(),
            date: date.into(),
            site: "Trạm Y tế Phường 2".into(),
            ..RawDose::default()
        }
    }

    fn ctx(rules: &Rules) -> DoseContext<'_> {
        DoseContext {
            dates: DateBounds {
                earliest: rules.earliest_date,
                today: d("2022-06-01"),
                days_ahead: 0,
            },
            rules: &rules.vaccination,
            born: Some(d("1990-03-04")),
        }
    }

    #[test]
    fn the_shipped_value_sets_and_catalogue_load() {
        let sets = value_sets();
        assert_eq!(sets.covid_19(), "840539006");
        assert!(!sets.mp.is_active("Inactivated-SARS-CoV-2-Vero-Cell"));
        assert!(sets.countries.get("VN").is_some());
        assert!(vaccines().products.len() >= 8);
        // Every name Decision 5772 accepts is recordable.
        for name in [
            "AstraZeneca",
            "Sputnik V",
            "Vero Cell",
            "Pfizer",
            "Moderna",
            "Janssen",
            "Hayat-Vax",
            "Abdala",
        ] {
            assert!(VaccineProduct::parse(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn names_used_in_vietnam_map_to_value_set_codes() {
        let p = |s: &str| VaccineProduct::parse(s).unwrap();
        assert_eq!(p("Vero Cell").mp(), "BBIBP-CorV");
        assert_eq!(p("vero cell").ma(), "ORG-100020693");
        assert_eq!(p("Inactivated-SARS-CoV-2-Vero-Cell").mp(), "BBIBP-CorV");
        assert_eq!(p("  pfizer  ").mp(), "EU/1/20/1528");
        assert_eq!(p("Comirnaty").vp(), "1119349007");
        assert_eq!(p("Spikevax").ma(), "ORG-100031184");
        assert_eq!(p("astra").mp(), "EU/1/21/1529");
        assert_eq!(p("Johnson & Johnson").series_doses(), 1);
        assert_eq!(p("Abdala").series_doses(), 3);
        assert_eq!(p("EU/1/21/1529").name(Lang::Vi), "AstraZeneca");
        assert!(matches!(
            VaccineProduct::parse("NotAVaccine"),
            Err(VaccineError::Unknown(_))
        ));
        // Active in the value set but with no manufacturer mapped here.
        assert!(matches!(
            VaccineProduct::parse("EpiVacCorona"),
            Err(VaccineError::Unmapped(_))
        ));
        assert!(matches!(
            VaccineProduct::parse("VLA2001"),
            Err(VaccineError::Inactive(_))
        ));
        assert!(VaccineProduct::from_mp("Vero Cell").is_err());
    }

    #[test]
    fn a_good_dose_parses_with_defaults() {
        let rules = Rules::default();
        let dose = NewDose::parse(
            &raw("Vero Cell", "1", "2021-09-10"),
            DoseSource::Csv,
            &ctx(&rules),
        )
        .unwrap();
        assert_eq!(dose.product.mp(), "BBIBP-CorV");
        assert_eq!((dose.dose_number, dose.series_doses), (1, 2));
        assert_eq!(dose.country, Country::vietnam());
        assert_eq!(dose.lot, None);
        assert_eq!(
            dose.site,
            Some(Site::Facility {
                name: "Trạm Y tế Phường 2".into(),
                unit: None
            })
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let rules = Rules::default();
        let fields = |r: RawDose| -> Vec<String> {
            NewDose::parse(&r, DoseSource::Entered, &ctx(&rules))
                .unwrap_err()
                .0
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        assert_eq!(fields(raw("Sputnik Q", "1", "2021-09-10")), ["product"]);
        assert_eq!(fields(raw("Pfizer", "0", "2021-09-10")), ["dose_number"]);
        assert_eq!(fields(raw("Pfizer", "3", "2021-09-10")), ["dose_number"]);
        assert_eq!(fields(raw("Janssen", "2", "2021-09-10")), ["dose_number"]);
        assert_eq!(fields(raw("Pfizer", "1", "2022-06-02")), ["date"]);
        assert_eq!(fields(raw("Pfizer", "1", "2020-01-02")), ["date"]);
        assert_eq!(fields(raw("Pfizer", "1", "10/09/2021")), ["date"]);
        let mut unborn = raw("Pfizer", "1", "2021-09-10");
        unborn.citizen_id = "094221001234".into();
        let mut c = ctx(&rules);
        c.born = Some(d("2022-01-01"));
        let e = NewDose::parse(&unborn, DoseSource::Entered, &c).unwrap_err();
        assert_eq!(e.0[0].code, Problem::BeforeBirth);
        let mut r = raw("Pfizer", "3", "2021-09-10");
        r.series_doses = "3".into();
        r.country = "XX".into();
        assert_eq!(fields(r), ["country"]);
        let mut r = raw("x", "x", "x");
        r.citizen_id = "12".into();
        r.site = String::new();
        assert_eq!(
            fields(r),
            ["citizen_id", "product", "dose_number", "date", "site"]
        );
        // Abroad, the site may be unknown.
        let mut r = raw("Pfizer", "1", "2021-09-10");
        r.site = String::new();
        r.country = "fr".into();
        let dose = NewDose::parse(&r, DoseSource::Fhir, &ctx(&rules)).unwrap();
        assert_eq!((dose.site, dose.country.as_str()), (None, "FR"));
    }

    fn facts(date: &str, n: u8, of: u8) -> DoseFacts {
        DoseFacts {
            date: d(date),
            dose_number: n,
            series_doses: of,
        }
    }

    #[test]
    fn the_state_counts_a_completed_series_after_the_waiting_days() {
        let rules = Rules::default().vaccination;
        let wait = i64::from(rules.fully_vaccinated_after_days);
        let doses = [facts("2021-10-01", 2, 2), facts("2021-09-01", 1, 2)];
        let on = |day: &str| VaccinationState::of(doses, &rules, d(day));
        assert_eq!(on("2021-08-31").level, VaccinationLevel::None);
        let partial = on("2021-09-15");
        assert_eq!(
            (partial.level, partial.doses),
            (VaccinationLevel::Partial, 1)
        );
        assert_eq!(on("2021-10-01").level, VaccinationLevel::Completed);
        let full_from = d("2021-10-01") + chrono::Duration::days(wait);
        let full = on(&full_from.to_string());
        assert_eq!(full.level, VaccinationLevel::Full);
        assert!(full.is_fully_vaccinated());
        assert_eq!(full.fully_vaccinated_from, Some(full_from));
        assert_eq!(
            (full.first_dose, full.last_dose),
            (Some(d("2021-09-01")), Some(d("2021-10-01")))
        );
        // A one-dose vaccine completes at once; a booster does not move the completion.
        let janssen = [facts("2021-09-01", 1, 1), facts("2022-01-10", 2, 2)];
        let s = VaccinationState::of(janssen, &rules, d("2022-02-01"));
        assert_eq!(s.series_completed_on, Some(d("2021-09-01")));
        assert_eq!((s.doses, s.last_dose), (2, Some(d("2022-01-10"))));
    }

    #[test]
    fn coverage_is_a_share_of_its_denominator() {
        let c = Coverage {
            people: 10,
            one_dose: 7,
            fully_vaccinated: 5,
            adults: 8,
            adults_one_dose: 6,
            older: 0,
            older_fully_vaccinated: 0,
        };
        assert_eq!(c.adult_first_dose_pct(), Some(75.0));
        assert_eq!(c.population_full_pct(), Some(50.0));
        assert_eq!(c.older_full_pct(), None);
    }
}
