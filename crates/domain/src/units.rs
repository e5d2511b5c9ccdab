//! Administrative units by their GSO codes: province (2 digits) → district (3) → commune (5). Units merge and
//! split over time, so the hierarchy is data with validity dates, never constants in code.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitCode(String);

impl UnitCode {
    pub fn parse(s: &str) -> Result<UnitCode, String> {
        let s = s.trim();
        if matches!(s.len(), 2 | 3 | 5) && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(UnitCode(s.to_owned()))
        } else {
            Err(format!(
                "unit code must be 2 (province), 3 (district) or 5 (commune) digits, got {s:?}"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The level the code's length denotes.
    pub fn level(&self) -> UnitLevel {
        match self.0.len() {
            2 => UnitLevel::Province,
            3 => UnitLevel::District,
            _ => UnitLevel::Commune,
        }
    }
}

impl TryFrom<String> for UnitCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        UnitCode::parse(&s)
    }
}

impl From<UnitCode> for String {
    fn from(c: UnitCode) -> String {
        c.0
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitLevel {
    Province,
    District,
    Commune,
}

impl UnitLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitLevel::Province => "province",
            UnitLevel::District => "district",
            UnitLevel::Commune => "commune",
        }
    }

    pub fn parse(s: &str) -> Result<UnitLevel, String> {
        match s.trim() {
            "province" => Ok(UnitLevel::Province),
            "district" => Ok(UnitLevel::District),
            "commune" => Ok(UnitLevel::Commune),
            other => Err(format!(
                "level must be province, district or commune, got {other:?}"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUnit {
    pub code: UnitCode,
    pub name: String,
    pub level: UnitLevel,
    pub parent_code: Option<UnitCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<NaiveDate>,
}

impl AdminUnit {
    /// Builds a unit from raw fields, checking that the code's shape fits the level and the parent sits one
    /// level above.
    pub fn new(
        code: &str,
        name: &str,
        level: &str,
        parent_code: Option<&str>,
    ) -> Result<AdminUnit, String> {
        let code = UnitCode::parse(code)?;
        let level = UnitLevel::parse(level)?;
        if code.level() != level {
            return Err(format!(
                "code {code} has the shape of a {}, not a {}",
                code.level().as_str(),
                level.as_str()
            ));
        }
        let parent_code = parent_code
            .filter(|p| !p.trim().is_empty())
            .map(UnitCode::parse)
            .transpose()?;
        match (level, &parent_code) {
            (UnitLevel::Province, None) => {}
            (UnitLevel::Province, Some(_)) => return Err("a province has no parent".into()),
            (_, None) => return Err(format!("a {} needs a parent code", level.as_str())),
            (UnitLevel::District, Some(p)) if p.level() != UnitLevel::Province => {
                return Err(format!("a district's parent must be a province, got {p}"));
            }
            (UnitLevel::Commune, Some(p)) if p.level() == UnitLevel::Commune => {
                return Err(format!(
                    "a commune's parent must be a district or province, got {p}"
                ));
            }
            _ => {}
        }
        let name = name.trim();
        if name.is_empty() {
            return Err("unit name is empty".into());
        }
        Ok(AdminUnit {
            code,
            name: name.to_owned(),
            level,
            parent_code,
            valid_from: None,
            valid_to: None,
        })
    }

    pub fn is_valid_on(&self, day: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= day) && self.valid_to.is_none_or(|t| day < t)
    }
}

/// Parses a JSON array of units `{code, name, level, parent_code}` (the format of the shipped lists).
pub fn parse_units_json(text: &str) -> Result<Vec<AdminUnit>, String> {
    #[derive(Deserialize)]
    struct Raw {
        code: String,
        name: String,
        level: String,
        parent_code: Option<String>,
    }
    let raw: Vec<Raw> = serde_json::from_str(text).map_err(|e| format!("units JSON: {e}"))?;
    raw.iter()
        .enumerate()
        .map(|(i, r)| {
            AdminUnit::new(&r.code, &r.name, &r.level, r.parent_code.as_deref())
                .map_err(|e| format!("unit #{}: {e}", i + 1))
        })
        .collect()
}

/// The unit hierarchy in memory: lookups up (ancestors) and down (children) and the containment test that
/// every jurisdiction check uses.
#[derive(Debug, Clone, Default)]
pub struct UnitTree {
    units: HashMap<UnitCode, AdminUnit>,
    children: HashMap<UnitCode, Vec<UnitCode>>,
}

impl UnitTree {
    pub fn new(units: impl IntoIterator<Item = AdminUnit>) -> UnitTree {
        let mut tree = UnitTree::default();
        for unit in units {
            if let Some(parent) = &unit.parent_code {
                tree.children
                    .entry(parent.clone())
                    .or_default()
                    .push(unit.code.clone());
            }
            tree.units.insert(unit.code.clone(), unit);
        }
        tree.children.values_mut().for_each(|c| c.sort());
        tree
    }

    pub fn get(&self, code: &UnitCode) -> Option<&AdminUnit> {
        self.units.get(code)
    }

    pub fn len(&self) -> usize {
        self.units.len()
    }

    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    pub fn children(&self, code: &UnitCode) -> impl Iterator<Item = &AdminUnit> {
        self.children
            .get(code)
            .into_iter()
            .flatten()
            .filter_map(|c| self.units.get(c))
    }

    /// The unit's parents from the nearest up to the province. Stops at a missing parent or a cycle.
    pub fn ancestors(&self, code: &UnitCode) -> Vec<&AdminUnit> {
        let mut out: Vec<&AdminUnit> = Vec::new();
        let mut next = self.units.get(code).and_then(|u| u.parent_code.as_ref());
        while let Some(parent) = next.and_then(|p| self.units.get(p)) {
            if out.iter().any(|u| u.code == parent.code) {
                break;
            }
            out.push(parent);
            next = parent.parent_code.as_ref();
        }
        out
    }

    /// True when `inner` is `outer` or lies below it.
    pub fn contains(&self, outer: &UnitCode, inner: &UnitCode) -> bool {
        outer == inner || self.ancestors(inner).iter().any(|u| &u.code == outer)
    }

    pub fn communes(&self) -> impl Iterator<Item = &AdminUnit> {
        self.units
            .values()
            .filter(|u| u.level == UnitLevel::Commune)
    }

    pub fn all(&self) -> impl Iterator<Item = &AdminUnit> {
        self.units.values()
    }

    /// The deployment's province: the one the units describe (the lowest code when they hold several, as the
    /// national bench's do, so that the answer never depends on hashing order).
    pub fn province(&self) -> Option<&AdminUnit> {
        self.units
            .values()
            .filter(|u| u.level == UnitLevel::Province)
            .min_by(|a, b| a.code.cmp(&b.code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> UnitTree {
        UnitTree::new([
            AdminUnit::new("94", "Tỉnh Sóc Trăng", "province", None).unwrap(),
            AdminUnit::new("941", "Thành phố Sóc Trăng", "district", Some("94")).unwrap(),
            AdminUnit::new("31498", "Phường 5", "commune", Some("941")).unwrap(),
            AdminUnit::new("942", "Huyện Châu Thành", "district", Some("94")).unwrap(),
            AdminUnit::new("31569", "Thị trấn Châu Thành", "commune", Some("942")).unwrap(),
        ])
    }

    fn code(s: &str) -> UnitCode {
        UnitCode::parse(s).unwrap()
    }

    #[test]
    fn the_province_is_the_lowest_code_whatever_the_order() {
        assert_eq!(
            tree().province().map(|u| u.name.as_str()),
            Some("Tỉnh Sóc Trăng")
        );
        let two = UnitTree::new([
            AdminUnit::new("95", "Tỉnh Bạc Liêu", "province", None).unwrap(),
            AdminUnit::new("94", "Tỉnh Sóc Trăng", "province", None).unwrap(),
        ]);
        assert_eq!(two.province().map(|u| u.code.clone()), Some(code("94")));
        assert!(UnitTree::new([]).province().is_none());
    }

    #[test]
    fn walks_up_and_down() {
        let t = tree();
        let up: Vec<&str> = t
            .ancestors(&code("31498"))
            .iter()
            .map(|u| u.code.as_str())
            .collect();
        assert_eq!(up, ["941", "94"]);
        let down: Vec<&str> = t.children(&code("94")).map(|u| u.code.as_str()).collect();
        assert_eq!(down, ["941", "942"]);
        assert!(t.contains(&code("94"), &code("31498")));
        assert!(t.contains(&code("941"), &code("31498")));
        assert!(t.contains(&code("31498"), &code("31498")));
        assert!(!t.contains(&code("942"), &code("31498")));
        assert!(!t.contains(&code("31498"), &code("941")));
    }

    #[test]
    fn rejects_inconsistent_units() {
        assert!(AdminUnit::new("941", "x", "commune", Some("94")).is_err());
        assert!(AdminUnit::new("31498", "x", "commune", None).is_err());
        assert!(AdminUnit::new("94", "x", "province", Some("94")).is_err());
        assert!(AdminUnit::new("941", "x", "district", Some("942")).is_err());
        assert!(AdminUnit::new("9a", "x", "province", None).is_err());
        assert!(AdminUnit::new("94", " ", "province", None).is_err());
    }

    #[test]
    fn validity_dates_bound_a_unit() {
        let mut u = AdminUnit::new("31513", "Phường 1", "commune", Some("941")).unwrap();
        u.valid_to = Some("2025-01-01".parse().unwrap());
        assert!(u.is_valid_on("2021-11-01".parse().unwrap()));
        assert!(!u.is_valid_on("2025-01-01".parse().unwrap()));
    }
}

/// The 63 provinces and centrally run cities of Viet Nam as of 2021, by GSO code: where people travel from and
/// to. A deployment holds its own province's districts and communes; other provinces are known by name only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provinces(Vec<(UnitCode, String)>);

impl Provinces {
    /// The embedded 2021 list (`data/vn_provinces_2021.json`, with its source).
    pub fn vietnam_2021() -> Provinces {
        #[derive(Deserialize)]
        struct File {
            provinces: Vec<(String, String)>,
        }
        let file: File = serde_json::from_str(include_str!("../data/vn_provinces_2021.json"))
            .unwrap_or(File {
                provinces: Vec::new(),
            });
        Provinces(
            file.provinces
                .into_iter()
                .filter_map(|(code, name)| UnitCode::parse(&code).ok().map(|c| (c, name)))
                .collect(),
        )
    }

    pub fn all(&self) -> impl Iterator<Item = (&UnitCode, &str)> {
        self.0.iter().map(|(c, n)| (c, n.as_str()))
    }

    pub fn name(&self, code: &UnitCode) -> Option<&str> {
        self.0
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, n)| n.as_str())
    }
}

#[cfg(test)]
mod provinces_tests {
    use super::*;

    #[test]
    fn the_2021_list_holds_63_provinces_with_unique_codes() {
        let p = Provinces::vietnam_2021();
        assert_eq!(p.all().count(), 63);
        let codes: std::collections::HashSet<_> = p.all().map(|(c, _)| c.clone()).collect();
        assert_eq!(codes.len(), 63);
        let code = |s: &str| UnitCode::parse(s).unwrap();
        assert_eq!(p.name(&code("92")), Some("Thành phố Cần Thơ"));
        assert_eq!(p.name(&code("94")), Some("Tỉnh Sóc Trăng"));
        assert!(p.all().all(|(c, _)| c.level() == UnitLevel::Province));
    }
}
