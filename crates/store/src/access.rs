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
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Officer => "officer",
            Role::Checkpoint => "checkpoint",
            Role::Health => "health",
        }
    }

    pub fn parse(s: &str) -> Result<Role, String> {
        match s {
            "admin" => Ok(Role::Admin),
            "officer" => Ok(Role::Officer),
            "checkpoint" => Ok(Role::Checkpoint),
            "health" => Ok(Role::Health),
            other => Err(format!(
                "role must be admin, officer, checkpoint or health, got {other:?}"
            )),
        }
    }
}

/// Who is making a request: a staff account or an API token, with its role and jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// `staff:<id>` or `token:<id>`, as written in the audit log.
    pub actor: String,
    pub name: String,
    pub role: Role,
    pub unit: UnitCode,
    /// A device token bound to one location may scan there only.
    pub location_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct StaffAccount {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub principal: Principal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

fn role_and_unit(role: &str, unit: &str) -> Result<(Role, UnitCode)> {
    let bad = |e: String| StoreError::Invalid(format!("stored account is invalid: {e}"));
    Ok((
        Role::parse(role).map_err(bad)?,
        UnitCode::parse(unit).map_err(bad)?,
    ))
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
        let mut tx = self.write.begin().await?;
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
            "SELECT id, username, password_hash, role, unit_code FROM staff WHERE username = $1",
        )
        .bind(username.to_owned())
        .fetch_optional(&self.read)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let id: i64 = r.try_get("id")?;
        let username: String = r.try_get("username")?;
        let (role, unit) = role_and_unit(
            &r.try_get::<String, _>("role")?,
            &r.try_get::<String, _>("unit_code")?,
        )?;
        Ok(Some(StaffAccount {
            id,
            password_hash: r.try_get("password_hash")?,
            principal: Principal {
                actor: format!("staff:{id}"),
                name: username.clone(),
                role,
                unit,
                location_id: None,
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
        let mut tx = self.write.begin().await?;
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

    pub async fn principal_by_token_hash(&self, token_hash: &str) -> Result<Option<Principal>> {
        let row = sqlx::query(
            "SELECT id, name, role, unit_code, location_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(token_hash.to_owned())
        .bind(now())
            .fetch_optional(&self.read)
            .await?;
        let Some(r) = row else { return Ok(None) };
        let (role, unit) = role_and_unit(
            &r.try_get::<String, _>("role")?,
            &r.try_get::<String, _>("unit_code")?,
        )?;
        Ok(Some(Principal {
            actor: format!("token:{}", r.try_get::<i64, _>("id")?),
            name: r.try_get("name")?,
            role,
            unit,
            location_id: r.try_get("location_id")?,
        }))
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
