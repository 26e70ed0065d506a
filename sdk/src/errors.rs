use crate::types::MappingError;

/// Collects every problem found in an input, so one call reports all of them.
///
/// Paths point into the input record with WIT (kebab-case) names, e.g. `lines[3].tax-class-id`
/// or `settings.rounding-account`; codes are stable kebab-case words such as
/// `missing-vat-mapping`.
#[derive(Debug, Default, Clone)]
pub struct Errors {
    list: Vec<MappingError>,
}

impl Errors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, path: impl Into<String>, code: &str, message: impl Into<String>) {
        self.list.push(MappingError {
            path: path.into(),
            code: code.to_owned(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn as_slice(&self) -> &[MappingError] {
        &self.list
    }

    /// `Ok(value)` when nothing was pushed, otherwise every error pushed.
    pub fn finish<T>(self, value: T) -> Result<T, Vec<MappingError>> {
        if self.list.is_empty() {
            Ok(value)
        } else {
            Err(self.list)
        }
    }

    /// `Err` with everything pushed so far (for when mapping cannot go on).
    pub fn into_vec(self) -> Vec<MappingError> {
        self.list
    }
}
