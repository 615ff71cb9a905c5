//! `cargo xtask ci`: the whole CI, step by step, with a timing table.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{cargo, project_root};

/// The mdBook version `.ci/run` installs (keep the two in step).
const MDBOOK_VERSION: &str = "0.5.4";

struct Step {
    name: &'static str,
    took: Duration,
    ok: bool,
}

fn step(steps: &mut Vec<Step>, name: &'static str, mut cmd: Command) -> bool {
    println!("\n==> {name}: {cmd:?}");
    let start = Instant::now();
    let ok = cmd.status().map(|s| s.success()).unwrap_or(false);
    steps.push(Step {
        name,
        took: start.elapsed(),
        ok,
    });
    ok
}

/// A step that runs inside xtask; its error is printed, not returned.
fn in_process(
    steps: &mut Vec<Step>,
    name: &'static str,
    f: impl FnOnce() -> anyhow::Result<()>,
) -> bool {
    println!("\n==> {name}");
    let start = Instant::now();
    let result = f();
    if let Err(e) = &result {
        eprintln!("{name}: {e:#}");
    }
    steps.push(Step {
        name,
        took: start.elapsed(),
        ok: result.is_ok(),
    });
    result.is_ok()
}

fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether CI runs this (`CI` set to anything but empty, `0` or `false`), the rule of
/// `test_support::in_ci`: there the corpus tests fail rather than skip.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| {
        let v = v.trim();
        !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("false"))
    })
}

/// The shared conformance corpus as the tests find it (`test_support::test_data_location`):
/// `$GEOQUET_TEST_DATA`, else `../shared/test-data` beside the workspace.
fn corpus_dir(root: &Path) -> PathBuf {
    match std::env::var_os("GEOQUET_TEST_DATA") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => root.join("..").join("shared").join("test-data"),
    }
}

pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let skip_deny = args.iter().any(|a| a == "--skip-deny");
    // Under CI a missing corpus fails every corpus test; say so once, in one line (no
    // backtrace, whatever RUST_BACKTRACE says), before any build.
    if in_ci() {
        let corpus = corpus_dir(&project_root());
        if !corpus.is_dir() {
            eprintln!(
                "error: CI is set and the conformance corpus {} does not exist: set GEOQUET_TEST_DATA to its folder",
                corpus.display()
            );
            std::process::exit(1);
        }
    }
    let mut steps = Vec::new();
    let mut all_ok = true;

    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    all_ok &= step(&mut steps, "fmt", fmt);

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    all_ok &= step(&mut steps, "clippy", clippy);

    // The README's test command.
    let mut test = cargo();
    test.args(["test", "--workspace"]);
    all_ok &= step(&mut steps, "test", test);

    // Cross-checks with the real clients (GeoPandas, pyarrow, DuckDB), in a
    // venv under target/ that the step creates once.
    let mut interop = cargo();
    interop.args(["run", "--quiet", "--package", "xtask", "--", "interop"]);
    all_ok &= step(&mut steps, "interop", interop);

    let mut doc = cargo();
    doc.args(["doc", "--workspace", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings");
    all_ok &= step(&mut steps, "doc", doc);

    // The generated CLI reference of the book matches `geoquet --help`.
    all_ok &= in_process(&mut steps, "cli-reference", || {
        crate::docs::check_cli_reference(&project_root())
    });
    // The examples of the library guide compile (and run where they can).
    all_ok &= in_process(&mut steps, "library-guide", || {
        crate::docs::check_library_guide(&project_root())
    });

    // The user guide (mdBook, installed by .ci/run when missing).
    if have("mdbook") {
        let mut book = Command::new("mdbook");
        book.current_dir(project_root()).args(["build", "docs"]);
        all_ok &= step(&mut steps, "book", book);
    } else {
        println!(
            "\n==> book: mdbook is not installed (.ci/run installs it: `cargo install mdbook --locked --version {MDBOOK_VERSION} --no-default-features --features search`); skipped"
        );
    }

    let tidy_start = Instant::now();
    println!("\n==> tidy");
    let problems = crate::tidy::check(&project_root())?;
    for p in &problems {
        eprintln!("tidy: {p}");
    }
    steps.push(Step {
        name: "tidy",
        took: tidy_start.elapsed(),
        ok: problems.is_empty(),
    });
    all_ok &= problems.is_empty();

    if !skip_deny {
        let mut deny = Command::new("cargo-deny");
        // Advisories need the advisory database from the network; CI has none.
        deny.current_dir(project_root()).args([
            "--all-features",
            "check",
            "bans",
            "licenses",
            "sources",
        ]);
        if have("cargo-deny") {
            all_ok &= step(&mut steps, "deny", deny);
        } else {
            println!("\n==> deny: cargo-deny is not installed (.ci/run installs it); skipped");
        }
    }

    println!("\n| step | result | seconds |\n|---|---|---|");
    let mut total = Duration::ZERO;
    for s in &steps {
        total += s.took;
        println!(
            "| {} | {} | {:.1} |",
            s.name,
            if s.ok { "ok" } else { "FAILED" },
            s.took.as_secs_f64()
        );
    }
    println!(
        "| total | {} | {:.1} |",
        if all_ok { "ok" } else { "FAILED" },
        total.as_secs_f64()
    );
    anyhow::ensure!(all_ok, "CI failed");
    Ok(())
}
