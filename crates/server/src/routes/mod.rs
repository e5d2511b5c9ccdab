//! Routes, one module per resource, and the table of them all: [`api`] declares each route once with its handler
//! and its documentation, and both the router and the OpenAPI document (`crate::openapi`) are made from it.

pub(crate) mod admin;
pub(crate) mod case_map;
pub(crate) mod cases;
pub(crate) mod dcc;
pub(crate) mod declarations;
pub(crate) mod exposure;
pub(crate) mod fhir;
pub(crate) mod follow_ups;
pub(crate) mod health_book;
pub(crate) mod locations;
pub(crate) mod map;
pub(crate) mod me;
mod ops;
pub(crate) mod passes;
pub(crate) mod proximity;
pub(crate) mod registry;
pub(crate) mod risk;
pub(crate) mod scan_batch;
pub(crate) mod testing;
pub(crate) mod vaccination;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::openapi::{Api, route};
use axum::Router;
use axum::extract::FromRequest;
use axum::http::StatusCode;

pub fn router() -> Router<AppState> {
    api().router()
}

/// The resource modules, as the document's tags.
const TAGS: &[(&str, &str)] = &[
    ("ops", "Liveness, readiness, metrics and this document"),
    (
        "registry",
        "Administrative units (public) and the population registry (staff, within jurisdiction, audited)",
    ),
    (
        "declarations",
        "Health declarations for a person or a family, by staff or by the resident with a one-time code",
    ),
    (
        "passes",
        "Pass verification, QR images, the printable card, revocation, and the lists offline verifiers cache",
    ),
    (
        "locations",
        "Checkpoints and venues, scans at them, their presence log and movements between units",
    ),
    (
        "scan_batch",
        "Offline scanners' batch sync: a queue of scans in one request, one answer per scan, stored in one commit",
    ),
    (
        "cases",
        "Cases, tracing their contacts, zoning and transmission chains (health roles, audited)",
    ),
    (
        "case_map",
        "The staff map: cases per commune and the places linked to cases, clustered on the server",
    ),
    (
        "exposure",
        "Exposure places: a confirmed case's places and times, published by health staff for everyone to check",
    ),
    (
        "follow_ups",
        "Daily follow-up of people in isolation or quarantine",
    ),
    (
        "health_book",
        "Daily health updates (the resident's own, or entered by staff for a person without a phone) and the electronic health book: the colour and its reasons, the whole history, and its FHIR document",
    ),
    (
        "risk",
        "Commune risk levels: computed for an ISO week beside the steering committee's decisions, figures and capacity checklists",
    ),
    (
        "vaccination",
        "Vaccination records: a person's doses (EU DCC value-set codes), recording a dose, the resident's own doses",
    ),
    (
        "testing",
        "Samples, pools and results: ordering and collecting samples, pooling PCR samples, entering results with their effects (cases, re-samples, SMS), the resident's own results",
    ),
    (
        "proximity",
        "Proximity tracing (GAEN): one-time codes for a confirmed case's key upload, the phones' uploads, the signed export batches every phone downloads and matches on itself, the key that verifies them, and per-unit daily counts",
    ),
    (
        "dcc",
        "EU Digital COVID Certificates (HC1): a person's certificate and its QR, the resident's own, and the deployment's trust list",
    ),
    (
        "admin",
        "Staff sign-in and accounts, device and integration tokens, key rotation, audit and outbox",
    ),
    (
        "map",
        "The public map: communes and districts with their boundaries, cases of the last 7 days and risk levels, as GeoJSON (no authentication, no personal data)",
    ),
    (
        "fhir",
        "The HL7 FHIR R4 (4.0.1) facade: application/fhir+json, errors as OperationOutcome, bodies up to 8 MiB; health, admin and integration tokens inside their jurisdiction, audited",
    ),
    (
        "me",
        "The resident's own side: signing in with a one-time code, their data, and checking in at a venue",
    ),
];

/// Every API route, once: method, path, handler, and what the OpenAPI document says of it.
pub fn api() -> Api {
    Api::new(
        TAGS,
        vec![
            route!(get "/healthz" => ops::healthz, "Liveness"),
            route!(get "/readyz" => ops::readyz, "Readiness: database reachable and a signing key active"),
            route!(get "/metrics" => ops::metrics, "Prometheus metrics (ops role; without a token only on --metrics-bind)")
                .auth()
                .media(&["text/plain"]),
            route!(get "/api/v1/openapi.json" => ops::openapi, "This document"),
            route!(get "/api/v1/units" => registry::units, "All administrative units"),
            route!(get "/api/v1/public/communes.geojson" => map::communes, "The communes of the province (or of the province, district or commune named by `unit`) that have a boundary, as a GeoJSON FeatureCollection simplified for that extent, neighbours sharing their borders; properties code, name, district_code, cases_7d (confirmed cases counted in the last 7 days), level (official, 1–4 or null), level_computed, decision, boundary_source (the demo's say illustrative). No authentication; ETag, max-age 60, gzip")
                .media(&["application/geo+json"]),
            route!(get "/api/v1/public/districts.geojson" => map::districts, "The districts of the province (or the district named by `unit`) that have a boundary, as a GeoJSON FeatureCollection like the communes'; properties code, name, province_code, cases_7d, level, level_computed, decision, boundary_source")
                .media(&["application/geo+json"]),
            route!(get "/api/v1/units/{code}" => registry::unit, "One unit with its ancestors and children"),
            route!(get "/api/v1/residents" => registry::search_residents, "Search residents of the caller's jurisdiction by name (q, commune, limit); audited")
                .auth(),
            route!(get "/api/v1/residents/{citizen_id}" => registry::resident, "A registry record and its latest pass; audited")
                .auth(),
            route!(get "/api/v1/residents/{citizen_id}/vaccinations" => vaccination::list, "A person's doses, oldest first: [{product (EU mp code), dose_number, series_doses, date, lot, site, country, product_name, ma, vp, site_location_id, source, recorded_at}] (health, officer, vaccinator, admin; the person's registry commune inside the caller's jurisdiction, else 404); audited")
                .auth(),
            route!(post "/api/v1/residents/{citizen_id}/vaccinations" => vaccination::record, "Record one dose {product (mp code or a name used in Vietnam), dose_number, series_doses?, date, lot?, site (facility) or location_id, site_unit?, country? (default VN)}: 201 recorded, 200 the same dose was already stored, 409 another dose of that product on that day is stored (fields name what differs; the stored one is kept), 422 field errors (health, vaccinator, admin in jurisdiction); audited")
                .auth()
                .body("NewDose")
                .status(StatusCode::CREATED),
            route!(post "/api/v1/samples" => testing::order, "Order a sample {citizen_id, reason (f1, suspected, screening, travel, resample), test_type (pcr, rapid_antigen), collected_at? (RFC 3339 or YYYY-MM-DD HH:MM Vietnam time), collected_where?}: 201 {id, label (printed, with a check character), status (ordered or collected)} (health, officer, lab, admin; the person in the caller's jurisdiction, else 404); audited")
                .auth()
                .body("NewSample")
                .status(StatusCode::CREATED),
            route!(get "/api/v1/samples" => testing::list, "A person's samples (citizen_id, newest first, optionally of one status) or the jurisdiction's samples in one status (oldest first, at most 500), each with its pool and result (health, officer, lab, admin); audited")
                .auth(),
            route!(get "/api/v1/samples/{id}/label.png" => testing::label_png, "The QR code of a sample's printed label (PNG): it holds the label (M-…), which the result entry takes as sample_id (health, officer, lab, admin; the person in the caller's jurisdiction, else 404); audited")
                .auth()
                .media(&["image/png"]),
            route!(post "/api/v1/pools" => testing::pool, "Pool PCR samples {sample_ids}: 201 {id, label}; more members than the rules allow, a rapid antigen sample, a sample already pooled or resulted, or one outside the jurisdiction: 422 naming sample_ids[i] (health, lab, admin); audited")
                .auth()
                .body("NewPool")
                .status(StatusCode::CREATED),
            route!(post "/api/v1/results" => testing::result, "Enter a result {sample_id | pool_id (id or label), result (positive, negative, invalid), tested_at, lab, ct?} with its effects in one transaction: 201 {result_id, case_id? (an individual PCR positive opens an F0 case, revoking passes), resample_ids? (a positive pool's members, an invalid test), retest_pool_id? (an invalid pool), pcr_ordered_id? (a positive rapid antigen test), member_result_ids? (a negative pool), quarantine_ended_case_ids?, revoked_passes}; 200 the same result again; 422 field errors (already resulted, before collection, in the future, Ct out of range); 404 unknown or outside the jurisdiction (lab, health, admin); audited")
                .auth()
                .body("NewResult")
                .status(StatusCode::CREATED),
            route!(get "/api/v1/residents/{citizen_id}/dcc" => dcc::of_resident, "A person's HC1 certificate {hc1 (HC1:…), uvci (URN:UVCI:01:VN:…), expires_at (RFC 3339)} for their latest dose: issued once and served again while the doses are unchanged and it is more than 30 days from expiry (health, admin; the person inside the caller's jurisdiction, else 404); 404 without a dose; 503 without a DSC installed; audited")
                .auth(),
            route!(get "/api/v1/residents/{citizen_id}/dcc/qr.png" => dcc::of_resident_qr, "The QR (error correction Q) of exactly that person's hc1")
                .auth()
                .media(&["image/png"]),
            route!(get "/api/v1/residents/{citizen_id}/health-book" => health_book::of, "A person's electronic health book {person, status {colour, reasons [{kind, colour, since, until?, detail}]}, declarations, passes, visits (28 days), samples, vaccinations, cases, follow_ups, health_updates} (health, officer, admin; the person inside the caller's jurisdiction, else 404); audited")
                .auth(),
            route!(get "/api/v1/residents/{citizen_id}/health-book.fhir" => health_book::of_fhir, "The same book as an HL7 FHIR R4 document Bundle: a Composition first, then the Patient, Immunizations and Observations (body temperature LOINC 8310-5, SpO2 59408-5); audited")
                .auth()
                .media(&["application/fhir+json"]),
            route!(post "/api/v1/residents/{citizen_id}/health-updates" => health_book::post_for, "Enter a daily health update for a person without a phone {temperature_c?, spo2?, symptoms, note?}: 201 {id, urgent} (officer, health, admin in jurisdiction, else 404); 422 field errors. Urgent (the rules' warning signs) tells the commune health station at once; it satisfies the day's follow-up of a person in isolation or quarantine; symptoms from a green person revoke their live pass")
                .auth()
                .body("HealthUpdate")
                .status(StatusCode::CREATED),
            route!(post "/api/v1/otp" => declarations::send_otp, "Send a one-time code to the phone the registry holds; every well-formed id gets the same answer {challenge_id, expires_at, message}; limited per person, per address and per server (429 with Retry-After)")
                .body("OtpRequest")
                .status(StatusCode::ACCEPTED),
            route!(post "/api/v1/declarations" => declarations::submit, "Declare for one person or a family: staff for people registered in their jurisdiction (or living there, with identity_document_checked), a resident (session or one-time code in `otp`) for their household; status and pass only for a matched person")
                .body("Declaration")
                .status(StatusCode::CREATED),
            route!(get "/api/v1/declarations/{id}" => declarations::get_one, "A stored declaration; audited")
                .auth(),
            route!(post "/api/v1/passes/verify" => passes::verify, "Verify a pass online: signature, validity, revocation and current status")
                .body("VerifyRequest"),
            route!(get "/api/v1/passes/{id}/qr.svg" => passes::qr_svg, "The pass QR as SVG")
                .media(&["image/svg+xml"]),
            route!(get "/api/v1/passes/{id}/qr.png" => passes::qr_png, "The pass QR as PNG")
                .media(&["image/png"]),
            route!(post "/api/v1/passes/{id}/revoke" => passes::revoke, "Revoke the holder's live passes")
                .auth()
                .body("RevokeRequest"),
            route!(get "/passes/{id}/card" => passes::card, "Printable pass card (HTML)")
                .media(&["text/html"]),
            route!(get "/api/v1/trust-list" => passes::trust_list, "Public keys for offline verification"),
            route!(get "/api/v1/dcc/trust-list" => dcc::trust_list, "The deployment's HC1 document signers {certificates: [{kid (base64), certificate (base64 DER)}], csca (base64 DER or null)}, no authentication"),
            route!(get "/api/v1/dcc/verifier-keys" => dcc::verifier_keys, "Every trusted HC1 document signer's key for offline verification by scanners {keys: [{kid (base64), alg (ES256|PS256), public_key (base64 SPKI DER), not_before, not_after, usages ([] = all), issued_here}]}: this deployment's and imported foreign ones; no authentication"),
            route!(get "/api/v1/revocations" => passes::revocations, "Revoked pass ids after cursor `since`"),
            route!(post "/api/v1/locations" => locations::create, "Create a checkpoint or venue (admin, officer; inside jurisdiction)")
                .auth()
                .body("NewLocation")
                .status(StatusCode::CREATED),
            route!(get "/api/v1/locations" => locations::list, "Locations inside the caller's jurisdiction")
                .auth(),
            route!(get "/api/v1/locations/{id}" => locations::get_one, "A location and its admission policy")
                .auth(),
            route!(post "/api/v1/locations/{id}/scans" => locations::scan, "Scan a pass here: admit or refuse, stored once per idempotency key (201 new, 200 replay, 409 key reused)")
                .auth()
                .body("Scan")
                .status(StatusCode::CREATED),
            route!(post "/api/v1/scans/batch" => scan_batch::batch, "Sync an offline scanner's queue {scans: [{location_id, token | citizen_id, identity_checked?, direction, scanned_at?, idempotency_key}]} (at most 500 scans and 512 KiB, else 413): 200 {results: [{idempotency_key, status, decision?, reason?, event_id?}]}, one per scan in order, each decided as the single scan; status 201 stored, 200 a replay of the same scan, 409 the key was used for another scan, 422 an invalid scan, 403 a location out of reach or not the device's own (refusals carry error, message, detail and fields). The stored ones are durable, in one commit, before the answer")
                .auth()
                .body("ScanBatch")
                .body_limit(scan_batch::MAX_BODY_BYTES),
            route!(get "/api/v1/locations/{id}/presence" => locations::presence, "Presence events in [from, to) (RFC 3339; default the last 24 h); health and officers; audited")
                .auth(),
            route!(get "/api/v1/locations/{id}/counts" => locations::hourly_counts, "Admitted entries per hour on a day (date=YYYY-MM-DD, Vietnam time): counts only, never names; venue owner, officers, health, admin")
                .auth(),
            route!(get "/api/v1/movements" => locations::movements, "Arrivals and departures of a unit (unit, from, to): checkpoint scans of declared journeys; audited")
                .auth(),
            route!(post "/api/v1/cases" => cases::create, "Open a suspected or confirmed (F0) case: revokes the person's passes at once and notifies them and their commune (health, admin)")
                .auth()
                .body("NewCase")
                .status(StatusCode::CREATED),
            route!(get "/api/v1/cases" => cases::list, "Cases of the caller's jurisdiction, newest first, with each person's name, age, commune and phone (class=f0|f1|f2|suspected, q=citizen id or name, ended=true); at most 200; audited")
                .auth(),
            route!(get "/api/v1/overview" => cases::overview, "The caller's unit today: active F0, F1, F2 and suspected cases, passes issued and scans today, follow-ups due (health, admin)")
                .auth(),
            route!(get "/api/v1/cases/{id}" => cases::get_one, "A case; audited (health, admin in jurisdiction)")
                .auth(),
            route!(post "/api/v1/cases/{id}/trace" => cases::trace, "Trace the case's contacts: the same JSON as `kiemdich trace --json`, plus case_id and trace_id; the result is kept with its rule version. Body optional: {depth, min_overlap}")
                .auth(),
            route!(post "/api/v1/cases/{id}/confirm" => cases::confirm, "Confirm contacts of a kept trace as F1/F2 cases (all, or citizen_ids): passes revoked, notices sent; all or nothing")
                .auth()
                .body("Confirm")
                .status(StatusCode::CREATED),
            route!(post "/api/v1/cases/{id}/state" => cases::set_state, "Move a case along its course {state}: released or died ends it")
                .auth()
                .body("CaseState"),
            route!(get "/api/v1/cases/{id}/zones" => cases::zones, "Zoning: the case's places and time windows, people present (counts), people per home commune, coordinates for the map; audited")
                .auth(),
            route!(post "/api/v1/cases/{id}/zones/publish" => exposure::publish, "Publish a confirmed case's places and time windows (its zones) on the public page until the expiry, replacing its earlier publication; body optional {days} (default from the rules, 1–60); the list names no case (health, admin in jurisdiction; audited)")
                .auth()
                .status(StatusCode::CREATED),
            route!(delete "/api/v1/cases/{id}/zones/publish" => exposure::withdraw, "Withdraw a case's published places from the public page (health, admin in jurisdiction; audited)")
                .auth(),
            route!(get "/api/v1/map/communes" => case_map::communes, "Cases per commune of the caller's jurisdiction counted in a range (from, to: YYYY-MM-DD, the last week by default; class) — [{code, name, district_code, cases}] (health, officer, admin)")
                .auth(),
            route!(get "/api/v1/map/places" => case_map::places, "Places linked to the jurisdiction's cases (by tracing or publication) inside the view (west, south, east, north, zoom), clustered on the server to at most 300 marks [{lat, lon, places, cases, place}] (health, officer, admin)")
                .auth(),
            route!(get "/api/v1/public/exposure-places" => exposure::public_places, "Published exposure places, latest first: [{location, kind, commune_code, commune, lat, lon, from, to}], no case and no person; public, ETag and max-age=60"),
            route!(post "/api/v1/proximity/codes" => proximity::issue_code, "Issue a one-time key upload code {case_id} for an open confirmed (F0) case: 201 {code (8 letters, ABCD-EFGH), expires_at}, valid the rules' hours, bound to the case's infectious window (from the rules' days before its onset or sample date); sent to the person's phone by SMS; 422 not an open F0 case; 404 unknown or outside the jurisdiction (health, admin); audited")
                .auth()
                .body("ProximityCodeRequest")
                .status(StatusCode::CREATED),
            route!(post "/api/v1/proximity/keys" => proximity::upload, "A phone uploads its Temporary Exposure Keys {code, consent: true, keys: [{key (base64, 16 bytes), rolling_start_interval_number, rolling_period, transmission_risk_level}]}: 201 {accepted} (keys ending before the case's infectious window are dropped; the code is used up and nothing kept links the keys to the person); 403 a code unknown, used or expired; 422 no consent, or keys of the wrong length, more than the rules allow, too old, future, overlapping or repeated, each named (nothing stored). No authentication; wrong codes throttled per address")
                .body("KeyUpload")
                .status(StatusCode::CREATED),
            route!(get "/api/v1/proximity/exports" => proximity::exports, "The published export batches, oldest first: {batches: [{id, url (the zip), start, end (the upload times covered), keys}]}; no authentication"),
            route!(get "/api/v1/proximity/exports/{id}" => proximity::export, "One batch as the zip every GAEN client reads: export.bin (EK Export v1 header, TemporaryExposureKeyExport, batch_num = batch_size = 1) and export.sig (TEKSignatureList, ECDSA P-256 SHA-256); no authentication")
                .media(&["application/zip"]),
            route!(get "/api/v1/proximity/export-key" => proximity::export_key, "The PEM (SPKI) public key that verifies every batch's export.sig; no authentication")
                .media(&["application/x-pem-file"]),
            route!(get "/api/v1/proximity/counts" => proximity::counts, "Key upload codes issued, uploads and keys received per unit and day over the last 28 days, inside the caller's jurisdiction: {days, counts: [{unit_code, unit_name, day, day_local (dd/mm/yyyy), codes_issued, uploads, keys_uploaded}]}, newest day first (health, admin)")
                .auth(),
            route!(post "/api/v1/cases/{id}/zones/notify" => cases::notify_zones, "Tell everyone present at the case's places during its stays to watch their health (SMS and in-app; the case is not named); once per person: answers {people_told}")
                .auth(),
            route!(get "/api/v1/cases/{id}/chain" => cases::chain, "The transmission chain the case belongs to (format=json|dot|csv); audited")
                .auth()
                .media(&["application/json", "text/vnd.graphviz", "text/csv"]),
            route!(get "/api/v1/traces/{id}" => cases::trace_result, "A kept tracing result as computed (format=json|csv); audited")
                .auth()
                .media(&["application/json", "text/csv"]),
            route!(get "/api/v1/follow-ups" => follow_ups::list, "People due for a daily check on a day (day=YYYY-MM-DD, default today) in the caller's jurisdiction, with what was recorded; audited")
                .auth(),
            route!(post "/api/v1/follow-ups" => follow_ups::record, "Record the day's check on a case {case_id, day?, outcome: well|symptoms|unreachable, channel: sms|call|visit, note?}")
                .auth()
                .status(StatusCode::CREATED),
            route!(get "/api/v1/risk-levels" => risk::levels, "A unit's computed level for an ISO week (unit=CODE, week=YYYY-Www, default the last full week; a future week is refused) with its criteria, bands and adjustments, beside its official level (health, admin, officer in jurisdiction)")
                .auth(),
            route!(get "/api/v1/risk-levels/history" => risk::history, "Every level decided for a unit (unit=CODE), newest first")
                .auth(),
            route!(post "/api/v1/risk-decisions" => risk::create_decision, "Record a steering committee decision {number, date, issued_by, effective_from, levels: [{unit, level}]} (province health or admin); all or nothing; audited")
                .auth()
                .body("RiskDecision")
                .status(StatusCode::CREATED),
            route!(get "/api/v1/risk-decisions" => risk::list_decisions, "The decisions of the caller's province, newest first")
                .auth(),
            route!(get "/api/v1/risk-decisions/{id}" => risk::get_decision, "A decision with its levels")
                .auth(),
            route!(put "/api/v1/risk-decisions/{id}/file" => risk::put_file, "Attach the signed decision (application/pdf, at most 10 MiB, starting with %PDF-; X-File-Name optional)")
                .auth()
                .body_limit(risk::MAX_UPLOAD_BYTES),
            route!(get "/api/v1/risk-decisions/{id}/file" => risk::get_file, "The signed decision as PDF")
                .auth()
                .media(&["application/pdf"]),
            route!(put "/api/v1/units/{code}/figures" => risk::put_figures, "Set a unit's official figures (population, coverage, oxygen patients, deaths, free beds; standing or per ISO week) (health, admin in jurisdiction); answers all its figures")
                .auth()
                .body("UnitFigures"),
            route!(put "/api/v1/units/{code}/checklist" => risk::put_checklist, "Record a unit's treatment-capacity checklist for an ISO week, an answer per item of the rule set in force (health, admin in jurisdiction)")
                .auth()
                .body("CapacityChecklist"),
            route!(get "/fhir/metadata" => fhir::metadata, "The CapabilityStatement (no authentication)")
                .media(&["application/fhir+json"]),
            route!(get "/fhir/Patient" => fhir::search_patients, "Search the registry by citizen id: identifier=SYSTEM|CITIZEN_ID (or the id alone); a searchset Bundle of the person in the caller's jurisdiction, or none; audited")
                .auth()
                .media(&["application/fhir+json"]),
            route!(get "/fhir/Patient/{id}" => fhir::read_patient, "A person of the registry by logical id (the citizen id); 404 outside the caller's jurisdiction; audited")
                .auth()
                .media(&["application/fhir+json"]),
            route!(get "/fhir/Immunization" => fhir::search_immunizations, "A person's COVID-19 doses: patient.identifier=SYSTEM|CITIZEN_ID (or the id alone); a searchset Bundle; audited")
                .auth()
                .media(&["application/fhir+json"]),
            route!(get "/fhir/Observation" => fhir::search_observations, "A person's SARS-CoV-2 results (LOINC 94500-6 PCR, 94558-4 rapid antigen; SNOMED CT detected/not detected; Ct as component 94745-7): patient=Patient/CITIZEN_ID or patient.identifier=SYSTEM|CITIZEN_ID; a searchset Bundle (health, admin, integration, lab in jurisdiction); audited")
                .auth()
                .media(&["application/fhir+json"]),
            route!(get "/fhir/Observation/{id}" => fhir::read_observation, "One result by logical id (its sample's id); 404 unknown or outside the caller's jurisdiction; audited")
                .auth()
                .media(&["application/fhir+json"]),
            route!(get "/fhir/DiagnosticReport" => fhir::search_reports, "A person's laboratory reports, one per result: patient=Patient/CITIZEN_ID or patient.identifier=SYSTEM|CITIZEN_ID; a searchset Bundle; audited")
                .auth()
                .media(&["application/fhir+json"]),
            route!(get "/fhir/DiagnosticReport/{id}" => fhir::read_report, "One report by logical id (its sample's id); 404 unknown or outside the caller's jurisdiction; audited")
                .auth()
                .media(&["application/fhir+json"]),
            route!(get "/fhir/Specimen/{id}" => fhir::read_specimen, "One resulted sample by logical id (its id), identified by its printed label; 404 unknown or outside the caller's jurisdiction; audited")
                .auth()
                .media(&["application/fhir+json"]),
            route!(post "/fhir" => fhir::transaction, "A transaction Bundle, all or nothing: POST Immunization entries (patient as Patient?identifier=SYSTEM|ID or an identifier; health, admin, integration), or a laboratory's POST Specimen (identifier: the sample's label) + Observation (specimen: the Specimen's fullUrl) + DiagnosticReport entries, recorded as results with their effects (lab, health, admin; the sample's person in the caller's jurisdiction, else 403). A transaction-response Bundle (201 per new resource, 200 per one already stored) or one OperationOutcome naming every entry at fault; at most 8 MiB")
                .auth()
                .body("FhirBundle")
                .body_limit(crate::fhir::MAX_BODY_BYTES)
                .media(&["application/fhir+json"]),
            route!(post "/api/v1/auth/login" => admin::login, "Exchange a staff password for a 12-hour session: token in the answer and the kd_session cookie")
                .body("Login"),
            route!(post "/api/v1/auth/logout" => admin::logout, "End the session of this token or cookie")
                .auth()
                .status(StatusCode::NO_CONTENT),
            route!(post "/api/v1/auth/device" => admin::device_sign_in, "Sign a scanning device's browser in with its device token: a 30-day session bound to the token (revoking the token ends it); the token itself never goes into a cookie")
                .body("DeviceSignIn"),
            route!(post "/api/v1/auth/resident" => me::sign_in, "Sign a resident in with the one-time code from POST /api/v1/otp (2-hour session; the code is used up)")
                .body("OtpAnswer"),
            route!(post "/api/v1/me/sessions/end" => me::sign_out_everywhere, "End every session of the signed-in resident, on every device (a lost phone, a remembered shared one)")
                .auth()
                .status(StatusCode::NO_CONTENT),
            route!(get "/api/v1/me" => me::me, "The signed-in resident's registry data, newest pass and visits of the last 28 days; audited")
                .auth(),
            route!(get "/api/v1/me/samples" => testing::mine, "The signed-in resident's own samples, newest first, with their results: [{id, label, test_type, test_name, reason, status, status_name, due_on, collected_at, collected_local (Vietnam time), result: {result, result_name, lab, tested_at, tested_local, ct}}]; audited")
                .auth(),
            route!(get "/api/v1/me/vaccinations" => vaccination::mine, "The signed-in resident's own doses, as staff read them; audited")
                .auth(),
            route!(get "/api/v1/me/dcc" => dcc::mine, "The signed-in resident's HC1 certificate {hc1, uvci, expires_at (RFC 3339)} for their latest dose, as staff get it; 404 without a dose, 503 without a DSC installed; audited")
                .auth(),
            route!(get "/api/v1/me/dcc/qr.png" => dcc::mine_qr, "The QR (error correction Q) of exactly the signed-in resident's hc1")
                .auth()
                .media(&["image/png"]),
            route!(get "/api/v1/me/health-book" => health_book::mine, "The signed-in resident's electronic health book, as staff read it; audited")
                .auth(),
            route!(get "/api/v1/me/health-book.fhir" => health_book::mine_fhir, "The signed-in resident's health book as a FHIR R4 document Bundle; audited")
                .auth()
                .media(&["application/fhir+json"]),
            route!(post "/api/v1/me/health-updates" => health_book::post_mine, "The signed-in resident posts a daily health update {temperature_c?, spo2?, symptoms, note?}: 201 {id, urgent}; 422 field errors")
                .auth()
                .body("HealthUpdate")
                .status(StatusCode::CREATED),
            route!(post "/api/v1/me/checkins" => me::check_in, "The signed-in resident checks in or out at a venue by its poster code (KDV1:…)")
                .auth()
                .body("CheckIn")
                .status(StatusCode::CREATED),
            route!(post "/api/v1/staff" => admin::create_staff, "Create a staff account (admin)")
                .auth()
                .body("NewStaff")
                .status(StatusCode::CREATED),
            route!(get "/api/v1/staff" => admin::list_staff, "Staff accounts inside the administrator's jurisdiction")
                .auth(),
            route!(post "/api/v1/staff/{id}/disable" => admin::disable_staff, "Disable a staff account in the admin's jurisdiction: it cannot sign in and its live sessions end at once; audited; 404 outside it")
                .auth(),
            route!(post "/api/v1/staff/{id}/enable" => admin::enable_staff, "Enable a disabled staff account again; audited; 404 outside the admin's jurisdiction")
                .auth(),
            route!(post "/api/v1/staff/{id}/password" => admin::reset_password, "Set a staff account's new password (at least 10 characters) and end its live sessions; audited; 404 outside the admin's jurisdiction")
                .auth()
                .body("NewPassword"),
            route!(post "/api/v1/tokens" => admin::create_token, "Create an API token for a device or integration (admin); for a scanning device also enrol_url and enrol_qr_svg, the scanner page's address with the token in its fragment, as a QR the phone reads")
                .auth()
                .body("NewToken")
                .status(StatusCode::CREATED),
            route!(get "/api/v1/devices" => admin::list_devices, "Device and integration tokens inside the administrator's jurisdiction (never the tokens)")
                .auth(),
            route!(post "/api/v1/devices/{id}/revoke" => admin::revoke_device, "Revoke a device or integration token (by its id in GET /api/v1/devices) and the browser sessions signed in with it; audited; 404 outside the admin's jurisdiction")
                .auth(),
            route!(post "/api/v1/keys/rotate" => admin::rotate_key, "Rotate the province signing key; the old key verifies for one more pass lifetime (province admin)")
                .auth(),
            route!(get "/api/v1/outbox" => admin::outbox, "Messages to people and units in the admin's jurisdiction (phones masked; one-time codes never shown)")
                .auth(),
            route!(get "/api/v1/audit" => admin::audit, "Audit entries of a subject in the admin's jurisdiction (subject=citizen:ID, location:ID, case:ID, declaration:ID, unit:CODE, staff:ID, token:ID; limit); 404 outside it")
                .auth(),
        ],
    )
}

/// A JSON body whose rejection (bad JSON, wrong shape, too large) is answered in the API's error format.
pub struct Body<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: axum::extract::Request, state: &S) -> ApiResult<Body<T>> {
        let axum::Json(v) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Body(v))
    }
}

/// Query parameters whose rejection (a word where a number belongs) is answered in the API's error format.
pub struct Params<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S>
    for Params<T>
{
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> ApiResult<Params<T>> {
        let axum::extract::Query(v) = axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::new(crate::error::ErrorCode::Invalid, e.body_text()))?;
        Ok(Params(v))
    }
}

/// A JSON body that may be left out (empty or whitespace): then `T::default()`.
pub struct OptionalBody<T>(pub T);

impl<T: serde::de::DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalBody<T> {
    type Rejection = ApiError;
    async fn from_request(req: axum::extract::Request, state: &S) -> ApiResult<OptionalBody<T>> {
        let body = axum::body::Bytes::from_request(req, state).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalBody(T::default()));
        }
        serde_json::from_slice(&body)
            .map(OptionalBody)
            .map_err(|e| ApiError::new(crate::error::ErrorCode::InvalidBody, e.to_string()))
    }
}

/// Formats Unix seconds as RFC 3339 for API answers.
pub fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
