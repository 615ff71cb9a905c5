//! `cargo xtask tidy`: the rules of `ARCHITECTURE.md` and of the manifests,
//! checked from `cargo metadata` and the files. Also run as a `#[test]`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

/// Internal crates each workspace package may depend on (normal and build
/// dependencies). Anything not listed is forbidden: dependencies only flow
/// downward and siblings never depend on each other.
const ALLOWED: &[(&str, &[&str])] = &[
    ("geoparquet-meta", &[]),
    ("geoparquet-io", &["geoparquet-meta"]),
    ("geoquet-geojson", &["geoparquet-meta", "geoparquet-io"]),
    ("stac-geoparquet", &["geoparquet-meta", "geoparquet-io"]),
    ("quadbin", &[]),
    (
        "geoquet-raquet",
        &["quadbin", "geoparquet-meta", "geoparquet-io"],
    ),
    ("sliderule-export", &["geoparquet-meta", "geoparquet-io"]),
    (
        "geoquet",
        &[
            "geoparquet-meta",
            "geoparquet-io",
            "geoquet-geojson",
            "stac-geoparquet",
            "quadbin",
            "geoquet-raquet",
            "sliderule-export",
        ],
    ),
    ("geoquet-cli", &["geoquet"]),
    ("test-support", &[]),
    ("xtask", &[]),
];

/// Third-party crates that must not appear among the normal dependencies of
/// the pure crates (no I/O, no arrow, no async).
const IMPURE: &[&str] = &[
    "arrow",
    "parquet",
    "tokio",
    "futures",
    "object_store",
    "geoarrow",
];
const PURE: &[&str] = &["geoparquet-meta", "quadbin"];

/// Directory name = package name, except where a crates.io name is taken.
const DIR_EXCEPTIONS: &[(&str, &str)] = &[("raquet", "geoquet-raquet")];

fn metadata(root: &Path) -> anyhow::Result<Value> {
    let out = crate::cargo()
        .current_dir(root)
        .args(["metadata", "--format-version", "1"])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// Every problem found; empty when the workspace is tidy.
pub(crate) fn check(root: &Path) -> anyhow::Result<Vec<String>> {
    let meta = metadata(root)?;
    let members: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let packages = meta["packages"].as_array().cloned().unwrap_or_default();
    let internal: BTreeMap<String, &Value> = packages
        .iter()
        .filter(|p| p["id"].as_str().is_some_and(|id| members.contains(id)))
        .map(|p| (p["name"].as_str().unwrap_or_default().to_owned(), p))
        .collect();
    let mut problems = Vec::new();
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();

    for (name, pkg) in &internal {
        let manifest = Path::new(pkg["manifest_path"].as_str().unwrap_or_default());
        let dir = manifest.parent().unwrap_or(root);
        let dir_name = dir.file_name().and_then(|s| s.to_str()).unwrap_or_default();
        let expected_dir = DIR_EXCEPTIONS
            .iter()
            .find(|(_, p)| p == name)
            .map_or(name.as_str(), |(d, _)| d);
        if dir_name != expected_dir {
            problems.push(format!(
                "{name}: directory `{dir_name}` should be named after the package"
            ));
        }
        let Some(allowed_deps) = allowed.get(name.as_str()) else {
            problems.push(format!(
                "{name}: not in the tidy dependency table (xtask/src/tidy.rs)"
            ));
            continue;
        };
        let publishable = !matches!(&pkg["publish"], Value::Array(a) if a.is_empty());
        let text = std::fs::read_to_string(manifest).unwrap_or_default();
        if !text.contains("[lints]\nworkspace = true") {
            problems.push(format!("{name}: missing `[lints] workspace = true`"));
        }
        for dep in pkg["dependencies"].as_array().into_iter().flatten() {
            let dep_name = dep["name"].as_str().unwrap_or_default();
            let kind = dep["kind"].as_str();
            let is_internal = internal.contains_key(dep_name);
            if is_internal && kind != Some("dev") {
                if !allowed_deps.contains(&dep_name) {
                    problems.push(format!("{name} depends on {dep_name}: dependencies flow downward only (ARCHITECTURE.md)"));
                }
                if dep["req"].as_str() == Some("*") {
                    problems.push(format!(
                        "{name}: internal dependency {dep_name} needs a version"
                    ));
                }
            }
            if dep_name == "test-support" && kind != Some("dev") {
                problems.push(format!("{name}: test-support may only be a dev-dependency"));
            }
            if dep_name == "test-support" && dep["req"].as_str() != Some("*") {
                problems.push(format!(
                    "{name}: test-support must be version-less (it is never published)"
                ));
            }
            if kind.is_none() {
                let impure = IMPURE.iter().any(|b| dep_name.starts_with(b));
                if PURE.contains(&name.as_str()) && impure {
                    problems.push(format!(
                        "{name} must not depend on {dep_name} (no I/O, arrow or async: ARCHITECTURE.md)"
                    ));
                }
                if dep_name == "anyhow" && !matches!(name.as_str(), "geoquet-cli" | "xtask") {
                    problems.push(format!("{name}: anyhow belongs to the CLI and xtask only"));
                }
            }
        }
        if publishable {
            for key in [
                "description",
                "license",
                "repository",
                "readme",
                "rust_version",
            ] {
                if pkg[key].is_null() {
                    problems.push(format!("{name}: missing `{key}`"));
                }
            }
            for key in ["keywords", "categories"] {
                if pkg[key].as_array().is_none_or(Vec::is_empty) {
                    problems.push(format!("{name}: missing `{key}`"));
                }
            }
            if !dir.join("CHANGELOG.md").is_file() {
                problems.push(format!("{name}: missing CHANGELOG.md"));
            }
        }
        if name != "xtask" {
            if !dir.join("README.md").is_file() {
                problems.push(format!("{name}: missing README.md"));
            }
            let lib = dir.join("src/lib.rs");
            if lib.is_file() {
                let src = std::fs::read_to_string(&lib).unwrap_or_default();
                if !src.contains("#![doc = include_str!(\"../README.md\")]") {
                    problems.push(format!(
                        "{name}: src/lib.rs must include README.md as its crate docs"
                    ));
                }
            }
        }
        if name == "geoquet" {
            let src = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap_or_default();
            for line in src.lines().map(str::trim) {
                let ok = line.is_empty()
                    || line.starts_with("//")
                    || line.starts_with("#")
                    || line.starts_with("pub use ");
                if !ok {
                    problems.push(format!(
                        "geoquet (umbrella) holds logic: `{line}`; it may only `pub use`"
                    ));
                }
            }
        }
    }

    // One arrow-rs major across the resolved graph.
    let mut majors: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in &packages {
        let name = p["name"].as_str().unwrap_or_default();
        if name.starts_with("arrow") || name == "parquet" {
            let v = p["version"].as_str().unwrap_or_default();
            majors
                .entry(v.split('.').next().unwrap_or_default().to_owned())
                .or_default()
                .insert(format!("{name} {v}"));
        }
    }
    if majors.len() > 1 {
        problems.push(format!(
            "more than one arrow-rs major in the dependency graph: {majors:?}"
        ));
    }

    // No unused pins or dependencies.
    problems.extend(unused_dependencies(root, &packages, &internal));

    // The API conventions of docs/src/conventions.md that text can show.
    problems.extend(crate::tidy_conventions::check(root));

    // No should-panic tests: assert on the Err instead.
    for dir in ["crates", "xtask"] {
        scan(&root.join(dir), &mut |path, text| {
            if text.contains(concat!("#[should", "_panic")) {
                problems.push(format!(
                    "{}: has a should-panic test; assert on the Err instead",
                    path.display()
                ));
            }
        });
    }
    Ok(problems)
}

/// Dependencies that are declared on purpose without a `use` in the sources
/// the rule reads: (package, dependency, why).
const UNUSED_OK: &[(&str, &str, &str)] = &[];

/// Every `[workspace.dependencies]` entry is used by some member, and every
/// dependency of a member is named in the sources that can use it: normal
/// dependencies in `src/` (build dependencies in `build.rs`), dev-dependencies
/// anywhere in the package (tests, benches, examples, `src/`, the README's
/// doctests). "Named" is a `use <crate>`, `extern crate <crate>` or a path
/// `<crate>::`, with the crate's library name (`-` → `_`, `[lib] name` and
/// renames followed).
fn unused_dependencies(
    root: &Path,
    packages: &[Value],
    internal: &BTreeMap<String, &Value>,
) -> Vec<String> {
    let mut problems = Vec::new();
    // The keys of [workspace.dependencies], and the names members depend on.
    let text = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
    let pins: Vec<String> = match text.parse::<toml_edit::DocumentMut>() {
        Ok(doc) => doc
            .get("workspace")
            .and_then(|w| w.get("dependencies"))
            .and_then(toml_edit::Item::as_table_like)
            .map(|t| t.iter().map(|(k, _)| k.to_owned()).collect())
            .unwrap_or_default(),
        Err(e) => {
            problems.push(format!("Cargo.toml: not valid TOML: {e}"));
            Vec::new()
        }
    };
    let declared_name = |dep: &Value| -> String {
        dep["rename"]
            .as_str()
            .or_else(|| dep["name"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let used_pins: BTreeSet<String> = internal
        .values()
        .flat_map(|pkg| pkg["dependencies"].as_array().into_iter().flatten())
        .map(declared_name)
        .collect();
    for pin in &pins {
        if !used_pins.contains(pin) {
            problems.push(format!(
                "[workspace.dependencies] {pin}: used by no member; remove the pin"
            ));
        }
    }
    // The library name of each package of the graph (`[lib] name`).
    let lib_names: BTreeMap<&str, String> = packages
        .iter()
        .filter_map(|p| {
            let lib = p["targets"].as_array()?.iter().find(|t| {
                t["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "lib" || k == "proc-macro"))
            })?;
            Some((p["name"].as_str()?, lib["name"].as_str()?.replace('-', "_")))
        })
        .collect();
    for (name, pkg) in internal {
        let manifest = Path::new(pkg["manifest_path"].as_str().unwrap_or_default());
        let dir = manifest.parent().unwrap_or(root);
        let read = |paths: &[&str], markdown: bool| -> String {
            let mut all = String::new();
            for rel in paths {
                let p = dir.join(rel);
                if p.is_file() {
                    all.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
                } else {
                    scan_files(&p, markdown, &mut |_, text| all.push_str(text));
                }
            }
            all
        };
        let src = read(&["src"], false);
        let build = read(&["build.rs"], false);
        let everything = read(&["."], true);
        for dep in pkg["dependencies"].as_array().into_iter().flatten() {
            let dep_name = dep["name"].as_str().unwrap_or_default();
            if UNUSED_OK
                .iter()
                .any(|(p, d, _)| p == name && *d == dep_name)
            {
                continue;
            }
            let ident = match dep["rename"].as_str() {
                Some(r) => r.replace('-', "_"),
                None => lib_names
                    .get(dep_name)
                    .cloned()
                    .unwrap_or_else(|| dep_name.replace('-', "_")),
            };
            let (text, where_) = match dep["kind"].as_str() {
                None => (&src, "src/"),
                Some("build") => (&build, "build.rs"),
                _ => (&everything, "the package"),
            };
            if !names_crate(text, &ident) {
                let kind = dep["kind"]
                    .as_str()
                    .map_or(String::new(), |k| format!("{k}-"));
                problems.push(format!(
                    "{name}: {kind}dependency {dep_name} is not used in {where_} (no `use {ident}` or `{ident}::`); remove it{}",
                    if kind.is_empty() { ", or make it a dev-dependency" } else { "" }
                ));
            }
        }
    }
    problems
}

/// Whether Rust source `text` names the crate `ident`: `use ident`,
/// `extern crate ident` or a path starting `ident::`.
fn names_crate(text: &str, ident: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(i) = text[from..].find(ident) {
        let at = from + i;
        let end = at + ident.len();
        from = end;
        if text[..at].ends_with(|c: char| is_ident(c) || c == ':') {
            continue;
        }
        let rest = &text[end..];
        if rest.starts_with("::") {
            return true;
        }
        if rest.starts_with(is_ident) {
            continue;
        }
        let head = text[..at].trim_end();
        let keyword = ["use", "extern crate"]
            .iter()
            .any(|k| head.strip_suffix(k).is_some_and(|h| !h.ends_with(is_ident)));
        if keyword {
            return true;
        }
    }
    false
}

/// Like [`scan`], over `.rs` files and, with `markdown`, `.md` files too.
fn scan_files(dir: &Path, markdown: bool, f: &mut dyn FnMut(&Path, &str)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "target") {
                scan_files(&p, markdown, f);
            }
        } else if (p.extension().is_some_and(|x| x == "rs")
            || (markdown && p.extension().is_some_and(|x| x == "md")))
            && let Ok(text) = std::fs::read_to_string(&p)
        {
            f(&p, &text);
        }
    }
}

fn scan(dir: &Path, f: &mut dyn FnMut(&Path, &str)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "target") {
                scan(&p, f);
            }
        } else if p.extension().is_some_and(|x| x == "rs")
            && let Ok(text) = std::fs::read_to_string(&p)
        {
            f(&p, &text);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn crate_names_are_found_as_uses_or_paths() {
        use super::names_crate;
        assert!(names_crate("use arrow_array::Array;", "arrow_array"));
        assert!(names_crate(
            "pub use geoparquet_meta as meta;",
            "geoparquet_meta"
        ));
        assert!(names_crate("extern crate serde;", "serde"));
        assert!(names_crate("#[derive(thiserror::Error)]", "thiserror"));
        assert!(names_crate("let x = {wkb::reader::read_wkb(b)};", "wkb"));
        // Not a use of the crate: a longer name, a module path, a word in prose.
        assert!(!names_crate("use arrow_array_ext::X;", "arrow_array"));
        assert!(!names_crate("crate::wkb::parse();", "wkb"));
        assert!(!names_crate(
            "// strict wkb parsing\nfn reuse wkb() {}",
            "wkb"
        ));
        assert!(!names_crate("let wkb = 1;", "wkb"));
    }

    #[test]
    fn workspace_is_tidy() {
        let problems = super::check(&crate::project_root()).unwrap();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// A scratch workspace that breaks the rules is reported.
    #[test]
    fn violations_are_reported() {
        let root = std::env::temp_dir().join(format!("geoquet-tidy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let write = |rel: &str, text: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write(
            "Cargo.toml",
            "[workspace]\nresolver = \"3\"\nmembers = [\"crates/geoparquet-meta\", \"crates/io\"]\n\n[workspace.dependencies]\nunused-pin = \"1\"\n",
        );
        write(
            "crates/geoparquet-meta/Cargo.toml",
            "[package]\nname = \"geoparquet-meta\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\ngeoparquet-io = { path = \"../io\" }\n",
        );
        write("crates/geoparquet-meta/src/lib.rs", "//! x\n");
        write(
            "crates/io/Cargo.toml",
            "[package]\nname = \"geoparquet-io\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
        );
        write(
            "crates/io/src/lib.rs",
            "#[test]\n#[should_XX]\nfn t() {}\n"
                .replace("_XX", "_panic")
                .as_str(),
        );
        let problems = super::check(&root).unwrap().join("\n");
        let _ = std::fs::remove_dir_all(&root);
        for needle in [
            "geoparquet-meta depends on geoparquet-io",
            "internal dependency geoparquet-io needs a version",
            "geoparquet-meta: missing `[lints] workspace = true`",
            "geoparquet-meta: missing `description`",
            "geoparquet-meta: missing README.md",
            "geoparquet-meta: src/lib.rs must include README.md",
            "geoparquet-io: directory `io` should be named after the package",
            "should-panic",
            "[workspace.dependencies] unused-pin: used by no member",
            "geoparquet-meta: dependency geoparquet-io is not used in src/",
        ] {
            assert!(problems.contains(needle), "{needle} not in:\n{problems}");
        }
    }
}
