//! The residents' pages: sign in with a one-time code, declare for self and family, see, download and print the
//! pass, own visits and own data; and the check-in page a venue poster's QR opens.

use super::certificate::{Size, own_link};
use super::{Viewer, alert, commune_select, layout, place_select};
use crate::AppState;
use crate::services::resident::{self, MyCase, MyRecord, PassView, VisitView};
use axum::extract::{Query, State};
use axum::response::Html;
use chrono::NaiveDate;
use kiemdich_domain::catalogue::fill;
use kiemdich_domain::catalogue::{
    Common as C, Dcc, HealthBook, Labelled as _, Lang, Resident as T, Testing,
};
use kiemdich_domain::declaration::{Exposure, Symptom, TravelMode};
use kiemdich_domain::{LocalClock, RegistryRecord};
use kiemdich_store::Role;
use maud::{Markup, html};
use serde::Deserialize;

/// One person's part of the declaration form; `i` is the index, or `__i__` inside the family template.
/// Who fills the declaration form: a resident (for themselves and their household) or staff at a desk.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FormFor {
    Resident,
    Staff,
}

fn person_fields(
    st: &AppState,
    l: Lang,
    i: &str,
    me: Option<&RegistryRecord>,
    who: FormFor,
    exposed: Option<NaiveDate>,
) -> Markup {
    let n = |f: &str| format!("people.{i}.{f}");
    let id = |f: &str| format!("p{i}-{f}");
    let sex = me.map(|r| r.sex.as_str());
    html! {
        fieldset class="person" {
            legend { (l.t(T::Person)) " " span class="num" { (i) } }
            div class="grid2" {
                label { (l.t(C::CitizenId2)) input name=(n("citizen_id")) inputmode="numeric" autocomplete="off" value=[me.map(|r| r.citizen_id.to_string())]
                    data-lookup[who == FormFor::Staff]; }
                label { (l.t(C::FullName)) input name=(n("full_name")) required value=[me.map(|r| r.full_name.as_str())]; }
                label { (l.t(C::DateOfBirth)) input name=(n("date_of_birth")) type="date" required value=[me.map(|r| r.date_of_birth.to_string())]; }
                label { (l.t(C::Sex))
                    select name=(n("sex")) required {
                        option value="" { "—" }
                        option value="M" selected[sex == Some("M")] { (l.t(T::Male)) }
                        option value="F" selected[sex == Some("F")] { (l.t(T::Female)) }
                    }
                }
                label { (l.t(T::Phone)) input name=(n("phone")) type="tel" autocomplete="off"; }
                (commune_select(st, &n("commune_code"), l.t(T::CommuneOfResidence), me.map(|r| r.commune_code.as_str())))
            }
            label { (l.t(T::AddressHouseStreetHamlet)) input name=(n("street")) value=[me.map(|r| r.address.as_str())]; }
            @if who == FormFor::Staff {
                label class="check" for=(id("identity_document_checked")) {
                    input type="checkbox" id=(id("identity_document_checked")) name=(n("identity_document_checked")) value="true" data-bool;
                    (l.t(T::IHaveSeenThisPersonsIdentity))
                }
            }
            fieldset {
                legend { (l.t(C::SymptomsInTheLast14Days)) }
                @for s in Symptom::ALL {
                    label class="check" for=(id(s.as_str())) { input type="checkbox" id=(id(s.as_str())) name=(n("symptoms")) value=(s.as_str()); (s.name(l)) }
                }
            }
            fieldset {
                legend { (l.t(C::ExposureInTheLast14Days)) }
                @for e in Exposure::ALL {
                    label class="check" for=(id(e.as_str())) { input type="checkbox" id=(id(e.as_str())) name=(n("exposures")) value=(e.as_str())
                        checked[exposed.is_some() && *e == Exposure::Proximity]; (e.name(l)) }
                }
                @if let Some(day) = exposed {
                    input type="hidden" name=(n("proximity_exposure_date")) value=(day.to_string());
                }
            }
            details {
                summary { (l.t(T::TravelIfAny)) }
                div class="grid2" {
                    label { (l.t(T::MeansOfTravel))
                        select name=(n("travel.mode")) {
                            option value="" { "—" }
                            @for m in TravelMode::ALL { option value=(m.as_str()) { (m.name(l)) } }
                        }
                    }
                    label { (l.t(T::VehicleNumber)) input name=(n("travel.vehicle_number")); }
                    (place_select(st, l, &n("travel.departure_unit"), l.t(T::FromUnitCode)))
                    label { (l.t(T::DepartureDate)) input name=(n("travel.departure_date")) type="date"; }
                    (place_select(st, l, &n("travel.destination_unit"), l.t(T::ToUnitCode)))
                }
            }
        }
    }
}

/// The declaration form for one person or a family; posts to `/api/v1/declarations` and shows the passes. Sent
/// again unchanged, it carries the same idempotency key (`withKey` in app.js): one declaration, the same answer.
/// `exposed`: the day of a proximity exposure the app reported, ticked for the first person only.
pub fn declaration_form(
    st: &AppState,
    l: Lang,
    me: Option<&RegistryRecord>,
    who: FormFor,
    exposed: Option<NaiveDate>,
) -> Markup {
    html! {
        form data-api="/api/v1/declarations" data-then="declared" data-idempotent id="declare" {
            div id="people" { (person_fields(st, l, "0", me, who, exposed)) }
            template id="person-template" { (person_fields(st, l, "__i__", None, who, None)) }
            button type="button" class="secondary" data-add-person { (l.t(T::AddAFamilyMember)) }
            label class="check" for="consent" {
                input type="checkbox" id="consent" name="consent" value="true" data-bool required;
                (l.t(T::IDeclareThisIsTrueAnd))
            }
            (alert())
            button { (l.t(T::SubmitDeclaration)) }
        }
        div id="result" aria-live="polite" {}
    }
}

/// The two steps of a resident's sign-in: ask for a code, then enter it.
fn sign_in(l: Lang) -> Markup {
    html! {
        p { (l.t(T::EnterYourCitizenIdToGet)) }
        form data-api="/api/v1/otp" data-then="otp" class="card" {
            label { (l.t(C::CitizenId)) input name="citizen_id" inputmode="numeric" autocomplete="off" required; }
            (alert())
            button { (l.t(T::SendCode)) }
        }
        form data-api="/api/v1/auth/resident" data-then="reload" id="code-step" class="card" hidden {
            input type="hidden" name="challenge_id" data-num;
            label { (l.t(T::Code6Digits)) input name="code" inputmode="numeric" autocomplete="one-time-code" required; }
            label class="check" { input type="checkbox" name="remember" data-bool; (l.t(T::RememberThisDevice)) }
            (alert())
            button { (l.t(C::SignIn)) }
        }
    }
}

/// A pass as its holder sees it: a large frame in the status colour with the colour's name and meaning, the
/// QR, the local expiry; saving it as an image (with the name, colour and expiry drawn in, by `app.js`) and
/// printing the card.
fn pass_block(st: &AppState, l: Lang, name: &str, pass: &PassView) -> Markup {
    let id = &pass.pass_id;
    let clock = st.rules.clock();
    html! {
        @if pass.live {
            div class={"pass " (pass.status.as_str())} data-pass-name=(name) data-pass-status=(pass.status.name(l))
                data-pass-until={(l.t(C::ValidUntil)) " " (clock.time(pass.expires_at.0))} {
                p class="pass-name" { (name) }
                p class="pass-colour" { (pass.status.name(l)) }
                @if let Some(v) = &pass.vaccination { p class="pass-vacc" { (v.describe(l)) } }
                div class="qr" { img src={"/api/v1/passes/" (id) "/qr.svg"} alt=(l.t(T::PassQRCode)) width="320" height="320"; }
                p { (l.t(C::ValidUntil)) " " strong { (clock.time(pass.expires_at.0)) } }
            }
            details open {
                summary { (l.t(T::WhatToDo)) }
                p { (l.t(pass.status.meaning())) }
            }
            a class="button" href={"/api/v1/passes/" (id) "/qr.png"} download={"kiemdich-" (id) ".png"} data-save-pass { (l.t(T::DownloadQR)) }
            a class="button secondary" href={"/passes/" (id) "/card"} { (l.t(T::PrintCard)) }
        } @else {
            p { (l.t(T::YourLatestPassIsNoLonger)) }
        }
    }
}

/// What an active case means for the person, replacing the declaration form.
fn case_banner(l: Lang, case: &MyCase) -> Markup {
    let status = case.classification.status();
    html! {
        section class={"banner " (status.as_str())} role="status" {
            h2 { (fill(l.t(T::BannerTitle), &[("class", case.classification.name(l))])) }
            p { (l.t(status.meaning())) }
            @if let Some(until) = case.quarantine_until {
                p { strong { (fill(l.t(T::BannerQuarantineUntil), &[("date", &LocalClock::date(until))])) } }
            }
            p { (l.t(T::BannerNoDeclaration)) }
            @if let Some(station) = &case.station {
                p { (fill(l.t(T::BannerStation), &[("station", &station.unit_name)])) " "
                    a class="button" href={"tel:" (station.phone.replace(' ', ""))} { (station.phone) } }
            }
            p { (fill(l.t(T::BannerCall), &[("hotline", &case.hotline)])) " "
                a class="button secondary" href={"tel:" (case.hotline.replace(' ', ""))} { (case.hotline) } }
        }
    }
}

/// `/?phoi-nhiem=YYYY-MM-DD`: the link a proximity-tracing app opens when it finds an exposure (the day the
/// matcher gave). Nothing else of the match is sent; the page shows what to do and the form with it ticked.
#[derive(Deserialize)]
pub struct HomeQuery {
    #[serde(rename = "phoi-nhiem")]
    exposed: Option<String>,
}

/// `/`: a signed-in resident's page, or the sign-in steps (the query survives signing in: the page reloads).
pub async fn home(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<HomeQuery>,
) -> Html<String> {
    let l = v.lang;
    let title = l.t(T::HealthDeclaration);
    let Some(p) = v.with_role(&[Role::Resident]).cloned() else {
        return layout(&v, title, "/", sign_in(l), &["app.js"]);
    };
    // A day that is not a past date is ignored: the resident can still tick the exposure by hand.
    let exposed = q.exposed.as_deref().and_then(|d| {
        st.rules
            .dates_at(chrono::Utc::now().timestamp())
            .parse(d, kiemdich_domain::input::DateBounds::past)
            .ok()
    });
    let samples = crate::services::testing::my_samples(&st, &p, l).await;
    let body = match (resident::my_record(&st, &p).await, samples) {
        (Ok(mine), Ok(samples)) => my_page(&st, l, &mine, &samples, exposed).await,
        (Err(e), _) | (_, Err(e)) => html! { p class="alert" role="alert" { (e.message_in(l)) } },
    };
    layout(&v, title, "/", body, &["app.js"])
}

async fn my_page(
    st: &AppState,
    l: Lang,
    mine: &MyRecord,
    samples: &[crate::services::testing::MySample],
    exposed: Option<NaiveDate>,
) -> Markup {
    let clock = st.rules.clock();
    let own = kiemdich_domain::CitizenId::parse(&mine.citizen_id).ok();
    let record = match own {
        Some(id) => st.store.resident(&id).await.ok().flatten(),
        None => None,
    };
    html! {
        @if let Some(case) = &mine.case { (case_banner(l, case)) }
        @if !mine.notices.is_empty() {
            h2 { (l.t(T::NoticesForMe)) }
            ul {
                @for n in &mine.notices { li { (clock.time(n.at.0)) ": " (n.text) } }
            }
        }
        @if let Some(pass) = &mine.pass {
            h2 { (l.t(T::MyPass)) }
            (pass_block(st, l, &mine.full_name, pass))
        }
        @if !mine.household.is_empty() {
            h2 { (l.t(T::HouseholdPasses)) }
            @for m in &mine.household {
                div class="card" {
                    @match &m.pass {
                        Some(pass) if pass.live => (pass_block(st, l, &m.full_name, pass)),
                        Some(_) => p { strong { (m.full_name) } " · " (l.t(T::PassNotValid)) },
                        None => p { strong { (m.full_name) } " · " (l.t(T::NoPassYet)) },
                    }
                }
            }
        }
        p { a class="button secondary" href="/me/health-book" { (l.t(HealthBook::OpenHealthBook)) } }
        h2 { (l.t(HealthBook::DailyUpdate)) }
        (super::health_book::update_form(l, "/api/v1/me/health-updates", "update", l.t(HealthBook::DailyUpdate)))
        @if mine.case.is_none() {
            h2 id="khai-bao" { (l.t(T::DeclareForMeAndMyFamily)) }
            @if let Some(day) = exposed {
                p class="alert" role="status" { (fill(l.t(T::ProximityExposureAdvice), &[("date", &LocalClock::date(day))])) }
            }
            (declaration_form(st, l, record.as_ref(), FormFor::Resident, exposed))
        }
        h2 { (l.t(T::MyVaccinations)) }
        p { (super::vaccination::state_line(l, &mine.vaccination)) }
        (super::vaccination::doses_table(l, &mine.doses))
        @if !mine.doses.is_empty() && st.dcc_signer().is_some() {
            p {
                (l.t(Dcc::CertificateHeading)) ": "
                a class="button secondary" href=(own_link(Size::A4)) { (l.t(Dcc::PrintA4)) }
                a class="button secondary" href=(own_link(Size::Pocket)) { (l.t(Dcc::PrintCard)) }
            }
        }
        h2 { (l.t(Testing::Samples)) }
        (samples_table(l, samples))
        h2 { (l.t(T::MyVisits28Days)) }
        (visits_table(st, l, &mine.visits))
        h2 { (l.t(T::MyData)) }
        dl {
            dt { (l.t(C::Name)) } dd { (mine.full_name) }
            dt { (l.t(C::DateOfBirth)) } dd { (LocalClock::date(mine.date_of_birth)) }
            dt { (l.t(T::Phone2)) } dd { (mine.phone.as_deref().unwrap_or("—")) }
            dt { (l.t(C::Address)) } dd { (mine.address) ", " (mine.commune_name) }
        }
        p { a href="/api/v1/me" download="kiemdich-my-data.json" { (l.t(T::DownloadAllMyDataJSON)) } }
        form data-api="/api/v1/me/sessions/end" data-then="home" data-confirm=(l.t(T::SignOutEverywhereQuestion)) {
            (alert())
            button class="secondary" { (l.t(T::SignOutEverywhere)) }
        }
    }
}

/// The resident's samples: the test, when it was taken, the result with its laboratory and time (Vietnam
/// time), or where it stands.
fn samples_table(l: Lang, samples: &[crate::services::testing::MySample]) -> Markup {
    html! {
        @if samples.is_empty() {
            p class="muted" { (l.t(Testing::NoSamples)) }
        } @else {
            table {
                thead { tr { th { (l.t(Testing::CollectedAt)) } th { "" } th { (l.t(Testing::Result)) } th { (l.t(Testing::Lab)) } th { (l.t(Testing::TestedAt)) } } }
                tbody {
                    @for s in samples {
                        tr {
                            td { (s.collected_local.as_deref().unwrap_or(l.t(Testing::NotCollectedYet))) }
                            td { (s.test_name) " · " (s.label) }
                            @match &s.result {
                                Some(r) => {
                                    td { strong { (r.result_name) } }
                                    td { (r.lab) }
                                    td { (r.tested_local) }
                                }
                                None => {
                                    td { (s.status_name) }
                                    td { "—" }
                                    td { "—" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn visits_table(st: &AppState, l: Lang, visits: &[VisitView]) -> Markup {
    let clock = st.rules.clock();
    html! {
        @if visits.is_empty() {
            p class="muted" { (l.t(T::NoVisitsYet)) }
        } @else {
            table {
                thead { tr { th { (l.t(C::Time)) } th { (l.t(C::Place)) } th { (l.t(T::Way)) } th { (l.t(T::Result)) } } }
                tbody {
                    @for e in visits {
                        tr {
                            td { (clock.time(e.at.0)) }
                            td { (e.location.as_deref().unwrap_or_default()) }
                            td { (e.direction.name(l)) }
                            td { (e.decision.name(l)) }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct CheckinQuery {
    code: Option<String>,
}

/// `/checkin?code=KDV1:…`: what a venue poster's QR opens on a resident's phone.
pub async fn checkin(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<CheckinQuery>,
) -> Html<String> {
    let l = v.lang;
    let title = l.t(T::CheckInAtAVenue);
    let code = q.code.unwrap_or_default();
    let place = match st.verifier().verify_venue(&code) {
        Ok(id) => st.store.location(id).await.ok().flatten(),
        Err(_) => None,
    };
    let Some(place) = place else {
        let body = html! { p class="alert" role="alert" { (l.t(T::ThisQRCodeIsNotA)) } };
        return layout(&v, title, "/checkin", body, &[]);
    };
    let body = html! {
        p { strong { (place.name) } br; (place.address) }
        @if v.with_role(&[Role::Resident]).is_some() {
            form data-api="/api/v1/me/checkins" data-then="checkin" class="card" {
                input type="hidden" name="code" value=(code);
                input type="hidden" name="idempotency_key" data-fresh-key;
                fieldset {
                    legend { (l.t(C::Direction)) }
                    label class="check" for="dir-in" { input type="radio" id="dir-in" name="direction" value="in" checked; (l.t(C::In)) }
                    label class="check" for="dir-out" { input type="radio" id="dir-out" name="direction" value="out"; (l.t(C::Out)) }
                }
                (alert())
                button { (l.t(T::Confirm)) }
            }
        } @else {
            (sign_in(l))
        }
    };
    layout(&v, title, "/checkin", body, &["app.js"])
}
