//! A component with the wrong WIT: same package and interface names as the mapping contract,
//! different function signatures. Exists only so the host's refusal can be tested.

wit_bindgen::generate!({ path: "wit", world: "mapping-plugin" });

use exports::ledgerlink::mapping::mapper::{Guest, PluginInfo};

struct WrongWit;

impl Guest for WrongWit {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "wrong-wit".to_string(),
            version: "0.0.1".to_string(),
        }
    }

    fn map_order(order_json: String) -> Result<String, String> {
        Ok(order_json)
    }
}

export!(WrongWit);
