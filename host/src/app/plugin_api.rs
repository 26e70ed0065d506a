//! The admin API's plugin endpoints, backed by the running host's plugin registry:
//!
//! - `GET /api/plugins`: the version each legal entity maps with now, every registered version
//!   and the configured plugin names with their entities;
//! - `POST /api/plugins/activate`: `{"entity": "se", "version": "<sha256|prefix|name@version>"}`
//!   activates a registered version; `{"entity": "se", "path": "/srv/x.wasm"}` registers a
//!   component file on the host and activates it; `"name": "<configured plugin>"` instead of
//!   `"entity"` does either for every entity routed to that plugin. Optional `deadline_ms` and
//!   `memory_mib` (a new component otherwise keeps the entity's current limits);
//! - `POST /api/plugins/push?entity=se[&deadline_ms=…&memory_mib=…]`: the component itself as
//!   the request body;
//! - `POST /api/plugins/rollback`: `{"entity": "se"}`.
//!
//! A refused component (wrong WIT, malformed, a rebuilt one under a known version) is a 400
//! or 409 with the reason; the active version stays.

use super::{AdminState, ApiError, bad};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use ledgerlink_runtime::registry::DEFAULT_ENTITY;
use ledgerlink_runtime::{PluginLimits, PluginRegistry, RegistryError, VersionRecord};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Largest component the push endpoint takes (the standard plugin is ~300 KB).
const MAX_COMPONENT_BYTES: usize = 64 << 20;

pub(super) fn routes() -> Router<AdminState> {
    Router::new()
        .route("/api/plugins", get(list))
        .route("/api/plugins/activate", post(activate))
        .route("/api/plugins/rollback", post(rollback))
        .route(
            "/api/plugins/push",
            post(push).layer(DefaultBodyLimit::max(MAX_COMPONENT_BYTES)),
        )
}

fn registry_err(e: RegistryError) -> ApiError {
    let status = match &e {
        RegistryError::VersionConflict { .. } => StatusCode::CONFLICT,
        RegistryError::Refused(_)
        | RegistryError::UnknownVersion { .. }
        | RegistryError::AmbiguousVersion { .. }
        | RegistryError::NotBound { .. }
        | RegistryError::NoHistory { .. } => StatusCode::BAD_REQUEST,
        RegistryError::Io { .. }
        | RegistryError::Corrupt { .. }
        | RegistryError::StoredVersion { .. }
        | RegistryError::Watch { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status != StatusCode::INTERNAL_SERVER_ERROR {
        tracing::warn!(error = %e, "plugin change refused");
    }
    ApiError(status, e.to_string())
}

/// Registry work is blocking (a file lock, compiling a component): off the async workers.
async fn blocking<T: Send + 'static>(
    registry: &Arc<PluginRegistry>,
    f: impl FnOnce(&PluginRegistry) -> Result<T, RegistryError> + Send + 'static,
) -> Result<T, ApiError> {
    let registry = registry.clone();
    tokio::task::spawn_blocking(move || f(&registry))
        .await?
        .map_err(registry_err)
}

fn version_json(v: &VersionRecord) -> Value {
    json!({
        "plugin": v.name,
        "version": v.version,
        "sha256": v.sha256,
        "wit_version": v.wit_version,
        "added_at": v.added_at,
        "deadline_ms": v.limits.deadline.as_millis() as u64,
        "memory_mib": v.limits.memory_bytes >> 20,
    })
}

async fn list(State(st): State<AdminState>) -> Result<Json<Value>, ApiError> {
    let file = blocking(&st.plugins, |r| r.store().read()).await?;
    let entities: BTreeSet<String> = file
        .bindings
        .keys()
        .cloned()
        .chain(st.plugin_entities.values().flatten().cloned())
        .collect();
    // What the host really runs (the in-memory view), not only what registry.json says.
    let active: Vec<Value> = entities
        .iter()
        .map(|entity| {
            let live = st.plugins.plugin_for(entity);
            let bound_to = if file.bindings.contains_key(entity) {
                entity.as_str()
            } else {
                DEFAULT_ENTITY
            };
            let history: Vec<String> = file
                .bindings
                .get(entity)
                .map(|b| {
                    b.history
                        .iter()
                        .rev()
                        .map(|sha| file.version(sha).map(|v| v.label()).unwrap_or(sha.clone()))
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "entity": entity,
                "binding": bound_to,
                "plugin": live.as_ref().map(|p| p.name()),
                "version": live.as_ref().map(|p| p.version()),
                "sha256": live.as_ref().map(|p| p.sha256()),
                "rollback_to": history,
            })
        })
        .collect();
    let versions: Vec<Value> = file.versions.iter().map(version_json).collect();
    Ok(Json(json!({
        "plugins": active,
        "versions": versions,
        "configured": *st.plugin_entities,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivateBody {
    entity: Option<String>,
    /// A configured plugin name: every entity routed to it.
    name: Option<String>,
    version: Option<String>,
    path: Option<PathBuf>,
    deadline_ms: Option<u64>,
    memory_mib: Option<usize>,
}

impl AdminState {
    fn targets(&self, entity: Option<&str>, name: Option<&str>) -> Result<Vec<String>, ApiError> {
        match (entity, name) {
            (Some(e), None) if !e.trim().is_empty() => Ok(vec![e.to_owned()]),
            (None, Some(n)) => match self.plugin_entities.get(n) {
                Some(entities) if !entities.is_empty() => Ok(entities.clone()),
                Some(_) => Err(bad(format!(
                    "configured plugin {n:?} is named by no route; give an \"entity\""
                ))),
                None => Err(bad(format!(
                    "no configured plugin is named {n:?} (configured: {}); give an \"entity\"",
                    self.plugin_entities
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            },
            _ => Err(bad(
                "give exactly one of \"entity\" (a legal entity id, or \"*\") or \"name\" (a configured plugin)",
            )),
        }
    }
}

/// Limits for a new component: the ones given, else those of the version `entity` uses now.
fn limits_for(
    registry: &PluginRegistry,
    entity: &str,
    deadline_ms: Option<u64>,
    memory_mib: Option<usize>,
) -> Result<PluginLimits, RegistryError> {
    let current = registry
        .store()
        .read()?
        .active_for(entity)
        .map(|v| v.limits)
        .unwrap_or_default();
    Ok(PluginLimits {
        deadline: deadline_ms
            .map(Duration::from_millis)
            .unwrap_or(current.deadline),
        memory_bytes: memory_mib.map(|m| m << 20).unwrap_or(current.memory_bytes),
    })
}

/// Registers `bytes` for the first target and activates the same version for the others.
fn push_to(
    registry: &PluginRegistry,
    bytes: &[u8],
    targets: &[String],
    deadline_ms: Option<u64>,
    memory_mib: Option<usize>,
) -> Result<VersionRecord, RegistryError> {
    let (first, rest) = targets.split_first().expect("at least one target");
    let limits = limits_for(registry, first, deadline_ms, memory_mib)?;
    let record = registry.push(bytes, first, limits)?;
    for entity in rest {
        registry.activate(entity, &record.sha256)?;
    }
    Ok(record)
}

fn changed(record: &VersionRecord, targets: &[String]) -> Json<Value> {
    tracing::info!(plugin = %record.label(), entities = ?targets, "plugin version activated through the admin API");
    let mut v = version_json(record);
    v["entities"] = json!(targets);
    Json(v)
}

async fn activate(
    State(st): State<AdminState>,
    Json(body): Json<ActivateBody>,
) -> Result<Json<Value>, ApiError> {
    let targets = st.targets(body.entity.as_deref(), body.name.as_deref())?;
    let record = match (body.version, body.path) {
        (Some(selector), None) => {
            if body.deadline_ms.is_some() || body.memory_mib.is_some() {
                return Err(bad(
                    "limits go with a new component (\"path\"); a registered version keeps its own",
                ));
            }
            let t = targets.clone();
            blocking(&st.plugins, move |r| {
                let mut record = None;
                for entity in &t {
                    record = Some(r.activate(entity, &selector)?);
                }
                Ok(record.expect("at least one target"))
            })
            .await?
        }
        (None, Some(path)) => {
            let bytes = tokio::fs::read(&path)
                .await
                .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
            let t = targets.clone();
            let (deadline, memory) = (body.deadline_ms, body.memory_mib);
            blocking(&st.plugins, move |r| {
                push_to(r, &bytes, &t, deadline, memory)
            })
            .await?
        }
        _ => {
            return Err(bad(
                "give exactly one of \"version\" (a registered one: sha256, 8+ hex digit prefix or name@version) or \"path\" (a component file on the host)",
            ));
        }
    };
    Ok(changed(&record, &targets))
}

#[derive(Debug, Deserialize)]
struct PushQuery {
    entity: Option<String>,
    name: Option<String>,
    deadline_ms: Option<u64>,
    memory_mib: Option<usize>,
}

async fn push(
    State(st): State<AdminState>,
    Query(q): Query<PushQuery>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let targets = st.targets(q.entity.as_deref(), q.name.as_deref())?;
    if body.is_empty() {
        return Err(bad("the request body must be the component (.wasm)"));
    }
    let t = targets.clone();
    let record = blocking(&st.plugins, move |r| {
        push_to(r, &body, &t, q.deadline_ms, q.memory_mib)
    })
    .await?;
    Ok(changed(&record, &targets))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    entity: String,
}

async fn rollback(
    State(st): State<AdminState>,
    Json(body): Json<RollbackBody>,
) -> Result<Json<Value>, ApiError> {
    let entity = body.entity.clone();
    let record = blocking(&st.plugins, move |r| r.rollback(&entity)).await?;
    tracing::info!(entity = %body.entity, plugin = %record.label(), "plugin version rolled back through the admin API");
    let mut v = version_json(&record);
    v["entities"] = json!([body.entity]);
    Ok(Json(v))
}
