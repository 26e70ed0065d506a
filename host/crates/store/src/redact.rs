//! Secret redaction for everything written to the audit log: JSON bodies, form bodies, free
//! text, headers and URL query strings. Matching is by name: any key or header whose name
//! contains one of [`SECRET_MARKERS`] (case-insensitive) has its value replaced.

use serde_json::Value;
use std::borrow::Cow;

pub const REDACTED: &str = "[REDACTED]";

/// Name fragments that mark a value as secret.
pub const SECRET_MARKERS: &[&str] = &[
    "token",
    "password",
    "passwd",
    "secret",
    "authorization",
    "api_key",
    "apikey",
    "api-key",
    "cookie",
    "credential",
    "private_key",
];

/// Whether a key, header or parameter name names a secret.
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_MARKERS.iter().any(|m| lower.contains(m))
}

/// Replaces, in place and at any depth, the value of every secret-named key.
pub fn redact_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_secret_name(key) && !v.is_null() {
                    *v = Value::String(REDACTED.to_owned());
                } else {
                    redact_json(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

pub fn redact_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = if is_secret_name(name) {
                REDACTED.to_owned()
            } else {
                value.clone()
            };
            (name.clone(), value)
        })
        .collect()
}

/// Redacts secret-named query parameters (`?access_token=…`) and any user:password part.
pub fn redact_url(url: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let (path, query) = match base.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (base, None),
    };
    let mut out = redact_userinfo(path);
    if let Some(q) = query {
        out.push('?');
        out.push_str(&redact_pairs(q, '&'));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

fn redact_userinfo(path: &str) -> String {
    if let Some(scheme_end) = path.find("://") {
        let rest = &path[scheme_end + 3..];
        let authority_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            return format!(
                "{}{}@{}",
                &path[..scheme_end + 3],
                REDACTED,
                &rest[at + 1..]
            );
        }
    }
    path.to_owned()
}

fn redact_pairs(s: &str, sep: char) -> String {
    s.split(sep)
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_secret_name(k) => format!("{k}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(&sep.to_string())
}

/// Redacts a request or response body: JSON by key; anything else as text.
pub fn redact_body(body: &str) -> Cow<'_, str> {
    // Most bodies name no secret at all: those are kept as they are (not even copied),
    // without a parse and a re-serialisation. Text with `\u` escapes could spell a marker
    // the substring test misses, so it always takes the full path.
    if !may_name_secret(body) {
        return Cow::Borrowed(body);
    }
    Cow::Owned(match serde_json::from_str::<Value>(body) {
        Ok(mut v) if v.is_object() || v.is_array() => {
            redact_json(&mut v);
            v.to_string()
        }
        _ => redact_text(body),
    })
}

/// Whether `text` contains a secret marker or an auth scheme anywhere (case-insensitive), or
/// a `\u` escape that could hide one.
fn may_name_secret(text: &str) -> bool {
    if text.contains("\\u") {
        return true;
    }
    let lower = text.to_ascii_lowercase();
    SECRET_MARKERS
        .iter()
        .chain(["bearer", "basic"].iter())
        .any(|m| lower.contains(m))
}

/// Redacts free text (form bodies, error messages, truncated JSON): the value after any
/// secret-named key followed by `=` or `:`, and the credential after `Bearer ` / `Basic `.
pub fn redact_text(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    // Byte ranges to replace, found on the lowercase copy (same offsets: ASCII lowering).
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for marker in SECRET_MARKERS.iter().chain(["bearer", "basic"].iter()) {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(marker) {
            let start = from + pos;
            from = start + marker.len();
            let is_scheme = *marker == "bearer" || *marker == "basic";
            // Skip the rest of the key name (e.g. `access_token_v2`), then the separator.
            let mut i = from;
            if !is_scheme {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'-')
                {
                    i += 1;
                }
            }
            let mut j = i;
            while j < bytes.len() && (bytes[j] == b'"' || bytes[j] == b'\'' || bytes[j] == b' ') {
                j += 1;
            }
            if is_scheme {
                if j == i {
                    continue;
                }
            } else if j < bytes.len() && (bytes[j] == b'=' || bytes[j] == b':') {
                j += 1;
                while j < bytes.len() && (bytes[j] == b'"' || bytes[j] == b'\'' || bytes[j] == b' ')
                {
                    j += 1;
                }
            } else {
                continue;
            }
            let value_start = j;
            // `Authorization: Bearer x`: leave the scheme word, the scheme match redacts x.
            let rest = &lower[value_start..];
            if rest.starts_with("bearer ") || rest.starts_with("basic ") {
                continue;
            }
            let mut k = value_start;
            while k < bytes.len()
                && !matches!(
                    bytes[k],
                    b'"' | b'\'' | b'&' | b',' | b';' | b'}' | b' ' | b'\n' | b'\r' | b'\t'
                )
            {
                k += 1;
            }
            if k > value_start {
                ranges.push((value_start, k));
            }
        }
    }
    if ranges.is_empty() {
        return text.to_owned();
    }
    ranges.sort();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in ranges {
        if start < at {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(REDACTED);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_secrets_at_any_depth() {
        let mut v = json!({
            "access_token": "abc", "order": {"id": 5, "Client_Secret": "s3"},
            "list": [{"password": "pw"}, {"note": "token in text is fine"}],
            "refresh_token": null
        });
        redact_json(&mut v);
        assert_eq!(v["access_token"], REDACTED);
        assert_eq!(v["order"]["Client_Secret"], REDACTED);
        assert_eq!(v["order"]["id"], 5);
        assert_eq!(v["list"][0]["password"], REDACTED);
        assert_eq!(v["list"][1]["note"], "token in text is fine");
        assert!(v["refresh_token"].is_null());
    }

    #[test]
    fn headers_urls_and_text() {
        let h = redact_headers(&[
            ("Authorization".into(), "Bearer xyz".into()),
            ("X-Auth-Token".into(), "t0k".into()),
            ("Content-Type".into(), "application/json".into()),
        ]);
        assert_eq!(h[0].1, REDACTED);
        assert_eq!(h[1].1, REDACTED);
        assert_eq!(h[2].1, "application/json");
        assert_eq!(
            redact_url("https://u:p@h.example/a?limit=5&access_token=zz#f"),
            format!("https://{REDACTED}@h.example/a?limit=5&access_token={REDACTED}#f")
        );
        let form = redact_body("grant_type=client_credentials&client_secret=abc&scope=x");
        assert_eq!(
            form,
            format!("grant_type=client_credentials&client_secret={REDACTED}&scope=x")
        );
        let text = redact_text("failed: Authorization: Bearer eyJabc.def and password=hunter2, ok");
        assert!(
            !text.contains("eyJabc") && !text.contains("hunter2"),
            "{text}"
        );
        assert!(text.contains("failed:") && text.contains(", ok"));
        let truncated = redact_body(r#"{"order": 1, "api_key": "k-123", "tail": "#);
        assert!(!truncated.contains("k-123"), "{truncated}");
        assert_eq!(redact_text("nothing secret here"), "nothing secret here");
    }

    #[test]
    fn bodies_without_secrets_are_kept_verbatim_and_escaped_keys_still_redacted() {
        let plain = r#"{ "id": 5,  "lines": [{"sku": "A"}] }"#;
        assert_eq!(redact_body(plain), plain);
        // `\u0074oken` is `token`: the substring test cannot see it, the parse does.
        let escaped = redact_body(r#"{"access_\u0074oken": "abc", "id": 5}"#);
        assert!(!escaped.contains("abc"), "{escaped}");
        assert!(escaped.contains(REDACTED), "{escaped}");
        let upper = redact_body(r#"{"Client_SECRET": "s3"}"#);
        assert!(!upper.contains("s3"), "{upper}");
    }
}
