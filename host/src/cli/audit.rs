//! `ledgerlink audit <order-id|document-no>`.

use super::ops::StoreArgs;
use clap::Args;
use std::io::Write;

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// A BigCommerce order id or a Visma document number.
    pub query: String,
}

pub async fn run(a: AuditArgs) -> anyhow::Result<()> {
    print_trail(&a, &mut std::io::stdout().lock()).await
}

/// Writes the trail of `a.query` as pretty JSON (bodies as text, whether stored as text or
/// packed).
async fn print_trail(a: &AuditArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let store = a.store.open().await?;
    let trail = store.audit_search(&a.query).await?;
    store.close().await;
    if trail.job_ids.is_empty() {
        anyhow::bail!("nothing recorded for {:?}", a.query);
    }
    serde_json::to_writer_pretty(&mut *out, &trail)?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use ledgerlink_store::{
        FinishOutcome, NewExchange, NewJob, REF_BC_ORDER, REF_VISMA_DOCUMENT, Store,
    };
    use std::time::Duration;

    fn args(dir: &std::path::Path, query: &str) -> AuditArgs {
        AuditArgs {
            store: StoreArgs {
                config: None,
                data_dir: Some(dir.to_owned()),
            },
            query: query.into(),
        }
    }

    #[tokio::test]
    async fn prints_packed_bodies_as_text_by_order_and_document() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join(crate::config::SQLITE_FILE))
            .await
            .unwrap();
        store
            .enqueue(&NewJob::new(
                "order.sync",
                "order:310",
                serde_json::json!({}),
            ))
            .await
            .unwrap();
        let job = store
            .lease("w", 1, Duration::from_secs(30))
            .await
            .unwrap()
            .remove(0);
        // Large enough to be stored packed; one secret to be redacted before that.
        let order = serde_json::json!({
            "id": 310, "status": "Awaiting Fulfillment", "total_inc_tax": "149.0000",
            "billing_address": {"first_name": "Åsa", "city": "Malmö", "email": "asa@example.com"},
            "products": {"url": "https://api.bigcommerce.com/stores/ab12/v2/orders/310/products"},
            "payment_provider_token": "tok_live_123456",
            "staff_notes": "", "customer_message": "", "is_deleted": false
        });
        let mut finish = ledgerlink_store::testing::finish(&job, "w", FinishOutcome::Done);
        finish.audit.exchanges = vec![NewExchange {
            system: "bigcommerce".into(),
            method: "GET".into(),
            url: "/v2/orders/310".into(),
            request_headers: vec![],
            request_body: None,
            status: Some(200),
            response_headers: vec![],
            response_body: Some(order.to_string()),
            at: Utc::now(),
            duration: Duration::from_millis(4),
        }];
        finish.audit.refs = vec![
            (REF_BC_ORDER.into(), "310".into()),
            (REF_VISMA_DOCUMENT.into(), "100310".into()),
        ];
        store.finish(&finish).await.unwrap();
        store.close().await;

        for query in ["310", "100310"] {
            let mut out = Vec::new();
            print_trail(&args(dir.path(), query), &mut out)
                .await
                .unwrap();
            let printed: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(printed["query"], query);
            let x = &printed["attempts"][0]["exchanges"][0];
            assert_eq!(x["url"], "/v2/orders/310");
            let body: serde_json::Value =
                serde_json::from_str(x["response_body"].as_str().unwrap()).unwrap();
            let mut expected = order.clone();
            expected["payment_provider_token"] = "[REDACTED]".into();
            assert_eq!(body, expected, "{query}");
        }
        let err = print_trail(&args(dir.path(), "999"), &mut Vec::new())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("nothing recorded"), "{err}");
    }
}
