//! Administrative boundaries over time (issue 10): one row per unit and start date, like the units themselves; an
//! import from a later date closes the unit's earlier open row. Geometry is GeoJSON MultiPolygon text (WGS84) with
//! its bounding box in columns, so that a map reads only what it shows.

use crate::db::{Result, Store, StoreError, now};
use crate::registry::UpsertCounts;
use chrono::NaiveDate;
use kiemdich_domain::UnitCode;
use kiemdich_geometry::{BBox, MultiPolygon, parse_multipolygon};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A boundary to store: the unit, its geometry (checked), from when it holds, and where it comes from.
#[derive(Debug, Clone)]
pub struct NewBoundary {
    pub unit: UnitCode,
    pub geometry: MultiPolygon,
    pub valid_from: NaiveDate,
    pub source: String,
}

/// A stored boundary, read back typed.
#[derive(Debug, Clone)]
pub struct Boundary {
    pub unit: UnitCode,
    pub valid_from: NaiveDate,
    /// The first day it no longer holds (the next boundary's start), if any.
    pub valid_to: Option<NaiveDate>,
    pub geometry: MultiPolygon,
    pub bbox: BBox,
    pub source: String,
}

/// What the map is drawn from, as cheap numbers: when any of them changes, a cached map is stale. Boundaries
/// (rows, last import), confirmed cases (rows, last id) and risk decisions (last id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MapStamp {
    pub boundaries: i64,
    pub boundaries_imported_at: i64,
    pub f0_cases: i64,
    pub last_case: i64,
    pub last_decision: i64,
}

const BOUNDARY_COLS: &str =
    "unit_code, valid_from, valid_to, geometry, min_lon, min_lat, max_lon, max_lat, source";

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("boundary {what}: {e}"))
}

fn boundary_from_row(r: &AnyRow) -> Result<Boundary> {
    let code: String = r.try_get("unit_code")?;
    let unit = UnitCode::parse(&code).map_err(|e| corrupt("unit code", e))?;
    let date = |c: &str| -> Result<Option<NaiveDate>> {
        r.try_get::<Option<String>, _>(c)?
            .map(|d| d.parse().map_err(|e| corrupt(&format!("{c} of {code}"), e)))
            .transpose()
    };
    let geometry = parse_multipolygon(&r.try_get::<String, _>("geometry")?)
        .map_err(|e| corrupt(&format!("geometry of {code}"), e))?;
    Ok(Boundary {
        valid_from: date("valid_from")?.ok_or_else(|| corrupt("valid_from", "missing"))?,
        valid_to: date("valid_to")?,
        bbox: BBox {
            min_lon: r.try_get("min_lon")?,
            min_lat: r.try_get("min_lat")?,
            max_lon: r.try_get("max_lon")?,
            max_lat: r.try_get("max_lat")?,
        },
        source: r.try_get("source")?,
        geometry,
        unit,
    })
}

impl Store {
    /// Stores boundaries in one transaction. A unit's boundary from the same date is replaced (unchanged when
    /// identical); one from a new date closes the unit's earlier open row (`valid_to`) and holds until the next
    /// later one, if any.
    pub async fn upsert_boundaries(&self, rows: &[NewBoundary]) -> Result<UpsertCounts> {
        let mut tx = self.begin_write().await?;
        let mut counts = UpsertCounts::default();
        let at = now();
        for b in rows {
            let code = b.unit.as_str().to_owned();
            let from = b.valid_from.to_string();
            let text = b.geometry.to_geojson();
            let bbox = b.geometry.bbox();
            let same: Option<(String, String)> = sqlx::query_as(
                "SELECT geometry, source FROM boundaries WHERE unit_code = $1 AND valid_from = $2",
            )
            .bind(code.clone())
            .bind(from.clone())
            .fetch_optional(&mut *tx)
            .await?;
            match same {
                Some((g, s)) if g == text && s == b.source => counts.unchanged += 1,
                Some(_) => {
                    sqlx::query(
                        "UPDATE boundaries SET geometry = $1, min_lon = $2, min_lat = $3, max_lon = $4, max_lat = $5, \
                         source = $6, imported_at = $7 WHERE unit_code = $8 AND valid_from = $9",
                    )
                    .bind(text)
                    .bind(bbox.min_lon)
                    .bind(bbox.min_lat)
                    .bind(bbox.max_lon)
                    .bind(bbox.max_lat)
                    .bind(b.source.clone())
                    .bind(at)
                    .bind(code)
                    .bind(from)
                    .execute(&mut *tx)
                    .await?;
                    counts.written += 1;
                }
                None => {
                    // The row in force before this one ends where this one starts.
                    sqlx::query(
                        "UPDATE boundaries SET valid_to = $1 WHERE unit_code = $2 AND valid_from < $1 \
                         AND (valid_to IS NULL OR valid_to > $1)",
                    )
                    .bind(from.clone())
                    .bind(code.clone())
                    .execute(&mut *tx)
                    .await?;
                    let next: Option<String> = sqlx::query_scalar(
                        "SELECT MIN(valid_from) FROM boundaries WHERE unit_code = $1 AND valid_from > $2",
                    )
                    .bind(code.clone())
                    .bind(from.clone())
                    .fetch_one(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO boundaries (unit_code, valid_from, valid_to, geometry, min_lon, min_lat, max_lon, max_lat, \
                         source, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .bind(code)
                    .bind(from)
                    .bind(next)
                    .bind(text)
                    .bind(bbox.min_lon)
                    .bind(bbox.min_lat)
                    .bind(bbox.max_lon)
                    .bind(bbox.max_lat)
                    .bind(b.source.clone())
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                    counts.written += 1;
                }
            }
        }
        tx.commit().await?;
        Ok(counts)
    }

    /// The boundaries in force on `day` of those of `units` that have one.
    pub async fn boundaries_on(&self, day: NaiveDate, units: &[UnitCode]) -> Result<Vec<Boundary>> {
        let codes: Vec<String> = units.iter().map(|u| u.as_str().to_owned()).collect();
        let day = day.to_string();
        let rows = self
            .fetch_in(
                &format!(
                    "SELECT {BOUNDARY_COLS} FROM boundaries WHERE unit_code IN ({{in}}) \
                     AND valid_from <= '{day}' AND (valid_to IS NULL OR valid_to > '{day}') ORDER BY unit_code"
                ),
                &codes,
            )
            .await?;
        rows.iter().map(boundary_from_row).collect()
    }

    /// The boundaries in force on `day` whose bounding box meets `bbox`, any unit.
    pub async fn boundaries_in_bbox(&self, day: NaiveDate, bbox: &BBox) -> Result<Vec<Boundary>> {
        let rows = sqlx::query(
            "SELECT unit_code, valid_from, valid_to, geometry, min_lon, min_lat, max_lon, max_lat, source FROM boundaries \
             WHERE valid_from <= $1 AND (valid_to IS NULL OR valid_to > $1) \
             AND min_lon <= $2 AND max_lon >= $3 AND min_lat <= $4 AND max_lat >= $5 ORDER BY unit_code",
        )
        .bind(day.to_string())
        .bind(bbox.max_lon)
        .bind(bbox.min_lon)
        .bind(bbox.max_lat)
        .bind(bbox.min_lat)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(boundary_from_row).collect()
    }

    /// A unit's boundaries over time, oldest first.
    pub async fn boundary_history(&self, unit: &UnitCode) -> Result<Vec<Boundary>> {
        let rows = sqlx::query(
            "SELECT unit_code, valid_from, valid_to, geometry, min_lon, min_lat, max_lon, max_lat, source FROM boundaries \
             WHERE unit_code = $1 ORDER BY valid_from",
        )
        .bind(unit.as_str().to_owned())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(boundary_from_row).collect()
    }

    /// The numbers a cached map depends on (see [`MapStamp`]): a few index look-ups.
    pub async fn map_stamp(&self) -> Result<MapStamp> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM boundaries) AS b, (SELECT COALESCE(MAX(imported_at), 0) FROM boundaries) AS bi, \
             (SELECT COUNT(*) FROM cases WHERE classification = 'f0') AS f, (SELECT COALESCE(MAX(id), 0) FROM cases) AS c, \
             (SELECT COALESCE(MAX(id), 0) FROM risk_decisions) AS d",
        )
        .fetch_one(&self.read)
        .await?;
        Ok(MapStamp {
            boundaries: row.try_get("b")?,
            boundaries_imported_at: row.try_get("bi")?,
            f0_cases: row.try_get("f")?,
            last_case: row.try_get("c")?,
            last_decision: row.try_get("d")?,
        })
    }
}
