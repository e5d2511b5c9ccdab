//! Liveness, readiness, metrics and the OpenAPI document.

use crate::AppState;
use crate::auth::Staff;
use crate::error::ApiResult;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kiemdich_store::Role;
use serde_json::{Value, json};
use std::sync::LazyLock;

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub async fn readyz(State(st): State<AppState>) -> impl IntoResponse {
    let ready = st.store.ping().await.is_ok();
    let signer = st.signer().is_some();
    let status = if ready && signer {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(
            json!({"database": ready, "signing_key": signer, "backend": st.store.backend().as_str()}),
        ),
    )
}

/// The counters, for the `ops` role only: they are counts, but request volumes and failures still tell an
/// outsider how the system is used and when it struggles. (`--metrics-bind` serves them without a token on a
/// private address.)
pub async fn metrics(State(st): State<AppState>, staff: Staff) -> ApiResult<Response> {
    staff.require(&[Role::Ops])?;
    Ok(crate::metrics::exposition(&st.metrics))
}

/// The OpenAPI document of [`super::api`], built once.
pub async fn openapi() -> Json<Value> {
    static DOCUMENT: LazyLock<Value> = LazyLock::new(|| super::api().document());
    Json(DOCUMENT.clone())
}
