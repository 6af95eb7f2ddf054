//! The backends that can watch the seeds folder, as the configuration names them. The
//! watchers themselves are `watch`'s; this is only the setting's value.

/// Which backend watches the seeds folder (config key `watch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchBackend {
    /// Our inotify backend: Linux only.
    #[cfg(target_os = "linux")]
    Native,
    /// The notify crate's recommended watcher for the platform.
    Notify,
    /// A look at the whole folder at an interval.
    Poll,
}

impl WatchBackend {
    /// The backend used when `watch` is not set: ours where there is inotify, else
    /// notify's.
    pub fn platform_default() -> Self {
        #[cfg(target_os = "linux")]
        let backend = Self::Native;
        #[cfg(not(target_os = "linux"))]
        let backend = Self::Notify;
        backend
    }

    /// The name the configuration gives it.
    pub fn name(self) -> &'static str {
        match self {
            #[cfg(target_os = "linux")]
            Self::Native => "native",
            Self::Notify => "notify",
            Self::Poll => "poll",
        }
    }

    /// The backend a configuration names; the error says what is wrong with the name.
    ///
    /// `native` elsewhere than on Linux is an error, not a quiet change to notify: it is
    /// never the default there, so it was asked for by name, and notify's watcher is not
    /// what was asked for (it wakes at every open and read of a file on Linux, and on
    /// other systems behaves as their own event API does).
    pub fn from_name(name: &str) -> Result<Self, String> {
        match name {
            #[cfg(target_os = "linux")]
            "native" => Ok(Self::Native),
            #[cfg(not(target_os = "linux"))]
            "native" => Err("\"native\" (inotify) exists only on Linux; use notify or poll".into()),
            "notify" => Ok(Self::Notify),
            "poll" => Ok(Self::Poll),
            _ => Err(format!("{name:?} is not native, notify or poll")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_go_both_ways_and_an_unknown_one_is_refused() {
        for name in ["native", "notify", "poll"] {
            if let Ok(backend) = WatchBackend::from_name(name) {
                assert_eq!(backend.name(), name);
            }
        }
        assert_eq!(WatchBackend::from_name("poll"), Ok(WatchBackend::Poll));
        let error = WatchBackend::from_name("inotify").unwrap_err();
        assert!(error.contains("native, notify or poll"), "{error}");
        assert!(WatchBackend::from_name("Poll").is_err());
        #[cfg(target_os = "linux")]
        assert_eq!(WatchBackend::platform_default(), WatchBackend::Native);
        #[cfg(not(target_os = "linux"))]
        assert_eq!(WatchBackend::platform_default(), WatchBackend::Notify);
    }
}
