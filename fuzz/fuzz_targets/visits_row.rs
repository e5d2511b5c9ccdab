//! A visit import line (`location_id,citizen_id,entered_at,exited_at`) through `Visit::parse_row`, with the
//! limits `kiemdich import visits` uses and the fixed clock.

#![no_main]

use kiemdich_domain::{CitizenId, Rules, Visit};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static MAX_SECS: LazyLock<i64> =
    LazyLock::new(|| i64::from(Rules::default().tracing.max_visit_hours) * 3600);

fuzz_target!(|data: &[u8]| {
    let now = kiemdich_fuzz::now().timestamp();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    // The import refuses other lengths before parsing.
    for r in reader.records().flatten().filter(|r| r.len() == 4) {
        let Ok(v) = Visit::parse_row([&r[0], &r[1], &r[2], &r[3]], *MAX_SECS, now) else {
            continue;
        };
        assert!(v.entered_at <= now, "{v:?}");
        if let Some(exit) = v.exited_at {
            assert!(
                exit > v.entered_at && exit - v.entered_at <= *MAX_SECS,
                "{v:?}"
            );
        }
        // The visit log stores the id as a number; `{:012}` must give it back.
        assert!(
            CitizenId::parse(&format!("{:012}", v.citizen)).is_ok(),
            "{v:?}"
        );
    }
});
