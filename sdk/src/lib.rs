//! Plugin SDK.
wit_bindgen::generate!({ path: "../wit", world: "mapping-plugin" });
