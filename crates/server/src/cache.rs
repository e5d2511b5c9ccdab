//! A small time-bounded cache for what every scan looks up and rarely changes: the principal behind a token
//! and a location. Entries live `ttl`; only found values are kept, so a new token or location is seen at once.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries kept at most; past it the cache starts over (a burst of distinct keys must not grow memory).
const MAX_ENTRIES: usize = 50_000;

pub struct TtlCache<K, V> {
    ttl: Duration,
    map: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration) -> TtlCache<K, V> {
        TtlCache {
            ttl,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<K, (Instant, V)>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached value, or what `load` finds (kept if found).
    pub async fn get_or_load<E>(
        &self,
        key: &K,
        load: impl AsyncFnOnce() -> Result<Option<V>, E>,
    ) -> Result<Option<V>, E> {
        if let Some((at, v)) = self.map().get(key)
            && at.elapsed() < self.ttl
        {
            return Ok(Some(v.clone()));
        }
        let found = load().await?;
        if let Some(v) = &found {
            let mut map = self.map();
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key.clone(), (Instant::now(), v.clone()));
        }
        Ok(found)
    }

    /// Forgets a key at once (a token revoked on this server).
    pub fn forget(&self, key: &K) {
        self.map().remove(key);
    }

    /// Forgets every key at once (what they were made from changed).
    pub fn clear(&self) {
        self.map().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn values_are_kept_for_their_lifetime_and_misses_are_not() {
        let cache: TtlCache<u8, u8> = TtlCache::new(Duration::from_millis(50));
        let ok = |v: Option<u8>| async move { Ok::<_, ()>(v) };
        assert_eq!(
            cache.get_or_load(&1, async || ok(None).await).await,
            Ok(None)
        );
        assert_eq!(
            cache.get_or_load(&1, async || ok(Some(7)).await).await,
            Ok(Some(7))
        );
        assert_eq!(
            cache.get_or_load(&1, async || ok(Some(8)).await).await,
            Ok(Some(7)),
            "cached"
        );
        cache.forget(&1);
        assert_eq!(
            cache.get_or_load(&1, async || ok(Some(9)).await).await,
            Ok(Some(9))
        );
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(
            cache.get_or_load(&1, async || ok(Some(10)).await).await,
            Ok(Some(10)),
            "expired"
        );
    }
}
