//! What the epidemiological map counts and draws. Cases have no coordinates of their own: they count at their
//! home commune, by the day they count for (`counted_on`); what is drawn as points are the places linked to
//! cases — where tracing found a transmission, and what was published as an exposure place.

use crate::db::{Result, Store};
use chrono::NaiveDate;
use kiemdich_domain::{CaseClass, LocationKind};
use sqlx::Row;
use std::collections::HashMap;

/// Which cases the map counts: the days they count for (inclusive) and, optionally, one class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseWindow {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub class: Option<CaseClass>,
}

impl CaseWindow {
    /// The SQL condition on a `cases` alias `c`, with the dates and class inlined: they are typed values
    /// (dates print as `YYYY-MM-DD`, classes as their fixed codes), never text from a request.
    fn condition(&self) -> String {
        let class = self
            .class
            .map(|c| format!(" AND c.classification = '{}'", c.as_str()))
            .unwrap_or_default();
        format!(
            "c.counted_on >= '{}' AND c.counted_on <= '{}'{class}",
            self.from, self.to
        )
    }
}

/// A place linked to cases, with how many distinct cases it is linked to.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedPlace {
    pub location_id: i64,
    pub name: String,
    pub kind: LocationKind,
    pub commune_code: String,
    pub lat: f64,
    pub lon: f64,
    pub cases: i64,
}

impl Store {
    /// Cases per home commune among `communes`, counted in the window.
    pub async fn cases_by_commune(
        &self,
        communes: &[String],
        window: &CaseWindow,
    ) -> Result<HashMap<String, i64>> {
        let sql = format!(
            "SELECT c.commune_code, COUNT(*) AS n FROM cases c WHERE {} AND c.commune_code IN ({{in}}) GROUP BY c.commune_code",
            window.condition()
        );
        let rows = self.fetch_in(&sql, communes).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("commune_code")?, r.try_get("n")?)))
            .collect()
    }

    /// Places linked to cases of `communes` counted in the window: where tracing found an exposure to one of
    /// them, and what was published for one of them.
    pub async fn linked_places(
        &self,
        communes: &[String],
        window: &CaseWindow,
    ) -> Result<Vec<LinkedPlace>> {
        // From the window's cases of the communes (a range per commune) to their links, not from every link; a
        // case linked both ways counts once (COUNT DISTINCT), so the two kinds of link need no de-duplication.
        let sql = format!(
            "WITH w AS (SELECT c.id FROM cases c WHERE {} AND c.commune_code IN ({{in}})) \
             SELECT l.id, l.name, l.kind, l.commune_code, l.lat, l.lon, COUNT(DISTINCT x.case_id) AS cases \
             FROM (SELECT e.location_id, w.id AS case_id FROM w JOIN case_exposures e ON e.source_case_id = w.id \
                   UNION ALL SELECT p.location_id, w.id FROM w JOIN exposure_places p ON p.case_id = w.id) x \
             JOIN locations l ON l.id = x.location_id \
             GROUP BY l.id, l.name, l.kind, l.commune_code, l.lat, l.lon",
            window.condition()
        );
        let rows = self.fetch_in(&sql, communes).await?;
        // A place linked to cases of two chunks of communes comes back twice: add them up.
        let mut by_id: HashMap<i64, LinkedPlace> = HashMap::new();
        for r in &rows {
            let kind: String = r.try_get("kind")?;
            let place = LinkedPlace {
                location_id: r.try_get("id")?,
                name: r.try_get("name")?,
                kind: LocationKind::parse(&kind)
                    .map_err(|e| crate::StoreError::Corrupt(format!("location kind: {e}")))?,
                commune_code: r.try_get("commune_code")?,
                lat: r.try_get("lat")?,
                lon: r.try_get("lon")?,
                cases: r.try_get("cases")?,
            };
            by_id
                .entry(place.location_id)
                .and_modify(|p| p.cases += place.cases)
                .or_insert(place);
        }
        let mut places: Vec<LinkedPlace> = by_id.into_values().collect();
        places.sort_by_key(|p| p.location_id);
        Ok(places)
    }
}
