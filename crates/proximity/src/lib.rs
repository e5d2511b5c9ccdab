//! Proximity tracing on the Google/Apple Exposure Notification design (GAEN v1.2): what a phone app embeds to
//! broadcast and recognise rotating identifiers, and what the server uses to check uploaded keys and to publish
//! them in the export format every GAEN client reads.
//!
//! The crate is pure: no IO, no clock (times are arguments, Unix seconds or [`EnIntervalNumber`]s), no random
//! source of its own (a caller fills new keys' bytes).
//!
//! - [`crypto`]: intervals, Temporary Exposure Keys, RPIK/RPI, AEMK/AEM. Checked against all 144 published test
//!   vectors of the reference implementation.
//! - [`matching`]: a phone's observations against the published diagnosis keys with a ±2 hour tolerance, and
//!   the exposure score: attenuation (transmit power from the decrypted metadata minus the calibrated RSSI)
//!   and close-contact minutes, with the thresholds in [`ProximityRules`] (data, `data/proximity_rules.json`).
//! - [`export`]: building and reading signed key exports (`export.bin` + `export.sig` in a zip).
//! - [`upload`]: checking a set of uploaded keys before anything is stored.
//! - [`simulation`]: a province of phones over days, measured against a ground truth (`kiemdich proximity
//!   simulate`).
//!
//! # Observations file
//!
//! `kiemdich proximity match` and [`parse_observations`] read JSON lines, one sighting per line:
//!
//! ```text
//! {"rpi": "8be6cd371c5c891604bfbe49df845096", "aem": "72033874", "rssi": -61, "at": "2020-04-02T07:00:00+07:00", "seconds": 300}
//! ```
//!
//! `rpi` the 16 bytes heard, `aem` the 4 encrypted metadata bytes heard with them, `rssi` the received signal
//! strength in dBm, `at` when the sighting started (RFC 3339), `seconds` how long the identifier was heard.
//! Blank lines and lines starting with `#` are skipped.
//!
//! # Embedding in a phone app
//!
//! The phones' own exposure-notification services are closed to new health authorities, so an app advertises
//! and scans these identifiers itself over Bluetooth LE (service UUID 0xFD6F, the RPI and AEM as service data),
//! and links this crate for everything else. The app stays a thin shell over four calls:
//!
//! 1. each day, [`TemporaryExposureKey::generate`] with the platform CSPRNG (`SecRandomCopyBytes`,
//!    `SecureRandom`), stored in the app's encrypted storage for 14 days;
//! 2. every ten minutes (and at each Bluetooth address change), [`TemporaryExposureKey::rpi`] and
//!    [`AemCipher::encrypt`] give the 20 bytes to advertise;
//! 3. each scan result is kept as an [`Observation`];
//! 4. after each download, [`read_export`] with the health authority's public key and [`match_keys`] give the
//!    exposures to show, on the phone: nothing about a match leaves it.
//!
//! Two ways to bind it, both without changing the crate:
//!
//! - **uniffi** (Mozilla's binding generator, used by Firefox's Rust components): a thin wrapper crate of
//!   type `cdylib`/`staticlib` declares these functions with `#[uniffi::export]` over byte vectors and plain
//!   records, and `uniffi-bindgen` writes the Kotlin and Swift. Preferred: memory and errors cross the boundary
//!   safely and the generated types read naturally on each platform.
//! - **a C ABI**: a wrapper crate with `#[unsafe(no_mangle)] pub extern "C" fn` functions over fixed-size
//!   arrays (`const uint8_t tek[16]`, `uint32_t interval`, `uint8_t out[16]`) and a caller-freed buffer for the
//!   exposures, called through JNI on Android and directly from Swift. This workspace forbids `unsafe`, which
//!   such exports need, so the wrapper lives outside it.
//!
//! The crate's dependencies are RustCrypto's (`aes` uses the ARMv8 AES instructions on phones, detected at run
//! time), `p256` for the export signature and `flate2` for deflated exports: all build for
//! `aarch64-linux-android` and `aarch64-apple-ios` with no C toolchain.

pub mod crypto;
pub mod export;
pub mod matching;
pub mod protobuf;
pub mod rules;
pub mod simulation;
pub mod upload;
pub mod zip;

pub use crypto::{
    AemCipher, EnIntervalNumber, Metadata, Rpi, RpiGenerator, TemporaryExposureKey, from_hex, hex,
};
pub use export::{
    ExportError, KeyExport, SignatureInfo, build_export, public_key_from_pem, public_key_pem,
    read_export, read_export_unverified,
};
pub use matching::{Exposure, Observation, ObservationIndex, match_keys, parse_observations};
pub use p256;
pub use rules::{Calibration, ProximityRules};
pub use upload::{KeyError, KeyProblem, UploadError, UploadedKey, validate_upload};
