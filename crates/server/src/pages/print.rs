//! The printed documents: the pass card, the venue poster and the blank paper declaration form. Each is a
//! standalone A4 document (`@page { size: A4 }`) without the site's header, menu or signed-in user; on screen
//! it has a print button and a back link, which `@media print` hides. Handlers load the data and call here.

use crate::Authority;
use kiemdich_domain::catalogue::{
    Admission as A, Common as C, Labelled as _, Lang, Print as P, fill,
};
use kiemdich_domain::declaration::{Exposure, Symptom};
use kiemdich_domain::{HealthStatus, LocationKind, Sex};
use kiemdich_pass::Holder;
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// A pass card as it prints: valid (colour, QR) or void (no QR, no colour, a notice saying why).
pub(crate) struct CardView {
    pub pass_id: String,
    /// When the pass stops being valid, in local time (`14:37 29/11/2026`).
    pub expires: String,
    pub state: CardState,
}

pub(crate) enum CardState {
    Valid {
        holder: Holder,
        qr_svg: String,
    },
    /// The holder, when the signed token still says who it was for.
    Void {
        holder: Option<Holder>,
        why: VoidReason,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VoidReason {
    Revoked,
    Superseded,
    Expired,
    /// The signature does not verify now (a retired key, a token that is not the one issued).
    Unverifiable,
}

/// A venue's poster: the place, what kind it is and the check-in link its QR holds.
pub(crate) struct PosterView<'a> {
    pub name: &'a str,
    pub kind: Option<LocationKind>,
    pub address: &'a str,
    /// The commune's name, when the unit tree knows it.
    pub commune: Option<&'a str>,
    pub link: &'a str,
    pub qr_svg: &'a str,
}

/// One printed document: A4, no site chrome; `back` is where the on-screen back link goes.
pub(super) fn document(l: Lang, title: &str, back: &str, css: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · kiemdich" }
                style { (PreEscaped(FRAME_CSS)) (PreEscaped(css)) }
            }
            body {
                div class="toolbar" {
                    a href=(back) { "← " (l.t(P::Back)) }
                    button type="button" data-print { (l.t(P::Print)) }
                }
                main class="sheet" { (body) }
                script src="/static/app.js" defer {}
            }
        }
    }
    .into_string()
}

/// The department and hotline, as every document names them.
pub(super) fn issuer(l: Lang, a: &Authority) -> Markup {
    html! {
        p class="issuer" {
            (l.t(P::IssuedBy)) ": " strong { (a.department) }
            " · " (l.t(C::Hotline)) " " strong { (a.hotline) }
        }
    }
}

/// An SVG to inline in HTML, without the XML prolog the QR renderer writes.
pub(super) fn inline_svg(svg: &str) -> PreEscaped<&str> {
    PreEscaped(svg.find("<svg").map_or(svg, |at| &svg[at..]))
}

/// Texts in other languages under a resident-facing line: Vietnamese when the page is not, and Khmer when the
/// page is not, so that a poster printed in one language still speaks to the province's Khmer speakers.
fn also_in(l: Lang, text: impl Fn(Lang) -> &'static str) -> Markup {
    html! {
        @for other in [Lang::Vi, Lang::Km].into_iter().filter(|o| *o != l) {
            span class="also" lang=(other.code()) { (text(other)) }
        }
    }
}

pub(crate) fn card(l: Lang, a: &Authority, c: &CardView) -> String {
    let holder = match &c.state {
        CardState::Valid { holder, .. } => Some(holder),
        CardState::Void { holder, .. } => holder.as_ref(),
    };
    let body = html! {
        section class="card" aria-labelledby="card-title" {
            div class="card-head" {
                h1 id="card-title" { (l.t(P::CardTitle)) }
                @if l != Lang::Km { p class="also" lang="km" { (Lang::Km.t(P::CardTitle)) } }
                p class="dept" { (a.department) }
            }
            @match &c.state {
                CardState::Valid { holder, qr_svg } => {
                    (band(l, holder.status))
                    (vaccination(l, holder))
                    div class="card-body" {
                        (holder_facts(l, holder))
                        div class="qr" role="img" aria-label=(l.t(P::CardQr)) { (inline_svg(qr_svg)) }
                    }
                    p class="until" { (l.t(P::CardValidUntil)) ": " strong { (c.expires) } }
                    p class="small" { (l.t(P::CardShowIt)) }
                }
                CardState::Void { why, .. } => {
                    div class="void" role="alert" {
                        p class="void-title" { (l.t(P::CardVoid)) }
                        p { (void_text(l, *why, &c.expires)) }
                        p { (l.t(P::CardDeclareAgain)) }
                    }
                    @if let Some(h) = holder { div class="card-body" { (holder_facts(l, h)) } }
                }
            }
            (issuer(l, a))
            p class="small mono" { (l.t(P::CardPassId)) ": " (c.pass_id) }
        }
    };
    document(l, l.t(P::CardDocTitle), "/", CARD_CSS, body)
}

fn void_text(l: Lang, why: VoidReason, expires: &str) -> String {
    match why {
        VoidReason::Revoked => l.t(P::CardVoidRevoked).to_owned(),
        VoidReason::Superseded => l.t(P::CardVoidSuperseded).to_owned(),
        VoidReason::Expired => fill(l.t(P::CardVoidExpired), &[("time", expires)]),
        VoidReason::Unverifiable => l.t(P::CardVoidUnverifiable).to_owned(),
    }
}

/// The wide band in the status colour: its name and what it means.
fn band(l: Lang, status: HealthStatus) -> Markup {
    html! {
        div class={"band " (status.as_str())} {
            p class="band-name" { (status.name(l)) }
            p { (l.t(status.meaning())) }
            p class="band-note" { (l.t(P::CardStatusAtIssue)) }
        }
    }
}

/// The vaccination state at issue, beside the colour band and never inside it.
fn vaccination(l: Lang, h: &Holder) -> Markup {
    html! {
        p class="vacc" { (l.t(A::Vaccination)) ": " strong { (h.vaccination.describe(l)) } }
    }
}

fn holder_facts(l: Lang, h: &Holder) -> Markup {
    html! {
        dl class="facts" {
            dt { (l.t(C::FullName)) } dd class="name" { (h.name) }
            dt { (l.t(P::CardBirthYear)) } dd { (h.birth_year) }
            dt { (l.t(C::CitizenId)) } dd { (h.masked_id) }
        }
    }
}

pub(crate) fn poster(l: Lang, a: &Authority, p: &PosterView) -> String {
    let place = [p.address, p.commune.unwrap_or_default()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let body = html! {
        section class="poster" aria-labelledby="poster-title" {
            h1 id="poster-title" { (l.t(P::PosterTitle)) }
            p class="subtitle" { (also_in(l, |o| o.t(P::PosterTitle))) }
            p class="venue" { strong { (p.name) } @if let Some(k) = p.kind { " · " (k.name(l)) } }
            @if !place.is_empty() { p class="place" { (place) } }
            div class="qr" role="img" aria-label=(l.t(P::PosterQr)) { (inline_svg(p.qr_svg)) }
            p class="how" { (l.t(P::PosterHow)) (also_in(l, |o| o.t(P::PosterHow))) }
            p class="how no-phone" { strong { (l.t(P::PosterNoSmartphone)) } (also_in(l, |o| o.t(P::PosterNoSmartphone))) }
            p class="small mono" { (l.t(P::PosterOrOpen)) " " (p.link) }
            (issuer(l, a))
        }
    };
    document(l, l.t(P::PosterDocTitle), "/venue", POSTER_CSS, body)
}

/// The poster's place when there is no poster to print (no signing key, a venue out of reach).
pub(crate) fn poster_problem(l: Lang, message: &str) -> String {
    let body = html! {
        h1 { (l.t(P::PosterDocTitle)) }
        p class="problem" role="alert" { (message) }
    };
    document(l, l.t(P::PosterDocTitle), "/venue", "", body)
}

pub(crate) fn paper_form(l: Lang, a: &Authority) -> String {
    let line = |label: &str| html! { p class="line" { span { (label) ":" } span class="fill" {} } };
    let yes_no = |caption: &str, items: Vec<&str>| {
        html! {
            table class="yes-no" {
                thead { tr { th scope="col" { (caption) } th scope="col" { (l.t(P::FormYes)) } th scope="col" { (l.t(P::FormNo)) } } }
                tbody {
                    @for item in items {
                        tr { th scope="row" { (item) } td { span class="box" {} } td { span class="box" {} } }
                    }
                }
            }
        }
    };
    let body = html! {
        div class="heading" {
            div {
                p class="upper" { strong { (a.department) } }
                p { (l.t(C::Hotline)) " " (a.hotline) }
            }
            div {
                p class="upper" { strong { (l.t(P::FormNation)) } }
                p class="motto" { strong { (l.t(P::FormMotto)) } }
            }
        }
        h1 { (l.t(P::FormTitle)) }
        p class="intro" { (l.t(P::FormIntro)) }
        p class="line ids" {
            span { (l.t(C::CitizenId2)) ":" }
            span class="boxes" aria-hidden="true" { @for _ in 0..12 { span class="box id" {} } }
        }
        (line(l.t(C::FullName)))
        div class="row" {
            (line(l.t(C::DateOfBirth)))
            p class="line sex" {
                span { (l.t(C::Sex)) ":" }
                @for s in [Sex::Male, Sex::Female] { span class="box" {} " " (s.name(l)) }
            }
        }
        (line(l.t(P::FormPhone)))
        (line(l.t(P::FormAddress)))
        p class="line" { span class="fill" {} }
        div class="tables" {
            (yes_no(l.t(C::SymptomsInTheLast14Days), Symptom::ALL.iter().map(|s| s.name(l)).collect()))
            (yes_no(l.t(C::ExposureInTheLast14Days), Exposure::ALL.iter().map(|e| e.name(l)).collect()))
        }
        (line(l.t(P::FormTravel)))
        p class="line" { span class="fill" {} }
        p class="consent" { (l.t(P::FormConsent)) }
        div class="signatures" {
            div {
                p { strong { (l.t(P::FormReceiver)) } }
                p class="hint" { (l.t(P::FormSignHere)) }
            }
            div {
                p class="hint" { (l.t(P::FormPlaceDate)) }
                p { strong { (l.t(P::FormDeclarant)) } }
                p class="hint" { (l.t(P::FormSignHere)) }
            }
        }
    };
    document(l, l.t(P::FormDocTitle), "/officer", FORM_CSS, body)
}

/// The frame: A4 pages with 12 mm margins; the sheet looks like paper on screen and fits a 360 px phone.
const FRAME_CSS: &str = "@page{size:A4;margin:12mm}*{box-sizing:border-box}\
html{-webkit-print-color-adjust:exact;print-color-adjust:exact}\
body{font:16px/1.4 system-ui,'Noto Sans',sans-serif;margin:0;color:#111;background:#e9ecef}\
:lang(km){font-family:'Khmer OS System','Khmer OS','Noto Sans Khmer',system-ui,sans-serif}\
.toolbar{display:flex;gap:1rem;align-items:center;justify-content:center;padding:.5rem;background:#fff;border-bottom:1px solid #bbb}\
.toolbar a{color:#0b3d6b;font-weight:600}.toolbar button{font:inherit;font-weight:600;padding:.6rem 1.4rem;border:0;border-radius:.3rem;background:#0b5cad;color:#fff;cursor:pointer}\
:focus-visible{outline:3px solid #f2a900;outline-offset:2px}\
.sheet{display:block;background:#fff;max-width:210mm;margin:1rem auto;padding:12mm;box-shadow:0 1px 4px rgba(0,0,0,.3)}\
@media(max-width:40rem){.sheet{margin:0;padding:.75rem;box-shadow:none}}\
h1{margin:0}p{margin:.3rem 0}.small{font-size:.85rem}.mono{font-family:monospace;word-break:break-all}\
.also{display:block;font-size:.9em}.issuer{margin-top:.6rem}.problem{border-left:5px solid #b00020;background:#fdecee;padding:.5rem .75rem}\
@media print{body{background:#fff;font-size:11pt}.toolbar{display:none}.sheet{margin:0;padding:0;max-width:none;box-shadow:none}}";

/// The card: an ID-card-like block on the top half of the page with a dashed cut line around it.
const CARD_CSS: &str = ".card{max-width:180mm;margin:0 auto;border:2px solid #111;border-radius:4mm;padding:5mm;outline:1px dashed #777;outline-offset:3mm}\
.card-head{text-align:center;border-bottom:1px solid #111;padding-bottom:2mm}.card-head h1{font-size:1.3rem}.dept{font-weight:600}\
.band{border:2px solid #111;border-radius:2mm;padding:2mm 4mm;margin:3mm 0}.band-name{font-size:1.6rem;font-weight:800;text-transform:uppercase;margin:0}\
.band-note{font-size:.85rem}.vacc{border:2px solid #111;border-radius:2mm;padding:1mm 4mm;margin:0 0 3mm}\
.green{background:#1b873f;color:#fff}.yellow{background:#f2c200;color:#111}.orange{background:#b35300;color:#fff}.red{background:#b3261e;color:#fff}\
.card-body{display:grid;grid-template-columns:1fr;gap:3mm;align-items:center}\
@media print,(min-width:40rem){.card-body{grid-template-columns:1fr auto}}\
.facts{display:grid;grid-template-columns:auto 1fr;gap:1mm 3mm;margin:0}.facts dt{font-weight:600}.facts dd{margin:0}\
.facts .name{font-size:1.5rem;font-weight:800}\
.qr svg{display:block;width:100%;max-width:60mm;height:auto;margin:auto}\
.until{font-size:1.1rem}\
.void{background:#b00020;color:#fff;border-radius:2mm;padding:3mm 4mm;margin:3mm 0}.void-title{font-size:2rem;font-weight:800;margin:0}\
@media print{.card{page-break-inside:avoid;break-inside:avoid}.qr svg{width:55mm;height:55mm}}";

/// The poster: one page, centred, its QR 13 cm wide in print.
const POSTER_CSS: &str = ".poster{text-align:center}.poster h1{font-size:2rem;line-height:1.2}\
.subtitle{font-size:1.2rem;font-weight:700}.venue{font-size:1.4rem;margin-top:.6rem}.place{font-size:1.05rem}\
.qr svg{display:block;width:100%;max-width:13cm;height:auto;margin:.4rem auto}\
.how{font-size:1.1rem;margin:.4rem 0}.how .also{margin-top:.1rem}\
@media print{.poster h1{font-size:26pt}.subtitle{font-size:15pt}.venue{font-size:16pt}.place{font-size:12pt}\
.qr svg{width:13cm;height:13cm;max-width:none}.how{font-size:11.5pt}.how .also{font-size:10pt}}";

/// The paper form: one page; boxes to tick, dotted lines to write on.
const FORM_CSS: &str = ".heading{display:grid;grid-template-columns:1fr;gap:2mm;text-align:center;font-size:.9rem}\
@media print,(min-width:40rem){.heading{grid-template-columns:2fr 3fr}}\
.heading p{margin:0}.upper{text-transform:uppercase}.motto{text-decoration:underline;text-underline-offset:3px}\
.sheet>h1{text-align:center;font-size:1.4rem;margin:4mm 0 1mm}.intro{font-size:.85rem;font-style:italic;text-align:center}\
.line{display:flex;flex-wrap:wrap;gap:2mm;align-items:flex-end;margin:3.2mm 0}.line .fill{flex:1;min-width:30mm;border-bottom:1px dotted #111;min-height:5mm}\
.row{display:grid;grid-template-columns:1fr;gap:0 4mm}@media print,(min-width:40rem){.row{grid-template-columns:3fr 2fr}}\
.box{display:inline-block;width:5mm;height:5mm;border:1px solid #111;vertical-align:middle}\
.boxes{display:inline-flex;flex-wrap:wrap}.box.id{width:6.5mm;height:7mm;margin-left:-1px}\
.sex .box{margin-left:3mm}\
.tables{display:grid;grid-template-columns:1fr;gap:3mm;margin:3mm 0;align-items:start}\
@media print,(min-width:40rem){.tables{grid-template-columns:1fr 1fr}}\
.yes-no{border-collapse:collapse;width:100%;font-size:.9rem}.yes-no th,.yes-no td{border:1px solid #111;padding:1.4mm 2mm;text-align:left;vertical-align:middle}\
.yes-no thead th{background:#eee}.yes-no td,.yes-no thead th+th{text-align:center;width:16mm}.yes-no tbody th{font-weight:400}\
.consent{font-size:.9rem;margin-top:3mm}\
.signatures{display:grid;grid-template-columns:1fr 1fr;gap:4mm;text-align:center;margin-top:3mm;min-height:38mm}.signatures p{margin:0}\
.hint{font-style:italic;font-size:.85rem}\
@media print{.sheet{font-size:10.5pt}}";

#[cfg(test)]
mod tests {
    use super::*;

    fn authority() -> Authority {
        Authority {
            province: "Sóc Trăng".into(),
            department: "Sở Y tế Sóc Trăng".into(),
            hotline: "1900 9095".into(),
        }
    }

    fn holder() -> Holder {
        Holder {
            name: "Nguyễn Văn An".into(),
            birth_year: 1990,
            masked_id: "094******456".into(),
            status: HealthStatus::Orange,
            commune: "31498".into(),
            vaccination: kiemdich_domain::VaccinationSummary {
                doses: 2,
                last_dose: chrono::NaiveDate::from_ymd_opt(2021, 9, 12),
            },
        }
    }

    fn card_in(l: Lang, state: CardState) -> String {
        let view = CardView {
            pass_id: "0123abcd".into(),
            expires: "14:37 29/11/2026".into(),
            state,
        };
        card(l, &authority(), &view)
    }

    /// Every document is A4, has no site frame, and names the department and the hotline.
    fn assert_printable(html: &str) {
        assert!(html.contains("@page{size:A4;"), "A4");
        assert!(html.contains("@media print{") && html.contains(".toolbar{display:none}"));
        for chrome in ["<nav", "<header", "data-logout", "class=\"who\""] {
            assert!(!html.contains(chrome), "{chrome} in {html}");
        }
        assert!(html.contains("Sở Y tế Sóc Trăng") && html.contains("1900 9095"));
    }

    #[test]
    fn a_valid_card_shows_the_colour_its_meaning_the_qr_and_the_local_expiry() {
        let html = card_in(
            Lang::Vi,
            CardState::Valid {
                holder: holder(),
                qr_svg: "<?xml version=\"1.0\"?><svg viewBox=\"0 0 1 1\"></svg>".into(),
            },
        );
        assert_printable(&html);
        assert!(html.contains("class=\"band orange\"") && html.contains(">Cam<"));
        assert!(html.contains(Lang::Vi.t(HealthStatus::Orange.meaning())));
        assert!(html.contains("Nguyễn Văn An") && html.contains("094******456"));
        assert!(html.contains("14:37 29/11/2026") && html.contains("<svg"));
        assert!(!html.contains("<?xml"), "the prolog is not inlined");
        assert!(!html.contains("KHÔNG CÒN HIỆU LỰC"));
        // The vaccination state beside the band, not inside it.
        let band = html.find("class=\"band orange\"").unwrap();
        let vacc = html.find("class=\"vacc\"").unwrap();
        assert!(html[vacc..].contains("Đã tiêm 2 mũi · mũi cuối 12/09/2021"));
        let between = &html[band..vacc];
        assert!(
            between.matches("</div>").count() > between.matches("<div").count(),
            "the band closes before the vaccination state"
        );
        // Khmer beside Vietnamese for residents, and the whole card in Khmer on request.
        assert!(html.contains(Lang::Km.t(P::CardTitle)));
        let km = card_in(
            Lang::Km,
            CardState::Valid {
                holder: holder(),
                qr_svg: "<svg></svg>".into(),
            },
        );
        assert!(km.contains("lang=\"km\"") && km.contains(Lang::Km.t(P::CardValidUntil)));
    }

    #[test]
    fn a_void_card_says_so_and_has_no_qr_or_colour() {
        for (why, text) in [
            (VoidReason::Revoked, Lang::Vi.t(P::CardVoidRevoked)),
            (VoidReason::Superseded, Lang::Vi.t(P::CardVoidSuperseded)),
            (
                VoidReason::Expired,
                "Thẻ này đã hết hạn lúc 14:37 29/11/2026.",
            ),
        ] {
            let html = card_in(
                Lang::Vi,
                CardState::Void {
                    holder: Some(holder()),
                    why,
                },
            );
            assert_printable(&html);
            assert!(
                html.contains("KHÔNG CÒN HIỆU LỰC") && html.contains(text),
                "{html}"
            );
            assert!(
                !html.contains("<svg")
                    && !html.contains("class=\"band")
                    && !html.contains("class=\"vacc")
            );
        }
    }

    #[test]
    fn the_poster_has_its_title_a_13_cm_qr_the_venue_and_help_without_a_smartphone() {
        let view = PosterView {
            name: "Chợ Phường 1",
            kind: Some(LocationKind::Market),
            address: "1 Hai Bà Trưng",
            commune: Some("Phường 1"),
            link: "https://kiemdich.example.vn/checkin?code=KDV1:1.x",
            qr_svg: "<svg></svg>",
        };
        let html = poster(Lang::Vi, &authority(), &view);
        assert_printable(&html);
        assert!(html.contains("QUÉT MÃ QR KHI VÀO / RA"));
        assert!(html.contains(Lang::Km.t(P::PosterTitle)));
        assert!(
            html.contains("Chợ Phường 1")
                && html.contains("Chợ")
                && html.contains("1 Hai Bà Trưng, Phường 1")
        );
        assert!(html.contains("Không có điện thoại thông minh"));
        assert!(html.contains(".qr svg{width:13cm;height:13cm"));
    }

    #[test]
    fn the_paper_form_has_the_national_heading_12_id_boxes_and_yes_no_boxes() {
        let html = paper_form(Lang::Vi, &authority());
        assert_printable(&html);
        assert!(html.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"));
        assert!(html.contains("Độc lập - Tự do - Hạnh phúc") && html.contains("TỜ KHAI Y TẾ"));
        assert_eq!(html.matches("class=\"box id\"").count(), 12);
        let rows = Symptom::ALL.len() + Exposure::ALL.len();
        // Two boxes (Có, Không) a row, and one a sex.
        assert_eq!(html.matches("class=\"box\"").count(), 2 * rows + 2);
        for s in Symptom::ALL {
            assert!(html.contains(s.name(Lang::Vi)));
        }
        assert!(html.contains(">Có<") && html.contains(">Không<"));
        assert!(html.contains(Lang::Vi.t(P::FormConsent)) && html.contains("NGƯỜI KHAI"));
    }
}
