//! Liveness, readiness, metrics and the OpenAPI document.

use crate::AppState;
use crate::auth::Staff;
use crate::error::ApiResult;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kiemdich_store::Role;
use serde::Serialize;
use serde_json::Value;
use std::sync::LazyLock;

/// The liveness answer: the process runs and answers.
#[derive(Serialize)]
pub struct Liveness {
    status: &'static str,
}

pub async fn healthz() -> Json<Liveness> {
    Json(Liveness { status: "ok" })
}

/// The readiness answer: whether the database answers and a key signs, and which backend this is.
#[derive(Serialize)]
pub struct Readiness {
    database: bool,
    signing_key: bool,
    backend: &'static str,
}

pub async fn readyz(State(st): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let ready = st.store.ping().await.is_ok();
    let signer = st.signer().is_some();
    let status = if ready && signer {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            database: ready,
            signing_key: signer,
            backend: st.store.backend().as_str(),
        }),
    )
}

/// The counters, for the `ops` role only: they are counts, but request volumes and failures still tell an
/// outsider how the system is used and when it struggles. (`--metrics-bind` serves them without a token on a
/// private address.)
pub async fn metrics(State(st): State<AppState>, staff: Staff) -> ApiResult<Response> {
    staff.require(&[Role::Ops])?;
    Ok(crate::metrics::exposition(&st))
}

/// The OpenAPI document of [`super::api`], built once. It stays a JSON tree: it is a document about the API,
/// assembled from the route table, not an answer with fields of its own.
pub async fn openapi() -> Json<&'static Value> {
    static DOCUMENT: LazyLock<Value> = LazyLock::new(|| super::api().document());
    Json(&DOCUMENT)
}
