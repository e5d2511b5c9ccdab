//! `kiemdich proximity export --data-dir DIR`: cuts a signed batch of the keys uploaded since the last one,
//! verified with the export signing key it created, sealed in the database under the data dir's KEK.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

use kiemdich_domain::UnitCode;
use kiemdich_proximity::{EnIntervalNumber, TemporaryExposureKey};
use kiemdich_store::{NewProximityCode, Store};
use serde_json::Value;
use std::process::{Command, Output};

fn export(dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiemdich"))
        .env_remove("KIEMDICH_DATA_DIR")
        .env_remove("KIEMDICH_DB")
        .env("KIEMDICH_LOG", "warn")
        .args(["proximity", "export", "--data-dir"])
        .arg(dir)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_cuts_a_signed_batch_of_new_keys_only() {
    let dir = std::env::temp_dir().join(format!("kiemdich_cli_prox_export_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let first = export(&dir);
    assert!(first.status.success(), "{first:?}");
    assert!(first.stdout.is_empty());
    assert!(String::from_utf8_lossy(&first.stderr).contains("no new keys"));
    // The export key is sealed in the database under the KEK generated in the data dir (0600); no private key
    // is left in a plain file.
    assert!(!dir.join("keys").join("proximity-export.key").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("kek"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let store = Store::open_data_dir(&dir).await.unwrap();
    let now = chrono::Utc::now().timestamp();
    let today = chrono::Utc::now().date_naive();
    let code = NewProximityCode {
        code_hash: "cli-test".into(),
        case_id: 1,
        unit_code: UnitCode::parse("31498").unwrap(),
        window_start: EnIntervalNumber::from_unix(now - 5 * 86_400),
        expires_at: now + 3600,
    };
    store
        .issue_proximity_code("test", &code, today, None)
        .await
        .unwrap();
    let day = EnIntervalNumber::from_unix(now).0 / 144 * 144;
    let keys: Vec<TemporaryExposureKey> = (0..3u8)
        .map(|d| {
            TemporaryExposureKey::generate(EnIntervalNumber(day - u32::from(d) * 144), |k| {
                *k = [d + 1; 16]
            })
        })
        .collect();
    assert_eq!(
        store
            .upload_proximity_keys("cli-test", &keys, now, today)
            .await
            .unwrap(),
        Some(3)
    );

    let second = export(&dir);
    assert!(second.status.success(), "{second:?}");
    let batch: Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(batch["keys"], 3, "{batch}");
    let id = batch["id"].as_i64().unwrap();
    let zip = store.proximity_export_body(id).await.unwrap().unwrap();
    let signer = kiemdich_store::export_signing_key(&store, &dir)
        .await
        .unwrap();
    let published = kiemdich_proximity::read_export(&zip, signer.verifying_key()).unwrap();
    let mut got = published.keys.clone();
    got.sort_by_key(|k| k.key);
    assert_eq!(got, keys);
    assert_eq!(published.region, "VN");

    // Nothing new since: no batch.
    let third = export(&dir);
    assert!(third.status.success());
    assert!(third.stdout.is_empty());
    assert_eq!(store.proximity_exports().await.unwrap().len(), 1);
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
