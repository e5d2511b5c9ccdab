#![expect(clippy::unwrap_used, reason = "tests")]
//! Every EU DCC conformance vector through the verifier, with the vector's own certificate as the trust list and its
//! VALIDATIONCLOCK as now. Each EXPECTED* result that is present must match the corresponding check: `true` needs
//! the check passed; `false` needs it failed, or not reached because an earlier step already refused the string.

use kiemdich_dcc::{Checks, Dsc, TrustList, verify};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn vectors() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dcc-testdata");
    let mut out = Vec::new();
    for country in std::fs::read_dir(&root).unwrap() {
        let dir = country.unwrap().path().join("2DCode");
        for raw in ["raw", "Raw"] {
            let Ok(files) = std::fs::read_dir(dir.join(raw)) else {
                continue;
            };
            for f in files {
                let p = f.unwrap().path();
                if p.extension().is_some_and(|e| e == "json") {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

type Field = (&'static str, fn(&Checks) -> Option<bool>);

const FIELDS: [Field; 8] = [
    ("EXPECTEDUNPREFIX", |c| c.unprefix),
    ("EXPECTEDB45DECODE", |c| c.b45decode),
    ("EXPECTEDCOMPRESSION", |c| c.compression),
    ("EXPECTEDDECODE", |c| c.decode),
    ("EXPECTEDVERIFY", |c| c.verify),
    ("EXPECTEDEXPIRATIONCHECK", |c| c.expiration),
    ("EXPECTEDSCHEMAVALIDATION", |c| c.schema),
    ("EXPECTEDKEYUSAGE", |c| c.key_usage),
];

/// VALIDATIONCLOCK as the vectors write it: RFC 3339, an offset without colon, or no zone (read as UTC).
fn clock(c: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(c)
        .or_else(|_| chrono::DateTime::parse_from_str(c, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .map(|t| t.to_utc())
        .unwrap_or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(c, "%Y-%m-%dT%H:%M:%S%.f")
                .unwrap()
                .and_utc()
        })
}

/// Runs one vector; the mismatching fields as `FIELD expected X got Y`.
pub fn run(path: &Path) -> Vec<String> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let ctx = &v["TESTCTX"];
    let mut trust = TrustList::new();
    if let Some(cert) = ctx["CERTIFICATE"].as_str() {
        match kiemdich_dcc::der_from_any(cert.as_bytes(), "CERTIFICATE")
            .and_then(|d| Dsc::from_der(&d))
        {
            Ok(dsc) => trust.add(dsc),
            Err(e) => eprintln!("{}: certificate not usable: {e}", path.display()),
        }
    }
    let now = ctx["VALIDATIONCLOCK"]
        .as_str()
        .map(clock)
        .unwrap_or_else(chrono::Utc::now);
    let hc1 = v["PREFIX"].as_str().unwrap_or("");
    let report = verify(hc1, &trust, now);
    let mut wrong = Vec::new();
    for (field, check) in FIELDS {
        let Some(expected) = v["EXPECTEDRESULTS"][field].as_bool() else {
            continue;
        };
        let got = check(&report.checks);
        let ok = if expected {
            got == Some(true)
        } else {
            got != Some(true)
        };
        if !ok {
            wrong.push(format!(
                "{field} expected {expected} got {got:?} ({:?} {:?})",
                report.reason, report.detail
            ));
        }
    }
    wrong
}

#[test]
fn every_vector() {
    let all = vectors();
    assert!(all.len() >= 480, "vectors found: {}", all.len());
    let mut failed = Vec::new();
    for p in &all {
        let wrong = run(p);
        if !wrong.is_empty() {
            let name = p
                .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dcc-testdata"))
                .unwrap();
            failed.push(format!("{}: {}", name.display(), wrong.join("; ")));
        }
    }
    println!(
        "conformance: {} of {} vectors pass",
        all.len() - failed.len(),
        all.len()
    );
    let mut unexplained = Vec::new();
    for f in &failed {
        let why = KNOWN
            .iter()
            .find(|(prefix, field, _)| f.starts_with(prefix) && only_field(f, field));
        match why {
            Some((_, _, reason)) => println!("  known: {f}\n    because {reason}"),
            None => unexplained.push(f.clone()),
        }
    }
    assert!(
        unexplained.is_empty(),
        "unexplained failures:\n{}",
        unexplained.join("\n")
    );
}

/// Whether every mismatch of a failure line is of `field`.
fn only_field(line: &str, field: &str) -> bool {
    line.split(": ")
        .nth(1)
        .is_some_and(|rest| rest.split("; ").all(|m| m.starts_with(field)))
}

/// Vectors whose expectation this verifier does not meet, each with why (see the report). The verifier has no
/// special case for any of them; the assertion above still fails for any other mismatch.
const KNOWN: [(&str, &str, &str); 3] = [
    (
        "NL/",
        "EXPECTEDSCHEMAVALIDATION",
        "the Dutch vectors' schema expectation is only the label of their generator's name and date-of-birth lists \
         (the NL generator script sets it from those two lists alone), not the JSON schema: a given name of emoji \
         or a date of birth after the clock is labelled invalid, though every schema accepts them (and the Spanish \
         vectors 2101-2103 expect a date of birth after the clock to pass); while entries of several types at once, \
         an empty co or a dose number 0 (random value-set picks the label ignores) are labelled valid, though every \
         schema refuses them",
    ),
    (
        "HU/2DCode/raw/3.json",
        "EXPECTEDSCHEMAVALIDATION",
        "ci and tc are longer than the schema's maxLength 80 (in every release)",
    ),
    (
        "IS/2DCode/raw/3.json",
        "EXPECTEDKEYUSAGE",
        "the DSC's extended key usage is only ICAO's 2.23.136.1.1.14.2, none of the three DCC usages, which the \
         specification reads as valid for all types; IS/1's DSC also names none of them \
         (1.3.6.1.4.1.0.1847.2021.1.2) and is expected valid, so no rule meets both",
    ),
];
