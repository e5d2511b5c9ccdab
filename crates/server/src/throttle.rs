//! Throttling of guesses (passwords, one-time codes) and of code sends, with limits from the rules.
//!
//! Failures are counted per key (an account, a citizen id) with a wait that doubles with each failure past
//! the free ones, and per network address only as a high second line: a commune hall, or a whole town behind
//! a carrier's NAT, shares one address. Code sends are counted per address and for the whole server. The
//! counts live in memory: several servers each throttle alone, which multiplies the allowance by their
//! number and still leaves guessing a six-digit code or a password hopeless.

use crate::error::{ApiError, ApiResult};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use kiemdich_domain::SecurityRules;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys kept before old ones are forgotten, so that a flood of made-up usernames cannot fill memory.
const MAX_KEYS: usize = 100_000;
const HOUR: Duration = Duration::from_secs(3600);
const MINUTE: Duration = Duration::from_secs(60);

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

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    wait_until: Instant,
}

/// A count over a fixed window of time.
#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    count: u32,
}

impl Window {
    /// Adds one to the count of the current window; false (and nothing added) when it is at `limit`.
    fn take(slot: &mut Option<Window>, now: Instant, length: Duration, limit: u32) -> bool {
        let w = slot.get_or_insert(Window {
            start: now,
            count: 0,
        });
        if now.duration_since(w.start) >= length {
            *w = Window {
                start: now,
                count: 0,
            };
        }
        if w.count >= limit {
            return false;
        }
        w.count += 1;
        true
    }

    fn retry_after(slot: &Option<Window>, now: Instant, length: Duration) -> u64 {
        slot.map_or(1, |w| {
            (length.saturating_sub(now.duration_since(w.start))).as_secs() + 1
        })
    }
}

#[derive(Default)]
struct State {
    keys: HashMap<String, Failures>,
    address_failures: HashMap<IpAddr, Option<Window>>,
    address_sends: HashMap<IpAddr, Option<Window>>,
    sends: Option<Window>,
}

pub struct Throttle {
    rules: SecurityRules,
    state: Mutex<State>,
}

impl Throttle {
    pub fn new(rules: SecurityRules) -> Throttle {
        Throttle {
            rules,
            state: Mutex::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refuses (429) while `key` must wait after its failures, or while `addr` is over its hourly failures.
    pub fn check(&self, key: &str, addr: Option<IpAddr>) -> ApiResult<()> {
        let now = Instant::now();
        let st = self.state();
        if let Some(f) = st.keys.get(key)
            && f.wait_until > now
        {
            let secs = (f.wait_until - now).as_secs() + 1;
            return Err(ApiError::too_many(
                format!("too many wrong attempts; try again in {secs} seconds"),
                secs,
            ));
        }
        if let Some(Some(w)) = addr.and_then(|a| st.address_failures.get(&a))
            && now.duration_since(w.start) < HOUR
            && w.count >= self.rules.address_failures_per_hour
        {
            return Err(ApiError::too_many(
                "too many wrong attempts from this network; try again later",
                Window::retry_after(&Some(*w), now, HOUR),
            ));
        }
        Ok(())
    }

    /// Counts a failure of `key` from `addr`: past the free failures, each one doubles the wait.
    pub fn failed(&self, key: &str, addr: Option<IpAddr>) {
        let now = Instant::now();
        let r = &self.rules;
        let mut st = self.state();
        if st.keys.len() >= MAX_KEYS {
            st.keys
                .retain(|_, f| f.wait_until > now || now.duration_since(f.last) < HOUR);
        }
        let f = st.keys.entry(key.to_owned()).or_insert(Failures {
            count: 0,
            last: now,
            wait_until: now,
        });
        f.count += 1;
        f.last = now;
        if let Some(past) = f.count.checked_sub(r.free_failures).filter(|n| *n > 0) {
            let wait = u64::from(r.first_delay_seconds)
                .saturating_mul(1u64 << (past - 1).min(30))
                .min(u64::from(r.max_delay_seconds));
            f.wait_until = now + Duration::from_secs(wait);
        }
        if let Some(a) = addr {
            let slot = st.address_failures.entry(a).or_default();
            Window::take(slot, now, HOUR, u32::MAX);
        }
    }

    /// Forgets `key`'s failures after it succeeded.
    pub fn succeeded(&self, key: &str) {
        self.state().keys.remove(key);
    }

    /// Counts one code send from `addr`, refusing (429) past the per-address hourly and the server's
    /// per-minute limits.
    pub fn send(&self, addr: Option<IpAddr>) -> ApiResult<()> {
        let now = Instant::now();
        let r = &self.rules;
        let mut st = self.state();
        if let Some(a) = addr {
            let slot = st.address_sends.entry(a).or_default();
            if !Window::take(slot, now, HOUR, r.otp_sends_per_address_per_hour) {
                let secs = Window::retry_after(slot, now, HOUR);
                return Err(ApiError::too_many(
                    "too many codes were requested from this network; try again later",
                    secs,
                ));
            }
        }
        if !Window::take(&mut st.sends, now, MINUTE, r.otp_sends_per_minute) {
            let secs = Window::retry_after(&st.sends, now, MINUTE);
            return Err(ApiError::too_many(
                "the service is sending many codes right now; try again in a minute",
                secs,
            ));
        }
        Ok(())
    }
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

    #[test]
    fn waits_start_after_the_free_failures_and_grow_to_the_cap() {
        let t = Throttle::new(rules());
        let addr = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..2 {
            t.check("a", None).unwrap();
            t.failed("a", None);
        }
        t.check("a", None).unwrap();
        t.failed("a", None);
        let e = t.check("a", None).unwrap_err();
        assert_eq!((e.status().as_u16(), e.retry_after), (429, Some(2)));
        t.failed("a", None);
        t.failed("a", None);
        assert_eq!(t.check("a", None).unwrap_err().retry_after, Some(5));
        t.check("b", None).unwrap();
        t.succeeded("a");
        t.check("a", None).unwrap();
        for k in ["c", "d", "e", "f"] {
            t.failed(k, addr);
        }
        assert!(t.check("g", addr).is_err(), "the address is over its hour");
        assert!(t.check("g", None).is_ok());
    }

    #[test]
    fn sends_are_limited_per_address_and_overall() {
        let t = Throttle::new(rules());
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        assert!(t.send(a).is_ok() && t.send(a).is_ok());
        assert!(t.send(a).is_err());
        assert!(t.send(b).is_ok());
        assert!(t.send(b).is_err(), "three sends a minute in all");
    }
}
