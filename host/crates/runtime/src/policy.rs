//! Which imports a plugin may have and whether it implements our world. Checked at load so a
//! plugin author gets a clear answer at upload, not a trap on the first order.

/// The world every mapping plugin implements.
pub const WORLD: &str = "ledgerlink:mapping/mapping-plugin@0.1.0";
/// The interface the plugin must export.
pub const MAPPER_EXPORT_PREFIX: &str = "ledgerlink:mapping/mapper@";
/// Our own import: `log` and `lookup`.
pub const HOST_IMPORT: &str = "ledgerlink:mapping/host@0.1.0";
/// The types-only interface a component imports because the mapper uses its records.
const TYPES_IMPORT: &str = "ledgerlink:mapping/types@0.1.0";

/// WASI 0.2 packages a Rust guest's standard library may import. All are linked, none grants
/// anything: no preopened directories, no environment, every socket address denied.
const WASI_PACKAGES: &[&str] = &[
    "wasi:io/",
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:filesystem/",
    "wasi:sockets/",
];

/// Whether the host links an import of this name.
pub fn import_allowed(name: &str) -> bool {
    if name == HOST_IMPORT || name == TYPES_IMPORT {
        return true;
    }
    WASI_PACKAGES.iter().any(|package| {
        name.strip_prefix(package)
            .and_then(|rest| rest.split_once('@'))
            .is_some_and(|(_, version)| version.starts_with("0.2."))
    })
}

/// The imports of `names` the host does not link, in order.
pub fn disallowed_imports<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    names
        .into_iter()
        .filter(|name| !import_allowed(name))
        .map(str::to_string)
        .collect()
}

/// The mapping contract version a component exports (`0.1.0`), if it exports a mapper at all.
pub fn wit_version<'a>(exports: impl IntoIterator<Item = &'a str>) -> Option<String> {
    exports
        .into_iter()
        .find_map(|name| name.strip_prefix(MAPPER_EXPORT_PREFIX))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasi_02_and_our_host_are_allowed() {
        for name in [
            "wasi:io/streams@0.2.6",
            "wasi:cli/environment@0.2.0",
            "wasi:filesystem/preopens@0.2.3",
            "wasi:sockets/tcp@0.2.6",
            "ledgerlink:mapping/host@0.1.0",
        ] {
            assert!(import_allowed(name), "{name} should be allowed");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        let refused = disallowed_imports([
            "wasi:io/streams@0.2.6",
            "wasi:http/outgoing-handler@0.2.6",
            "wasi:io/streams@0.3.0",
            "ledgerlink:mapping/host@0.2.0",
            "acme:secrets/vault",
            "wasi:cli",
        ]);
        assert_eq!(
            refused,
            [
                "wasi:http/outgoing-handler@0.2.6",
                "wasi:io/streams@0.3.0",
                "ledgerlink:mapping/host@0.2.0",
                "acme:secrets/vault",
                "wasi:cli",
            ]
        );
    }

    #[test]
    fn wit_version_comes_from_the_mapper_export() {
        assert_eq!(
            wit_version(["wasi:cli/run@0.2.0", "ledgerlink:mapping/mapper@0.1.0"]).as_deref(),
            Some("0.1.0")
        );
        assert_eq!(wit_version(["acme:other/mapper@0.1.0"]), None);
    }
}
