//! Customer accounts → Visma customers, on their own (not only as the buyer of an order).
//!
//! Triggers: `store/customer/created|updated`, the address events of an account, and
//! `ledgerlink/customer/sync` (`ledgerlink backfill customers`). Each job reads the account with
//! its addresses, maps it with the plugin's `customer-mapper.map-customer-account` export and
//! brings the Visma customer to it: created once (identity map, then Visma by our external
//! reference), updated when what the mapping gives differs from what we last wrote.
//!
//! One customer per account and legal entity, shared with the order flow: [`CustomerKey`] and
//! [`find_or_create`] are what the order flow's customer step uses too, so an account synced
//! here and the buyer of an order are the same Visma customer, whichever came first.
//!
//! Routing: an account goes to the entities its channels route to (`channel_ids`, else its
//! `origin_channel_id`; every routing rule of the store for one of those channels, whatever the
//! rule's currency, since any order of that customer on that channel could go there). An
//! account without channels goes to every entity of the store.
//!
//! A plugin built before `customer-mapper` existed still loads; for its entities the job is
//! skipped with the reason (their customers keep reaching Visma with their orders).

use super::convert;
use super::orders::{ID_CUSTOMER, short_ref};
use super::{FlowDeps, audit, bc_err, call_plugin, store_of, visma_err};
use crate::error::JobError;
use crate::handler::{JobHandler, JobOutcome};
use crate::{Job, JobContext};
use ledgerlink_bigcommerce::models::{Customer, CustomerFilter};
use ledgerlink_core::{BcCustomerId, BoxFuture, ExternalRef, LegalEntityId, VismaCustomerNo};
use ledgerlink_runtime::types as wit;
use ledgerlink_store::{IdentityKey, WriteStart};
use ledgerlink_visma::dto::{AddressUpdate, CustomerUpdate};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

/// The job kind the backfill queues, one per account.
pub const KIND_CUSTOMER_SYNC: &str = "ledgerlink/customer/sync";

/// Events that mean "bring this customer account to its current state".
pub const CUSTOMER_SCOPES: &[&str] = &[
    "store/customer/created",
    "store/customer/updated",
    "store/customer/address/created",
    "store/customer/address/updated",
    "store/customer/address/deleted",
    KIND_CUSTOMER_SYNC,
];

/// Where a BigCommerce customer (or a guest's e-mail) is kept in one legal entity: its
/// identity-map key and the reference Visma holds (`accountReference`), by which a retry
/// after an unknown outcome finds it.
#[derive(Debug, Clone)]
pub(crate) struct CustomerKey {
    pub key: IdentityKey,
    pub reference: ExternalRef,
}

impl CustomerKey {
    /// A BigCommerce customer id, or 0 with the guest's e-mail.
    pub(crate) fn new(entity: &LegalEntityId, store: &str, customer: u64, email: &str) -> Self {
        let bc_key = if customer == 0 {
            format!("guest:{}", email.trim().to_ascii_lowercase())
        } else {
            format!("{store}:{customer}")
        };
        CustomerKey {
            key: IdentityKey::new(entity.clone(), ID_CUSTOMER, &bc_key),
            // External references are capped at 40 characters; a hash keeps long e-mails unique.
            reference: ExternalRef::new(short_ref("bc-c", &bc_key)),
        }
    }
}

/// The Visma customer of `key`: the one the identity map knows, else the one `map` describes,
/// created once (write intent → a customer with the same e-mail adopted, else create-once by
/// reference → identity). `map` runs only when the identity map does not know the customer.
/// Returns the customer number and whether this call created it.
pub(crate) async fn find_or_create<F, Fut>(
    deps: &FlowDeps,
    ctx: &JobContext,
    entity: &LegalEntityId,
    key: &CustomerKey,
    map: F,
) -> Result<(String, bool), JobError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<CustomerUpdate, JobError>>,
{
    let start = ctx.begin_write(&key.key, &key.reference).await?;
    if let WriteStart::AlreadyDone { visma_id } = start {
        return Ok((visma_id, false));
    }
    let body = map().await?;
    if let Some(number) = existing_by_email(deps, ctx, entity, key, &body).await? {
        ctx.complete_write(&key.key, &number).await?;
        return Ok((number, false));
    }
    let started = Instant::now();
    let created = deps
        .visma
        .create_customer_once(entity, &key.reference, &body)
        .await
        .map_err(visma_err);
    audit(
        ctx,
        "visma",
        "POST",
        "v1/customer",
        Some(&body),
        &created.as_ref().map(|c| &c.doc).map_err(Clone::clone),
        started,
    );
    let created = match created {
        Ok(c) => c,
        Err(e) => {
            // A refusal means Visma made nothing: a replay creates afresh.
            if e.class == ledgerlink_core::ErrorClass::Permanent {
                ctx.abandon_write(&key.key).await?;
            }
            return Err(e);
        }
    };
    ctx.complete_write(&key.key, &created.doc.number).await?;
    Ok((created.doc.number, true))
}

/// A customer the merchant already has in Visma under the same e-mail (the mapped customer's
/// main, else invoice, contact), adopted instead of creating a duplicate: the lowest-numbered
/// one that is not inactive and carries no other BigCommerce customer's reference. It gets
/// our reference in `accountReference`, so one Visma customer stands for one BigCommerce
/// customer (the identity map is unique on both sides) and a retry finds it by reference.
async fn existing_by_email(
    deps: &FlowDeps,
    ctx: &JobContext,
    entity: &LegalEntityId,
    key: &CustomerKey,
    body: &CustomerUpdate,
) -> Result<Option<String>, JobError> {
    let email = [&body.main_contact, &body.invoice_contact]
        .into_iter()
        .flatten()
        .find_map(|c| c.email.as_deref().map(str::trim).filter(|e| !e.is_empty()));
    let Some(email) = email else {
        return Ok(None);
    };
    let filter = ledgerlink_visma::dto::CustomerFilter {
        email: Some(email.to_owned()),
        ..Default::default()
    };
    let started = Instant::now();
    let found = deps
        .visma
        .list_customers(entity, &filter)
        .await
        .map_err(visma_err);
    audit(
        ctx,
        "visma",
        "GET",
        &format!("v1/customer?email={email}"),
        None::<&()>,
        &found
            .as_ref()
            .map(|cs| cs.iter().map(|c| &c.number).collect::<Vec<_>>())
            .map_err(Clone::clone),
        started,
    );
    let ours = key.reference.as_str();
    let mut candidates: Vec<_> = found?
        .into_iter()
        .filter(|c| c.status != Some(ledgerlink_visma::dto::CustomerStatus::Inactive))
        .filter(|c| {
            c.account_reference
                .as_deref()
                .is_none_or(|r| r.trim().is_empty() || r == ours)
        })
        .collect();
    candidates.sort_by(|a, b| a.number.cmp(&b.number));
    let Some(found) = candidates.into_iter().next() else {
        return Ok(None);
    };
    if found.account_reference.as_deref() != Some(ours) {
        let update = CustomerUpdate {
            account_reference: Some(ours.to_owned()),
            ..Default::default()
        };
        let started = Instant::now();
        let updated = deps
            .visma
            .update_customer(entity, &VismaCustomerNo::new(&found.number), &update, None)
            .await
            .map(|_| ())
            .map_err(visma_err);
        audit(
            ctx,
            "visma",
            "PUT",
            &format!("v1/customer/{}", found.number),
            Some(&update),
            &updated,
            started,
        );
        updated?;
    }
    tracing::info!(customer = %found.number, %email, "adopted the Visma customer with this e-mail");
    Ok(Some(found.number))
}

pub struct CustomerFlow {
    deps: Arc<FlowDeps>,
}

impl CustomerFlow {
    pub fn new(deps: Arc<FlowDeps>) -> Self {
        Self { deps }
    }
}

impl JobHandler for CustomerFlow {
    fn handle<'a>(
        &'a self,
        job: &'a Job,
        ctx: &'a JobContext,
    ) -> BoxFuture<'a, Result<JobOutcome, JobError>> {
        Box::pin(self.run(job, ctx))
    }
}

/// The customer id of an event: ours name `customer_id`; an address event names the address
/// in `data.id` and its customer in `data.address.customer_id`; a customer event `data.id`.
fn customer_id_of(job: &Job) -> Result<u64, JobError> {
    let p = &job.payload;
    let num = |v: &serde_json::Value| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
    };
    let id = if job.kind.starts_with("store/customer/address/") {
        p.pointer("/data/address/customer_id").and_then(num)
    } else {
        p.get("customer_id")
            .or_else(|| p.pointer("/data/id"))
            .and_then(num)
    };
    id.ok_or_else(|| {
        JobError::permanent("bad_event", "the event names no customer id").at("data.id")
    })
}

/// What one entity's customer came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Created,
    Updated,
    Unchanged,
    /// The entity's plugin has no `customer-mapper`.
    NoExport,
}

impl CustomerFlow {
    async fn run(&self, job: &Job, ctx: &JobContext) -> Result<JobOutcome, JobError> {
        let store = store_of(job)?;
        let id = customer_id_of(job)?;
        if id == 0 {
            return Err(JobError::permanent(
                "guest_customer",
                "customer id 0 is a guest, who has no customer account: guests reach Visma with \
                 their orders (posting rule guest_customer, or one customer per guest e-mail)",
            )
            .at("data.id"));
        }
        let bc = self.deps.bc(&store)?;
        let started = Instant::now();
        let found = bc
            .list_customers(&CustomerFilter {
                ids: vec![BcCustomerId(id)],
                include_addresses: true,
                ..Default::default()
            })
            .await
            .map_err(bc_err);
        audit(
            ctx,
            "bigcommerce",
            "GET",
            &format!("v3/customers?id:in={id}&include=addresses"),
            None::<&()>,
            &found.as_ref().map(Vec::len).map_err(Clone::clone),
            started,
        );
        let Some(account) = found?.into_iter().find(|c| c.id.0 == id) else {
            // Deleted since the event: the Visma customer stays (documents refer to it).
            return Ok(JobOutcome::Skipped {
                reason: format!("customer {id} no longer exists in BigCommerce"),
            });
        };
        ctx.save_snapshot(serde_json::to_value(&account).unwrap_or_default());
        let group_name = match account.customer_group_id.filter(|g| *g != 0) {
            Some(g) => bc
                .customer_groups()
                .await
                .map_err(bc_err)?
                .into_iter()
                .find(|x| x.id == g)
                .map(|x| x.name),
            None => None,
        };
        let channels = account_channels(&account);
        let routes = self.deps.routing.routes_for_channels(
            &store,
            (!channels.is_empty()).then_some(channels.as_slice()),
        );
        if routes.is_empty() {
            return Ok(JobOutcome::Skipped {
                reason: format!(
                    "no routing rule of store {store} covers the customer's channels {channels:?}"
                ),
            });
        }
        let mut outcomes = Vec::new();
        for route in routes {
            let outcome = self
                .sync_entity(ctx, &store, &route, &account, group_name.as_deref())
                .await?;
            outcomes.push((route.entity.clone(), outcome));
        }
        if outcomes.iter().all(|(_, o)| *o == Outcome::NoExport) {
            return Ok(JobOutcome::Skipped {
                reason: "the plugins of the customer's legal entities do not export \
                         ledgerlink:mapping/customer-mapper (built before it existed): the \
                         customer reaches Visma with its first order; rebuild the plugin with \
                         the current SDK to sync accounts on their own"
                    .into(),
            });
        }
        if outcomes
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Unchanged | Outcome::NoExport))
        {
            return Ok(JobOutcome::Skipped {
                reason: "Visma already holds what the account has".into(),
            });
        }
        Ok(JobOutcome::Done)
    }

    /// Creates or updates the account's customer in one legal entity.
    async fn sync_entity(
        &self,
        ctx: &JobContext,
        store: &str,
        route: &super::Route,
        account: &Customer,
        group_name: Option<&str>,
    ) -> Result<Outcome, JobError> {
        let entity = self.deps.entity(&route.entity)?.clone();
        let plugin = self.deps.plugin(ctx, &route.entity)?;
        if !plugin.maps_customer_accounts() {
            ctx.tag("no_customer_mapper", entity.id.as_str());
            return Ok(Outcome::NoExport);
        }
        let key = CustomerKey::new(&entity.id, store, account.id.0, &account.email);
        let known = ctx.identity(&key.key).await?;
        let mut waccount = customer_account(account, group_name);
        waccount.visma_customer_number = known.clone();
        let channel = account.origin_channel_id.map(|c| c.0).unwrap_or_default();
        let wctx = self
            .deps
            .context(&entity, route, store, channel, &entity.base_currency);
        let tables = self.deps.tables(&entity);
        let mapped = call_plugin(ctx, &plugin, move |p| {
            p.map_customer_account(&wctx, &tables, &waccount)
        })
        .await?;
        let mut body = convert::customer(&mapped);
        drop_empty_addresses(&mut body);
        // What we last wrote: an event that changes nothing Visma holds writes nothing.
        let mark = format!("visma:{}:customer:{store}:{}", entity.id, account.id.0);
        // Without the number: the mapping names it only once the customer exists.
        let content = content_hash(&CustomerUpdate {
            number: None,
            ..body.clone()
        });
        let number = match known {
            Some(number) => number,
            None => {
                let create = body.clone();
                let (number, created) =
                    find_or_create(&self.deps, ctx, &entity.id, &key, move || async move {
                        Ok(create)
                    })
                    .await?;
                if created {
                    ctx.store().set_watermark(&mark, &content).await?;
                    return Ok(Outcome::Created);
                }
                // Created meanwhile by another job (an order of this customer): update it.
                number
            }
        };
        if ctx.store().watermark(&mark).await?.as_deref() == Some(&*content) {
            return Ok(Outcome::Unchanged);
        }
        // The customer's currency is chosen when it is created (an order in another currency
        // may have created it); an account carries none of its own.
        body.currency_id = None;
        let started = Instant::now();
        let updated = self
            .deps
            .visma
            .update_customer(
                &entity.id,
                &VismaCustomerNo::new(number.clone()),
                &body,
                None,
            )
            .await
            .map(|v| v.doc)
            .map_err(visma_err);
        audit(
            ctx,
            "visma",
            "PUT",
            &format!("v1/customer/{number}"),
            Some(&body),
            &updated,
            started,
        );
        updated?;
        ctx.store().set_watermark(&mark, &content).await?;
        Ok(Outcome::Updated)
    }
}

/// The channels an account belongs to: its `channel_ids`, else its origin channel.
fn account_channels(c: &Customer) -> Vec<u64> {
    let mut out: Vec<u64> = c.channel_ids.iter().flatten().map(|c| c.0).collect();
    if out.is_empty()
        && let Some(origin) = c.origin_channel_id
    {
        out.push(origin.0);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// An address with no field set says nothing: Visma would refuse an empty country, and an
/// update must not blank an address an order gave the customer.
fn drop_empty_addresses(body: &mut CustomerUpdate) {
    let empty =
        |a: &Option<AddressUpdate>| a.as_ref().is_some_and(|a| *a == AddressUpdate::default());
    if empty(&body.main_address) {
        body.main_address = None;
    }
    if empty(&body.invoice_address) {
        body.invoice_address = None;
    }
    if empty(&body.delivery_address) {
        body.delivery_address = None;
    }
}

fn content_hash(body: &CustomerUpdate) -> String {
    use sha2::{Digest, Sha256};
    let text = serde_json::to_string(body).unwrap_or_default();
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A BigCommerce customer account as the WIT `customer-account` record.
pub fn customer_account(c: &Customer, group_name: Option<&str>) -> wit::CustomerAccount {
    let text = |s: &Option<String>| s.clone().unwrap_or_default();
    let mut addresses: Vec<wit::CustomerAddress> = c
        .addresses
        .iter()
        .flatten()
        .map(|a| wit::CustomerAddress {
            id: a.id,
            address: wit::Address {
                first_name: a.first_name.clone(),
                last_name: a.last_name.clone(),
                company: text(&a.company),
                street_1: a.address1.clone(),
                street_2: text(&a.address2),
                city: a.city.clone(),
                state: text(&a.state_or_province),
                zip: text(&a.postal_code),
                country: text(&a.country),
                country_iso2: a.country_code.to_ascii_uppercase(),
                phone: text(&a.phone),
                email: c.email.clone(),
            },
            address_type: a.address_type.clone().unwrap_or_default(),
        })
        .collect();
    addresses.sort_by_key(|a| a.id);
    wit::CustomerAccount {
        id: c.id.0,
        email: c.email.clone(),
        first_name: c.first_name.clone(),
        last_name: c.last_name.clone(),
        company: text(&c.company),
        phone: text(&c.phone),
        notes: text(&c.notes),
        customer_group_id: c.customer_group_id.filter(|g| *g != 0),
        customer_group_name: group_name.map(str::to_owned),
        tax_exempt_category: c.tax_exempt_category.clone().filter(|t| !t.is_empty()),
        origin_channel_id: c.origin_channel_id.map(|c| c.0).unwrap_or_default(),
        channel_ids: c.channel_ids.iter().flatten().map(|c| c.0).collect(),
        addresses,
        created_at: c.date_created.map(|d| d.to_rfc3339()).unwrap_or_default(),
        modified_at: c.date_modified.map(|d| d.to_rfc3339()).unwrap_or_default(),
        visma_customer_number: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_guest_emails_keep_a_unique_reference_within_40_characters() {
        let e = LegalEntityId::new("se");
        let a = CustomerKey::new(
            &e,
            "store",
            0,
            "a-very-long-address-for-a-guest@example.com",
        );
        let b = CustomerKey::new(
            &e,
            "store",
            0,
            "a-very-long-address-for-a-guesT@example.org",
        );
        assert!(a.reference.as_str().len() <= 40);
        assert_ne!(a.reference, b.reference);
        // The case of an e-mail does not make another guest.
        let c = CustomerKey::new(
            &e,
            "store",
            0,
            "A-very-long-address-for-a-guest@example.com",
        );
        assert_eq!(a.reference, c.reference);
        let known = CustomerKey::new(&e, "store", 42, "x@example.com");
        assert_eq!(known.reference.as_str(), "bc-c-store:42");
    }
}
