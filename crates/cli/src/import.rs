//! Streaming imports: the file is parsed on a blocking thread and handed to the database in batches over a
//! bounded channel, so memory stays flat whatever the file size and parsing overlaps writing.

use crate::Result;
use crate::config::StoreArgs;
use indicatif::{ProgressBar, ProgressStyle};
use kiemdich_domain::person::RawRegistryRow;
use kiemdich_domain::{AdminUnit, RegistryRecord, UnitLevel, UnitTree, parse_units_json};
use kiemdich_store::{Store, UpsertCounts};
use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

pub const POPULATION_HEADER: &[&str] = &[
    "citizen_id",
    "full_name",
    "date_of_birth",
    "sex",
    "commune_code",
    "address",
    "phone",
];
/// Rows per transaction: large transactions cut commits and WAL checkpoints (measured: 5,000 rows a
/// transaction gives half the speed of 50,000), and still bound memory.
const BATCH: usize = 50_000;
/// Rejections kept for the report; all are counted.
const MAX_REPORTED: usize = 10_000;

#[derive(Debug, Default)]
pub struct ImportReport {
    pub read: u64,
    pub counts: UpsertCounts,
    pub rejected: u64,
    pub problems: Vec<String>,
    pub elapsed: Duration,
}

impl ImportReport {
    fn reject(&mut self, line: u64, why: impl std::fmt::Display) {
        self.rejected += 1;
        if self.problems.len() < MAX_REPORTED {
            self.problems.push(format!("line {line}: {why}"));
        }
    }
}

fn progress(len: u64, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} {per_sec} {msg}",
        )
        .expect("valid template"),
    );
    pb
}

/// Validates one row: every field, the id against sex and birth date, and that the commune exists.
fn check_row(
    raw: &RawRegistryRow,
    units: &UnitTree,
) -> std::result::Result<RegistryRecord, String> {
    let rec = RegistryRecord::parse(raw).map_err(|e| e.to_string())?;
    match units.get(&rec.commune_code) {
        Some(u) if u.level == UnitLevel::Commune => Ok(rec),
        _ => Err(format!(
            "commune_code: {} is not a known commune",
            rec.commune_code
        )),
    }
}

/// Reads the CSV on the calling (blocking) thread, sending batches of good rows to `tx`.
fn parse_population(
    path: &Path,
    units: &UnitTree,
    tx: tokio::sync::mpsc::Sender<Vec<RegistryRecord>>,
    pb: &ProgressBar,
) -> Result<ImportReport> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let header = reader
        .headers()
        .map_err(|e| format!("{}: header: {e}", path.display()))?
        .clone();
    if header.iter().collect::<Vec<_>>() != POPULATION_HEADER {
        return Err(format!(
            "{}: header must be exactly {}",
            path.display(),
            POPULATION_HEADER.join(",")
        ));
    }
    let mut report = ImportReport::default();
    let mut batch: Vec<RegistryRecord> = Vec::with_capacity(BATCH);
    // Within a batch a repeated id would update the same row twice in one statement; refuse the repeat.
    let mut in_batch: HashMap<kiemdich_domain::CitizenId, u64> = HashMap::with_capacity(BATCH);
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                report.read += 1;
                report.reject(line, format!("unreadable row: {e}"));
                continue;
            }
        }
        report.read += 1;
        let raw: RawRegistryRow = match record.deserialize(Some(&header)) {
            Ok(r) => r,
            Err(e) => {
                report.reject(line, e);
                continue;
            }
        };
        match check_row(&raw, units) {
            Ok(rec) => match in_batch.insert(rec.citizen_id, line) {
                Some(first) => report.reject(
                    line,
                    format!("citizen_id: {} repeats line {first}", rec.citizen_id),
                ),
                None => batch.push(rec),
            },
            Err(e) => report.reject(line, e),
        }
        if batch.len() == BATCH {
            pb.set_position(reader.position().byte());
            // Key order keeps B-tree inserts local.
            batch.sort_unstable_by_key(|r| r.citizen_id);
            tx.blocking_send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                .map_err(|_| "the database writer stopped".to_string())?;
            in_batch.clear();
        }
    }
    if !batch.is_empty() {
        batch.sort_unstable_by_key(|r| r.citizen_id);
        tx.blocking_send(batch)
            .map_err(|_| "the database writer stopped".to_string())?;
    }
    pb.set_position(reader.position().byte());
    Ok(report)
}

/// Imports a population CSV into `store`, returning what happened to every row.
pub async fn import_population(
    store: &Store,
    path: &Path,
    show_progress: bool,
) -> Result<ImportReport> {
    let start = Instant::now();
    let units = UnitTree::new(store.units().await.map_err(|e| e.to_string())?);
    let len = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    let pb = progress(len, show_progress);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<RegistryRecord>>(1);
    let (path_owned, pb_parser) = (path.to_owned(), pb.clone());
    let parser =
        tokio::task::spawn_blocking(move || parse_population(&path_owned, &units, tx, &pb_parser));
    let mut counts = UpsertCounts::default();
    while let Some(batch) = rx.recv().await {
        counts += store
            .upsert_residents(&batch)
            .await
            .map_err(|e| e.to_string())?;
    }
    let mut report = parser.await.map_err(|e| e.to_string())??;
    pb.finish_and_clear();
    report.counts = counts;
    report.elapsed = start.elapsed();
    Ok(report)
}

pub async fn population(path: &Path, args: &StoreArgs) -> Result<ExitCode> {
    let store = args.open().await?;
    let report = import_population(&store, path, true).await?;
    for p in &report.problems {
        eprintln!("{p}");
    }
    if report.rejected as usize > report.problems.len() {
        eprintln!(
            "… and {} more rejected rows",
            report.rejected as usize - report.problems.len()
        );
    }
    let secs = report.elapsed.as_secs_f64();
    println!(
        "{} rows read: {} written (new or changed), {} unchanged, {} rejected, in {:.2}s ({:.0} rows/s)",
        report.read,
        report.counts.written,
        report.counts.unchanged,
        report.rejected,
        secs,
        report.read as f64 / secs.max(1e-9)
    );
    Ok(if report.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Units from JSON (array of {code, name, level, parent_code}) or CSV with that header.
pub async fn units(path: &Path, args: &StoreArgs) -> Result<ExitCode> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let units: Vec<AdminUnit> = if path.extension().is_some_and(|e| e == "json") {
        parse_units_json(&text)?
    } else {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let mut out = Vec::new();
        for (i, row) in reader.deserialize::<HashMap<String, String>>().enumerate() {
            let row = row.map_err(|e| format!("line {}: {e}", i + 2))?;
            let get = |k: &str| row.get(k).map(String::as_str).unwrap_or("");
            let parent = Some(get("parent_code")).filter(|p| !p.is_empty());
            out.push(
                AdminUnit::new(get("code"), get("name"), get("level"), parent)
                    .map_err(|e| format!("line {}: {e}", i + 2))?,
            );
        }
        out
    };
    let counts = args
        .open()
        .await?
        .upsert_units(&units)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{} units: {} written, {} unchanged",
        units.len(),
        counts.written,
        counts.unchanged
    );
    Ok(ExitCode::SUCCESS)
}

/// Current and peak resident memory of this process in KiB (Linux), for reports.
pub fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
