//! Periodic jobs that must run once across the servers sharing a database: the retention purge, the
//! proximity export and (on PostgreSQL) the day partitions made ahead. Time is cut into slots of each job's period (hours since the epoch); every server looks
//! every [`TICK`] whether the current slot has been claimed, and the one whose claim lands runs it
//! (`Store::claim_slot`, one portable upsert). A holder that dies mid-run loses its claim after [`TERM_SECS`],
//! and another server runs the slot again. Sending the outbox needs no slot: each message is claimed on its own
//! (see [`crate::notify`]).

use crate::AppState;
use kiemdich_store::SlotClaim;
use std::time::Duration;

/// How often each server looks whether a job's slot is due.
const TICK: Duration = Duration::from_secs(30);

/// How long a claim holds before another server may take over a run that did not finish: far longer than a
/// purge or an export takes.
const TERM_SECS: i64 = 600;

/// A job that runs once per slot across servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Presence data, proximity keys, publications and throttle counts past retention.
    Purge,
    /// Diagnosis keys uploaded since the last batch, published as a new signed batch.
    ProximityExport,
    /// The presence log's and visits' day partitions for the retention period behind and the rules' days ahead
    /// (PostgreSQL; nothing on SQLite).
    Partitions,
}

impl Job {
    pub const ALL: [Job; 3] = [Job::Purge, Job::ProximityExport, Job::Partitions];

    fn name(self) -> &'static str {
        match self {
            Job::Purge => "purge",
            Job::ProximityExport => "proximity_export",
            Job::Partitions => "partitions",
        }
    }

    /// The slot length in seconds: hourly, as GAEN clients fetch batches and retention is counted in days.
    fn period_secs(self) -> i64 {
        3600
    }

    async fn run(self, state: &AppState) {
        match self {
            Job::Purge => purge(state).await,
            Job::ProximityExport => cut_proximity_export(state).await,
            Job::Partitions => keep_partitions(state).await,
        }
    }
}

/// Runs `job` if the slot of `now` (seconds since the epoch) is this server's to run: true when it ran.
pub async fn run_if_due(state: &AppState, job: Job, now: i64) -> Result<bool, String> {
    let slot = now.div_euclid(job.period_secs());
    let claim = SlotClaim {
        job: job.name(),
        slot,
        holder: &state.instance,
        now,
        term_secs: TERM_SECS,
    };
    if !state
        .store
        .claim_slot(claim)
        .await
        .map_err(|e| e.to_string())?
    {
        return Ok(false);
    }
    job.run(state).await;
    state
        .store
        .finish_slot(job.name(), slot, &state.instance)
        .await
        .map_err(|e| e.to_string())?;
    Ok(true)
}

/// Looks every [`TICK`] whether `job`'s slot is due, forever.
pub(crate) async fn every_slot(state: AppState, job: Job) {
    loop {
        if let Err(e) = run_if_due(&state, job, chrono::Utc::now().timestamp()).await {
            tracing::warn!(job = job.name(), error = %e, "claiming a job's slot failed");
        }
        tokio::time::sleep(TICK).await;
    }
}

/// How long a throttle count is kept after its last use (its windows are an hour at most).
const THROTTLE_KEPT_MS: i64 = 86_400_000;

/// Retention enforced by the system: presence events older than the rules' period are deleted; each purge is
/// logged and counted in `/metrics`. Expired exposure-place publications go too, proximity keys past the
/// proximity rules' retention with the export batches left empty, and idle throttle counts.
async fn purge(state: &AppState) {
    let now = chrono::Utc::now();
    let before = now.timestamp() - i64::from(state.rules.presence_retention_days) * 86_400;
    match state.store.purge_presence(before).await {
        Ok(n) => {
            state.metrics.purged(&n);
            tracing::info!(
                events = n.events,
                visits = n.visits,
                traces = n.traces,
                zone_marks = n.zone_marks,
                messages = n.messages,
                codes = n.codes,
                retention_days = state.rules.presence_retention_days,
                "retention purge"
            );
        }
        Err(e) => tracing::warn!(error = %e, "presence retention purge failed"),
    }
    match state
        .store
        .purge_proximity(now.timestamp(), state.proximity.key_retention_days)
        .await
    {
        Ok(n) => tracing::info!(
            keys = n.keys,
            batches = n.batches,
            codes = n.codes,
            retention_days = state.proximity.key_retention_days,
            "proximity keys past retention removed"
        ),
        Err(e) => tracing::warn!(error = %e, "proximity retention purge failed"),
    }
    match state.store.purge_exposures(now.timestamp()).await {
        Ok(n) => tracing::info!(exposure_places = n, "expired publications removed"),
        Err(e) => tracing::warn!(error = %e, "removing expired publications failed"),
    }
    let idle = now.timestamp_millis() - THROTTLE_KEPT_MS;
    if let Err(e) = state.store.purge_throttle(idle).await {
        tracing::warn!(error = %e, "removing idle throttle counts failed");
    }
}

/// Publishes the diagnosis keys uploaded since the last batch (GAEN clients download each batch once); a slot
/// with no upload cuts nothing.
async fn cut_proximity_export(state: &AppState) {
    match crate::services::proximity::cut_batch(state).await {
        Ok(Some(b)) => tracing::info!(batch = b.id, keys = b.keys, "proximity export batch cut"),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e.detail, "cutting a proximity export batch failed"),
    }
}

/// Makes the day partitions not made yet (see kiemdich_store's partitions module).
async fn keep_partitions(state: &AppState) {
    let made = state.store.ensure_partitions(
        chrono::Utc::now().timestamp(),
        state.rules.presence_retention_days,
        state.rules.presence_partitions_ahead_days,
    );
    match made.await {
        Ok(names) if names.is_empty() => {}
        Ok(names) => tracing::info!(partitions = ?names, "day partitions created"),
        Err(e) => tracing::warn!(error = %e, "creating day partitions failed"),
    }
}
