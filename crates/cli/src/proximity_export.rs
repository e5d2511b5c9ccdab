//! `kiemdich proximity export`: cuts a signed export batch of the diagnosis keys uploaded since the last one,
//! as the server's hourly job does, so that a test or an operator need not wait for it.

use crate::config::StoreArgs;
use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    store: StoreArgs,
}

/// The other `proximity` commands need no database and run outside the async runtime's futures; this one
/// borrows the runtime it is called in.
pub fn run(args: &ExportArgs) -> crate::Result<ExitCode> {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(export(args)))
}

async fn export(args: &ExportArgs) -> crate::Result<ExitCode> {
    let store = args.store.open().await?;
    let region = kiemdich_server::proximity_region(&args.store.issuer);
    let cut = store
        .cut_proximity_export(&args.store.data_dir, region)
        .await
        .map_err(|e| e.to_string())?;
    match cut {
        Some(b) => println!(
            "{}",
            serde_json::json!({
                "id": b.id,
                "keys": b.keys,
                "start": kiemdich_domain::Instant(b.start),
                "end": kiemdich_domain::Instant(b.end),
            })
        ),
        None => eprintln!("không có khoá mới, không tạo gói / no new keys, no batch cut"),
    }
    Ok(ExitCode::SUCCESS)
}
