//! Which legal entity (Visma company), branch and plugin an order belongs to, and the posting
//! rules of each entity. Built from the configuration file by the host; the flows only read it.

use ledgerlink_core::LegalEntityId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What kind of Visma document an order becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentType {
    #[default]
    Invoice,
    SalesOrder,
}

impl DocumentType {
    pub fn as_setting(self) -> &'static str {
        match self {
            DocumentType::Invoice => "invoice",
            DocumentType::SalesOrder => "sales-order",
        }
    }
}

/// When an order with shipments is invoiced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum InvoiceTiming {
    /// One invoice for the whole order as soon as it is eligible.
    #[default]
    OnOrder,
    /// One invoice per BigCommerce shipment.
    PerShipment,
    /// One invoice once every item has shipped.
    AtCompletion,
}

/// An entity's posting rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostingRules {
    pub document_type: DocumentType,
    /// Also post orders that are still awaiting payment (status 7), not only paid ones.
    pub include_awaiting_payment: bool,
    pub invoice_timing: InvoiceTiming,
    /// Visma customer number used for guest orders; none creates a customer per guest e-mail.
    pub guest_customer: Option<String>,
    /// Release (post) invoices after their totals were verified.
    pub release_invoices: bool,
    /// Release credit notes so they lower the invoice balance.
    pub release_credit_notes: bool,
    /// A refund of goods that had shipped is a return: the goods go back into Visma's stock
    /// (an inventory receipt into the plugin's `return-warehouse`). Off: a credit note only.
    pub restock_returns: bool,
    /// Write the Visma invoice number back to the BigCommerce order.
    pub write_back: bool,
    /// BigCommerce status id to set once Visma shows the invoice paid (none: metafield only).
    pub paid_status_id: Option<u32>,
    /// Where the store keeps a B2B order's PO number: an order metafield `namespace.key`
    /// (BigCommerce orders have no PO field of their own). None: no PO lookup, no extra call.
    pub po_number_metafield: Option<String>,
    /// Extra key/values passed to the plugin as `context.settings`.
    pub settings: BTreeMap<String, String>,
}

impl Default for PostingRules {
    fn default() -> Self {
        Self {
            document_type: DocumentType::Invoice,
            include_awaiting_payment: false,
            invoice_timing: InvoiceTiming::OnOrder,
            guest_customer: None,
            release_invoices: true,
            release_credit_notes: true,
            restock_returns: false,
            write_back: true,
            paid_status_id: None,
            po_number_metafield: None,
            settings: BTreeMap::new(),
        }
    }
}

/// One Visma company as the flows see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntitySettings {
    pub id: LegalEntityId,
    pub base_currency: String,
    pub branch: Option<String>,
    pub posting: PostingRules,
    /// Mapping tables handed to the plugin (`table → key → value`).
    pub tables: BTreeMap<String, BTreeMap<String, String>>,
}

/// One routing rule; empty fields match anything. The first matching rule wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    pub store: Option<String>,
    pub channel: Option<u64>,
    pub currency: Option<String>,
    pub entity: LegalEntityId,
    /// Overrides the entity's branch.
    pub branch: Option<String>,
    /// The plugin name (as registered) that maps these orders.
    pub plugin: String,
}

/// Where an order goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub entity: LegalEntityId,
    pub branch: Option<String>,
    pub plugin: String,
}

#[derive(Debug, Clone, Default)]
pub struct Routing {
    pub rules: Vec<RouteRule>,
    pub entities: BTreeMap<LegalEntityId, EntitySettings>,
}

impl Routing {
    /// The first rule matching the store, channel and currency.
    pub fn route(&self, store: &str, channel: u64, currency: &str) -> Option<Route> {
        self.rules
            .iter()
            .find(|r| {
                r.store.as_deref().is_none_or(|s| s == store)
                    && r.channel.is_none_or(|c| c == channel)
                    && r.currency
                        .as_deref()
                        .is_none_or(|c| c.eq_ignore_ascii_case(currency))
            })
            .map(|r| Route {
                entity: r.entity.clone(),
                branch: r
                    .branch
                    .clone()
                    .or_else(|| self.entities.get(&r.entity).and_then(|e| e.branch.clone())),
                plugin: r.plugin.clone(),
            })
    }

    /// Every entity a store's products/stock go to (products are not channel-bound), with the
    /// plugin of the first rule naming that entity for the store.
    pub fn routes_for_store(&self, store: &str) -> Vec<Route> {
        self.routes_for_channels(store, None)
    }

    /// Every entity an order of the store on one of `channels` can go to (the rules matching
    /// the store and one of the channels, whatever their currency), with the plugin of the
    /// first such rule per entity. `None`: any channel, as [`Self::routes_for_store`]. How
    /// channel-bound records (products by their channel assignments, customer accounts by
    /// their channels) find their companies.
    pub fn routes_for_channels(&self, store: &str, channels: Option<&[u64]>) -> Vec<Route> {
        let mut out: Vec<Route> = Vec::new();
        for r in &self.rules {
            if r.store.as_deref().is_some_and(|s| s != store) {
                continue;
            }
            if let (Some(rule), Some(wanted)) = (r.channel, channels)
                && !wanted.contains(&rule)
            {
                continue;
            }
            if out.iter().any(|o| o.entity == r.entity) {
                continue;
            }
            out.push(Route {
                entity: r.entity.clone(),
                branch: r
                    .branch
                    .clone()
                    .or_else(|| self.entities.get(&r.entity).and_then(|e| e.branch.clone())),
                plugin: r.plugin.clone(),
            });
        }
        out
    }

    pub fn entity(&self, id: &LegalEntityId) -> Option<&EntitySettings> {
        self.entities.get(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        store: Option<&str>,
        channel: Option<u64>,
        currency: Option<&str>,
        e: &str,
    ) -> RouteRule {
        RouteRule {
            store: store.map(str::to_owned),
            channel,
            currency: currency.map(str::to_owned),
            entity: LegalEntityId::new(e),
            branch: None,
            plugin: "standard".into(),
        }
    }

    #[test]
    fn first_matching_rule_wins() {
        let routing = Routing {
            rules: vec![
                rule(Some("s1"), Some(2), None, "fi"),
                rule(Some("s1"), None, Some("EUR"), "fi"),
                rule(Some("s1"), None, None, "se"),
            ],
            entities: BTreeMap::new(),
        };
        assert_eq!(routing.route("s1", 2, "SEK").unwrap().entity.as_str(), "fi");
        assert_eq!(routing.route("s1", 1, "eur").unwrap().entity.as_str(), "fi");
        assert_eq!(routing.route("s1", 1, "SEK").unwrap().entity.as_str(), "se");
        assert!(routing.route("other", 1, "SEK").is_none());
        assert_eq!(routing.routes_for_store("s1").len(), 2);
    }

    #[test]
    fn channel_bound_records_go_to_the_entities_of_their_channels() {
        let routing = Routing {
            rules: vec![
                rule(Some("s1"), Some(1), None, "se"),
                rule(Some("s1"), Some(2), None, "fi"),
            ],
            entities: BTreeMap::new(),
        };
        let names = |r: Vec<Route>| {
            r.into_iter()
                .map(|r| r.entity.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(routing.routes_for_channels("s1", Some(&[2]))), ["fi"]);
        assert_eq!(
            names(routing.routes_for_channels("s1", Some(&[1, 2]))),
            ["se", "fi"]
        );
        assert!(routing.routes_for_channels("s1", Some(&[3])).is_empty());
        assert_eq!(names(routing.routes_for_channels("s1", None)), ["se", "fi"]);
        // A rule for any channel (here by currency) matches every channel.
        let routing = Routing {
            rules: vec![
                rule(Some("s1"), None, Some("EUR"), "fi"),
                rule(Some("s1"), Some(1), None, "se"),
            ],
            entities: BTreeMap::new(),
        };
        assert_eq!(
            names(routing.routes_for_channels("s1", Some(&[1]))),
            ["fi", "se"]
        );
    }
}
