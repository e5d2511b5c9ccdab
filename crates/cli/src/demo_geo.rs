//! The demo's geometry: the 11 real district polygons of Sóc Trăng (government map portal, 2019, via
//! daohoangson/dvhcvn, GPL-3.0: see data/README.md) and **illustrative** commune polygons made by partitioning each
//! district among its communes (a clipped Voronoi diagram of seed points, the same every run). No redistributable
//! commune boundaries exist; a real deployment imports official ones with `kiemdich import boundaries`.

use crate::Result;
use chrono::NaiveDate;
use kiemdich_domain::{UnitCode, UnitLevel, UnitTree};
use kiemdich_geometry::{Position, parse_feature_collection, points_inside, voronoi_partition};
use kiemdich_store::{NewBoundary, Store};
use std::collections::BTreeMap;

const DISTRICTS: &str = include_str!("../data/soctrang_districts.geojson");
/// The source recorded with the district polygons.
pub const DISTRICT_SOURCE: &str =
    "Cổng thông tin bản đồ Chính phủ (gis.chinhphu.vn), 10/2019, qua daohoangson/dvhcvn (GPL-3.0)";
/// The source recorded with the demo's commune polygons: they are not real boundaries.
pub const COMMUNE_SOURCE: &str =
    "illustrative demo geometry (Voronoi partition of the district; not a real boundary)";
/// The portal's publication month, from when the district polygons hold.
const DISTRICTS_FROM: (i32, u32, u32) = (2019, 10, 1);
/// The unit list's date, from when the illustrative communes hold.
const COMMUNES_FROM: (i32, u32, u32) = (2021, 11, 1);

/// What the demo's other data needs of its geometry: a point inside each commune's polygon.
pub struct DemoGeometry {
    pub inside: BTreeMap<UnitCode, Position>,
}

impl DemoGeometry {
    /// A point inside `commune`'s polygon as (lat, lon), the order locations take.
    pub fn lat_lon(&self, commune: &UnitCode) -> Option<(f64, f64)> {
        self.inside.get(commune).map(|p| (p[1], p[0]))
    }
}

fn date((y, m, d): (i32, u32, u32)) -> Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| "invalid built-in date".to_string())
}

/// Builds the district and commune boundaries from the embedded districts and `units` (pure and deterministic).
pub fn build(units: &UnitTree) -> Result<(Vec<NewBoundary>, DemoGeometry)> {
    let features = parse_feature_collection(DISTRICTS).map_err(|e| e.to_string())?;
    let (districts_from, communes_from) = (date(DISTRICTS_FROM)?, date(COMMUNES_FROM)?);
    let mut rows = Vec::new();
    let mut inside = BTreeMap::new();
    for feature in features {
        let feature = feature.map_err(|e| format!("embedded district polygon: {e}"))?;
        let code = UnitCode::parse(&feature.code)?;
        if units
            .get(&code)
            .is_none_or(|u| u.level != UnitLevel::District)
        {
            // A deployment whose units are not Sóc Trăng's gets no demo geometry for them.
            continue;
        }
        let mut communes: Vec<UnitCode> = units
            .children(&code)
            .filter(|u| u.level == UnitLevel::Commune)
            .map(|u| u.code.clone())
            .collect();
        communes.sort();
        let seed = code.as_str().bytes().fold(2021u64, |h, b| {
            h.wrapping_mul(31).wrapping_add(u64::from(b))
        });
        let seeds = points_inside(&feature.geometry, communes.len(), seed);
        let cells = voronoi_partition(&feature.geometry, &seeds);
        for ((commune, cell), seed_point) in communes.into_iter().zip(cells).zip(seeds) {
            if cell.is_empty() {
                continue;
            }
            inside.insert(commune.clone(), seed_point);
            rows.push(NewBoundary {
                unit: commune,
                geometry: cell,
                valid_from: communes_from,
                source: COMMUNE_SOURCE.into(),
            });
        }
        rows.push(NewBoundary {
            unit: code,
            geometry: feature.geometry,
            valid_from: districts_from,
            source: DISTRICT_SOURCE.into(),
        });
    }
    Ok((rows, DemoGeometry { inside }))
}

/// Stores the demo's boundaries (unchanged on a re-run) and returns a point inside each commune.
pub async fn load(store: &Store) -> Result<DemoGeometry> {
    let units = UnitTree::new(store.units().await.map_err(|e| e.to_string())?);
    let (rows, geometry) = tokio::task::spawn_blocking(move || build(&units))
        .await
        .map_err(|e| e.to_string())??;
    store
        .upsert_boundaries(&rows)
        .await
        .map_err(|e| e.to_string())?;
    Ok(geometry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_commune_of_soc_trang_gets_a_cell_containing_its_point() {
        let units = UnitTree::new(
            kiemdich_domain::parse_units_json(include_str!("../data/soctrang_units.json"))
                .expect("embedded units"),
        );
        let (rows, geo) = build(&units).expect("builds");
        let communes: Vec<&NewBoundary> = rows
            .iter()
            .filter(|r| r.unit.level() == UnitLevel::Commune)
            .collect();
        assert_eq!(communes.len(), 109);
        assert_eq!(rows.len(), 120);
        for c in communes {
            let p = geo.inside[&c.unit];
            assert!(
                c.geometry.contains(p),
                "{} does not contain its point",
                c.unit
            );
        }
        // Deterministic.
        let (again, _) = build(&units).expect("builds");
        assert!(
            rows.iter()
                .zip(&again)
                .all(|(a, b)| a.geometry == b.geometry)
        );
    }
}
