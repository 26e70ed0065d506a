//! Golden tests: the real compiled standard plugin, run through the runtime exactly as the
//! host runs it, on every fixture in `tests/fixtures/`, compared with `tests/golden/<name>.json`.
//!
//! `UPDATE_GOLDEN=1 cargo test -p ledgerlink-runtime --test golden` rewrites the golden files;
//! check every changed one by hand (totals to the cent) before committing it. Independent of
//! the golden files, each document is checked here for the invariants a wrong golden could hide.
//!
//! The component must be built first (`scripts/test.sh` does it):
//! `cargo build --release --target wasm32-wasip2 -p ledgerlink-standard`.

use ledgerlink_runtime::canonical::{Fixture, FixtureCall, FixtureOutcome};
use ledgerlink_runtime::types::*;
use ledgerlink_runtime::{LoadedPlugin, MappingTables, PluginLimits, Runtime, RuntimeConfig};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../..")
        .canonicalize()
        .expect("workspace root")
}

fn component() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let target = if target.is_absolute() {
        target
    } else {
        root().join(target)
    };
    target.join("wasm32-wasip2/release/ledgerlink_standard.wasm")
}

fn plugin() -> LoadedPlugin {
    let path = component();
    assert!(
        path.exists(),
        "the standard plugin component {} is missing: run scripts/test.sh (it builds the plugins with \
         `cargo build --release --target wasm32-wasip2 -p ledgerlink-standard` before the tests)",
        path.display()
    );
    let runtime = Runtime::new(RuntimeConfig::default()).expect("runtime");
    runtime
        .load_file(&path, PluginLimits::default())
        .expect("the standard plugin loads")
}

fn fixtures() -> Vec<Fixture> {
    let dir = root().join("tests/fixtures");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/fixtures")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 10,
        "expected the fixture set in {}",
        dir.display()
    );
    paths
        .iter()
        .map(|p| Fixture::load(p).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn sum(lines: &[DocumentLine]) -> i64 {
    lines.iter().map(|l| l.line_amount).sum()
}

/// Lines + VAT come to the expected total, to the cent. A VAT-inclusive document is posted
/// with each line turned net on its own and VAT added on the net sums, so its gross lines
/// can be off the total by the per-line rounding: at most one minor unit per line.
fn check_document(name: &str, lines: &[DocumentLine], inclusive: bool, total: i64, vat: i64) {
    if inclusive {
        assert!(
            (sum(lines) - total).abs() <= lines.len() as i64,
            "{name}: gross lines {} are more than per-line rounding off the total {total}",
            sum(lines)
        );
    } else {
        assert_eq!(
            sum(lines) + vat,
            total,
            "{name}: lines {} + VAT {vat} != expected total {total}",
            sum(lines)
        );
    }
    for l in lines {
        assert!(
            !l.vat_category_id.is_empty(),
            "{name}: line {:?} has no VAT category",
            l.description
        );
        let has_target = l.item_number.is_some() || l.account.is_some();
        assert!(
            has_target,
            "{name}: line {:?} has neither an item nor an account",
            l.description
        );
    }
    let rounding: i64 = lines
        .iter()
        .filter(|l| l.kind == LineKind::Rounding)
        .map(|l| l.line_amount)
        .sum();
    assert!(
        rounding.abs() <= lines.len() as i64,
        "{name}: rounding line of {rounding} is more than rounding"
    );
}

/// The invariants of one outcome, computed from the typed input, not from the golden file.
fn check_invariants(
    f: &Fixture,
    call: &FixtureCall,
    plugin: &LoadedPlugin,
    tables: &MappingTables,
) {
    let name = &f.name;
    match call {
        FixtureCall::MapOrder {
            ctx,
            order,
            shipment,
        } => {
            let Ok(m) = plugin.map_order(ctx, tables, order, shipment.as_ref()) else {
                return;
            };
            let (lines, inclusive, total, vat) = match &m.value {
                SalesDocument::Invoice(i) => {
                    (&i.lines, i.vat_inclusive, i.expected_total, i.expected_vat)
                }
                SalesDocument::SalesOrder(s) => {
                    (&s.lines, s.vat_inclusive, s.expected_total, s.expected_vat)
                }
            };
            check_document(name, lines, inclusive, total, vat);
            if shipment.is_none() {
                assert_eq!(
                    total, order.total_inc_tax,
                    "{name}: a whole-order document must come to the BigCommerce total"
                );
                assert!(
                    (vat - order.total_tax).abs() <= lines.len() as i64,
                    "{name}: VAT {vat} far from BigCommerce's {}",
                    order.total_tax
                );
            }
            // Every non-child order line with a shipped (or ordered) quantity is on the document.
            let expected_items = match shipment {
                None => order
                    .lines
                    .iter()
                    .filter(|l| l.parent_line_id.is_none() && l.quantity.digits != 0)
                    .count(),
                Some(s) => s.items.len(),
            };
            assert_eq!(
                lines.iter().filter(|l| l.kind == LineKind::Item).count(),
                expected_items,
                "{name}: item lines"
            );
        }
        FixtureCall::MapCreditNote { ctx, refund } => {
            let Ok(m) = plugin.map_credit_note(ctx, tables, refund) else {
                return;
            };
            let c = &m.value;
            check_document(
                name,
                &c.lines,
                c.vat_inclusive,
                c.expected_total,
                c.expected_vat,
            );
            assert_eq!(
                Some(c.original_invoice_number.as_str()),
                refund.original_document.as_ref().map(|d| d.number.as_str())
            );
            if refund.kind == RefundKind::Refund || refund.kind == RefundKind::Return {
                assert_eq!(
                    c.expected_total, refund.total,
                    "{name}: a refund's credit note must come to the refund total"
                );
            }
            if refund.kind == RefundKind::Cancellation {
                // What was credited before plus this note covers each line exactly once.
                for line in refund
                    .order
                    .lines
                    .iter()
                    .filter(|l| l.parent_line_id.is_none())
                {
                    let before: i64 = refund
                        .already_credited
                        .iter()
                        .filter(|(id, _)| *id == line.id)
                        .map(|(_, q)| q.digits)
                        .sum();
                    let now: i64 = c
                        .lines
                        .iter()
                        .filter(|l| l.bc_line_id == Some(line.id))
                        .map(|l| l.quantity.digits)
                        .sum();
                    assert_eq!(
                        before + now,
                        line.quantity.digits,
                        "{name}: line {} credited {before} + {now}",
                        line.id
                    );
                }
            }
        }
        FixtureCall::MapStock { ctx, levels } => {
            let Ok(m) = plugin.map_stock(ctx, tables, levels) else {
                return;
            };
            for a in &m.value {
                assert!(a.quantity >= 0, "{name}: negative stock");
                assert!(
                    a.product_id.is_some() != a.variant_id.is_some(),
                    "{name}: exactly one identifier"
                );
            }
            let untracked: Vec<_> = levels
                .iter()
                .filter(|l| l.tracking == InventoryTracking::None)
                .collect();
            for u in untracked {
                assert!(m.value.iter().all(|a| a.product_id != u.bc_product_id && a.variant_id != u.bc_variant_id), "{name}: untracked item synced");
            }
        }
        FixtureCall::MapItem { ctx, product } => {
            let Ok(m) = plugin.map_item(ctx, tables, product) else {
                return;
            };
            assert_eq!(m.value.number, product.sku, "{name}: item number");
        }
        FixtureCall::MapCustomer { ctx, order } => {
            let Ok(m) = plugin.map_customer(ctx, tables, order) else {
                return;
            };
            assert!(!m.value.name.is_empty(), "{name}: customer name");
        }
    }
}

#[test]
fn standard_plugin_matches_golden_files() {
    let plugin = plugin();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v != "0");
    let golden_dir = root().join("tests/golden");
    let mut mismatches = Vec::new();
    for f in fixtures() {
        let call = f
            .input()
            .unwrap_or_else(|e| panic!("fixture {}: {e}", f.name));
        let outcome = call
            .run(&plugin, &f.tables)
            .unwrap_or_else(|e| panic!("fixture {}: {e}", f.name));
        check_invariants(&f, &call, &plugin, &f.tables);
        let text = serde_json::to_string_pretty(&outcome).expect("json") + "\n";
        let path = golden_dir.join(format!("{}.json", f.name));
        if update {
            std::fs::write(&path, &text).expect("write golden");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(expected) if expected == text => {}
            Ok(_) => mismatches.push(format!(
                "{}: output differs from {}",
                f.name,
                path.display()
            )),
            Err(_) => mismatches.push(format!("{}: no golden file {}", f.name, path.display())),
        }
    }
    assert!(
        mismatches.is_empty(),
        "{}\n(after checking the new output by hand: UPDATE_GOLDEN=1 cargo test -p ledgerlink-runtime --test golden)",
        mismatches.join("\n")
    );
}

#[test]
fn missing_vat_mapping_is_reported_not_guessed() {
    let plugin = plugin();
    let f = Fixture::load(&root().join("tests/fixtures/order-missing-vat-mapping.json")).unwrap();
    match f.input().unwrap().run(&plugin, &f.tables).unwrap() {
        FixtureOutcome::MappingErrors(errors) => {
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(
                (errors[0].path.as_str(), errors[0].code.as_str()),
                ("lines[1].tax-class-id", "missing-vat-mapping")
            );
        }
        FixtureOutcome::Ok(v) => panic!("a document was made without a VAT mapping: {v}"),
    }
}

#[test]
fn every_fixture_maps_without_errors_except_the_error_fixture() {
    let plugin = plugin();
    for f in fixtures() {
        let outcome = f.input().unwrap().run(&plugin, &f.tables).unwrap();
        let is_error = matches!(outcome, FixtureOutcome::MappingErrors(_));
        assert_eq!(
            is_error,
            f.name.contains("missing"),
            "{}: {outcome:?}",
            f.name
        );
    }
}
