//! The scanner page for checkpoint and venue staff: camera or manual entry, a decision in well under a second
//! from the pass itself, and a queue that keeps scans through network outages (see `static/scan.js`).

use super::{Lang, Viewer, alert, layout, login_form};
use crate::AppState;
use axum::extract::State;
use axum::response::Html;
use kiemdich_store::{Location, Role};
use maud::{Markup, html};
use serde_json::json;

/// Messages the script shows, in the page's language.
fn strings(l: Lang) -> serde_json::Value {
    json!({
        "admit": l.t("CHO VÀO", "ADMIT"), "refuse": l.t("KHÔNG CHO VÀO", "REFUSE"),
        "offline": l.t("Mất mạng: quét vẫn được lưu trên máy và gửi khi có mạng.", "Offline: scans are kept on this device and sent when the network returns."),
        "online": l.t("Có mạng", "Online"), "pending": l.t("chờ gửi", "waiting to send"),
        "conflict": l.t("Khác biệt sau khi đồng bộ", "Differs after sync"),
        "invalid": l.t("Mã không hợp lệ", "Invalid code"), "no_camera": l.t("Không mở được camera; hãy nhập mã bằng tay.", "Camera unavailable; enter the code by hand."),
        "valid_until": l.t("hiệu lực đến", "valid until"), "born": l.t("sinh năm", "born"),
        "no_offline_verify": l.t("Trình duyệt này không tự kiểm tra chữ ký được; cần có mạng.", "This browser cannot check signatures itself; the network is needed."),
        "needs_network": l.t("Tra cứu theo CCCD cần có mạng.", "A lookup by citizen id needs the network."),
    })
}

fn scanner(l: Lang, places: &[Location]) -> Markup {
    let config = json!({
        "locations": places.iter().map(|p| json!({"id": p.id, "name": p.name, "admits": p.admits})).collect::<Vec<_>>(),
        "t": strings(l),
    });
    html! {
        (crate::html::json_script("scan-config", &config))
        p id="net" role="status" class="muted" {}
        div class="grid2" {
            label { (l.t("Địa điểm", "Location"))
                select id="location" {
                    @for p in places { option value=(p.id) { (p.name) } }
                }
            }
            fieldset {
                legend { (l.t("Chiều", "Direction")) }
                label class="check" for="dir-in" { input type="radio" id="dir-in" name="direction" value="in" checked; (l.t("Vào", "In")) }
                label class="check" for="dir-out" { input type="radio" id="dir-out" name="direction" value="out"; (l.t("Ra", "Out")) }
            }
        }
        div id="decision" class="card" role="status" aria-live="assertive" aria-atomic="true" hidden {}
        button type="button" id="camera-start" { (l.t("Bật camera", "Start camera")) }
        video id="camera" playsinline muted hidden aria-label=(l.t("Hình camera", "Camera view")) {}
        canvas id="frame" hidden {}
        form id="manual" class="card" {
            label { (l.t("Nhập hoặc dán mã thẻ (KD1:…)", "Type or paste the pass code (KD1:…)")) textarea id="token" name="token" rows="3" autocomplete="off" spellcheck="false" {} }
            button { (l.t("Kiểm tra", "Check")) }
        }
        form id="lookup" class="card" {
            p { (l.t("Người không có thẻ: xem giấy tờ tùy thân rồi tra theo số CCCD.", "No pass: check an identity document, then look up the citizen id.")) }
            label { (l.t("Số CCCD", "Citizen id")) input id="citizen" name="citizen_id" inputmode="numeric" autocomplete="off" required; }
            label class="check" for="id-checked" { input type="checkbox" id="id-checked" name="identity_checked" required; (l.t("Tôi đã kiểm tra giấy tờ tùy thân", "I checked an identity document")) }
            (alert())
            button { (l.t("Tra cứu", "Look up")) }
        }
        h2 { (l.t("Đồng bộ", "Sync")) }
        p id="queue" role="status" {}
        ul id="conflicts" aria-label=(l.t("Khác biệt sau khi đồng bộ", "Differences after sync")) {}
    }
}

pub async fn page(State(st): State<AppState>, v: Viewer) -> Html<String> {
    let l = v.lang;
    let title = l.t("Quét thẻ thông hành", "Pass scanner");
    let Some(p) = v.with_role(&[Role::Checkpoint, Role::Admin]).cloned() else {
        let body = html! {
            (login_form(l, "checkpoint, admin"))
            p { (l.t("Hoặc dùng mã thiết bị do quản trị cấp:", "Or use a device token from your administrator:")) }
            form data-api="/api/v1/auth/device" data-then="reload" class="card" {
                label { (l.t("Mã thiết bị", "Device token")) input name="token" type="password" autocomplete="off" required; }
                (alert())
                button { (l.t("Dùng thiết bị này", "Use this device")) }
            }
        };
        return layout(&v, title, "/scan", body, &["app.js"]);
    };
    let places = match p.location_id {
        Some(id) => st
            .store
            .location(id)
            .await
            .ok()
            .flatten()
            .into_iter()
            .collect(),
        None => st
            .store
            .locations_in(&st.units_within(&p.unit))
            .await
            .unwrap_or_default(),
    };
    layout(
        &v,
        title,
        "/scan",
        scanner(l, &places),
        &["app.js", "scan.js"],
    )
}
