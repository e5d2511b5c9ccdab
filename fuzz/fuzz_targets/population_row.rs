//! A population registry import line, as `kiemdich import population` reads it: CSV fields deserialised by
//! header name into `RawRegistryRow`, then `RegistryRecord::parse`.

#![no_main]

use kiemdich_domain::person::RawRegistryRow;
use kiemdich_domain::{CitizenId, RegistryRecord};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for raw in kiemdich_fuzz::rows_by_header::<RawRegistryRow>(data, &RawRegistryRow::COLUMNS) {
        let Ok(rec) = RegistryRecord::parse(&raw) else {
            continue;
        };
        assert_eq!(
            CitizenId::parse(rec.citizen_id.as_str()),
            Ok(rec.citizen_id)
        );
        assert_eq!(
            rec.citizen_id.check_holder(rec.sex, rec.date_of_birth),
            Ok(())
        );
        // Shown on passes and in the OTP answer.
        let _ = (
            rec.citizen_id.masked(),
            rec.phone.as_ref().map(|p| p.masked()),
        );
        let json = serde_json::to_string(&rec).expect("a record serialises");
        assert_eq!(
            serde_json::from_str::<RegistryRecord>(&json).ok(),
            Some(rec)
        );
    }
});
