//! Persistence for kiemdich. One [`Store`] speaks to SQLite (the embedded default, one file, WAL) or PostgreSQL
//! (scale-out) through sqlx's `Any` driver with portable SQL; the schema differences live in per-backend
//! migrations. Every public method that writes runs in one transaction.

mod access;
mod admission;
mod book;
mod boundaries;
mod case_map;
mod cases;
mod coordination;
mod db;
pub mod dcc;
mod declarants;
mod declarations;
mod declaring;
mod declaring_pg;
mod exposure;
mod group;
mod health_updates;
pub mod keyring;
mod overview;
mod partitions;
mod person_runs;
mod presence;
mod presence_pg;
mod proximity;
mod registry;
mod risk;
mod scan_log;
pub mod sealed;
#[cfg(test)]
mod test_db;
mod testing;
mod tracing;
mod vaccination;
mod visits;

pub use access::{
    AuditEntry, DeviceSummary, Principal, Role, SessionOf, StaffAccount, StaffSummary,
};
pub use book::{BookFollow, Standing};
pub use boundaries::{Boundary, MapStamp, NewBoundary};
pub use case_map::{CaseWindow, LinkedPlace};
pub use cases::{CaseRecord, ChainLink, FollowUp, NewCase, Opened};
pub use coordination::{SlotClaim, WindowCount};
pub use db::{Backend, Store, StoreError, values_placeholders};
pub use dcc::{DscRow, IssuedDcc, TrustImport};
pub use declarants::Declarant;
pub use declarations::{
    Current, DeclarationKey, DeclarationStored, NewDeclaration, NewPass, Notice, OtpAttempt,
    OtpChallenge, OutboxMessage, PassRecord, PersonOutcome, Revocation, SigningKeyRow,
};
pub use exposure::{ExposurePlace, ExposureWindow};
pub use health_updates::{
    DeclarationLine, FollowUpLine, HealthUpdateRecord, NewHealthUpdate, REVOKED_FOR_SYMPTOMS,
    UpdateStored,
};
pub use overview::{CaseFilter, CaseRow, CaseSearch, PersonSummary, UnitCounts};
pub use presence::{Journey, Location, NewPlace, NewScan, PresenceEvent, Purged, ScanRecorded};
pub use proximity::{
    ExportBatch, NewProximityCode, ProximityCount, ProximityPurged, export_signing_key,
};
pub use registry::UpsertCounts;
pub use risk::{
    DecisionFile, DecisionLevel, DecisionRecord, FigureRow, NewDecision, OfficialLevel, WeekCounts,
};
pub use sealed::Kek;
pub use testing::{
    CheckedResult, Effects, LineCheck, NewSample, PoolRecord, ResolvedTarget, ResultOutcome,
    ResultRecord, SampleRecord, Target,
};
pub use tracing::{Contact, TraceParams, TraceResult, Zone, trace_csv};
pub use vaccination::{CheckedDose, DoseOutcome};
pub use visits::{VisitKey, citizen_number, citizen_text};
