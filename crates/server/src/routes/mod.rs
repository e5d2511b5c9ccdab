//! Routes, one module per resource.

pub(crate) mod admin;
pub(crate) mod cases;
pub(crate) mod declarations;
pub(crate) mod follow_ups;
pub(crate) mod locations;
pub(crate) mod me;
mod ops;
pub(crate) mod passes;
pub(crate) mod registry;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use axum::Router;
use axum::extract::FromRequest;
use axum::routing::{get, post};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/api/v1/openapi.json", get(ops::openapi))
        .route("/api/v1/units", get(registry::units))
        .route("/api/v1/units/{code}", get(registry::unit))
        .route("/api/v1/residents", get(registry::search_residents))
        .route("/api/v1/residents/{citizen_id}", get(registry::resident))
        .route("/api/v1/otp", post(declarations::send_otp))
        .route("/api/v1/declarations", post(declarations::submit))
        .route("/api/v1/declarations/{id}", get(declarations::get_one))
        .route("/api/v1/passes/verify", post(passes::verify))
        .route("/api/v1/passes/{id}/qr.svg", get(passes::qr_svg))
        .route("/api/v1/passes/{id}/qr.png", get(passes::qr_png))
        .route("/api/v1/passes/{id}/revoke", post(passes::revoke))
        .route("/passes/{id}/card", get(passes::card))
        .route("/api/v1/trust-list", get(passes::trust_list))
        .route("/api/v1/revocations", get(passes::revocations))
        .route(
            "/api/v1/locations",
            post(locations::create).get(locations::list),
        )
        .route("/api/v1/locations/{id}", get(locations::get_one))
        .route("/api/v1/locations/{id}/scans", post(locations::scan))
        .route("/api/v1/locations/{id}/presence", get(locations::presence))
        .route(
            "/api/v1/locations/{id}/counts",
            get(locations::hourly_counts),
        )
        .route("/api/v1/movements", get(locations::movements))
        .route("/api/v1/cases", post(cases::create))
        .route("/api/v1/cases/{id}", get(cases::get_one))
        .route("/api/v1/cases/{id}/trace", post(cases::trace))
        .route("/api/v1/cases/{id}/confirm", post(cases::confirm))
        .route("/api/v1/cases/{id}/state", post(cases::set_state))
        .route("/api/v1/cases/{id}/zones", get(cases::zones))
        .route("/api/v1/cases/{id}/zones/notify", post(cases::notify_zones))
        .route("/api/v1/cases/{id}/chain", get(cases::chain))
        .route("/api/v1/traces/{id}", get(cases::trace_result))
        .route(
            "/api/v1/follow-ups",
            get(follow_ups::list).post(follow_ups::record),
        )
        .route("/api/v1/auth/login", post(admin::login))
        .route("/api/v1/auth/logout", post(admin::logout))
        .route("/api/v1/auth/device", post(admin::device_sign_in))
        .route("/api/v1/auth/resident", post(me::sign_in))
        .route("/api/v1/me", get(me::me))
        .route("/api/v1/me/checkins", post(me::check_in))
        .route(
            "/api/v1/staff",
            post(admin::create_staff).get(admin::list_staff),
        )
        .route("/api/v1/tokens", post(admin::create_token))
        .route("/api/v1/devices", get(admin::list_devices))
        .route("/api/v1/keys/rotate", post(admin::rotate_key))
        .route("/api/v1/outbox", get(admin::outbox))
        .route("/api/v1/audit", get(admin::audit))
}

/// A JSON body whose rejection (bad JSON, wrong shape, too large) is answered in the API's error format.
pub struct Body<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: axum::extract::Request, state: &S) -> ApiResult<Body<T>> {
        let axum::Json(v) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Body(v))
    }
}

/// Formats Unix seconds as RFC 3339 for API answers.
pub fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
