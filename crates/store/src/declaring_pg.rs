//! PostgreSQL writes a group of declarations with one statement: data-modifying CTEs over the group, sent as
//! JSON so that the SQL text is the same for every group (prepared and planned once on the writer's
//! connection). The statement-per-table path (`declaring.rs`, which SQLite keeps: it runs in this process) cost
//! PostgreSQL ten round trips a group, and round trips were most of its work (perf: the kernel's loopback send
//! path). The one-time codes are consumed inside the statement too; only a group that orders samples opens a
//! transaction, to order them after the statement.

use crate::db::{Result, StoreError, json_rows, now};
use crate::declarations::{DeclarationStored, NewDeclaration};
use crate::declaring::{new_ones, order_untested_samples, outcomes, sendings, stored_keys};
use kiemdich_pass::PassId;
use serde::Serialize;
use sqlx::{Acquire, AnyConnection, AnyPool, Row};
use std::collections::{HashMap, HashSet};

/// A declaration of the group; `decl_ref` ties every other row to it until the insert gives it its id.
#[derive(Serialize)]
struct DeclarationRow<'a> {
    decl_ref: &'a str,
    submitter: &'a str,
    consent: bool,
    body: &'a str,
    actor: &'a str,
    /// The declared people's citizen ids, comma-separated: the audit row's detail.
    subjects: String,
    otp: Option<i64>,
}

#[derive(Serialize)]
struct PersonRow<'a> {
    decl_ref: &'a str,
    idx: usize,
    citizen_id: Option<&'a str>,
    commune_code: &'a str,
    identity_check: &'a str,
    mismatched_fields: String,
    status: &'a str,
    pass_id: Option<&'a str>,
    departure_unit: Option<&'a str>,
    destination_unit: Option<&'a str>,
    registry_commune: Option<&'a str>,
    attested: i64,
}

/// A new pass; `n` orders the group's passes, the last of a holder's staying live.
#[derive(Serialize)]
struct PassRow<'a> {
    decl_ref: &'a str,
    n: usize,
    id: &'a str,
    citizen_id: &'a str,
    kid: &'a str,
    status: &'a str,
    issued_at: i64,
    expires_at: i64,
    token: &'a str,
}

#[derive(Serialize)]
struct KeyRow<'a> {
    decl_ref: &'a str,
    actor: &'a str,
    idempotency_key: &'a str,
    request_hash: &'a str,
    people: &'a str,
}

#[derive(Serialize)]
struct NoticeRow<'a> {
    decl_ref: &'a str,
    channel: &'a str,
    recipient: &'a str,
    body: &'a str,
    unit_code: &'a str,
}

/// The group's rows, as the statement's JSON parameters.
#[derive(Default)]
struct GroupRows<'a> {
    declarations: Vec<DeclarationRow<'a>>,
    people: Vec<PersonRow<'a>>,
    passes: Vec<PassRow<'a>>,
    keys: Vec<KeyRow<'a>>,
    notices: Vec<NoticeRow<'a>>,
}

impl<'a> GroupRows<'a> {
    fn add(&mut self, decl_ref: &'a str, d: &'a NewDeclaration) {
        self.declarations.push(DeclarationRow {
            decl_ref,
            submitter: &d.submitter,
            consent: d.consent,
            body: &d.body,
            actor: &d.actor,
            subjects: d.audit_subjects(),
            otp: d.otp_challenge,
        });
        for (idx, p) in d.people.iter().enumerate() {
            self.people.push(PersonRow {
                decl_ref,
                idx,
                citizen_id: p.citizen_id.as_deref(),
                commune_code: &p.commune_code,
                identity_check: p.identity_check.as_str(),
                mismatched_fields: p.mismatched_fields.join(","),
                status: p.status.as_str(),
                pass_id: p.pass.as_ref().map(|x| x.id.as_str()),
                departure_unit: p.departure_unit.as_deref(),
                destination_unit: p.destination_unit.as_deref(),
                registry_commune: p.registry_commune.as_deref(),
                attested: i64::from(p.attested),
            });
            if let Some(pass) = &p.pass {
                self.passes.push(PassRow {
                    decl_ref,
                    n: self.passes.len(),
                    id: &pass.id,
                    citizen_id: &pass.citizen_id,
                    kid: &pass.kid,
                    status: pass.status.as_str(),
                    issued_at: pass.issued_at,
                    expires_at: pass.expires_at,
                    token: &pass.token,
                });
            }
        }
        if let Some(k) = &d.key {
            self.keys.push(KeyRow {
                decl_ref,
                actor: &d.actor,
                idempotency_key: &k.key,
                request_hash: &k.request_hash,
                people: &k.people,
            });
        }
        self.notices.extend(d.notices.iter().map(|n| NoticeRow {
            decl_ref,
            channel: n.channel.as_str(),
            recipient: &n.recipient,
            body: &n.body,
            unit_code: &n.unit,
        }));
    }
}

/// The group's statement. A declaration whose one-time code another one used first is not inserted, and
/// nothing joined to it is; earlier passes of everyone who gets a new one are superseded, and inside the group
/// the last pass of a holder wins. The CTEs all see the tables as they were before the statement. The holders
/// are an array, not an `IN (SELECT …)`: the planner cannot count a CTE's rows and joined every live pass by
/// hash (a scan of the table each group; 11 ms at 33,000 passes).
const GROUP_STATEMENT: &str = "\
WITH d AS (SELECT * FROM json_to_recordset($1::json) AS x(decl_ref TEXT, submitter TEXT, consent BOOLEAN, \
    body TEXT, actor TEXT, subjects TEXT, otp BIGINT)), \
  p AS (SELECT * FROM json_to_recordset($2::json) AS x(decl_ref TEXT, idx BIGINT, citizen_id TEXT, \
    commune_code TEXT, identity_check TEXT, mismatched_fields TEXT, status TEXT, pass_id TEXT, \
    departure_unit TEXT, destination_unit TEXT, registry_commune TEXT, attested BIGINT)), \
  s AS (SELECT * FROM json_to_recordset($3::json) AS x(decl_ref TEXT, n BIGINT, id TEXT, citizen_id TEXT, \
    kid TEXT, status TEXT, issued_at BIGINT, expires_at BIGINT, token TEXT)), \
  k AS (SELECT * FROM json_to_recordset($4::json) AS x(decl_ref TEXT, actor TEXT, idempotency_key TEXT, \
    request_hash TEXT, people TEXT)), \
  m AS (SELECT * FROM json_to_recordset($5::json) AS x(decl_ref TEXT, channel TEXT, recipient TEXT, body TEXT, \
    unit_code TEXT)), \
  codes AS (UPDATE otp_challenges SET used_at = $6 WHERE used_at IS NULL \
    AND id IN (SELECT otp FROM d WHERE otp IS NOT NULL) RETURNING id), \
  decl AS (INSERT INTO declarations (ref, submitted_at, submitter, consent, body) \
    SELECT decl_ref, $6, submitter, consent, body FROM d WHERE otp IS NULL OR otp IN (SELECT id FROM codes) \
    RETURNING id, ref), \
  taken AS (SELECT s.*, decl.id AS declaration_id, \
    row_number() OVER (PARTITION BY s.citizen_id ORDER BY s.n DESC) = 1 AS live \
    FROM s JOIN decl ON decl.ref = s.decl_ref), \
  revoked AS (UPDATE passes SET revoked_at = $6, revoke_reason = 'superseded' \
    WHERE revoked_at IS NULL AND expires_at > $6 AND citizen_id = ANY (ARRAY(SELECT citizen_id FROM taken)) RETURNING id), \
  revocation_rows AS (INSERT INTO revocations (pass_id, reason, at) \
    SELECT id, 'superseded', $6 FROM revoked UNION ALL SELECT id, 'superseded', $6 FROM taken WHERE NOT live), \
  issued AS (INSERT INTO passes (id, citizen_id, declaration_id, kid, status, issued_at, expires_at, token, \
      revoked_at, revoke_reason) \
    SELECT id, citizen_id, declaration_id, kid, status, issued_at, expires_at, token, \
      CASE WHEN live THEN NULL ELSE $6 END, CASE WHEN live THEN NULL ELSE 'superseded' END FROM taken), \
  people AS (INSERT INTO declaration_people (declaration_id, idx, citizen_id, commune_code, identity_check, \
      mismatched_fields, status, pass_id, departure_unit, destination_unit, registry_commune, attested) \
    SELECT decl.id, p.idx, p.citizen_id, p.commune_code, p.identity_check, p.mismatched_fields, p.status, \
      p.pass_id, p.departure_unit, p.destination_unit, p.registry_commune, p.attested \
    FROM p JOIN decl ON decl.ref = p.decl_ref), \
  notices AS (INSERT INTO outbox (channel, recipient, body, created_at, unit_code, secret) \
    SELECT m.channel, m.recipient, m.body, $6, m.unit_code, 0 FROM m JOIN decl ON decl.ref = m.decl_ref), \
  audit AS (INSERT INTO audit_log (at, actor, action, subject, detail) \
    SELECT $6, d.actor, 'declaration.submit', 'declaration:' || decl.id, d.subjects \
    FROM d JOIN decl ON decl.ref = d.decl_ref), \
  keys AS (INSERT INTO declaration_keys (actor, idempotency_key, request_hash, declaration_id, people, created_at) \
    SELECT k.actor, k.idempotency_key, k.request_hash, decl.id, k.people, $6 FROM k JOIN decl ON decl.ref = k.decl_ref) \
SELECT id, ref FROM decl";

/// Runs the group's statement; the declarations it inserted, by ref.
async fn run_statement(
    conn: &mut AnyConnection,
    rows: &GroupRows<'_>,
    at: i64,
) -> Result<HashMap<String, i64>> {
    let returned = sqlx::query(GROUP_STATEMENT)
        .bind(json_rows(&rows.declarations)?)
        .bind(json_rows(&rows.people)?)
        .bind(json_rows(&rows.passes)?)
        .bind(json_rows(&rows.keys)?)
        .bind(json_rows(&rows.notices)?)
        .bind(at)
        .fetch_all(&mut *conn)
        .await?;
    returned
        .iter()
        .map(|r| Ok((r.try_get("ref")?, r.try_get("id")?)))
        .collect()
}

/// Writes one group: its keys looked up, then the statement (with the samples the accepted declarations order,
/// in one transaction, when any declaration orders one).
pub(crate) async fn write_group_once(
    pool: &AnyPool,
    group: &[NewDeclaration],
) -> Result<Vec<Result<DeclarationStored>>> {
    let at = now();
    let mut conn = pool.acquire().await?;
    let sendings = sendings(
        group,
        stored_keys(&mut conn, crate::db::Backend::Postgres, group).await?,
    );
    let new = new_ones(group, &sendings);
    // A code sent twice in the group is the first sender's: the statement would mark it used once for both.
    let mut codes = HashSet::new();
    let reused: Vec<bool> = new
        .iter()
        .map(|d| d.otp_challenge.is_some_and(|c| !codes.insert(c)))
        .collect();
    let refs: Vec<String> = new.iter().map(|_| PassId::random().to_string()).collect();
    let mut rows = GroupRows::default();
    for ((r, d), _) in refs.iter().zip(&new).zip(&reused).filter(|(_, re)| !**re) {
        rows.add(r, d);
    }
    let ordering = new.iter().any(|d| !d.samples.is_empty());
    let inserted = if ordering {
        let mut tx = conn.begin().await?;
        let inserted = run_statement(&mut tx, &rows, at).await?;
        for (r, d) in refs.iter().zip(&new) {
            if inserted.contains_key(r) {
                order_untested_samples(&mut tx, d, at).await?;
            }
        }
        tx.commit().await?;
        inserted
    } else {
        run_statement(&mut conn, &rows, at).await?
    };
    let refused: Vec<Option<StoreError>> = refs
        .iter()
        .map(|r| (!inserted.contains_key(r)).then(StoreError::code_used))
        .collect();
    let ids: Vec<i64> = refs
        .iter()
        .filter_map(|r| inserted.get(r).copied())
        .collect();
    Ok(outcomes(group, sendings, refused, ids))
}
