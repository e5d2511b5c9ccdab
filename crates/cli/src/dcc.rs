//! `kiemdich dcc …`: the offline CSCA, DSC requests and signing, and offline HC1 verification.

use crate::config::StoreArgs;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use kiemdich_dcc::{CertType, Csca, Dsc, Reason, TrustList};
use kiemdich_domain::catalogue::{Lang, Message as _};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum DccCommand {
    /// The country signing CA, kept offline.
    #[command(subcommand)]
    Csca(CscaCommand),
    /// Document signer certificates.
    #[command(subcommand)]
    Dsc(DscCommand),
    /// Verify an HC1 certificate offline against a trust list or one DSC certificate (default: the deployment's
    /// trust list, its own DSCs and those imported).
    Verify(VerifyArgs),
    /// Foreign trust lists.
    #[command(subcommand)]
    Trust(TrustCommand),
}

#[derive(Subcommand)]
pub enum TrustCommand {
    /// Import a trust list {"certificates": [{"kid", "certificate"}]} (base64 DER): bad entries are reported,
    /// good ones kept (exit 1 if any was refused).
    Import {
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
pub enum CscaCommand {
    /// Make a CSCA (self-signed ECDSA P-256) in DIR: csca.key.pem (0600) and csca.cert.pem.
    Init {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "VN")]
        country: String,
        #[arg(long, default_value = "kiemdich CSCA")]
        name: String,
        /// Validity in years.
        #[arg(long, default_value_t = 10)]
        years: u32,
    },
}

#[derive(Subcommand)]
#[expect(clippy::large_enum_variant, reason = "parsed once per run")]
pub enum DscCommand {
    /// Make a DSC key (DATA_DIR/keys, 0600) and its PKCS#10 request.
    Request {
        #[arg(long, env = "KIEMDICH_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
        #[arg(long, default_value = "VN")]
        country: String,
        #[arg(long, default_value = "kiemdich DSC")]
        name: String,
        /// Where to write the request PEM (default DATA_DIR/keys/dcc-dsc-TIME.csr.pem).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Put a DSC certificate signed by the CSCA in service: it must match a key made by `dcc dsc request` in
    /// DATA_DIR/keys, be valid now and allow vaccination certificates.
    Install {
        /// The DSC certificate (PEM, DER or base64 DER).
        cert: PathBuf,
        /// The CSCA certificate, published with the trust list (`csca`).
        #[arg(long)]
        csca_cert: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Sign a DSC request with the CSCA (offline).
    Sign {
        /// The CSCA directory made by `dcc csca init`.
        #[arg(long)]
        csca: PathBuf,
        /// Certificate types the DSC may sign: vaccination, test, recovery (comma separated).
        #[arg(long, default_value = "vaccination")]
        usage: String,
        /// Validity in days (never past the CSCA's end).
        #[arg(long, default_value_t = 730)]
        days: u32,
        /// Where to write the certificate PEM (default standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        request: PathBuf,
    },
}

#[derive(Args)]
pub struct VerifyArgs {
    /// A trust list JSON {"certificates": [{"kid", "certificate"}]} with base64 DER.
    #[arg(long, conflicts_with = "cert")]
    trust_list: Option<PathBuf>,
    /// One DSC certificate: PEM, DER or base64 DER text.
    #[arg(long)]
    cert: Option<PathBuf>,
    /// Verify as at this time (RFC 3339) instead of now.
    #[arg(long)]
    at: Option<DateTime<Utc>>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    hc1: String,
    #[command(flatten)]
    store: StoreArgs,
}

fn write_private(path: &Path, text: &str) -> crate::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn read(path: &Path) -> crate::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> crate::Result<()> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

pub async fn run(cmd: DccCommand) -> crate::Result<ExitCode> {
    let now = Utc::now();
    match cmd {
        DccCommand::Csca(CscaCommand::Init {
            out,
            country,
            name,
            years,
        }) => {
            std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
            let csca = Csca::generate(&country, &name, now, years).map_err(|e| e.to_string())?;
            write_private(
                &out.join("csca.key.pem"),
                &csca.key_pem().map_err(|e| e.to_string())?,
            )?;
            write(
                &out.join("csca.cert.pem"),
                &csca.cert_pem().map_err(|e| e.to_string())?,
            )?;
            println!(
                "CSCA tạo tại {} (csca.key.pem, csca.cert.pem). Khóa CSCA phải được giữ ngoại tuyến, không bao giờ \
                 đặt trên máy chủ.\nCSCA created in {}. Its key must live offline, never on the server.",
                out.display(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        DccCommand::Dsc(DscCommand::Request {
            data_dir,
            country,
            name,
            out,
        }) => {
            let keys = data_dir.join("keys");
            std::fs::create_dir_all(&keys).map_err(|e| format!("{}: {e}", keys.display()))?;
            let stamp = now.format("%Y%m%dT%H%M%SZ");
            let req = kiemdich_dcc::dsc_request(&country, &name).map_err(|e| e.to_string())?;
            let key_path = keys.join(format!("dcc-dsc-{stamp}.key.pem"));
            write_private(&key_path, &req.key_pem)?;
            let out = out.unwrap_or_else(|| keys.join(format!("dcc-dsc-{stamp}.csr.pem")));
            write(&out, &req.request_pem)?;
            println!("{}", out.display());
            eprintln!(
                "khóa DSC: {} (0600); yêu cầu chứng thư: {} — mang yêu cầu tới CSCA để ký / DSC key {}; take the \
                 request to the CSCA to sign",
                key_path.display(),
                out.display(),
                key_path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        DccCommand::Dsc(DscCommand::Sign {
            csca,
            usage,
            days,
            out,
            request,
        }) => {
            let usages = usage
                .split(',')
                .map(|u| CertType::parse(u).ok_or_else(|| format!("unknown usage {u:?}")))
                .collect::<crate::Result<Vec<_>>>()?;
            let key = String::from_utf8(read(&csca.join("csca.key.pem"))?)
                .map_err(|_| "csca.key.pem is not text".to_owned())?;
            let ca =
                Csca::load(&key, &read(&csca.join("csca.cert.pem"))?).map_err(|e| e.to_string())?;
            let der = ca
                .sign_request(&read(&request)?, &usages, now, days)
                .map_err(|e| e.to_string())?;
            let pem = Dsc::from_der(&der).map_err(|e| e.to_string())?.to_pem();
            match out {
                Some(path) => write(&path, &pem)?,
                None => print!("{pem}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        DccCommand::Dsc(DscCommand::Install {
            cert,
            csca_cert,
            store,
        }) => {
            let csca = csca_cert.as_deref().map(read).transpose()?;
            let db = store.open().await?;
            let dsc = kiemdich_store::dcc::install(
                &db,
                &store.data_dir,
                &read(&cert)?,
                csca.as_deref(),
                now,
            )
            .await
            .map_err(|e| e.to_string())?;
            let b64 = |b: &[u8]| {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.encode(b)
            };
            println!(
                "DSC {} ({}) đã đưa vào sử dụng đến {} / in service until {}",
                b64(&dsc.kid()),
                dsc.subject(),
                dsc.not_after().to_rfc3339(),
                dsc.not_after().to_rfc3339()
            );
            Ok(ExitCode::SUCCESS)
        }
        DccCommand::Trust(TrustCommand::Import { file, store }) => {
            let text = String::from_utf8(read(&file)?)
                .map_err(|_| format!("{}: not text", file.display()))?;
            let db = store.open().await?;
            let label = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let done = kiemdich_store::dcc::import_trust(&db, &text, &label)
                .await
                .map_err(|e| e.to_string())?;
            for r in &done.rejected {
                eprintln!("{r}");
            }
            println!(
                "{} mới, {} đã có, {} bị từ chối / {} new, {} already there, {} refused",
                done.inserted,
                done.unchanged,
                done.rejected.len(),
                done.inserted,
                done.unchanged,
                done.rejected.len()
            );
            Ok(if done.rejected.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        DccCommand::Verify(args) => verify(args, now).await,
    }
}

/// A reason in Vietnamese and English, from the catalogue.
fn reason_words(r: Reason) -> (&'static str, &'static str) {
    let m = kiemdich_server::dcc_reason_text(r);
    (m.text(Lang::Vi), m.text(Lang::En))
}

async fn verify(args: VerifyArgs, now: DateTime<Utc>) -> crate::Result<ExitCode> {
    let trust = match (&args.trust_list, &args.cert) {
        (Some(path), _) => {
            let text = String::from_utf8(read(path)?)
                .map_err(|_| format!("{}: not text", path.display()))?;
            TrustList::from_json(&text).map_err(|e| e.to_string())?
        }
        (None, Some(path)) => {
            let mut t = TrustList::new();
            t.add(Dsc::from_any(&read(path)?).map_err(|e| e.to_string())?);
            t
        }
        (None, None) => kiemdich_store::dcc::trust_list(&args.store.open().await?)
            .await
            .map_err(|e| e.to_string())?,
    };
    let report = kiemdich_dcc::verify(args.hc1.trim(), &trust, args.at.unwrap_or(now));
    let (vi, en) = reason_words(report.reason);
    if args.json {
        let c = report.checks;
        let out = serde_json::json!({
            "valid": report.valid(),
            "reason": report.reason.code(),
            "checks": {
                "unprefix": c.unprefix, "b45decode": c.b45decode, "compression": c.compression,
                "decode": c.decode, "verify": c.verify, "expiration": c.expiration, "schema": c.schema,
                "key_usage": c.key_usage,
            },
            "payload": report.payload,
        });
        println!("{out}");
    } else {
        println!(
            "{} — {vi} / {en}",
            if report.valid() {
                "HỢP LỆ / VALID"
            } else {
                "KHÔNG HỢP LỆ / NOT VALID"
            }
        );
        if let Some(p) = &report.payload {
            let name = format!(
                "{} {}",
                p["nam"]["fn"].as_str().unwrap_or_default(),
                p["nam"]["gn"].as_str().unwrap_or_default()
            );
            println!("Họ tên / Name: {}", name.trim());
            println!(
                "Ngày sinh / Date of birth: {}",
                p["dob"].as_str().unwrap_or_default()
            );
        }
        if let (Some(exp), Some(vietnam)) =
            (report.expires_at, chrono::FixedOffset::east_opt(7 * 3600))
        {
            println!(
                "Hết hạn / Expires: {}",
                exp.with_timezone(&vietnam).format("%H:%M %d/%m/%Y")
            );
        }
    }
    Ok(if report.valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The demo's HC1 signer, made at once when none is installed: a CSCA (in DATA_DIR/demo-csca), a DSC request
/// (its key in DATA_DIR/keys, 0600), signed and installed. Returns whether it installed one. A real deployment
/// keeps the CSCA offline and must never do this.
pub async fn demo_signer(
    store: &kiemdich_store::Store,
    data_dir: &Path,
    country: &str,
) -> crate::Result<bool> {
    if !store.dscs().await.map_err(|e| e.to_string())?.is_empty() {
        return Ok(false);
    }
    let now = Utc::now();
    let err = |e: kiemdich_dcc::Error| e.to_string();
    let csca = Csca::generate(country, "kiemdich demo CSCA", now, 10).map_err(err)?;
    let csca_dir = data_dir.join("demo-csca");
    std::fs::create_dir_all(&csca_dir).map_err(|e| format!("{}: {e}", csca_dir.display()))?;
    let key_path = csca_dir.join("csca.key.pem");
    if !key_path.exists() {
        write_private(&key_path, &csca.key_pem().map_err(err)?)?;
    }
    write(
        &csca_dir.join("csca.cert.pem"),
        &csca.cert_pem().map_err(err)?,
    )?;
    let keys = data_dir.join("keys");
    std::fs::create_dir_all(&keys).map_err(|e| format!("{}: {e}", keys.display()))?;
    let req = kiemdich_dcc::dsc_request(country, "kiemdich demo DSC").map_err(err)?;
    write_private(
        &keys.join(format!(
            "dcc-dsc-{}.key.pem",
            now.format("%Y%m%dT%H%M%S%.fZ")
        )),
        &req.key_pem,
    )?;
    let cert = csca
        .sign_request(
            req.request_pem.as_bytes(),
            &[CertType::Vaccination],
            now,
            730,
        )
        .map_err(err)?;
    kiemdich_store::dcc::install(
        store,
        data_dir,
        &cert,
        Some(&csca.cert_der().map_err(err)?),
        now,
    )
    .await
    .map_err(|e| e.to_string())?;
    println!(
        "kiemdich demo: chứng thư ký HC1 (DSC) đã được tạo, ký bằng một CSCA tạo ngay tại chỗ ({}) và đưa vào sử \
         dụng. Triển khai thật phải giữ CSCA ngoại tuyến và không bao giờ làm như vậy.\nkiemdich demo: an HC1 \
         document signer (DSC) was made, signed by a CSCA made on the spot ({}) and put in service. A real \
         deployment keeps the CSCA offline and must never do this.",
        csca_dir.display(),
        csca_dir.display()
    );
    Ok(true)
}

/// For the demo only: a foreign visitor's certificate to try at a checkpoint. A throwaway "foreign" CSCA and DSC
/// (country DE, labelled demo) whose DSC is imported as a foreign trust list, and one vaccination certificate
/// signed by it, written to `demo-foreign-certificate.txt` to paste into the scanner.
pub async fn demo_visitor(store: &kiemdich_store::Store, data_dir: &Path) -> crate::Result<()> {
    use base64::Engine as _;
    let now = Utc::now();
    let err = |e: kiemdich_dcc::Error| e.to_string();
    let csca = Csca::generate("DE", "demo foreign CSCA (not real)", now, 5).map_err(err)?;
    let req = kiemdich_dcc::dsc_request("DE", "demo foreign DSC (not real)").map_err(err)?;
    let der = csca
        .sign_request(req.request_pem.as_bytes(), &CertType::ALL, now, 365)
        .map_err(err)?;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let list = serde_json::json!({"certificates": [{"kid": b64(&kiemdich_dcc::kid_of(&der)), "certificate": b64(&der)}]});
    kiemdich_store::dcc::import_trust(store, &list.to_string(), "demo foreign trust list")
        .await
        .map_err(|e| e.to_string())?;
    let signer = kiemdich_dcc::DscSigner::load(&req.key_pem, &der).map_err(err)?;
    let holder = kiemdich_dcc::Holder {
        family_name: "Visitor".into(),
        given_name: "Demo".into(),
        date_of_birth: "1980-01-01".into(),
    };
    let dose = kiemdich_dcc::Vaccination {
        tg: "840539006".into(),
        vp: "1119349007".into(),
        mp: "EU/1/20/1528".into(),
        ma: "ORG-100030215".into(),
        dose_number: 2,
        series_doses: 2,
        date: (now - chrono::Duration::days(60)).date_naive(),
        country: "DE".into(),
        issuer: "demo (not a real certificate)".into(),
    };
    let issued = kiemdich_dcc::issue(&signer, &holder, &dose, "DE", None, now).map_err(err)?;
    let path = data_dir.join("demo-foreign-certificate.txt");
    write(&path, &format!("{}\n", issued.hc1))?;
    println!(
        "kiemdich demo: chứng nhận COVID của một khách nước ngoài (giả lập) để thử ở máy quét: {} \
         / a demo foreign visitor's EU certificate to paste into the scanner: {}",
        path.display(),
        path.display()
    );
    Ok(())
}
