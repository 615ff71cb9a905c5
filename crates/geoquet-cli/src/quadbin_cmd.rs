//! `geoquet quadbin`: Quadbin cells from tiles, points and quadkeys; cell
//! information, parents, children, k-rings, siblings and bbox polyfill.
//!
//! A cell argument is read by [`geoquet::quadbin::parse_index`]: decimal,
//! `0x`-prefixed hexadecimal, or exactly 16 hexadecimal digits (the toolbox's
//! text form). An invalid cell, resolution, tile or coordinate is exit code 1
//! with a one-line message; malformed arguments are exit code 2.

use std::io::Write;

use anyhow::Context;
use clap::{Args, Subcommand};
use geoquet::quadbin::{self, Cell, Direction, PolyfillMode, Tile};
use serde_json::{Value, json};

use crate::{Cli, EXIT_INVALID, EXIT_OK, Outcome, Unreadable};

/// Arguments of `geoquet quadbin`.
#[derive(Debug, Args)]
pub struct QuadbinArgs {
    /// Print JSON for machines instead of text: `{"cell": <u64>, "hex": "...", ...}`.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: QuadbinCommand,
}

/// The `quadbin` subcommands.
#[derive(Debug, Subcommand)]
pub enum QuadbinCommand {
    /// The cell of tile Z/X/Y (QUADBIN_FROMZXY).
    FromTile {
        /// Zoom, 0 to 26.
        z: u8,
        /// Column, 0 to 2^Z - 1, west to east.
        x: u32,
        /// Row, 0 to 2^Z - 1, north to south.
        y: u32,
    },
    /// The cell containing a point at a resolution (QUADBIN_FROMLONGLAT):
    /// longitude clamped to ±180, latitude to ±89, as the CARTO toolbox does.
    #[command(allow_negative_numbers = true)]
    FromLonlat {
        /// Longitude in degrees.
        lon: f64,
        /// Latitude in degrees.
        lat: f64,
        /// Resolution, 0 to 26.
        res: u8,
    },
    /// The cell of a Bing quadkey (QUADBIN_FROMQUADKEY); "" is the world cell.
    FromQuadkey {
        /// Digits 0 to 3, at most 26 of them.
        quadkey: String,
    },
    /// Everything about a cell: validity, tile, resolution, bbox, centre,
    /// quadkey, parent. Exit 1 if it is not a valid cell.
    Info {
        /// The cell: decimal, 0x-hex, or 16 hex digits.
        cell: String,
    },
    /// The parent at a coarser (or equal) resolution (QUADBIN_TOPARENT).
    Parent {
        /// The cell: decimal, 0x-hex, or 16 hex digits.
        cell: String,
        /// The parent's resolution.
        res: u8,
    },
    /// The children at a finer (or equal) resolution, in ascending Morton
    /// order (QUADBIN_TOCHILDREN).
    Children {
        /// The cell: decimal, 0x-hex, or 16 hex digits.
        cell: String,
        /// The children's resolution.
        res: u8,
        #[command(flatten)]
        limit: Limit,
    },
    /// The cells within distance K, each with its distance
    /// (QUADBIN_KRING_DISTANCES): x wraps around the antimeridian, rows off
    /// the grid are dropped, row by row from the north-west.
    Kring {
        /// The origin cell: decimal, 0x-hex, or 16 hex digits.
        cell: String,
        /// The distance in cells.
        k: u32,
        #[command(flatten)]
        limit: Limit,
    },
    /// The neighbour up, down, left or right (QUADBIN_SIBLING): x wraps around
    /// the antimeridian; none above the first row or below the last.
    Sibling {
        /// The cell: decimal, 0x-hex, or 16 hex digits.
        cell: String,
        /// up, down, left or right.
        direction: String,
        /// quadbin-py's semantics: no wrap around the antimeridian.
        #[arg(long)]
        no_wrap: bool,
    },
    /// The cells covering a bounding box (QUADBIN_POLYFILL_MODE), row by row.
    Polyfill {
        /// The box: west,south,east,north in degrees (west > east crosses the antimeridian).
        #[arg(
            long,
            value_name = "W,S,E,N",
            allow_hyphen_values = true,
            required = true
        )]
        bbox: String,
        /// Resolution, 0 to 26.
        res: u8,
        /// Which cells: center (centre inside), intersects (any shared point),
        /// contains (entirely inside).
        #[arg(long, default_value = "center")]
        mode: String,
        #[command(flatten)]
        limit: Limit,
    },
}

/// The default of `--max-cells`: ten million cells (about 250 MB of text).
pub(crate) const DEFAULT_MAX_CELLS: u64 = 10_000_000;

/// The cap on commands that list cells.
#[derive(Debug, Args)]
pub struct Limit {
    /// Refuse to list more cells than this (the count is computed, exactly for
    /// children and k-rings and as rows x columns of tiles for polyfill, before
    /// anything is printed).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CELLS)]
    pub max_cells: u64,
}

/// How many cells a list command will print: exact, or an upper estimate.
#[derive(Debug, Clone, Copy)]
struct CellCount {
    count: u64,
    exact: bool,
}

impl std::fmt::Display for CellCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.exact {
            write!(f, "{} cells", self.count)
        } else {
            write!(f, "about {} cells (at most)", self.count)
        }
    }
}

/// Announces the count on standard error (unless `--quiet`), or refuses it
/// above `--max-cells` with the count and the override.
fn check_count(cli: &Cli, what: &str, count: CellCount, limit: &Limit) -> anyhow::Result<()> {
    if count.count > limit.max_cells {
        return Err(Unreadable(format!(
            "{what}: {count} is above the limit of {} (--max-cells); pass --max-cells {} to list them",
            limit.max_cells, count.count
        ))
        .into());
    }
    if !cli.quiet {
        eprintln!("{what}: {count}");
    }
    Ok(())
}

/// The number of children of a cell at resolution `res` (4^(res - own)),
/// saturating; `None` when `res` is not finer than or equal to the cell's.
fn children_count(cell: Cell, res: u8) -> Option<CellCount> {
    let levels = u32::from(res.checked_sub(cell.resolution())?);
    let count = 1u64.checked_shl(2 * levels).unwrap_or(u64::MAX);
    Some(CellCount { count, exact: true })
}

/// The number of cells of a k-ring: at most (2k + 1)^2 and at most the
/// cells of the grid (rows off the grid are dropped, so fewer near the poles).
fn kring_count(cell: Cell, k: u32) -> CellCount {
    let n = 1u64 << cell.resolution();
    let side = (2 * u64::from(k) + 1).min(n);
    CellCount {
        count: side.saturating_mul(side),
        exact: false,
    }
}

/// An upper estimate of the cells of a bbox polyfill: the tile rows times
/// the tile columns the box spans (its area over a cell's, in Web Mercator).
fn polyfill_count(bbox: [f64; 4], res: u8) -> CellCount {
    let n = (1u64 << res.min(26)) as f64;
    let col = |lon: f64| {
        ((lon.clamp(-180.0, 180.0) / 360.0 + 0.5) * n)
            .floor()
            .clamp(0.0, n - 1.0)
    };
    let row = |lat: f64| {
        let lat = lat
            .clamp(-quadbin::MAX_LATITUDE, quadbin::MAX_LATITUDE)
            .to_radians();
        let y = 0.5 - (lat.tan() + 1.0 / lat.cos()).ln() / (2.0 * std::f64::consts::PI);
        (y * n).floor().clamp(0.0, n - 1.0)
    };
    let [w, s, e, north] = bbox;
    let cols = if w <= e {
        col(e) - col(w) + 1.0
    } else {
        (n - col(w)) + col(e) + 1.0
    };
    let rows = row(s) - row(north) + 1.0;
    CellCount {
        count: (cols.max(0.0) * rows.max(0.0)) as u64,
        exact: false,
    }
}

/// A quadbin error: printed as one line, exit code 1.
fn invalid(e: &dyn std::fmt::Display) -> Outcome {
    eprintln!("error: {e}");
    Outcome(EXIT_INVALID)
}

/// Reads and validates a cell argument.
fn cell_arg(text: &str) -> Result<Cell, quadbin::Error> {
    text.parse()
}

fn cell_json(cell: Cell) -> Value {
    let Tile { x, y, z } = cell.tile();
    json!({"cell": cell.get(), "hex": cell.to_string(), "z": z, "x": x, "y": y})
}

fn cell_line(cell: Cell) -> String {
    let Tile { x, y, z } = cell.tile();
    format!("{}\t{cell}\t{z}/{x}/{y}", cell.get())
}

pub(crate) fn run(cli: &Cli, args: &QuadbinArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let result = match &args.command {
        QuadbinCommand::FromTile { z, x, y } => Cell::from_tile(Tile {
            x: *x,
            y: *y,
            z: *z,
        })
        .map(|c| one(args, c, out)),
        QuadbinCommand::FromLonlat { lon, lat, res } => {
            Cell::from_lonlat(*lon, *lat, *res).map(|c| one(args, c, out))
        }
        QuadbinCommand::FromQuadkey { quadkey } => {
            Cell::from_quadkey(quadkey).map(|c| one(args, c, out))
        }
        QuadbinCommand::Info { cell } => return info(args, cell, out),
        QuadbinCommand::Parent { cell, res } => cell_arg(cell)
            .and_then(|c| c.parent(*res))
            .map(|c| one(args, c, out)),
        QuadbinCommand::Children { cell, res, limit } => {
            match cell_arg(cell).and_then(|c| Ok((c, c.children(*res)?))) {
                Ok((c, children)) => {
                    if let Some(count) = children_count(c, *res) {
                        check_count(
                            cli,
                            &format!("children of {c} at resolution {res}"),
                            count,
                            limit,
                        )?;
                    }
                    let head = json!({"cell": c.get(), "hex": c.to_string(), "resolution": res});
                    Ok(list(args, &head, children.map(|c| (c, None)), out))
                }
                Err(e) => Err(e),
            }
        }
        QuadbinCommand::Kring { cell, k, limit } => match cell_arg(cell) {
            Ok(c) => {
                check_count(
                    cli,
                    &format!("k-ring of {c} with k {k}"),
                    kring_count(c, *k),
                    limit,
                )?;
                Ok(c)
            }
            Err(e) => Err(e),
        }
        .map(|c| {
            let head = json!({"cell": c.get(), "hex": c.to_string(), "k": k});
            list(args, &head, c.k_ring(*k).map(|(c, d)| (c, Some(d))), out)
        }),
        QuadbinCommand::Sibling {
            cell,
            direction,
            no_wrap,
        } => match (cell_arg(cell), direction.parse::<Direction>()) {
            (Ok(c), Ok(d)) => {
                let s = if *no_wrap {
                    c.sibling_no_wrap(d)
                } else {
                    c.sibling(d)
                };
                Ok(sibling(args, c, s, out))
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
        QuadbinCommand::Polyfill {
            bbox,
            res,
            mode,
            limit,
        } => {
            let parsed = parse_bbox(bbox).and_then(|b| {
                let mode: PolyfillMode = mode.parse()?;
                Ok((b, mode, quadbin::polyfill_bbox(b, *res, mode)?))
            });
            if let Ok((b, _, _)) = &parsed {
                check_count(
                    cli,
                    &format!("polyfill at resolution {res}"),
                    polyfill_count(*b, *res),
                    limit,
                )?;
            }
            parsed.map(|(b, mode, cells)| {
                let head = json!({"bbox": b, "resolution": res, "mode": format!("{mode:?}").to_lowercase()});
                list(args, &head, cells.map(|c| (c, None)), out)
            })
        }
    };
    match result {
        Ok(written) => {
            written.context("writing to stdout")?;
            Ok(Outcome(EXIT_OK))
        }
        Err(e) => Ok(invalid(&e)),
    }
}

fn parse_bbox(text: &str) -> Result<[f64; 4], quadbin::Error> {
    let parts: Vec<Result<f64, _>> = text.split(',').map(|p| p.trim().parse::<f64>()).collect();
    match parts.as_slice() {
        [Ok(w), Ok(s), Ok(e), Ok(n)] => Ok([*w, *s, *e, *n]),
        _ => Err(quadbin::Error::InvalidPolygon {
            rule: format!("--bbox {text:?} is not four numbers west,south,east,north"),
        }),
    }
}

/// Prints one cell.
fn one(args: &QuadbinArgs, cell: Cell, out: &mut dyn Write) -> std::io::Result<()> {
    if args.json {
        writeln!(out, "{}", cell_json(cell))
    } else {
        writeln!(out, "{}", cell_line(cell))
    }
}

fn sibling(
    args: &QuadbinArgs,
    origin: Cell,
    sibling: Option<Cell>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if args.json {
        let mut v = cell_json(origin);
        v["sibling"] = sibling.map_or(Value::Null, cell_json);
        writeln!(out, "{v}")
    } else {
        match sibling {
            Some(s) => writeln!(out, "{}", cell_line(s)),
            None => writeln!(out, "none (off the grid)"),
        }
    }
}

/// Streams a list of cells: text one per line, or JSON `{...head, "cells": [..], "count": n}`.
fn list(
    args: &QuadbinArgs,
    head: &Value,
    cells: impl Iterator<Item = (Cell, Option<u32>)>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(out);
    if args.json {
        let head = serde_json::to_string(head).unwrap_or_else(|_| "{}".into());
        // `head` is an object: reopen it to append the list.
        let open = head.strip_suffix('}').unwrap_or("{");
        let sep = if open.len() > 1 { "," } else { "" };
        writeln!(out, "{open}{sep}\"cells\":[")?;
        let mut count = 0u64;
        for (cell, distance) in cells {
            if count > 0 {
                writeln!(out, ",")?;
            }
            match distance {
                Some(d) => write!(
                    out,
                    "{{\"cell\":{},\"hex\":\"{cell}\",\"distance\":{d}}}",
                    cell.get()
                )?,
                None => write!(out, "{{\"cell\":{},\"hex\":\"{cell}\"}}", cell.get())?,
            }
            count += 1;
        }
        if count > 0 {
            writeln!(out)?;
        }
        writeln!(out, "],\"count\":{count}}}")?;
    } else {
        for (cell, distance) in cells {
            match distance {
                Some(d) => writeln!(out, "{}\t{d}", cell_line(cell))?,
                None => writeln!(out, "{}", cell_line(cell))?,
            }
        }
    }
    out.flush()
}

fn info(args: &QuadbinArgs, text: &str, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let value = match quadbin::parse_index(text) {
        Ok(v) => v,
        Err(e) => return Ok(invalid(&e)),
    };
    let cell = match Cell::new(value) {
        Ok(c) => c,
        Err(e) => {
            if args.json {
                let v = json!({
                    "cell": value,
                    "hex": format!("{value:016x}"),
                    "valid": false,
                    "valid_index": quadbin::is_valid_index(value),
                    "reason": e.to_string(),
                });
                writeln!(out, "{v}").context("writing to stdout")?;
            }
            return Ok(invalid(&e));
        }
    };
    let Tile { x, y, z } = cell.tile();
    let parent = (z > 0).then(|| cell.parent(z - 1).ok()).flatten();
    if args.json {
        let v = json!({
            "cell": cell.get(),
            "hex": cell.to_string(),
            "valid": true,
            "valid_index": true,
            "z": z, "x": x, "y": y,
            "resolution": z,
            "quadkey": cell.quadkey(),
            "bbox": cell.bbox(),
            "center": cell.center(),
            "boundary": cell.boundary(),
            "parent": parent.map_or(Value::Null, |p| json!({"cell": p.get(), "hex": p.to_string()})),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?).context("writing to stdout")?;
    } else {
        let [w, s, e, n] = cell.bbox();
        let [lon, lat] = cell.center();
        let parent = parent.map_or_else(
            || "none (resolution 0)".to_string(),
            |p| format!("{} (hex {p}) at resolution {}", p.get(), z - 1),
        );
        let quadkey = cell.quadkey();
        writeln!(
            out,
            "cell:       {} (hex {cell})\nvalid:      yes (Quadbin cell, toolbox rule)\ntile:       z {z}, x {x}, y {y}\nresolution: {z}\nquadkey:    {}\nbbox:       [{w}, {s}, {e}, {n}] (west, south, east, north; degrees)\ncenter:     [{lon}, {lat}] (lon, lat)\nparent:     {parent}",
            cell.get(),
            if quadkey.is_empty() { "(empty: resolution 0)" } else { &quadkey },
        )
        .context("writing to stdout")?;
    }
    Ok(Outcome(EXIT_OK))
}
