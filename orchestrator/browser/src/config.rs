//! [`PoolConfig`]: the pool's limits, each field documented for operators.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Chromium's headless shell (Debian's `chromium-headless-shell`, built from the same source
/// as `chromium`) if installed, else `chromium`. The shell is what Puppeteer and Playwright run
/// headless by default: it has no browser windows, so the fresh context every render gets costs
/// far less than in full Chromium, where each context opens a window. The render bench went
/// from 3.3 to 5.4 pages/s with it (`bench/README.md`). The shell is named by its binary:
/// Debian's `/usr/bin/chromium-headless-shell` is a script that runs it without `exec`.
pub fn default_executable() -> PathBuf {
    let shell = PathBuf::from("/usr/lib/chromium/chromium-headless-shell");
    if shell.exists() {
        shell
    } else {
        PathBuf::from("/usr/bin/chromium")
    }
}

/// How many browsers, contexts and waiters the pool allows, and when browsers are replaced.
/// Times are in milliseconds so that the same struct reads well in TOML and `ACE_*` variables.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoolConfig {
    /// The Chromium executable. By default Debian's `chromium-headless-shell` when it is
    /// installed, else `chromium` (see [`default_executable`]). It must be the browser or a
    /// script that `exec`s it: the pool kills and reaps the process it started, so a script that
    /// runs the browser as its child is refused when a browser is launched.
    pub executable: PathBuf,
    /// Chromium processes at most (each costs ~100-200 MB before pages).
    pub max_browsers: usize,
    /// Browsers kept warm even when idle (0: the pool may go cold after `idle_timeout_ms`).
    pub min_browsers: usize,
    /// Isolated contexts (renders, CDP sessions) open at once in one browser.
    pub max_contexts_per_browser: usize,
    /// Keep one fresh context with a blank page ready in each browser, so a render does not
    /// wait for a renderer process to start (about half of a small page's render). It is never
    /// used before it is handed out, so it is as isolated as one made on demand; it costs one
    /// idle renderer process per browser.
    pub spare_page: bool,
    /// Chromium flags added after the pool's own ("--proxy-server=...", "--lang=de"). A flag
    /// the pool also sets is overridden, except `--disable-features`, whose list is added to
    /// the pool's (see `FLAGS` in `process.rs`).
    pub extra_args: Vec<String>,
    /// Contexts a browser serves before it is drained and replaced (bounds memory growth).
    pub pages_per_browser: u64,
    /// Age after which a browser is drained and replaced, in milliseconds.
    pub max_browser_age_ms: u64,
    /// A browser above `min_browsers` that served nothing this long is closed, in milliseconds.
    pub idle_timeout_ms: u64,
    /// How long a request may wait for a free context before 408, in milliseconds.
    pub acquire_timeout_ms: u64,
    /// Requests allowed to wait; one more is answered 429 `pool_saturated`.
    pub queue_limit: usize,
    /// How often each browser is pinged, in milliseconds.
    pub ping_interval_ms: u64,
    /// A browser that does not answer a ping within this is hung and evicted, in milliseconds.
    pub ping_timeout_ms: u64,
    /// Default render timeout when a request gives none, in milliseconds.
    pub default_timeout_ms: u64,
    /// Longest render timeout a request may ask for, in milliseconds.
    pub max_timeout_ms: u64,
    /// Longest a CDP WebSocket session may last, in milliseconds.
    pub session_max_ms: u64,
    /// A CDP session with no message either way for this long is closed, in milliseconds.
    pub session_idle_ms: u64,
}

impl Default for PoolConfig {
    fn default() -> PoolConfig {
        PoolConfig {
            executable: default_executable(),
            max_browsers: 2,
            min_browsers: 0,
            max_contexts_per_browser: 8,
            spare_page: true,
            extra_args: Vec::new(),
            pages_per_browser: 500,
            max_browser_age_ms: 30 * 60 * 1000,
            idle_timeout_ms: 5 * 60 * 1000,
            acquire_timeout_ms: 30_000,
            queue_limit: 64,
            ping_interval_ms: 2_000,
            ping_timeout_ms: 5_000,
            default_timeout_ms: 30_000,
            max_timeout_ms: 120_000,
            session_max_ms: 30 * 60 * 1000,
            session_idle_ms: 5 * 60 * 1000,
        }
    }
}

impl PoolConfig {
    pub(crate) fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    /// Contexts open at once over the whole pool (the semaphore's size).
    pub fn capacity(&self) -> usize {
        self.max_browsers.max(1) * self.max_contexts_per_browser.max(1)
    }
}
