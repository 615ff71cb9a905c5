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

use crate::{Cli, EXIT_INVALID, EXIT_OK, Outcome};

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
    },
    /// The cells within distance K, each with its distance
    /// (QUADBIN_KRING_DISTANCES): x wraps around the antimeridian, rows off
    /// the grid are dropped, row by row from the north-west.
    Kring {
        /// The origin cell: decimal, 0x-hex, or 16 hex digits.
        cell: String,
        /// The distance in cells.
        k: u32,
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
    },
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
        .map(|c| one(cli, args, c, out)),
        QuadbinCommand::FromLonlat { lon, lat, res } => {
            Cell::from_lonlat(*lon, *lat, *res).map(|c| one(cli, args, c, out))
        }
        QuadbinCommand::FromQuadkey { quadkey } => {
            Cell::from_quadkey(quadkey).map(|c| one(cli, args, c, out))
        }
        QuadbinCommand::Info { cell } => return info(cli, args, cell, out),
        QuadbinCommand::Parent { cell, res } => cell_arg(cell)
            .and_then(|c| c.parent(*res))
            .map(|c| one(cli, args, c, out)),
        QuadbinCommand::Children { cell, res } => {
            match cell_arg(cell).and_then(|c| Ok((c, c.children(*res)?))) {
                Ok((c, children)) => {
                    let head = json!({"cell": c.get(), "hex": c.to_string(), "resolution": res});
                    Ok(list(cli, args, &head, children.map(|c| (c, None)), out))
                }
                Err(e) => Err(e),
            }
        }
        QuadbinCommand::Kring { cell, k } => cell_arg(cell).map(|c| {
            let head = json!({"cell": c.get(), "hex": c.to_string(), "k": k});
            list(
                cli,
                args,
                &head,
                c.k_ring(*k).map(|(c, d)| (c, Some(d))),
                out,
            )
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
                Ok(sibling(cli, args, c, s, out))
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
        QuadbinCommand::Polyfill { bbox, res, mode } => {
            let parsed = parse_bbox(bbox).and_then(|b| {
                let mode: PolyfillMode = mode.parse()?;
                Ok((b, mode, quadbin::polyfill_bbox(b, *res, mode)?))
            });
            parsed.map(|(b, mode, cells)| {
                let head = json!({"bbox": b, "resolution": res, "mode": format!("{mode:?}").to_lowercase()});
                list(cli, args, &head, cells.map(|c| (c, None)), out)
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
fn one(cli: &Cli, args: &QuadbinArgs, cell: Cell, out: &mut dyn Write) -> std::io::Result<()> {
    if args.json {
        writeln!(out, "{}", cell_json(cell))
    } else if cli.quiet {
        Ok(())
    } else {
        writeln!(out, "{}", cell_line(cell))
    }
}

fn sibling(
    cli: &Cli,
    args: &QuadbinArgs,
    origin: Cell,
    sibling: Option<Cell>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if args.json {
        let mut v = cell_json(origin);
        v["sibling"] = sibling.map_or(Value::Null, cell_json);
        writeln!(out, "{v}")
    } else if cli.quiet {
        Ok(())
    } else {
        match sibling {
            Some(s) => writeln!(out, "{}", cell_line(s)),
            None => writeln!(out, "none (off the grid)"),
        }
    }
}

/// Streams a list of cells: text one per line, or JSON `{...head, "cells": [..], "count": n}`.
fn list(
    cli: &Cli,
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
    } else if !cli.quiet {
        for (cell, distance) in cells {
            match distance {
                Some(d) => writeln!(out, "{}\t{d}", cell_line(cell))?,
                None => writeln!(out, "{}", cell_line(cell))?,
            }
        }
    }
    out.flush()
}

fn info(cli: &Cli, args: &QuadbinArgs, text: &str, out: &mut dyn Write) -> anyhow::Result<Outcome> {
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
    } else if !cli.quiet {
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
