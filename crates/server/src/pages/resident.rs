//! The residents' pages: sign in with a one-time code, declare for self and family, see, download and print the
//! pass, own visits and own data; and the check-in page a venue poster's QR opens.

use super::{Lang, Viewer, alert, commune_select, layout, shown_time};
use crate::AppState;
use crate::auth::Staff;
use crate::routes::me;
use axum::extract::{Query, State};
use axum::response::Html;
use kiemdich_domain::RegistryRecord;
use kiemdich_store::Role;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

pub(crate) const SYMPTOMS: [(&str, &str, &str); 6] = [
    ("fever", "Sốt", "Fever"),
    ("cough", "Ho", "Cough"),
    ("shortness_of_breath", "Khó thở", "Shortness of breath"),
    ("sore_throat", "Đau họng", "Sore throat"),
    ("fatigue", "Mệt mỏi", "Fatigue"),
    (
        "loss_of_taste_or_smell",
        "Mất vị giác hoặc khứu giác",
        "Loss of taste or smell",
    ),
];

pub(crate) const EXPOSURES: [(&str, &str, &str); 3] = [
    (
        "case_or_suspected",
        "Tiếp xúc với ca bệnh hoặc nghi ngờ",
        "Contact with a case or suspected case",
    ),
    (
        "affected_area",
        "Đến vùng có dịch",
        "Been in an affected area",
    ),
    (
        "symptomatic",
        "Tiếp xúc người có triệu chứng",
        "Contact with someone with symptoms",
    ),
];

const TRAVEL_MODES: [(&str, &str, &str); 5] = [
    ("air", "Máy bay", "Air"),
    ("train", "Tàu hoả", "Train"),
    ("coach", "Ô tô khách", "Coach"),
    ("boat", "Tàu thuyền", "Boat"),
    ("private_vehicle", "Xe cá nhân", "Private vehicle"),
];

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
            legend { (l.t("Người khai", "Person")) " " span class="num" { (i) } }
            div class="grid2" {
                label { (l.t("Số CCCD/CMND", "Citizen id")) input name=(n("citizen_id")) inputmode="numeric" autocomplete="off" value=[me.map(|r| r.citizen_id.to_string())]; }
                label { (l.t("Họ và tên", "Full name")) input name=(n("full_name")) required value=[me.map(|r| r.full_name.as_str())]; }
                label { (l.t("Ngày sinh", "Date of birth")) input name=(n("date_of_birth")) type="date" required value=[me.map(|r| r.date_of_birth.to_string())]; }
                label { (l.t("Giới tính", "Sex"))
                    select name=(n("sex")) required {
                        option value="" { "—" }
                        option value="M" selected[sex == Some("M")] { (l.t("Nam", "Male")) }
                        option value="F" selected[sex == Some("F")] { (l.t("Nữ", "Female")) }
                    }
                }
                label { (l.t("Số điện thoại", "Phone")) input name=(n("phone")) type="tel" autocomplete="off"; }
                (commune_select(st, &n("commune_code"), l.t("Xã, phường nơi ở", "Commune of residence"), me.map(|r| r.commune_code.as_str())))
            }
            label { (l.t("Địa chỉ (số nhà, đường, ấp)", "Address (house, street, hamlet)")) input name=(n("street")) value=[me.map(|r| r.address.as_str())]; }
            @if who == FormFor::Staff {
                label class="check" for=(id("identity_document_checked")) {
                    input type="checkbox" id=(id("identity_document_checked")) name=(n("identity_document_checked")) value="true" data-bool;
                    (l.t("Tôi đã xem giấy tờ tùy thân (CCCD, hộ chiếu) của người này — cần khi người này đăng ký thường trú ở xã khác",
                         "I have seen this person's identity document (citizen id card, passport) — needed when they are registered in another commune"))
                }
            }
            fieldset {
                legend { (l.t("Triệu chứng trong 14 ngày qua", "Symptoms in the last 14 days")) }
                @for (code, vi, en) in SYMPTOMS {
                    label class="check" for=(id(code)) { input type="checkbox" id=(id(code)) name=(n("symptoms")) value=(code); (l.t(vi, en)) }
                }
            }
            fieldset {
                legend { (l.t("Dịch tễ trong 14 ngày qua", "Exposure in the last 14 days")) }
                @for (code, vi, en) in EXPOSURES {
                    label class="check" for=(id(code)) { input type="checkbox" id=(id(code)) name=(n("exposures")) value=(code); (l.t(vi, en)) }
                }
            }
            details {
                summary { (l.t("Di chuyển (nếu có)", "Travel (if any)")) }
                div class="grid2" {
                    label { (l.t("Phương tiện", "Means of travel"))
                        select name=(n("travel.mode")) {
                            option value="" { "—" }
                            @for (code, vi, en) in TRAVEL_MODES { option value=(code) { (l.t(vi, en)) } }
                        }
                    }
                    label { (l.t("Biển số / số hiệu", "Vehicle number")) input name=(n("travel.vehicle_number")); }
                    label { (l.t("Nơi đi (mã đơn vị)", "From (unit code)")) input name=(n("travel.departure_unit")) list="units" inputmode="numeric"; }
                    label { (l.t("Ngày đi", "Departure date")) input name=(n("travel.departure_date")) type="date"; }
                    label { (l.t("Nơi đến (mã đơn vị)", "To (unit code)")) input name=(n("travel.destination_unit")) list="units" inputmode="numeric"; }
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
            button type="button" class="secondary" data-add-person { (l.t("Thêm người trong gia đình", "Add a family member")) }
            label class="check" for="consent" {
                input type="checkbox" id="consent" name="consent" value="true" data-bool required;
                (l.t("Tôi cam kết thông tin khai là đúng và đồng ý cho cơ quan y tế xử lý để phòng chống dịch.",
                     "I declare this is true and agree to its processing by the health authorities for epidemic control."))
            }
            (alert())
            button { (l.t("Gửi tờ khai", "Submit declaration")) }
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
        p { (l.t("Nhập số CCCD để nhận mã xác nhận qua tin nhắn đến số điện thoại đã đăng ký. Không có điện thoại? Cán bộ xã sẽ khai giúp bạn.",
                 "Enter your citizen id to get a code by SMS on your registered phone. No phone? Your commune officer will declare for you.")) }
        form data-api="/api/v1/otp" data-then="otp" class="card" {
            label { (l.t("Số CCCD", "Citizen id")) input name="citizen_id" inputmode="numeric" autocomplete="off" required; }
            (alert())
            button { (l.t("Gửi mã", "Send code")) }
        }
        form data-api="/api/v1/auth/resident" data-then="reload" id="code-step" class="card" hidden {
            input type="hidden" name="challenge_id" data-num;
            label { (l.t("Mã xác nhận (6 số)", "Code (6 digits)")) input name="code" inputmode="numeric" autocomplete="one-time-code" required; }
            (alert())
            button { (l.t("Đăng nhập", "Sign in")) }
        }
    }
}

fn pass_block(st: &AppState, l: Lang, pass: &Value) -> Markup {
    let id = pass["pass_id"].as_str().unwrap_or_default();
    let status = pass["status"].as_str().unwrap_or_default();
    html! {
        @if pass["live"].as_bool() == Some(true) {
            div class="qr" { img src={"/api/v1/passes/" (id) "/qr.svg"} alt=(l.t("Mã QR thẻ thông hành", "Pass QR code")) width="320" height="320"; }
            p { (l.t("Tình trạng", "Status")) ": " span class={"status " (status)} { (status) } " · " (l.t("hiệu lực đến", "valid until")) " " (shown_time(st, &pass["expires_at"])) }
            a class="button" href={"/api/v1/passes/" (id) "/qr.png"} download={"kiemdich-" (id) ".png"} { (l.t("Tải ảnh QR", "Download QR")) }
            a class="button secondary" href={"/passes/" (id) "/card"} { (l.t("In thẻ", "Print card")) }
        } @else {
            p { (l.t("Thẻ gần nhất không còn hiệu lực; hãy khai báo lại.", "Your latest pass is no longer valid; declare again.")) }
        }
    }
}

/// `/`: a signed-in resident's page, or the sign-in steps.
pub async fn home(State(st): State<AppState>, v: Viewer) -> Html<String> {
    let l = v.lang;
    let title = l.t("Khai báo y tế", "Health declaration");
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
                    h2 { (l.t("Thông báo cho tôi", "Notices for me")) }
                    ul {
                        @for n in notices {
                            li { (shown_time(&st, &n["at"])) ": " (n["text"].as_str().unwrap_or_default()) }
                        }
                    }
                }
                @if mine["pass"].is_object() {
                    h2 { (l.t("Thẻ thông hành của tôi", "My pass")) }
                    (pass_block(&st, l, &mine["pass"]))
                }
                h2 { (l.t("Khai báo cho tôi và gia đình", "Declare for me and my family")) }
                (declaration_form(&st, l, record.as_ref(), FormFor::Resident))
                h2 { (l.t("Lịch sử ra vào của tôi (28 ngày)", "My visits (28 days)")) }
                (visits_table(&st, l, &mine["visits"]))
                h2 { (l.t("Dữ liệu của tôi", "My data")) }
                dl {
                    dt { (l.t("Họ tên", "Name")) } dd { (mine["full_name"].as_str().unwrap_or_default()) }
                    dt { (l.t("Ngày sinh", "Date of birth")) } dd { (mine["date_of_birth"].as_str().unwrap_or_default()) }
                    dt { (l.t("Điện thoại", "Phone")) } dd { (mine["phone"].as_str().unwrap_or("—")) }
                    dt { (l.t("Địa chỉ", "Address")) } dd { (mine["address"].as_str().unwrap_or_default()) ", " (mine["commune_code"].as_str().unwrap_or_default()) }
                }
                p { a href="/api/v1/me" download="kiemdich-my-data.json" { (l.t("Tải toàn bộ dữ liệu (JSON)", "Download all my data (JSON)")) } }
            }
        }
        Err(e) => html! { p class="alert" role="alert" { (e.message) } },
    };
    layout(&v, title, "/", body, &["app.js"])
}

fn visits_table(st: &AppState, l: Lang, visits: &Value) -> Markup {
    let rows = visits.as_array().map(Vec::as_slice).unwrap_or_default();
    html! {
        @if rows.is_empty() {
            p class="muted" { (l.t("Chưa có lượt ra vào nào.", "No visits yet.")) }
        } @else {
            table {
                thead { tr { th { (l.t("Thời gian", "Time")) } th { (l.t("Địa điểm", "Place")) } th { (l.t("Chiều", "Way")) } th { (l.t("Kết quả", "Result")) } } }
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
    let title = l.t("Check-in tại địa điểm", "Check in at a venue");
    let code = q.code.unwrap_or_default();
    let place = match st.verifier().verify_venue(&code) {
        Ok(id) => st.store.location(id).await.ok().flatten(),
        Err(_) => None,
    };
    let Some(place) = place else {
        let body = html! { p class="alert" role="alert" { (l.t("Mã QR này không phải mã địa điểm hợp lệ.", "This QR code is not a valid venue code.")) } };
        return layout(&v, title, "/checkin", body, &[]);
    };
    let body = html! {
        p { strong { (place.name) } br; (place.address) }
        @if v.with_role(&[Role::Resident]).is_some() {
            form data-api="/api/v1/me/checkins" data-then="checkin" class="card" {
                input type="hidden" name="code" value=(code);
                input type="hidden" name="idempotency_key" data-fresh-key;
                fieldset {
                    legend { (l.t("Chiều", "Direction")) }
                    label class="check" for="dir-in" { input type="radio" id="dir-in" name="direction" value="in" checked; (l.t("Vào", "In")) }
                    label class="check" for="dir-out" { input type="radio" id="dir-out" name="direction" value="out"; (l.t("Ra", "Out")) }
                }
                (alert())
                button { (l.t("Xác nhận", "Confirm")) }
            }
        } @else {
            (sign_in(l))
        }
    };
    layout(&v, title, "/checkin", body, &["app.js"])
}
