#!/usr/bin/env bash
# Builds every plugin crate under plugins/ as a wasm32-wasip2 component (release).
# Sourced by the other scripts; installs the target if this machine lacks it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi
packages=()
while IFS= read -r manifest; do
    name=$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -n 1)
    packages+=(-p "$name")
done < <(find plugins -name Cargo.toml -not -path '*/target/*' | sort)
cargo build --release --target wasm32-wasip2 "${packages[@]}"
