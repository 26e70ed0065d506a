//! OpenAPI contract validation for tests.
