//! Inventory items and stock.

use super::invoices::to_json;
use super::{Created, Origin, add_date_filter, seg};
use crate::client::{Kind, Req, VismaClient};
use crate::dto::{InventoryFilter, InventoryItem, InventorySummary, InventoryUpdate, Versioned};
use crate::error::VismaError;
use ledgerlink_core::{LegalEntityId, VismaItemNo};
use reqwest::Method;

impl VismaClient {
    /// `GET /v1/inventory/{inventoryNumber}`.
    pub async fn get_inventory_item(
        &self,
        entity: &LegalEntityId,
        number: &VismaItemNo,
    ) -> Result<InventoryItem, VismaError> {
        Ok(self.get_inventory_item_versioned(entity, number).await?.doc)
    }

    pub async fn get_inventory_item_versioned(
        &self,
        entity: &LegalEntityId,
        number: &VismaItemNo,
    ) -> Result<Versioned<InventoryItem>, VismaError> {
        let conn = self.connection(entity)?;
        let url = conn.erp_url(&format!("v1/inventory/{}", seg(number.as_str())));
        let ent = self.entity(entity)?;
        let resp = self.execute(ent, &Req::get(url)).await?;
        let doc: InventoryItem = resp.json()?;
        Ok(Versioned {
            etag: resp.etag().or_else(|| doc.timestamp.clone()),
            doc,
        })
    }

    /// `GET /v1/inventory` with filters (delta by `lastModifiedDateTime` or by
    /// `availabilityLastModifiedDateTime`, optionally with per-warehouse stock), all pages.
    pub async fn list_inventory_items(
        &self,
        entity: &LegalEntityId,
        f: &InventoryFilter,
    ) -> Result<Vec<InventoryItem>, VismaError> {
        let conn = self.connection(entity)?;
        let mut req = Req::get(conn.erp_url("v1/inventory"))
            .query_opt("inventoryNumber", f.inventory_number.as_deref())
            .query_opt("alternateID", f.alternate_id.as_deref())
            .query_opt(
                "status",
                f.status.as_ref().and_then(|s| {
                    serde_json::to_value(s)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                }),
            );
        if f.expand_warehouse_detail {
            req = req.query("expandWarehouseDetail", true);
        }
        if f.expand_cross_reference {
            req = req.query("expandCrossReference", true);
        }
        req = add_date_filter(req, "lastModifiedDateTime", f.last_modified);
        req = add_date_filter(
            req,
            "availabilityLastModifiedDateTime",
            f.availability_last_modified,
        );
        self.list_all(entity, req).await
    }

    /// Creates an item (`POST /v1/inventory`) at most once. The item number is its natural
    /// key, so a lost reply is confirmed by reading the item. If the item already exists
    /// before the call, the ERP's refusal is returned (use [`Self::ensure_inventory_item`]).
    pub async fn create_inventory_item_once(
        &self,
        entity: &LegalEntityId,
        item: &InventoryUpdate,
    ) -> Result<Created<InventoryItem>, VismaError> {
        let Some(number) = item
            .inventory_number
            .clone()
            .filter(|n| !n.trim().is_empty())
        else {
            return Err(VismaError::Validation {
                status: 0,
                message: "inventoryNumber is required to create an item".into(),
                code: None,
            });
        };
        let conn = self.connection(entity)?;
        let req = Req {
            method: Method::POST,
            url: conn.erp_url("v1/inventory"),
            query: Vec::new(),
            body: Some(to_json(item)?),
            if_match: None,
            kind: Kind::Create {
                what: "inventory item",
                external_ref: number.clone(),
            },
        };
        let no = VismaItemNo::new(number);
        self.create_once(
            entity,
            req,
            || self.find_inventory_item(entity, &no),
            |key| async move {
                self.get_inventory_item(entity, &VismaItemNo::new(key))
                    .await
            },
        )
        .await
    }

    /// The item, or `None` when the ERP has no item with this number.
    pub async fn find_inventory_item(
        &self,
        entity: &LegalEntityId,
        number: &VismaItemNo,
    ) -> Result<Option<InventoryItem>, VismaError> {
        match self.get_inventory_item(entity, number).await {
            Ok(i) => Ok(Some(i)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads the item by number first and creates it only if it is missing.
    pub async fn ensure_inventory_item(
        &self,
        entity: &LegalEntityId,
        item: &InventoryUpdate,
    ) -> Result<Created<InventoryItem>, VismaError> {
        if let Some(n) = &item.inventory_number
            && let Some(doc) = self
                .find_inventory_item(entity, &VismaItemNo::new(n.clone()))
                .await?
        {
            return Ok(Created {
                doc,
                origin: Origin::AlreadyExisted,
            });
        }
        self.create_inventory_item_once(entity, item).await
    }

    /// `PUT /v1/inventory/{inventoryNumber}` with `If-Match` when `etag` is given.
    pub async fn update_inventory_item(
        &self,
        entity: &LegalEntityId,
        number: &VismaItemNo,
        item: &InventoryUpdate,
        etag: Option<&str>,
    ) -> Result<Versioned<InventoryItem>, VismaError> {
        let conn = self.connection(entity)?;
        let url = conn.erp_url(&format!("v1/inventory/{}", seg(number.as_str())));
        let mut body = item.clone();
        // "Mandatory for POST, not applicable for PUT."
        body.inventory_number = None;
        self.update_with_etag(entity, Method::PUT, url, to_json(&body)?, etag, || {
            self.get_inventory_item_versioned(entity, number)
        })
        .await
    }

    /// `GET /v1/inventorysummary/{inventoryNumber}`: quantities per warehouse (and location),
    /// optionally for one warehouse.
    pub async fn inventory_summary(
        &self,
        entity: &LegalEntityId,
        number: &VismaItemNo,
        warehouse: Option<&str>,
    ) -> Result<Vec<InventorySummary>, VismaError> {
        let conn = self.connection(entity)?;
        let url = conn.erp_url(&format!("v1/inventorysummary/{}", seg(number.as_str())));
        self.call_json(entity, Req::get(url).query_opt("warehouse", warehouse))
            .await
    }
}
