//! Samples and results (*mẫu xét nghiệm*, *kết quả xét nghiệm*): what a sample is taken for, its course from
//! the order to the result, pools (*gộp mẫu*: up to the rules' number of PCR samples tested as one), the
//! printed labels a phone reads back, and the checks every entered or imported result passes. Pure: which
//! sample a label names, whether it is already resulted and whose it is are the caller's lookups.

use crate::catalogue::Problem;
use crate::{FieldErrors, HealthStatus, clean_text};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use serde::{Deserialize, Serialize};

string_enum!(
    /// The test a sample is taken for: PCR (*xét nghiệm RT-PCR*) or a rapid antigen test (*test nhanh kháng
    /// nguyên*).
    TestType { Pcr = "pcr", RapidAntigen = "rapid_antigen" }
);

string_enum!(
    /// Why a sample is taken (*lý do lấy mẫu*): a confirmed F1's quarantine test, a suspected case, screening,
    /// travel, or again after a positive or invalid pool or an invalid test (*lấy mẫu lại*).
    SampleReason { F1 = "f1", Suspected = "suspected", Screening = "screening", Travel = "travel",
                   Resample = "resample" }
);

string_enum!(
    /// Where a sample is in its course: ordered (*chỉ định*), collected (*đã lấy mẫu*), pooled (*đã gộp*),
    /// received at the laboratory (*phòng xét nghiệm đã nhận*), tested (*đã có kết quả*).
    SampleStatus { Ordered = "ordered", Collected = "collected", Pooled = "pooled", Received = "received",
                   Tested = "tested" }
);

string_enum!(
    /// A result (*kết quả*): positive (*dương tính*), negative (*âm tính*) or invalid (*không xác định*,
    /// the test must be run again).
    TestResult { Positive = "positive", Negative = "negative", Invalid = "invalid" }
);

string_enum!(
    /// How a result came in: entered on a page or the API, a CSV import, a FHIR feed, or from the result of
    /// the pool the sample was tested in.
    ResultSource { Entered = "entered", Csv = "csv", Fhir = "fhir", Pool = "pool" }
);

/// What a positive rapid antigen test means (2021: orange, "awaiting confirmation", and a PCR ordered; later
/// Ministry guidance accepted it as a case in some settings: `opens_case`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AntigenPositiveRule {
    /// The colour the person has until a PCR result settles it.
    pub status: HealthStatus,
    /// Whether a PCR sample is ordered at once.
    pub order_pcr: bool,
    /// Whether the positive opens an F0 case as a PCR positive does.
    pub opens_case: bool,
}

/// Versioned testing rules (part of [`crate::Rules`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestingRules {
    pub source: String,
    /// The most samples one pool may hold.
    pub pool_max_size: u32,
    /// Whether `pool_max_size` is confirmed from an official text; pages say so while it is not.
    pub pool_size_confirmed: bool,
    pub rapid_antigen_positive: AntigenPositiveRule,
    /// The days of an F1's quarantine on which a sample is taken, counted from the last exposure (day 0);
    /// a day after the quarantine's last day is taken on that last day (the release day).
    pub f1_test_days: Vec<u32>,
    /// Whether a negative PCR on a sample taken on or after the release day ends the quarantine at once.
    pub release_day_negative_ends_quarantine: bool,
    /// The Ct values a laboratory may report (cycles of the PCR run).
    pub ct_min: u32,
    pub ct_max: u32,
}

impl TestingRules {
    /// The days an F1 whose last exposure was `last_exposure` and whose quarantine ends on `until` is
    /// sampled, none before `today`: a test day already past is taken today; sorted, each day once.
    pub fn f1_test_dates(
        &self,
        last_exposure: NaiveDate,
        until: NaiveDate,
        today: NaiveDate,
    ) -> Vec<NaiveDate> {
        let mut days: Vec<NaiveDate> = self
            .f1_test_days
            .iter()
            .map(|d| (last_exposure + chrono::Duration::days(i64::from(*d))).min(until))
            .map(|d| d.max(today))
            .filter(|d| *d <= until.max(today))
            .collect();
        days.sort_unstable();
        days.dedup();
        days
    }

    /// Whether a negative on a sample taken on `sampled` ends a quarantine whose last day is `until`.
    pub fn negative_ends_quarantine(&self, sampled: NaiveDate, until: NaiveDate) -> bool {
        self.release_day_negative_ends_quarantine && sampled >= until
    }
}

/// A Ct value (cycle threshold), inside the rules' range.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Ct(f64);

impl Ct {
    pub fn parse(s: &str, rules: &TestingRules) -> Result<Ct, String> {
        let v: f64 = s
            .trim()
            .parse()
            .map_err(|_| format!("a Ct value is a number, got {:?}", s.trim()))?;
        Ct::new(v, rules)
    }

    pub fn new(v: f64, rules: &TestingRules) -> Result<Ct, String> {
        if v.is_finite() && v >= f64::from(rules.ct_min) && v <= f64::from(rules.ct_max) {
            Ok(Ct(v))
        } else {
            Err(format!(
                "a Ct value runs from {} to {}, got {v}",
                rules.ct_min, rules.ct_max
            ))
        }
    }

    /// A stored value, as it was written.
    pub fn stored(v: f64) -> Ct {
        Ct(v)
    }

    pub fn value(self) -> f64 {
        self.0
    }
}

/// What a printed label names: one sample (`M-…`) or one pool (`G-…`, *gộp*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelKind {
    Sample,
    Pool,
}

impl LabelKind {
    fn prefix(self) -> char {
        match self {
            LabelKind::Sample => 'M',
            LabelKind::Pool => 'G',
        }
    }
}

/// Crockford's base 32 (no I, L, O, U), and the five more symbols of its mod-37 check character.
const SYMBOLS: &[u8; 37] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

/// A sample's or pool's printed label: the kind's letter, its id in Crockford base 32 (at least six
/// characters) and a check character, `M-00002Z-X`. A misread or mistyped character is caught by the check;
/// reading folds case, drops dashes and spaces and takes I and L as 1, O as 0.
pub fn label(kind: LabelKind, id: i64) -> String {
    let n = u64::try_from(id).unwrap_or(0);
    let mut digits = Vec::new();
    let mut v = n;
    loop {
        digits.push(SYMBOLS[(v % 32) as usize]);
        v /= 32;
        if v == 0 && digits.len() >= 6 {
            break;
        }
    }
    digits.reverse();
    let body = String::from_utf8_lossy(&digits).into_owned();
    let check = SYMBOLS[(n % 37) as usize] as char;
    format!("{}-{body}-{check}", kind.prefix())
}

/// Reads a label back: its kind and id, or why it is not one.
pub fn parse_label(s: &str) -> Result<(LabelKind, i64), String> {
    let folded: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let mut chars = folded.chars();
    let kind = match chars.next() {
        Some('M') => LabelKind::Sample,
        Some('G') => LabelKind::Pool,
        _ => return Err(format!("{:?} is not a sample or pool label", s.trim())),
    };
    let rest: Vec<char> = chars.collect();
    let Some((&check, body)) = rest.split_last() else {
        return Err(format!("{:?} is too short for a label", s.trim()));
    };
    if body.len() < 6 || body.len() > 13 {
        return Err(format!("{:?} is not a sample or pool label", s.trim()));
    }
    let mut n: u64 = 0;
    for c in body {
        let c = match c {
            'I' | 'L' => '1',
            'O' => '0',
            c => *c,
        };
        let v = SYMBOLS[..32]
            .iter()
            .position(|s| char::from(*s) == c)
            .ok_or_else(|| format!("{:?}: {c:?} is not a label character", s.trim()))?;
        n = n
            .checked_mul(32)
            .and_then(|n| n.checked_add(v as u64))
            .ok_or_else(|| format!("{:?} is out of range", s.trim()))?;
    }
    if char::from(SYMBOLS[(n % 37) as usize]) != check {
        return Err(format!(
            "{:?}: the check character does not match; read the label again",
            s.trim()
        ));
    }
    let id = i64::try_from(n).map_err(|_| format!("{:?} is out of range", s.trim()))?;
    Ok((kind, id))
}

/// What a result line names: a label (of a sample or a pool), or a bare id that may be either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetRef {
    Label(LabelKind, i64),
    Id(i64),
}

impl TargetRef {
    pub fn parse(s: &str) -> Result<TargetRef, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("empty entry".into());
        }
        if t.bytes().all(|b| b.is_ascii_digit()) {
            return t
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .map(TargetRef::Id)
                .ok_or_else(|| format!("{t:?} is not an id"));
        }
        parse_label(t).map(|(k, id)| TargetRef::Label(k, id))
    }
}

/// A moment as typed: RFC 3339 with its offset (`2021-08-10T09:30:00+07:00`), or a local time in the rules'
/// zone (`2021-08-10 09:30`, `2021-08-10T09:30:00`).
pub fn parse_time(s: &str, utc_offset_hours: i32) -> Result<i64, String> {
    let t = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.timestamp());
    }
    let local = [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
    .ok_or_else(|| format!("a time is RFC 3339 or YYYY-MM-DD HH:MM (Vietnam time), got {t:?}"))?;
    let offset = FixedOffset::east_opt(utc_offset_hours * 3600)
        .ok_or_else(|| "the rules' UTC offset is not a clock's".to_string())?;
    offset
        .from_local_datetime(&local)
        .single()
        .map(|d| d.timestamp())
        .ok_or_else(|| format!("{t:?} is not a time"))
}

/// The longest laboratory name.
pub const MAX_LAB: usize = 160;

/// A result as typed or imported: text fields, so that each problem can be named. The CSV columns are
/// [`RawResult::COLUMNS`]; `sample_id` is a sample's or a pool's id or label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct RawResult {
    pub sample_id: String,
    pub result: String,
    pub tested_at: String,
    pub lab: String,
    pub ct: String,
}

impl RawResult {
    pub const COLUMNS: [&'static str; 5] = ["sample_id", "result", "tested_at", "lab", "ct"];
}

/// A result whose fields passed their own checks; which sample or pool it names is still to be looked up.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultEntry {
    pub target: TargetRef,
    pub result: TestResult,
    pub tested_at: i64,
    pub lab: String,
    pub ct: Option<Ct>,
}

impl ResultEntry {
    /// Checks each field, collecting every problem: an unreadable target, an unknown result, a time that is
    /// not one or lies after `now`, an empty lab, a Ct value outside the rules' range.
    pub fn parse(
        raw: &RawResult,
        rules: &TestingRules,
        utc_offset_hours: i32,
        now: i64,
    ) -> Result<ResultEntry, FieldErrors> {
        let mut errs = FieldErrors::default();
        let target = errs.check_as(
            "sample_id",
            Problem::UnknownSample,
            TargetRef::parse(&raw.sample_id),
        );
        let result = errs.check_as("result", Problem::Choice, TestResult::parse(&raw.result));
        let tested_at = match parse_time(&raw.tested_at, utc_offset_hours) {
            Err(e) => {
                errs.push_as("tested_at", Problem::Date, e);
                None
            }
            Ok(t) if t > now => {
                errs.push_as(
                    "tested_at",
                    Problem::DateOutOfRange,
                    format!("{} is in the future", raw.tested_at.trim()),
                );
                None
            }
            Ok(t) => Some(t),
        };
        let lab = errs.check_as("lab", Problem::Required, clean_text(&raw.lab, MAX_LAB));
        let ct = match raw.ct.trim() {
            "" => Some(None),
            c => errs.check_as("ct", Problem::OutOfRange, Ct::parse(c, rules).map(Some)),
        };
        match (target, result, tested_at, lab, ct) {
            (Some(target), Some(result), Some(tested_at), Some(lab), Some(ct))
                if errs.is_empty() =>
            {
                Ok(ResultEntry {
                    target,
                    result,
                    tested_at,
                    lab,
                    ct,
                })
            }
            _ => Err(errs),
        }
    }
}

/// What a result's checks need of the sample or pool it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetFacts {
    pub test_type: TestType,
    /// The collection time: of the sample, or the latest of the pool's members.
    pub collected_at: Option<i64>,
    /// The result already stored for it, if any.
    pub resulted: bool,
    /// A sample that sits in a pool is resulted through the pool.
    pub pooled: bool,
}

impl ResultEntry {
    /// The problems of this result against what it names: already resulted, a pooled sample resulted on its
    /// own, a test before the collection.
    pub fn check_against(&self, facts: &TargetFacts, errs: &mut FieldErrors) {
        if facts.resulted {
            errs.push_as(
                "sample_id",
                Problem::AlreadyResulted,
                "this sample already has a result",
            );
        } else if facts.pooled {
            errs.push_as(
                "sample_id",
                Problem::AlreadyResulted,
                "this sample is in a pool; enter the pool's result",
            );
        }
        if let Some(c) = facts.collected_at
            && self.tested_at < c
        {
            errs.push_as(
                "tested_at",
                Problem::BeforeCollection,
                "the test is dated before the sample was collected",
            );
        }
    }
}

/// What pooling needs of each sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolMember {
    pub id: i64,
    pub test_type: TestType,
    pub status: SampleStatus,
}

/// Checks a pool's members: at least two, at most the rules' number, each once, PCR only, none pooled or
/// resulted already. Problems are named `sample_ids[i]` (or `sample_ids` for the count).
pub fn check_pool(members: &[PoolMember], rules: &TestingRules) -> Result<(), FieldErrors> {
    let mut errs = FieldErrors::default();
    let max = usize::try_from(rules.pool_max_size).unwrap_or(usize::MAX);
    if members.len() < 2 {
        errs.push_as(
            "sample_ids",
            Problem::Required,
            "a pool holds at least two samples",
        );
    }
    if members.len() > max {
        errs.push_as(
            "sample_ids",
            Problem::TooMany,
            format!(
                "a pool holds at most {max} samples (the rules), got {}",
                members.len()
            ),
        );
    }
    let mut seen = std::collections::HashSet::new();
    for (i, m) in members.iter().enumerate() {
        let field = format!("sample_ids[{i}]");
        if !seen.insert(m.id) {
            errs.push_as(&field, Problem::Invalid, "this sample is named twice");
        }
        if m.test_type != TestType::Pcr {
            errs.push_as(
                &field,
                Problem::MixedTestTypes,
                "only PCR samples are pooled; a rapid antigen test is read on its own",
            );
        }
        match m.status {
            SampleStatus::Pooled => errs.push_as(
                &field,
                Problem::AlreadyResulted,
                "this sample is already in a pool",
            ),
            SampleStatus::Tested => errs.push_as(
                &field,
                Problem::AlreadyResulted,
                "this sample already has a result",
            ),
            _ => {}
        }
    }
    errs.into_result(|| ())
}

impl TestType {
    /// The name people read (`RT-PCR`, `test nhanh kháng nguyên`).
    pub fn name(self, l: crate::Lang) -> &'static str {
        use crate::catalogue::Testing as T;
        l.t(match self {
            TestType::Pcr => T::Pcr,
            TestType::RapidAntigen => T::RapidAntigen,
        })
    }
}

impl TestResult {
    pub fn name(self, l: crate::Lang) -> &'static str {
        use crate::catalogue::Testing as T;
        l.t(match self {
            TestResult::Positive => T::Positive,
            TestResult::Negative => T::Negative,
            TestResult::Invalid => T::Invalid,
        })
    }
}

impl SampleReason {
    pub fn name(self, l: crate::Lang) -> &'static str {
        use crate::catalogue::Testing as T;
        l.t(match self {
            SampleReason::F1 => T::ReasonF1,
            SampleReason::Suspected => T::ReasonSuspected,
            SampleReason::Screening => T::ReasonScreening,
            SampleReason::Travel => T::ReasonTravel,
            SampleReason::Resample => T::ReasonResample,
        })
    }
}

impl SampleStatus {
    pub fn name(self, l: crate::Lang) -> &'static str {
        use crate::catalogue::Testing as T;
        l.t(match self {
            SampleStatus::Ordered => T::StatusOrdered,
            SampleStatus::Collected => T::StatusCollected,
            SampleStatus::Pooled => T::StatusPooled,
            SampleStatus::Received => T::StatusReceived,
            SampleStatus::Tested => T::StatusTested,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> TestingRules {
        crate::Rules::default().testing
    }

    #[test]
    fn labels_read_back_and_catch_a_misread_character() {
        for id in [1, 31, 32, 1_000, 123_456_789] {
            let l = label(LabelKind::Sample, id);
            assert_eq!(parse_label(&l), Ok((LabelKind::Sample, id)), "{l}");
            assert_eq!(
                parse_label(&l.to_lowercase().replace('-', " ")),
                Ok((LabelKind::Sample, id))
            );
        }
        assert_eq!(label(LabelKind::Pool, 1), "G-000001-1");
        assert_eq!(parse_label("g-00000l-1"), Ok((LabelKind::Pool, 1)));
        assert!(parse_label("G-000002-1").is_err(), "wrong check character");
        assert!(parse_label("X-000001-1").is_err());
        assert!(parse_label("M-1").is_err());
        assert_eq!(TargetRef::parse(" 42 "), Ok(TargetRef::Id(42)));
        assert!(TargetRef::parse("0").is_err());
    }

    #[test]
    fn results_collect_every_problem() {
        let r = rules();
        let now = 1_700_000_000;
        let raw = RawResult {
            sample_id: "M-000001-Z".into(),
            result: "maybe".into(),
            tested_at: "2099-01-01 10:00".into(),
            lab: " ".into(),
            ct: "99".into(),
        };
        let errs = ResultEntry::parse(&raw, &r, 7, now).unwrap_err();
        let fields: Vec<&str> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["sample_id", "result", "tested_at", "lab", "ct"]);
        let good = RawResult {
            sample_id: label(LabelKind::Pool, 7),
            result: "negative".into(),
            tested_at: "2021-08-10 09:30".into(),
            lab: "CDC Sóc Trăng".into(),
            ct: "".into(),
        };
        let e = ResultEntry::parse(&good, &r, 7, now).unwrap();
        assert_eq!(e.target, TargetRef::Label(LabelKind::Pool, 7));
        assert_eq!(
            e.tested_at,
            parse_time("2021-08-10T02:30:00Z", 7).unwrap(),
            "local time is Vietnam time"
        );
        let mut errs = FieldErrors::default();
        e.check_against(
            &TargetFacts {
                test_type: TestType::Pcr,
                collected_at: Some(e.tested_at + 60),
                resulted: true,
                pooled: false,
            },
            &mut errs,
        );
        let codes: Vec<Problem> = errs.0.iter().map(|e| e.code).collect();
        assert_eq!(codes, [Problem::AlreadyResulted, Problem::BeforeCollection]);
    }

    #[test]
    fn pools_hold_pcr_samples_up_to_the_rules_number() {
        let r = rules();
        let m = |id, t, s| PoolMember {
            id,
            test_type: t,
            status: s,
        };
        let ok: Vec<PoolMember> = (1..=r.pool_max_size as i64)
            .map(|i| m(i, TestType::Pcr, SampleStatus::Collected))
            .collect();
        assert!(check_pool(&ok, &r).is_ok());
        let mut too_many = ok.clone();
        too_many.push(m(99, TestType::Pcr, SampleStatus::Collected));
        assert_eq!(
            check_pool(&too_many, &r).unwrap_err().0[0].code,
            Problem::TooMany
        );
        let mixed = [
            m(1, TestType::Pcr, SampleStatus::Collected),
            m(2, TestType::RapidAntigen, SampleStatus::Collected),
            m(3, TestType::Pcr, SampleStatus::Tested),
        ];
        let errs = check_pool(&mixed, &r).unwrap_err();
        assert_eq!(
            errs.0.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            ["sample_ids[1]", "sample_ids[2]"]
        );
    }

    #[test]
    fn f1_test_days_fall_inside_the_quarantine_and_not_in_the_past() {
        let r = rules();
        let d = |m, day| NaiveDate::from_ymd_opt(2021, m, day).unwrap();
        let last = d(8, 1);
        assert_eq!(
            r.f1_test_dates(last, d(8, 15), d(8, 1)),
            [d(8, 2), d(8, 8), d(8, 15)]
        );
        // A 7-day quarantine: the last test on its release day; traced late, the missed day is today.
        assert_eq!(r.f1_test_dates(last, d(8, 8), d(8, 4)), [d(8, 4), d(8, 8)]);
        assert!(r.negative_ends_quarantine(d(8, 15), d(8, 15)));
        assert!(!r.negative_ends_quarantine(d(8, 14), d(8, 15)));
    }
}
