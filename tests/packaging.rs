//! What the Debian package ships beside the binary, kept in step with the code: the man
//! pages and shell completions generated from the clap definitions, and the packaged
//! configuration (the documented example, with the service's folders). The generated
//! files are committed so that `cargo deb` needs no extra step; when the command line
//! changes, this test fails until `UPDATE_GENERATED=1 cargo test --test packaging`
//! writes them again (review the diff).

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;
use seedfeed::cli::Cli;
use seedfeed::config::{Layer, validate};

fn packaging() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging")
}

/// Every file of `dir`, by name.
fn files(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            (name, std::fs::read_to_string(entry.path()).unwrap())
        })
        .collect()
}

/// Compares what was generated into `fresh` with the committed `dir`, or replaces it.
fn check_generated(fresh: &Path, dir: &Path) {
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).unwrap();
        for (name, text) in files(fresh) {
            std::fs::write(dir.join(name), text).unwrap();
        }
        return;
    }
    let (generated, committed) = (files(fresh), files(dir));
    assert_eq!(
        generated.keys().collect::<Vec<_>>(),
        committed.keys().collect::<Vec<_>>(),
        "{} is out of date: UPDATE_GENERATED=1 cargo test --test packaging",
        dir.display()
    );
    for (name, text) in generated {
        assert!(
            committed[&name] == text,
            "{name} is out of date: UPDATE_GENERATED=1 cargo test --test packaging"
        );
    }
}

/// The command as the man pages show it: the version without the git revision, so the
/// pages change with releases, not with every commit.
fn command() -> clap::Command {
    Cli::command().version(env!("CARGO_PKG_VERSION"))
}

#[test]
fn man_pages_are_generated_from_the_command_line() {
    let fresh = tempfile::tempdir().unwrap();
    clap_mangen::generate_to(command(), fresh.path()).unwrap();
    let pages = files(fresh.path());
    for page in ["seedfeed.1", "seedfeed-serve.1", "seedfeed-check.1"] {
        assert!(pages.contains_key(page), "{:?}", pages.keys());
    }
    assert!(pages["seedfeed-serve.1"].contains("base\\-url"));
    check_generated(fresh.path(), &packaging().join("man"));
}

#[test]
fn shell_completions_are_generated_from_the_command_line() {
    let fresh = tempfile::tempdir().unwrap();
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut command(), "seedfeed", fresh.path()).unwrap();
    }
    let scripts = files(fresh.path());
    assert!(scripts["seedfeed.bash"].contains("--seeds"));
    check_generated(fresh.path(), &packaging().join("completions"));
}

/// The header the packaged configuration starts with.
const PACKAGE_HEADER: &str = "\
# /etc/seedfeed/seedfeed.toml, installed by the seedfeed package (a conffile: your
# changes are kept on upgrades). `systemctl reload seedfeed` applies [feed], [authors],
# [podcast], feed_size and log_level at once; the other keys take effect with
# `systemctl restart seedfeed`.
# The folders are set for the service (seeds read-only, the database in its state
# directory); every other key is at its built-in default.
#
";

#[test]
fn the_packaged_config_is_the_documented_example_with_the_service_folders() {
    let example =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/seedfeed.toml"))
            .unwrap();
    let expected = format!(
        "{PACKAGE_HEADER}{}",
        example
            .replacen(
                "\nseeds = \"seeds\"\n",
                "\nseeds = \"/srv/seedfeed/seeds\"\n",
                1
            )
            .replacen("\ndata = \"data\"\n", "\ndata = \"/var/lib/seedfeed\"\n", 1)
    );
    let path = packaging().join("seedfeed.toml");
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let packaged = std::fs::read_to_string(&path).unwrap();
    assert!(
        packaged == expected,
        "packaging/seedfeed.toml is out of date: UPDATE_GENERATED=1 cargo test --test packaging"
    );
    let config = validate(Layer::from_file(&path).unwrap()).unwrap();
    assert_eq!(config.seeds, Path::new("/srv/seedfeed/seeds"));
    assert_eq!(config.data, Path::new("/var/lib/seedfeed"));
}

/// The unit reads the config where the package puts it, and the seeds folder it
/// protects is the one the packaged config names.
#[test]
fn the_unit_matches_the_packaged_paths() {
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/seedfeed.service"),
    )
    .unwrap();
    let lines: Vec<&str> = unit.lines().collect();
    assert!(
        lines.contains(&"ExecStart=/usr/bin/seedfeed serve --config /etc/seedfeed/seedfeed.toml")
    );
    assert!(lines.contains(&"ReadOnlyPaths=-/srv/seedfeed/seeds"));
    assert!(lines.contains(&"StateDirectory=seedfeed"));
}
