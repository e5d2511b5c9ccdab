#![expect(clippy::unwrap_used, reason = "tests fail loudly")]
//! Properties of the partition and the simplification on generated shapes and on the real Sóc Trăng districts.

use kiemdich_geometry::{
    MultiPolygon, Polygon, Position, SplitMix, parse_feature_collection, points_inside,
    simplify_shared, tolerance_for_extent, voronoi_partition,
};
use proptest::prelude::*;
use std::collections::HashMap;

/// A star-shaped, non-convex polygon around (106, 9.6) with `radii.len()` points.
fn star(radii: &[f64]) -> MultiPolygon {
    let n = radii.len();
    let mut ring: Vec<Position> = radii
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let a = std::f64::consts::TAU * i as f64 / n as f64;
            [106.0 + r * a.cos(), 9.6 + r * a.sin()]
        })
        .collect();
    ring.push(ring[0]);
    MultiPolygon {
        polygons: vec![Polygon { rings: vec![ring] }],
    }
}

/// Each undirected edge of every ring of `shapes`, with how many times rings use it.
fn edge_counts(shapes: &[MultiPolygon]) -> HashMap<([u64; 2], [u64; 2]), usize> {
    let mut counts = HashMap::new();
    for ring in shapes
        .iter()
        .flat_map(|s| &s.polygons)
        .flat_map(|p| &p.rings)
    {
        for w in ring.windows(2) {
            let (a, b) = (w[0].map(f64::to_bits), w[1].map(f64::to_bits));
            let key = if a <= b { (a, b) } else { (b, a) };
            *counts.entry(key).or_insert(0) += 1;
        }
    }
    counts
}

fn check_partition(area: &MultiPolygon, seeds: &[Position], probe_seed: u64) {
    let cells = voronoi_partition(area, seeds);
    let total: f64 = cells.iter().map(MultiPolygon::area).sum();
    assert!(
        (total - area.area()).abs() <= 1e-9 * area.area().max(1e-12),
        "cells {total} vs area {}",
        area.area()
    );
    for (seed, cell) in seeds.iter().zip(&cells) {
        assert!(cell.contains(*seed), "seed {seed:?} outside its cell");
    }
    // No overlap and no gap: every probe inside the area is in exactly one cell.
    for p in points_inside(area, 100, probe_seed) {
        let n = cells.iter().filter(|c| c.contains(p)).count();
        assert_eq!(n, 1, "probe {p:?} in {n} cells");
    }
}

fn check_simplified(area: &MultiPolygon, seeds: &[Position], pixels: f64) {
    let cells = voronoi_partition(area, seeds);
    // The outline goes in with the cells, so that every border, inner or outer, has two sides.
    let mut shapes = cells.clone();
    shapes.push(area.clone());
    let tolerance = tolerance_for_extent(&area.bbox(), pixels);
    let out = simplify_shared(&shapes, tolerance);
    assert_eq!(out.len(), shapes.len());
    for ring in out.iter().flat_map(|s| &s.polygons).flat_map(|p| &p.rings) {
        assert!(ring.len() >= 4, "ring of {} positions", ring.len());
        assert_eq!(ring.first(), ring.last(), "open ring");
    }
    // Shared borders are the same positions on both sides: every edge is used exactly twice.
    for (edge, n) in edge_counts(&out) {
        assert_eq!(n, 2, "edge {edge:?} used {n} times: a gap or a sliver");
    }
    let before: f64 = cells.iter().map(MultiPolygon::area).sum();
    let after: f64 = out[..cells.len()].iter().map(MultiPolygon::area).sum();
    assert!(
        (after - before).abs() <= 0.05 * before,
        "area {before} became {after}"
    );
    // And it did simplify something whenever there was something to simplify.
    let v_before: usize = shapes.iter().map(MultiPolygon::vertex_count).sum();
    let v_after: usize = out.iter().map(MultiPolygon::vertex_count).sum();
    assert!(v_after <= v_before + 4 * seeds.len() * seeds.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn voronoi_cells_partition_a_star(
        radii in proptest::collection::vec(0.05f64..0.4, 5..40),
        n in 1usize..15,
        seed in any::<u64>(),
    ) {
        let area = star(&radii);
        let seeds = points_inside(&area, n, seed);
        prop_assert_eq!(seeds.len(), n);
        check_partition(&area, &seeds, seed ^ 0x5eed);
    }

    #[test]
    fn simplified_partitions_keep_shared_borders(
        radii in proptest::collection::vec(0.05f64..0.4, 5..60),
        n in 1usize..12,
        seed in any::<u64>(),
        pixels in 100.0f64..3000.0,
    ) {
        let area = star(&radii);
        let seeds = points_inside(&area, n, seed);
        check_simplified(&area, &seeds, pixels);
    }
}

#[test]
fn seeds_are_deterministic() {
    let area = star(&[0.3, 0.1, 0.3, 0.1, 0.3, 0.1]);
    assert_eq!(points_inside(&area, 5, 9), points_inside(&area, 5, 9));
    assert_ne!(points_inside(&area, 5, 9), points_inside(&area, 5, 10));
    let mut a = SplitMix::new(1);
    assert!((0..1000).map(|_| a.unit()).all(|x| (0.0..1.0).contains(&x)));
}

const DISTRICTS: &str = include_str!("../../cli/data/soctrang_districts.geojson");

/// The 11 district polygons of Sóc Trăng (every one valid).
fn districts() -> Vec<MultiPolygon> {
    parse_feature_collection(DISTRICTS)
        .unwrap()
        .into_iter()
        .map(|f| f.unwrap().geometry)
        .collect()
}

#[test]
fn soc_trang_districts_partition_and_simplify_together() {
    let districts = districts();
    assert_eq!(districts.len(), 11);
    let mut communes = Vec::new();
    for (i, d) in districts.iter().enumerate() {
        let seeds = points_inside(d, 10, i as u64);
        check_partition(d, &seeds, 77);
        communes.extend(voronoi_partition(d, &seeds));
    }
    let extent = districts
        .iter()
        .fold(districts[0].bbox(), |b, d| b.union(&d.bbox()));
    let out = simplify_shared(&communes, tolerance_for_extent(&extent, 1000.0));
    let counts = edge_counts(&out);
    // Inner borders are used twice; the province's outline once. No edge thrice (a sliver) and the outline's
    // length stays about the province's perimeter.
    assert!(counts.values().all(|&n| n <= 2));
    let once: f64 = counts
        .iter()
        .filter(|(_, n)| **n == 1)
        .map(|((a, b), _)| {
            let (a, b) = (a.map(f64::from_bits), b.map(f64::from_bits));
            (b[0] - a[0]).hypot(b[1] - a[1])
        })
        .sum();
    let perimeter: f64 = {
        let outline = simplify_shared(&districts, tolerance_for_extent(&extent, 1000.0));
        edge_counts(&outline)
            .iter()
            .filter(|(_, n)| **n == 1)
            .map(|((a, b), _)| {
                let (a, b) = (a.map(f64::from_bits), b.map(f64::from_bits));
                (b[0] - a[0]).hypot(b[1] - a[1])
            })
            .sum()
    };
    assert!(
        (once - perimeter).abs() < 0.05 * perimeter,
        "outline {once} vs province perimeter {perimeter}"
    );
    let before: f64 = communes.iter().map(MultiPolygon::area).sum();
    let after: f64 = out.iter().map(MultiPolygon::area).sum();
    assert!((after - before).abs() < 0.02 * before, "{before} → {after}");
    let kept: usize = out.iter().map(MultiPolygon::vertex_count).sum();
    let had: usize = communes.iter().map(MultiPolygon::vertex_count).sum();
    assert!(kept * 2 < had, "{had} → {kept} positions");
}
