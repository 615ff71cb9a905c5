//! Schema inference over all items (the first of two passes), and the column
//! plan it produces.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, TimeUnit};
use geoparquet_io::meta::GeometryTypeAndDimension;
use serde_json::{Map, Value};

use crate::datetime::{self, Style};
use crate::geom;
use crate::lite::Lite;

/// Top-level Item members that are columns of their own (spec §"Columns").
pub const CORE_COLUMNS: [&str; 9] = [
    "type",
    "stac_version",
    "stac_extensions",
    "id",
    "geometry",
    "bbox",
    "links",
    "assets",
    "collection",
];

/// Properties stored as timestamps (when every value parses as RFC 3339).
pub const DATETIME_PROPERTIES: [&str; 8] = [
    "datetime",
    "start_datetime",
    "end_datetime",
    "created",
    "updated",
    "expires",
    "published",
    "unpublished",
];

/// The column that held, per row, what the typed columns cannot say exactly,
/// in files of layout 1 (still read; now the patches are in the footer, under
/// [`PATCHES_METADATA_KEY`](crate::PATCHES_METADATA_KEY)). A property of that
/// name is kept as a patch.
pub const PATCHES_COLUMN: &str = "geoquet:patches";

/// Field metadata key: the column holds compact JSON text.
pub(crate) const JSON_KEY: &str = "geoquet:json";
/// Field metadata key: a null cell is an explicit JSON `null` (else: absent).
pub(crate) const NULLS_KEY: &str = "geoquet:nulls";
/// Field metadata key: fraction digits of the canonical datetime text.
pub(crate) const DIGITS_KEY: &str = "geoquet:digits";
/// Field metadata key: the datetime text's [`Style`] when not `T`…`Z`
/// (`space`, `offset`, `space,offset`).
pub(crate) const STYLE_KEY: &str = "geoquet:datetime_style";
/// Field metadata key of a float column: `integer` when integral values are
/// written without a fraction (`0`, not `0.0`); absent: with one.
pub(crate) const NUMBER_STYLE_KEY: &str = "geoquet:number_style";

/// Whether a float column of the `integer` number style writes `f` as an
/// integer: integral, within ±2^53 (where every integer is exact), not `-0`.
pub(crate) fn integral(f: f64) -> bool {
    const LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53
    f.is_finite() && f.fract() == 0.0 && f.abs() <= LIMIT && !(f == 0.0 && f.is_sign_negative())
}

/// Whether integer `i` reads back exactly from a float column of the
/// `integer` number style.
pub(crate) fn exact_integer(i: i64) -> bool {
    i.unsigned_abs() <= 1 << 53
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Role {
    #[default]
    Plain,
    Geometry,
    Bbox,
    Datetime,
    Assets,
    Asset,
}

/// What has been seen at one place of the item tree.
#[derive(Debug, Default)]
pub(crate) struct Node {
    role: Role,
    present: u64,
    nulls: u64,
    bools: bool,
    ints: bool,
    neg: bool,
    big: bool,
    floats: bool,
    /// Integers a float column of the `integer` style reads back exactly.
    exact_ints: u64,
    /// Integers beyond ±2^53 (a patch in any float column).
    wide_ints: bool,
    /// Floats written with a fraction that the `integer` style would print
    /// as integers (`0.0`).
    integral_floats: u64,
    strings: u64,
    lists: bool,
    objects: u64,
    dt_bad: bool,
    dt_max_digits: u8,
    dt_out_of_ns: bool,
    /// Values written exactly by each (style, digits) choice: index
    /// `style * 4 + digits index`.
    dt_canon: [u64; 16],
    geom_patch: bool,
    geom_types: BTreeSet<GeometryTypeAndDimension>,
    bbox_z: bool,
    bbox_patch: bool,
    element: Option<Box<Node>>,
    fields: Vec<(String, Node)>,
    index: HashMap<String, usize>,
}

const DIGIT_CHOICES: [u8; 4] = [0, 3, 6, 9];

impl Node {
    fn with_role(role: Role) -> Self {
        Node {
            role,
            ..Node::default()
        }
    }

    fn child_role(&self, name: &str) -> Role {
        match self.role {
            Role::Assets => Role::Asset,
            Role::Asset if name == "proj:geometry" => Role::Geometry,
            _ => Role::Plain,
        }
    }

    fn field(&mut self, name: &str, role: Role) -> &mut Node {
        let i = match self.index.get(name) {
            Some(i) => *i,
            None => {
                self.fields.push((name.to_owned(), Node::with_role(role)));
                self.index.insert(name.to_owned(), self.fields.len() - 1);
                self.fields.len() - 1
            }
        };
        &mut self.fields[i].1
    }

    fn absorb(&mut self, v: &Value) {
        if v.is_null() {
            self.nulls += 1;
            return;
        }
        self.present += 1;
        match self.role {
            Role::Geometry => {
                match geom::to_wkb(v) {
                    Ok(wkb) => {
                        if geom::from_wkb(&wkb).ok().as_ref() != Some(v) {
                            self.geom_patch = true;
                        }
                        if let Some(t) = wkb_type(&wkb) {
                            self.geom_types.insert(t);
                        }
                    }
                    Err(_) => self.geom_patch = true,
                }
                return;
            }
            Role::Bbox => {
                match bbox_values(v) {
                    Some((vals, exact)) => {
                        self.bbox_z |= vals.len() == 6;
                        self.bbox_patch |= !exact;
                    }
                    None => self.bbox_patch = true,
                }
                return;
            }
            _ => {}
        }
        match v {
            Value::Null => {}
            Value::Bool(_) => self.bools = true,
            Value::Number(n) => {
                if let Some(i) = n.as_i64().filter(|_| n.is_i64()) {
                    self.ints = true;
                    self.neg |= i < 0;
                    self.exact_ints += u64::from(exact_integer(i));
                    self.wide_ints |= !exact_integer(i);
                } else if n.is_u64() {
                    self.big = true;
                } else {
                    self.floats = true;
                    self.integral_floats += u64::from(n.as_f64().is_some_and(integral));
                }
            }
            Value::String(s) => {
                self.strings += 1;
                if self.role == Role::Datetime {
                    self.absorb_datetime(s);
                }
            }
            Value::Array(a) => {
                self.lists = true;
                let el = self
                    .element
                    .get_or_insert_with(|| Box::new(Node::with_role(Role::Plain)));
                for x in a {
                    el.absorb(x);
                }
            }
            Value::Object(o) => {
                self.objects += 1;
                for (k, x) in o {
                    let role = self.child_role(k);
                    self.field(k, role).absorb(x);
                }
            }
        }
    }

    /// [`Node::absorb`] for a [`Lite`] value (the same decisions).
    fn absorb_lite(&mut self, v: &Lite<'_>) {
        if matches!(v, Lite::Null) {
            self.nulls += 1;
            return;
        }
        if matches!(self.role, Role::Geometry | Role::Bbox) {
            self.absorb(&v.to_value());
            return;
        }
        self.present += 1;
        match v {
            Lite::Null => {}
            Lite::Bool(_) => self.bools = true,
            Lite::I(i) => {
                self.ints = true;
                self.neg |= *i < 0;
                self.exact_ints += u64::from(exact_integer(*i));
                self.wide_ints |= !exact_integer(*i);
            }
            Lite::U(_) => self.big = true,
            Lite::F(f) => {
                self.floats = true;
                self.integral_floats += u64::from(integral(*f));
            }
            Lite::S(s) => {
                self.strings += 1;
                if self.role == Role::Datetime {
                    self.absorb_datetime(s);
                }
            }
            Lite::A(a) => {
                self.lists = true;
                let el = self
                    .element
                    .get_or_insert_with(|| Box::new(Node::with_role(Role::Plain)));
                for x in a {
                    el.absorb_lite(x);
                }
            }
            Lite::O(o) => {
                self.objects += 1;
                for (k, x) in o {
                    let role = self.child_role(k);
                    self.field(k, role).absorb_lite(x);
                }
            }
        }
    }

    fn absorb_datetime(&mut self, s: &str) {
        match datetime::parse(s) {
            Some(p) => {
                self.dt_max_digits = self.dt_max_digits.max(p.digits);
                if i64::try_from(p.nanos).is_err() {
                    self.dt_out_of_ns = true;
                }
                for (si, style) in Style::ALL.iter().enumerate() {
                    for (i, d) in DIGIT_CHOICES.iter().enumerate() {
                        if datetime::is_written(s, &p, *d, *style) {
                            self.dt_canon[si * 4 + i] += 1;
                        }
                    }
                }
            }
            None => self.dt_bad = true,
        }
    }

    /// The column plan of this node; `absent` = times its key was missing
    /// from a present parent object.
    fn plan(&self, name: &str, absent: u64) -> FieldPlan {
        let nulls_and_absent = self.nulls > 0 && absent > 0;
        let mut patches = false;
        let plan = match self.role {
            Role::Geometry => {
                patches |= self.geom_patch;
                Plan::Geometry
            }
            Role::Bbox => {
                patches |= self.bbox_patch;
                Plan::Bbox { z: self.bbox_z }
            }
            _ => self.value_plan(&mut patches),
        };
        let json = matches!(plan, Plan::Json);
        // JSON text stores `null` itself: a null cell is always "absent".
        let explicit_nulls = !json && self.nulls > absent;
        patches |= !json && nulls_and_absent;
        FieldPlan {
            name: name.to_owned(),
            plan,
            explicit_nulls,
            patches,
        }
    }

    fn value_plan(&self, patches: &mut bool) -> Plan {
        let numbers = self.ints || self.big || self.floats;
        let kinds = [
            self.bools,
            numbers,
            self.strings > 0,
            self.lists,
            self.objects > 0,
        ]
        .iter()
        .filter(|k| **k)
        .count();
        if kinds == 0 {
            return if self.role == Role::Datetime {
                Plan::Timestamp {
                    unit: TimeUnit::Microsecond,
                    digits: 0,
                    style: Style::default(),
                }
            } else {
                Plan::Str
            };
        }
        if kinds > 1 {
            return Plan::Json;
        }
        if self.bools {
            return Plan::Bool;
        }
        if numbers {
            if self.floats {
                // The style most integral values are written in: only the
                // others need patches.
                let bare = self.exact_ints > self.integral_floats;
                *patches |= if bare {
                    self.integral_floats > 0 || self.big || self.wide_ints
                } else {
                    self.ints || self.big
                };
                return Plan::Float { bare };
            }
            if self.big {
                return if self.neg { Plan::Json } else { Plan::UInt };
            }
            return Plan::Int;
        }
        if self.strings > 0 {
            if self.role == Role::Datetime && !self.dt_bad {
                let ns = self.dt_max_digits > 6 && !self.dt_out_of_ns;
                let (best, count) = self
                    .dt_canon
                    .iter()
                    .enumerate()
                    .max_by_key(|(i, c)| (**c, std::cmp::Reverse(*i)))
                    .map_or((0, 0), |(i, c)| (i, *c));
                *patches |= count < self.strings || (self.dt_max_digits > 6 && !ns);
                return Plan::Timestamp {
                    unit: if ns {
                        TimeUnit::Nanosecond
                    } else {
                        TimeUnit::Microsecond
                    },
                    digits: DIGIT_CHOICES[best % 4],
                    style: Style::ALL[best / 4],
                };
            }
            return Plan::Str;
        }
        if self.lists {
            let el = self.element.as_ref().map_or_else(
                || Node::default().plan("element", 0),
                |e| e.plan("element", 0),
            );
            *patches |= el.may_patch();
            return Plan::List(Box::new(el));
        }
        if self.fields.is_empty() {
            return Plan::Json;
        }
        let fields: Vec<FieldPlan> = self
            .fields
            .iter()
            .map(|(k, n)| n.plan(k, self.objects.saturating_sub(n.present + n.nulls)))
            .collect();
        *patches |= fields.iter().any(FieldPlan::may_patch);
        Plan::Struct(fields)
    }
}

/// The type and dimension of WKB we wrote (little endian).
fn wkb_type(wkb: &[u8]) -> Option<GeometryTypeAndDimension> {
    let code = u32::from_le_bytes(wkb.get(1..5)?.try_into().ok()?);
    GeometryTypeAndDimension::from_wkb_code(code)
}

/// The numbers of a 4- or 6-value bbox, and whether they read back exactly
/// (integers come back as floats).
pub(crate) fn bbox_values(v: &Value) -> Option<(Vec<f64>, bool)> {
    let a = v.as_array()?;
    if a.len() != 4 && a.len() != 6 {
        return None;
    }
    let mut exact = true;
    let mut out = Vec::with_capacity(6);
    for x in a {
        let n = x.as_number()?;
        exact &= n.is_f64();
        out.push(n.as_f64()?);
    }
    Some((out, exact))
}

/// How one column (or nested field) is stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Plan {
    Bool,
    Int,
    UInt,
    Float {
        /// Integral values are written bare (`0`), not with a fraction.
        bare: bool,
    },
    Str,
    Json,
    Timestamp {
        unit: TimeUnit,
        digits: u8,
        style: Style,
    },
    Geometry,
    Bbox {
        z: bool,
    },
    List(Box<FieldPlan>),
    Struct(Vec<FieldPlan>),
}

/// A named [`Plan`] with its null convention.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldPlan {
    pub(crate) name: String,
    pub(crate) plan: Plan,
    /// A null cell is an explicit `null` (else an absent key).
    pub(crate) explicit_nulls: bool,
    /// Values here may need patches.
    pub(crate) patches: bool,
}

impl FieldPlan {
    fn may_patch(&self) -> bool {
        self.patches
    }

    /// The Arrow field.
    pub(crate) fn field(&self) -> Field {
        let dt = match &self.plan {
            Plan::Bool => DataType::Boolean,
            Plan::Int => DataType::Int64,
            Plan::UInt => DataType::UInt64,
            Plan::Float { .. } => DataType::Float64,
            Plan::Str | Plan::Json => DataType::Utf8,
            Plan::Timestamp { unit, .. } => DataType::Timestamp(*unit, Some("UTC".into())),
            Plan::Geometry => DataType::Binary,
            Plan::Bbox { z } => DataType::Struct(bbox_fields(*z)),
            Plan::List(el) => DataType::List(Arc::new(el.field())),
            Plan::Struct(fields) => {
                DataType::Struct(fields.iter().map(FieldPlan::field).collect::<Fields>())
            }
        };
        let mut meta = HashMap::new();
        if matches!(self.plan, Plan::Json) {
            meta.insert(JSON_KEY.to_owned(), "true".to_owned());
        }
        if self.explicit_nulls {
            meta.insert(NULLS_KEY.to_owned(), "explicit".to_owned());
        }
        if let Plan::Float { bare: true } = self.plan {
            meta.insert(NUMBER_STYLE_KEY.to_owned(), "integer".to_owned());
        }
        if let Plan::Timestamp { digits, style, .. } = self.plan {
            meta.insert(DIGITS_KEY.to_owned(), digits.to_string());
            if let Some(name) = style.name() {
                meta.insert(STYLE_KEY.to_owned(), name.to_owned());
            }
        }
        Field::new(&self.name, dt, true).with_metadata(meta)
    }
}

/// The bbox struct's fields: `xmin, ymin, [zmin,] xmax, ymax, [zmax]`.
pub(crate) fn bbox_fields(z: bool) -> Fields {
    let names: &[&str] = if z {
        &["xmin", "ymin", "zmin", "xmax", "ymax", "zmax"]
    } else {
        &["xmin", "ymin", "xmax", "ymax"]
    };
    names
        .iter()
        .map(|n| Field::new(*n, DataType::Float64, true))
        .collect()
}

/// Schema inference over a stream of items.
#[derive(Debug, Default)]
pub(crate) struct Inference {
    root: Node,
    items: u64,
}

/// Where a column's values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A top-level Item member.
    Core,
    /// A member of `properties`.
    Property,
}

/// The inferred layout of a file.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) columns: Vec<(Origin, FieldPlan)>,
    /// `assets` was `{}` in every item (no column; restored on read).
    pub(crate) empty_assets: bool,
    /// Geometry types seen in `geometry` (type index, coordinates).
    pub(crate) geometry_types: BTreeSet<GeometryTypeAndDimension>,
    pub(crate) items: u64,
}

/// Is `name` a property that cannot be a column (a collision)?
pub(crate) fn colliding_property(name: &str) -> bool {
    CORE_COLUMNS.contains(&name) || name == PATCHES_COLUMN
}

impl Inference {
    pub(crate) fn new() -> Self {
        Inference {
            root: Node::with_role(Role::Plain),
            items: 0,
        }
    }

    pub(crate) fn absorb(&mut self, item: &Map<String, Value>) {
        self.items += 1;
        for (k, v) in item {
            if k == "properties" {
                continue;
            }
            if !CORE_COLUMNS.contains(&k.as_str()) {
                continue; // a foreign member: a patch
            }
            let role = match k.as_str() {
                "geometry" => Role::Geometry,
                "bbox" => Role::Bbox,
                "assets" => Role::Assets,
                _ => Role::Plain,
            };
            self.root.field(k, role).absorb(v);
        }
        if let Some(Value::Object(p)) = item.get("properties") {
            for (k, v) in p {
                if colliding_property(k) {
                    continue;
                }
                let role = if k == "proj:geometry" {
                    Role::Geometry
                } else if DATETIME_PROPERTIES.contains(&k.as_str()) {
                    Role::Datetime
                } else {
                    Role::Plain
                };
                self.root.field(k, role).absorb(v);
            }
        }
    }

    /// [`Inference::absorb`] for an item parsed as [`Lite`].
    pub(crate) fn absorb_lite(&mut self, item: &[(std::borrow::Cow<'_, str>, Lite<'_>)]) {
        self.items += 1;
        let mut props = None;
        for (k, v) in item {
            if k == "properties" {
                props = Some(v);
                continue;
            }
            if !CORE_COLUMNS.contains(&k.as_ref()) {
                continue;
            }
            let role = match k.as_ref() {
                "geometry" => Role::Geometry,
                "bbox" => Role::Bbox,
                "assets" => Role::Assets,
                _ => Role::Plain,
            };
            self.root.field(k, role).absorb_lite(v);
        }
        if let Some(Lite::O(p)) = props {
            for (k, v) in p {
                if colliding_property(k) {
                    continue;
                }
                let role = if k == "proj:geometry" {
                    Role::Geometry
                } else if DATETIME_PROPERTIES.contains(&k.as_ref()) {
                    Role::Datetime
                } else {
                    Role::Plain
                };
                self.root.field(k, role).absorb_lite(v);
            }
        }
    }

    pub(crate) fn finish(self) -> Layout {
        let mut columns = Vec::new();
        let mut empty_assets = false;
        let mut geometry_types = BTreeSet::new();
        let find = |name: &str| self.root.index.get(name).map(|i| &self.root.fields[*i].1);
        let core_names = CORE_COLUMNS;
        for name in core_names {
            let node = find(name);
            let absent = self
                .items
                .saturating_sub(node.map_or(0, |n| n.present + n.nulls));
            if name == "assets"
                && let Some(n) = node
                && n.objects == n.present
                && n.present == self.items
                && n.fields.is_empty()
                && self.items > 0
            {
                empty_assets = true;
                continue;
            }
            let default_node;
            let node = match node {
                Some(n) => n,
                None => {
                    // Required columns are written even when no item has them.
                    if !matches!(
                        name,
                        "stac_extensions" | "id" | "geometry" | "bbox" | "links"
                    ) {
                        continue;
                    }
                    default_node = Node::with_role(match name {
                        "geometry" => Role::Geometry,
                        "bbox" => Role::Bbox,
                        _ => Role::Plain,
                    });
                    &default_node
                }
            };
            if name == "geometry" {
                geometry_types.clone_from(&node.geom_types);
            }
            let mut plan = node.plan(name, absent);
            if name == "stac_extensions" && node.present == 0 {
                plan.plan = Plan::List(Box::new(FieldPlan {
                    name: "element".into(),
                    plan: Plan::Str,
                    explicit_nulls: true,
                    patches: false,
                }));
            }
            if name == "links" && node.present == 0 {
                plan.plan = Plan::List(Box::new(FieldPlan {
                    name: "element".into(),
                    plan: Plan::Struct(vec![
                        FieldPlan {
                            name: "href".into(),
                            plan: Plan::Str,
                            explicit_nulls: false,
                            patches: false,
                        },
                        FieldPlan {
                            name: "rel".into(),
                            plan: Plan::Str,
                            explicit_nulls: false,
                            patches: false,
                        },
                    ]),
                    explicit_nulls: true,
                    patches: false,
                }));
            }
            columns.push((Origin::Core, plan));
        }
        for (name, node) in &self.root.fields {
            if CORE_COLUMNS.contains(&name.as_str()) {
                continue;
            }
            let absent = self.items.saturating_sub(node.present + node.nulls);
            let plan = node.plan(name, absent);
            columns.push((Origin::Property, plan));
        }
        Layout {
            columns,
            empty_assets,
            geometry_types,
            items: self.items,
        }
    }
}
