//! The kiemdich HTTP server: JSON API under `/api/v1`, server-rendered pages, operations endpoints.

mod access;
mod auth;
pub mod basemap;
mod cache;
mod error;
pub mod fhir;
mod hardening;
mod html;
pub mod jobs;
mod metrics;
pub mod notify;
mod openapi;
mod pages;
mod public;
mod qr;
mod routes;
mod services;
mod throttle;

pub use auth::{hash_password, new_token, token_hash};
pub use basemap::Basemap;
pub use hardening::{CONTENT_SECURITY_POLICY, PublicUrl};
pub use metrics::Metrics;
/// What `kiemdich bench map` times: every unit's levels at once, and the staff map's clustered places.
pub use services::case_map::{Mark, View, linked_places};
pub use services::dcc::reason_text as dcc_reason_text;
pub use services::map::{GeoJsonBody, MAP_PIXELS, geojson_body};
pub use services::proximity::region as proximity_region;
pub use services::risk::{Scope, UnitLevels, levels_in, levels_on};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use kiemdich_domain::{RiskRules, Rules, UnitCode, UnitTree};
use kiemdich_pass::{SigningKey, Verifier};
use kiemdich_store::{Store, keyring};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

/// Largest request body accepted anywhere (a family declaration is a few KB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Keys and units that change rarely and are re-read from the database in the background, so that several
/// servers, and key rotation done by the CLI, converge within [`REFRESH_EVERY`].
struct Cached {
    units: Arc<UnitTree>,
    signer: Option<Arc<SigningKey>>,
    verifier: Arc<Verifier>,
    /// The HC1 document signer in service (the newest installed DSC valid now whose key file is here).
    dcc_signer: Option<Arc<kiemdich_dcc::DscSigner>>,
    /// Every DSC an HC1 is verified against: the deployment's own and those imported from foreign lists.
    dcc_trust: Arc<kiemdich_dcc::TrustList>,
    /// The kids of the deployment's own DSCs: a certificate they signed names a resident.
    dcc_own: Arc<std::collections::HashSet<[u8; 8]>>,
}

const REFRESH_EVERY: Duration = Duration::from_secs(10);

/// What every request handler shares: one pointer, so that the clones axum makes for each request's extractors
/// and middleware cost one counter, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// The fields, to set at build time (copied if a clone of the state is already out).
    fn shared_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }
}

#[derive(Clone)]
pub struct Shared {
    pub store: Store,
    pub rules: Arc<Rules>,
    /// The risk-level rule sets (Decisions 4800/QĐ-BYT and 218/QĐ-BYT), loaded at start.
    pub risk: Arc<RiskRules>,
    /// Proximity tracing's rules (key retention, upload limits, verification code lifetime).
    pub proximity: Arc<kiemdich_proximity::ProximityRules>,
    /// The CWT issuer written into passes, e.g. `VN-94`.
    pub issuer: Arc<str>,
    pub data_dir: Arc<PathBuf>,
    pub metrics: Arc<Metrics>,
    cached: Arc<RwLock<Cached>>,
    /// Principals by token hash, for [`PRINCIPAL_TTL`]: a token revoked on another server stops within it.
    pub(crate) principals: Arc<cache::TtlCache<String, kiemdich_store::Principal>>,
    /// Locations by id (they do not change once registered).
    pub(crate) locations: Arc<cache::TtlCache<i64, kiemdich_store::Location>>,
    /// Failed sign-ins and one-time-code sends, counted against the rules' limits.
    pub(crate) throttle: Arc<throttle::Throttle>,
    /// Delivers queued messages (the development sender logs them).
    sender: Arc<dyn notify::Sender>,
    /// Where people reach the server; [`serve`] sets `http://<listen address>` when none was given.
    public_url: Option<PublicUrl>,
    /// Who runs this deployment, as every page header and printout names them.
    contact: Arc<Contact>,
    /// The public map's layers, built and gzipped (see [`services::map`]).
    pub(crate) map_cache: Arc<services::map::MapCache>,
    /// The deployment's own basemap tiles, if it has any: the maps work without.
    basemap: Option<Arc<Basemap>>,
    /// The public page as rendered, per language, for [`PUBLIC_PAGE_TTL`]: one server serves a province.
    pub(crate) public_pages:
        Arc<cache::TtlCache<kiemdich_domain::catalogue::Lang, Arc<public::Cached>>>,
    /// The identifier system of citizen ids on the FHIR facade ([`fhir::DEFAULT_CITIZEN_SYSTEM`] unless
    /// configured).
    citizen_system: Arc<str>,
    /// Who issues HC1 certificates: the CWT issuer country and the `is` authority name (configuration).
    dcc_issuer: Arc<DccIssuer>,
    /// This server process among those sharing the database (random per start), as job claims name it.
    pub(crate) instance: Arc<str>,
}

/// The issuer of this deployment's HC1 certificates: the country (`iss`, the UVCI's country) and the authority's
/// name (`v[0].is`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DccIssuer {
    pub country: String,
    pub authority: String,
}

impl Default for DccIssuer {
    fn default() -> DccIssuer {
        DccIssuer {
            country: "VN".into(),
            authority: "Ministry of Health Viet Nam".into(),
        }
    }
}

/// How long the rendered public page is reused (a decision clears it at once).
const PUBLIC_PAGE_TTL: Duration = Duration::from_secs(30);

/// The health department that runs a deployment and its hotline (configuration). The department defaults to
/// "Sở Y tế" of the province the units describe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub department: Option<String>,
    pub hotline: String,
    /// Health stations' phones by unit (a commune's station, a district's health centre): whom people of that
    /// unit call first.
    pub stations: std::collections::BTreeMap<UnitCode, String>,
}

/// The health station people of a unit call: the nearest unit, from the commune up, that has a phone.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Station {
    pub unit_name: String,
    pub phone: String,
}

/// Who issues passes and answers questions, as pages and printouts show them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Authority {
    pub province: String,
    pub department: String,
    pub hotline: String,
}

/// The Ministry of Health's national COVID-19 hotline, until a deployment names its own.
pub const DEFAULT_HOTLINE: &str = "1900 9095";

/// How long a token's principal is reused without asking the database.
const PRINCIPAL_TTL: Duration = Duration::from_secs(2);

impl AppState {
    pub async fn new(
        store: Store,
        data_dir: PathBuf,
        issuer: &str,
        rules: Rules,
    ) -> Result<AppState, String> {
        let cached = load(&store, &data_dir, issuer).await?;
        let throttle = Arc::new(throttle::Throttle::new(
            rules.security.clone(),
            store.clone(),
        ));
        Ok(AppState(Arc::new(Shared {
            store,
            rules: Arc::new(rules),
            risk: Arc::new(RiskRules::shipped()?),
            proximity: Arc::default(),
            issuer: issuer.into(),
            data_dir: Arc::new(data_dir),
            metrics: Arc::new(Metrics::default()),
            cached: Arc::new(RwLock::new(cached)),
            principals: Arc::new(cache::TtlCache::new(PRINCIPAL_TTL)),
            locations: Arc::new(cache::TtlCache::new(REFRESH_EVERY)),
            throttle,
            sender: Arc::new(notify::LogSender),
            public_url: None,
            contact: Arc::new(Contact {
                department: None,
                hotline: DEFAULT_HOTLINE.into(),
                stations: Default::default(),
            }),
            map_cache: Arc::default(),
            basemap: None,
            public_pages: Arc::new(cache::TtlCache::new(PUBLIC_PAGE_TTL)),
            citizen_system: fhir::DEFAULT_CITIZEN_SYSTEM.into(),
            dcc_issuer: Arc::default(),
            instance: instance_id().into(),
        })))
    }

    /// Makes the public map's cached layers stale at once, for whatever changes what they show (boundaries, risk
    /// decisions); changes made by another process are seen within [`services::map::RECHECK`] anyway.
    pub fn invalidate_map(&self) {
        self.map_cache.invalidate();
        self.public_pages.clear();
    }

    /// Delivers messages through `sender` instead of the development sender (an SMS gateway; tests).
    pub fn with_sender(mut self, sender: Arc<dyn notify::Sender>) -> AppState {
        self.shared_mut().sender = sender;
        self
    }

    /// The address people reach the server at (behind a proxy, the proxy's), for links and origin checks.
    pub fn with_public_url(mut self, url: PublicUrl) -> AppState {
        self.shared_mut().public_url = Some(url);
        self
    }

    /// Names citizen ids on the FHIR facade under `system` (a URI) instead of [`fhir::DEFAULT_CITIZEN_SYSTEM`].
    pub fn with_citizen_system(mut self, system: &str) -> AppState {
        self.shared_mut().citizen_system = system.into();
        self
    }

    /// Issues HC1 certificates as `issuer` instead of the default (VN, the Ministry of Health).
    pub fn with_dcc_issuer(mut self, issuer: DccIssuer) -> AppState {
        self.shared_mut().dcc_issuer = Arc::new(issuer);
        self
    }

    pub fn dcc_issuer(&self) -> &DccIssuer {
        &self.dcc_issuer
    }

    /// The HC1 signer in service, if a DSC is installed.
    pub fn dcc_signer(&self) -> Option<Arc<kiemdich_dcc::DscSigner>> {
        self.cached().dcc_signer.clone()
    }

    /// The DSCs HC1s are verified against (own and imported).
    pub fn dcc_trust(&self) -> Arc<kiemdich_dcc::TrustList> {
        self.cached().dcc_trust.clone()
    }

    /// Whether the DSC with this kid is one of the deployment's own (its certificates name residents).
    pub fn dcc_issued_here(&self, kid: &[u8; 8]) -> bool {
        self.cached().dcc_own.contains(kid)
    }

    /// The identifier system of citizen ids on the FHIR facade.
    pub fn citizen_system(&self) -> &str {
        &self.citizen_system
    }

    pub fn public_url(&self) -> Option<&PublicUrl> {
        self.public_url.as_ref()
    }

    /// The department and hotline that pages and printouts name.
    pub fn with_contact(mut self, contact: Contact) -> AppState {
        self.shared_mut().contact = Arc::new(contact);
        self
    }

    /// Draws the deployment's basemap under the maps.
    pub fn with_basemap(mut self, basemap: Option<Basemap>) -> AppState {
        self.shared_mut().basemap = basemap.map(Arc::new);
        self
    }

    pub fn basemap(&self) -> Option<&Basemap> {
        self.basemap.as_deref()
    }

    /// The health station for people of `unit`, if one is configured for it or a unit above it.
    pub fn station(&self, unit: &UnitCode) -> Option<Station> {
        let units = self.units();
        let own = units.get(unit);
        own.into_iter().chain(units.ancestors(unit)).find_map(|u| {
            self.contact.stations.get(&u.code).map(|phone| Station {
                unit_name: u.name.clone(),
                phone: phone.clone(),
            })
        })
    }

    /// The province (from the units), its health department and the hotline.
    pub fn authority(&self) -> Authority {
        let units = self.units();
        let province = units.province().map(|u| u.name.clone()).unwrap_or_default();
        let department = self
            .contact
            .department
            .clone()
            .unwrap_or_else(|| format!("Sở Y tế {province}"));
        Authority {
            province,
            department,
            hotline: self.contact.hotline.clone(),
        }
    }

    fn cached(&self) -> std::sync::RwLockReadGuard<'_, Cached> {
        self.cached.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn units(&self) -> Arc<UnitTree> {
        self.cached().units.clone()
    }

    pub fn signer(&self) -> Option<Arc<SigningKey>> {
        self.cached().signer.clone()
    }

    pub fn verifier(&self) -> Arc<Verifier> {
        self.cached().verifier.clone()
    }

    /// A location, from the cache of the last [`REFRESH_EVERY`] (locations do not change once registered).
    pub(crate) async fn location(
        &self,
        id: i64,
    ) -> Result<Option<kiemdich_store::Location>, kiemdich_store::StoreError> {
        self.locations
            .get_or_load(&id, async || self.store.location(id).await)
            .await
    }

    /// Re-reads units and keys now.
    pub async fn refresh(&self) -> Result<(), String> {
        let mut fresh = load(&self.store, &self.data_dir, &self.issuer).await?;
        let mut cached = self.cached.write().unwrap_or_else(|p| p.into_inner());
        // Unchanged signers keep the verification tables they built on their first certificates.
        if fresh.dcc_trust.same_certificates(&cached.dcc_trust) {
            fresh.dcc_trust = cached.dcc_trust.clone();
        }
        *cached = fresh;
        Ok(())
    }
}

/// A name for this process that no other server shares: the host, the process id and random bits.
fn instance_id() -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).expect("the operating system provides randomness");
    let host = std::env::var("HOSTNAME").unwrap_or_default();
    format!("{host}:{}:{}", std::process::id(), hex::encode(b))
}

async fn load(store: &Store, data_dir: &std::path::Path, issuer: &str) -> Result<Cached, String> {
    let units = UnitTree::new(store.units().await.map_err(|e| e.to_string())?);
    let signer = keyring::active(store, data_dir)
        .await
        .map_err(|e| e.to_string())?
        .map(Arc::new);
    let list = keyring::trust_list(store, issuer)
        .await
        .map_err(|e| e.to_string())?;
    let verifier = Verifier::new(&list)?;
    let dcc_signer = kiemdich_store::dcc::signer(store, data_dir, chrono::Utc::now())
        .await
        .map_err(|e| e.to_string())?
        .map(Arc::new);
    let dcc_trust = kiemdich_store::dcc::trust_list(store)
        .await
        .map_err(|e| e.to_string())?;
    let dcc_own = store
        .dscs()
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .filter_map(|r| {
            use base64::Engine as _;
            let kid = base64::engine::general_purpose::STANDARD
                .decode(&r.kid)
                .ok()?;
            <[u8; 8]>::try_from(kid).ok()
        })
        .collect();
    Ok(Cached {
        units: Arc::new(units),
        signer,
        verifier: Arc::new(verifier),
        dcc_signer,
        dcc_trust: Arc::new(dcc_trust),
        dcc_own: Arc::new(dcc_own),
    })
}

/// The API and the pages, behind [`hardening::edge`]: the body-size and cross-site refusals, answered in the
/// caller's language, the metrics' count, and the security headers on whatever answered.
pub fn router(state: AppState) -> Router {
    routes::router()
        .merge(pages::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            hardening::edge,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// How connections are served. Defaults suit a server on the internet, behind a TLS proxy or not.
pub struct ServeOptions {
    /// Time a client has to send a request's headers. hyper runs the same timer while a kept-alive
    /// connection waits for its next request, so this is the idle timeout too: a client that opens
    /// connections and sends nothing (or a header a byte at a time) holds each for this long at most.
    pub header_read_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog until one closes, so a flood of
    /// connections cannot exhaust file descriptors or memory.
    pub max_connections: usize,
    /// A second listener (on a private address) that serves `/metrics` without a token, for Prometheus.
    pub metrics_listener: Option<tokio::net::TcpListener>,
}

impl Default for ServeOptions {
    fn default() -> ServeOptions {
        ServeOptions {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 512,
            metrics_listener: None,
        }
    }
}

/// [`serve_with`] and the default [`ServeOptions`].
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    serve_with(listener, state, ServeOptions::default()).await
}

/// Serves until Ctrl-C or SIGTERM, then lets requests in flight finish (for [`SHUTDOWN_GRACE`] at most).
/// In the background: cached keys and units are refreshed, notifications go out through the development
/// sender, and the periodic [`jobs`] (retention purge, proximity exports) run once per hour across servers.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    mut state: AppState,
    options: ServeOptions,
) -> std::io::Result<()> {
    if state.public_url.is_none() {
        state.shared_mut().public_url = Some(PublicUrl::of_addr(listener.local_addr()?));
    }
    spawn_background(&state);
    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown().await;
        stop.send_replace(true);
    });
    let limits = conn::Limits {
        header_read_timeout: options.header_read_timeout,
        max_connections: options.max_connections,
    };
    let metrics = options.metrics_listener.map(|l| {
        let app = metrics::open_router(state.clone());
        tokio::spawn(conn::accept_loop(l, app, limits.clone(), stopping.clone()))
    });
    conn::accept_loop(listener, router(state), limits, stopping).await;
    if let Some(m) = metrics {
        m.await.ok();
    }
    Ok(())
}

/// How long requests in flight may take to finish once shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The accept loop: one task per connection, HTTP/1.1 with a header-read timeout, a cap on connections, and
/// a graceful end. `axum::serve` offers neither the timeout nor the cap.
mod conn {
    use super::SHUTDOWN_GRACE;
    use axum::Router;
    use hyper::server::conn::http1;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;
    use std::sync::Arc;
    use std::time::Duration;
    use tokio::net::TcpListener;
    use tokio::sync::{Semaphore, watch};
    use tower::ServiceExt;

    #[derive(Clone)]
    pub(super) struct Limits {
        pub header_read_timeout: Duration,
        pub max_connections: usize,
    }

    pub(super) async fn accept_loop(
        listener: TcpListener,
        app: Router,
        limits: Limits,
        mut stopping: watch::Receiver<bool>,
    ) {
        let permits = Arc::new(Semaphore::new(limits.max_connections));
        let graceful = GracefulShutdown::new();
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .keep_alive(true);
        loop {
            // A permit first: past the cap, connections wait in the kernel's backlog, not in memory here.
            let permit = tokio::select! {
                p = permits.clone().acquire_owned() => p,
                _ = stopping.wait_for(|s| *s) => break,
            };
            let Ok(permit) = permit else { break };
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = stopping.wait_for(|s| *s) => break,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            };
            stream.set_nodelay(true).ok();
            // Handlers that limit per network address read it as `ConnectInfo`.
            let service = TowerToHyperService::new(app.clone().map_request(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    req
                },
            ));
            let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, "connection closed with an error");
                }
                drop(permit);
            });
        }
        drop(listener);
        if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("requests still running after the shutdown grace period were cut");
        }
    }

    /// A connection that failed before it was accepted is the client's business; anything else (out of
    /// file descriptors) is logged and retried after a pause rather than spinning.
    async fn accept_failed(e: std::io::Error) {
        use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
        if !matches!(
            e.kind(),
            ConnectionAborted | ConnectionRefused | ConnectionReset
        ) {
            tracing::error!(error = %e, "accepting a connection failed");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

fn spawn_background(state: &AppState) {
    tokio::spawn(notify::dispatch(state.store.clone(), state.sender.clone()));
    for job in jobs::Job::ALL {
        tokio::spawn(jobs::every_slot(state.clone(), job));
    }
    let book = state.rules.pass_book;
    tokio::spawn(state.store.clone().follow_book(kiemdich_store::BookFollow {
        every: Duration::from_millis(u64::from(book.poll_ms)),
        gap_wait: Duration::from_secs(u64::from(book.gap_wait_seconds)),
    }));
    let refresher = state.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(REFRESH_EVERY).await;
            if let Err(e) = refresher.refresh().await {
                tracing::warn!(error = %e, "refreshing keys and units failed");
            }
        }
    });
}

async fn shutdown() {
    let ctrl_c = async { tokio::signal::ctrl_c().await.ok() };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
