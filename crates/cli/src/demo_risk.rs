//! The demo's risk levels: a decision of the provincial steering committee for the current week with the
//! communes spread as Sóc Trăng's were on 20 Nov 2021 (49 / 34 / 26 of 109 at levels 1 / 2 / 3), the official
//! population and coverage of the communes, and a few capacity checklists, so that the risk page and the map
//! show every feature. Re-running on the same data adds nothing.

use crate::Result;
use crate::synth::Rng;
use kiemdich_domain::risk::Figure;
use kiemdich_domain::{IsoWeek, RiskLevel, RiskRules, Rules, UnitLevel};
use kiemdich_store::{DecisionLevel, FigureRow, NewDecision, Store};

/// The demo decision's number, by which a re-run finds it.
const NUMBER: &str = "DEMO/QĐ-BCĐ";

pub async fn seed(store: &Store, seed: u64) -> Result<()> {
    let units = store.units().await.map_err(|e| e.to_string())?;
    let Some(province) = units.iter().find(|u| u.level == UnitLevel::Province) else {
        return Ok(());
    };
    let existing = store
        .decisions(&province.code)
        .await
        .map_err(|e| e.to_string())?;
    if existing.iter().any(|d| d.number == NUMBER) {
        return Ok(());
    }
    let mut communes: Vec<_> = units
        .iter()
        .filter(|u| u.level == UnitLevel::Commune)
        .collect();
    communes.sort_by(|a, b| a.code.cmp(&b.code));
    let n = communes.len();
    if n == 0 {
        return Ok(());
    }
    let rules = Rules::default();
    let today = rules.tracing.local_date(chrono::Utc::now().timestamp());
    let week = IsoWeek::of(today);
    let mut rng = Rng::new(seed ^ 0x5249_534b);
    // Shuffled, then 49/109 at level 1, 34/109 at level 2, the rest at level 3.
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let (ones, twos) = (n * 49 / 109, n * 34 / 109);
    let level = |rank: usize| match rank {
        r if r < ones => 1,
        r if r < ones + twos => 2,
        _ => 3,
    };
    let levels: Vec<DecisionLevel> = order
        .iter()
        .enumerate()
        .map(|(rank, &i)| {
            Ok(DecisionLevel {
                unit: communes[i].code.clone(),
                level: RiskLevel::new(level(rank))?,
            })
        })
        .collect::<std::result::Result<_, String>>()?;
    let decision = NewDecision {
        number: NUMBER.into(),
        date: week.monday(),
        issued_by: format!(
            "Ban Chỉ đạo phòng, chống dịch COVID-19 {} (minh hoạ)",
            province.name
        ),
        effective_from: week.monday(),
        province: province.code.clone(),
        levels,
    };
    store
        .record_decision(&decision, "demo")
        .await
        .map_err(|e| e.to_string())?;
    // Figures: an official population for every commune, coverage for most, patients on oxygen for a few.
    let mut figures = Vec::new();
    let fig = |unit: &kiemdich_domain::UnitCode, figure, period, value| FigureRow {
        unit_code: unit.clone(),
        figure,
        period,
        value,
        source: "Số liệu minh hoạ (demo)".into(),
    };
    for (i, c) in communes.iter().enumerate() {
        figures.push(fig(
            &c.code,
            Figure::Population,
            None,
            6_000.0 + rng.below(14_000) as f64,
        ));
        if i % 10 != 9 {
            let base = 55.0 + rng.below(40) as f64;
            figures.push(fig(&c.code, Figure::AdultFirstDosePct, None, base));
            figures.push(fig(
                &c.code,
                Figure::Over50FullPct,
                None,
                (base + 5.0).min(99.0),
            ));
            figures.push(fig(&c.code, Figure::PopulationFullPct, None, base - 5.0));
            figures.push(fig(
                &c.code,
                Figure::VulnerableFullPct,
                None,
                (base + 10.0).min(99.0),
            ));
        }
        if i % 7 == 0 {
            figures.push(fig(
                &c.code,
                Figure::OxygenPatients,
                Some(week.previous()),
                rng.below(4) as f64,
            ));
        }
    }
    store
        .put_figures(&figures, "demo")
        .await
        .map_err(|e| e.to_string())?;
    // Checklists for a handful of communes, one with an item unmet.
    let risk = RiskRules::shipped()?;
    if let Some(set) = risk.for_week(week.previous()) {
        for (i, c) in communes.iter().take(6).enumerate() {
            let answers = set
                .capacity_checklist
                .iter()
                .enumerate()
                .map(|(j, item)| (item.id.clone(), !(i == 0 && j == 0)))
                .collect();
            store
                .put_checklist(&c.code, week.previous(), &answers, "demo")
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
