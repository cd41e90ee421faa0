//! `lnpeerd`: parse options the way lightningd does, set up CLN-format logging, run the node
//! until SIGINT or SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;

use lnpeerd::{logging, node};
use node_config::{Config, ConfigError};

fn main() -> ExitCode {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    // Unknown options may belong to plugins; the node rejects what no plugin claims.
    let config = match Config::parse_allowing_unknown(std::env::args().skip(1), home.as_deref()) {
        Ok(config) => config,
        Err(ConfigError::HelpRequested(text) | ConfigError::VersionRequested(text)) => {
            println!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("lnpeerd: {error}");
            return ExitCode::FAILURE;
        }
    };
    let _log = match logging::init(config.log_level, config.log_file.as_deref()) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("lnpeerd: {error}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("lnpeerd: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(node::run(config, shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("lnpeerd: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        tracing::error!("cannot install signal handlers; stop lnpeerd with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = interrupt.recv() => tracing::info!("SIGINT received, shutting down"),
        _ = terminate.recv() => tracing::info!("SIGTERM received, shutting down"),
    }
}
