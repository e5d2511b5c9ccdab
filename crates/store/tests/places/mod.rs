//! A place for the store's integration tests to scan people at, and their admitted scans there.

use kiemdich_domain::{Decision, Direction, HealthStatus, LocationKind, ScanMethod};
use kiemdich_store::{NewPlace, NewScan, Store};

/// An admitted scan of `citizen`'s pass at `place`, keyed (and hashed) `key`, from one device.
pub fn scan(place: i64, citizen: &str, direction: Direction, at: i64, key: &str) -> NewScan {
    NewScan {
        location_id: place,
        citizen_id: Some(citizen.to_owned()),
        pass_id: None,
        direction,
        at,
        device: "device".into(),
        method: ScanMethod::Pass,
        decision: Decision::Admit,
        reason: "valid".into(),
        status: Some(HealthStatus::Green),
        travel_from: None,
        travel_to: None,
        idempotency_key: key.into(),
        request_hash: key.into(),
    }
}

/// A market in Sóc Trăng that admits everyone; returns its id.
#[expect(clippy::unwrap_used, reason = "a test set-up stops loudly")]
pub async fn market(store: &Store) -> i64 {
    store
        .create_location(
            "test",
            &NewPlace {
                name: "Chợ",
                kind: LocationKind::Market,
                commune_code: "31498",
                address: "",
                coords: (9.6, 105.97),
                operator_org: "",
                dwell_minutes: 60,
                admits: HealthStatus::ALL,
                vaccination: None,
                accepts_dcc: false,
            },
        )
        .await
        .unwrap()
}
