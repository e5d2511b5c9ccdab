//! The province's situation as the public sees it (`/public`): the official risk level of every commune and the
//! decision it comes from, new cases per district, and the published exposure places. No account and no personal
//! data: counts and places only.

use super::exposure::{ExposurePlaceView, public_places};
use crate::AppState;
use crate::error::ApiResult;
use kiemdich_domain::risk::{Figure, IsoWeek};
use kiemdich_domain::{CaseClass, UnitCode, UnitLevel};
use kiemdich_store::CaseWindow;
use serde::Serialize;
use std::collections::HashMap;

/// The whole page's data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Situation {
    pub province: String,
    pub day: chrono::NaiveDate,
    /// The decision the official levels come from (the latest in force), if any.
    pub decision: Option<DecisionRef>,
    pub districts: Vec<DistrictFigures>,
    pub places: Vec<ExposurePlaceView>,
}

/// A steering committee's decision, as the public page names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionRef {
    pub number: String,
    pub date: chrono::NaiveDate,
    pub issued_by: String,
    pub effective_from: chrono::NaiveDate,
}

/// One district: its official figures and its communes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DistrictFigures {
    pub code: String,
    pub name: String,
    pub level: Option<u8>,
    pub new_today: i64,
    pub new_7d: i64,
    /// Share of adults with at least one dose, when a figure exists.
    pub coverage: Option<f64>,
    pub communes: Vec<CommuneFigures>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommuneFigures {
    pub code: String,
    pub name: String,
    pub level: Option<u8>,
    pub cases_7d: i64,
}

/// Official levels by unit, the decision in force, and adult first-dose coverage by unit, as of a day.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OfficialLevels {
    pub levels: HashMap<UnitCode, u8>,
    pub decision: Option<DecisionRef>,
    pub coverage: HashMap<UnitCode, f64>,
}

/// The official levels in force on `day` in the province, the latest decision that set any of them, and
/// coverage (percent of adults with a first dose, 0–1) from the last full week's figures: a unit's own figure,
/// else its communes' weighted by their population figures.
pub async fn official_levels(
    st: &AppState,
    province: &UnitCode,
    day: chrono::NaiveDate,
) -> ApiResult<OfficialLevels> {
    let levels = super::risk::levels_on(st, province, day).await?;
    let decision = st
        .store
        .decisions(province)
        .await?
        .into_iter()
        .filter(|d| d.effective_from <= day)
        .max_by_key(|d| (d.effective_from, d.id))
        .map(|d| DecisionRef {
            number: d.number,
            date: d.date,
            issued_by: d.issued_by,
            effective_from: d.effective_from,
        });
    let figures = st.store.figures_for(IsoWeek::last_full(day)).await?;
    let tree = st.units();
    let mut coverage = HashMap::new();
    for unit in tree.all().filter(|u| u.level != UnitLevel::Commune) {
        let own = figures
            .get(&unit.code)
            .and_then(|f| f.get(&Figure::AdultFirstDosePct));
        let weighted = || {
            let (mut people, mut covered) = (0.0, 0.0);
            for c in tree
                .communes()
                .filter(|c| tree.contains(&unit.code, &c.code))
            {
                let Some(f) = figures.get(&c.code) else {
                    continue;
                };
                if let (Some(n), Some(pct)) = (
                    f.get(&Figure::Population),
                    f.get(&Figure::AdultFirstDosePct),
                ) {
                    people += n;
                    covered += n * pct;
                }
            }
            (people > 0.0).then(|| covered / people)
        };
        if let Some(pct) = own.copied().or_else(weighted) {
            coverage.insert(unit.code.clone(), pct / 100.0);
        }
    }
    Ok(OfficialLevels {
        levels: levels
            .into_iter()
            .filter_map(|(code, l)| Some((code, l.official?.get())))
            .collect(),
        decision,
        coverage,
    })
}

/// The situation today (Vietnam time): every district with its communes, by code.
pub async fn situation(st: &AppState) -> ApiResult<Situation> {
    let now = chrono::Utc::now().timestamp();
    let day = st.rules.tracing.local_date(now);
    let tree = st.units();
    let communes: Vec<String> = tree
        .all()
        .filter(|u| u.level == UnitLevel::Commune)
        .map(|u| u.code.to_string())
        .collect();
    let confirmed = |from| CaseWindow {
        from,
        to: day,
        class: Some(CaseClass::F0),
    };
    let week = st
        .store
        .cases_by_commune(&communes, &confirmed(day - chrono::Duration::days(6)))
        .await?;
    let today = st
        .store
        .cases_by_commune(&communes, &confirmed(day))
        .await?;
    let Some(province) = tree.province() else {
        return Err(crate::error::ApiError::not_found(
            "no province in the units",
        ));
    };
    let official = official_levels(st, &province.code, day).await?;
    let count =
        |m: &HashMap<String, i64>, code: &UnitCode| m.get(code.as_str()).copied().unwrap_or(0);
    let mut districts: Vec<DistrictFigures> = tree
        .all()
        .filter(|u| u.level == UnitLevel::District)
        .map(|d| {
            let communes: Vec<CommuneFigures> = tree
                .children(&d.code)
                .map(|c| CommuneFigures {
                    code: c.code.to_string(),
                    name: c.name.clone(),
                    level: official.levels.get(&c.code).copied(),
                    cases_7d: count(&week, &c.code),
                })
                .collect();
            DistrictFigures {
                code: d.code.to_string(),
                name: d.name.clone(),
                level: official.levels.get(&d.code).copied(),
                new_today: tree.children(&d.code).map(|c| count(&today, &c.code)).sum(),
                new_7d: communes.iter().map(|c| c.cases_7d).sum(),
                coverage: official.coverage.get(&d.code).copied(),
                communes,
            }
        })
        .collect();
    districts.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(Situation {
        province: province.name.clone(),
        day,
        decision: official.decision,
        districts,
        places: public_places(st).await?,
    })
}
