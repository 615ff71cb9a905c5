//! `geoquet inspect`.

use std::io::Write;

use anyhow::Context;
use clap::Args;
use geoquet::io::{Inspection, MetadataSource};

use crate::{Cli, EXIT_OK, Outcome};

/// Arguments of `geoquet inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The GeoParquet file: a path or a URL (file://, s3://, gs://, az://, http(s)://).
    pub file: String,
    /// Print JSON for machines instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also print the full Parquet schema (text output).
    #[arg(long)]
    pub schema: bool,
}

pub(crate) fn run(cli: &Cli, args: &InspectArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let source = crate::source::Source::parse(&args.file)?;
    let footer = source.footer()?;
    let info = geoquet::io::inspect_footer(std::path::Path::new(&source.name()), footer)?;
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&info.to_json())?)
            .context("writing to stdout")?;
    } else if !cli.quiet {
        text(&info, args.schema || cli.verbose > 0, out).context("writing to stdout")?;
    }
    Ok(Outcome(EXIT_OK))
}

fn fmt_bbox(b: &geoquet::meta::BoundingBox) -> String {
    let v: Vec<String> = b.to_vec().iter().map(|x| format!("{x}")).collect();
    let wrap = if b.wraps() {
        " (crosses the antimeridian)"
    } else {
        ""
    };
    format!("[{}]{wrap}", v.join(", "))
}

fn text(info: &Inspection, schema: bool, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "file:          {} ({} bytes)",
        info.path.display(),
        info.file_size
    )?;
    let source = match info.source {
        MetadataSource::GeoKey => String::new(),
        MetadataSource::NativeTypes => {
            " (no \"geo\" key: synthesised from Parquet native geometry types)".into()
        }
    };
    writeln!(out, "version:       {}{source}", info.metadata.version)?;
    writeln!(out, "rows:          {}", info.num_rows)?;
    writeln!(out, "row groups:    {}", info.row_groups)?;
    let codecs: Vec<&str> = info.compression.iter().map(String::as_str).collect();
    writeln!(
        out,
        "compression:   {}",
        if codecs.is_empty() {
            "-".into()
        } else {
            codecs.join(", ")
        }
    )?;
    writeln!(
        out,
        "statistics:    {}",
        if info.statistics {
            "yes"
        } else {
            "no (some columns lack min/max)"
        }
    )?;
    writeln!(
        out,
        "page index:    {}",
        if info.page_index { "yes" } else { "no" }
    )?;
    if let Some(c) = &info.created_by {
        writeln!(out, "created by:    {c}")?;
    }
    writeln!(out, "geometry columns:")?;
    for c in &info.geometry_columns {
        let m = &c.metadata;
        let primary = if c.primary { " (primary)" } else { "" };
        writeln!(out, "  {}{primary}", c.name)?;
        writeln!(out, "    encoding:       {}", m.encoding.as_str())?;
        let types: Vec<String> = m.geometry_types.iter().map(ToString::to_string).collect();
        writeln!(
            out,
            "    geometry types: {}",
            if types.is_empty() {
                "unknown ([])".into()
            } else {
                types.join(", ")
            }
        )?;
        writeln!(out, "    crs:            {}", m.crs.label())?;
        if let Some(b) = &m.bbox {
            writeln!(out, "    bbox:           {}", fmt_bbox(b))?;
        }
        if let Some(cov) = &m.covering {
            writeln!(
                out,
                "    covering:       bbox column \"{}\"",
                cov.bbox.column().unwrap_or("?")
            )?;
        }
        writeln!(out, "    edges:          {}", m.effective_edges().as_str())?;
        if let Some(o) = &m.orientation {
            writeln!(out, "    orientation:    {}", o.as_str())?;
        }
        if let Some(e) = m.epoch {
            writeln!(out, "    epoch:          {e}")?;
        }
        if let Some(n) = &c.native {
            let crs = c
                .native_crs
                .as_ref()
                .map_or_else(|| n.crs().unwrap_or("").to_owned(), |c| c.label());
            writeln!(out, "    logical type:   {} (crs {crs})", n.name())?;
        }
        if let Some(b) = &c.stats_bbox {
            writeln!(out, "    stats bbox:     {}", fmt_bbox(b))?;
        }
        if !c.stats_types.is_empty() {
            let t: Vec<String> = c
                .stats_types
                .iter()
                .map(|code| {
                    geoquet::meta::GeometryTypeAndDimension::from_wkb_code(*code)
                        .map_or_else(|| code.to_string(), |t| t.to_string())
                })
                .collect();
            writeln!(out, "    stats types:    {}", t.join(", "))?;
        }
    }
    writeln!(out, "columns:")?;
    for (name, ty) in &info.fields {
        writeln!(out, "  {name}: {ty}")?;
    }
    if schema {
        writeln!(out, "parquet schema:")?;
        write!(out, "{}", info.schema_text)?;
    }
    Ok(())
}
