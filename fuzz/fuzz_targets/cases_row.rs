//! A CDC case feed line, as `kiemdich import cases` reads it: CSV fields deserialised by header name into
//! `RawCase`, then `RawCase::parse` with the default rules' date bounds at the fixed clock.

#![no_main]

use kiemdich_domain::{CaseClass, CaseSource, DateBounds, RawCase, Rules};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static DATES: LazyLock<DateBounds> =
    LazyLock::new(|| Rules::default().dates_at(kiemdich_fuzz::now().timestamp()));

fuzz_target!(|data: &[u8]| {
    for raw in kiemdich_fuzz::rows_by_header::<RawCase>(data, &RawCase::COLUMNS) {
        let Ok(case) = raw.parse(&DATES, CaseSource::CdcFeed) else {
            continue;
        };
        // What RawCase::parse promises of an accepted report.
        assert!(
            matches!(case.class, CaseClass::F0 | CaseClass::Suspected),
            "{case:?}"
        );
        let dates = [case.onset_date, case.sample_date, case.isolated_date];
        assert!(
            dates.iter().flatten().all(|d| DATES.past(*d).is_ok()),
            "{case:?}"
        );
        let start = case.onset_date.or(case.sample_date);
        assert!(case.class != CaseClass::F0 || start.is_some(), "{case:?}");
        if let (Some(isolated), Some(start)) = (case.isolated_date, start) {
            assert!(isolated >= start, "{case:?}");
        }
    }
});
