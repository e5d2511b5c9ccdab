//! What several servers on one database agree on through it: which server runs a periodic job's slot, and the
//! throttle counts that protect people (so that splitting guesses across servers gains nothing). Both are
//! single portable upserts, so they hold on SQLite (one server) and PostgreSQL (many) alike.

use crate::db::{Result, Store};

/// A periodic job's run: the job, its slot (the period's index since the epoch) and who runs it.
#[derive(Debug, Clone, Copy)]
pub struct SlotClaim<'a> {
    pub job: &'a str,
    pub slot: i64,
    /// The claiming server's id (unique per process).
    pub holder: &'a str,
    /// Seconds since the epoch now.
    pub now: i64,
    /// How long the claim holds before another server may take over an unfinished run.
    pub term_secs: i64,
}

/// A count over a fixed window, as [`Store::take_window`] left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowCount {
    pub count: i64,
    /// When the window began (milliseconds since the epoch).
    pub start_ms: i64,
}

impl Store {
    /// Claims `claim.slot` of a job for `claim.holder`: true when this server is to run it, which happens once
    /// per slot across servers unless a holder's term ends before it called [`Store::finish_slot`] (it died).
    pub async fn claim_slot(&self, claim: SlotClaim<'_>) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO job_leases (job, slot, holder, held_until, done) VALUES ($1, $2, $3, $4, 0) \
             ON CONFLICT (job) DO UPDATE SET slot = excluded.slot, holder = excluded.holder, \
             held_until = excluded.held_until, done = 0 \
             WHERE job_leases.slot < excluded.slot \
             OR (job_leases.slot = excluded.slot AND job_leases.done = 0 AND job_leases.held_until < $5)",
        )
        .bind(claim.job.to_owned())
        .bind(claim.slot)
        .bind(claim.holder.to_owned())
        .bind(claim.now + claim.term_secs)
        .bind(claim.now)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a claimed slot as run, so that no other server runs it again after the term.
    pub async fn finish_slot(&self, job: &str, slot: i64, holder: &str) -> Result<()> {
        sqlx::query("UPDATE job_leases SET done = 1 WHERE job = $1 AND slot = $2 AND holder = $3")
            .bind(job.to_owned())
            .bind(slot)
            .bind(holder.to_owned())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Until when (milliseconds) `key` must wait after its failures; `None` when it need not.
    pub async fn throttle_wait(&self, key: &str, now_ms: i64) -> Result<Option<i64>> {
        let until: Option<i64> =
            sqlx::query_scalar("SELECT wait_until FROM throttle_counts WHERE name = $1")
                .bind(key.to_owned())
                .fetch_optional(&self.read)
                .await?;
        Ok(until.filter(|u| *u > now_ms))
    }

    /// Counts one more failure of `key` and returns the count.
    pub async fn count_failure(&self, key: &str, now_ms: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO throttle_counts (name, hits, window_start, wait_until) VALUES ($1, 1, $2, 0) \
             ON CONFLICT (name) DO UPDATE SET hits = throttle_counts.hits + 1, \
             window_start = excluded.window_start RETURNING hits",
        )
        .bind(key.to_owned())
        .bind(now_ms)
        .fetch_one(&self.write)
        .await?)
    }

    /// Makes `key` wait until `until_ms` (never shortening a longer wait set by a concurrent failure).
    pub async fn set_throttle_wait(&self, key: &str, until_ms: i64) -> Result<()> {
        sqlx::query(
            "UPDATE throttle_counts SET wait_until = CASE WHEN wait_until > $2 THEN wait_until ELSE $2 END \
             WHERE name = $1",
        )
        .bind(key.to_owned())
        .bind(until_ms)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Forgets `key`'s failures.
    pub async fn clear_throttle(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM throttle_counts WHERE name = $1")
            .bind(key.to_owned())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Adds `add` (0 or 1) to the count of `key`'s current window of `length_ms`, starting a new window when
    /// the last one is over, and returns the count and window after it. One statement, so concurrent takes on
    /// several servers are all counted.
    pub async fn take_window(
        &self,
        key: &str,
        now_ms: i64,
        length_ms: i64,
        add: i64,
    ) -> Result<WindowCount> {
        let (count, start_ms): (i64, i64) = sqlx::query_as(
            "INSERT INTO throttle_counts (name, hits, window_start, wait_until) VALUES ($1, $4, $2, 0) \
             ON CONFLICT (name) DO UPDATE SET \
             hits = CASE WHEN throttle_counts.window_start <= $3 THEN $4 ELSE throttle_counts.hits + $4 END, \
             window_start = CASE WHEN throttle_counts.window_start <= $3 THEN $2 \
             ELSE throttle_counts.window_start END \
             RETURNING hits, window_start",
        )
        .bind(key.to_owned())
        .bind(now_ms)
        .bind(now_ms - length_ms)
        .bind(add)
        .fetch_one(&self.write)
        .await?;
        Ok(WindowCount { count, start_ms })
    }

    /// The count of `key`'s window of `length_ms` running now, if one is.
    pub async fn window_count(
        &self,
        key: &str,
        now_ms: i64,
        length_ms: i64,
    ) -> Result<Option<WindowCount>> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT hits, window_start FROM throttle_counts WHERE name = $1")
                .bind(key.to_owned())
                .fetch_optional(&self.read)
                .await?;
        Ok(row
            .filter(|(_, start)| *start > now_ms - length_ms)
            .map(|(count, start_ms)| WindowCount { count, start_ms }))
    }

    /// Deletes throttle rows idle since before `before_ms` whose wait is over (the hourly purge).
    pub async fn purge_throttle(&self, before_ms: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM throttle_counts WHERE window_start < $1 AND wait_until < $1")
                .bind(before_ms)
                .execute(&self.write)
                .await?
                .rows_affected(),
        )
    }
}
