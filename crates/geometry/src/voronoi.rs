//! Clipped Voronoi partitions: given an area and seed points inside it, one cell per seed, the cells together
//! covering the area without overlap. kiemdich uses them to draw illustrative commune polygons inside real district
//! boundaries when no commune boundaries may be redistributed.
//!
//! Each seed's Voronoi cell is the intersection of the half-planes nearer to it than to each other seed (a convex
//! polygon, built by clipping a box around the area with Sutherland–Hodgman, exact for convex shapes); the area is
//! then cut by each of the cell's half-planes in turn, a cut splitting a non-convex ring into as many rings as it
//! takes, so that a cell is a proper MultiPolygon with no zero-width bridges.

use crate::{BBox, MultiPolygon, Polygon, Position, Ring};

/// SplitMix64: small, fast and deterministic, for demo geometry and tests (not for secrets).
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` points inside `area`, well spread (best of several candidates, Mitchell's algorithm), the same for the same
/// seed. Empty when the area has no interior to sample.
pub fn points_inside(area: &MultiPolygon, n: usize, seed: u64) -> Vec<Position> {
    const CANDIDATES: usize = 12;
    const MAX_TRIES: usize = 100_000;
    let b = area.bbox();
    if b.is_empty() || area.area() <= 0.0 {
        return Vec::new();
    }
    let mut rng = SplitMix::new(seed);
    let sample = |rng: &mut SplitMix| {
        (0..MAX_TRIES).find_map(|_| {
            let p = [
                b.min_lon + rng.unit() * b.width(),
                b.min_lat + rng.unit() * b.height(),
            ];
            area.contains(p).then_some(p)
        })
    };
    let mut out: Vec<Position> = Vec::with_capacity(n);
    while out.len() < n {
        let mut best: Option<(f64, Position)> = None;
        for _ in 0..CANDIDATES {
            let Some(p) = sample(&mut rng) else {
                return out;
            };
            let d = out
                .iter()
                .map(|q| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2))
                .fold(f64::INFINITY, f64::min);
            if best.is_none_or(|(bd, _)| d > bd) {
                best = Some((d, p));
            }
        }
        if let Some((_, p)) = best {
            out.push(p);
        }
    }
    out
}

/// One cell per seed: the part of `area` nearer to that seed than to any other. Cells of seeds outside the area, or
/// whose part is empty, are empty.
pub fn voronoi_partition(area: &MultiPolygon, seeds: &[Position]) -> Vec<MultiPolygon> {
    let b = area.bbox();
    if b.is_empty() {
        return vec![MultiPolygon::default(); seeds.len()];
    }
    let margin = b.width().max(b.height()).max(1e-9);
    let frame = BBox {
        min_lon: b.min_lon - margin,
        min_lat: b.min_lat - margin,
        max_lon: b.max_lon + margin,
        max_lat: b.max_lat + margin,
    };
    seeds
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let mut cell: Vec<Position> = vec![
                [frame.min_lon, frame.min_lat],
                [frame.max_lon, frame.min_lat],
                [frame.max_lon, frame.max_lat],
                [frame.min_lon, frame.max_lat],
            ];
            for (j, &t) in seeds.iter().enumerate() {
                if i == j || s == t {
                    continue;
                }
                // Keep the points x with (x - m)·(t - s) <= 0, m the midpoint: nearer to s than to t.
                let m = [(s[0] + t[0]) / 2.0, (s[1] + t[1]) / 2.0];
                let d = [t[0] - s[0], t[1] - s[1]];
                cell = clip_half_plane(&cell, |p| -((p[0] - m[0]) * d[0] + (p[1] - m[1]) * d[1]));
                if cell.is_empty() {
                    break;
                }
            }
            clip_area(area, &cell)
        })
        .collect()
}

/// Sutherland–Hodgman against one half-plane: keeps the points where `side` ≥ 0. `poly` is open (no closing
/// position).
fn clip_half_plane(poly: &[Position], side: impl Fn(Position) -> f64) -> Vec<Position> {
    let n = poly.len();
    let mut out = Vec::with_capacity(n + 2);
    for k in 0..n {
        let (cur, next) = (poly[k], poly[(k + 1) % n]);
        let (sc, sn) = (side(cur), side(next));
        if sc >= 0.0 {
            out.push(cur);
        }
        if (sc >= 0.0) != (sn >= 0.0) {
            let t = sc / (sc - sn);
            out.push([
                cur[0] + t * (next[0] - cur[0]),
                cur[1] + t * (next[1] - cur[1]),
            ]);
        }
    }
    out.dedup();
    if out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    out
}

/// Clips `area` against the convex polygon `window` (open, counter-clockwise). Each exterior ring is cut by each
/// of the window's half-planes in turn, a cut splitting it into as many rings as it takes (no zero-width bridges);
/// holes are clipped with Sutherland–Hodgman and go with the piece that contains them.
fn clip_area(area: &MultiPolygon, window: &[Position]) -> MultiPolygon {
    let n = window.len();
    let mut polygons = Vec::new();
    for poly in &area.polygons {
        let Some(outer) = poly.rings.first() else {
            continue;
        };
        let mut pieces: Vec<Vec<Position>> = vec![outer[..outer.len().saturating_sub(1)].to_vec()];
        for k in 0..n {
            let (a, b) = (window[k], window[(k + 1) % n]);
            pieces = pieces
                .iter()
                .flat_map(|piece| split_by_line(piece, a, [b[0] - a[0], b[1] - a[1]]))
                .collect();
        }
        let mut out: Vec<Polygon> = pieces
            .into_iter()
            .map(|p| {
                p.iter()
                    .copied()
                    .chain(p.first().copied())
                    .collect::<Ring>()
            })
            .filter(|r| r.len() >= 4 && crate::ring_signed_area(r) != 0.0)
            .map(|r| Polygon { rings: vec![r] })
            .collect();
        for hole in &poly.rings[1..] {
            let mut pts: Vec<Position> = hole[..hole.len().saturating_sub(1)].to_vec();
            for k in 0..n {
                if pts.len() < 3 {
                    break;
                }
                let (a, b) = (window[k], window[(k + 1) % n]);
                pts = clip_half_plane(&pts, |p| {
                    (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
                });
            }
            let closed: Ring = pts.iter().copied().chain(pts.first().copied()).collect();
            if pts.len() < 3 || crate::ring_signed_area(&closed) == 0.0 {
                continue;
            }
            let inner = [
                pts.iter().map(|p| p[0]).sum::<f64>() / pts.len() as f64,
                pts.iter().map(|p| p[1]).sum::<f64>() / pts.len() as f64,
            ];
            if let Some(owner) = out.iter_mut().find(|p| p.contains(inner)) {
                owner.rings.push(closed);
            }
        }
        polygons.extend(out);
    }
    MultiPolygon { polygons }
}

/// The parts of the open ring `ring` left of the line through `a` with direction `d` (on it counts as left), as
/// open rings. A simple ring crossing the line k times gives up to k/2 rings, each closed along the line between
/// the points where the ring leaves the half-plane and where it comes back.
fn split_by_line(ring: &[Position], a: Position, d: Position) -> Vec<Vec<Position>> {
    let side = |p: Position| d[0] * (p[1] - a[1]) - d[1] * (p[0] - a[0]);
    let along = |p: Position| d[0] * (p[0] - a[0]) + d[1] * (p[1] - a[1]);
    let n = ring.len();
    let sides: Vec<f64> = ring.iter().map(|&p| side(p)).collect();
    let Some(start) = sides.iter().position(|&s| s < 0.0) else {
        return vec![ring.to_vec()];
    };
    if sides.iter().all(|&s| s < 0.0) {
        return Vec::new();
    }
    // Chains inside the half-plane, each from the point where the ring enters to where it leaves.
    struct Chain {
        points: Vec<Position>,
        enter: f64,
        leave: f64,
    }
    let mut chains: Vec<Chain> = Vec::new();
    let mut current: Option<Chain> = None;
    for step in 0..n {
        let (i, j) = ((start + step) % n, (start + step + 1) % n);
        let (si, sj) = (sides[i], sides[j]);
        let (pi, pj) = (ring[i], ring[j]);
        let cross = || {
            let t = si / (si - sj);
            [pi[0] + t * (pj[0] - pi[0]), pi[1] + t * (pj[1] - pi[1])]
        };
        match (si >= 0.0, sj >= 0.0) {
            (false, true) => {
                let e = cross();
                let mut points = vec![e];
                if pj != e {
                    points.push(pj);
                }
                current = Some(Chain {
                    points,
                    enter: along(e),
                    leave: 0.0,
                });
            }
            (true, true) => {
                if let Some(c) = current.as_mut() {
                    c.points.push(pj);
                }
            }
            (true, false) => {
                let x = cross();
                if let Some(mut c) = current.take() {
                    if c.points.last() != Some(&x) {
                        c.points.push(x);
                    }
                    c.leave = along(x);
                    chains.push(c);
                }
            }
            (false, false) => {}
        }
    }
    // Along the line, the crossings pair up in order: each leaving point joins the entering point beside it.
    let mut ends: Vec<(f64, usize, bool)> = chains
        .iter()
        .enumerate()
        .flat_map(|(c, ch)| [(ch.enter, c, true), (ch.leave, c, false)])
        .collect();
    ends.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut next_of_leave = vec![usize::MAX; chains.len()];
    for pair in ends.chunks(2) {
        if let [(_, c1, e1), (_, c2, e2)] = *pair {
            match (e1, e2) {
                (false, true) => next_of_leave[c1] = c2,
                (true, false) => next_of_leave[c2] = c1,
                // Not a simple ring: keep the chains as they are rather than guess.
                _ => return chains.into_iter().map(|c| c.points).collect(),
            }
        }
    }
    let mut used = vec![false; chains.len()];
    let mut out = Vec::new();
    for first in 0..chains.len() {
        if used[first] {
            continue;
        }
        let mut ring_out: Vec<Position> = Vec::new();
        let mut c = first;
        while c < chains.len() && !used[c] {
            used[c] = true;
            for &p in &chains[c].points {
                if ring_out.last() != Some(&p) {
                    ring_out.push(p);
                }
            }
            c = next_of_leave[c];
        }
        if ring_out.len() > 1 && ring_out.first() == ring_out.last() {
            ring_out.pop();
        }
        if ring_out.len() >= 3 {
            out.push(ring_out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_counter_clockwise_and_cells_cover_a_square() {
        let square = MultiPolygon {
            polygons: vec![Polygon {
                rings: vec![vec![
                    [0.0, 0.0],
                    [1.0, 0.0],
                    [1.0, 1.0],
                    [0.0, 1.0],
                    [0.0, 0.0],
                ]],
            }],
        };
        let cells = voronoi_partition(&square, &[[0.25, 0.5], [0.75, 0.5]]);
        assert!((cells[0].area() - 0.5).abs() < 1e-12);
        assert!((cells[1].area() - 0.5).abs() < 1e-12);
        assert!(cells[0].contains([0.1, 0.9]) && !cells[0].contains([0.6, 0.5]));
    }
}
