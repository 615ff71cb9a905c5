//! Items to Arrow record batches, following a [`Layout`]; whatever the typed
//! columns cannot hold exactly becomes a patch (JSON Pointer + JSON text).

use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, UInt64Builder,
};
use arrow_array::{Array, ArrayRef, ListArray, RecordBatch, StructArray};
use arrow_buffer::{NullBufferBuilder, OffsetBuffer};
use arrow_schema::{Field, Fields, Schema, SchemaRef, TimeUnit};
use serde_json::Value;

use crate::datetime;
use crate::error::{Error, Result};
use crate::geom;
use crate::infer::{
    CORE_COLUMNS, FieldPlan, Layout, Origin, Plan, bbox_fields, bbox_values, colliding_property,
    exact_integer, integral,
};
use crate::lite::Json;
use crate::patches::PatchLog;

/// Appends the JSON Pointer segment for `key` to `path`.
pub(crate) fn push_segment(path: &mut String, key: &str) {
    path.push('/');
    for c in key.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

/// Per-row state: the pointer being built and the patches found.
#[derive(Debug, Default)]
struct Ctx {
    path: String,
    patches: Vec<(String, Option<String>)>,
}

impl Ctx {
    fn patch<J: Json>(&mut self, value: Option<&J>) {
        self.patches
            .push((self.path.clone(), value.map(Json::json_text)));
    }
}

/// How an appended value was stored.
enum Stored {
    /// Reads back exactly.
    Exact,
    /// A value was stored but reads back differently: patch with the original.
    Lossy,
    /// Nothing fits (a null was stored): patch with the original.
    No,
}

enum Builder {
    Bool(BooleanBuilder),
    Int(Int64Builder),
    UInt(UInt64Builder),
    Float {
        values: Float64Builder,
        /// The `integer` number style: integral values read back bare.
        bare: bool,
    },
    Str(StringBuilder),
    Json(StringBuilder),
    Timestamp {
        values: Int64Builder,
        unit: TimeUnit,
        digits: u8,
        style: datetime::Style,
    },
    Geometry(BinaryBuilder),
    Bbox {
        values: Vec<Float64Builder>,
        nulls: NullBufferBuilder,
        z: bool,
    },
    List {
        offsets: Vec<i32>,
        nulls: NullBufferBuilder,
        child: Box<FieldBuilder>,
    },
    Struct {
        fields: Vec<FieldBuilder>,
        nulls: NullBufferBuilder,
        len: usize,
    },
}

struct FieldBuilder {
    field: Field,
    explicit_nulls: bool,
    builder: Builder,
}

fn unit_nanos(unit: TimeUnit) -> i128 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

impl FieldBuilder {
    fn new(plan: &FieldPlan) -> Self {
        let builder = match &plan.plan {
            Plan::Bool => Builder::Bool(BooleanBuilder::new()),
            Plan::Int => Builder::Int(Int64Builder::new()),
            Plan::UInt => Builder::UInt(UInt64Builder::new()),
            Plan::Float { bare } => Builder::Float {
                values: Float64Builder::new(),
                bare: *bare,
            },
            Plan::Str => Builder::Str(StringBuilder::new()),
            Plan::Json => Builder::Json(StringBuilder::new()),
            Plan::Timestamp {
                unit,
                digits,
                style,
            } => Builder::Timestamp {
                values: Int64Builder::new(),
                unit: *unit,
                digits: *digits,
                style: *style,
            },
            Plan::Geometry => Builder::Geometry(BinaryBuilder::new()),
            Plan::Bbox { z } => Builder::Bbox {
                values: (0..if *z { 6 } else { 4 })
                    .map(|_| Float64Builder::new())
                    .collect(),
                nulls: NullBufferBuilder::new(0),
                z: *z,
            },
            Plan::List(el) => Builder::List {
                offsets: vec![0],
                nulls: NullBufferBuilder::new(0),
                child: Box::new(FieldBuilder::new(el)),
            },
            Plan::Struct(fields) => Builder::Struct {
                fields: fields.iter().map(FieldBuilder::new).collect(),
                nulls: NullBufferBuilder::new(0),
                len: 0,
            },
        };
        FieldBuilder {
            field: plan.field(),
            explicit_nulls: plan.explicit_nulls,
            builder,
        }
    }

    /// Appends one value (`None`: the key is absent); `true` when the cell
    /// is not null.
    fn append<J: Json>(&mut self, v: Option<&J>, ctx: &mut Ctx) -> bool {
        match v {
            None => {
                self.builder.append_null();
                if self.explicit_nulls {
                    ctx.patch::<J>(None);
                }
                false
            }
            Some(x) if x.is_null() => {
                if let Builder::Json(b) = &mut self.builder {
                    b.append_value("null");
                    return true;
                }
                self.builder.append_null();
                if !self.explicit_nulls {
                    ctx.patch(Some(&Value::Null));
                }
                false
            }
            Some(x) => match self.builder.append_value(x, ctx) {
                Stored::Exact => true,
                Stored::Lossy => {
                    ctx.patch(Some(x));
                    true
                }
                Stored::No => {
                    self.builder.append_null();
                    ctx.patch(Some(x));
                    false
                }
            },
        }
    }

    fn finish(&mut self) -> ArrayRef {
        self.builder.finish()
    }

    /// Whether this is a bbox column with `zmin` and `zmax`.
    fn has_z(&self) -> bool {
        matches!(self.builder, Builder::Bbox { z: true, .. })
    }

    /// Appends a bbox of 4 or 6 values to a bbox column (4 values in a 3D
    /// one: null `zmin` and `zmax`); `false` (nothing appended) for other
    /// columns, and for 6 values in a 2D one.
    fn append_bbox(&mut self, b: &[f64]) -> bool {
        let Builder::Bbox { values, nulls, z } = &mut self.builder else {
            return false;
        };
        if b.len() == 6 && !*z || b.len() != 4 && b.len() != 6 {
            return false;
        }
        let order: [Option<usize>; 6] = if b.len() == 6 {
            [Some(0), Some(1), Some(2), Some(3), Some(4), Some(5)]
        } else if *z {
            [Some(0), Some(1), None, Some(2), Some(3), None]
        } else {
            [Some(0), Some(1), Some(2), Some(3), None, None]
        };
        for (builder, i) in values.iter_mut().zip(order) {
            match i.and_then(|i| b.get(i)) {
                Some(f) => builder.append_value(*f),
                None => builder.append_null(),
            }
        }
        nulls.append_non_null();
        true
    }
}

impl Builder {
    fn append_null(&mut self) {
        match self {
            Builder::Bool(b) => b.append_null(),
            Builder::Int(b) => b.append_null(),
            Builder::UInt(b) => b.append_null(),
            Builder::Float { values, .. } => values.append_null(),
            Builder::Str(b) | Builder::Json(b) => b.append_null(),
            Builder::Timestamp { values, .. } => values.append_null(),
            Builder::Geometry(b) => b.append_null(),
            Builder::Bbox { values, nulls, .. } => {
                for b in values {
                    b.append_null();
                }
                nulls.append_null();
            }
            Builder::List { offsets, nulls, .. } => {
                let last = offsets.last().copied().unwrap_or(0);
                offsets.push(last);
                nulls.append_null();
            }
            Builder::Struct { fields, nulls, len } => {
                for f in fields {
                    f.builder.append_null();
                }
                nulls.append_null();
                *len += 1;
            }
        }
    }

    /// Appends a non-null value; on [`Stored::No`] nothing was appended.
    fn append_value<J: Json>(&mut self, v: &J, ctx: &mut Ctx) -> Stored {
        match self {
            Builder::Bool(b) => match v.bool() {
                Some(x) => {
                    b.append_value(x);
                    Stored::Exact
                }
                None => Stored::No,
            },
            Builder::Int(b) => match v.int() {
                Some(x) => {
                    b.append_value(x);
                    Stored::Exact
                }
                None => Stored::No,
            },
            Builder::UInt(b) => match v.uint() {
                Some(x) => {
                    b.append_value(x);
                    Stored::Exact
                }
                None => Stored::No,
            },
            Builder::Float { values, bare } => match v.float() {
                Some((f, is_float)) => {
                    values.append_value(f);
                    // What the decoder prints must be the value read.
                    let exact = if is_float {
                        !(*bare && integral(f))
                    } else {
                        *bare && v.int().is_some_and(exact_integer)
                    };
                    if exact { Stored::Exact } else { Stored::Lossy }
                }
                None => Stored::No,
            },
            Builder::Str(b) => match v.str() {
                Some(s) => {
                    b.append_value(s);
                    Stored::Exact
                }
                None => Stored::No,
            },
            Builder::Json(b) => {
                b.append_value(v.json_text());
                Stored::Exact
            }
            Builder::Timestamp {
                values,
                unit,
                digits,
                style,
            } => {
                let Some(s) = v.str() else {
                    return Stored::No;
                };
                let Some(p) = datetime::parse(s) else {
                    return Stored::No;
                };
                let n = unit_nanos(*unit);
                let Ok(stored) = i64::try_from(p.nanos.div_euclid(n)) else {
                    return Stored::No;
                };
                values.append_value(stored);
                if i128::from(stored) * n == p.nanos && datetime::is_written(s, &p, *digits, *style)
                {
                    Stored::Exact
                } else {
                    Stored::Lossy
                }
            }
            Builder::Geometry(b) => match geom::to_wkb(&v.value()) {
                Ok(wkb) => {
                    b.append_value(&wkb);
                    if geom::from_wkb(&wkb).ok().as_ref() == Some(v.value().as_ref()) {
                        Stored::Exact
                    } else {
                        Stored::Lossy
                    }
                }
                Err(_) => Stored::No,
            },
            Builder::Bbox { values, nulls, z } => {
                let Some((vals, exact)) = bbox_values(&v.value()) else {
                    return Stored::No;
                };
                if vals.len() == 6 && !*z {
                    return Stored::No;
                }
                let order: [Option<usize>; 6] = if vals.len() == 6 {
                    [Some(0), Some(1), Some(2), Some(3), Some(4), Some(5)]
                } else if *z {
                    [Some(0), Some(1), None, Some(2), Some(3), None]
                } else {
                    [Some(0), Some(1), Some(2), Some(3), None, None]
                };
                for (b, i) in values.iter_mut().zip(order) {
                    match i.and_then(|i| vals.get(i)) {
                        Some(f) => b.append_value(*f),
                        None => b.append_null(),
                    }
                }
                nulls.append_non_null();
                if exact { Stored::Exact } else { Stored::Lossy }
            }
            Builder::List {
                offsets,
                nulls,
                child,
            } => {
                let Some(a) = v.array() else {
                    return Stored::No;
                };
                let base = ctx.path.len();
                for (i, x) in a.iter().enumerate() {
                    ctx.path.push('/');
                    ctx.path.push_str(&i.to_string());
                    let _ = child.append(Some(x), ctx);
                    ctx.path.truncate(base);
                }
                let last = offsets.last().copied().unwrap_or(0);
                offsets.push(last + i32::try_from(a.len()).unwrap_or(i32::MAX));
                nulls.append_non_null();
                Stored::Exact
            }
            Builder::Struct { fields, nulls, len } => {
                if !v.is_object() {
                    return Stored::No;
                }
                let base = ctx.path.len();
                let mut hint = 0;
                let mut found = 0;
                for f in fields.iter_mut() {
                    push_segment(&mut ctx.path, f.field.name());
                    let x = v.member(f.field.name(), &mut hint);
                    found += usize::from(x.is_some());
                    let _ = f.append(x, ctx);
                    ctx.path.truncate(base);
                }
                // Members the first pass did not see (the input changed
                // between passes): kept as patches.
                if found < v.object_len() {
                    for (k, x) in v.members() {
                        if !fields.iter().any(|f| f.field.name() == k) {
                            push_segment(&mut ctx.path, k);
                            ctx.patch(Some(x));
                            ctx.path.truncate(base);
                        }
                    }
                }
                nulls.append_non_null();
                *len += 1;
                Stored::Exact
            }
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::UInt(b) => Arc::new(b.finish()),
            Builder::Float { values, .. } => Arc::new(values.finish()),
            Builder::Str(b) | Builder::Json(b) => Arc::new(b.finish()),
            Builder::Timestamp { values, unit, .. } => {
                use arrow_array::PrimitiveArray;
                use arrow_array::types::{
                    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
                    TimestampSecondType,
                };
                let a = values.finish();
                let (v, n) = (a.values().clone(), a.nulls().cloned());
                match unit {
                    TimeUnit::Second => Arc::new(
                        PrimitiveArray::<TimestampSecondType>::new(v, n).with_timezone("UTC"),
                    ),
                    TimeUnit::Millisecond => Arc::new(
                        PrimitiveArray::<TimestampMillisecondType>::new(v, n).with_timezone("UTC"),
                    ),
                    TimeUnit::Microsecond => Arc::new(
                        PrimitiveArray::<TimestampMicrosecondType>::new(v, n).with_timezone("UTC"),
                    ),
                    TimeUnit::Nanosecond => Arc::new(
                        PrimitiveArray::<TimestampNanosecondType>::new(v, n).with_timezone("UTC"),
                    ),
                }
            }
            Builder::Geometry(b) => Arc::new(b.finish()),
            Builder::Bbox { values, nulls, z } => {
                let arrays: Vec<ArrayRef> = values
                    .iter_mut()
                    .map(|b| Arc::new(b.finish()) as ArrayRef)
                    .collect();
                Arc::new(StructArray::new(bbox_fields(*z), arrays, nulls.finish()))
            }
            Builder::List {
                offsets,
                nulls,
                child,
            } => {
                let values = child.finish();
                let offs = std::mem::replace(offsets, vec![0]);
                Arc::new(ListArray::new(
                    Arc::new(child.field.clone()),
                    OffsetBuffer::new(offs.into()),
                    values,
                    nulls.finish(),
                ))
            }
            Builder::Struct { fields, nulls, len } => {
                let arrays: Vec<ArrayRef> = fields.iter_mut().map(FieldBuilder::finish).collect();
                let fs: Fields = fields.iter().map(|f| f.field.clone()).collect();
                let n = std::mem::take(len);
                let nb = nulls.finish();
                if fs.is_empty() {
                    Arc::new(StructArray::new_empty_fields(n, nb))
                } else {
                    Arc::new(StructArray::new(fs, arrays, nb))
                }
            }
        }
    }
}

/// What the bbox column holds instead of the item's `bbox` (`v`), given the
/// geometry and its bounds `g`, in a column with or without `zmin`/`zmax`
/// (`z_column`); `None` when the item's bbox is written as it is. A missing
/// or null bbox becomes the geometry's (the spec requires one, other readers
/// need it); a bbox that does not contain the geometry is widened (as a
/// covering must), a bbox crossing the antimeridian (xmin > xmax, RFC 7946)
/// to the whole longitude range; in a Z column, a 3D geometry's Z range is
/// added or widened the same way.
fn covering_bbox<J: Json>(
    v: Option<&J>,
    geometry: &J,
    g: geom::Bounds,
    z_column: bool,
) -> Option<Vec<f64>> {
    let gz = g.z.filter(|_| z_column);
    let g4 = g.xy;
    let Some(mut vals) = v.and_then(bbox_numbers) else {
        // Missing, null, or not 4 or 6 numbers: the geometry's.
        return Some(match gz {
            Some((z0, z1)) => vec![g4[0], g4[1], z0, g4[2], g4[3], z1],
            None => g4.to_vec(),
        });
    };
    let (x0, y0, x1, y1) = if vals.len() == 6 {
        (0, 1, 3, 4)
    } else {
        (0, 1, 2, 3)
    };
    let mut changed = false;
    let holds_y = vals[y0] <= g4[1] && vals[y1] >= g4[3];
    if vals[x0] > vals[x1] {
        // Crossing the antimeridian: [xmin, 180] and [-180, xmax].
        if !(holds_y && geom::fits_wrapped(geometry, vals[x0], vals[x1])) {
            vals[x0] = vals[x0].min(g4[0]).min(-180.0);
            vals[x1] = vals[x1].max(g4[2]).max(180.0);
            vals[y0] = vals[y0].min(g4[1]);
            vals[y1] = vals[y1].max(g4[3]);
            changed = true;
        }
    } else if !(holds_y && vals[x0] <= g4[0] && vals[x1] >= g4[2]) {
        vals[x0] = vals[x0].min(g4[0]);
        vals[y0] = vals[y0].min(g4[1]);
        vals[x1] = vals[x1].max(g4[2]);
        vals[y1] = vals[y1].max(g4[3]);
        changed = true;
    }
    if let Some((z0, z1)) = gz {
        if vals.len() == 4 {
            vals = vec![vals[0], vals[1], z0, vals[2], vals[3], z1];
            changed = true;
        } else if !(vals[2] <= z0 && vals[5] >= z1) {
            vals[2] = vals[2].min(z0);
            vals[5] = vals[5].max(z1);
            changed = true;
        }
    }
    changed.then_some(vals)
}

/// The numbers of a bbox of 4 or 6 numbers; `None` for anything else
/// (null, other shapes).
fn bbox_numbers<J: Json>(v: &J) -> Option<Vec<f64>> {
    let a = v.array()?;
    if a.len() != 4 && a.len() != 6 {
        return None;
    }
    a.iter().map(|x| x.float().map(|f| f.0)).collect()
}

/// Builds record batches from items; the patches go to a [`PatchLog`] (the
/// footer), never to a column.
pub(crate) struct BatchBuilder {
    columns: Vec<(Origin, FieldBuilder)>,
    patches: PatchLog,
    property_names: std::collections::HashSet<String>,
    has_assets: bool,
    schema: SchemaRef,
    rows: usize,
    /// Rows appended since the start (the row of the file).
    total: u64,
    ctx: Ctx,
}

impl BatchBuilder {
    pub(crate) fn new(layout: &Layout) -> Self {
        let columns: Vec<(Origin, FieldBuilder)> = layout
            .columns
            .iter()
            .map(|(o, p)| (*o, FieldBuilder::new(p)))
            .collect();
        let fields: Vec<Field> = columns.iter().map(|(_, f)| f.field.clone()).collect();
        let property_names = columns
            .iter()
            .filter(|(o, _)| *o == Origin::Property)
            .map(|(_, c)| c.field.name().clone())
            .collect();
        let has_assets = columns.iter().any(|(_, c)| c.field.name() == "assets");
        BatchBuilder {
            columns,
            patches: PatchLog::new(),
            property_names,
            has_assets,
            schema: Arc::new(Schema::new(fields)),
            rows: 0,
            total: 0,
            ctx: Ctx::default(),
        }
    }

    /// The patches recorded so far (to finish once every row is in).
    pub(crate) fn take_patches(&mut self) -> PatchLog {
        std::mem::replace(&mut self.patches, PatchLog::new())
    }

    pub(crate) fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Appends one item; `number` names it in errors.
    pub(crate) fn append<J: Json>(&mut self, item: &J, number: u64) -> Result<()> {
        let ctx = &mut self.ctx;
        ctx.patches.clear();
        let (mut hint, mut phint) = (0, 0);
        // Whether this row's geometry cell holds WKB (the column comes
        // before `bbox`, its covering).
        let mut geometry_stored = false;
        let props = item.member("properties", &mut 0);
        let props_obj = props.filter(|p| p.is_object());
        for (origin, col) in &mut self.columns {
            ctx.path.clear();
            let v = match origin {
                Origin::Core => item.member(col.field.name(), &mut hint),
                Origin::Property => {
                    ctx.path.push_str("/properties");
                    props_obj.and_then(|p| p.member(col.field.name(), &mut phint))
                }
            };
            push_segment(&mut ctx.path, col.field.name());
            let is_bbox = *origin == Origin::Core && col.field.name() == "bbox";
            if is_bbox && !geometry_stored && v.is_some_and(|b| !b.is_null()) {
                // No geometry in the column (null, or not storable as WKB):
                // the covering is null too; the item's bbox is a patch.
                let _ = col.append::<J>(None, ctx);
                ctx.patches.retain(|(p, _)| *p != ctx.path);
                ctx.patch(v);
                continue;
            }
            if is_bbox && geometry_stored {
                // The bbox column is the geometry's covering: not null where
                // the geometry is not, and holding it. What the item said is
                // kept as a patch.
                let geometry = item.member("geometry", &mut 0);
                let written = match (geometry, geometry.and_then(geom::bounds_of)) {
                    (Some(geometry), Some(g)) => covering_bbox(v, geometry, g, col.has_z()),
                    // An empty geometry: any box (NaN when the item has none).
                    _ => v
                        .and_then(bbox_numbers)
                        .is_none()
                        .then(|| vec![f64::NAN; 4]),
                };
                if let Some(written) = written
                    && col.append_bbox(&written)
                {
                    ctx.patch(v);
                    continue;
                }
            }
            let stored = col.append(v, ctx);
            if *origin == Origin::Core && col.field.name() == "geometry" {
                geometry_stored = stored;
            }
        }
        ctx.path.clear();
        // Foreign members, colliding properties, non-object properties.
        for (k, v) in item.members() {
            if k != "properties" && !CORE_COLUMNS.contains(&k) {
                ctx.path.clear();
                push_segment(&mut ctx.path, k);
                ctx.patch(Some(v));
            }
        }
        match props_obj {
            Some(p) => {
                for (k, v) in p.members() {
                    if colliding_property(k) || !self.property_names.contains(k) {
                        ctx.path.clear();
                        ctx.path.push_str("/properties");
                        push_segment(&mut ctx.path, k);
                        ctx.patch(Some(v));
                    }
                }
            }
            None => {
                ctx.path.clear();
                ctx.path.push_str("/properties");
                ctx.patch(props);
            }
        }
        if !self.has_assets
            && let Some(a) = item.member("assets", &mut 0)
            && (!a.is_object() || a.object_len() > 0)
        {
            ctx.path.clear();
            ctx.path.push_str("/assets");
            ctx.patch(Some(a));
        }
        for (path, value) in &ctx.patches {
            self.patches
                .push(self.total, path, value.as_deref())
                .map_err(|e| match e {
                    Error::PatchesTooLarge {
                        path,
                        item: None,
                        limit_kind,
                        limit,
                    } => Error::PatchesTooLarge {
                        path,
                        item: Some(number),
                        limit_kind,
                        limit,
                    },
                    other => other,
                })?;
        }
        self.total += 1;
        self.rows += 1;
        Ok(())
    }

    /// The batch of the rows appended since the last call.
    pub(crate) fn finish(&mut self) -> Result<RecordBatch> {
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(|(_, c)| c.finish()).collect();
        self.rows = 0;
        Ok(RecordBatch::try_new(self.schema.clone(), arrays)?)
    }
}
