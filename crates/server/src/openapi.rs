//! The route table and the OpenAPI 3.1 document built from it. Each API route is declared once, in
//! [`crate::routes::api`], with its method, path, handler and what the document says of it (summary, whether it
//! needs a token or session, the request body's schema, the success status, the media types of a file or page
//! answer); [`Api::router`] serves the table and [`Api::document`] describes it, so nothing is routed undocumented
//! or documented unrouted. Path parameters come from the `{name}` segments; the operation id (`module_handler`)
//! and the tag (the module) from the handler's path as written in the table. An insta snapshot
//! (`tests/openapi.rs`) shows every change to the document in review.

use crate::AppState;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::MethodRouter;
use serde_json::{Map, Value, json};

/// One operation of the table, made by [`route!`]; the builder methods add to its documentation.
pub struct Route {
    /// The HTTP method in lower case, as the document keys it (`get`, `post`).
    method: &'static str,
    path: &'static str,
    handler: MethodRouter<AppState>,
    /// The resource module the handler lives in: the tag, and the first half of the operation id.
    module: &'static str,
    name: &'static str,
    summary: &'static str,
    auth: bool,
    body: Option<&'static str>,
    status: StatusCode,
    media: &'static [&'static str],
}

/// `route!(get "/api/v1/units/{code}" => registry::unit, "One unit…")`: the method names both the axum routing
/// function and the document's key, and the handler's `module::name` gives the tag and the operation id.
macro_rules! route {
    ($method:ident $path:literal => $module:ident :: $handler:ident, $summary:expr $(,)?) => {
        $crate::openapi::Route::new(
            stringify!($method),
            $path,
            axum::routing::$method($module::$handler),
            stringify!($module),
            stringify!($handler),
            $summary,
        )
    };
}
pub(crate) use route;

impl Route {
    /// Use [`route!`], which fills the names in from the handler.
    pub fn new(
        method: &'static str,
        path: &'static str,
        handler: MethodRouter<AppState>,
        module: &'static str,
        name: &'static str,
        summary: &'static str,
    ) -> Route {
        Route {
            method,
            path,
            handler,
            module,
            name,
            summary,
            auth: false,
            body: None,
            status: StatusCode::OK,
            media: &["application/json"],
        }
    }

    /// Needs a bearer token or a session cookie.
    pub fn auth(self) -> Route {
        Route { auth: true, ..self }
    }

    /// Takes a JSON body described by the component schema of this name.
    pub fn body(self, schema: &'static str) -> Route {
        Route {
            body: Some(schema),
            ..self
        }
    }

    /// Answers this status on success (200 unless said).
    pub fn status(self, status: StatusCode) -> Route {
        Route { status, ..self }
    }

    /// Accepts bodies of up to `bytes` (an upload) instead of the server's default limit.
    pub fn body_limit(mut self, bytes: usize) -> Route {
        self.handler = self
            .handler
            .layer(axum::extract::DefaultBodyLimit::max(bytes));
        self
    }

    /// Answers in these media types rather than JSON (a file, a page, a choice of formats).
    pub fn media(self, media: &'static [&'static str]) -> Route {
        Route { media, ..self }
    }

    fn operation(&self) -> Value {
        let mut ok = json!({"description": self.status.canonical_reason().unwrap_or("success")});
        if self.status != StatusCode::NO_CONTENT {
            let content: Map<String, Value> = self
                .media
                .iter()
                .map(|m| ((*m).to_owned(), json!({})))
                .collect();
            ok["content"] = Value::Object(content);
        }
        let mut o = json!({
            "operationId": format!("{}_{}", self.module, self.name),
            "tags": [self.module],
            "summary": self.summary,
            "responses": {
                self.status.as_str(): ok,
                "4XX": {"description": "the request was refused", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        });
        if self.auth {
            o["security"] = json!([{"bearer": []}, {"session": []}]);
        }
        if let Some(schema) = self.body {
            o["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
        }
        o
    }
}

/// The `{name}` segments of a path, as path parameters.
fn path_params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect()
}

/// The route table: the resource modules (the document's tags) and every operation.
pub struct Api {
    tags: &'static [(&'static str, &'static str)],
    routes: Vec<Route>,
}

impl Api {
    /// `tags` describes each resource module, in the order the document lists them.
    pub fn new(tags: &'static [(&'static str, &'static str)], routes: Vec<Route>) -> Api {
        Api { tags, routes }
    }

    /// The axum router serving every operation (several methods on one path merge into one route).
    pub fn router(&self) -> Router<AppState> {
        self.routes.iter().fold(Router::new(), |router, r| {
            router.route(r.path, r.handler.clone())
        })
    }

    /// The OpenAPI 3.1 document.
    pub fn document(&self) -> Value {
        let mut paths = Map::new();
        for r in &self.routes {
            let item = paths.entry(r.path).or_insert_with(|| {
                let params = path_params(r.path);
                if params.is_empty() {
                    json!({})
                } else {
                    json!({"parameters": params})
                }
            });
            item[r.method] = r.operation();
        }
        let tags: Vec<Value> = self
            .tags
            .iter()
            .map(|(name, description)| json!({"name": name, "description": description}))
            .collect();
        json!({
            "openapi": "3.1.0",
            "info": {"title": "kiemdich API", "version": env!("CARGO_PKG_VERSION"),
                     "description": "Health declarations, the signed 72-hour KD1 pass, verification and the registry of one province."},
            "servers": [{"url": "/"}],
            "tags": tags,
            "paths": paths,
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}, "session": {"type": "apiKey", "in": "cookie", "name": "kd_session"}},
                "schemas": schemas()
            }
        })
    }
}

/// The request bodies' schemas, by the names the table gives them, and the error every refusal answers.
fn schemas() -> Value {
    let mut all = core_schemas();
    if let (Some(all), Value::Object(more)) = (all.as_object_mut(), proximity_schemas()) {
        all.extend(more);
    }
    all
}

/// Proximity tracing's bodies (apart: one `json!` of every schema passes the macro's recursion limit).
fn proximity_schemas() -> Value {
    json!({
        "ProximityCodeRequest": {"type": "object", "required": ["case_id"], "additionalProperties": false, "properties": {
            "case_id": {"type": "integer", "description": "an open confirmed (F0) case"}}},
        "KeyUpload": {"type": "object", "required": ["code", "consent", "keys"], "properties": {
            "code": {"type": "string", "description": "the one-time code from a health officer (case, spaces and dashes do not matter)"},
            "consent": {"type": "boolean", "const": true},
            "keys": {"type": "array", "minItems": 1, "description": "at most the proximity rules' max_keys_per_upload, none older than key_retention_days", "items": {"type": "object", "required": ["key", "rolling_start_interval_number"], "properties": {
                "key": {"type": "string", "format": "byte", "description": "the 16-byte Temporary Exposure Key, base64"},
                "rolling_start_interval_number": {"type": "integer", "description": "ENIntervalNumber (Unix seconds / 600) of the key's first interval"},
                "rolling_period": {"type": "integer", "minimum": 1, "maximum": 144, "default": 144},
                "transmission_risk_level": {"type": "integer", "minimum": 0, "default": 0, "description": "at most the proximity rules' max_transmission_risk_level"}}}}}}
    })
}

fn core_schemas() -> Value {
    json!({
        "Error": {"type": "object", "required": ["error", "message", "detail", "fields"], "properties": {
            "error": {"type": "string", "description": "stable code clients branch on"},
            "message": {"type": "string", "description": "for people, in the caller's language (language cookie, else Accept-Language, else Vietnamese)"},
            "detail": {"type": "string", "description": "English detail for developers"},
            "fields": {"type": "array", "items": {"type": "object", "required": ["field", "code", "message"], "properties": {
                "field": {"type": "string"}, "code": {"type": "string", "description": "the kind of problem, e.g. citizen_id_shape"},
                "message": {"type": "string", "description": "the problem in the caller's language"}, "detail": {"type": "string"}}}}}},
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
            "symptoms": {"type": "array", "items": {"enum": ["fever", "cough", "shortness_of_breath", "sore_throat", "fatigue", "loss_of_taste_or_smell", "chest_pain", "confusion"]}},
            "exposures": {"type": "array", "items": {"enum": ["case_or_suspected", "affected_area", "symptomatic", "proximity"]}},
            "proximity_exposure_date": {"type": "string", "format": "date", "description": "the day a proximity-tracing app found an exposure (ticks `proximity`); a PCR is ordered for a person the registry confirms"},
            "conditions": {"type": "array", "items": {"type": "string"}},
            "identity_document_checked": {"type": "boolean", "default": false}}},
        "Declaration": {"type": "object", "required": ["people", "consent"], "properties": {
            "people": {"type": "array", "minItems": 1, "maxItems": 20, "items": {"$ref": "#/components/schemas/Person"}},
            "consent": {"type": "boolean"},
            "idempotency_key": {"type": "string", "maxLength": 128, "description": "sent again with the same key by the same submitter, the declaration is not stored twice: 200 with the first answer (409 if the form differs)"},
            "otp": {"type": "object", "properties": {"challenge_id": {"type": "integer"}, "code": {"type": "string"}}}}},
        "VerifyRequest": {"type": "object", "required": ["token"], "properties": {"token": {"type": "string", "maxLength": 1024}}},
        "RevokeRequest": {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}},
        "NewStaff": {"type": "object", "required": ["username", "password", "role", "unit_code"], "properties": {
            "username": {"type": "string"}, "password": {"type": "string", "minLength": 10},
            "role": {"enum": ["admin", "officer", "checkpoint", "health", "venue"]}, "unit_code": {"type": "string"}}},
        "NewPassword": {"type": "object", "required": ["password"], "properties": {"password": {"type": "string", "minLength": 10}}},
        "NewLocation": {"type": "object", "required": ["name", "kind", "commune_code", "lat", "lon"], "properties": {
            "name": {"type": "string"}, "kind": {"enum": ["checkpoint", "hospital", "health_facility", "agency", "public_service", "market", "business", "school", "other"]},
            "commune_code": {"type": "string"}, "address": {"type": "string"}, "lat": {"type": "number"}, "lon": {"type": "number"},
            "operator": {"type": "string"}, "dwell_minutes": {"type": "integer"},
            "admits": {"type": "array", "items": {"enum": ["green", "yellow", "orange", "red"]}},
            "vaccination": {"type": "object", "required": ["min_doses"], "additionalProperties": false,
                "description": "the vaccination required beside an admitted colour; default the kind's (none in the shipped rules); min_doses 0 for none",
                "properties": {"min_doses": {"type": "integer", "minimum": 0, "maximum": 10},
                "min_days_since_last": {"type": "integer", "minimum": 0, "maximum": 365, "default": 0}}},
            "accepts_dcc": {"type": "boolean", "description": "whether a visitor with no registry record may be admitted on an EU Digital COVID Certificate (HC1); default the kind's"}}},
        "Scan": {"type": "object", "required": ["direction", "idempotency_key"], "description": "a pass `token` (KD1:…, or an EU Digital COVID Certificate HC1:… where the place accepts one), or a `citizen_id` with `identity_checked` for a person without a pass", "properties": {
            "token": {"type": "string", "maxLength": 4296, "description": "KD1:… up to 1024 characters, HC1:… up to 4296 (a QR's capacity)"}, "citizen_id": {"type": "string"}, "identity_checked": {"type": "boolean"},
            "direction": {"enum": ["in", "out"]},
            "scanned_at": {"type": "string", "format": "date-time"}, "idempotency_key": {"type": "string", "maxLength": 128}}},
        "ScanBatch": {"type": "object", "required": ["scans"], "properties": {
            "scans": {"type": "array", "maxItems": 500, "description": "an offline scanner's queue, oldest first; each item a Scan with its location", "items": {"allOf": [
                {"$ref": "#/components/schemas/Scan"},
                {"type": "object", "required": ["location_id"], "properties": {"location_id": {"type": "integer"}}}]}}}},
        "OtpAnswer": {"type": "object", "required": ["challenge_id", "code"], "properties": {"challenge_id": {"type": "integer"}, "code": {"type": "string"}}},
        "CheckIn": {"type": "object", "required": ["code", "idempotency_key"], "properties": {
            "code": {"type": "string", "description": "the venue poster's code, KDV1:…"}, "direction": {"enum": ["in", "out"], "default": "in"},
            "idempotency_key": {"type": "string", "maxLength": 128}}},
        "HealthUpdate": {"type": "object", "additionalProperties": false, "description": "a daily health update; SpO2 below the rules' threshold or a warning symptom (shortness_of_breath, chest_pain, confusion) makes it urgent", "properties": {
            "temperature_c": {"type": "number", "description": "°C, inside the rules' range (34 to 43 in the shipped rules)"},
            "spo2": {"type": "integer", "maximum": 100, "description": "percent, from the rules' floor to 100"},
            "symptoms": {"type": "array", "items": {"enum": ["fever", "cough", "shortness_of_breath", "sore_throat", "fatigue", "loss_of_taste_or_smell", "chest_pain", "confusion"]}},
            "note": {"type": "string", "maxLength": 500}}},
        "DeviceSignIn": {"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}},
        "RiskDecision": {"type": "object", "required": ["number", "date", "issued_by", "effective_from", "levels"], "properties": {
            "number": {"type": "string", "description": "e.g. 136/QĐ-SYT"}, "date": {"type": "string", "format": "date"},
            "issued_by": {"type": "string"}, "effective_from": {"type": "string", "format": "date"},
            "levels": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["unit", "level"], "properties": {
                "unit": {"type": "string"}, "level": {"type": "integer", "minimum": 1, "maximum": 4}}}}}},
        "UnitFigures": {"type": "object", "required": ["figures"], "properties": {"figures": {"type": "array", "items": {"type": "object",
            "required": ["figure", "value", "source"], "properties": {
            "figure": {"enum": ["population", "adult_first_dose_pct", "over50_full_pct", "population_full_pct", "vulnerable_full_pct", "oxygen_patients", "deaths", "free_beds"]},
            "period": {"type": "string", "description": "ISO week YYYY-Www; absent for a standing figure"}, "value": {"type": "number"}, "source": {"type": "string"}}}}}},
        "CapacityChecklist": {"type": "object", "required": ["answers"], "properties": {
            "week": {"type": "string", "description": "ISO week YYYY-Www; default the last full week"},
            "answers": {"type": "object", "additionalProperties": {"type": "boolean"}, "description": "an answer for every item id of the rule set in force"}}},
        "NewCase": {"type": "object", "required": ["citizen_id"], "properties": {
            "citizen_id": {"type": "string"}, "classification": {"enum": ["f0", "suspected"], "default": "f0"},
            "onset_date": {"type": "string", "format": "date", "description": "alias: onset"},
            "sample_date": {"type": "string", "format": "date"}, "isolated_date": {"type": "string", "format": "date", "description": "alias: isolated"},
            "state": {"enum": ["isolating_home", "isolating_facility", "hospitalised", "released", "died"]},
            "source": {"enum": ["test_result", "cdc_feed", "manual"]}, "vaccinated": {"type": "boolean"},
            "detected_in": {"enum": ["community", "quarantine"], "default": "community", "description": "found in the community (counted by the risk rules) or already in quarantine or isolation"}}},
        "Confirm": {"type": "object", "required": ["trace_id"], "properties": {
            "trace_id": {"type": "integer"}, "citizen_ids": {"type": "array", "items": {"type": "string"}},
            "vaccinated": {"type": "array", "items": {"type": "string"}, "description": "contacts fully vaccinated or recovered (7-day quarantine), for people with no dose record only: the dose records decide for the others"}}},
        "NewDose": {"type": "object", "required": ["product", "dose_number", "date"], "additionalProperties": false, "properties": {
            "product": {"type": "string", "description": "an EU DCC mp code (EU/1/20/1528, BBIBP-CorV, …) or a name used in Vietnam (Pfizer, Vero Cell, AstraZeneca, …)"},
            "dose_number": {"type": "integer", "minimum": 1, "maximum": 9}, "series_doses": {"type": "integer", "minimum": 1, "maximum": 9, "description": "default: the product's primary series"},
            "date": {"type": "string", "format": "date"}, "lot": {"type": "string", "maxLength": 40},
            "site": {"type": "string", "maxLength": 160, "description": "a facility's name, when the site is not one of the system's locations"},
            "location_id": {"type": "integer", "description": "a location of the caller's jurisdiction"},
            "site_unit": {"type": "string", "description": "the unit a named facility lies in"},
            "country": {"type": "string", "description": "ISO 3166 alpha-2; default VN; a dose in VN needs a site"}}},
        "NewSample": {"type": "object", "required": ["citizen_id", "reason", "test_type"], "additionalProperties": false, "properties": {
            "citizen_id": {"type": "string", "pattern": "^[0-9]{12}$"}, "reason": {"enum": ["f1", "suspected", "screening", "travel", "resample"]},
            "test_type": {"enum": ["pcr", "rapid_antigen"]},
            "collected_at": {"type": "string", "description": "RFC 3339, or YYYY-MM-DD HH:MM in Vietnam time; absent: ordered, not collected yet"},
            "collected_where": {"type": "string", "maxLength": 160}}},
        "NewPool": {"type": "object", "required": ["sample_ids"], "additionalProperties": false, "properties": {
            "sample_ids": {"type": "array", "items": {"type": "integer"}, "description": "PCR samples, at least two and at most the rules' pool size (10, unconfirmed)"}}},
        "NewResult": {"type": "object", "required": ["result", "tested_at", "lab"], "additionalProperties": false, "description": "exactly one of sample_id and pool_id", "properties": {
            "sample_id": {"type": ["integer", "string"], "description": "a sample's id or label (M-…)"},
            "pool_id": {"type": ["integer", "string"], "description": "a pool's id or label (G-…)"},
            "result": {"enum": ["positive", "negative", "invalid"]},
            "tested_at": {"type": "string", "description": "RFC 3339, or YYYY-MM-DD HH:MM in Vietnam time; not in the future nor before the collection"},
            "lab": {"type": "string", "maxLength": 160}, "ct": {"type": ["number", "string"], "description": "the Ct value, inside the rules' range (0–45)"}}},
        "CaseState": {"type": "object", "required": ["state"], "properties": {"state": {"enum": ["isolating_home", "isolating_facility", "hospitalised", "released", "died"]}}},
        "Login": {"type": "object", "required": ["username", "password"], "properties": {"username": {"type": "string"}, "password": {"type": "string"}}},
        "FhirBundle": {"type": "object", "required": ["resourceType", "type"], "description": "An HL7 FHIR R4 transaction Bundle (application/fhir+json) of POST Immunization entries", "properties": {
            "resourceType": {"const": "Bundle"}, "type": {"const": "transaction"}, "entry": {"type": "array", "items": {"type": "object"}}}},
        "NewToken": {"type": "object", "required": ["name", "role", "unit_code"], "properties": {
            "name": {"type": "string"}, "role": {"enum": ["admin", "officer", "checkpoint", "health"]}, "unit_code": {"type": "string"},
            "location_id": {"type": "integer", "description": "bind a scanning device to one location"}}}
    })
}
