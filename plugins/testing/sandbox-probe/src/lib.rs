//! A plugin that misbehaves on request, to prove the host's sandbox: the context setting
//! `probe` chooses what `map-order` does (`normal`, `loop`, `alloc`, `file`, `env`, `socket`,
//! `panic`, `busy:<ms>`); `probe-target` gives the file path, env var name or `host:port` to
//! try. Attempts that the sandbox blocks come back as mapping errors with code `denied` and the
//! guest's own error text; anything that got through comes back as code `escaped`.

wit_bindgen::generate!({ path: "../../../wit", world: "mapping-plugin" });

mod normal;

use exports::ledgerlink::mapping::mapper::Guest;
use ledgerlink::mapping::types::*;

const NAME: &str = "sandbox-probe";
const VERSION: &str = "1.0.0";

struct Probe;

fn setting<'a>(ctx: &'a Context, key: &str) -> &'a str {
    ctx.settings
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn outcome(code: &str, message: String) -> Vec<MappingError> {
    vec![MappingError {
        path: "probe".to_string(),
        code: code.to_string(),
        message,
    }]
}

fn misbehave(ctx: &Context) -> Result<(), Vec<MappingError>> {
    let target = setting(ctx, "probe-target");
    match setting(ctx, "probe") {
        "" | "normal" => Ok(()),
        "loop" => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "alloc" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                // Touch every page so the memory is really used, not just reserved.
                hoard.push(vec![0xA5; 1 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        "file" => match std::fs::read_to_string(target) {
            Ok(text) => Err(outcome("escaped", text)),
            Err(e) => Err(outcome("denied", format!("open {target}: {e}"))),
        },
        "env" => {
            let all: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
            match std::env::var(target) {
                Ok(value) => Err(outcome("escaped", value)),
                Err(e) if all.is_empty() => Err(outcome("denied", format!("env {target}: {e}"))),
                Err(_) => Err(outcome("escaped", all.join(","))),
            }
        }
        "socket" => match std::net::TcpStream::connect(target) {
            Ok(_) => Err(outcome("escaped", format!("connected to {target}"))),
            Err(e) => Err(outcome("denied", format!("connect {target}: {e}"))),
        },
        "panic" => panic!("sandbox-probe: deliberate panic for order mapping"),
        other => {
            if let Some(ms) = other.strip_prefix("busy:") {
                let ms: u64 = ms.parse().unwrap_or(0);
                let start = std::time::Instant::now();
                while start.elapsed() < std::time::Duration::from_millis(ms) {
                    std::hint::spin_loop();
                }
                Ok(())
            } else {
                Err(outcome("unknown-probe", format!("unknown probe {other:?}")))
            }
        }
    }
}

impl Guest for Probe {
    fn info() -> PluginInfo {
        PluginInfo {
            name: NAME.to_string(),
            version: VERSION.to_string(),
        }
    }

    fn map_customer(ctx: Context, order: Order) -> Result<VismaCustomer, Vec<MappingError>> {
        misbehave(&ctx)?;
        normal::map_customer(&ctx, &order)
    }

    fn map_order(
        ctx: Context,
        order: Order,
        _shipment: Option<Shipment>,
    ) -> Result<SalesDocument, Vec<MappingError>> {
        misbehave(&ctx)?;
        normal::map_order(&ctx, &order, &format!("{NAME} {VERSION}"))
    }

    fn map_credit_note(ctx: Context, refund: Refund) -> Result<CreditNote, Vec<MappingError>> {
        misbehave(&ctx)?;
        normal::map_credit_note(&ctx, &refund, &format!("{NAME} {VERSION}"))
    }

    fn map_item(ctx: Context, product: Product) -> Result<InventoryItem, Vec<MappingError>> {
        misbehave(&ctx)?;
        normal::map_item(&ctx, &product)
    }

    fn map_stock(
        ctx: Context,
        levels: Vec<StockLevel>,
    ) -> Result<Vec<BcInventoryAdjustment>, Vec<MappingError>> {
        misbehave(&ctx)?;
        normal::map_stock(&ctx, &levels)
    }
}

export!(Probe);
