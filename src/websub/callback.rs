//! Which callbacks the hub may call, and how often a callback host may ask it to.
//!
//! A subscription makes this server send requests wherever the subscriber says: without
//! care, a way to probe or hit the operator's own network (SSRF). So a callback must be
//! http or https, and unless `allow_private_callbacks` is on, it must not lead to a
//! loopback, private, link-local, shared or unspecified address. Names are checked when
//! the request is accepted, and again by the resolver of every outgoing request, which
//! connects only to the addresses it checked (a name that changes its answer in between
//! gains nothing).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use url::{Host, Url};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("the callback must be an http:// or https:// URL")]
    Scheme,
    #[error("the callback URL has no host")]
    NoHost,
    #[error(
        "the callback {host} is on a loopback, private or link-local address, which this hub does not call"
    )]
    Private { host: String },
    #[error("the callback host {host} cannot be resolved: {reason}")]
    Unresolved { host: String, reason: String },
}

/// Whether `allow_private_callbacks` is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub allow_private: bool,
}

impl Policy {
    /// What can be told without the network: the scheme, and a host that is an address.
    pub fn check(&self, url: &Url) -> Result<(), CallbackError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(CallbackError::Scheme);
        }
        let address = match url.host() {
            None => return Err(CallbackError::NoHost),
            Some(Host::Domain(_)) => return Ok(()),
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        };
        self.allows(address)
            .then_some(())
            .ok_or_else(|| CallbackError::Private { host: host_of(url) })
    }

    /// [`Policy::check`], then every address the name resolves to.
    pub async fn check_resolved(&self, url: &Url) -> Result<(), CallbackError> {
        self.check(url)?;
        let Some(Host::Domain(name)) = url.host() else {
            return Ok(());
        };
        let unresolved = |reason: String| CallbackError::Unresolved {
            host: name.to_owned(),
            reason,
        };
        let lookup = tokio::net::lookup_host((name, url.port_or_known_default().unwrap_or(80)));
        let addresses: Vec<SocketAddr> = tokio::time::timeout(RESOLVE_TIMEOUT, lookup)
            .await
            .map_err(|_| unresolved("no answer in time".into()))?
            .map_err(|e| unresolved(e.to_string()))?
            .collect();
        if addresses.is_empty() {
            return Err(unresolved("no addresses".into()));
        }
        if addresses.iter().all(|a| self.allows(a.ip())) {
            Ok(())
        } else {
            Err(CallbackError::Private { host: host_of(url) })
        }
    }

    pub fn allows(&self, address: IpAddr) -> bool {
        self.allow_private || is_public(address)
    }
}

const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// The host of a URL as rate limits and logs name it (lower case; `[::1]` for IPv6).
pub fn host_of(url: &Url) -> String {
    url.host_str().unwrap_or_default().to_ascii_lowercase()
}

/// Whether an address is one anyone on the internet could reach: not loopback, private
/// (RFC 1918, RFC 4193), link-local, shared (RFC 6598), unspecified, broadcast, multicast,
/// documentation or reserved. IPv4 inside IPv6 (mapped, NAT64) is judged as IPv4.
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let [first, second, ..] = ip.segments();
            // 64:ff9b::/96, NAT64: the IPv4 address is the last 32 bits.
            if first == 0x64 && second == 0xff9b {
                let [.., a, b, c, d] = ip.octets();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            !(ip.is_unspecified()
                || ip.is_loopback()
                || ip.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local, fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local, fe80::/10
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated), fec0::/10
                || (first == 0x2001 && second == 0x0db8) // documentation
                || first == 0x0100 // discard-only, 100::/64
                || is_ipv4_compatible(ip))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (b & 0xc0) == 64) // shared address space, 100.64.0.0/10
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b & 0xfe) == 18) // benchmarking, 198.18.0.0/15
        || a >= 240) // reserved
}

/// `::a.b.c.d`, deprecated, never a public destination.
fn is_ipv4_compatible(ip: Ipv6Addr) -> bool {
    ip.segments()[..6].iter().all(|s| *s == 0)
}

/// The resolver of the hub's outgoing requests: it connects only to addresses the policy
/// allows, so a name that resolves to this server's own network is not called even if it
/// resolved elsewhere when the subscription was accepted.
#[derive(Debug, Clone, Copy)]
pub struct CheckedResolver {
    pub policy: Policy,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found =
                tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host.as_str(), 0)))
                    .await
                    .map_err(|_| format!("resolving {host}: no answer in time"))??;
            let allowed: Vec<SocketAddr> = found.filter(|a| policy.allows(a.ip())).collect();
            if allowed.is_empty() {
                let refused: Box<dyn std::error::Error + Send + Sync> =
                    Box::new(CallbackError::Private { host });
                return Err(refused);
            }
            let addresses: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addresses)
        })
    }
}

/// Subscription requests per callback host: a token bucket each, `per_minute` deep,
/// refilled evenly over a minute. Hosts whose bucket is full again are forgotten, so the
/// table holds only the hosts seen in the last minute.
#[derive(Debug)]
pub struct RateLimit {
    per_minute: u32,
    buckets: HashMap<String, Bucket>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimit {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1),
            buckets: HashMap::new(),
        }
    }

    /// Takes one request from `host`'s bucket; `Err` with how long until one is free.
    pub fn take(&mut self, host: &str, now: Instant) -> Result<(), Duration> {
        let capacity = f64::from(self.per_minute);
        let rate = capacity / 60.0;
        if self.buckets.len() > 10_000 {
            self.buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < capacity
            });
        }
        let bucket = self.buckets.entry(host.to_owned()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let refilled = now.saturating_duration_since(bucket.at).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refilled).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(text: &str) -> bool {
        is_public(text.parse().unwrap())
    }

    #[test]
    fn only_internet_addresses_are_public() {
        for address in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "198.18.0.1",
            "192.0.0.8",
            "::",
            "::1",
            "fe80::1",
            "fd00::1",
            "fc00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "::7f00:1",
            "2001:db8::1",
        ] {
            assert!(!public(address), "{address} counted as public");
        }
        for address in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(public(address), "{address} counted as private");
        }
    }

    #[test]
    fn callbacks_must_be_web_urls_on_allowed_addresses() {
        let strict = Policy {
            allow_private: false,
        };
        let open = Policy {
            allow_private: true,
        };
        let url = |text: &str| Url::parse(text).unwrap();
        assert_eq!(
            strict.check(&url("ftp://example.org/x")),
            Err(CallbackError::Scheme)
        );
        assert_eq!(
            strict.check(&url("http://127.0.0.1:9/cb")),
            Err(CallbackError::Private {
                host: "127.0.0.1".into()
            })
        );
        assert!(strict.check(&url("http://[::1]/cb")).is_err());
        assert!(strict.check(&url("https://example.org/cb")).is_ok());
        assert!(open.check(&url("http://127.0.0.1:9/cb")).is_ok());
    }

    #[tokio::test]
    async fn names_are_judged_by_their_addresses() {
        let strict = Policy {
            allow_private: false,
        };
        let localhost = Url::parse("http://localhost:9/cb").unwrap();
        assert!(matches!(
            strict.check_resolved(&localhost).await,
            Err(CallbackError::Private { .. })
        ));
    }

    #[test]
    fn a_host_gets_its_rate_and_then_waits() {
        let mut limit = RateLimit::new(3);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limit.take("a.example", start), Ok(()));
        }
        let wait = limit.take("a.example", start).unwrap_err();
        assert!(
            wait > Duration::from_secs(19) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert_eq!(limit.take("b.example", start), Ok(()), "hosts are apart");
        assert_eq!(
            limit.take("a.example", start + Duration::from_secs(20)),
            Ok(())
        );
    }
}
