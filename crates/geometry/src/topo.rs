//! Topology-aware simplification, the TopoJSON way: neighbours keep sharing their borders, so simplifying opens no
//! gaps or slivers between them.
//!
//! 1. Snap: positions within floating-point noise of each other (one point computed twice) become one.
//! 2. Node the rings: a position of any ring that lies on another ring's edge is inserted into that edge, so both
//!    sides of a border have the same positions; then quantize to a grid of step `tolerance / 4`.
//! 3. Cut each ring into arcs where the set of rings using its edges or vertices changes (a junction), so that a
//!    border between two units is one arc whichever side it is read from.
//! 4. Simplify each distinct arc once (Douglas–Peucker, endpoints kept) and reassemble the rings from the arcs; a
//!    ring that collapses below three distinct positions or to no area is dropped, and with an exterior its holes.

use crate::{BBox, MultiPolygon, Polygon, Position, Ring};
use std::collections::HashMap;

type P = [i64; 2];

/// Positions nearer than this share of the extent are one point computed twice, and a position this near an edge
/// lies on it: far above floating-point noise, far below anything a map shows (about 1 mm across a province).
const SNAP_RELATIVE: f64 = 1e-9;

/// The simplification tolerance (degrees) for showing `extent` on a map about `pixels` wide: half a pixel.
pub fn tolerance_for_extent(extent: &BBox, pixels: f64) -> f64 {
    let span = extent.width().max(extent.height());
    if span.is_nan() || span <= 0.0 || pixels.is_nan() || pixels <= 0.0 {
        return 0.0;
    }
    span / pixels / 2.0
}

/// Simplifies `shapes` together with a tolerance in degrees, keeping shared borders shared. The result has one entry
/// per input, in order; an entry is empty when everything of it collapsed. With a tolerance of zero the shapes are
/// returned as they are.
pub fn simplify_shared(shapes: &[MultiPolygon], tolerance: f64) -> Vec<MultiPolygon> {
    if !tolerance.is_finite() || tolerance <= 0.0 {
        return shapes.to_vec();
    }
    let extent = shapes.iter().fold(BBox::EMPTY, |b, s| b.union(&s.bbox()));
    if extent.is_empty() {
        return shapes.to_vec();
    }
    let step = tolerance / 4.0;
    let origin = [extent.min_lon, extent.min_lat];
    let q = Quantizer { origin, step };

    // 1. Snap: a point computed twice with rounding noise becomes one position. Rings are indexed in shape,
    //    polygon, ring order, open (without the closing position).
    let eps = extent.width().max(extent.height()) * SNAP_RELATIVE;
    let mut snap = Snapper::new(eps);
    let mut rings: Vec<Vec<Position>> = Vec::new();
    let mut owner: Vec<(usize, usize, usize)> = Vec::new();
    for (s, shape) in shapes.iter().enumerate() {
        for (p, poly) in shape.polygons.iter().enumerate() {
            for (r, ring) in poly.rings.iter().enumerate() {
                let mut out: Vec<Position> = Vec::with_capacity(ring.len());
                for &pos in ring {
                    let pt = snap.snap(pos);
                    if out.last() != Some(&pt) {
                        out.push(pt);
                    }
                }
                if out.len() > 1 && out.first() == out.last() {
                    out.pop();
                }
                rings.push(out);
                owner.push((s, p, r));
            }
        }
    }

    // 2. Node (before quantizing, so that both sides of a border get the very same positions), quantize, and fold
    //    away the spikes that quantizing can make. A ring left with fewer than three positions has no area: it
    //    takes no part in the topology.
    //    Quantizing can put a position exactly on another ring's edge: a second, exact noding on the grid.
    let on_grid: Vec<Vec<Position>> = node(rings, eps)
        .into_iter()
        .map(|ring| {
            let mut r: Vec<P> = ring.into_iter().map(|pos| q.quantize(pos)).collect();
            r.dedup();
            r.into_iter().map(|p| [p[0] as f64, p[1] as f64]).collect()
        })
        .collect();
    let rings: Vec<Vec<P>> = node(on_grid, 0.0)
        .into_iter()
        .map(|ring| {
            let r = remove_spikes(
                ring.into_iter()
                    .map(|p| [p[0] as i64, p[1] as i64])
                    .collect(),
            );
            if r.len() < 3 { Vec::new() } else { r }
        })
        .collect();

    // 3. Which rings use each edge and each vertex.
    let mut edge_rings: HashMap<(P, P), Vec<u32>> = HashMap::new();
    let mut vertex_rings: HashMap<P, Vec<u32>> = HashMap::new();
    for (i, ring) in rings.iter().enumerate() {
        let id = i as u32;
        for k in 0..ring.len() {
            let (a, b) = (ring[k], ring[(k + 1) % ring.len()]);
            add(edge_rings.entry(edge_key(a, b)).or_default(), id);
            add(vertex_rings.entry(a).or_default(), id);
        }
    }
    let edge_set = |a: P, b: P| {
        edge_rings
            .get(&edge_key(a, b))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    };

    // Arcs: each distinct arc simplified once, rings as lists of (arc, reversed).
    let mut arcs: Vec<Vec<P>> = Vec::new();
    let mut arc_index: HashMap<Vec<P>, usize> = HashMap::new();
    let mut ring_arcs: Vec<Vec<(usize, bool)>> = Vec::with_capacity(rings.len());
    for ring in &rings {
        let n = ring.len();
        if n < 3 {
            ring_arcs.push(Vec::new());
            continue;
        }
        let cuts: Vec<usize> = (0..n)
            .filter(|&k| {
                let v = ring[k];
                let before = edge_set(ring[(k + n - 1) % n], v);
                let after = edge_set(v, ring[(k + 1) % n]);
                let at = vertex_rings.get(&v).map(Vec::as_slice).unwrap_or(&[]);
                before != after || at != before
            })
            .collect();
        let mut parts: Vec<Vec<P>> = Vec::new();
        if cuts.is_empty() {
            // A ring with no junction is one closed arc, started at its least position for a canonical form.
            let start = (0..n).min_by_key(|&k| ring[k]).unwrap_or(0);
            let mut arc: Vec<P> = (0..=n).map(|k| ring[(start + k) % n]).collect();
            if arc[1] > arc[n - 1] {
                arc.reverse();
                let (key, reversed) = (arc, true);
                ring_arcs.push(vec![intern(&mut arcs, &mut arc_index, key, reversed)]);
            } else {
                ring_arcs.push(vec![intern(&mut arcs, &mut arc_index, arc, false)]);
            }
            continue;
        }
        for (c, &from) in cuts.iter().enumerate() {
            let to = cuts.get(c + 1).copied().unwrap_or(cuts[0] + n);
            parts.push((from..=to).map(|k| ring[k % n]).collect());
        }
        let mut list = Vec::with_capacity(parts.len());
        for mut arc in parts {
            let last = arc.len() - 1;
            let reversed = arc[0] > arc[last] || (arc[0] == arc[last] && arc[1] > arc[last - 1]);
            if reversed {
                arc.reverse();
            }
            list.push(intern(&mut arcs, &mut arc_index, arc, reversed));
        }
        ring_arcs.push(list);
    }

    // 4. Simplify each arc once; the tolerance in grid steps.
    let simplified: Vec<Vec<P>> = arcs.iter().map(|a| douglas_peucker(a, 4.0)).collect();

    let mut out: Vec<MultiPolygon> = vec![MultiPolygon::default(); shapes.len()];
    // Holes follow their exterior; a dropped exterior drops its polygon's holes.
    let mut current: Option<(usize, usize)> = None;
    let mut keep_polygon = false;
    for (i, list) in ring_arcs.iter().enumerate() {
        let (s, p, r) = owner[i];
        let mut pts: Vec<P> = Vec::new();
        for &(arc, reversed) in list {
            let a = &simplified[arc];
            let iter: Box<dyn Iterator<Item = &P>> = if reversed {
                Box::new(a.iter().rev())
            } else {
                Box::new(a.iter())
            };
            for &pt in iter {
                if pts.last() != Some(&pt) {
                    pts.push(pt);
                }
            }
        }
        let ok = ring_ok(&pts);
        if r == 0 {
            keep_polygon = ok;
            current = Some((s, p));
            if ok {
                out[s].polygons.push(Polygon { rings: Vec::new() });
            }
        }
        if ok
            && keep_polygon
            && current == Some((s, p))
            && let Some(poly) = out[s].polygons.last_mut()
        {
            let mut ring: Ring = pts.iter().map(|&pt| q.position(pt)).collect();
            if ring.first() != ring.last()
                && let Some(&first) = ring.first()
            {
                ring.push(first);
            }
            poly.rings.push(ring);
        }
    }
    out
}

fn add(list: &mut Vec<u32>, id: u32) {
    if let Err(at) = list.binary_search(&id) {
        list.insert(at, id);
    }
}

fn edge_key(a: P, b: P) -> (P, P) {
    if a <= b { (a, b) } else { (b, a) }
}

fn intern(
    arcs: &mut Vec<Vec<P>>,
    index: &mut HashMap<Vec<P>, usize>,
    arc: Vec<P>,
    reversed: bool,
) -> (usize, bool) {
    if let Some(&i) = index.get(&arc) {
        return (i, reversed);
    }
    arcs.push(arc.clone());
    index.insert(arc, arcs.len() - 1);
    (arcs.len() - 1, reversed)
}

/// A closed ring (given with its closing position or without) that still has area.
fn ring_ok(pts: &[P]) -> bool {
    let mut pts = pts;
    if pts.len() > 1 && pts.first() == pts.last() {
        pts = &pts[..pts.len() - 1];
    }
    if pts.len() < 3 {
        return false;
    }
    let n = pts.len();
    let area2: i128 = (0..n)
        .map(|k| {
            let (a, b) = (pts[k], pts[(k + 1) % n]);
            i128::from(a[0]) * i128::from(b[1]) - i128::from(b[0]) * i128::from(a[1])
        })
        .sum();
    area2 != 0
}

struct Quantizer {
    origin: Position,
    step: f64,
}

impl Quantizer {
    fn quantize(&self, p: Position) -> P {
        [
            ((p[0] - self.origin[0]) / self.step).round() as i64,
            ((p[1] - self.origin[1]) / self.step).round() as i64,
        ]
    }

    fn position(&self, p: P) -> Position {
        [
            self.origin[0] + p[0] as f64 * self.step,
            self.origin[1] + p[1] as f64 * self.step,
        ]
    }
}

/// Gives positions that are one point computed twice (within `eps`, rounding noise) the first one's value;
/// distinct points stay distinct, however near.
struct Snapper {
    eps: f64,
    seen: HashMap<P, Vec<Position>>,
}

impl Snapper {
    fn new(eps: f64) -> Snapper {
        Snapper {
            eps,
            seen: HashMap::new(),
        }
    }

    fn cell(&self, p: Position) -> P {
        [
            (p[0] / (self.eps * 4.0)).floor() as i64,
            (p[1] / (self.eps * 4.0)).floor() as i64,
        ]
    }

    fn snap(&mut self, pos: Position) -> Position {
        let c = self.cell(pos);
        for dx in -1..=1 {
            for dy in -1..=1 {
                if let Some(list) = self.seen.get(&[c[0] + dx, c[1] + dy])
                    && let Some(to) = list.iter().find(|q| {
                        (q[0] - pos[0]).abs() <= self.eps && (q[1] - pos[1]).abs() <= self.eps
                    })
                {
                    return *to;
                }
            }
        }
        self.seen.entry(c).or_default().push(pos);
        pos
    }
}

/// Inserts into every ring edge the distinct positions (of any ring) that lie on it, within `eps`.
fn node(rings: Vec<Vec<Position>>, eps: f64) -> Vec<Vec<Position>> {
    let mut points: Vec<Position> = rings.iter().flatten().copied().collect();
    points.sort_unstable_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    points.dedup();
    if points.is_empty() {
        return rings;
    }
    // A uniform grid over the positions, cells about as large as a typical edge.
    let edges: usize = rings.iter().map(Vec::len).sum();
    let total: f64 = rings
        .iter()
        .flat_map(|r| (0..r.len()).map(move |k| (r[k], r[(k + 1) % r.len()])))
        .map(|(a, b)| (b[0] - a[0]).hypot(b[1] - a[1]))
        .sum();
    let cell = (total / edges.max(1) as f64).max(eps * 16.0);
    let key = |x: f64, y: f64| [(x / cell).floor() as i64, (y / cell).floor() as i64];
    let mut grid: HashMap<P, Vec<Position>> = HashMap::new();
    for &p in &points {
        grid.entry(key(p[0], p[1])).or_default().push(p);
    }
    rings
        .into_iter()
        .map(|ring| {
            let n = ring.len();
            if n < 2 {
                return ring;
            }
            let mut out = Vec::with_capacity(n);
            for k in 0..n {
                let (a, b) = (ring[k], ring[(k + 1) % n]);
                out.push(a);
                let mut on: Vec<(f64, Position)> = Vec::new();
                let (x0, x1) = (a[0].min(b[0]) - eps, a[0].max(b[0]) + eps);
                let (y0, y1) = (a[1].min(b[1]) - eps, a[1].max(b[1]) + eps);
                let (c0, c1) = (key(x0, y0), key(x1, y1));
                for cx in c0[0]..=c1[0] {
                    for cy in c0[1]..=c1[1] {
                        let Some(list) = grid.get(&[cx, cy]) else {
                            continue;
                        };
                        for &p in list {
                            if p == a || p == b || p[0] < x0 || p[0] > x1 || p[1] < y0 || p[1] > y1
                            {
                                continue;
                            }
                            if let Some(t) = on_edge(a, b, p, eps) {
                                on.push((t, p));
                            }
                        }
                    }
                }
                on.sort_by(|x, y| x.0.total_cmp(&y.0));
                out.extend(on.into_iter().map(|(_, p)| p));
            }
            out.dedup();
            out
        })
        .collect()
}

/// Removes spikes from an open ring: a position followed by a step and the same step back (x, y, x becomes x),
/// also across the ring's start.
fn remove_spikes(ring: Vec<P>) -> Vec<P> {
    let mut out: Vec<P> = Vec::with_capacity(ring.len());
    for p in ring {
        if out.last() == Some(&p) {
            continue;
        }
        if out.len() >= 2 && out[out.len() - 2] == p {
            out.pop();
            continue;
        }
        out.push(p);
    }
    loop {
        let n = out.len();
        if n >= 2 && out[0] == out[n - 1] {
            out.pop();
        } else if n >= 3 && out[n - 2] == out[0] {
            // x, tip | x …: the spike's tip is the last position.
            out.truncate(n - 2);
        } else if n >= 3 && out[n - 1] == out[1] {
            // The spike's tip is the first position.
            out.remove(0);
            out.pop();
        } else {
            break;
        }
    }
    out
}

/// Where `p` lies along edge ab (0..1, exclusive) when it is within `eps` of it.
fn on_edge(a: Position, b: Position, p: Position, eps: f64) -> Option<f64> {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    if len2 == 0.0 {
        return None;
    }
    let (px, py) = (p[0] - a[0], p[1] - a[1]);
    let t = (px * dx + py * dy) / len2;
    if t <= 0.0 || t >= 1.0 {
        return None;
    }
    let cross = px * dy - py * dx;
    (cross * cross <= eps * eps * len2).then_some(t)
}

/// Douglas–Peucker on a polyline, endpoints kept; a closed polyline (first equals last) is split at its farthest
/// position first.
fn douglas_peucker(line: &[P], tolerance: f64) -> Vec<P> {
    let n = line.len();
    if n <= 2 {
        return line.to_vec();
    }
    let mut keep = vec![false; n];
    keep[0] = true;
    keep[n - 1] = true;
    if line[0] == line[n - 1] {
        let far = (1..n - 1)
            .max_by(|&i, &j| dist2(line[0], line[i]).total_cmp(&dist2(line[0], line[j])))
            .unwrap_or(n / 2);
        keep[far] = true;
        dp(line, 0, far, tolerance * tolerance, &mut keep);
        dp(line, far, n - 1, tolerance * tolerance, &mut keep);
    } else {
        dp(line, 0, n - 1, tolerance * tolerance, &mut keep);
    }
    line.iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(*p))
        .collect()
}

fn dist2(a: P, b: P) -> f64 {
    let (dx, dy) = ((b[0] - a[0]) as f64, (b[1] - a[1]) as f64);
    dx * dx + dy * dy
}

fn seg_dist2(a: P, b: P, p: P) -> f64 {
    let (dx, dy) = ((b[0] - a[0]) as f64, (b[1] - a[1]) as f64);
    let len2 = dx * dx + dy * dy;
    if len2 == 0.0 {
        return dist2(a, p);
    }
    let (px, py) = ((p[0] - a[0]) as f64, (p[1] - a[1]) as f64);
    let t = ((px * dx + py * dy) / len2).clamp(0.0, 1.0);
    let (ex, ey) = (px - t * dx, py - t * dy);
    ex * ex + ey * ey
}

fn dp(line: &[P], first: usize, last: usize, tol2: f64, keep: &mut [bool]) {
    // An explicit stack: rings of many thousand positions must not recurse deeply.
    let mut stack = vec![(first, last)];
    while let Some((i, j)) = stack.pop() {
        if j <= i + 1 {
            continue;
        }
        let (mut far, mut best) = (i, -1.0);
        for k in i + 1..j {
            let d = seg_dist2(line[i], line[j], line[k]);
            if d > best {
                best = d;
                far = k;
            }
        }
        if best > tol2 {
            keep[far] = true;
            stack.push((i, far));
            stack.push((far, j));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp(ring: Vec<Position>) -> MultiPolygon {
        MultiPolygon {
            polygons: vec![Polygon { rings: vec![ring] }],
        }
    }

    #[test]
    fn a_wiggly_shared_border_stays_shared() {
        // Two squares sharing a wiggly vertical border at x = 1; the right one draws the border with
        // rounding noise and with one more vertex, midway along one of the left's edges.
        let wiggle: Vec<Position> = (0..=20)
            .map(|i| [1.0 + 0.0001 * f64::from(i % 2), f64::from(i) / 20.0])
            .collect();
        let mut left = vec![[0.0, 0.0]];
        left.extend(wiggle.iter().copied());
        left.extend([[0.0, 1.0], [0.0, 0.0]]);
        let mut drawn = wiggle.clone();
        drawn.insert(
            8,
            [
                (wiggle[7][0] + wiggle[8][0]) / 2.0,
                (wiggle[7][1] + wiggle[8][1]) / 2.0,
            ],
        );
        let mut right: Vec<Position> = drawn.iter().rev().map(|p| [p[0] + 1e-12, p[1]]).collect();
        right.extend([[2.0, 0.0], [2.0, 1.0]]);
        right.insert(0, [2.0, 1.0]);
        let out = simplify_shared(&[mp(left), mp(right)], 0.01);
        let border = |m: &MultiPolygon| -> Vec<Position> {
            let mut v: Vec<Position> = m.polygons[0].rings[0]
                .iter()
                .copied()
                .filter(|p| p[0] > 0.5 && p[0] < 1.5)
                .collect();
            v.sort_by(|a, b| a[1].total_cmp(&b[1]));
            v.dedup();
            v
        };
        assert_eq!(border(&out[0]), border(&out[1]));
        // The wiggle is below the tolerance: the border is straight now.
        assert!(border(&out[0]).len() <= 3, "{:?}", border(&out[0]));
    }

    #[test]
    fn a_tiny_ring_collapses() {
        let tiny = vec![[0.0, 0.0], [1e-5, 0.0], [1e-5, 1e-5], [0.0, 0.0]];
        let big = vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]];
        let out = simplify_shared(&[mp(tiny), mp(big)], 0.01);
        assert!(out[0].is_empty());
        assert_eq!(out[1].polygons[0].rings[0].len(), 5);
    }
}
