//! The thresholds of matching, scoring and uploads, as data: `data/proximity_rules.json` ships the defaults
//! with their source; a deployment may load its own with [`ProximityRules::from_json`].

use serde::{Deserialize, Serialize};

const DEFAULT_RULES: &str = include_str!("../data/proximity_rules.json");

/// Proximity-tracing rules. The code names these fields, never their numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProximityRules {
    pub version: String,
    pub source: String,
    /// Whether DESIGN.md or an authority confirms these numbers (false: a documented assumption).
    pub confirmed: bool,
    /// A scan matches an identifier seen up to this long before or after the identifier's interval.
    pub match_tolerance_minutes: u32,
    /// Attenuation (transmit power minus corrected RSSI) at or below which a contact counts as close: about 2 m.
    pub close_attenuation_db: i16,
    /// Close-contact minutes with one diagnosis key that make an exposure.
    pub min_close_minutes: u32,
    /// Days a key stays useful: older keys are refused on upload and dropped from exports.
    pub key_retention_days: u32,
    /// Keys one upload may carry.
    pub max_keys_per_upload: u32,
    /// Hours a health authority's verification code (for one upload of a confirmed case's keys) stays usable.
    pub verification_code_hours: u32,
    /// The highest transmission risk level a key may carry.
    pub max_transmission_risk_level: u8,
    /// RSSI correction for a scanning phone whose model has no calibration entry.
    pub default_rssi_correction_db: i16,
    /// Per-model RSSI corrections of the scanning phone. The advertising phone's half of the pair is its
    /// calibrated transmit power, carried in the encrypted metadata.
    pub calibration: Vec<Calibration>,
}

/// How much to add to the RSSI a given phone model measures (GAEN's `rssi_correction`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    pub scanner_model: String,
    pub rssi_correction_db: i16,
}

impl ProximityRules {
    /// Rules from JSON, refused when a field is missing or unknown, or a threshold is zero where zero would
    /// match nothing or everything.
    pub fn from_json(text: &str) -> Result<ProximityRules, String> {
        let rules: ProximityRules =
            serde_json::from_str(text).map_err(|e| format!("proximity rules: {e}"))?;
        if rules.match_tolerance_minutes == 0
            || rules.min_close_minutes == 0
            || rules.key_retention_days == 0
            || rules.max_keys_per_upload == 0
            || rules.verification_code_hours == 0
        {
            return Err(
                "proximity rules: a tolerance, duration, retention, key limit or code lifetime is zero".into(),
            );
        }
        Ok(rules)
    }

    /// The RSSI correction for a scanning phone model.
    pub fn rssi_correction_db(&self, scanner_model: Option<&str>) -> i16 {
        scanner_model
            .and_then(|m| self.calibration.iter().find(|c| c.scanner_model == m))
            .map_or(self.default_rssi_correction_db, |c| c.rssi_correction_db)
    }

    /// The match tolerance in ten-minute intervals (rounded up).
    pub fn tolerance_intervals(&self) -> i64 {
        i64::from(self.match_tolerance_minutes.div_ceil(10))
    }
}

impl Default for ProximityRules {
    fn default() -> ProximityRules {
        ProximityRules::from_json(DEFAULT_RULES).expect("shipped proximity rules are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_rules_load_and_say_they_are_unconfirmed() {
        let r = ProximityRules::default();
        assert_eq!(r.match_tolerance_minutes, 120);
        assert_eq!(r.tolerance_intervals(), 12);
        assert_eq!(r.min_close_minutes, 15);
        assert!(!r.confirmed);
        assert!(!r.source.is_empty());
    }

    #[test]
    fn bad_rules_are_refused() {
        assert!(ProximityRules::from_json("{}").is_err());
        assert!(
            ProximityRules::from_json(
                &DEFAULT_RULES.replace("\"min_close_minutes\": 15", "\"min_close_minutes\": 0")
            )
            .is_err()
        );
        assert!(
            ProximityRules::from_json(&DEFAULT_RULES.replace("\"confirmed\"", "\"confirmd\""))
                .is_err()
        );
    }

    #[test]
    fn calibration_by_scanner_model() {
        let r = ProximityRules {
            default_rssi_correction_db: 2,
            calibration: vec![Calibration {
                scanner_model: "Pixel 4".into(),
                rssi_correction_db: -3,
            }],
            ..ProximityRules::default()
        };
        assert_eq!(r.rssi_correction_db(Some("Pixel 4")), -3);
        assert_eq!(r.rssi_correction_db(Some("other")), 2);
        assert_eq!(r.rssi_correction_db(None), 2);
    }
}
