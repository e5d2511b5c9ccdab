//! Messages to people and units, as the outbox queues them.

string_enum!(
    /// Where a queued message goes: a phone (`sms`), a resident's in-app notices (`app`, by citizen id) or a
    /// commune's officers (`commune`, by unit code).
    OutboxChannel { Sms = "sms", App = "app", Commune = "commune" }
);
