//! Administrators: staff accounts, locations, scanning devices and signing keys.

use super::venue::location_form;
use super::{Viewer, alert, layout};
use crate::AppState;
use crate::services::people::unit_name;
use axum::extract::State;
use axum::response::Html;
use kiemdich_domain::catalogue::{Admin as T, Common as C, Labelled as _, Lang};
use kiemdich_store::{Location, Role, keyring};
use maud::{Markup, html};

/// The roles an administrator gives to accounts and devices.
const GRANTABLE: [Role; 5] = [
    Role::Officer,
    Role::Checkpoint,
    Role::Health,
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

fn unit_input(l: Lang, unit: &str) -> Markup {
    html! {
        label { (l.t(T::UnitCodeOfTheJurisdiction)) input name="unit_code" inputmode="numeric" required value=(unit); }
    }
}

pub async fn page(State(st): State<AppState>, v: Viewer) -> Html<String> {
    let l = v.lang;
    let title = l.t(T::Administration);
    let p = match v.staff(&[Role::Admin], title, "/admin") {
        Ok(p) => p,
        Err(page) => return page,
    };
    let units = st.units_within(&p.unit);
    let staff = st.store.staff_in(&units).await.unwrap_or_default();
    let mut devices = st.store.devices().await.unwrap_or_default();
    devices.retain(|d| units.contains(&d.unit_code));
    let locations: Vec<Location> = st.store.locations_in(&units).await.unwrap_or_default();
    let clock = st.rules.clock();
    let keys = keyring::trust_list(&st.store, &st.issuer)
        .await
        .map(|t| t.keys)
        .unwrap_or_default();
    let unit = p.unit.as_str();
    let body = html! {
        nav aria-label=(l.t(T::AdminSections)) {
            a href="#staff" { (l.t(T::Accounts)) } " · " a href="#locations" { (l.t(T::Locations)) } " · "
            a href="#devices" { (l.t(T::Devices)) } " · " a href="#keys" { (l.t(T::SigningKeys)) }
        }
        h2 id="staff" { (l.t(T::StaffAccounts)) }
        table {
            thead { tr { th { (l.t(C::Username)) } th { (l.t(T::Role)) } th { (l.t(C::Unit)) } } }
            tbody { @for s in &staff { tr { td { (s.username) } td { (Role::parse_grantable(&s.role).map_or("", |r| r.name(l))) } td { (unit_name(&st, &s.unit_code)) } } } }
        }
        form data-api="/api/v1/staff" data-then="reload" class="card" {
            label { (l.t(C::Username)) input name="username" required autocomplete="off"; }
            label { (l.t(T::PasswordAtLeast10Characters)) input name="password" type="password" required minlength="10" autocomplete="new-password"; }
            (role_select(l, &[]))
            (unit_input(l, unit))
            (alert())
            button { (l.t(T::CreateAccount)) }
        }
        h2 id="locations" { (l.t(T::Locations)) }
        table {
            thead { tr { th { "#" } th { (l.t(T::Name)) } th { (l.t(C::Kind)) } th { (l.t(C::Commune)) } th { (l.t(T::Admits)) } } }
            tbody { @for x in &locations { tr { td { (x.id) } td { (x.name) } td { (x.kind.name(l)) } td { (unit_name(&st, &x.commune_code)) } td { (x.admits.iter().map(|s| s.name(l)).collect::<Vec<_>>().join(", ")) } } } }
        }
        (location_form(&st, l, false))
        h2 id="devices" { (l.t(T::ScanningDevices)) }
        table {
            thead { tr { th { "#" } th { (l.t(T::Name)) } th { (l.t(C::Location)) } th { (l.t(T::State)) } } }
            tbody {
                @for d in &devices {
                    tr { td { (d.id) } td { (d.name) } td { (d.location_id.map(|i| i.to_string()).unwrap_or_else(|| "—".into())) }
                         td { (if d.revoked { l.t(T::Revoked) } else { l.t(T::Active) }) } }
                }
            }
        }
        form data-api="/api/v1/tokens" data-then="token" class="card" {
            label { (l.t(T::DeviceName)) input name="name" required maxlength="100"; }
            (role_select(l, &[Role::Checkpoint]))
            (unit_input(l, unit))
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
        table {
            thead { tr { th { "kid" } th { (l.t(C::From)) } th { (l.t(T::Until)) } } }
            tbody {
                @for k in &keys {
                    tr { td class="mono" { (k.kid) } td { (clock.time(k.not_before.timestamp())) }
                         td { (k.not_after.map_or_else(|| "—".into(), |t| clock.time(t.timestamp()))) } }
                }
            }
        }
        form data-api="/api/v1/keys/rotate" data-then="reload" data-confirm=(l.t(T::RotateTheSigningKeyExistingPasses)) {
            (alert())
            button { (l.t(T::RotateSigningKey)) }
        }
    };
    layout(&v, title, "/admin", body, &["app.js"])
}
