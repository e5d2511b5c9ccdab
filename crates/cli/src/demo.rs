//! `kiemdich demo`: a whole province on a laptop. Units, a synthetic population, staff accounts and tokens,
//! a signing key, then the server. Re-running on the same directory keeps what is there.

use crate::Result;
use crate::config::{StoreArgs, add_staff, create_token};
use crate::synth::{self, Rng};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use kiemdich_domain::{RegistryRecord, UnitLevel};
use kiemdich_store::Store;
use serde_json::{Value, json};

#[derive(Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Number of synthetic residents.
    #[arg(long, default_value_t = 20_000)]
    pub population: u64,
    /// Address to listen on.
    #[arg(long, env = "KIEMDICH_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    #[command(flatten)]
    pub net: crate::config::NetArgs,
    /// Seed of the synthetic population (the same seed gives the same people).
    #[arg(long, default_value_t = 2021)]
    pub seed: u64,
    /// Residents given two synthetic visits each in the last week at the demo's places (0 for none).
    #[arg(long, default_value_t = 3_000)]
    pub visitors: i64,
}

/// Fills the registry up to `n` synthetic residents spread over the communes.
pub async fn populate(store: &Store, n: u64, seed: u64, show_progress: bool) -> Result<()> {
    let mut communes: Vec<String> = store
        .units()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|u| u.level == UnitLevel::Commune)
        .map(|u| u.code.to_string())
        .collect();
    communes.sort();
    if communes.is_empty() {
        return Err("no communes in the database".into());
    }
    let pb = if show_progress {
        ProgressBar::new(n)
    } else {
        ProgressBar::hidden()
    };
    pb.set_style(
        ProgressStyle::with_template("generating residents {bar:30} {pos}/{len} {per_sec}")
            .expect("valid template"),
    );
    let mut batch = Vec::with_capacity(5_000);
    for (i, raw) in (0..n).zip(synth::registry(seed, &communes)) {
        batch.push(RegistryRecord::parse(&raw).map_err(|e| format!("synthetic person {i}: {e}"))?);
        if batch.len() == 5_000 || i + 1 == n {
            store
                .upsert_residents(&batch)
                .await
                .map_err(|e| e.to_string())?;
            pb.inc(batch.len() as u64);
            batch.clear();
        }
    }
    pb.finish_and_clear();
    Ok(())
}

/// Demo roles: username, role, whether the jurisdiction is the province (else the first commune).
const ACCOUNTS: &[(&str, &str, bool)] = &[
    ("admin", "admin", true),
    ("canbo", "officer", true),
    ("canbo_xa", "officer", false),
    ("chotkiem", "checkpoint", true),
    ("yte", "health", true),
    ("chucoso", "venue", false),
    ("tiemchung", "vaccinator", false),
    ("xetnghiem", "lab", false),
];

/// Creates the demo accounts and tokens, or reuses the credentials of an earlier run on this directory.
async fn credentials(
    store: &Store,
    args: &DemoArgs,
    url: &str,
    geo: &crate::demo_geo::DemoGeometry,
) -> Result<Value> {
    let path = args.store.data_dir.join("demo-credentials.json");
    let existing = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok());
    if let Some(mut creds) = existing
        && store
            .staff_by_username("admin")
            .await
            .map_err(|e| e.to_string())?
            .is_some()
    {
        creds["url"] = json!(url);
        return Ok(creds);
    }
    let units = store.units().await.map_err(|e| e.to_string())?;
    let province = units
        .iter()
        .find(|u| u.level == UnitLevel::Province)
        .ok_or("no province in the database")?
        .code
        .to_string();
    let commune = units
        .iter()
        .find(|u| u.level == UnitLevel::Commune)
        .ok_or("no commune in the database")?
        .code
        .to_string();
    let mut accounts = Vec::new();
    for (username, role, whole_province) in ACCOUNTS {
        let unit = if *whole_province { &province } else { &commune };
        let password = synth::password();
        add_staff(store, username, &password, role, unit).await?;
        accounts.push(
            json!({"username": username, "password": password, "role": role, "unit_code": unit}),
        );
    }
    let locations = demo_locations(store, &units, geo, args.visitors).await?;
    let mut creds = json!({"url": url, "accounts": accounts, "locations": locations});
    for (field, role) in [
        ("officer_token", "officer"),
        ("checkpoint_token", "checkpoint"),
        ("health_token", "health"),
        ("admin_token", "admin"),
        ("ops_token", "ops"),
    ] {
        creds[field] = json!(create_token(store, &format!("demo {role}"), role, &province).await?);
    }
    Ok(creds)
}

/// A border checkpoint, a hospital and a market, so that scanning works out of the box; the market is in the first
/// commune (where the demo's venue owner and commune officer work), the others in communes of other districts, each at
/// a point inside its commune's (illustrative) polygon.
async fn demo_locations(
    store: &Store,
    units: &[kiemdich_domain::AdminUnit],
    geo: &crate::demo_geo::DemoGeometry,
    visitors: i64,
) -> Result<Value> {
    let rules = kiemdich_domain::Rules::default();
    let mut communes: Vec<&kiemdich_domain::AdminUnit> = units
        .iter()
        .filter(|u| u.level == UnitLevel::Commune)
        .collect();
    communes.sort_by(|a, b| a.code.cmp(&b.code));
    let first = communes.first().ok_or("no commune in the database")?;
    // The first commune of another district than `not`, else the first commune.
    let elsewhere = |not: &[&Option<kiemdich_domain::UnitCode>]| {
        communes
            .iter()
            .find(|c| !not.contains(&&c.parent_code))
            .unwrap_or(first)
    };
    let hospital_at = elsewhere(&[&first.parent_code]);
    let checkpoint_at = elsewhere(&[&first.parent_code, &hospital_at.parent_code]);
    let places = [
        (
            "Chốt kiểm dịch cầu Mỹ Thuận",
            "checkpoint",
            "Quốc lộ 1A",
            checkpoint_at,
        ),
        (
            "Bệnh viện Đa khoa tỉnh",
            "hospital",
            "378 Lê Duẩn",
            hospital_at,
        ),
        ("Chợ trung tâm", "market", "Chợ trung tâm", first),
    ];
    let mut out = Vec::new();
    for (name, kind, address, commune) in places {
        let kind = kiemdich_domain::LocationKind::parse(kind)?;
        let rule = &rules.location_kinds[&kind];
        // Without demo geometry (a unit list that is not Sóc Trăng's), the centre of the province's map.
        let coords = geo.lat_lon(&commune.code).unwrap_or((9.60, 105.97));
        let id = store
            .create_location(
                "demo",
                &kiemdich_store::NewPlace {
                    name,
                    kind,
                    commune_code: commune.code.as_str(),
                    address,
                    coords,
                    operator_org: "Sở Y tế (demo)",
                    dwell_minutes: i64::from(rule.dwell_minutes),
                    admits: &rule.admits,
                    vaccination: rule.vaccination.as_ref(),
                    accepts_dcc: rule.accepts_dcc,
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        out.push(json!({"id": id, "name": name, "kind": kind.as_str(), "commune_code": commune.code.as_str()}));
    }
    let ids: Vec<i64> = out.iter().filter_map(|l| l["id"].as_i64()).collect();
    demo_visits(store, &ids, visitors).await?;
    crate::demo_cases::seed(store, &rules, visitors).await?;
    Ok(json!(out))
}

/// A week of visits by `visitors` residents at the demo's places, so that tracing has something to find.
async fn demo_visits(store: &Store, locations: &[i64], visitors: i64) -> Result<()> {
    let people = store
        .citizen_ids(visitors)
        .await
        .map_err(|e| e.to_string())?;
    let mut rng = Rng::new(7);
    let now = chrono::Utc::now().timestamp();
    let mut visits = Vec::new();
    for id in &people {
        let Some(citizen) = kiemdich_store::citizen_number(id) else {
            continue;
        };
        for _ in 0..2 {
            let entered = now - 6 * 86_400 + rng.below(6 * 86_400) as i64;
            let stay = 60 * (15 + rng.below(106) as i64);
            visits.push(kiemdich_domain::Visit {
                location_id: *rng.pick(locations),
                citizen,
                entered_at: entered,
                exited_at: (rng.below(10) < 7).then_some(entered + stay),
            });
        }
    }
    store
        .import_visits(&visits)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

pub async fn run(args: DemoArgs) -> Result<()> {
    let state = args.store.state().await?;
    let have = state
        .store
        .count_residents()
        .await
        .map_err(|e| e.to_string())?;
    if (have as u64) < args.population {
        populate(&state.store, args.population, args.seed, true).await?;
    }
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    let public_url = args.net.public_url(&listener)?;
    let url = public_url.origin().to_owned();
    let geo = crate::demo_geo::load(&state.store).await?;
    let creds = credentials(&state.store, &args, &url, &geo).await?;
    crate::demo_risk::seed(&state.store, args.seed).await?;
    let population = i64::try_from(args.population).unwrap_or(i64::MAX);
    let doses = crate::demo_vaccination::seed(&state.store, args.seed, population).await?;
    if doses > 0 {
        println!("kiemdich demo: {doses} vaccination doses recorded");
    }
    let samples = crate::demo_testing::seed(&state.store, population).await?;
    if samples > 0 {
        println!("kiemdich demo: {samples} samples ordered, two pools tested");
    }
    let published = crate::demo_proximity::seed(
        &state.store,
        &state.rules,
        &args.store.data_dir,
        &args.store.issuer,
    )
    .await?;
    if published > 0 {
        println!(
            "kiemdich demo: {published} proximity keys of a confirmed case published in one signed batch"
        );
    }
    if crate::dcc::demo_signer(&state.store, &args.store.data_dir, &args.store.dcc_country).await? {
        crate::dcc::demo_visitor(&state.store, &args.store.data_dir).await?;
        state.refresh().await?;
    }
    let path = args.store.data_dir.join("demo-credentials.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&creds).expect("serialisable"),
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    #[cfg(unix)]
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .map_err(|e| e.to_string())?;
    let residents = state
        .store
        .count_residents()
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "kiemdich demo: {} units, {residents} residents, serving at {url}",
        state.units().len()
    );
    println!("credentials (also in {}):", path.display());
    println!(
        "{}",
        serde_json::to_string_pretty(&creds).expect("serialisable")
    );
    args.net
        .serve(listener, state.with_public_url(public_url))
        .await
}
