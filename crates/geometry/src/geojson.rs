//! GeoJSON boundaries in and out: a FeatureCollection parsed feature by feature, each good one a [`Feature`] and
//! each bad one an [`Invalid`] that says why, and MultiPolygons written back compactly.

use crate::{MultiPolygon, Polygon, Position, Ring};
use serde_json::Value;
use std::fmt::Write as _;

/// The geometry type a feature came with; both are kept as a [`MultiPolygon`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeometryKind {
    Polygon,
    MultiPolygon,
}

impl GeometryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GeometryKind::Polygon => "Polygon",
            GeometryKind::MultiPolygon => "MultiPolygon",
        }
    }
}

/// A checked boundary feature: its `code` property (the caller checks it names a unit) and its geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub code: String,
    pub kind: GeometryKind,
    pub geometry: MultiPolygon,
}

/// Why the file as a whole cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error(
        "not a GeoJSON FeatureCollection (expected {{\"type\": \"FeatureCollection\", \"features\": [...]}})"
    )]
    NotAFeatureCollection,
}

/// Why one feature was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Invalid {
    #[error("not a GeoJSON Feature")]
    NotAFeature,
    #[error("no geometry")]
    NoGeometry,
    #[error("geometry type {0} is not Polygon or MultiPolygon")]
    WrongGeometryType(String),
    #[error("no \"code\" property (the unit's code, a string)")]
    MissingCode,
    #[error("coordinates are not nested arrays of [lon, lat] numbers")]
    NotNumbers,
    #[error("coordinate [{0}, {1}] is outside WGS84 (lon -180..180, lat -90..90)")]
    OutOfRange(f64, f64),
    #[error("a polygon has no rings")]
    NoRings,
    #[error("ring {ring} is not closed (its last position differs from its first)")]
    RingNotClosed { ring: usize },
    #[error("ring {ring} has {positions} positions, fewer than 4")]
    TooFewPositions { ring: usize, positions: usize },
    #[error("ring {ring} intersects itself near [{lon}, {lat}]")]
    SelfIntersecting { ring: usize, lon: f64, lat: f64 },
}

/// Parses a FeatureCollection: broken JSON or a document that is not one is an error; otherwise one result per
/// element of `features`, in order, so that a report can name each bad one by its index.
pub fn parse_feature_collection(text: &str) -> Result<Vec<Result<Feature, Invalid>>, ParseError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| ParseError::Json(e.to_string()))?;
    if doc.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(ParseError::NotAFeatureCollection);
    }
    let features = doc
        .get("features")
        .and_then(Value::as_array)
        .ok_or(ParseError::NotAFeatureCollection)?;
    Ok(features.iter().map(parse_feature).collect())
}

fn parse_feature(f: &Value) -> Result<Feature, Invalid> {
    if f.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(Invalid::NotAFeature);
    }
    let code = match f.get("properties").and_then(|p| p.get("code")) {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(Invalid::MissingCode),
    };
    let geometry = f
        .get("geometry")
        .filter(|g| !g.is_null())
        .ok_or(Invalid::NoGeometry)?;
    let (kind, mut geometry) = parse_geometry(geometry)?;
    validate(&geometry)?;
    // Repeated consecutive positions are allowed and common in published data; they carry nothing.
    for ring in geometry
        .polygons
        .iter_mut()
        .flat_map(|p| p.rings.iter_mut())
    {
        ring.dedup();
    }
    Ok(Feature {
        code,
        kind,
        geometry,
    })
}

/// Reads a Polygon or MultiPolygon geometry object, checking its structure and ranges but not its rings' shapes.
fn parse_geometry(g: &Value) -> Result<(GeometryKind, MultiPolygon), Invalid> {
    let kind = match g.get("type").and_then(Value::as_str) {
        Some("Polygon") => GeometryKind::Polygon,
        Some("MultiPolygon") => GeometryKind::MultiPolygon,
        Some(other) => return Err(Invalid::WrongGeometryType(other.to_owned())),
        None => return Err(Invalid::NoGeometry),
    };
    let coords = g.get("coordinates").ok_or(Invalid::NotNumbers)?;
    let polygons = match kind {
        GeometryKind::Polygon => vec![polygon(coords)?],
        GeometryKind::MultiPolygon => array(coords)?
            .iter()
            .map(polygon)
            .collect::<Result<_, _>>()?,
    };
    Ok((kind, MultiPolygon { polygons }))
}

/// Parses stored or served geometry (a GeoJSON Polygon or MultiPolygon object) without the ring checks an import
/// makes: for reading back what was checked when it was written.
pub fn parse_multipolygon(text: &str) -> Result<MultiPolygon, Invalid> {
    let g: Value = serde_json::from_str(text).map_err(|_| Invalid::NotNumbers)?;
    parse_geometry(&g).map(|(_, mp)| mp)
}

fn array(v: &Value) -> Result<&Vec<Value>, Invalid> {
    v.as_array().ok_or(Invalid::NotNumbers)
}

fn polygon(v: &Value) -> Result<Polygon, Invalid> {
    let rings: Vec<Ring> = array(v)?.iter().map(ring).collect::<Result<_, _>>()?;
    if rings.is_empty() {
        return Err(Invalid::NoRings);
    }
    Ok(Polygon { rings })
}

fn ring(v: &Value) -> Result<Ring, Invalid> {
    array(v)?.iter().map(position).collect()
}

fn position(v: &Value) -> Result<Position, Invalid> {
    let a = array(v)?;
    if a.len() < 2 {
        return Err(Invalid::NotNumbers);
    }
    let lon = a[0].as_f64().ok_or(Invalid::NotNumbers)?;
    let lat = a[1].as_f64().ok_or(Invalid::NotNumbers)?;
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(Invalid::OutOfRange(lon, lat));
    }
    Ok([lon, lat])
}

/// The ring checks: closed, at least four positions, no edge crossing or touching a non-adjacent edge. Rings are
/// numbered across the whole geometry, in file order.
pub fn validate(mp: &MultiPolygon) -> Result<(), Invalid> {
    for (i, r) in mp.polygons.iter().flat_map(|p| p.rings.iter()).enumerate() {
        if r.len() < 4 {
            return Err(Invalid::TooFewPositions {
                ring: i,
                positions: r.len(),
            });
        }
        if r.first() != r.last() {
            return Err(Invalid::RingNotClosed { ring: i });
        }
        let mut r = r.clone();
        r.dedup();
        if r.len() < 4 {
            return Err(Invalid::TooFewPositions {
                ring: i,
                positions: r.len(),
            });
        }
        if let Some([lon, lat]) = self_intersection(&r) {
            return Err(Invalid::SelfIntersecting { ring: i, lon, lat });
        }
    }
    Ok(())
}

fn orient(a: Position, b: Position, c: Position) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

fn on_segment(a: Position, b: Position, p: Position) -> bool {
    p[0] >= a[0].min(b[0])
        && p[0] <= a[0].max(b[0])
        && p[1] >= a[1].min(b[1])
        && p[1] <= a[1].max(b[1])
}

/// Whether closed segments ab and cd share a point.
pub(crate) fn segments_touch(a: Position, b: Position, c: Position, d: Position) -> bool {
    let (d1, d2) = (orient(c, d, a), orient(c, d, b));
    let (d3, d4) = (orient(a, b, c), orient(a, b, d));
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    (d1 == 0.0 && on_segment(c, d, a))
        || (d2 == 0.0 && on_segment(c, d, b))
        || (d3 == 0.0 && on_segment(a, b, c))
        || (d4 == 0.0 && on_segment(a, b, d))
}

/// A point where the closed ring (without repeated consecutive positions) crosses or touches itself, if any:
/// non-adjacent edges that share a point, or adjacent edges folding back over each other. Edges are swept in order of their least
/// longitude, so a ring of n edges costs about n·√n, not n².
fn self_intersection(ring: &[Position]) -> Option<Position> {
    let n = ring.len() - 1;
    let mut edges: Vec<usize> = (0..n).collect();
    let min_x = |i: usize| ring[i][0].min(ring[i + 1][0]);
    let max_x = |i: usize| ring[i][0].max(ring[i + 1][0]);
    edges.sort_by(|&i, &j| min_x(i).total_cmp(&min_x(j)));
    for (k, &i) in edges.iter().enumerate() {
        let (a, b) = (ring[i], ring[i + 1]);
        if a == b {
            return Some(a);
        }
        for &j in &edges[k + 1..] {
            if min_x(j) > max_x(i) {
                break;
            }
            let (c, d) = (ring[j], ring[j + 1]);
            let adjacent =
                j == i + 1 || i == j + 1 || (i == 0 && j == n - 1) || (j == 0 && i == n - 1);
            if adjacent {
                // Adjacent edges share one vertex; they intersect further only when they fold back collinearly.
                let (shared, p, q) = if b == c { (b, a, d) } else { (a, b, c) };
                let folds = orient(shared, p, q) == 0.0
                    && (p[0] - shared[0]) * (q[0] - shared[0])
                        + (p[1] - shared[1]) * (q[1] - shared[1])
                        > 0.0;
                if folds {
                    return Some(shared);
                }
            } else if segments_touch(a, b, c, d) {
                return Some(c);
            }
        }
    }
    None
}

/// The number of decimals that shows a step of `step` degrees (at least 1, at most 7: about 1 cm).
pub fn decimals_for(step: f64) -> usize {
    if step <= 0.0 || !step.is_finite() {
        return 7;
    }
    (-step.log10()).ceil().clamp(1.0, 7.0) as usize
}

fn write_number(out: &mut String, x: f64, decimals: usize) {
    let start = out.len();
    let _ = write!(out, "{x:.decimals$}");
    if out[start..].contains('.') {
        while out.ends_with('0') {
            out.pop();
        }
        if out.ends_with('.') {
            out.pop();
        }
    }
    if &out[start..] == "-0" {
        out.truncate(start);
        out.push('0');
    }
}

impl MultiPolygon {
    /// Appends this geometry as a GeoJSON MultiPolygon object, coordinates rounded to `decimals`.
    pub fn write_geojson(&self, out: &mut String, decimals: usize) {
        out.push_str("{\"type\":\"MultiPolygon\",\"coordinates\":[");
        for (i, p) in self.polygons.iter().enumerate() {
            out.push_str(if i == 0 { "[" } else { ",[" });
            for (j, r) in p.rings.iter().enumerate() {
                out.push_str(if j == 0 { "[" } else { ",[" });
                for (k, pos) in r.iter().enumerate() {
                    out.push_str(if k == 0 { "[" } else { ",[" });
                    write_number(out, pos[0], decimals);
                    out.push(',');
                    write_number(out, pos[1], decimals);
                    out.push(']');
                }
                out.push(']');
            }
            out.push(']');
        }
        out.push_str("]}");
    }

    /// This geometry as GeoJSON MultiPolygon text at full precision, for storage.
    pub fn to_geojson(&self) -> String {
        let mut s = String::with_capacity(self.vertex_count() * 24 + 40);
        s.push_str("{\"type\":\"MultiPolygon\",\"coordinates\":[");
        for (i, p) in self.polygons.iter().enumerate() {
            s.push_str(if i == 0 { "[" } else { ",[" });
            for (j, r) in p.rings.iter().enumerate() {
                s.push_str(if j == 0 { "[" } else { ",[" });
                for (k, pos) in r.iter().enumerate() {
                    let _ = write!(
                        s,
                        "{}[{},{}]",
                        if k == 0 { "" } else { "," },
                        pos[0],
                        pos[1]
                    );
                }
                s.push(']');
            }
            s.push(']');
        }
        s.push_str("]}");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collection(features: &str) -> String {
        format!(r#"{{"type":"FeatureCollection","features":[{features}]}}"#)
    }

    const SQUARE: &str = "[[[0,0],[1,0],[1,1],[0,1],[0,0]]]";

    fn one(feature: &str) -> Result<Feature, Invalid> {
        parse_feature_collection(&collection(feature))
            .expect("a collection")
            .remove(0)
    }

    #[test]
    fn good_polygon_and_multipolygon() {
        let f = one(&format!(
            r#"{{"type":"Feature","properties":{{"code":"94"}},"geometry":{{"type":"Polygon","coordinates":{SQUARE}}}}}"#
        ))
        .expect("valid");
        assert_eq!((f.code.as_str(), f.kind), ("94", GeometryKind::Polygon));
        assert_eq!(f.geometry.polygons.len(), 1);
        let f = one(&format!(
            r#"{{"type":"Feature","properties":{{"code":"941"}},"geometry":{{"type":"MultiPolygon","coordinates":[{SQUARE},{SQUARE}]}}}}"#
        ));
        // Two identical polygons are a valid MultiPolygon structurally (overlap is not checked).
        assert_eq!(f.expect("valid").geometry.polygons.len(), 2);
    }

    #[test]
    fn each_reason_is_typed() {
        let geom = |g: &str| {
            format!(r#"{{"type":"Feature","properties":{{"code":"94"}},"geometry":{g}}}"#)
        };
        let poly = |c: &str| geom(&format!(r#"{{"type":"Polygon","coordinates":{c}}}"#));
        assert_eq!(one(r#"{"type":"Point"}"#), Err(Invalid::NotAFeature));
        assert_eq!(one(&geom("null")), Err(Invalid::NoGeometry));
        assert_eq!(
            one(&geom(r#"{"type":"Point","coordinates":[1,2]}"#)),
            Err(Invalid::WrongGeometryType("Point".into()))
        );
        assert_eq!(
            one(&format!(
                r#"{{"type":"Feature","properties":{{}},"geometry":{{"type":"Polygon","coordinates":{SQUARE}}}}}"#
            )),
            Err(Invalid::MissingCode)
        );
        assert_eq!(
            one(&poly("[[[0,0],[1,0],[1,1],[0,1],[0,0.5]]]")),
            Err(Invalid::RingNotClosed { ring: 0 })
        );
        assert_eq!(
            one(&poly("[[[0,0],[1,0],[0,0]]]")),
            Err(Invalid::TooFewPositions {
                ring: 0,
                positions: 3
            })
        );
        assert!(matches!(
            one(&poly("[[[0,0],[1,1],[1,0],[0,1],[0,0]]]")),
            Err(Invalid::SelfIntersecting { ring: 0, .. })
        ));
        assert_eq!(
            one(&poly("[[[0,0],[181,0],[1,1],[0,0]]]")),
            Err(Invalid::OutOfRange(181.0, 0.0))
        );
        assert_eq!(
            one(&poly(r#"[[[0,0],["1",0],[1,1],[0,0]]]"#)),
            Err(Invalid::NotNumbers)
        );
    }

    #[test]
    fn broken_json_is_one_error() {
        assert!(matches!(
            parse_feature_collection("{\"type\": \"FeatureCollection\", \"features\": [")
                .map(|_| ()),
            Err(ParseError::Json(_))
        ));
        assert_eq!(
            parse_feature_collection("[]").map(|_| ()),
            Err(ParseError::NotAFeatureCollection)
        );
    }

    #[test]
    fn folds_and_touching_rings_are_self_intersections() {
        // A spike: out along an edge and back.
        let spike = vec![[0.0, 0.0], [2.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]];
        assert!(self_intersection(&spike).is_some());
        // A figure eight touching at a vertex.
        let eight = vec![
            [0.0, 0.0],
            [1.0, 1.0],
            [2.0, 0.0],
            [2.0, 2.0],
            [1.0, 1.0],
            [0.0, 2.0],
            [0.0, 0.0],
        ];
        assert!(self_intersection(&eight).is_some());
        let fine = vec![
            [0.0, 0.0],
            [2.0, 0.0],
            [2.0, 2.0],
            [1.0, 3.0],
            [0.0, 2.0],
            [0.0, 0.0],
        ];
        assert_eq!(self_intersection(&fine), None);
    }

    #[test]
    fn writes_round_trip() {
        let mp = one(
            r#"{"type":"Feature","properties":{"code":"94"},"geometry":{"type":"Polygon","coordinates":[[[105.1234567,9.5],[106,9.5],[106,10],[105.1234567,9.5]]]}}"#,
        )
        .expect("valid")
        .geometry;
        assert_eq!(parse_multipolygon(&mp.to_geojson()), Ok(mp.clone()));
        let mut s = String::new();
        mp.write_geojson(&mut s, 3);
        assert_eq!(
            s,
            r#"{"type":"MultiPolygon","coordinates":[[[[105.123,9.5],[106,9.5],[106,10],[105.123,9.5]]]]}"#
        );
    }
}
