//! Checking the keys a phone uploads with a verification code, before anything is stored: every bad key is
//! reported with its index, and a set with any bad key is refused whole.

use crate::crypto::{EnIntervalNumber, KEY_LEN, MAX_ROLLING_PERIOD, TemporaryExposureKey};
use crate::rules::ProximityRules;

/// A key as uploaded, before its checks (the key bytes already decoded from Base64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedKey {
    pub key: Vec<u8>,
    pub rolling_start_interval_number: i64,
    pub rolling_period: i64,
    pub transmission_risk_level: i64,
}

/// What is wrong with one key, uploaded or read from an export.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyProblem {
    #[error("the key is {0} bytes, not 16")]
    WrongLength(usize),
    #[error("rolling_period is not between 1 and 144")]
    RollingPeriod,
    #[error("rolling_start_interval_number is not a valid interval")]
    RollingStart,
    #[error("transmission_risk_level is outside the allowed range")]
    TransmissionRiskLevel,
    #[error("the key starts in the future")]
    Future,
    #[error("the key ended more than the retention period ago")]
    TooOld,
    #[error("the key's intervals overlap those of key {0}")]
    Overlaps(usize),
    #[error("the key repeats key {0}")]
    Duplicate(usize),
}

/// One bad key and its position in the upload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("keys[{index}]: {problem}")]
pub struct KeyError {
    pub index: usize,
    pub problem: KeyProblem,
}

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    #[error("no keys")]
    Empty,
    #[error("{count} keys, more than the {max} allowed")]
    TooMany { count: usize, max: u32 },
    #[error("{} bad keys", .0.len())]
    Keys(Vec<KeyError>),
}

/// Checks an upload at `now`: 16-byte keys, periods of 1..=144 intervals, risk levels within the rules, none
/// starting after `now`, none ended more than the retention period before it, no two sharing an interval or
/// their bytes. Returns the keys as typed values, in the order given.
pub fn validate_upload(
    keys: &[UploadedKey],
    now: EnIntervalNumber,
    rules: &ProximityRules,
) -> Result<Vec<TemporaryExposureKey>, UploadError> {
    if keys.is_empty() {
        return Err(UploadError::Empty);
    }
    if keys.len() > rules.max_keys_per_upload as usize {
        return Err(UploadError::TooMany {
            count: keys.len(),
            max: rules.max_keys_per_upload,
        });
    }
    let oldest_end =
        i64::from(now.0) - i64::from(rules.key_retention_days) * i64::from(MAX_ROLLING_PERIOD);
    let mut errors = Vec::new();
    let mut typed: Vec<Option<TemporaryExposureKey>> = Vec::with_capacity(keys.len());
    for (index, k) in keys.iter().enumerate() {
        let mut problem = |p| errors.push(KeyError { index, problem: p });
        let bytes: Option<[u8; KEY_LEN]> = k.key.as_slice().try_into().ok();
        if bytes.is_none() {
            problem(KeyProblem::WrongLength(k.key.len()));
        }
        let period = u32::try_from(k.rolling_period)
            .ok()
            .filter(|p| (1..=MAX_ROLLING_PERIOD).contains(p));
        if period.is_none() {
            problem(KeyProblem::RollingPeriod);
        }
        let start = u32::try_from(k.rolling_start_interval_number).ok();
        if start.is_none() {
            problem(KeyProblem::RollingStart);
        }
        let risk = u8::try_from(k.transmission_risk_level)
            .ok()
            .filter(|r| *r <= rules.max_transmission_risk_level);
        if risk.is_none() {
            problem(KeyProblem::TransmissionRiskLevel);
        }
        if let Some(s) = start {
            if s > now.0 {
                problem(KeyProblem::Future);
            } else if let Some(p) = period
                && i64::from(s) + i64::from(p) <= oldest_end
            {
                problem(KeyProblem::TooOld);
            }
        }
        typed.push(match (bytes, start, period, risk) {
            (Some(key), Some(s), Some(p), Some(r)) => Some(TemporaryExposureKey {
                key,
                rolling_start: EnIntervalNumber(s),
                rolling_period: p,
                transmission_risk_level: r,
            }),
            _ => None,
        });
    }
    for (i, a) in typed.iter().enumerate() {
        let Some(a) = a else { continue };
        for (j, b) in typed.iter().enumerate().take(i) {
            let Some(b) = b else { continue };
            if a.key == b.key {
                errors.push(KeyError {
                    index: i,
                    problem: KeyProblem::Duplicate(j),
                });
            } else if a.rolling_start < b.end() && b.rolling_start < a.end() {
                errors.push(KeyError {
                    index: i,
                    problem: KeyProblem::Overlaps(j),
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(typed.into_iter().flatten().collect())
    } else {
        errors.sort_by_key(|e| e.index);
        Err(UploadError::Keys(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: i64 = 2_940_000 / 144 * 144;

    fn day(offset: i64, byte: u8) -> UploadedKey {
        UploadedKey {
            key: vec![byte; 16],
            rolling_start_interval_number: TODAY + offset * 144,
            rolling_period: 144,
            transmission_risk_level: 4,
        }
    }

    fn check(keys: &[UploadedKey]) -> Result<Vec<TemporaryExposureKey>, UploadError> {
        validate_upload(
            keys,
            EnIntervalNumber(u32::try_from(TODAY + 60).unwrap()),
            &ProximityRules::default(),
        )
    }

    fn problems(keys: &[UploadedKey]) -> Vec<(usize, KeyProblem)> {
        match check(keys) {
            Err(UploadError::Keys(e)) => e.into_iter().map(|e| (e.index, e.problem)).collect(),
            other => panic!("expected key errors, got {other:?}"),
        }
    }

    #[test]
    fn fourteen_days_of_keys_and_todays_are_accepted() {
        let keys: Vec<_> = (-13..=0).map(|d| day(d, (d + 20) as u8)).collect();
        let typed = check(&keys).unwrap();
        assert_eq!(typed.len(), 14);
        assert_eq!(typed[13].transmission_risk_level, 4);
        assert_eq!(typed[0].rolling_start.0 as i64, TODAY - 13 * 144);
    }

    #[test]
    fn every_bad_key_is_reported_with_its_index() {
        let mut short = day(-1, 1);
        short.key.pop();
        let mut period = day(-2, 2);
        period.rolling_period = 145;
        let mut zero = day(-3, 3);
        zero.rolling_period = 0;
        let mut risk = day(-4, 4);
        risk.transmission_risk_level = 9;
        let mut negative = day(-5, 5);
        negative.rolling_start_interval_number = -1;
        let future = day(1, 6);
        let old = day(-15, 7);
        let p = problems(&[day(0, 9), short, period, zero, risk, negative, future, old]);
        assert_eq!(
            p,
            vec![
                (1, KeyProblem::WrongLength(15)),
                (2, KeyProblem::RollingPeriod),
                (3, KeyProblem::RollingPeriod),
                (4, KeyProblem::TransmissionRiskLevel),
                (5, KeyProblem::RollingStart),
                (6, KeyProblem::Future),
                (7, KeyProblem::TooOld),
            ]
        );
    }

    #[test]
    fn overlapping_and_duplicate_keys_are_refused() {
        let mut half = day(-1, 2);
        half.rolling_start_interval_number += 72;
        assert_eq!(
            problems(&[day(-1, 1), half, day(-3, 1)]),
            vec![(1, KeyProblem::Overlaps(0)), (2, KeyProblem::Duplicate(0))]
        );
        // Adjacent keys share no interval.
        let mut morning = day(-1, 3);
        morning.rolling_period = 72;
        let mut evening = day(-1, 4);
        evening.rolling_start_interval_number += 72;
        evening.rolling_period = 72;
        assert_eq!(check(&[morning, evening]).unwrap().len(), 2);
    }

    #[test]
    fn empty_and_oversized_uploads_are_refused() {
        assert_eq!(check(&[]), Err(UploadError::Empty));
        let many: Vec<_> = (0..31).map(|i| day(-(i % 14), i as u8)).collect();
        assert_eq!(
            check(&many),
            Err(UploadError::TooMany { count: 31, max: 30 })
        );
    }
}
