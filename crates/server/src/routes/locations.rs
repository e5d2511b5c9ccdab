//! Locations (checkpoints and venues), scans at them and their presence log.

use super::Body;
use super::passes::check;
use crate::AppState;
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::metrics::Metrics;
use crate::services::{dcc, officer, venue};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Datelike, Utc};
use kiemdich_dcc::MAX_HC1_LEN;
use kiemdich_domain::catalogue::Problem;
use kiemdich_domain::location::check_coordinates;
use kiemdich_domain::{
    CitizenId, Decision, Direction, FieldErrors, HealthStatus, Instant, LocationKind,
    RegistryRecord, ScanMethod, UnitCode, UnitLevel, VaccinationCheck, VaccinationRequirement,
    VaccinationSummary, clean_text,
};
use kiemdich_pass::{MAX_TOKEN_LEN, Reason, Rejection};
use kiemdich_store::{
    Current, Location, NewPlace, NewScan, PresenceEvent, Principal, Role, ScanRecorded, Standing,
};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct NewLocation {
    name: String,
    kind: String,
    commune_code: String,
    #[serde(default)]
    address: String,
    lat: f64,
    lon: f64,
    /// The organisation operating the place.
    #[serde(default)]
    operator: String,
    dwell_minutes: Option<i64>,
    /// Admitted statuses; default from the rules for the kind.
    admits: Option<Vec<String>>,
    /// The vaccination required beside an admitted colour; default from the rules for the kind, and
    /// `{"min_doses": 0}` for none.
    vaccination: Option<RequirementRequest>,
    /// Whether a visitor with no registry record may be admitted on an EU Digital COVID Certificate (HC1);
    /// default from the rules for the kind.
    accepts_dcc: Option<bool>,
}

/// A vaccination requirement as sent, checked by [`VaccinationRequirement::parse`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementRequest {
    min_doses: i64,
    min_days_since_last: Option<i64>,
}

/// A text field of at most `max` characters (optional when `required` is false), checked by
/// [`clean_text`].
fn text(errs: &mut FieldErrors, field: &str, s: &str, required: bool, max: usize) -> String {
    if s.trim().is_empty() && !required {
        return String::new();
    }
    errs.check(field, clean_text(s, max)).unwrap_or_default()
}

pub async fn create(
    State(st): State<AppState>,
    staff: Staff,
    Body(req): Body<NewLocation>,
) -> ApiResult<(StatusCode, Json<Location>)> {
    let who = staff.require(&[Role::Admin, Role::Officer, Role::Venue])?;
    let mut errs = FieldErrors::default();
    let name = text(&mut errs, "name", &req.name, true, 200);
    let address = text(&mut errs, "address", &req.address, false, 300);
    let operator = text(&mut errs, "operator", &req.operator, false, 200);
    let kind = errs.check("kind", LocationKind::parse(&req.kind));
    if who.role == Role::Venue && kind.is_some_and(|k| !LocationKind::OWNER_REGISTERED.contains(&k))
    {
        errs.push(
            "kind",
            "venue owners register markets, businesses, schools or other venues; officials register the rest",
        );
    }
    let commune = errs.check("commune_code", UnitCode::parse(&req.commune_code));
    if let Some(c) = &commune
        && st
            .units()
            .get(c)
            .is_none_or(|u| u.level != UnitLevel::Commune)
    {
        errs.push("commune_code", format!("{c} is not a known commune"));
    }
    errs.check("lat", check_coordinates(req.lat, req.lon));
    let defaults = kind.map(|k| st.rules.location_kinds[&k].clone());
    let dwell = req
        .dwell_minutes
        .or(defaults.as_ref().map(|d| i64::from(d.dwell_minutes)))
        .unwrap_or(0);
    if !(1..=24 * 60).contains(&dwell) {
        errs.push("dwell_minutes", "1 to 1440 minutes");
    }
    let admits: Vec<HealthStatus> = match &req.admits {
        Some(list) => {
            let mut statuses: Vec<HealthStatus> = list
                .iter()
                .enumerate()
                .filter_map(|(i, s)| errs.check(format!("admits[{i}]"), HealthStatus::parse(s)))
                .collect();
            statuses.sort_unstable_by_key(|s| s.code());
            statuses.dedup();
            statuses
        }
        None => defaults
            .as_ref()
            .map(|d| d.admits.clone())
            .unwrap_or_default(),
    };
    let vaccination = match &req.vaccination {
        Some(r) => VaccinationRequirement::parse(
            &mut errs,
            "vaccination",
            r.min_doses,
            r.min_days_since_last,
        ),
        None => defaults.as_ref().and_then(|d| d.vaccination),
    };
    let accepts_dcc = req
        .accepts_dcc
        .or(defaults.map(|d| d.accepts_dcc))
        .unwrap_or(false);
    let (kind, commune) = match (kind, commune) {
        (Some(k), Some(c)) if errs.is_empty() => (k, c),
        _ => return Err(ApiError::invalid(errs)),
    };
    st.check_jurisdiction(who, &commune)?;
    let id = st
        .store
        .create_location(
            &who.actor,
            &NewPlace {
                name: &name,
                kind,
                commune_code: commune.as_str(),
                address: &address,
                coords: (req.lat, req.lon),
                operator_org: &operator,
                dwell_minutes: dwell,
                admits: &admits,
                vaccination: vaccination.as_ref(),
                accepts_dcc,
            },
        )
        .await?;
    let place = st
        .store
        .location(id)
        .await?
        .ok_or_else(|| ApiError::internal("location vanished"))?;
    Ok((StatusCode::CREATED, Json(place)))
}

/// The location, if the caller may act on it: inside their jurisdiction, or (venue owners) their own.
pub(crate) async fn location_in_reach(
    st: &AppState,
    who: &Principal,
    id: i64,
) -> ApiResult<Location> {
    let what = format!("no location {id}");
    let place = st.location(id).await?;
    if who.role == Role::Venue {
        return place
            .filter(|p| p.owner == who.actor)
            .ok_or_else(|| ApiError::not_found(what));
    }
    st.in_reach_or_404(who, place, |p| &p.commune_code, what)
}

/// Who may see locations: staff who work with places (never residents or monitoring).
const PLACE_READERS: &[Role] = &[
    Role::Admin,
    Role::Officer,
    Role::Health,
    Role::Checkpoint,
    Role::Venue,
];

/// Locations inside the caller's jurisdiction (no personal data); a venue owner's own venues.
pub async fn list(State(st): State<AppState>, staff: Staff) -> ApiResult<Json<Vec<Location>>> {
    let who = staff.require(PLACE_READERS)?;
    if who.role == Role::Venue {
        return Ok(Json(st.store.locations_owned_by(&who.actor).await?));
    }
    Ok(Json(
        st.store.locations_in(&st.units_within(&who.unit)).await?,
    ))
}

pub async fn get_one(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> ApiResult<Json<Location>> {
    let who = staff.require(PLACE_READERS)?;
    Ok(Json(location_in_reach(&st, who, id).await?))
}

/// A scan: of a pass (`token`), or of a person with no pass, looked up by `citizen_id` after the staff member
/// checked an identity document (`identity_checked`).
#[derive(Deserialize)]
pub struct ScanRequest {
    pub(crate) token: Option<String>,
    pub(crate) citizen_id: Option<String>,
    #[serde(default)]
    pub(crate) identity_checked: bool,
    pub(crate) direction: String,
    pub(crate) scanned_at: Option<String>,
    pub(crate) idempotency_key: String,
}

/// When the scan happened: now, or the device's time for an offline scan, within the rules' bounds.
fn scan_time(st: &AppState, scanned_at: Option<&str>) -> ApiResult<i64> {
    let now = Utc::now().timestamp();
    let Some(s) = scanned_at else { return Ok(now) };
    let at = DateTime::parse_from_rfc3339(s)
        .map_err(|_| ApiError::field("scanned_at", format!("must be RFC 3339, got {s:?}")))?
        .timestamp();
    if at > now + i64::from(st.rules.scan_clock_skew_seconds) {
        return Err(ApiError::field(
            "scanned_at",
            "is in the future; check the device clock",
        ));
    }
    let max_age = i64::from(st.rules.offline_scan_max_age_hours) * 3600;
    if at < now - max_age {
        return Err(ApiError::field(
            "scanned_at",
            format!(
                "is older than {} hours; such offline scans are refused",
                st.rules.offline_scan_max_age_hours
            ),
        ));
    }
    Ok(at)
}

/// What a scan decided, as the scanner shows it. A look-up by citizen id adds the registry's name and birth
/// year, for staff to compare with the card in their hand; a resident's check-in adds the venue's name.
#[derive(Serialize)]
pub struct ScanAnswer {
    decision: Decision,
    reason: String,
    status: Option<HealthStatus>,
    event_id: i64,
    at: Instant,
    direction: Direction,
    #[serde(skip_serializing_if = "Option::is_none")]
    full_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    birth_year: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Beside the status, never folded into it: the person's doses and last dose date now, and whether they
    /// meet the place's requirement (`meets` null when it requires none). Null when no pass was read.
    vaccination: Option<VaccinationCheck>,
    /// The EU Digital COVID Certificate read instead of a pass: its identifier, type, country and expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate: Option<dcc::ShownView>,
}

fn answer(e: &PresenceEvent) -> ScanAnswer {
    ScanAnswer {
        decision: e.decision,
        reason: e.reason.clone(),
        status: e.status,
        event_id: e.id,
        at: Instant(e.at),
        direction: e.direction,
        full_name: None,
        birth_year: None,
        location: None,
        vaccination: None,
        certificate: None,
    }
}

/// Reasons that mean the pass is genuine but not usable now: the scan is recorded as a refusal. Any other
/// failure means the token is not a pass of this system, which is a bad request and stores nothing.
fn genuine_but_refused(r: Reason) -> bool {
    matches!(
        r,
        Reason::Expired
            | Reason::Revoked
            | Reason::Superseded
            | Reason::NotYetValid
            | Reason::KeyRetired
    )
}

/// What a presented pass means at a place: who, which pass, their current standing, and the decision.
pub(crate) struct Outcome {
    citizen: Option<String>,
    pass: Option<String>,
    current: Option<Current>,
    vaccination: Option<VaccinationCheck>,
    decision: Decision,
    reason: String,
}

impl Outcome {
    fn refused(citizen: Option<String>, reason: &str) -> Outcome {
        Outcome {
            citizen,
            pass: None,
            current: None,
            vaccination: None,
            decision: Decision::Refuse,
            reason: reason.to_owned(),
        }
    }
}

/// Admit or refuse by a place's policy: the colour decides first; a colour the place admits is refused only
/// when the place requires a vaccination the person does not meet. The reason code of the decision.
fn admission(
    place: &Location,
    status: HealthStatus,
    vaccination: &VaccinationCheck,
) -> Result<(), String> {
    if !place.admits.contains(&status) {
        return Err(format!("status_{}_not_admitted", status.as_str()));
    }
    vaccination.refusal().map_or(Ok(()), |r| Err(r.to_owned()))
}

/// Decides admit or refuse for a pass token by the location's admission policy, the holder's current status
/// and their vaccination records now. A token that is not a genuine pass of this system is a 422.
pub(crate) async fn decide(st: &AppState, place: &Location, token: &str) -> ApiResult<Outcome> {
    match check_standing(st, token).await? {
        Ok((pass, standing)) => {
            let today = st.rules.tracing.local_date(Utc::now().timestamp());
            let vaccination =
                VaccinationCheck::at(place.vaccination.as_ref(), &standing.vaccination, today);
            let (decision, reason) = match admission(place, standing.current.status, &vaccination) {
                Ok(()) => (Decision::Admit, "valid".to_owned()),
                Err(reason) => (Decision::Refuse, reason),
            };
            Ok(Outcome {
                citizen: Some(standing.citizen_id),
                pass: Some(pass),
                current: Some(standing.current),
                vaccination: Some(vaccination),
                decision,
                reason,
            })
        }
        Err(r) if genuine_but_refused(r.reason) => Ok(Outcome::refused(None, r.reason.code())),
        Err(r) => Err(ApiError::new(
            ErrorCode::InvalidPass,
            format!("{}: {}", r.reason.code(), r.detail),
        )),
    }
}

/// The pass id and its holder's standing now, or why the token does not count. A live pass this server holds
/// in its book is checked without its signature or the database ([`Verifier::verify_held`]); any other token
/// takes the full online check and two reads, and gets the same answers.
///
/// [`Verifier::verify_held`]: kiemdich_pass::Verifier::verify_held
async fn check_standing(
    st: &AppState,
    token: &str,
) -> ApiResult<Result<(String, Standing), Rejection>> {
    let token = token.trim();
    if let Some(standing) = st.store.held_pass(token) {
        Metrics::inc(&st.metrics.pass_checks_held);
        return Ok(st
            .verifier()
            .verify_held(token, Utc::now())
            .map(|claims| (claims.pass_id.to_string(), standing)));
    }
    Metrics::inc(&st.metrics.pass_checks_verified);
    Ok(match check(st, token).await? {
        Ok((_, record, current)) => {
            let vaccination = st.store.vaccination_summary(&record.citizen_id).await?;
            Ok((
                record.id,
                Standing {
                    citizen_id: record.citizen_id,
                    current,
                    vaccination,
                },
            ))
        }
        Err(r) => Err(r),
    })
}

/// A person without a pass, identified by a document the staff member checked: decided on their newest pass.
/// The registry's record comes back too, for staff to compare its name and birth year with the card in hand.
async fn decide_by_id(
    st: &AppState,
    place: &Location,
    citizen_id: &str,
) -> ApiResult<(Outcome, RegistryRecord)> {
    let id = CitizenId::parse(citizen_id).map_err(|e| ApiError::field("citizen_id", e))?;
    let Some(person) = st.store.resident(&id).await? else {
        return Err(ApiError::field(
            "citizen_id",
            format!("{id} is not in the population registry"),
        ));
    };
    Ok((decide_for(st, place, id.as_str()).await?, person))
}

/// A resident identified without their pass in hand: decided on their newest pass.
async fn decide_for(st: &AppState, place: &Location, citizen: &str) -> ApiResult<Outcome> {
    Ok(match st.store.latest_pass(citizen).await? {
        Some(pass) => {
            let mut outcome = decide(st, place, &pass.token).await?;
            outcome.citizen = Some(citizen.to_owned());
            outcome
        }
        None => Outcome::refused(Some(citizen.to_owned()), "no_declaration"),
    })
}

/// An EU Digital COVID Certificate (HC1) shown instead of a pass, at a place that accepts one. A certificate
/// this deployment issued names a resident: their newest pass decides, colour first, as for an identity
/// look-up. Any other names a visitor with no registry record: admitted on the certificate, unless the place
/// requires a vaccination it does not show. A visitor's scan is logged under the certificate's UVCI.
async fn decide_dcc(
    st: &AppState,
    place: &Location,
    hc1: &str,
) -> ApiResult<(Outcome, Option<dcc::Shown>)> {
    let shown = match dcc::shown_at_scan(st, hc1).await? {
        Ok(shown) => shown,
        Err(code) => return Ok((Outcome::refused(None, code), None)),
    };
    let citizen = shown.issued_to.as_ref().map(|(c, _)| c.clone());
    let mut outcome = match &shown.issued_to {
        _ if !place.accepts_dcc => Outcome::refused(citizen, "dcc_not_accepted"),
        Some((_, true)) => Outcome::refused(citizen, "dcc_revoked"),
        Some((c, false)) => decide_for(st, place, c).await?,
        None => visitor(st, place, &shown.presented),
    };
    if outcome.pass.is_none() {
        outcome.pass = Some(shown.presented.uvci.clone());
    }
    Ok((outcome, Some(shown)))
}

/// A visitor with no registry record on their certificate alone: the place's vaccination requirement, if
/// any, must be met by a vaccination entry (a test or recovery certificate meets none).
fn visitor(st: &AppState, place: &Location, p: &kiemdich_dcc::Presented) -> Outcome {
    let today = st.rules.tracing.local_date(Utc::now().timestamp());
    let summary = p
        .vaccination
        .map_or(VaccinationSummary::NONE, |d| VaccinationSummary {
            doses: d.dose,
            last_dose: Some(d.date),
        });
    let vaccination = VaccinationCheck::at(place.vaccination.as_ref(), &summary, today);
    let refusal = if p.vaccination.is_none() && place.vaccination.is_some() {
        Some("dcc_not_vaccination")
    } else {
        vaccination.refusal()
    };
    Outcome {
        citizen: None,
        pass: Some(p.uvci.clone()),
        current: None,
        vaccination: Some(vaccination),
        decision: if refusal.is_some() {
            Decision::Refuse
        } else {
            Decision::Admit
        },
        reason: refusal.unwrap_or("valid").to_owned(),
    }
}

/// Stores a presence event for a decided scan, once per (device, idempotency key): a resend with the same
/// request gets the stored answer (200), a different request under a used key gets 409.
pub(crate) async fn record(
    st: &AppState,
    place: &Location,
    mut outcome: Outcome,
    scan: ScanMeta,
) -> ApiResult<(StatusCode, Json<ScanAnswer>)> {
    let vaccination = outcome.vaccination.take();
    let request_hash = scan.request_hash.clone();
    let recorded = st.store.record_scan(new_scan(place, outcome, scan)).await?;
    let code = settle(st, &recorded, &request_hash)?;
    // The vaccination state is today's, a replay's too; the stored decision and reason stay what they were.
    Ok((
        code,
        Json(ScanAnswer {
            vaccination,
            ..answer(&recorded.event)
        }),
    ))
}

/// The presence event to store for a decided scan. Only checkpoints report journeys: the commune left and
/// the one headed for are both told.
pub(crate) fn new_scan(place: &Location, outcome: Outcome, scan: ScanMeta) -> NewScan {
    let journey = outcome
        .current
        .as_ref()
        .filter(|_| place.kind == LocationKind::Checkpoint);
    NewScan {
        location_id: place.id,
        travel_from: journey.and_then(|c| c.departure_unit.clone()),
        travel_to: journey.and_then(|c| c.destination_unit.clone()),
        citizen_id: outcome.citizen,
        pass_id: outcome.pass,
        direction: scan.direction,
        at: scan.at,
        device: scan.device,
        method: scan.method,
        decision: outcome.decision,
        reason: outcome.reason,
        status: outcome.current.map(|c| c.status),
        idempotency_key: scan.idempotency_key,
        request_hash: scan.request_hash,
    }
}

/// What a stored scan answers: 201 a new event (counted in the metrics), 200 a replay of the same request,
/// 409 a key already used for a different one.
pub(crate) fn settle(
    st: &AppState,
    recorded: &ScanRecorded,
    request_hash: &str,
) -> ApiResult<StatusCode> {
    let e = &recorded.event;
    if recorded.replay {
        return if e.request_hash == request_hash {
            Ok(StatusCode::OK)
        } else {
            Err(ApiError::new(
                ErrorCode::IdempotencyConflict,
                "this idempotency key was already used for a different scan",
            ))
        };
    }
    Metrics::inc(if e.decision == Decision::Admit {
        &st.metrics.scans_admitted
    } else {
        &st.metrics.scans_refused
    });
    Ok(StatusCode::CREATED)
}

/// How, when and by whom a scan was made.
pub(crate) struct ScanMeta {
    pub direction: Direction,
    pub at: i64,
    pub device: String,
    pub method: ScanMethod,
    pub idempotency_key: String,
    pub request_hash: String,
}

pub(crate) fn check_idempotency_key(key: &str) -> ApiResult<String> {
    let key = key.trim();
    if key.is_empty() || key.len() > 128 || key.chars().any(char::is_control) {
        return Err(ApiError::field(
            "idempotency_key",
            "1 to 128 characters, none of them control characters",
        ));
    }
    Ok(key.to_owned())
}

pub(crate) fn fingerprint(parts: &[&str]) -> String {
    crate::auth::sha256_hex(&parts.join("|"))
}

/// A scan checked and decided, not yet stored: what the single scan and each item of a batch come to.
pub(crate) struct DecidedScan {
    pub place: Location,
    pub outcome: Outcome,
    pub meta: ScanMeta,
    /// Whom an ID look-up found, shown to the staff member holding the identity document.
    pub looked_up: Option<RegistryRecord>,
    /// The certificate shown instead of a pass, if one was.
    pub certificate: Option<dcc::Shown>,
}

/// Checks and decides one scan at location `id` by `who` (whose role the caller checked): the location in
/// reach and, for a bound device, its own; the fields; then the decision by the pass, the certificate or the
/// citizen id. Both the single scan and the batch call it, so an item of a batch decides as a scan alone.
pub(crate) async fn decide_scan(
    st: &AppState,
    who: &Principal,
    id: i64,
    req: &ScanRequest,
) -> ApiResult<DecidedScan> {
    let place = location_in_reach(st, who, id).await?;
    if who.location_id.is_some_and(|bound| bound != id) {
        return Err(ApiError::forbidden(format!(
            "this device is bound to location {}",
            who.location_id.unwrap_or_default()
        )));
    }
    let direction =
        Direction::parse(&req.direction).map_err(|e| ApiError::field("direction", e))?;
    let idempotency_key = check_idempotency_key(&req.idempotency_key)?;
    let at = scan_time(st, req.scanned_at.as_deref())?;
    let scanned_at = req.scanned_at.as_deref().unwrap_or("");
    let mut looked_up = None;
    let mut certificate = None;
    let (outcome, method, request_hash) = match (&req.token, &req.citizen_id) {
        (Some(token), None) => {
            let token = token.trim();
            let hc1 = token.starts_with(kiemdich_dcc::PREFIX);
            let max = if hc1 { MAX_HC1_LEN } else { MAX_TOKEN_LEN };
            if token.len() > max {
                return Err(ApiError::field(
                    "token",
                    format!("longer than {max} characters"),
                ));
            }
            let hash = fingerprint(&[&id.to_string(), token, direction.as_str(), scanned_at]);
            if hc1 {
                let (outcome, shown) = decide_dcc(st, &place, token).await?;
                certificate = shown;
                (outcome, ScanMethod::Dcc, hash)
            } else {
                (decide(st, &place, token).await?, ScanMethod::Pass, hash)
            }
        }
        (None, Some(citizen)) => {
            if !req.identity_checked {
                return Err(ApiError::field(
                    "identity_checked",
                    "a lookup by citizen id needs an identity document checked by you; set it to true",
                ));
            }
            let hash = fingerprint(&[
                &id.to_string(),
                "id",
                citizen.trim(),
                direction.as_str(),
                scanned_at,
            ]);
            let (outcome, person) = decide_by_id(st, &place, citizen).await?;
            looked_up = Some(person);
            (outcome, ScanMethod::IdLookup, hash)
        }
        _ => {
            return Err(ApiError::field(
                "token",
                "send either a pass token or a citizen_id (with identity_checked), not both",
            ));
        }
    };
    Ok(DecidedScan {
        place,
        outcome,
        meta: ScanMeta {
            direction,
            at,
            device: who.actor.clone(),
            method,
            idempotency_key,
            request_hash,
        },
        looked_up,
        certificate,
    })
}

/// The roles that scan: checkpoint staff and devices, and administrators.
pub(crate) const SCANNERS: &[Role] = &[Role::Checkpoint, Role::Admin];

/// A scan at a location by staff or a device: of a pass, or of a person looked up by citizen id. The answer
/// of a look-up also carries the registry's `full_name` and `birth_year`, which staff compare with the
/// identity document in their hand; a pass's answer does not (the scanner reads the holder from the pass).
pub async fn scan(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Body(req): Body<ScanRequest>,
) -> ApiResult<(StatusCode, Json<ScanAnswer>)> {
    let who = staff.require(SCANNERS)?;
    let decided = decide_scan(&st, who, id, &req).await?;
    let (code, Json(mut answer)) =
        record(&st, &decided.place, decided.outcome, decided.meta).await?;
    if let Some(person) = decided.looked_up {
        answer.full_name = Some(person.full_name.as_str().to_owned());
        answer.birth_year = Some(person.date_of_birth.year());
    }
    // A certificate's holder as its payload names them, for staff to compare with the passport in hand.
    if let Some(shown) = decided.certificate {
        answer.full_name = Some(shown.presented.name.clone());
        answer.birth_year = shown.presented.birth_year();
        answer.certificate = Some(shown.view());
    }
    Ok((code, Json(answer)))
}

/// Admitted entries per hour at a location on one day (Vietnam's time), counts only: what a venue owner
/// sees of their venue, never who came.
pub async fn hourly_counts(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(q): Query<DayQuery>,
) -> ApiResult<Json<venue::HourlyCounts>> {
    let day = q.day()?;
    Ok(Json(venue::hourly_counts(&st, &staff.0, id, day).await?))
}

#[derive(Deserialize)]
pub struct DayQuery {
    pub date: Option<String>,
}

impl DayQuery {
    /// The day asked for, if any.
    pub fn day(&self) -> ApiResult<Option<chrono::NaiveDate>> {
        self.date
            .as_deref()
            .map(|d| {
                chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                    ApiError::field_as(
                        "date",
                        Problem::Date,
                        format!("must be YYYY-MM-DD, got {d:?}"),
                    )
                })
            })
            .transpose()
    }
}

#[derive(Deserialize)]
pub struct Window {
    from: Option<String>,
    to: Option<String>,
}

fn instant(field: &str, s: Option<&str>, default: i64) -> ApiResult<i64> {
    s.map(|s| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.timestamp())
            .map_err(|_| ApiError::field(field, format!("must be RFC 3339, got {s:?}")))
    })
    .unwrap_or(Ok(default))
}

/// The presence log of a place over a window.
#[derive(Serialize)]
pub struct Presence {
    location_id: i64,
    from: Instant,
    to: Instant,
    events: Vec<PresenceLine>,
}

#[derive(Serialize)]
pub struct PresenceLine {
    event_id: i64,
    citizen_id: Option<String>,
    pass_id: Option<String>,
    direction: Direction,
    at: Instant,
    decision: Decision,
    reason: String,
    status: Option<HealthStatus>,
    device: String,
    method: ScanMethod,
}

/// Who was at a location in [from, to) (default: the last 24 hours), for health and commune officers of
/// its jurisdiction; the read is audited.
pub async fn presence(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(w): Query<Window>,
) -> ApiResult<Json<Presence>> {
    let who = staff.require(&[Role::Health, Role::Officer, Role::Admin])?;
    location_in_reach(&st, who, id).await?;
    // The default end is just past this second, so that a scan made this second is included.
    let to = instant("to", w.to.as_deref(), Utc::now().timestamp() + 1)?;
    let from = instant("from", w.from.as_deref(), to - 86_400)?;
    if from >= to {
        return Err(ApiError::field("from", "must be before to"));
    }
    let events = st.store.presence(id, from, to, 10_000).await?;
    st.store
        .audit(
            &who.actor,
            "presence.read",
            &format!("location:{id}"),
            &format!("{from}..{to}: {} events", events.len()),
        )
        .await?;
    Ok(Json(Presence {
        location_id: id,
        from: Instant(from),
        to: Instant(to),
        events: events
            .into_iter()
            .map(|e| PresenceLine {
                event_id: e.id,
                citizen_id: e.citizen_id,
                pass_id: e.pass_id,
                direction: e.direction,
                at: Instant(e.at),
                decision: e.decision,
                reason: e.reason,
                status: e.status,
                device: e.device,
                method: e.method,
            })
            .collect(),
    }))
}

#[derive(Deserialize)]
pub struct MovementQuery {
    pub unit: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Movement report for a unit (default: the caller's): people scanned at a checkpoint on a declared
/// journey into it (arrivals) or out of it (departures), in [from, to) (default: the last 7 days). Audited.
pub async fn movements(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<MovementQuery>,
) -> ApiResult<Json<officer::Movements>> {
    let unit = match q.unit.as_deref() {
        Some(u) => UnitCode::parse(u).map_err(|e| ApiError::field("unit", e))?,
        None => staff.0.unit.clone(),
    };
    let to = instant("to", q.to.as_deref(), Utc::now().timestamp() + 1)?;
    let from = instant("from", q.from.as_deref(), to - 7 * 86_400)?;
    Ok(Json(
        officer::movements(&st, &staff.0, &unit, from, to).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiemdich_domain::catalogue::{Lang, script_table};

    /// Every reason a scan answer can carry has a text in the scanner's table (a refusal's says what to do
    /// next), so that no scanner shows a bare code.
    #[test]
    fn every_scan_reason_has_a_text_for_staff() {
        let every_reason = [
            Reason::TooLong,
            Reason::UnknownPrefix,
            Reason::BadBase45,
            Reason::BadCbor,
            Reason::BadCose,
            Reason::WrongAlgorithm,
            Reason::UnknownKey,
            Reason::KeyRetired,
            Reason::BadSignature,
            Reason::BadClaims,
            Reason::NotYetValid,
            Reason::Expired,
            Reason::Revoked,
            Reason::Superseded,
        ];
        let mut codes = vec![
            "valid".to_owned(),
            "no_declaration".to_owned(),
            kiemdich_domain::admission::REASON_NO_VACCINATION_DATA.to_owned(),
            kiemdich_domain::admission::REASON_VACCINATION_NOT_MET.to_owned(),
        ];
        codes.extend(
            HealthStatus::ALL
                .iter()
                .map(|s| format!("status_{}_not_admitted", s.as_str())),
        );
        codes.extend(
            every_reason
                .into_iter()
                .filter(|r| genuine_but_refused(*r))
                .map(|r| r.code().to_owned()),
        );
        for lang in Lang::ALL {
            let table = script_table(lang);
            for code in &codes {
                assert!(
                    table.contains_key(&format!("reason_{code}")),
                    "no text for the scan reason {code}"
                );
            }
        }
    }
}
