//! Daily health updates (what NCOVI collected): a temperature, an SpO2 reading, symptoms and a note, posted by
//! the person or entered by an officer for someone without a phone. Warning signs from the rules make an update
//! urgent: the commune's health station is told at once and the person goes to the top of the follow-up list.

use crate::input::clean_text;
use crate::{FieldErrors, Symptom};
use serde::{Deserialize, Serialize};

/// The readings a home thermometer and pulse oximeter can give, and the warning signs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthUpdateRules {
    pub source: String,
    /// False while the numbers are not checked against an official text; pages may say so.
    pub confirmed: bool,
    /// An SpO2 below this (percent) is a warning sign.
    pub spo2_urgent_below: u8,
    /// No pulse oximeter reading below this is taken as real: a typing error.
    pub spo2_floor: u8,
    /// The range of a body temperature (°C); outside it is a typing error.
    pub temperature_min_c: f32,
    pub temperature_max_c: f32,
    /// Symptoms that are warning signs by themselves.
    pub warning_symptoms: Vec<Symptom>,
    /// Symptoms in an update count towards a person's colour this many days (as a declaration asks for the
    /// last 14 days' symptoms), unless a later declaration says otherwise.
    pub symptoms_count_days: u32,
}

// The rules file is JSON, which cannot hold a NaN: the temperatures compare as equal to themselves.
impl Eq for HealthUpdateRules {}

/// One update as a client sends it: each field is parsed and every problem reported by name.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawHealthUpdate {
    pub temperature_c: Option<f64>,
    pub spo2: Option<f64>,
    pub symptoms: Vec<String>,
    pub note: Option<String>,
}

/// An update whose values passed their checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthUpdate {
    pub temperature_c: Option<f32>,
    pub spo2: Option<u8>,
    pub symptoms: Vec<Symptom>,
    pub note: Option<String>,
}

const MAX_NOTE: usize = 500;

impl RawHealthUpdate {
    pub fn parse(&self, rules: &HealthUpdateRules) -> Result<HealthUpdate, FieldErrors> {
        let mut errs = FieldErrors::default();
        let temperature_c = self.temperature_c.and_then(|t| {
            let (lo, hi) = (
                f64::from(rules.temperature_min_c),
                f64::from(rules.temperature_max_c),
            );
            if t.is_finite() && (lo..=hi).contains(&t) {
                // Rounded to a tenth of a degree, as a thermometer reads; inside the rules' range it fits an f32.
                Some(((t * 10.0).round() / 10.0) as f32)
            } else {
                errs.push(
                    "temperature_c",
                    format!("{t} °C is not a body temperature (from {lo} to {hi})"),
                );
                None
            }
        });
        let spo2 = self.spo2.and_then(|s| {
            let floor = f64::from(rules.spo2_floor);
            if s.fract() == 0.0 && (floor..=100.0).contains(&s) {
                // A whole number from the floor to 100.
                Some(s as u8)
            } else {
                errs.push(
                    "spo2",
                    format!("{s}% is not an SpO2 reading (a whole number from {floor} to 100)"),
                );
                None
            }
        });
        let mut symptoms = Vec::with_capacity(self.symptoms.len());
        for (i, s) in self.symptoms.iter().enumerate() {
            if let Some(v) = errs.check(format!("symptoms[{i}]"), Symptom::parse(s))
                && !symptoms.contains(&v)
            {
                symptoms.push(v);
            }
        }
        let note = match self.note.as_deref().filter(|n| !n.trim().is_empty()) {
            Some(n) => errs.check("note", clean_text(n, MAX_NOTE)),
            None => None,
        };
        errs.into_result(|| HealthUpdate {
            temperature_c,
            spo2,
            symptoms,
            note,
        })
    }
}

impl HealthUpdate {
    /// The warning signs this update shows, by the rules: a low SpO2 or a warning symptom.
    pub fn is_urgent(&self, rules: &HealthUpdateRules) -> bool {
        self.spo2.is_some_and(|s| s < rules.spo2_urgent_below)
            || self
                .symptoms
                .iter()
                .any(|s| rules.warning_symptoms.contains(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rules;

    fn raw(t: Option<f64>, s: Option<f64>, symptoms: &[&str]) -> RawHealthUpdate {
        RawHealthUpdate {
            temperature_c: t,
            spo2: s,
            symptoms: symptoms.iter().map(|s| (*s).to_owned()).collect(),
            note: None,
        }
    }

    #[test]
    fn readings_are_checked_and_warning_signs_make_an_update_urgent() {
        let rules = Rules::default().health_updates;
        let ok = raw(Some(37.46), Some(97.0), &["cough"])
            .parse(&rules)
            .unwrap();
        assert_eq!(ok.temperature_c, Some(37.5));
        assert_eq!(ok.spo2, Some(97));
        assert!(!ok.is_urgent(&rules));

        let bad = raw(Some(60.0), Some(101.0), &["sneezing"])
            .parse(&rules)
            .unwrap_err();
        let fields: Vec<&str> = bad.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["temperature_c", "spo2", "symptoms[0]"]);
        assert!(
            raw(None, Some(93.5), &[]).parse(&rules).is_err(),
            "a whole percent"
        );

        let low = raw(None, Some(f64::from(rules.spo2_urgent_below) - 1.0), &[])
            .parse(&rules)
            .unwrap();
        assert!(low.is_urgent(&rules));
        let at = raw(None, Some(f64::from(rules.spo2_urgent_below)), &[])
            .parse(&rules)
            .unwrap();
        assert!(
            !at.is_urgent(&rules),
            "the threshold itself is not below it"
        );
        for s in ["shortness_of_breath", "chest_pain", "confusion"] {
            assert!(
                raw(None, None, &[s])
                    .parse(&rules)
                    .unwrap()
                    .is_urgent(&rules),
                "{s}"
            );
        }
    }
}
