//! Liveness, readiness, metrics, the OpenAPI document and the landing page.

use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};
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

pub async fn index() -> Html<String> {
    Html(
        maud::html! {
            (maud::DOCTYPE)
            html lang="vi" {
                head { meta charset="utf-8"; meta name="viewport" content="width=device-width, initial-scale=1"; title { "kiemdich" } }
                body {
                    h1 { "kiemdich" }
                    p { "Khai báo y tế, thẻ thông hành QR 72 giờ, kiểm soát ra vào. " i lang="en" { "Health declaration, 72-hour QR pass, entry control." } }
                    ul {
                        li { a href="/api/v1/openapi.json" { "API (OpenAPI)" } }
                        li { a href="/api/v1/trust-list" { "Danh sách khoá tin cậy / trust list" } }
                        li { a href="/api/v1/units" { "Đơn vị hành chính / administrative units" } }
                    }
                }
            }
        }
        .into_string(),
    )
}
