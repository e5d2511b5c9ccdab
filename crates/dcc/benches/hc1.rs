#![expect(clippy::unwrap_used, reason = "benchmark")]
//! HC1 verification over the EU conformance vectors, this crate against the `dgc` crate 0.0.7 (same vectors, same
//! trust certificate, same clock; only vectors both verify), and issuance per second.
//! Run: `cargo bench -p kiemdich-dcc --bench hc1`.

use base64::Engine;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use kiemdich_dcc::{
    Csca, Dsc, DscSigner, Holder, TrustList, Vaccination, dsc_request, issue, verify,
};
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

struct Vector {
    hc1: String,
    ours: TrustList,
    theirs: dgc::TrustList,
    now: DateTime<Utc>,
    name: String,
}

fn clock(c: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(c)
        .or_else(|_| DateTime::parse_from_str(c, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .map(|t| t.to_utc())
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(c, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

fn load() -> (Vec<Vector>, usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dcc-testdata");
    let mut out = Vec::new();
    let mut valid = 0;
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|d| d.unwrap().path())
        .collect();
    dirs.sort();
    for dir in dirs {
        for raw in ["raw", "Raw"] {
            let Ok(files) = std::fs::read_dir(dir.join("2DCode").join(raw)) else {
                continue;
            };
            let mut files: Vec<_> = files.map(|f| f.unwrap().path()).collect();
            files.sort();
            for p in files {
                let v: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
                if v["EXPECTEDRESULTS"]["EXPECTEDVERIFY"] != serde_json::Value::Bool(true) {
                    continue;
                }
                valid += 1;
                let (Some(hc1), Some(cert), Some(now)) = (
                    v["PREFIX"].as_str(),
                    v["TESTCTX"]["CERTIFICATE"].as_str(),
                    v["TESTCTX"]["VALIDATIONCLOCK"].as_str().and_then(clock),
                ) else {
                    continue;
                };
                let Ok(der) = base64::engine::general_purpose::STANDARD.decode(cert) else {
                    continue;
                };
                let Ok(dsc) = Dsc::from_der(&der) else {
                    continue;
                };
                let mut ours = TrustList::new();
                ours.add(dsc);
                let mut theirs = dgc::TrustList::default();
                if theirs.add_key_from_certificate(cert).is_err() {
                    continue;
                }
                let vector = Vector {
                    hc1: hc1.to_owned(),
                    ours,
                    theirs,
                    now,
                    name: p.strip_prefix(&root).unwrap().display().to_string(),
                };
                let we = verify(&vector.hc1, &vector.ours, now).checks.verify == Some(true);
                let they =
                    dgc::validate(&vector.hc1, &vector.theirs).is_ok_and(|(_, s)| s.is_valid());
                if we && they {
                    out.push(vector);
                } else if we != they {
                    eprintln!(
                        "only {} verify {}",
                        if we { "we" } else { "dgc" },
                        vector.name
                    );
                }
            }
        }
    }
    (out, valid)
}

/// µs per call of ours and theirs over the same vectors, the two interleaved round by round so that a change in the
/// machine's load during the run weighs on both alike.
fn per_call(vectors: &[Vector], rounds: usize) -> (f64, f64) {
    let ours = |v: &Vector| {
        black_box(verify(black_box(&v.hc1), &v.ours, v.now));
    };
    let theirs = |v: &Vector| {
        black_box(dgc::validate(black_box(&v.hc1), &v.theirs).ok());
    };
    for v in vectors {
        ours(v); // warm up (and prepare each signer's verification table)
        theirs(v);
    }
    let (mut a, mut b) = (0.0, 0.0);
    for _ in 0..rounds {
        let start = Instant::now();
        vectors.iter().for_each(ours);
        a += start.elapsed().as_secs_f64();
        let start = Instant::now();
        vectors.iter().for_each(theirs);
        b += start.elapsed().as_secs_f64();
    }
    let calls = (rounds * vectors.len()) as f64;
    (a * 1e6 / calls, b * 1e6 / calls)
}

fn main() {
    let (vectors, valid) = load();
    let rounds = 20;
    let (ours, theirs) = per_call(&vectors, rounds);
    let (ec, rsa): (Vec<Vector>, Vec<Vector>) = vectors
        .into_iter()
        .partition(|v| v.ours.iter().all(|d| d.algorithm() == "ES256"));
    let (ours_ec, theirs_ec) = per_call(&ec, rounds);
    let (ours_rsa, theirs_rsa) = per_call(&rsa, rounds);
    let vectors = [ec.len(), rsa.len()];

    let now = Utc::now();
    let csca = Csca::generate("VN", "CSCA bench", now - Duration::days(1), 10).unwrap();
    let req = dsc_request("VN", "DSC bench").unwrap();
    let der = csca
        .sign_request(
            req.request_pem.as_bytes(),
            &[],
            now - Duration::hours(1),
            730,
        )
        .unwrap();
    let signer = DscSigner::load(&req.key_pem, &der).unwrap();
    let holder = Holder {
        family_name: "Nguyễn".into(),
        given_name: "Văn An".into(),
        date_of_birth: "1980-01-01".into(),
    };
    let dose = Vaccination {
        tg: "840539006".into(),
        vp: "J07BX03".into(),
        mp: "EU/1/21/1529".into(),
        ma: "ORG-100001699".into(),
        dose_number: 1,
        series_doses: 2,
        date: NaiveDate::from_ymd_opt(2021, 9, 1).unwrap(),
        country: "VN".into(),
        issuer: "Bộ Y tế".into(),
    };
    let start = Instant::now();
    let mut issued = 0u32;
    while start.elapsed().as_secs_f64() < 2.0 {
        black_box(issue(&signer, &holder, &dose, "VN", None, now).unwrap());
        issued += 1;
    }
    let per_sec = f64::from(issued) / start.elapsed().as_secs_f64();

    println!(
        "HC1 benchmark ({} vectors both verify: {} ES256, {} PS256; of {valid} expected to verify; {rounds} rounds)",
        vectors[0] + vectors[1],
        vectors[0],
        vectors[1]
    );
    println!("| what                         | µs per call | ratio |");
    println!("|------------------------------|-------------|-------|");
    println!(
        "| verify, kiemdich-dcc         | {ours:>11.1} | {:>5.2} |",
        theirs / ours
    );
    println!("| verify, dgc 0.0.7 (anchor)   | {theirs:>11.1} |  1.00 |");
    println!(
        "| ES256 only, kiemdich-dcc     | {ours_ec:>11.1} | {:>5.2} |",
        theirs_ec / ours_ec
    );
    println!("| ES256 only, dgc 0.0.7        | {theirs_ec:>11.1} |  1.00 |");
    println!(
        "| PS256 only, kiemdich-dcc     | {ours_rsa:>11.1} | {:>5.2} |",
        theirs_rsa / ours_rsa
    );
    println!("| PS256 only, dgc 0.0.7        | {theirs_rsa:>11.1} |  1.00 |");
    println!(
        "| issue, kiemdich-dcc          | {:>11.1} | {per_sec:.0}/s |",
        1e6 / per_sec
    );
}
