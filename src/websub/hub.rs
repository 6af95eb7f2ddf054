//! The built-in hub's endpoint, `POST /hub` (WebSub §5.1): a subscription request is
//! checked, counted against its callback host's rate, and handed to the service task,
//! which verifies it with the subscriber. The answer, 202, only says it was understood.
//! The answer is a plain [`HubReply`]; the HTTP layer turns it into a response.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use url::Url;

use super::callback::{CallbackError, Policy, RateLimit, host_of};
use super::{Intent, Leases, Mode};
use crate::model::Secret;

/// Form bodies larger than this are refused (413): a request is four short fields.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// Secrets must be shorter than this (WebSub §5.1).
const MAX_SECRET_BYTES: usize = 200;

/// Callback and topic URLs longer than this are refused.
const MAX_URL_BYTES: usize = 2048;

/// The hub's answer to one request: an HTTP status, a plain-text body (WebSub §5.1:
/// "the body SHOULD describe the error"), and how long to wait before trying again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubReply {
    pub status: u16,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl HubReply {
    fn new(status: u16, message: &str) -> Self {
        Self {
            status,
            message: format!("{message}\n"),
            retry_after: None,
        }
    }

    fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }
}

/// What the HTTP workers share with the hub's task.
pub struct Hub {
    intents: mpsc::Sender<Intent>,
    limit: Mutex<RateLimit>,
    policy: Policy,
    leases: Leases,
}

impl Hub {
    pub(super) fn new(
        intents: mpsc::Sender<Intent>,
        policy: Policy,
        leases: Leases,
        per_minute: u32,
    ) -> Self {
        Self {
            intents,
            limit: Mutex::new(RateLimit::new(per_minute)),
            policy,
            leases,
        }
    }

    /// Answers a POST to `/hub` with its `Content-Type` and (size-limited) body.
    pub async fn answer(&self, content_type: Option<&str>, body: &[u8]) -> HubReply {
        let form_type = content_type
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !form_type {
            return HubReply::new(
                415,
                "a hub request is a form: Content-Type: application/x-www-form-urlencoded",
            );
        }
        let intent = match parse(body, &self.leases) {
            Ok(intent) => intent,
            Err(message) => return HubReply::new(400, &message),
        };
        if let Err(error) = self.policy.check(&intent.callback) {
            return callback_refused(&error);
        }
        let host = host_of(&intent.callback);
        let limited = self
            .limit
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take(&host, Instant::now());
        if let Err(wait) = limited {
            tracing::info!(host = %host, "WebSub: subscription request over the host's rate");
            return HubReply::new(
                429,
                "too many subscription requests for this callback host; try again later",
            )
            .retry_after(wait.as_secs().max(1));
        }
        if let Err(error) = self.policy.check_resolved(&intent.callback).await {
            return callback_refused(&error);
        }
        tracing::debug!(mode = intent.mode.as_str(), topic = %intent.topic, callback = %intent.callback, "WebSub: request accepted");
        match self.intents.try_send(intent) {
            Ok(()) => HubReply::new(
                202,
                "accepted: the hub will verify the request with the callback",
            ),
            Err(_) => HubReply::new(
                503,
                "the hub has too many requests to verify; try again later",
            )
            .retry_after(10),
        }
    }
}

fn callback_refused(error: &CallbackError) -> HubReply {
    let status = match error {
        CallbackError::Private { .. } => 403,
        CallbackError::Scheme | CallbackError::NoHost | CallbackError::Unresolved { .. } => 400,
    };
    HubReply::new(status, &format!("hub.callback: {error}"))
}

/// The fields of a subscription request, checked. A field given twice counts once, as
/// first given.
fn parse(body: &[u8], leases: &Leases) -> Result<Intent, String> {
    let mut mode = None;
    let mut callback = None;
    let mut topic = None;
    let mut lease = None;
    let mut secret = None;
    for (name, value) in url::form_urlencoded::parse(body) {
        let slot = match name.as_ref() {
            "hub.mode" => &mut mode,
            "hub.callback" => &mut callback,
            "hub.topic" => &mut topic,
            "hub.lease_seconds" => &mut lease,
            "hub.secret" => &mut secret,
            _ => continue,
        };
        slot.get_or_insert(value.into_owned());
    }
    let mode = match mode.as_deref() {
        Some("subscribe") => Mode::Subscribe,
        Some("unsubscribe") => Mode::Unsubscribe,
        Some(other) => {
            return Err(format!(
                "hub.mode: {other:?} is not subscribe or unsubscribe"
            ));
        }
        None => return Err("hub.mode is missing".into()),
    };
    let callback = callback.ok_or("hub.callback is missing")?;
    if callback.len() > MAX_URL_BYTES {
        return Err(format!("hub.callback is longer than {MAX_URL_BYTES} bytes"));
    }
    let callback = Url::parse(&callback).map_err(|e| format!("hub.callback is not a URL ({e})"))?;
    let topic = topic
        .filter(|t| !t.is_empty())
        .ok_or("hub.topic is missing")?;
    if topic.len() > MAX_URL_BYTES {
        return Err(format!("hub.topic is longer than {MAX_URL_BYTES} bytes"));
    }
    let asked = match lease.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<u64>()
                .map_err(|_| format!("hub.lease_seconds: {text:?} is not a number of seconds"))?,
        ),
    };
    let secret = match secret {
        Some(s) if s.len() >= MAX_SECRET_BYTES => {
            return Err(format!(
                "hub.secret must be shorter than {MAX_SECRET_BYTES} bytes"
            ));
        }
        Some(s) if !s.is_empty() => Some(Secret::new(s)),
        _ => None,
    };
    Ok(Intent {
        mode,
        callback,
        topic,
        lease: leases.grant(asked.map(Duration::from_secs)),
        secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leases() -> Leases {
        Leases {
            default: Duration::from_secs(1000),
            min: Duration::from_secs(100),
            max: Duration::from_secs(10_000),
        }
    }

    fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            form.append_pair(k, v);
        }
        form.finish().into_bytes()
    }

    const OK: [(&str, &str); 3] = [
        ("hub.mode", "subscribe"),
        ("hub.callback", "https://sub.example/cb?id=1"),
        ("hub.topic", "https://x.example/feed.atom"),
    ];

    #[test]
    fn a_request_reads_as_an_intent_with_a_granted_lease() {
        let intent = parse(&form(&OK), &leases()).unwrap();
        assert_eq!(intent.mode, Mode::Subscribe);
        assert_eq!(intent.callback.as_str(), "https://sub.example/cb?id=1");
        assert_eq!(intent.lease, Duration::from_secs(1000));
        assert!(intent.secret.is_none());
        let mut asked = OK.to_vec();
        asked.push(("hub.lease_seconds", "5"));
        asked.push(("hub.secret", "abc"));
        let intent = parse(&form(&asked), &leases()).unwrap();
        assert_eq!(
            intent.lease,
            Duration::from_secs(100),
            "raised to the minimum"
        );
        assert_eq!(intent.secret.unwrap().expose(), "abc");
    }

    #[test]
    fn bad_requests_say_which_field() {
        let with = |extra: (&str, &str)| {
            let mut pairs: Vec<(&str, &str)> =
                OK.iter().filter(|(k, _)| *k != extra.0).copied().collect();
            pairs.push(extra);
            parse(&form(&pairs), &leases()).unwrap_err()
        };
        assert!(with(("hub.mode", "publish")).contains("hub.mode"));
        assert!(with(("hub.callback", "not a url")).contains("hub.callback"));
        assert!(with(("hub.topic", "")).contains("hub.topic"));
        assert!(with(("hub.lease_seconds", "soon")).contains("hub.lease_seconds"));
        assert!(with(("hub.secret", &"s".repeat(200))).contains("hub.secret"));
        assert!(parse(b"", &leases()).unwrap_err().contains("hub.mode"));
        // 199 bytes is a secret.
        let mut pairs = OK.to_vec();
        let secret = "s".repeat(199);
        pairs.push(("hub.secret", &secret));
        assert!(parse(&form(&pairs), &leases()).is_ok());
    }
}
