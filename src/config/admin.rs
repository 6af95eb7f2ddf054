//! Where the admin listener (`/status`, `/metrics`, `/healthz`) listens, as the
//! configuration names it: a TCP address, a Unix socket, or nowhere. The listener itself
//! is `http`'s; this is only the setting's value, which `serve` binds and
//! `seedfeed status` connects to.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The value of config key `admin_listen`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminListen {
    /// A TCP address, loopback unless the operator chose otherwise.
    Tcp(SocketAddr),
    /// A Unix socket at this path (`unix:PATH`, or an absolute path as it is).
    Unix(PathBuf),
    /// No admin listener: `/status` and `/metrics` are served nowhere.
    Off,
}

impl AdminListen {
    /// The prefix that names a Unix socket.
    pub const UNIX_PREFIX: &'static str = "unix:";

    /// Reads the setting; the error says what is expected.
    pub fn from_text(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "off" {
            return Ok(Self::Off);
        }
        if let Some(path) = text.strip_prefix(Self::UNIX_PREFIX) {
            if path.is_empty() {
                return Err(format!("{text:?} names no socket file: write unix:PATH"));
            }
            return Ok(Self::Unix(PathBuf::from(path)));
        }
        // A bare absolute path is a socket too: it cannot be mistaken for an address.
        if text.starts_with('/') {
            return Ok(Self::Unix(PathBuf::from(text)));
        }
        // The address forms of `listen` (`localhost:8081`, `:8081`).
        super::parse_listen(text).map(Self::Tcp).map_err(|_| {
            format!(
                "{text:?} is not an address like 127.0.0.1:8081, a Unix socket like \
                 unix:/run/seedfeed/admin.sock, or off"
            )
        })
    }
}

/// As the setting spells it, so that an error or a log line can be pasted back.
impl fmt::Display for AdminListen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(addr) => write!(f, "{addr}"),
            Self::Unix(path) => write!(f, "{}{}", Self::UNIX_PREFIX, path.display()),
            Self::Off => f.write_str("off"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_sockets_and_off_are_read_and_written_back() {
        for (text, expected) in [
            (
                "127.0.0.1:8081",
                AdminListen::Tcp("127.0.0.1:8081".parse().unwrap()),
            ),
            ("[::1]:9", AdminListen::Tcp("[::1]:9".parse().unwrap())),
            (
                "unix:/run/seedfeed/admin.sock",
                AdminListen::Unix("/run/seedfeed/admin.sock".into()),
            ),
            ("unix:admin.sock", AdminListen::Unix("admin.sock".into())),
            ("off", AdminListen::Off),
        ] {
            let read = AdminListen::from_text(text).unwrap();
            assert_eq!(read, expected, "{text}");
            assert_eq!(read.to_string(), text);
        }
        assert_eq!(
            AdminListen::from_text("/run/a.sock").unwrap(),
            AdminListen::Unix("/run/a.sock".into())
        );
    }

    #[test]
    fn anything_else_is_refused_with_what_is_expected() {
        for text in ["8081", "localhost", "unix:", "on", ""] {
            let error = AdminListen::from_text(text).unwrap_err();
            assert!(
                error.contains("127.0.0.1:8081") || error.contains("unix:PATH"),
                "{text}: {error}"
            );
        }
    }

    #[test]
    fn the_default_is_loopback_beside_listen_and_never_listen_itself() {
        use crate::config::{Layer, validate};
        let config = validate(Layer::defaults()).unwrap();
        assert_eq!(config.admin_listen.to_string(), "127.0.0.1:8081");
        let same = Layer {
            listen: Some("127.0.0.1:9000".into()),
            admin_listen: Some("127.0.0.1:9000".into()),
            ..Layer::default()
        };
        let error = validate(same.over(Layer::defaults())).unwrap_err();
        assert!(error.to_string().contains("admin_listen"), "{error}");
        // Two ports chosen by the system are two ports.
        let any = Layer {
            listen: Some("127.0.0.1:0".into()),
            admin_listen: Some("127.0.0.1:0".into()),
            ..Layer::default()
        };
        assert!(validate(any.over(Layer::defaults())).is_ok());
    }
}
