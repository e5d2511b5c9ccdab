//! The GAEN v1.2 key schedule: intervals, Temporary Exposure Keys, Rolling Proximity Identifiers and the
//! Associated Encrypted Metadata.
//!
//! - ENIntervalNumber = Unix seconds / 600.
//! - RPIK = HKDF-SHA256(TEK, no salt, "EN-RPIK", 16); RPI = AES-128(RPIK, "EN-RPI" ‖ 0x00×6 ‖ ENIN as u32 LE).
//! - AEMK = HKDF-SHA256(TEK, no salt, "EN-AEMK", 16); AEM = AES-128-CTR(AEMK, IV = RPI, metadata).

use aes::Aes128;
use aes::cipher::{Array, BlockCipherEncrypt, KeyInit, KeyIvInit, StreamCipher};
use hkdf::HkdfExtract;
use sha2::Sha256;
use std::fmt;
use std::sync::LazyLock;

/// Seconds in one interval: identifiers rotate every ten minutes.
pub const INTERVAL_SECONDS: i64 = 600;
/// Intervals in one key's life: a key rolls once a day.
pub const MAX_ROLLING_PERIOD: u32 = 144;
/// Bytes in a Temporary Exposure Key, an RPIK, an AEMK and an RPI.
pub const KEY_LEN: usize = 16;

/// The ten-minute interval a moment falls in (GAEN's ENIntervalNumber).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnIntervalNumber(pub u32);

impl EnIntervalNumber {
    /// The interval of a Unix time; times before 1970 or after 2106 are clamped to the first or last interval.
    pub fn from_unix(seconds: i64) -> EnIntervalNumber {
        let n = seconds.div_euclid(INTERVAL_SECONDS);
        EnIntervalNumber(u32::try_from(n.max(0)).unwrap_or(u32::MAX))
    }

    /// The Unix time at which the interval starts.
    pub fn start_unix(self) -> i64 {
        i64::from(self.0) * INTERVAL_SECONDS
    }

    /// The interval `n` intervals later, saturating.
    pub fn plus(self, n: u32) -> EnIntervalNumber {
        EnIntervalNumber(self.0.saturating_add(n))
    }

    /// Signed distance in intervals from `other` to `self`.
    pub fn minus(self, other: EnIntervalNumber) -> i64 {
        i64::from(self.0) - i64::from(other.0)
    }
}

/// A Temporary Exposure Key: 16 random bytes that a phone keeps for one day (`rolling_period` intervals from
/// `rolling_start`), from which every identifier it broadcasts that day is derived.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TemporaryExposureKey {
    pub key: [u8; KEY_LEN],
    pub rolling_start: EnIntervalNumber,
    /// Intervals the key is valid for, 1..=144.
    pub rolling_period: u32,
    /// 0..=8, set by the health authority when the key is published.
    pub transmission_risk_level: u8,
}

impl fmt::Debug for TemporaryExposureKey {
    /// The key bytes are a secret until published: debug output shows only their first two bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemporaryExposureKey")
            .field(
                "key",
                &format_args!("{:02x}{:02x}…", self.key[0], self.key[1]),
            )
            .field("rolling_start", &self.rolling_start.0)
            .field("rolling_period", &self.rolling_period)
            .field("transmission_risk_level", &self.transmission_risk_level)
            .finish()
    }
}

impl TemporaryExposureKey {
    /// A new key for the day starting at `rolling_start`, its bytes from the caller's random source (the crate
    /// has no RNG of its own: a phone passes its system CSPRNG, a simulation a seeded one).
    pub fn generate(
        rolling_start: EnIntervalNumber,
        fill_random: impl FnOnce(&mut [u8; KEY_LEN]),
    ) -> TemporaryExposureKey {
        let mut key = [0u8; KEY_LEN];
        fill_random(&mut key);
        TemporaryExposureKey {
            key,
            rolling_start,
            rolling_period: MAX_ROLLING_PERIOD,
            transmission_risk_level: 0,
        }
    }

    /// The key of the Rolling Proximity Identifiers (RPIK).
    pub fn rpik(&self) -> [u8; KEY_LEN] {
        hkdf16(&self.key, b"EN-RPIK")
    }

    /// The key of the Associated Encrypted Metadata (AEMK).
    pub fn aemk(&self) -> [u8; KEY_LEN] {
        hkdf16(&self.key, b"EN-AEMK")
    }

    /// The identifier broadcast during `interval`.
    pub fn rpi(&self, interval: EnIntervalNumber) -> Rpi {
        RpiGenerator::new(&self.rpik()).rpi(interval)
    }

    /// The intervals the key covers (at most 144).
    pub fn intervals(&self) -> impl Iterator<Item = EnIntervalNumber> + use<> {
        let start = self.rolling_start.0;
        let period = self.rolling_period.min(MAX_ROLLING_PERIOD);
        (start..start.saturating_add(period)).map(EnIntervalNumber)
    }

    /// The interval after the key's last one.
    pub fn end(&self) -> EnIntervalNumber {
        self.rolling_start
            .plus(self.rolling_period.min(MAX_ROLLING_PERIOD))
    }
}

/// HKDF-Extract keyed with the empty salt (32 zero bytes), its HMAC pads hashed once: each key's extract then
/// costs two SHA-256 blocks instead of four (matching derives one RPIK per diagnosis key).
static NO_SALT: LazyLock<HkdfExtract<Sha256>> = LazyLock::new(|| HkdfExtract::new(None));

fn hkdf16(ikm: &[u8], info: &[u8]) -> [u8; KEY_LEN] {
    let mut out = [0u8; KEY_LEN];
    let mut extract = NO_SALT.clone();
    extract.input_ikm(ikm);
    extract
        .finalize()
        .1
        .expand(info, &mut out)
        .expect("16 bytes is within HKDF-SHA256's output limit");
    out
}

/// A Rolling Proximity Identifier: what a phone broadcasts for ten minutes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rpi(pub [u8; KEY_LEN]);

impl fmt::Debug for Rpi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rpi({})", hex(&self.0))
    }
}

impl fmt::Display for Rpi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

/// The padded block "EN-RPI" ‖ 0x00×6 ‖ ENIN (u32 little-endian) that AES encrypts into an RPI.
/// Built in a register (one 16-byte store): assembling it from byte-slice copies cost a store-forwarding stall
/// per identifier, 30% of matching time.
fn padded_data(interval: EnIntervalNumber) -> [u8; 16] {
    const PREFIX: u128 = u128::from_le_bytes(*b"EN-RPI\0\0\0\0\0\0\0\0\0\0");
    (PREFIX | (u128::from(interval.0) << 96)).to_le_bytes()
}

/// Derives RPIs from one RPIK; holds the expanded AES key so that a day's 144 identifiers cost one key
/// expansion and 144 block encryptions (in parallel batches where the CPU has AES instructions).
pub struct RpiGenerator {
    cipher: Aes128,
}

impl RpiGenerator {
    pub fn new(rpik: &[u8; KEY_LEN]) -> RpiGenerator {
        RpiGenerator {
            cipher: Aes128::new(&Array::from(*rpik)),
        }
    }

    /// The RPI of one interval.
    pub fn rpi(&self, interval: EnIntervalNumber) -> Rpi {
        let mut block = Array::from(padded_data(interval));
        self.cipher.encrypt_block(&mut block);
        Rpi(block.into())
    }

    /// The RPIs of `count` intervals from `start` (at most 144), into `out` (cleared first).
    pub fn rpis(&self, start: EnIntervalNumber, count: u32, out: &mut Vec<Rpi>) {
        let count = count.min(MAX_ROLLING_PERIOD);
        let mut blocks = [Array::from([0u8; 16]); MAX_ROLLING_PERIOD as usize];
        let blocks = &mut blocks[..count as usize];
        for (i, block) in (0u32..).zip(blocks.iter_mut()) {
            *block = Array::from(padded_data(start.plus(i)));
        }
        self.cipher.encrypt_blocks(blocks);
        out.clear();
        out.extend(blocks.iter().map(|b| Rpi((*b).into())));
    }
}

/// The 4 bytes of Bluetooth metadata a phone broadcasts, encrypted, beside its RPI: byte 0 the version
/// (0b01_00_0000 for 1.0), byte 1 the transmit power in dBm (signed), bytes 2 and 3 reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metadata(pub [u8; 4]);

impl Metadata {
    /// Version 1.0 with the given transmit power.
    pub fn v1(tx_power_dbm: i8) -> Metadata {
        Metadata([0x40, tx_power_dbm.to_le_bytes()[0], 0, 0])
    }

    /// The calibrated transmit power of the advertising phone, in dBm.
    pub fn tx_power_dbm(self) -> i8 {
        i8::from_le_bytes([self.0[1]])
    }
}

/// Encrypts and decrypts the metadata of one key's identifiers (AES-128-CTR keyed by the AEMK, the RPI as IV).
pub struct AemCipher {
    aemk: [u8; KEY_LEN],
}

impl AemCipher {
    pub fn new(aemk: &[u8; KEY_LEN]) -> AemCipher {
        AemCipher { aemk: *aemk }
    }

    pub fn encrypt(&self, rpi: &Rpi, metadata: Metadata) -> [u8; 4] {
        self.apply(rpi, metadata.0)
    }

    pub fn decrypt(&self, rpi: &Rpi, aem: [u8; 4]) -> Metadata {
        Metadata(self.apply(rpi, aem))
    }

    fn apply(&self, rpi: &Rpi, mut data: [u8; 4]) -> [u8; 4] {
        let mut ctr = ctr::Ctr128BE::<Aes128>::new(&Array::from(self.aemk), &Array::from(rpi.0));
        ctr.apply_keystream(&mut data);
        data
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Bytes from hex (either case), or `None` when the text is not an even number of hex digits.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    hex::decode(text).ok()
}

/// Exactly `N` bytes from hex.
pub fn from_hex_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    from_hex(text)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEK: &str = "75c734c6dd1a782de7a965da5eb93125";
    const START: u32 = 2_642_976;

    fn vectors() -> Vec<(u32, String, String)> {
        include_str!("../tests/data/gaen-v1.2-vectors.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let mut f = l.split(' ');
                let i = f.next().unwrap().parse().unwrap();
                (
                    i,
                    f.next().unwrap().to_owned(),
                    f.next().unwrap().to_owned(),
                )
            })
            .collect()
    }

    fn tek() -> TemporaryExposureKey {
        TemporaryExposureKey {
            key: from_hex_array(TEK).unwrap(),
            rolling_start: EnIntervalNumber(START),
            rolling_period: 144,
            transmission_risk_level: 0,
        }
    }

    #[test]
    fn interval_number_of_the_published_key_generation_time() {
        assert_eq!(
            EnIntervalNumber::from_unix(1_585_785_600),
            EnIntervalNumber(START)
        );
        assert_eq!(
            EnIntervalNumber::from_unix(1_585_785_599),
            EnIntervalNumber(START - 1)
        );
        assert_eq!(EnIntervalNumber(START).start_unix(), 1_585_785_600);
        assert_eq!(EnIntervalNumber::from_unix(-5), EnIntervalNumber(0));
    }

    #[test]
    fn published_keys_derive() {
        let k = tek();
        assert_eq!(hex(&k.rpik()), "185ad91db69ec7dd048960f1f3ba6175");
        assert_eq!(hex(&k.aemk()), "d57c46af7a1d83965b9bed8bd152936a");
    }

    #[test]
    fn all_144_published_rpis_and_aems_derive() {
        let k = tek();
        let vectors = vectors();
        assert_eq!(vectors.len(), 144, "every published interval is checked");
        let generator = RpiGenerator::new(&k.rpik());
        let mut batch = Vec::new();
        generator.rpis(EnIntervalNumber(START), 144, &mut batch);
        let aem = AemCipher::new(&k.aemk());
        let metadata = Metadata(from_hex_array("40080000").unwrap());
        for (i, rpi, expected_aem) in &vectors {
            let interval = EnIntervalNumber(START + i);
            let one = k.rpi(interval);
            assert_eq!(one.to_string(), *rpi, "RPI[{i}]");
            assert_eq!(batch[*i as usize], one, "batched RPI[{i}]");
            let encrypted = aem.encrypt(&one, metadata);
            assert_eq!(hex(&encrypted), *expected_aem, "AEM[{i}]");
            assert_eq!(aem.decrypt(&one, encrypted), metadata);
        }
        // The first two, spelled out as DESIGN.md quotes them.
        assert_eq!(batch[0].to_string(), "8be6cd371c5c891604bfbe49df845096");
        assert_eq!(batch[1].to_string(), "3c9a1de5dd6b02afa7fded7b570b3e56");
    }

    #[test]
    fn a_changed_key_byte_changes_every_identifier() {
        let mut k = tek();
        k.key[15] ^= 1;
        let original = tek();
        for interval in original.intervals() {
            assert_ne!(k.rpi(interval), original.rpi(interval));
        }
    }

    #[test]
    fn metadata_carries_signed_transmit_power() {
        assert_eq!(Metadata::v1(-12).tx_power_dbm(), -12);
        assert_eq!(
            Metadata(from_hex_array("40080000").unwrap()).tx_power_dbm(),
            8
        );
        assert_eq!(Metadata::v1(8).0, [0x40, 8, 0, 0]);
    }

    #[test]
    fn hex_round_trips_and_refuses_junk() {
        assert_eq!(hex(&from_hex("00ffA1").unwrap()), "00ffa1");
        assert!(from_hex("0").is_none());
        assert!(from_hex("zz").is_none());
        assert!(from_hex_array::<2>("001122").is_none());
    }

    #[test]
    fn generated_key_uses_the_callers_randomness() {
        let k = TemporaryExposureKey::generate(EnIntervalNumber(START), |b| b.fill(7));
        assert_eq!(k.key, [7; 16]);
        assert_eq!(k.rolling_period, 144);
        assert_eq!(k.intervals().count(), 144);
        assert_eq!(k.end(), EnIntervalNumber(START + 144));
    }
}
