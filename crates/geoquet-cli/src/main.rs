//! The `geoquet` binary: parse arguments, run, map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    clean_up_on_signals();
    geoquet_cli::main_entry()
}

/// On SIGINT, SIGTERM or SIGHUP, removes the temporary files of the outputs being written
/// and of named scratch files (`geoquet::io::output::remove_temporaries`), then exits with
/// 128 + the signal's number (130, 143, 129), as the shell reports a process killed by it.
/// Unnamed scratch files (sort runs, spills) need no cleaning: they vanish with the
/// process. Signals are received on a thread of their own, so the cleaning runs in
/// ordinary code, not in a signal handler.
#[cfg(unix)]
fn clean_up_on_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let _ = geoquet::io::output::remove_temporaries();
                std::process::exit(128 + signal);
            }
        });
}

/// Elsewhere the default handling stays (no cleaning).
#[cfg(not(unix))]
fn clean_up_on_signals() {}
