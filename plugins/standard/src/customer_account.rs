//! `map-customer-account`: a BigCommerce customer account (no order) → a Visma customer.
//!
//! The same customer `map-customer` makes from an order's buyer, so a customer synced on its
//! own and one first met on an order are one Visma customer with the same fields: the same
//! external reference (`bc:<store>:customer:<id>`), name rule (company, else the person), and
//! group tables. Addresses: the account's first address is the main and invoice address, the
//! first other address (a commercial one first) the delivery address. An account without
//! addresses (a fresh registration) is a customer without an address, not an error. The
//! currency is the context's (the legal entity's base currency).

use crate::common::*;
use ledgerlink_sdk::types::*;
use ledgerlink_sdk::{Errors, Host, Settings};

pub fn map_customer_account(
    host: &impl Host,
    ctx: &Context,
    account: &CustomerAccount,
) -> Result<VismaCustomer, Vec<MappingError>> {
    let settings = Settings::of(ctx);
    let mut errors = Errors::new();

    if account.id == 0 {
        errors.push(
            "id",
            "guest-customer",
            "a guest has no customer account; guests reach Visma with their orders",
        );
    }
    let email = account.email.trim();
    if !valid_email(email) {
        errors.push(
            "email",
            "invalid-email",
            format!("{email:?} is not an e-mail address"),
        );
    }
    let person = full_name(&account.first_name, &account.last_name);
    let company = account.company.trim();
    let name = if company.is_empty() {
        person.clone()
    } else {
        company.to_owned()
    };
    if name.is_empty() {
        errors.push(
            "last-name",
            "missing-customer-name",
            "the customer has neither a company nor a name",
        );
    }

    let mut addresses: Vec<&CustomerAddress> = account.addresses.iter().collect();
    addresses.sort_by_key(|a| a.id);
    for (i, a) in addresses.iter().enumerate() {
        let country = a.address.country_iso2.trim();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
            errors.push(
                format!("addresses[{i}].country-iso2"),
                "missing-country",
                format!("address {} has no two-letter country code", a.id),
            );
        }
    }
    let main = addresses.first().map(|a| visma_address(&a.address));
    let delivery = addresses
        .iter()
        .skip(1)
        .find(|a| a.address_type == "commercial")
        .or_else(|| addresses.get(1))
        .map(|a| visma_address(&a.address))
        .filter(|d| Some(d) != main.as_ref());
    let country = main
        .as_ref()
        .map(|a| a.country_id.clone())
        .unwrap_or_default();

    let phone = if account.phone.trim().is_empty() {
        addresses
            .first()
            .map(|a| a.address.phone.clone())
            .unwrap_or_default()
    } else {
        account.phone.clone()
    };
    let group = account.customer_group_id.map(|g| g.to_string());
    let lookup_group = |table: &str| group.as_deref().and_then(|g| host.lookup(table, g));
    let customer = VismaCustomer {
        number: account
            .visma_customer_number
            .clone()
            .filter(|n| !n.trim().is_empty()),
        name,
        status: "Active".into(),
        main_address: main.clone().unwrap_or_else(empty_address),
        main_contact: VismaContact {
            name: person,
            attention: company.to_owned(),
            email: email.to_owned(),
            phone,
        },
        delivery_address: delivery,
        invoice_address: main,
        corporate_id: None,
        vat_registration_id: None,
        currency_id: ctx.base_currency.clone(),
        credit_terms_id: lookup_group("credit-terms")
            .or_else(|| settings.get("default-credit-terms").map(str::to_owned)),
        customer_class_id: lookup_group("customer-class")
            .or_else(|| settings.get("customer-class").map(str::to_owned)),
        price_class_id: lookup_group("price-class-by-group"),
        vat_zone_id: (!country.is_empty())
            .then(|| host.lookup("vat-zone", &country))
            .flatten()
            .or_else(|| settings.get("default-vat-zone").map(str::to_owned)),
        external_reference: format!("bc:{}:customer:{}", ctx.store_hash, account.id),
        note: account
            .customer_group_name
            .clone()
            .map(|g| format!("BigCommerce group: {g}"))
            .unwrap_or_default(),
    };
    errors.finish(customer)
}

fn valid_email(e: &str) -> bool {
    match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !e.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn empty_address() -> VismaAddress {
    VismaAddress {
        line1: String::new(),
        line2: String::new(),
        line3: String::new(),
        postal_code: String::new(),
        city: String::new(),
        country_id: String::new(),
        county_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledgerlink_sdk::testing::FakeHost;

    fn ctx() -> Context {
        Context {
            legal_entity: "fi".into(),
            store_hash: "abc".into(),
            channel_id: 2,
            currency: "EUR".into(),
            base_currency: "EUR".into(),
            branch: None,
            settings: vec![("default-credit-terms".into(), "0D".into())],
        }
    }

    fn address(id: u64, kind: &str, street: &str, country: &str) -> CustomerAddress {
        CustomerAddress {
            id,
            address: Address {
                first_name: "Aino".into(),
                last_name: "Virtanen".into(),
                company: String::new(),
                street_1: street.into(),
                street_2: String::new(),
                city: "Helsinki".into(),
                state: String::new(),
                zip: "00100".into(),
                country: "Finland".into(),
                country_iso2: country.into(),
                phone: "+358 1".into(),
                email: "a@example.fi".into(),
            },
            address_type: kind.into(),
        }
    }

    fn account() -> CustomerAccount {
        CustomerAccount {
            id: 42,
            email: "a@example.fi".into(),
            first_name: "Aino".into(),
            last_name: "Virtanen".into(),
            company: "Kauppa Oy".into(),
            phone: String::new(),
            notes: String::new(),
            customer_group_id: Some(2),
            customer_group_name: Some("Wholesale".into()),
            tax_exempt_category: None,
            origin_channel_id: 2,
            channel_ids: vec![2],
            addresses: vec![
                address(9, "commercial", "Varasto 1", "FI"),
                address(7, "residential", "Koti 2", "FI"),
            ],
            created_at: String::new(),
            modified_at: String::new(),
            visma_customer_number: Some("10042".into()),
        }
    }

    #[test]
    fn an_account_maps_like_the_buyer_of_an_order() {
        let host = FakeHost::new()
            .with("credit-terms", "2", "30D")
            .with("vat-zone", "FI", "FI");
        let c = map_customer_account(&host, &ctx(), &account()).unwrap();
        assert_eq!(c.number.as_deref(), Some("10042"));
        assert_eq!(c.name, "Kauppa Oy");
        assert_eq!(c.external_reference, "bc:abc:customer:42");
        assert_eq!(c.currency_id, "EUR");
        assert_eq!(c.credit_terms_id.as_deref(), Some("30D"));
        assert_eq!(c.vat_zone_id.as_deref(), Some("FI"));
        // The first address (lowest id) is the main one; the commercial one delivers.
        assert_eq!(c.main_address.line1, "Koti 2");
        assert_eq!(c.invoice_address.as_ref().unwrap().line1, "Koti 2");
        assert_eq!(c.delivery_address.as_ref().unwrap().line1, "Varasto 1");
        assert_eq!(c.main_contact.name, "Aino Virtanen");
        assert_eq!(
            c.main_contact.phone, "+358 1",
            "the address's phone when the account has none"
        );
        assert_eq!(c.note, "BigCommerce group: Wholesale");
    }

    #[test]
    fn an_account_without_addresses_is_a_customer_without_one() {
        let mut a = account();
        a.addresses.clear();
        a.customer_group_id = None;
        let c = map_customer_account(&FakeHost::new(), &ctx(), &a).unwrap();
        assert_eq!(c.main_address.country_id, "");
        assert!(c.invoice_address.is_none() && c.delivery_address.is_none());
        assert_eq!(c.credit_terms_id.as_deref(), Some("0D"));
        assert_eq!(c.vat_zone_id, None);
    }

    #[test]
    fn bad_accounts_name_every_problem() {
        let mut a = account();
        a.id = 0;
        a.email = "not-an-address".into();
        a.company.clear();
        a.first_name.clear();
        a.last_name.clear();
        a.addresses[1].address.country_iso2 = "Suomi".into();
        let errors = map_customer_account(&FakeHost::new(), &ctx(), &a).unwrap_err();
        let codes: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.path.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            codes,
            [
                ("id", "guest-customer"),
                ("email", "invalid-email"),
                ("last-name", "missing-customer-name"),
                ("addresses[0].country-iso2", "missing-country"),
            ]
        );
    }
}
