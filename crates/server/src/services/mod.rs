//! The service layer: plain functions that take the caller (a [`Principal`](kiemdich_store::Principal))
//! and return typed, `Serialize` views. API handlers answer them as JSON; pages render them with the
//! catalogue's words and the local clock. Access rules and audit live here, so both paths share them.

pub mod case_map;
pub mod dcc;
pub mod exposure;
pub mod fhir;
pub mod health;
pub mod health_book;
pub mod health_updates;
pub mod map;
pub mod officer;
pub mod people;
pub mod proximity;
pub mod public;
pub mod resident;
pub mod risk;
pub mod testing;
pub mod vaccination;
pub mod venue;
