use crate::Errors;
use crate::types::Context;

/// The legal entity's posting rules (`context.settings`) by key.
///
/// Values that are present but invalid are reported through [`Errors`] with the path
/// `settings.<key>` and code `invalid-setting`, and the default is used so mapping can go on
/// collecting other problems.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    pairs: &'a [(String, String)],
}

impl<'a> Settings<'a> {
    pub fn new(pairs: &'a [(String, String)]) -> Self {
        Self { pairs }
    }

    pub fn of(ctx: &'a Context) -> Self {
        Self::new(&ctx.settings)
    }

    /// The trimmed value of `key`; an empty value counts as absent. The last pair wins.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn get_or(&self, key: &str, default: &'a str) -> &'a str {
        self.get(key).unwrap_or(default)
    }

    /// `true`/`false` (also `yes`/`no`, `1`/`0`).
    pub fn flag(&self, key: &str, default: bool, errors: &mut Errors) -> bool {
        match self.get(key).map(str::to_ascii_lowercase).as_deref() {
            None => default,
            Some("true" | "yes" | "1") => true,
            Some("false" | "no" | "0") => false,
            Some(other) => {
                errors.push(
                    format!("settings.{key}"),
                    "invalid-setting",
                    format!("setting {key} is {other:?}; expected true or false"),
                );
                default
            }
        }
    }

    /// One of `allowed` (case-insensitive, returned as spelled in `allowed`).
    pub fn choice(
        &self,
        key: &str,
        allowed: &[&'static str],
        default: &'static str,
        errors: &mut Errors,
    ) -> &'static str {
        match self.get(key) {
            None => default,
            Some(v) => match allowed.iter().find(|a| a.eq_ignore_ascii_case(v)) {
                Some(a) => a,
                None => {
                    errors.push(
                        format!("settings.{key}"),
                        "invalid-setting",
                        format!(
                            "setting {key} is {v:?}; expected one of {}",
                            allowed.join(", ")
                        ),
                    );
                    default
                }
            },
        }
    }

    /// A required value: absent → a `missing-setting` error naming the key and why it is needed.
    pub fn require(&self, key: &str, why: &str, errors: &mut Errors) -> Option<&'a str> {
        let v = self.get(key);
        if v.is_none() {
            errors.push(
                format!("settings.{key}"),
                "missing-setting",
                format!("setting {key} is required {why}"),
            );
        }
        v
    }
}
