#![expect(clippy::unwrap_used, reason = "tests")]
//! `kiemdich dcc`: csca init → dsc request → dsc sign → verify of a certificate issued with that DSC, and of an EU
//! conformance vector.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kiemdich"));
    c.env_remove("KIEMDICH_DATA_DIR")
        .env("KIEMDICH_LOG", "warn");
    c
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kiemdich_dcc_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn csca_dsc_sign_issue_and_verify() {
    let dir = tempdir("chain");
    let csca = dir.join("csca");
    let out = run(&["dcc", "csca", "init", "--out", csca.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("offline"));
    assert_eq!(mode(&csca.join("csca.key.pem")), 0o600);

    let data = dir.join("data");
    let out = run(&[
        "dcc",
        "dsc",
        "request",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let request = PathBuf::from(text(&out.stdout).trim());
    assert!(request.exists());
    let key = std::fs::read_dir(data.join("keys"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".key.pem"))
        .unwrap();
    assert_eq!(mode(&key), 0o600);

    let cert = dir.join("dsc.pem");
    let out = run(&[
        "dcc",
        "dsc",
        "sign",
        "--csca",
        csca.to_str().unwrap(),
        "--usage",
        "vaccination,test",
        "--days",
        "365",
        "--out",
        cert.to_str().unwrap(),
        request.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Issue through the crate with the key and certificate the CLI made.
    let signer = kiemdich_dcc::DscSigner::load(
        &std::fs::read_to_string(&key).unwrap(),
        &std::fs::read(&cert).unwrap(),
    )
    .unwrap();
    assert_eq!(
        signer.dsc().usages(),
        &[
            kiemdich_dcc::CertType::Test,
            kiemdich_dcc::CertType::Vaccination
        ]
    );
    let holder = kiemdich_dcc::Holder {
        family_name: "Trần".into(),
        given_name: "Văn Bình".into(),
        date_of_birth: "1970-05-06".into(),
    };
    let dose = kiemdich_dcc::Vaccination {
        tg: "840539006".into(),
        vp: "J07BX03".into(),
        mp: "BBIBP-CorV".into(),
        ma: "ORG-100020693".into(),
        dose_number: 2,
        series_doses: 2,
        date: chrono::NaiveDate::from_ymd_opt(2021, 10, 1).unwrap(),
        country: "VN".into(),
        issuer: "Sở Y tế Sóc Trăng".into(),
    };
    let issued =
        kiemdich_dcc::issue(&signer, &holder, &dose, "VN", None, chrono::Utc::now()).unwrap();

    let out = run(&[
        "dcc",
        "verify",
        "--cert",
        cert.to_str().unwrap(),
        "--json",
        &issued.hc1,
    ]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let v: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["reason"], "valid");
    assert_eq!(v["checks"]["key_usage"], true);
    assert_eq!(v["payload"]["nam"]["fnt"], "TRAN");

    // Human output, Vietnamese first; and a year and a half later it has expired (exit 1).
    let out = run(&[
        "dcc",
        "verify",
        "--cert",
        cert.to_str().unwrap(),
        &issued.hc1,
    ]);
    assert!(text(&out.stdout).starts_with("HỢP LỆ"));
    let later = (chrono::Utc::now() + chrono::Duration::days(540)).to_rfc3339();
    let out = run(&[
        "dcc",
        "verify",
        "--cert",
        cert.to_str().unwrap(),
        "--at",
        &later,
        "--json",
        &issued.hc1,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(v["checks"]["expiration"], false);

    // Without a trust list or a certificate, the deployment's: nothing installed yet, so an unknown kid.
    let data_dir = data.to_str().unwrap();
    let out = run(&[
        "dcc",
        "verify",
        "--data-dir",
        data_dir,
        "--json",
        &issued.hc1,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(v["reason"], "unknown_kid");
    // Installed (it matches the requested key), it verifies from the data dir.
    let out = run(&[
        "dcc",
        "dsc",
        "install",
        "--data-dir",
        data_dir,
        "--csca-cert",
        csca.join("csca.cert.pem").to_str().unwrap(),
        cert.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("in service"));
    let out = run(&["dcc", "verify", "--data-dir", data_dir, &issued.hc1]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("HỢP LỆ / VALID"));
    // Installing it again is refused.
    let out = run(&[
        "dcc",
        "dsc",
        "install",
        "--data-dir",
        data_dir,
        cert.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    // A trust list with one good and one bad entry: the good one kept, the bad one reported, exit 1.
    let list = dir.join("foreign.json");
    let der = kiemdich_dcc::der_from_any(&std::fs::read(&cert).unwrap(), "CERTIFICATE").unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
    std::fs::write(
        &list,
        serde_json::json!({"certificates": [{"certificate": b64}, {"kid": "AAAAAAAAAAA=", "certificate": b64}]})
            .to_string(),
    )
    .unwrap();
    let out = run(&[
        "dcc",
        "trust",
        "import",
        "--data-dir",
        data_dir,
        list.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("certificates[1]: kid:"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("1 new"), "{}", text(&out.stdout));
}

#[test]
fn verifies_a_conformance_vector_with_a_trust_list_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../dcc/tests/data/dcc-testdata/common/2DCode/raw/CO3.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root).unwrap()).unwrap();
    let dir = tempdir("vector");
    let list = dir.join("trust.json");
    std::fs::write(
        &list,
        serde_json::json!({"certificates": [{"certificate": v["TESTCTX"]["CERTIFICATE"]}]})
            .to_string(),
    )
    .unwrap();
    let at = v["TESTCTX"]["VALIDATIONCLOCK"].as_str().unwrap();
    let out = run(&[
        "dcc",
        "verify",
        "--trust-list",
        list.to_str().unwrap(),
        "--at",
        at,
        "--json",
        v["PREFIX"].as_str().unwrap(),
    ]);
    let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(r["checks"]["verify"], true, "{r}");
    assert_eq!(r["checks"]["decode"], true);
    let out = run(&[
        "dcc",
        "verify",
        "--trust-list",
        list.to_str().unwrap(),
        "--json",
        "HC2:XYZ",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(r["checks"]["unprefix"], false);
    assert_eq!(r["checks"]["b45decode"], serde_json::Value::Null);
    assert_eq!(r["payload"], serde_json::Value::Null);
}
