//! Places whose entries are controlled: epidemic checkpoints on roads, and venues (hospitals, agencies,
//! public service points, markets…) where people check in by QR.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    /// An epidemic checkpoint (*chốt kiểm dịch*) on a road or at a province border.
    Checkpoint,
    Hospital,
    HealthFacility,
    /// A state agency.
    Agency,
    /// A public service point (*điểm giao dịch công*).
    PublicService,
    Market,
    Business,
    School,
    Other,
}

impl LocationKind {
    pub const ALL: &'static [LocationKind] = &[
        LocationKind::Checkpoint,
        LocationKind::Hospital,
        LocationKind::HealthFacility,
        LocationKind::Agency,
        LocationKind::PublicService,
        LocationKind::Market,
        LocationKind::Business,
        LocationKind::School,
        LocationKind::Other,
    ];

    /// What a venue owner may register; checkpoints and public institutions are registered by officials.
    pub const OWNER_REGISTERED: &'static [LocationKind] = &[
        LocationKind::Market,
        LocationKind::Business,
        LocationKind::School,
        LocationKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LocationKind::Checkpoint => "checkpoint",
            LocationKind::Hospital => "hospital",
            LocationKind::HealthFacility => "health_facility",
            LocationKind::Agency => "agency",
            LocationKind::PublicService => "public_service",
            LocationKind::Market => "market",
            LocationKind::Business => "business",
            LocationKind::School => "school",
            LocationKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Result<LocationKind, String> {
        LocationKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = LocationKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("kind must be one of {}, got {s:?}", all.join(", "))
            })
    }
}

/// Which way a person passes a control point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub fn parse(s: &str) -> Result<Direction, String> {
        match s {
            "in" => Ok(Direction::In),
            "out" => Ok(Direction::Out),
            other => Err(format!("direction must be in or out, got {other:?}")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

string_enum!(
    /// What a control point decided for a person.
    Decision { Admit = "admit", Refuse = "refuse" }
);

string_enum!(
    /// How a person was recorded at a place: a scanned pass, a resident scanning the venue's poster, an
    /// officer checking the identity of someone with nothing to scan, or an EU Digital COVID Certificate (HC1)
    /// shown by a visitor with no registry record.
    ScanMethod { Pass = "pass", SelfCheckin = "self_checkin", IdLookup = "id_lookup", Dcc = "dcc" }
);

/// Coordinates in WGS84 degrees, checked to be on Earth.
pub fn check_coordinates(lat: f64, lon: f64) -> Result<(), String> {
    if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) {
        Ok(())
    } else {
        Err(format!(
            "coordinates ({lat}, {lon}) are not latitude/longitude in degrees"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_directions_round_trip() {
        for k in LocationKind::ALL {
            assert_eq!(LocationKind::parse(k.as_str()), Ok(*k));
        }
        assert!(
            LocationKind::parse("bar")
                .unwrap_err()
                .contains("health_facility")
        );
        assert_eq!(Direction::parse("out"), Ok(Direction::Out));
        assert!(Direction::parse("OUT").is_err());
        assert!(check_coordinates(9.6, 105.97).is_ok());
        assert!(check_coordinates(105.97, 9.6).is_err());
    }
}
