//! One company's token never reaches another company's documents.

use crate::harness::*;
use ledgerlink_core::{VismaCustomerNo, VismaDocumentNo};
use ledgerlink_visma::VismaError;
use ledgerlink_visma::dto::{
    ApplicationLineUpdate, CreditNoteLineUpdate, CreditNoteUpdate, CustomerUpdate,
};
use rust_decimal::Decimal;

#[tokio::test]
async fn a_company_cannot_read_or_write_another_companys_documents() {
    let h = Harness::start().await;
    let client = h.client();

    // A Swedish invoice and customer.
    let se_inv = client
        .create_invoice_once(&se(), &r("iso-se-1"), &se_invoice(1, Decimal::from(100)))
        .await
        .unwrap()
        .doc;
    let se_cust = client
        .create_customer_once(
            &se(),
            &r("iso-cust-1"),
            &CustomerUpdate {
                name: Some("Svea Kund".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .doc;
    let inv_no = VismaDocumentNo::new(se_inv.reference_number.clone());

    // Reads through the Finnish entity see nothing of it.
    assert!(
        client
            .find_invoice_by_ref(&fi(), &r("iso-se-1"))
            .await
            .unwrap()
            .is_none()
    );
    match client.get_invoice(&fi(), &inv_no).await {
        Err(VismaError::NotFound { .. }) => {}
        other => panic!("Finnish read of a Swedish invoice: {other:?}"),
    }
    let fi_invoices = client
        .list_invoices(&fi(), &Default::default())
        .await
        .unwrap();
    assert!(
        fi_invoices
            .iter()
            .all(|i| i.external_reference.as_deref() != Some("iso-se-1"))
    );
    match client
        .get_customer(&fi(), &VismaCustomerNo::new(se_cust.number.clone()))
        .await
    {
        Err(VismaError::NotFound { .. }) => {}
        Ok(c) => assert_ne!(
            c.name.as_deref(),
            Some("Svea Kund"),
            "Swedish customer leaked"
        ),
        Err(e) => panic!("{e:?}"),
    }

    // Writes through the Finnish entity cannot touch it.
    assert!(client.release_invoice(&fi(), &inv_no).await.is_err());
    let upd = client
        .update_customer(
            &fi(),
            &VismaCustomerNo::new(se_cust.number.clone()),
            &CustomerUpdate {
                name: Some("Hijacked".into()),
                ..Default::default()
            },
            None,
        )
        .await;
    if let Ok(v) = &upd {
        // Only possible if Finland happens to have its own customer with that number.
        assert_ne!(v.doc.account_reference.as_deref(), Some("iso-cust-1"));
    }
    let credit = client
        .create_credit_note_once(
            &fi(),
            &r("iso-cn-1"),
            &CreditNoteUpdate {
                customer_number: Some("10000".into()),
                lines: vec![CreditNoteLineUpdate {
                    description: Some("Refund".into()),
                    quantity: Some(Decimal::ONE),
                    unit_price_in_currency: Some(Decimal::from(10)),
                    vat_code_id: Some("FI24".into()),
                    ..Default::default()
                }],
                application_lines: vec![ApplicationLineUpdate::to_invoice(
                    se_inv.reference_number.clone(),
                    Decimal::from(10),
                )],
                ..Default::default()
            },
        )
        .await;
    assert!(
        matches!(credit, Err(VismaError::Validation { .. })),
        "credit note against a Swedish invoice from Finland: {credit:?}"
    );

    // The Swedish documents are untouched.
    let after = client.get_invoice(&se(), &inv_no).await.unwrap();
    assert_eq!(after.status, se_inv.status);
    assert_eq!(after.balance, se_inv.balance);
    let cust = client
        .get_customer(&se(), &VismaCustomerNo::new(se_cust.number.clone()))
        .await
        .unwrap();
    assert_eq!(cust.name.as_deref(), Some("Svea Kund"));
}
