//! The kiemdich HTTP server: JSON API under `/api/v1`, server-rendered pages, operations endpoints.

mod auth;
mod cache;
mod error;
mod metrics;
pub mod notify;
mod openapi;
mod pages;
mod qr;
mod routes;

pub use auth::{hash_password, new_token, token_hash};
pub use metrics::Metrics;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use kiemdich_domain::{Rules, UnitTree};
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
}

const REFRESH_EVERY: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub rules: Arc<Rules>,
    /// The CWT issuer written into passes, e.g. `VN-94`.
    pub issuer: Arc<str>,
    pub data_dir: Arc<PathBuf>,
    pub metrics: Arc<Metrics>,
    cached: Arc<RwLock<Cached>>,
    /// Principals by token hash, for [`PRINCIPAL_TTL`]: a token revoked on another server stops within it.
    pub(crate) principals: Arc<cache::TtlCache<String, kiemdich_store::Principal>>,
    /// Locations by id (they do not change once registered).
    pub(crate) locations: Arc<cache::TtlCache<i64, kiemdich_store::Location>>,
}

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
        Ok(AppState {
            store,
            rules: Arc::new(rules),
            issuer: issuer.into(),
            data_dir: Arc::new(data_dir),
            metrics: Arc::new(Metrics::default()),
            cached: Arc::new(RwLock::new(cached)),
            principals: Arc::new(cache::TtlCache::new(PRINCIPAL_TTL)),
            locations: Arc::new(cache::TtlCache::new(REFRESH_EVERY)),
        })
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
        let fresh = load(&self.store, &self.data_dir, &self.issuer).await?;
        *self.cached.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }
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
    Ok(Cached {
        units: Arc::new(units),
        signer,
        verifier: Arc::new(verifier),
    })
}

pub fn router(state: AppState) -> Router {
    routes::router()
        .merge(pages::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until Ctrl-C or SIGTERM. In the background: cached keys and units are refreshed, notifications go
/// out through the development sender, and presence events past retention are purged.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    tokio::spawn(notify::dispatch(
        state.store.clone(),
        Arc::new(notify::LogSender),
    ));
    tokio::spawn(purge_presence(state.clone()));
    let refresher = state.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(REFRESH_EVERY).await;
            if let Err(e) = refresher.refresh().await {
                tracing::warn!(error = %e, "refreshing keys and units failed");
            }
        }
    });
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown())
        .await
}

/// How often expired presence events are looked for.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Retention enforced by the system: presence events older than the rules' period are deleted, at start
/// and then hourly; each purge is logged and counted in `/metrics`.
async fn purge_presence(state: AppState) {
    loop {
        let before = chrono::Utc::now().timestamp()
            - i64::from(state.rules.presence_retention_days) * 86_400;
        match state.store.purge_presence(before).await {
            Ok(n) => {
                state
                    .metrics
                    .presence_purged
                    .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                tracing::info!(
                    deleted = n,
                    retention_days = state.rules.presence_retention_days,
                    "presence retention purge"
                );
            }
            Err(e) => tracing::warn!(error = %e, "presence retention purge failed"),
        }
        tokio::time::sleep(PURGE_EVERY).await;
    }
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
