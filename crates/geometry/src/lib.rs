//! Geometry under kiemdich's maps, with no IO and no clock: administrative boundaries parsed from GeoJSON and checked
//! ([`geojson`]), bounding boxes, point-in-polygon and areas (here), simplification that keeps neighbours' borders
//! shared ([`topo`]) and clipped Voronoi partitions for illustrative demo geometry ([`voronoi`]).
//!
//! Coordinates are WGS84 `[lon, lat]` pairs. Rings are closed (first position equals the last). Planar operations
//! treat degrees as plane coordinates, which is what a web map draws; [`MultiPolygon::area_m2`] is the spherical
//! area for people.

pub mod geojson;
pub mod topo;
pub mod voronoi;

pub use geojson::{
    Feature, GeometryKind, Invalid, ParseError, parse_feature_collection, parse_multipolygon,
};
pub use topo::{simplify_shared, tolerance_for_extent};
pub use voronoi::{SplitMix, points_inside, voronoi_partition};

/// `[lon, lat]` in degrees.
pub type Position = [f64; 2];
/// A closed ring: at least four positions, the last equal to the first.
pub type Ring = Vec<Position>;

/// One polygon: its exterior ring, then its holes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Polygon {
    pub rings: Vec<Ring>,
}

/// Every boundary is stored and served as a MultiPolygon (a Polygon is a MultiPolygon of one).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MultiPolygon {
    pub polygons: Vec<Polygon>,
}

/// An axis-aligned box in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

impl BBox {
    /// The box of nothing: extending it by any point gives that point.
    pub const EMPTY: BBox = BBox {
        min_lon: f64::INFINITY,
        min_lat: f64::INFINITY,
        max_lon: f64::NEG_INFINITY,
        max_lat: f64::NEG_INFINITY,
    };

    pub fn is_empty(&self) -> bool {
        self.min_lon > self.max_lon || self.min_lat > self.max_lat
    }

    pub fn extend(&mut self, p: Position) {
        self.min_lon = self.min_lon.min(p[0]);
        self.min_lat = self.min_lat.min(p[1]);
        self.max_lon = self.max_lon.max(p[0]);
        self.max_lat = self.max_lat.max(p[1]);
    }

    pub fn union(&self, other: &BBox) -> BBox {
        BBox {
            min_lon: self.min_lon.min(other.min_lon),
            min_lat: self.min_lat.min(other.min_lat),
            max_lon: self.max_lon.max(other.max_lon),
            max_lat: self.max_lat.max(other.max_lat),
        }
    }

    pub fn intersects(&self, other: &BBox) -> bool {
        self.min_lon <= other.max_lon
            && other.min_lon <= self.max_lon
            && self.min_lat <= other.max_lat
            && other.min_lat <= self.max_lat
    }

    pub fn contains(&self, p: Position) -> bool {
        (self.min_lon..=self.max_lon).contains(&p[0])
            && (self.min_lat..=self.max_lat).contains(&p[1])
    }

    pub fn width(&self) -> f64 {
        self.max_lon - self.min_lon
    }

    pub fn height(&self) -> f64 {
        self.max_lat - self.min_lat
    }
}

/// Twice the signed planar area of a closed ring (positive when counter-clockwise).
fn ring_area2(ring: &[Position]) -> f64 {
    ring.windows(2)
        .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
        .sum()
}

/// The signed planar area of a closed ring in square degrees (positive when counter-clockwise).
pub fn ring_signed_area(ring: &[Position]) -> f64 {
    ring_area2(ring) / 2.0
}

/// Mean Earth radius (m), as in the GeoJSON area formulas of d3 and turf.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// The area of a ring on the sphere in m² (Chamberlain and Duquette's formula), unsigned.
fn ring_area_m2(ring: &[Position]) -> f64 {
    let sum: f64 = ring
        .windows(2)
        .map(|w| {
            let (l1, p1) = (w[0][0].to_radians(), w[0][1].to_radians());
            let (l2, p2) = (w[1][0].to_radians(), w[1][1].to_radians());
            (l2 - l1) * (2.0 + p1.sin() + p2.sin())
        })
        .sum();
    (sum * EARTH_RADIUS_M * EARTH_RADIUS_M / 2.0).abs()
}

/// Whether `p` is inside `ring` (even-odd; a point exactly on an edge may go either way).
fn ring_contains(ring: &[Position], p: Position) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
            if p[0] < x {
                inside = !inside;
            }
        }
    }
    inside
}

impl Polygon {
    /// Planar area in square degrees: the exterior less the holes.
    pub fn area(&self) -> f64 {
        let mut rings = self.rings.iter().map(|r| ring_signed_area(r).abs());
        let outer = rings.next().unwrap_or(0.0);
        outer - rings.sum::<f64>()
    }

    pub fn contains(&self, p: Position) -> bool {
        let mut rings = self.rings.iter();
        rings.next().is_some_and(|outer| ring_contains(outer, p))
            && !rings.any(|hole| ring_contains(hole, p))
    }
}

impl MultiPolygon {
    pub fn is_empty(&self) -> bool {
        self.polygons.is_empty()
    }

    pub fn bbox(&self) -> BBox {
        let mut b = BBox::EMPTY;
        self.positions().for_each(|p| b.extend(p));
        b
    }

    /// Every position of every ring (closing positions included).
    pub fn positions(&self) -> impl Iterator<Item = Position> + '_ {
        self.polygons
            .iter()
            .flat_map(|p| p.rings.iter())
            .flat_map(|r| r.iter().copied())
    }

    /// Planar area in square degrees.
    pub fn area(&self) -> f64 {
        self.polygons.iter().map(Polygon::area).sum()
    }

    /// Area on the sphere in m².
    pub fn area_m2(&self) -> f64 {
        self.polygons
            .iter()
            .map(|p| {
                let mut rings = p.rings.iter().map(|r| ring_area_m2(r));
                rings.next().unwrap_or(0.0) - rings.sum::<f64>()
            })
            .sum()
    }

    pub fn contains(&self, p: Position) -> bool {
        self.polygons.iter().any(|poly| poly.contains(p))
    }

    /// The number of positions, a measure of size.
    pub fn vertex_count(&self) -> usize {
        self.polygons
            .iter()
            .flat_map(|p| p.rings.iter())
            .map(Vec::len)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64, s: f64) -> Ring {
        vec![[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]
    }

    #[test]
    fn areas_and_containment_count_holes() {
        let poly = Polygon {
            rings: vec![square(0.0, 0.0, 4.0), square(1.0, 1.0, 1.0)],
        };
        assert!((poly.area() - 15.0).abs() < 1e-12);
        assert!(poly.contains([0.5, 0.5]));
        assert!(!poly.contains([1.5, 1.5]));
        assert!(!poly.contains([5.0, 0.5]));
        let mp = MultiPolygon {
            polygons: vec![poly],
        };
        let b = mp.bbox();
        assert_eq!((b.min_lon, b.max_lat), (0.0, 4.0));
    }

    #[test]
    fn spherical_area_of_a_degree_at_the_equator() {
        let mp = MultiPolygon {
            polygons: vec![Polygon {
                rings: vec![square(0.0, 0.0, 1.0)],
            }],
        };
        // 111.2 km × 111.2 km, a little less as latitude grows.
        let km2 = mp.area_m2() / 1e6;
        assert!((12_300.0..12_400.0).contains(&km2), "{km2}");
    }
}
