use clap::Parser;
use pitwall::cli::{Cli, Command};
use pitwall::fleet::client;
use std::process::ExitCode;

fn main() -> ExitCode {
    let _ = pitwall::app::STARTED.set(std::time::Instant::now());
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == client::PLUGIN_GUARD) {
        return client::run_plugin_guard(&args[2..]);
    }
    client::enable_plugin_guard();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pitwall: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Some(Command::Sim(args)) => runtime.block_on(pitwall_sim::run_standalone(args.into())),
        Some(Command::Demo(args)) => runtime.block_on(pitwall::app::run_demo(cli.cockpit, args)),
        Some(Command::CheckConfig) => pitwall::check::run(&cli.cockpit),
        None => runtime.block_on(pitwall::app::run(cli.cockpit)),
    };
    // Quitting never waits on blocking work still running (a hung
    // credential plugin): the process exits and takes those threads along.
    runtime.shutdown_background();
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("pitwall: {message}");
            ExitCode::FAILURE
        }
    }
}
