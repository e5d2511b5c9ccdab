//! `base45::decode` on untrusted text, and both round trips: any bytes encode and decode back, and any text
//! that decodes is the one encoding of its bytes (Base45 digits are a mixed-radix number, so it is unique).

#![no_main]

use kiemdich_pass::base45::{decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    assert_eq!(decode(&encode(data)).as_deref(), Some(data));
    if let Ok(text) = std::str::from_utf8(data)
        && let Some(bytes) = decode(text)
    {
        assert_eq!(encode(&bytes), text);
    }
});
