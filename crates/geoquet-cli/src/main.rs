//! The `geoquet` binary: parse arguments, run, map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    geoquet_cli::main_entry()
}
