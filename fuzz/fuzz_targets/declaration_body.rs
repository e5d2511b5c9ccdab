//! The JSON body of `POST /api/v1/declarations`, deserialised as the server does and each person parsed with
//! `RawPerson::parse` under the default rules' date bounds at the fixed clock.

#![no_main]

use kiemdich_domain::declaration::{DeclaredPerson, RawPerson};
use kiemdich_domain::{CitizenId, DateBounds, Rules};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use std::sync::LazyLock;

/// The part of the server's `DeclarationBody` that reaches the domain; `consent` and `otp` are checked there.
#[derive(Deserialize)]
struct Body {
    people: Vec<RawPerson>,
}

static DATES: LazyLock<DateBounds> =
    LazyLock::new(|| Rules::default().dates_at(kiemdich_fuzz::now().timestamp()));

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Body>(data) else {
        return;
    };
    for (i, raw) in body.people.iter().enumerate() {
        let Ok(person) = raw.parse(&format!("people[{i}]"), &DATES) else {
            continue;
        };
        if let Some(id) = person.citizen_id {
            assert_eq!(CitizenId::parse(id.as_str()), Ok(id));
        }
        let _ = person.phone.as_ref().map(|p| p.masked());
        let json = serde_json::to_string(&person).expect("a person serialises");
        assert_eq!(
            serde_json::from_str::<DeclaredPerson>(&json).ok(),
            Some(person)
        );
    }
});
