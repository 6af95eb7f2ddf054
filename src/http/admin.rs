//! The admin listener: `/status`, `/metrics` and `/healthz` on an address of their own
//! (config key `admin_listen`: loopback TCP by default, or a Unix socket), never on the
//! public listener; and the small client `seedfeed status` reads `/status` with.
//!
//! The admin listener binds itself, also when systemd passes the public socket. A Unix
//! socket is created with mode 0660 (its owner and group may connect); a socket file
//! left by a daemon that did not stop cleanly is replaced at start, one a running server
//! answers on is an error, and the file is removed when the listener stops. Anything
//! else at that path is never removed.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use bytes::Bytes;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

use super::server::{Answering, Surface, Workers, serve};
use super::slots::Slots;
use crate::config::{AdminListen, Limits};

/// Connections the admin listener holds open at once: an operator or two and a
/// scraper; more wait for the public listener's connections not at all.
const ADMIN_CONNECTIONS: usize = 16;

/// The mode of the admin socket: the daemon's user and group may connect.
const SOCKET_MODE: u32 = 0o660;

/// How long `seedfeed status` waits for the whole answer: a daemon that accepts and
/// never answers must not hang the command.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest `/status` the client reads (it lists at most a few thousand files).
const MAX_FETCH_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("cannot listen on {address}")]
    Bind { address: String, source: io::Error },
    #[error("{} exists and is not a socket; it is left as it is", path.display())]
    NotASocket { path: PathBuf },
    #[error("{} is the socket of a server that is running", path.display())]
    InUse { path: PathBuf },
    #[error("the admin listener is off (admin_listen = \"off\")")]
    Off,
    #[error("cannot connect to {address}")]
    Connect { address: String, source: io::Error },
    #[error("{address} did not answer within {} s", FETCH_TIMEOUT.as_secs())]
    TimedOut { address: String },
    #[error("the request to {address} failed")]
    Request {
        address: String,
        source: hyper::Error,
    },
    #[error("cannot read the answer of {address}")]
    Read {
        address: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{address} answered {path} with {status}")]
    Status {
        address: String,
        path: String,
        status: StatusCode,
    },
}

/// The admin listener's socket, bound and not yet served.
pub enum AdminSocket {
    Tcp(std::net::TcpListener),
    Unix(std::os::unix::net::UnixListener, SocketFile),
}

impl AdminSocket {
    /// Where it listens, as the setting would name it (the port the system chose, for
    /// port 0).
    pub fn address(&self) -> AdminListen {
        match self {
            Self::Tcp(listener) => match listener.local_addr() {
                Ok(addr) => AdminListen::Tcp(addr),
                Err(_) => AdminListen::Off,
            },
            Self::Unix(_, file) => AdminListen::Unix(file.path.clone()),
        }
    }
}

/// Binds the admin listener `listen` names; `None` when it is off.
pub fn bind_admin(listen: &AdminListen) -> Result<Option<AdminSocket>, AdminError> {
    let bind_error = |source| AdminError::Bind {
        address: listen.to_string(),
        source,
    };
    match listen {
        AdminListen::Off => Ok(None),
        AdminListen::Tcp(addr) => {
            let mut listeners = super::bind(*addr, 1).map_err(bind_error)?;
            let listener = listeners.pop().ok_or_else(|| {
                bind_error(io::Error::other("the socket was bound but not returned"))
            })?;
            Ok(Some(AdminSocket::Tcp(listener)))
        }
        AdminListen::Unix(path) => {
            remove_stale(path)?;
            let listener = std::os::unix::net::UnixListener::bind(path).map_err(bind_error)?;
            // Before anyone can be told the path: the mode umask left is not ours.
            fs::set_permissions(path, fs::Permissions::from_mode(SOCKET_MODE))
                .map_err(bind_error)?;
            listener.set_nonblocking(true).map_err(bind_error)?;
            let file = SocketFile::of(path).map_err(bind_error)?;
            Ok(Some(AdminSocket::Unix(listener, file)))
        }
    }
}

/// Removes a socket file no server answers on (its daemon was killed); refuses to
/// touch one a server answers on, or anything that is not a socket.
fn remove_stale(path: &Path) -> Result<(), AdminError> {
    let metadata = match fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(unix_bind_error(path, source)),
    };
    if !metadata.file_type().is_socket() {
        return Err(AdminError::NotASocket {
            path: path.to_owned(),
        });
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(AdminError::InUse {
            path: path.to_owned(),
        }),
        Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => {
            tracing::info!(path = %path.display(), "removing the admin socket a previous run left");
            fs::remove_file(path).map_err(|source| unix_bind_error(path, source))
        }
        Err(source) => Err(unix_bind_error(path, source)),
    }
}

fn unix_bind_error(path: &Path, source: io::Error) -> AdminError {
    AdminError::Bind {
        address: AdminListen::Unix(path.to_owned()).to_string(),
        source,
    }
}

/// The socket file the admin listener created: removed when dropped, unless another
/// file has taken its place since.
pub struct SocketFile {
    path: PathBuf,
    /// Device and inode of the file we bound, so that only it is removed.
    identity: (u64, u64),
}

impl SocketFile {
    fn of(path: &Path) -> io::Result<Self> {
        let metadata = fs::symlink_metadata(path)?;
        Ok(Self {
            path: path.to_owned(),
            identity: (metadata.dev(), metadata.ino()),
        })
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let ours =
            fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.identity);
        if ours && let Err(error) = fs::remove_file(&self.path) {
            tracing::warn!(path = %self.path.display(), %error, "cannot remove the admin socket");
        }
    }
}

/// The running admin listener: one worker thread, and the socket file it removes when it
/// stops.
pub struct Admin {
    workers: Workers,
    _file: Option<SocketFile>,
}

/// Starts the admin listener's worker on `socket`, answering with `app`.
pub fn start_admin(
    socket: AdminSocket,
    app: Arc<super::AppState>,
    limits: Limits,
) -> io::Result<Admin> {
    let answering = Answering {
        app,
        surface: Surface::Admin,
        limits,
        slots: Slots::new(ADMIN_CONNECTIONS, limits.stalled_answer_timeout),
    };
    let mut workers = Workers::new();
    let name = "seedfeed-admin".to_owned();
    let file = match socket {
        AdminSocket::Tcp(listener) => {
            workers.spawn(name, move |shutdown| async move {
                match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => serve(listener, answering, shutdown).await,
                    Err(error) => tracing::error!(%error, "the admin listener could not start"),
                }
            })?;
            None
        }
        AdminSocket::Unix(listener, file) => {
            workers.spawn(name, move |shutdown| async move {
                match tokio::net::UnixListener::from_std(listener) {
                    Ok(listener) => serve(listener, answering, shutdown).await,
                    Err(error) => tracing::error!(%error, "the admin listener could not start"),
                }
            })?;
            Some(file)
        }
    };
    Ok(Admin {
        workers,
        _file: file,
    })
}

impl Admin {
    /// The worker's runtime, for the watchdog.
    pub fn runtimes(&self) -> Vec<tokio::runtime::Handle> {
        self.workers.runtimes()
    }

    /// Stops accepting, lets requests in flight finish, and removes the socket file.
    /// Blocks: call it off the async workers.
    pub fn stop(self) {
        self.workers.stop();
    }
}

/// GETs `path` from the admin listener at `address` and returns the body of its 200:
/// what `seedfeed status` runs. The error says what was tried.
pub async fn fetch_admin(address: &AdminListen, path: &str) -> Result<Bytes, AdminError> {
    let shown = address.to_string();
    let fetch = async {
        match address {
            AdminListen::Off => Err(AdminError::Off),
            AdminListen::Tcp(addr) => {
                let stream = tokio::net::TcpStream::connect(addr).await;
                get(stream, &shown, path).await
            }
            AdminListen::Unix(file) => {
                let stream = tokio::net::UnixStream::connect(file).await;
                get(stream, &shown, path).await
            }
        }
    };
    tokio::time::timeout(FETCH_TIMEOUT, fetch)
        .await
        .unwrap_or_else(|_| Err(AdminError::TimedOut { address: shown }))
}

/// One GET over a fresh connection (HTTP/1.1, closed after the answer).
async fn get<S>(stream: io::Result<S>, address: &str, path: &str) -> Result<Bytes, AdminError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let stream = stream.map_err(|source| AdminError::Connect {
        address: address.to_owned(),
        source,
    })?;
    let failed = |source| AdminError::Request {
        address: address.to_owned(),
        source,
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(failed)?;
    tokio::spawn(connection);
    let request = Request::get(path)
        .header(header::HOST, "localhost")
        .header(header::CONNECTION, "close")
        .body(Body::empty())
        .map_err(|e| AdminError::Read {
            address: address.to_owned(),
            source: e.into(),
        })?;
    let response = sender.send_request(request).await.map_err(failed)?;
    if response.status() != StatusCode::OK {
        return Err(AdminError::Status {
            address: address.to_owned(),
            path: path.to_owned(),
            status: response.status(),
        });
    }
    axum::body::to_bytes(Body::new(response.into_body()), MAX_FETCH_BYTES)
        .await
        .map_err(|e| AdminError::Read {
            address: address.to_owned(),
            source: e.into(),
        })
}
