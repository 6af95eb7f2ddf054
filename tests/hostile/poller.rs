//! A normal client that polls the daemon all through the drop: every request it makes
//! must be answered.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::Problems;
use crate::common::daemon::http_client;

/// A client that gets no answer within this long counts as not served. Generous: the
/// machine is shared, and the feeds here are megabytes served by a debug build.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// A normal client polling the daemon throughout the drop.
pub struct Poller {
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
    failures: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Poller {
    /// Asks for each URL in turn until stopped.
    pub fn start<const N: usize>(urls: [String; N]) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicUsize::new(0));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let task = {
            let (stop, answered, failures) = (
                Arc::clone(&stop),
                Arc::clone(&answered),
                Arc::clone(&failures),
            );
            tokio::spawn(async move {
                let client = http_client().timeout(CLIENT_TIMEOUT).build().unwrap();
                for url in urls.iter().cycle() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let outcome = match client.get(url).send().await {
                        Ok(response) if response.status() == 200 => {
                            response.bytes().await.map(drop).map_err(|e| e.to_string())
                        }
                        Ok(response) => Err(format!("status {}", response.status())),
                        Err(e) => Err(e.to_string()),
                    };
                    match outcome {
                        Ok(()) => {
                            answered.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => failures.lock().unwrap().push(format!("{url}: {e}")),
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        };
        Self {
            stop,
            answered,
            failures,
            task,
        }
    }

    /// Stops polling: every request must have been answered.
    pub async fn stop(self, problems: &mut Problems) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap();
        let failures = self.failures.lock().unwrap().clone();
        problems.check(failures.is_empty(), || {
            format!("a polling client was not served: {failures:#?}")
        });
        problems.check(self.answered.load(Ordering::Relaxed) > 0, || {
            "the polling client got no answer".into()
        });
    }
}
