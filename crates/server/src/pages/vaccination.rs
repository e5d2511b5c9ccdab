//! Vaccination staff (health, vaccinator, admin): find a person of the jurisdiction by citizen id or name, see
//! their doses and state, and record a dose with pickers (vaccine by its Vietnamese name, dose n of m, date,
//! lot, a health location of the jurisdiction or a typed facility). The form posts to the API, whose field
//! errors show next to the fields. Officers see doses on their person view through [`doses_table`].

use super::certificate::{Size, staff_link};
use super::{Viewer, alert, layout};
use crate::AppState;
use crate::services::vaccination::{self as svc, DoseView, VaccinatedPerson};
use axum::extract::{Query, State};
use axum::response::Html;
use kiemdich_domain::catalogue::{Dcc, Lang, Resident as R, Vaccination as T, fill};
use kiemdich_domain::{DoseSource, LocalClock, VaccinationLevel, VaccinationState};
use kiemdich_store::{Principal, Role};
use maud::{Markup, html};
use serde::Deserialize;

/// Who may use the page: the writers (health, vaccinator, admin).
const STAFF: &[Role] = &[Role::Health, Role::Vaccinator, Role::Admin];

#[derive(Deserialize)]
pub struct VaccinationQuery {
    q: Option<String>,
}

pub async fn page(
    State(st): State<AppState>,
    v: Viewer,
    Query(query): Query<VaccinationQuery>,
) -> Html<String> {
    let l = v.lang;
    let title = l.t(T::VaccinationRecords);
    let p = match v.staff(STAFF, title, "/vaccination") {
        Ok(p) => p,
        Err(page) => return page,
    };
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let found = match q {
        Some(q) => Some(svc::find_people(&st, &p, q, l).await),
        None => None,
    };
    let sites = svc::sites(&st, &p).await;
    let body = html! {
        h2 id="find-h" { (l.t(T::FindAPerson)) }
        form method="get" action="/vaccination" role="search" {
            label { (l.t(T::CitizenIdOrName)) input type="search" name="q" value=[q] minlength="2" required; }
            button { (l.t(T::Find)) }
        }
        @match (&found, &sites) {
            (None, _) => {},
            (Some(Err(e)), _) | (_, Err(e)) => p class="alert" role="alert" { (e.message_in(l)) },
            (Some(Ok(people)), Ok(sites)) => {
                @if people.is_empty() { p class="muted" { (l.t(T::NobodyFound)) } }
                @for person in people { (person_card(&st, l, &p, person, sites)) }
            },
        }
    };
    layout(&v, title, "/vaccination", body, &["app.js"])
}

/// One person: name, birth year, commune, state, doses, and the form to record the next one.
fn person_card(
    st: &AppState,
    l: Lang,
    who: &Principal,
    found: &VaccinatedPerson,
    sites: &[(i64, String)],
) -> Markup {
    let person = &found.person;
    let id = &person.citizen_id;
    html! {
        section class="card" aria-labelledby={"p-" (id)} {
            h3 id={"p-" (id)} { (person.display_name()) }
            p class="muted" {
                span class="mono" { (id) }
                @if let Some(y) = person.birth_year { " · " (y) }
                " · " (person.commune_name)
            }
            p { strong { (l.t(T::State)) ": " } (state_line(l, &found.state)) }
            @if !found.state.rule_confirmed { p class="muted" { (l.t(T::RuleAwaitingConfirmation)) } }
            h4 { (l.t(T::Doses)) }
            (doses_table(l, &found.doses))
            @if crate::services::dcc::ISSUERS.contains(&who.role) && !found.doses.is_empty() && st.dcc_signer().is_some() {
                p {
                    (l.t(Dcc::CertificateHeading)) ": "
                    a class="button secondary" href=(staff_link(id.as_str(), Size::A4)) { (l.t(Dcc::PrintA4)) }
                    a class="button secondary" href=(staff_link(id.as_str(), Size::Pocket)) { (l.t(Dcc::PrintCard)) }
                }
            }
            @if STAFF.contains(&who.role) {
                h4 { (l.t(T::RecordADose)) }
                (dose_form(st, l, id, found.doses.len(), sites))
            }
        }
    }
}

/// The state in one line, as residents read it too.
pub fn state_line(l: Lang, s: &VaccinationState) -> String {
    let date = |d: Option<chrono::NaiveDate>| d.map(LocalClock::date).unwrap_or_default();
    match s.level {
        VaccinationLevel::None => l.t(R::NoDosesYet).to_owned(),
        VaccinationLevel::Partial => fill(l.t(R::PartlyVaccinated), &[("n", &s.doses.to_string())]),
        VaccinationLevel::Completed => fill(
            l.t(R::FullyVaccinatedFrom),
            &[("date", &date(s.fully_vaccinated_from))],
        ),
        VaccinationLevel::Full => fill(
            l.t(R::FullyVaccinatedSince),
            &[("date", &date(s.fully_vaccinated_from))],
        ),
    }
}

fn source_name(l: Lang, s: DoseSource) -> &'static str {
    match s {
        DoseSource::Entered => l.t(T::SourceEntered),
        DoseSource::Csv => l.t(T::SourceCsv),
        DoseSource::Fhir => l.t(T::SourceFhir),
    }
}

/// A person's doses: vaccine (its Vietnamese name first), dose n of m, date (dd/mm/yyyy), lot, site, country.
pub fn doses_table(l: Lang, doses: &[DoseView]) -> Markup {
    html! {
        @if doses.is_empty() {
            p class="muted" { (l.t(R::NoDosesYet)) }
        } @else {
            // Wider than a phone: the region scrolls, so it takes the keyboard's focus (axe).
            div class="scroll" tabindex="0" role="region" aria-label=(l.t(T::Doses)) {
                table {
                    thead { tr {
                        th { (l.t(R::VaccineColumn)) } th { (l.t(R::DoseColumn)) } th { (l.t(R::DateColumn)) }
                        th { (l.t(T::Lot)) } th { (l.t(R::SiteColumn)) } th { (l.t(T::Country)) } th { (l.t(T::Source)) }
                    } }
                    tbody {
                        @for d in doses {
                            tr {
                                td { (d.product_name) }
                                td { (fill(l.t(T::DoseNOfM), &[("n", &d.dose_number.to_string()), ("m", &d.series_doses.to_string())])) }
                                td { (LocalClock::date(d.date)) }
                                td { (d.lot.as_deref().unwrap_or("—")) }
                                td { (d.site.as_deref().unwrap_or("—")) }
                                td { (d.country) }
                                td { (source_name(l, d.source)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The form to record a dose: posts JSON to the API and reloads on success; field errors show at each field.
fn dose_form(
    st: &AppState,
    l: Lang,
    citizen: &str,
    given: usize,
    sites: &[(i64, String)],
) -> Markup {
    let today = svc::today(st).to_string();
    let next = (given + 1).min(9);
    let countries = &kiemdich_domain::vaccination::value_sets().countries;
    let mut countries: Vec<(&String, &str)> = countries
        .value_set_values
        .iter()
        .map(|(code, e)| (code, e.display.as_str()))
        .collect();
    countries.sort_by_key(|(code, name)| (code.as_str() != "VN", *name));
    html! {
        form data-api={"/api/v1/residents/" (citizen) "/vaccinations"} data-then="reload" class="grid2" {
            label { (l.t(T::Vaccine))
                select name="product" required {
                    option value="" { "—" }
                    @for (mp, name, series) in svc::products(l) {
                        option value=(mp) data-series=(series) { (name) }
                    }
                }
            }
            label { (l.t(T::DoseNumber))
                select name="dose_number" data-num required {
                    @for n in 1..=9usize { option value=(n) selected[n == next] { (n) } }
                }
            }
            label { (l.t(T::SeriesDoses))
                select name="series_doses" data-num {
                    option value="" { "—" }
                    @for n in 1..=9 { option value=(n) { (n) } }
                }
            }
            label { (l.t(T::DateGiven)) input type="date" name="date" max=(today) required; }
            label { (l.t(T::Lot)) input name="lot" maxlength="40" autocomplete="off"; }
            label { (l.t(T::HealthLocation))
                select name="location_id" data-num {
                    option value="" { "—" }
                    @for (id, name) in sites { option value=(id) { (name) } }
                }
            }
            label { (l.t(T::OrFacilityName)) input name="site" maxlength="160"; }
            label { (l.t(T::Country))
                select name="country" {
                    @for (code, name) in &countries { option value=(code) { (code) " · " (name) } }
                }
            }
            (alert())
            button { (l.t(T::Save)) }
        }
    }
}
