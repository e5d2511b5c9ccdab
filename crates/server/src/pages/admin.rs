//! Administrators: staff accounts, locations, scanning devices and signing keys.

use super::venue::location_form;
use super::{Lang, Viewer, alert, layout};
use crate::AppState;
use axum::extract::State;
use axum::response::Html;
use kiemdich_store::{Location, Role, keyring};
use maud::{Markup, html};

const ROLES: [(&str, &str, &str); 5] = [
    ("officer", "Cán bộ xã", "Commune officer"),
    (
        "checkpoint",
        "Nhân viên chốt / quét mã",
        "Checkpoint / scanner staff",
    ),
    ("health", "Cán bộ y tế", "Health officer"),
    ("venue", "Chủ cơ sở", "Venue owner"),
    ("admin", "Quản trị", "Administrator"),
];

fn role_select(l: Lang, only: &[&str]) -> Markup {
    html! {
        label { (l.t("Vai trò", "Role"))
            select name="role" required {
                @for (code, vi, en) in ROLES.iter().filter(|r| only.is_empty() || only.contains(&r.0)) {
                    option value=(code) { (l.t(vi, en)) }
                }
            }
        }
    }
}

fn unit_input(l: Lang, unit: &str) -> Markup {
    html! {
        label { (l.t("Mã đơn vị phụ trách", "Unit code of the jurisdiction")) input name="unit_code" inputmode="numeric" required value=(unit); }
    }
}

pub async fn page(State(st): State<AppState>, v: Viewer) -> Html<String> {
    let l = v.lang;
    let title = l.t("Quản trị", "Administration");
    let p = match v.staff(&[Role::Admin], title, "/admin") {
        Ok(p) => p,
        Err(page) => return page,
    };
    let units = st.units_within(&p.unit);
    let staff = st.store.staff_in(&units).await.unwrap_or_default();
    let mut devices = st.store.devices().await.unwrap_or_default();
    devices.retain(|d| units.contains(&d.unit_code));
    let locations: Vec<Location> = st.store.locations_in(&units).await.unwrap_or_default();
    let keys = keyring::trust_list(&st.store, &st.issuer)
        .await
        .map(|t| t.keys)
        .unwrap_or_default();
    let unit = p.unit.as_str();
    let body = html! {
        nav aria-label=(l.t("Mục quản trị", "Admin sections")) {
            a href="#staff" { (l.t("Tài khoản", "Accounts")) } " · " a href="#locations" { (l.t("Địa điểm", "Locations")) } " · "
            a href="#devices" { (l.t("Thiết bị", "Devices")) } " · " a href="#keys" { (l.t("Khoá ký", "Signing keys")) }
        }
        h2 id="staff" { (l.t("Tài khoản cán bộ", "Staff accounts")) }
        table {
            thead { tr { th { (l.t("Tên đăng nhập", "Username")) } th { (l.t("Vai trò", "Role")) } th { (l.t("Đơn vị", "Unit")) } } }
            tbody { @for s in &staff { tr { td { (s.username) } td { (s.role) } td { (s.unit_code) } } } }
        }
        form data-api="/api/v1/staff" data-then="reload" class="card" {
            label { (l.t("Tên đăng nhập", "Username")) input name="username" required autocomplete="off"; }
            label { (l.t("Mật khẩu (ít nhất 10 ký tự)", "Password (at least 10 characters)")) input name="password" type="password" required minlength="10" autocomplete="new-password"; }
            (role_select(l, &[]))
            (unit_input(l, unit))
            (alert())
            button { (l.t("Tạo tài khoản", "Create account")) }
        }
        h2 id="locations" { (l.t("Địa điểm", "Locations")) }
        table {
            thead { tr { th { "#" } th { (l.t("Tên", "Name")) } th { (l.t("Loại", "Kind")) } th { (l.t("Xã", "Commune")) } th { (l.t("Cho vào", "Admits")) } } }
            tbody { @for x in &locations { tr { td { (x.id) } td { (x.name) } td { (x.kind) } td { (x.commune_code) } td { (x.admits.join(", ")) } } } }
        }
        (location_form(&st, l, false))
        h2 id="devices" { (l.t("Thiết bị quét", "Scanning devices")) }
        table {
            thead { tr { th { "#" } th { (l.t("Tên", "Name")) } th { (l.t("Địa điểm", "Location")) } th { (l.t("Trạng thái", "State")) } } }
            tbody {
                @for d in &devices {
                    tr { td { (d.id) } td { (d.name) } td { (d.location_id.map(|i| i.to_string()).unwrap_or_else(|| "—".into())) }
                         td { (if d.revoked { l.t("đã thu hồi", "revoked") } else { l.t("đang dùng", "active") }) } }
                }
            }
        }
        form data-api="/api/v1/tokens" data-then="token" class="card" {
            label { (l.t("Tên thiết bị", "Device name")) input name="name" required maxlength="100"; }
            (role_select(l, &["checkpoint"]))
            (unit_input(l, unit))
            label { (l.t("Gắn với địa điểm", "Bound to location"))
                select name="location_id" data-num {
                    option value="" { (l.t("Không gắn", "Not bound")) }
                    @for x in &locations { option value=(x.id) { (x.name) } }
                }
            }
            (alert())
            button { (l.t("Tạo mã thiết bị", "Create device token")) }
        }
        h2 id="keys" { (l.t("Khoá ký thẻ", "Pass signing keys")) }
        table {
            thead { tr { th { "kid" } th { (l.t("Từ", "From")) } th { (l.t("Đến", "Until")) } } }
            tbody {
                @for k in &keys {
                    tr { td class="mono" { (k.kid) } td { (k.not_before.format("%Y-%m-%d %H:%M")) }
                         td { (k.not_after.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "—".into())) } }
                }
            }
        }
        form data-api="/api/v1/keys/rotate" data-then="reload" data-confirm=(l.t("Đổi khoá ký? Thẻ cũ vẫn hợp lệ đến khi hết hạn.", "Rotate the signing key? Existing passes stay valid until they expire.")) {
            (alert())
            button { (l.t("Đổi khoá ký", "Rotate signing key")) }
        }
    };
    layout(&v, title, "/admin", body, &["app.js"])
}
