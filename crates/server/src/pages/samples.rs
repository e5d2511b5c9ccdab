//! The printed documents of samples: a sheet of labels for a collection session or a pool (`/samples/labels`,
//! each label a QR of the sample's label that a phone reads back, the person's name and birth year, the
//! sample's time and test), and the result slip for a person without a phone (`/samples/{id}/slip`): A4, in
//! Vietnamese first, Vietnam times, names not ids.

use super::Viewer;
use super::print::{document, inline_svg, issuer};
use crate::AppState;
use crate::services::testing::{self as svc, ORDERERS, SamplePrint};
use axum::extract::{Path, Query, State};
use axum::response::Html;
use kiemdich_domain::TestResult;
use kiemdich_domain::catalogue::{Common as C, Lang, Testing as T};
use maud::{Markup, html};
use serde::Deserialize;

/// `/samples/labels?ids=1,2,3` (a collection session's samples) or `?pool=ID` (a pool's members).
#[derive(Debug, Default, Deserialize)]
pub struct LabelsQuery {
    pub ids: Option<String>,
    pub pool: Option<i64>,
}

/// An error in the frame of the site, in the reader's language.
fn refused(v: &Viewer, title: &str, path: &str, e: &crate::error::ApiError) -> Html<String> {
    super::layout(
        v,
        title,
        path,
        html! { p class="alert" role="alert" { (e.message_in(v.lang)) } },
        &[],
    )
}

/// The samples a labels query names, in order.
async fn named(
    st: &AppState,
    who: &kiemdich_store::Principal,
    q: &LabelsQuery,
) -> crate::error::ApiResult<Vec<i64>> {
    if let Some(pool) = q.pool {
        return svc::pool_members(st, who, pool).await;
    }
    let ids: Result<Vec<i64>, _> = q
        .ids
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect();
    match ids {
        Ok(ids) if !ids.is_empty() && ids.len() <= MAX_LABELS => Ok(ids),
        _ => Err(crate::error::ApiError::field_as(
            "ids",
            kiemdich_domain::catalogue::Problem::Required,
            format!("name 1 to {MAX_LABELS} samples: ids=1,2,3 (or pool=ID)"),
        )),
    }
}

/// The most labels one request prints (a few sheets).
const MAX_LABELS: usize = 120;

/// `/samples/labels`: the labels, 3 × 7 to an A4 sheet.
pub async fn labels(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<LabelsQuery>,
) -> Html<String> {
    let l = v.lang;
    let title = l.t(T::LabelsTitle);
    let path = "/samples/labels";
    let who = match v.staff(ORDERERS, title, path) {
        Ok(who) => who,
        Err(page) => return page,
    };
    let printed = match named(&st, &who, &q).await {
        Ok(ids) => svc::printable(&st, &who, &ids, l).await,
        Err(e) => Err(e),
    };
    match printed {
        Ok(samples) => Html(document(
            l,
            title,
            "/health",
            LABELS_CSS,
            html! {
                h1 class="visually-hidden" { (title) }
                div class="labels" { @for s in &samples { (label_markup(l, s)) } }
            },
        )),
        Err(e) => refused(&v, title, path, &e),
    }
}

fn label_markup(l: Lang, s: &SamplePrint) -> Markup {
    let qr = crate::qr::svg(&s.label).unwrap_or_default();
    html! {
        section class="label" aria-label={(l.t(T::SampleCode)) " " (s.label)} {
            div class="qr" role="img" aria-label=(l.t(T::LabelQr)) { (inline_svg(&qr)) }
            div class="facts" {
                p class="code mono" { (s.label) }
                p class="name" { (s.name) }
                p { (l.t(T::BirthYear)) " " (s.birth_year) }
                p { (s.collected_local.as_deref().unwrap_or(l.t(T::NotCollectedYet))) }
                p { strong { (s.test_name) } }
            }
        }
    }
}

/// `/samples/{id}/slip`: the result slip an officer prints for a person without a phone.
pub async fn slip(State(st): State<AppState>, v: Viewer, Path(id): Path<i64>) -> Html<String> {
    let l = v.lang;
    let title = l.t(T::SlipDocTitle);
    let path = format!("/samples/{id}/slip");
    let who = match v.staff(ORDERERS, title, &path) {
        Ok(who) => who,
        Err(page) => return page,
    };
    match svc::printable(&st, &who, &[id], l).await {
        Ok(samples) => match samples.first() {
            Some(s) => Html(document(
                l,
                title,
                "/health",
                SLIP_CSS,
                slip_markup(&st, l, s),
            )),
            None => refused(
                &v,
                title,
                &path,
                &crate::error::ApiError::not_found("no sample"),
            ),
        },
        Err(e) => refused(&v, title, &path, &e),
    }
}

fn slip_markup(st: &AppState, l: Lang, s: &SamplePrint) -> Markup {
    let next = match s.result.as_ref().map(|r| r.result) {
        Some(TestResult::Positive) => T::NextPositive,
        Some(TestResult::Negative) => T::NextNegative,
        Some(TestResult::Invalid) => T::NextInvalid,
        None => T::NextAwaiting,
    };
    html! {
        div class="slip-head" {
            p class="dept" { (st.authority().department) }
            h1 { (l.t(T::SlipTitle)) }
        }
        dl class="facts" {
            dt { (l.t(C::FullName)) } dd class="name" { (s.name) }
            dt { (l.t(T::BirthYear)) } dd { (s.birth_year) }
            dt { (l.t(T::SampleCode)) } dd class="mono" { (s.label) }
            dt { (l.t(T::TestKind)) } dd { (s.test_name) }
            dt { (l.t(T::CollectedAt)) } dd { (s.collected_local.as_deref().unwrap_or(l.t(T::NotCollectedYet))) }
            @if let Some(r) = &s.result {
                dt { (l.t(T::Lab)) } dd { (r.lab) }
                dt { (l.t(T::TestedAt)) } dd { (r.tested_local) }
            }
        }
        p class={"result " (s.result.as_ref().map_or("awaiting", |r| r.result.as_str()))} {
            (l.t(T::Result)) ": "
            strong { (s.result.as_ref().map_or(l.t(T::AwaitingResult), |r| r.result_name.as_str())) }
        }
        section class="next" {
            h2 { (l.t(T::WhatNext)) }
            p { (l.t(next)) }
        }
        (issuer(l, &st.authority()))
    }
}

/// Labels of about 63 × 38 mm, three across: a QR the phone reads at a glance, the facts beside it.
const LABELS_CSS: &str = ".visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}\
.labels{display:grid;grid-template-columns:repeat(3,1fr);gap:0}\
.label{display:flex;gap:2mm;align-items:center;height:38mm;padding:2mm;border:1px dashed #777;overflow:hidden;break-inside:avoid;page-break-inside:avoid}\
.label .qr svg{display:block;width:24mm;height:24mm}.label .facts{font-size:9pt;line-height:1.25;min-width:0}\
.label p{margin:0}.label .code{font-weight:700}.label .name{font-weight:700;font-size:10pt}\
@media print{.label{border-color:#bbb}}";

/// The slip: the facts, the result in large type, what to do next.
const SLIP_CSS: &str = ".slip-head{text-align:center;border-bottom:2px solid #111;padding-bottom:3mm;margin-bottom:4mm}\
.slip-head h1{font-size:1.3rem}.dept{font-weight:600}\
.facts{display:grid;grid-template-columns:auto 1fr;gap:2mm 5mm;margin:0 0 4mm}.facts dt{font-weight:600}.facts dd{margin:0}\
.facts .name{font-size:1.3rem;font-weight:800}\
.result{font-size:1.5rem;border:2px solid #111;border-radius:2mm;padding:3mm 4mm;margin:4mm 0}\
.result.positive{background:#b3261e;color:#fff}.next h2{font-size:1.1rem;margin:4mm 0 1mm}";
