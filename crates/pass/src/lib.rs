//! The KD1 pass: `KD1:` + Base45(COSE_Sign1) signed with Ed25519, CWT claims and one private claim for the
//! holder. Pure code: encoding, decoding and verification against a trust list, with no IO and no clock of its
//! own (callers pass `now`), so the same code runs in the server, the CLI, offline verifiers and benchmarks.

pub mod base45;
// Public only so that the fuzz targets (fuzz/) can drive the reader directly; not part of the API.
#[doc(hidden)]
pub mod cbor;
mod kd1;
mod keys;
mod trust;
mod venue;

pub use kd1::{Holder, MAX_TOKEN_LEN, PREFIX, PassClaims, PassId, Reason, Rejection, encode};
pub use keys::{Kid, SigningKey};
pub use trust::{TrustList, TrustedKey, Verifier};
pub use venue::{VENUE_PREFIX, sign_venue};
