//! `kiemdich proximity …`: the GAEN identifiers of a key, and matching a file of observations against a
//! signed key export, so the protocol can be used and tested without a phone.

use clap::{Args, Subcommand};
use kiemdich_proximity::{
    AemCipher, EnIntervalNumber, Exposure, KeyExport, Metadata, ProximityRules, RpiGenerator,
    TemporaryExposureKey, crypto::from_hex_array, hex,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ProximityCommand {
    /// Print the Rolling Proximity Identifiers of a Temporary Exposure Key, one per line in lower-case hex, for
    /// intervals N, N+1, …; with --metadata each line is `RPI AEM`.
    Rpi(RpiArgs),
    /// Match a file of observations (JSON lines: {"rpi", "aem", "rssi", "at", "seconds"}) against a key export
    /// zip and print the exposures found (nothing when none).
    Match(MatchArgs),
    /// Publish the keys uploaded since the last batch as a new signed export batch now (the server does it
    /// hourly) and print it as JSON {id, keys, start, end}; nothing is cut when no key is new.
    Export(crate::proximity_export::ExportArgs),
    /// Simulate a province of phones over days and report precision, recall, download and matching cost, and
    /// the F1s proximity and the presence log each find.
    Simulate(crate::proximity_simulate::SimulateArgs),
}

#[derive(Args)]
pub struct RpiArgs {
    /// The Temporary Exposure Key, 32 hex digits.
    #[arg(long)]
    tek: String,
    /// The first ENIntervalNumber (Unix seconds / 600).
    #[arg(long)]
    interval: u32,
    /// How many identifiers.
    #[arg(long, default_value_t = 144)]
    count: u32,
    /// The 4 metadata bytes (8 hex digits) to encrypt into each identifier's AEM.
    #[arg(long)]
    metadata: Option<String>,
}

#[derive(Args)]
pub struct MatchArgs {
    /// Observations, JSON lines (see the kiemdich-proximity crate docs).
    #[arg(long)]
    observations: PathBuf,
    /// The export zip (export.bin + export.sig).
    #[arg(long)]
    export: PathBuf,
    /// The PEM public key that verifies export.sig; without it the signature is not checked (and a warning
    /// is printed).
    #[arg(long)]
    public_key: Option<PathBuf>,
    /// The scanning phone's model, to pick its RSSI calibration from the rules.
    #[arg(long)]
    scanner_model: Option<String>,
    /// Proximity rules JSON to use instead of the shipped defaults.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Print one JSON object per exposure.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: ProximityCommand) -> crate::Result<ExitCode> {
    match cmd {
        ProximityCommand::Rpi(args) => rpi(&args).map(|_| ExitCode::SUCCESS),
        ProximityCommand::Match(args) => matching(&args),
        ProximityCommand::Export(args) => crate::proximity_export::run(&args),
        ProximityCommand::Simulate(args) => {
            crate::proximity_simulate::run(&args).map(|_| ExitCode::SUCCESS)
        }
    }
}

fn rpi(args: &RpiArgs) -> crate::Result<()> {
    let key = from_hex_array::<16>(args.tek.trim())
        .ok_or("--tek: not 16 bytes of hex (32 hex digits)")?;
    let metadata = match &args.metadata {
        Some(m) => Some(Metadata(
            from_hex_array::<4>(m.trim()).ok_or("--metadata: not 4 bytes of hex (8 hex digits)")?,
        )),
        None => None,
    };
    let tek = TemporaryExposureKey {
        key,
        rolling_start: EnIntervalNumber(args.interval),
        rolling_period: kiemdich_proximity::crypto::MAX_ROLLING_PERIOD,
        transmission_risk_level: 0,
    };
    let generator = RpiGenerator::new(&tek.rpik());
    let aem = AemCipher::new(&tek.aemk());
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for i in 0..args.count {
        let interval = EnIntervalNumber(
            args.interval
                .checked_add(i)
                .ok_or("--interval + --count overflows")?,
        );
        let rpi = generator.rpi(interval);
        let line = match metadata {
            Some(m) => format!("{rpi} {}", hex(&aem.encrypt(&rpi, m))),
            None => rpi.to_string(),
        };
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())
}

fn read(path: &Path) -> crate::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn text(path: &Path) -> crate::Result<String> {
    String::from_utf8(read(path)?).map_err(|_| format!("{}: not UTF-8 text", path.display()))
}

fn matching(args: &MatchArgs) -> crate::Result<ExitCode> {
    let rules = match &args.rules {
        Some(p) => ProximityRules::from_json(&text(p)?)?,
        None => ProximityRules::default(),
    };
    let observations = match kiemdich_proximity::parse_observations(&text(&args.observations)?) {
        Ok(o) => o,
        Err(errors) => {
            for e in &errors {
                eprintln!("{}: {e}", args.observations.display());
            }
            eprintln!(
                "{} dòng hỏng, không đối chiếu / {} bad lines, nothing matched",
                errors.len(),
                errors.len()
            );
            return Ok(ExitCode::from(1));
        }
    };
    let zip = read(&args.export)?;
    let export: KeyExport = match &args.public_key {
        Some(p) => {
            let key = kiemdich_proximity::public_key_from_pem(&text(p)?)
                .map_err(|e| format!("{}: {e}", p.display()))?;
            kiemdich_proximity::read_export(&zip, &key)
        }
        None => {
            eprintln!(
                "cảnh báo: chưa kiểm tra chữ ký (thiếu --public-key) / warning: signature not checked (no --public-key)"
            );
            kiemdich_proximity::read_export_unverified(&zip)
        }
    }
    .map_err(|e| format!("{}: {e}", args.export.display()))?;
    let exposures = kiemdich_proximity::match_keys(
        &observations,
        &export.keys,
        &rules,
        args.scanner_model.as_deref(),
    );
    let mut out = std::io::stdout().lock();
    for e in &exposures {
        let line = if args.json {
            json(e).to_string()
        } else {
            human(e)
        };
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
    }
    if !args.json {
        let close = exposures.iter().filter(|e| e.close_contact).count();
        eprintln!(
            "{close} tiếp xúc gần, {} khóa đã nghe thấy trong {} khóa / {close} close contacts, {} keys heard of {}",
            exposures.len(),
            export.keys.len(),
            exposures.len(),
            export.keys.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn json(e: &Exposure) -> serde_json::Value {
    serde_json::json!({
        "key": hex(&e.key.key),
        "rolling_start_interval_number": e.key.rolling_start.0,
        "transmission_risk_level": e.key.transmission_risk_level,
        "first_seen": rfc3339(e.first_seen),
        "last_seen": rfc3339(e.last_seen),
        "sightings": e.sightings,
        "minutes": e.seconds / 60,
        "close_minutes": e.close_seconds / 60,
        "min_attenuation_db": e.min_attenuation_db,
        "close_contact": e.close_contact,
    })
}

/// `GẦN / CLOSE  10:00 – 10:20 20/11/2026  20/20 phút (min)  55 dB  …key`, times in Vietnam time.
fn human(e: &Exposure) -> String {
    let verdict = if e.close_contact {
        "GẦN / CLOSE"
    } else {
        "XA / FAR   "
    };
    format!(
        "{verdict}  {}  {}/{} phút (min)  {} dB  {}",
        kiemdich_domain::Rules::default()
            .clock()
            .span(e.first_seen, e.last_seen),
        e.close_seconds / 60,
        e.seconds / 60,
        e.min_attenuation_db,
        hex(&e.key.key),
    )
}
