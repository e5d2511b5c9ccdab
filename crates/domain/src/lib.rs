//! Pure domain of kiemdich: identifiers, administrative units, people, declarations, health status and the
//! versioned rules that govern them. No IO, no async: everything here is a value or a function of values.

/// A closed set of values with stable snake_case codes, parsed with a message that lists them.
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name { $(#[serde(rename = $s)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            pub fn parse(s: &str) -> Result<$name, String> {
                match s.trim() {
                    $($s => Ok($name::$variant),)+
                    other => Err(format!("unknown value {other:?}; expected one of: {}", [$($s),+].join(", "))),
                }
            }
        }
    };
}

pub mod admission;
pub mod cases;
pub mod catalogue;
pub mod clock;
pub mod declaration;
pub mod error;
pub mod health_update;
pub mod ids;
pub mod input;
pub mod location;
pub mod notice;
pub mod person;
pub mod risk;
pub mod rules;
pub mod status;
pub mod testing;
pub mod trace_walk;
pub mod tracing;
pub mod units;
pub mod vaccination;

pub use admission::{VaccinationCheck, VaccinationRequirement, VaccinationSummary};
pub use cases::{
    CaseClass, CaseReport, CaseSource, CaseState, DetectedIn, FollowUpChannel, FollowUpOutcome,
    RawCase,
};
pub use catalogue::{Lang, Message, Problem};
pub use clock::{Instant, LocalClock};
pub use declaration::{
    DeclaredPerson, Exposure, IdentityCheck, IdentityOutcome, Submitter, Symptom, Travel,
    TravelMode,
};
pub use error::{AsProblem, FieldError, FieldErrors};
pub use health_update::{HealthUpdate, HealthUpdateRules, RawHealthUpdate};
pub use ids::{CitizenId, CitizenIdError, Sex};
pub use input::{DateBounds, clean_text};
pub use location::{Decision, Direction, LocationKind, ScanMethod};
pub use notice::OutboxChannel;
pub use person::{FullName, HouseholdId, Phone, RegistryRecord};
pub use risk::{Figure, IsoWeek, RiskLevel, RiskRules};
pub use rules::{KindRule, PassBookRules, Rules, SecurityRules};
pub use status::HealthStatus;
pub use testing::{
    Ct, RawResult, ResultEntry, ResultSource, SampleReason, SampleStatus, TestResult, TestType,
    TestingRules,
};
pub use tracing::{Span, TracingRules, Visit};
pub use units::{AdminUnit, Provinces, UnitCode, UnitLevel, UnitTree, parse_units_json};
pub use vaccination::{
    Country, Coverage, Dose, DoseContext, DoseFacts, DoseSource, NewDose, RawDose, Site,
    VaccinationLevel, VaccinationRules, VaccinationState, VaccineProduct,
};
