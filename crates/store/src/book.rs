//! The book: this deployment's live passes and their holders' standing (status, declared journey, doses), in
//! memory, so that a scan of a pass issued here reads nothing from the database (issue 14). It is loaded at start
//! and follows `book_changes` (migration 0017), which triggers append to in the same transaction as any change
//! to a pass, a declaration or a dose; each holder a change names is reloaded whole, so applying a change twice
//! is harmless. A server's own commits wake the follower at once, and until it has applied them a scan of a pass of
//! the people they changed takes the full check ([`Store::touch_holders`]), so a revocation here stops the pass at
//! its next scan; another server's changes arrive within one poll.
//!
//! Compact by construction (a province has 1.2 million residents): one fixed-size entry per live pass, keyed by
//! the first 64 bits of the token's SHA-256 and checked against the next 64, with the citizen id as a number,
//! unit codes interned and times in 32 bits. The token itself is not kept.

use crate::db::{Result, Store, StoreError, now};
use crate::declarations::Current;
use chrono::NaiveDate;
use kiemdich_domain::{CitizenId, HealthStatus, VaccinationSummary};
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

/// How the book follows the database: the poll interval and how long an unseen change number is waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookFollow {
    pub every: Duration,
    /// A number skipped by the log (PostgreSQL takes it before commit) is re-read for this long before it is
    /// taken for a rolled-back transaction.
    pub gap_wait: Duration,
}

/// One live pass as held: 32 bytes, its key included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Held {
    /// Bits 0..64 of the token's SHA-256: what the book is sorted and searched by.
    key: u64,
    /// Bits 64..128, compared whole once the key is found.
    check: u64,
    /// The citizen number (12 digits, under 2^40): its low 32 bits here, the rest in `citizen_high`.
    citizen_low: u32,
    /// Unix time; 0 marks a pass dropped since the last merge or sweep (a tombstone).
    expires_at: u32,
    /// Days since 1970 of the last dose; 0 for none.
    last_dose: u16,
    /// Interned unit codes of the declared journey; 0 for none.
    from: u16,
    to: u16,
    citizen_high: u8,
    /// The status code in the low four bits, the dose count in the high four.
    status_doses: u8,
}

impl Held {
    fn citizen(&self) -> u64 {
        u64::from(self.citizen_high) << 32 | u64::from(self.citizen_low)
    }

    fn live(&self) -> bool {
        self.expires_at != 0
    }
}

/// What the book holds for a pass: whose it is and their standing now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub citizen_id: String,
    pub current: Current,
    pub vaccination: VaccinationSummary,
}

/// A pass as read for the book, with its holder's standing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BookRow {
    pub token: String,
    pub expires_at: i64,
    pub live: bool,
    pub standing: Standing,
}

fn digest(token: &str) -> (u64, u64) {
    let d = Sha256::digest(token.as_bytes());
    let half = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[i..i + 8]);
        u64::from_le_bytes(b)
    };
    (half(0), half(8))
}

fn epoch() -> NaiveDate {
    chrono::DateTime::UNIX_EPOCH.date_naive()
}

/// New passes are merged into the sorted array once they are this many, or a sixteenth of it if that is more.
const MERGE_AT: usize = 4_096;

/// The passes held and the unit codes they name. A sorted array rather than a hash table: 32 bytes a pass
/// with no empty slots, so a province's 1.2 million live passes take 38 MB where a table took 86 MB (and twice
/// that while it grew). A pass already in the array is changed or dropped in place; a new one waits in `recent`
/// until the next merge.
#[derive(Default)]
struct Passes {
    /// Sorted by key, keys unique; dropped passes stay as tombstones until the next merge or sweep.
    sorted: Vec<Held>,
    tombstones: usize,
    /// Passes whose key is not in `sorted`.
    recent: HashMap<u64, Held>,
    units: Vec<String>,
    unit_ids: HashMap<String, u16>,
}

impl Passes {
    fn intern(&mut self, unit: Option<&str>) -> Option<u16> {
        let Some(unit) = unit else { return Some(0) };
        if let Some(id) = self.unit_ids.get(unit) {
            return Some(*id);
        }
        let id = u16::try_from(self.units.len() + 1).ok()?;
        self.units.push(unit.to_owned());
        self.unit_ids.insert(unit.to_owned(), id);
        Some(id)
    }

    fn unit(&self, id: u16) -> Option<String> {
        (id > 0).then(|| self.units[usize::from(id) - 1].clone())
    }

    fn position(&self, key: u64) -> std::result::Result<usize, usize> {
        self.sorted.binary_search_by_key(&key, |h| h.key)
    }

    /// Holds a live pass, drops one that is not; a row that does not fit the compact form is not held (its
    /// scans take the full path).
    fn apply(&mut self, row: &BookRow) {
        let (key, check) = digest(&row.token);
        let held = row.live.then(|| self.compact(row, key, check)).flatten();
        match (self.position(key), held) {
            (Ok(i), held) => {
                let was_live = self.sorted[i].live();
                self.sorted[i] = held.unwrap_or(Held {
                    key,
                    ..Held::default()
                });
                match (was_live, self.sorted[i].live()) {
                    (true, false) => self.tombstones += 1,
                    (false, true) => self.tombstones -= 1,
                    _ => {}
                }
            }
            (Err(_), Some(h)) => {
                self.recent.insert(key, h);
                if self.recent.len() >= MERGE_AT.max(self.sorted.len() / 16) {
                    self.merge();
                }
            }
            (Err(_), None) => {
                self.recent.remove(&key);
            }
        }
    }

    /// Holds a page of passes read at load, unsorted until [`Passes::sort`]; nothing reads the book meanwhile.
    fn load(&mut self, rows: &[BookRow]) {
        for row in rows.iter().filter(|r| r.live) {
            let (key, check) = digest(&row.token);
            if let Some(h) = self.compact(row, key, check) {
                self.sorted.push(h);
            }
        }
    }

    /// Sorts what [`Passes::load`] held (a 64-bit key twice, all but impossible, keeps one: the other's scans
    /// take the full path) and gives back the spare capacity.
    fn sort(&mut self) {
        self.sorted.sort_unstable_by_key(|h| h.key);
        self.sorted.dedup_by_key(|h| h.key);
        self.sorted.shrink_to_fit();
    }

    /// Moves the recent passes into the sorted array in one pass from the back, dropping tombstones first; the
    /// array grows by exactly what it takes (a large allocation is remapped, not copied).
    fn merge(&mut self) {
        self.sorted.retain(Held::live);
        self.tombstones = 0;
        let mut add: Vec<Held> = self.recent.drain().map(|(_, h)| h).collect();
        add.sort_unstable_by_key(|h| h.key);
        let (mut i, mut j) = (self.sorted.len(), add.len());
        self.sorted.reserve_exact(add.len());
        self.sorted.resize(i + j, Held::default());
        for k in (0..i + j).rev() {
            if j == 0 {
                break;
            }
            if i > 0 && self.sorted[i - 1].key > add[j - 1].key {
                self.sorted[k] = self.sorted[i - 1];
                i -= 1;
            } else {
                self.sorted[k] = add[j - 1];
                j -= 1;
            }
        }
        self.recent.shrink_to(MERGE_AT);
    }

    fn compact(&mut self, row: &BookRow, key: u64, check: u64) -> Option<Held> {
        let s = &row.standing;
        let last_dose = match s.vaccination.last_dose {
            Some(d) => u16::try_from((d - epoch()).num_days())
                .ok()
                .filter(|d| *d > 0)?,
            None => 0,
        };
        let citizen = u64::try_from(CitizenId::parse(&s.citizen_id).ok()?.number()).ok()?;
        let (status, doses) = (s.current.status.code(), s.vaccination.doses);
        Some(Held {
            key,
            check,
            citizen_low: citizen as u32,
            expires_at: u32::try_from(row.expires_at).ok().filter(|t| *t > 0)?,
            last_dose,
            from: self.intern(s.current.departure_unit.as_deref())?,
            to: self.intern(s.current.destination_unit.as_deref())?,
            citizen_high: u8::try_from(citizen >> 32).ok()?,
            status_doses: (status < 16 && doses < 16).then_some(doses << 4 | status)?,
        })
    }

    fn get(&self, key: u64) -> Option<&Held> {
        match self.position(key) {
            Ok(i) => Some(&self.sorted[i]).filter(|h| h.live()),
            Err(_) => self.recent.get(&key),
        }
    }

    /// The holder's citizen number and standing of the pass whose token this is.
    fn find(&self, token: &str) -> Option<(u64, Standing)> {
        let (key, check) = digest(token);
        let h = self.get(key)?;
        // One integer comparison of the whole remainder: no early exit that would time a byte-by-byte match.
        if h.check != check {
            return None;
        }
        let last_dose = (h.last_dose > 0)
            .then(|| epoch().checked_add_days(chrono::Days::new(u64::from(h.last_dose))))
            .flatten();
        Some((
            h.citizen(),
            Standing {
                citizen_id: format!("{:012}", h.citizen()),
                current: Current {
                    status: HealthStatus::from_code(h.status_doses & 0x0f)?,
                    departure_unit: self.unit(h.from),
                    destination_unit: self.unit(h.to),
                },
                vaccination: VaccinationSummary::new(i64::from(h.status_doses >> 4), last_dose),
            },
        ))
    }

    /// Passes held.
    fn len(&self) -> usize {
        self.sorted.len() - self.tombstones + self.recent.len()
    }

    fn drop_expired(&mut self, now: i64) {
        let live = |h: &Held| i64::from(h.expires_at) > now;
        self.sorted.retain(live);
        self.tombstones = 0;
        self.recent.retain(|_, h| live(h));
    }

    /// Bytes the entries take: the array, the recent table's slots (key, entry and control byte) and the
    /// interned codes.
    fn bytes(&self) -> usize {
        let held = std::mem::size_of::<Held>();
        self.sorted.capacity() * held
            + self.recent.capacity() * (held + 9)
            + self
                .units
                .iter()
                .map(|u| 2 * (u.len() + 24) + 2)
                .sum::<usize>()
    }
}

/// Where the book is in the change log: everything up to `last` was read except the `gaps`, numbers not seen
/// yet (with the Unix time they were first missed), which are read again until `gap_wait` has passed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub last: i64,
    pub gaps: BTreeMap<i64, i64>,
}

/// The most gaps remembered; past it the oldest are given up (a burst of rollbacks, not a lagging commit).
const MAX_GAPS: usize = 100_000;

impl Cursor {
    /// Takes in the numbers a read found (above `last`, or among the gaps): each fills its gap or moves `last`,
    /// leaving the numbers skipped on the way as gaps; gaps older than `gap_wait` seconds are given up.
    pub fn advance(&mut self, seen: &[i64], at: i64, gap_wait: i64) {
        let mut sorted = seen.to_vec();
        sorted.sort_unstable();
        for seq in sorted {
            if self.gaps.remove(&seq).is_some() || seq <= self.last {
                continue;
            }
            for missing in (self.last + 1)..seq {
                self.gaps.insert(missing, at);
            }
            self.last = seq;
        }
        self.gaps.retain(|_, first| at - *first <= gap_wait);
        while self.gaps.len() > MAX_GAPS {
            self.gaps.pop_first();
        }
    }
}

/// The book, its position in the change log, and how far this server's own writes have been applied.
pub(crate) struct Book {
    passes: RwLock<Passes>,
    cursor: tokio::sync::Mutex<Cursor>,
    ready: AtomicBool,
    /// Bumped after each local commit that changes a standing; `applied` is the value the last poll began at.
    touched: AtomicU64,
    applied: AtomicU64,
    /// The people whose standing a local commit changed (citizen number → the commit's `touched`), until a poll
    /// has applied it; a scan of their passes takes the full check meanwhile.
    stale: Mutex<HashMap<u64, u64>>,
    /// The `touched` of the last local commit that may have changed anyone (a batch of results).
    everyone: AtomicU64,
    /// Wakes the follower when `touched` moves.
    nudge: tokio::sync::Notify,
}

/// The least time between two polls of the follower, however often local commits wake it.
const NUDGED_GAP: Duration = Duration::from_millis(10);
/// Changes read per query while following.
const CHANGES_PER_READ: i64 = 10_000;
/// Passes read per page at load.
const LOAD_PAGE: i64 = 10_000;
/// The log keeps a day of changes: a server further behind than that reloads at its next start anyway.
const KEEP_CHANGES_SECS: i64 = 86_400;

impl Book {
    pub fn new() -> Book {
        Book {
            passes: RwLock::new(Passes::default()),
            cursor: tokio::sync::Mutex::new(Cursor::default()),
            ready: AtomicBool::new(false),
            touched: AtomicU64::new(0),
            applied: AtomicU64::new(0),
            stale: Mutex::new(HashMap::new()),
            everyone: AtomicU64::new(0),
            nudge: tokio::sync::Notify::new(),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Passes> {
        self.passes.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Passes> {
        self.passes.write().unwrap_or_else(|p| p.into_inner())
    }

    fn stale(&self) -> std::sync::MutexGuard<'_, HashMap<u64, u64>> {
        self.stale.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Store {
    /// Marks that this server committed a change to the passes or standing of `holders`, and wakes the follower
    /// to apply it.
    pub(crate) fn touch_holders<'a>(&self, holders: impl IntoIterator<Item = &'a CitizenId>) {
        let n = self.book.touched.fetch_add(1, Ordering::AcqRel) + 1;
        self.book.stale().extend(
            holders
                .into_iter()
                .filter_map(|c| Some((u64::try_from(c.number()).ok()?, n))),
        );
        self.book.nudge.notify_one();
    }

    /// Like [`Store::touch_holders`], for a commit that may have changed anyone's standing.
    pub(crate) fn touch_book(&self) {
        let n = self.book.touched.fetch_add(1, Ordering::AcqRel) + 1;
        self.book.everyone.fetch_max(n, Ordering::AcqRel);
        self.book.nudge.notify_one();
    }

    /// The standing of the pass whose token this is, if the book holds it (a live pass issued here, seen
    /// since start); `None` sends the caller to signature verification and the database. While the follower
    /// has not yet applied a change this server committed to the holder (or to anyone), the scan gets `None`:
    /// it never waits for the book, and never reads a standing older than a commit made here.
    pub fn held_pass(&self, token: &str) -> Option<Standing> {
        let applied = self.book.applied.load(Ordering::Acquire);
        if !self.book_ready() || self.book.everyone.load(Ordering::Acquire) > applied {
            return None;
        }
        let (citizen, standing) = self.book.read().find(token)?;
        let stale = self
            .book
            .stale()
            .get(&citizen)
            .is_some_and(|&n| n > applied);
        (!stale).then_some(standing)
    }

    /// Whether the book has been loaded (until then every scan verifies in full).
    pub fn book_ready(&self) -> bool {
        self.book.ready.load(Ordering::Acquire)
    }

    /// Whether the book is loaded and has applied every change committed here (scans use it when it is).
    pub fn book_current(&self) -> bool {
        self.book_ready()
            && self.book.applied.load(Ordering::Acquire)
                >= self.book.touched.load(Ordering::Acquire)
    }

    /// Live passes held and the bytes they take.
    pub fn book_size(&self) -> (usize, usize) {
        let p = self.book.read();
        (p.len(), p.bytes())
    }

    /// Loads the book, then follows the change log for ever; errors are logged and retried at the next poll.
    pub async fn follow_book(self, follow: BookFollow) {
        while let Err(e) = self.load_book().await {
            tracing::warn!(error = %e, "loading the pass book failed; scans verify signatures meanwhile");
            tokio::time::sleep(follow.every.max(Duration::from_secs(1))).await;
        }
        let gap_wait = i64::try_from(follow.gap_wait.as_secs()).unwrap_or(i64::MAX);
        let mut swept = now();
        let mut polled = std::time::Instant::now();
        loop {
            // A local commit wakes the follower early; a poll covers every commit before it began, so a burst
            // of them shares one (at most one poll per NUDGED_GAP).
            drop(tokio::time::timeout(follow.every, self.book.nudge.notified()).await);
            tokio::time::sleep(NUDGED_GAP.saturating_sub(polled.elapsed())).await;
            polled = std::time::Instant::now();
            let touched = self.book.touched.load(Ordering::Acquire);
            if let Err(e) = self.poll_book(touched, gap_wait).await {
                tracing::warn!(error = %e, "following the pass book failed");
            }
            if now() - swept >= 60 {
                swept = now();
                self.book.write().drop_expired(swept);
                if let Err(e) = self.trim_book_changes(swept - KEEP_CHANGES_SECS).await {
                    tracing::warn!(error = %e, "trimming the book's change log failed");
                }
            }
        }
    }

    /// Reads every live pass, page by page, from a position in the change log taken first: a change made while
    /// loading is applied again by the first poll, which is harmless.
    async fn load_book(&self) -> Result<()> {
        // A load that failed part way is started again from nothing: its pages may be older than this one's.
        *self.book.write() = Passes::default();
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM book_changes")
            .fetch_one(&self.read)
            .await?;
        let at = now();
        let mut after = String::new();
        loop {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{} WHERE p.expires_at > $1 AND p.revoked_at IS NULL AND p.id > $2 ORDER BY p.id LIMIT {LOAD_PAGE}",
                *BOOK_SELECT
            )))
            .bind(at)
            .bind(after.clone())
            .fetch_all(&self.read)
            .await?;
            let Some(end) = rows.last() else { break };
            after = end.try_get("id")?;
            let citizens: Vec<String> = rows
                .iter()
                .map(|r| r.try_get("citizen_id"))
                .collect::<std::result::Result<_, _>>()?;
            let doses = self.summaries_of(&citizens).await?;
            let parsed = rows
                .iter()
                .map(|r| book_row(r, &doses))
                .collect::<Result<Vec<_>>>()?;
            self.book.write().load(&parsed);
        }
        self.book.write().sort();
        // Transactions that took a number below `last` may still commit: the first poll reads the recent
        // numbers again, and any it does not find become gaps.
        *self.book.cursor.lock().await = Cursor {
            last: (last - CHANGES_PER_READ).max(0),
            gaps: BTreeMap::new(),
        };
        self.book.ready.store(true, Ordering::Release);
        let (n, bytes) = self.book_size();
        tracing::info!(passes = n, bytes, "pass book loaded");
        Ok(())
    }

    /// Reads the changes after the cursor and in its gaps, and reloads the holders they name; then every local
    /// commit counted by `touched` (read before the poll began) is applied.
    async fn poll_book(&self, touched: u64, gap_wait: i64) -> Result<()> {
        let mut cursor = self.book.cursor.lock().await;
        loop {
            let changes = self.changes_after(&cursor).await?;
            let full = changes.len() >= usize::try_from(CHANGES_PER_READ).unwrap_or(usize::MAX);
            let seqs: Vec<i64> = changes.iter().map(|(s, _)| *s).collect();
            let mut citizens: Vec<String> = changes.into_iter().map(|(_, c)| c).collect();
            citizens.sort_unstable();
            citizens.dedup();
            self.reload_holders(&citizens).await?;
            cursor.advance(&seqs, now(), gap_wait);
            if !full {
                break;
            }
        }
        let applied = self
            .book
            .applied
            .fetch_max(touched, Ordering::AcqRel)
            .max(touched);
        self.book.stale().retain(|_, n| *n > applied);
        Ok(())
    }

    /// Changes numbered after the cursor (a page of them) and those in its gaps that are visible now. The upper
    /// bound never binds (no page spans a billion numbers): it is there for PostgreSQL, whose generic plan of a
    /// prepared `seq > $1 ... LIMIT` assumes a third of the table matches, so a plan cached while the table was
    /// small scanned and sorted all of it on every poll as it grew (2.7 ms a poll at 100,000 changes, the
    /// costliest statement of a declaration load). Bounded on both sides, the range is estimated narrow and
    /// the plan keeps to the index.
    async fn changes_after(&self, cursor: &Cursor) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT seq, citizen_id FROM book_changes WHERE seq > $1 AND seq < $2 ORDER BY seq LIMIT {CHANGES_PER_READ}"
        )))
        .bind(cursor.last)
        .bind(cursor.last.saturating_add(1_000_000_000))
        .fetch_all(&self.read)
        .await?;
        let gaps: Vec<String> = cursor.gaps.keys().map(i64::to_string).collect();
        let found = if gaps.is_empty() {
            Vec::new()
        } else {
            self.fetch_in(
                "SELECT seq, citizen_id FROM book_changes WHERE seq IN ({in})",
                &gaps,
            )
            .await?
        };
        rows.iter()
            .chain(&found)
            .map(|r| Ok((r.try_get("seq")?, r.try_get("citizen_id")?)))
            .collect()
    }

    /// Reads these holders' unexpired passes and standing again and applies them: live passes are held, revoked
    /// and superseded ones dropped.
    async fn reload_holders(&self, citizens: &[String]) -> Result<()> {
        if citizens.is_empty() {
            return Ok(());
        }
        let rows = self
            .fetch_in(
                &format!(
                    "{} WHERE p.expires_at > {} AND p.citizen_id IN ({{in}})",
                    *BOOK_SELECT,
                    now()
                ),
                citizens,
            )
            .await?;
        let doses = self.summaries_of(citizens).await?;
        let parsed = rows
            .iter()
            .map(|r| book_row(r, &doses))
            .collect::<Result<Vec<_>>>()?;
        let mut passes = self.book.write();
        parsed.iter().for_each(|r| passes.apply(r));
        Ok(())
    }

    async fn summaries_of(
        &self,
        citizens: &[String],
    ) -> Result<HashMap<String, VaccinationSummary>> {
        let ids: Vec<&str> = citizens.iter().map(String::as_str).collect();
        self.vaccination_summaries(&ids).await
    }

    async fn trim_book_changes(&self, before: i64) -> Result<()> {
        sqlx::query("DELETE FROM book_changes WHERE at < $1")
            .bind(before)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}

/// A pass with what its holder's most recent declaration says now, as [`Store::pass_with_status`] reads it.
static BOOK_SELECT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT p.id, p.citizen_id, p.token, p.expires_at, p.revoked_at, p.status, {} FROM passes p",
        crate::declarations::LATEST_DECLARATION
    )
});

fn book_row(r: &AnyRow, doses: &HashMap<String, VaccinationSummary>) -> Result<BookRow> {
    let citizen_id: String = r.try_get("citizen_id")?;
    let status = |col: &str| -> Result<Option<HealthStatus>> {
        r.try_get::<Option<String>, _>(col)?
            .map(|s| {
                HealthStatus::parse(&s)
                    .map_err(|e| StoreError::Corrupt(format!("pass of {citizen_id}: {col}: {e}")))
            })
            .transpose()
    };
    let current = status("current_status")?.or(status("status")?);
    let current =
        current.ok_or_else(|| StoreError::Corrupt(format!("pass of {citizen_id}: no status")))?;
    Ok(BookRow {
        token: r.try_get("token")?,
        expires_at: r.try_get("expires_at")?,
        live: r.try_get::<Option<i64>, _>("revoked_at")?.is_none(),
        standing: Standing {
            vaccination: doses
                .get(&citizen_id)
                .copied()
                .unwrap_or(VaccinationSummary::NONE),
            citizen_id,
            current: Current {
                status: current,
                departure_unit: r.try_get("departure_unit")?,
                destination_unit: r.try_get("destination_unit")?,
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(token: &str, citizen: &str, live: bool, status: HealthStatus) -> BookRow {
        BookRow {
            token: token.into(),
            expires_at: 2_000_000_000,
            live,
            standing: Standing {
                citizen_id: citizen.into(),
                current: Current {
                    status,
                    departure_unit: Some("31498".into()),
                    destination_unit: None,
                },
                vaccination: VaccinationSummary::new(2, NaiveDate::from_ymd_opt(2021, 9, 12)),
            },
        }
    }

    #[test]
    fn a_held_pass_reads_back_its_standing_and_only_by_its_exact_token() {
        let mut p = Passes::default();
        let r = row("KD1:A", "094090123456", true, HealthStatus::Yellow);
        p.apply(&r);
        assert_eq!(p.find("KD1:A").map(|(_, s)| s), Some(r.standing.clone()));
        assert_eq!(p.find("KD1:B"), None);
        assert_eq!(p.find("KD1:A "), None);
    }

    #[test]
    fn applying_a_change_twice_is_harmless_and_a_revocation_drops_the_pass() {
        let mut p = Passes::default();
        p.apply(&row("KD1:A", "094090123456", true, HealthStatus::Green));
        let red = row("KD1:A", "094090123456", true, HealthStatus::Red);
        p.apply(&red);
        p.apply(&red);
        assert_eq!(p.len(), 1);
        assert_eq!(p.find("KD1:A").unwrap().1.current.status, HealthStatus::Red);
        p.apply(&row("KD1:A", "094090123456", false, HealthStatus::Red));
        assert_eq!(p.find("KD1:A"), None);
        assert_eq!(p.len(), 0);
        // The unit stays interned once: codes are few and shared.
        assert_eq!(p.units, vec!["31498".to_owned()]);
    }

    #[test]
    fn expired_passes_are_swept() {
        let mut p = Passes::default();
        p.apply(&row("KD1:A", "094090123456", true, HealthStatus::Green));
        p.drop_expired(2_000_000_000);
        assert_eq!(p.len(), 0);
    }

    fn citizen(i: u64) -> String {
        format!("0940{i:08}")
    }

    #[test]
    fn an_entry_is_32_bytes_and_a_province_of_passes_takes_no_more_than_its_entries() {
        assert_eq!(std::mem::size_of::<Held>(), 32);
        let page: Vec<BookRow> = (0..100_000_u64)
            .map(|i| row(&format!("KD1:{i}"), &citizen(i), true, HealthStatus::Green))
            .collect();
        let mut p = Passes::default();
        p.load(&page);
        p.sort();
        assert_eq!(p.len(), 100_000);
        assert!(p.bytes() <= 100_000 * 32 + 1_000, "{}", p.bytes());
        let (number, standing) = p.find("KD1:77").unwrap();
        assert_eq!(
            (number, standing.citizen_id.as_str()),
            (94_000_000_077, "094000000077")
        );
    }

    #[test]
    fn passes_added_after_load_are_found_before_and_after_they_are_merged() {
        let mut p = Passes::default();
        p.load(&[row("KD1:0", &citizen(0), true, HealthStatus::Green)]);
        p.sort();
        // Enough new passes for several merges, each checked as it lands and at the end.
        for i in 1..20_000_u64 {
            p.apply(&row(
                &format!("KD1:{i}"),
                &citizen(i),
                true,
                HealthStatus::Yellow,
            ));
            assert!(p.find(&format!("KD1:{i}")).is_some(), "{i}");
        }
        assert!(p.sorted.len() > 10_000, "merged: {}", p.sorted.len());
        assert!(p.sorted.windows(2).all(|w| w[0].key < w[1].key));
        for i in 0..20_000_u64 {
            let (number, _) = p.find(&format!("KD1:{i}")).unwrap();
            assert_eq!(number, 94_000_000_000 + i);
        }
        // A revoked pass in the sorted array is a tombstone until the sweep, and can come back.
        p.apply(&row("KD1:5", &citizen(5), false, HealthStatus::Red));
        assert_eq!((p.find("KD1:5"), p.len()), (None, 19_999));
        p.apply(&row("KD1:5", &citizen(5), true, HealthStatus::Red));
        assert_eq!(p.find("KD1:5").unwrap().1.current.status, HealthStatus::Red);
        p.apply(&row("KD1:6", &citizen(6), false, HealthStatus::Red));
        p.drop_expired(0);
        assert_eq!(
            (p.len(), p.sorted.len(), p.tombstones),
            (19_999, p.sorted.len(), 0)
        );
        assert!(p.sorted.iter().all(Held::live));
    }

    #[test]
    fn a_standing_that_does_not_fit_is_not_held() {
        let mut p = Passes::default();
        let mut r = row("KD1:A", "094090123456", true, HealthStatus::Green);
        r.standing.vaccination = VaccinationSummary::new(16, None);
        p.apply(&r);
        assert_eq!((p.find("KD1:A"), p.len()), (None, 0));
        r.standing.vaccination = VaccinationSummary::new(15, None);
        p.apply(&r);
        assert_eq!(p.find("KD1:A").unwrap().1.vaccination.doses, 15);
    }

    #[test]
    fn the_cursor_moves_on_and_rereads_numbers_skipped_until_they_come_or_time_out() {
        let mut c = Cursor::default();
        c.advance(&[1, 2, 5], 100, 60);
        assert_eq!(c.last, 5);
        assert_eq!(c.gaps.keys().copied().collect::<Vec<_>>(), vec![3, 4]);
        // 4 committed late (a lower number visible after a higher one): found among the gaps.
        c.advance(&[4, 6], 110, 60);
        assert_eq!(c.last, 6);
        assert_eq!(c.gaps.keys().copied().collect::<Vec<_>>(), vec![3]);
        // Seen again (an overlapping read): nothing changes.
        c.advance(&[4, 5, 6], 120, 60);
        assert_eq!(c.last, 6);
        assert_eq!(c.gaps.len(), 1);
        // 3 never comes (rolled back): given up after the wait.
        c.advance(&[], 161, 60);
        assert!(c.gaps.is_empty());
    }
}
