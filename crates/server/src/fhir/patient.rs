//! Patient: a person of the registry as the facade shows them (never created or changed through it), and the
//! identifier tokens (`SYSTEM|CITIZEN_ID`) that name one in searches and references.

use super::datatypes::Identifier;
use kiemdich_domain::{CitizenId, RegistryRecord, Sex};
use serde::Serialize;

/// An R4 Patient.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient {
    pub resource_type: &'static str,
    pub id: String,
    pub identifier: Vec<Identifier>,
    pub active: bool,
    pub name: Vec<HumanName>,
    pub gender: &'static str,
    pub birth_date: String,
    pub address: Vec<Address>,
}

/// An R4 HumanName: Vietnamese names are written family name first.
#[derive(Debug, Clone, Serialize)]
pub struct HumanName {
    pub r#use: &'static str,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<String>,
}

/// An R4 Address: the street, the commune (`city`), its district and the province (`state`).
#[derive(Debug, Clone, Serialize)]
pub struct Address {
    pub r#use: &'static str,
    pub text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub line: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    pub country: &'static str,
}

/// The names of the units a person lives in, from the commune up.
#[derive(Debug, Clone, Default)]
pub struct Place {
    pub commune: Option<String>,
    pub district: Option<String>,
    pub province: Option<String>,
}

impl Patient {
    /// The registry record as a Patient whose id is the citizen id, identified under `system`.
    pub fn from_record(r: &RegistryRecord, system: &str, place: &Place) -> Patient {
        let full = r.full_name.as_str().trim().to_owned();
        let mut words = full.split_whitespace();
        let family = words.next().map(str::to_owned);
        let given: Vec<String> = words.map(str::to_owned).collect();
        let street = Some(r.address.trim()).filter(|a| !a.is_empty());
        let text = street
            .into_iter()
            .chain(place.commune.as_deref())
            .chain(place.district.as_deref())
            .chain(place.province.as_deref())
            .collect::<Vec<_>>()
            .join(", ");
        Patient {
            resource_type: "Patient",
            id: r.citizen_id.as_str().to_owned(),
            identifier: vec![citizen_identifier(&r.citizen_id, system)],
            active: true,
            name: vec![HumanName {
                r#use: "official",
                text: full,
                family: family.filter(|_| !given.is_empty()),
                given,
            }],
            gender: match r.sex {
                Sex::Male => "male",
                Sex::Female => "female",
            },
            birth_date: r.date_of_birth.format("%Y-%m-%d").to_string(),
            address: vec![Address {
                r#use: "home",
                text: if text.is_empty() { "VN".into() } else { text },
                line: street.map(str::to_owned).into_iter().collect(),
                city: place.commune.clone(),
                district: place.district.clone(),
                state: place.province.clone(),
                country: "VN",
            }],
        }
    }
}

/// The citizen id as an official identifier under `system`.
pub fn citizen_identifier(id: &CitizenId, system: &str) -> Identifier {
    Identifier {
        r#use: Some("official"),
        system: system.to_owned(),
        value: id.as_str().to_owned(),
    }
}

/// The system part of a token search (`identifier=SYSTEM|VALUE`, `|VALUE`, or `VALUE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSystem {
    /// `VALUE`: any system.
    Any,
    /// `|VALUE`: an identifier without a system.
    NoSystem,
    /// `SYSTEM|VALUE`.
    Is(String),
}

/// A token as a search parameter or a conditional reference writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub system: TokenSystem,
    pub value: String,
}

impl Token {
    /// Splits at the first `|` not escaped as `\|`.
    pub fn parse(s: &str) -> Token {
        let bytes = s.as_bytes();
        let split =
            (0..bytes.len()).find(|&i| bytes[i] == b'|' && (i == 0 || bytes[i - 1] != b'\\'));
        match split {
            None => Token {
                system: TokenSystem::Any,
                value: unescape(s),
            },
            Some(0) => Token {
                system: TokenSystem::NoSystem,
                value: unescape(&s[1..]),
            },
            Some(i) => Token {
                system: TokenSystem::Is(unescape(&s[..i])),
                value: unescape(&s[i + 1..]),
            },
        }
    }

    /// The citizen id this token names under `citizen_system`: `None` when it names another system or a value
    /// that is no citizen id (then no Patient of this server matches).
    pub fn citizen(&self, citizen_system: &str) -> Option<CitizenId> {
        let ours = match &self.system {
            TokenSystem::Any => true,
            TokenSystem::NoSystem => false,
            TokenSystem::Is(s) => s == citizen_system,
        };
        if ours {
            CitizenId::parse(self.value.trim()).ok()
        } else {
            None
        }
    }
}

fn unescape(s: &str) -> String {
    s.replace("\\|", "|")
        .replace("\\,", ",")
        .replace("\\$", "$")
        .replace("\\\\", "\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYS: &str = "http://fhir.hl7.org.vn/core/sid/cccd";

    #[test]
    fn tokens_name_citizens_of_our_system_only() {
        let id = "094090123456";
        assert_eq!(
            Token::parse(&format!("{SYS}|{id}"))
                .citizen(SYS)
                .unwrap()
                .as_str(),
            id
        );
        assert_eq!(Token::parse(id).citizen(SYS).unwrap().as_str(), id);
        assert!(Token::parse(&format!("|{id}")).citizen(SYS).is_none());
        assert!(
            Token::parse(&format!("urn:other|{id}"))
                .citizen(SYS)
                .is_none()
        );
        assert!(Token::parse(&format!("{SYS}|12345")).citizen(SYS).is_none());
        assert_eq!(
            Token::parse("a\\|b|c"),
            Token {
                system: TokenSystem::Is("a|b".into()),
                value: "c".into()
            }
        );
    }
}
