//! Rules that officials may change: each set has a version and an effective date, and is data (a JSON file),
//! never literals scattered through code. The defaults ship in `rules/default.json`.

use crate::{HealthStatus, LocationKind, TracingRules, VaccinationRequirement};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub version: String,
    pub effective_from: NaiveDate,
    pub source: String,
    /// How long a pass stays valid after issue.
    pub pass_validity_hours: u32,
    /// How long a one-time code may be used.
    pub otp_ttl_seconds: u32,
    /// Wrong codes allowed before the challenge locks.
    pub otp_max_attempts: u32,
    /// Codes that may be sent to one citizen in an hour.
    pub otp_max_sends_per_hour: u32,
    /// Presence events older than this are deleted by the system.
    pub presence_retention_days: u32,
    /// On PostgreSQL, how many days ahead the server keeps the presence log's and visits' day partitions made
    /// (a write to a day with none lands in the DEFAULT partition and is moved out when its day is made).
    pub presence_partitions_ahead_days: u32,
    /// How long a case's published exposure places stay on the public page unless the officer says otherwise.
    pub exposure_publication_days: u32,
    /// The oldest offline scan a device may still upload.
    pub offline_scan_max_age_hours: u32,
    /// How far in the future a device's clock may put a scan.
    pub scan_clock_skew_seconds: u32,
    /// How each server's in-memory book of live passes follows the database.
    #[serde(default)]
    pub pass_book: PassBookRules,
    /// Defaults for each kind of location; each location may override its admission policy.
    pub location_kinds: BTreeMap<LocationKind, KindRule>,
    /// Contact tracing parameters.
    pub tracing: TracingRules,
    /// No date in any request may lie before this (the start of the epidemic).
    pub earliest_date: NaiveDate,
    /// How far ahead a planned date (a journey declared before leaving) may lie.
    pub days_ahead: u32,
    /// Limits against guessing and flooding.
    pub security: SecurityRules,
    /// When a person counts as fully vaccinated, who counts as an adult, the earliest dose date.
    pub vaccination: crate::vaccination::VaccinationRules,
    /// The vaccination requirements staff pick from for a place (a kind's default may name any other); the
    /// `source` says where the numbers come from.
    #[serde(default)]
    pub vaccination_presets: Vec<VaccinationRequirement>,
    /// Pools, what a rapid antigen positive means, the F1 test days, the Ct range.
    pub testing: crate::testing::TestingRules,
    /// Daily health updates: the plausible readings and the warning signs that make an update urgent.
    pub health_updates: crate::health_update::HealthUpdateRules,
}

/// How the book of live passes that scans are decided on follows changes made by any server: another server's
/// revocation or status change must be seen within a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassBookRules {
    /// The change log is polled this often.
    pub poll_ms: u32,
    /// A change number skipped by the log (taken by a transaction not yet committed) is looked for again for
    /// this long before it is taken for a rollback.
    pub gap_wait_seconds: u32,
}

impl Default for PassBookRules {
    fn default() -> PassBookRules {
        PassBookRules {
            poll_ms: 250,
            gap_wait_seconds: 60,
        }
    }
}

/// Limits against guessing passwords and codes and against flooding phones with codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityRules {
    /// Wrong passwords or codes for one account (or one citizen's codes) before each further try must wait.
    pub free_failures: u32,
    /// The wait after the first failure beyond the free ones; each further failure doubles it.
    pub first_delay_seconds: u32,
    pub max_delay_seconds: u32,
    /// A second, high line per network address: a commune hall, or a whole town behind a carrier's NAT,
    /// shares one address.
    pub address_failures_per_hour: u32,
    /// One-time codes requested from one address in an hour, and through the whole server in a minute.
    pub otp_sends_per_address_per_hour: u32,
    pub otp_sends_per_minute: u32,
}

/// Defaults for one kind of location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindRule {
    /// How long a visit with no exit scan is taken to last.
    pub dwell_minutes: u32,
    /// Which health statuses are admitted.
    pub admits: Vec<HealthStatus>,
    /// Tracing extends a case's stay by this much after they leave (air in enclosed places); 0 by default.
    #[serde(default)]
    pub extension_minutes: u32,
    /// The vaccination a person must have to be admitted, beside the colour; none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vaccination: Option<VaccinationRequirement>,
    /// Whether a visitor with no registry record (a foreign traveller) may be admitted on an EU Digital COVID
    /// Certificate (HC1) instead of a pass; places of this kind take it when registered.
    #[serde(default)]
    pub accepts_dcc: bool,
}

const DEFAULT_RULES: &str = include_str!("../rules/default.json");

impl Rules {
    /// The clock people read times on (the tracing rules' offset from UTC).
    pub fn clock(&self) -> crate::LocalClock {
        crate::LocalClock::new(self.tracing.utc_offset_hours)
    }

    /// The dates a request may name at Unix time `t` (today in the rules' time zone).
    pub fn dates_at(&self, t: i64) -> crate::input::DateBounds {
        crate::input::DateBounds {
            earliest: self.earliest_date,
            today: self.tracing.local_date(t),
            days_ahead: self.days_ahead,
        }
    }

    pub fn from_json(text: &str) -> Result<Rules, String> {
        let rules: Rules = serde_json::from_str(text).map_err(|e| format!("rules: {e}"))?;
        if rules.pass_validity_hours == 0
            || rules.otp_ttl_seconds == 0
            || rules.otp_max_attempts == 0
        {
            return Err("rules: validity, code lifetime and attempts must be positive".into());
        }
        if rules.testing.pool_max_size < 2 || rules.testing.ct_min > rules.testing.ct_max {
            return Err(
                "rules: a pool holds at least two samples and the Ct range runs upwards".into(),
            );
        }
        Ok(rules)
    }
}

impl Default for Rules {
    fn default() -> Rules {
        Rules::from_json(DEFAULT_RULES).expect("shipped rules are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_rules_load_and_bad_rules_are_refused() {
        let r = Rules::default();
        assert_eq!(r.pass_validity_hours, 72);
        assert!(Rules::from_json(&DEFAULT_RULES.replace("72", "0")).is_err());
        assert!(Rules::from_json("{}").is_err());
        assert!(
            Rules::from_json(&DEFAULT_RULES.replace("\"school\"", "\"schol\"")).is_err(),
            "an unknown kind is refused"
        );
        assert_eq!(
            r.location_kinds[&LocationKind::Checkpoint].admits,
            [HealthStatus::Green]
        );
        assert!(
            r.location_kinds.values().all(|k| k.vaccination.is_none()),
            "no kind requires vaccination by default"
        );
        assert!(r.vaccination_presets.contains(&VaccinationRequirement {
            min_doses: 2,
            min_days_since_last: 14
        }));
        assert!(
            Rules::from_json(&DEFAULT_RULES.replace(
                "\"school\": {\"dwell_minutes\": 60, \"admits\": [\"green\"]}",
                "\"school\": {\"dwell_minutes\": 60, \"admits\": [\"green\"], \"vaccination\": {\"min_doses\": 2}}"
            ))
            .is_ok_and(|r| r.location_kinds[&LocationKind::School].vaccination
                == Some(VaccinationRequirement { min_doses: 2, min_days_since_last: 0 })),
            "a kind may require vaccination"
        );
    }
}
