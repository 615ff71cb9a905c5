//! Cover an area with Quadbin cells, and find the cell of a point.
//!
//! ```sh
//! cargo run -p quadbin --example cover_area -- -3.9 40.3 -3.5 40.6 12
//! ```
//!
//! Arguments: west south east north (degrees) and a resolution (0 to 26); without
//! arguments, central Madrid at resolution 12. It prints the cells whose centre lies in
//! the box (as 16 hexadecimal digits, the form the CARTO Analytics Toolbox prints),
//! their parent at four resolutions coarser, and the cell of the box's centre.

#![allow(clippy::print_stdout)]

use std::collections::BTreeSet;

use quadbin::{Cell, PolyfillMode, polyfill_bbox};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (bbox, resolution) = match args.as_slice() {
        [] => ([-3.9, 40.3, -3.5, 40.6], 12),
        [w, s, e, n, r] => ([w.parse()?, s.parse()?, e.parse()?, n.parse()?], r.parse()?),
        _ => return Err("expected: west south east north resolution".into()),
    };

    // Every cell whose centre lies inside the box (Intersects and Contains are the
    // other modes). The cover is an iterator: large areas are not held in memory.
    let mut parents = BTreeSet::new();
    let mut count = 0u64;
    for cell in polyfill_bbox(bbox, resolution, PolyfillMode::Center)? {
        if count < 10 {
            println!("{cell}  (tile {:?})", cell.tile());
        }
        count += 1;
        parents.insert(cell.parent(resolution.saturating_sub(4))?);
    }
    println!(
        "{count} cells at resolution {resolution}, in {} parents",
        parents.len()
    );

    // The cell of one point.
    let [west, south, east, north] = bbox;
    let centre = Cell::from_lonlat((west + east) / 2.0, (south + north) / 2.0, resolution)?;
    println!("centre: {centre} (quadkey {})", centre.quadkey());
    Ok(())
}
