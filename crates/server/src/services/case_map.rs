//! The staff map's data: cases counted per commune, and the places linked to cases clustered on the server so
//! that a map never receives more than a few hundred marks, whatever the number of cases (SORMAS drew every case
//! as a point and its national dashboard took minutes). Health, officer and admin roles, inside their
//! jurisdiction.

use crate::AppState;
use crate::auth::require_role;
use crate::error::{ApiError, ApiResult};
use kiemdich_domain::{CaseClass, DateBounds, FieldErrors, LocationKind};
use kiemdich_store::{CaseWindow, LinkedPlace, Principal, Role};
use serde::{Deserialize, Serialize};

pub const MAP_ROLES: &[Role] = &[Role::Health, Role::Officer, Role::Admin];

/// The most marks one answer carries; past it the clusters grow.
pub const MAX_MARKS: usize = 300;

/// Days the map counts when no range is asked for: the last week.
const DEFAULT_DAYS: i64 = 7;

/// The filter as a request sends it: dates `YYYY-MM-DD` (Vietnam time) and a class code.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WindowQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub class: Option<String>,
}

impl WindowQuery {
    /// The window, or every problem with its field. The range defaults to the last week up to today.
    pub fn parse(&self, dates: &DateBounds) -> Result<CaseWindow, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut date = |field: &str, text: &Option<String>| match text.as_deref() {
            None | Some("") => None,
            Some(d) => errors.check(field, dates.parse(d, DateBounds::past)),
        };
        let to = date("to", &self.to);
        let from = date("from", &self.from);
        let class = match self.class.as_deref() {
            None | Some("") => None,
            Some(c) => errors.check("class", CaseClass::parse(c)),
        };
        let to = to.unwrap_or(dates.today);
        let from = from.unwrap_or(to - chrono::Duration::days(DEFAULT_DAYS - 1));
        if from > to {
            errors.push_as(
                "from",
                kiemdich_domain::catalogue::Problem::DateOutOfRange,
                "from is after to",
            );
        }
        errors.into_result(|| CaseWindow { from, to, class })
    }
}

/// Cases counted at one commune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommuneCases {
    pub code: String,
    pub name: String,
    pub district_code: Option<String>,
    pub cases: i64,
}

/// Cases per commune of the caller's jurisdiction (communes with none included, at 0).
pub async fn commune_cases(
    st: &AppState,
    who: &Principal,
    window: &CaseWindow,
) -> ApiResult<Vec<CommuneCases>> {
    require_role(who, MAP_ROLES)?;
    let communes = st.units_within(&who.unit);
    let counts = st.store.cases_by_commune(&communes, window).await?;
    let tree = st.units();
    let mut communes = communes;
    communes.sort();
    Ok(communes
        .into_iter()
        .filter_map(|code| {
            let unit = tree.get(&kiemdich_domain::UnitCode::parse(&code).ok()?)?;
            (unit.level == kiemdich_domain::UnitLevel::Commune).then_some(())?;
            Some(CommuneCases {
                cases: counts.get(&code).copied().unwrap_or_default(),
                name: unit.name.clone(),
                district_code: unit.parent_code.as_ref().map(ToString::to_string),
                code,
            })
        })
        .collect())
}

/// The part of the map in view and its zoom (Web Mercator levels, as Leaflet counts them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    pub west: f64,
    pub south: f64,
    pub east: f64,
    pub north: f64,
    pub zoom: u8,
}

impl View {
    fn contains(&self, lat: f64, lon: f64) -> bool {
        (self.south..=self.north).contains(&lat) && (self.west..=self.east).contains(&lon)
    }
}

/// One mark on the map: a place, or a cluster of nearby places.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mark {
    pub lat: f64,
    pub lon: f64,
    pub places: usize,
    /// Cases linked to the places (a case linked to two places counts at each).
    pub cases: i64,
    /// The place, when the mark is one.
    pub place: Option<PlaceRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceRef {
    pub id: i64,
    pub name: String,
    pub kind: LocationKind,
}

/// Places linked to the jurisdiction's cases in the window, inside the view, clustered for its zoom.
pub async fn linked_places(
    st: &AppState,
    who: &Principal,
    window: &CaseWindow,
    view: &View,
) -> ApiResult<Vec<Mark>> {
    require_role(who, MAP_ROLES)?;
    if !(view.south <= view.north && view.west <= view.east) {
        return Err(ApiError::field_as(
            "south",
            kiemdich_domain::catalogue::Problem::Invalid,
            "the view's south must not lie north of its north, nor its west east of its east",
        ));
    }
    let communes = st.units_within(&who.unit);
    let places = st.store.linked_places(&communes, window).await?;
    let inside: Vec<LinkedPlace> = places
        .into_iter()
        .filter(|p| view.contains(p.lat, p.lon))
        .collect();
    Ok(cluster(&inside, view.zoom, MAX_MARKS))
}

/// Grid clustering: places in one cell of about 64 screen pixels at `zoom` become one mark at their mean
/// position; when that still gives more than `max` marks, the cells double until it does not.
pub fn cluster(places: &[LinkedPlace], zoom: u8, max: usize) -> Vec<Mark> {
    // A Web Mercator tile of 256 px spans 360 / 2^zoom degrees of longitude; a quarter of it is 64 px.
    let mut cell = 360.0 / f64::from(1u32 << zoom.min(24)) / 4.0;
    loop {
        let marks = cluster_in(places, cell);
        if marks.len() <= max.max(1) {
            return marks;
        }
        cell *= 2.0;
    }
}

fn cluster_in(places: &[LinkedPlace], cell: f64) -> Vec<Mark> {
    let mut cells: std::collections::BTreeMap<(i64, i64), Vec<&LinkedPlace>> = Default::default();
    for p in places {
        // Cell indices of degrees no larger than 360 / cell fit an i64 for any cell this computes.
        #[expect(clippy::cast_possible_truncation, reason = "bounded cell indices")]
        let key = ((p.lat / cell).floor() as i64, (p.lon / cell).floor() as i64);
        cells.entry(key).or_default().push(p);
    }
    cells
        .into_values()
        .map(|group| {
            let n = group.len() as f64;
            let place = match group.as_slice() {
                [one] => Some(PlaceRef {
                    id: one.location_id,
                    name: one.name.clone(),
                    kind: one.kind,
                }),
                _ => None,
            };
            Mark {
                lat: group.iter().map(|p| p.lat).sum::<f64>() / n,
                lon: group.iter().map(|p| p.lon).sum::<f64>() / n,
                places: group.len(),
                cases: group.iter().map(|p| p.cases).sum(),
                place,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(id: i64, lat: f64, lon: f64) -> LinkedPlace {
        LinkedPlace {
            location_id: id,
            name: format!("place {id}"),
            kind: LocationKind::Market,
            commune_code: "31498".into(),
            lat,
            lon,
            cases: 2,
        }
    }

    #[test]
    fn near_places_merge_at_low_zoom_and_part_at_high_zoom() {
        let places = [
            place(1, 9.600, 105.970),
            place(2, 9.601, 105.971),
            place(3, 9.9, 106.2),
        ];
        let far = cluster(&places, 8, 300);
        assert_eq!(far.len(), 2, "{far:?}");
        let both = far
            .iter()
            .find(|m| m.places == 2)
            .expect("the two near places merge");
        assert_eq!(both.cases, 4);
        assert!(both.place.is_none());
        assert!((both.lat - 9.6005).abs() < 1e-9, "at their mean");
        let near = cluster(&places, 18, 300);
        assert_eq!(near.len(), 3);
        assert!(near.iter().all(|m| m.place.is_some()));
    }

    #[test]
    fn never_more_marks_than_the_cap_and_no_place_lost() {
        let places: Vec<LinkedPlace> = (0..5_000)
            .map(|i| {
                place(
                    i,
                    9.2 + (i % 100) as f64 * 0.007,
                    105.5 + (i / 100) as f64 * 0.015,
                )
            })
            .collect();
        for zoom in [6, 10, 14, 18] {
            let marks = cluster(&places, zoom, 300);
            assert!(marks.len() <= 300, "zoom {zoom}: {} marks", marks.len());
            assert_eq!(marks.iter().map(|m| m.places).sum::<usize>(), places.len());
            assert_eq!(marks.iter().map(|m| m.cases).sum::<i64>(), 10_000);
        }
    }
}
