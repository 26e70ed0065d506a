//! The production configuration: a TOML file (see `examples/ledgerlink.toml`) plus
//! environment variables for every secret. A secret is given as `<name>_env = "VAR"`; the
//! variable must be set when the host starts. Literal secrets (`<name> = "..."`) are accepted
//! too, for local set-ups such as the sandbox.

use anyhow::{Context, bail};
use ledgerlink_core::LegalEntityId;
use ledgerlink_engine::flows::{EntitySettings, PostingRules, RouteRule, Routing};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub host: HostSection,
    #[serde(default)]
    pub stores: Vec<StoreSection>,
    #[serde(default)]
    pub entities: Vec<EntitySection>,
    #[serde(default)]
    pub plugins: Vec<PluginSection>,
    #[serde(default)]
    pub routes: Vec<RouteRule>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSection {
    /// The SQLite database (unless `database_url` names PostgreSQL), the plugin registry and
    /// the compiled-plugin cache live here.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// A PostgreSQL database (`postgres://user:password@host:5432/dbname`) instead of the
    /// embedded SQLite file, e.g. for several hosts on one database. It holds a password, so
    /// give it as `database_url_env = "LEDGERLINK_DATABASE_URL"`; the literal form is for
    /// local use. Neither set: SQLite at `<data_dir>/ledgerlink.sqlite`.
    #[serde(default)]
    pub database_url: Option<String>,
    #[serde(default)]
    pub database_url_env: Option<String>,
    /// Admin API and webhook receiver.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The URL BigCommerce reaches the receiver at (hooks point at `<public_url>/webhooks/bigcommerce`).
    pub public_url: Option<String>,
    pub admin_token: Option<String>,
    pub admin_token_env: Option<String>,
    #[serde(default = "default_workers")]
    pub workers: usize,
    /// Order poller (backstop for missed webhooks); 0 turns it off.
    #[serde(default = "default_poll")]
    pub poll_interval_secs: u64,
    /// Stock deltas from Visma; 0 turns it off.
    #[serde(default = "default_stock")]
    pub stock_interval_secs: u64,
    /// Payment status read-back; 0 turns it off.
    #[serde(default)]
    pub payment_interval_secs: u64,
}

/// The SQLite database's file name in the data dir.
pub const SQLITE_FILE: &str = "ledgerlink.sqlite";

fn default_data_dir() -> PathBuf {
    PathBuf::from("./ledgerlink-data")
}
fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7300))
}
fn default_workers() -> usize {
    8
}
fn default_poll() -> u64 {
    60
}
fn default_stock() -> u64 {
    60
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    pub hash: String,
    /// `https://api.bigcommerce.com/stores/<hash>`.
    pub base_url: String,
    pub auth_token: Option<String>,
    pub auth_token_env: Option<String>,
    pub webhook_secret: Option<String>,
    pub webhook_secret_env: Option<String>,
    #[serde(default = "yes")]
    pub register_hooks: bool,
    /// Visma entity whose stock feeds this store, if any.
    pub stock_from: Option<LegalEntityId>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntitySection {
    pub id: LegalEntityId,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub client_secret_env: Option<String>,
    pub token_url: String,
    pub erp_base_url: String,
    pub salesorder_base_url: Option<String>,
    #[serde(default)]
    pub scope: String,
    pub base_currency: String,
    pub branch: Option<String>,
    #[serde(default)]
    pub posting: PostingRules,
    #[serde(default)]
    pub tables: BTreeMap<String, BTreeMap<String, String>>,
}

/// A mapping plugin the host registers at start. Its component is pushed into the plugin
/// registry under the data dir (`<data_dir>/plugins/`) and bound to every legal entity whose
/// routes name it; later versions arrive through `ledgerlink plugin push`, the watched
/// `<data_dir>/plugins/incoming/` directory or the admin API, without a restart.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSection {
    /// What routes call it.
    pub name: String,
    pub path: PathBuf,
    /// Per-call deadline; the registered version's (default 50 ms) when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    /// Per-call memory cap; the registered version's (default 64 MiB) when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mib: Option<usize>,
}

impl PluginSection {
    /// The configured limits, filled from the defaults where only one is given; `None` keeps
    /// the registered version's.
    pub fn limits(&self) -> Option<ledgerlink_runtime::PluginLimits> {
        if self.deadline_ms.is_none() && self.memory_mib.is_none() {
            return None;
        }
        let defaults = ledgerlink_runtime::PluginLimits::default();
        Some(ledgerlink_runtime::PluginLimits {
            deadline: self
                .deadline_ms
                .map(std::time::Duration::from_millis)
                .unwrap_or(defaults.deadline),
            memory_bytes: self
                .memory_mib
                .map(|m| m << 20)
                .unwrap_or(defaults.memory_bytes),
        })
    }
}

fn secret(what: &str, literal: &Option<String>, env: &Option<String>) -> anyhow::Result<String> {
    if let Some(var) = env {
        return std::env::var(var)
            .with_context(|| format!("{what}: environment variable {var} is not set"));
    }
    match literal {
        Some(v) if !v.is_empty() => Ok(v.clone()),
        _ => bail!("{what}: set `{what}_env = \"VAR\"` (or `{what}` for local use)"),
    }
}

impl Config {
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in config {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Config> {
        let cfg: Config = toml::from_str(text)?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        for (i, p) in self.plugins.iter().enumerate() {
            if self.plugins[..i].iter().any(|q| q.name == p.name) {
                bail!("plugin {:?} is configured twice under [[plugins]]", p.name);
            }
            if p.deadline_ms == Some(0) || p.memory_mib == Some(0) {
                bail!(
                    "plugin {:?}: deadline_ms and memory_mib must be above 0",
                    p.name
                );
            }
        }
        for r in &self.routes {
            if !self.entities.iter().any(|e| e.id == r.entity) {
                bail!(
                    "route to entity {:?}, which is not under [[entities]]",
                    r.entity.as_str()
                );
            }
            if !self.plugins.iter().any(|p| p.name == r.plugin) {
                bail!(
                    "route uses plugin {:?}, which is not under [[plugins]]",
                    r.plugin
                );
            }
            // The plugin registry binds one version per legal entity.
            if let Some(other) = self
                .routes
                .iter()
                .find(|o| o.entity == r.entity && o.plugin != r.plugin)
            {
                bail!(
                    "legal entity {:?} is routed to plugin {:?} and to plugin {:?}; an entity maps \
                     with one plugin, so name the same one in all its routes",
                    r.entity.as_str(),
                    r.plugin,
                    other.plugin
                );
            }
            if let Some(s) = &r.store
                && !self.stores.iter().any(|x| &x.hash == s)
            {
                bail!("route names store {s:?}, which is not under [[stores]]");
            }
        }
        Ok(())
    }

    /// Configured plugin name → the legal entities whose routes name it.
    pub fn plugin_entities(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = self
            .plugins
            .iter()
            .map(|p| (p.name.clone(), Vec::new()))
            .collect();
        for r in &self.routes {
            let entities = out.entry(r.plugin.clone()).or_default();
            if !entities.iter().any(|e| e == r.entity.as_str()) {
                entities.push(r.entity.as_str().to_owned());
            }
        }
        out
    }

    /// Where the store is: the PostgreSQL URL when `database_url(_env)` is set, else the
    /// SQLite file in the data dir. Pass it to `Store::open`.
    pub fn database(&self) -> anyhow::Result<PathBuf> {
        let host = &self.host;
        if host.database_url.is_none() && host.database_url_env.is_none() {
            return Ok(host.data_dir.join(SQLITE_FILE));
        }
        let url = secret("database_url", &host.database_url, &host.database_url_env)?;
        if !ledgerlink_store::is_postgres_url(&url) {
            bail!(
                "database_url: expected a postgres:// or postgresql:// URL (leave it unset for \
                 SQLite in the data dir), got one starting {:?}",
                url.split("://").next().unwrap_or_default()
            );
        }
        Ok(PathBuf::from(url))
    }

    pub fn admin_token(&self) -> anyhow::Result<String> {
        secret(
            "admin_token",
            &self.host.admin_token,
            &self.host.admin_token_env,
        )
    }

    pub fn routing(&self) -> Routing {
        Routing {
            rules: self.routes.clone(),
            entities: self
                .entities
                .iter()
                .map(|e| {
                    (
                        e.id.clone(),
                        EntitySettings {
                            id: e.id.clone(),
                            base_currency: e.base_currency.clone(),
                            branch: e.branch.clone(),
                            posting: e.posting.clone(),
                            tables: e.tables.clone(),
                        },
                    )
                })
                .collect(),
        }
    }
}

impl StoreSection {
    pub fn auth_token(&self) -> anyhow::Result<String> {
        secret("auth_token", &self.auth_token, &self.auth_token_env)
            .with_context(|| format!("store {}", self.hash))
    }
    pub fn webhook_secret(&self) -> anyhow::Result<String> {
        secret(
            "webhook_secret",
            &self.webhook_secret,
            &self.webhook_secret_env,
        )
        .with_context(|| format!("store {}", self.hash))
    }
}

impl EntitySection {
    pub fn client_secret(&self) -> anyhow::Result<String> {
        secret(
            "client_secret",
            &self.client_secret,
            &self.client_secret_env,
        )
        .with_context(|| format!("entity {}", self.id.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses_and_routes() {
        let text = include_str!("../../examples/ledgerlink.toml");
        let cfg = Config::parse(text).expect("example parses");
        let routing = cfg.routing();
        assert!(routing.route("ledgerlink01", 1, "SEK").is_some());
    }

    #[test]
    fn unknown_plugin_in_route_is_refused() {
        let text = r#"
[host]
[[entities]]
id = "se"
tenant_id = "t"
client_id = "c"
token_url = "http://x"
erp_base_url = "http://x"
base_currency = "SEK"
[[routes]]
entity = "se"
plugin = "nope"
"#;
        let e = Config::parse(text).unwrap_err();
        assert!(format!("{e:#}").contains("nope"), "{e:#}");
    }

    const TWO_ENTITIES: &str = r#"
[host]
[[entities]]
id = "se"
tenant_id = "t"
client_id = "c"
token_url = "http://x"
erp_base_url = "http://x"
base_currency = "SEK"
[[entities]]
id = "fi"
tenant_id = "t2"
client_id = "c"
token_url = "http://x"
erp_base_url = "http://x"
base_currency = "EUR"
[[plugins]]
name = "standard"
path = "/p/standard.wasm"
[[plugins]]
name = "custom"
path = "/p/custom.wasm"
deadline_ms = 120
"#;

    #[test]
    fn configured_plugins_bind_to_the_entities_their_routes_name() {
        let text = format!(
            "{TWO_ENTITIES}
[[routes]]
channel = 1
entity = \"se\"
plugin = \"standard\"
[[routes]]
channel = 3
entity = \"se\"
plugin = \"standard\"
[[routes]]
channel = 2
entity = \"fi\"
plugin = \"custom\"
"
        );
        let cfg = Config::parse(&text).unwrap();
        let bound = cfg.plugin_entities();
        assert_eq!(bound["standard"], ["se"]);
        assert_eq!(bound["custom"], ["fi"]);
        assert_eq!(cfg.plugins[0].limits(), None);
        let custom = cfg.plugins[1].limits().unwrap();
        assert_eq!(custom.deadline, std::time::Duration::from_millis(120));
        assert_eq!(
            custom.memory_bytes,
            ledgerlink_runtime::PluginLimits::default().memory_bytes
        );
    }

    #[test]
    fn an_entity_routed_to_two_plugins_is_refused() {
        let text = format!(
            "{TWO_ENTITIES}
[[routes]]
channel = 1
entity = \"se\"
plugin = \"standard\"
[[routes]]
channel = 2
entity = \"se\"
plugin = \"custom\"
"
        );
        let e = format!("{:#}", Config::parse(&text).unwrap_err());
        assert!(e.contains("\"se\"") && e.contains("one plugin"), "{e}");
    }

    #[test]
    fn a_plugin_configured_twice_is_refused() {
        let text =
            format!("{TWO_ENTITIES}\n[[plugins]]\nname = \"custom\"\npath = \"/p/x.wasm\"\n");
        let e = format!("{:#}", Config::parse(&text).unwrap_err());
        assert!(e.contains("\"custom\" is configured twice"), "{e}");
    }

    #[test]
    fn missing_secret_env_is_a_clear_error() {
        let s = StoreSection {
            hash: "h".into(),
            base_url: "http://x".into(),
            auth_token: None,
            auth_token_env: Some("LEDGERLINK_TEST_SURELY_UNSET_VAR".into()),
            webhook_secret: None,
            webhook_secret_env: None,
            register_hooks: true,
            stock_from: None,
        };
        let e = s.auth_token().unwrap_err();
        assert!(format!("{e:#}").contains("LEDGERLINK_TEST_SURELY_UNSET_VAR"));
    }

    #[test]
    fn database_is_sqlite_in_the_data_dir_or_a_postgres_url() {
        let with = |extra: &str| Config::parse(&format!("[host]\ndata_dir = \"/d\"\n{extra}"));
        let sqlite = with("").unwrap().database().unwrap();
        assert_eq!(sqlite, PathBuf::from("/d").join(SQLITE_FILE));

        let url = "postgres://ll:pw@db:5432/ledgerlink";
        let pg = with(&format!("database_url = \"{url}\"")).unwrap();
        assert_eq!(pg.database().unwrap(), PathBuf::from(url));

        // From the environment (the usual way: the URL holds a password).
        let var = "LEDGERLINK_TEST_DATABASE_URL_CONFIG";
        let from_env = with(&format!("database_url_env = \"{var}\"")).unwrap();
        let e = format!("{:#}", from_env.database().unwrap_err());
        assert!(e.contains(var), "{e}");
        // SAFETY: no other test reads or writes this variable.
        unsafe { std::env::set_var(var, url) };
        assert_eq!(from_env.database().unwrap(), PathBuf::from(url));

        let e = format!(
            "{:#}",
            with("database_url = \"mysql://x\"")
                .unwrap()
                .database()
                .unwrap_err()
        );
        assert!(e.contains("postgres://") && !e.contains("x\""), "{e}");
    }
}
