//! `kiemdich bench map`: the public map at national size. Generated geometry: 63 provinces, each the 11 real
//! district polygons of Sóc Trăng moved to a place of its own, each district partitioned among 15 or 16 communes
//! (clipped Voronoi), 10,600 communes in all. Times the topology-aware simplification of the whole country and
//! the build of one province's communes layer (what a cold cache costs), then, over HTTP with the national
//! boundaries and 1,000,000 cases loaded (see [`crate::bench_map_cases`]: the load, every commune's level, the
//! staff map's cluster query), a province's communes layer from the warm cache under wrk, next to `/healthz` in
//! the same run (the server's floor).

use crate::Result;
use kiemdich_domain::{AdminUnit, Rules, UnitCode};
use kiemdich_geometry::{
    BBox, MultiPolygon, parse_feature_collection, points_inside, simplify_shared,
    tolerance_for_extent, voronoi_partition,
};
use kiemdich_store::{NewBoundary, Store};
use std::path::Path;
use std::time::Instant;

const PROVINCES: usize = 63;
const COMMUNES: usize = 10_600;
const DISTRICTS: &str = include_str!("../data/soctrang_districts.geojson");

/// National units and their boundaries: (units, province of each commune boundary, boundaries).
fn generate() -> Result<(Vec<AdminUnit>, Vec<NewBoundary>)> {
    let districts: Vec<MultiPolygon> = parse_feature_collection(DISTRICTS)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|f| f.map(|f| f.geometry).map_err(|e| e.to_string()))
        .collect::<Result<_>>()?;
    let per_province = districts.len();
    let total_districts = PROVINCES * per_province;
    let extra = COMMUNES - total_districts * 15;
    let day = chrono::NaiveDate::from_ymd_opt(2021, 11, 1).ok_or("date")?;
    let (mut units, mut rows) = (Vec::new(), Vec::new());
    let mut commune = 10_000;
    for p in 0..PROVINCES {
        let province = format!("{}", 10 + p);
        units.push(AdminUnit::new(
            &province,
            &format!("Tỉnh {province}"),
            "province",
            None,
        )?);
        let (dx, dy) = ((p % 9) as f64 * 0.8, (p / 9) as f64 * 0.7);
        for (d, shape) in districts.iter().enumerate() {
            let index = p * per_province + d;
            let district = format!("{}", 100 + index);
            units.push(AdminUnit::new(
                &district,
                &format!("Huyện {district}"),
                "district",
                Some(&province),
            )?);
            let moved = MultiPolygon {
                polygons: shape
                    .polygons
                    .iter()
                    .map(|poly| kiemdich_geometry::Polygon {
                        rings: poly
                            .rings
                            .iter()
                            .map(|r| {
                                r.iter()
                                    .map(|q| [q[0] + dx - 3.0, q[1] + dy + 2.0])
                                    .collect()
                            })
                            .collect(),
                    })
                    .collect(),
            };
            let n = 15 + usize::from(index < extra);
            let seeds = points_inside(&moved, n, index as u64);
            for cell in voronoi_partition(&moved, &seeds) {
                let code = format!("{commune}");
                commune += 1;
                units.push(AdminUnit::new(
                    &code,
                    &format!("Xã {code}"),
                    "commune",
                    Some(&district),
                )?);
                rows.push(NewBoundary {
                    unit: UnitCode::parse(&code)?,
                    geometry: cell,
                    valid_from: day,
                    source: "bench: generated".into(),
                });
            }
        }
    }
    Ok((units, rows))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Requests per second wrk measured at `url` (gzip accepted), or why not.
fn wrk(url: &str, seconds: u64, connections: usize) -> std::result::Result<f64, String> {
    let out = std::process::Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "-H",
            "Accept-Encoding: gzip",
            url,
        ])
        .output()
        .map_err(|e| format!("wrk: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("Non-2xx") {
        return Err(format!("wrk saw errors: {text}"));
    }
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("wrk: no rate in {text}"))
}

pub async fn bench_map(tmp: &Path, seconds: u64) -> Result<()> {
    let t = Instant::now();
    let (units, rows) = tokio::task::spawn_blocking(generate)
        .await
        .map_err(|e| e.to_string())??;
    let generated = t.elapsed().as_secs_f64();
    let shapes: Vec<MultiPolygon> = rows.iter().map(|r| r.geometry.clone()).collect();
    let vertices: usize = shapes.iter().map(MultiPolygon::vertex_count).sum();

    // The whole country at national zoom, three times.
    let national = shapes.clone();
    let (simplify_s, kept) = tokio::task::spawn_blocking(move || {
        let extent = national.iter().fold(BBox::EMPTY, |b, s| b.union(&s.bbox()));
        let tolerance = tolerance_for_extent(&extent, kiemdich_server::MAP_PIXELS);
        let mut times = Vec::new();
        let mut kept = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let out = simplify_shared(&national, tolerance);
            times.push(t.elapsed().as_secs_f64());
            kept = out.iter().map(MultiPolygon::vertex_count).sum::<usize>();
        }
        (median(times), kept)
    })
    .await
    .map_err(|e| e.to_string())?;
    println!(
        "| map: simplify all {COMMUNES} communes at national zoom ({vertices} positions → {kept}; generated in {generated:.1} s) | {simplify_s:.2} s (p50 of 3) | — | — |"
    );

    // One province's communes layer, built from scratch (the cold cache).
    let province: Vec<MultiPolygon> = shapes[..COMMUNES / PROVINCES].to_vec();
    let properties: Vec<String> = rows[..province.len()]
        .iter()
        .map(|r| format!(r#"{{"code":"{}","cases_7d":0}}"#, r.unit))
        .collect();
    let (build_ms, gz_kib) = tokio::task::spawn_blocking(move || {
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..5 {
            let t = Instant::now();
            let body =
                kiemdich_server::geojson_body(&properties, &province, kiemdich_server::MAP_PIXELS);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            size = body.map(|b| b.gzip.len()).unwrap_or(0);
        }
        (median(times), size as f64 / 1024.0)
    })
    .await
    .map_err(|e| e.to_string())?;
    println!(
        "| map: one province's communes layer built (simplify, serialize, gzip), {} communes | {build_ms:.0} ms (p50 of 5), {gz_kib:.0} KiB gzipped | — | < 300 KB gzipped |",
        COMMUNES / PROVINCES
    );

    // Over HTTP with the national boundaries loaded.
    let dir = tmp.join("map");
    let store = Store::open_data_dir(&dir)
        .await
        .map_err(|e| e.to_string())?;
    store
        .upsert_units(&units)
        .await
        .map_err(|e| e.to_string())?;
    let t = Instant::now();
    store
        .upsert_boundaries(&rows)
        .await
        .map_err(|e| e.to_string())?;
    let stored = t.elapsed().as_secs_f64();
    kiemdich_store::keyring::generate(&store, &dir)
        .await
        .map_err(|e| e.to_string())?;
    let provinces = crate::bench_map_cases::communes_per_province(&units);
    crate::bench_map_cases::load(&store, &provinces).await?;
    let state =
        kiemdich_server::AppState::new(store, dir.clone(), "VN-10", Rules::default()).await?;
    crate::bench_map_cases::levels(&state, &provinces).await?;
    let url = format!("sqlite://{}", dir.join("kiemdich.db").display());
    let first = provinces.first().ok_or("no provinces")?;
    crate::bench_map_cases::cluster(&state, &url, first, &rows).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let base = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let task = tokio::spawn(kiemdich_server::serve(listener, state));
    let layer = format!("{base}/api/v1/public/communes.geojson?unit=10");
    let t = Instant::now();
    let first = reqwest::get(&layer).await.map_err(|e| e.to_string())?;
    if !first.status().is_success() {
        return Err(format!("{layer}: {}", first.status()));
    }
    let cold_ms = t.elapsed().as_secs_f64() * 1000.0;
    let url = layer.clone();
    let warm = tokio::task::spawn_blocking(move || wrk(&url, seconds, 64))
        .await
        .map_err(|e| e.to_string())?;
    let health = format!("{base}/healthz");
    let floor = tokio::task::spawn_blocking(move || wrk(&health, seconds, 64))
        .await
        .map_err(|e| e.to_string())?;
    task.abort();
    let shown = |r: &std::result::Result<f64, String>| match r {
        Ok(v) => format!("{v:.0} req/s"),
        Err(e) => e.clone(),
    };
    println!(
        "| map: a province's communes.geojson from the warm cache over HTTP (wrk, 64 connections, gzip; national boundaries stored in {stored:.1} s, 1,000,000 cases loaded; first request {cold_ms:.0} ms) | {} | /healthz {} | ≥ 5,000 req/s |",
        shown(&warm),
        shown(&floor)
    );
    Ok(())
}
