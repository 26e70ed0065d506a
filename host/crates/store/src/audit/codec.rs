//! How audit bodies are packed on disk. Most of what the audit writes is JSON bodies (the
//! order as fetched, the Visma document as sent and as answered): stored as text they were
//! ~7.5 kB per synced order, most of the database's growth and of SQLite's page writes.
//!
//! A packed body is `[codec][uncompressed length: u32 LE][LZ4 block]`. The LZ4 block is
//! compressed against a fixed dictionary of the documents' shapes (their keys and usual
//! values), which is where the gain is: a single small JSON body has few repeats of its own
//! (plain LZ4: ~40 % smaller), but nearly all of its keys are in the dictionary (~85 %).
//! LZ4 because it costs a few microseconds per body where deflate or zstd cost tens, and
//! `lz4_flex` is pure Rust with no dependencies of its own.
//!
//! Codecs are never changed once released: rows packed with one stay readable only through
//! the same bytes, so a new dictionary is a new codec number (the old one kept for reading).

/// LZ4 block against [`DICTIONARY_V1`].
const CODEC_LZ4_DICT_V1: u8 = 1;

/// The shapes the audit stores most: BigCommerce v2 orders, their lines and addresses, v3
/// metafields; Visma customer invoices and credit notes as sent and as answered. Frozen
/// (a test pins its digest).
pub(crate) const DICTIONARY_V1: &[u8] = include_bytes!("body_dictionary_v1.txt");

/// Bodies shorter than this are kept as text: the few bytes saved are not worth a column
/// a person can no longer read with `sqlite3` or `psql`.
pub(crate) const MIN_PACKED_LEN: usize = 128;

/// Larger than any body the audit stores (those are capped before packing), so a corrupt
/// length cannot make a read allocate gigabytes.
const MAX_UNPACKED_LEN: usize = 4 * 1024 * 1024;

const HEADER_LEN: usize = 5;

/// `text` packed, or `None` when it is short or does not compress (then it is stored as
/// text, as before).
pub(crate) fn pack(text: &str) -> Option<Vec<u8>> {
    let input = text.as_bytes();
    if input.len() < MIN_PACKED_LEN || input.len() > MAX_UNPACKED_LEN {
        return None;
    }
    let mut out = vec![0u8; HEADER_LEN + lz4_flex::block::get_maximum_output_size(input.len())];
    out[0] = CODEC_LZ4_DICT_V1;
    out[1..HEADER_LEN].copy_from_slice(&(input.len() as u32).to_le_bytes());
    let n = lz4_flex::block::compress_into_with_dict(input, &mut out[HEADER_LEN..], DICTIONARY_V1)
        .ok()?;
    // Worth a binary column only if it saves at least an eighth.
    if HEADER_LEN + n > input.len() - input.len() / 8 {
        return None;
    }
    out.truncate(HEADER_LEN + n);
    Some(out)
}

/// Why a packed body could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum UnpackError {
    #[error("packed body shorter than its header")]
    Truncated,
    #[error("packed body with unknown codec {0}")]
    UnknownCodec(u8),
    #[error("packed body claims {0} bytes")]
    TooLarge(usize),
    #[error("packed body does not decompress: {0}")]
    Lz4(String),
    #[error("packed body of {expected} bytes unpacked to {got}")]
    LengthMismatch { expected: usize, got: usize },
    #[error("packed body is not UTF-8")]
    NotUtf8,
}

/// The text of a body [`pack`] made.
pub(crate) fn unpack(packed: &[u8]) -> Result<String, UnpackError> {
    if packed.len() < HEADER_LEN {
        return Err(UnpackError::Truncated);
    }
    let codec = packed[0];
    if codec != CODEC_LZ4_DICT_V1 {
        return Err(UnpackError::UnknownCodec(codec));
    }
    let len = u32::from_le_bytes(packed[1..HEADER_LEN].try_into().expect("4 bytes")) as usize;
    if len > MAX_UNPACKED_LEN {
        return Err(UnpackError::TooLarge(len));
    }
    let mut out = vec![0u8; len];
    let got =
        lz4_flex::block::decompress_into_with_dict(&packed[HEADER_LEN..], &mut out, DICTIONARY_V1)
            .map_err(|e| UnpackError::Lz4(e.to_string()))?;
    if got != len {
        return Err(UnpackError::LengthMismatch { expected: len, got });
    }
    String::from_utf8(out).map_err(|_| UnpackError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    const ORDER: &str = r#"{"id":4711,"customer_id":12,"date_created":"Tue, 05 Mar 2024 10:11:12 +0000","status_id":11,"status":"Awaiting Fulfillment","subtotal_ex_tax":"80.0000","subtotal_inc_tax":"100.0000","total_inc_tax":"100.0000","currency_code":"EUR","billing_address":{"first_name":"Åsa","last_name":"Öberg","city":"Malmö","country_iso2":"SE","email":"asa@example.com"},"staff_notes":"","is_deleted":false}"#;

    #[test]
    fn dictionary_is_frozen() {
        // Rows packed with codec 1 are readable only with these exact bytes: a change here
        // is a new codec, never an edit.
        assert_eq!(
            hex::encode(Sha256::digest(DICTIONARY_V1)),
            "7d164e06ee539159dd97db0960b52abec306a7d42b5c9933e3914e1c97a42abe"
        );
    }

    #[test]
    fn round_trip_keeps_every_byte() {
        let packed = pack(ORDER).expect("an order compresses");
        assert!(packed.len() < ORDER.len() / 2, "{} bytes", packed.len());
        assert_eq!(packed[0], CODEC_LZ4_DICT_V1);
        assert_eq!(unpack(&packed).unwrap(), ORDER);

        // Not JSON, not in the dictionary, repetitive: still exact.
        let text = "grant_type=client_credentials&scope=x ".repeat(50);
        assert_eq!(unpack(&pack(&text).unwrap()).unwrap(), text);
    }

    #[test]
    fn short_or_incompressible_bodies_stay_text() {
        assert_eq!(pack(r#"{"staff_notes":"Visma invoice 100393"}"#), None);
        assert_eq!(pack(""), None);
        // Random-looking text (a hex digest chain) has no repeats for LZ4 to find.
        let mut noise = String::new();
        let mut h = Sha256::digest(b"seed");
        while noise.len() < 1024 {
            noise.push_str(&hex::encode(h));
            h = Sha256::digest(h);
        }
        assert_eq!(pack(&noise), None);
    }

    #[test]
    fn damaged_packed_bodies_are_errors_not_panics() {
        let packed = pack(ORDER).unwrap();
        assert_eq!(unpack(&packed[..3]), Err(UnpackError::Truncated));
        let mut other = packed.clone();
        other[0] = 9;
        assert_eq!(unpack(&other), Err(UnpackError::UnknownCodec(9)));
        let mut huge = packed.clone();
        huge[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(unpack(&huge), Err(UnpackError::TooLarge(_))));
        let mut short = packed.clone();
        short[1..5].copy_from_slice(&((ORDER.len() - 10) as u32).to_le_bytes());
        assert!(unpack(&short).is_err());
        let mut long = packed.clone();
        long[1..5].copy_from_slice(&((ORDER.len() + 10) as u32).to_le_bytes());
        assert!(unpack(&long).is_err());
        let cut = &packed[..packed.len() - 7];
        assert!(unpack(cut).is_err());
    }
}
