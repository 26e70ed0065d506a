//! Credit notes linked to the invoice they credit.

use crate::harness::*;
use ledgerlink_core::VismaDocumentNo;
use ledgerlink_visma::VismaError;
use ledgerlink_visma::dto::{
    ApplicationLineUpdate, CreditNoteLineUpdate, CreditNoteUpdate, DocumentStatus,
};
use rust_decimal::Decimal;

#[tokio::test]
async fn partial_credit_note_is_linked_and_lowers_the_invoice_balance() {
    let h = Harness::start().await;
    let client = h.client();
    // Two mugs at 100 SEK + 25 % VAT = 250.
    let inv = client
        .create_invoice_once(&se(), &r("cn-inv-1"), &se_invoice(2, Decimal::from(100)))
        .await
        .unwrap()
        .doc;
    let inv_no = VismaDocumentNo::new(inv.reference_number.clone());
    let released = client.release_invoice(&se(), &inv_no).await.unwrap();
    assert_eq!(released.status, Some(DocumentStatus::Open));
    assert_eq!(
        released.balance_in_currency.or(released.balance),
        Some(Decimal::from(250))
    );
    // Releasing again is harmless.
    client.release_invoice(&se(), &inv_no).await.unwrap();

    // Refund one mug: 125 incl. VAT, applied to the invoice.
    let note = client
        .create_credit_note_once(
            &se(),
            &r("cn-1"),
            &CreditNoteUpdate {
                customer_number: Some("10000".into()),
                currency_id: Some("SEK".into()),
                lines: vec![CreditNoteLineUpdate {
                    inventory_number: Some(demo_sku().into()),
                    quantity: Some(Decimal::ONE),
                    unit_price_in_currency: Some(Decimal::from(100)),
                    vat_code_id: Some("SE25".into()),
                    ..Default::default()
                }],
                application_lines: vec![ApplicationLineUpdate::to_invoice(
                    inv.reference_number.clone(),
                    Decimal::from(125),
                )],
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .doc;
    assert_eq!(
        note.amount_in_currency.or(note.amount),
        Some(Decimal::from(125))
    );
    assert_eq!(note.external_reference.as_deref(), Some("cn-1"));
    assert_eq!(
        note.applied_invoices().collect::<Vec<_>>(),
        vec![inv.reference_number.as_str()]
    );

    let note_no = VismaDocumentNo::new(note.reference_number.clone());
    let note = client.release_credit_note(&se(), &note_no).await.unwrap();
    assert!(
        note.status
            .as_ref()
            .is_some_and(DocumentStatus::is_released)
    );

    let inv = client.get_invoice(&se(), &inv_no).await.unwrap();
    assert_eq!(
        inv.balance_in_currency.or(inv.balance),
        Some(Decimal::from(125))
    );
    assert_eq!(inv.status, Some(DocumentStatus::Open));
    assert!(!inv.is_paid());
    assert!(
        inv.applications
            .iter()
            .any(|a| a.ref_nbr.as_deref() == Some(note.reference_number.as_str())),
        "invoice lists the credit note: {:?}",
        inv.applications
    );
    // Found by its reference too.
    let found = client
        .find_credit_note_by_ref(&se(), &r("cn-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.reference_number, note.reference_number);
}

#[tokio::test]
async fn over_crediting_is_refused_once_with_vismas_message() {
    let h = Harness::start().await;
    let client = h.client();
    let inv = client
        .create_invoice_once(&se(), &r("cn-inv-2"), &se_invoice(1, Decimal::from(100)))
        .await
        .unwrap()
        .doc;
    client
        .release_invoice(&se(), &VismaDocumentNo::new(inv.reference_number.clone()))
        .await
        .unwrap();
    let before = h.requests().await;
    // 500 incl. VAT against an invoice of 125.
    let err = client
        .create_credit_note_once(
            &se(),
            &r("cn-2"),
            &CreditNoteUpdate {
                customer_number: Some("10000".into()),
                lines: vec![CreditNoteLineUpdate {
                    description: Some("Goodwill".into()),
                    quantity: Some(Decimal::ONE),
                    unit_price_in_currency: Some(Decimal::from(400)),
                    vat_code_id: Some("SE25".into()),
                    ..Default::default()
                }],
                application_lines: vec![ApplicationLineUpdate::to_invoice(
                    inv.reference_number.clone(),
                    Decimal::from(500),
                )],
                ..Default::default()
            },
        )
        .await
        .expect_err("over-crediting is refused");
    match &err {
        VismaError::Validation { message, .. } => {
            assert!(message.contains("exceeds the balance"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.requests().await - before, 1, "refused once, not retried");
    assert!(
        client
            .find_credit_note_by_ref(&se(), &r("cn-2"))
            .await
            .unwrap()
            .is_none()
    );
    let inv = client
        .get_invoice(&se(), &VismaDocumentNo::new(inv.reference_number.clone()))
        .await
        .unwrap();
    assert_eq!(
        inv.balance_in_currency.or(inv.balance),
        Some(Decimal::from(125))
    );
}
