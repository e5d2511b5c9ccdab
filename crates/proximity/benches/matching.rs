#![expect(clippy::unwrap_used, reason = "benchmark")]
//! National load on one core: a day's 100,000 diagnosis keys matched against one phone's day of observations
//! (target: under a second), plus reading and verifying the signed export they come in.
//! Run: `cargo bench -p kiemdich-proximity --bench matching` (`-- KEYS` for another key count).

use kiemdich_proximity::{
    AemCipher, EnIntervalNumber, KeyExport, Metadata, Observation, ProximityRules, SignatureInfo,
    TemporaryExposureKey, build_export, match_keys, read_export,
};
use std::hint::black_box;
use std::time::Instant;

/// xorshift64*: reproducible bytes without a dependency.
struct Bytes(u64);

impl Bytes {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn fill(&mut self, out: &mut [u8; 16]) {
        out[..8].copy_from_slice(&self.next().to_le_bytes());
        out[8..].copy_from_slice(&self.next().to_le_bytes());
    }
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut rng = Bytes(0x9e37_79b9_7f4a_7c15);
    let day = EnIntervalNumber(2_940_000 / 144 * 144);
    let keys: Vec<TemporaryExposureKey> = (0..n)
        .map(|i| {
            let mut k = TemporaryExposureKey::generate(day, |b| rng.fill(b));
            k.transmission_risk_level = (i % 9) as u8;
            k
        })
        .collect();
    // One phone's day: 40 strangers' phones heard for each of 96 waking intervals (3,840 sightings), and 20
    // minutes next to the owners of 5 of the published keys.
    let mut observations = Vec::new();
    for interval in day.0 + 36..day.0 + 132 {
        for _ in 0..40 {
            let mut rpi = [0u8; 16];
            rng.fill(&mut rpi);
            observations.push(Observation {
                rpi: kiemdich_proximity::Rpi(rpi),
                aem: [1, 2, 3, 4],
                rssi_dbm: -80,
                at: EnIntervalNumber(interval).start_unix(),
                duration_seconds: 300,
            });
        }
    }
    for k in keys.iter().step_by((n / 5).max(1)).take(5) {
        for interval in day.0 + 60..day.0 + 62 {
            let i = EnIntervalNumber(interval);
            let rpi = k.rpi(i);
            observations.push(Observation {
                rpi,
                aem: AemCipher::new(&k.aemk()).encrypt(&rpi, Metadata::v1(-8)),
                rssi_dbm: -65,
                at: i.start_unix() + 60,
                duration_seconds: 600,
            });
        }
    }
    let rules = ProximityRules::default();

    let start = Instant::now();
    let exposures = match_keys(black_box(&observations), black_box(&keys), &rules, None);
    let match_s = start.elapsed().as_secs_f64();
    assert_eq!(exposures.len(), n.min(5));
    assert!(exposures.iter().all(|e| e.close_contact));

    let signer = kiemdich_proximity::p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap();
    let info = SignatureInfo {
        verification_key_version: "v1".into(),
        verification_key_id: "452".into(),
        signature_algorithm: kiemdich_proximity::export::ECDSA_P256_SHA256.into(),
    };
    let export = KeyExport {
        start_timestamp: 0,
        end_timestamp: 86_400,
        region: "452".into(),
        batch_num: 1,
        batch_size: 1,
        signature_infos: vec![info.clone()],
        keys: keys.clone(),
    };
    let start = Instant::now();
    let zip = build_export(&export, &signer, &info);
    let build_s = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let read = read_export(black_box(&zip), signer.verifying_key()).unwrap();
    let read_s = start.elapsed().as_secs_f64();
    assert_eq!(read.keys.len(), n);

    println!(
        "| what ({n} keys, {} observations)        | value |",
        observations.len()
    );
    println!("|---------------------------------------------|-------|");
    println!(
        "| match on one core                           | {:.0} ms ({:.0} keys/s; target < 1,000 ms) |",
        match_s * 1e3,
        n as f64 / match_s
    );
    println!(
        "| read and verify the export                  | {:.0} ms |",
        read_s * 1e3
    );
    println!(
        "| build and sign the export                   | {:.0} ms |",
        build_s * 1e3
    );
    println!(
        "| export size (stored zip)                    | {} bytes ({:.1} per key) |",
        zip.len(),
        zip.len() as f64 / n as f64
    );
}
