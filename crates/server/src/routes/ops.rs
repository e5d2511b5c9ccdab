//! Liveness, readiness, metrics, the OpenAPI document and the landing page.

use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};

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

pub async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.render(),
    )
}

pub async fn openapi() -> Json<Value> {
    Json(crate::openapi::document())
}
