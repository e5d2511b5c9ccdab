//! Proximity tracing for health officers: the button on a confirmed case's page that issues a key upload code,
//! and the daily counts of codes and keys per unit of their jurisdiction.

use super::{Viewer, alert, layout};
use crate::AppState;
use crate::services::proximity;
use axum::extract::State;
use axum::response::Html;
use kiemdich_domain::catalogue::{Health as T, Lang, fill};
use kiemdich_store::Role;
use maud::{Markup, html};

/// Issues a one-time key upload code for the case; the code appears large, with its expiry, to read out.
pub fn code_form(l: Lang, case_id: i64) -> Markup {
    html! {
        form data-api="/api/v1/proximity/codes" data-then="proximityCode" class="card" {
            input type="hidden" name="case_id" value=(case_id) data-num;
            p class="muted" { (l.t(T::ProximityCodeExplained)) }
            button { (l.t(T::ProximityCode)) }
            (alert())
            output class="big-code" aria-live="polite" hidden {}
        }
        p { a href="/health/proximity" { (l.t(T::ProximityCountsLink)) } }
    }
}

/// Codes issued, uploads and keys received per unit and day, inside the viewer's jurisdiction.
pub async fn counts(State(st): State<AppState>, v: Viewer) -> Html<String> {
    let l = v.lang;
    let title = l.t(T::ProximityCounts);
    let p = match v.staff(&[Role::Health, Role::Admin], title, "/health") {
        Ok(p) => p,
        Err(page) => return page,
    };
    let body = match proximity::counts(&st, &p).await {
        Ok(c) if c.counts.is_empty() => html! {
            p class="muted" { (fill(l.t(T::NoProximityCounts), &[("days", &c.days.to_string())])) }
        },
        Ok(c) => html! {
            div class="scroll" {
                table {
                    thead { tr {
                        th scope="col" { (l.t(T::Day)) }
                        th scope="col" { (l.t(T::Unit)) }
                        th scope="col" { (l.t(T::CodesIssued)) }
                        th scope="col" { (l.t(T::Uploads)) }
                        th scope="col" { (l.t(T::KeysUploaded)) }
                    } }
                    tbody {
                        @for row in &c.counts {
                            tr {
                                td { (row.day_local) }
                                td { (row.unit_name) }
                                td { (row.codes_issued) }
                                td { (row.uploads) }
                                td { (row.keys_uploaded) }
                            }
                        }
                    }
                }
            }
        },
        Err(e) => html! { p class="alert" role="alert" { (e.message_in(l)) } },
    };
    layout(&v, title, "/health", body, &[])
}
