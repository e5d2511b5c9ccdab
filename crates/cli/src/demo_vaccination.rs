//! The demo's vaccination records: most adults of the synthetic province get the products Vietnam used in
//! 2021–2022 (AstraZeneca, Vero Cell, Pfizer, Moderna, and a few Sputnik V, Janssen, Hayat-Vax and Abdala), a
//! second dose weeks later, many a Pfizer or Moderna booster in 2022; children of 12–17 two doses of Pfizer
//! from November 2021. Written in bulk (one transaction per 10,000 doses), so that the pages and the coverage
//! show something. Re-running adds nothing: the same person, product and day is one dose.

use crate::Result;
use crate::synth::Rng;
use chrono::{Duration, NaiveDate};
use kiemdich_domain::{
    Country, DoseSource, NewDose, RegistryRecord, Site, UnitCode, VaccineProduct,
};
use kiemdich_store::Store;
use std::collections::HashMap;

/// Products by share of first doses (per thousand), roughly Vietnam's mix of 2021.
const MIX: &[(&str, u64)] = &[
    ("EU/1/21/1529", 400),
    ("BBIBP-CorV", 260),
    ("EU/1/20/1528", 180),
    ("EU/1/20/1507", 110),
    ("Sputnik-V", 20),
    ("EU/1/20/1525", 15),
    ("Hayat-Vax", 10),
    ("Abdala", 5),
];

/// Some days, fewer than `n`.
fn days_below(rng: &mut Rng, n: u64) -> Duration {
    Duration::days(i64::try_from(rng.below(n)).unwrap_or(0))
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap_or(NaiveDate::MIN)
}

fn pick_product(rng: &mut Rng) -> Result<VaccineProduct> {
    let mut roll = rng.below(1000);
    for (mp, share) in MIX {
        if roll < *share {
            return VaccineProduct::from_mp(mp).map_err(|e| e.to_string());
        }
        roll -= share;
    }
    VaccineProduct::from_mp(MIX[0].0).map_err(|e| e.to_string())
}

/// Days between doses of a product's primary series.
fn interval(p: VaccineProduct, rng: &mut Rng) -> Duration {
    match p.mp() {
        "EU/1/21/1529" => Duration::days(56) + days_below(rng, 29),
        "EU/1/20/1507" => Duration::days(28) + days_below(rng, 8),
        _ => Duration::days(21) + days_below(rng, 8),
    }
}

fn dose(
    person: &RegistryRecord,
    product: VaccineProduct,
    n: u8,
    of: u8,
    date: NaiveDate,
    site: &Site,
    rng: &mut Rng,
) -> NewDose {
    NewDose {
        citizen: person.citizen_id,
        product,
        dose_number: n,
        series_doses: of,
        date,
        lot: Some(format!(
            "{}{:04}",
            ["A", "B", "C", "K"][rng.below(4) as usize],
            rng.below(10_000)
        )),
        site: Some(site.clone()),
        country: Country::vietnam(),
        source: DoseSource::Csv,
    }
}

/// The doses of one person (none for about one in eight adults and for children under 12).
fn doses_of(person: &RegistryRecord, site: &Site, rng: &mut Rng) -> Result<Vec<NewDose>> {
    let age = day("2021-12-31")
        .years_since(person.date_of_birth)
        .unwrap_or(0);
    let mut out = Vec::new();
    if (12..18).contains(&age) {
        if rng.below(100) < 80 {
            let pfizer = VaccineProduct::from_mp("EU/1/20/1528").map_err(|e| e.to_string())?;
            let first = day("2021-11-01") + days_below(rng, 45);
            out.push(dose(person, pfizer, 1, 2, first, site, rng));
            out.push(dose(
                person,
                pfizer,
                2,
                2,
                first + Duration::days(21) + days_below(rng, 14),
                site,
                rng,
            ));
        }
        return Ok(out);
    }
    if age < 18 || rng.below(100) >= 88 {
        return Ok(out);
    }
    let product = pick_product(rng)?;
    let series = product.series_doses();
    let mut date = day("2021-07-01") + days_below(rng, 160);
    out.push(dose(person, product, 1, series, date, site, rng));
    for n in 2..=series {
        if rng.below(100) >= 92 {
            return Ok(out);
        }
        date += interval(product, rng);
        out.push(dose(person, product, n, series, date, site, rng));
    }
    // A booster in 2022, counted as dose n+1 of n+1 as the EU certificates do.
    if rng.below(100) < 55 {
        let booster = VaccineProduct::from_mp(if rng.below(2) == 0 {
            "EU/1/20/1528"
        } else {
            "EU/1/20/1507"
        })
        .map_err(|e| e.to_string())?;
        let when = (date + Duration::days(120) + days_below(rng, 60)).max(day("2022-01-05"));
        out.push(dose(
            person,
            booster,
            series + 1,
            series + 1,
            when,
            site,
            rng,
        ));
    }
    Ok(out)
}

/// Gives the registry's people their doses; returns how many were new.
pub async fn seed(store: &Store, seed: u64, population: i64) -> Result<u64> {
    let names: HashMap<String, String> = store
        .units()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|u| (u.code.to_string(), u.name))
        .collect();
    let ids = store
        .citizen_ids(population)
        .await
        .map_err(|e| e.to_string())?;
    let mut rng = Rng::new(seed ^ 0x5641_4343);
    let mut written = 0;
    for chunk in ids.chunks(5_000) {
        let people = store.residents(chunk).await.map_err(|e| e.to_string())?;
        let mut batch = Vec::with_capacity(chunk.len() * 2);
        for person in &people {
            let commune = person.commune_code.as_str();
            let site = Site::Facility {
                name: format!(
                    "Trạm Y tế {}",
                    names.get(commune).map_or(commune, String::as_str)
                ),
                unit: UnitCode::parse(commune).ok(),
            };
            batch.extend(doses_of(person, &site, &mut rng)?);
        }
        let outcomes = store
            .record_doses(&batch, "demo")
            .await
            .map_err(|e| e.to_string())?;
        written += outcomes
            .iter()
            .filter(|o| **o == kiemdich_store::DoseOutcome::Inserted)
            .count() as u64;
    }
    Ok(written)
}
