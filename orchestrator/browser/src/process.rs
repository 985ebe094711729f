//! One Chromium process: launched with the flags this network needs, killed and reaped.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::BrowserError;

/// Flags every pooled Chromium gets. Without the networking ones it stalls on a closed
/// network (component updates, sync, QUIC probes); the sandbox is off because the service
/// runs unprivileged in containers where user namespaces are not available.
const FLAGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-default-browser-check",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--mute-audio",
    "--hide-scrollbars",
    "--password-store=basic",
    "--use-mock-keychain",
    // What browser automation does not need, as Playwright turns it off: the field-trial
    // experiments Debian's build enables (so every machine renders alike), the back/forward
    // cache (a render never goes back), hang and phishing checks, background services;
    // HTTPS upgrades (a render fetches the URL it was given) and paint holding; iframes
    // load eagerly, so a full-page screenshot or a replica has them all. Six alternating
    // pairs of in-process bench runs: faster in each pair, 1.87 against 1.74 pages/s on
    // average for the first three.
    //
    // The last four matter most, because every render opens a context of its own, and in
    // Chromium 156 a new context is a new window. Each new window loaded two WebUI pages for
    // its omnibox popup (chrome://omnibox-popup.top-chrome/, two renderer processes), and
    // Chromium warmed a spare renderer for the context just used, which the next render, in
    // a new context, could not use. That was four renderer processes a page where one does:
    // 248 for 60 pages against 63 without, and 1.8 against 3.1 pages/s (bench/README.md).
    "--disable-field-trial-config",
    "--disable-back-forward-cache",
    "--disable-hang-monitor",
    "--disable-client-side-phishing-detection",
    "--disable-component-extensions-with-background-pages",
    "--metrics-recording-only",
    "--no-service-autorun",
    "--disable-features=Translate,MediaRouter,OptimizationHints,ImprovedCookieControls,\
     LazyFrameLoading,GlobalMediaControls,DestroyProfileOnBrowserClose,DialMediaRouteProvider,\
     AcceptCHFrame,AutoExpandDetailsElement,CertificateTransparencyComponentUpdater,\
     AvoidUnnecessaryBeforeUnloadCheckSync,HttpsUpgrades,PaintHolding,LensOverlay,\
     WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,SpareRendererForSitePerProcess",
    "--remote-debugging-port=0",
];

/// A running Chromium: its process, its DevTools WebSocket URL and its profile directory.
pub(crate) struct Process {
    pub child: Child,
    pub pid: u32,
    pub ws_url: String,
    /// Removed when the process is gone (dropped after the wait).
    pub profile: tempfile::TempDir,
}

/// The pool's flags, then `extra_args`. Chromium honours only the last `--disable-features`,
/// so an operator's list is merged into the pool's instead of replacing it.
fn flags(extra_args: &[String]) -> Vec<String> {
    const DISABLE: &str = "--disable-features=";
    let extra_disabled: Vec<&str> = extra_args.iter().filter_map(|a| a.strip_prefix(DISABLE)).filter(|l| !l.is_empty()).collect();
    let mut out: Vec<String> = FLAGS
        .iter()
        .map(|f| match f.strip_prefix(DISABLE) {
            Some(ours) if !extra_disabled.is_empty() => format!("{DISABLE}{ours},{}", extra_disabled.join(",")),
            _ => (*f).to_owned(),
        })
        .collect();
    out.extend(extra_args.iter().filter(|a| !a.starts_with(DISABLE)).cloned());
    out
}

/// Starts Chromium with [`flags`] and waits for its "DevTools listening on" line.
pub(crate) async fn launch(executable: &Path, extra_args: &[String]) -> Result<Process, BrowserError> {
    let fail = |reason: String| BrowserError::Launch { executable: executable.display().to_string(), reason };
    if !executable.exists() {
        return Err(fail("the executable does not exist; install Chromium (apt-get install -y chromium) or set the pool's executable".into()));
    }
    sweep_stale_profiles();
    let profile = tempfile::Builder::new().prefix(PROFILE_PREFIX).tempdir().map_err(|e| fail(format!("temp profile: {e}")))?;
    let mut command = Command::new(executable);
    die_with_parent(&mut command);
    let mut child = command
        .args(flags(extra_args))
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| fail(e.to_string()))?;
    let pid = child.id().unwrap_or_default();
    let stderr = child.stderr.take().ok_or_else(|| fail("no stderr pipe".into()))?;
    let mut lines = BufReader::new(stderr).lines();
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(url) = line.strip_prefix("DevTools listening on ") {
                return Some(url.trim().to_owned());
            }
        }
        None
    })
    .await;
    let ws_url = match found {
        Ok(Some(url)) => url,
        other => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            let why = if other.is_err() { "no DevTools endpoint within 20 s" } else { "exited before opening DevTools" };
            return Err(fail(why.into()));
        }
    };
    if let Some(shell) = wrapper_shell(pid) {
        kill_tree(pid);
        let _ = child.wait().await;
        return Err(fail(format!(
            "it is a {shell} script that runs the browser without exec, so the pool could neither stop nor reap it; \
             name the browser itself (Debian: /usr/lib/chromium/chromium-headless-shell or /usr/bin/chromium)"
        )));
    }
    // Chromium keeps writing to stderr; a full pipe would block it, so drain it for good.
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            tracing::trace!(target: "chromium", pid, "{line}");
        }
    });
    Ok(Process { child, pid, ws_url, profile })
}

/// The shell `pid` still runs once the browser it started is up: a wrapper script that runs
/// Chromium as its child instead of `exec`ing it (Debian's `/usr/bin/chromium-headless-shell`).
/// The pool would then kill and reap only the shell. Linux `/proc`; `None` elsewhere.
fn wrapper_shell(pid: u32) -> Option<String> {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    let name = exe.file_name()?.to_str()?.to_owned();
    ["sh", "dash", "bash", "zsh", "ksh", "mksh", "busybox"].contains(&name.as_str()).then_some(name)
}

/// Kills `pid` and every process under it, children first (Linux `/proc`).
#[allow(unsafe_code)]
fn kill_tree(pid: u32) {
    for (p, _) in tree_of(pid).into_iter().rev() {
        let Ok(p) = libc::pid_t::try_from(p) else { continue };
        // SAFETY: kill(2) with a pid from /proc and a constant signal touches no memory.
        unsafe {
            libc::kill(p, libc::SIGKILL);
        }
    }
}

/// Profile folders are named with this prefix in the temporary folder.
const PROFILE_PREFIX: &str = "ace-chromium-";

/// Makes Linux kill Chromium when the thread that started it ends: a pool whose process
/// is killed outright (`kill -9`, the OOM killer) would otherwise leave its browsers running
/// for good. Pools launch from runtime threads, which live as long as the runtime.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn die_with_parent(command: &mut Command) {
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed; prctl is a plain system call that allocates
    // nothing and takes no locks.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_command: &mut Command) {}

/// Removes the profile folders of browsers that are gone, left by pools that could not
/// clean up after themselves (a process killed outright). A profile is in use while its
/// `SingletonLock` (a link to `HOST-PID`) names a live process; folders without one are
/// left alone for an hour, the time a launch might take to create it. Once per process.
fn sweep_stale_profiles() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| sweep_stale_profiles_in(&std::env::temp_dir()));
}

fn sweep_stale_profiles_in(folder: &Path) {
    let Ok(dir) = std::fs::read_dir(folder) else { return };
    for entry in dir.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(PROFILE_PREFIX) {
            continue;
        }
        let path = entry.path();
        let stale = match std::fs::read_link(path.join("SingletonLock")) {
            Ok(target) => {
                let target = target.to_string_lossy().into_owned();
                let pid = target.rsplit('-').next().and_then(|p| p.parse::<u32>().ok());
                pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
            }
            Err(_) => entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > Duration::from_secs(3600)),
        };
        if stale {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// Kills the process if it still runs and waits for it, so no zombie is left.
pub(crate) async fn kill_and_reap(mut child: Child) {
    let _ = child.start_kill();
    let _ = child.wait().await;
}

/// Asks nothing of the browser: waits up to `grace` for it to exit, then kills and reaps it.
pub(crate) async fn reap_within(mut child: Child, grace: Duration) {
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        kill_and_reap(child).await;
    }
}

/// Memory of `pid` and all its descendants, in bytes: the sum of proportional set sizes
/// (shared pages split between the processes that map them, so Chromium's many processes
/// are not counted once each for the same libraries), falling back to RSS where
/// `smaps_rollup` is unreadable. Linux `/proc`; 0 elsewhere.
pub fn tree_rss_bytes(pid: u32) -> u64 {
    tree_of(pid).into_iter().map(|(p, rss)| pss_of(p).unwrap_or(rss)).sum()
}

/// `pid` and every process under it, parents before children, each with its resident bytes
/// (Linux `/proc`; empty elsewhere).
fn tree_of(pid: u32) -> Vec<(u32, u64)> {
    let mut all: Vec<(u32, u32, u64)> = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    for entry in dir.flatten() {
        let Some(p) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        if let Some((ppid, rss)) = stat_of(p) {
            all.push((p, ppid, rss));
        }
    }
    let mut tree: Vec<(u32, u64)> = all.iter().filter(|(p, ..)| *p == pid).map(|(p, _, rss)| (*p, *rss)).collect();
    let mut i = 0;
    while i < tree.len() {
        let cur = tree[i].0;
        for (p, ppid, rss) in &all {
            if *ppid == cur && !tree.iter().any(|(t, _)| t == p) {
                tree.push((*p, *rss));
            }
        }
        i += 1;
    }
    tree
}

/// (parent pid, resident bytes) from `/proc/<pid>/stat`.
fn stat_of(pid: u32) -> Option<(u32, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces; the fields after its closing parenthesis do not.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ppid = fields.get(1)?.parse().ok()?;
    let rss_pages: u64 = fields.get(21)?.parse().ok()?;
    Some((ppid, rss_pages * 4096))
}

/// Proportional set size of `pid` from `/proc/<pid>/smaps_rollup`, in bytes.
fn pss_of(pid: u32) -> Option<u64> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let line = rollup.lines().find(|l| l.starts_with("Pss:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_profiles_of_dead_browsers_are_swept() {
        let tmp = tempfile::tempdir().unwrap();
        let profile = |name: &str, lock: Option<String>| {
            let dir = tmp.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("Preferences"), "{}").unwrap();
            if let Some(target) = lock {
                std::os::unix::fs::symlink(target, dir.join("SingletonLock")).unwrap();
            }
            dir
        };
        let dead = profile("ace-chromium-dead", Some("host-4194303999".into()));
        let live = profile("ace-chromium-live", Some(format!("host-{}", std::process::id())));
        let young = profile("ace-chromium-young", None);
        let other = profile("someone-else", Some("host-4194303999".into()));
        sweep_stale_profiles_in(tmp.path());
        assert!(!dead.exists());
        assert!(live.exists() && young.exists() && other.exists());
    }

    #[test]
    fn an_operators_disabled_features_join_the_pools() {
        let flags = flags(&["--lang=de".into(), "--disable-features=Foo,Bar".into()]);
        let disabled: Vec<&String> = flags.iter().filter(|f| f.starts_with("--disable-features=")).collect();
        assert_eq!(disabled.len(), 1, "{flags:?}");
        assert!(disabled[0].contains("WebUIOmniboxPopup,") && disabled[0].contains("SpareRendererForSitePerProcess"));
        assert!(disabled[0].ends_with(",Foo,Bar"), "{}", disabled[0]);
        assert_eq!(flags.last().map(String::as_str), Some("--lang=de"));
        assert_eq!(super::flags(&[]), FLAGS.iter().map(|f| f.to_string()).collect::<Vec<_>>());
    }
}
