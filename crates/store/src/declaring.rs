//! Storing declarations by group commit: every declaration queued while the previous group was being
//! written goes into the next transaction, with one multi-row statement per table on SQLite (PostgreSQL
//! writes the group with one statement, `declaring_pg.rs`). Measured on SQLite on a 2-core VM: 775
//! declarations/s with a transaction and seven statements each; the grouped figure is in the README.

use crate::db::{Backend, Result, Store, StoreError, insert_rows, list_placeholders, now};
use crate::declarations::{DeclarationKey, DeclarationStored, NewDeclaration, NewPass};
use crate::group::GroupCommit;
use kiemdich_domain::CitizenId;
use kiemdich_pass::PassId;
use sqlx::{AnyConnection, AnyPool, AssertSqlSafe, Row};
use std::collections::HashMap;

/// The most declarations written in one transaction.
const MAX_GROUP: usize = 256;

pub(crate) type DeclarationWriter = GroupCommit<NewDeclaration, DeclarationStored>;

pub(crate) fn spawn_writer(pool: AnyPool, backend: Backend) -> DeclarationWriter {
    GroupCommit::spawn(MAX_GROUP, move |group| {
        let pool = pool.clone();
        async move { write_group(&pool, backend, group).await }
    })
}

/// Revokes the live passes of these citizens and appends them to the revocation list.
pub(crate) async fn revoke_live_passes(
    conn: &mut AnyConnection,
    backend: Backend,
    citizens: &[&str],
    reason: &str,
    at: i64,
) -> Result<Vec<String>> {
    Ok(revoke_live_passes_of(conn, backend, citizens, reason, at)
        .await?
        .into_iter()
        .map(|(pass, _)| pass)
        .collect())
}

/// [`revoke_live_passes`], telling whose each revoked pass was: (pass id, citizen id).
pub(crate) async fn revoke_live_passes_of(
    conn: &mut AnyConnection,
    backend: Backend,
    citizens: &[&str],
    reason: &str,
    at: i64,
) -> Result<Vec<(String, String)>> {
    let mut revoked: Vec<(String, String)> = Vec::new();
    for chunk in citizens.chunks(500) {
        let p = list_placeholders(backend, 3 + chunk.len());
        let sql = format!(
            "UPDATE passes SET revoked_at = {}, revoke_reason = {} WHERE revoked_at IS NULL AND expires_at > {} AND citizen_id IN ({}) RETURNING id, citizen_id",
            p[0],
            p[1],
            p[2],
            p[3..].join(",")
        );
        let first = sqlx::query_as(AssertSqlSafe(sql))
            .bind(at)
            .bind(reason.to_owned())
            .bind(at);
        let q = chunk.iter().fold(first, |q, c| q.bind(*c));
        revoked.extend(q.fetch_all(&mut *conn).await?);
    }
    let rows: Vec<(&str, &str)> = revoked
        .iter()
        .map(|(id, _)| (id.as_str(), reason))
        .collect();
    insert_rows(
        conn,
        backend,
        "revocations (pass_id, reason, at)",
        3,
        "",
        &rows,
        |q, (id, why)| q.bind(*id).bind(*why).bind(at),
    )
    .await?;
    Ok(revoked)
}

/// Marks each declaration's one-time code used; a code already used refuses its declaration only.
async fn consume_codes(
    conn: &mut AnyConnection,
    group: &[&NewDeclaration],
    at: i64,
) -> Result<Vec<Option<StoreError>>> {
    let mut refused = Vec::with_capacity(group.len());
    for d in group {
        let ok = match d.otp_challenge {
            Some(challenge) => {
                let done = sqlx::query(
                    "UPDATE otp_challenges SET used_at = $1 WHERE id = $2 AND used_at IS NULL",
                )
                .bind(at)
                .bind(challenge)
                .execute(&mut *conn)
                .await?;
                done.rows_affected() == 1
            }
            None => true,
        };
        refused.push((!ok).then(StoreError::code_used));
    }
    Ok(refused)
}

/// The keys of a group already stored, by (actor, key): the declaration each answered and how.
pub(crate) async fn stored_keys(
    conn: &mut AnyConnection,
    backend: Backend,
    group: &[NewDeclaration],
) -> Result<HashMap<(String, String), (i64, DeclarationKey)>> {
    let keyed: Vec<(&str, &str)> = group
        .iter()
        .filter_map(|d| Some((d.actor.as_str(), d.key.as_ref()?.key.as_str())))
        .collect();
    if keyed.is_empty() {
        return Ok(HashMap::new());
    }
    let p = list_placeholders(backend, keyed.len() * 2);
    let pairs: Vec<String> = p
        .chunks(2)
        .map(|c| format!("(actor = {} AND idempotency_key = {})", c[0], c[1]))
        .collect();
    let sql = format!(
        "SELECT actor, idempotency_key, request_hash, declaration_id, people FROM declaration_keys WHERE {}",
        pairs.join(" OR ")
    );
    let rows = keyed
        .iter()
        .fold(sqlx::query(AssertSqlSafe(sql)), |q, (a, k)| {
            q.bind(*a).bind(*k)
        })
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            let key: String = r.try_get("idempotency_key")?;
            Ok((
                (r.try_get("actor")?, key.clone()),
                (
                    r.try_get("declaration_id")?,
                    DeclarationKey {
                        key,
                        request_hash: r.try_get("request_hash")?,
                        people: r.try_get("people")?,
                    },
                ),
            ))
        })
        .collect()
}

/// Writes the group, again when another server stored one of its keys meanwhile (the retry answers it as a
/// replay) or PostgreSQL picked it as a deadlock's victim.
async fn write_group(
    pool: &AnyPool,
    backend: Backend,
    group: Vec<NewDeclaration>,
) -> Result<Vec<Result<DeclarationStored>>> {
    crate::db::retried("declarations", || async {
        match backend {
            Backend::Sqlite => write_group_in_steps(pool, backend, &group).await,
            Backend::Postgres => crate::declaring_pg::write_group_once(pool, &group).await,
        }
    })
    .await
}

/// What each declaration of a group is before it is written: new, or a replay of a key stored earlier or sent
/// earlier in the group (by its index).
pub(crate) enum Sending {
    New,
    Stored(i64, DeclarationKey),
    EarlierInGroup(usize),
}

/// Sorts a group's declarations by their keys: a key stored before, or sent twice, is a replay.
pub(crate) fn sendings(
    group: &[NewDeclaration],
    mut stored: HashMap<(String, String), (i64, DeclarationKey)>,
) -> Vec<Sending> {
    let mut first: HashMap<(&str, &str), usize> = HashMap::new();
    group
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let Some(k) = &d.key else {
                return Sending::New;
            };
            let pair = (d.actor.as_str(), k.key.as_str());
            if let Some(&earlier) = first.get(&pair) {
                return Sending::EarlierInGroup(earlier);
            }
            first.insert(pair, i);
            match stored.remove(&(d.actor.clone(), k.key.clone())) {
                Some((id, kept)) => Sending::Stored(id, kept),
                None => Sending::New,
            }
        })
        .collect()
}

/// The declarations of a group that are new, not replays, in order.
pub(crate) fn new_ones<'a>(
    group: &'a [NewDeclaration],
    sendings: &[Sending],
) -> Vec<&'a NewDeclaration> {
    group
        .iter()
        .zip(sendings)
        .filter(|(_, s)| matches!(s, Sending::New))
        .map(|(d, _)| d)
        .collect()
}

/// A group in one transaction of a statement per table (SQLite's path: in this process, a statement costs no
/// round trip).
async fn write_group_in_steps(
    pool: &AnyPool,
    backend: Backend,
    group: &[NewDeclaration],
) -> Result<Vec<Result<DeclarationStored>>> {
    let at = now();
    let mut tx = crate::db::begin_write(pool, backend).await?;
    let sendings = sendings(group, stored_keys(&mut tx, backend, group).await?);
    let new = new_ones(group, &sendings);
    let refused = consume_codes(&mut tx, &new, at).await?;
    let accepted: Vec<&NewDeclaration> = new
        .iter()
        .zip(&refused)
        .filter(|(_, r)| r.is_none())
        .map(|(d, _)| *d)
        .collect();

    let refs: Vec<String> = accepted
        .iter()
        .map(|_| PassId::random().to_string())
        .collect();
    let rows: Vec<(&String, &&NewDeclaration)> = refs.iter().zip(&accepted).collect();
    let returned = insert_rows(
        &mut tx,
        backend,
        "declarations (ref, submitted_at, submitter, consent, body)",
        5,
        "RETURNING id, ref",
        &rows,
        |q, (r, d)| {
            q.bind(r.as_str())
                .bind(at)
                .bind(d.submitter.as_str())
                .bind(d.consent)
                .bind(d.body.as_str())
        },
    )
    .await?;
    let by_ref: HashMap<String, i64> = returned
        .iter()
        .map(|r| Ok((r.try_get("ref")?, r.try_get("id")?)))
        .collect::<Result<_>>()?;
    let ids: Vec<i64> = refs.iter().map(|r| by_ref[r]).collect();

    // Earlier passes of everyone who gets a new one are superseded; inside the group, the last one wins.
    let new_passes: Vec<(i64, &NewPass)> = ids
        .iter()
        .zip(&accepted)
        .flat_map(|(id, d)| {
            d.people
                .iter()
                .filter_map(|p| p.pass.as_ref())
                .map(move |p| (*id, p))
        })
        .collect();
    let mut holders: Vec<&str> = new_passes
        .iter()
        .map(|(_, p)| p.citizen_id.as_str())
        .collect();
    holders.sort_unstable();
    holders.dedup();
    revoke_live_passes(&mut tx, backend, &holders, "superseded", at).await?;
    let last: HashMap<&str, &str> = new_passes
        .iter()
        .map(|(_, p)| (p.citizen_id.as_str(), p.id.as_str()))
        .collect();
    let superseded_in_group: Vec<(&str, &str)> = new_passes
        .iter()
        .filter(|(_, p)| last[p.citizen_id.as_str()] != p.id)
        .map(|(_, p)| (p.id.as_str(), "superseded"))
        .collect();
    insert_rows(&mut tx, backend, "passes (id, citizen_id, declaration_id, kid, status, issued_at, expires_at, token, revoked_at, revoke_reason)", 10, "", &new_passes, |q, (decl, p)| {
        let live = last[p.citizen_id.as_str()] == p.id;
        q.bind(p.id.as_str())
            .bind(p.citizen_id.as_str())
            .bind(*decl)
            .bind(p.kid.as_str())
            .bind(p.status.as_str())
            .bind(p.issued_at)
            .bind(p.expires_at)
            .bind(p.token.as_str())
            .bind((!live).then_some(at))
            .bind((!live).then_some("superseded"))
    })
    .await?;
    insert_rows(
        &mut tx,
        backend,
        "revocations (pass_id, reason, at)",
        3,
        "",
        &superseded_in_group,
        |q, (id, why)| q.bind(*id).bind(*why).bind(at),
    )
    .await?;

    let people: Vec<(i64, usize, &crate::PersonOutcome)> = ids
        .iter()
        .zip(&accepted)
        .flat_map(|(id, d)| d.people.iter().enumerate().map(move |(i, p)| (*id, i, p)))
        .collect();
    insert_rows(
        &mut tx,
        backend,
        "declaration_people (declaration_id, idx, citizen_id, commune_code, identity_check, mismatched_fields, status, pass_id, departure_unit, destination_unit, registry_commune, attested)",
        12,
        "",
        &people,
        |q, (decl, idx, p)| {
            q.bind(*decl)
                .bind(*idx as i64)
                .bind(p.citizen_id.as_deref())
                .bind(p.commune_code.as_str())
                .bind(p.identity_check.as_str())
                .bind(p.mismatched_fields.join(","))
                .bind(p.status.as_str())
                .bind(p.pass.as_ref().map(|x| x.id.as_str()))
                .bind(p.departure_unit.as_deref())
                .bind(p.destination_unit.as_deref())
                .bind(p.registry_commune.as_deref())
                .bind(i64::from(p.attested))
        },
    )
    .await?;
    let audit: Vec<(&str, String, String)> = ids
        .iter()
        .zip(&accepted)
        .map(|(id, d)| {
            (
                d.actor.as_str(),
                format!("declaration:{id}"),
                d.audit_subjects(),
            )
        })
        .collect();
    for d in &accepted {
        order_untested_samples(&mut tx, d, at).await?;
    }
    let notices: Vec<&crate::Notice> = accepted.iter().flat_map(|d| &d.notices).collect();
    insert_rows(
        &mut tx,
        backend,
        "outbox (channel, recipient, body, created_at, unit_code, secret)",
        6,
        "",
        &notices,
        |q, n| {
            q.bind(n.channel.as_str())
                .bind(n.recipient.as_str())
                .bind(n.body.as_str())
                .bind(at)
                .bind(n.unit.as_str())
                .bind(0_i64)
        },
    )
    .await?;
    insert_rows(
        &mut tx,
        backend,
        "audit_log (at, actor, action, subject, detail)",
        5,
        "",
        &audit,
        |q, (actor, subject, detail)| {
            q.bind(at)
                .bind(*actor)
                .bind("declaration.submit")
                .bind(subject.as_str())
                .bind(detail.as_str())
        },
    )
    .await?;
    let keys: Vec<(&str, &DeclarationKey, i64)> = ids
        .iter()
        .zip(&accepted)
        .filter_map(|(id, d)| Some((d.actor.as_str(), d.key.as_ref()?, *id)))
        .collect();
    insert_rows(
        &mut tx,
        backend,
        "declaration_keys (actor, idempotency_key, request_hash, declaration_id, people, created_at)",
        6,
        "",
        &keys,
        |q, (actor, k, id)| {
            q.bind(*actor)
                .bind(k.key.as_str())
                .bind(k.request_hash.as_str())
                .bind(*id)
                .bind(k.people.as_str())
                .bind(at)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(outcomes(group, sendings, refused, ids))
}

/// One result per declaration of the group, in order: the new ones' ids, the refused ones' errors, and the
/// replays' first declarations.
pub(crate) fn outcomes(
    group: &[NewDeclaration],
    sendings: Vec<Sending>,
    refused: Vec<Option<StoreError>>,
    ids: Vec<i64>,
) -> Vec<Result<DeclarationStored>> {
    let (mut refused, mut ids) = (refused.into_iter(), ids.into_iter());
    let mut out: Vec<Result<DeclarationStored>> = Vec::with_capacity(group.len());
    for sending in sendings {
        let result = match sending {
            Sending::New => match refused.next().flatten() {
                Some(e) => Err(e),
                None => Ok(DeclarationStored::New(
                    ids.next().expect("one id per accepted declaration"),
                )),
            },
            Sending::Stored(declaration_id, first) => Ok(DeclarationStored::Replay {
                declaration_id,
                first,
            }),
            Sending::EarlierInGroup(i) => match (&out[i], &group[i].key) {
                (Ok(DeclarationStored::New(id)), Some(first)) => Ok(DeclarationStored::Replay {
                    declaration_id: *id,
                    first: first.clone(),
                }),
                (Ok(replay), _) => Ok(replay.clone()),
                (Err(e), _) => Err(StoreError::Conflict(format!(
                    "sent twice at once, and the first was refused: {e}"
                ))),
            },
        };
        out.push(result);
    }
    out
}

/// The samples a declaration orders, for the people who have none waiting for a result, with their audit rows.
pub(crate) async fn order_untested_samples(
    conn: &mut AnyConnection,
    d: &NewDeclaration,
    at: i64,
) -> Result<()> {
    for s in &d.samples {
        let waiting: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM samples WHERE citizen_id = $1 AND status <> $2 LIMIT 1",
        )
        .bind(s.citizen_id.as_str().to_owned())
        .bind(kiemdich_domain::SampleStatus::Tested.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        if waiting.is_some() {
            continue;
        }
        let ids =
            crate::testing::insert_samples(conn, std::slice::from_ref(s), &d.actor, at).await?;
        for id in ids {
            crate::testing::audit_order(conn, &d.actor, s, id).await?;
        }
    }
    Ok(())
}

impl Store {
    /// Stores a declaration, its per-person outcomes and new passes (superseding each holder's previous
    /// passes) in the next group commit. Returns the declaration id once it is durable.
    pub async fn insert_declaration(&self, d: NewDeclaration) -> Result<DeclarationStored> {
        let holders: Vec<CitizenId> = d
            .people
            .iter()
            .filter_map(|p| CitizenId::parse(p.citizen_id.as_deref()?).ok())
            .collect();
        let id = self.declarations.submit(d).await;
        // Committed or refused as a group: the book looks either way.
        self.touch_holders(&holders);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PersonOutcome;

    fn declaration(pass_id: &str, otp_challenge: Option<i64>) -> NewDeclaration {
        let pass = NewPass {
            id: pass_id.into(),
            citizen_id: "094090123456".into(),
            kid: "k".into(),
            status: kiemdich_domain::HealthStatus::Green,
            issued_at: now(),
            expires_at: now() + 3600,
            token: "KD1:x".into(),
        };
        NewDeclaration {
            submitter: "{}".into(),
            actor: "test".into(),
            consent: true,
            body: "{}".into(),
            people: vec![PersonOutcome {
                citizen_id: Some("094090123456".into()),
                commune_code: "31498".into(),
                identity_check: kiemdich_domain::IdentityOutcome::Matched,
                mismatched_fields: vec![],
                status: kiemdich_domain::HealthStatus::Green,
                pass: Some(pass),
                departure_unit: None,
                destination_unit: None,
                registry_commune: Some("31498".into()),
                attested: false,
            }],
            otp_challenge,
            notices: Vec::new(),
            samples: Vec::new(),
            key: None,
        }
    }

    /// A declaration sent with `key`, its form fingerprinted as `form`.
    fn keyed(pass_id: &str, key: &str, form: &str) -> NewDeclaration {
        NewDeclaration {
            key: Some(DeclarationKey {
                key: key.into(),
                request_hash: form.into(),
                people: format!("[\"{pass_id}\"]"),
            }),
            ..declaration(pass_id, None)
        }
    }

    #[tokio::test]
    async fn a_key_sent_again_in_the_group_or_later_is_a_replay_of_the_first() {
        for store in crate::test_db::both_stores("keys").await {
            replays_answer_the_first(&store).await;
            store.close().await;
        }
    }

    async fn replays_answer_the_first(store: &Store) {
        let first = store
            .declarations
            .submit_many(vec![
                keyed("a", "k1", "f"),
                keyed("b", "k1", "f"),
                keyed("c", "k2", "f"),
            ])
            .await
            .unwrap();
        let ids: Vec<DeclarationStored> = first.into_iter().map(Result::unwrap).collect();
        let DeclarationStored::New(a) = ids[0] else {
            panic!("{ids:?}")
        };
        let kept = DeclarationKey {
            key: "k1".into(),
            request_hash: "f".into(),
            people: "[\"a\"]".into(),
        };
        let replay = DeclarationStored::Replay {
            declaration_id: a,
            first: kept.clone(),
        };
        assert_eq!(ids[1], replay, "{:?}", store.backend());
        assert!(matches!(ids[2], DeclarationStored::New(c) if c != a));
        // Later, from a server that restarted: the stored key answers, with the first form's fingerprint.
        let again = store
            .insert_declaration(keyed("d", "k1", "other"))
            .await
            .unwrap();
        assert_eq!(again, replay);
        // The same key from another submitter is theirs.
        let theirs = NewDeclaration {
            actor: "someone else".into(),
            ..keyed("e", "k1", "f")
        };
        assert!(matches!(
            store.insert_declaration(theirs).await.unwrap(),
            DeclarationStored::New(_)
        ));
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM declarations")
            .fetch_one(&store.read)
            .await
            .unwrap();
        assert_eq!(stored, 3, "a, c and the other submitter's");
        let passes: Vec<String> = sqlx::query_scalar("SELECT id FROM passes ORDER BY id")
            .fetch_all(&store.read)
            .await
            .unwrap();
        assert_eq!(passes, ["a", "c", "e"], "a replay issues no pass");
        let keys: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM declaration_keys")
            .fetch_one(&store.read)
            .await
            .unwrap();
        assert_eq!(keys, 3, "one key a declaration stored");
    }

    #[tokio::test]
    async fn one_group_supersedes_inside_itself_and_refuses_only_a_reused_code() {
        for store in crate::test_db::both_stores("group").await {
            supersedes_and_refuses(&store).await;
            store.close().await;
        }
    }

    async fn supersedes_and_refuses(store: &Store) {
        let earlier = store
            .insert_declaration(declaration("z", None))
            .await
            .unwrap();
        assert!(matches!(earlier, DeclarationStored::New(_)));
        let (challenge, _) = store
            .create_otp("094090123456", "h", 300, 5, None)
            .await
            .unwrap();
        let (used, _) = store
            .create_otp("094090123456", "h", 300, 5, None)
            .await
            .unwrap();
        assert!(matches!(
            store
                .insert_declaration(declaration("y", Some(used)))
                .await
                .unwrap(),
            DeclarationStored::New(_)
        ));
        let group = vec![
            declaration("a", None),
            declaration("b", Some(challenge)),
            declaration("c", Some(challenge)),
            declaration("d", Some(used)),
        ];
        let results = write_group(&store.write, store.backend(), group)
            .await
            .unwrap();
        assert!(results[0].is_ok() && results[1].is_ok(), "{results:?}");
        for refused in &results[2..] {
            assert!(
                matches!(refused, Err(StoreError::Conflict(m)) if m.contains("already used")),
                "{:?}: {refused:?}",
                store.backend()
            );
        }
        let a = store.pass("a").await.unwrap().unwrap();
        let b = store.pass("b").await.unwrap().unwrap();
        assert_eq!(a.revoke_reason.as_deref(), Some("superseded"));
        assert_eq!(
            b.revoke_reason, None,
            "the last pass of the group stays live"
        );
        for refused in ["c", "d"] {
            assert!(
                store.pass(refused).await.unwrap().is_none(),
                "a refused declaration writes nothing"
            );
        }
        let revoked: Vec<String> = store
            .revocations_since(0, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.pass_id)
            .collect();
        assert_eq!(revoked, ["z", "y", "a"], "{:?}", store.backend());
        let audited: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'declaration.submit' AND detail = '094090123456'",
        )
        .fetch_one(&store.read)
        .await
        .unwrap();
        assert_eq!(audited, 4, "z, y, a and b");
    }
}
