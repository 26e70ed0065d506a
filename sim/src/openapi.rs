//! OpenAPI 3.0 contract validation for tests.
//!
//! Loads one OpenAPI 3.0 document (YAML or JSON), converts its schemas to JSON Schema (draft 4,
//! the dialect OpenAPI 3.0 schemas extend) and validates response bodies against the schema the
//! document declares for `method path status`.
//!
//! Conversion rules (OpenAPI 3.0 → JSON Schema draft 4):
//! - `nullable: true` and the Swagger-2 marker `x-nullable: true` (BigCommerce NOTES §17.11) allow
//!   `null`: added to `type` (and to `enum`), or the schema is wrapped in `anyOf [schema, null]`
//!   when it has no `type` (e.g. a `$ref` or `allOf`).
//! - Local `$ref`s (`#/components/...`) are kept and resolved against the converted document.
//!   Non-local `$ref`s (absolute URLs into other repositories, e.g. BigCommerce's `company.yaml`)
//!   cannot be fetched offline and become `{}` (accept anything).
//! - `example`, `examples`, `x-*`, `xml`, `externalDocs`, `deprecated`, `discriminator` are
//!   annotations and are dropped. `discriminator` only narrows `oneOf`; without it the branch
//!   choice is still made by the branch schemas.
//! - `oneOf` becomes `anyOf`: the vendor specs rarely make branches mutually exclusive (no
//!   `additionalProperties: false`), so a valid body often matches two branches and a strict
//!   `oneOf` would reject it (BigCommerce NOTES §17.13 is one instance).
//! - `writeOnly` properties are removed from `required` (they never appear in responses);
//!   `readOnly` ones stay required as written, since responses must carry them.
//! - `format` is not validated: v2 BigCommerce dates are RFC-2822 strings under schemas that say
//!   `date-time`, and money "Float-As-String" fields carry mixed formats.
//!
//! Known spec defects fixed explicitly before conversion (see [`patch_known_defects`]).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use parking_lot::Mutex;
use serde_json::{Map, Value};

/// One loaded, converted OpenAPI document.
pub struct Spec {
    /// The whole document with every schema converted to JSON Schema; used as the root that
    /// `$ref`s resolve against.
    doc: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("title", &self.doc.pointer("/info/title"))
            .finish_non_exhaustive()
    }
}

impl Spec {
    /// Load a YAML or JSON OpenAPI 3.0 document.
    pub fn load(path: impl AsRef<Path>) -> anyhow::Result<Spec> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading OpenAPI file {}", path.display()))?;
        Self::from_text(&text).with_context(|| format!("loading OpenAPI file {}", path.display()))
    }

    /// Parse a YAML or JSON OpenAPI 3.0 document from text.
    pub fn from_text(text: &str) -> anyhow::Result<Spec> {
        // JSON is YAML, but YAML keys may be integers (response codes `200:`) that serde_json
        // maps cannot hold; go through the YAML value and stringify keys.
        let mut yaml: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(text).context("parsing YAML/JSON")?;
        yaml.apply_merge().context("applying YAML merge keys")?;
        let mut doc = yaml_to_json(yaml)?;
        if !doc
            .get("openapi")
            .and_then(Value::as_str)
            .is_some_and(|v| v.starts_with("3."))
        {
            bail!("not an OpenAPI 3.x document (no `openapi: 3.x` field)");
        }
        patch_known_defects(&mut doc);
        if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
            for (kind, section) in components.iter_mut() {
                let Some(section) = section.as_object_mut() else {
                    continue;
                };
                for (_, item) in section.iter_mut() {
                    match kind.as_str() {
                        "schemas" => convert_schema(item),
                        "responses" | "requestBodies" => convert_media_schemas(item),
                        "parameters" | "headers" => {
                            if let Some(s) = item.get_mut("schema") {
                                convert_schema(s);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
            for (_, item) in paths.iter_mut() {
                let Some(ops) = item.as_object_mut() else {
                    continue;
                };
                for (_, op) in ops.iter_mut() {
                    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut)
                    {
                        for (_, r) in responses.iter_mut() {
                            convert_media_schemas(r);
                        }
                    }
                    if let Some(body) = op.get_mut("requestBody") {
                        convert_media_schemas(body);
                    }
                }
            }
        }
        Ok(Spec {
            doc,
            validators: Mutex::new(HashMap::new()),
        })
    }

    /// Validate `body` against the schema of `method path_template status` (content
    /// `application/json`). Path parameters are matched by position, not name, so
    /// `/orders/{id}` finds `/orders/{order_id}`; a leading `/v2` or `/v3` is tolerated.
    /// A response declared without content accepts only an empty body (`Value::Null`).
    pub fn validate_response(
        &self,
        method: &str,
        path_template: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), Vec<String>> {
        let (path_key, _) = self
            .find_path(path_template)
            .ok_or_else(|| vec![format!("path {path_template} is not in the spec")])?;
        let method_l = method.to_ascii_lowercase();
        let op = self.doc["paths"][&path_key]
            .get(&method_l)
            .ok_or_else(|| vec![format!("{method} {path_key} is not in the spec")])?;
        let responses = &op["responses"];
        let code = status.to_string();
        let range = format!("{}XX", status / 100);
        let (code_key, response) = [code.as_str(), range.as_str(), "default"]
            .iter()
            .find_map(|k| responses.get(*k).map(|r| (k.to_string(), r)))
            .ok_or_else(|| vec![format!("{method} {path_key} declares no response {status}")])?;
        let response = self.deref(response).map_err(|e| vec![e])?;
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            return if body.is_null() {
                Ok(())
            } else {
                Err(vec![format!(
                    "{method} {path_key} {status} declares no body, got one"
                )])
            };
        };
        let media = content.get("application/json").or_else(|| {
            content
                .iter()
                .find(|(k, _)| k.contains("json"))
                .map(|(_, v)| v)
        });
        let Some(media) = media else {
            if body.is_null() {
                return Ok(());
            }
            return Err(vec![format!(
                "{method} {path_key} {status} declares no JSON content"
            )]);
        };
        if media.get("schema").is_none() {
            return Ok(());
        }
        // Build a pointer to the schema inside the converted document; responses reached via
        // `$ref` are validated at their component location.
        let base = match responses[&code_key].get("$ref").and_then(Value::as_str) {
            Some(r) => r.trim_start_matches('#').to_string(),
            None => format!(
                "/paths/{}/{}/responses/{}",
                escape_pointer(&path_key),
                method_l,
                escape_pointer(&code_key)
            ),
        };
        let media_key = if content.contains_key("application/json") {
            "application/json".to_string()
        } else {
            content
                .keys()
                .find(|k| k.contains("json"))
                .cloned()
                .unwrap_or_default()
        };
        let pointer = format!("{base}/content/{}/schema", escape_pointer(&media_key));
        self.validate_at(&pointer, body)
    }

    /// Validate `value` against `components/schemas/<schema_name>`.
    pub fn validate_schema(&self, schema_name: &str, value: &Value) -> Result<(), Vec<String>> {
        if self
            .doc
            .pointer(&format!(
                "/components/schemas/{}",
                escape_pointer(schema_name)
            ))
            .is_none()
        {
            return Err(vec![format!("schema {schema_name} is not in the spec")]);
        }
        self.validate_at(
            &format!("/components/schemas/{}", escape_pointer(schema_name)),
            value,
        )
    }

    /// Every path template in the document.
    pub fn paths(&self) -> Vec<String> {
        self.doc["paths"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn find_path(&self, template: &str) -> Option<(String, ())> {
        let paths = self.doc["paths"].as_object()?;
        let want = normalize_template(template);
        let stripped = ["/v2", "/v3"]
            .iter()
            .find_map(|p| template.strip_prefix(p))
            .map(normalize_template);
        paths
            .keys()
            .find(|k| {
                let n = normalize_template(k);
                n == want || Some(&n) == stripped.as_ref()
            })
            .map(|k| (k.clone(), ()))
    }

    fn deref<'a>(&'a self, mut v: &'a Value) -> Result<&'a Value, String> {
        for _ in 0..16 {
            match v.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let ptr = r
                        .strip_prefix('#')
                        .ok_or_else(|| format!("non-local $ref {r} cannot be followed"))?;
                    v = self
                        .doc
                        .pointer(ptr)
                        .ok_or_else(|| format!("dangling $ref {r}"))?;
                }
                None => return Ok(v),
            }
        }
        Err("$ref chain too deep".into())
    }

    fn validate_at(&self, pointer: &str, value: &Value) -> Result<(), Vec<String>> {
        let validator = self.validator(pointer).map_err(|e| vec![e])?;
        let errors: Vec<String> = validator
            .iter_errors(value)
            .map(|e| format!("at {}: {}", e.instance_path(), e))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn validator(&self, pointer: &str) -> Result<Arc<jsonschema::Validator>, String> {
        if let Some(v) = self.validators.lock().get(pointer) {
            return Ok(v.clone());
        }
        // The root carries the whole converted document so local `$ref`s resolve; in draft 4 a
        // `$ref` makes its siblings ignored, so only the referenced schema is applied.
        let mut root = self.doc.clone();
        let obj = root.as_object_mut().expect("document is an object");
        obj.insert(
            "$ref".into(),
            Value::String(format!("#{}", percent_encode_fragment(pointer))),
        );
        obj.remove("$schema");
        obj.remove("id");
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(false)
            .build(&root)
            .map_err(|e| format!("building validator for {pointer}: {e}"))?;
        let validator = Arc::new(validator);
        self.validators
            .lock()
            .insert(pointer.to_string(), validator.clone());
        Ok(validator)
    }
}

/// Spec defects that would make correct bodies fail, fixed here on purpose.
fn patch_known_defects(doc: &mut Value) {
    // BigCommerce NOTES §17.12: `webhooks_Resp.data` (GET /v3/hooks) has `minItems: 1`, which a
    // store without hooks cannot satisfy; an empty list is the correct answer.
    if let Some(data) = doc.pointer_mut(
        "/components/responses/webhooks_Resp/content/application~1json/schema/properties/data",
    ) && let Some(o) = data.as_object_mut()
    {
        o.remove("minItems");
    }
}

fn escape_pointer(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Percent-encode a JSON pointer for use as a URI fragment (`{`/`}` in path templates are not
/// legal URI characters).
fn percent_encode_fragment(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len());
    for b in pointer.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn normalize_template(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut in_param = false;
    for c in t.trim_end_matches('/').chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

fn yaml_to_json(v: serde_yaml_ng::Value) -> anyhow::Result<Value> {
    use serde_yaml_ng::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                serde_json::Number::from_f64(n.as_f64().unwrap_or(0.0))
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(seq) => Value::Array(
            seq.into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".into(),
                    other => bail!("unsupported YAML key {other:?}"),
                };
                out.insert(key, yaml_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => yaml_to_json(t.value)?,
    })
}

/// Convert the `schema` of every media type under `content` of a response or request body.
fn convert_media_schemas(v: &mut Value) {
    if let Some(content) = v.get_mut("content").and_then(Value::as_object_mut) {
        for (_, media) in content.iter_mut() {
            if let Some(s) = media.get_mut("schema") {
                convert_schema(s);
            }
        }
    }
}

/// Convert one OpenAPI 3.0 schema object (recursively) to JSON Schema draft 4 in place.
fn convert_schema(v: &mut Value) {
    let Some(obj) = v.as_object_mut() else { return };

    if let Some(r) = obj.get("$ref").and_then(Value::as_str)
        && !r.starts_with('#')
    {
        // External reference that cannot be resolved offline: accept anything.
        obj.clear();
        return;
    }

    obj.retain(|k, _| {
        let vendor_extension = k.starts_with("x-") && k != "x-nullable";
        let annotation = matches!(
            k.as_str(),
            "example" | "examples" | "xml" | "externalDocs" | "deprecated" | "discriminator"
        );
        !vendor_extension && !annotation
    });

    if let Some(one_of) = obj.remove("oneOf") {
        match obj.get_mut("anyOf") {
            // Both present: keep both constraints.
            Some(_) => {
                let existing = obj.remove("allOf");
                let mut all = match existing {
                    Some(Value::Array(a)) => a,
                    _ => Vec::new(),
                };
                all.push(serde_json::json!({ "anyOf": one_of }));
                obj.insert("allOf".into(), Value::Array(all));
            }
            None => {
                obj.insert("anyOf".into(), one_of);
            }
        }
    }

    // Recurse into subschemas.
    for key in ["items", "additionalProperties", "not"] {
        if let Some(s) = obj.get_mut(key) {
            convert_schema(s);
        }
    }
    for key in ["allOf", "anyOf"] {
        if let Some(Value::Array(items)) = obj.get_mut(key) {
            items.iter_mut().for_each(convert_schema);
        }
    }
    let mut write_only = Vec::new();
    if let Some(Value::Object(props)) = obj.get_mut("properties") {
        for (name, s) in props.iter_mut() {
            if s.get("writeOnly").and_then(Value::as_bool) == Some(true) {
                write_only.push(name.clone());
            }
            convert_schema(s);
        }
    }
    if !write_only.is_empty()
        && let Some(Value::Array(req)) = obj.get_mut("required")
    {
        req.retain(|r| {
            r.as_str()
                .is_none_or(|r| !write_only.iter().any(|w| w == r))
        });
    }
    // A `required: []` is invalid in draft 4.
    if obj
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        obj.remove("required");
    }
    obj.remove("readOnly");
    obj.remove("writeOnly");

    let nullable = obj
        .remove("nullable")
        .and_then(|n| n.as_bool())
        .unwrap_or(false)
        | obj
            .remove("x-nullable")
            .and_then(|n| n.as_bool())
            .unwrap_or(false);
    if nullable {
        match obj.get_mut("type") {
            Some(Value::String(t)) => {
                let t = t.clone();
                obj.insert("type".into(), serde_json::json!([t, "null"]));
                if let Some(Value::Array(e)) = obj.get_mut("enum")
                    && !e.contains(&Value::Null)
                {
                    e.push(Value::Null);
                }
            }
            Some(Value::Array(ts)) => {
                if !ts.contains(&Value::from("null")) {
                    ts.push(Value::from("null"));
                }
            }
            _ => {
                let inner = std::mem::take(obj);
                obj.insert(
                    "anyOf".into(),
                    serde_json::json!([Value::Object(inner), { "type": "null" }]),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DOC: &str = r##"
openapi: 3.0.0
info: {title: t, version: "1"}
paths:
  /orders/{order_id}:
    get:
      responses:
        200:
          description: ok
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Order'
        '204':
          description: none
  /things:
    get:
      responses:
        '200':
          $ref: '#/components/responses/Things'
components:
  responses:
    Things:
      description: list
      content:
        application/json:
          schema:
            type: object
            properties:
              data:
                type: array
                items: {$ref: '#/components/schemas/Thing'}
  schemas:
    Order:
      type: object
      required: [id, status]
      properties:
        id: {type: integer, example: 3}
        status: {type: string, enum: [a, b], nullable: true}
        price: {type: number, x-nullable: true}
        secret: {type: string, writeOnly: true}
        date: {type: string, format: date-time}
        owner:
          $ref: '#/components/schemas/Thing'
          nullable: true
        external: {$ref: 'https://example.invalid/x.yaml'}
    Thing:
      type: object
      required: [name, secret]
      properties:
        name: {type: string}
        secret: {type: string, writeOnly: true}
        kind:
          oneOf:
            - {type: object, properties: {a: {type: string}}}
            - {type: object, properties: {b: {type: string}}}
          discriminator: {propertyName: a}
"##;

    #[test]
    fn valid_body_passes_and_nullables_accept_null() {
        let spec = Spec::from_text(DOC).unwrap();
        let body = json!({"id": 1, "status": null, "price": null, "date": "Tue, 05 Mar 2019 21:40:11 +0000",
                          "owner": null, "external": [1, 2]});
        spec.validate_response("GET", "/orders/{id}", 200, &body)
            .unwrap();
        spec.validate_response("get", "/v2/orders/{x}", 200, &body)
            .unwrap();
    }

    #[test]
    fn wrong_types_missing_required_and_bad_enum_fail() {
        let spec = Spec::from_text(DOC).unwrap();
        let errs = spec
            .validate_response(
                "GET",
                "/orders/{id}",
                200,
                &json!({"id": "1", "status": "z"}),
            )
            .unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        let errs = spec
            .validate_schema("Order", &json!({"id": 1}))
            .unwrap_err();
        assert!(errs[0].contains("status"), "{errs:?}");
        assert!(
            spec.validate_schema(
                "Order",
                &json!({"id": 1, "status": "a", "owner": {"name": 5}})
            )
            .is_err()
        );
    }

    #[test]
    fn response_refs_write_only_and_one_of_overlap() {
        let spec = Spec::from_text(DOC).unwrap();
        // `secret` is writeOnly so not required in a response; `kind` matches both oneOf branches.
        let body = json!({"data": [{"name": "n", "kind": {}}]});
        spec.validate_response("GET", "/things", 200, &body)
            .unwrap();
        assert!(
            spec.validate_response("GET", "/things", 200, &json!({"data": [{}]}))
                .is_err()
        );
    }

    #[test]
    fn bodiless_responses_and_unknown_operations() {
        let spec = Spec::from_text(DOC).unwrap();
        spec.validate_response("GET", "/orders/{id}", 204, &Value::Null)
            .unwrap();
        assert!(
            spec.validate_response("GET", "/orders/{id}", 204, &json!({}))
                .is_err()
        );
        assert!(
            spec.validate_response("GET", "/orders/{id}", 500, &json!({}))
                .is_err()
        );
        assert!(
            spec.validate_response("POST", "/orders/{id}", 200, &json!({}))
                .is_err()
        );
        assert!(
            spec.validate_response("GET", "/nope", 200, &json!({}))
                .is_err()
        );
        assert!(spec.validate_schema("Nope", &json!({})).is_err());
        assert!(Spec::from_text("swagger: '2.0'").is_err());
    }
}
