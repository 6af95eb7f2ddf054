//! The fan-out to the fediverse: one new article delivered to 1,000 followers on 100
//! hosts. Run through `bench/fanout.sh`, which builds the release daemon and passes its
//! path; without `--binary` (a plain `cargo bench`) this prints how to run it and exits.
//!
//! 1. H inbox servers (`--hosts`, 100) in this process, each an HTTP/1.1 server on its
//!    own loopback address, 127.0.0.1 … 127.0.0.H, and its own port; with
//!    `--one-address` all on 127.0.0.1, told apart by their ports only. Each serves the
//!    documents of A actors (`--actors`, 10 per host: `/users/u0` …, one RSA key for all
//!    of them, made here) with one shared inbox, `/inbox`, which records every POST: the
//!    time its body was read, its activity, and whether its signature verifies with the
//!    site's public key (from its actor document).
//! 2. The release daemon on a fresh seeds folder (the repository's `seeds/`) and data
//!    folder, with a config file that turns `[activitypub]` on with `allow_private` and a
//!    `base_url` on loopback (`deliveries_per_second` and every limit at their defaults;
//!    with `--one-address`, `inbox_per_minute` raised so that the follows from one
//!    address are taken).
//! 3. All H × A actors follow the site: Follows signed (RFC 9421) with
//!    `seedfeed::activitypub::signature`, POSTed to its `/inbox`, 8 at a time. The run
//!    goes on once `/status` (admin listener) counts them all under
//!    `activitypub.followers` and every Accept arrived.
//! 4. R times (`--runs`, 5): a new article written into the seeds folder in one write.
//!    From the writer's close(): the time to the first and to the last host reading its
//!    Create; the daemon's CPU time (utime + stime of /proc/PID/stat, in clock ticks) from
//!    just before the write to the last Create, and per delivery. Once nothing is pending,
//!    each host must have exactly one Create of it (one POST per shared inbox).
//!
//! Signing's share of that CPU: 100 `InstanceKey::sign_rsa_sha256` calls with the
//! daemon's own key (read from its data folder) after each run, timed on this thread's
//! CPU clock (/proc/thread-self/schedstat), times the POSTs of the run (one RSA signature
//! each), over the run's CPU. With `--perf`, also `perf record -e cpu-clock` on the daemon
//! during each fan-out, and the share of its samples in AWS-LC's functions (`aws_lc_*`:
//! the RSA signatures and the SHA-256 digests of the bodies, the only use of AWS-LC in a
//! fan-out).
//!
//! Prints a Markdown table, medians and every run. Exits non-zero when a host missed its
//! Create or got more than one, or a signature did not verify. The daemon (and perf) are
//! stopped on the way out, on an error or a signal too; the daemon's log stays in the
//! work folder (`--work`, made by the script, which removes the rest).

#![allow(clippy::unwrap_used)] // a benchmark that cannot unwrap has failed
#![allow(clippy::print_stdout)] // the report is the benchmark's output

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use seedfeed::activitypub::keys::{InstanceKey, RemoteKey};
use seedfeed::activitypub::signature::{self, OutgoingRequest, Signer};
use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore};
use url::Url;

const ACTIVITY_JSON: &str = "application/activity+json";
/// The target: every host has the Create within this long of the close().
const TARGET_LAST: Duration = Duration::from_secs(2);
/// The target: signing is at most this share of the fan-out's CPU.
const TARGET_SIGNING: f64 = 1.0 / 3.0;
/// Signatures timed after each run.
const SIGNS_TIMED: u32 = 100;
/// Follows sent at once.
const FOLLOWS_AT_ONCE: usize = 8;
/// Bounds on every wait.
const START_TIMEOUT: Duration = Duration::from_secs(60);
const FOLLOW_TIMEOUT: Duration = Duration::from_secs(600);
const DROP_TIMEOUT: Duration = Duration::from_secs(120);
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// After the outbox is empty, how long a second Create would have to come.
const GRACE: Duration = Duration::from_millis(500);

struct Args {
    binary: PathBuf,
    work: PathBuf,
    runs: usize,
    hosts: usize,
    actors: usize,
    one_address: bool,
    perf: bool,
    command: String,
}

impl Args {
    /// The arguments; None without `--binary` (`cargo bench` runs every bench target).
    fn parse() -> anyhow::Result<Option<Args>> {
        let mut binary = None;
        let mut work = None;
        let (mut runs, mut hosts, mut actors) = (5, 100, 10);
        let (mut one_address, mut perf) = (false, false);
        let mut command = "bench/fanout.sh".to_owned();
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || args.next().with_context(|| format!("{arg} takes a value"));
            match arg.as_str() {
                "--binary" => binary = Some(PathBuf::from(value()?)),
                "--work" => work = Some(PathBuf::from(value()?)),
                "--runs" => runs = value()?.parse().context("--runs")?,
                "--hosts" => hosts = value()?.parse().context("--hosts")?,
                "--actors" => actors = value()?.parse().context("--actors")?,
                "--command" => command = value()?,
                "--one-address" => one_address = true,
                "--perf" => perf = true,
                "--bench" => {} // what `cargo bench` adds
                other => bail!("unknown argument {other}"),
            }
        }
        let Some(binary) = binary else {
            return Ok(None);
        };
        if runs == 0 || actors == 0 || !(1..=250).contains(&hosts) {
            bail!("--runs and --actors must be at least 1, --hosts 1 to 250");
        }
        let work = work.context("--work DIR is needed with --binary")?;
        Ok(Some(Args {
            binary,
            work,
            runs,
            hosts,
            actors,
            one_address,
            perf,
            command,
        }))
    }
}

fn main() -> ExitCode {
    let args = match Args::parse() {
        Ok(Some(args)) => args,
        Ok(None) => {
            eprintln!("the fan-out benchmark runs through bench/fanout.sh");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("{error:#}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let result = runtime.block_on(async {
        tokio::select! {
            result = bench(&args) => result,
            () = interrupted() => Err(anyhow::anyhow!("interrupted")),
        }
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("a host missed its Create, got more than one, or a signature is bad");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("the fan-out benchmark failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Ctrl-C, SIGTERM or SIGHUP: the daemon is stopped as `bench` is dropped.
async fn interrupted() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).unwrap();
    let mut hangup = signal(SignalKind::hangup()).unwrap();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
        _ = hangup.recv() => {}
    }
}

// ---- the inbox servers --------------------------------------------------------------

/// One POST an inbox read.
struct Post {
    host: usize,
    kind: String,
    /// The id of the activity's object (a Create's entry URL, an Accept's Follow).
    object: String,
    at: Instant,
    verified: bool,
}

impl Post {
    /// Whether it is a `kind` whose object's id ends with `object`.
    fn is(&self, kind: &str, object: &str) -> bool {
        self.kind == kind && self.object.ends_with(object)
    }
}

struct Fleet {
    /// The actors' key, shared by all of them.
    key: InstanceKey,
    site_key: Mutex<Option<RemoteKey>>,
    posts: Mutex<Vec<Post>>,
    arrived: Notify,
    /// Each host's base URL, `http://127.0.0.N:PORT`.
    hosts: Vec<String>,
}

struct HostState {
    fleet: Arc<Fleet>,
    index: usize,
}

impl Fleet {
    /// Binds the H servers and serves them on this runtime.
    fn start(hosts: usize, one_address: bool) -> anyhow::Result<Arc<Fleet>> {
        let mut listeners = Vec::new();
        for h in 0..hosts {
            let last = if one_address { 1 } else { h + 1 };
            let ip = Ipv4Addr::new(127, 0, 0, u8::try_from(last)?);
            let listener = StdListener::bind(SocketAddr::new(IpAddr::V4(ip), 0))
                .with_context(|| format!("binding an inbox server on {ip}"))?;
            listener.set_nonblocking(true)?;
            listeners.push(listener);
        }
        let fleet = Arc::new(Fleet {
            key: InstanceKey::generate().context("making the actors' key")?,
            site_key: Mutex::new(None),
            posts: Mutex::new(Vec::new()),
            arrived: Notify::new(),
            hosts: listeners
                .iter()
                .map(|l| Ok(format!("http://{}", l.local_addr()?)))
                .collect::<std::io::Result<_>>()?,
        });
        for (index, listener) in listeners.into_iter().enumerate() {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            let state = Arc::new(HostState {
                fleet: Arc::clone(&fleet),
                index,
            });
            let app = Router::new().fallback(answer).with_state(state);
            tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            });
        }
        Ok(fleet)
    }

    fn actor_id(&self, host: usize, actor: usize) -> String {
        format!("{}/users/u{actor}", self.hosts[host])
    }

    /// How many POSTs of `kind` each host read whose object's id ends with `object`.
    fn received(&self, kind: &str, object: &str) -> Vec<usize> {
        let mut counts = vec![0; self.hosts.len()];
        for post in self.posts.lock().unwrap().iter() {
            if post.is(kind, object) {
                counts[post.host] += 1;
            }
        }
        counts
    }

    /// Waits (at most `limit`) until `done` holds for the posts; whether it did.
    async fn wait_for(&self, limit: Duration, done: impl Fn(&[Post]) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if done(&self.posts.lock().unwrap()) {
                return true;
            }
            let waited = tokio::time::timeout_at(deadline, self.arrived.notified()).await;
            if waited.is_err() {
                return done(&self.posts.lock().unwrap());
            }
        }
    }
}

async fn answer(State(host): State<Arc<HostState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let at = Instant::now();
    let fleet = &host.fleet;
    let base = &fleet.hosts[host.index];
    let path = parts.uri.path();
    if parts.method == Method::GET {
        let Some(actor) = path.strip_prefix("/users/u") else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let id = format!("{base}/users/u{actor}");
        let document = json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id,
            "type": "Person",
            "preferredUsername": format!("u{actor}"),
            "inbox": format!("{id}/inbox"),
            "endpoints": {"sharedInbox": format!("{base}/inbox")},
            "publicKey": {
                "id": format!("{id}#main-key"),
                "owner": id,
                "publicKeyPem": fleet.key.public_key_pem(),
            },
        });
        return ([(CONTENT_TYPE, ACTIVITY_JSON)], document.to_string()).into_response();
    }
    if parts.method != Method::POST || path != "/inbox" {
        return StatusCode::NOT_FOUND.into_response();
    }
    let url = Url::parse(&format!("{base}{}", parts.uri)).unwrap();
    let verified = match (
        signature::parse("POST", &url, &parts.headers),
        fleet.site_key.lock().unwrap().as_ref(),
    ) {
        (Ok(claim), Some(key)) => signature::verify(&claim, &body, key, SystemTime::now()).is_ok(),
        _ => false,
    };
    let activity: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let object = &activity["object"];
    fleet.posts.lock().unwrap().push(Post {
        host: host.index,
        kind: activity["type"].as_str().unwrap_or("").to_owned(),
        object: object["id"]
            .as_str()
            .or(object.as_str())
            .unwrap_or("")
            .to_owned(),
        at,
        verified,
    });
    fleet.arrived.notify_one();
    StatusCode::ACCEPTED.into_response()
}

// ---- the daemon ---------------------------------------------------------------------

struct Daemon {
    child: Child,
    /// The articles in the seeds folder at start.
    seeded: u64,
    base: String,
    admin: u16,
    data: PathBuf,
    seeds: PathBuf,
    log: PathBuf,
    http: reqwest::Client,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(StdListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Daemon {
    fn start(args: &Args) -> anyhow::Result<Daemon> {
        let (seeds, data) = (args.work.join("seeds"), args.work.join("data"));
        std::fs::create_dir_all(&seeds)?;
        std::fs::create_dir_all(&data)?;
        let repo_seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
        let mut seeded = 0;
        for file in std::fs::read_dir(&repo_seeds)? {
            let path = file?.path();
            if path.extension().is_some_and(|e| e == "txt") {
                std::fs::copy(&path, seeds.join(path.file_name().unwrap()))?;
                seeded += 1;
            }
        }
        let (port, admin) = (free_port()?, free_port()?);
        let base = format!("http://127.0.0.1:{port}");
        let mut config = format!(
            "base_url = \"{base}\"\n\n[activitypub]\nenabled = true\nallow_private = true\n"
        );
        if args.one_address {
            // Every follow comes from one address: the inbox's per-host limit would make
            // the follows, not the fan-out, the measure.
            let _ = writeln!(
                config,
                "inbox_per_minute = {}",
                2 * args.hosts * args.actors
            );
        }
        let config_path = args.work.join("seedfeed.toml");
        std::fs::write(&config_path, config)?;
        let log = args.work.join("daemon.log");
        let mut command = Command::new(&args.binary);
        command
            .arg("serve")
            .arg("--config")
            .arg(&config_path)
            .arg("--seeds")
            .arg(&seeds)
            .arg("--data")
            .arg(&data)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--admin-listen", &format!("127.0.0.1:{admin}")])
            .env("SEEDFEED_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?);
        for (name, _) in std::env::vars() {
            if name.starts_with("SEEDFEED_") && name != "SEEDFEED_LOG" {
                command.env_remove(name);
            }
        }
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", args.binary.display()))?;
        std::fs::write(args.work.join("daemon.pid"), child.id().to_string())?;
        // reqwest is built without a crypto provider (only plain HTTP here); as the daemon.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Daemon {
            child,
            seeded,
            base,
            admin,
            data,
            seeds,
            log,
            http,
        })
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).unwrap())
    }

    fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("the daemon exited ({status}); see {}", self.log.display());
        }
        Ok(())
    }

    /// The admin `/status`; None while it does not answer.
    async fn status(&self) -> Option<Value> {
        let url = format!("http://127.0.0.1:{}/status", self.admin);
        let response = self.http.get(url).send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        serde_json::from_slice(&response.bytes().await.ok()?).ok()
    }

    /// `activitypub.{field}` of `/status`.
    async fn fediverse(&self, field: &str) -> Option<u64> {
        self.status().await?["activitypub"][field].as_u64()
    }

    /// Waits until the outbox holds no activity (at most `limit`).
    async fn idle(&mut self, limit: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        while self.fediverse("pending").await != Some(0) {
            self.check_alive()?;
            if Instant::now() > deadline {
                bail!("deliveries still pending after {} s", limit.as_secs());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Its CPU time so far, user + system, in seconds: /proc counts in clock ticks, 100 a
    /// second on Linux whatever the kernel's own tick.
    #[allow(clippy::cast_precision_loss)] // ticks of a few minutes
    fn cpu(&self) -> anyhow::Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .context("/proc/PID/stat")?
            .1
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
        Ok(ticks as f64 / 100.0)
    }

    /// The actor document; its public key is what the inboxes check signatures with.
    async fn site_key(&self) -> anyhow::Result<RemoteKey> {
        let response = self
            .http
            .get(format!("{}/@news", self.base))
            .header(ACCEPT, ACTIVITY_JSON)
            .send()
            .await?;
        let actor: Value = serde_json::from_slice(&response.bytes().await?)?;
        let pem = actor["publicKey"]["publicKeyPem"]
            .as_str()
            .context("the actor has no publicKeyPem")?;
        Ok(RemoteKey::from_pem(pem)?)
    }
}

impl Drop for Daemon {
    /// SIGTERM, as an operator stops it; SIGKILL if it is not gone within 10 s.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = kill(self.pid(), Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(10);
            while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // The script's clean-up kills by these ids; the process is reaped now.
        let _ = std::fs::remove_file(self.seeds.with_file_name("daemon.pid"));
        let _ = std::fs::remove_dir_all(&self.seeds);
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

// ---- following ----------------------------------------------------------------------

/// Sends every actor's Follow; returns once `/status` counts them all and every Accept
/// arrived.
async fn follow_all(daemon: &mut Daemon, fleet: &Arc<Fleet>, actors: usize) -> anyhow::Result<()> {
    let total = fleet.hosts.len() * actors;
    let at_once = Arc::new(Semaphore::new(FOLLOWS_AT_ONCE));
    let mut tasks = tokio::task::JoinSet::new();
    for host in 0..fleet.hosts.len() {
        for actor in 0..actors {
            let (fleet, http) = (Arc::clone(fleet), daemon.http.clone());
            let inbox = format!("{}/inbox", daemon.base);
            let object = format!("{}/@news", daemon.base);
            let permit = Arc::clone(&at_once).acquire_owned().await?;
            tasks.spawn(async move {
                let result = follow(&fleet, &http, host, actor, &inbox, &object).await;
                drop(permit);
                result
            });
        }
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let deadline = Instant::now() + FOLLOW_TIMEOUT;
    while daemon.fediverse("followers").await != Some(u64::try_from(total)?) {
        daemon.check_alive()?;
        if Instant::now() > deadline {
            bail!("/status does not count {total} followers");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let accepted = fleet
        .wait_for(FOLLOW_TIMEOUT, |posts| {
            posts.iter().filter(|p| p.kind == "Accept").count() >= total
        })
        .await;
    if !accepted {
        bail!("not every Accept arrived");
    }
    Ok(())
}

/// One actor's signed Follow; a 429 is waited out and sent again (a few times).
async fn follow(
    fleet: &Fleet,
    http: &reqwest::Client,
    host: usize,
    actor: usize,
    inbox: &str,
    object: &str,
) -> anyhow::Result<()> {
    let id = fleet.actor_id(host, actor);
    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{id}#follows/{}", uuid::Uuid::new_v4()),
        "type": "Follow",
        "actor": id,
        "object": object,
    });
    let body = follow.to_string().into_bytes();
    let url = Url::parse(inbox)?;
    let key_id = format!("{id}#main-key");
    for _ in 0..10 {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(ACTIVITY_JSON));
        let signer = Signer {
            key_id: &key_id,
            key: &fleet.key,
        };
        let request = OutgoingRequest {
            method: "POST",
            url: &url,
            body: Some(&body),
        };
        signer.sign_rfc9421(&request, &mut headers, SystemTime::now())?;
        let response = http
            .post(inbox)
            .headers(headers)
            .body(body.clone())
            .send()
            .await?;
        match response.status().as_u16() {
            200..=299 => return Ok(()),
            429 => tokio::time::sleep(Duration::from_secs(5)).await,
            status => bail!("the Follow of {id} was answered {status}"),
        }
    }
    bail!("the Follow of {id} was refused (429) ten times")
}

// ---- the runs -----------------------------------------------------------------------

struct Run {
    first: Duration,
    last: Duration,
    cpu: f64,
    /// POSTs of the Create read, all hosts: one RSA signature each.
    posts: usize,
    /// Hosts with exactly one Create, and POSTs whose signature did not verify.
    exactly_one: usize,
    bad: usize,
    sign: Duration,
    /// With `--perf`: samples with AWS-LC on their stack, and all samples.
    perf: Option<(u32, u32)>,
}

/// The article of run `n`: a section, a title and text of its own (not a duplicate of
/// another file's), as long as the seeds'.
fn article(n: usize) -> String {
    let nonce = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let mut text = format!(
        "Technology\n\nFan-out run {n}: the fediverse gets a new article\n\n\
         This paragraph makes run {n} ({nonce}) an article of its own.\n\n"
    );
    for i in 0..8 {
        let _ = write!(
            text,
            "Paragraph {i} of run {n}. The shared inboxes of a hundred servers each get one \
             POST, signed with the site's key, whatever the number of their users that follow \
             it. A server that is down does not hold up the others.\n\n"
        );
    }
    text
}

async fn one_run(
    n: usize,
    args: &Args,
    daemon: &mut Daemon,
    fleet: &Fleet,
    key: &InstanceKey,
) -> anyhow::Result<Run> {
    daemon.idle(IDLE_TIMEOUT).await?;
    let name = format!("fanout-{n:03}");
    let object = format!("/entries/{name}/");
    let perf = if args.perf {
        Some(Perf::start(daemon, &args.work, n)?)
    } else {
        None
    };
    let hosts = fleet.hosts.len();
    let cpu_before = daemon.cpu()?;
    let path = daemon.seeds.join(format!("{name}.txt"));
    std::fs::write(&path, article(n))?;
    let closed = Instant::now();
    let all = fleet
        .wait_for(DROP_TIMEOUT, |posts| {
            let mut seen = vec![false; hosts];
            for p in posts.iter().filter(|p| p.is("Create", &object)) {
                seen[p.host] = true;
            }
            seen.iter().all(|s| *s)
        })
        .await;
    let cpu = daemon.cpu()? - cpu_before;
    let perf = perf.map(Perf::stop).transpose()?;
    if !all {
        let got = fleet
            .received("Create", &object)
            .iter()
            .filter(|c| **c > 0)
            .count();
        bail!(
            "run {n}: {got} of {hosts} hosts had the Create of {object} after {} s",
            DROP_TIMEOUT.as_secs()
        );
    }
    daemon.idle(IDLE_TIMEOUT).await?;
    tokio::time::sleep(GRACE).await;
    let tally = Tally::of(fleet, &object, closed);
    Ok(Run {
        first: tally.first,
        last: tally.last,
        cpu,
        posts: tally.posts,
        exactly_one: tally.exactly_one,
        bad: tally.bad,
        sign: time_signatures(key)?,
        perf,
    })
}

/// What the hosts read of one run's Create.
struct Tally {
    first: Duration,
    last: Duration,
    posts: usize,
    exactly_one: usize,
    bad: usize,
}

impl Tally {
    /// The Creates of `object` read since `closed` (one host at least read one).
    fn of(fleet: &Fleet, object: &str, closed: Instant) -> Tally {
        let posts = fleet.posts.lock().unwrap();
        let creates: Vec<&Post> = posts.iter().filter(|p| p.is("Create", object)).collect();
        // Each host's first Create: the last host is the latest of those.
        let mut firsts: Vec<Option<Instant>> = vec![None; fleet.hosts.len()];
        let mut counts = vec![0; fleet.hosts.len()];
        for p in &creates {
            let slot = &mut firsts[p.host];
            *slot = Some(slot.map_or(p.at, |t| t.min(p.at)));
            counts[p.host] += 1;
        }
        let first = firsts.iter().flatten().min().copied().unwrap_or(closed);
        let last = firsts.iter().flatten().max().copied().unwrap_or(closed);
        Tally {
            first: first - closed,
            last: last - closed,
            posts: creates.len(),
            exactly_one: counts.iter().filter(|c| **c == 1).count(),
            bad: creates.iter().filter(|p| !p.verified).count(),
        }
    }
}

/// On-CPU time of this thread, from /proc/thread-self/schedstat (nanoseconds).
fn thread_cpu() -> anyhow::Result<Duration> {
    let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat")?;
    let ns: u64 = schedstat
        .split_whitespace()
        .next()
        .context("/proc/thread-self/schedstat is empty")?
        .parse()?;
    Ok(Duration::from_nanos(ns))
}

/// The CPU time of one RSA signature with the daemon's key: the mean of
/// [`SIGNS_TIMED`], over a signature base as long as a delivery's.
fn time_signatures(key: &InstanceKey) -> anyhow::Result<Duration> {
    let base = "\"content-digest\": sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:\n\
                \"@method\": POST\n\"@target-uri\": http://127.0.0.1:40000/inbox\n\
                \"@signature-params\": (\"@method\" \"@target-uri\" \"content-digest\");\
                created=1800000000;keyid=\"http://127.0.0.1:8080/@news#main-key\";\
                alg=\"rsa-v1_5-sha256\"";
    let start = thread_cpu()?;
    for _ in 0..SIGNS_TIMED {
        key.sign_rsa_sha256(base.as_bytes())?;
    }
    Ok((thread_cpu()? - start) / SIGNS_TIMED)
}

/// `perf record` on the daemon during one fan-out.
struct Perf {
    child: Child,
    data: PathBuf,
}

impl Perf {
    fn start(daemon: &Daemon, work: &Path, n: usize) -> anyhow::Result<Perf> {
        let data = work.join(format!("perf-{n}.data"));
        let child = Command::new("perf")
            .args([
                "record",
                "-q",
                "-e",
                "cpu-clock",
                "-F",
                "2000",
                "--call-graph",
                "dwarf",
                "-p",
            ])
            .arg(daemon.child.id().to_string())
            .arg("-o")
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(work.join("perf.log"))?)
            .spawn()
            .context("starting perf record (is perf installed?)")?;
        std::fs::write(work.join("perf.pid"), child.id().to_string())?;
        // Until perf has attached to the daemon's threads.
        std::thread::sleep(Duration::from_millis(500));
        Ok(Perf { child, data })
    }

    /// Stops the recording; the share of its samples with an AWS-LC function on their
    /// stack (unwound from DWARF: the assembly of the RSA arithmetic is not named after
    /// AWS-LC, its callers are).
    fn stop(mut self) -> anyhow::Result<(u32, u32)> {
        let _ = kill(
            Pid::from_raw(i32::try_from(self.child.id())?),
            Signal::SIGINT,
        );
        self.child.wait()?;
        let _ = std::fs::remove_file(self.data.with_file_name("perf.pid"));
        let script = Command::new("perf")
            .args(["script", "-F", "ip,sym", "-i"])
            .arg(&self.data)
            .output()
            .context("perf script")?;
        if !script.status.success() {
            bail!(
                "perf script: {}",
                String::from_utf8_lossy(&script.stderr).trim()
            );
        }
        let text = String::from_utf8_lossy(&script.stdout);
        let (mut samples, mut signing) = (0_u32, 0_u32);
        // One sample per paragraph: its frames, innermost first, one a line.
        for sample in text.split("\n\n").filter(|s| !s.trim().is_empty()) {
            samples += 1;
            let in_aws_lc = sample.lines().any(|frame| {
                frame
                    .split_whitespace()
                    .nth(1)
                    .is_some_and(|sym| sym.starts_with("aws_lc_"))
            });
            signing += u32::from(in_aws_lc);
        }
        if samples == 0 {
            bail!("perf recorded no sample of the daemon (see perf.log in the work folder)");
        }
        Ok((signing, samples))
    }
}

impl Drop for Perf {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---- the whole --------------------------------------------------------------------

async fn bench(args: &Args) -> anyhow::Result<bool> {
    let hosts = args.hosts;
    let followers = hosts * args.actors;
    eprintln!("[1/3] {hosts} inbox servers, the daemon");
    let fleet = Fleet::start(hosts, args.one_address)?;
    let mut daemon = Daemon::start(args)?;
    let deadline = Instant::now() + START_TIMEOUT;
    while daemon.fediverse("followers").await.is_none() {
        daemon.check_alive()?;
        if Instant::now() > deadline {
            bail!("the daemon did not answer /status with activitypub");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The seeds are stored before the follows start: the two phases do not overlap.
    while daemon.status().await.and_then(|s| s["entries"].as_u64()) < Some(daemon.seeded) {
        daemon.check_alive()?;
        if Instant::now() > deadline {
            bail!("the daemon did not store the seeds");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    *fleet.site_key.lock().unwrap() = Some(daemon.site_key().await?);
    let key = InstanceKey::load_or_generate(&daemon.data).context("reading the daemon's key")?;

    eprintln!("[2/3] {followers} follows");
    let started = Instant::now();
    follow_all(&mut daemon, &fleet, args.actors).await?;
    let followed = started.elapsed();
    let bad_accepts = fleet
        .posts
        .lock()
        .unwrap()
        .iter()
        .filter(|p| p.kind == "Accept" && !p.verified)
        .count();

    eprintln!("[3/3] {} drops", args.runs);
    let mut runs = Vec::new();
    for n in 1..=args.runs {
        let run = one_run(n, args, &mut daemon, &fleet, &key).await?;
        eprintln!(
            "      run {n}: last host {} ms, CPU {:.2} s",
            run.last.as_millis(),
            run.cpu
        );
        runs.push(run);
    }
    let problems = std::fs::read_to_string(&daemon.log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
        .count();
    drop(daemon);
    Ok(report(args, followed, bad_accepts, problems, &runs))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// One row: the median, then every run.
fn row(label: &str, values: &[f64], show: impl Fn(f64) -> String) {
    let each: Vec<String> = values.iter().map(|v| show(*v)).collect();
    println!(
        "| {label} | {} | {} |",
        show(median(values.to_vec())),
        each.join(", ")
    );
}

#[allow(clippy::cast_precision_loss)] // counts of a few thousand
fn report(
    args: &Args,
    followed: Duration,
    bad_accepts: usize,
    problems: usize,
    runs: &[Run],
) -> bool {
    let hosts = args.hosts;
    let ms = |s: f64| format!("{:.0} ms", s * 1000.0);
    let percent = |s: f64| format!("{:.0} %", s * 100.0);
    let secs = |d: Duration| d.as_secs_f64();
    let shares: Vec<f64> = runs
        .iter()
        .map(|r| r.posts as f64 * secs(r.sign) / r.cpu)
        .collect();
    println!();
    println!(
        "`{}`: {} followers on {hosts} loopback hosts ({}), {} run{}, {} cores, {}",
        args.command,
        hosts * args.actors,
        if args.one_address {
            "all on 127.0.0.1, distinct ports".to_owned()
        } else {
            format!("127.0.0.1 … 127.0.0.{hosts}, one port each")
        },
        runs.len(),
        if runs.len() == 1 { "" } else { "s" },
        std::thread::available_parallelism().map_or(0, usize::from),
        chrono::Utc::now().format("%Y-%m-%d"),
    );
    println!();
    println!("| measure (from the dropped file's close()) | median | every run |");
    println!("| --- | --- | --- |");
    row(
        "→ first host has its Create",
        &runs.iter().map(|r| secs(r.first)).collect::<Vec<_>>(),
        ms,
    );
    row(
        &format!("→ last of the {hosts} hosts has it"),
        &runs.iter().map(|r| secs(r.last)).collect::<Vec<_>>(),
        ms,
    );
    row(
        "daemon CPU, close() → last Create",
        &runs.iter().map(|r| r.cpu).collect::<Vec<_>>(),
        |v| format!("{v:.2} s"),
    );
    row(
        "daemon CPU per delivery",
        &runs
            .iter()
            .map(|r| r.cpu / r.posts as f64)
            .collect::<Vec<_>>(),
        |v| format!("{:.2} ms", v * 1000.0),
    );
    row(
        "one RSA signature (100 timed here)",
        &runs.iter().map(|r| secs(r.sign)).collect::<Vec<_>>(),
        |v| format!("{:.2} ms", v * 1000.0),
    );
    row("signing's share: POSTs × signature / CPU", &shares, percent);
    if args.perf {
        let perf: Vec<(u32, u32)> = runs.iter().filter_map(|r| r.perf).collect();
        let shares: Vec<f64> = perf
            .iter()
            .map(|(s, n)| f64::from(*s) / f64::from(*n))
            .collect();
        row(
            "signing's share: perf samples under aws_lc_*",
            &shares,
            percent,
        );
        let (signing, samples) = perf.iter().fold((0, 0), |(a, b), (s, n)| (a + s, b + n));
        println!(
            "| the same, all runs' samples pooled | {:.0} % of {samples} | |",
            f64::from(signing) * 100.0 / f64::from(samples.max(1))
        );
    }
    let one: Vec<String> = runs.iter().map(|r| r.exactly_one.to_string()).collect();
    println!(
        "| hosts with exactly one Create (of {hosts}) | | {} |",
        one.join(", ")
    );
    let bad: usize = runs.iter().map(|r| r.bad).sum::<usize>() + bad_accepts;
    println!("| signatures that did not verify (Accepts and Creates) | {bad} | |");
    println!(
        "| {} follows: first sent → all counted and accepted | {:.1} s | |",
        hosts * args.actors,
        followed.as_secs_f64()
    );
    println!("| WARN/ERROR lines in the daemon's log | {problems} | |");
    println!();
    let worst = runs.iter().map(|r| r.last).max().unwrap_or_default();
    let share = median(shares);
    println!(
        "Targets: every host within {} s: {} (slowest run {:.0} ms); signing at most a third of the CPU: {} (median {:.0} %).",
        TARGET_LAST.as_secs(),
        if worst <= TARGET_LAST {
            "met"
        } else {
            "missed"
        },
        worst.as_secs_f64() * 1000.0,
        if share <= TARGET_SIGNING {
            "met"
        } else {
            "missed"
        },
        share * 100.0,
    );
    bad == 0 && runs.iter().all(|r| r.exactly_one == hosts)
}
