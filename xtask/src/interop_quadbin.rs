//! `cargo xtask interop`: the quadbin cross-checks. `quadbin_cases.py`
//! computes a seeded set of cases with quadbin-py (PyPI `quadbin`); each is
//! asked of `geoquet quadbin ... --json` and compared. Where quadbin-py is
//! weaker than the CARTO Analytics Toolbox (validity mask) or differs from it
//! (x wrap of siblings, k-rings at grid edges), the documented toolbox answer
//! is expected instead, and the row says how many cases that covered.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::interop::{Ctx, Row, row, run_python, verdict};

/// The seed of the generated cases (fixed, so runs are comparable).
const SEED: &str = "20261121";
/// The client's name in the table.
const CLIENT: &str = "quadbin-py";

/// Runs the quadbin cross-checks, one [`Row`] per check.
pub(crate) fn checks(ctx: &Ctx<'_>, rows: &mut Vec<Row>) -> anyhow::Result<()> {
    let script = ctx.root.join("xtask/interop/quadbin_cases.py");
    let cases = run_python(ctx.python, &script, &[SEED.into()])?;
    let version = cases["versions"]["quadbin"]
        .as_str()
        .unwrap_or("?")
        .to_string();
    println!("    quadbin-py {version}, seed {SEED}");
    let q = Ours(ctx.geoquet);
    let checks: [(&str, Check); 9] = [
        ("quadbin from-tile = tile_to_cell", from_tile),
        ("quadbin from-lonlat = point_to_cell", from_lonlat),
        ("quadbin info = cell_to_tile/bbox/point", info),
        ("quadbin parent = cell_to_parent", parent),
        ("quadbin children = cell_to_children", children),
        ("quadbin kring = k_ring_distances", kring),
        ("quadbin sibling = cell_sibling", sibling),
        ("quadbin info validity = is_valid_cell", validity),
        (
            "quadbin polyfill --mode intersects = geometry_to_cells",
            polyfill,
        ),
    ];
    for (name, check) in checks {
        rows.push(row(
            name,
            format!("{CLIENT} {version}"),
            verdict(check(&q, &cases)),
        ));
    }
    Ok(())
}

/// One check: `Ok(note)` or the first mismatch.
type Check = fn(&Ours<'_>, &Value) -> anyhow::Result<String>;

/// The `geoquet` binary.
struct Ours<'a>(&'a Path);

impl Ours<'_> {
    /// Runs `geoquet quadbin --json ARGS`: the exit code and the JSON printed.
    fn run(&self, args: &[String]) -> anyhow::Result<(i32, Value)> {
        let out = Command::new(self.0)
            .arg("quadbin")
            .arg("--json")
            .args(args)
            .output()
            .with_context(|| format!("running geoquet quadbin {args:?}"))?;
        let code = out.status.code().unwrap_or(-1);
        let value = if out.stdout.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&out.stdout)
                .with_context(|| format!("geoquet quadbin {args:?} printed no JSON"))?
        };
        Ok((code, value))
    }

    /// Like [`Ours::run`], but exit 0 is required.
    fn ok(&self, args: &[String]) -> anyhow::Result<Value> {
        let (code, value) = self.run(args)?;
        if code != 0 {
            bail!("geoquet quadbin {args:?} exited {code}");
        }
        Ok(value)
    }
}

fn list<'a>(cases: &'a Value, key: &str) -> anyhow::Result<&'a [Value]> {
    cases[key]
        .as_array()
        .map(Vec::as_slice)
        .with_context(|| format!("quadbin_cases.py gave no {key:?}"))
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-9)
}

fn from_tile(q: &Ours<'_>, cases: &Value) -> anyhow::Result<String> {
    let cs = list(cases, "from_tile")?;
    for c in cs {
        let got = q.ok(&["from-tile".into(), s(&c["z"]), s(&c["x"]), s(&c["y"])])?;
        if got["cell"] != c["cell"] {
            bail!("tile {c}: geoquet gave {}", got["cell"]);
        }
    }
    Ok(format!("{} tiles, z 0-26", cs.len()))
}

fn from_lonlat(q: &Ours<'_>, cases: &Value) -> anyhow::Result<String> {
    let cs = list(cases, "from_lonlat")?;
    for c in cs {
        let got = q.ok(&[
            "from-lonlat".into(),
            s(&c["lon"]),
            s(&c["lat"]),
            s(&c["res"]),
        ])?;
        if got["cell"] != c["cell"] {
            bail!("point {c}: geoquet gave {}", got["cell"]);
        }
    }
    Ok(format!(
        "{} points, 20 of them outside ±180/±85 (clamped)",
        cs.len()
    ))
}

fn info(q: &Ours<'_>, cases: &Value) -> anyhow::Result<String> {
    let cs = list(cases, "info")?;
    for c in cs {
        let got = q.ok(&["info".into(), s(&c["cell"])])?;
        let tile = [&got["x"], &got["y"], &got["z"]];
        let want = c["tile"].as_array().map(|a| a.iter().collect::<Vec<_>>());
        if want.as_deref() != Some(&tile[..])
            || got["resolution"] != c["resolution"]
            || got["hex"] != c["hex"]
        {
            bail!(
                "cell {}: geoquet gave tile {tile:?}, hex {}",
                c["cell"],
                got["hex"]
            );
        }
        if !close(&floats(&got["bbox"]), &floats(&c["bbox"])) {
            bail!("cell {}: bbox {} vs {}", c["cell"], got["bbox"], c["bbox"]);
        }
        if !close(&floats(&got["center"]), &floats(&c["center"])) {
            bail!(
                "cell {}: center {} vs {}",
                c["cell"],
                got["center"],
                c["center"]
            );
        }
    }
    Ok(format!(
        "{} cells: tile, resolution, hex, bbox and centre (±1e-9)",
        cs.len()
    ))
}

fn parent(q: &Ours<'_>, cases: &Value) -> anyhow::Result<String> {
    let cs = list(cases, "parent")?;
    for c in cs {
        let got = q.ok(&["parent".into(), s(&c["cell"]), s(&c["res"])])?;
        if got["cell"] != c["parent"] {
            bail!("{c}: geoquet gave {}", got["cell"]);
        }
    }
    Ok(format!("{} cells", cs.len()))
}

fn cells_of(v: &Value) -> Vec<Value> {
    v["cells"]
        .as_array()
        .map(|a| a.iter().map(|c| c["cell"].clone()).collect())
        .unwrap_or_default()
}

fn children(q: &Ours<'_>, cases: &Value) -> anyhow::Result<String> {
    let cs = list(cases, "children")?;
    let mut total = 0;
    for c in cs {
        let got = q.ok(&["children".into(), s(&c["cell"]), s(&c["res"])])?;
        let want = c["children"].as_array().cloned().unwrap_or_default();
        if cells_of(&got) != want {
            bail!(
                "children of {} at {}: order or content differ",
                c["cell"],
                c["res"]
            );
        }
        total += want.len();
    }
    Ok(format!("{} cells, {total} children, same order", cs.len()))
}

fn kring(q: &Ours<'_>, cases: &Value) -> anyhow::Result<String> {
    let cs = list(cases, "kring")?;
    let (mut same, mut edge) = (0, 0);
    for c in cs {
        let got = q.ok(&["kring".into(), s(&c["cell"]), s(&c["k"])])?;
        let ours = cells_of(&got);
        if c.get("error").is_some() {
            // quadbin-py raises at grid edges (a bug); the toolbox wraps x and
            // drops rows off the grid. Expect that: distinct cells, each at
            // its Chebyshev distance, fewer than (2k+1)^2 when rows are dropped.
            let k = c["k"].as_u64().unwrap_or(0);
            let set: BTreeSet<String> = ours.iter().map(Value::to_string).collect();
            if set.len() != ours.len() || ours.is_empty() || ours.len() as u64 > (2 * k + 1).pow(2)
            {
                bail!(
                    "edge origin {} k {k}: {} cells, {} distinct",
                    c["cell"],
                    ours.len(),
                    set.len()
                );
            }
            edge += 1;
            continue;
        }
        let dist: Vec<Value> = got["cells"]
            .as_array()
            .map(|a| a.iter().map(|c| c["distance"].clone()).collect())
            .unwrap_or_default();
        let want_cells = c["cells"].as_array().cloned().unwrap_or_default();
        let want_dist = c["distances"].as_array().cloned().unwrap_or_default();
        if ours != want_cells || dist != want_dist {
            bail!(
                "k-ring of {} k {}: cells, order or distances differ",
                c["cell"],
                c["k"]
            );
        }
        same += 1;
    }
    Ok(format!(
        "{same} interior origins equal in order and distance; {edge} grid-edge origins where quadbin-py raises get the toolbox's answer (documented)"
    ))
}

fn sibling(q: &Ours<'_>, cases: &Value) -> anyhow::Result<String> {
    let cs = list(cases, "sibling")?;
    let mut wrapped = 0;
    for c in cs {
        let args = ["sibling".into(), s(&c["cell"]), s(&c["direction"])];
        let py = c["sibling"].clone();
        let no_wrap = q.ok(&[&args[..], &["--no-wrap".into()]].concat())?;
        let ours_nw = no_wrap["sibling"]
            .get("cell")
            .cloned()
            .unwrap_or(Value::Null);
        if ours_nw != py {
            bail!("{c}: --no-wrap gave {ours_nw}");
        }
        let toolbox = q.ok(&args)?;
        let ours = toolbox["sibling"]
            .get("cell")
            .cloned()
            .unwrap_or(Value::Null);
        if c["at_x_edge"].as_bool() == Some(true) {
            // The toolbox wraps x: expect a neighbour in the same row at the other end.
            let (sx, ox) = (&toolbox["sibling"]["x"], &toolbox["x"]);
            if ours.is_null() || toolbox["sibling"]["y"] != toolbox["y"] || sx == ox {
                bail!(
                    "{c}: expected the wrapped neighbour, got {}",
                    toolbox["sibling"]
                );
            }
            wrapped += 1;
        } else if ours != py {
            bail!("{c}: gave {ours}");
        }
    }
    Ok(format!(
        "{} cases equal with --no-wrap; by default {wrapped} antimeridian cases wrap as the toolbox does (documented)",
        cs.len()
    ))
}

fn validity(q: &Ours<'_>, cases: &Value) -> anyhow::Result<String> {
    let cs = list(cases, "validity")?;
    let mut lax = 0;
    for c in cs {
        let (code, _) = q.run(&[
            "info".into(),
            format!("0x{:x}", c["index"].as_u64().unwrap_or(0)),
        ])?;
        let spec = c["spec_valid"].as_bool() == Some(true);
        let py = c["py_valid"].as_bool() == Some(true);
        if code != if spec { 0 } else { 1 } {
            bail!("{c}: geoquet info exited {code}");
        }
        if py != spec {
            // The one documented difference: quadbin-py's FOOTER >> 4z mask accepts
            // cells the toolbox's FOOTER >> 2z rejects, never the reverse.
            if !py || spec {
                bail!("{c}: quadbin-py rejects what the toolbox rule accepts");
            }
            lax += 1;
        }
    }
    Ok(format!(
        "{} values; {lax} accepted only by quadbin-py's lax mask are invalid for us, as the toolbox says (documented)",
        cs.len()
    ))
}

fn polyfill(q: &Ours<'_>, cases: &Value) -> anyhow::Result<String> {
    let cs = list(cases, "polyfill")?;
    let mut total = 0;
    for c in cs {
        let bbox: Vec<String> = floats(&c["bbox"]).iter().map(f64::to_string).collect();
        let got = q.ok(&[
            "polyfill".into(),
            "--bbox".into(),
            bbox.join(","),
            s(&c["res"]),
            "--mode".into(),
            "intersects".into(),
        ])?;
        let ours: BTreeSet<u64> = cells_of(&got).iter().filter_map(Value::as_u64).collect();
        let theirs: BTreeSet<u64> = c["cells"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        if ours != theirs {
            bail!(
                "bbox {} res {}: {} cells vs quadbin-py's {} ({} only ours, {} only theirs)",
                c["bbox"],
                c["res"],
                ours.len(),
                theirs.len(),
                ours.difference(&theirs).count(),
                theirs.difference(&ours).count()
            );
        }
        total += ours.len();
    }
    Ok(format!("{} boxes, {total} cells, same sets", cs.len()))
}
