//! Configuration: flags, then `KIEMDICH_*` environment variables, then a TOML config file, then defaults.
//! The config file is applied by setting the environment variables it names that are not already set, so
//! every setting has exactly one definition (its clap argument).

use crate::Result;
use clap::Args;
use kiemdich_domain::{Rules, UnitCode, parse_units_json};
use kiemdich_server::{
    AppState, Contact, PublicUrl, ServeOptions, hash_password, new_token, token_hash,
};
use kiemdich_store::{Kek, Role, Store, keyring};
use std::path::{Path, PathBuf};

/// Where the data lives: a directory (SQLite file and key files) and optionally a PostgreSQL URL.
#[derive(Args, Clone)]
pub struct StoreArgs {
    /// Data directory: the SQLite database, signing keys, demo credentials.
    #[arg(long, env = "KIEMDICH_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Database URL (postgres://… or sqlite://…); default: SQLite in the data directory.
    #[arg(long, env = "KIEMDICH_DB")]
    pub db: Option<String>,
    /// Issuer written into passes and the trust list.
    #[arg(long, env = "KIEMDICH_ISSUER", default_value = "VN-94")]
    pub issuer: String,
    /// The health department named on every page and printout; default "Sở Y tế" and the province's name.
    #[arg(long, env = "KIEMDICH_HEALTH_DEPARTMENT")]
    pub health_department: Option<String>,
    /// The hotline shown on every page, the pass card and the venue poster.
    #[arg(long, env = "KIEMDICH_HOTLINE", default_value = kiemdich_server::DEFAULT_HOTLINE)]
    pub hotline: String,
    /// Health stations' phones: a JSON object of unit code to phone (`{"31498": "0299 3822 000"}`); a person
    /// under a case is shown the station of their commune, else of its district or the province.
    #[arg(long, env = "KIEMDICH_HEALTH_STATIONS")]
    pub health_stations: Option<PathBuf>,
    /// A basemap for the maps: the deployment's own tiles as a path on this site, `/tiles/{z}/{x}/{y}.png`,
    /// served by the same reverse proxy. Without one the maps draw the boundaries alone.
    #[arg(long, env = "KIEMDICH_BASEMAP")]
    pub basemap: Option<String>,
    /// A basemap for the maps from a local PMTiles (v3) archive, served by kiemdich with range requests.
    #[arg(long, env = "KIEMDICH_BASEMAP_PMTILES", conflicts_with = "basemap")]
    pub basemap_pmtiles: Option<PathBuf>,
    /// The basemap's attribution, as its licence asks.
    #[arg(long, env = "KIEMDICH_BASEMAP_ATTRIBUTION", default_value = "")]
    pub basemap_attribution: String,
    /// The identifier system (a URI) that names citizen ids on the FHIR facade; the default is the CCCD
    /// NamingSystem of the VN Core FHIR implementation guide.
    #[arg(long, env = "KIEMDICH_FHIR_CITIZEN_SYSTEM", default_value = kiemdich_server::fhir::DEFAULT_CITIZEN_SYSTEM)]
    pub fhir_citizen_system: String,
    /// The country that issues this deployment's HC1 certificates (CWT `iss`, the UVCI's country).
    #[arg(long, env = "KIEMDICH_DCC_COUNTRY", default_value = "VN")]
    pub dcc_country: String,
    /// The authority named as the HC1 certificates' issuer (`is`).
    #[arg(
        long,
        env = "KIEMDICH_DCC_ISSUER",
        default_value = "Ministry of Health Viet Nam"
    )]
    pub dcc_issuer: String,
    /// The key-encryption key (64 hex digits or base64 of 32 bytes) that seals the private signing keys in the
    /// database; every server on one database needs the same. Given by environment or config file only (`kek`),
    /// never on the command line. Without it a KEK is generated in the data directory.
    #[arg(skip = std::env::var(kiemdich_store::sealed::KEK_ENV).ok())]
    pub kek: Option<String>,
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Address to listen on.
    #[arg(long, env = "KIEMDICH_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    #[command(flatten)]
    pub net: NetArgs,
}

/// How the server meets the network: its public address and its connection limits.
#[derive(Args, Clone)]
pub struct NetArgs {
    /// The address people reach the server at, e.g. https://kiemdich.example.vn (behind a proxy, the
    /// proxy's): poster links are built from it, and an https one makes cookies Secure. Default: http://BIND.
    #[arg(long, env = "KIEMDICH_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Also serve /metrics without a token on this address (keep it private); on the main address
    /// /metrics needs a token of the ops role.
    #[arg(long, env = "KIEMDICH_METRICS_BIND")]
    pub metrics_bind: Option<String>,
    /// Connections served at once; more wait until one closes.
    #[arg(long, env = "KIEMDICH_MAX_CONNECTIONS", default_value_t = 512)]
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers, which is also how long an idle connection stays open.
    #[arg(long, env = "KIEMDICH_HEADER_TIMEOUT", default_value_t = 10)]
    pub header_timeout: u64,
}

impl NetArgs {
    /// The public URL as configured, else `http://` and the address listened on.
    pub fn public_url(&self, listener: &tokio::net::TcpListener) -> Result<PublicUrl> {
        match &self.public_url {
            Some(url) => PublicUrl::parse(url),
            None => {
                let addr = listener.local_addr().map_err(|e| e.to_string())?;
                if addr.ip().is_unspecified() {
                    tracing::warn!(%addr, "listening on every address without --public-url: poster links will not work; set --public-url");
                }
                Ok(PublicUrl::of_addr(addr))
            }
        }
    }

    /// Serves `state` (with its public URL set) on `listener` with these limits until Ctrl-C or SIGTERM.
    pub async fn serve(&self, listener: tokio::net::TcpListener, state: AppState) -> Result<()> {
        let metrics_listener = match &self.metrics_bind {
            Some(addr) => {
                let l = tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
                tracing::info!(%addr, "serving /metrics without a token");
                Some(l)
            }
            None => None,
        };
        let options = ServeOptions {
            header_read_timeout: std::time::Duration::from_secs(self.header_timeout.max(1)),
            max_connections: self.max_connections.max(1),
            metrics_listener,
        };
        kiemdich_server::serve_with(listener, state, options)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Reads `--config FILE` (or `KIEMDICH_CONFIG`) and exports its keys as `KIEMDICH_<KEY>` where unset.
/// Applies the TOML file given with `--config` (or `KIEMDICH_CONFIG`): each key becomes its `KIEMDICH_*`
/// variable unless the environment already sets it, so that flags, then the environment, then the file decide.
/// A running program cannot change its own environment safely, so when the file adds anything the program
/// starts again with it (in place, by exec, on unix); the second start finds nothing left to add.
pub fn apply_config_file() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let from_flag = args
        .iter()
        .position(|a| a == "--config")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let from_flag = from_flag.or_else(|| {
        args.iter()
            .find_map(|a| a.strip_prefix("--config=").map(str::to_owned))
    });
    let Some(path) = from_flag.or_else(|| std::env::var("KIEMDICH_CONFIG").ok()) else {
        return Ok(());
    };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("config {path}: {e}"))?;
    let table: toml::Table = text.parse().map_err(|e| format!("config {path}: {e}"))?;
    let missing: Vec<(String, String)> = table
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                toml::Value::String(s) => s,
                other => other.to_string(),
            };
            (format!("KIEMDICH_{}", key.to_uppercase()), value)
        })
        .filter(|(var, _)| std::env::var_os(var).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let exe = std::env::current_exe().map_err(|e| format!("config {path}: {e}"))?;
    let mut again = std::process::Command::new(exe);
    again.args(std::env::args_os().skip(1)).envs(missing);
    restart(again).map_err(|e| format!("config {path}: starting again: {e}"))
}

#[cfg(unix)]
fn restart(mut command: std::process::Command) -> std::io::Result<()> {
    use std::os::unix::process::CommandExt;
    Err(command.exec())
}

#[cfg(not(unix))]
fn restart(mut command: std::process::Command) -> std::io::Result<()> {
    let status = command.status()?;
    std::process::exit(status.code().unwrap_or(2))
}

const DEFAULT_UNITS: &str = include_str!("../data/soctrang_units.json");

impl StoreArgs {
    pub fn new(data_dir: Option<PathBuf>, db: Option<String>) -> StoreArgs {
        StoreArgs {
            data_dir: data_dir.unwrap_or_else(|| "data".into()),
            db,
            issuer: std::env::var("KIEMDICH_ISSUER").unwrap_or_else(|_| "VN-94".into()),
            health_department: std::env::var("KIEMDICH_HEALTH_DEPARTMENT").ok(),
            hotline: std::env::var("KIEMDICH_HOTLINE")
                .unwrap_or_else(|_| kiemdich_server::DEFAULT_HOTLINE.into()),
            health_stations: std::env::var_os("KIEMDICH_HEALTH_STATIONS").map(PathBuf::from),
            basemap: std::env::var("KIEMDICH_BASEMAP").ok(),
            basemap_pmtiles: std::env::var_os("KIEMDICH_BASEMAP_PMTILES").map(PathBuf::from),
            basemap_attribution: std::env::var("KIEMDICH_BASEMAP_ATTRIBUTION").unwrap_or_default(),
            fhir_citizen_system: std::env::var("KIEMDICH_FHIR_CITIZEN_SYSTEM")
                .unwrap_or_else(|_| kiemdich_server::fhir::DEFAULT_CITIZEN_SYSTEM.into()),
            dcc_country: std::env::var("KIEMDICH_DCC_COUNTRY").unwrap_or_else(|_| "VN".into()),
            dcc_issuer: std::env::var("KIEMDICH_DCC_ISSUER")
                .unwrap_or_else(|_| "Ministry of Health Viet Nam".into()),
            kek: std::env::var(kiemdich_store::sealed::KEK_ENV).ok(),
        }
    }

    /// Opens the store; a database without units gets the embedded 2021 Sóc Trăng list as its default.
    pub async fn open(&self) -> Result<Store> {
        let store = match &self.db {
            Some(url) => Store::connect(url).await,
            None => Store::open_data_dir(&self.data_dir).await,
        }
        .map_err(|e| e.to_string())?;
        let store = match &self.kek {
            Some(text) => store.with_kek(Kek::parse(text).map_err(|e| e.to_string())?),
            None => store,
        };
        if store.units().await.map_err(|e| e.to_string())?.is_empty() {
            let units = parse_units_json(DEFAULT_UNITS)?;
            store
                .upsert_units(&units)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(
                units = units.len(),
                "empty database: loaded the default Sóc Trăng (2021) units"
            );
        }
        Ok(store)
    }

    /// Opens the store and makes sure a signing key is active, then builds the server state.
    pub async fn state(&self) -> Result<AppState> {
        kiemdich_server::fhir::check_system(&self.fhir_citizen_system)
            .map_err(|e| format!("--fhir-citizen-system: {e}"))?;
        let store = self.open().await?;
        seal_keys(&store, &self.data_dir).await?;
        ensure_key(&store, &self.data_dir).await?;
        let state =
            AppState::new(store, self.data_dir.clone(), &self.issuer, Rules::default()).await?;
        let credit = &self.basemap_attribution;
        let basemap = match (&self.basemap, &self.basemap_pmtiles) {
            (Some(url), _) => Some(kiemdich_server::Basemap::tiles(url, credit)?),
            (None, Some(path)) => Some(kiemdich_server::Basemap::pmtiles(path.clone(), credit)?),
            (None, None) => None,
        };
        Ok(state
            .with_contact(Contact {
                department: self.health_department.clone(),
                hotline: self.hotline.clone(),
                stations: self.stations()?,
            })
            .with_basemap(basemap)
            .with_citizen_system(&self.fhir_citizen_system)
            .with_dcc_issuer(kiemdich_server::DccIssuer {
                country: self.dcc_country.clone(),
                authority: self.dcc_issuer.clone(),
            }))
    }

    /// The health stations' phones from `--health-stations`, every code checked.
    fn stations(&self) -> Result<std::collections::BTreeMap<UnitCode, String>> {
        let Some(path) = &self.health_stations else {
            return Ok(Default::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("health stations {}: {e}", path.display()))?;
        let raw: std::collections::BTreeMap<String, String> = serde_json::from_str(&text)
            .map_err(|e| format!("health stations {}: {e}", path.display()))?;
        raw.into_iter()
            .map(|(code, phone)| {
                let code = UnitCode::parse(&code)
                    .map_err(|e| format!("health stations {}: {code}: {e}", path.display()))?;
                Ok((code, phone))
            })
            .collect()
    }
}

/// Seals private keys left in plain files by an older version, then opens every stored private key with this
/// server's KEK, so that a server configured with another KEK than its peers refuses to start, saying why.
async fn seal_keys(store: &Store, data_dir: &Path) -> Result<()> {
    let sealed = keyring::seal_key_files(store, data_dir)
        .await
        .map_err(|e| e.to_string())?;
    if sealed > 0 {
        tracing::info!(
            keys = sealed,
            "private keys moved from plain files into the database, sealed under the KEK"
        );
    }
    let kek = kiemdich_store::sealed::kek(store, data_dir).map_err(|e| e.to_string())?;
    store.check_kek(&kek).await.map_err(|e| e.to_string())?;
    Ok(())
}

pub(crate) async fn ensure_key(store: &Store, data_dir: &Path) -> Result<()> {
    if keyring::active(store, data_dir)
        .await
        .map_err(|e| e.to_string())?
        .is_none()
    {
        let key = keyring::generate(store, data_dir)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(kid = %key.kid(), "no active signing key: generated one");
    }
    Ok(())
}

pub async fn serve(args: ServeArgs) -> Result<()> {
    let state = args.store.state().await?;
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    let url = args.net.public_url(&listener)?;
    tracing::info!(
        url = url.origin(),
        backend = state.store.backend().as_str(),
        "serving"
    );
    args.net.serve(listener, state.with_public_url(url)).await
}

fn role_unit(role: &str, unit: &str) -> Result<(Role, UnitCode)> {
    Ok((Role::parse_grantable(role)?, UnitCode::parse(unit)?))
}

pub async fn add_staff(
    store: &Store,
    username: &str,
    password: &str,
    role: &str,
    unit: &str,
) -> Result<i64> {
    let (role, unit) = role_unit(role, unit)?;
    let hash = hash_password(password)?;
    store
        .create_staff(username, &hash, role, &unit)
        .await
        .map_err(|e| e.to_string())
}

pub async fn create_token(store: &Store, name: &str, role: &str, unit: &str) -> Result<String> {
    let (role, unit) = role_unit(role, unit)?;
    let token = new_token();
    store
        .create_token(&token_hash(&token), name, role, &unit, None, None)
        .await
        .map_err(|e| e.to_string())?;
    Ok(token)
}
