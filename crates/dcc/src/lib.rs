//! The EU Digital COVID Certificate (HC1): offline verification against a trust list of DSC certificates (ES256 and
//! PS256, the checks of the EU conformance vectors, the payload against the schema of its own version or, as
//! the EU reference verifiers do, the newest release), issuance of
//! DCC 1.3.0 vaccination certificates (COSE_Sign1 ES256, zlib, Base45), and the CSCA/DSC certificates behind them.
//! Pure code: no database, network or clock (callers pass `now`).

mod cert;
mod issue;
mod p256_table;
mod presented;
pub mod schema;
mod trust;
mod verify;

pub use cert::{CertType, Csca, Dsc, DscRequest, DscSigner, der_from_any, dsc_request, kid_of};
pub use issue::{
    DCC_VERSION, Holder, Issued, Vaccination, issue, new_uvci, sign_claims, transliterate,
    uvci_checksum,
};
pub use presented::{DoseEntry, Presented};
pub use trust::{TrustEntry, TrustList, TrustListJson};
pub use verify::{Checks, MAX_HC1_LEN, PREFIX, Reason, Report, verify};

/// Errors of the certificate, key, trust-list and issuance functions (verification reports instead of failing).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("certificate: {0}")]
    Certificate(String),
    #[error("key: {0}")]
    Key(String),
    #[error("trust list: {0}")]
    TrustList(String),
    #[error("{0}")]
    Input(String),
}
