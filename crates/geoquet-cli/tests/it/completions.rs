//! `geoquet completions SHELL`: every shell gets a script that knows every
//! subcommand; the bash one really completes when sourced.

use std::process::Command;

use crate::support::geoquet;

/// The subcommands listed by `geoquet --help` (its "Commands:" section).
fn subcommands() -> Vec<String> {
    let o = geoquet(&["--help"]);
    assert!(o.status.success());
    let help = String::from_utf8(o.stdout).unwrap();
    let mut names = Vec::new();
    let mut in_commands = false;
    for line in help.lines() {
        if line.starts_with("Commands:") {
            in_commands = true;
        } else if in_commands && line.starts_with("  ") && !line.starts_with("   ") {
            let name = line.split_whitespace().next().unwrap();
            if name != "help" {
                names.push(name.to_owned());
            }
        } else if in_commands && !line.starts_with(' ') && !line.is_empty() {
            break;
        }
    }
    names
}

#[test]
fn every_shell_gets_a_script_naming_every_subcommand() {
    let commands = subcommands();
    assert!(
        commands.iter().any(|c| c == "inspect") && commands.iter().any(|c| c == "completions"),
        "{commands:?}"
    );
    // The marker each script starts its work with, and how it spells `--json`.
    for (shell, marker, json) in [
        ("bash", "_geoquet()", "--json"),
        ("zsh", "#compdef geoquet", "--json"),
        ("fish", "complete -c geoquet", "-l json"),
        ("powershell", "Register-ArgumentCompleter", "--json"),
        ("elvish", "edit:completion:arg-completer[geoquet]", "--json"),
    ] {
        let o = geoquet(&["completions", shell]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{shell}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(o.stderr.is_empty(), "{shell}: nothing on stderr");
        let script = String::from_utf8(o.stdout).unwrap();
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        for c in &commands {
            assert!(script.contains(c.as_str()), "{shell}: no subcommand {c}");
        }
        assert!(script.contains(json), "{shell}: no {json:?} option");
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let o = geoquet(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("tcsh") && err.contains("bash"), "{err}");
    assert!(o.stdout.is_empty());
}

/// Sources the bash script and asks it to complete `geoquet <TAB>` and
/// `geoquet inspect --j<TAB>`, as bash would.
#[test]
fn the_bash_script_completes() {
    let Ok(probe) = Command::new("bash").arg("--version").output() else {
        println!("SKIP: bash is not installed");
        return;
    };
    assert!(probe.status.success());
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("geoquet.bash");
    let o = geoquet(&["completions", "bash"]);
    std::fs::write(&script, &o.stdout).unwrap();

    let complete = |words: &str, cword: usize| -> Vec<String> {
        let program = format!(
            "source {}\nCOMP_WORDS=({words})\nCOMP_CWORD={cword}\nCOMP_LINE=\"{words}\"\nCOMP_POINT=${{#COMP_LINE}}\n_geoquet geoquet \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let o = Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &program])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    };

    let top = complete("geoquet ''", 1);
    for c in subcommands() {
        assert!(top.contains(&c), "`geoquet <TAB>` lacks {c}: {top:?}");
    }
    let opts = complete("geoquet inspect --j", 2);
    assert_eq!(opts, ["--json"], "`geoquet inspect --j<TAB>`");
}
