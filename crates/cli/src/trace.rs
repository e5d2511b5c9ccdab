//! `kiemdich trace`: a case's contacts from the visit log, with the evidence for each, without changing anything.

use crate::Result;
use crate::config::StoreArgs;
use chrono::NaiveDate;
use clap::Args;
use kiemdich_domain::trace_walk::rfc3339;
use kiemdich_domain::{CitizenId, Rules};
use kiemdich_store::{TraceParams, citizen_text, trace_csv};
use std::process::ExitCode;

#[derive(Args)]
pub struct TraceArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The case's citizen id.
    #[arg(long)]
    pub citizen: String,
    /// Symptom onset (or positive sample) date, YYYY-MM-DD, Vietnam time.
    #[arg(long)]
    pub onset: NaiveDate,
    /// Isolation date: the window ends with that day. Without it the window runs until now.
    #[arg(long)]
    pub isolated: Option<NaiveDate>,
    /// Generations to follow: 1 for F1 only, 2 for F1 and F2 (the rules' default).
    #[arg(long)]
    pub depth: Option<u32>,
    /// Least shared time at a place, in whole minutes (the rules' default: 15).
    #[arg(long)]
    pub min_overlap: Option<u32>,
    /// Print the result as JSON.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print one CSV line per exposure.
    #[arg(long)]
    pub csv: bool,
}

pub async fn run(args: TraceArgs) -> Result<ExitCode> {
    let rules = Rules::default();
    let citizen = CitizenId::parse(&args.citizen).map_err(|e| format!("--citizen: {e}"))?;
    let p = TraceParams::new(
        &rules,
        &citizen,
        args.onset,
        args.isolated,
        args.depth,
        args.min_overlap,
    )?;
    let store = args.store.open().await?;
    if store
        .resident(&citizen)
        .await
        .map_err(|e| e.to_string())?
        .is_none()
    {
        return Err(format!(
            "--citizen: {citizen} is not in the population registry"
        ));
    }
    let result = store.trace(&rules, &p).await.map_err(|e| e.to_string())?;
    if args.json {
        let json = serde_json::to_string(&result).map_err(|e| e.to_string())?;
        println!("{json}");
        return Ok(ExitCode::SUCCESS);
    }
    if args.csv {
        print!("{}", trace_csv(&result));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "rule version {}; window {} to {}; {} contacts",
        result.rule_version,
        rfc3339(result.window.from),
        rfc3339(result.window.to),
        result.contacts.len()
    );
    for c in &result.contacts {
        let minutes: i64 = c.exposures.iter().map(|e| e.minutes).sum();
        println!(
            "F{} {} via {}: {} exposures, {} minutes",
            c.degree,
            citizen_text(c.citizen),
            citizen_text(c.via),
            c.exposures.len(),
            minutes
        );
    }
    Ok(ExitCode::SUCCESS)
}
