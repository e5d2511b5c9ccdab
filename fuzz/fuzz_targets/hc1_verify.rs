//! `kiemdich_dcc::verify` on untrusted HC1 strings, as the scan endpoint receives them, against a trust list of one
//! fixed DSC (fuzz/data, not secret) at a fixed clock; then `Presented::from_payload` on what verified. The first
//! input byte picks how the rest is used:
//! - 0x01: XORed into the zlib-inflated COSE bytes of a known-good certificate (extra bytes appended), recompressed
//!   and Base45-encoded, so that mutants reach the CBOR, COSE, CWT, signature and schema checks;
//! - anything else: the whole input is the HC1 text.

#![no_main]

use chrono::{DateTime, TimeZone, Utc};
use kiemdich_dcc::{DscSigner, Presented, TrustList};
use libfuzzer_sys::fuzz_target;
use std::io::{Read, Write};
use std::sync::LazyLock;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 6, 1, 0, 0, 0).unwrap()
}

struct Fixture {
    trust: TrustList,
    /// The inflated COSE_Sign1 of a certificate the DSC signed (deterministic ECDSA: the same every run).
    cose: Vec<u8>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let signer = DscSigner::load(
        include_str!("../data/hc1-dsc.key.pem"),
        include_bytes!("../data/hc1-dsc.cert.pem"),
    )
    .expect("the fixture DSC");
    let mut trust = TrustList::new();
    trust.add(signer.dsc().clone());
    let holder = kiemdich_dcc::Holder {
        family_name: "Nguyễn".into(),
        given_name: "Văn An".into(),
        date_of_birth: "1990-05-17".into(),
    };
    let dose = kiemdich_dcc::Vaccination {
        tg: "840539006".into(),
        vp: "1119349007".into(),
        mp: "EU/1/20/1528".into(),
        ma: "ORG-100030215".into(),
        dose_number: 2,
        series_doses: 2,
        date: chrono::NaiveDate::from_ymd_opt(2021, 9, 20).unwrap(),
        country: "VN".into(),
        issuer: "Ministry of Health Viet Nam".into(),
    };
    let hc1 = kiemdich_dcc::issue(&signer, &holder, &dose, "VN", Some("URN:UVCI:01:VN:FUZZ#0"), now())
        .expect("issued")
        .hc1;
    let zipped = kiemdich_pass::base45::decode(&hc1[4..]).expect("base45");
    let mut cose = Vec::new();
    flate2::read::ZlibDecoder::new(zipped.as_slice())
        .read_to_end(&mut cose)
        .expect("zlib");
    Fixture { trust, cose }
});

fn hc1_of(cose: &[u8]) -> String {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(cose).expect("in memory");
    let zipped = z.finish().expect("in memory");
    format!("HC1:{}", kiemdich_pass::base45::encode(&zipped))
}

fuzz_target!(|data: &[u8]| {
    let fx = &*FIXTURE;
    let text = match data.split_first() {
        Some((0x01, xor)) => {
            let mut cose = fx.cose.clone();
            for (i, &d) in xor.iter().enumerate() {
                match cose.get_mut(i) {
                    Some(b) => *b ^= d,
                    None => cose.push(d),
                }
            }
            hc1_of(&cose)
        }
        _ => String::from_utf8_lossy(data).into_owned(),
    };
    let report = kiemdich_dcc::verify(&text, &fx.trust, now());
    if report.valid() {
        // A valid certificate holds exactly one entry, its payload is there, and a checkpoint can read it.
        assert_eq!(report.kinds.len(), 1);
        let payload = report.payload.as_ref().expect("a valid certificate has its payload");
        let _ = Presented::from_payload(payload);
    }
});
