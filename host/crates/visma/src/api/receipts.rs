//! Inventory receipts (`/v1/inventoryReceipt`): goods coming back into a warehouse, e.g. a
//! customer return restocked. A receipt moves stock once released.

use super::{Created, check_ref, pick_by_ref, seg};
use crate::client::{Kind, Req, VismaClient};
use crate::error::VismaError;
use chrono::{DateTime, Utc};
use ledgerlink_core::{ExternalRef, LegalEntityId};
use reqwest::Method;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// One line of a receipt to create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiptLine {
    pub inventory_number: String,
    pub warehouse_id: String,
    pub quantity: Decimal,
    pub uom: Option<String>,
}

/// An inventory receipt as read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InventoryReceipt {
    pub reference_number: String,
    pub status: Option<String>,
    pub external_reference: Option<String>,
    pub description: Option<String>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub total_quantity: Option<Decimal>,
}

impl VismaClient {
    /// `GET /v1/inventoryReceipt/{number}`.
    pub async fn get_inventory_receipt(
        &self,
        entity: &LegalEntityId,
        number: &str,
    ) -> Result<InventoryReceipt, VismaError> {
        let conn = self.connection(entity)?;
        let url = conn.erp_url(&format!("v1/inventoryReceipt/{}", seg(number)));
        self.call_json(entity, Req::get(url)).await
    }

    /// The receipt carrying our external reference among those changed since `since`.
    pub async fn find_inventory_receipt_by_ref(
        &self,
        entity: &LegalEntityId,
        reference: &ExternalRef,
        since: DateTime<Utc>,
    ) -> Result<Option<InventoryReceipt>, VismaError> {
        let r = check_ref(reference)?;
        let conn = self.connection(entity)?;
        let req = Req::get(conn.erp_url("v1/inventoryReceipt"))
            .query("lastModifiedDateTime", crate::dto::fmt_datetime(&since))
            .query("lastModifiedDateTimeCondition", ">=");
        let found: Vec<InventoryReceipt> = self.list_all(entity, req).await?;
        Ok(pick_by_ref(
            found,
            r,
            |d| d.external_reference.as_deref(),
            |d| d.reference_number.clone(),
        ))
    }

    /// Creates a receipt (`POST /v1/inventoryReceipt`) carrying `reference` as its
    /// `externalReference`, at most once (a lost reply is confirmed by a look-up among the
    /// receipts changed since just before the first attempt).
    pub async fn create_inventory_receipt_once(
        &self,
        entity: &LegalEntityId,
        reference: &ExternalRef,
        description: &str,
        lines: &[ReceiptLine],
    ) -> Result<Created<InventoryReceipt>, VismaError> {
        let r = check_ref(reference)?.to_owned();
        let conn = self.connection(entity)?;
        let mut body_lines = Vec::with_capacity(lines.len());
        for l in lines {
            let quantity =
                crate::wrap::dec_value::serialize(&Some(l.quantity), serde_json::value::Serializer)
                    .map_err(|e| VismaError::Decode(format!("receipt quantity: {e}")))?;
            let mut v = json!({
                "operation": "Insert",
                "inventoryNumber": {"value": l.inventory_number},
                "warehouseId": {"value": l.warehouse_id},
                "quantity": quantity,
            });
            if let Some(u) = &l.uom {
                v["uom"] = json!({ "value": u });
            }
            body_lines.push(v);
        }
        let body = json!({
            "externalReference": {"value": r},
            "description": {"value": description},
            "hold": {"value": false},
            "receiptLines": body_lines,
        });
        let req = Req {
            method: Method::POST,
            url: conn.erp_url("v1/inventoryReceipt"),
            query: Vec::new(),
            body: Some(super::invoices::to_json(&body)?),
            if_match: None,
            kind: Kind::Create {
                what: "inventory receipt",
                external_ref: r,
            },
        };
        let since = Utc::now() - chrono::Duration::minutes(10);
        self.create_once(
            entity,
            req,
            || self.find_inventory_receipt_by_ref(entity, reference, since),
            |key| async move { self.get_inventory_receipt(entity, &key).await },
        )
        .await
    }

    /// Releases a receipt (its stock moves). Releasing a released receipt is not an error.
    pub async fn release_inventory_receipt(
        &self,
        entity: &LegalEntityId,
        number: &str,
    ) -> Result<InventoryReceipt, VismaError> {
        let conn = self.connection(entity)?;
        let url = conn.erp_url(&format!(
            "v1/inventoryReceipt/{}/action/release",
            seg(number)
        ));
        self.confirmed_action(
            entity,
            url,
            "inventory receipt release",
            number,
            None,
            || self.get_inventory_receipt(entity, number),
            |d: &InventoryReceipt| d.status.as_deref() == Some("Released"),
        )
        .await
    }
}
