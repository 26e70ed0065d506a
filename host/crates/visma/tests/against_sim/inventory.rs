//! Inventory items, stock reads and reference data.

use crate::harness::*;
use chrono::Utc;
use ledgerlink_core::VismaItemNo;
use ledgerlink_visma::dto::{DateFilter, InventoryFilter, InventoryType, InventoryUpdate};
use ledgerlink_visma::{Origin, VismaError};
use rust_decimal::Decimal;
use serde_json::json;

fn new_item(number: &str) -> InventoryUpdate {
    InventoryUpdate {
        inventory_number: Some(number.into()),
        description: Some("Test item".into()),
        item_class: Some("GOODS".into()),
        vat_code: Some("HIGH".into()),
        default_price: Some(Decimal::new(1999, 2)),
        ..Default::default()
    }
}

#[tokio::test]
async fn items_are_created_once_and_updated_with_if_match() {
    let h = Harness::start().await;
    let client = h.client();
    h.set_faults(json!({
        "commit_then_drop_ratio": 1.0,
        "methods": ["POST"],
        "path_prefix": "/v1/inventory",
    }))
    .await;
    let created = client
        .create_inventory_item_once(&se(), &new_item("NEW-1"))
        .await
        .unwrap();
    h.clear_faults().await;
    assert_eq!(created.origin, Origin::ConfirmedAfterLostReply);
    assert_eq!(created.doc.inventory_number, "NEW-1");
    assert_eq!(created.doc.default_price, Some(Decimal::new(1999, 2)));
    let again = client
        .ensure_inventory_item(&se(), &new_item("NEW-1"))
        .await
        .unwrap();
    assert_eq!(again.origin, Origin::AlreadyExisted);

    let no = VismaItemNo::new("NEW-1");
    let v1 = client
        .get_inventory_item_versioned(&se(), &no)
        .await
        .unwrap();
    let v2 = client
        .update_inventory_item(
            &se(),
            &no,
            &InventoryUpdate {
                description: Some("Renamed".into()),
                ..Default::default()
            },
            v1.etag.as_deref(),
        )
        .await
        .unwrap();
    assert_eq!(v2.doc.description.as_deref(), Some("Renamed"));
    let err = client
        .update_inventory_item(
            &se(),
            &no,
            &InventoryUpdate {
                description: Some("Lost update".into()),
                ..Default::default()
            },
            v1.etag.as_deref(),
        )
        .await
        .expect_err("stale ETag");
    match err {
        VismaError::Conflict { current_etag, .. } => assert_eq!(current_etag, v2.etag),
        other => panic!("{other:?}"),
    }
    let now = client.get_inventory_item(&se(), &no).await.unwrap();
    assert_eq!(now.description.as_deref(), Some("Renamed"));
}

#[tokio::test]
async fn stock_reads_per_item_and_in_bulk() {
    let h = Harness::start().await;
    let client = h.client();
    let sku = VismaItemNo::new(demo_sku());
    let summary = client.inventory_summary(&se(), &sku, None).await.unwrap();
    assert!(!summary.is_empty());
    for s in &summary {
        let on_hand = s.on_hand.unwrap();
        let available = s.available.unwrap();
        assert!(available <= on_hand, "{s:?}");
    }
    let main_only = client
        .inventory_summary(&se(), &sku, Some("MAIN"))
        .await
        .unwrap();
    assert!(
        main_only
            .iter()
            .all(|s| s.warehouse.as_ref().and_then(|w| w.id.as_deref()) == Some("MAIN"))
    );

    let all = client
        .list_inventory_items(
            &se(),
            &InventoryFilter {
                expand_warehouse_detail: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let item = all
        .iter()
        .find(|i| i.inventory_number == sku.as_str())
        .unwrap();
    assert!(!item.warehouse_details.is_empty());
    assert!(matches!(
        item.item_type,
        Some(InventoryType::FinishedGoodItem)
    ));
    // Nothing changed availability after now.
    let none = client
        .list_inventory_items(
            &se(),
            &InventoryFilter {
                availability_last_modified: Some(DateFilter::after(Utc::now())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
    let missing = client
        .find_inventory_item(&se(), &VismaItemNo::new("NOPE"))
        .await
        .unwrap();
    assert!(missing.is_none());
}

#[tokio::test]
async fn paging_reads_every_page() {
    let h = Harness::start().await;
    let client = h.client_with(ledgerlink_visma::ClientSettings {
        page_size: 3,
        ..fast_settings()
    });
    let before = h.requests().await;
    let paged = client
        .list_inventory_items(&se(), &Default::default())
        .await
        .unwrap();
    let pages = h.requests().await - before;
    let one_page = h
        .client()
        .list_inventory_items(&se(), &Default::default())
        .await
        .unwrap();
    assert!(one_page.len() >= ledgerlink_sim::visma::demo_skus().len());
    assert_eq!(pages as usize, one_page.len().div_ceil(3), "pages of 3");
    let mut numbers: Vec<_> = paged.iter().map(|i| i.inventory_number.clone()).collect();
    let mut expected: Vec<_> = one_page
        .iter()
        .map(|i| i.inventory_number.clone())
        .collect();
    numbers.sort();
    expected.sort();
    assert_eq!(numbers, expected, "every item exactly once across pages");
}

#[tokio::test]
async fn reference_data_of_each_company() {
    let h = Harness::start().await;
    let client = h.client();
    let branches = client.list_branches(&se()).await.unwrap();
    assert!(
        branches
            .iter()
            .any(|b| b.number == "1" && b.is_main_branch == Some(true))
    );
    let warehouses = client.list_warehouses(&se()).await.unwrap();
    assert!(warehouses.iter().any(|w| w.warehouse_id == "MAIN"));
    let fi_warehouses = client.list_warehouses(&fi()).await.unwrap();
    assert!(fi_warehouses.iter().all(|w| w.warehouse_id != "MAIN"));
    let cats = client.list_vat_categories(&se()).await.unwrap();
    let high = cats.iter().find(|c| c.vat_category_id == "HIGH").unwrap();
    assert_eq!(
        high.vat_category_lines[0].vat_rates[0].vat_rate,
        Some(Decimal::from(25))
    );
    let codes = client.list_vat_codes(&fi()).await.unwrap();
    assert!(codes.iter().any(|c| c.vat_id == "FI24"));
    let methods = client.list_payment_methods(&se()).await.unwrap();
    assert!(methods.iter().any(|m| m.payment_method_id == "CARD"));
    let terms = client.list_credit_terms(&se()).await.unwrap();
    assert!(terms.iter().any(|t| t.terms_id == "30D"));
    let currencies = client.list_currencies(&fi()).await.unwrap();
    assert!(
        currencies
            .iter()
            .any(|c| c.id == "EUR" && c.is_base_currency == Some(true))
    );
    let rates = client
        .list_currency_rates(
            &se(),
            &ledgerlink_visma::dto::CurrencyRateFilter {
                from_currency: Some("EUR".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!rates.is_empty());
    assert!(
        rates
            .iter()
            .all(|r| r.from_currency_id == "EUR" && r.rate.unwrap() > Decimal::ZERO)
    );
}
