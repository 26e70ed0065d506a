//! Products and stock end to end: a new BigCommerce product reaches Visma as an inventory
//! item; Visma's stock reaches BigCommerce's locations (absolute levels), untracked and
//! unknown items left alone.

use ledgerlink::core::{LegalEntityId, VismaItemNo, VismaTenantId};
use ledgerlink::visma::dto::InventoryFilter;
use ledgerlink::visma::{ClientSettings, EntityConnection, VismaClient};
use ledgerlink_sim::visma::SE_TENANT;
use ledgerlink_tests::Harness;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

fn visma_client(h: &Harness) -> (VismaClient, LegalEntityId) {
    let info = h.visma.info();
    let entity = LegalEntityId::new("se");
    let conn = EntityConnection {
        entity: entity.clone(),
        tenant_id: VismaTenantId::new(SE_TENANT),
        client_id: info.client_id.clone(),
        client_secret: info.client_secret.clone(),
        token_url: info.token_url.clone(),
        scope: String::new(),
        erp_base_url: info.erp_base_url.clone(),
        salesorder_base_url: info.salesorder_base_url.clone(),
        branch: None,
    };
    (
        VismaClient::new(ClientSettings::default(), [conn]).unwrap(),
        entity,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_product_reaches_visma_as_an_item() {
    let h = Harness::start().await.unwrap();
    let sku = "LL-NEW-THERMOS";
    h.bc_send(
        Method::POST,
        "/v3/catalog/products",
        Some(
            json!({"name": "Thermos 1 l", "type": "physical", "sku": sku, "price": 349,
                    "weight": 0.6, "tax_class_id": 0, "inventory_tracking": "product",
                    "inventory_level": 5}),
        ),
    )
    .await
    .unwrap();
    let (visma, entity) = visma_client(&h);
    let item = h
        .wait_for("the Visma item", Duration::from_secs(20), || {
            let (visma, entity) = (&visma, &entity);
            async move {
                visma
                    .find_inventory_item(entity, &VismaItemNo::new(sku))
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))
            }
        })
        .await
        .unwrap();
    assert_eq!(item.inventory_number, sku);
    assert_eq!(item.description.as_deref(), Some("Thermos 1 l"));
    assert!(item.default_price.is_some(), "{item:?}");
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visma_stock_reaches_bigcommerce_locations() {
    let h = Harness::start().await.unwrap();
    let (visma, entity) = visma_client(&h);
    let items = visma
        .list_inventory_items(
            &entity,
            &InventoryFilter {
                inventory_number: Some("LL-MUG-01".into()),
                expand_warehouse_detail: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mug = items
        .iter()
        .find(|i| i.inventory_number == "LL-MUG-01")
        .expect("demo item");
    let main = mug
        .warehouse_details
        .iter()
        .find(|w| w.warehouse.as_deref() == Some("MAIN"))
        .and_then(|w| w.available)
        .expect("stock in MAIN");
    let expected = main.trunc().to_string().parse::<i64>().unwrap();

    let job = h
        .admin(Method::POST, "/api/sync/stock?full=true", None)
        .await
        .unwrap();
    assert!(job["job"].is_number());
    let level = h
        .wait_for(
            "BigCommerce stock at location 1",
            Duration::from_secs(20),
            || {
                let h = &h;
                async move {
                    let v = h
                        .bc_send(Method::GET, "/v3/inventory/items?sku:in=LL-MUG-01", None)
                        .await?;
                    let loc = v["data"][0]["locations"]
                        .as_array()
                        .and_then(|a| a.iter().find(|l| l["location_id"] == 1).cloned());
                    Ok(loc
                        .and_then(|l| l["total_inventory_onhand"].as_i64())
                        .filter(|q| *q == expected))
                }
            },
        )
        .await
        .unwrap();
    assert_eq!(level, expected);
    h.shutdown().await.unwrap();
}
