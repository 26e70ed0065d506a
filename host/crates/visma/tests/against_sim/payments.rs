//! Payment status read back from the ERP.

use crate::harness::*;
use ledgerlink_core::VismaDocumentNo;
use ledgerlink_sim::visma::{GUEST_CUSTOMER, SE_TENANT};
use ledgerlink_visma::dto::{DocumentStatus, PaymentFilter};
use rust_decimal::Decimal;

#[tokio::test]
async fn a_registered_payment_closes_the_invoice_and_can_be_read() {
    let h = Harness::start().await;
    let client = h.client();
    let inv = client
        .create_invoice_once(&se(), &r("pay-1"), &se_invoice(1, Decimal::from(100)))
        .await
        .unwrap()
        .doc;
    let no = VismaDocumentNo::new(inv.reference_number.clone());
    client.release_invoice(&se(), &no).await.unwrap();
    h.pay_invoice(
        SE_TENANT,
        GUEST_CUSTOMER,
        &inv.reference_number,
        Decimal::from(125),
    )
    .await;
    let inv = client.get_invoice(&se(), &no).await.unwrap();
    assert_eq!(inv.status, Some(DocumentStatus::Closed));
    assert_eq!(inv.balance_in_currency.or(inv.balance), Some(Decimal::ZERO));
    assert!(inv.is_paid());
    let payments = client
        .list_customer_payments(
            &se(),
            &PaymentFilter {
                invoice_ref_nbr: Some(inv.reference_number.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(payments.len(), 1);
    let p = &payments[0];
    assert_eq!(p.payment_amount, Some(Decimal::from(125)));
    assert!(
        p.payment_lines
            .iter()
            .any(|l| l.ref_nbr.as_deref() == Some(inv.reference_number.as_str()))
    );
    let again = client
        .get_customer_payment(&se(), &p.ref_nbr)
        .await
        .unwrap();
    assert_eq!(again.ref_nbr, p.ref_nbr);
}
