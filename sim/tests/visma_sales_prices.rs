//! The Visma simulator's sales price table (`/v1/customerSalesPrice`): create, read, update
//! with If-Match, list filters, and the checks the ERP makes (known item, unit, currency and
//! price class, no duplicate row, no negative price, expiration after the effective date).

mod visma_common;

use reqwest::StatusCode;
use serde_json::json;
use visma_common::*;

fn price(class: &str, item: &str, currency: &str, amount: f64) -> serde_json::Value {
    json!({
        "priceType": v("CustomerPriceClass"),
        "priceCode": v(class),
        "inventoryId": v(item),
        "currency": v(currency),
        "price": v(amount),
    })
}

#[tokio::test]
async fn sales_prices_are_created_listed_updated_and_checked() {
    let h = demo().await;
    let s = h.session(0).await;

    let created = s
        .post(
            "/v1/customerSalesPrice",
            &price("B2B", "LL-MUG-01", "SEK", 99.5),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.location_key();
    let row = s.get(&format!("/v1/customerSalesPrice/{id}")).await;
    assert_eq!(row.status, StatusCode::OK);
    assert_eq!(row.body["priceType"], "CustomerPriceClass");
    assert_eq!(row.body["priceCode"], "B2B");
    assert_eq!(row.body["inventoryId"], "LL-MUG-01");
    // The unit defaults to the item's base unit.
    assert_eq!(row.body["uoM"], "PCS");
    assert_eq!(row.body["price"], 99.5);
    assert_eq!(row.body["currency"], "SEK");

    // The same key again is refused; another currency is a row of its own.
    let dup = s
        .post(
            "/v1/customerSalesPrice",
            &price("B2B", "LL-MUG-01", "SEK", 98.0),
        )
        .await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST);
    assert!(
        dup.message().contains("already exists"),
        "{}",
        dup.message()
    );
    let eur = s
        .post(
            "/v1/customerSalesPrice",
            &price("B2B", "LL-MUG-01", "EUR", 9.5),
        )
        .await;
    assert_eq!(eur.status, StatusCode::CREATED);

    // Listing by type, code and item.
    let list = s
        .get("/v1/customerSalesPrice?priceType=CustomerPriceClass&priceCode=B2B&inventoryId=LL-MUG-01")
        .await;
    assert_eq!(
        list.body.as_array().map(Vec::len),
        Some(2),
        "{:?}",
        list.body
    );
    let none = s
        .get("/v1/customerSalesPrice?priceType=Customer&inventoryId=LL-MUG-01")
        .await;
    assert_eq!(none.body.as_array().map(Vec::len), Some(0));

    // Update with the current ETag; a stale one is refused.
    let etag = row.header("etag").unwrap();
    let upd = s
        .put(
            &format!("/v1/customerSalesPrice/{id}"),
            &json!({"price": v(89.0)}),
            Some(&etag),
        )
        .await;
    assert_eq!(upd.status, StatusCode::NO_CONTENT);
    let stale = s
        .put(
            &format!("/v1/customerSalesPrice/{id}"),
            &json!({"price": v(79.0)}),
            Some(&etag),
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    // Expired from today on: no longer in force tomorrow.
    let today = chrono::Utc::now();
    let exp = s
        .put(
            &format!("/v1/customerSalesPrice/{id}"),
            &json!({"expirationDate": v(today.to_rfc3339())}),
            None,
        )
        .await;
    assert_eq!(exp.status, StatusCode::NO_CONTENT);
    let tomorrow = (today + chrono::Duration::days(1)).format("%Y-%m-%d");
    let in_force = s
        .get(&format!(
            "/v1/customerSalesPrice?priceCode=B2B&inventoryId=LL-MUG-01&effectiveAsOf={tomorrow}"
        ))
        .await;
    assert_eq!(
        in_force.body.as_array().map(Vec::len),
        Some(1),
        "{:?}",
        in_force.body
    );

    // What the ERP refuses.
    for (body, expected) in [
        (price("NOPE", "LL-MUG-01", "SEK", 1.0), "price class"),
        (price("B2B", "NO-SUCH-ITEM", "SEK", 1.0), "NO-SUCH-ITEM"),
        (price("B2B", "LL-MUG-01", "XYZ", 1.0), "XYZ"),
        (price("B2B", "LL-MUG-01", "NOK", -1.0), "negative"),
        (
            json!({"priceType": v("Bogus"), "inventoryId": v("LL-MUG-01"), "price": v(1.0)}),
            "priceType",
        ),
        (
            json!({"priceType": v("Base"), "inventoryId": v("LL-MUG-01"), "price": v(1.0), "uoM": v("BOX")}),
            "BOX",
        ),
    ] {
        let r = s.post("/v1/customerSalesPrice", &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(r.message().contains(expected), "{body}: {}", r.message());
    }
    h.sim.shutdown().await;
}
