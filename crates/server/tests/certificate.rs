//! The printable vaccination certificate: staff print a person's (A4 and pocket) with the holder, every dose
//! by its value-set names, the UVCI, the expiry in Vietnam time and a QR that decodes to exactly the HC1 the
//! API serves (error correction Q), audited as the API's read is; the resident prints their own; a person
//! without a dose gets the message and the way forward; other jurisdictions, other roles and people not signed
//! in get a page saying why, with the API's status. The resident and vaccination pages link to it. Both backends.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

#[macro_use]
mod common;

use common::{COMMUNE, OTHER_COMMUNE, RESIDENTS, STATION_PHONE, TestApp};
use kiemdich_store::Role;
use serde_json::Value;

on_both_backends!(
    staff_print_a_persons_certificate_whose_qr_is_the_hc1_the_api_serves,
    the_resident_prints_their_own_and_everyone_else_is_told_why_not,
    the_resident_and_vaccination_pages_link_to_the_certificate,
);

fn staff_page(i: usize, size: &str) -> String {
    format!(
        "/vaccination/certificate?citizen_id={}&size={size}",
        RESIDENTS[i].0
    )
}

/// A page's status and HTML.
async fn page(app: &TestApp, path: &str, token: Option<&str>) -> (u16, String) {
    let res = app.get(path, token).await;
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

/// Reads the one QR code of the first inline SVG in `html` (the `qrcode` crate's rendering: one path of
/// `M{left} {top}h{w}v{h}H{left}V{top}` rectangles), drawn at one pixel a unit; its text and error correction
/// level (rqrr: 3 = Q).
fn svg_qr(html: &str) -> (String, u16) {
    let svg = &html[html.find("<svg").unwrap()..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    let attr = |name: &str| -> usize {
        let at = svg.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        svg[at..at + svg[at..].find('"').unwrap()].parse().unwrap()
    };
    let (w, h) = (attr("width"), attr("height"));
    let mut px = vec![255u8; w * h];
    let d = svg.split(" d=\"").nth(1).unwrap();
    let d = &d[..d.find('"').unwrap()];
    for rect in d.split('M').skip(1) {
        let n: Vec<usize> = rect
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        let (left, top, rw, rh) = (n[0], n[1], n[2], n[3]);
        for y in top..top + rh {
            px[y * w + left..y * w + left + rw].fill(0);
        }
    }
    common::read_qr(w, h, |x, y| px[y * w + x])
}

/// The text of a page without its tags, spaces collapsed, entities read.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

async fn staff_print_a_persons_certificate_whose_qr_is_the_hc1_the_api_serves(app: TestApp) {
    app.install_dsc().await;
    app.dose(0, "2021-09-01").await;
    app.dose(0, "2021-10-01").await;
    let dcc: Value = app
        .get_json(
            &format!("/api/v1/residents/{}/dcc", RESIDENTS[0].0),
            Some(&app.health),
        )
        .await;
    let expires = chrono::DateTime::parse_from_rfc3339(dcc["expires_at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    let local_expiry = app.state.rules.clock().time(expires);
    let reads = "audit_log WHERE action = 'dcc.read'";
    let audited = app.count(reads).await;
    for size in ["a4", "pocket"] {
        let (status, html) = page(&app, &staff_page(0, size), Some(&app.health)).await;
        assert_eq!(status, 200, "{html}");
        let words = text(&html);
        // The holder: the name as written and as ICAO 9303 transliterates it, the date of birth.
        for fact in ["Nguyễn Văn An", "NGUYEN<<VAN<AN", "17/05/1990"] {
            assert!(words.contains(fact), "{size}: {fact} in {words}");
        }
        // Each dose by its value-set names, never its codes: product, manufacturer, type, country.
        for fact in [
            "1/2 01/09/2021",
            "2/2 01/10/2021",
            "Comirnaty",
            "Biontech Manufacturing GmbH",
            "Vắc xin mRNA",
            "Viet Nam",
            "COVID-19",
            "Ministry of Health Viet Nam",
        ] {
            assert!(words.contains(fact), "{size}: {fact} in {words}");
        }
        for code in ["EU/1/20/1528", "ORG-100030215", "1119349007", "840539006"] {
            assert!(!words.contains(code), "{size}: the code {code} shows");
        }
        // Vietnamese first, English beside each label.
        for (vi, en) in [
            ("Ngày sinh", "Date of birth"),
            ("Nhà sản xuất", "Manufacturer"),
            ("Mã chứng nhận (UVCI)", "Certificate identifier (UVCI)"),
        ] {
            assert!(words.contains(&format!("{vi} {en}")), "{size}: {vi} / {en}");
        }
        // The certificate's identifier and expiry (Vietnam time), and its QR: exactly the HC1, at Q.
        assert!(words.contains(dcc["uvci"].as_str().unwrap()), "{size}");
        assert!(words.contains(&local_expiry), "{size}: {local_expiry}");
        let (content, ecc) = svg_qr(&html);
        assert_eq!(content, dcc["hc1"].as_str().unwrap(), "{size}");
        assert_eq!(ecc, 3, "{size}: error correction Q");
        // A printed document: a print button, no site menu.
        assert!(
            html.contains("data-print") && !html.contains("<nav"),
            "{size}"
        );
        let paper = if size == "a4" {
            "@page{size:A4;"
        } else {
            "@page{size:170mm 54mm;"
        };
        assert!(html.contains(paper), "{size}");
    }
    // Both prints were reads of personal data, audited as the API's read.
    assert_eq!(app.count(reads).await, audited + 2);
    // In English, the page's controls change; the certificate stays bilingual, Vietnamese first.
    let en = app
        .client
        .get(app.at(&staff_page(0, "a4")))
        .bearer_auth(&app.health)
        .header("cookie", "kd_lang=en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("<html lang=\"en\"") && text(&en).contains("Ngày sinh Date of birth"));
    // A size that is not one is refused with a page, not a blank.
    let (status, html) = page(&app, &staff_page(0, "a3"), Some(&app.health)).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("role=\"alert\""));
}

async fn the_resident_prints_their_own_and_everyone_else_is_told_why_not(app: TestApp) {
    app.install_dsc().await;
    app.dose(0, "2021-09-01").await;
    // The resident's own: the same certificate as staff get.
    let (res, _) = app.resident_sign_in(0).await;
    let session = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mine: Value = app.get_json("/api/v1/me/dcc", Some(&session)).await;
    let own_reads = app.count("audit_log WHERE action = 'dcc.read.own'").await;
    for size in ["a4", "pocket"] {
        let (status, html) = page(
            &app,
            &format!("/me/certificate?size={size}"),
            Some(&session),
        )
        .await;
        assert_eq!(status, 200, "{html}");
        assert!(text(&html).contains(RESIDENTS[0].1));
        assert_eq!(svg_qr(&html).0, mine["hc1"].as_str().unwrap());
    }
    assert_eq!(
        app.count("audit_log WHERE action = 'dcc.read.own'").await,
        own_reads + 2
    );
    // Only their own: the staff page refuses a resident, whoever it names.
    for i in [0, 1] {
        let (status, html) = page(&app, &staff_page(i, "a4"), Some(&session)).await;
        assert_eq!(status, 403, "{html}");
        assert!(!html.contains("<svg") && !html.contains(RESIDENTS[1].1));
    }
    // Staff have no certificate of their own.
    let (status, _) = page(&app, "/me/certificate", Some(&app.health)).await;
    assert_eq!(status, 403);

    // No dose: the message and the way forward, never a blank page. The resident is sent to their health
    // station (Bé's commune has one configured) ...
    let (res, _) = app.resident_sign_in(1).await;
    let be = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, html) = page(&app, "/me/certificate?size=pocket", Some(&be)).await;
    assert_eq!(status, 404, "{html}");
    let words = text(&html);
    assert!(words.contains("chưa có mũi tiêm nào"), "{words}");
    assert!(
        words.contains("điểm tiêm chủng") && words.contains(STATION_PHONE),
        "{words}"
    );
    assert!(!html.contains("<svg"));
    // ... and staff to recording the dose on the vaccination page.
    let (status, html) = page(&app, &staff_page(1, "a4"), Some(&app.health)).await;
    assert_eq!(status, 404);
    assert!(text(&html).contains("chưa có mũi tiêm nào"));
    assert!(html.contains(&format!("href=\"/vaccination?q={}\"", RESIDENTS[1].0)));

    // Staff of another district: as the API, the person is not found there; a role without the right is
    // forbidden; nobody signed in is asked to sign in. None of them sees the certificate.
    let other = app.token(Role::Health, OTHER_COMMUNE).await;
    let vaccinator = app.token(Role::Vaccinator, COMMUNE).await;
    for (token, status) in [
        (Some(other.as_str()), 404),
        (Some(app.officer.as_str()), 403),
        (Some(vaccinator.as_str()), 403),
        (None, 401),
    ] {
        let (got, html) = page(&app, &staff_page(0, "a4"), token).await;
        assert_eq!(got, status, "{html}");
        assert!(html.contains("role=\"alert\""), "{html}");
        assert!(
            !html.contains("<svg") && !html.contains("URN:UVCI"),
            "{html}"
        );
    }
    let (status, html) = page(&app, &staff_page(0, "a4"), None).await;
    assert_eq!(status, 401);
    assert!(text(&html).contains("Đăng nhập"));
    let (status, _) = page(&app, "/me/certificate", None).await;
    assert_eq!(status, 401);
    // Out of jurisdiction matches the API's answer.
    let api = app
        .get(
            &format!("/api/v1/residents/{}/dcc", RESIDENTS[0].0),
            Some(&other),
        )
        .await;
    assert_eq!(api.status(), 404);
}

async fn the_resident_and_vaccination_pages_link_to_the_certificate(app: TestApp) {
    app.dose(0, "2021-09-01").await;
    let (res, _) = app.resident_sign_in(0).await;
    let session = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let home = async |token: &str| {
        app.get_with("/", "cookie", &format!("kd_session={token}"))
            .await
            .text()
            .await
            .unwrap()
    };
    let staff = async |token: &str| {
        let path = format!("/vaccination?q={}", RESIDENTS[0].0);
        page(&app, &path, Some(token)).await.1
    };
    let a4 = format!(
        "href=\"/vaccination/certificate?citizen_id={}&amp;size=a4\"",
        RESIDENTS[0].0
    );
    // No DSC installed: no certificate to offer.
    assert!(!home(&session).await.contains("/me/certificate"));
    assert!(!staff(&app.health).await.contains(&a4));
    app.install_dsc().await;
    let mine = home(&session).await;
    assert!(
        mine.contains("href=\"/me/certificate?size=a4\"")
            && mine.contains("href=\"/me/certificate?size=pocket\""),
        "{mine}"
    );
    let health = staff(&app.health).await;
    assert!(
        health.contains(&a4) && health.contains("size=pocket") && health.contains("In thẻ bỏ túi"),
        "{health}"
    );
    // A vaccinator may not have certificates issued: no link.
    let vaccinator = app.token(Role::Vaccinator, COMMUNE).await;
    let listed = staff(&vaccinator).await;
    assert!(listed.contains("Ghi mũi tiêm") && !listed.contains("/vaccination/certificate"));
    // A person without a dose has nothing to print.
    let (res, _) = app.resident_sign_in(1).await;
    let be = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!home(&be).await.contains("/me/certificate"));
}
