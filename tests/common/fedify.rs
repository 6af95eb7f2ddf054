//! The Fedify follower of `tests/fediverse/` (an ActivityPub implementation independent
//! of seedfeed) as a child process, driven by its line protocol: a command a line on its
//! stdin, a JSON line on its stdout for each step, with `"step"` and `"ok"`. Every
//! other line it prints (the requests that reached it, Fedify's answers) and its stderr
//! (Fedify's log) are kept for the failure message. Needs `node` (Node.js 20 or later)
//! and npm; the packages pinned in `tests/fediverse/package-lock.json` are installed
//! with `npm ci` when they are not there yet (`.ci/run` installs them beforehand).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::mpsc;

use super::poll::PATIENCE;

/// How long the follower waits for an activity before its step fails; well under
/// [`PATIENCE`], which bounds the wait for the step's line.
pub const FOLLOWER_WAIT_MS: u64 = 10_000;

/// Installs the follower's pinned packages (`npm ci`) unless they are there; once per
/// test process, whichever test comes first.
fn install(dir: &Path) {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    let mut installed = INSTALLED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if *installed
        || dir
            .join("node_modules/@fedify/fedify/package.json")
            .exists()
    {
        *installed = true;
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| panic!("npm is needed to install the Fedify follower: {e}"));
    assert!(
        status.success(),
        "`npm ci` in {} failed ({status}): the npm registry must be reachable",
        dir.display()
    );
    *installed = true;
}

/// A running follower (the actor `alice`). Dropping it kills it.
pub struct Follower {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<String>,
    /// Every line it printed on stdout and stderr, in order.
    transcript: Arc<Mutex<Vec<String>>>,
    /// alice's actor URL, on its own plain-HTTP loopback port.
    pub actor: String,
}

impl Follower {
    /// Starts the follower, trusting the CA at `ca` for https, on loopback `port` (0:
    /// any), and waits until it listens. Fails, saying what to install, when `node` or
    /// the packages are missing.
    pub async fn start(ca: &Path, port: u16) -> Self {
        let dir = project();
        check_node();
        install(&dir);
        let mut child = Command::new("node")
            .arg("follower.mjs")
            .current_dir(&dir)
            .env("NODE_EXTRA_CA_CERTS", ca)
            .env("FEDIVERSE_WAIT_MS", FOLLOWER_WAIT_MS.to_string())
            .env("FEDIVERSE_LOG", "debug")
            .env("FEDIVERSE_PORT", port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run node: {e}"));
        let transcript = Arc::new(Mutex::new(Vec::new()));
        let (sender, lines) = mpsc::unbounded_channel();
        let stdout = child.stdout.take().unwrap();
        let kept = Arc::clone(&transcript);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                kept.lock().unwrap().push(line.clone());
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = child.stderr.take().unwrap();
        let kept = Arc::clone(&transcript);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                kept.lock().unwrap().push(format!("[stderr] {line}"));
            }
        });
        let stdin = child.stdin.take().unwrap();
        let mut follower = Self {
            child,
            stdin,
            lines,
            transcript,
            actor: String::new(),
        };
        let listening = follower.next_step("listening").await;
        follower.actor = listening["actor"].as_str().unwrap().to_owned();
        follower
    }

    /// Sends `command` and returns the line of `step` it answers with, which must say
    /// `"ok": true`; otherwise fails with the whole transcript.
    pub async fn step(&mut self, command: &str, step: &str) -> Value {
        let line = self.try_step(command, step).await;
        self.succeeded(step, line)
    }

    /// The line of a further `step` of the last command (`lookup` answers with
    /// `webfinger`, then `actor`), which must say `"ok": true`.
    pub async fn then(&mut self, step: &str) -> Value {
        let line = self.next_step(step).await;
        self.succeeded(step, line)
    }

    fn succeeded(&self, step: &str, line: Value) -> Value {
        if line["ok"] != true {
            panic!(
                "the follower's step {step:?} failed: {line:#}\n{}",
                self.transcript()
            );
        }
        line
    }

    /// [`Self::step`], returning the line whether or not it says ok.
    pub async fn try_step(&mut self, command: &str, step: &str) -> Value {
        writeln!(self.stdin, "{command}")
            .and_then(|()| self.stdin.flush())
            .unwrap_or_else(|e| panic!("writing {command:?} to the follower: {e}"));
        self.next_step(step).await
    }

    /// Reads lines until the one of `step`; fails after [`PATIENCE`] or if the follower
    /// exits, with the transcript.
    async fn next_step(&mut self, step: &str) -> Value {
        loop {
            let line = match tokio::time::timeout(PATIENCE, self.lines.recv()).await {
                Ok(Some(line)) => line,
                Ok(None) => panic!(
                    "the follower ended ({:?}) before step {step:?}\n{}",
                    self.child.try_wait(),
                    self.transcript()
                ),
                Err(_) => panic!(
                    "gave up waiting for the follower's step {step:?}\n{}",
                    self.transcript()
                ),
            };
            let Ok(value) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if value["step"] == step {
                return value;
            }
        }
    }

    /// Everything the follower printed so far: its steps, the requests that reached it
    /// and what Fedify answered, and Fedify's log.
    pub fn transcript(&self) -> String {
        let lines = self.transcript.lock().unwrap();
        format!("--- the Fedify follower\n{}\n", lines.join("\n"))
    }

    /// The requests that reached alice's inbox so far, as the follower reported them:
    /// each with its signature headers and the status Fedify answered.
    pub fn inbox_requests(&self) -> Vec<Value> {
        let lines = self.transcript.lock().unwrap();
        lines
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|value| value["event"] == "inbox")
            .collect()
    }

    /// Asks the follower to end, and waits (bounded) until it has.
    pub fn quit(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let child = &mut self.child;
        super::poll::until_blocking("the follower to exit", || match child.try_wait() {
            Ok(Some(status)) => Ok(status),
            _ => Err(String::new()),
        });
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tests/fediverse` of the repository.
fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fediverse")
}

/// Fails, saying what to install, unless `node --version` runs and says 20 or later.
fn check_node() {
    let output = Command::new("node").arg("--version").output().unwrap_or_else(|e| {
        panic!("node (Node.js 20 or later) is needed for the Fedify follower; .ci/run installs it: {e}")
    });
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .unwrap_or(0);
    assert!(
        major >= 20,
        "Node.js 20 or later is needed for the Fedify follower, found {version:?}"
    );
}
