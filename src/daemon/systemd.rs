//! The systemd service protocol: state messages to `NOTIFY_SOCKET` (sd_notify(3)), the
//! watchdog period (`WATCHDOG_USEC`, `WATCHDOG_PID`), and the listening socket passed by
//! socket activation (`LISTEN_FDS`, `LISTEN_PID`, sd_listen_fds(3)). Outside systemd none
//! of these variables is set, and all of this is a silent no-op.
//!
//! The rules (which variable applies to this process, what a message looks like) are
//! pure functions of the variables' values; only the thin wrappers read the environment.

use std::ffi::OsStr;
use std::io;
#[cfg(target_os = "linux")]
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

use crate::logging::error_chain;
use crate::publish::Status;

#[derive(Debug, thiserror::Error)]
pub enum SystemdError {
    #[error("NOTIFY_SOCKET={value:?} is not a socket path (/…) or abstract name (@…)")]
    NotifyAddress { value: String },
    #[error("NOTIFY_SOCKET={value:?}: cannot open a socket to notify systemd")]
    NotifySocket { value: String, source: io::Error },
    #[error("LISTEN_FDS={value:?} is not a number of sockets")]
    ListenFds { value: String },
    #[error("socket activation: the socket passed as fd 3 is not a TCP listening socket")]
    NotTcp { source: io::Error },
}

/// One line of an sd_notify message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State<'a> {
    /// Start-up or a reload is finished: the service is serving.
    Ready,
    /// A reload began; `Ready` ends it.
    Reloading,
    /// Shutdown began.
    Stopping,
    /// The keep-alive of the watchdog.
    Watchdog,
    /// Free text shown by `systemctl status`.
    Status(&'a str),
}

/// The datagram for `states`: one `KEY=VALUE` line each. A status is one line, so any
/// line break in it becomes a space (a newline would start a new assignment).
pub fn encode(states: &[State<'_>]) -> String {
    let mut message = String::new();
    for state in states {
        match state {
            State::Ready => message.push_str("READY=1\n"),
            State::Reloading => message.push_str("RELOADING=1\n"),
            State::Stopping => message.push_str("STOPPING=1\n"),
            State::Watchdog => message.push_str("WATCHDOG=1\n"),
            State::Status(text) => {
                message.push_str("STATUS=");
                message.extend(text.chars().map(|c| if c == '\n' { ' ' } else { c }));
                message.push('\n');
            }
        }
    }
    message
}

/// The address `NOTIFY_SOCKET` names: a path, or with a leading `@` a name in the
/// abstract namespace (as systemd passes to services in some set-ups). The abstract
/// namespace is Linux's, as systemd is: elsewhere only a path is taken.
pub fn notify_address(value: &OsStr) -> Result<SocketAddr, SystemdError> {
    let bytes = value.as_bytes();
    let invalid = || SystemdError::NotifyAddress {
        value: value.to_string_lossy().into_owned(),
    };
    let address = match bytes.first() {
        #[cfg(target_os = "linux")]
        Some(b'@') => SocketAddr::from_abstract_name(&bytes[1..]),
        Some(b'/') => SocketAddr::from_pathname(value),
        _ => return Err(invalid()),
    };
    address.map_err(|_| invalid())
}

/// Where state messages go: the service manager's socket, or nowhere.
#[derive(Debug, Default)]
pub struct Notifier {
    target: Option<(UnixDatagram, SocketAddr)>,
}

impl Notifier {
    /// The notifier `NOTIFY_SOCKET` asks for; without it, one that sends nothing. A
    /// value that cannot be used is logged, and the daemon runs on without notifying.
    pub fn from_env() -> Self {
        let value = std::env::var_os("NOTIFY_SOCKET");
        Self::to_socket(value.as_deref()).unwrap_or_else(|error| {
            tracing::error!(error = %error_chain(&error), "not notifying systemd");
            Self::default()
        })
    }

    pub fn to_socket(value: Option<&OsStr>) -> Result<Self, SystemdError> {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return Ok(Self::default());
        };
        let address = notify_address(value)?;
        let socket = UnixDatagram::unbound().map_err(|source| SystemdError::NotifySocket {
            value: value.to_string_lossy().into_owned(),
            source,
        })?;
        Ok(Self {
            target: Some((socket, address)),
        })
    }

    /// Sends `states` in one datagram. A failure is logged, never fatal: the service
    /// manager restarts a daemon that stays silent, which is the right outcome.
    pub fn notify(&self, states: &[State<'_>]) {
        let Some((socket, address)) = &self.target else {
            return;
        };
        let message = encode(states);
        if let Err(error) = socket.send_to_addr(message.as_bytes(), address) {
            tracing::warn!(%error, message = message.trim_end(), "cannot notify systemd");
        }
    }
}

/// What `systemctl status` shows while the daemon serves.
pub fn status_text(status: &Status) -> String {
    format!(
        "serving; entries: {}, rejected files: {}, duplicates: {}",
        status.entries, status.files.rejected, status.files.duplicates
    )
}

/// How often to send the watchdog keep-alive: half of `WATCHDOG_USEC`, as sd_watchdog_enabled(3)
/// advises, when the watchdog is on and meant for this process (`WATCHDOG_PID`, when
/// set, names it).
pub fn keep_alive_period(usec: Option<&str>, pid: Option<&str>, own_pid: u32) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok().filter(|&n| n > 0)?;
    if let Some(pid) = pid
        && pid.trim().parse::<u32>().ok() != Some(own_pid)
    {
        return None;
    }
    Some(Duration::from_micros(usec / 2))
}

/// [`keep_alive_period`] from this process's environment.
pub fn watchdog_period() -> Option<Duration> {
    let usec = env_string("WATCHDOG_USEC");
    let pid = env_string("WATCHDOG_PID");
    keep_alive_period(usec.as_deref(), pid.as_deref(), std::process::id())
}

/// How many sockets the service manager passed to this process, from fd 3 on
/// (sd_listen_fds(3)): none unless `LISTEN_PID` names this process, so that variables
/// inherited from a parent that was socket-activated itself are ignored.
pub fn passed_sockets(
    listen_pid: Option<&str>,
    listen_fds: Option<&str>,
    own_pid: u32,
) -> Result<usize, SystemdError> {
    let for_us = listen_pid.and_then(|p| p.trim().parse::<u32>().ok()) == Some(own_pid);
    match listen_fds {
        Some(value) if for_us => value.trim().parse().map_err(|_| SystemdError::ListenFds {
            value: value.to_owned(),
        }),
        _ => Ok(0),
    }
}

/// The listening socket systemd passed (socket activation), if it passed one: the first
/// (fd 3). Call it before any thread starts: taking it clears `LISTEN_FDS` and
/// `LISTEN_PID` from the environment, so that no child inherits them.
pub fn activated_listener() -> Result<Option<std::net::TcpListener>, SystemdError> {
    let listen_pid = env_string("LISTEN_PID");
    let listen_fds = env_string("LISTEN_FDS");
    let count = passed_sockets(
        listen_pid.as_deref(),
        listen_fds.as_deref(),
        std::process::id(),
    )?;
    if count == 0 {
        return Ok(None);
    }
    if count > 1 {
        tracing::warn!(
            sockets = count,
            "socket activation passed several sockets; serving on the first (fd 3)"
        );
    }
    // listenfd takes ownership of fd 3 after checking that it is a TCP socket; owning a
    // raw fd needs `unsafe`, which this crate forbids itself.
    let listener = listenfd::ListenFd::from_env()
        .take_tcp_listener(0)
        .map_err(|source| SystemdError::NotTcp { source })?
        .ok_or_else(|| SystemdError::NotTcp {
            source: io::Error::new(io::ErrorKind::NotFound, "no socket at fd 3"),
        })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| SystemdError::NotTcp { source })?;
    Ok(Some(listener))
}

fn env_string(name: &str) -> Option<String> {
    std::env::var_os(name).and_then(|v| v.into_string().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_assignment_per_line() {
        assert_eq!(
            encode(&[State::Ready, State::Status("13 entries\nand more")]),
            "READY=1\nSTATUS=13 entries and more\n"
        );
        assert_eq!(encode(&[State::Reloading]), "RELOADING=1\n");
        assert_eq!(encode(&[State::Stopping]), "STOPPING=1\n");
        assert_eq!(encode(&[State::Watchdog]), "WATCHDOG=1\n");
    }

    #[test]
    fn notify_socket_is_a_path_or_an_abstract_name() {
        let path = notify_address(OsStr::new("/run/systemd/notify")).unwrap();
        assert_eq!(
            path.as_pathname(),
            Some(std::path::Path::new("/run/systemd/notify"))
        );
        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            let name = notify_address(OsStr::new("@/org/systemd/notify")).unwrap();
            assert_eq!(name.as_abstract_name(), Some(&b"/org/systemd/notify"[..]));
        }
        assert!(notify_address(OsStr::new("relative/notify")).is_err());
        assert!(notify_address(OsStr::new("vsock:2:1234")).is_err());
    }

    #[test]
    fn no_notify_socket_sends_nothing() {
        let notifier = Notifier::to_socket(None).unwrap();
        assert!(notifier.target.is_none());
        let notifier = Notifier::to_socket(Some(OsStr::new(""))).unwrap();
        assert!(notifier.target.is_none());
        // A silent no-op, not an error.
        notifier.notify(&[State::Ready]);
    }

    #[test]
    fn keep_alive_is_half_the_watchdog_timeout_of_this_process() {
        assert_eq!(
            keep_alive_period(Some("30000000"), None, 7),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            keep_alive_period(Some("30000000"), Some("7"), 7),
            Some(Duration::from_secs(15))
        );
        // Meant for another process, off, or malformed.
        assert_eq!(keep_alive_period(Some("30000000"), Some("8"), 7), None);
        assert_eq!(keep_alive_period(Some("0"), None, 7), None);
        assert_eq!(keep_alive_period(None, Some("7"), 7), None);
        assert_eq!(keep_alive_period(Some("soon"), None, 7), None);
    }

    #[test]
    fn sockets_are_ours_only_when_listen_pid_names_us() {
        assert_eq!(passed_sockets(Some("42"), Some("1"), 42).unwrap(), 1);
        assert_eq!(passed_sockets(Some("42"), Some("2"), 42).unwrap(), 2);
        assert_eq!(passed_sockets(Some("41"), Some("1"), 42).unwrap(), 0);
        // sd_listen_fds(3) requires LISTEN_PID.
        assert_eq!(passed_sockets(None, Some("1"), 42).unwrap(), 0);
        assert_eq!(passed_sockets(Some("42"), None, 42).unwrap(), 0);
        let error = passed_sockets(Some("42"), Some("one"), 42).unwrap_err();
        assert!(error.to_string().contains("LISTEN_FDS"), "{error}");
    }
}
