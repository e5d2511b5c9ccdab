//! `kiemdich proximity rpi` against the published GAEN vectors, and `kiemdich proximity match` on a signed
//! export built here: exposures found, and bad exports, keys and observation files refused; `simulate`'s JSON
//! keys and its determinism for a seed.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

use kiemdich_proximity::p256::ecdsa::SigningKey;
use kiemdich_proximity::{
    AemCipher, EnIntervalNumber, KeyExport, Metadata, SignatureInfo, TemporaryExposureKey,
    build_export, public_key_pem,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kiemdich"));
    c.env("KIEMDICH_LOG", "warn");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kiemdich_prox_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// (offset, RPI, AEM) of the 144 published vectors.
fn vectors() -> Vec<(u32, String, String)> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../proximity/tests/data/gaen-v1.2-vectors.txt");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f[0].parse().unwrap(), f[1].to_owned(), f[2].to_owned())
        })
        .collect()
}

const TEK: &str = "75c734c6dd1a782de7a965da5eb93125";

#[test]
fn rpi_prints_the_144_published_identifiers() {
    let o = run(&["proximity", "rpi", "--tek", TEK, "--interval", "2642976"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 144);
    assert_eq!(lines[0], "8be6cd371c5c891604bfbe49df845096");
    assert_eq!(lines[1], "3c9a1de5dd6b02afa7fded7b570b3e56");
    let v = vectors();
    assert_eq!(v.len(), 144);
    for (i, rpi, _) in &v {
        assert_eq!(lines[*i as usize], rpi, "RPI[{i}]");
    }
}

#[test]
fn rpi_with_metadata_prints_rpi_and_aem() {
    let o = run(&[
        "proximity",
        "rpi",
        "--tek",
        &TEK.to_uppercase(),
        "--interval",
        "2642976",
        "--count",
        "3",
        "--metadata",
        "40080000",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "8be6cd371c5c891604bfbe49df845096 72033874\n\
         3c9a1de5dd6b02afa7fded7b570b3e56 c29211b1\n\
         243ffe9a3b08bded3094bac8630bb8ad 6adfad03\n"
    );
    // Starting later gives the later vectors.
    let o = run(&[
        "proximity",
        "rpi",
        "--tek",
        TEK,
        "--interval",
        "2643119",
        "--count",
        "1",
    ]);
    assert_eq!(stdout(&o), "f431b62ecf443102ce4ed0407de54bd4\n");
}

#[test]
fn rpi_refuses_a_bad_key_or_metadata() {
    for args in [
        vec!["--tek", "75c734", "--interval", "1"],
        vec!["--tek", "zz", "--interval", "1"],
        vec!["--tek", TEK, "--interval", "1", "--metadata", "4008"],
    ] {
        let o = run(&[&["proximity", "rpi"][..], &args[..]].concat());
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stdout(&o).is_empty());
        assert!(stderr(&o).contains("error: --"), "{}", stderr(&o));
    }
    let o = run(&["proximity", "rpi", "--tek", TEK, "--interval", "-5"]);
    assert_eq!(o.status.code(), Some(2));
}

/// A case's keys for three days, the export they are published in, and what a phone heard: 20 minutes near
/// the case on the second day, 30 minutes at a distance from another case, and strangers.
struct Scenario {
    dir: PathBuf,
    export: PathBuf,
    public_key: PathBuf,
    observations: PathBuf,
    close_key: String,
}

fn scenario(name: &str) -> Scenario {
    let dir = tempdir(name);
    // 2026-11-18 00:00 UTC, in the past.
    let day = EnIntervalNumber::from_unix(1_794_960_000);
    let keys: Vec<TemporaryExposureKey> = (0..3u8)
        .flat_map(|case| {
            (0..3u32).map(move |d| {
                let mut k = TemporaryExposureKey::generate(day.plus(144 * d), |b| {
                    b.fill(case * 16 + u8::try_from(d).unwrap() + 1)
                });
                k.transmission_risk_level = 4;
                k
            })
        })
        .collect();
    let signer = SigningKey::from_slice(&[9; 32]).unwrap();
    let info = SignatureInfo {
        verification_key_version: "v1".into(),
        verification_key_id: "452".into(),
        signature_algorithm: kiemdich_proximity::export::ECDSA_P256_SHA256.into(),
    };
    let export = KeyExport {
        start_timestamp: 1_795_300_000,
        end_timestamp: 1_795_303_600,
        region: "452".into(),
        batch_num: 1,
        batch_size: 1,
        signature_infos: vec![info.clone()],
        keys: keys.clone(),
    };
    let zip = build_export(&export, &signer, &info);
    let export_path = dir.join("export.zip");
    std::fs::write(&export_path, zip).unwrap();
    let public_key = dir.join("export-key.pem");
    std::fs::write(&public_key, public_key_pem(&signer).unwrap()).unwrap();

    let heard = |k: &TemporaryExposureKey, interval: u32, offset: i64, rssi: i16, seconds: u32| {
        let i = k.rolling_start.plus(interval);
        let rpi = k.rpi(i);
        let aem = AemCipher::new(&k.aemk()).encrypt(&rpi, Metadata::v1(-10));
        let at = chrono::DateTime::from_timestamp(i.start_unix() + offset, 0)
            .unwrap()
            .to_rfc3339();
        serde_json::json!({"rpi": rpi.to_string(), "aem": kiemdich_proximity::hex(&aem),
                           "rssi": rssi, "at": at, "seconds": seconds})
        .to_string()
    };
    let close = &keys[1];
    let far = &keys[4];
    let mut lines = vec!["# a phone's scans".to_owned()];
    // Attenuation -10 - (-62) = 52 dB: close. Four sightings of five minutes, one after another.
    for n in 0..4 {
        lines.push(heard(close, 60 + n / 2, i64::from(n % 2) * 300, -62, 300));
    }
    // Attenuation -10 - (-92) = 82 dB: far, 30 minutes.
    for n in 0..3 {
        lines.push(heard(far, 70 + n, 0, -92, 600));
    }
    lines.push(
        r#"{"rpi":"00112233445566778899aabbccddeeff","aem":"01020304","rssi":-50,"at":"2026-11-19T10:00:00+07:00","seconds":600}"#
            .to_owned(),
    );
    let observations = dir.join("observations.jsonl");
    std::fs::write(&observations, lines.join("\n")).unwrap();
    Scenario {
        close_key: kiemdich_proximity::hex(&close.key),
        dir,
        export: export_path,
        public_key,
        observations,
    }
}

fn match_args<'a>(s: &'a Scenario, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "proximity",
        "match",
        "--observations",
        s.observations.to_str().unwrap(),
        "--export",
        s.export.to_str().unwrap(),
    ];
    a.extend_from_slice(extra);
    a
}

#[test]
fn match_finds_the_close_contact_in_a_verified_export() {
    let s = scenario("match");
    let o = run(&match_args(
        &s,
        &["--public-key", s.public_key.to_str().unwrap(), "--json"],
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    let exposures: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(exposures.len(), 2, "{}", stdout(&o));
    let close: Vec<&Value> = exposures
        .iter()
        .filter(|e| e["close_contact"] == true)
        .collect();
    assert_eq!(close.len(), 1);
    assert_eq!(close[0]["key"], s.close_key.as_str());
    assert_eq!(close[0]["close_minutes"], 20);
    assert_eq!(close[0]["min_attenuation_db"], 52);
    assert_eq!(close[0]["sightings"], 4);
    let far = exposures
        .iter()
        .find(|e| e["close_contact"] == false)
        .unwrap();
    assert_eq!(far["minutes"], 30);
    assert_eq!(far["close_minutes"], 0);

    // The text form: Vietnamese first, Vietnam time, and a summary on stderr; no warning when verified.
    let o = run(&match_args(
        &s,
        &["--public-key", s.public_key.to_str().unwrap()],
    ));
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(
        out.lines()
            .any(|l| l.starts_with("GẦN / CLOSE") && l.contains("/11/2026")),
        "{out}"
    );
    assert!(stderr(&o).contains("1 tiếp xúc gần"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning"));
}

#[test]
fn match_without_a_public_key_warns() {
    let s = scenario("nokey");
    let o = run(&match_args(&s, &["--json"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("signature not checked"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stdout(&o).lines().count(), 2);
}

#[test]
fn match_refuses_a_forged_or_malformed_export() {
    let s = scenario("forged");
    // Another authority's key.
    let other = s.dir.join("other.pem");
    std::fs::write(
        &other,
        public_key_pem(&SigningKey::from_slice(&[3; 32]).unwrap()).unwrap(),
    )
    .unwrap();
    let o = run(&match_args(&s, &["--public-key", other.to_str().unwrap()]));
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("no signature"), "{}", stderr(&o));

    // A cut zip, a text file, a bad PEM.
    let zip = std::fs::read(&s.export).unwrap();
    std::fs::write(&s.export, &zip[..zip.len() / 2]).unwrap();
    let o = run(&match_args(
        &s,
        &["--public-key", s.public_key.to_str().unwrap()],
    ));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("zip"), "{}", stderr(&o));
    std::fs::write(&s.export, "hello").unwrap();
    let o = run(&match_args(&s, &[]));
    assert_eq!(o.status.code(), Some(2));
    std::fs::write(&s.export, &zip).unwrap();
    std::fs::write(
        &other,
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    )
    .unwrap();
    let o = run(&match_args(&s, &["--public-key", other.to_str().unwrap()]));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("public key"), "{}", stderr(&o));
}

#[test]
fn match_reports_every_bad_observation_line() {
    let s = scenario("badobs");
    let good = std::fs::read_to_string(&s.observations).unwrap();
    std::fs::write(
        &s.observations,
        format!("{good}\n{{\"rpi\":\"00\",\"aem\":\"01020304\",\"rssi\":-50,\"at\":\"x\",\"seconds\":1}}\nnonsense\n"),
    )
    .unwrap();
    let o = run(&match_args(&s, &[]));
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    let err = stderr(&o);
    assert!(err.contains("line 10: rpi"), "{err}");
    assert!(err.contains("at: not an RFC 3339 time"), "{err}");
    assert!(err.contains("line 11:"), "{err}");
    assert!(err.contains("2 bad lines"), "{err}");
}

#[test]
fn match_takes_rules_and_the_scanners_calibration_from_a_file() {
    let s = scenario("rules");
    let shipped: Value =
        serde_json::from_str(include_str!("../../proximity/data/proximity_rules.json")).unwrap();
    // A stricter threshold: the 52 dB contact is no longer close ...
    let mut strict = shipped.clone();
    strict["close_attenuation_db"] = 45.into();
    let strict_path = s.dir.join("strict.json");
    std::fs::write(&strict_path, strict.to_string()).unwrap();
    let close_count = |extra: &[&str]| {
        let o = run(&match_args(&s, &[&["--json"], extra].concat()));
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
            .lines()
            .filter(|l| l.contains("\"close_contact\":true"))
            .count()
    };
    assert_eq!(close_count(&[]), 1);
    assert_eq!(close_count(&["--rules", strict_path.to_str().unwrap()]), 0);
    // ... unless this phone model reads 10 dB low, as its calibration entry says.
    strict["calibration"] =
        serde_json::json!([{"scanner_model": "SM-A105F", "rssi_correction_db": 10}]);
    std::fs::write(&strict_path, strict.to_string()).unwrap();
    assert_eq!(
        close_count(&[
            "--rules",
            strict_path.to_str().unwrap(),
            "--scanner-model",
            "SM-A105F"
        ]),
        1
    );
    // Rules that do not parse are refused.
    std::fs::write(&strict_path, "{}").unwrap();
    let o = run(&match_args(&s, &["--rules", strict_path.to_str().unwrap()]));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("proximity rules"), "{}", stderr(&o));
}

/// `simulate --json`: the interface's keys, and the same report for the same seed but for the timings.
#[test]
fn simulate_reports_the_interface_keys_and_repeats_for_a_seed() {
    let args = [
        "proximity",
        "simulate",
        "--people",
        "300",
        "--days",
        "2",
        "--seed",
        "5",
        "--json",
        "--national-keys",
        "500",
    ];
    let runs: Vec<Value> = (0..2)
        .map(|_| {
            let o = run(&args);
            assert!(o.status.success(), "{}", stderr(&o));
            serde_json::from_str(&stdout(&o)).unwrap()
        })
        .collect();
    let r = &runs[0];
    for key in [
        "precision",
        "recall",
        "bytes_per_phone_day",
        "match_ms_per_phone_day",
        "f1_presence",
        "f1_proximity",
        "f1_both",
        "f1_truth",
        "exposures_truth",
        "people",
        "days",
        "cases",
        "keys_published",
        "match_ms_100k_keys",
    ] {
        assert!(
            r.get(key).is_some_and(|v| !v.is_null()),
            "{key} missing: {r}"
        );
    }
    assert_eq!(
        (r["people"].as_u64(), r["days"].as_u64()),
        (Some(300), Some(2))
    );
    assert!(r["bytes_per_phone_day"].as_f64().unwrap() > 0.0);
    let without_timings = |v: &Value| {
        let mut v = v.clone();
        for key in ["match_ms_per_phone_day", "match_ms_100k_keys", "elapsed_s"] {
            v.as_object_mut().unwrap().remove(key);
        }
        v
    };
    assert_eq!(without_timings(&runs[0]), without_timings(&runs[1]));
    // The table names each line in Vietnamese first.
    let table: Vec<&str> = args.iter().copied().filter(|a| *a != "--json").collect();
    let o = run(&table);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("độ chính xác / precision"),
        "{}",
        stdout(&o)
    );
    let o = run(&[
        "proximity",
        "simulate",
        "--people",
        "100",
        "--days",
        "15",
        "--seed",
        "1",
    ]);
    assert!(!o.status.success());
}
