//! The `seedfeed` binary as a child process, run as an operator, a user or systemd runs
//! it: an empty environment, its log collected line by line, signals, and bounded waits
//! for a log line or the exit.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::poll::until_blocking;

/// The binary with an empty environment, so that no `SEEDFEED_*` variable of the test
/// run leaks in.
pub fn seedfeed() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_seedfeed"));
    command.env_clear();
    command
}

/// [`seedfeed`] run from `cwd`, so that the default `./seeds` and `./data` never point
/// into the repository.
pub fn seedfeed_in(cwd: &std::path::Path) -> Command {
    let mut command = seedfeed();
    command.current_dir(cwd);
    command
}

/// How a command that ran to its end ended: its exit code and what it printed.
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub fn of(output: std::process::Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl std::fmt::Display for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `command` to its end.
pub fn run(command: &mut Command) -> Ran {
    Ran::of(command.output().expect("the seedfeed binary runs"))
}

/// A running binary, its stderr collected line by line. Dropping it kills it.
pub struct Binary {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Binary {
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                lines.lock().unwrap().push(line);
            }
        });
        Self { child, log }
    }

    pub fn log(&self) -> String {
        joined(&self.log)
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = self.log.lock().unwrap();
        log[log.len().saturating_sub(lines)..].join("\n")
    }

    /// Polls the log until a line holds `text`; returns that line.
    pub fn wait_for_log(&mut self, text: &str) -> String {
        let (log, child) = (&self.log, &mut self.child);
        until_blocking(&format!("a log line with {text:?}"), || {
            if let Some(line) = log.lock().unwrap().iter().find(|l| l.contains(text)) {
                return Ok(line.clone());
            }
            if let Some(exit) = child.try_wait().unwrap() {
                panic!("exited ({exit}) before logging {text:?}:\n{}", joined(log));
            }
            Err(format!("\n{}", joined(log)))
        })
    }

    /// The address from the "listening" line.
    pub fn address(&mut self) -> String {
        let line = self.wait_for_log("listening");
        let addr = line
            .split_whitespace()
            .find_map(|field| field.strip_prefix("addr="))
            .unwrap_or_else(|| panic!("no addr= in {line:?}"));
        format!("http://{addr}")
    }

    /// The process id, to look at it in `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), signal).unwrap();
    }

    /// Kills it with SIGKILL (no handler runs, nothing is flushed) and reaps it.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Waits for the exit and returns its code.
    pub fn wait_for_exit(&mut self) -> Option<i32> {
        let (log, child) = (&self.log, &mut self.child);
        until_blocking("the exit", || match child.try_wait().unwrap() {
            Some(exit) => Ok(exit.code()),
            None => Err(format!("\n{}", joined(log))),
        })
    }
}

fn joined(log: &Mutex<Vec<String>>) -> String {
    log.lock().unwrap().join("\n")
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
