//! `kiemdich`: one binary that serves the platform, runs a demo province, imports data, manages signing keys,
//! verifies passes offline and measures itself.

mod bench;
mod bench_batch;
mod bench_book;
mod bench_doses;
mod bench_fhir;
mod bench_load;
mod bench_map;
mod bench_map_cases;
mod bench_memory;
mod bench_results;
mod bench_trace;
mod config;
mod dcc;
mod demo;
mod demo_cases;
mod demo_geo;
mod demo_proximity;
mod demo_risk;
mod demo_testing;
mod demo_vaccination;
mod import;
mod proximity;
mod proximity_export;
mod proximity_simulate;
mod synth;
mod trace;

use clap::{Args, Parser, Subcommand};
use config::StoreArgs;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "kiemdich",
    version,
    about = "Self-hosted epidemic control: declarations, 72-hour QR passes, checkpoints."
)]
struct Cli {
    /// A TOML file whose keys (data_dir, db, bind, issuer, log_format, public_url, metrics_bind,
    /// max_connections, header_timeout) fill in settings not given as flags or KIEMDICH_* environment
    /// variables.
    #[arg(long, global = true, env = "KIEMDICH_CONFIG")]
    config: Option<PathBuf>,
    /// Log format: text for people, json for log collectors.
    #[arg(long, global = true, env = "KIEMDICH_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and pages.
    Serve(config::ServeArgs),
    /// Generate a whole demo province (units, population, staff, key) and serve it.
    Demo(demo::DemoArgs),
    /// Import reference data.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Manage pass signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Work with passes.
    #[command(subcommand)]
    Pass(PassCommand),
    /// EU Digital COVID Certificates (HC1): CSCA, DSC, offline verification.
    #[command(subcommand)]
    Dcc(dcc::DccCommand),
    /// Create a staff account.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Create API tokens for devices and integrations.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Proximity tracing (GAEN): identifiers of a key, matching observations against a key export.
    #[command(subcommand)]
    Proximity(proximity::ProximityCommand),
    /// Trace a case's contacts (F1, F2, …) from the visit log, read-only.
    Trace(trace::TraceArgs),
    /// Measure the performance targets against their anchors and print a table.
    Bench(bench::BenchArgs),
    /// Write a consistent copy of the SQLite database while the server keeps running.
    Backup {
        /// The backup file to create.
        #[arg(long)]
        to: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Put a backup in place as the data directory's database (the server must be stopped).
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// Replace an existing database.
        #[arg(long)]
        force: bool,
        #[arg(long, env = "KIEMDICH_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Population registry CSV: citizen_id,full_name,date_of_birth,sex,commune_code,address,phone.
    Population {
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Administrative units, JSON array or CSV with code,name,level,parent_code.
    Units {
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// A CDC case feed, CSV citizen_id,classification,onset_date,sample_date,isolated_date,state,vaccinated
    /// (classification f0 or suspected; dates YYYY-MM-DD; empty fields take the defaults).
    Cases {
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Official figures per unit, CSV unit_code,figure,period,value,source (figure: population,
    /// adult_first_dose_pct, over50_full_pct, population_full_pct, vulnerable_full_pct, oxygen_patients, deaths,
    /// free_beds; period empty for a standing figure or an ISO week YYYY-Www).
    Figures {
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Vaccination records, CSV citizen_id,product,dose_number,series_doses,date,lot,site,country (product an EU
    /// mp code or a name used in Vietnam such as "Vero Cell"; series_doses empty for the product's series; site a
    /// facility name, or a location's exact name; country ISO alpha-2, default VN). The same person, product and
    /// date is one dose: an identical line changes nothing, a different one is reported and the stored dose
    /// kept. Bad lines are reported as `line N: field: reason` (exit 1), good ones kept.
    Vaccinations {
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Laboratory results, CSV sample_id,result,tested_at,lab,ct (sample_id a sample's or a pool's id or label;
    /// result positive, negative or invalid; tested_at RFC 3339 or YYYY-MM-DD HH:MM Vietnam time; ct may be
    /// empty). Each result is written with its effects (a PCR positive opens a case, a positive pool orders its
    /// members sampled again, SMS to the people); a line identical to a stored result changes nothing. Bad lines
    /// are reported as `line N: field: reason` (exit 1), good ones kept.
    Results {
        file: PathBuf,
        /// Lines per transaction: each batch is checked and written with its effects at once.
        #[arg(long, default_value_t = import::RESULTS_BATCH)]
        batch: usize,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Visits for tracing, CSV location_id,citizen_id,entered_at,exited_at (RFC 3339; exited_at may be empty).
    Visits {
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Unit boundaries, a GeoJSON FeatureCollection of Polygon or MultiPolygon features (WGS84) whose `code`
    /// property is a known unit; any level. Re-importing replaces a unit's boundary from the same date; a later
    /// date closes the earlier one. Bad features are reported as `feature N: reason` (exit 1), good ones kept.
    Boundaries {
        file: PathBuf,
        /// The first day the boundaries hold (YYYY-MM-DD); today in Vietnam time when not given.
        #[arg(long)]
        valid_from: Option<chrono::NaiveDate>,
        /// Where the boundaries come from (a decision, a survey, a portal); the file name when not given.
        #[arg(long)]
        source: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Generate a signing key if none is active.
    Generate(StoreArgs),
    /// Start signing with a new key; old keys stay verify-only until their passes expire.
    Rotate(StoreArgs),
    /// Retire a key now: passes it signed stop verifying.
    Retire {
        /// The key's id, as `keys list` prints it. Ids are base64url and may begin with `-`.
        #[arg(allow_hyphen_values = true)]
        kid: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print the trust list (JSON) that offline verifiers cache.
    List(StoreArgs),
}

#[derive(Subcommand)]
enum PassCommand {
    /// Verify a KD1 pass offline. Exit 0 when valid, 1 when not.
    Verify(VerifyArgs),
}

#[derive(Args)]
struct VerifyArgs {
    /// A trust list file (as served at /api/v1/trust-list, optionally with `revoked` pass ids).
    #[arg(long, conflicts_with_all = ["data_dir", "db"])]
    trust_list: Option<PathBuf>,
    #[arg(long, env = "KIEMDICH_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[arg(long, env = "KIEMDICH_DB")]
    db: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// The token, `KD1:…`.
    token: String,
}

/// What an account or token may do, and where.
#[derive(Args)]
struct Grant {
    #[arg(long, value_parser = ["admin", "officer", "checkpoint", "health"])]
    role: String,
    /// Jurisdiction: a province, district or commune code.
    #[arg(long)]
    unit: String,
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Add an account; the password is read from KIEMDICH_PASSWORD or generated and printed.
    Add {
        #[arg(long)]
        username: String,
        #[command(flatten)]
        grant: Grant,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it once.
    Create {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        grant: Grant,
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KIEMDICH_LOG")
        .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// glibc gives each thread that allocates an arena of its own and keeps what they free in it: under a mixed load
/// the server's dozen threads held about 50 MiB more than two arenas do (`kiemdich bench memory`, peak 164 →
/// 113 MiB). glibc reads `MALLOC_ARENA_MAX` only when its allocator starts, so a server started without it runs
/// itself again with it set (the same process, by exec); it returns only if that fails.
fn with_few_malloc_arenas() {
    use std::os::unix::process::CommandExt as _;
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let failed = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("MALLOC_ARENA_MAX", "2")
        .exec();
    eprintln!(
        "warning: not restarted with MALLOC_ARENA_MAX=2 ({failed}); memory use may be higher"
    );
}

fn main() -> ExitCode {
    if let Err(e) = config::apply_config_file() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    if matches!(cli.command, Command::Serve(_) | Command::Demo(_)) {
        with_few_malloc_arenas();
    }
    init_logging(&cli.log_format);
    if let Some(path) = &cli.config {
        tracing::info!(config = %path.display(), "configuration file applied");
    }
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime starts");
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

type Result<T> = std::result::Result<T, String>;

async fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Serve(args) => config::serve(args).await.map(|_| ExitCode::SUCCESS),
        Command::Demo(args) => demo::run(args).await.map(|_| ExitCode::SUCCESS),
        Command::Import(ImportCommand::Population { file, store }) => {
            import::population(&file, &store).await
        }
        Command::Import(ImportCommand::Units { file, store }) => import::units(&file, &store).await,
        Command::Import(ImportCommand::Visits { file, store }) => {
            import::visits(&file, &store).await
        }
        Command::Import(ImportCommand::Cases { file, store }) => import::cases(&file, &store).await,
        Command::Import(ImportCommand::Vaccinations { file, store }) => {
            import::vaccinations(&file, &store).await
        }
        Command::Import(ImportCommand::Results { file, batch, store }) => {
            import::results(&file, batch, &store).await
        }
        Command::Import(ImportCommand::Figures { file, store }) => {
            import::figures(&file, &store).await
        }
        Command::Import(ImportCommand::Boundaries {
            file,
            valid_from,
            source,
            store,
        }) => import::boundaries(&file, valid_from, source, &store).await,
        Command::Trace(args) => trace::run(args).await,
        Command::Proximity(cmd) => proximity::run(cmd),
        Command::Keys(cmd) => keys(cmd).await.map(|_| ExitCode::SUCCESS),
        Command::Pass(PassCommand::Verify(args)) => verify(args).await,
        Command::Dcc(cmd) => dcc::run(cmd).await,
        Command::Staff(StaffCommand::Add {
            username,
            grant: Grant { role, unit },
            store,
        }) => {
            let password = std::env::var("KIEMDICH_PASSWORD").unwrap_or_else(|_| synth::password());
            config::add_staff(&store.open().await?, &username, &password, &role, &unit).await?;
            println!("created {role} account {username} for unit {unit}; password: {password}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(TokenCommand::Create {
            name,
            grant: Grant { role, unit },
            store,
        }) => {
            let token = config::create_token(&store.open().await?, &name, &role, &unit).await?;
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(args) => bench::run(args).await.map(|_| ExitCode::SUCCESS),
        Command::Backup { to, store } => {
            store
                .open()
                .await?
                .backup_to(&to)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "backed up to {}; the private signing keys in it are sealed: keep the key-encryption key \
                 ({} or {}) safe separately",
                to.display(),
                kiemdich_store::sealed::KEK_ENV,
                store.data_dir.join("kek").display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore {
            from,
            force,
            data_dir,
        } => restore(&from, &data_dir, force)
            .await
            .map(|_| ExitCode::SUCCESS),
    }
}

async fn keys(cmd: KeysCommand) -> Result<()> {
    use kiemdich_store::keyring;
    let e = |e: kiemdich_store::StoreError| e.to_string();
    match cmd {
        KeysCommand::Generate(s) => {
            let store = s.open().await?;
            match keyring::active(&store, &s.data_dir).await.map_err(e)? {
                Some(k) => println!("key {} is already active", k.kid()),
                None => println!(
                    "generated key {}",
                    keyring::generate(&store, &s.data_dir)
                        .await
                        .map_err(e)?
                        .kid()
                ),
            }
        }
        KeysCommand::Rotate(s) => {
            let store = s.open().await?;
            let overlap = i64::from(kiemdich_domain::Rules::default().pass_validity_hours) * 3600;
            println!(
                "now signing with {}",
                keyring::rotate(&store, &s.data_dir, overlap)
                    .await
                    .map_err(e)?
                    .kid()
            );
        }
        KeysCommand::Retire { kid, store: s } => {
            let store = s.open().await?;
            keyring::end(&store, &s.data_dir, &kid, chrono::Utc::now().timestamp())
                .await
                .map_err(e)?;
            println!("retired {kid}; passes it signed no longer verify");
        }
        KeysCommand::List(s) => {
            let list = keyring::trust_list(&s.open().await?, &s.issuer)
                .await
                .map_err(e)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&list).expect("serialisable")
            );
        }
    }
    Ok(())
}

/// Checks that the file is a kiemdich database, then copies it into place and drops stale WAL files.
async fn restore(from: &std::path::Path, data_dir: &std::path::Path, force: bool) -> Result<()> {
    let target = data_dir.join("kiemdich.db");
    if target.exists() && !force {
        return Err(format!(
            "{} exists; stop the server and pass --force to replace it",
            target.display()
        ));
    }
    {
        use sqlx::Connection;
        let url = format!("sqlite://{}?mode=ro", from.display());
        let mut conn = sqlx::SqliteConnection::connect(&url)
            .await
            .map_err(|e| format!("{}: {e}", from.display()))?;
        let version: i64 = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| format!("{} is not a kiemdich database: {e}", from.display()))?;
        tracing::info!(schema_version = version, "backup checked");
    }
    std::fs::create_dir_all(data_dir).map_err(|e| e.to_string())?;
    let staging = data_dir.join("kiemdich.db.restoring");
    std::fs::copy(from, &staging).map_err(|e| format!("{}: {e}", from.display()))?;
    for stale in ["kiemdich.db-wal", "kiemdich.db-shm"] {
        let _ = std::fs::remove_file(data_dir.join(stale));
    }
    std::fs::rename(&staging, &target).map_err(|e| e.to_string())?;
    println!("restored {} into {}", from.display(), target.display());
    Ok(())
}

/// Offline verification: with a trust list file nothing but the file is read; with a data directory or
/// database the stored keys and revocations are used, so revoked and superseded passes are refused too.
async fn verify(args: VerifyArgs) -> Result<ExitCode> {
    let list = match (&args.trust_list, &args.data_dir, &args.db) {
        (Some(path), _, _) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            serde_json::from_str(&text)
                .map_err(|e| format!("{}: not a trust list: {e}", path.display()))?
        }
        (None, None, None) => {
            return Err("give --trust-list FILE, --data-dir DIR or --db URL".into());
        }
        (None, data_dir, db) => {
            let s = StoreArgs::new(data_dir.clone(), db.clone());
            let store = s.open().await?;
            let mut list = kiemdich_store::keyring::trust_list(&store, &s.issuer)
                .await
                .map_err(|e| e.to_string())?;
            list.revoked = store
                .revocations_since(0, i64::MAX)
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|r| r.pass_id)
                .collect();
            list
        }
    };
    let verifier = kiemdich_pass::Verifier::new(&list)?;
    let result = verifier.verify(args.token.trim(), chrono::Utc::now());
    let (valid, out) = match &result {
        Ok(c) => (
            true,
            serde_json::json!({"valid": true, "reason": "valid", "holder": c.holder, "status": c.holder.status,
                                             "pass_id": c.pass_id.to_string(), "expires_at": c.expires_at.to_rfc3339()}),
        ),
        Err(r) => (
            false,
            serde_json::json!({"valid": false, "reason": r.reason.code(), "message": r.detail, "holder": null, "status": null, "expires_at": null}),
        ),
    };
    if args.json {
        println!("{out}");
    } else if let Ok(c) = &result {
        println!(
            "VALID  {} ({}), {}, status {}, expires {}",
            c.holder.name,
            c.holder.birth_year,
            c.holder.masked_id,
            c.holder.status.as_str(),
            c.expires_at.to_rfc3339()
        );
    } else if let Err(r) = &result {
        println!("INVALID  {}: {}", r.reason.code(), r.detail);
    }
    Ok(if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_id_that_begins_with_a_hyphen_is_an_id_not_a_flag() {
        let cli = Cli::try_parse_from([
            "kiemdich",
            "keys",
            "retire",
            "-Oq3xYz_1",
            "--data-dir",
            "/tmp/x",
        ]);
        let Ok(Cli {
            command: Command::Keys(KeysCommand::Retire { kid, store }),
            ..
        }) = cli
        else {
            panic!("not parsed as keys retire: {:?}", cli.err());
        };
        assert_eq!(kid, "-Oq3xYz_1");
        assert_eq!(store.data_dir, PathBuf::from("/tmp/x"));
    }
}
