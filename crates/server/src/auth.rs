//! Authentication (bearer tokens, argon2id passwords) and the role and jurisdiction checks every handler makes.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use kiemdich_store::{Principal, Role};
use sha2::{Digest, Sha256};

/// SHA-256 of a text, in hex: token hashes, one-time code hashes and request fingerprints.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Tokens are random and long, so a fast hash is enough to keep them out of the database in usable form.
pub fn token_hash(token: &str) -> String {
    sha256_hex(token)
}

/// A new API token: `kd_` and 32 random bytes, base64url.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the operating system provides randomness");
    format!(
        "kd_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    )
}

pub fn hash_password(password: &str) -> Result<String, String> {
    if password.chars().count() < 10 {
        return Err("password must have at least 10 characters".into());
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// The authenticated caller. Extracting it fails with 401 when the bearer token is missing or unknown.
pub struct Staff(pub Principal);

/// The caller if a bearer token was sent; resident endpoints accept both.
pub struct MaybeStaff(pub Option<Principal>);

/// The cookie that carries a browser's login session (HttpOnly, SameSite=Strict).
pub const SESSION_COOKIE: &str = "kd_session";

/// The token of a request: the bearer token, else the session cookie.
pub fn request_token(headers: &axum::http::HeaderMap) -> ApiResult<Option<String>> {
    if let Some(header) = headers.get(axum::http::header::AUTHORIZATION) {
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| ApiError::unauthorized("Authorization must be 'Bearer TOKEN'"))?;
        return Ok(Some(token.trim().to_owned()));
    }
    Ok(cookie(headers, SESSION_COOKIE)
        .filter(|t| !t.is_empty())
        .map(str::to_owned))
}

/// The value of cookie `name` in a request.
pub fn cookie<'h>(headers: &'h axum::http::HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
}

/// `Set-Cookie` for a new session, or (with `None`) for ending one.
pub fn session_cookie(token: Option<&str>, max_age_secs: i64) -> String {
    match token {
        Some(t) => format!(
            "{SESSION_COOKIE}={t}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}"
        ),
        None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    }
}

impl AppState {
    /// Who a token belongs to, if it is live (reused for a short while, see `PRINCIPAL_TTL`).
    pub async fn principal_of(&self, token: &str) -> ApiResult<Option<Principal>> {
        let hash = token_hash(token);
        Ok(self
            .principals
            .get_or_load(&hash, async || {
                self.store.principal_by_token_hash(&hash).await
            })
            .await?)
    }
}

async fn principal(parts: &Parts, state: &AppState) -> ApiResult<Option<Principal>> {
    let Some(token) = request_token(&parts.headers)? else {
        return Ok(None);
    };
    match state.principal_of(&token).await? {
        Some(p) => Ok(Some(p)),
        None => Err(ApiError::unauthorized(
            "unknown, expired or revoked token; sign in again",
        )),
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Staff> {
        principal(parts, state).await?.map(Staff).ok_or_else(|| {
            ApiError::unauthorized("this endpoint needs 'Authorization: Bearer TOKEN'")
        })
    }
}

impl FromRequestParts<AppState> for MaybeStaff {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<MaybeStaff> {
        Ok(MaybeStaff(principal(parts, state).await?))
    }
}

impl Staff {
    pub fn require(&self, roles: &[Role]) -> ApiResult<&Principal> {
        require_role(&self.0, roles)
    }
}

/// The principal if it has one of `roles`, else 403: the one role check of handlers and services.
pub fn require_role<'p>(who: &'p Principal, roles: &[Role]) -> ApiResult<&'p Principal> {
    if roles.contains(&who.role) {
        Ok(who)
    } else {
        let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(ApiError::forbidden(format!(
            "role {} may not do this; allowed: {}",
            who.role.as_str(),
            allowed.join(", ")
        )))
    }
}
