//! nginx as an https reverse proxy on a loopback port, for clients that insist on https
//! (Fedify's WebFinger lookups): its certificate, for `127.0.0.1`, is signed by a
//! throwaway CA made at test time with the `openssl` command, which the client is told
//! to trust (Node reads it from `NODE_EXTRA_CA_CERTS`). The proxy keeps the `Host` the
//! client sent, which HTTP signatures cover, and says `X-Forwarded-Proto: https`.

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tempfile::TempDir;

use super::poll::{until_blocking, within_blocking};

/// A running nginx that proxies `https://127.0.0.1:{port}` to a plain HTTP upstream.
/// nginx in the foreground with `work/nginx.conf`, its paths under `work` and its log in
/// `work/error.log`, in a process group of its own (so that its workers stop with it).
pub fn spawn_nginx(work: &Path) -> Child {
    let binary = ["/usr/sbin/nginx", "/usr/local/sbin/nginx"]
        .into_iter()
        .find(|path| Path::new(path).exists())
        .unwrap_or("nginx");
    Command::new(binary)
        .arg("-p")
        .arg(work)
        .arg("-e")
        .arg(work.join("error.log"))
        .arg("-c")
        .arg(work.join("nginx.conf"))
        .args(["-g", "daemon off;"])
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("nginx is needed (apt-get install nginx): {e}"))
}

/// Dropping it stops it.
pub struct TlsProxy {
    child: Child,
    work: TempDir,
    port: u16,
}

impl TlsProxy {
    /// nginx on `port` (from [`super::daemon::free_port`], chosen before the upstream
    /// started, since the upstream's base URL names it) in front of `upstream`
    /// (`host:port`), once it accepts connections.
    pub fn start(port: u16, upstream: &str) -> Self {
        let work = tempfile::tempdir().unwrap();
        throwaway_ca(work.path());
        std::fs::write(
            work.path().join("nginx.conf"),
            nginx_conf(work.path(), port, upstream),
        )
        .unwrap();
        let child = spawn_nginx(work.path());
        let mut proxy = Self { child, work, port };
        let (child, work) = (&mut proxy.child, proxy.work.path());
        // Something answering on the port is not enough: another server may hold it, and
        // a client would meet a certificate from another CA. nginx writes its pid file
        // only once it has bound its sockets (with `daemon off`, the pid is the child's).
        let pid = child.id().to_string();
        until_blocking("nginx to bind its port and accept connections", || {
            if let Some(exit) = child.try_wait().unwrap() {
                panic!("nginx exited ({exit}):\n{}", logs(work));
            }
            let written = std::fs::read_to_string(work.join("nginx.pid")).unwrap_or_default();
            if written.trim() != pid {
                return Err(format!("nginx.pid holds {written:?}, not {pid}"));
            }
            std::net::TcpStream::connect(("127.0.0.1", port))
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
        proxy
    }

    /// `https://127.0.0.1:{port}`.
    pub fn base(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The CA certificate (PEM) a client must trust.
    pub fn ca(&self) -> PathBuf {
        self.work.path().join("ca.pem")
    }

    /// nginx's access log (one line a request, with the upstream's status) and error
    /// log, to show with a failure.
    pub fn log(&self) -> String {
        logs(self.work.path())
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        stop_nginx(&mut self.child);
    }
}

/// Stops an nginx of [`spawn_nginx`]: its whole group, since a master killed alone
/// leaves its worker behind, still holding the port. SIGTERM first, for a clean stop.
pub fn stop_nginx(child: &mut Child) {
    let group = Pid::from_raw(child.id() as i32);
    let _ = killpg(group, Signal::SIGTERM);
    let stopped = within_blocking(
        Duration::from_secs(10),
        Duration::from_millis(20),
        || match child.try_wait() {
            Ok(Some(_)) => Ok(()),
            _ => Err(()),
        },
    );
    let _ = killpg(group, Signal::SIGKILL);
    if stopped.is_err() {
        let _ = child.wait();
    }
}

fn logs(work: &Path) -> String {
    let read = |name: &str| std::fs::read_to_string(work.join(name)).unwrap_or_default();
    format!(
        "--- nginx access.log\n{}--- nginx error.log\n{}",
        read("access.log"),
        read("error.log")
    )
}

fn nginx_conf(work: &Path, port: u16, upstream: &str) -> String {
    let w = work.display();
    // As root (who owns what it creates), nginx's workers would run as nobody and could
    // not use the temp folder.
    let user = if work.metadata().unwrap().uid() == 0 {
        "user root;"
    } else {
        ""
    };
    format!(
        "{user}
worker_processes 1;
pid {w}/nginx.pid;
error_log {w}/error.log warn;
events {{ worker_connections 64; }}
http {{
    log_format proxied '$request $status upstream=$upstream_status host=$http_host';
    access_log {w}/access.log proxied;
    client_body_temp_path {w}/body;
    proxy_temp_path {w}/proxy;
    fastcgi_temp_path {w}/fastcgi;
    uwsgi_temp_path {w}/uwsgi;
    scgi_temp_path {w}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {w}/server.pem;
        ssl_certificate_key {w}/server.key;
        location / {{
            proxy_pass http://{upstream};
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-For $remote_addr;
        }}
    }}
}}
"
    )
}

/// Writes `ca.pem` (a CA made for this test alone) and `server.pem`/`server.key` (a
/// certificate for the IP address 127.0.0.1 that it signed) into `dir`.
fn throwaway_ca(dir: &Path) {
    const EC: &str = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    openssl(
        dir,
        &format!(
            "req -x509 {EC} -keyout ca.key -out ca.pem -days 2 -subj /CN=seedfeed-test-CA \
             -addext basicConstraints=critical,CA:TRUE \
             -addext keyUsage=critical,keyCertSign,cRLSign"
        ),
    );
    openssl(
        dir,
        &format!("req -new {EC} -keyout server.key -out server.csr -subj /CN=127.0.0.1"),
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 1 -days 2 \
         -extfile server.ext -out server.pem",
    );
}

/// Runs `openssl` in `dir` with `args` (split at white space).
fn openssl(dir: &Path, args: &str) {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(args.split_whitespace())
        .output()
        .unwrap_or_else(|e| panic!("the openssl command is needed (apt-get install openssl): {e}"));
    assert!(
        output.status.success(),
        "openssl {args}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
