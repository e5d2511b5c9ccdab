//! On-device matching: which of the identifiers this phone heard came from a phone whose keys were published,
//! and whether the time spent near it makes an exposure.
//!
//! The phone's own observations go into a hash map keyed by RPI (a day has a few thousand at most); each
//! diagnosis key's identifiers (up to 144) are derived with one AES key expansion and looked up there. With
//! 100,000 keys a day that is 14.4 million AES blocks and look-ups in a map that fits in cache, instead of a
//! 14.4-million-entry map of derived identifiers (hundreds of megabytes on a phone).

use crate::crypto::{
    AemCipher, EnIntervalNumber, Metadata, Rpi, RpiGenerator, TemporaryExposureKey,
};
use crate::crypto::{INTERVAL_SECONDS, from_hex_array};
use crate::rules::ProximityRules;
use serde::Deserialize;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// One sighting: an identifier heard for `duration_seconds` from `at`, at a given signal strength.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub rpi: Rpi,
    pub aem: [u8; 4],
    /// Received signal strength, dBm (negative).
    pub rssi_dbm: i16,
    /// Unix seconds at which the sighting started.
    pub at: i64,
    pub duration_seconds: u32,
}

/// Time near one diagnosis key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure {
    /// The key's position among the diagnosis keys given.
    pub key_index: usize,
    pub key: TemporaryExposureKey,
    /// Unix seconds of the first sighting's start and of the last sighting's end.
    pub first_seen: i64,
    pub last_seen: i64,
    pub sightings: usize,
    /// Seconds covered by the sightings, and by those at or below the close attenuation (overlapping
    /// sightings counted once).
    pub seconds: u64,
    pub close_seconds: u64,
    /// The lowest attenuation seen (nearest), dB.
    pub min_attenuation_db: i16,
    /// Close time reached the rules' minimum.
    pub close_contact: bool,
}

/// Hashes an RPI by its first 8 bytes: the bytes are AES output, already uniformly distributed, so SipHash's
/// protection against chosen keys buys nothing and costs a third of the matching time.
#[derive(Default)]
pub struct RpiHasher(u64);

impl Hasher for RpiHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(b);
        }
    }

    fn write_usize(&mut self, _length_prefix: usize) {}
}

type RpiMap<V> = HashMap<Rpi, V, BuildHasherDefault<RpiHasher>>;

/// The phone's observations, indexed by identifier.
pub struct ObservationIndex<'a> {
    observations: &'a [Observation],
    by_rpi: RpiMap<Vec<u32>>,
    /// One bit per value of an RPI's first 20 bits, set for the identifiers heard: nearly every derived
    /// identifier is ruled out by one load from this 128 KiB table, before hashing.
    heard: Vec<u64>,
}

const FILTER_BITS: u32 = 20;

fn filter_slot(rpi: &Rpi) -> usize {
    let prefix = u32::from_le_bytes([rpi.0[0], rpi.0[1], rpi.0[2], rpi.0[3]]);
    (prefix & ((1 << FILTER_BITS) - 1)) as usize
}

impl<'a> ObservationIndex<'a> {
    pub fn new(observations: &'a [Observation]) -> ObservationIndex<'a> {
        let mut by_rpi: RpiMap<Vec<u32>> = RpiMap::default();
        by_rpi.reserve(observations.len());
        let mut heard = vec![0u64; (1 << FILTER_BITS) / 64];
        for (i, o) in (0u32..).zip(observations) {
            by_rpi.entry(o.rpi).or_default().push(i);
            let slot = filter_slot(&o.rpi);
            heard[slot / 64] |= 1 << (slot % 64);
        }
        ObservationIndex {
            observations,
            by_rpi,
            heard,
        }
    }

    /// Matches every diagnosis key against the observations and scores the time spent near each; keys never
    /// heard give nothing. `scanner_model` picks this phone's RSSI calibration.
    pub fn match_keys(
        &self,
        keys: &[TemporaryExposureKey],
        rules: &ProximityRules,
        scanner_model: Option<&str>,
    ) -> Vec<Exposure> {
        let tolerance = rules.tolerance_intervals();
        let correction = rules.rssi_correction_db(scanner_model);
        let mut rpis = Vec::with_capacity(144);
        let mut spans = Vec::new();
        let mut out = Vec::new();
        if self.by_rpi.is_empty() {
            return out;
        }
        for (key_index, key) in keys.iter().enumerate() {
            RpiGenerator::new(&key.rpik()).rpis(key.rolling_start, key.rolling_period, &mut rpis);
            let mut exposure: Option<Exposure> = None;
            spans.clear();
            let mut aem: Option<AemCipher> = None;
            for (interval, rpi) in key.intervals().zip(&rpis) {
                let slot = filter_slot(rpi);
                if self
                    .heard
                    .get(slot / 64)
                    .is_none_or(|w| w & (1 << (slot % 64)) == 0)
                {
                    continue;
                }
                let Some(hits) = self.by_rpi.get(rpi) else {
                    continue;
                };
                for &i in hits {
                    let Some(o) = self.observations.get(i as usize) else {
                        continue;
                    };
                    if EnIntervalNumber::from_unix(o.at).minus(interval).abs() > tolerance {
                        continue;
                    }
                    let cipher = aem.get_or_insert_with(|| AemCipher::new(&key.aemk()));
                    let metadata = cipher.decrypt(rpi, o.aem);
                    let attenuation = attenuation_db(metadata, o.rssi_dbm, correction);
                    record(
                        &mut exposure,
                        &mut spans,
                        key_index,
                        key,
                        o,
                        attenuation,
                        rules,
                    );
                }
            }
            if let Some(mut e) = exposure {
                e.seconds = covered_seconds(spans.iter().map(|&(a, b, _)| (a, b)));
                e.close_seconds =
                    covered_seconds(spans.iter().filter(|s| s.2).map(|&(a, b, _)| (a, b)));
                e.close_contact = e.close_seconds >= u64::from(rules.min_close_minutes) * 60;
                out.push(e);
            }
        }
        out
    }
}

/// Matches observations against diagnosis keys (see [`ObservationIndex::match_keys`]).
pub fn match_keys(
    observations: &[Observation],
    keys: &[TemporaryExposureKey],
    rules: &ProximityRules,
    scanner_model: Option<&str>,
) -> Vec<Exposure> {
    ObservationIndex::new(observations).match_keys(keys, rules, scanner_model)
}

/// Transmit power (from the decrypted metadata) minus the corrected RSSI: how much signal the air took.
pub fn attenuation_db(metadata: Metadata, rssi_dbm: i16, rssi_correction_db: i16) -> i16 {
    i16::from(metadata.tx_power_dbm()).saturating_sub(rssi_dbm.saturating_add(rssi_correction_db))
}

fn record(
    exposure: &mut Option<Exposure>,
    spans: &mut Vec<(i64, i64, bool)>,
    key_index: usize,
    key: &TemporaryExposureKey,
    o: &Observation,
    attenuation: i16,
    rules: &ProximityRules,
) {
    let end = o.at.saturating_add(i64::from(o.duration_seconds));
    spans.push((o.at, end, attenuation <= rules.close_attenuation_db));
    match exposure {
        Some(e) => {
            e.first_seen = e.first_seen.min(o.at);
            e.last_seen = e.last_seen.max(end);
            e.sightings += 1;
            e.min_attenuation_db = e.min_attenuation_db.min(attenuation);
        }
        None => {
            *exposure = Some(Exposure {
                key_index,
                key: *key,
                first_seen: o.at,
                last_seen: end,
                sightings: 1,
                seconds: 0,
                close_seconds: 0,
                min_attenuation_db: attenuation,
                close_contact: false,
            });
        }
    }
}

/// Seconds covered by the spans (each `[start, end)`), overlaps counted once: a scanner that reports the same
/// identifier from overlapping scan windows must not make ten minutes look like twenty.
fn covered_seconds(spans: impl Iterator<Item = (i64, i64)>) -> u64 {
    let mut spans: Vec<(i64, i64)> = spans.collect();
    spans.sort_unstable();
    let mut total = 0i64;
    let mut reach = i64::MIN;
    for (start, end) in spans {
        let from = start.max(reach);
        if end > from {
            total = total.saturating_add(end - from);
        }
        reach = reach.max(end);
    }
    u64::try_from(total).unwrap_or(0)
}

/// A line of an observations file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ObservationError {
    pub line: usize,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ObservationLine {
    rpi: String,
    aem: String,
    rssi: i16,
    at: String,
    seconds: u32,
}

/// Reads an observations file: JSON lines, one sighting each,
/// `{"rpi": "<32 hex>", "aem": "<8 hex>", "rssi": -61, "at": "2026-11-20T08:10:00+07:00", "seconds": 300}`
/// (`at` RFC 3339; blank lines and lines starting with `#` are skipped). Every bad line is reported.
pub fn parse_observations(text: &str) -> Result<Vec<Observation>, Vec<ObservationError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        match parse_line(t) {
            Ok(o) => out.push(o),
            Err(reason) => errors.push(ObservationError {
                line: line_no,
                reason,
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn parse_line(t: &str) -> Result<Observation, String> {
    let l: ObservationLine = serde_json::from_str(t).map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    let rpi = from_hex_array::<16>(&l.rpi);
    if rpi.is_none() {
        problems.push("rpi: not 16 bytes of hex");
    }
    let aem = from_hex_array::<4>(&l.aem);
    if aem.is_none() {
        problems.push("aem: not 4 bytes of hex");
    }
    let at = chrono::DateTime::parse_from_rfc3339(&l.at).ok();
    if at.is_none() {
        problems.push("at: not an RFC 3339 time");
    }
    if !(-127..=20).contains(&l.rssi) {
        problems.push("rssi: not between -127 and 20 dBm (Bluetooth's range)");
    }
    if l.seconds == 0 || i64::from(l.seconds) > 24 * 6 * INTERVAL_SECONDS {
        problems.push("seconds: not between 1 and a day");
    }
    match (rpi, aem, at) {
        (Some(rpi), Some(aem), Some(at)) if problems.is_empty() => Ok(Observation {
            rpi: Rpi(rpi),
            aem,
            rssi_dbm: l.rssi,
            at: at.timestamp(),
            duration_seconds: l.seconds,
        }),
        _ => Err(problems.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8, start: u32) -> TemporaryExposureKey {
        TemporaryExposureKey {
            key: [byte; 16],
            rolling_start: EnIntervalNumber(start),
            rolling_period: 144,
            transmission_risk_level: 3,
        }
    }

    /// What a phone near `key` hears at `interval`, `offset` seconds in, for `seconds`.
    fn heard(
        key: &TemporaryExposureKey,
        interval: u32,
        offset: i64,
        seconds: u32,
        tx: i8,
        rssi: i16,
    ) -> Observation {
        let i = EnIntervalNumber(interval);
        let rpi = key.rpi(i);
        Observation {
            rpi,
            aem: AemCipher::new(&key.aemk()).encrypt(&rpi, Metadata::v1(tx)),
            rssi_dbm: rssi,
            at: i.start_unix() + offset,
            duration_seconds: seconds,
        }
    }

    const DAY: u32 = 2_900_000 / 144 * 144;

    #[test]
    fn twenty_minutes_close_is_an_exposure_ten_is_not() {
        let rules = ProximityRules::default();
        let k = key(1, DAY);
        // tx -10, rssi -65: attenuation 55 dB (close). Four sightings of five minutes.
        let obs: Vec<_> = (0..4)
            .map(|n| heard(&k, DAY + 50 + n / 2, i64::from(n % 2) * 300, 300, -10, -65))
            .collect();
        let e = match_keys(&obs, &[key(2, DAY), k], &rules, None);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].key_index, 1);
        assert_eq!(e[0].sightings, 4);
        assert_eq!(e[0].close_seconds, 1200);
        assert_eq!(e[0].min_attenuation_db, 55);
        assert!(e[0].close_contact);
        let short = match_keys(&obs[..2], &[k], &rules, None);
        assert!(!short[0].close_contact, "10 minutes is below the 15");
    }

    #[test]
    fn overlapping_sightings_count_once() {
        let rules = ProximityRules::default();
        let k = key(8, DAY);
        // 0–600 s and 300–900 s of one interval, then 600–1200 s far: 900 s close, 1200 s in all.
        let obs = [
            heard(&k, DAY + 30, 0, 600, -10, -60),
            heard(&k, DAY + 30, 300, 600, -10, -60),
            heard(&k, DAY + 31, 0, 600, -10, -95),
        ];
        let e = match_keys(&obs, &[k], &rules, None);
        assert_eq!(e[0].sightings, 3);
        assert_eq!(e[0].close_seconds, 900);
        assert_eq!(e[0].seconds, 1200);
        assert_eq!(
            covered_seconds([(0, 10), (20, 30), (5, 25)].into_iter()),
            30
        );
        assert_eq!(covered_seconds([(0, 10), (2, 3)].into_iter()), 10);
        assert_eq!(covered_seconds(std::iter::empty()), 0);
    }

    #[test]
    fn far_sightings_count_as_time_but_not_as_close() {
        let rules = ProximityRules::default();
        let k = key(3, DAY);
        // tx -10, rssi -90: attenuation 80 dB, several metres.
        let obs: Vec<_> = (0..6)
            .map(|n| heard(&k, DAY + 10 + n, 0, 600, -10, -90))
            .collect();
        let e = match_keys(&obs, &[k], &rules, None);
        assert_eq!(e[0].seconds, 3600);
        assert_eq!(e[0].close_seconds, 0);
        assert!(!e[0].close_contact);
    }

    #[test]
    fn calibration_moves_the_attenuation() {
        let mut rules = ProximityRules::default();
        rules.calibration.push(crate::rules::Calibration {
            scanner_model: "deaf-phone".into(),
            rssi_correction_db: 20,
        });
        let k = key(4, DAY);
        let obs: Vec<_> = (0..3)
            .map(|n| heard(&k, DAY + n, 0, 600, -10, -90))
            .collect();
        assert!(!match_keys(&obs, &[k], &rules, None)[0].close_contact);
        let e = match_keys(&obs, &[k], &rules, Some("deaf-phone"));
        assert_eq!(e[0].min_attenuation_db, 60);
        assert!(e[0].close_contact);
    }

    #[test]
    fn clock_skew_within_two_hours_matches_beyond_does_not() {
        let rules = ProximityRules::default();
        let k = key(5, DAY);
        let within = heard(&k, DAY + 70, 2 * 3600, 900, -10, -60);
        let beyond = heard(&k, DAY + 70, 2 * 3600 + 601, 900, -10, -60);
        let early = heard(&k, DAY + 70, -2 * 3600, 900, -10, -60);
        assert_eq!(match_keys(&[within], &[k], &rules, None).len(), 1);
        assert_eq!(match_keys(&[early], &[k], &rules, None).len(), 1);
        assert!(match_keys(&[beyond], &[k], &rules, None).is_empty());
    }

    #[test]
    fn identifiers_outside_the_keys_period_do_not_match() {
        let rules = ProximityRules::default();
        let mut k = key(6, DAY);
        let late = heard(&k, DAY + 100, 0, 900, -10, -60);
        k.rolling_period = 100;
        assert!(match_keys(&[late], &[k], &rules, None).is_empty());
    }

    #[test]
    fn attenuation_is_tx_minus_corrected_rssi() {
        assert_eq!(attenuation_db(Metadata::v1(8), -60, 0), 68);
        assert_eq!(attenuation_db(Metadata::v1(-20), -60, 5), 35);
    }

    #[test]
    fn observations_file_reads_and_reports_every_bad_line() {
        let good = r#"{"rpi":"8be6cd371c5c891604bfbe49df845096","aem":"72033874","rssi":-61,"at":"2020-04-02T07:00:00+07:00","seconds":300}"#;
        let obs = parse_observations(&format!("# scans\n\n{good}\n")).unwrap();
        assert_eq!(obs.len(), 1);
        assert_eq!(obs[0].at, 1_585_785_600);
        assert_eq!(obs[0].rssi_dbm, -61);
        let errors = parse_observations(&format!(
            "{good}\n{}\nnot json\n",
            good.replace("72033874", "7203")
                .replace("+07:00", "")
                .replace("-61", "-200")
        ))
        .unwrap_err();
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].line, 2);
        assert!(errors[0].reason.contains("aem"), "{}", errors[0].reason);
        assert!(errors[0].reason.contains("at:"), "{}", errors[0].reason);
        assert!(errors[0].reason.contains("rssi:"), "{}", errors[0].reason);
        assert_eq!(errors[1].line, 3);
    }

    #[test]
    fn hasher_spreads_identifiers() {
        let k = key(7, DAY);
        let mut seen = std::collections::HashSet::new();
        for i in k.intervals() {
            let mut h = RpiHasher::default();
            std::hash::Hash::hash(&k.rpi(i), &mut h);
            seen.insert(h.finish());
        }
        assert_eq!(seen.len(), 144);
    }
}
