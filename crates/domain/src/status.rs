//! The health status colour shown at checkpoints. Vaccination is shown beside it, never folded into it.

use crate::DeclaredPerson;
use serde::{Deserialize, Serialize};

/// Ordered from least to most restrictive so that combining assessments is `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// None of the below.
    Green,
    /// F2, or symptoms/exposure declared, or awaiting a test result.
    Yellow,
    /// F1 in quarantine, or a positive rapid test awaiting confirmation.
    Orange,
    /// Active F0: confirmed and not yet released.
    Red,
}

impl HealthStatus {
    pub const ALL: &'static [HealthStatus] = &[
        HealthStatus::Green,
        HealthStatus::Yellow,
        HealthStatus::Orange,
        HealthStatus::Red,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Green => "green",
            HealthStatus::Yellow => "yellow",
            HealthStatus::Orange => "orange",
            HealthStatus::Red => "red",
        }
    }

    pub fn parse(s: &str) -> Result<HealthStatus, String> {
        match s {
            "green" => Ok(HealthStatus::Green),
            "yellow" => Ok(HealthStatus::Yellow),
            "orange" => Ok(HealthStatus::Orange),
            "red" => Ok(HealthStatus::Red),
            other => Err(format!("unknown status {other:?}")),
        }
    }

    /// Compact code carried inside a pass.
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(c: u8) -> Option<HealthStatus> {
        [
            HealthStatus::Green,
            HealthStatus::Yellow,
            HealthStatus::Orange,
            HealthStatus::Red,
        ]
        .get(usize::from(c))
        .copied()
    }

    /// What a declaration alone says: any symptom or exposure in the last 14 days makes a person yellow.
    pub fn from_declaration(person: &DeclaredPerson) -> HealthStatus {
        HealthStatus::from_reported(&person.symptoms, &person.exposures)
    }

    /// What reported symptoms and exposures alone say (a declaration, a daily health update): any makes a
    /// person yellow.
    pub fn from_reported(
        symptoms: &[crate::Symptom],
        exposures: &[crate::Exposure],
    ) -> HealthStatus {
        if symptoms.is_empty() && exposures.is_empty() {
            HealthStatus::Green
        } else {
            HealthStatus::Yellow
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_order_by_severity() {
        for s in [
            HealthStatus::Green,
            HealthStatus::Yellow,
            HealthStatus::Orange,
            HealthStatus::Red,
        ] {
            assert_eq!(HealthStatus::from_code(s.code()), Some(s));
            assert_eq!(HealthStatus::parse(s.as_str()), Ok(s));
        }
        assert_eq!(HealthStatus::from_code(4), None);
        assert!(
            HealthStatus::Red > HealthStatus::Orange && HealthStatus::Yellow > HealthStatus::Green
        );
    }
}
