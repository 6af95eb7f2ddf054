//! The `seedfeed` binary: parse the command line, load the config, set up logging, run
//! the command, and print the whole error chain if it fails.

use std::process::ExitCode;

use clap::Parser;
use seedfeed::cli::{Cli, Command};
use seedfeed::commands::{self, load_config};
use seedfeed::config::Layer;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        Command::Status(args) => (args.config.config.clone(), args.layer()),
        Command::New(args) => (args.config.config.clone(), args.layer()),
        Command::Import(_) => (None, Layer::default()),
        Command::Backup(args) => (args.config.config.clone(), args.layer()),
    };
    // Variables that are not Unicode cannot be settings: skipped, not a panic.
    let env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .collect();
    let config = load_config(config_flag.clone(), flags.clone(), env.clone())?;
    let log_level = seedfeed::logging::init(&config.log_level);
    match cli.command {
        Command::Serve(_) => {
            let sources = commands::serve::Sources {
                config_flag,
                flags,
                env,
            };
            commands::serve::run(config, sources, log_level)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check(_) => commands::check::run(&config),
        Command::Parse(args) => commands::parse::run(&args.files, &config),
        Command::Render(args) => commands::render::run(&config, &args.out),
        Command::Status(args) => commands::status::run(&config, args.json),
        Command::New(args) => commands::new::run(
            &config,
            commands::new::NewArticle {
                title: args.title,
                section: args.section,
                tags: args.tags,
            },
        ),
        Command::Import(args) => commands::import::run(&args.source, &args.into),
        Command::Backup(args) => commands::backup::run(&config, &args.file),
    }
}
