//! The OpenAPI 3.1 description of the API, written by hand next to the routes it describes; a test checks
//! that every API route is in it.

use serde_json::{Value, json};

fn op(summary: &str, auth: bool, body: Option<&str>, ok: &str) -> Value {
    let mut o = json!({
        "summary": summary,
        "responses": {
            ok: {"description": "success"},
            "4XX": {"description": "the request was refused", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
    });
    if auth {
        o["security"] = json!([{"bearer": []}, {"session": []}]);
    }
    if let Some(schema) = body {
        o["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
    }
    o
}

fn path_param(name: &str) -> Value {
    json!([{"name": name, "in": "path", "required": true, "schema": {"type": "string"}}])
}

pub fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "kiemdich API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Health declarations, the signed 72-hour KD1 pass, verification and the registry of one province."},
        "servers": [{"url": "/"}],
        "paths": paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}, "session": {"type": "apiKey", "in": "cookie", "name": "kd_session"}},
            "schemas": schemas()
        }
    })
}

/// The paths, built in parts: one `json!` of them all exceeds the macro's recursion limit.
fn paths() -> Value {
    let mut all = serde_json::Map::new();
    for part in [paths_1(), paths_2(), paths_3(), paths_4()] {
        if let Value::Object(m) = part {
            all.extend(m);
        }
    }
    Value::Object(all)
}

fn paths_1() -> Value {
    json!({
        "/healthz": {"get": op("Liveness", false, None, "200")},
        "/readyz": {"get": op("Readiness: database reachable and a signing key active", false, None, "200")},
        "/metrics": {"get": op("Prometheus metrics (ops role; without a token only on --metrics-bind)", true, None, "200")},
        "/api/v1/openapi.json": {"get": op("This document", false, None, "200")},
        "/api/v1/units": {"get": op("All administrative units", false, None, "200")},
        "/api/v1/units/{code}": {"parameters": path_param("code"), "get": op("One unit with its ancestors and children", false, None, "200")},
        "/api/v1/residents": {"get": op("Search residents of the caller's jurisdiction by name (q, commune, limit); audited", true, None, "200")},
        "/api/v1/residents/{citizen_id}": {"parameters": path_param("citizen_id"), "get": op("A registry record and its latest pass; audited", true, None, "200")},
        "/api/v1/otp": {"post": op("Send a one-time code to the phone the registry holds; every well-formed id gets the same answer {challenge_id, expires_at, message}; limited per person, per address and per server (429 with Retry-After)", false, Some("OtpRequest"), "202")},
        "/api/v1/declarations": {"post": op("Declare for one person or a family: staff for people registered in their jurisdiction (or living there, with identity_document_checked), a resident (session or one-time code in `otp`) for their household; status and pass only for a matched person", false, Some("Declaration"), "201")},
        "/api/v1/declarations/{id}": {"parameters": path_param("id"), "get": op("A stored declaration; audited", true, None, "200")},
        "/api/v1/passes/verify": {"post": op("Verify a pass online: signature, validity, revocation and current status", false, Some("VerifyRequest"), "200")}
    })
}

fn paths_2() -> Value {
    json!({
        "/api/v1/passes/{id}/qr.svg": {"parameters": path_param("id"), "get": op("The pass QR as SVG", false, None, "200")},
        "/api/v1/passes/{id}/qr.png": {"parameters": path_param("id"), "get": op("The pass QR as PNG", false, None, "200")},
        "/api/v1/passes/{id}/revoke": {"parameters": path_param("id"), "post": op("Revoke the holder's live passes", true, Some("RevokeRequest"), "200")},
        "/passes/{id}/card": {"parameters": path_param("id"), "get": op("Printable pass card (HTML)", false, None, "200")},
        "/api/v1/trust-list": {"get": op("Public keys for offline verification", false, None, "200")},
        "/api/v1/revocations": {"get": op("Revoked pass ids after cursor `since`", false, None, "200")},
        "/api/v1/locations": {
            "get": op("Locations inside the caller's jurisdiction", true, None, "200"),
            "post": op("Create a checkpoint or venue (admin, officer; inside jurisdiction)", true, Some("NewLocation"), "201")
        },
        "/api/v1/locations/{id}": {"parameters": path_param("id"), "get": op("A location and its admission policy", true, None, "200")},
        "/api/v1/locations/{id}/scans": {
            "parameters": path_param("id"),
            "post": op("Scan a pass here: admit or refuse, stored once per idempotency key (201 new, 200 replay, 409 key reused)", true, Some("Scan"), "201")
        },
        "/api/v1/locations/{id}/presence": {
            "parameters": path_param("id"),
            "get": op("Presence events in [from, to) (RFC 3339; default the last 24 h); health and officers; audited", true, None, "200")
        },
        "/api/v1/movements": {
            "get": op("Arrivals and departures of a unit (unit, from, to): checkpoint scans of declared journeys; audited", true, None, "200")
        },
        "/api/v1/locations/{id}/counts": {
            "parameters": path_param("id"),
            "get": op("Admitted entries per hour on a day (date=YYYY-MM-DD, Vietnam time): counts only, never names; venue owner, officers, health, admin", true, None, "200")
        }
    })
}

fn paths_3() -> Value {
    json!({
        "/api/v1/cases": {"post": op("Open a suspected or confirmed (F0) case: revokes the person's passes at once and notifies them and their commune (health, admin)", true, Some("NewCase"), "201")},
        "/api/v1/cases/{id}": {"parameters": path_param("id"), "get": op("A case; audited (health, admin in jurisdiction)", true, None, "200")},
        "/api/v1/cases/{id}/trace": {"parameters": path_param("id"), "post": op("Trace the case's contacts: the same JSON as `kiemdich trace --json`, plus case_id and trace_id; the result is kept with its rule version. Body optional: {depth, min_overlap}", true, None, "200")},
        "/api/v1/cases/{id}/confirm": {"parameters": path_param("id"), "post": op("Confirm contacts of a kept trace as F1/F2 cases (all, or citizen_ids): passes revoked, notices sent; all or nothing", true, Some("Confirm"), "201")},
        "/api/v1/cases/{id}/state": {"parameters": path_param("id"), "post": op("Move a case along its course {state}: released or died ends it", true, Some("CaseState"), "200")},
        "/api/v1/cases/{id}/zones": {"parameters": path_param("id"), "get": op("Zoning: the case's places and time windows, people present (counts), people per home commune, coordinates for the map; audited", true, None, "200")},
        "/api/v1/cases/{id}/zones/notify": {"parameters": path_param("id"), "post": op("Tell everyone present at the case's places during its stays to watch their health (SMS and in-app; the case is not named); once per person: answers {people_told}", true, None, "200")},
        "/api/v1/follow-ups": {"get": op("People due for a daily check on a day (day=YYYY-MM-DD, default today) in the caller's jurisdiction, with what was recorded; audited", true, None, "200"), "post": op("Record the day's check on a case {case_id, day?, outcome: well|symptoms|unreachable, channel: sms|call|visit, note?}", true, None, "201")},
        "/api/v1/traces/{id}": {"parameters": path_param("id"), "get": op("A kept tracing result as computed (format=json|csv); audited", true, None, "200")},
        "/api/v1/cases/{id}/chain": {"parameters": path_param("id"), "get": op("The transmission chain the case belongs to (format=json|dot|csv); audited", true, None, "200")},
        "/api/v1/auth/login": {"post": op("Exchange a staff password for a 12-hour session: token in the answer and the kd_session cookie", false, Some("Login"), "200")},
        "/api/v1/auth/logout": {"post": op("End the session of this token or cookie", true, None, "204")},
        "/api/v1/auth/resident": {"post": op("Sign a resident in with the one-time code from POST /api/v1/otp (2-hour session; the code is used up)", false, Some("OtpAnswer"), "200")},
        "/api/v1/auth/device": {"post": op("Sign a scanning device's browser in with its device token: a 30-day session bound to the token (revoking the token ends it); the token itself never goes into a cookie", false, Some("DeviceSignIn"), "200")}
    })
}

fn paths_4() -> Value {
    json!({
        "/api/v1/me": {"get": op("The signed-in resident's registry data, newest pass and visits of the last 28 days; audited", true, None, "200")},
        "/api/v1/me/checkins": {"post": op("The signed-in resident checks in or out at a venue by its poster code (KDV1:…)", true, Some("CheckIn"), "201")},
        "/api/v1/staff": {
            "get": op("Staff accounts inside the administrator's jurisdiction", true, None, "200"),
            "post": op("Create a staff account (admin)", true, Some("NewStaff"), "201")
        },
        "/api/v1/tokens": {"post": op("Create an API token for a device or integration (admin)", true, Some("NewToken"), "201")},
        "/api/v1/devices": {"get": op("Device and integration tokens inside the administrator's jurisdiction (never the tokens)", true, None, "200")},
        "/api/v1/keys/rotate": {"post": op("Rotate the province signing key; the old key verifies for one more pass lifetime (province admin)", true, None, "200")},
        "/api/v1/audit": {"get": op("Audit entries of a subject in the admin's jurisdiction (subject=citizen:ID, location:ID, case:ID, declaration:ID, unit:CODE, staff:ID, token:ID; limit); 404 outside it", true, None, "200")},
        "/api/v1/outbox": {"get": op("Messages to people and units in the admin's jurisdiction (phones masked; one-time codes never shown)", true, None, "200")}
    })
}

fn schemas() -> Value {
    json!({
        "Error": {"type": "object", "required": ["error", "message", "fields"], "properties": {
            "error": {"type": "string"}, "message": {"type": "string"},
            "fields": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}}},
        "OtpRequest": {"type": "object", "required": ["citizen_id"], "properties": {"citizen_id": {"type": "string", "pattern": "^[0-9]{12}$"}}},
        "Person": {"type": "object", "required": ["full_name", "date_of_birth", "sex", "commune_code"], "properties": {
            "citizen_id": {"type": "string", "pattern": "^[0-9]{12}$"}, "passport_number": {"type": "string"},
            "full_name": {"type": "string"}, "date_of_birth": {"type": "string", "format": "date"}, "sex": {"enum": ["M", "F"]},
            "nationality": {"type": "string", "default": "VN"}, "commune_code": {"type": "string"}, "street": {"type": "string"},
            "phone": {"type": "string"}, "email": {"type": "string"},
            "travel": {"type": "object", "properties": {"mode": {"enum": ["air", "train", "coach", "boat", "private_vehicle"]},
                "vehicle_number": {"type": "string"}, "seat": {"type": "string"}, "departure_unit": {"type": "string"},
                "departure_date": {"type": "string", "format": "date"}, "destination_unit": {"type": "string"}}},
            "places_visited": {"type": "array", "items": {"type": "string"}},
            "symptoms": {"type": "array", "items": {"enum": ["fever", "cough", "shortness_of_breath", "sore_throat", "fatigue", "loss_of_taste_or_smell"]}},
            "exposures": {"type": "array", "items": {"enum": ["case_or_suspected", "affected_area", "symptomatic"]}},
            "conditions": {"type": "array", "items": {"type": "string"}},
            "identity_document_checked": {"type": "boolean", "default": false}}},
        "Declaration": {"type": "object", "required": ["people", "consent"], "properties": {
            "people": {"type": "array", "minItems": 1, "maxItems": 20, "items": {"$ref": "#/components/schemas/Person"}},
            "consent": {"type": "boolean"},
            "otp": {"type": "object", "properties": {"challenge_id": {"type": "integer"}, "code": {"type": "string"}}}}},
        "VerifyRequest": {"type": "object", "required": ["token"], "properties": {"token": {"type": "string", "maxLength": 1024}}},
        "RevokeRequest": {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}},
        "NewStaff": {"type": "object", "required": ["username", "password", "role", "unit_code"], "properties": {
            "username": {"type": "string"}, "password": {"type": "string", "minLength": 10},
            "role": {"enum": ["admin", "officer", "checkpoint", "health", "venue"]}, "unit_code": {"type": "string"}}},
        "NewLocation": {"type": "object", "required": ["name", "kind", "commune_code", "lat", "lon"], "properties": {
            "name": {"type": "string"}, "kind": {"enum": ["checkpoint", "hospital", "health_facility", "agency", "public_service", "market", "business", "school", "other"]},
            "commune_code": {"type": "string"}, "address": {"type": "string"}, "lat": {"type": "number"}, "lon": {"type": "number"},
            "operator": {"type": "string"}, "dwell_minutes": {"type": "integer"},
            "admits": {"type": "array", "items": {"enum": ["green", "yellow", "orange", "red"]}}}},
        "Scan": {"type": "object", "required": ["direction", "idempotency_key"], "description": "a pass `token`, or a `citizen_id` with `identity_checked` for a person without a pass", "properties": {
            "token": {"type": "string", "maxLength": 1024}, "citizen_id": {"type": "string"}, "identity_checked": {"type": "boolean"},
            "direction": {"enum": ["in", "out"]},
            "scanned_at": {"type": "string", "format": "date-time"}, "idempotency_key": {"type": "string", "maxLength": 128}}},
        "OtpAnswer": {"type": "object", "required": ["challenge_id", "code"], "properties": {"challenge_id": {"type": "integer"}, "code": {"type": "string"}}},
        "CheckIn": {"type": "object", "required": ["code", "idempotency_key"], "properties": {
            "code": {"type": "string", "description": "the venue poster's code, KDV1:…"}, "direction": {"enum": ["in", "out"], "default": "in"},
            "idempotency_key": {"type": "string", "maxLength": 128}}},
        "DeviceSignIn": {"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}},
        "NewCase": {"type": "object", "required": ["citizen_id"], "properties": {
            "citizen_id": {"type": "string"}, "classification": {"enum": ["f0", "suspected"], "default": "f0"},
            "onset_date": {"type": "string", "format": "date", "description": "alias: onset"},
            "sample_date": {"type": "string", "format": "date"}, "isolated_date": {"type": "string", "format": "date", "description": "alias: isolated"},
            "state": {"enum": ["isolating_home", "isolating_facility", "hospitalised", "released", "died"]},
            "source": {"enum": ["test_result", "cdc_feed", "manual"]}, "vaccinated": {"type": "boolean"}}},
        "Confirm": {"type": "object", "required": ["trace_id"], "properties": {
            "trace_id": {"type": "integer"}, "citizen_ids": {"type": "array", "items": {"type": "string"}},
            "vaccinated": {"type": "array", "items": {"type": "string"}, "description": "contacts fully vaccinated or recovered: 7-day quarantine"}}},
        "CaseState": {"type": "object", "required": ["state"], "properties": {"state": {"enum": ["isolating_home", "isolating_facility", "hospitalised", "released", "died"]}}},
        "Login": {"type": "object", "required": ["username", "password"], "properties": {"username": {"type": "string"}, "password": {"type": "string"}}},
        "NewToken": {"type": "object", "required": ["name", "role", "unit_code"], "properties": {
            "name": {"type": "string"}, "role": {"enum": ["admin", "officer", "checkpoint", "health"]}, "unit_code": {"type": "string"},
            "location_id": {"type": "integer", "description": "bind a scanning device to one location"}}}
    })
}
