//! `geoquet quadbin` end to end: values from the reference, exit codes,
//! one-line errors, JSON shapes, and every `vectors.json` case that the CLI
//! exposes.

use serde_json::Value;

use crate::support::geoquet;

fn json(args: &[&str]) -> Value {
    let mut all = vec!["quadbin", "--json"];
    all.extend_from_slice(args);
    let o = geoquet(&all);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{all:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{all:?}: {e}"))
}

fn assert_invalid(args: &[&str], needle: &str) {
    let o = geoquet(args);
    assert_eq!(o.status.code(), Some(1), "{args:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains(needle),
        "{args:?}: {err}"
    );
}

#[test]
fn from_tile_and_lonlat_text_and_json() {
    let o = geoquet(&["quadbin", "from-tile", "4", "7", "6"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        "5207251884775047167\t4843dfffffffffff\t4/7/6\n"
    );
    let v = json(&["from-lonlat", "-3.7038", "40.4168", "10"]);
    assert_eq!(v["cell"], 5_234_261_499_580_514_303u64);
    assert_eq!(v["hex"], "48a3d519ffffffff");
    let v = json(&["from-lonlat", "200", "10", "26"]);
    assert_eq!(v["hex"], "49a2a80a2880aa80");
    let v = json(&["from-quadkey", "3001"]);
    assert_eq!(v["cell"], 5_209_574_053_332_910_079u64);
    // -q silences summaries, never the data.
    let o = geoquet(&["-q", "quadbin", "from-tile", "4", "7", "6"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        "5207251884775047167\t4843dfffffffffff\t4/7/6\n"
    );
}

/// Lists above --max-cells are refused before anything is printed, with the
/// count and the override; under it the count is announced on stderr.
#[test]
fn huge_lists_are_refused_with_the_count() {
    // The world cell to resolution 20: 4^20 cells, exactly.
    let o = geoquet(&["quadbin", "children", "5192650370358181887", "20"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("1099511627776 cells") && err.contains("--max-cells 1099511627776"),
        "{err}"
    );
    // A res-4 cell to res 8: 256 children; a limit of 255 refuses, 256 lists.
    let cell = "5207251884775047167";
    let o = geoquet(&["quadbin", "children", cell, "8", "--max-cells", "255"]);
    assert_eq!(o.status.code(), Some(2));
    let o = geoquet(&["quadbin", "children", cell, "8", "--max-cells", "256"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8(o.stdout).unwrap().lines().count(), 256);
    assert!(String::from_utf8_lossy(&o.stderr).contains("256 cells"));
    let o = geoquet(&["-q", "quadbin", "children", cell, "8"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stderr.is_empty());
    // A k-ring of a resolution-26 cell whose side is 2^26 cells.
    let o = geoquet(&["quadbin", "kring", "5306319089824820606", "4000000000"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--max-cells"));
    // The whole world at resolution 20 (and one crossing the antimeridian).
    for bbox in ["-180,-85,180,85", "170,-10,-170,10"] {
        let o = geoquet(&["quadbin", "polyfill", "--bbox", bbox, "20"]);
        assert_eq!(o.status.code(), Some(2), "{bbox}");
        assert!(o.stdout.is_empty());
        assert!(String::from_utf8_lossy(&o.stderr).contains("about"));
    }
}

/// The polyfill estimate is never below what is printed, in every mode,
/// across the antimeridian too.
#[test]
fn polyfill_estimate_bounds_the_count() {
    for (bbox, res) in [
        ("-10,30,10,45", 6),
        ("170,-10,-170,10", 7),
        ("-180,-85,180,85", 4),
        ("2.1,48.8,2.5,48.9", 14),
    ] {
        for mode in ["center", "intersects", "contains"] {
            let o = geoquet(&[
                "quadbin",
                "polyfill",
                "--bbox",
                bbox,
                &res.to_string(),
                "--mode",
                mode,
            ]);
            assert_eq!(o.status.code(), Some(0), "{bbox} {mode}");
            let printed = String::from_utf8(o.stdout).unwrap().lines().count() as u64;
            let err = String::from_utf8_lossy(&o.stderr).into_owned();
            let estimate: u64 = err
                .split("about ")
                .nth(1)
                .and_then(|t| t.split(' ').next())
                .and_then(|t| t.parse().ok())
                .unwrap_or_else(|| panic!("{err}"));
            assert!(printed <= estimate, "{bbox} {mode}: {printed} > {estimate}");
            assert!(printed > 0, "{bbox} {mode}");
        }
    }
}

#[test]
fn info_in_every_cell_spelling() {
    for spelling in [
        "5207251884775047167",
        "0x4843dfffffffffff",
        "0X4843DFFFFFFFFFFF",
        "4843dfffffffffff",
    ] {
        let v = json(&["info", spelling]);
        assert_eq!(v["cell"], 5_207_251_884_775_047_167u64, "{spelling}");
        assert_eq!(v["hex"], "4843dfffffffffff");
        assert_eq!(v["valid"], true);
        assert_eq!(
            (v["z"].as_u64(), v["x"].as_u64(), v["y"].as_u64()),
            (Some(4), Some(7), Some(6))
        );
        assert_eq!(v["quadkey"], "0331");
        assert_eq!(v["parent"]["cell"], 5_202_783_469_519_765_503u64);
        let bbox: Vec<f64> = v["bbox"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert_eq!(bbox[0], -22.5);
        assert!((bbox[3] - 40.979_898_069_620_13).abs() < 1e-12);
        assert_eq!(v["center"][0], -11.25);
    }
    let o = geoquet(&["quadbin", "info", "480fffffffffffff"]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("tile:       z 0, x 0, y 0"), "{text}");
    assert!(text.contains("parent:     none"), "{text}");
}

#[test]
fn invalid_cells_exit_1_with_the_rule() {
    assert_invalid(&["quadbin", "info", "4940000000033ffe"], "unused bits");
    assert_invalid(&["quadbin", "info", "1234"], "header bit 62");
    assert_invalid(&["quadbin", "info", "584c1fffffffffff"], "mode");
    assert_invalid(&["quadbin", "info", "49bfffffffffffff"], "resolution");
    assert_invalid(&["quadbin", "info", "c84c1fffffffffff"], "bit 63");
    assert_invalid(&["quadbin", "info", "xyz"], "cannot read \"xyz\"");
    assert_invalid(&["quadbin", "parent", "4843dfffffffffff", "5"], "finer");
    assert_invalid(
        &["quadbin", "children", "4843dfffffffffff", "3"],
        "children resolution",
    );
    assert_invalid(&["quadbin", "from-tile", "3", "8", "0"], "off the grid");
    assert_invalid(&["quadbin", "from-tile", "27", "0", "0"], "resolution 27");
    assert_invalid(&["quadbin", "from-lonlat", "NaN", "0", "3"], "not a number");
    assert_invalid(&["quadbin", "from-quadkey", "0124"], "quadkey");
    assert_invalid(
        &["quadbin", "sibling", "4843dfffffffffff", "north"],
        "direction",
    );
    assert_invalid(
        &["quadbin", "polyfill", "--bbox", "0,10,1,5", "4"],
        "south is above north",
    );
    assert_invalid(
        &["quadbin", "polyfill", "--bbox", "0,1,2", "4"],
        "four numbers",
    );
    assert_invalid(
        &[
            "quadbin", "polyfill", "--bbox", "0,1,2,3", "4", "--mode", "all",
        ],
        "mode",
    );
    // --json on an invalid cell still says why, on stdout, with exit 1.
    let o = geoquet(&["quadbin", "--json", "info", "4940000000033ffe"]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["cell"], 0x4940_0000_0003_3ffe_u64);
    // Malformed arguments are usage errors (2).
    assert_eq!(
        geoquet(&["quadbin", "from-tile", "4", "x", "6"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn lists_stream_as_json() {
    let v = json(&["children", "4843dfffffffffff", "5"]);
    let cells: Vec<u64> = v["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cell"].as_u64().unwrap())
        .collect();
    assert_eq!(
        cells,
        [
            5_211_742_290_262_884_351,
            5_211_746_688_309_395_455,
            5_211_751_086_355_906_559,
            5_211_755_484_402_417_663
        ]
    );
    assert_eq!(v["count"], 4);
    assert_eq!(v["cell"], 5_207_251_884_775_047_167u64);
    // k-ring at the antimeridian: toolbox semantics (wrap x, drop rows).
    let v = json(&["kring", &format!("{}", 0x4820_ffff_ffff_ffff_u64), "1"]);
    assert_eq!(v["count"], 6);
    let tiles: Vec<(u32, u32, u64)> = v["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let cell = geoquet::quadbin::Cell::new(c["cell"].as_u64().unwrap()).unwrap();
            assert_eq!(cell.to_string(), c["hex"].as_str().unwrap());
            (
                cell.tile().x,
                cell.tile().y,
                c["distance"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tiles,
        [
            (3, 0, 1),
            (0, 0, 0),
            (1, 0, 1),
            (3, 1, 1),
            (0, 1, 1),
            (1, 1, 1)
        ]
    );
    let v = json(&[
        "polyfill",
        "--bbox",
        "-10,30,10,45",
        "4",
        "--mode",
        "intersects",
    ]);
    assert_eq!(v["count"], 4);
    assert_eq!(v["mode"], "intersects");
    // The default mode is center; a box across the antimeridian covers both ends.
    let v = json(&["polyfill", "--bbox", "170,-5,-170,5", "6"]);
    assert_eq!(v["mode"], "center");
    let xs: std::collections::BTreeSet<u32> = v["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            geoquet::quadbin::Cell::new(c["cell"].as_u64().unwrap())
                .unwrap()
                .tile()
                .x
        })
        .collect();
    assert_eq!(xs, [0, 1, 62, 63].into_iter().collect());
    assert_eq!(v["count"].as_u64(), Some(4 * 2));
}

#[test]
fn siblings_wrap_unless_asked_not_to() {
    let v = json(&["sibling", "4820ffffffffffff", "left"]);
    assert_eq!(v["sibling"]["x"], 3);
    let v = json(&["sibling", "4820ffffffffffff", "left", "--no-wrap"]);
    assert!(v["sibling"].is_null());
    let v = json(&["sibling", "4820ffffffffffff", "up"]);
    assert!(v["sibling"].is_null());
    let v = json(&["sibling", "4843dfffffffffff", "up"]);
    assert_eq!(v["sibling"]["cell"], 5_207_146_331_658_780_671u64);
}

/// The vectors' cases that the CLI exposes, through the binary (a sample of
/// each section, to keep the test fast; the library runs all of them).
#[test]
fn vectors_through_the_cli() {
    let Some(dir) = test_support::corpus("quadbin") else {
        return;
    };
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("vectors.json")).unwrap()).unwrap();
    for c in v["tile_to_cell"].as_array().unwrap().iter().step_by(7) {
        let (z, x, y) = (c["z"].to_string(), c["x"].to_string(), c["y"].to_string());
        let got = json(&["from-tile", &z, &x, &y]);
        assert_eq!(got["cell"], c["cell"], "{c}");
        assert_eq!(got["hex"], c["hex"], "{c}");
    }
    for c in v["point_to_cell"].as_array().unwrap().iter().step_by(5) {
        let got = json(&[
            "from-lonlat",
            &c["lon"].to_string(),
            &c["lat"].to_string(),
            &c["resolution"].to_string(),
        ]);
        assert_eq!(got["cell"], c["cell"], "{c}");
    }
    for c in v["cell_to_parent"].as_array().unwrap().iter().step_by(11) {
        let got = json(&[
            "parent",
            c["hex"].as_str().unwrap(),
            &c["parent_resolution"].to_string(),
        ]);
        assert_eq!(got["cell"], c["parent"], "{c}");
    }
    for c in v["sibling"].as_array().unwrap() {
        let cell = c["cell"].to_string();
        let dir = c["direction"].as_str().unwrap();
        let got = json(&["sibling", &cell, dir, "--no-wrap"]);
        let s = &got["sibling"];
        assert_eq!(
            if s.is_null() {
                &Value::Null
            } else {
                &s["cell"]
            },
            &c["sibling"],
            "{c}"
        );
    }
    for c in v["is_valid"].as_array().unwrap() {
        let o = geoquet(&["quadbin", "--json", "info", c["hex"].as_str().unwrap()]);
        let valid = c["spec_valid_cell"].as_bool().unwrap();
        assert_eq!(o.status.code(), Some(if valid { 0 } else { 1 }), "{c}");
    }
    for c in v["k_ring"].as_array().unwrap() {
        let got = json(&["kring", &c["origin"].to_string(), &c["k"].to_string()]);
        let cells: Vec<&Value> = got["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| &x["cell"])
            .collect();
        let want: Vec<&Value> = c["cells"].as_array().unwrap().iter().collect();
        assert_eq!(cells, want, "{c}");
    }
}
