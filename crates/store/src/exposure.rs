//! Exposure places: where a confirmed case stayed while infectious, published by a health officer so that the
//! public can check whether they were there too ("if you were at the market between 10:00 and 11:30 on 24/11,
//! declare your health"). A publication is a snapshot of the case's zones with an expiry; the public list names
//! no case and no person.

use crate::access::insert_audit;
use crate::db::{Result, Store, insert_rows};
use kiemdich_domain::{LocationKind, Span};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

/// One published place and window, as the public sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExposurePlace {
    pub location_id: i64,
    pub name: String,
    pub kind: LocationKind,
    pub commune_code: String,
    pub lat: f64,
    pub lon: f64,
    pub window: Span,
    pub expires_at: i64,
}

/// A place of a case's zoning to publish: which location, and when the case was there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExposureWindow {
    pub location_id: i64,
    pub window: Span,
}

impl From<&crate::Zone> for ExposureWindow {
    /// What a zone publishes: its place and the case's stay there, never who else was present.
    fn from(z: &crate::Zone) -> ExposureWindow {
        ExposureWindow {
            location_id: z.location_id,
            window: z.window,
        }
    }
}

impl Store {
    /// Publishes a case's exposure places until `expires_at`, replacing what was published for that case before,
    /// in one transaction with its audit entry.
    pub async fn publish_exposures(
        &self,
        actor: &str,
        case_id: i64,
        places: &[ExposureWindow],
        expires_at: i64,
    ) -> Result<()> {
        let now = crate::db::now();
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM exposure_places WHERE case_id = $1")
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
        insert_rows(
            &mut tx,
            self.backend(),
            "exposure_places (case_id, location_id, from_at, to_at, published_by, published_at, expires_at)",
            7,
            "",
            places,
            |q, p| {
                q.bind(case_id)
                    .bind(p.location_id)
                    .bind(p.window.from)
                    .bind(p.window.to)
                    .bind(actor.to_owned())
                    .bind(now)
                    .bind(expires_at)
            },
        )
        .await?;
        insert_audit(
            &mut tx,
            actor,
            "case.zones.publish",
            &format!("case:{case_id}"),
            &format!("{} places until {expires_at}", places.len()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Withdraws what was published for a case; returns how many places were withdrawn.
    pub async fn withdraw_exposures(&self, actor: &str, case_id: i64) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM exposure_places WHERE case_id = $1")
            .bind(case_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        insert_audit(
            &mut tx,
            actor,
            "case.zones.withdraw",
            &format!("case:{case_id}"),
            &format!("{n} places"),
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// The places published and not yet expired at `now`, in the given communes (`None`: all), the latest
    /// visit first.
    pub async fn exposure_places(
        &self,
        now: i64,
        communes: Option<&[String]>,
    ) -> Result<Vec<ExposurePlace>> {
        const SQL: &str = "SELECT e.location_id, l.name, l.kind, l.commune_code, l.lat, l.lon, e.from_at, e.to_at, \
             e.expires_at FROM exposure_places e JOIN locations l ON l.id = e.location_id WHERE e.expires_at > ";
        const ORDER: &str = " ORDER BY e.from_at DESC, e.id";
        let rows = match communes {
            None => {
                sqlx::query(AssertSqlSafe(format!("{SQL}$1{ORDER}")))
                    .bind(now)
                    .fetch_all(&self.read)
                    .await?
            }
            // `now` is a number we made, not input: inlined, because `fetch_in` binds only the list.
            Some(communes) => {
                let sql = format!("{SQL}{now} AND l.commune_code IN ({{in}}){ORDER}");
                self.fetch_in(&sql, communes).await?
            }
        };
        rows.iter().map(place_from_row).collect()
    }

    /// Deletes publications that expired before `now`: they are not shown and need not be kept.
    pub async fn purge_exposures(&self, now: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM exposure_places WHERE expires_at <= $1")
                .bind(now)
                .execute(&self.write)
                .await?
                .rows_affected(),
        )
    }
}

fn place_from_row(r: &AnyRow) -> Result<ExposurePlace> {
    let kind: String = r.try_get("kind")?;
    Ok(ExposurePlace {
        location_id: r.try_get("location_id")?,
        name: r.try_get("name")?,
        kind: LocationKind::parse(&kind)
            .map_err(|e| crate::StoreError::Corrupt(format!("location kind: {e}")))?,
        commune_code: r.try_get("commune_code")?,
        lat: r.try_get("lat")?,
        lon: r.try_get("lon")?,
        window: Span {
            from: r.try_get("from_at")?,
            to: r.try_get("to_at")?,
        },
        expires_at: r.try_get("expires_at")?,
    })
}
