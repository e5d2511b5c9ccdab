//! Samples, pools and results as staff and residents use them: ordering a sample for a person of the
//! jurisdiction, a person's samples (audited), pooling PCR samples, entering a result with its effects (201
//! with what it did; 200 the same result again; 422 every bad field; 404 a sample or pool unknown or outside
//! the jurisdiction), and the signed-in resident's own samples with their results, lab and Vietnam times.

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::services::vaccination::person_in_reach;
use kiemdich_domain::catalogue::{Lang, Problem};
use kiemdich_domain::testing::{LabelKind, PoolMember, check_pool, label, parse_label, parse_time};
use kiemdich_domain::{
    CitizenId, FieldErrors, RawResult, ResultSource, SampleReason, SampleStatus, TestType,
};
use kiemdich_store::{Effects, LineCheck, NewSample, Principal, ResultOutcome, Role, SampleRecord};
use serde::{Deserialize, Serialize};

/// Who may order samples and read them (inside their jurisdiction).
pub const ORDERERS: &[Role] = &[Role::Health, Role::Officer, Role::Lab, Role::Admin];
/// Who may pool samples and enter results (inside their jurisdiction).
pub const LABS: &[Role] = &[Role::Health, Role::Lab, Role::Admin];

/// A sample to order for a person: `collected_at` (RFC 3339, or `YYYY-MM-DD HH:MM` Vietnam time) records its
/// collection at once.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleInput {
    pub citizen_id: String,
    pub reason: String,
    pub test_type: String,
    pub collected_at: Option<String>,
    pub collected_where: Option<String>,
}

/// An ordered sample: its id, printed label and status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SampleCreated {
    pub id: i64,
    pub label: String,
    pub status: SampleStatus,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Orders one sample for a person of the caller's jurisdiction (health, officer, lab, admin); audited.
pub async fn order_sample(
    st: &AppState,
    who: &Principal,
    input: &SampleInput,
) -> ApiResult<SampleCreated> {
    crate::auth::require_role(who, ORDERERS)?;
    let mut errs = FieldErrors::default();
    let citizen = errs.check("citizen_id", CitizenId::parse(&input.citizen_id));
    let reason = errs.check_as(
        "reason",
        Problem::Choice,
        SampleReason::parse(&input.reason),
    );
    let test_type = errs.check_as(
        "test_type",
        Problem::Choice,
        TestType::parse(&input.test_type),
    );
    let offset = st.rules.tracing.utc_offset_hours;
    let earliest = st.rules.tracing.day_start(st.rules.earliest_date);
    let collected_at = match input.collected_at.as_deref().map(str::trim) {
        None | Some("") => Some(None),
        Some(t) => match parse_time(t, offset) {
            Err(e) => {
                errs.push_as("collected_at", Problem::Date, e);
                None
            }
            Ok(t) if t > now() || t < earliest => {
                errs.push_as(
                    "collected_at",
                    Problem::DateOutOfRange,
                    "the collection lies in the future or before the epidemic",
                );
                None
            }
            Ok(t) => Some(Some(t)),
        },
    };
    let collected_where = match input.collected_where.as_deref().map(str::trim) {
        None | Some("") => Some(None),
        Some(w) => errs.check_as(
            "collected_where",
            Problem::TooLong,
            kiemdich_domain::clean_text(w, 160).map(Some),
        ),
    };
    let (Some(citizen), Some(reason), Some(test_type), Some(collected_at), Some(collected_where)) =
        (citizen, reason, test_type, collected_at, collected_where)
    else {
        return Err(ApiError::invalid(errs));
    };
    let person = person_in_reach(st, who, citizen.as_str()).await?;
    let sample = NewSample {
        citizen_id: person.citizen_id,
        commune_code: person.commune_code.to_string(),
        reason,
        test_type,
        due_on: None,
        collected_at,
        collected_where,
        follows: None,
    };
    let (id, label) = st
        .store
        .order_samples(std::slice::from_ref(&sample), &who.actor)
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("no sample ordered"))?;
    Ok(SampleCreated {
        id,
        label,
        status: if collected_at.is_some() {
            SampleStatus::Collected
        } else {
            SampleStatus::Ordered
        },
    })
}

/// `GET /api/v1/samples`: a person's samples (`citizen_id`), or the jurisdiction's samples in one `status`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SampleQuery {
    pub citizen_id: Option<String>,
    pub status: Option<String>,
}

/// The most samples one work list shows.
const LIST_LIMIT: usize = 500;

/// A person's samples, newest first (optionally of one status), or the caller's jurisdiction's samples in one
/// status (a laboratory's work list, at most 500); each read audited.
pub async fn samples(
    st: &AppState,
    who: &Principal,
    q: &SampleQuery,
) -> ApiResult<Vec<SampleRecord>> {
    crate::auth::require_role(who, ORDERERS)?;
    let status = match q.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(
            SampleStatus::parse(s).map_err(|e| ApiError::field_as("status", Problem::Choice, e))?,
        ),
    };
    match (q.citizen_id.as_deref().map(str::trim), status) {
        (Some(c), status) if !c.is_empty() => {
            let person = person_in_reach(st, who, c).await?;
            let found = st.store.samples_of(&person.citizen_id, status).await?;
            st.store
                .audit(
                    &who.actor,
                    "sample.read",
                    &format!("citizen:{}", person.citizen_id),
                    "",
                )
                .await?;
            Ok(found)
        }
        (_, Some(status)) => {
            let units = st.units_within(&who.unit);
            let found = st.store.samples_in(&units, status, LIST_LIMIT).await?;
            st.store
                .audit(
                    &who.actor,
                    "sample.list",
                    &format!("unit:{}", who.unit),
                    &format!("{} {} samples", found.len(), status.as_str()),
                )
                .await?;
            Ok(found)
        }
        _ => Err(ApiError::field_as(
            "citizen_id",
            Problem::Required,
            "name a person (citizen_id) or a status",
        )),
    }
}

/// `POST /api/v1/pools`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolInput {
    pub sample_ids: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolCreated {
    pub id: i64,
    pub label: String,
}

/// Pools PCR samples of the caller's jurisdiction (health, lab, admin): at most the rules' number, none
/// pooled or resulted already; every problem named by the member's index. Audited.
pub async fn create_pool(
    st: &AppState,
    who: &Principal,
    input: &PoolInput,
) -> ApiResult<PoolCreated> {
    crate::auth::require_role(who, LABS)?;
    let found = st.store.pool_candidates(&input.sample_ids).await?;
    let mut errs = FieldErrors::default();
    let mut members: Vec<PoolMember> = Vec::with_capacity(input.sample_ids.len());
    for (i, id) in input.sample_ids.iter().enumerate() {
        match found.get(id) {
            Some((m, commune)) if st.reaches(who, commune) => members.push(*m),
            _ => errs.push_as(
                format!("sample_ids[{i}]"),
                Problem::UnknownSample,
                format!("no sample {id} in your jurisdiction"),
            ),
        }
    }
    let missing = !errs.is_empty();
    if let Err(more) = check_pool(&members, &st.rules.testing) {
        // Indexes of the check are of the members found; name them by the caller's list.
        let index_of = |m: usize| {
            members
                .get(m)
                .and_then(|p| input.sample_ids.iter().position(|id| *id == p.id))
                .unwrap_or(m)
        };
        // The count is the caller's list's, not the members found.
        for mut e in more
            .0
            .into_iter()
            .filter(|e| !missing || e.field != "sample_ids")
        {
            if let Some(n) = e
                .field
                .strip_prefix("sample_ids[")
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|n| n.parse::<usize>().ok())
            {
                e.field = format!("sample_ids[{}]", index_of(n));
            }
            errs.0.push(e);
        }
    }
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs));
    }
    let (id, label) = st.store.create_pool(&input.sample_ids, &who.actor).await?;
    Ok(PoolCreated { id, label })
}

/// A sample or pool as sent: its id (a number) or its label.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum IdOrLabel {
    Id(i64),
    Label(String),
}

/// A Ct value as sent: a number, or a number in a string.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Number {
    Number(f64),
    Text(String),
}

/// `POST /api/v1/results`: a `sample_id` or a `pool_id`, the result, when and where it was tested.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultInput {
    pub sample_id: Option<IdOrLabel>,
    pub pool_id: Option<IdOrLabel>,
    pub result: String,
    pub tested_at: String,
    pub lab: String,
    pub ct: Option<Number>,
}

impl ResultInput {
    /// The line a laboratory's file would hold: a number becomes the label of that sample or pool.
    fn raw(&self) -> Result<RawResult, ApiError> {
        let target = match (&self.sample_id, &self.pool_id) {
            (Some(IdOrLabel::Id(id)), None) => label(LabelKind::Sample, *id),
            (None, Some(IdOrLabel::Id(id))) => label(LabelKind::Pool, *id),
            (Some(IdOrLabel::Label(l)), None) | (None, Some(IdOrLabel::Label(l))) => l.clone(),
            _ => {
                return Err(ApiError::field_as(
                    "sample_id",
                    Problem::Required,
                    "name exactly one of sample_id and pool_id",
                ));
            }
        };
        Ok(RawResult {
            sample_id: target,
            result: self.result.clone(),
            tested_at: self.tested_at.clone(),
            lab: self.lab.clone(),
            ct: match &self.ct {
                None => String::new(),
                Some(Number::Number(n)) => n.to_string(),
                Some(Number::Text(t)) => t.clone(),
            },
        })
    }
}

/// What entering a result did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entered {
    Created(Effects),
    /// The same result was already stored: its id and case.
    Unchanged(Effects),
}

/// Enters one result (lab, health, admin) for a sample or pool whose people all lie in the caller's
/// jurisdiction, with all its effects in one transaction.
pub async fn enter_result(
    st: &AppState,
    who: &Principal,
    input: &ResultInput,
) -> ApiResult<Entered> {
    crate::auth::require_role(who, LABS)?;
    let raw = input.raw()?;
    let mut checked = st
        .store
        .check_results(
            std::slice::from_ref(&raw),
            &st.rules,
            ResultSource::Entered,
            now(),
        )
        .await?;
    let line = checked
        .pop()
        .ok_or_else(|| ApiError::internal("no answer for one result"))?;
    let in_reach = |communes: &[String]| communes.iter().all(|c| st.reaches(who, c));
    let unknown = || {
        ApiError::not_found(format!(
            "no sample or pool {} in your jurisdiction",
            raw.sample_id.trim()
        ))
    };
    let result = match line {
        LineCheck::Bad(errs) => {
            if errs
                .0
                .iter()
                .any(|e| e.code == Problem::UnknownSample && e.field == "sample_id")
                && errs.0.len() == 1
            {
                return Err(unknown());
            }
            return Err(ApiError::invalid(errs));
        }
        LineCheck::Same(target) => {
            if !in_reach(&target.communes) {
                return Err(unknown());
            }
            let stored = target
                .stored
                .ok_or_else(|| ApiError::internal("the same result without a stored one"))?;
            return Ok(Entered::Unchanged(Effects {
                result_id: stored.id,
                case_id: stored.case_id,
                ..Effects::default()
            }));
        }
        LineCheck::Ready(result, target) => {
            if !in_reach(&target.communes) {
                return Err(unknown());
            }
            result
        }
    };
    let outcome = st
        .store
        .record_results(std::slice::from_ref(&result), &st.rules, &who.actor)
        .await?
        .pop();
    match outcome {
        Some(ResultOutcome::Recorded(e)) => Ok(Entered::Created(e)),
        Some(ResultOutcome::Unchanged { result_id, case_id }) => Ok(Entered::Unchanged(Effects {
            result_id,
            case_id,
            ..Effects::default()
        })),
        Some(ResultOutcome::Differs(_)) => Err(ApiError::field_as(
            "sample_id",
            Problem::AlreadyResulted,
            "another result was stored for this sample meanwhile",
        )),
        None => Err(ApiError::internal("no outcome for one result")),
    }
}

/// One of the resident's samples as their page shows it: names in their language, times in Vietnam time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MySample {
    pub id: i64,
    pub label: String,
    pub test_type: TestType,
    pub test_name: String,
    pub reason: SampleReason,
    pub status: SampleStatus,
    pub status_name: String,
    pub due_on: Option<chrono::NaiveDate>,
    pub collected_at: Option<kiemdich_domain::Instant>,
    /// `14:37 29/11/2026`.
    pub collected_local: Option<String>,
    pub result: Option<MyResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MyResult {
    pub result: kiemdich_domain::TestResult,
    pub result_name: String,
    pub lab: String,
    pub tested_at: kiemdich_domain::Instant,
    pub tested_local: String,
    pub ct: Option<kiemdich_domain::Ct>,
}

impl MySample {
    pub fn of(s: &SampleRecord, st: &AppState, lang: Lang) -> MySample {
        let clock = st.rules.clock();
        MySample {
            id: s.id,
            label: s.label.clone(),
            test_type: s.test_type,
            test_name: s.test_type.name(lang).to_owned(),
            reason: s.reason,
            status: s.status,
            status_name: s.status.name(lang).to_owned(),
            due_on: s.due_on,
            collected_at: s.collected_at,
            collected_local: s.collected_at.map(|t| clock.time(t.0)),
            result: s.result.as_ref().map(|r| MyResult {
                result: r.result,
                result_name: r.result.name(lang).to_owned(),
                lab: r.lab.clone(),
                tested_at: r.tested_at,
                tested_local: clock.time(r.tested_at.0),
                ct: r.ct,
            }),
        }
    }
}

/// The signed-in resident's own samples with their results, newest first; audited.
pub async fn my_samples(st: &AppState, who: &Principal, lang: Lang) -> ApiResult<Vec<MySample>> {
    let id = crate::services::resident::resident_of(who)?;
    let found = st.store.samples_of(&id, None).await?;
    st.store
        .audit(&who.actor, "sample.read.own", &format!("citizen:{id}"), "")
        .await?;
    Ok(found.iter().map(|s| MySample::of(s, st, lang)).collect())
}

/// A sample as its printed label and its result slip show it: the person's name and birth year, never their
/// id; times in Vietnam time; names in the reader's language.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SamplePrint {
    pub id: i64,
    pub label: String,
    pub name: String,
    pub birth_year: i32,
    pub test_name: String,
    /// `14:37 29/11/2026`, when collected.
    pub collected_local: Option<String>,
    /// The label of the pool the sample is in, if any.
    pub pool_label: Option<String>,
    pub result: Option<MyResult>,
}

/// The samples `ids` for printing (their labels, a result slip), in the order given, each of a person in the
/// caller's jurisdiction (health, officer, lab, admin), else 404; audited.
pub async fn printable(
    st: &AppState,
    who: &Principal,
    ids: &[i64],
    lang: Lang,
) -> ApiResult<Vec<SamplePrint>> {
    crate::auth::require_role(who, ORDERERS)?;
    let (out, target) = shown(st, who, ids, lang).await?;
    let labels: Vec<&str> = out.iter().map(|s| s.label.as_str()).collect();
    st.store
        .audit(&who.actor, "sample.print", &target, &labels.join(" "))
        .await?;
    Ok(out)
}

/// The samples `ids` as people read them, in the order given, each of a person in the caller's jurisdiction
/// (else 404), with the audit target of the read: one person's, or the unit's for several.
async fn shown(
    st: &AppState,
    who: &Principal,
    ids: &[i64],
    lang: Lang,
) -> ApiResult<(Vec<SamplePrint>, String)> {
    let found = st.store.samples(ids).await?;
    let missing = ids
        .iter()
        .find(|id| {
            !found
                .iter()
                .any(|s| s.id == **id && st.reaches(who, s.commune_code.as_str()))
        })
        .copied();
    if let Some(id) = missing {
        return Err(ApiError::not_found(format!(
            "no sample {} in your jurisdiction",
            label(LabelKind::Sample, id)
        )));
    }
    let citizens: Vec<String> = found
        .iter()
        .map(|s| s.citizen_id.as_str().to_owned())
        .collect();
    let people = st.store.residents(&citizens).await?;
    let clock = st.rules.clock();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(s) = found.iter().find(|s| s.id == *id) else {
            continue;
        };
        let person = people
            .iter()
            .find(|p| p.citizen_id == s.citizen_id)
            .ok_or_else(|| ApiError::internal("a sample of a person not in the registry"))?;
        let mine = MySample::of(s, st, lang);
        out.push(SamplePrint {
            id: s.id,
            label: s.label.clone(),
            name: person.full_name.as_str().to_owned(),
            birth_year: chrono::Datelike::year(&person.date_of_birth),
            test_name: mine.test_name,
            collected_local: s.collected_at.map(|t| clock.time(t.0)),
            pool_label: s.pool_label.clone(),
            result: mine.result,
        });
    }
    // One person (a slip): audited as a read of that person; a sheet of labels as the samples it names.
    let target = match found.as_slice() {
        [one] => format!("citizen:{}", one.citizen_id),
        _ => format!("unit:{}", who.unit),
    };
    Ok((out, target))
}

/// What a scanned or typed label names, for the technician to check before entering its result: the sample,
/// or every member of the pool, with whose it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabTarget {
    /// The label as printed (`M-…` a sample, `G-…` a pool).
    pub label: String,
    /// Whether the label names a pool (then `samples` are its members).
    pub pool: bool,
    pub samples: Vec<SamplePrint>,
}

/// The sample or pool a label names (lab, health, admin), every person in it inside the caller's
/// jurisdiction; an unknown label, or one outside the jurisdiction, is the same 404 as entering its result
/// gives. Audited as a read of the samples' people.
pub async fn lab_target(
    st: &AppState,
    who: &Principal,
    text: &str,
    lang: Lang,
) -> ApiResult<LabTarget> {
    crate::auth::require_role(who, LABS)?;
    let unknown = || {
        ApiError::not_found(format!(
            "no sample or pool {} in your jurisdiction",
            text.trim()
        ))
    };
    let (kind, id) = parse_label(text).map_err(|_| unknown())?;
    let ids: Vec<i64> = match kind {
        LabelKind::Sample => vec![id],
        LabelKind::Pool => match st.store.pool(id).await? {
            Some(pool) => pool.members.iter().map(|m| m.id).collect(),
            None => return Err(unknown()),
        },
    };
    let (samples, target) = match shown(st, who, &ids, lang).await {
        Ok(found) => found,
        Err(e) if e.code == ErrorCode::NotFound => return Err(unknown()),
        Err(e) => return Err(e),
    };
    let read = label(kind, id);
    st.store
        .audit(&who.actor, "sample.read", &target, &read)
        .await?;
    Ok(LabTarget {
        label: read,
        pool: kind == LabelKind::Pool,
        samples,
    })
}

/// The members of pool `id` (health, officer, lab, admin), for printing their labels; 404 unknown.
pub async fn pool_members(st: &AppState, who: &Principal, id: i64) -> ApiResult<Vec<i64>> {
    crate::auth::require_role(who, ORDERERS)?;
    let pool =
        st.store.pool(id).await?.ok_or_else(|| {
            ApiError::not_found(format!("no pool {}", label(LabelKind::Pool, id)))
        })?;
    Ok(pool.members.iter().map(|m| m.id).collect())
}

/// The QR of a sample's label as PNG (what a phone reads back is the label the result entry takes), for a
/// sample in the caller's jurisdiction; audited as a print.
pub async fn label_png(st: &AppState, who: &Principal, id: i64) -> ApiResult<Vec<u8>> {
    let sample = printable(st, who, &[id], Lang::Vi)
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("no sample printed"))?;
    crate::qr::png(&sample.label, 6).map_err(ApiError::internal)
}
