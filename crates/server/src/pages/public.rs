//! The public page (`/public`): the communes' official risk levels on a map and in a table, new cases per
//! district, and the exposure places with their times. No account, nothing personal; the same for everyone, so
//! that browsers and proxies may cache it for a minute.

use super::{Viewer, layout};
use crate::AppState;
use crate::public::Cached;
use crate::services::public::{self, Situation};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kiemdich_domain::LocalClock;
use kiemdich_domain::catalogue::{Lang, Map as M, Script, fill};
use maud::{Markup, html};
use std::sync::Arc;

pub async fn page(State(st): State<AppState>, v: Viewer, headers: HeaderMap) -> Response {
    // The page is the same for everyone: it never shows who is signed in.
    let v = Viewer {
        who: None,
        unit_name: None,
        ..v
    };
    let l = v.lang;
    let render = async || -> crate::error::ApiResult<Option<Arc<Cached>>> {
        let situation = public::situation(&st).await?;
        let title = format!("{} · {}", l.t(M::PublicTitle), situation.province);
        let body = body(&st, l, &situation);
        let page = layout(&v, &title, "/public", body, &super::map::scripts(&st));
        let bytes = page.0.into_bytes();
        let cached =
            tokio::task::spawn_blocking(move || Cached::new("text/html; charset=utf-8", bytes))
                .await
                .map_err(crate::error::ApiError::internal)?
                .map_err(crate::error::ApiError::internal)?;
        Ok(Some(Arc::new(cached)))
    };
    // Rendered once per language for a while (a decision or a publication clears it): one server, a province.
    match st.public_pages.get_or_load(&l, render).await {
        Ok(Some(page)) => page.answer(&headers),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => v.failed()(e).into_response(),
    }
}

fn body(st: &AppState, l: Lang, s: &Situation) -> Markup {
    let clock = st.rules.clock();
    html! {
        link rel="stylesheet" href="/static/leaflet.css";
        p { (l.t(M::PublicIntro)) }
        p { strong { @match &s.decision {
            Some(d) => (fill(l.t(M::DecisionInForce), &[
                ("number", d.number.as_str()),
                ("date", LocalClock::date(d.date).as_str()),
                ("issued_by", d.issued_by.as_str()),
                ("from", LocalClock::date(d.effective_from).as_str()),
            ])),
            None => (l.t(M::NoDecision)),
        } } }
        (super::map::legend(l))
        (super::map::map_box(st, l, &super::map::Sources {
            communes: "/api/v1/public/communes.geojson",
            districts: "/api/v1/public/districts.geojson",
            places: Some("/api/v1/public/exposure-places"),
            ..Default::default()
        }))
        h2 id="places" { (l.t(M::ExposurePlaces)) }
        p { (l.t(M::ExposureAdvice)) " " a href="/" { (l.t(M::DeclareNow)) } }
        @if s.places.is_empty() {
            p class="muted" { (l.t(M::NoExposurePlaces)) }
        } @else {
            div class="scroll" { table {
                thead { tr { th { (l.t(M::Place)) } th { (l.t(M::Commune)) } th { (l.t(M::When)) } } }
                tbody { @for p in &s.places {
                    tr { td { (p.location) } td { (p.commune) } td { (clock.span(p.from.0, p.to.0)) } }
                } }
            } }
        }
        h2 { (l.t(M::DistrictsTable)) }
        div class="scroll" { table {
            thead { tr { th { (l.t(M::District)) } th { (l.t(M::Level)) } th { (l.t(M::NewToday)) } th { (l.t(M::New7Days)) } th { (l.t(M::Coverage)) } } }
            tbody { @for d in &s.districts {
                tr { td { (d.name) } td { (level_text(l, d.level)) } td { (d.new_today) } td { (d.new_7d) }
                     td { @match d.coverage { Some(c) => (format!("{:.0}%", c * 100.0).replace('.', ",")), None => span class="muted" { (l.t(M::NoFigure)) } } } }
            } }
        } }
        h2 { (l.t(M::LevelsTable)) }
        div class="scroll" { table {
            thead { tr { th { (l.t(M::Commune)) } th { (l.t(M::Level)) } th { (l.t(M::New7Days)) } } }
            @for d in &s.districts {
                tbody {
                    tr { th colspan="3" scope="colgroup" { (d.name) } }
                    @for c in &d.communes {
                        tr { td { (c.name) } td { (level_text(l, c.level)) } td { (c.cases_7d) } }
                    }
                }
            }
        } }
    }
}

/// A level as words ("Cấp 2 – nguy cơ trung bình (vàng)"), or that there is none yet.
pub fn level_text(l: Lang, level: Option<u8>) -> &'static str {
    l.t(match level {
        Some(1) => Script::MapLevel1,
        Some(2) => Script::MapLevel2,
        Some(3) => Script::MapLevel3,
        Some(4) => Script::MapLevel4,
        _ => Script::MapLevelNone,
    })
}
