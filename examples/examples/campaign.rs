//! Sends a CSV file (`to,name,text`) as a campaign: the rows go up as one
//! resource and one dynamic message goes to every row, its `@@tags@@`
//! filled from the row, in 3 requests per 10,000 rows. Then it prints each
//! row's status and deletes the upload.
//!
//! `cargo run -p whispir-examples --example campaign -- [CSV]`
//!
//! Without a CSV the example sends its 25 demo rows
//! (`examples/data/recipients.csv`). Everything Whispir would refuse (a
//! tag naming no column, a bad number, a file too large to upload) is
//! refused before the first request, naming the row or the tag.

use std::time::Duration;

use anyhow::Context as _;
use whispir::campaign::Campaign;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let target = whispir_examples::Target::from_env().await?;
    let client = &target.client;
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/data/recipients.csv").to_string());
    let rows = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;

    let campaign = Campaign::from_csv(&rows)?
        .name("appointments")
        .sms("to", "Reminder\n@@text@@");
    let sent = campaign.send(client).await?;
    for chunk in sent.chunks() {
        println!(
            "rows {:?}: message {} (label {})",
            chunk.rows(),
            chunk.message().message_id(),
            chunk.label()
        );
    }

    // Give Whispir a moment, then read each row's status.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for chunk in sent.chunks() {
        for result in chunk.results(client).await? {
            println!(
                "row {:>5} {:<14} {}",
                result.row,
                result.address,
                result.category.as_deref().unwrap_or("not listed yet")
            );
        }
        // Whispir keeps uploads about 30 days; this one is done.
        chunk.resource().delete(client).await?;
    }
    Ok(())
}
