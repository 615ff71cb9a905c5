//! `cargo xtask release`: lockstep releases of every publishable crate
//! (the flow is described in `RELEASING.md`).
//!
//! - `release prepare X.Y.Z [--no-checks] [--date YYYY-MM-DD]`: sets
//!   `[workspace.package] version` and the version of every internal (path)
//!   dependency to X.Y.Z with `toml_edit` (formatting and comments kept), rolls
//!   each crate's `CHANGELOG.md` (`## [Unreleased]` becomes `## [X.Y.Z] - date`
//!   under a fresh empty Unreleased heading), then runs the checks of
//!   `release check`, stopping at the first failure.
//! - `release check`: tidy, `cargo update --workspace`, `cargo publish --workspace
//!   --dry-run` (packages every crate in dependency order and builds each one
//!   against the others through cargo's local registry overlay),
//!   `cargo deny check` when installed, `cargo test --workspace`.
//! - `release publish [--execute] [--exclude CRATE]...`: checks that the
//!   changelogs were rolled for the manifest's version and that the tag
//!   `vX.Y.Z` is (or can be) on `HEAD`, then `cargo publish --workspace`, as a
//!   dry run unless `--execute` is given; `--execute` also creates the tag when
//!   it is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use semver::Version;
use toml_edit::{DocumentMut, Item, TableLike, Value};

use crate::{cargo, project_root};

const USAGE: &str = "usage: cargo xtask release prepare X.Y.Z [--no-checks] [--date YYYY-MM-DD]\n       \
                     cargo xtask release check\n       \
                     cargo xtask release publish [--execute] [--exclude CRATE]...";

pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let root = project_root();
    match args.first().map(String::as_str) {
        Some("prepare") => {
            let mut version = None;
            let mut checks = true;
            let mut date = None;
            let mut rest = args[1..].iter();
            while let Some(a) = rest.next() {
                match a.as_str() {
                    "--no-checks" => checks = false,
                    "--date" => {
                        date = Some(rest.next().context("--date needs YYYY-MM-DD")?.clone())
                    }
                    v if version.is_none() && !v.starts_with('-') => version = Some(v.to_owned()),
                    other => bail!("release prepare: unexpected argument {other:?}\n{USAGE}"),
                }
            }
            let Some(version) = version else {
                bail!("release prepare: which version?\n{USAGE}");
            };
            let date = match date {
                Some(d) => parse_date(&d)?,
                None => today_utc(),
            };
            let prepared = prepare(&root, &version, &date)?;
            println!(
                "release: {} -> {} in {} manifest(s); {} changelog(s) rolled to {}",
                prepared.from,
                prepared.to,
                prepared.manifests.len(),
                prepared.changelogs.len(),
                date
            );
            if checks {
                run_checks(&root)?;
                println!(
                    "\nrelease: {} is prepared and checked. Review `git diff`, commit \
                     (\"release {}\"), then see RELEASING.md for the tag and the publish.",
                    prepared.to, prepared.to
                );
            } else {
                println!("release: checks skipped (--no-checks); run `cargo xtask release check`");
            }
            Ok(())
        }
        Some("check") => run_checks(&root),
        Some("publish") => {
            let mut execute = false;
            let mut exclude = Vec::new();
            let mut rest = args[1..].iter();
            while let Some(a) = rest.next() {
                match a.as_str() {
                    "--execute" => execute = true,
                    "--exclude" => {
                        exclude.push(rest.next().context("--exclude needs a crate name")?.clone());
                    }
                    other => bail!("release publish: unexpected argument {other:?}\n{USAGE}"),
                }
            }
            publish(&root, execute, &exclude)
        }
        _ => bail!("{USAGE}"),
    }
}

/// What `prepare` changed.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// The version before.
    pub(crate) from: Version,
    /// The version after.
    pub(crate) to: Version,
    /// Every manifest written.
    pub(crate) manifests: Vec<PathBuf>,
    /// Every changelog rolled.
    pub(crate) changelogs: Vec<PathBuf>,
}

/// Bumps every manifest and rolls every changelog under `root`, all or nothing:
/// everything is computed and checked first, then written file by file.
pub(crate) fn prepare(root: &Path, version: &str, date: &str) -> anyhow::Result<Prepared> {
    let root_manifest = root.join("Cargo.toml");
    let text = read(&root_manifest)?;
    let mut doc: DocumentMut = text
        .parse()
        .with_context(|| format!("{} is not valid TOML", root_manifest.display()))?;
    let current_text = doc
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(Item::as_str)
        .with_context(|| {
            format!(
                "{}: no `[workspace.package] version` (geoquet releases every crate in lockstep)",
                root_manifest.display()
            )
        })?
        .to_owned();
    let from = Version::parse(&current_text).with_context(|| {
        format!(
            "{}: the current version {current_text:?} is not semver",
            root_manifest.display()
        )
    })?;
    let to = Version::parse(version.strip_prefix('v').unwrap_or(version)).with_context(|| {
        format!("{version:?} is not a semver version (MAJOR.MINOR.PATCH, e.g. 0.2.0 or 1.0.0-rc.1)")
    })?;
    if to <= from {
        if to == from {
            bail!(
                "the workspace is already at {from}; to re-run only the checks, use `cargo xtask release check`"
            );
        }
        bail!("{to} is not greater than the current version {from}");
    }
    let new = to.to_string();

    // Root manifest: the shared version and the internal dependency pins.
    let mut writes: Vec<(PathBuf, String)> = Vec::new();
    if let Some(item) = doc
        .get_mut("workspace")
        .and_then(|w| w.get_mut("package"))
        .and_then(|p| p.get_mut("version"))
        .and_then(Item::as_value_mut)
    {
        set_keeping_decor(item, &new);
    }
    if let Some(deps) = doc
        .get_mut("workspace")
        .and_then(|w| w.get_mut("dependencies"))
        .and_then(Item::as_table_like_mut)
    {
        bump_path_deps(deps, &new);
    }
    writes.push((root_manifest.clone(), doc.to_string()));

    // Members: their own versions (when not inherited) and path dependencies.
    let members = members(root, &doc)?;
    let mut changelog_writes = Vec::new();
    for dir in &members {
        let manifest = dir.join("Cargo.toml");
        let text = read(&manifest)?;
        let mut member: DocumentMut = text
            .parse()
            .with_context(|| format!("{} is not valid TOML", manifest.display()))?;
        if let Some(v) = member
            .get_mut("package")
            .and_then(|p| p.get_mut("version"))
            .and_then(Item::as_value_mut)
            .filter(|v| v.is_str())
        {
            set_keeping_decor(v, &new);
        }
        bump_member_deps(&mut member, &new);
        let publishable = !matches!(
            member.get("package").and_then(|p| p.get("publish")).and_then(Item::as_value),
            Some(Value::Boolean(b)) if !*b.value()
        );
        let bumped = member.to_string();
        if bumped != text {
            writes.push((manifest.clone(), bumped));
        }
        let changelog = dir.join("CHANGELOG.md");
        if changelog.exists() {
            let rolled = roll_changelog(&read(&changelog)?, &to, date)
                .map_err(|e| anyhow::anyhow!("{}: {e}", changelog.display()))?;
            changelog_writes.push((changelog, rolled));
        } else if publishable {
            bail!(
                "{}: a publishable crate needs a CHANGELOG.md with an `## [Unreleased]` section",
                dir.display()
            );
        }
    }
    let root_changelog = root.join("CHANGELOG.md");
    if root_changelog.exists() {
        let rolled = roll_changelog(&read(&root_changelog)?, &to, date)
            .map_err(|e| anyhow::anyhow!("{}: {e}", root_changelog.display()))?;
        changelog_writes.push((root_changelog, rolled));
    }

    let manifests = writes.iter().map(|(p, _)| p.clone()).collect();
    let changelogs = changelog_writes.iter().map(|(p, _)| p.clone()).collect();
    for (path, text) in writes.iter().chain(&changelog_writes) {
        crate::docs::write_atomically(path, text)?;
    }
    Ok(Prepared {
        from,
        to,
        manifests,
        changelogs,
    })
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Replaces a string value, keeping the whitespace and comments around it.
fn set_keeping_decor(value: &mut Value, new: &str) {
    let decor = value.decor().clone();
    *value = Value::from(new);
    *value.decor_mut() = decor;
}

/// Every `name = { path = .., version = .. }` (inline or as a table) in `deps`
/// gets `version = new`. Dependencies without a path are third-party ones.
fn bump_path_deps(deps: &mut dyn TableLike, new: &str) {
    for (_, dep) in deps.iter_mut() {
        let Some(dep) = dep.as_table_like_mut() else {
            continue;
        };
        if !dep.contains_key("path") {
            continue;
        }
        if let Some(v) = dep
            .get_mut("version")
            .and_then(Item::as_value_mut)
            .filter(|v| v.is_str())
        {
            set_keeping_decor(v, new);
        }
    }
}

/// The dependency tables of a member manifest, including `[target.'cfg'.*]`.
fn bump_member_deps(doc: &mut DocumentMut, new: &str) {
    const KINDS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];
    for kind in KINDS {
        if let Some(t) = doc.get_mut(kind).and_then(Item::as_table_like_mut) {
            bump_path_deps(t, new);
        }
    }
    if let Some(targets) = doc.get_mut("target").and_then(Item::as_table_like_mut) {
        for (_, target) in targets.iter_mut() {
            for kind in KINDS {
                if let Some(t) = target.get_mut(kind).and_then(Item::as_table_like_mut) {
                    bump_path_deps(t, new);
                }
            }
        }
    }
}

/// The member directories from `[workspace] members` (`dir` or `dir/*`).
fn members(root: &Path, doc: &DocumentMut) -> anyhow::Result<Vec<PathBuf>> {
    let patterns = doc
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(Item::as_array)
        .context("the root Cargo.toml has no `[workspace] members`")?;
    let mut dirs = Vec::new();
    for p in patterns.iter().filter_map(Value::as_str) {
        if let Some(parent) = p.strip_suffix("/*") {
            let parent = root.join(parent);
            let mut found: Vec<PathBuf> = std::fs::read_dir(&parent)
                .with_context(|| format!("listing {}", parent.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|d| d.join("Cargo.toml").is_file())
                .collect();
            found.sort();
            dirs.extend(found);
        } else if p.contains('*') || p.contains('?') || p.contains('[') {
            bail!("workspace member pattern {p:?}: only `dir` and `dir/*` are understood");
        } else {
            dirs.push(root.join(p));
        }
    }
    Ok(dirs)
}

/// Moves the entries under `## [Unreleased]` to `## [VERSION] - DATE` and
/// leaves a fresh, empty Unreleased heading above it. Keeps the bracket style
/// of the existing heading.
pub(crate) fn roll_changelog(text: &str, version: &Version, date: &str) -> Result<String, String> {
    let lines: Vec<&str> = text.lines().collect();
    let is_heading = |l: &str, name: &str| {
        let t = l.trim();
        t.strip_prefix("## ").is_some_and(|h| {
            let h = h.trim();
            let bare = h.trim_start_matches('[');
            let bare = bare.split(']').next().unwrap_or(bare);
            bare.eq_ignore_ascii_case(name)
        })
    };
    let v = version.to_string();
    if lines.iter().any(|l| is_heading(l, &v)) {
        return Err(format!("already has a section for {v}"));
    }
    let Some(at) = lines.iter().position(|l| is_heading(l, "unreleased")) else {
        return Err("no `## [Unreleased]` heading to roll".to_owned());
    };
    let bracketed = lines[at].contains('[');
    // The section runs to the next `## ` heading or the link definitions at the end.
    let end = lines[at + 1..]
        .iter()
        .position(|l| l.starts_with("## ") || (l.starts_with('[') && l.contains("]: ")))
        .map_or(lines.len(), |i| i + at + 1);
    let entries = &lines[at + 1..end];
    let empty = entries.iter().all(|l| l.trim().is_empty());

    let mut out: Vec<String> = lines[..at].iter().map(|l| (*l).to_owned()).collect();
    if bracketed {
        out.push("## [Unreleased]".to_owned());
        out.push(String::new());
        out.push(format!("## [{v}] - {date}"));
    } else {
        out.push("## Unreleased".to_owned());
        out.push(String::new());
        out.push(format!("## {v} - {date}"));
    }
    if empty {
        out.push(String::new());
        out.push(
            "No changes of its own; released in step with the other geoquet crates.".to_owned(),
        );
        if end < lines.len() {
            out.push(String::new());
        }
    } else {
        out.extend(entries.iter().map(|l| (*l).to_owned()));
    }
    out.extend(lines[end..].iter().map(|l| (*l).to_owned()));
    let mut rolled = out.join("\n");
    if text.ends_with('\n') {
        rolled.push('\n');
    }
    Ok(rolled)
}

/// Today's date in UTC as `YYYY-MM-DD`.
fn today_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    civil_from_days(days)
}

/// `YYYY-MM-DD` of a day count since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn parse_date(s: &str) -> anyhow::Result<String> {
    let parts: Vec<&str> = s.split('-').collect();
    let ok = parts.len() == 3
        && [4, 2, 2]
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.len() == *n && p.chars().all(|c| c.is_ascii_digit()))
        && matches!(parts[1].parse::<u8>(), Ok(1..=12))
        && matches!(parts[2].parse::<u8>(), Ok(1..=31));
    if !ok {
        bail!("--date {s:?}: expected YYYY-MM-DD");
    }
    Ok(s.to_owned())
}

/// One check of a release: its name and the command, or an in-process check.
fn step(name: &str, mut cmd: Command) -> anyhow::Result<()> {
    println!("\n==> release check: {name}: {cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("release check `{name}` could not start"))?;
    if !status.success() {
        bail!(
            "release check `{name}` failed ({status}). The version bump and the changelogs \
             stay as they are; fix the problem, then run `cargo xtask release check` again."
        );
    }
    Ok(())
}

/// The checks of a prepared release, stopping at the first failure.
fn run_checks(root: &Path) -> anyhow::Result<()> {
    println!("\n==> release check: tidy");
    let problems = crate::tidy::check(root)?;
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("tidy: {p}");
        }
        bail!("release check `tidy` failed: {} problem(s)", problems.len());
    }

    // The lock file records the new versions of the workspace crates.
    let mut update = cargo();
    update.current_dir(root).args(["update", "--workspace"]);
    step("cargo update --workspace", update)?;

    // Packages every crate in dependency order and builds each from its
    // package, with the not-yet-published workspace crates served from a local
    // registry overlay (cargo >= 1.90). `--allow-dirty`: the bump is not committed yet.
    let mut publish = cargo();
    publish.current_dir(root).args([
        "publish",
        "--workspace",
        "--dry-run",
        "--allow-dirty",
        "--locked",
    ]);
    step("cargo publish --workspace --dry-run", publish)?;

    if have_cargo_deny() {
        let mut deny = Command::new("cargo-deny");
        // Same scope as CI: advisories need the advisory database from the
        // network (RELEASING.md says to run them by hand).
        deny.current_dir(root)
            .args(["--all-features", "check", "bans", "licenses", "sources"]);
        step("cargo deny check", deny)?;
    } else {
        println!("\n==> release check: cargo deny: cargo-deny is not installed; skipped");
    }

    let mut test = cargo();
    test.current_dir(root)
        .args(["test", "--workspace", "--locked"]);
    step("cargo test --workspace", test)?;
    println!("\nrelease: every check passed");
    Ok(())
}

fn have_cargo_deny() -> bool {
    Command::new("cargo-deny")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The version in `[workspace.package]`.
fn workspace_version(root: &Path) -> anyhow::Result<Version> {
    let path = root.join("Cargo.toml");
    let doc: DocumentMut = read(&path)?
        .parse()
        .with_context(|| format!("{} is not valid TOML", path.display()))?;
    let v = doc
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(Item::as_str)
        .with_context(|| format!("{}: no `[workspace.package] version`", path.display()))?;
    Ok(Version::parse(v)?)
}

fn git(root: &Path, args: &[&str]) -> anyhow::Result<std::process::Output> {
    Command::new("git")
        .current_dir(root)
        .args(args)
        .output()
        .with_context(|| format!("running git {}", args.join(" ")))
}

fn git_stdout(root: &Path, args: &[&str]) -> anyhow::Result<Option<String>> {
    let o = git(root, args)?;
    Ok(o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_owned()))
}

/// What the checks before a publish found.
#[derive(Debug)]
struct Preflight {
    version: Version,
    tag: String,
    /// `git status --porcelain`; empty when clean.
    dirty: String,
    /// The tag was created now (it must be pushed).
    created: bool,
}

/// Everything `release publish` checks before running cargo: the changelogs
/// have a section for the manifest's version, the tag pushed to CI (if any)
/// is that version, the tree is clean (for `execute`), and the tag `vX.Y.Z` is
/// on `HEAD` (created when missing, for `execute`).
fn preflight(root: &Path, execute: bool, ref_name: Option<&str>) -> anyhow::Result<Preflight> {
    let version = workspace_version(root)?;
    let tag = format!("v{version}");
    let mode = if execute { "publish" } else { "dry run" };
    println!("release publish ({mode}): geoquet {version}, tag {tag}");

    // The changelogs were rolled for this version.
    let doc: DocumentMut = read(&root.join("Cargo.toml"))?.parse()?;
    let heading = format!("## [{version}]");
    let plain = format!("## {version} ");
    for dir in members(root, &doc)? {
        let changelog = dir.join("CHANGELOG.md");
        if let Ok(text) = std::fs::read_to_string(&changelog)
            && !text
                .lines()
                .any(|l| l.starts_with(&heading) || l.starts_with(&plain))
        {
            bail!(
                "{} has no section for {version}: run `cargo xtask release prepare {version}` first",
                changelog.display()
            );
        }
    }

    // A CI job started by a tag publishes the version of that tag only.
    if let Some(ref_name) = ref_name
        && ref_name.starts_with('v')
        && ref_name != tag
    {
        bail!("the pushed tag {ref_name} does not match the workspace version ({tag})");
    }

    let dirty = git_stdout(root, &["status", "--porcelain"])?
        .context("not a git repository: a release is published from a commit")?;
    if !dirty.is_empty() {
        if execute {
            bail!("the working tree has uncommitted changes; commit the release first:\n{dirty}");
        }
        println!("note: uncommitted changes (allowed in a dry run):\n{dirty}");
    }
    let head = git_stdout(root, &["rev-parse", "HEAD"])?.context("no HEAD commit")?;
    let tagged = git_stdout(
        root,
        &[
            "rev-parse",
            "-q",
            "--verify",
            &format!("refs/tags/{tag}^{{commit}}"),
        ],
    )?;
    let mut created = false;
    match tagged {
        Some(commit) if commit == head => println!("tag {tag} is on HEAD ({head})"),
        Some(commit) => bail!(
            "tag {tag} exists but points at {commit}, not at HEAD ({head}); \
             publish from the tagged commit (`git checkout {tag}`)"
        ),
        None if execute => {
            let o = git(
                root,
                &["tag", "-a", &tag, "-m", &format!("geoquet {version}")],
            )?;
            if !o.status.success() {
                bail!(
                    "git tag {tag} failed: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
            }
            created = true;
            println!("created tag {tag} on HEAD ({head})");
        }
        None => println!("tag {tag} does not exist yet; `--execute` creates it on HEAD ({head})"),
    }
    Ok(Preflight {
        version,
        tag,
        dirty,
        created,
    })
}

/// The tag-driven publish: dry run unless `execute`.
fn publish(root: &Path, execute: bool, exclude: &[String]) -> anyhow::Result<()> {
    let ref_name = std::env::var("GITHUB_REF_NAME").ok();
    let Preflight {
        version,
        tag,
        dirty,
        created,
    } = preflight(root, execute, ref_name.as_deref())?;

    let mut cmd = cargo();
    cmd.current_dir(root)
        .args(["publish", "--workspace", "--locked"]);
    if !execute {
        cmd.arg("--dry-run");
        if !dirty.is_empty() {
            cmd.arg("--allow-dirty");
        }
    }
    for e in exclude {
        cmd.args(["--exclude", e]);
    }
    println!("\n==> {cmd:?}");
    let status = cmd.status().context("running cargo publish")?;
    if !status.success() {
        bail!(
            "cargo publish failed ({status}). `cargo publish --workspace` is not atomic: crates \
             already uploaded stay uploaded; re-run with `--exclude NAME` for each of them \
             (see RELEASING.md)"
        );
    }
    if execute {
        println!("\nrelease: geoquet {version} is published.");
        if created {
            println!("Push the tag: git push origin {tag}");
        }
    } else {
        println!(
            "\nrelease: dry run passed; publish for real with `cargo xtask release publish --execute`"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version above anything the workspace, or a copy of it already
    /// prepared by a release check, has: `MAJOR+1000.0.0`.
    fn next_version() -> Version {
        let current = workspace_version(&project_root()).unwrap();
        Version::new(current.major + 1000, 0, 0)
    }

    /// Copies the root manifest and every member's manifest and changelog.
    fn scratch_copy(root: &Path, to: &Path) -> Vec<PathBuf> {
        std::fs::copy(root.join("Cargo.toml"), to.join("Cargo.toml")).unwrap();
        let doc: DocumentMut = read(&root.join("Cargo.toml")).unwrap().parse().unwrap();
        let mut copied = Vec::new();
        for dir in members(root, &doc).unwrap() {
            let rel = dir.strip_prefix(root).unwrap();
            std::fs::create_dir_all(to.join(rel)).unwrap();
            for file in ["Cargo.toml", "CHANGELOG.md"] {
                if dir.join(file).exists() {
                    std::fs::copy(dir.join(file), to.join(rel).join(file)).unwrap();
                }
            }
            copied.push(rel.to_path_buf());
        }
        copied
    }

    /// Every line that changed only had the old version replaced by the new.
    fn only_versions_changed(before: &str, after: &str, old: &str, new: &str) -> usize {
        assert_eq!(before.lines().count(), after.lines().count());
        let mut changed = 0;
        for (b, a) in before.lines().zip(after.lines()) {
            if b != a {
                assert_eq!(b.replace(old, new), a, "unexpected change");
                changed += 1;
            }
        }
        changed
    }

    #[test]
    fn prepare_on_a_scratch_copy_bumps_every_manifest_and_rolls_every_changelog() {
        let root = project_root();
        let tmp = tempfile::tempdir().unwrap();
        let members = scratch_copy(&root, tmp.path());
        assert!(members.len() >= 8, "{members:?}");
        let before = read(&tmp.path().join("Cargo.toml")).unwrap();
        let old = workspace_version(tmp.path()).unwrap().to_string();
        let next = next_version().to_string();

        let prepared = prepare(tmp.path(), &next, "2030-01-02").unwrap();
        assert_eq!(prepared.to.to_string(), next);
        assert_eq!(prepared.from.to_string(), old);

        // Root: the shared version and every internal pin, nothing else, formatting kept.
        let after = read(&tmp.path().join("Cargo.toml")).unwrap();
        let changed = only_versions_changed(&before, &after, &old, &next);
        let doc: DocumentMut = after.parse().unwrap();
        assert_eq!(
            doc["workspace"]["package"]["version"].as_str(),
            Some(next.as_str())
        );
        let deps = doc["workspace"]["dependencies"].as_table_like().unwrap();
        let mut internal = 0;
        for (name, dep) in deps.iter() {
            let Some(dep) = dep.as_table_like() else {
                continue;
            };
            if dep.contains_key("path") {
                match dep.get("version").and_then(Item::as_str) {
                    Some(v) => {
                        assert_eq!(v, next, "{name}");
                        internal += 1;
                    }
                    None => assert_eq!(name, "test-support", "only test-support is version-less"),
                }
            }
        }
        assert_eq!(
            changed,
            internal + 1,
            "the shared version and {internal} pins"
        );
        assert!(internal >= 7);

        // Members: inherited or bumped versions, bumped path dependencies.
        let mut rolled = 0;
        for rel in &members {
            let dir = tmp.path().join(rel);
            let manifest = read(&dir.join("Cargo.toml")).unwrap();
            let doc: DocumentMut = manifest.parse().unwrap();
            let version = &doc["package"]["version"];
            assert!(
                version.as_str() == Some(next.as_str())
                    || version.get("workspace").and_then(Item::as_bool) == Some(true)
                    || version
                        .as_table_like()
                        .is_some_and(|t| t.contains_key("workspace")),
                "{}: version {version:?}",
                rel.display()
            );
            for kind in ["dependencies", "dev-dependencies", "build-dependencies"] {
                let Some(t) = doc.get(kind).and_then(Item::as_table_like) else {
                    continue;
                };
                for (name, dep) in t.iter() {
                    if let Some(v) = dep
                        .as_table_like()
                        .filter(|d| d.contains_key("path"))
                        .and_then(|d| d.get("version"))
                        .and_then(Item::as_str)
                    {
                        assert_eq!(v, next, "{}: {name}", rel.display());
                    }
                }
            }
            let changelog = dir.join("CHANGELOG.md");
            if let Ok(original) = std::fs::read_to_string(root.join(rel).join("CHANGELOG.md")) {
                let text = read(&changelog).unwrap();
                assert_eq!(
                    text.matches("## [Unreleased]").count(),
                    1,
                    "{}",
                    rel.display()
                );
                assert!(
                    text.contains(&format!("## [Unreleased]\n\n## [{next}] - 2030-01-02\n")),
                    "{}:\n{text}",
                    rel.display()
                );
                // Every entry that was there is still there, under the new version.
                let new_section = text
                    .split(&format!("## [{next}] - 2030-01-02"))
                    .nth(1)
                    .unwrap();
                for line in original
                    .lines()
                    .skip_while(|l| !l.starts_with("## [Unreleased]"))
                    .skip(1)
                {
                    if line.starts_with("- ") {
                        assert!(
                            new_section.contains(line),
                            "{}: lost {line:?}",
                            rel.display()
                        );
                    }
                }
                rolled += 1;
            }
        }
        assert_eq!(rolled, prepared.changelogs.len());
        assert!(rolled >= 8, "{rolled} changelogs");

        // A second prepare to the same or a lower version is refused.
        let again = prepare(tmp.path(), &next, "2030-01-02")
            .unwrap_err()
            .to_string();
        assert!(
            again.contains(&format!("already at {next}")) && again.contains("release check"),
            "{again}"
        );
        let lower = format!("{}.0.0", next_version().major - 1);
        let lower = prepare(tmp.path(), &lower, "2030-01-02")
            .unwrap_err()
            .to_string();
        assert!(
            lower.contains(&format!("not greater than the current version {next}")),
            "{lower}"
        );
    }

    #[test]
    fn bad_versions_and_bad_changelogs_change_nothing() {
        let root = project_root();
        let tmp = tempfile::tempdir().unwrap();
        let members = scratch_copy(&root, tmp.path());
        let before = read(&tmp.path().join("Cargo.toml")).unwrap();

        for bad in ["1.2", "one.two.three", "1.2.3.4", ""] {
            let e = prepare(tmp.path(), bad, "2030-01-02")
                .unwrap_err()
                .to_string();
            assert!(e.contains("not a semver version"), "{bad}: {e}");
        }
        // A changelog without an Unreleased heading stops everything before any write.
        let victim = members
            .iter()
            .map(|rel| tmp.path().join(rel).join("CHANGELOG.md"))
            .find(|p| p.exists())
            .unwrap();
        std::fs::write(&victim, "# Changelog\n\n## [0.0.1] - 2020-01-01\n").unwrap();
        let e = format!(
            "{:#}",
            prepare(tmp.path(), &next_version().to_string(), "2030-01-02").unwrap_err()
        );
        assert!(
            e.contains("CHANGELOG.md") && e.contains("no `## [Unreleased]`"),
            "{e}"
        );
        assert_eq!(read(&tmp.path().join("Cargo.toml")).unwrap(), before);
    }

    fn git_ok(dir: &Path, args: &[&str]) -> String {
        let o = git(dir, args).unwrap();
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_owned()
    }

    #[test]
    fn publish_checks_the_changelogs_the_tree_and_the_tag() {
        if git(Path::new("."), &["--version"]).is_err() {
            println!("SKIP: git is not installed");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        scratch_copy(&project_root(), dir);
        git_ok(dir, &["init", "-q"]);
        git_ok(dir, &["config", "user.name", "Release Test"]);
        git_ok(dir, &["config", "user.email", "release@example.invalid"]);
        git_ok(dir, &["config", "tag.gpgSign", "false"]);
        git_ok(dir, &["config", "commit.gpgSign", "false"]);
        git_ok(dir, &["add", "."]);
        git_ok(dir, &["commit", "-q", "-m", "before"]);

        let next = next_version();
        let tag = format!("v{next}");

        prepare(dir, &next.to_string(), "2030-01-02").unwrap();
        // Prepared but not committed: fine for a dry run, refused for real.
        let dry = preflight(dir, false, None).unwrap();
        assert!(!dry.dirty.is_empty() && !dry.created);
        assert_eq!(dry.tag, tag);
        let e = preflight(dir, true, None).unwrap_err().to_string();
        assert!(e.contains("uncommitted changes"), "{e}");
        git_ok(dir, &["commit", "-q", "-am", "release"]);

        // A version whose changelog sections are missing (bumped by hand).
        let manifest = dir.join("Cargo.toml");
        let prepared = read(&manifest).unwrap();
        let unrolled = Version::new(next.major + 1, 0, 0);
        let bumped = prepared.replacen(
            &format!("version = \"{next}\""),
            &format!("version = \"{unrolled}\""),
            1,
        );
        assert_ne!(bumped, prepared);
        std::fs::write(&manifest, bumped).unwrap();
        let e = preflight(dir, false, None).unwrap_err().to_string();
        assert!(
            e.contains(&format!("has no section for {unrolled}")) && e.contains("release prepare"),
            "{e}"
        );
        std::fs::write(&manifest, prepared).unwrap();

        // CI started by another tag.
        let e = preflight(dir, false, Some("v0.0.1"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("v0.0.1 does not match"), "{e}");
        // A dry run creates no tag; --execute does, on HEAD, and accepts it afterwards.
        assert!(!preflight(dir, false, Some(&tag)).unwrap().created);
        assert!(
            git(
                dir,
                &["rev-parse", "-q", "--verify", &format!("refs/tags/{tag}")]
            )
            .unwrap()
            .stdout
            .is_empty()
        );
        assert!(preflight(dir, true, None).unwrap().created);
        let head = git_ok(dir, &["rev-parse", "HEAD"]);
        assert_eq!(
            git_ok(dir, &["rev-parse", &format!("{tag}^{{commit}}")]),
            head
        );
        assert!(!preflight(dir, true, Some(&tag)).unwrap().created);

        // A tag left on an older commit is refused.
        git_ok(dir, &["commit", "-q", "--allow-empty", "-m", "after"]);
        let e = preflight(dir, false, None).unwrap_err().to_string();
        assert!(
            e.contains(&format!("tag {tag} exists but points at")),
            "{e}"
        );
    }

    #[test]
    fn changelogs_roll_in_either_heading_style() {
        let v = Version::parse("1.0.0").unwrap();
        let bracketed = "# Changelog\n\n## [Unreleased]\n\n### Added\n- A thing.\n\n## [0.9.0] - 2020-01-01\n- Old.\n";
        assert_eq!(
            roll_changelog(bracketed, &v, "2030-01-02").unwrap(),
            "# Changelog\n\n## [Unreleased]\n\n## [1.0.0] - 2030-01-02\n\n### Added\n- A thing.\n\n## [0.9.0] - 2020-01-01\n- Old.\n"
        );
        let plain = "# Changelog\n\n## Unreleased\n";
        assert_eq!(
            roll_changelog(plain, &v, "2030-01-02").unwrap(),
            "# Changelog\n\n## Unreleased\n\n## 1.0.0 - 2030-01-02\n\nNo changes of its own; released in step with the other geoquet crates.\n"
        );
        let rolled = roll_changelog(bracketed, &v, "2030-01-02").unwrap();
        assert_eq!(
            roll_changelog(&rolled, &v, "2030-01-03").unwrap_err(),
            "already has a section for 1.0.0"
        );
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), "1970-01-01");
        assert_eq!(civil_from_days(11_016), "2000-02-29");
        assert_eq!(civil_from_days(20_778), "2026-11-21");
        assert!(parse_date("2030-01-02").is_ok());
        for bad in ["2030-1-2", "2030-13-01", "20300102", "2030-01-02x"] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        assert_eq!(today_utc().len(), 10);
    }
}
