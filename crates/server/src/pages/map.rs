//! The staff map (`/map`): the jurisdiction's communes coloured by their official level (or the computed one),
//! cases counted per commune, the places linked to cases clustered by the server, and for health staff a case
//! search that flies to the case's places. A table beside the map holds the same figures.

use super::{Viewer, layout};
use crate::AppState;
use crate::services::case_map::{self, MAP_ROLES, WindowQuery};
use crate::services::health::HEALTH;
use axum::extract::{Query, State};
use axum::response::Html;
use kiemdich_domain::catalogue::{Labelled as _, Lang, Map as M, Script};
use kiemdich_domain::{CaseClass, UnitLevel};
use kiemdich_store::{CaseWindow, Principal};
use maud::{Markup, html};

pub async fn page(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<WindowQuery>,
) -> Html<String> {
    let l = v.lang;
    let title = l.t(M::StaffTitle);
    let who = match v.staff(MAP_ROLES, title, "/map") {
        Ok(p) => p,
        Err(page) => return page,
    };
    let dates = st.rules.dates_at(chrono::Utc::now().timestamp());
    let body = match q.parse(&dates) {
        Ok(window) => body(&st, l, &who, &window).await,
        Err(errors) => {
            html! { p role="alert" { (crate::error::ApiError::invalid(errors).message_in(l)) } a href="/map" { (l.t(M::Apply)) } }
        }
    };
    layout(&v, title, "/map", body, &scripts(&st))
}

async fn body(st: &AppState, l: Lang, who: &Principal, window: &CaseWindow) -> Markup {
    let cases = case_map::commune_cases(st, who, window).await;
    let extent = extent(st, who);
    let communes_url = format!("/api/v1/public/communes.geojson?unit={extent}");
    let levels = match kiemdich_domain::UnitCode::parse(&extent) {
        Ok(unit) => crate::services::risk::levels_on(st, &unit, window.to)
            .await
            .unwrap_or_default(),
        Err(_) => Default::default(),
    };
    let level = |code: &str,
                 pick: fn(
        &crate::services::risk::UnitLevels,
    ) -> Option<kiemdich_domain::risk::RiskLevel>| {
        let found = kiemdich_domain::UnitCode::parse(code)
            .ok()
            .and_then(|c| levels.get(&c))
            .and_then(pick);
        super::public::level_text(l, found.map(kiemdich_domain::risk::RiskLevel::get))
    };
    html! {
        link rel="stylesheet" href="/static/leaflet.css";
        (filter(l, window))
        fieldset {
            legend { (l.t(M::ShowLevels)) }
            label class="check" { input type="radio" name="map-mode" value="official" checked; (l.t(M::Official)) }
            label class="check" { input type="radio" name="map-mode" value="computed"; (l.t(M::Computed)) }
        }
        @if HEALTH.contains(&who.role) {
            form id="case-search" class="card" {
                label { (l.t(M::FindCase)) input name="q" required autocomplete="off"; }
                (super::alert())
                button { (l.t(M::Find)) }
            }
        }
        (legend(l))
        (map_box(st, l, &Sources {
            communes: &communes_url,
            districts: &format!("/api/v1/public/districts.geojson?unit={extent}"),
            places: None,
            cases: Some("/api/v1/map/communes"),
            marks: Some("/api/v1/map/places"),
            history: Some("/api/v1/risk-levels/history"),
        }))
        h2 { (l.t(M::LevelsTable)) }
        @match cases {
            Ok(rows) => div class="scroll" { table {
                thead { tr { th { (l.t(M::Commune)) } th { (l.t(M::Level)) } th { (l.t(M::ComputedLevel)) } th { (l.t(M::CasesInRange)) } } }
                tbody { @for r in &rows {
                    tr { td { (crate::services::people::unit_name(st, &r.code)) } td { (level(&r.code, |u| u.official)) } td { (level(&r.code, |u| u.computed)) } td { (r.cases) } }
                } }
            } },
            Err(e) => p role="alert" { (e.message_in(l)) },
        }
    }
}

/// The unit whose communes the map draws: the caller's province or district (a commune's staff see their
/// district around them).
fn extent(st: &AppState, who: &Principal) -> String {
    let tree = st.units();
    match tree.get(&who.unit) {
        Some(u) if u.level == UnitLevel::Commune => u
            .parent_code
            .as_ref()
            .map_or_else(|| who.unit.to_string(), ToString::to_string),
        _ => who.unit.to_string(),
    }
}

/// The date range and class the counts and places follow (a GET form: the page works without JavaScript).
fn filter(l: Lang, w: &CaseWindow) -> Markup {
    html! {
        form id="map-filter" method="get" action="/map" class="grid2" {
            label { (l.t(M::FromDay)) input type="date" name="from" value=(w.from); }
            label { (l.t(M::ToDay)) input type="date" name="to" value=(w.to); }
            label { (l.t(M::Class))
                select name="class" {
                    option value="" { (l.t(M::AllClasses)) }
                    @for c in CaseClass::ALL {
                        option value=(c.as_str()) selected[w.class == Some(*c)] { (c.name(l)) }
                    }
                }
            }
            div { button { (l.t(M::Apply)) } }
        }
    }
}

/// The colours of the four levels, in words beside each swatch.
pub fn legend(l: Lang) -> Markup {
    let levels = [
        ("green", Script::MapLevel1),
        ("yellow", Script::MapLevel2),
        ("orange", Script::MapLevel3),
        ("red", Script::MapLevel4),
        ("none", Script::MapLevelNone),
    ];
    html! {
        figure class="legend" {
            figcaption { (l.t(M::Legend)) }
            ul { @for (colour, text) in levels {
                li { span class={"swatch " (colour)} aria-hidden="true" {} (l.t(text)) }
            } }
        }
    }
}

/// The map pages' scripts: Leaflet, the PMTiles reader when the basemap is an archive, then the page's own.
pub fn scripts(st: &AppState) -> Vec<&'static str> {
    let pmtiles = st.basemap().is_some_and(crate::Basemap::is_pmtiles);
    let mut out = vec!["app.js", "leaflet.js"];
    if pmtiles {
        out.push("pmtiles.js");
    }
    out.push("map.js");
    out
}

/// Where the map reads its data (`data-*` attributes for `map.js`).
#[derive(Debug, Clone, Default)]
pub struct Sources<'a> {
    pub communes: &'a str,
    /// District borders drawn over the communes.
    pub districts: &'a str,
    /// Published exposure places (the public page).
    pub places: Option<&'a str>,
    /// Cases per commune, places linked to cases and a unit's level history (the staff map).
    pub cases: Option<&'a str>,
    pub marks: Option<&'a str>,
    pub history: Option<&'a str>,
}

/// The map's box, with a note for people without script (the tables below hold the same figures).
pub fn map_box(st: &AppState, l: Lang, s: &Sources<'_>) -> Markup {
    let basemap = st.basemap();
    html! {
        div id="map" role="region" aria-label=(l.t(M::MapLabel))
            data-basemap=[basemap.map(crate::Basemap::url)] data-basemap-pmtiles[basemap.is_some_and(crate::Basemap::is_pmtiles)]
            data-basemap-attribution=[basemap.map(|b| b.attribution.as_str())]
            data-communes=(s.communes) data-districts=(s.districts) data-places=[s.places] data-cases=[s.cases]
            data-marks=[s.marks] data-history=[s.history] data-staff[s.cases.is_some()] {}
        noscript { p { (l.t(M::WithoutJavaScript)) } }
    }
}
