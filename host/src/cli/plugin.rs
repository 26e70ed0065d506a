//! `ledgerlink plugin …`: build a plugin, test it against a fixture exactly as the host runs
//! it, and manage the registered versions under the data dir (`list`, `push`, `activate`,
//! `rollback`). Registry changes land in `<data-dir>/plugins/registry.json`, which a running
//! host (`ledgerlink run` or `sandbox` on the same data dir) watches: its next jobs use the new
//! version, within about a second, without a restart. `--config <file>` finds the data dir
//! the way the host does.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use clap::{Args, Subcommand};
use ledgerlink_runtime::canonical::{Fixture, FixtureOutcome};
use ledgerlink_runtime::registry::{self, DEFAULT_ENTITY, RegistryFile};
use ledgerlink_runtime::{PluginLimits, PluginRegistry, RegistryStore, Runtime, RuntimeConfig};
use serde_json::Value;

#[derive(Debug, Args)]
pub struct DataDir {
    /// Where Ledgerlink keeps its state; plugins live in `<data-dir>/plugins/`.
    #[arg(long, env = "LEDGERLINK_DATA_DIR", default_value = "./ledgerlink-data")]
    pub data_dir: PathBuf,
    /// The host's configuration: use its `host.data_dir` (instead of `--data-dir`).
    #[arg(long, conflicts_with = "data_dir")]
    pub config: Option<PathBuf>,
}

impl DataDir {
    pub fn resolve(&self) -> anyhow::Result<PathBuf> {
        match &self.config {
            Some(path) => Ok(crate::config::Config::load(path)?.host.data_dir),
            None => Ok(self.data_dir.clone()),
        }
    }
}

/// Where a change shows up, said after every registry change.
fn live_note(data_dir: &Path) {
    println!(
        "a host running on {} uses it for its next jobs (it watches the registry)",
        data_dir.display()
    );
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Build a plugin crate for wasm32-wasip2 (release) and print the component path and sha256.
    Build {
        /// The plugin crate's directory (holding its Cargo.toml).
        dir: PathBuf,
    },
    /// Run a component on a fixture exactly as the host would and print the result as JSON.
    /// Exits 1 on a mapping error, a sandbox failure, or a difference from `--expect`.
    Test {
        component: PathBuf,
        fixture: PathBuf,
        /// Expected result (as printed by this command, or the bare mapped record).
        #[arg(long)]
        expect: Option<PathBuf>,
    },
    /// Registered versions and which legal entity uses which.
    List {
        #[command(flatten)]
        data: DataDir,
        /// Print the registry as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check a component, register it and make it active for a legal entity.
    Push {
        file: PathBuf,
        /// Legal entity id, or `*` for every entity without a binding of its own.
        #[arg(long)]
        entity: String,
        /// Per-call deadline in milliseconds.
        #[arg(long, default_value_t = 50)]
        deadline_ms: u64,
        /// Per-call memory cap in MiB.
        #[arg(long, default_value_t = 64)]
        memory_mib: usize,
        #[command(flatten)]
        data: DataDir,
    },
    /// Make a registered version active for a legal entity.
    Activate {
        /// sha256, a prefix of 8+ hex digits, or name@version.
        version: String,
        #[arg(long)]
        entity: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Go back to the version a legal entity used before its current one.
    Rollback {
        #[arg(long)]
        entity: String,
        #[command(flatten)]
        data: DataDir,
    },
}

pub async fn run(cmd: PluginCommand) -> anyhow::Result<()> {
    // Compiling and calling plugins is blocking CPU work (and WASI's sync adapter must not run
    // on an async worker): do all of it on the blocking pool.
    tokio::task::spawn_blocking(move || run_blocking(cmd))
        .await
        .context("the plugin command panicked")?
}

fn run_blocking(cmd: PluginCommand) -> anyhow::Result<()> {
    match cmd {
        PluginCommand::Build { dir } => build(&dir),
        PluginCommand::Test {
            component,
            fixture,
            expect,
        } => test(&component, &fixture, expect.as_deref()),
        PluginCommand::List { data, json } => list(&data.resolve()?, json),
        PluginCommand::Push {
            file,
            entity,
            deadline_ms,
            memory_mib,
            data,
        } => {
            let limits = PluginLimits {
                deadline: Duration::from_millis(deadline_ms),
                memory_bytes: memory_mib << 20,
            };
            push(&data.resolve()?, &file, &entity, limits)
        }
        PluginCommand::Activate {
            version,
            entity,
            data,
        } => {
            let data_dir = data.resolve()?;
            let record = RegistryStore::open(&data_dir)?.activate(&entity, &version)?;
            println!(
                "{} is active for {}",
                record.label(),
                describe_entity(&entity)
            );
            live_note(&data_dir);
            Ok(())
        }
        PluginCommand::Rollback { entity, data } => {
            let data_dir = data.resolve()?;
            let record = RegistryStore::open(&data_dir)?.rollback(&entity)?;
            println!(
                "{} rolled back to {}",
                describe_entity(&entity),
                record.label()
            );
            live_note(&data_dir);
            Ok(())
        }
    }
}

fn describe_entity(entity: &str) -> String {
    if entity == DEFAULT_ENTITY {
        "every legal entity without its own binding".to_string()
    } else {
        format!("legal entity {entity}")
    }
}

fn checking_runtime() -> anyhow::Result<Runtime> {
    Ok(Runtime::new(RuntimeConfig {
        max_concurrent_instances: 4,
        ..RuntimeConfig::default()
    })?)
}

fn build(dir: &Path) -> anyhow::Result<()> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        bail!("{} has no Cargo.toml", dir.display());
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--message-format=json-render-diagnostics")
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run cargo")?;
    if !output.status.success() {
        bail!(
            "cargo build failed for {} (is the target installed? `rustup target add wasm32-wasip2`)",
            dir.display()
        );
    }
    let components: Vec<PathBuf> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact")
        .flat_map(|msg| {
            msg["filenames"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f.as_str().map(PathBuf::from))
                .filter(|f| f.extension().is_some_and(|e| e == "wasm"))
                .collect::<Vec<_>>()
        })
        .collect();
    let Some(component) = components.last() else {
        bail!(
            "cargo built no .wasm for {}: is it a `cdylib` crate?",
            dir.display()
        );
    };
    // Check it the way the host will, so a component the host would refuse fails here.
    let plugin = checking_runtime()?
        .load_file(component, PluginLimits::default())
        .with_context(|| format!("{} is not a usable plugin", component.display()))?;
    println!("{}", component.display());
    println!("sha256 {}", plugin.sha256());
    println!(
        "plugin {}@{} (mapping contract {})",
        plugin.name(),
        plugin.version(),
        plugin.wit_version()
    );
    Ok(())
}

/// Runs the fixture's call on the component as the host would.
fn run_fixture(component: &Path, fixture_path: &Path) -> anyhow::Result<FixtureOutcome> {
    let fixture = Fixture::load(fixture_path)?;
    let call = fixture.input()?;
    let plugin = checking_runtime()?.load_file(component, PluginLimits::default())?;
    eprintln!(
        "{} on {} ({})",
        plugin.provenance(),
        fixture.name,
        fixture.call_name()
    );
    Ok(call.run(&plugin, &fixture.tables)?)
}

fn test(component: &Path, fixture_path: &Path, expect: Option<&Path>) -> anyhow::Result<()> {
    let outcome = run_fixture(component, fixture_path)?;
    let printed = serde_json::to_value(&outcome)?;
    println!("{}", serde_json::to_string_pretty(&printed)?);

    if let Some(expect) = expect {
        let text = std::fs::read_to_string(expect)
            .with_context(|| format!("cannot read {}", expect.display()))?;
        let expected: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", expect.display()))?;
        // Accept the printed form ({"ok": …} / {"mapping-errors": …}) or the bare record.
        let expected = match serde_json::from_value::<FixtureOutcome>(expected.clone()) {
            Ok(outcome) => serde_json::to_value(outcome)?,
            Err(_) => serde_json::to_value(FixtureOutcome::Ok(expected))?,
        };
        let mut differences = Vec::new();
        diff(&expected, &printed, "$", &mut differences);
        if !differences.is_empty() {
            for d in differences.iter().take(30) {
                eprintln!("  {d}");
            }
            if differences.len() > 30 {
                eprintln!("  … and {} more", differences.len() - 30);
            }
            bail!(
                "the result differs from {} in {} place(s)",
                expect.display(),
                differences.len()
            );
        }
        eprintln!("matches {}", expect.display());
    }
    if let FixtureOutcome::MappingErrors(errors) = &outcome {
        return Err(anyhow!(
            "the plugin reported {} mapping error(s)",
            errors.len()
        ));
    }
    Ok(())
}

/// Paths where `actual` differs from `expected`, for a readable mismatch report.
fn diff(expected: &Value, actual: &Value, path: &str, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, ev) in e {
                match a.get(key) {
                    Some(av) => diff(ev, av, &format!("{path}.{key}"), out),
                    None => out.push(format!("{path}.{key}: missing (expected {ev})")),
                }
            }
            for key in a.keys().filter(|k| !e.contains_key(*k)) {
                out.push(format!("{path}.{key}: unexpected {}", a[key]));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                diff(ev, av, &format!("{path}[{i}]"), out);
            }
            if e.len() != a.len() {
                out.push(format!(
                    "{path}: {} elements, expected {}",
                    a.len(),
                    e.len()
                ));
            }
        }
        _ if expected != actual => out.push(format!("{path}: {actual}, expected {expected}")),
        _ => {}
    }
}

fn push(data_dir: &Path, file: &Path, entity: &str, limits: PluginLimits) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let store = RegistryStore::open(data_dir)?;
    // The same engine settings and cache as the host: the host then loads it without compiling.
    let runtime = Runtime::new(RuntimeConfig {
        max_concurrent_instances: 4,
        ..PluginRegistry::runtime_config(data_dir)
    })?;
    let (record, _) = registry::push(&runtime, &store, &bytes, entity, limits)?;
    println!(
        "{} (mapping contract {}) is active for {}",
        record.label(),
        record.wit_version,
        describe_entity(entity)
    );
    println!("sha256 {}", record.sha256);
    live_note(data_dir);
    Ok(())
}

fn list(data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let store = RegistryStore::open(data_dir)?;
    let file = store.read()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&file)?);
        return Ok(());
    }
    print!("{}", render_list(&file));
    Ok(())
}

fn render_list(file: &RegistryFile) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if file.versions.is_empty() {
        out.push_str(
            "no plugin versions registered (ledgerlink plugin push <file> --entity <id>)\n",
        );
        return out;
    }
    let _ = writeln!(
        out,
        "{:<14} {:<28} {:<6} {:<21} {:>8} {:>8}  ACTIVE FOR",
        "SHA256", "PLUGIN", "WIT", "ADDED", "DEADLINE", "MEMORY"
    );
    for v in &file.versions {
        let active_for: Vec<&str> = file
            .bindings
            .iter()
            .filter(|(_, b)| b.active == v.sha256)
            .map(|(e, _)| e.as_str())
            .collect();
        let _ = writeln!(
            out,
            "{:<14} {:<28} {:<6} {:<21} {:>6}ms {:>5}MiB  {}",
            &v.sha256[..12],
            format!("{}@{}", v.name, v.version),
            v.wit_version,
            v.added_at,
            v.limits.deadline.as_millis(),
            v.limits.memory_bytes >> 20,
            active_for.join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_names_the_paths_that_differ() {
        let expected = serde_json::json!({"ok": {"lines": [{"qty": 1}, {"qty": 2}], "total": 5}});
        let actual = serde_json::json!({"ok": {"lines": [{"qty": 1}, {"qty": 3}], "extra": true}});
        let mut out = Vec::new();
        diff(&expected, &actual, "$", &mut out);
        assert_eq!(
            out,
            [
                "$.ok.lines[1].qty: 3, expected 2",
                "$.ok.total: missing (expected 5)",
                "$.ok.extra: unexpected true",
            ]
        );
    }
}

#[cfg(test)]
mod registry_commands {
    use super::*;

    fn guest(name: &str) -> PathBuf {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let target = match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
            Some(dir) if dir.is_absolute() => dir,
            Some(dir) => root.join(dir),
            None => root.join("target"),
        };
        let path = target
            .join("wasm32-wasip2/release")
            .join(format!("{name}.wasm"));
        assert!(
            path.exists(),
            "{} is missing: run scripts/test.sh",
            path.display()
        );
        path
    }

    fn data(dir: &Path) -> DataDir {
        DataDir {
            data_dir: dir.to_path_buf(),
            config: None,
        }
    }

    #[test]
    fn push_activate_rollback_and_a_refused_push() {
        let dir = tempfile::tempdir().unwrap();
        let push = |name: &str| {
            run_blocking(PluginCommand::Push {
                file: guest(name),
                entity: "le-1".into(),
                deadline_ms: 80,
                memory_mib: 32,
                data: data(dir.path()),
            })
        };
        push("ledgerlink_test_sandbox_probe").unwrap();
        push("ledgerlink_test_swap_twin").unwrap();
        let err = push("ledgerlink_test_wrong_wit").unwrap_err();
        assert!(
            format!("{err:#}").contains("the active version stays"),
            "{err:#}"
        );

        let store = RegistryStore::open(dir.path()).unwrap();
        let file = store.read().unwrap();
        assert_eq!(file.versions.len(), 2);
        assert_eq!(file.versions[0].limits.deadline, Duration::from_millis(80));
        assert_eq!(file.active_for("le-1").unwrap().name, "swap-twin");
        let listing = render_list(&file);
        assert!(listing.contains("swap-twin@2.0.0"), "{listing}");
        assert!(listing.contains("le-1"), "{listing}");

        run_blocking(PluginCommand::Rollback {
            entity: "le-1".into(),
            data: data(dir.path()),
        })
        .unwrap();
        assert_eq!(
            store.read().unwrap().active_for("le-1").unwrap().name,
            "sandbox-probe"
        );
        run_blocking(PluginCommand::Activate {
            version: "swap-twin@2.0.0".into(),
            entity: "*".into(),
            data: data(dir.path()),
        })
        .unwrap();
        assert_eq!(
            store.read().unwrap().active_for("le-9").unwrap().name,
            "swap-twin"
        );
        let err = run_blocking(PluginCommand::Rollback {
            entity: "le-2".into(),
            data: data(dir.path()),
        })
        .unwrap_err();
        assert!(err.to_string().contains("no plugin binding"), "{err}");
    }

    #[test]
    fn config_names_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("state");
        let config = dir.path().join("ledgerlink.toml");
        std::fs::write(
            &config,
            format!("[host]\ndata_dir = {:?}\n", data_dir.display().to_string()),
        )
        .unwrap();
        run_blocking(PluginCommand::Push {
            file: guest("ledgerlink_test_swap_twin"),
            entity: "le-1".into(),
            deadline_ms: 50,
            memory_mib: 64,
            data: DataDir {
                data_dir: dir.path().join("not-this-one"),
                config: Some(config.clone()),
            },
        })
        .unwrap();
        let file = RegistryStore::open(&data_dir).unwrap().read().unwrap();
        assert_eq!(file.active_for("le-1").unwrap().name, "swap-twin");
        assert!(!dir.path().join("not-this-one").exists());

        std::fs::write(&config, "[host]\nbogus = 1\n").unwrap();
        let err = run_blocking(PluginCommand::List {
            data: DataDir {
                data_dir: data_dir.clone(),
                config: Some(config),
            },
            json: false,
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("bogus"), "{err:#}");
    }

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures")
            .join(name)
    }

    #[test]
    fn test_compares_with_the_expected_file_and_fails_on_mapping_errors() {
        let probe = guest("ledgerlink_test_sandbox_probe");
        let stock = fixture("stock-levels.json");
        let outcome = run_fixture(&probe, &stock).unwrap();
        assert!(matches!(outcome, FixtureOutcome::Ok(_)), "{outcome:?}");

        let dir = tempfile::tempdir().unwrap();
        let expected = dir.path().join("expected.json");
        std::fs::write(&expected, serde_json::to_string(&outcome).unwrap()).unwrap();
        test(&probe, &stock, Some(&expected)).expect("matches what it printed");

        std::fs::write(&expected, r#"{"ok": [{"location-id": 999}]}"#).unwrap();
        let err = test(&probe, &stock, Some(&expected)).unwrap_err();
        assert!(err.to_string().contains("differs"), "{err}");

        // The probe has no `vat-category` table of this fixture's shape: mapping errors, exit 1.
        let err = test(&probe, &fixture("order-multi-line-coupon.json"), None).unwrap_err();
        assert!(err.to_string().contains("mapping error"), "{err}");
    }
}
