//! The printable vaccination certificate (Decision 5772/QĐ-BYT): a person's HC1 with the fields of the
//! certificate, Vietnamese first and English beside every label whatever the reader's language, as Vietnam's
//! certificate is. Two sizes: A4 portrait, and a pocket card — a 170 × 54 mm strip printed on one side that
//! folds in the middle into a credit-card-sized 85 × 54 mm card, the QR on the front and the doses on the back.
//! The QR holds exactly the HC1 string at error correction Q, 65 mm wide on A4 and 38 mm on the card.
//!
//! `/vaccination/certificate?citizen_id=…&size=a4|pocket` is for health staff and administrators, the person
//! inside their jurisdiction; `/me/certificate?size=a4|pocket` is the signed-in resident's own. Both go through
//! the same service as the API (`/api/v1/residents/{id}/dcc`, `/api/v1/me/dcc`), so the same roles, jurisdiction
//! and audit apply. Without a dose, or without the right to see one, the page says why and what to do next.

use super::{Viewer, print};
use crate::error::{ApiError, ErrorCode};
use crate::services::dcc::{self as svc, PrintableDcc};
use crate::{AppState, Authority, Station, qr};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use kiemdich_domain::catalogue::{ApiText, Common as C, Dcc as D, Lang, Vaccination as T, fill};
use kiemdich_domain::vaccination::{ValueSet, value_sets};
use kiemdich_domain::{CitizenId, LocalClock};
use kiemdich_store::Principal;
use maud::{Markup, html};
use serde::Deserialize;

/// The two printed sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    #[default]
    A4,
    Pocket,
}

impl Size {
    fn as_str(self) -> &'static str {
        match self {
            Size::A4 => "a4",
            Size::Pocket => "pocket",
        }
    }
}

/// Where staff print a person's certificate at `size`.
pub fn staff_link(citizen: &str, size: Size) -> String {
    format!(
        "/vaccination/certificate?citizen_id={citizen}&size={}",
        size.as_str()
    )
}

/// Where a resident prints their own certificate at `size`.
pub fn own_link(size: Size) -> String {
    format!("/me/certificate?size={}", size.as_str())
}

#[derive(Deserialize)]
pub struct StaffQuery {
    #[serde(default)]
    citizen_id: String,
    #[serde(default)]
    size: Size,
}

#[derive(Deserialize)]
pub struct OwnQuery {
    #[serde(default)]
    size: Size,
}

/// What to do next when there is no certificate to print.
enum Forward {
    Nothing,
    /// Sign in at this page first.
    SignIn(&'static str),
    /// Staff: record the person's dose on the vaccination page (`back` opens the person there).
    RecordADose,
    /// The resident: get vaccinated, or have a dose given elsewhere recorded, at the health station.
    GetVaccinated(Option<Station>),
}

/// `/vaccination/certificate`: a person's certificate, for health staff and administrators.
pub async fn staff(
    State(st): State<AppState>,
    v: Viewer,
    q: Result<Query<StaffQuery>, QueryRejection>,
) -> Response {
    let l = v.lang;
    let Ok(Query(q)) = q else {
        return problem(&st, l, &bad_query(), Forward::Nothing, "/vaccination");
    };
    // Back to the person on the vaccination page.
    let back = CitizenId::parse(&q.citizen_id).map_or_else(
        |_| "/vaccination".to_owned(),
        |id| format!("/vaccination?q={id}"),
    );
    let Some(who) = &v.who else {
        let e = ApiError::unauthorized("sign in to print a certificate");
        return problem(&st, l, &e, Forward::SignIn("/vaccination"), &back);
    };
    match svc::printable_for_resident(&st, who, &q.citizen_id).await {
        Ok(c) => certificate(&st, l, &c, q.size, &back).await,
        Err(e) if no_dose(&e) => problem(&st, l, &e, Forward::RecordADose, &back),
        Err(e) => problem(&st, l, &e, Forward::Nothing, &back),
    }
}

/// `/me/certificate`: the signed-in resident's own certificate.
pub async fn own(
    State(st): State<AppState>,
    v: Viewer,
    q: Result<Query<OwnQuery>, QueryRejection>,
) -> Response {
    let l = v.lang;
    let Ok(Query(q)) = q else {
        return problem(&st, l, &bad_query(), Forward::Nothing, "/");
    };
    let Some(who) = &v.who else {
        let e = ApiError::unauthorized("sign in to print your certificate");
        return problem(&st, l, &e, Forward::SignIn("/"), "/");
    };
    match svc::printable_mine(&st, who).await {
        Ok(c) => certificate(&st, l, &c, q.size, "/").await,
        Err(e) if no_dose(&e) => {
            let station = own_station(&st, who).await;
            problem(&st, l, &e, Forward::GetVaccinated(station), "/")
        }
        Err(e) => problem(&st, l, &e, Forward::Nothing, "/"),
    }
}

fn bad_query() -> ApiError {
    ApiError::new(ErrorCode::Invalid, "size is a4 or pocket")
}

/// The service's answer for a person with no dose recorded.
fn no_dose(e: &ApiError) -> bool {
    e.code == ErrorCode::NotFound && e.text == ApiText::DccNoDose
}

/// The health station of the resident's commune, when one is configured (else the page names the hotline).
async fn own_station(st: &AppState, who: &Principal) -> Option<Station> {
    let id = crate::services::resident::resident_of(who).ok()?;
    let me = st.store.resident(&id).await.ok().flatten()?;
    st.station(&me.commune_code)
}

/// The certificate as it prints: the QR drawn off the async workers, the expiry in Vietnam time.
async fn certificate(st: &AppState, l: Lang, c: &PrintableDcc, size: Size, back: &str) -> Response {
    let hc1 = c.dcc.hc1.clone();
    let svg = match tokio::task::spawn_blocking(move || qr::svg_at(&hc1, qr::EcLevel::Q)).await {
        Ok(Ok(svg)) => svg,
        Ok(Err(e)) => return problem(st, l, &ApiError::internal(e), Forward::Nothing, back),
        Err(e) => return problem(st, l, &ApiError::internal(e), Forward::Nothing, back),
    };
    let view = Cert {
        c,
        qr_svg: &svg,
        expires: st.rules.clock().time(c.dcc.expires_at.timestamp()),
    };
    let a = st.authority();
    Html(match size {
        Size::A4 => a4(l, &a, &view, back),
        Size::Pocket => pocket(l, &a, &view, back),
    })
    .into_response()
}

/// What the document prints.
pub(crate) struct Cert<'a> {
    pub c: &'a PrintableDcc,
    pub qr_svg: &'a str,
    /// When the QR stops being valid, in Vietnam time (`14:37 29/11/2027`).
    pub expires: String,
}

/// A label as the certificate prints it: Vietnamese, then English beside it (on its own line, smaller).
fn label(m: D) -> Markup {
    html! { span lang="vi" { (Lang::Vi.t(m)) } " " span class="en" lang="en" { (Lang::En.t(m)) } }
}

/// A value set's name for `code` (the code itself for a value the shipped set does not know).
fn display<'a>(set: &'a ValueSet, code: &'a str) -> &'a str {
    set.get(code).map_or(code, |e| e.display.as_str())
}

/// The vaccine type in both languages; a type the catalogue does not name reads as the value set says it.
fn vaccine_type(vp: &str) -> Markup {
    let known = match vp {
        "1119349007" => Some(D::TypeMrna),
        "1119305005" | "1162643001" => Some(D::TypeAntigen),
        "29061000087103" => Some(D::TypeViralVector),
        "1157024006" => Some(D::TypeInactivated),
        "J07BX03" | "28531000087107" => Some(D::TypeCovid19),
        _ => None,
    };
    match known {
        Some(m) => label(m),
        None => html! { (display(&value_sets().vp, vp)) },
    }
}

fn title() -> String {
    format!(
        "{} · {}",
        Lang::Vi.t(D::CertificateTitle),
        Lang::En.t(D::CertificateTitle)
    )
}

/// The document's heading: the certificate's name in both languages.
fn heading() -> Markup {
    html! {
        h1 id="cert-title" {
            span lang="vi" { (Lang::Vi.t(D::CertificateTitle)) } " "
            span class="en" lang="en" { (Lang::En.t(D::CertificateTitle)) }
        }
    }
}

/// Who the certificate is for, and the certificate's identifier and validity.
fn holder(v: &Cert) -> Markup {
    let c = v.c;
    html! {
        dl class="facts" {
            dt { (label(D::Name)) } dd class="name" { (c.family_name) " " (c.given_name) }
            dt { (label(D::IcaoName)) } dd class="mono" { (c.family_name_t) "<<" (c.given_name_t) }
            dt { (label(D::DateOfBirth)) } dd { (LocalClock::date(c.date_of_birth)) }
            dt { (label(D::CertificateId)) } dd class="mono uvci" { (c.dcc.uvci) }
            dt { (label(D::ValidUntil)) } dd { strong { (v.expires) } }
        }
    }
}

fn qr(l: Lang, v: &Cert) -> Markup {
    html! { div class="qr" role="img" aria-label=(l.t(D::CertificateQr)) { (print::inline_svg(v.qr_svg)) } }
}

/// Every dose, oldest first. `full` prints the disease and the issuer on every line (A4); the card prints them
/// once, above the table.
fn doses_table(c: &PrintableDcc, full: bool) -> Markup {
    let sets = value_sets();
    let disease = display(&sets.tg, sets.covid_19());
    html! {
        table class="doses" {
            thead { tr {
                th scope="col" { (label(D::Dose)) }
                th scope="col" { (label(D::DateGiven)) }
                @if full { th scope="col" { (label(D::Disease)) } }
                th scope="col" { (label(D::Vaccine)) }
                th scope="col" { (label(D::VaccineType)) }
                th scope="col" { (label(D::Manufacturer)) }
                th scope="col" { (label(D::Country)) }
                @if full { th scope="col" { (label(D::Issuer)) } }
            } }
            tbody {
                @for d in &c.doses {
                    tr {
                        th scope="row" { (d.dose_number) "/" (d.series_doses) }
                        td { (LocalClock::date(d.date)) }
                        @if full { td { (disease) } }
                        td { (display(&sets.mp, d.product.mp())) }
                        td { (vaccine_type(d.product.vp())) }
                        td { (display(&sets.ma, d.product.ma())) }
                        td { (display(&sets.countries, d.country.as_str())) }
                        @if full { td { (c.issuer) } }
                    }
                }
            }
        }
    }
}

/// The department and its hotline, in both languages.
fn footer(a: &Authority) -> Markup {
    html! {
        p class="foot" {
            strong { (a.department) } " · "
            span lang="vi" { (Lang::Vi.t(C::Hotline)) } " / " span lang="en" { (Lang::En.t(C::Hotline)) } " "
            strong { (a.hotline) }
        }
    }
}

pub(crate) fn a4(l: Lang, a: &Authority, v: &Cert, back: &str) -> String {
    let body = html! {
        section class="cert" aria-labelledby="cert-title" {
            div class="cert-head" {
                p class="dept" { (a.department) }
                (heading())
            }
            div class="cert-top" {
                (holder(v))
                (qr(l, v))
            }
            h2 id="doses-h" { (label(D::Doses)) }
            div class="scroll" tabindex="0" role="region" aria-labelledby="doses-h" { (doses_table(v.c, true)) }
            p class="note" {
                span lang="vi" { (Lang::Vi.t(D::CertificateNote)) } " "
                span class="en" lang="en" { (Lang::En.t(D::CertificateNote)) }
            }
            (footer(a))
        }
    };
    print::document(l, &title(), back, A4_CSS, body)
}

pub(crate) fn pocket(l: Lang, a: &Authority, v: &Cert, back: &str) -> String {
    let sets = value_sets();
    let body = html! {
        p class="fold" { (l.t(D::PocketFold)) }
        div class="pocket" {
            section class="panel front" aria-labelledby="cert-title" {
                (heading())
                div class="front-body" {
                    (qr(l, v))
                    (holder(v))
                }
            }
            section class="panel back" aria-label=(l.t(D::Doses)) {
                dl class="facts" {
                    dt { (label(D::Disease)) } dd { (display(&sets.tg, sets.covid_19())) }
                    dt { (label(D::Issuer)) } dd { (v.c.issuer) }
                }
                (doses_table(v.c, false))
                (footer(a))
            }
        }
    };
    print::document(l, &title(), back, POCKET_CSS, body)
}

/// A page in place of the certificate: why there is none, and what to do.
fn problem(st: &AppState, l: Lang, e: &ApiError, next: Forward, back: &str) -> Response {
    let a = st.authority();
    let tel = |phone: &str| format!("tel:{}", phone.replace(' ', ""));
    let body = html! {
        h1 { (l.t(D::CertificateHeading)) }
        p class="problem" role="alert" { (e.message_in(l)) }
        @match &next {
            Forward::Nothing => {},
            Forward::SignIn(path) => p { a href=(path) { (l.t(C::SignIn)) } },
            Forward::RecordADose => p { (l.t(D::RecordTheDoseFirst)) " " a href=(back) { (l.t(T::RecordADose)) } },
            Forward::GetVaccinated(station) => {
                p { (l.t(D::NoDoseWayForward)) }
                @if let Some(s) = station {
                    p { (fill(l.t(D::AskStation), &[("station", &s.unit_name)])) " " a href=(tel(&s.phone)) { (s.phone) } }
                }
            },
        }
        p class="issuer" {
            strong { (a.department) } " · " (l.t(C::Hotline)) " " a href=(tel(&a.hotline)) { (a.hotline) }
        }
    };
    let html = print::document(l, l.t(D::CertificateHeading), back, "", body);
    (e.status(), Html(html)).into_response()
}

/// A4 portrait: the holder beside a 65 mm QR, then one line a dose.
const A4_CSS: &str = ".cert{border:2px solid #0b3d6b;border-radius:3mm;padding:5mm}\
.cert-head{text-align:center;border-bottom:2px solid #0b3d6b;padding-bottom:2mm;margin-bottom:3mm}.dept{font-weight:600;margin:0 0 1mm}\
.cert-head h1{font-size:1.35rem;text-transform:uppercase}.cert-head h1 .en{text-transform:none}\
.en{display:block;font-size:.82em;font-style:italic;font-weight:400;color:#333}\
.cert-top{display:grid;grid-template-columns:1fr;gap:4mm;align-items:start}\
@media print,(min-width:40rem){.cert-top{grid-template-columns:1fr auto}}\
.facts{display:grid;grid-template-columns:1fr;gap:0 4mm;margin:0}.facts dt{font-weight:600;margin-top:2mm}.facts dd{margin:0;align-self:center}\
@media print,(min-width:40rem){.facts{grid-template-columns:auto 1fr;gap:2mm 4mm}.facts dt{margin:0}}\
.facts .name{font-size:1.35rem;font-weight:800}\
.qr svg{display:block;width:100%;max-width:65mm;height:auto;margin:auto}\
h2{font-size:1.05rem;margin:4mm 0 1.5mm}.scroll{overflow-x:auto}\
.doses{border-collapse:collapse;width:100%;font-size:.8rem}.doses th,.doses td{border:1px solid #555;padding:1.2mm 1.5mm;text-align:left;vertical-align:top}\
.doses thead th{background:#e8eef5}.note{font-size:.8rem;margin-top:3mm}.foot{margin-top:2mm;font-size:.9rem}\
@media print{.qr svg{width:65mm;height:65mm;max-width:none}.doses{font-size:8.5pt}.scroll{overflow:visible}}";

/// The pocket card: two 85 × 54 mm panels side by side on a 170 × 54 mm page, cut along the dashed border and
/// folded on the middle line; on a phone the panels stack. English follows each label on the same line.
const POCKET_CSS: &str = "@page{size:170mm 54mm;margin:0}\
.fold{text-align:center;font-size:.9rem}\
.pocket{display:flex;flex-wrap:wrap;justify-content:center}\
.panel{width:85mm;height:54mm;padding:2.5mm 3mm;border:1px dashed #555;overflow:hidden;font-size:6.5pt;line-height:1.2;background:#fff}\
.panel h1{font-size:7.5pt;text-transform:uppercase;text-align:center;margin:0 0 1mm;color:#0b3d6b}.panel h1 .en{text-transform:none}\
.en{font-style:italic;font-weight:400;color:#333}.en::before{content:'/ '}\
.front-body{display:flex;gap:2mm;align-items:flex-start}.qr{flex:none}.qr svg{display:block;width:38mm;height:38mm}\
.facts{margin:0;min-width:0}.facts dt{font-size:5.5pt;font-weight:600;margin-top:.6mm}.facts dd{margin:0}.facts .name{font-size:8.5pt;font-weight:800;line-height:1.1}\
.uvci{font-size:5.5pt}\
.back .facts{display:grid;grid-template-columns:auto 1fr;gap:0 2mm}.back .facts dt{margin:0}\
.doses{border-collapse:collapse;width:100%;font-size:5.6pt;line-height:1.15;margin-top:1mm}\
.doses th,.doses td{border:1px solid #555;padding:.4mm .6mm;text-align:left;vertical-align:top}.doses thead th{background:#e8eef5}\
.foot{font-size:5.5pt;margin:1mm 0 0}\
@media screen{.sheet{max-width:182mm;padding:4mm}}\
@media print{.fold{display:none}.pocket{flex-wrap:nowrap;width:170mm;height:54mm;overflow:hidden}}";

#[cfg(test)]
mod tests {
    use super::*;

    /// Every vaccine that may be recorded prints its type in both languages, never as a code or a value-set
    /// name marked "deprecated".
    #[test]
    fn every_recordable_vaccine_has_its_type_named_in_both_languages() {
        for p in kiemdich_domain::vaccination::vaccines().all() {
            let printed = vaccine_type(p.vp()).into_string();
            assert!(
                printed.contains("lang=\"vi\"") && printed.contains("lang=\"en\""),
                "{}: {printed}",
                p.mp()
            );
            assert!(!printed.contains(p.vp()) && !printed.contains("deprecated"));
        }
    }
}
