//! People as staff see them: name, birth year and age, commune and phone, never more than their role needs.
//! Every such read is audited by the service that makes it.

use crate::AppState;
use chrono::{Datelike, NaiveDate};
use kiemdich_domain::CitizenId;
use kiemdich_store::PersonSummary;
use serde::Serialize;

/// A person as a health or commune officer sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonView {
    pub citizen_id: String,
    /// Absent when the registry no longer holds the person.
    pub full_name: Option<String>,
    pub birth_year: Option<i32>,
    pub age: Option<u32>,
    pub commune_code: String,
    pub commune_name: String,
    pub phone: Option<String>,
    pub address: Option<String>,
}

impl PersonView {
    pub fn new(
        st: &AppState,
        citizen: &str,
        commune: &str,
        person: Option<&PersonSummary>,
        today: NaiveDate,
    ) -> PersonView {
        let born = person.map(|p| p.date_of_birth);
        PersonView {
            citizen_id: citizen.to_owned(),
            full_name: person.map(|p| p.full_name.as_str().to_owned()),
            birth_year: born.map(|d| d.year()),
            age: born.and_then(|d| today.years_since(d)),
            commune_code: commune.to_owned(),
            commune_name: unit_name(st, commune),
            phone: person.and_then(|p| p.phone.as_ref().map(|ph| ph.as_str().to_owned())),
            address: person.map(|p| p.address.clone()).filter(|a| !a.is_empty()),
        }
    }

    /// The name to show: the person's, else their masked id.
    pub fn display_name(&self) -> String {
        self.full_name.clone().unwrap_or_else(|| {
            CitizenId::parse(&self.citizen_id)
                .map_or_else(|_| self.citizen_id.clone(), |id| id.masked())
        })
    }
}

/// Every province of the country, for places outside this deployment's own.
pub static PROVINCES: std::sync::LazyLock<kiemdich_domain::Provinces> =
    std::sync::LazyLock::new(kiemdich_domain::Provinces::vietnam_2021);

/// A unit's name with its district (`Phường 2, Thành phố Sóc Trăng`), another province's name, else its code.
pub fn unit_name(st: &AppState, code: &str) -> String {
    let tree = st.units();
    let Ok(code) = kiemdich_domain::UnitCode::parse(code) else {
        return code.to_owned();
    };
    match tree.get(&code) {
        Some(u) => match u.parent_code.as_ref().and_then(|p| tree.get(p)) {
            Some(parent) if u.level == kiemdich_domain::UnitLevel::Commune => {
                format!("{}, {}", u.name, parent.name)
            }
            _ => u.name.clone(),
        },
        None => PROVINCES
            .name(&code)
            .map_or_else(|| code.to_string(), str::to_owned),
    }
}
