//! The API-convention rules of `docs/src/conventions.md` that can be checked from the
//! sources' text: options and error enums `#[non_exhaustive]`, options with `Default`,
//! no public `Result<_, String>`, no string catch-all error variants, `FromStr` for
//! types with a `parse`, and threads started only in `geoparquet_io::workers`.
//!
//! Only library code is read: each file up to its first `#[cfg(test)]`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Files that may start threads themselves: the workers module, and the CLI's
/// signal thread (detached for the life of the process, before any work).
const THREAD_OWNERS: &[&str] = &[
    "crates/geoparquet-io/src/workers.rs",
    "crates/geoquet-cli/src/main.rs",
];

/// Crates whose conventions are not checked: the test helpers and the binary.
const EXEMPT_CRATES: &[&str] = &["test-support"];

/// Every problem found in the library sources under `root/crates`.
pub(crate) fn check(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let Ok(crates) = std::fs::read_dir(root.join("crates")) else {
        return vec!["no crates/ directory".to_owned()];
    };
    let mut dirs: Vec<PathBuf> = crates.flatten().map(|e| e.path()).collect();
    dirs.sort();
    for dir in dirs {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if EXEMPT_CRATES.contains(&name.as_str()) || !dir.join("src").is_dir() {
            continue;
        }
        let mut files = BTreeMap::new();
        collect(&dir.join("src"), &mut files);
        let library: BTreeMap<&PathBuf, &str> = files
            .iter()
            .map(|(p, text)| (p, library_part(text)))
            .collect();
        let all_text: String = library.values().copied().collect::<Vec<_>>().join("\n");
        for (path, text) in &library {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(path)
                .display()
                .to_string();
            check_file(&rel, text, &all_text, &mut problems);
        }
    }
    problems
}

fn collect(dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs")
            && let Ok(text) = std::fs::read_to_string(&p)
        {
            out.insert(p, text);
        }
    }
}

/// The text before the first `#[cfg(test)]`.
fn library_part(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |i| &text[..i])
}

/// The attribute lines just above line `i` (the item's own attributes and docs).
fn attributes_above<'a>(lines: &[&'a str], i: usize) -> Vec<&'a str> {
    lines[..i]
        .iter()
        .rev()
        .map(|l| l.trim())
        .take_while(|l| l.starts_with("#[") || l.starts_with("///") || l.starts_with("//"))
        .collect()
}

fn check_file(rel: &str, text: &str, crate_text: &str, problems: &mut Vec<String>) {
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        let n = i + 1;
        // Options structs and error enums: non-exhaustive; options with Default.
        if let Some(rest) = t.strip_prefix("pub struct ")
            && let Some(name) = rest.split([' ', '<', '{', '(']).next()
            && name.ends_with("Options")
        {
            let attrs = attributes_above(&lines, i);
            if !attrs.contains(&"#[non_exhaustive]") {
                problems.push(format!(
                    "{rel}:{n}: options struct {name} must be #[non_exhaustive] (docs/src/conventions.md)"
                ));
            }
            let derives_default = attrs
                .iter()
                .any(|a| a.starts_with("#[derive(") && a.contains("Default"));
            if !derives_default && !crate_text.contains(&format!("impl Default for {name}")) {
                problems.push(format!(
                    "{rel}:{n}: options struct {name} must implement Default (docs/src/conventions.md)"
                ));
            }
        }
        if t == "pub enum Error {" {
            let attrs = attributes_above(&lines, i);
            if !attrs.contains(&"#[non_exhaustive]") {
                problems.push(format!(
                    "{rel}:{n}: pub enum Error must be #[non_exhaustive]"
                ));
            }
            // Catch-all variants: `Name(String)`.
            for (j, v) in lines[i + 1..].iter().enumerate() {
                let v = v.trim();
                if v == "}" {
                    break;
                }
                if v.ends_with("(String),") {
                    problems.push(format!(
                        "{rel}:{}: error variant `{v}` is a string catch-all; say what was wrong with structured fields",
                        i + j + 2
                    ));
                }
            }
        }
        // No public Result<_, String>.
        if t.starts_with("pub fn ") || t.starts_with("pub async fn ") {
            let mut signature = String::new();
            for l in lines[i..].iter().take(12) {
                let l = l.trim();
                let end = l.find(['{', ';']);
                signature.push_str(&l[..end.unwrap_or(l.len())]);
                signature.push(' ');
                if end.is_some() {
                    break;
                }
            }
            let signature = signature.split(" where ").next().unwrap_or_default();
            let ret = signature.rsplit("->").next().unwrap_or_default();
            if signature.contains("->") && ret.contains("Result<") && ret.contains(", String>") {
                problems.push(format!(
                    "{rel}:{n}: public function returns Result<_, String>; return the crate's Error"
                ));
            }
        }
        // Types parsed from text implement FromStr.
        if t.starts_with("pub fn parse(")
            && t.contains("&str")
            && let Some(ty) = enclosing_impl(&lines, i)
            && !crate_text.contains(&format!("FromStr for {ty}"))
        {
            problems.push(format!(
                "{rel}:{n}: {ty} has `pub fn parse(&str)` but no FromStr impl (docs/src/conventions.md)"
            ));
        }
        // Threads start in geoparquet_io::workers only.
        if !THREAD_OWNERS.iter().any(|o| rel.ends_with(o))
            && !t.starts_with("//")
            && (t.contains("thread::spawn(")
                || t.contains("thread::scope(")
                || t.contains("thread::Builder::new("))
        {
            problems.push(format!(
                "{rel}:{n}: starts a thread itself; use geoparquet_io::workers (docs/src/conventions.md)"
            ));
        }
    }
}

/// The type of the `impl` block that line `i` is in (`impl Foo {` or `impl<'a> Foo<'a> {`).
fn enclosing_impl(lines: &[&str], i: usize) -> Option<String> {
    lines[..i].iter().rev().find_map(|l| {
        let rest = l.strip_prefix("impl")?;
        if rest.contains(" for ") {
            return None;
        }
        let rest = rest.trim_start();
        let rest = if rest.starts_with('<') {
            rest.split_once('>').map(|(_, r)| r.trim_start())?
        } else {
            rest
        };
        rest.split(['<', ' ', '{'])
            .next()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(text: &str) -> Vec<String> {
        let mut p = Vec::new();
        check_file("x.rs", library_part(text), text, &mut p);
        p
    }

    #[test]
    fn flags_each_broken_convention() {
        let text = "\
#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub a: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(\"{0}\")]
    InvalidInput(String),
}

pub fn parse_it(s: &str) -> Result<u32, String> {
    todo!()
}

pub struct Version;
impl Version {
    pub fn parse(s: &str) -> Self { Version }
}

fn go() { std::thread::spawn(|| ()); }
";
        let p = problems_of(text);
        let has = |s: &str| p.iter().any(|m| m.contains(s));
        assert!(has("ReadOptions must be #[non_exhaustive]"), "{p:?}");
        assert!(has("ReadOptions must implement Default"), "{p:?}");
        assert!(has("pub enum Error must be #[non_exhaustive]"), "{p:?}");
        assert!(has("InvalidInput(String)"), "{p:?}");
        assert!(has("returns Result<_, String>"), "{p:?}");
        assert!(
            has("Version has `pub fn parse(&str)` but no FromStr"),
            "{p:?}"
        );
        assert!(has("starts a thread itself"), "{p:?}");
        assert_eq!(p.len(), 7, "{p:?}");
    }

    #[test]
    fn accepts_code_that_follows_them() {
        let text = "\
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ReadOptions {
    pub a: u32,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(\"no column {column}\")]
    NoSuchColumn { column: String },
}

pub fn parse_it(s: &str) -> Result<u32, Error> {
    todo!()
}

pub struct Version;
impl Version {
    pub fn parse(s: &str) -> Self { Version }
}
impl std::str::FromStr for Version {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> { Ok(Version::parse(s)) }
}

#[cfg(test)]
mod tests {
    fn t() { std::thread::spawn(|| ()); }
}
";
        assert_eq!(problems_of(text), Vec::<String>::new());
    }
}
