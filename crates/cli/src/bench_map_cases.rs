//! `kiemdich bench map` with national case data: 1,000,000 confirmed cases over eight weeks spread over the
//! 10,600 generated communes (skewed: a few provinces and communes carry most of them, and the epidemic grows
//! week by week), loaded through the bulk path a CDC backfill uses; then every commune's level for one ISO
//! week, the whole country at once, beside the grouped count it rests on; then the staff map's cluster query for
//! the largest province, with places linked to its cases, beside the per-commune count of the same map.

use crate::Result;
use crate::synth::Rng;
use chrono::{Duration, NaiveDate};
use kiemdich_domain::risk::Figure;
use kiemdich_domain::{
    AdminUnit, CaseClass, CaseSource, CaseState, CitizenId, DetectedIn, IsoWeek, UnitCode,
    UnitLevel,
};
use kiemdich_geometry::{BBox, points_inside};
use kiemdich_server::{AppState, Scope, View};
use kiemdich_store::{
    Backend, CaseWindow, FigureRow, NewBoundary, NewCase, Principal, Role, Store,
    values_placeholders,
};
use sqlx::{AssertSqlSafe, Connection};
use std::collections::HashMap;
use std::time::Instant;

pub const CASES: usize = 1_000_000;
const WEEKS: i64 = 8;
/// Cases per `import_cases` call (one transaction each), as a backfill would send them.
const BATCH: usize = 100_000;
/// Places generated in each commune of the clustered province.
const PLACES_PER_COMMUNE: usize = 4;

/// The first day of the eight weeks: a Monday when Decision 4800/QĐ-BYT was in force.
pub fn first_day() -> Result<NaiveDate> {
    NaiveDate::from_ymd_opt(2021, 11, 1).ok_or_else(|| "date".into())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn unit_float(rng: &mut Rng) -> f64 {
    (rng.next() >> 11) as f64 / (1u64 << 53) as f64
}

/// Picks an index with probability proportional to its weight.
struct Weighted(Vec<f64>);

impl Weighted {
    fn new(weights: impl Iterator<Item = f64>) -> Weighted {
        let mut total = 0.0;
        Weighted(
            weights
                .map(|w| {
                    total += w;
                    total
                })
                .collect(),
        )
    }

    fn pick(&self, rng: &mut Rng) -> usize {
        let u = unit_float(rng) * self.0.last().copied().unwrap_or(0.0);
        self.0.partition_point(|c| *c <= u).min(self.0.len() - 1)
    }
}

/// The communes of each province, provinces in code order.
pub fn communes_per_province(units: &[AdminUnit]) -> Vec<(UnitCode, Vec<UnitCode>)> {
    let parent: HashMap<&UnitCode, &UnitCode> = units
        .iter()
        .filter_map(|u| u.parent_code.as_ref().map(|p| (&u.code, p)))
        .collect();
    let mut out: Vec<(UnitCode, Vec<UnitCode>)> = units
        .iter()
        .filter(|u| u.level == UnitLevel::Province)
        .map(|u| (u.code.clone(), Vec::new()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    for c in units.iter().filter(|u| u.level == UnitLevel::Commune) {
        let province = parent.get(&c.code).and_then(|d| parent.get(d)).copied();
        if let Some(slot) = out.iter_mut().find(|(p, _)| Some(p) == province) {
            slot.1.push(c.code.clone());
        }
    }
    out
}

/// A million F0 cases: province weights fall as 1/rank^0.7 (the first province, the one clustered later, is
/// the largest, a tenth of the country), commune weights within a province are heavy-tailed, and the day density
/// grows through the eight weeks. A fifth were found in quarantine, one in a hundred died, the last two weeks'
/// are still isolating.
fn generate_cases(provinces: &[(UnitCode, Vec<UnitCode>)]) -> Result<Vec<NewCase>> {
    let mut rng = Rng::new(2021);
    let first = first_day()?;
    let by_province = Weighted::new((0..provinces.len()).map(|p| 1.0 / ((p + 1) as f64).powf(0.7)));
    let by_commune: Vec<Weighted> = provinces
        .iter()
        .map(|(_, communes)| {
            Weighted::new(communes.iter().map(|_| {
                let u = unit_float(&mut rng);
                0.05 + u * u * u
            }))
        })
        .collect();
    let days = WEEKS * 7;
    let mut cases = Vec::with_capacity(CASES);
    for i in 0..CASES {
        let p = by_province.pick(&mut rng);
        let (province, communes) = &provinces[p];
        let commune = &communes[by_commune[p].pick(&mut rng)];
        #[expect(clippy::cast_possible_truncation, reason = "below 56")]
        let day = (days as f64 * unit_float(&mut rng).sqrt()) as i64;
        let counted_on = first + Duration::days(day.min(days - 1));
        let roll = rng.below(100);
        let state = if roll == 0 {
            CaseState::Died
        } else if day >= days - 14 {
            CaseState::IsolatingHome
        } else {
            CaseState::Released
        };
        let citizen = format!("0{province}{i:09}");
        cases.push(NewCase {
            citizen_id: CitizenId::parse(&citizen).map_err(|e| format!("{citizen}: {e}"))?,
            commune_code: commune.to_string(),
            phone: None,
            class: CaseClass::F0,
            state,
            onset_date: None,
            sample_date: Some(counted_on),
            isolated_date: Some(counted_on),
            source: CaseSource::CdcFeed,
            via: None,
            exposures: Vec::new(),
            vaccinated: rng.below(10) < 7,
            quarantine_until: None,
            rule_version: "bench".into(),
            detected_in: if rng.below(5) == 0 {
                DetectedIn::Quarantine
            } else {
                DetectedIn::Community
            },
            counted_on,
            test_days: Vec::new(),
        });
    }
    Ok(cases)
}

/// Loads the cases and the communes' official figures (population and coverage); prints how long the load took.
pub async fn load(store: &Store, provinces: &[(UnitCode, Vec<UnitCode>)]) -> Result<()> {
    let list = provinces.to_vec();
    let cases = tokio::task::spawn_blocking(move || generate_cases(&list))
        .await
        .map_err(|e| e.to_string())??;
    let t = Instant::now();
    for batch in cases.chunks(BATCH) {
        store
            .import_cases(batch, "bench")
            .await
            .map_err(|e| e.to_string())?;
    }
    let loaded = t.elapsed().as_secs_f64();
    let mut rng = Rng::new(50);
    let figures: Vec<FigureRow> = provinces
        .iter()
        .flat_map(|(_, communes)| communes.iter())
        .flat_map(|c| {
            let row = |figure, value: f64| FigureRow {
                unit_code: c.clone(),
                figure,
                period: None,
                value: value.round(),
                source: "bench: generated".into(),
            };
            [
                row(
                    Figure::Population,
                    4_000.0 + 26_000.0 * unit_float(&mut rng),
                ),
                row(
                    Figure::AdultFirstDosePct,
                    70.0 + 30.0 * unit_float(&mut rng),
                ),
                row(Figure::Over50FullPct, 60.0 + 40.0 * unit_float(&mut rng)),
            ]
        })
        .collect();
    let t = Instant::now();
    store
        .put_figures(&figures, "bench")
        .await
        .map_err(|e| e.to_string())?;
    let figured = t.elapsed().as_secs_f64();
    println!(
        "| map: load {CASES} confirmed cases over {WEEKS} weeks into {} communes (`Store::import_cases`, {} per transaction, 17 columns, 3 secondary indexes; SQLite) | {loaded:.1} s ({:.0} cases/s) | {} official figures written in {figured:.1} s | — |",
        provinces.iter().map(|p| p.1.len()).sum::<usize>(),
        BATCH,
        CASES as f64 / loaded,
        figures.len()
    );
    Ok(())
}

/// Every commune's level for the last full week of the eight, the whole country at once (p50 of 3), beside the
/// grouped count alone and the same levels asked province by province.
pub async fn levels(state: &AppState, provinces: &[(UnitCode, Vec<UnitCode>)]) -> Result<()> {
    let date = first_day()? + Duration::weeks(WEEKS);
    let week = IsoWeek::last_full(date);
    let (mut times, mut counts) = (Vec::new(), Vec::new());
    let mut assessed = [0usize; 5];
    for _ in 0..3 {
        let t = Instant::now();
        let levels = kiemdich_server::levels_in(state, Scope::Country, date)
            .await
            .map_err(|e| format!("{e:?}"))?;
        times.push(t.elapsed().as_secs_f64());
        assessed = [0; 5];
        for (code, l) in &levels {
            if code.level() == UnitLevel::Commune {
                let i = l.computed.map_or(0, |l| usize::from(l.get()));
                assessed[i.min(4)] += 1;
            }
        }
        let t = Instant::now();
        state
            .store
            .week_counts(week.monday(), week.sunday())
            .await
            .map_err(|e| e.to_string())?;
        counts.push(t.elapsed().as_secs_f64());
    }
    let t = Instant::now();
    for (province, _) in provinces {
        kiemdich_server::levels_on(state, province, date)
            .await
            .map_err(|e| format!("{e:?}"))?;
    }
    let by_province = t.elapsed().as_secs_f64();
    println!(
        "| map: every commune's level for ISO week {week}, whole country ({} communes; levels 1/2/3/4: {}/{}/{}/{}, no level {}), `levels_in(Scope::Country)` | {:.2} s (p50 of 3) | the grouped count alone {:.2} s (p50 of 3); the same asked province by province, 63 × `levels_on`: {by_province:.1} s | ≤ 2 s |",
        assessed.iter().sum::<usize>(),
        assessed[1],
        assessed[2],
        assessed[3],
        assessed[4],
        assessed[0],
        median(times),
        median(counts),
    );
    Ok(())
}

/// Places for every commune of `province` (inside its boundary), and links from a third of the province's cases
/// to one of them (tracing's `case_exposures`), a twentieth also published (`exposure_places`).
async fn link_places(
    url: &str,
    communes: &[UnitCode],
    boundaries: &[NewBoundary],
) -> Result<(usize, usize)> {
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .map_err(|e| e.to_string())?;
    let backend = Backend::of_url(url);
    let mut tx = conn.begin().await.map_err(|e| e.to_string())?;
    let mut places: HashMap<String, Vec<i64>> = HashMap::new();
    let mut next_id = 1_000_000i64;
    for b in boundaries.iter().filter(|b| communes.contains(&b.unit)) {
        let points = points_inside(&b.geometry, PLACES_PER_COMMUNE, next_id as u64);
        let sql = format!(
            "INSERT INTO locations (id, name, kind, commune_code, address, lat, lon, operator_org, dwell_minutes, admits, created_at, owner) VALUES {}",
            values_placeholders(backend, points.len(), 12)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (i, p) in points.iter().enumerate() {
            q = q
                .bind(next_id)
                .bind(format!("Chợ {} số {}", b.unit, i + 1))
                .bind("market")
                .bind(b.unit.to_string())
                .bind("bench")
                .bind(p[1])
                .bind(p[0])
                .bind("bench")
                .bind(60i64)
                .bind("green")
                .bind(0i64)
                .bind("bench");
            places.entry(b.unit.to_string()).or_default().push(next_id);
            next_id += 1;
        }
        q.execute(&mut *tx).await.map_err(|e| e.to_string())?;
    }
    let (low, high) = (
        communes.iter().min().ok_or("no communes")?,
        communes.iter().max().ok_or("no communes")?,
    );
    let cases: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, commune_code FROM cases WHERE commune_code >= $1 AND commune_code <= $2 ORDER BY id",
    )
    .bind(low.to_string())
    .bind(high.to_string())
    .fetch_all(&mut *tx)
    .await
    .map_err(|e| e.to_string())?;
    let mut rng = Rng::new(13);
    let mut linked: Vec<(i64, i64)> = Vec::new();
    for (id, commune) in &cases {
        if rng.below(3) == 0
            && let Some(p) = places.get(commune)
        {
            linked.push((*id, *rng.pick(p)));
        }
    }
    let at = 1_640_000_000i64;
    // Published until two weeks from now: what the public page lists today.
    let until = chrono::Utc::now().timestamp() + 14 * 86_400;
    for part in linked.chunks(500) {
        let sql = format!(
            "INSERT INTO case_exposures (case_id, source_case_id, location_id, from_at, to_at, minutes) VALUES {}",
            values_placeholders(backend, part.len(), 6)
        );
        let q = part
            .iter()
            .fold(sqlx::query(AssertSqlSafe(sql)), |q, (id, place)| {
                q.bind(id + 1)
                    .bind(*id)
                    .bind(*place)
                    .bind(at)
                    .bind(at + 1800)
                    .bind(30i64)
            });
        q.execute(&mut *tx).await.map_err(|e| e.to_string())?;
    }
    let published: Vec<&(i64, i64)> = linked.iter().step_by(7).collect();
    for part in published.chunks(500) {
        let sql = format!(
            "INSERT INTO exposure_places (case_id, location_id, from_at, to_at, published_by, published_at, expires_at) VALUES {}",
            values_placeholders(backend, part.len(), 7)
        );
        let q = part
            .iter()
            .fold(sqlx::query(AssertSqlSafe(sql)), |q, (id, place)| {
                q.bind(*id)
                    .bind(*place)
                    .bind(at)
                    .bind(at + 1800)
                    .bind("bench")
                    .bind(at)
                    .bind(until)
            });
        q.execute(&mut *tx).await.map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok((next_id as usize - 1_000_000, linked.len()))
}

/// The staff map's cluster query for one province, the last week of the eight, at zoom 9 (the province in
/// view) and zoom 13 (a town in view), p50 of 20 each, beside the per-commune count the same map makes.
pub async fn cluster(
    state: &AppState,
    url: &str,
    (province, communes): &(UnitCode, Vec<UnitCode>),
    boundaries: &[NewBoundary],
) -> Result<()> {
    let (places, links) = link_places(url, communes, boundaries).await?;
    let extent = boundaries
        .iter()
        .filter(|b| communes.contains(&b.unit))
        .fold(BBox::EMPTY, |b, x| b.union(&x.geometry.bbox()));
    let (lat, lon) = (
        (extent.min_lat + extent.max_lat) / 2.0,
        (extent.min_lon + extent.max_lon) / 2.0,
    );
    let views = [
        View {
            west: extent.min_lon,
            south: extent.min_lat,
            east: extent.max_lon,
            north: extent.max_lat,
            zoom: 9,
        },
        View {
            west: lon - 0.06,
            south: lat - 0.04,
            east: lon + 0.06,
            north: lat + 0.04,
            zoom: 13,
        },
    ];
    let last = first_day()? + Duration::weeks(WEEKS) - Duration::days(1);
    let window = CaseWindow {
        from: last - Duration::days(6),
        to: last,
        class: None,
    };
    let who = Principal {
        actor: "staff:bench".into(),
        name: "bench".into(),
        role: Role::Health,
        unit: province.clone(),
        location_id: None,
        citizen_id: None,
    };
    let mut shown = Vec::new();
    for view in &views {
        let (mut times, mut marks, mut linked_cases) = (Vec::new(), 0, 0);
        for _ in 0..20 {
            let t = Instant::now();
            let out = kiemdich_server::linked_places(state, &who, &window, view)
                .await
                .map_err(|e| format!("{e:?}"))?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            marks = out.len();
            linked_cases = out.iter().map(|m| m.cases).sum::<i64>();
        }
        shown.push(format!(
            "zoom {}: {:.1} ms, {marks} marks over {linked_cases} case links",
            view.zoom,
            median(times)
        ));
    }
    let names: Vec<String> = communes.iter().map(ToString::to_string).collect();
    let mut times = Vec::new();
    let mut counted = 0;
    for _ in 0..20 {
        let t = Instant::now();
        let counts = state
            .store
            .cases_by_commune(&names, &window)
            .await
            .map_err(|e| e.to_string())?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        counted = counts.values().sum::<i64>();
    }
    println!(
        "| map: staff map's cluster query (`linked_places`, places linked to cases then clustered) for province {province}, {} communes, week {window_from}–{window_to} ({places} places, {links} cases linked over the 8 weeks) | {} (p50 of 20) | cases per commune, same province and week ({counted} cases): {:.1} ms (p50 of 20) | ≤ 50 ms |",
        communes.len(),
        shown.join("; "),
        median(times),
        window_from = window.from,
        window_to = window.to,
    );
    Ok(())
}
