//! The residents' pages: sign in with a one-time code, declare for self and family, see, download and print the
//! pass, own visits and own data; and the check-in page a venue poster's QR opens.

use super::{Viewer, alert, commune_select, layout, shown_time};
use crate::AppState;
use crate::auth::Staff;
use crate::routes::me;
use axum::extract::{Query, State};
use axum::response::Html;
use kiemdich_domain::RegistryRecord;
use kiemdich_domain::catalogue::{Common as C, Labelled as _, Lang, Resident as T};
use kiemdich_domain::declaration::{Exposure, Symptom, TravelMode};
use kiemdich_store::Role;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

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
) -> Markup {
    let n = |f: &str| format!("people.{i}.{f}");
    let id = |f: &str| format!("p{i}-{f}");
    let sex = me.map(|r| r.sex.as_str());
    html! {
        fieldset class="person" {
            legend { (l.t(T::Person)) " " span class="num" { (i) } }
            div class="grid2" {
                label { (l.t(C::CitizenId2)) input name=(n("citizen_id")) inputmode="numeric" autocomplete="off" value=[me.map(|r| r.citizen_id.to_string())]; }
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
                    label class="check" for=(id(e.as_str())) { input type="checkbox" id=(id(e.as_str())) name=(n("exposures")) value=(e.as_str()); (e.name(l)) }
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
                    label { (l.t(T::FromUnitCode)) input name=(n("travel.departure_unit")) list="units" inputmode="numeric"; }
                    label { (l.t(T::DepartureDate)) input name=(n("travel.departure_date")) type="date"; }
                    label { (l.t(T::ToUnitCode)) input name=(n("travel.destination_unit")) list="units" inputmode="numeric"; }
                }
            }
        }
    }
}

/// The declaration form for one person or a family; posts to `/api/v1/declarations` and shows the passes.
pub fn declaration_form(
    st: &AppState,
    l: Lang,
    me: Option<&RegistryRecord>,
    who: FormFor,
) -> Markup {
    let tree = st.units();
    html! {
        form data-api="/api/v1/declarations" data-then="declared" id="declare" {
            div id="people" { (person_fields(st, l, "0", me, who)) }
            template id="person-template" { (person_fields(st, l, "__i__", None, who)) }
            button type="button" class="secondary" data-add-person { (l.t(T::AddAFamilyMember)) }
            label class="check" for="consent" {
                input type="checkbox" id="consent" name="consent" value="true" data-bool required;
                (l.t(T::IDeclareThisIsTrueAnd))
            }
            (alert())
            button { (l.t(T::SubmitDeclaration)) }
        }
        datalist id="units" {
            @for u in tree.all() { option value=(u.code.as_str()) { (u.name) } }
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
            (alert())
            button { (l.t(C::SignIn)) }
        }
    }
}

fn pass_block(st: &AppState, l: Lang, pass: &Value) -> Markup {
    let id = pass["pass_id"].as_str().unwrap_or_default();
    let status = pass["status"].as_str().unwrap_or_default();
    html! {
        @if pass["live"].as_bool() == Some(true) {
            div class="qr" { img src={"/api/v1/passes/" (id) "/qr.svg"} alt=(l.t(T::PassQRCode)) width="320" height="320"; }
            p { (l.t(T::Status)) ": " span class={"status " (status)} { (status) } " · " (l.t(C::ValidUntil)) " " (shown_time(st, &pass["expires_at"])) }
            a class="button" href={"/api/v1/passes/" (id) "/qr.png"} download={"kiemdich-" (id) ".png"} { (l.t(T::DownloadQR)) }
            a class="button secondary" href={"/passes/" (id) "/card"} { (l.t(T::PrintCard)) }
        } @else {
            p { (l.t(T::YourLatestPassIsNoLonger)) }
        }
    }
}

/// `/`: a signed-in resident's page, or the sign-in steps.
pub async fn home(State(st): State<AppState>, v: Viewer) -> Html<String> {
    let l = v.lang;
    let title = l.t(T::HealthDeclaration);
    let Some(p) = v.with_role(&[Role::Resident]).cloned() else {
        return layout(&v, title, "/", sign_in(l), &["app.js"]);
    };
    let own_id = p
        .citizen_id
        .as_deref()
        .and_then(|c| kiemdich_domain::CitizenId::parse(c).ok());
    let record = match own_id {
        Some(id) => st.store.resident(&id).await.ok().flatten(),
        None => None,
    };
    let body = match me::me(State(st.clone()), Staff(p)).await {
        Ok(axum::Json(mine)) => {
            html! {
                @if let Some(notices) = mine["notices"].as_array().filter(|n| !n.is_empty()) {
                    h2 { (l.t(T::NoticesForMe)) }
                    ul {
                        @for n in notices {
                            li { (shown_time(&st, &n["at"])) ": " (n["text"].as_str().unwrap_or_default()) }
                        }
                    }
                }
                @if mine["pass"].is_object() {
                    h2 { (l.t(T::MyPass)) }
                    (pass_block(&st, l, &mine["pass"]))
                }
                h2 { (l.t(T::DeclareForMeAndMyFamily)) }
                (declaration_form(&st, l, record.as_ref(), FormFor::Resident))
                h2 { (l.t(T::MyVisits28Days)) }
                (visits_table(&st, l, &mine["visits"]))
                h2 { (l.t(T::MyData)) }
                dl {
                    dt { (l.t(C::Name)) } dd { (mine["full_name"].as_str().unwrap_or_default()) }
                    dt { (l.t(C::DateOfBirth)) } dd { (mine["date_of_birth"].as_str().unwrap_or_default()) }
                    dt { (l.t(T::Phone2)) } dd { (mine["phone"].as_str().unwrap_or("—")) }
                    dt { (l.t(C::Address)) } dd { (mine["address"].as_str().unwrap_or_default()) ", " (mine["commune_code"].as_str().unwrap_or_default()) }
                }
                p { a href="/api/v1/me" download="kiemdich-my-data.json" { (l.t(T::DownloadAllMyDataJSON)) } }
            }
        }
        Err(e) => html! { p class="alert" role="alert" { (e.message_in(l)) } },
    };
    layout(&v, title, "/", body, &["app.js"])
}

fn visits_table(st: &AppState, l: Lang, visits: &Value) -> Markup {
    let rows = visits.as_array().map(Vec::as_slice).unwrap_or_default();
    html! {
        @if rows.is_empty() {
            p class="muted" { (l.t(T::NoVisitsYet)) }
        } @else {
            table {
                thead { tr { th { (l.t(C::Time)) } th { (l.t(C::Place)) } th { (l.t(T::Way)) } th { (l.t(T::Result)) } } }
                tbody {
                    @for e in rows {
                        tr {
                            td { (shown_time(st, &e["at"])) }
                            td { (e["location"].as_str().unwrap_or_default()) }
                            td { (e["direction"].as_str().unwrap_or_default()) }
                            td { (e["decision"].as_str().unwrap_or_default()) }
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
