//! Commune officers: assisted declaration from a paper form, printing pass cards and blank forms, resident
//! search in their jurisdiction, and movement reports.

use super::resident::{FormFor, declaration_form};
use super::{Lang, Viewer, alert, layout, shown_time};
use crate::AppState;
use crate::auth::Staff;
use crate::routes::locations::{MovementQuery, movements};
use crate::routes::registry::{SearchQuery, search_residents};
use axum::extract::{Query, State};
use axum::response::Html;
use kiemdich_store::Role;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

const OFFICERS: &[Role] = &[Role::Officer, Role::Admin];

#[derive(Deserialize)]
pub struct OfficerQuery {
    q: Option<String>,
    movements: Option<String>,
}

pub async fn page(
    State(st): State<AppState>,
    v: Viewer,
    Query(query): Query<OfficerQuery>,
) -> Html<String> {
    let l = v.lang;
    let title = l.t("Cán bộ xã, phường", "Commune officers");
    let p = match v.staff(OFFICERS, title, "/officer") {
        Ok(p) => p,
        Err(page) => return page,
    };
    let search = match query.q.as_deref().filter(|q| !q.trim().is_empty()) {
        Some(q) => {
            let found = search_residents(
                State(st.clone()),
                Staff(p.clone()),
                Query(SearchQuery {
                    q: q.into(),
                    commune: None,
                    limit: Some(50),
                }),
            )
            .await;
            Some(match found {
                Ok(axum::Json(v)) => residents_table(l, &v["residents"]),
                Err(e) => html! { p class="alert" role="alert" { (e.message) } },
            })
        }
        None => None,
    };
    let report = match query.movements {
        Some(unit) => {
            let unit = Some(unit).filter(|u| !u.is_empty());
            let got = movements(
                State(st.clone()),
                Staff(p.clone()),
                Query(MovementQuery {
                    unit,
                    from: None,
                    to: None,
                }),
            )
            .await;
            Some(match got {
                Ok(axum::Json(v)) => movements_tables(&st, l, &v),
                Err(e) => html! { p class="alert" role="alert" { (e.message) } },
            })
        }
        None => None,
    };
    let due = crate::routes::follow_ups::list(
        State(st.clone()),
        Staff(p.clone()),
        Query(crate::routes::follow_ups::DayQuery { day: None }),
    )
    .await
    .map(|j| j.0);
    let body = html! {
        nav aria-label=(l.t("Việc của cán bộ", "Officer tasks")) {
            a href="#follow-h" { (l.t("Theo dõi", "Checks")) } " · "
            a href="#declare-h" { (l.t("Khai hộ", "Declare for someone")) } " · "
            a href="#search-h" { (l.t("Tra cứu", "Search")) } " · "
            a href="#movements-h" { (l.t("Người đến, người đi", "Arrivals and departures")) } " · "
            a href="/officer/paper-form" { (l.t("In tờ khai giấy", "Print a blank paper form")) }
        }
        h2 id="follow-h" { (l.t("Theo dõi cách ly hôm nay", "Today's isolation and quarantine checks")) }
        @match &due {
            Ok(v) => (follow_ups(l, v)),
            Err(e) => p class="alert" role="alert" { (e.message) },
        }
        h2 id="search-h" { (l.t("Tra cứu cư dân trong địa bàn", "Search residents of your jurisdiction")) }
        form method="get" action="/officer" role="search" {
            label { (l.t("Họ tên (có dấu hoặc không dấu)", "Name (with or without diacritics)")) input type="search" name="q" value=[query.q.as_deref()] minlength="2"; }
            button { (l.t("Tìm", "Search")) }
        }
        @if let Some(s) = search { (s) }
        h2 id="movements-h" { (l.t("Người đến, người đi qua chốt (7 ngày)", "Checkpoint arrivals and departures (7 days)")) }
        form method="get" action="/officer" {
            label { (l.t("Mã đơn vị (để trống: địa bàn của bạn)", "Unit code (empty: your jurisdiction)")) input name="movements" inputmode="numeric" value=[report.as_ref().map(|_| "")]; }
            button { (l.t("Xem báo cáo", "Show report")) }
        }
        @if let Some(r) = report { (r) }
        h2 id="declare-h" { (l.t("Khai hộ người không có điện thoại thông minh", "Declare for someone without a smartphone")) }
        p class="muted" { (l.t("Chép từ tờ khai giấy. Sau khi gửi, in thẻ để giao cho người dân.", "Copy from the paper form. After submitting, print the card and hand it over.")) }
        (declaration_form(&st, l, None, FormFor::Staff))
    };
    layout(&v, title, "/officer", body, &["app.js"])
}

/// Who to check on today, each with a one-line form to record the outcome of the call or visit.
fn follow_ups(l: Lang, v: &Value) -> Markup {
    let rows = v["follow_ups"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    html! {
        @if rows.is_empty() { p class="muted" { (l.t("Không có ai cần theo dõi hôm nay.", "Nobody to check on today.")) } }
        @for r in rows {
            @let case = r["case_id"].as_i64().unwrap_or_default();
            form data-api="/api/v1/follow-ups" data-then="reload" class="card" {
                p {
                    span class="mono" { (r["citizen_id"].as_str().unwrap_or_default()) } " · "
                    (r["classification"].as_str().unwrap_or_default().to_uppercase())
                    @if let Some(until) = r["quarantine_until"].as_str() { " · " (l.t("đến", "until")) " " (until) }
                    @if let Some(done) = r["outcome"].as_str() { " · " strong { (l.t("đã ghi", "recorded")) ": " (done) } }
                }
                input type="hidden" name="case_id" value=(case) data-num;
                div class="grid2" {
                    label { (l.t("Kết quả", "Outcome"))
                        select name="outcome" {
                            option value="well" { (l.t("Bình thường", "Well")) }
                            option value="symptoms" { (l.t("Có triệu chứng", "Symptoms")) }
                            option value="unreachable" { (l.t("Không liên lạc được", "Unreachable")) }
                        }
                    }
                    label { (l.t("Cách liên lạc", "How"))
                        select name="channel" {
                            option value="call" { (l.t("Gọi điện", "Call")) }
                            option value="visit" { (l.t("Đến nhà", "Visit")) }
                            option value="sms" { "SMS" }
                        }
                    }
                }
                label { (l.t("Ghi chú", "Note")) input name="note" maxlength="500"; }
                (alert())
                button { (l.t("Ghi nhận", "Record")) }
            }
        }
    }
}

fn residents_table(l: Lang, rows: &Value) -> Markup {
    let rows = rows.as_array().map(Vec::as_slice).unwrap_or_default();
    html! {
        p { (rows.len()) " " (l.t("kết quả", "results")) }
        @if !rows.is_empty() {
            table {
                thead { tr { th { (l.t("Họ tên", "Name")) } th { (l.t("Ngày sinh", "Born")) } th { "CCCD" } th { (l.t("Xã", "Commune")) } } }
                tbody {
                    @for r in rows {
                        tr {
                            td { (r["full_name"].as_str().unwrap_or_default()) }
                            td { (r["date_of_birth"].as_str().unwrap_or_default()) }
                            td class="mono" { (r["citizen_id"].as_str().unwrap_or_default()) }
                            td { (r["commune_code"].as_str().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    }
}

fn movements_tables(st: &AppState, l: Lang, report: &Value) -> Markup {
    let table = |caption: &str, rows: &Value| {
        let rows = rows.as_array().map(Vec::as_slice).unwrap_or_default();
        html! {
            table {
                caption { (caption) " (" (rows.len()) ")" }
                thead { tr { th { (l.t("Thời gian", "Time")) } th { "CCCD" } th { (l.t("Từ", "From")) } th { (l.t("Đến", "To")) } th { (l.t("Chốt", "Checkpoint")) } } }
                tbody {
                    @for r in rows {
                        tr {
                            td { (shown_time(st, &r["at"])) }
                            td class="mono" { (r["citizen_id"].as_str().unwrap_or_default()) }
                            td { (r["from_unit"].as_str().unwrap_or_default()) }
                            td { (r["to_unit"].as_str().unwrap_or_default()) }
                            td { (r["location_id"]) }
                        }
                    }
                }
            }
        }
    };
    html! {
        p { (l.t("Đơn vị", "Unit")) " " (report["unit"].as_str().unwrap_or_default()) }
        (table(l.t("Người đến", "Arrivals"), &report["arrivals"]))
        (table(l.t("Người đi", "Departures"), &report["departures"]))
    }
}

/// A blank declaration form to print for people who fill it in on paper; the officer copies it in later.
pub async fn paper_form(v: Viewer) -> Html<String> {
    let l = v.lang;
    let line = |label: &'static str| html! { p class="line" { (label) ": " span aria-hidden="true" { "……………………………………………………" } } };
    let boxes = |items: &[(&str, &'static str, &'static str)]| {
        html! {
            ul class="boxes" { @for (_, vi, en) in items { li { "☐ " (l.t(vi, en)) } } }
        }
    };
    let body = html! {
        p { (l.t("Tờ khai y tế (bản giấy) — mỗi người một tờ. Cán bộ xã nhập vào hệ thống và in thẻ thông hành.",
                 "Health declaration (paper) — one sheet per person. The commune officer enters it and prints the pass card.")) }
        (line(l.t("Số CCCD/CMND", "Citizen id")))
        (line(l.t("Họ và tên", "Full name")))
        (line(l.t("Ngày sinh", "Date of birth")))
        (line(l.t("Giới tính", "Sex")))
        (line(l.t("Số điện thoại (nếu có)", "Phone (if any)")))
        (line(l.t("Địa chỉ nơi ở", "Address")))
        h2 { (l.t("Triệu chứng trong 14 ngày qua", "Symptoms in the last 14 days")) }
        (boxes(&super::resident::SYMPTOMS))
        h2 { (l.t("Dịch tễ trong 14 ngày qua", "Exposure in the last 14 days")) }
        (boxes(&super::resident::EXPOSURES))
        (line(l.t("Di chuyển: phương tiện, nơi đi, nơi đến, ngày đi", "Travel: means, from, to, date")))
        (line(l.t("Chữ ký người khai", "Signature")))
        (alert())
        button type="button" data-print { (l.t("In tờ khai", "Print")) }
    };
    layout(
        &v,
        l.t("Tờ khai y tế", "Health declaration form"),
        "/officer/paper-form",
        body,
        &["app.js"],
    )
}
