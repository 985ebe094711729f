//! Configuration: defaults, then a TOML file, then `ACE_*` environment variables, then flags.
//!
//! Every field's doc is the user documentation (the README's configuration reference is
//! generated from the same names). Nested keys use `__` in the environment:
//! `ACE_PORTS__ORCHESTRATOR=9101`, `ACE_PLANS__FREE__PAGES_PER_MONTH=50`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ace_venture::Plans;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Deserializer, Serialize};

/// The whole configuration of `ace-web serve` and `ace-web worker`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address every service binds to. Loopback by default: expose deliberately.
    pub bind: IpAddr,
    /// Port of each service; 0 picks a free port (printed at start).
    pub ports: Ports,
    /// Directory for the embedded database and job artifacts.
    pub data_dir: PathBuf,
    /// Store URL. Unset: SQLite at `<data_dir>/ace.db`. `sqlite://PATH` picks another file.
    pub database_url: Option<String>,
    /// The operator's admin key. Unset: one is generated at first start and printed once.
    pub admin_key: Option<String>,
    /// Allow fetching loopback, private and link-local addresses (tests, intranets).
    #[serde(deserialize_with = "lenient_bool")]
    pub allow_private_networks: bool,
    /// Job workers in this process; 0 makes `serve` an API-only node (run `ace-web worker`
    /// processes against the same store).
    pub workers: usize,
    /// Seconds a claimed job stays leased to its worker without a heartbeat.
    pub lease_seconds: u64,
    /// Attempts per job before it fails for good (first try included).
    pub max_attempts: u32,
    /// First retry delay in milliseconds; doubles per attempt, with jitter.
    pub retry_base_ms: u64,
    /// Cap on the retry delay in milliseconds.
    pub retry_max_ms: u64,
    /// How often idle workers look for due jobs, in milliseconds (new jobs wake them at once).
    pub poll_interval_ms: u64,
    /// On SIGINT/SIGTERM, seconds running jobs may take to finish before being handed back.
    pub shutdown_grace_seconds: u64,
    /// Largest accepted request body in bytes.
    pub max_request_bytes: usize,
    /// Whole-fetch timeout for a page, in seconds.
    pub fetch_timeout_seconds: u64,
    /// Largest page body fetched, in bytes.
    pub max_page_bytes: u64,
    /// Deliveries of a webhook before giving up.
    pub webhook_max_attempts: u32,
    /// Timeout of one webhook delivery, in seconds.
    pub webhook_timeout_seconds: u64,
    /// Plans and their limits, by name.
    pub plans: Plans,
    /// The headless-Chromium pool (`[browser]`, `ACE_BROWSER__MAX_BROWSERS=...`).
    pub browser: ace_browser::PoolConfig,
}

/// Ports of the services.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Ports {
    /// Web dashboard.
    pub dashboard: u16,
    /// Job API, tenants, browser endpoints.
    pub orchestrator: u16,
    /// Site replication and replay.
    pub replicator: u16,
    /// Content extraction.
    pub extractor: u16,
    /// Firecrawl-compatible scraping.
    pub scraper: u16,
    /// Liveness, readiness, metrics.
    pub health: u16,
}

impl Default for Ports {
    fn default() -> Ports {
        Ports { dashboard: 9000, orchestrator: 9001, replicator: 9002, extractor: 9003, scraper: 9004, health: 9099 }
    }
}

impl Ports {
    /// Service names with their ports, in the order they are listed everywhere.
    pub fn named(&self) -> [(&'static str, u16); 6] {
        [
            ("dashboard", self.dashboard),
            ("orchestrator", self.orchestrator),
            ("replicator", self.replicator),
            ("extractor", self.extractor),
            ("scraper", self.scraper),
            ("health", self.health),
        ]
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            bind: IpAddr::from([127, 0, 0, 1]),
            ports: Ports::default(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            admin_key: None,
            allow_private_networks: false,
            workers: 4,
            lease_seconds: 30,
            max_attempts: 3,
            retry_base_ms: 1_000,
            retry_max_ms: 60_000,
            poll_interval_ms: 500,
            shutdown_grace_seconds: 8,
            max_request_bytes: 1024 * 1024,
            fetch_timeout_seconds: 30,
            max_page_bytes: 10 * 1024 * 1024,
            webhook_max_attempts: 6,
            webhook_timeout_seconds: 10,
            plans: Plans::default(),
            browser: ace_browser::PoolConfig::default(),
        }
    }
}

/// Values given on the command line; only those set override.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlagOverrides {
    /// `--bind`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<IpAddr>,
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--database-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `--workers`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<usize>,
    /// `--allow-private-networks`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_private_networks: Option<bool>,
    /// `--port SERVICE=PORT`, repeated.
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub ports: serde_json::Map<String, serde_json::Value>,
}

/// A configuration that cannot be used, naming the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Reading or parsing failed; figment's message names the key and its source.
    #[error("configuration error: {0}")]
    Invalid(String),
    /// The values parse but do not make sense together.
    #[error("configuration error: {key}: {reason}")]
    Rejected {
        /// The key at fault.
        key: String,
        /// Why.
        reason: String,
    },
}

impl Config {
    /// Loads defaults, then `file` (if given; it must exist), then `ACE_*`, then `flags`.
    pub fn load(file: Option<&Path>, flags: &FlagOverrides) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::Invalid(format!("config file {} does not exist", path.display())));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(Env::prefixed("ACE_").split("__")).merge(Serialized::defaults(flags));
        let config: Config = figment.extract().map_err(|e| {
            let messages: Vec<String> = e.into_iter().map(|e| e.to_string()).collect();
            ConfigError::Invalid(messages.join("; "))
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let reject = |key: &str, reason: &str| Err(ConfigError::Rejected { key: key.into(), reason: reason.into() });
        if self.lease_seconds < 2 {
            return reject("lease_seconds", "must be at least 2 (workers renew at a third of it)");
        }
        if self.max_attempts == 0 {
            return reject("max_attempts", "must be at least 1");
        }
        if self.retry_base_ms == 0 || self.retry_max_ms < self.retry_base_ms {
            return reject("retry_max_ms", "must be at least retry_base_ms, which must be at least 1");
        }
        if self.poll_interval_ms == 0 {
            return reject("poll_interval_ms", "must be at least 1");
        }
        if self.max_request_bytes < 1024 {
            return reject("max_request_bytes", "must be at least 1024");
        }
        if let Some(url) = &self.database_url {
            if !url.starts_with("sqlite:") {
                return reject(
                    "database_url",
                    "only sqlite: URLs are supported by this build; the PostgreSQL store is not built yet",
                );
            }
        }
        let mut seen = std::collections::HashMap::new();
        for (name, port) in self.ports.named() {
            if port != 0 {
                if let Some(other) = seen.insert(port, name) {
                    return reject(&format!("ports.{name}"), &format!("port {port} is also used by {other}"));
                }
            }
        }
        self.plans.validate().map_err(|e| ConfigError::Rejected { key: "plans".into(), reason: e.to_string() })?;
        if self.plans.0.is_empty() {
            return reject("plans", "at least one plan is needed");
        }
        Ok(())
    }

    /// The store URL in effect.
    pub fn store_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("ace.db").display()))
    }

    /// Where job artifacts are written.
    pub fn artifacts_dir(&self) -> PathBuf {
        self.data_dir.join("artifacts")
    }
}

/// Accepts `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`: what people write in environments.
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Any {
        Bool(bool),
        Int(i64),
        Str(String),
    }
    match Any::deserialize(d)? {
        Any::Bool(b) => Ok(b),
        Any::Int(0) => Ok(false),
        Any::Int(1) => Ok(true),
        Any::Str(s) => match s.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" | "" => Ok(false),
            other => Err(serde::de::Error::custom(format!("expected a boolean (true/false/1/0), found {other:?}"))),
        },
        Any::Int(n) => Err(serde::de::Error::custom(format!("expected a boolean (true/false/1/0), found {n}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_toml(toml: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ace.toml");
        std::fs::write(&path, toml).unwrap();
        Config::load(Some(&path), &FlagOverrides::default())
    }

    #[test]
    fn defaults_are_valid_and_loopback() {
        let c = Config::default();
        c.validate().unwrap();
        assert!(c.bind.is_loopback());
        assert_eq!(c.ports.orchestrator, 9001);
        assert!(c.store_url().ends_with("data/ace.db"));
    }

    #[test]
    fn unknown_key_is_named() {
        let err = load_toml("wrokers = 3\n").unwrap_err().to_string();
        assert!(err.contains("wrokers"), "{err}");
    }

    #[test]
    fn wrong_type_is_named() {
        let err = load_toml("[ports]\norchestrator = \"high\"\n").unwrap_err().to_string();
        assert!(err.contains("orchestrator"), "{err}");
    }

    #[test]
    fn file_values_apply_and_flags_override_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ace.toml");
        std::fs::write(&path, "workers = 2\n[ports]\nhealth = 9199\n[plans.free]\nrequests_per_minute = 5\nconcurrent_jobs = 1\nbrowser_sessions = 1\npages_per_month = 9\n").unwrap();
        let flags = FlagOverrides { workers: Some(7), ..FlagOverrides::default() };
        let c = Config::load(Some(&path), &flags).unwrap();
        assert_eq!(c.workers, 7);
        assert_eq!(c.ports.health, 9199);
        assert_eq!(c.plans.get("free").unwrap().limits.pages_per_month, 9);
        assert!(c.plans.get("pro").is_ok(), "other default plans remain");
    }

    #[test]
    fn duplicate_ports_and_postgres_are_rejected_by_key() {
        let err = load_toml("[ports]\nscraper = 9001\n").unwrap_err().to_string();
        assert!(err.contains("ports.") && err.contains("9001"), "{err}");
        let err = load_toml("database_url = \"postgres://x\"\n").unwrap_err().to_string();
        assert!(err.contains("database_url"), "{err}");
    }

    #[test]
    fn lenient_booleans() {
        assert!(load_toml("allow_private_networks = 1\n").unwrap().allow_private_networks);
        assert!(!load_toml("allow_private_networks = \"no\"\n").unwrap().allow_private_networks);
        let err = load_toml("allow_private_networks = \"maybe\"\n").unwrap_err().to_string();
        assert!(err.contains("allow_private_networks") || err.contains("maybe"), "{err}");
    }
}
