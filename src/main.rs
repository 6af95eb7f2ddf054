//! The `seedfeed` binary: parse the command line, load the config, set up logging, run
//! the command, and print the whole error chain if it fails.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use seedfeed::cli::{Cli, Command};
use seedfeed::commands::{self, load_config};
use seedfeed::config::Layer;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("seedfeed: error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            // 2, like a usage error: "could not run", apart from check's 1 for rejects.
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let (config_flag, flags) = match &cli.command {
        Command::Serve(args) => (args.config.config.clone(), args.layer()),
        Command::Check(args) => (args.config.config.clone(), args.layer()),
        Command::Parse(args) => (args.config.config.clone(), Layer::default()),
        Command::Render(args) => (args.config.config.clone(), args.layer()),
    };
    let config = load_config(config_flag, flags, std::env::vars())?;
    init_logging(&config.log_level);
    match cli.command {
        Command::Serve(_) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("seedfeed-http")
                .build()?;
            runtime.block_on(commands::serve::run(config))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check(_) => commands::check::run(&config),
        Command::Parse(args) => commands::parse::run(&args.files, &config),
        Command::Render(args) => commands::render::run(&config, &args.out),
    }
}

/// Logs go to stderr, one line per event. No colours unless stderr is a terminal; no
/// timestamps under journald (`JOURNAL_STREAM`), which adds its own.
fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        builder.without_time().init();
    } else {
        builder.init();
    }
}
