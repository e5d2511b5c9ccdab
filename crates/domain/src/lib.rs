//! Pure domain of kiemdich: identifiers, administrative units, people, declarations, health status and the
//! versioned rules that govern them. No IO, no async: everything here is a value or a function of values.

pub mod declaration;
pub mod error;
pub mod ids;
pub mod location;
pub mod person;
pub mod rules;
pub mod status;
pub mod tracing;
pub mod units;

pub use declaration::{
    DeclaredPerson, Exposure, IdentityCheck, Submitter, Symptom, Travel, TravelMode,
};
pub use error::{FieldError, FieldErrors};
pub use ids::{CitizenId, CitizenIdError, Sex};
pub use location::{Direction, LocationKind};
pub use person::{FullName, Phone, RegistryRecord};
pub use rules::{KindRule, Rules};
pub use status::HealthStatus;
pub use tracing::{Span, TracingRules, Visit};
pub use units::{AdminUnit, UnitCode, UnitLevel, UnitTree, parse_units_json};
