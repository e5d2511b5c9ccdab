//! Throttling of guesses (passwords, one-time codes) and of code sends, with limits from the rules.
//!
//! Failures are counted per key (an account, a citizen id) with a wait that doubles with each failure past
//! the free ones, and per network address only as a high second line: a commune hall, or a whole town behind
//! a carrier's NAT, shares one address. Code sends are counted per address and for the whole deployment. The
//! counts live in the database (`throttle_counts`), so that several servers on one database count together:
//! guesses split across servers meet the same waits as guesses sent to one.

use crate::error::{ApiError, ApiResult};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use kiemdich_domain::SecurityRules;
use kiemdich_store::{Store, WindowCount};
use std::net::{IpAddr, SocketAddr};

const HOUR_MS: i64 = 3_600_000;
const MINUTE_MS: i64 = 60_000;

/// The client's network address, when the server was started with it (behind a proxy: the proxy's).
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientAddr, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Whole seconds until `until_ms`, at least 1 (what `Retry-After` says).
fn seconds_until(until_ms: i64, now_ms: i64) -> u64 {
    u64::try_from((until_ms - now_ms + 999) / 1000)
        .unwrap_or(1)
        .max(1)
}

/// The rows of `throttle_counts`, by what they count.
fn failures_of(key: &str) -> String {
    format!("fail:{key}")
}
fn address_failures(a: IpAddr) -> String {
    format!("addr-fail:{a}")
}
fn address_sends(a: IpAddr) -> String {
    format!("addr-send:{a}")
}
const ALL_SENDS: &str = "sends";

pub struct Throttle {
    rules: SecurityRules,
    store: Store,
}

impl Throttle {
    pub fn new(rules: SecurityRules, store: Store) -> Throttle {
        Throttle { rules, store }
    }

    /// Refuses (429) while `key` must wait after its failures, or while `addr` is over its hourly failures.
    pub async fn check(&self, key: &str, addr: Option<IpAddr>) -> ApiResult<()> {
        let now = now_ms();
        if let Some(until) = self.store.throttle_wait(&failures_of(key), now).await? {
            let secs = seconds_until(until, now);
            return Err(ApiError::too_many(
                format!("too many wrong attempts; try again in {secs} seconds"),
                secs,
            ));
        }
        let Some(a) = addr else { return Ok(()) };
        let window = self
            .store
            .window_count(&address_failures(a), now, HOUR_MS)
            .await?;
        if let Some(w) = window
            && w.count >= i64::from(self.rules.address_failures_per_hour)
        {
            return Err(ApiError::too_many(
                "too many wrong attempts from this network; try again later",
                seconds_until(w.start_ms + HOUR_MS, now),
            ));
        }
        Ok(())
    }

    /// Counts a failure of `key` from `addr`: past the free failures, each one doubles the wait.
    pub async fn failed(&self, key: &str, addr: Option<IpAddr>) -> ApiResult<()> {
        let now = now_ms();
        let r = &self.rules;
        let key = failures_of(key);
        let count = self.store.count_failure(&key, now).await?;
        let past = u32::try_from(count)
            .unwrap_or(u32::MAX)
            .saturating_sub(r.free_failures);
        if past > 0 {
            let wait = u64::from(r.first_delay_seconds)
                .saturating_mul(1u64 << (past - 1).min(30))
                .min(u64::from(r.max_delay_seconds));
            let wait_ms = i64::try_from(wait.saturating_mul(1000)).unwrap_or(i64::MAX);
            self.store
                .set_throttle_wait(&key, now.saturating_add(wait_ms))
                .await?;
        }
        if let Some(a) = addr {
            self.store
                .take_window(&address_failures(a), now, HOUR_MS, 1)
                .await?;
        }
        Ok(())
    }

    /// Forgets `key`'s failures after it succeeded.
    pub async fn succeeded(&self, key: &str) -> ApiResult<()> {
        Ok(self.store.clear_throttle(&failures_of(key)).await?)
    }

    /// Counts one code send from `addr`, refusing (429) past the per-address hourly and the deployment's
    /// per-minute limits.
    pub async fn send(&self, addr: Option<IpAddr>) -> ApiResult<()> {
        let now = now_ms();
        let r = &self.rules;
        if let Some(a) = addr {
            let w = self
                .store
                .take_window(&address_sends(a), now, HOUR_MS, 1)
                .await?;
            if over(w, r.otp_sends_per_address_per_hour) {
                return Err(ApiError::too_many(
                    "too many codes were requested from this network; try again later",
                    seconds_until(w.start_ms + HOUR_MS, now),
                ));
            }
        }
        let w = self.store.take_window(ALL_SENDS, now, MINUTE_MS, 1).await?;
        if over(w, r.otp_sends_per_minute) {
            return Err(ApiError::too_many(
                "the service is sending many codes right now; try again in a minute",
                seconds_until(w.start_ms + MINUTE_MS, now),
            ));
        }
        Ok(())
    }
}

/// Whether a window that has just counted one more went past `limit`.
fn over(w: WindowCount, limit: u32) -> bool {
    w.count > i64::from(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> SecurityRules {
        SecurityRules {
            free_failures: 2,
            first_delay_seconds: 2,
            max_delay_seconds: 5,
            address_failures_per_hour: 4,
            otp_sends_per_address_per_hour: 2,
            otp_sends_per_minute: 3,
        }
    }

    /// A throttle over a fresh SQLite database of its own.
    async fn throttle(name: &str) -> Throttle {
        let dir =
            std::env::temp_dir().join(format!("kiemdich_throttle_{name}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open_data_dir(&dir)
            .await
            .expect("a temporary database");
        Throttle::new(rules(), store)
    }

    #[tokio::test]
    async fn waits_start_after_the_free_failures_and_grow_to_the_cap() -> ApiResult<()> {
        let t = throttle("waits").await;
        let addr = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..2 {
            t.check("a", None).await?;
            t.failed("a", None).await?;
        }
        t.check("a", None).await?;
        t.failed("a", None).await?;
        let e = t.check("a", None).await.expect_err("a waits");
        assert_eq!((e.status().as_u16(), e.retry_after), (429, Some(2)));
        t.failed("a", None).await?;
        t.failed("a", None).await?;
        let e = t.check("a", None).await.expect_err("a waits longer");
        assert_eq!(e.retry_after, Some(5));
        t.check("b", None).await?;
        t.succeeded("a").await?;
        t.check("a", None).await?;
        for k in ["c", "d", "e", "f"] {
            t.failed(k, addr).await?;
        }
        assert!(
            t.check("g", addr).await.is_err(),
            "the address is over its hour"
        );
        assert!(t.check("g", None).await.is_ok());
        Ok(())
    }

    #[tokio::test]
    async fn sends_are_limited_per_address_and_overall() {
        let t = throttle("sends").await;
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        assert!(t.send(a).await.is_ok() && t.send(a).await.is_ok());
        assert!(t.send(a).await.is_err());
        assert!(t.send(b).await.is_ok());
        assert!(t.send(b).await.is_err(), "three sends a minute in all");
    }
}
