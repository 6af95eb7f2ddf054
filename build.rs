//! Build script: the git revision that `seedfeed --version` prints beside the version,
//! and the build time, the `Last-Modified` of the assets built into the binary (the feeds'
//! stylesheet).
//!
//! The revision: outside a git checkout (a source tarball) it is `BUILD_GIT_REVISION` if
//! set, else "unknown". (Not a `SEEDFEED_` name: cargo also passes it to the processes of
//! `cargo test` and `cargo run`, where the daemon would take it for a setting.)
//!
//! The build time: `SOURCE_DATE_EPOCH` when set (reproducible builds; Debian's tools set
//! it from the changelog), else the time this script runs. It runs again when an asset
//! changes (anything under `src/render`), so an asset is never newer than its date.

// Cargo reads a build script's instructions from its stdout.
#![allow(clippy::print_stdout)]

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-changed=src/render");
    let build_time = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|secs| secs.trim().parse::<u64>().ok())
        .or_else(|| {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
            Some(now.as_secs())
        })
        .unwrap_or(0);
    println!("cargo:rustc-env=BUILD_TIME_UNIX={build_time}");
    println!("cargo:rerun-if-env-changed=BUILD_GIT_REVISION");
    let revision = std::env::var("BUILD_GIT_REVISION")
        .ok()
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=BUILD_GIT_REVISION={revision}");
    // Built again when HEAD moves: a checkout changes HEAD, a commit the branch's ref
    // (loose, or packed). Only files that exist: a missing one would rebuild every time.
    let mut watched = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    watched.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--git-path", &name])
            && Path::new(&path).exists()
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
}
