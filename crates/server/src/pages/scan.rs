//! The scanner page for checkpoint and venue staff: camera or manual entry, a decision in well under a second
//! from the pass itself, and a queue that keeps scans through network outages (see `static/scan.js`).

use super::{PageError, Viewer, alert, layout, login_form};
use crate::AppState;
use axum::extract::State;
use axum::response::Html;
use kiemdich_domain::catalogue::{Common as C, Lang, Scanner as T};
use kiemdich_store::{Location, Role};
use maud::{Markup, html};
use serde_json::json;

fn scanner(l: Lang, places: &[Location]) -> Markup {
    let config = json!({
        "locations": places.iter().map(|p| json!({"id": p.id, "name": p.name, "admits": p.admits, "vaccination": p.vaccination, "accepts_dcc": p.accepts_dcc})).collect::<Vec<_>>(),
    });
    html! {
        (crate::html::json_script("scan-config", &config))
        p id="net" role="status" class="muted" {}
        div class="grid2" {
            label { (l.t(C::Location))
                select id="location" {
                    @for p in places { option value=(p.id) { (p.name) } }
                }
            }
            fieldset {
                legend { (l.t(C::Direction)) }
                label class="check" for="dir-in" { input type="radio" id="dir-in" name="direction" value="in" checked; (l.t(C::In)) }
                label class="check" for="dir-out" { input type="radio" id="dir-out" name="direction" value="out"; (l.t(C::Out)) }
            }
        }
        div id="decision" class="card" role="status" aria-live="assertive" aria-atomic="true" hidden {}
        button type="button" id="camera-start" { (l.t(T::StartCamera)) }
        button type="button" id="camera-stop" class="secondary" hidden { (l.t(T::StopCamera)) }
        video id="camera" playsinline muted hidden aria-label=(l.t(T::CameraView)) {}
        canvas id="frame" hidden {}
        form id="manual" class="card" {
            label { (l.t(T::TypeOrPasteThePassCode)) textarea id="token" name="token" rows="3" autocomplete="off" spellcheck="false" {} }
            button { (l.t(T::Check)) }
        }
        form id="lookup" class="card" {
            p { (l.t(T::NoPassCheckAnIdentityDocument)) }
            label { (l.t(C::CitizenId)) input id="citizen" name="citizen_id" inputmode="numeric" autocomplete="off" required; }
            label class="check" for="id-checked" { input type="checkbox" id="id-checked" name="identity_checked" required; (l.t(T::ICheckedAnIdentityDocument)) }
            (alert())
            button { (l.t(T::LookUp)) }
        }
        h2 { (l.t(T::Sync)) }
        p id="queue" role="status" {}
        ul id="conflicts" aria-label=(l.t(T::DifferencesAfterSync)) {}
    }
}

pub async fn page(State(st): State<AppState>, v: Viewer) -> Result<Html<String>, PageError> {
    let l = v.lang;
    let title = l.t(T::PassScanner);
    let Some(p) = v.with_role(&[Role::Checkpoint, Role::Admin]).cloned() else {
        let body = html! {
            (login_form(l, &[Role::Checkpoint, Role::Admin]))
            p { (l.t(T::OrUseADeviceTokenFrom)) }
            form data-api="/api/v1/auth/device" data-then="reload" class="card" {
                label { (l.t(T::DeviceToken)) input name="token" type="password" autocomplete="off" required; }
                (alert())
                button { (l.t(T::UseThisDevice)) }
            }
        };
        return Ok(layout(&v, title, "/scan", body, &["app.js"]));
    };
    let places: Vec<Location> = match p.location_id {
        Some(id) => st.store.location(id).await.map(|p| p.into_iter().collect()),
        None => st.store.locations_in(&st.units_within(&p.unit)).await,
    }
    .map_err(v.failed())?;
    Ok(layout(
        &v,
        title,
        "/scan",
        scanner(l, &places),
        &["app.js", "camera.js", "scan.js"],
    ))
}
