//! Streaming imports: the file is parsed on a blocking thread and handed to the database in batches over a
//! bounded channel, so memory stays flat whatever the file size and parsing overlaps writing.

use crate::Result;
use crate::config::StoreArgs;
use indicatif::{ProgressBar, ProgressStyle};
use kiemdich_domain::person::RawRegistryRow;
use kiemdich_domain::risk::Figure;
use kiemdich_domain::{
    AdminUnit, CaseReport, CaseSource, DoseSource, NewDose, RawCase, RawDose, RawResult,
    RegistryRecord, ResultSource, Rules, UnitLevel, UnitTree, Visit, parse_units_json,
};
use kiemdich_domain::{IsoWeek, UnitCode};
use kiemdich_store::{
    CheckedResult, DoseOutcome, FigureRow, LineCheck, NewCase, ResultOutcome, Store, StoreError,
    Target, UpsertCounts, citizen_text,
};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The columns of an import file: these exactly, optionally followed by the first of `optional`, in order.
pub struct Header {
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
}

impl Header {
    const fn exactly(required: &'static [&'static str]) -> Header {
        Header {
            required,
            optional: &[],
        }
    }

    fn accepts(&self, found: &csv::StringRecord) -> bool {
        let found: Vec<&str> = found.iter().collect();
        let (head, tail) = found.split_at(self.required.len().min(found.len()));
        head == self.required && self.optional.starts_with(tail)
    }
}

impl std::fmt::Display for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.required.join(","))?;
        self.optional.iter().try_for_each(|c| write!(f, "[,{c}]"))
    }
}

/// The registry file; `household_id` (the registry's household number) is optional.
pub const POPULATION_HEADER: Header = Header {
    required: RawRegistryRow::COLUMNS.split_at(RawRegistryRow::REQUIRED).0,
    optional: RawRegistryRow::COLUMNS.split_at(RawRegistryRow::REQUIRED).1,
};
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
    /// Rejected lines: number and reason.
    pub problems: Vec<(u64, String)>,
    pub elapsed: Duration,
}

impl ImportReport {
    fn reject(&mut self, line: u64, why: impl std::fmt::Display) {
        self.rejected += 1;
        if self.problems.len() < MAX_REPORTED {
            self.problems.push((line, why.to_string()));
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

/// A good row with the line it came from.
type Lined<T> = Vec<(u64, T)>;

/// Reads a CSV whose header must be exactly `header` on the calling (blocking) thread: `parse` checks each row,
/// good rows go to `tx` in batches of `batch` with their line numbers, bad ones into the report.
fn stream_csv<T>(
    path: &Path,
    header: &Header,
    batch: usize,
    parse: impl Fn(&csv::StringRecord, &csv::StringRecord) -> std::result::Result<T, String>,
    tx: tokio::sync::mpsc::Sender<Lined<T>>,
    pb: &ProgressBar,
) -> Result<ImportReport> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let found = reader
        .headers()
        .map_err(|e| format!("{}: header: {e}", path.display()))?
        .clone();
    if !header.accepts(&found) {
        return Err(format!(
            "{}: header must be exactly {header}",
            path.display(),
        ));
    }
    let mut report = ImportReport::default();
    let mut rows = Vec::with_capacity(batch);
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => match parse(&record, &found) {
                Ok(row) => rows.push((line, row)),
                Err(e) => report.reject(line, e),
            },
            Err(e) => report.reject(line, format!("unreadable row: {e}")),
        }
        report.read += 1;
        if rows.len() == batch {
            pb.set_position(reader.position().byte());
            tx.blocking_send(std::mem::replace(&mut rows, Vec::with_capacity(batch)))
                .map_err(|_| "the database writer stopped".to_string())?;
        }
    }
    if !rows.is_empty() {
        tx.blocking_send(rows)
            .map_err(|_| "the database writer stopped".to_string())?;
    }
    pb.set_position(reader.position().byte());
    Ok(report)
}

/// The reading side of an import: a blocking thread parsing the file into batches.
struct Parsing {
    parser: tokio::task::JoinHandle<Result<ImportReport>>,
    pb: ProgressBar,
    start: Instant,
}

/// Starts reading `path` through `parse` on a blocking thread; its batches come on the receiver.
fn start_parsing<T: Send + 'static>(
    path: &Path,
    header: &'static Header,
    batch: usize,
    parse: impl Fn(&csv::StringRecord, &csv::StringRecord) -> std::result::Result<T, String>
    + Send
    + 'static,
    show_progress: bool,
) -> Result<(tokio::sync::mpsc::Receiver<Lined<T>>, Parsing)> {
    let start = Instant::now();
    let len = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    let pb = progress(len, show_progress);
    let (tx, rx) = tokio::sync::mpsc::channel::<Lined<T>>(1);
    let (path_owned, pb_parser) = (path.to_owned(), pb.clone());
    let parser = tokio::task::spawn_blocking(move || {
        stream_csv(&path_owned, header, batch, parse, tx, &pb_parser)
    });
    Ok((rx, Parsing { parser, pb, start }))
}

impl Parsing {
    /// Waits for the parser and merges what the writer found into its report, rejections in line order.
    async fn finish(self, written: ImportReport) -> Result<ImportReport> {
        let mut report = self.parser.await.map_err(|e| e.to_string())??;
        self.pb.finish_and_clear();
        report.rejected += written.rejected;
        report.problems.extend(written.problems);
        report.problems.sort_by_key(|(line, _)| *line);
        report.counts = written.counts;
        report.elapsed = self.start.elapsed();
        Ok(report)
    }
}

/// Streams `path` through `parse` on a blocking thread into `write`, batch by batch; the report holds the
/// rejections of both, in line order.
async fn import_csv<T: Send + 'static>(
    path: &Path,
    header: &'static Header,
    batch: usize,
    parse: impl Fn(&csv::StringRecord, &csv::StringRecord) -> std::result::Result<T, String>
    + Send
    + 'static,
    show_progress: bool,
    mut write: impl AsyncFnMut(Lined<T>, &mut ImportReport) -> Result<()>,
) -> Result<ImportReport> {
    let (mut rx, parsing) = start_parsing(path, header, batch, parse, show_progress)?;
    let mut written = ImportReport::default();
    while let Some(rows) = rx.recv().await {
        write(rows, &mut written).await?;
    }
    parsing.finish(written).await
}

/// Imports a population CSV into `store`, returning what happened to every row.
pub async fn import_population(
    store: &Store,
    path: &Path,
    show_progress: bool,
) -> Result<ImportReport> {
    let units = UnitTree::new(store.units().await.map_err(|e| e.to_string())?);
    let parse = move |record: &csv::StringRecord, header: &csv::StringRecord| {
        check_row(&by_header::<RawRegistryRow>(record, header)?, &units)
    };
    let write = async |mut rows: Lined<RegistryRecord>, report: &mut ImportReport| {
        // A repeated id would update one row twice in a statement; the first occurrence wins.
        let mut first: HashMap<kiemdich_domain::CitizenId, u64> = HashMap::new();
        rows.retain(|(line, r)| match first.get(&r.citizen_id) {
            Some(earlier) => {
                report.reject(
                    *line,
                    format!("citizen_id: {} repeats line {earlier}", r.citizen_id),
                );
                false
            }
            None => {
                first.insert(r.citizen_id, *line);
                true
            }
        });
        // Key order keeps B-tree inserts local.
        let mut batch: Vec<RegistryRecord> = rows.into_iter().map(|(_, r)| r).collect();
        batch.sort_unstable_by_key(|r| r.citizen_id);
        report.counts += store
            .upsert_residents(&batch)
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    };
    import_csv(path, &POPULATION_HEADER, BATCH, parse, show_progress, write).await
}

pub const VISITS_HEADER: Header =
    Header::exactly(&["location_id", "citizen_id", "entered_at", "exited_at"]);

/// Checks one visit row ([`Visit::parse_row`]) and that its location is known.
fn check_visit(
    record: &csv::StringRecord,
    locations: &HashSet<i64>,
    max_secs: i64,
    now: i64,
) -> std::result::Result<Visit, String> {
    let visit = Visit::parse_row(
        [&record[0], &record[1], &record[2], &record[3]],
        max_secs,
        now,
    )?;
    if !locations.contains(&visit.location_id) {
        return Err(format!("location_id: no location {}", visit.location_id));
    }
    Ok(visit)
}

/// Imports visits for tracing; unknown places and people not in the registry are rejected by line.
pub async fn import_visits(
    store: &Store,
    path: &Path,
    show_progress: bool,
) -> Result<ImportReport> {
    let locations: HashSet<i64> = store
        .location_dwells()
        .await
        .map_err(|e| e.to_string())?
        .into_keys()
        .collect();
    let max_secs = i64::from(Rules::default().tracing.max_visit_hours) * 3600;
    let now = chrono::Utc::now().timestamp();
    let parse = move |record: &csv::StringRecord, _: &csv::StringRecord| {
        check_visit(record, &locations, max_secs, now)
    };
    let write = async |mut rows: Lined<Visit>, report: &mut ImportReport| {
        let ids: Vec<String> = rows.iter().map(|(_, v)| citizen_text(v.citizen)).collect();
        let known = store
            .known_citizens(&ids)
            .await
            .map_err(|e| e.to_string())?;
        rows.retain(|(line, v)| {
            let id = citizen_text(v.citizen);
            let ok = known.contains(&id);
            if !ok {
                report.reject(
                    *line,
                    format!("citizen_id: {id} is not in the population registry"),
                );
            }
            ok
        });
        let visits: Vec<Visit> = rows.into_iter().map(|(_, v)| v).collect();
        let new = store
            .import_visits(&visits)
            .await
            .map_err(|e| e.to_string())?;
        report.counts.written += new;
        report.counts.unchanged += visits.len() as u64 - new;
        Ok(())
    };
    import_csv(path, &VISITS_HEADER, 10_000, parse, show_progress, write).await
}

/// The CDC case feed; `detected_in` (community, the default, or quarantine) is optional.
pub const CASES_HEADER: Header = Header {
    required: &RawCase::COLUMNS,
    optional: &RawCase::OPTIONAL_COLUMNS,
};

/// Imports a CDC case feed: each good line opens a case (suspected or F0) on its own, revoking the person's
/// passes and notifying them, so that one bad line never holds back the others.
pub async fn import_cases(store: &Store, path: &Path, show_progress: bool) -> Result<ImportReport> {
    let rules = Rules::default();
    let dates = rules.dates_at(chrono::Utc::now().timestamp());
    let parse = move |record: &csv::StringRecord, header: &csv::StringRecord| {
        by_header::<RawCase>(record, header)?
            .parse(&dates, CaseSource::CdcFeed)
            .map_err(|e| e.to_string())
    };
    let write = async |rows: Lined<CaseReport>, report: &mut ImportReport| {
        for (line, case) in rows {
            let person = store
                .resident(&case.citizen_id)
                .await
                .map_err(|e| e.to_string())?;
            let Some(person) = person else {
                report.reject(
                    line,
                    format!(
                        "citizen_id: {} is not in the population registry",
                        case.citizen_id
                    ),
                );
                continue;
            };
            let today = rules.tracing.local_date(chrono::Utc::now().timestamp());
            let new = NewCase::reported(&case, &person, &rules.version, today);
            match store.open_cases(&[new], "import:cases").await {
                Ok(_) => report.counts.written += 1,
                Err(StoreError::Conflict(m) | StoreError::Invalid(m)) => report.reject(line, m),
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    };
    import_csv(path, &CASES_HEADER, 1_000, parse, show_progress, write).await
}

/// Official figures per unit: `unit_code,figure,period,value,source` (period empty for a standing figure, else
/// an ISO week `YYYY-Www`).
pub const FIGURES_HEADER: Header =
    Header::exactly(&["unit_code", "figure", "period", "value", "source"]);

/// Imports official figures (population, coverage, patients on oxygen, deaths, free beds): each good line
/// replaces the same unit, figure and period; bad lines are reported by number and the good ones kept.
pub async fn import_figures(
    store: &Store,
    path: &Path,
    show_progress: bool,
) -> Result<ImportReport> {
    let units = UnitTree::new(store.units().await.map_err(|e| e.to_string())?);
    let today = Rules::default()
        .tracing
        .local_date(chrono::Utc::now().timestamp());
    let parse = move |record: &csv::StringRecord, _: &csv::StringRecord| {
        let field = |i: usize| record.get(i).unwrap_or_default().trim();
        let unit = UnitCode::parse(field(0)).map_err(|e| format!("unit_code: {e}"))?;
        if units.get(&unit).is_none() {
            return Err(format!("unit_code: {unit} is not a known unit"));
        }
        let figure = Figure::parse(field(1)).map_err(|e| format!("figure: {e}"))?;
        let period = match field(2) {
            "" => None,
            p => {
                let w = IsoWeek::parse(p).map_err(|e| format!("period: {e}"))?;
                if !w.has_begun(today) {
                    return Err(format!("period: {w} has not begun"));
                }
                Some(w)
            }
        };
        let value: f64 = field(3)
            .replace(',', ".")
            .parse()
            .map_err(|_| format!("value: not a number: {:?}", field(3)))?;
        let value = figure.check(value).map_err(|e| format!("value: {e}"))?;
        let source =
            kiemdich_domain::clean_text(field(4), 200).map_err(|e| format!("source: {e}"))?;
        Ok(FigureRow {
            unit_code: unit,
            figure,
            period,
            value,
            source,
        })
    };
    let write = async |rows: Lined<FigureRow>, report: &mut ImportReport| {
        let rows: Vec<FigureRow> = rows.into_iter().map(|(_, r)| r).collect();
        report.counts.written += store
            .put_figures(&rows, "import:figures")
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    };
    import_csv(path, &FIGURES_HEADER, 5_000, parse, show_progress, write).await
}

/// A line read into `T` by the header's column names.
fn by_header<T: serde::de::DeserializeOwned>(
    record: &csv::StringRecord,
    header: &csv::StringRecord,
) -> std::result::Result<T, String> {
    record.deserialize(Some(header)).map_err(|e| e.to_string())
}

/// The vaccination records file.
pub const VACCINATIONS_HEADER: Header = Header::exactly(&RawDose::COLUMNS);

/// Imports vaccination records: each batch is checked against the registry and the rules, then written in one
/// transaction; a line identical to a stored dose changes nothing, a line that conflicts with one is reported
/// (the stored dose is kept), bad lines are reported by number and the good ones kept.
pub async fn import_vaccinations(
    store: &Store,
    path: &Path,
    show_progress: bool,
) -> Result<ImportReport> {
    let rules = Rules::default();
    let parse = by_header::<RawDose>;
    let write = async |rows: Lined<RawDose>, report: &mut ImportReport| {
        let today = rules.tracing.local_date(chrono::Utc::now().timestamp());
        let (lines, raws): (Vec<u64>, Vec<RawDose>) = rows.into_iter().unzip();
        let checked = store
            .check_doses(&raws, DoseSource::Csv, &rules, today)
            .await
            .map_err(|e| e.to_string())?;
        let mut good = Vec::with_capacity(checked.len());
        for (line, c) in lines.into_iter().zip(checked) {
            match c {
                Ok(c) => good.push((line, c.dose)),
                Err(errs) => report.reject(line, errs),
            }
        }
        let doses: Vec<NewDose> = good.iter().map(|(_, d)| d.clone()).collect();
        let outcomes = store
            .record_doses(&doses, "import:vaccinations")
            .await
            .map_err(|e| e.to_string())?;
        for ((line, _), outcome) in good.iter().zip(outcomes) {
            match outcome {
                DoseOutcome::Inserted => report.counts.written += 1,
                DoseOutcome::Unchanged => report.counts.unchanged += 1,
                DoseOutcome::Conflict { differs, stored } => report.reject(
                    *line,
                    format!(
                        "{}: differs from the dose stored for {} of {} on {} (recorded by {}); the stored dose is kept",
                        differs.join(", "),
                        stored.citizen,
                        stored.product.mp(),
                        stored.date,
                        stored.recorded_by
                    ),
                ),
            }
        }
        Ok(())
    };
    import_csv(
        path,
        &VACCINATIONS_HEADER,
        10_000,
        parse,
        show_progress,
        write,
    )
    .await
}

/// The laboratory results file.
pub const RESULTS_HEADER: Header = Header::exactly(&RawResult::COLUMNS);

/// Imports laboratory results: each batch is checked (the sample or pool named by id or label, the result,
/// the time, the Ct value) and written with all its effects in one transaction (cases opened, re-samples
/// ordered, SMS queued); a line identical to a stored result changes nothing and is not reported, so the same
/// file imported again does nothing; bad lines are reported by number and the good ones kept.
///
/// Three stages overlap: the file is parsed on a blocking thread, each batch is checked on the read side while
/// the batch before it is written, and written. A check made before the earlier batches were written may be
/// out of date for the lines those batches could have changed (see [`may_have_changed`]): those lines are
/// checked again just before their batch is written, so every line is judged as if the file were entered one
/// batch after the other.
pub async fn import_results(
    store: &Store,
    path: &Path,
    batch: usize,
    show_progress: bool,
) -> Result<ImportReport> {
    let rules = Rules::default();
    let (mut rows, parsing) = start_parsing(
        path,
        &RESULTS_HEADER,
        batch.max(1),
        by_header::<RawResult>,
        show_progress,
    )?;
    let (tx, mut checked) = tokio::sync::mpsc::channel::<CheckedBatch>(1);
    let checker = tokio::spawn({
        let (store, rules) = (store.clone(), rules.clone());
        async move {
            while let Some(batch) = rows.recv().await {
                let (lines, raws): (Vec<u64>, Vec<RawResult>) = batch.into_iter().unzip();
                let checks = check_results(&store, &raws, &rules).await?;
                if tx.send((lines, raws, checks)).await.is_err() {
                    break;
                }
            }
            Ok::<_, String>(())
        }
    });
    let mut written = ImportReport::default();
    // Every target a batch of this import tried to write: a later line naming one is checked again.
    let mut recorded: HashSet<Target> = HashSet::new();
    while let Some((lines, raws, mut checks)) = checked.recv().await {
        if !recorded.is_empty() {
            let stale: Vec<usize> = (0..checks.len())
                .filter(|&i| may_have_changed(&checks[i], &recorded))
                .collect();
            let again: Vec<RawResult> = stale.iter().map(|&i| raws[i].clone()).collect();
            let fresh = check_results(store, &again, &rules).await?;
            for (i, c) in stale.into_iter().zip(fresh) {
                checks[i] = c;
            }
        }
        record_checked(store, &rules, lines, checks, &mut recorded, &mut written).await?;
    }
    checker.await.map_err(|e| e.to_string())??;
    parsing.finish(written).await
}

/// A batch's line numbers, lines and checks.
type CheckedBatch = (Vec<u64>, Vec<RawResult>, Vec<LineCheck>);

async fn check_results(store: &Store, raws: &[RawResult], rules: &Rules) -> Result<Vec<LineCheck>> {
    store
        .check_results(
            raws,
            rules,
            ResultSource::Csv,
            chrono::Utc::now().timestamp(),
        )
        .await
        .map_err(|e| e.to_string())
}

/// Whether a line's check could read differently after the earlier batches of the import were written. They
/// write results for their own targets (in `recorded`) and for pool members, move pool members, and add
/// samples and pools; so a line naming a recorded target, a pool or a pooled sample, or a line found bad (an
/// unknown label may name a sample just ordered), is checked again. A line identical to a stored result stays
/// so: stored results are never changed.
fn may_have_changed(check: &LineCheck, recorded: &HashSet<Target>) -> bool {
    match check {
        LineCheck::Bad(_) => true,
        LineCheck::Same(_) => false,
        LineCheck::Ready(_, t) => {
            matches!(t.target, Target::Pool(_)) || t.facts.pooled || recorded.contains(&t.target)
        }
    }
}

/// Writes a checked batch with its effects and counts what became of each line.
async fn record_checked(
    store: &Store,
    rules: &Rules,
    lines: Vec<u64>,
    checks: Vec<LineCheck>,
    recorded: &mut HashSet<Target>,
    report: &mut ImportReport,
) -> Result<()> {
    let mut good = Vec::with_capacity(checks.len());
    for (line, c) in lines.into_iter().zip(checks) {
        match c {
            LineCheck::Ready(r, _) => good.push((line, r)),
            LineCheck::Same(_) => report.counts.unchanged += 1,
            LineCheck::Bad(errs) => report.reject(line, errs),
        }
    }
    let results: Vec<CheckedResult> = good.iter().map(|(_, r)| r.clone()).collect();
    let outcomes = store
        .record_results(&results, rules, "import:results")
        .await
        .map_err(|e| e.to_string())?;
    recorded.extend(results.iter().map(|r| r.target));
    for ((line, _), outcome) in good.iter().zip(outcomes) {
        match outcome {
            ResultOutcome::Recorded(_) => report.counts.written += 1,
            ResultOutcome::Unchanged { .. } => report.counts.unchanged += 1,
            ResultOutcome::Differs(stored) => report.reject(
                *line,
                format!(
                    "sample_id: already resulted ({} by {} at {}); the stored result is kept",
                    stored.result.as_str(),
                    stored.lab,
                    rules.clock().time(stored.tested_at.0)
                ),
            ),
        }
    }
    Ok(())
}

/// Results per transaction: one chunk of multi-row statements with its effects.
pub const RESULTS_BATCH: usize = 10_000;

pub async fn results(path: &Path, batch: usize, args: &StoreArgs) -> Result<ExitCode> {
    let store = args.open().await?;
    Ok(summarise(&import_results(&store, path, batch, true).await?))
}

pub async fn vaccinations(path: &Path, args: &StoreArgs) -> Result<ExitCode> {
    let store = args.open().await?;
    Ok(summarise(&import_vaccinations(&store, path, true).await?))
}

pub async fn figures(path: &Path, args: &StoreArgs) -> Result<ExitCode> {
    let store = args.open().await?;
    Ok(summarise(&import_figures(&store, path, true).await?))
}

/// Prints an import's problems and summary; exit 1 when any row was rejected.
fn summarise(report: &ImportReport) -> ExitCode {
    for (line, why) in &report.problems {
        eprintln!("line {line}: {why}");
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
    if report.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

pub async fn population(path: &Path, args: &StoreArgs) -> Result<ExitCode> {
    let store = args.open().await?;
    Ok(summarise(&import_population(&store, path, true).await?))
}

pub async fn cases(path: &Path, args: &StoreArgs) -> Result<ExitCode> {
    let store = args.open().await?;
    Ok(summarise(&import_cases(&store, path, true).await?))
}

pub async fn visits(path: &Path, args: &StoreArgs) -> Result<ExitCode> {
    let store = args.open().await?;
    Ok(summarise(&import_visits(&store, path, true).await?))
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
    memory_kib_of("self")
}

/// [`memory_kib`] of the process `pid` (or `self`): VmRSS and VmHWM in KiB, zero where /proc has none.
pub fn memory_kib_of(pid: &str) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// What an import of boundaries did: features read, kept (written or unchanged), and rejected by index.
#[derive(Debug, Default)]
pub struct BoundaryReport {
    pub features: usize,
    pub counts: UpsertCounts,
    /// Rejected features: index in the file's `features` array and reason.
    pub problems: Vec<(usize, String)>,
}

/// Imports a GeoJSON FeatureCollection of unit boundaries (Polygon or MultiPolygon, WGS84, a `code` property naming
/// a known unit) valid from `valid_from`, in one transaction; bad features are reported by index and the good ones
/// kept. Broken JSON is an error, nothing written.
pub async fn import_boundaries(
    store: &Store,
    path: &Path,
    valid_from: chrono::NaiveDate,
    source: &str,
) -> Result<BoundaryReport> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // Parsing and ring checks are CPU work: off the async workers.
    let parsed =
        tokio::task::spawn_blocking(move || kiemdich_geometry::parse_feature_collection(&text))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("{}: {e}", path.display()))?;
    let units = UnitTree::new(store.units().await.map_err(|e| e.to_string())?);
    let mut report = BoundaryReport {
        features: parsed.len(),
        ..BoundaryReport::default()
    };
    let mut seen: HashMap<kiemdich_domain::UnitCode, usize> = HashMap::new();
    let mut rows = Vec::new();
    for (i, feature) in parsed.into_iter().enumerate() {
        let feature = match feature {
            Ok(f) => f,
            Err(why) => {
                report.problems.push((i, why.to_string()));
                continue;
            }
        };
        let unit = match kiemdich_domain::UnitCode::parse(&feature.code) {
            Ok(u) if units.get(&u).is_some() => u,
            _ => {
                report
                    .problems
                    .push((i, format!("code {}: unknown unit", feature.code)));
                continue;
            }
        };
        if let Some(first) = seen.get(&unit) {
            report
                .problems
                .push((i, format!("code {unit}: repeats feature {first}")));
            continue;
        }
        seen.insert(unit.clone(), i);
        rows.push(kiemdich_store::NewBoundary {
            unit,
            geometry: feature.geometry,
            valid_from,
            source: source.to_owned(),
        });
    }
    report.counts = store
        .upsert_boundaries(&rows)
        .await
        .map_err(|e| e.to_string())?;
    Ok(report)
}

/// `kiemdich import boundaries`: prints `feature N: reason` for each rejected feature; exit 1 when any was.
pub async fn boundaries(
    path: &Path,
    valid_from: Option<chrono::NaiveDate>,
    source: Option<String>,
    args: &StoreArgs,
) -> Result<ExitCode> {
    let store = args.open().await?;
    let today = Rules::default()
        .tracing
        .local_date(chrono::Utc::now().timestamp());
    let source = source.unwrap_or_else(|| {
        format!(
            "kiemdich import boundaries {}",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        )
    });
    let report = import_boundaries(&store, path, valid_from.unwrap_or(today), &source).await?;
    for (i, why) in &report.problems {
        eprintln!("feature {i}: {why}");
    }
    println!(
        "{} features read: {} written (new or changed), {} unchanged, {} rejected",
        report.features,
        report.counts.written,
        report.counts.unchanged,
        report.problems.len()
    );
    Ok(if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
