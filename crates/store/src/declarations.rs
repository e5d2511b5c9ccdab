//! Declarations, passes and their revocation, signing keys, one-time codes and the notification outbox.

use crate::access::insert_audit;
use crate::db::{Result, Store, StoreError, now};
use crate::declaring::revoke_live_passes;
use kiemdich_domain::{CitizenId, HealthStatus, IdentityOutcome, OutboxChannel};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SigningKeyRow {
    pub kid: String,
    pub alg: String,
    pub public_key: String,
    pub not_before: i64,
    pub not_after: Option<i64>,
    /// When the key stopped signing (rotated out or retired); it may still verify until `not_after`.
    pub signed_until: Option<i64>,
}

/// A pass about to be stored; its token is already signed.
#[derive(Debug, Clone)]
pub struct NewPass {
    pub id: String,
    pub citizen_id: String,
    pub kid: String,
    pub status: HealthStatus,
    pub issued_at: i64,
    pub expires_at: i64,
    pub token: String,
}

/// The result of checking one declared person, with the pass issued for them, if any.
#[derive(Debug, Clone)]
pub struct PersonOutcome {
    pub citizen_id: Option<String>,
    pub commune_code: String,
    pub identity_check: IdentityOutcome,
    pub mismatched_fields: Vec<&'static str>,
    pub status: HealthStatus,
    pub pass: Option<NewPass>,
    /// The declared journey, if any: where from and where to.
    pub departure_unit: Option<String>,
    pub destination_unit: Option<String>,
    /// For a person found in the registry: their registry commune, whose officers may read the declaration.
    pub registry_commune: Option<String>,
    /// An officer outside the registry commune declared, attesting they checked the identity document.
    pub attested: bool,
}

#[derive(Debug, Clone)]
pub struct NewDeclaration {
    /// Who submitted, as JSON (the domain's `Submitter`).
    pub submitter: String,
    /// Audit actor: `staff:…`, `token:…` or `citizen:…`.
    pub actor: String,
    pub consent: bool,
    /// The whole form as submitted, JSON, kept immutable.
    pub body: String,
    pub people: Vec<PersonOutcome>,
    /// A one-time-code challenge to mark used in the same transaction.
    pub otp_challenge: Option<i64>,
    /// Messages the declaration sends (to people an officer of another commune declared for).
    pub notices: Vec<Notice>,
    /// Tests the declaration orders (a declared proximity exposure), written in its transaction; a person who
    /// already has a sample not yet tested gets no second one.
    pub samples: Vec<crate::NewSample>,
    /// The idempotency key it was sent with, if any: a second sending by the same actor is a replay.
    pub key: Option<DeclarationKey>,
}

impl NewDeclaration {
    /// The declared people's citizen ids, comma-separated: the detail of the declaration's audit row.
    pub(crate) fn audit_subjects(&self) -> String {
        let ids: Vec<&str> = self
            .people
            .iter()
            .filter_map(|p| p.citizen_id.as_deref())
            .collect();
        ids.join(",")
    }
}

/// An idempotency key a declaration was sent with, and what its sending answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclarationKey {
    pub key: String,
    /// A fingerprint of the form as sent, to tell a replay from a key reused for another form.
    pub request_hash: String,
    /// The answer's people, JSON, kept to answer a replay with.
    pub people: String,
}

/// What storing a declaration came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeclarationStored {
    New(i64),
    /// The actor sent this key before (or earlier in the same group): the first declaration's id and key.
    Replay {
        declaration_id: i64,
        first: DeclarationKey,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassRecord {
    pub id: String,
    pub citizen_id: String,
    pub declaration_id: i64,
    pub kid: String,
    pub status: HealthStatus,
    pub issued_at: i64,
    pub expires_at: i64,
    pub token: String,
    pub revoked_at: Option<i64>,
    pub revoke_reason: Option<String>,
}

/// What a holder's most recent declaration says now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub status: HealthStatus,
    pub departure_unit: Option<String>,
    pub destination_unit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revocation {
    pub seq: i64,
    pub pass_id: String,
    pub reason: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpChallenge {
    pub id: i64,
    pub citizen_id: String,
    pub code_hash: String,
    pub expires_at: i64,
    pub attempts: i64,
    pub used: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub channel: OutboxChannel,
    pub recipient: String,
    pub body: String,
    pub created_at: i64,
    /// The unit whose staff may read the message.
    pub unit_code: String,
    /// A one-time code: sent, never listed, and blanked once sent.
    pub secret: bool,
}

/// A message to queue: to a phone, a resident's in-app notices (by citizen id) or a commune's officers (by
/// unit code), as its channel says. `unit` is the unit whose staff may read it: the person's home commune, or
/// the unit addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub channel: OutboxChannel,
    pub recipient: String,
    pub body: String,
    pub unit: String,
}

/// What answering a one-time-code challenge found, after the attempt was counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtpAttempt {
    /// The challenge was open and this attempt was counted: compare the code now.
    Counted(OtpChallenge),
    Unknown,
    Used,
    Expired,
    /// Every allowed attempt was spent.
    Locked,
}

pub(crate) fn pass_from_row(r: &AnyRow) -> Result<PassRecord> {
    let id: String = r.try_get("id")?;
    let status: String = r.try_get("status")?;
    let status = HealthStatus::parse(&status)
        .map_err(|e| StoreError::Corrupt(format!("pass {id}: status: {e}")))?;
    Ok(PassRecord {
        id,
        citizen_id: r.try_get("citizen_id")?,
        declaration_id: r.try_get("declaration_id")?,
        kid: r.try_get("kid")?,
        status,
        issued_at: r.try_get("issued_at")?,
        expires_at: r.try_get("expires_at")?,
        token: r.try_get("token")?,
        revoked_at: r.try_get("revoked_at")?,
        revoke_reason: r.try_get("revoke_reason")?,
    })
}

/// What a pass holder's latest declaration says of them (`current_status`, `departure_unit`,
/// `destination_unit`), as columns of a query over `passes p`. One look-up each, backwards from the end of the
/// person's range of the index on (citizen, declaration, index in it) (migration 0024): a join on the largest
/// declaration id let PostgreSQL hash the whole table instead.
pub(crate) const LATEST_DECLARATION: &str = "\
    (SELECT d.status FROM declaration_people d WHERE d.citizen_id = p.citizen_id ORDER BY d.declaration_id DESC, d.idx DESC LIMIT 1) AS current_status, \
    (SELECT d.departure_unit FROM declaration_people d WHERE d.citizen_id = p.citizen_id ORDER BY d.declaration_id DESC, d.idx DESC LIMIT 1) AS departure_unit, \
    (SELECT d.destination_unit FROM declaration_people d WHERE d.citizen_id = p.citizen_id ORDER BY d.declaration_id DESC, d.idx DESC LIMIT 1) AS destination_unit";

impl Store {
    pub async fn insert_signing_key(&self, key: &SigningKeyRow) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO signing_keys (kid, alg, public_key, not_before, not_after, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(key.kid.clone())
            .bind(key.alg.clone())
            .bind(key.public_key.clone())
            .bind(key.not_before)
            .bind(key.not_after)
            .bind(now())
            .execute(&mut *tx)
            .await
            .map_err(crate::db::conflict(format!("key {}", key.kid)))?;
        insert_audit(
            &mut tx,
            "system",
            "key.create",
            &format!("key:{}", key.kid),
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRow>> {
        let rows = sqlx::query("SELECT kid, alg, public_key, not_before, not_after, signed_until FROM signing_keys ORDER BY not_before, kid").fetch_all(&self.read).await?;
        rows.iter()
            .map(|r| {
                Ok(SigningKeyRow {
                    kid: r.try_get("kid")?,
                    alg: r.try_get("alg")?,
                    public_key: r.try_get("public_key")?,
                    not_before: r.try_get("not_before")?,
                    not_after: r.try_get("not_after")?,
                    signed_until: r.try_get("signed_until")?,
                })
            })
            .collect()
    }

    /// Ends a key's validity at `at` (earlier wins), for rotation (verify-only until its passes expire) or
    /// retirement; either way it stops signing now.
    pub async fn end_key(&self, kid: &str, at: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE signing_keys SET not_after = $1, signed_until = COALESCE(signed_until, $3) WHERE kid = $2 AND (not_after IS NULL OR not_after > $1)")
            .bind(at)
            .bind(kid.to_owned())
            .bind(now().min(at))
            .execute(&mut *tx)
            .await?;
        let known: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM signing_keys WHERE kid = $1")
            .bind(kid.to_owned())
            .fetch_one(&mut *tx)
            .await?;
        if known == 0 {
            return Err(StoreError::Invalid(format!("no key with kid {kid}")));
        }
        insert_audit(
            &mut tx,
            "system",
            "key.end",
            &format!("key:{kid}"),
            &format!("not_after={at} changed={}", done.rows_affected()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whose declaration this is, for access: per person the declared commune and, for a person found in
    /// the registry, their registry commune.
    pub async fn declaration_reach(&self, id: i64) -> Result<Vec<(String, Option<String>)>> {
        let rows = sqlx::query(
            "SELECT commune_code, registry_commune FROM declaration_people WHERE declaration_id = $1 ORDER BY idx",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("commune_code")?, r.try_get("registry_commune")?)))
            .collect()
    }

    /// The stored form of a declaration and who submitted it.
    pub async fn declaration(&self, id: i64) -> Result<Option<(i64, String, String)>> {
        let row =
            sqlx::query("SELECT submitted_at, submitter, body FROM declarations WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?;
        row.map(|r| {
            Ok((
                r.try_get("submitted_at")?,
                r.try_get("submitter")?,
                r.try_get("body")?,
            ))
        })
        .transpose()
    }

    pub async fn pass(&self, id: &str) -> Result<Option<PassRecord>> {
        let row = sqlx::query("SELECT * FROM passes WHERE id = $1")
            .bind(id.to_owned())
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(pass_from_row).transpose()
    }

    /// The citizen's newest pass, live or not.
    pub async fn latest_pass(&self, citizen_id: &str) -> Result<Option<PassRecord>> {
        let row = sqlx::query(
            // Two declarations in one second: the later declaration's pass is the newest.
            "SELECT * FROM passes WHERE citizen_id = $1 ORDER BY issued_at DESC, declaration_id DESC LIMIT 1",
        )
        .bind(citizen_id.to_owned())
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(pass_from_row).transpose()
    }

    /// Revokes every live pass of a citizen at once (status change, official decision). Returns the pass ids.
    pub async fn revoke_passes_of(
        &self,
        citizen_id: &str,
        reason: &str,
        actor: &str,
    ) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await?;
        let ids = revoke_live_passes(&mut tx, self.backend(), &[citizen_id], reason, now()).await?;
        insert_audit(
            &mut tx,
            actor,
            "pass.revoke",
            &format!("citizen:{citizen_id}"),
            &format!("{reason}: {}", ids.join(",")),
        )
        .await?;
        tx.commit().await?;
        match CitizenId::parse(citizen_id) {
            Ok(c) => self.touch_holders([&c]),
            Err(_) => self.touch_book(),
        }
        Ok(ids)
    }

    /// Revocations after `cursor`, oldest first: the delta an offline scanner fetches.
    pub async fn revocations_since(&self, cursor: i64, limit: i64) -> Result<Vec<Revocation>> {
        let rows = sqlx::query(
            "SELECT seq, pass_id, reason, at FROM revocations WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(cursor)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Revocation {
                    seq: r.try_get("seq")?,
                    pass_id: r.try_get("pass_id")?,
                    reason: r.try_get("reason")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    /// A pass with what its holder's most recent declaration says now (status, journey), in one query: this
    /// is on the path of every online verification and scan.
    pub async fn pass_with_status(&self, id: &str) -> Result<Option<(PassRecord, Current)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT p.*, {LATEST_DECLARATION} FROM passes p WHERE p.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            let pass = pass_from_row(&r)?;
            let status = match r.try_get::<Option<String>, _>("current_status")? {
                Some(s) => HealthStatus::parse(&s)
                    .map_err(|e| StoreError::Corrupt(format!("pass {}: status: {e}", pass.id)))?,
                None => pass.status,
            };
            let current = Current {
                status,
                departure_unit: r.try_get("departure_unit")?,
                destination_unit: r.try_get("destination_unit")?,
            };
            Ok((pass, current))
        })
        .transpose()
    }

    /// Creates a one-time-code challenge and queues its SMS (secret) in the same transaction, unless the
    /// citizen already had `max_per_hour` codes in the last hour. With no `sms` (an id with no registered
    /// phone, or none in the registry) the challenge is made all the same and nothing is sent, so the answer
    /// tells no one whether an id is registered.
    pub async fn create_otp(
        &self,
        citizen_id: &str,
        code_hash: &str,
        ttl_secs: i64,
        max_per_hour: i64,
        sms: Option<Notice>,
    ) -> Result<(i64, i64)> {
        let at = now();
        let mut tx = self.begin_write().await?;
        let recent: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM otp_challenges WHERE citizen_id = $1 AND created_at > $2",
        )
        .bind(citizen_id.to_owned())
        .bind(at - 3600)
        .fetch_one(&mut *tx)
        .await?;
        if recent >= max_per_hour {
            return Err(StoreError::Invalid(format!(
                "{recent} codes were requested for this id in the last hour; try again later"
            )));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO otp_challenges (citizen_id, code_hash, created_at, expires_at, attempts) VALUES ($1, $2, $3, $4, 0) RETURNING id",
        )
        .bind(citizen_id.to_owned())
        .bind(code_hash.to_owned())
        .bind(at)
        .bind(at + ttl_secs)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(sms) = sms {
            enqueue(&mut tx, &sms, true, at).await?;
        }
        tx.commit().await?;
        Ok((id, at + ttl_secs))
    }

    /// Counts one attempt at a challenge, atomically and before any comparison: the conditional update
    /// succeeds only while the challenge is unused, unexpired and below `max_attempts`, so parallel guesses
    /// can never be evaluated more than `max_attempts` times in all.
    pub async fn attempt_otp(&self, id: i64, max_attempts: i64) -> Result<OtpAttempt> {
        let at = now();
        let row = sqlx::query(
            "UPDATE otp_challenges SET attempts = attempts + 1 \
             WHERE id = $1 AND used_at IS NULL AND expires_at > $2 AND attempts < $3 \
             RETURNING id, citizen_id, code_hash, expires_at, attempts, used_at",
        )
        .bind(id)
        .bind(at)
        .bind(max_attempts)
        .fetch_optional(&self.write)
        .await?;
        if let Some(r) = row {
            return Ok(OtpAttempt::Counted(otp_from_row(&r)?));
        }
        Ok(match self.otp_challenge(id).await? {
            None => OtpAttempt::Unknown,
            Some(c) if c.used => OtpAttempt::Used,
            Some(c) if c.expires_at <= at => OtpAttempt::Expired,
            Some(_) => OtpAttempt::Locked,
        })
    }

    pub async fn otp_challenge(&self, id: i64) -> Result<Option<OtpChallenge>> {
        let row = sqlx::query("SELECT id, citizen_id, code_hash, expires_at, attempts, used_at FROM otp_challenges WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.write)
            .await?;
        row.as_ref().map(otp_from_row).transpose()
    }

    /// Messages not yet handed to a sender, oldest first.
    pub async fn unsent_outbox(&self, limit: i64) -> Result<Vec<OutboxMessage>> {
        let rows = sqlx::query("SELECT id, channel, recipient, body, created_at, unit_code, secret FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1")
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(outbox_from_row).collect()
    }

    /// Claims a message for sending; false when another server already did (each message goes out once).
    /// A secret's text (a one-time code) is blanked by the claim: the sender has it, the database keeps none.
    pub async fn claim_outbox(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE outbox SET sent_at = $1, body = CASE WHEN secret = 1 THEN '' ELSE body END WHERE id = $2 AND sent_at IS NULL")
            .bind(now())
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// In-app notices to one citizen, newest first.
    pub async fn notices_for(&self, citizen_id: &str, limit: i64) -> Result<Vec<OutboxMessage>> {
        let rows = sqlx::query(
            "SELECT id, channel, recipient, body, created_at, unit_code, secret FROM outbox WHERE recipient = $1 AND channel = $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(citizen_id.to_owned())
        .bind(OutboxChannel::App.as_str())
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(outbox_from_row).collect()
    }

    /// Messages addressed inside `units` (a jurisdiction), newest first; a secret's text is never read.
    pub async fn outbox(&self, units: &[String], limit: i64) -> Result<Vec<OutboxMessage>> {
        let rows = self
            .fetch_in(
                &format!("SELECT id, channel, recipient, CASE WHEN secret = 1 THEN '' ELSE body END AS body, created_at, unit_code, secret \
                 FROM outbox WHERE unit_code IN ({{in}}) ORDER BY id DESC LIMIT {limit}"),
                units,
            )
            .await?;
        let mut messages = rows
            .iter()
            .map(outbox_from_row)
            .collect::<Result<Vec<_>>>()?;
        // A jurisdiction of more than one chunk of units is read chunk by chunk.
        messages.sort_unstable_by_key(|m| std::cmp::Reverse(m.id));
        messages.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(messages)
    }
}

fn outbox_from_row(r: &AnyRow) -> Result<OutboxMessage> {
    let id = r.try_get("id")?;
    let channel: String = r.try_get("channel")?;
    Ok(OutboxMessage {
        id,
        channel: OutboxChannel::parse(&channel)
            .map_err(|e| StoreError::Corrupt(format!("outbox message {id}: channel: {e}")))?,
        recipient: r.try_get("recipient")?,
        body: r.try_get("body")?,
        created_at: r.try_get("created_at")?,
        unit_code: r.try_get("unit_code")?,
        secret: r.try_get::<i64, _>("secret")? == 1,
    })
}

fn otp_from_row(r: &AnyRow) -> Result<OtpChallenge> {
    Ok(OtpChallenge {
        id: r.try_get("id")?,
        citizen_id: r.try_get("citizen_id")?,
        code_hash: r.try_get("code_hash")?,
        expires_at: r.try_get("expires_at")?,
        attempts: r.try_get("attempts")?,
        used: r.try_get::<Option<i64>, _>("used_at")?.is_some(),
    })
}

/// Queues `notices` (none secret) with multi-row statements.
pub(crate) async fn enqueue_all(
    conn: &mut AnyConnection,
    backend: crate::db::Backend,
    notices: &[Notice],
    at: i64,
) -> Result<()> {
    crate::db::insert_rows(
        conn,
        backend,
        "outbox (channel, recipient, body, created_at, unit_code, secret)",
        6,
        "",
        notices,
        |q, n| {
            q.bind(n.channel.as_str())
                .bind(n.recipient.clone())
                .bind(n.body.clone())
                .bind(at)
                .bind(n.unit.clone())
                .bind(0_i64)
        },
    )
    .await?;
    Ok(())
}

pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    n: &Notice,
    secret: bool,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (channel, recipient, body, created_at, unit_code, secret) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(n.channel.as_str())
    .bind(n.recipient.clone())
    .bind(n.body.clone())
    .bind(at)
    .bind(n.unit.clone())
    .bind(i64::from(secret))
    .execute(conn)
    .await?;
    Ok(())
}
