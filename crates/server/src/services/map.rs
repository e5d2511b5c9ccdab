//! The public map's data (issue 10): communes and districts as GeoJSON FeatureCollections a browser map and a GIS
//! (QGIS) load alike, each feature a unit with a boundary, simplified for the extent asked for with neighbours still
//! sharing their borders, and its figures as properties: confirmed cases counted in the last 7 days and the risk
//! levels. No personal data. Built once per (layer, unit) and data version and kept in memory serialized and
//! gzipped, so that a warm request copies bytes.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use chrono::NaiveDate;
use kiemdich_domain::risk::RiskLevel;
use kiemdich_domain::{UnitCode, UnitLevel, UnitTree};
use kiemdich_geometry::{
    BBox, MultiPolygon, geojson::decimals_for, simplify_shared, tolerance_for_extent,
};
use kiemdich_store::MapStamp;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// The map's width in pixels that a layer is simplified for: half a pixel of tolerance at this width showing the
/// whole extent asked for.
pub const MAP_PIXELS: f64 = 1200.0;
/// How long a cached layer is served before the store is asked whether its data changed (changes made by this
/// server, such as a boundary import or a risk decision through [`AppState::invalidate_map`], count at once;
/// changes by another process or server within this time).
pub const RECHECK: Duration = Duration::from_secs(5);
/// Confirmed cases are counted over this many days, today included.
const CASE_DAYS: i64 = 7;

/// Which units a layer draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    Communes,
    Districts,
}

/// The risk levels of a unit: the official level and the decision it comes from, and the computed suggestion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UnitLevels {
    /// The official level (1–4) in force, from the steering committee's decision.
    pub level: Option<u8>,
    /// The level computed from the rules (1–4), a suggestion beside the official one.
    pub level_computed: Option<u8>,
    /// The number of the decision the official level comes from (such as `136/QĐ-SYT`).
    pub decision: Option<String>,
}

/// The risk levels in force on `day` of each of `units` (communes, or districts and the province) that has any:
/// the official level and its decision, and the computed suggestion (see [`super::risk::levels_on`]). Every map
/// property reads its levels from here; whoever records a decision or its inputs calls
/// [`AppState::invalidate_map`].
pub async fn commune_levels(
    st: &AppState,
    units: &[UnitCode],
    day: NaiveDate,
) -> ApiResult<HashMap<UnitCode, UnitLevels>> {
    let tree = st.units();
    let Some(province) = tree.province() else {
        return Ok(HashMap::new());
    };
    let mut all = super::risk::levels_on(st, &province.code, day).await?;
    Ok(units
        .iter()
        .filter_map(|u| {
            let l = all.remove(u)?;
            Some((
                u.clone(),
                UnitLevels {
                    level: l.official.map(RiskLevel::get),
                    level_computed: l.computed.map(RiskLevel::get),
                    decision: l.decision,
                },
            ))
        })
        .collect())
}

/// The properties of a commune feature.
#[derive(Debug, Clone, Serialize)]
pub struct CommuneProperties {
    pub code: UnitCode,
    pub name: String,
    pub district_code: Option<UnitCode>,
    /// Confirmed (F0) cases counted in the commune in the last 7 days, today included (Vietnam time).
    pub cases_7d: i64,
    #[serde(flatten)]
    pub levels: UnitLevels,
    /// Where the boundary comes from (the demo's say "illustrative demo geometry", for the map to label them).
    pub boundary_source: String,
}

/// The properties of a district feature.
#[derive(Debug, Clone, Serialize)]
pub struct DistrictProperties {
    pub code: UnitCode,
    pub name: String,
    pub province_code: Option<UnitCode>,
    /// Confirmed (F0) cases counted in the district's communes in the last 7 days, today included.
    pub cases_7d: i64,
    #[serde(flatten)]
    pub levels: UnitLevels,
    /// Where the boundary comes from.
    pub boundary_source: String,
}

/// A layer as served: its GeoJSON, gzipped, and its tag.
pub type GeoJsonBody = crate::public::Cached;

struct Entry {
    body: Arc<GeoJsonBody>,
    version: u64,
    stamp: MapStamp,
    day: NaiveDate,
    checked: Mutex<Instant>,
}

/// The cache of built layers, keyed by layer and unit, with the version counter that invalidates them.
#[derive(Default)]
pub struct MapCache {
    version: AtomicU64,
    entries: RwLock<HashMap<(Layer, UnitCode), Arc<Entry>>>,
    /// One build at a time: a burst of cold requests builds a layer once.
    building: tokio::sync::Mutex<()>,
}

impl MapCache {
    /// Makes every cached layer stale: the next request rebuilds it.
    pub fn invalidate(&self) {
        self.version.fetch_add(1, Ordering::Relaxed);
    }

    fn get(&self, key: &(Layer, UnitCode)) -> Option<Arc<Entry>> {
        self.entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    fn put(&self, key: (Layer, UnitCode), entry: Entry) {
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, Arc::new(entry));
    }
}

/// The unit a layer is asked for: the deployment's province when none is named; a province or a district (a
/// commune for the communes layer too). Malformed codes are field errors; unknown units are 404.
fn scope(units: &UnitTree, layer: Layer, unit: Option<&str>) -> ApiResult<UnitCode> {
    let code = match unit {
        Some(s) => UnitCode::parse(s.trim()).map_err(|e| ApiError::field("unit", e))?,
        None => units
            .province()
            .map(|u| u.code.clone())
            .ok_or_else(|| ApiError::not_found("no province in the unit list"))?,
    };
    let found = units
        .get(&code)
        .ok_or_else(|| ApiError::not_found(format!("no unit {code}")))?;
    match (layer, found.level) {
        (_, UnitLevel::Province | UnitLevel::District) | (Layer::Communes, UnitLevel::Commune) => {
            Ok(code)
        }
        (Layer::Districts, _) => Err(ApiError::not_found(format!(
            "{code} is not a province or district"
        ))),
    }
}

/// The units a layer of `scope` draws, in code order.
fn members(units: &UnitTree, layer: Layer, scope: &UnitCode) -> Vec<UnitCode> {
    let level = match layer {
        Layer::Communes => UnitLevel::Commune,
        Layer::Districts => UnitLevel::District,
    };
    let mut out: Vec<UnitCode> = units
        .all()
        .filter(|u| u.level == level && units.contains(scope, &u.code))
        .map(|u| u.code.clone())
        .collect();
    out.sort();
    out
}

/// The layer of `unit` (default: the province), from the cache when its data has not changed.
pub async fn public_layer(
    st: &AppState,
    layer: Layer,
    unit: Option<&str>,
) -> ApiResult<Arc<GeoJsonBody>> {
    let units = st.units();
    let scope = scope(&units, layer, unit)?;
    let key = (layer, scope.clone());
    let today = st.rules.tracing.local_date(chrono::Utc::now().timestamp());
    let cache = &st.map_cache;
    let version = cache.version.load(Ordering::Relaxed);
    if let Some(e) = cache.get(&key)
        && e.version == version
        && e.day == today
    {
        let due = e
            .checked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .elapsed()
            >= RECHECK;
        if !due {
            return Ok(e.body.clone());
        }
        if st.store.map_stamp().await? == e.stamp {
            *e.checked.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
            return Ok(e.body.clone());
        }
    }
    let _one = cache.building.lock().await;
    // Someone else may have built it while this request waited.
    let version = cache.version.load(Ordering::Relaxed);
    let stamp = st.store.map_stamp().await?;
    if let Some(e) = cache.get(&key)
        && e.version == version
        && e.day == today
        && e.stamp == stamp
    {
        return Ok(e.body.clone());
    }
    let body = Arc::new(build(st, &units, layer, &scope, today).await?);
    cache.put(
        key,
        Entry {
            body: body.clone(),
            version,
            stamp,
            day: today,
            checked: Mutex::new(Instant::now()),
        },
    );
    Ok(body)
}

/// Reads the layer's boundaries and figures and builds its GeoJSON (simplifying and gzipping off the async workers).
async fn build(
    st: &AppState,
    units: &UnitTree,
    layer: Layer,
    scope: &UnitCode,
    today: NaiveDate,
) -> ApiResult<GeoJsonBody> {
    let codes = members(units, layer, scope);
    let boundaries = st.store.boundaries_on(today, &codes).await?;
    let from = today - chrono::Duration::days(CASE_DAYS - 1);
    let communes: Vec<UnitCode> = match layer {
        Layer::Communes => codes.clone(),
        Layer::Districts => codes
            .iter()
            .flat_map(|d| members(units, Layer::Communes, d))
            .collect(),
    };
    let names: Vec<String> = communes.iter().map(ToString::to_string).collect();
    let window = kiemdich_store::CaseWindow {
        from,
        to: today,
        class: Some(kiemdich_domain::CaseClass::F0),
    };
    let counts: HashMap<UnitCode, i64> = st
        .store
        .cases_by_commune(&names, &window)
        .await?
        .into_iter()
        .filter_map(|(code, n)| Some((UnitCode::parse(&code).ok()?, n)))
        .collect();
    let drawn: Vec<UnitCode> = boundaries.iter().map(|b| b.unit.clone()).collect();
    let mut levels = commune_levels(st, &drawn, today).await?;
    let mut properties: Vec<String> = Vec::with_capacity(boundaries.len());
    for b in &boundaries {
        let Some(unit) = units.get(&b.unit) else {
            continue;
        };
        let own = levels.remove(&b.unit).unwrap_or_default();
        let text = match layer {
            Layer::Communes => serde_json::to_string(&CommuneProperties {
                code: unit.code.clone(),
                name: unit.name.clone(),
                district_code: unit.parent_code.clone(),
                cases_7d: counts.get(&unit.code).copied().unwrap_or(0),
                levels: own,
                boundary_source: b.source.clone(),
            }),
            Layer::Districts => serde_json::to_string(&DistrictProperties {
                code: unit.code.clone(),
                name: unit.name.clone(),
                province_code: unit.parent_code.clone(),
                cases_7d: members(units, Layer::Communes, &unit.code)
                    .iter()
                    .map(|c| counts.get(c).copied().unwrap_or(0))
                    .sum(),
                levels: own,
                boundary_source: b.source.clone(),
            }),
        }
        .map_err(ApiError::internal)?;
        properties.push(text);
    }
    let shapes: Vec<MultiPolygon> = boundaries.into_iter().map(|b| b.geometry).collect();
    tokio::task::spawn_blocking(move || geojson_body(&properties, &shapes, MAP_PIXELS))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// The FeatureCollection of `shapes` with their `properties` (JSON objects), simplified together for their extent
/// at `pixels` wide, serialized and gzipped. Shapes that collapse entirely are left out.
pub fn geojson_body(
    properties: &[String],
    shapes: &[MultiPolygon],
    pixels: f64,
) -> std::io::Result<GeoJsonBody> {
    let extent = shapes.iter().fold(BBox::EMPTY, |b, s| b.union(&s.bbox()));
    let tolerance = tolerance_for_extent(&extent, pixels);
    let simplified = simplify_shared(shapes, tolerance);
    let decimals = decimals_for(tolerance / 4.0);
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("{\"type\":\"FeatureCollection\",\"features\":[");
    let mut features = 0;
    for (props, shape) in properties.iter().zip(&simplified) {
        if shape.is_empty() {
            continue;
        }
        if features > 0 {
            out.push(',');
        }
        out.push_str("{\"type\":\"Feature\",\"properties\":");
        out.push_str(props);
        out.push_str(",\"geometry\":");
        shape.write_geojson(&mut out, decimals);
        out.push('}');
        features += 1;
    }
    out.push_str("]}");
    crate::public::Cached::new("application/geo+json", out.into_bytes())
}
