//! `kiemdich proximity simulate`: runs the crate's province model (`kiemdich_proximity::simulation`) and
//! prints what it found, with the matching timed on this machine's clock and a national day of keys (by
//! default 100,000) matched against the busiest phone-day of the run.

use clap::Args;
use kiemdich_proximity::simulation::{SimulationConfig, SimulationReport, simulate};
use kiemdich_proximity::{
    EnIntervalNumber, ObservationIndex, ProximityRules, TemporaryExposureKey,
};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args)]
pub struct SimulateArgs {
    /// People in the simulated province (a share of them run the app).
    #[arg(long)]
    people: u32,
    /// Days simulated (at most the 14 days keys are kept).
    #[arg(long)]
    days: u32,
    /// The seed: the same seed gives the same report, but for the timings.
    #[arg(long)]
    seed: u64,
    /// The model's assumptions (JSON) instead of the shipped ones (crates/proximity/data/simulation.json).
    /// Not `--config`: that is the global server configuration flag.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Diagnosis keys of the national-load measurement (0 to skip it).
    #[arg(long, default_value_t = 100_000)]
    national_keys: u32,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Output {
    #[serde(flatten)]
    report: SimulationReport,
    national_keys: u32,
    /// Matching `national_keys` keys against the busiest phone-day of the run, on one core.
    match_ms_100k_keys: Option<f64>,
    elapsed_s: f64,
}

pub fn run(args: &SimulateArgs) -> crate::Result<()> {
    let started = Instant::now();
    let config = match &args.model {
        Some(path) => SimulationConfig::from_json(
            &std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
        )?,
        None => SimulationConfig::default(),
    };
    let rules = ProximityRules::default();
    let origin = Instant::now();
    let clock = || u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let report = simulate(args.people, args.days, args.seed, &config, &rules, &clock)?;
    let match_ms_100k_keys = (args.national_keys > 0)
        .then(|| national_load(&report, args.national_keys, &config.rules(&rules)));
    let out = Output {
        report,
        national_keys: args.national_keys,
        match_ms_100k_keys,
        elapsed_s: started.elapsed().as_secs_f64(),
    };
    let mut stdout = std::io::stdout().lock();
    let text = if args.json {
        serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
    } else {
        table(&out)
    };
    writeln!(stdout, "{text}").map_err(|e| e.to_string())
}

/// Milliseconds to match `n` random diagnosis keys of the busiest phone-day's date against its observations:
/// nearly all of them are unheard, as on a real day.
fn national_load(report: &SimulationReport, n: u32, rules: &ProximityRules) -> f64 {
    let observations = &report.busiest_phone_day;
    let day = observations
        .first()
        .map_or(EnIntervalNumber(0), |o| EnIntervalNumber::from_unix(o.at));
    let day = EnIntervalNumber(day.0 / 144 * 144);
    let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ report.seed;
    let mut next = move || {
        // xorshift64*: the keys need only be distinct, not secret.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let keys: Vec<TemporaryExposureKey> = (0..n)
        .map(|_| {
            TemporaryExposureKey::generate(day, |b| {
                b[..8].copy_from_slice(&next().to_le_bytes());
                b[8..].copy_from_slice(&next().to_le_bytes());
            })
        })
        .collect();
    let start = Instant::now();
    let index = ObservationIndex::new(observations);
    let found = index.match_keys(&keys, rules, None);
    std::hint::black_box(found);
    start.elapsed().as_secs_f64() * 1e3
}

fn table(o: &Output) -> String {
    let r = &o.report;
    let pct = |x: f64| format!("{:.1} %", x * 100.0);
    let rows = [
        ("người / people", r.people.to_string()),
        ("ngày / days", r.days.to_string()),
        (
            "điện thoại có ứng dụng / phones with the app",
            r.phones.to_string(),
        ),
        (
            "ca bệnh (tải khóa lên) / cases (uploading keys)",
            format!("{} ({})", r.cases, r.cases_uploading),
        ),
        (
            "khóa công bố / keys published",
            r.keys_published.to_string(),
        ),
        (
            "tiếp xúc gần thật / true close exposures",
            r.exposures_truth.to_string(),
        ),
        (
            "điện thoại báo / matched by phones",
            format!(
                "{} ({} đúng / true)",
                r.exposures_matched, r.exposures_true_positive
            ),
        ),
        ("độ chính xác / precision", pct(r.precision)),
        ("độ nhạy / recall", pct(r.recall)),
        ("F1 thật / true F1s", r.f1_truth.to_string()),
        (
            "F1 sổ quét QR / presence log",
            format!("{} ({} đúng / true)", r.f1_presence, r.f1_presence_true),
        ),
        (
            "F1 tiếp xúc gần / proximity",
            format!("{} ({} đúng / true)", r.f1_proximity, r.f1_proximity_true),
        ),
        (
            "F1 cả hai / both",
            format!("{} ({} đúng / true)", r.f1_both, r.f1_both_true),
        ),
        (
            "F1 thật tìm được / true F1s found by either",
            r.f1_either_true.to_string(),
        ),
        (
            "byte tải mỗi máy mỗi ngày / bytes per phone-day",
            format!("{:.0}", r.bytes_per_phone_day),
        ),
        (
            "lượt quét mỗi máy mỗi ngày / sightings per phone-day",
            format!("{:.0}", r.observations_per_phone_day),
        ),
        (
            "đối chiếu mỗi máy mỗi ngày / matching per phone-day",
            format!("{:.3} ms", r.match_ms_per_phone_day),
        ),
        (
            "khóa toàn quốc một ngày / a national day of keys",
            o.match_ms_100k_keys.map_or("—".into(), |ms| {
                format!("{} khóa / keys: {ms:.0} ms", o.national_keys)
            }),
        ),
        ("thời gian chạy / run time", format!("{:.1} s", o.elapsed_s)),
    ];
    rows.iter()
        .map(|(k, v)| format!("{k:<52} {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}
