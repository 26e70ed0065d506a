//! `map-customer`: the buyer of an order → a Visma customer.

use crate::common::*;
use ledgerlink_sdk::types::*;
use ledgerlink_sdk::{Errors, Host, Settings};

pub fn map_customer(
    host: &impl Host,
    ctx: &Context,
    order: &Order,
) -> Result<VismaCustomer, Vec<MappingError>> {
    let settings = Settings::of(ctx);
    let mut errors = Errors::new();
    let c = &order.customer;
    let billing = &order.billing_address;
    let guest = c.bc_customer_id == 0;

    // A guest order goes to the configured guest customer unless the entity creates one per guest.
    let guest_mode = settings.choice(
        "guest-customers",
        &["shared", "create"],
        "shared",
        &mut errors,
    );
    let number = match c
        .visma_customer_number
        .as_deref()
        .filter(|n| !n.trim().is_empty())
    {
        Some(n) => Some(n.to_owned()),
        None if guest && guest_mode == "shared" => settings
            .require(
                "guest-customer-number",
                "for guest orders (or set guest-customers = create)",
                &mut errors,
            )
            .map(str::to_owned),
        None => None,
    };

    let company = if c.company.trim().is_empty() {
        billing.company.trim()
    } else {
        c.company.trim()
    };
    let person = if c.first_name.trim().is_empty() && c.last_name.trim().is_empty() {
        full_name(&billing.first_name, &billing.last_name)
    } else {
        full_name(&c.first_name, &c.last_name)
    };
    let name = if company.is_empty() {
        person.clone()
    } else {
        company.to_owned()
    };
    if name.is_empty() {
        errors.push(
            "customer.last-name",
            "missing-customer-name",
            "the customer has neither a company nor a name",
        );
    }
    let country = billing.country_iso2.trim().to_ascii_uppercase();
    if country.is_empty() {
        errors.push(
            "billing-address.country-iso2",
            "missing-country",
            "the billing address has no country code",
        );
    }
    let email = if c.email.trim().is_empty() {
        billing.email.clone()
    } else {
        c.email.clone()
    };
    let group = c.customer_group_id.map(|g| g.to_string());
    let lookup_group = |table: &str| group.as_deref().and_then(|g| host.lookup(table, g));

    let main = visma_address(billing);
    let delivery = order
        .shipping_addresses
        .first()
        .map(|s| visma_address(&s.address))
        .filter(|a| *a != main);
    let external_reference = if guest {
        format!(
            "bc:{}:guest:{}",
            ctx.store_hash,
            email.trim().to_ascii_lowercase()
        )
    } else {
        format!("bc:{}:customer:{}", ctx.store_hash, c.bc_customer_id)
    };
    let customer = VismaCustomer {
        number,
        name,
        status: "Active".into(),
        main_address: main.clone(),
        main_contact: VismaContact {
            name: person,
            attention: company.to_owned(),
            email,
            phone: if c.phone.trim().is_empty() {
                billing.phone.clone()
            } else {
                c.phone.clone()
            },
        },
        delivery_address: delivery,
        invoice_address: Some(main),
        corporate_id: None,
        vat_registration_id: None,
        currency_id: order.currency.clone(),
        credit_terms_id: lookup_group("credit-terms")
            .or_else(|| settings.get("default-credit-terms").map(str::to_owned)),
        customer_class_id: lookup_group("customer-class")
            .or_else(|| settings.get("customer-class").map(str::to_owned)),
        price_class_id: lookup_group("price-class-by-group"),
        vat_zone_id: host
            .lookup("vat-zone", &country)
            .or_else(|| settings.get("default-vat-zone").map(str::to_owned)),
        external_reference,
        note: c
            .customer_group_name
            .clone()
            .map(|g| format!("BigCommerce group: {g}"))
            .unwrap_or_default(),
    };
    errors.finish(customer)
}
