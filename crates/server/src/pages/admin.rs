//! Administrators: staff accounts, locations, scanning devices and signing keys.

use super::venue::location_form;
use super::{PageError, Viewer, alert, layout};
use crate::AppState;
use crate::services::people::unit_name;
use axum::extract::State;
use axum::response::Html;
use kiemdich_domain::catalogue::{
    Admin as T, Admission as A, Common as C, Labelled as _, Lang, fill,
};
use kiemdich_domain::{UnitCode, VaccinationRequirement};
use kiemdich_store::{Location, Role, StaffSummary, keyring};
use maud::{Markup, html};

/// The roles an administrator gives to accounts and devices.
/// An integration role is a system's token, made with `kiemdich token`, never a person's account.
const GRANTABLE: [Role; 7] = [
    Role::Officer,
    Role::Checkpoint,
    Role::Health,
    Role::Vaccinator,
    Role::Lab,
    Role::Venue,
    Role::Admin,
];

fn role_select(l: Lang, only: &[Role]) -> Markup {
    html! {
        label { (l.t(T::Role))
            select name="role" required {
                @for r in GRANTABLE.iter().filter(|r| only.is_empty() || only.contains(r)) {
                    option value=(r.as_str()) { (r.name(l)) }
                }
            }
        }
    }
}

/// A picker of the units an administrator may grant, by name: their own unit first (chosen), then each unit
/// inside it, a unit with units of its own as a group with them.
fn unit_picker(st: &AppState, l: Lang, own: &UnitCode) -> Markup {
    let tree = st.units();
    let name = |code: &UnitCode| unit_name(st, code.as_str());
    let children = |code: &UnitCode| {
        let mut units: Vec<_> = tree.children(code).collect();
        units.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
        units
    };
    html! {
        label { (l.t(T::UnitOfTheJurisdiction))
            select name="unit_code" required {
                option value=(own.as_str()) selected { (name(own)) }
                @for u in children(own) {
                    @let below = children(&u.code);
                    @if below.is_empty() {
                        option value=(u.code.as_str()) { (name(&u.code)) }
                    } @else {
                        optgroup label=(u.name) {
                            option value=(u.code.as_str()) { (name(&u.code)) }
                            @for c in below { option value=(c.code.as_str()) { (name(&c.code)) } }
                        }
                    }
                }
            }
        }
    }
}

/// A staff account's row: its role and unit by name, its state, and the administrator's actions on it, each
/// destructive one asking first.
fn staff_row(st: &AppState, l: Lang, s: &StaffSummary) -> Markup {
    let id = s.id;
    let who = [("username", s.username.as_str())];
    html! {
        tr {
            td { (s.username) }
            td { (s.role.name(l)) }
            td { (unit_name(st, s.unit_code.as_str())) }
            td { (if s.disabled_at.is_some() { l.t(T::Disabled) } else { l.t(T::Active) }) }
            td {
                @if s.disabled_at.is_some() {
                    form data-api=(format!("/api/v1/staff/{id}/enable")) data-then="reload" {
                        (alert())
                        button class="secondary" { (l.t(T::EnableAccount)) }
                    }
                } @else {
                    form data-api=(format!("/api/v1/staff/{id}/disable")) data-then="reload"
                        data-confirm=(fill(l.t(T::ConfirmDisable), &who)) {
                        (alert())
                        button class="secondary" { (l.t(T::DisableAccount)) }
                    }
                }
                details {
                    summary { (l.t(T::ResetPassword)) }
                    form data-api=(format!("/api/v1/staff/{id}/password")) data-then="done"
                        data-done=(l.t(T::PasswordWasReset))
                        data-confirm=(fill(l.t(T::ConfirmResetPassword), &who)) {
                        label { (l.t(T::NewPasswordAtLeast10Characters))
                            input name="password" type="password" required minlength="10" autocomplete="new-password"; }
                        (alert())
                        button { (l.t(T::ResetPassword)) }
                    }
                }
            }
        }
    }
}

pub async fn page(State(st): State<AppState>, v: Viewer) -> Result<Html<String>, PageError> {
    let l = v.lang;
    let title = l.t(T::Administration);
    let p = match v.staff(&[Role::Admin], title, "/admin") {
        Ok(p) => p,
        Err(page) => return Ok(page),
    };
    let units = st.units_within(&p.unit);
    let staff = st.store.staff_in(&units).await.map_err(v.failed())?;
    let devices = st.store.devices_in(&units).await.map_err(v.failed())?;
    let locations: Vec<Location> = st.store.locations_in(&units).await.map_err(v.failed())?;
    let clock = st.rules.clock();
    let keys = keyring::trust_list(&st.store, &st.issuer)
        .await
        .map_err(v.failed())?
        .keys;
    let body = html! {
        nav aria-label=(l.t(T::AdminSections)) {
            a href="#staff" { (l.t(T::Accounts)) } " · " a href="#locations" { (l.t(T::Locations)) } " · "
            a href="#devices" { (l.t(T::Devices)) } " · " a href="#keys" { (l.t(T::SigningKeys)) }
        }
        h2 id="staff" { (l.t(T::StaffAccounts)) }
        div class="scroll" {
            table {
                thead { tr { th { (l.t(C::Username)) } th { (l.t(T::Role)) } th { (l.t(C::Unit)) } th { (l.t(T::State)) } th { (l.t(T::Actions)) } } }
                tbody { @for s in &staff { (staff_row(&st, l, s)) } }
            }
        }
        form data-api="/api/v1/staff" data-then="reload" class="card" {
            label { (l.t(C::Username)) input name="username" required autocomplete="off"; }
            label { (l.t(T::PasswordAtLeast10Characters)) input name="password" type="password" required minlength="10" autocomplete="new-password"; }
            (role_select(l, &[]))
            (unit_picker(&st, l, &p.unit))
            (alert())
            button { (l.t(T::CreateAccount)) }
        }
        h2 id="locations" { (l.t(T::Locations)) }
        div class="scroll" {
            table {
                thead { tr { th { "#" } th { (l.t(T::Name)) } th { (l.t(C::Kind)) } th { (l.t(C::Commune)) } th { (l.t(T::Admits)) } th { (l.t(A::VaccinationRequirement)) } } }
                tbody { @for x in &locations { tr { td { (x.id) } td { (x.name) } td { (x.kind.name(l)) } td { (unit_name(&st, &x.commune_code)) } td { (x.admits.iter().map(|s| s.name(l)).collect::<Vec<_>>().join(", ")) } td { (VaccinationRequirement::describe_or_none(x.vaccination.as_ref(), l)) } } } }
            }
        }
        (location_form(&st, l, false))
        h2 id="devices" { (l.t(T::ScanningDevices)) }
        div class="scroll" {
            table {
                thead { tr { th { "#" } th { (l.t(T::Name)) } th { (l.t(T::Role)) } th { (l.t(C::Unit)) } th { (l.t(C::Location)) } th { (l.t(T::State)) } th { (l.t(T::Actions)) } } }
                tbody {
                    @for d in &devices {
                        @let place = d.location_id.and_then(|i| locations.iter().find(|x| x.id == i)).map_or("—", |x| x.name.as_str());
                        tr { td { (d.id) } td { (d.name) } td { (d.role.name(l)) } td { (unit_name(&st, d.unit_code.as_str())) } td { (place) }
                             td { (if d.revoked { l.t(T::Revoked) } else { l.t(T::Active) }) }
                             td {
                                 @if !d.revoked {
                                     form data-api=(format!("/api/v1/devices/{}/revoke", d.id)) data-then="reload"
                                         data-confirm=(fill(l.t(T::ConfirmRevokeDevice), &[("name", d.name.as_str())])) {
                                         (alert())
                                         button class="secondary" { (l.t(T::RevokeDevice)) }
                                     }
                                 }
                             } }
                    }
                }
            }
        }
        form data-api="/api/v1/tokens" data-then="device" class="card"
            data-qr-alt=(l.t(T::EnrolQrAlt)) data-qr-help=(l.t(T::EnrolQrHelp)) {
            label { (l.t(T::DeviceName)) input name="name" required maxlength="100"; }
            (role_select(l, &[Role::Checkpoint]))
            (unit_picker(&st, l, &p.unit))
            label { (l.t(T::BoundToLocation))
                select name="location_id" data-num {
                    option value="" { (l.t(T::NotBound)) }
                    @for x in &locations { option value=(x.id) { (x.name) } }
                }
            }
            (alert())
            button { (l.t(T::CreateDeviceToken)) }
        }
        h2 id="keys" { (l.t(T::PassSigningKeys)) }
        div class="scroll" {
            table {
                thead { tr { th { "kid" } th { (l.t(C::From)) } th { (l.t(T::Until)) } } }
                tbody {
                    @for k in &keys {
                        tr { td class="mono" { (k.kid) } td { (clock.time(k.not_before.timestamp())) }
                             td { (k.not_after.map_or_else(|| "—".into(), |t| clock.time(t.timestamp()))) } }
                    }
                }
            }
        }
        form data-api="/api/v1/keys/rotate" data-then="reload" data-confirm=(l.t(T::RotateTheSigningKeyExistingPasses)) {
            (alert())
            button { (l.t(T::RotateSigningKey)) }
        }
    };
    Ok(layout(&v, title, "/admin", body, &["app.js"]))
}
