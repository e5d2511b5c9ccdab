//! Staff accounts, API tokens and the audit log.

use crate::db::{Result, Store, StoreError, conflict, now};
use kiemdich_domain::UnitCode;
use serde::Serialize;
use sqlx::{AnyConnection, Row};

/// What a staff member or device may do; every request is also bounded by the principal's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Users, jurisdictions, locations, signing keys, imports.
    Admin,
    /// Commune officer: declares on behalf of residents, prints pass cards, follows up.
    Officer,
    /// Checkpoint or venue staff and their scanning devices.
    Checkpoint,
    /// Health officer (CDC, district health centre): cases, samples, tracing.
    Health,
    /// Owner of a venue (shop, market stall, school): registers venues, prints their posters, sees counts.
    Venue,
    /// A resident signed in with a one-time code: own declarations, passes, visits and check-ins only.
    Resident,
    /// Monitoring (Prometheus): reads `/metrics`, which holds counts only, never personal data.
    Ops,
    /// Vaccination site staff (người tiêm chủng): record doses for people in their jurisdiction, nothing else.
    Vaccinator,
    /// A system feed (a hospital or the national platform) on the FHIR facade: a token, never a page.
    Integration,
    /// Laboratory staff (phòng xét nghiệm): enter and import results, pool samples, inside their jurisdiction.
    Lab,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Officer => "officer",
            Role::Checkpoint => "checkpoint",
            Role::Health => "health",
            Role::Venue => "venue",
            Role::Resident => "resident",
            Role::Ops => "ops",
            Role::Vaccinator => "vaccinator",
            Role::Integration => "integration",
            Role::Lab => "lab",
        }
    }

    /// A role that may be given to a staff account or token: any but [`Role::Resident`], which only a
    /// one-time code grants.
    pub fn parse_grantable(s: &str) -> Result<Role, String> {
        match Role::parse(s) {
            Ok(Role::Resident) | Err(_) => Err(format!(
                "role must be admin, officer, checkpoint, health, venue, ops, vaccinator, integration or lab, got {s:?}"
            )),
            Ok(role) => Ok(role),
        }
    }

    pub fn parse(s: &str) -> Result<Role, String> {
        match s {
            "admin" => Ok(Role::Admin),
            "officer" => Ok(Role::Officer),
            "checkpoint" => Ok(Role::Checkpoint),
            "health" => Ok(Role::Health),
            "venue" => Ok(Role::Venue),
            "resident" => Ok(Role::Resident),
            "ops" => Ok(Role::Ops),
            "vaccinator" => Ok(Role::Vaccinator),
            "integration" => Ok(Role::Integration),
            "lab" => Ok(Role::Lab),
            other => Err(format!(
                "role must be admin, officer, checkpoint, health, venue, ops, vaccinator, integration or lab, got {other:?}"
            )),
        }
    }
}

/// Who is making a request: a staff account or an API token, with its role and jurisdiction.
impl kiemdich_domain::catalogue::Labelled for Role {
    fn label(self) -> kiemdich_domain::catalogue::Label {
        use kiemdich_domain::catalogue::Label;
        match self {
            Role::Admin => Label::RoleAdmin,
            Role::Officer => Label::RoleOfficer,
            Role::Checkpoint => Label::RoleCheckpoint,
            Role::Health => Label::RoleHealth,
            Role::Venue => Label::RoleVenue,
            Role::Resident => Label::RoleResident,
            Role::Ops => Label::RoleOps,
            Role::Vaccinator => Label::RoleVaccinator,
            Role::Integration => Label::RoleIntegration,
            Role::Lab => Label::RoleLab,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// `staff:<id>` or `token:<id>`, as written in the audit log.
    pub actor: String,
    pub name: String,
    pub role: Role,
    pub unit: UnitCode,
    /// A device token bound to one location may scan there only.
    pub location_id: Option<i64>,
    /// The resident behind a [`Role::Resident`] session.
    pub citizen_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct StaffAccount {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub principal: Principal,
    /// A disabled account may not sign in; sign-in answers as for a wrong password.
    pub disabled: bool,
}

/// Whom a login session acts for.
#[derive(Debug, Clone)]
pub enum SessionOf {
    Staff {
        id: i64,
        username: String,
        role: Role,
    },
    /// A resident, by the one-time code they answered; the code is used up by the same transaction.
    Resident {
        citizen_id: String,
        otp_challenge: i64,
    },
    /// A scanning device's browser, signed in with the device's token (by its hash): the browser keeps this
    /// session, never the long-lived token, and revoking the token ends the session too.
    Device { token_hash: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct StaffSummary {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub unit_code: UnitCode,
    pub created_at: i64,
    /// Since when the account is disabled (Unix seconds), if it is.
    pub disabled_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceSummary {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub unit_code: UnitCode,
    pub location_id: Option<i64>,
    pub revoked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

fn staff_summary(r: &sqlx::any::AnyRow) -> Result<StaffSummary> {
    let id = r.try_get("id")?;
    let (role, unit_code) = stored_role_and_unit(r, &format!("staff account {id}"))?;
    Ok(StaffSummary {
        id,
        username: r.try_get("username")?,
        role,
        unit_code,
        created_at: r.try_get("created_at")?,
        disabled_at: r.try_get("disabled_at")?,
    })
}

/// Revokes every live session of a staff account inside `tx`; returns their hashes, for caches to forget.
async fn revoke_staff_sessions(conn: &mut AnyConnection, staff_id: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE staff_id = $2 AND revoked_at IS NULL RETURNING token_hash",
    )
    .bind(now())
    .bind(staff_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get("token_hash")?)).collect()
}

fn device_summary(r: &sqlx::any::AnyRow) -> Result<DeviceSummary> {
    let id = r.try_get("id")?;
    let (role, unit_code) = stored_role_and_unit(r, &format!("token {id}"))?;
    Ok(DeviceSummary {
        id,
        name: r.try_get("name")?,
        role,
        unit_code,
        location_id: r.try_get("location_id")?,
        revoked: r.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
    })
}

/// Whether `unit` is one of `units`.
fn among(units: &[String], unit: &UnitCode) -> bool {
    units.iter().any(|u| u == unit.as_str())
}

/// The `role` and `unit_code` columns of `what`'s row; a value the system never writes is a corrupt row.
fn stored_role_and_unit(r: &sqlx::any::AnyRow, what: &str) -> Result<(Role, UnitCode)> {
    let bad = |col: &str, e: String| StoreError::Corrupt(format!("{what}: {col}: {e}"));
    Ok((
        Role::parse(&r.try_get::<String, _>("role")?).map_err(|e| bad("role", e))?,
        UnitCode::parse(&r.try_get::<String, _>("unit_code")?).map_err(|e| bad("unit_code", e))?,
    ))
}

/// Audit rows of one action by `actor` at `at`, (subject, detail) each, with multi-row statements.
pub(crate) async fn insert_audits(
    conn: &mut AnyConnection,
    backend: crate::db::Backend,
    at: i64,
    actor: &str,
    action: &str,
    rows: &[(String, String)],
) -> Result<()> {
    crate::db::insert_rows(
        conn,
        backend,
        "audit_log (at, actor, action, subject, detail)",
        5,
        "",
        rows,
        |q, (subject, detail)| {
            q.bind(at)
                .bind(actor.to_owned())
                .bind(action.to_owned())
                .bind(subject.as_str())
                .bind(detail.as_str())
        },
    )
    .await?;
    Ok(())
}

pub(crate) async fn insert_audit(
    conn: &mut AnyConnection,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(now())
    .bind(actor.to_owned())
    .bind(action.to_owned())
    .bind(subject.to_owned())
    .bind(detail.to_owned())
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    pub async fn create_staff(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        unit: &UnitCode,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO staff (username, password_hash, role, unit_code, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(username.to_owned())
        .bind(password_hash.to_owned())
        .bind(role.as_str())
        .bind(unit.as_str().to_owned())
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(conflict(format!("staff account {username:?}")))?;
        insert_audit(
            &mut tx,
            "system",
            "staff.create",
            &format!("staff:{id}"),
            &format!("{username} {} {unit}", role.as_str()),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn staff_by_username(&self, username: &str) -> Result<Option<StaffAccount>> {
        let row = sqlx::query(
            "SELECT id, username, password_hash, role, unit_code, disabled_at FROM staff WHERE username = $1",
        )
        .bind(username.to_owned())
        .fetch_optional(&self.read)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let id: i64 = r.try_get("id")?;
        let username: String = r.try_get("username")?;
        let (role, unit) = stored_role_and_unit(&r, &format!("staff account {id}"))?;
        Ok(Some(StaffAccount {
            id,
            password_hash: r.try_get("password_hash")?,
            disabled: r.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
            principal: Principal {
                actor: format!("staff:{id}"),
                name: username.clone(),
                role,
                unit,
                location_id: None,
                citizen_id: None,
            },
            username,
        }))
    }

    /// Stores a token by its hash; the token itself is shown once to whoever created it and never stored.
    /// Login sessions expire; device and integration tokens (`expires_at` None) last until revoked.
    pub async fn create_token(
        &self,
        token_hash: &str,
        name: &str,
        role: Role,
        unit: &UnitCode,
        expires_at: Option<i64>,
        location_id: Option<i64>,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (token_hash, name, role, unit_code, created_at, expires_at, location_id) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(token_hash.to_owned())
        .bind(name.to_owned())
        .bind(role.as_str())
        .bind(unit.as_str().to_owned())
        .bind(now())
        .bind(expires_at)
        .bind(location_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(conflict("token"))?;
        insert_audit(
            &mut tx,
            "system",
            "token.create",
            &format!("token:{id}"),
            &format!("{name} {} {unit}", role.as_str()),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A login session: for a staff account (acting as that account) or a resident who proved their phone.
    pub async fn create_session(
        &self,
        token_hash: &str,
        who: &SessionOf,
        unit: &UnitCode,
        expires_at: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let mut parent: Option<(i64, Option<i64>)> = None;
        let (name, role, staff_id, citizen_id) = match who {
            SessionOf::Staff { id, username, role } => {
                (format!("session {username}"), *role, Some(*id), None)
            }
            SessionOf::Device { token_hash } => {
                let r = sqlx::query("SELECT id, name, role, location_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at IS NULL")
                    .bind(token_hash.clone())
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::Invalid("unknown or revoked device token".into()))?;
                parent = Some((r.try_get("id")?, r.try_get("location_id")?));
                let role =
                    Role::parse(&r.try_get::<String, _>("role")?).map_err(StoreError::Invalid)?;
                (
                    format!("device session {}", r.try_get::<String, _>("name")?),
                    role,
                    None,
                    None,
                )
            }
            SessionOf::Resident {
                citizen_id,
                otp_challenge,
            } => {
                let used = sqlx::query(
                    "UPDATE otp_challenges SET used_at = $1 WHERE id = $2 AND used_at IS NULL",
                )
                .bind(now())
                .bind(*otp_challenge)
                .execute(&mut *tx)
                .await?;
                if used.rows_affected() != 1 {
                    return Err(StoreError::code_used());
                }
                (
                    format!("resident {citizen_id}"),
                    Role::Resident,
                    None,
                    Some(citizen_id.clone()),
                )
            }
        };
        sqlx::query(
            "INSERT INTO api_tokens (token_hash, name, role, unit_code, created_at, expires_at, staff_id, citizen_id, parent_id, location_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(token_hash.to_owned())
        .bind(name.clone())
        .bind(role.as_str())
        .bind(unit.as_str().to_owned())
        .bind(now())
        .bind(expires_at)
        .bind(staff_id)
        .bind(citizen_id)
        .bind(parent.map(|p| p.0))
        .bind(parent.and_then(|p| p.1))
        .execute(&mut *tx)
        .await
        .map_err(conflict("session"))?;
        insert_audit(&mut tx, "system", "session.start", &name, role.as_str()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends a session or token at once (logout, lost device).
    pub async fn revoke_token(&self, token_hash: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL",
        )
        .bind(now())
        .bind(token_hash.to_owned())
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends every session of a resident at once (a lost phone, a shared one remembered by mistake); returns
    /// the token hashes ended, for caches to forget. Audited.
    pub async fn revoke_resident_sessions(&self, citizen_id: &str) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE citizen_id = $2 AND revoked_at IS NULL RETURNING token_hash",
        )
        .bind(now())
        .bind(citizen_id.to_owned())
        .fetch_all(&mut *tx)
        .await?;
        let ended = rows
            .iter()
            .map(|r| Ok(r.try_get("token_hash")?))
            .collect::<Result<Vec<String>>>()?;
        insert_audit(
            &mut tx,
            &format!("citizen:{citizen_id}"),
            "session.end_all",
            &format!("citizen:{citizen_id}"),
            &format!("{} sessions", ended.len()),
        )
        .await?;
        tx.commit().await?;
        Ok(ended)
    }

    pub async fn principal_by_token_hash(&self, token_hash: &str) -> Result<Option<Principal>> {
        let row = sqlx::query(
            // A session is named by whom it is for: the staff account's username, the device's name.
            "SELECT id, COALESCE((SELECT username FROM staff s WHERE s.id = t.staff_id), (SELECT p.name FROM api_tokens p WHERE p.id = t.parent_id), name) AS name, \
             role, unit_code, location_id, staff_id, citizen_id, parent_id FROM api_tokens t WHERE token_hash = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2) \
             AND (parent_id IS NULL OR EXISTS (SELECT 1 FROM api_tokens p WHERE p.id = t.parent_id AND p.revoked_at IS NULL)) \
             AND (staff_id IS NULL OR EXISTS (SELECT 1 FROM staff s WHERE s.id = t.staff_id AND s.disabled_at IS NULL))",
        )
        .bind(token_hash.to_owned())
        .bind(now())
        .fetch_optional(&self.read)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let (role, unit) =
            stored_role_and_unit(&r, &format!("token {}", r.try_get::<i64, _>("id")?))?;
        let citizen_id: Option<String> = r.try_get("citizen_id")?;
        // The audit log names the account, resident or device behind a session, not the session itself.
        let parent: Option<i64> = r.try_get("parent_id")?;
        let actor = match (r.try_get::<Option<i64>, _>("staff_id")?, &citizen_id) {
            (Some(staff), _) => format!("staff:{staff}"),
            (None, Some(c)) => format!("citizen:{c}"),
            (None, None) => format!("token:{}", parent.unwrap_or(r.try_get::<i64, _>("id")?)),
        };
        Ok(Some(Principal {
            actor,
            name: r.try_get("name")?,
            role,
            unit,
            location_id: r.try_get("location_id")?,
            citizen_id,
        }))
    }

    /// Staff accounts inside a unit (for the administrators' page); no password hashes.
    pub async fn staff_in(&self, units: &[String]) -> Result<Vec<StaffSummary>> {
        let rows = sqlx::query(
            "SELECT id, username, role, unit_code, created_at, disabled_at FROM staff ORDER BY username",
        )
        .fetch_all(&self.read)
        .await?;
        let mut all = rows.iter().map(staff_summary).collect::<Result<Vec<_>>>()?;
        all.retain(|s| among(units, &s.unit_code));
        Ok(all)
    }

    /// One staff account, without its password hash.
    pub async fn staff_by_id(&self, id: i64) -> Result<Option<StaffSummary>> {
        sqlx::query(
            "SELECT id, username, role, unit_code, created_at, disabled_at FROM staff WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(staff_summary)
        .transpose()
    }

    /// Disables a staff account (or enables it again, with `disabled` false). Disabling revokes every live
    /// session of the account in the same transaction; returns the revoked sessions' hashes. Audited as
    /// `actor`'s `staff.disable` or `staff.enable`.
    pub async fn set_staff_disabled(
        &self,
        id: i64,
        disabled: bool,
        actor: &str,
    ) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await?;
        let done = if disabled {
            sqlx::query("UPDATE staff SET disabled_at = COALESCE(disabled_at, $1) WHERE id = $2")
                .bind(now())
                .bind(id)
                .execute(&mut *tx)
                .await?
        } else {
            sqlx::query("UPDATE staff SET disabled_at = NULL WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
        };
        if done.rows_affected() != 1 {
            return Err(StoreError::Invalid(format!("no staff account {id}")));
        }
        let revoked = if disabled {
            revoke_staff_sessions(&mut tx, id).await?
        } else {
            Vec::new()
        };
        let (action, detail) = if disabled {
            (
                "staff.disable",
                format!("{} sessions revoked", revoked.len()),
            )
        } else {
            ("staff.enable", String::new())
        };
        insert_audit(&mut tx, actor, action, &format!("staff:{id}"), &detail).await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// Sets a staff account's password (already hashed) and revokes its live sessions in the same
    /// transaction; returns their hashes. Audited as `actor`'s `staff.password`.
    pub async fn set_staff_password(
        &self,
        id: i64,
        password_hash: &str,
        actor: &str,
    ) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE staff SET password_hash = $1 WHERE id = $2")
            .bind(password_hash.to_owned())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Invalid(format!("no staff account {id}")));
        }
        let revoked = revoke_staff_sessions(&mut tx, id).await?;
        insert_audit(
            &mut tx,
            actor,
            "staff.password",
            &format!("staff:{id}"),
            &format!("{} sessions revoked", revoked.len()),
        )
        .await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// One device or integration token (as [`Store::devices`] lists it); never the token itself.
    pub async fn device(&self, id: i64) -> Result<Option<DeviceSummary>> {
        sqlx::query("SELECT id, name, role, unit_code, location_id, revoked_at FROM api_tokens WHERE id = $1 AND expires_at IS NULL")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(device_summary)
            .transpose()
    }

    /// Revokes a device or integration token and the browser sessions signed in with it, in one
    /// transaction; returns the hashes revoked (for caches to forget). Audited as `actor`'s `token.revoke`.
    pub async fn revoke_device(&self, id: i64, actor: &str) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE ((id = $2 AND expires_at IS NULL) OR parent_id = $2) AND revoked_at IS NULL RETURNING token_hash",
        )
        .bind(now())
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let revoked = rows
            .iter()
            .map(|r| Ok(r.try_get("token_hash")?))
            .collect::<Result<Vec<String>>>()?;
        insert_audit(
            &mut tx,
            actor,
            "token.revoke",
            &format!("token:{id}"),
            &format!("{} tokens and sessions revoked", revoked.len()),
        )
        .await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// Device tokens (bound to a location or not), live ones first; never the token itself.
    pub async fn devices(&self) -> Result<Vec<DeviceSummary>> {
        let rows = sqlx::query("SELECT id, name, role, unit_code, location_id, revoked_at FROM api_tokens WHERE expires_at IS NULL ORDER BY revoked_at IS NOT NULL, id")
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(device_summary).collect()
    }

    /// Device tokens of the units `units` (for the administrators' page and list), live ones first.
    pub async fn devices_in(&self, units: &[String]) -> Result<Vec<DeviceSummary>> {
        let mut all = self.devices().await?;
        all.retain(|d| among(units, &d.unit_code));
        Ok(all)
    }

    /// Records a read of personal data (or any other audited action) in its own transaction.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> Result<()> {
        let mut conn = self.write.acquire().await?;
        insert_audit(&mut conn, actor, action, subject, detail).await
    }

    pub async fn audit_entries(&self, subject: &str, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query("SELECT at, actor, action, subject, detail FROM audit_log WHERE subject = $1 ORDER BY id DESC LIMIT $2")
            .bind(subject.to_owned())
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    subject: r.try_get("subject")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }
}
