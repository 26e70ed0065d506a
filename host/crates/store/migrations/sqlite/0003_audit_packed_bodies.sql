-- Audit bodies packed (LZ4 against a fixed dictionary, see src/audit/codec.rs): a body is in
-- `<name>` as text or in `<name>_packed`, never both. Rows written before stay as they are.
ALTER TABLE audit_exchanges ADD COLUMN request_body_packed BLOB;
ALTER TABLE audit_exchanges ADD COLUMN response_body_packed BLOB;
