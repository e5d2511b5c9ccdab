//! The one catalogue of words: every text a person reads — page, label of a status or kind, API error, script
//! string, SMS — is a key here with its Vietnamese and English text, and Khmer for what residents meet.
//!
//! Why an exhaustive Rust enum rather than Fluent files: a missing language or a misspelt key is a compile
//! error, not a blank on a checkpoint screen at 6 a.m.; there is no runtime loader, parser or fallback chain
//! to fail; and the texts are few enough (hundreds) to read in one place. Parameters are `{name}` placeholders
//! filled by [`fill`]; a test checks that every language of a message names the same placeholders.
//!
//! Khmer (*tiếng Khmer*, spoken by about a third of Sóc Trăng's people) covers the resident pages, the pass
//! card, the venue poster and the SMS. Every Khmer text is a first translation awaiting a native speaker's
//! review ([`KHMER_REVIEWED`]); a message without Khmer falls back to Vietnamese, which every resident reads.

/// Defines one area's messages: an enum with a key per message, its `ALL` list, and its texts.
/// `km:` is optional; without it, Khmer shows the Vietnamese text.
macro_rules! catalogue {
    ($name:ident { $($key:ident { vi: $vi:literal, en: $en:literal $(, km: $km:literal)? $(,)? }),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($key),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$key),+];
        }

        impl $crate::catalogue::Message for $name {
            fn key(self) -> &'static str {
                match self { $($name::$key => stringify!($key)),+ }
            }
            fn vi(self) -> &'static str {
                match self { $($name::$key => $vi),+ }
            }
            fn en(self) -> &'static str {
                match self { $($name::$key => $en),+ }
            }
            fn km(self) -> Option<&'static str> {
                match self { $($name::$key => catalogue!(@km $($km)?)),+ }
            }
        }
    };
    (@km $km:literal) => { Some($km) };
    (@km) => { None };
}

mod admin;
mod admission;
mod common;
mod dcc;
mod errors;
mod health;
mod health_book;
mod labels;
mod map;
mod officer;
mod print;
mod resident;
mod risk;
mod scan;
mod script;
mod sms;
mod testing;
mod vaccination;
mod venue;

pub use admin::Admin;
pub use admission::Admission;
pub use common::Common;
pub use dcc::Dcc;
pub use errors::{ApiText, Problem};
pub use health::Health;
pub use health_book::HealthBook;
pub use labels::{Label, Labelled};
pub use map::Map;
pub use officer::Officer;
pub use print::Print;
pub use resident::Resident;
pub use risk::Risk;
pub use scan::Scanner;
pub use script::Script;
pub use sms::Sms;
pub use testing::Testing;
pub use vaccination::Vaccination;
pub use venue::Venue;

/// Whether a native speaker has reviewed the Khmer texts; pages and the README say so while it is false.
pub const KHMER_REVIEWED: bool = false;

/// A language a person can choose. Vietnamese is the default everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
    /// Khmer (*tiếng Khmer*).
    Km,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Vi, Lang::En, Lang::Km];

    /// The BCP 47 code, as in `<html lang>`, the language cookie and `Accept-Language`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
            Lang::Km => "km",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The first language of an `Accept-Language` header that the catalogue has, by the header's order of
    /// preference (`q` weights).
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut offered: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|part| {
                let mut bits = part.split(';');
                let lang = Lang::parse(bits.next()?)?;
                let q = bits
                    .find_map(|b| b.trim().strip_prefix("q="))
                    .and_then(|q| q.parse().ok())
                    .unwrap_or(1.0);
                (q > 0.0).then_some((q, lang))
            })
            .collect();
        // A stable sort keeps the header's order among equal weights.
        offered.sort_by(|a, b| b.0.total_cmp(&a.0));
        offered.first().map(|&(_, l)| l)
    }

    /// The name of the language in itself, for the language switch.
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::Vi => "Tiếng Việt",
            Lang::En => "English",
            Lang::Km => "ភាសាខ្មែរ",
        }
    }

    /// The text of `m` in this language.
    pub fn t(self, m: impl Message) -> &'static str {
        m.text(self)
    }
}

/// One message of the catalogue.
pub trait Message: Copy {
    /// The key, as scripts and tests name it.
    fn key(self) -> &'static str;
    fn vi(self) -> &'static str;
    fn en(self) -> &'static str;
    /// The Khmer text, where residents meet this message.
    fn km(self) -> Option<&'static str>;

    fn text(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Vi => self.vi(),
            Lang::En => self.en(),
            Lang::Km => self.km().unwrap_or_else(|| self.vi()),
        }
    }
}

/// Fills the `{name}` placeholders of a message's text; a placeholder without a value stays visible, so a
/// missing argument is caught in review rather than sent as an empty gap.
pub fn fill(text: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match args.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholders a text names, sorted.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut names: Vec<&str> = text
        .split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(name, _)| name))
        .collect();
    names.sort_unstable();
    names
}

/// One message as the completeness tests and the script table see it: area, key, Vietnamese, English, Khmer.
pub type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

/// Every message of every area.
pub fn every_message() -> Vec<Row> {
    fn rows<M: Message>(area: &'static str, all: &'static [M]) -> impl Iterator<Item = Row> {
        all.iter()
            .map(move |m| (area, m.key(), m.vi(), m.en(), m.km()))
    }
    rows("admin", Admin::ALL)
        .chain(rows("admission", Admission::ALL))
        .chain(rows("common", Common::ALL))
        .chain(rows("dcc", Dcc::ALL))
        .chain(rows("api", ApiText::ALL))
        .chain(rows("problem", Problem::ALL))
        .chain(rows("health", Health::ALL))
        .chain(rows("health_book", HealthBook::ALL))
        .chain(rows("label", Label::ALL))
        .chain(rows("map", Map::ALL))
        .chain(rows("officer", Officer::ALL))
        .chain(rows("print", Print::ALL))
        .chain(rows("resident", Resident::ALL))
        .chain(rows("risk", Risk::ALL))
        .chain(rows("scanner", Scanner::ALL))
        .chain(rows("script", Script::ALL))
        .chain(rows("sms", Sms::ALL))
        .chain(rows("testing", Testing::ALL))
        .chain(rows("vaccination", Vaccination::ALL))
        .chain(rows("venue", Venue::ALL))
        .collect()
}

/// What the pages' scripts read, in `lang`: every [`Script`] text and every [`Label`], by snake-case key.
pub fn script_table(lang: Lang) -> std::collections::BTreeMap<String, &'static str> {
    let script = Script::ALL
        .iter()
        .map(|m| (errors::snake_case(m.key()), m.text(lang)));
    let labels = Label::ALL
        .iter()
        .map(|m| (errors::snake_case(m.key()), m.text(lang)));
    script.chain(labels).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_message_has_vietnamese_and_english_with_the_same_placeholders() {
        let all = every_message();
        assert!(all.len() > 200, "the catalogue holds the pages' texts");
        for (area, key, vi, en, km) in &all {
            assert!(!vi.trim().is_empty(), "{area}::{key} has no Vietnamese");
            assert!(!en.trim().is_empty(), "{area}::{key} has no English");
            assert_eq!(
                placeholders(vi),
                placeholders(en),
                "{area}::{key}: placeholders differ"
            );
            if let Some(km) = km {
                assert!(
                    !km.trim().is_empty(),
                    "{area}::{key} has an empty Khmer text"
                );
                assert_eq!(
                    placeholders(vi),
                    placeholders(km),
                    "{area}::{key}: Khmer placeholders differ"
                );
            }
        }
    }

    #[test]
    fn scripts_read_labels_and_reasons_by_code() {
        let vi = script_table(Lang::Vi);
        assert_eq!(vi["status_orange"], "Cam");
        assert_eq!(vi["admit"], "CHO VÀO");
        assert!(vi["reason_status_yellow_not_admitted"].contains("lều y tế"));
        // Keys of the two areas never collide.
        assert_eq!(vi.len(), Script::ALL.len() + Label::ALL.len());
    }

    #[test]
    fn keys_are_unique_within_their_area() {
        let all = every_message();
        let keys: HashSet<(&str, &str)> = all.iter().map(|(a, k, ..)| (*a, *k)).collect();
        assert_eq!(keys.len(), all.len());
    }

    #[test]
    fn what_residents_meet_is_in_khmer() {
        for m in Resident::ALL {
            assert!(m.km().is_some(), "Resident::{} has no Khmer", m.key());
        }
        assert_eq!(
            Resident::ALL[0].text(Lang::Km),
            Resident::ALL[0].km().unwrap_or_default()
        );
        // Staff texts fall back to Vietnamese.
        assert_eq!(Admin::ALL[0].text(Lang::Km), Admin::ALL[0].vi());
    }

    #[test]
    fn placeholders_are_filled_and_a_missing_one_stays_visible() {
        assert_eq!(
            fill("Cách ly đến hết ngày {date}.", &[("date", "05/12/2026")]),
            "Cách ly đến hết ngày 05/12/2026."
        );
        assert_eq!(fill("{a} và {b}", &[("a", "1")]), "1 và {b}");
        assert_eq!(fill("không có", &[]), "không có");
        assert_eq!(fill("mở { chưa đóng", &[]), "mở { chưa đóng");
        assert_eq!(placeholders("{b} {a} {b}"), ["a", "b", "b"]);
    }

    #[test]
    fn languages_follow_the_accept_language_preference() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,vi;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("fr, vi;q=0.5, en;q=0.4"),
            Some(Lang::Vi)
        );
        assert_eq!(Lang::from_accept_language("km-KH"), Some(Lang::Km));
        assert_eq!(Lang::from_accept_language("de, fr;q=0.8"), None);
        assert_eq!(Lang::from_accept_language("en;q=0, vi"), Some(Lang::Vi));
        assert_eq!(Lang::parse("VI"), Some(Lang::Vi));
    }
}
