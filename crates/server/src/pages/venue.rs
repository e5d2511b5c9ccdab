//! Venue owners: register a venue, print its check-in poster, and see entries per hour (counts, never names).

use super::print::{self, PosterView};
use super::{PageError, Viewer, alert, commune_select, layout};
use crate::AppState;
use crate::error::ApiError;
use crate::qr;
use crate::routes::locations::{DayQuery, location_in_reach};
use crate::services::venue::{self, HourlyCounts};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Html;
use kiemdich_domain::catalogue::{
    Admission as A, Common as C, Labelled as _, Lang, Print as P, Venue as T,
};
use kiemdich_domain::{LocalClock, LocationKind, UnitCode};
use kiemdich_store::{Location, Role};
use maud::{Markup, html};
use serde::Deserialize;

const VENUE_ROLES: &[Role] = &[Role::Venue, Role::Officer, Role::Admin];

/// The location registration form; venue owners get the kinds they may register.
pub(crate) fn location_form(st: &AppState, l: Lang, owner_only: bool) -> Markup {
    let kinds = if owner_only {
        LocationKind::OWNER_REGISTERED
    } else {
        LocationKind::ALL
    };
    html! {
        form data-api="/api/v1/locations" data-then="reload" class="card" {
            label { (l.t(T::Name)) input name="name" required maxlength="200"; }
            label { (l.t(C::Kind))
                select name="kind" required { @for k in kinds { option value=(k.as_str()) { (k.name(l)) } } }
            }
            (commune_select(st, "commune_code", l.t(T::Commune), None))
            label { (l.t(C::Address)) input name="address" maxlength="300"; }
            div class="grid2" {
                label { (l.t(T::Latitude)) input name="lat" inputmode="decimal" data-num required placeholder="9,60"; }
                label { (l.t(T::Longitude)) input name="lon" inputmode="decimal" data-num required placeholder="105,97"; }
                button type="button" class="secondary" data-locate { (l.t(T::UseMyLocation)) }
            }
            label { (l.t(T::Operator)) input name="operator" maxlength="200"; }
            (vaccination_picker(st, l))
            (alert())
            button { (l.t(T::Register)) }
        }
    }
}

/// The vaccination a place requires beside an admitted colour: the kind's default, none, or one of the rules'
/// presets. Each option's value is the requirement as the API takes it (`data-json`).
fn vaccination_picker(st: &AppState, l: Lang) -> Markup {
    let none = serde_json::json!({"min_doses": 0}).to_string();
    html! {
        label { (l.t(A::VaccinationRequirement))
            select name="vaccination" data-json {
                option value="" { (l.t(A::KindDefault)) }
                option value=(none) { (l.t(A::NoRequirement)) }
                @for r in &st.rules.vaccination_presets {
                    option value=(serde_json::to_string(r).unwrap_or_default()) { (r.describe(l)) }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct VenueQuery {
    counts: Option<i64>,
    date: Option<String>,
}

pub async fn page(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<VenueQuery>,
) -> Result<Html<String>, PageError> {
    let l = v.lang;
    let title = l.t(T::Venues);
    let p = match v.staff(VENUE_ROLES, title, "/venue") {
        Ok(p) => p,
        Err(page) => return Ok(page),
    };
    let venues: Vec<Location> = if p.role == Role::Venue {
        st.store.locations_owned_by(&p.actor).await
    } else {
        st.store.locations_in(&st.units_within(&p.unit)).await
    }
    .map_err(v.failed())?;
    let counts = match q.counts {
        Some(id) => {
            let day = DayQuery {
                date: q.date.clone(),
            }
            .day();
            let got = match day {
                Ok(day) => venue::hourly_counts(&st, &p, id, day).await,
                Err(e) => Err(e),
            };
            Some(match got {
                Ok(c) => counts_table(&st, l, &c),
                Err(e) => html! { p class="alert" role="alert" { (e.message_in(l)) } },
            })
        }
        None => None,
    };
    let body = html! {
        h2 { (l.t(T::YourVenues)) }
        @if venues.is_empty() { p class="muted" { (l.t(T::NoVenuesYet)) } }
        @for place in &venues {
            div class="card" {
                strong { (place.name) } " · " (place.kind.name(l)) br;
                span class="muted" { (place.address) }
                br;
                a class="button" href={"/venue/" (place.id) "/poster"} { (l.t(T::PrintQRPoster)) }
                a class="button secondary" href={"/venue?counts=" (place.id)} { (l.t(T::EntriesPerHour)) }
            }
        }
        @if let Some(c) = counts { (c) }
        h2 { (l.t(T::RegisterAVenue)) }
        (location_form(&st, l, p.role == Role::Venue))
    };
    Ok(layout(&v, title, "/venue", body, &["app.js"]))
}

fn counts_table(st: &AppState, l: Lang, c: &HourlyCounts) -> Markup {
    let clock = st.rules.clock();
    html! {
        table {
            caption { (l.t(T::EntriesPerHourOn)) " " (LocalClock::date(c.date)) }
            thead { tr { th { (l.t(T::Hour)) } th { (l.t(T::Entries)) } } }
            tbody {
                @for h in &c.hours { tr { td { (clock.hour(h.hour.0)) } td { (h.entries) } } }
            }
        }
        @if c.hours.is_empty() { p class="muted" { (l.t(T::NoEntries)) } }
    }
}

/// The printable poster: the venue's signed code inside a check-in link, and how to use it.
pub async fn poster(
    State(st): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> Result<Html<String>, (StatusCode, Html<String>)> {
    let l = v.lang;
    let p = v
        .staff(VENUE_ROLES, l.t(P::PosterDocTitle), "/venue")
        .map_err(|login| (StatusCode::OK, login))?;
    let problem = |status, message: &str| (status, Html(print::poster_problem(l, message)));
    let place = location_in_reach(&st, &p, id)
        .await
        .map_err(|e| problem(e.status(), &e.message_in(l)))?;
    let key = st
        .signer()
        .ok_or_else(|| problem(StatusCode::SERVICE_UNAVAILABLE, l.t(P::PosterNoSigningKey)))?;
    let code = kiemdich_pass::sign_venue(place.id, &key);
    // From the configured public URL, never from the request: a forged Host header must not print a
    // poster that sends every visitor elsewhere.
    let origin = st.public_url().map_or("http://localhost", |u| u.origin());
    let link = format!("{origin}/checkin?code={code}");
    let svg = qr::svg(&link).map_err(|e| {
        problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            &ApiError::internal(e).message_in(l),
        )
    })?;
    let units = st.units();
    let commune = UnitCode::parse(&place.commune_code)
        .ok()
        .and_then(|c| units.get(&c).map(|u| u.name.clone()));
    let view = PosterView {
        name: &place.name,
        kind: Some(place.kind),
        address: &place.address,
        commune: commune.as_deref(),
        link: &link,
        qr_svg: &svg,
    };
    Ok(Html(print::poster(l, &st.authority(), &view)))
}
