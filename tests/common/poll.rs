//! Bounded polls: every wait in a test ends after [`PATIENCE`], failing with what it
//! waited for and the last state it saw. Never a timed assertion: a slow machine makes a
//! test slower, not red.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long a poll may wait before the test fails. Generous: machines are shared.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// How often an async poll looks again.
const EVERY: Duration = Duration::from_millis(50);

/// How often a blocking poll looks again (a log line, an exit, a page over plain TCP).
const EVERY_BLOCKING: Duration = Duration::from_millis(20);

/// Polls `check` until it gives `Ok`; after [`PATIENCE`], the last `Err` it gave. For a
/// wait whose end is not a failure: what is missing then is reported by the test.
pub async fn within<T, E, F, Fut>(mut check: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        match check().await {
            Ok(done) => return Ok(done),
            Err(last) if Instant::now() >= deadline => return Err(last),
            Err(_) => tokio::time::sleep(EVERY).await,
        }
    }
}

/// Polls until `check` gives `Ok`, or panics after [`PATIENCE`] naming `what` and the
/// state `check` last described.
pub async fn until<T, F, Fut>(what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    within(check)
        .await
        .unwrap_or_else(|last| panic!("gave up waiting for {what}{}", described(&last)))
}

/// Polls an async condition until it holds, or panics after [`PATIENCE`].
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    until(what, || {
        let holds = check();
        async move {
            if holds.await {
                Ok(())
            } else {
                Err(String::new())
            }
        }
    })
    .await;
}

/// [`within`] for synchronous tests, with its own patience and pace.
pub fn within_blocking<T, E>(
    patience: Duration,
    every: Duration,
    mut check: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    let deadline = Instant::now() + patience;
    loop {
        match check() {
            Ok(done) => return Ok(done),
            Err(last) if Instant::now() >= deadline => return Err(last),
            Err(_) => std::thread::sleep(every),
        }
    }
}

/// [`until`] for synchronous tests.
pub fn until_blocking<T>(what: &str, check: impl FnMut() -> Result<T, String>) -> T {
    within_blocking(PATIENCE, EVERY_BLOCKING, check)
        .unwrap_or_else(|last| panic!("gave up waiting for {what}{}", described(&last)))
}

fn described(last: &str) -> String {
    if last.is_empty() {
        String::new()
    } else {
        format!(": {last}")
    }
}
