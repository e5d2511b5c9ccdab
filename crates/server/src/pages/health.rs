//! Health officers: open a case, trace it, confirm its contacts, see its zones and its transmission chain as a
//! diagram. Reads go through the API's handlers, so they are bounded by jurisdiction and audited the same way.

use super::{Lang, Viewer, alert, layout, shown_time};
use crate::AppState;
use crate::auth::Staff;
use crate::routes::cases;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use kiemdich_store::{CaseRecord, ChainLink, Role};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Deserialize)]
pub struct HealthQuery {
    case: Option<i64>,
}

pub async fn page(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<HealthQuery>,
) -> Html<String> {
    let l = v.lang;
    let title = l.t("Y tế: ca bệnh và truy vết", "Health: cases and tracing");
    let p = match v.staff(&[Role::Health, Role::Admin], title, "/health") {
        Ok(p) => p,
        Err(page) => return page,
    };
    let body = match q.case {
        None => html! {
            form method="get" action="/health" class="card" {
                label { (l.t("Số ca", "Case number")) input name="case" inputmode="numeric" required; }
                button { (l.t("Mở", "Open")) }
            }
            h2 { (l.t("Ghi nhận ca bệnh", "Report a case")) }
            form data-api="/api/v1/cases" data-then="case" class="card" {
                label { (l.t("Số CCCD", "Citizen id")) input name="citizen_id" inputmode="numeric" required; }
                label { (l.t("Phân loại", "Classification"))
                    select name="classification" { option value="f0" { "F0" } option value="suspected" { (l.t("Nghi nhiễm", "Suspected")) } }
                }
                div class="grid2" {
                    label { (l.t("Ngày khởi phát", "Symptom onset")) input name="onset_date" type="date"; }
                    label { (l.t("Ngày lấy mẫu dương tính", "Positive sample")) input name="sample_date" type="date"; }
                    label { (l.t("Ngày cách ly", "Isolated on")) input name="isolated_date" type="date"; }
                }
                (alert())
                button { (l.t("Ghi nhận", "Report")) }
            }
        },
        Some(id) => case_view(&st, l, Staff(p), id).await,
    };
    layout(&v, title, "/health", body, &["app.js"])
}

async fn case_view(st: &AppState, l: Lang, staff: Staff, id: i64) -> Markup {
    let who = staff.0.clone();
    let case = match cases::get_one(State(st.clone()), staff, Path(id)).await {
        Ok(axum::Json(c)) => c,
        Err(e) => return html! { p class="alert" role="alert" { (e.message) } },
    };
    let trace = st.store.latest_trace(id).await.ok().flatten();
    let zones = cases::zones(State(st.clone()), Staff(who), Path(id))
        .await
        .ok()
        .map(|j| j.0);
    let (chain, links) = st.store.chain(id).await.unwrap_or_default();
    html! {
        dl {
            dt { (l.t("Người bệnh", "Person")) } dd class="mono" { (case["citizen_id"].as_str().unwrap_or_default()) }
            dt { (l.t("Phân loại", "Classification")) } dd { (case["classification"].as_str().unwrap_or_default().to_uppercase()) }
            dt { (l.t("Tình trạng", "State")) } dd { (case["state"].as_str().unwrap_or_default()) }
            dt { (l.t("Khởi phát", "Onset")) } dd { (case["onset_date"].as_str().or(case["sample_date"].as_str()).unwrap_or("—")) }
            dt { (l.t("Cách ly đến", "Quarantine until")) } dd { (case["quarantine_until"].as_str().unwrap_or("—")) }
        }
        form data-api={"/api/v1/cases/" (id) "/trace"} data-then="reload" {
            (alert())
            button { (l.t("Truy vết F1, F2", "Trace F1 and F2")) }
        }
        @if let Some((trace_id, result)) = trace {
            (contacts(st, l, id, trace_id, &serde_json::from_str(&result).unwrap_or_default()))
        }
        @if let Some(z) = zones { (zones_table(st, l, &z)) }
        h2 { (l.t("Chuỗi lây nhiễm", "Transmission chain")) }
        (diagram(&chain, &links, id))
        p {
            a href={"/api/v1/cases/" (id) "/chain?format=dot"} { "DOT" } " · "
            a href={"/api/v1/cases/" (id) "/chain?format=csv"} { "CSV" } " · "
            a href={"/api/v1/cases/" (id) "/chain"} { "JSON" }
        }
    }
}

fn contacts(st: &AppState, l: Lang, case: i64, trace_id: i64, result: &Value) -> Markup {
    let rows = result["contacts"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    html! {
        h2 { (l.t("Kết quả truy vết", "Tracing result")) " #" (trace_id) }
        p class="muted" { (l.t("Quy tắc", "Rules")) " " (result["rule_version"].as_str().unwrap_or_default()) " · "
            (shown_time(st, &result["window"]["from"])) " → " (shown_time(st, &result["window"]["to"])) }
        table {
            thead { tr { th { "CCCD" } th { "F" } th { (l.t("Qua", "Via")) } th { (l.t("Bằng chứng", "Evidence")) } } }
            tbody {
                @for c in rows {
                    tr {
                        td class="mono" { (c["citizen_id"].as_str().unwrap_or_default()) }
                        td { (c["degree"]) }
                        td class="mono" { (c["via"].as_str().unwrap_or_default()) }
                        td { @for e in c["exposures"].as_array().map(Vec::as_slice).unwrap_or_default() {
                            (l.t("điểm", "place")) " " (e["location_id"]) ", " (shown_time(st, &e["from"])) ": " (e["minutes"]) " " (l.t("phút", "min")) br;
                        } }
                    }
                }
            }
        }
        a href={"/api/v1/traces/" (trace_id) "?format=csv"} { (l.t("Tải CSV", "Download CSV")) }
        form data-api={"/api/v1/cases/" (case) "/confirm"} data-then="reload" {
            input type="hidden" name="trace_id" value=(trace_id) data-num;
            (alert())
            button { (l.t("Xác nhận tất cả là F1/F2 (thu hồi thẻ, báo tin)", "Confirm all as F1/F2 (revoke passes, notify)")) }
        }
    }
}

fn zones_table(st: &AppState, l: Lang, z: &Value) -> Markup {
    let places = z["places"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    html! {
        h2 { (l.t("Khoanh vùng", "Zones")) }
        table {
            thead { tr { th { (l.t("Địa điểm", "Place")) } th { (l.t("Từ", "From")) } th { (l.t("Đến", "To")) } th { (l.t("Số người", "People")) } } }
            tbody {
                @for p in places {
                    tr { td { (p["name"].as_str().unwrap_or_default()) } td { (shown_time(st, &p["from"])) }
                         td { (shown_time(st, &p["to"])) } td { (p["people_present"]) } }
                }
            }
        }
    }
}

/// The chain as an SVG: one column per generation, one node per case (coloured by class), an arrow per link
/// labelled with the shared minutes.
fn diagram(cases: &[CaseRecord], links: &[ChainLink], current: i64) -> Markup {
    let mut depth: HashMap<i64, usize> = HashMap::new();
    for c in cases {
        let d = c
            .source_case_id
            .and_then(|s| depth.get(&s))
            .map_or(0, |d| d + 1);
        depth.insert(c.id, d);
    }
    let mut rows: HashMap<usize, usize> = HashMap::new();
    let mut at: HashMap<i64, (usize, usize)> = HashMap::new();
    for c in cases {
        let d = depth[&c.id];
        let r = rows.entry(d).or_default();
        at.insert(c.id, (20 + d * 150, 30 + *r * 56));
        *r += 1;
    }
    let width = 20 + (depth.values().max().copied().unwrap_or(0) + 1) * 150;
    let height = 30 + rows.values().max().copied().unwrap_or(1) * 56;
    let fill = |class: &str| match class {
        "f0" => "#b3261e",
        "f1" => "#b35300",
        _ => "#f2c200",
    };
    html! {
        svg viewBox={"0 0 " (width) " " (height)} width=(width) height=(height) role="img" aria-label="chain" style="max-width:100%;height:auto" {
            @for link in links {
                @if let (Some(a), Some(b)) = (at.get(&link.from_case), at.get(&link.to_case)) {
                    line x1=(a.0 + 100) y1=(a.1) x2=(b.0) y2=(b.1) stroke="#444" stroke-width="2" {}
                    text x=((a.0 + 100 + b.0) / 2) y=((a.1 + b.1) / 2 - 4) font-size="11" fill="#111" {
                        (link.exposures.iter().map(|e| e.minutes).sum::<i64>()) "′"
                    }
                }
            }
            @for c in cases {
                @let (x, y) = at[&c.id];
                rect x=(x) y=(y - 16) width="100" height="32" rx="6" fill=(fill(&c.classification))
                    stroke=(if c.id == current { "#111" } else { "none" }) stroke-width="3" {}
                text x=(x + 50) y=(y + 5) font-size="12" text-anchor="middle" fill=(if c.classification == "f0" || c.classification == "f1" { "#fff" } else { "#111" }) {
                    (c.classification.to_uppercase()) " #" (c.id)
                }
            }
        }
    }
}
