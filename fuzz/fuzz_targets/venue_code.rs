//! `Verifier::verify_venue` on untrusted poster codes (`KDV1:…`). An input of 0x01 and 8 bytes is a location
//! id to sign and verify back; anything else is the code's text.

#![no_main]

use kiemdich_fuzz::{FIXTURE, VENUE_ID};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fx = &*FIXTURE;
    if let [0x01, id @ ..] = data
        && let Ok(id) = <[u8; 8]>::try_from(id)
    {
        let id = i64::from_le_bytes(id);
        let code = kiemdich_pass::sign_venue(id, &fx.key);
        assert_eq!(fx.verifier.verify_venue(&code), Ok(id), "{code}");
    } else if let Ok(id) = fx.verifier.verify_venue(&String::from_utf8_lossy(data)) {
        // The only code the trusted key signed for text input is the fixture's.
        assert_eq!(id, VENUE_ID);
    }
});
