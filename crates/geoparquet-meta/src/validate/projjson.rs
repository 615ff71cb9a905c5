//! Structural PROJJSON checks for the CRS objects found in `crs` keys.
//!
//! This follows the CRS definitions of the PROJJSON schema (v0.4 to v0.7:
//! required keys, allowed keys, the kinds of nested objects, `id`/`ids`
//! exclusivity, datum XOR datum ensemble). It does not evaluate a JSON Schema;
//! the integration tests compare its verdicts with the published schemas.

use serde_json::{Map, Value};

/// Collects problems as `"path: message"` strings.
struct Checker {
    problems: Vec<String>,
}

type Obj = Map<String, Value>;

const USAGE_KEYS: &[&str] = &[
    "$schema",
    "scope",
    "area",
    "bbox",
    "vertical_extent",
    "temporal_extent",
    "usages",
    "remarks",
    "id",
    "ids",
];

const CRS_TYPES: &[&str] = &[
    "BoundCRS",
    "CompoundCRS",
    "DerivedEngineeringCRS",
    "DerivedGeodeticCRS",
    "DerivedGeographicCRS",
    "DerivedParametricCRS",
    "DerivedProjectedCRS",
    "DerivedTemporalCRS",
    "DerivedVerticalCRS",
    "EngineeringCRS",
    "GeodeticCRS",
    "GeographicCRS",
    "ParametricCRS",
    "ProjectedCRS",
    "TemporalCRS",
    "VerticalCRS",
];

/// Checks that `value` is a PROJJSON CRS object; returns the problems found
/// (empty when it conforms).
pub(crate) fn check_crs(value: &Value) -> Vec<String> {
    let mut c = Checker {
        problems: Vec::new(),
    };
    c.crs("crs", value);
    c.problems
}

impl Checker {
    fn fail(&mut self, path: &str, msg: impl std::fmt::Display) {
        self.problems.push(format!("{path}: {msg}"));
    }

    fn object<'v>(&mut self, path: &str, v: &'v Value) -> Option<&'v Obj> {
        match v {
            Value::Object(m) => Some(m),
            _ => {
                self.fail(path, "must be an object");
                None
            }
        }
    }

    /// Required keys, allowed keys, optional `type` constant, id/ids exclusivity.
    fn shape(&mut self, path: &str, o: &Obj, types: &[&str], required: &[&str], allowed: &[&str]) {
        for r in required {
            if !o.contains_key(*r) {
                self.fail(path, format!("missing required \"{r}\""));
            }
        }
        for k in o.keys() {
            if k != "type" && !allowed.contains(&k.as_str()) {
                self.fail(path, format!("unexpected key \"{k}\""));
            }
        }
        if let Some(t) = o.get("type") {
            match t.as_str() {
                Some(s) if types.contains(&s) => {}
                _ => self.fail(path, format!("\"type\" must be one of {types:?}, got {t}")),
            }
        }
        if o.contains_key("id") && o.contains_key("ids") {
            self.fail(path, "\"id\" and \"ids\" are mutually exclusive");
        }
        if let Some(id) = o.get("id") {
            self.id(&format!("{path}.id"), id);
        }
        if let Some(ids) = o.get("ids") {
            match ids.as_array() {
                Some(a) => {
                    for (i, id) in a.iter().enumerate() {
                        self.id(&format!("{path}.ids[{i}]"), id);
                    }
                }
                None => self.fail(&format!("{path}.ids"), "must be an array"),
            }
        }
        for key in ["name", "$schema", "scope", "area", "remarks"] {
            if let Some(v) = o.get(key)
                && !v.is_string()
                && allowed.contains(&key)
            {
                self.fail(&format!("{path}.{key}"), "must be a string");
            }
        }
    }

    fn id(&mut self, path: &str, v: &Value) {
        let Some(o) = self.object(path, v) else {
            return;
        };
        self.shape(
            path,
            o,
            &[],
            &["authority", "code"],
            &["authority", "code", "version", "authority_citation", "uri"],
        );
        if o.get("authority").is_some_and(|a| !a.is_string()) {
            self.fail(path, "\"authority\" must be a string");
        }
        match o.get("code") {
            Some(Value::String(_)) | None => {}
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => {}
            Some(_) => self.fail(path, "\"code\" must be a string or an integer"),
        }
    }

    fn with_usage(extra: &[&'static str]) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = USAGE_KEYS.to_vec();
        v.extend_from_slice(extra);
        v
    }

    fn crs(&mut self, path: &str, v: &Value) {
        let Some(o) = self.object(path, v) else {
            return;
        };
        let Some(t) = o.get("type").and_then(Value::as_str) else {
            // Without a `type`, only a geodetic CRS can match the schema.
            self.geodetic_crs(path, o);
            return;
        };
        match t {
            "GeographicCRS" | "GeodeticCRS" => self.geodetic_crs(path, o),
            "ProjectedCRS"
            | "DerivedGeodeticCRS"
            | "DerivedGeographicCRS"
            | "DerivedProjectedCRS"
            | "DerivedVerticalCRS"
            | "DerivedEngineeringCRS"
            | "DerivedParametricCRS"
            | "DerivedTemporalCRS" => {
                self.shape(
                    path,
                    o,
                    &[t],
                    &["name", "base_crs", "conversion", "coordinate_system"],
                    &Self::with_usage(&["name", "base_crs", "conversion", "coordinate_system"]),
                );
                if let Some(b) = o.get("base_crs") {
                    self.crs(&format!("{path}.base_crs"), b);
                }
                if let Some(c) = o.get("conversion") {
                    self.conversion(&format!("{path}.conversion"), c);
                }
                if let Some(cs) = o.get("coordinate_system") {
                    self.coordinate_system(&format!("{path}.coordinate_system"), cs);
                }
            }
            "CompoundCRS" => {
                self.shape(
                    path,
                    o,
                    &[t],
                    &["name", "components"],
                    &Self::with_usage(&["name", "components"]),
                );
                match o.get("components").map(Value::as_array) {
                    Some(Some(a)) => {
                        for (i, c) in a.iter().enumerate() {
                            self.crs(&format!("{path}.components[{i}]"), c);
                        }
                    }
                    Some(None) => self.fail(path, "\"components\" must be an array"),
                    None => {}
                }
            }
            "BoundCRS" => {
                self.shape(
                    path,
                    o,
                    &[t],
                    &["source_crs", "target_crs", "transformation"],
                    &Self::with_usage(&["name", "source_crs", "target_crs", "transformation"]),
                );
                for k in ["source_crs", "target_crs"] {
                    if let Some(c) = o.get(k) {
                        self.crs(&format!("{path}.{k}"), c);
                    }
                }
                if let Some(tr) = o.get("transformation")
                    && let Some(to) = self.object(&format!("{path}.transformation"), tr)
                {
                    self.shape(
                        &format!("{path}.transformation"),
                        to,
                        &["AbridgedTransformation"],
                        &["name", "method", "parameters"],
                        &[
                            "$schema",
                            "name",
                            "source_crs",
                            "method",
                            "parameters",
                            "id",
                            "ids",
                        ],
                    );
                }
            }
            "VerticalCRS" => {
                self.shape(
                    path,
                    o,
                    &[t],
                    &["name"],
                    &Self::with_usage(&[
                        "name",
                        "datum",
                        "datum_ensemble",
                        "coordinate_system",
                        "geoid_model",
                        "geoid_models",
                        "deformation_models",
                    ]),
                );
                self.datum_xor_ensemble(path, o);
                if let Some(cs) = o.get("coordinate_system") {
                    self.coordinate_system(&format!("{path}.coordinate_system"), cs);
                }
            }
            "EngineeringCRS" | "ParametricCRS" | "TemporalCRS" => {
                self.shape(
                    path,
                    o,
                    &[t],
                    &["name", "datum"],
                    &Self::with_usage(&["name", "datum", "coordinate_system"]),
                );
                if let Some(d) = o.get("datum") {
                    self.object(&format!("{path}.datum"), d);
                }
                if let Some(cs) = o.get("coordinate_system") {
                    self.coordinate_system(&format!("{path}.coordinate_system"), cs);
                }
            }
            other => self.fail(
                path,
                format!("\"type\" \"{other}\" is not a CRS type (expected one of {CRS_TYPES:?})"),
            ),
        }
    }

    fn geodetic_crs(&mut self, path: &str, o: &Obj) {
        self.shape(
            path,
            o,
            &["GeodeticCRS", "GeographicCRS"],
            &["name"],
            &Self::with_usage(&[
                "name",
                "datum",
                "datum_ensemble",
                "coordinate_system",
                "deformation_models",
            ]),
        );
        self.datum_xor_ensemble(path, o);
        if let Some(d) = o.get("datum") {
            let p = format!("{path}.datum");
            if let Some(d) = self.object(&p, d) {
                let dynamic =
                    d.get("type").and_then(Value::as_str) == Some("DynamicGeodeticReferenceFrame");
                let mut required = vec!["name", "ellipsoid"];
                if dynamic {
                    required.push("frame_reference_epoch");
                }
                self.shape(
                    &p,
                    d,
                    &["GeodeticReferenceFrame", "DynamicGeodeticReferenceFrame"],
                    &required,
                    &Self::with_usage(&[
                        "name",
                        "anchor",
                        "anchor_epoch",
                        "ellipsoid",
                        "prime_meridian",
                        "frame_reference_epoch",
                        "deformation_model",
                    ]),
                );
                if let Some(e) = d.get("ellipsoid") {
                    self.ellipsoid(&format!("{p}.ellipsoid"), e);
                }
            }
        }
        if let Some(e) = o.get("datum_ensemble") {
            let p = format!("{path}.datum_ensemble");
            if let Some(e) = self.object(&p, e) {
                self.shape(
                    &p,
                    e,
                    &["DatumEnsemble"],
                    &["name", "members", "accuracy"],
                    &[
                        "$schema",
                        "name",
                        "members",
                        "ellipsoid",
                        "accuracy",
                        "id",
                        "ids",
                    ],
                );
                if e.get("members").is_some_and(|m| !m.is_array()) {
                    self.fail(&p, "\"members\" must be an array");
                }
                if e.get("accuracy").is_some_and(|a| !a.is_string()) {
                    self.fail(&p, "\"accuracy\" must be a string");
                }
                if let Some(el) = e.get("ellipsoid") {
                    self.ellipsoid(&format!("{p}.ellipsoid"), el);
                }
            }
        }
        if let Some(cs) = o.get("coordinate_system") {
            self.coordinate_system(&format!("{path}.coordinate_system"), cs);
        }
    }

    fn datum_xor_ensemble(&mut self, path: &str, o: &Obj) {
        match (o.contains_key("datum"), o.contains_key("datum_ensemble")) {
            (true, true) => self.fail(path, "has both \"datum\" and \"datum_ensemble\""),
            (false, false) => self.fail(path, "needs one of \"datum\" or \"datum_ensemble\""),
            _ => {}
        }
    }

    fn ellipsoid(&mut self, path: &str, v: &Value) {
        let Some(o) = self.object(path, v) else {
            return;
        };
        let sphere = o.contains_key("radius");
        let required: &[&str] = if sphere {
            &["name", "radius"]
        } else if o.contains_key("semi_minor_axis") {
            &["name", "semi_major_axis", "semi_minor_axis"]
        } else {
            &["name", "semi_major_axis", "inverse_flattening"]
        };
        self.shape(
            path,
            o,
            &["Ellipsoid"],
            required,
            &[
                "$schema",
                "name",
                "semi_major_axis",
                "semi_minor_axis",
                "inverse_flattening",
                "radius",
                "id",
                "ids",
            ],
        );
    }

    fn coordinate_system(&mut self, path: &str, v: &Value) {
        let Some(o) = self.object(path, v) else {
            return;
        };
        self.shape(
            path,
            o,
            &["CoordinateSystem"],
            &["subtype", "axis"],
            &["$schema", "name", "subtype", "axis", "id", "ids"],
        );
        const SUBTYPES: &[&str] = &[
            "Cartesian",
            "spherical",
            "ellipsoidal",
            "vertical",
            "ordinal",
            "parametric",
            "affine",
            "TemporalDateTime",
            "TemporalCount",
            "TemporalMeasure",
        ];
        if let Some(s) = o.get("subtype")
            && !s.as_str().is_some_and(|s| SUBTYPES.contains(&s))
        {
            self.fail(path, format!("unknown coordinate system subtype {s}"));
        }
        match o.get("axis").map(Value::as_array) {
            Some(Some(axes)) => {
                for (i, a) in axes.iter().enumerate() {
                    let p = format!("{path}.axis[{i}]");
                    if let Some(ao) = self.object(&p, a) {
                        self.shape(
                            &p,
                            ao,
                            &["Axis"],
                            &["name", "abbreviation", "direction"],
                            &[
                                "$schema",
                                "name",
                                "abbreviation",
                                "direction",
                                "meridian",
                                "unit",
                                "minimum_value",
                                "maximum_value",
                                "range_meaning",
                                "id",
                                "ids",
                            ],
                        );
                        if let Some(u) = ao.get("unit") {
                            self.unit(&format!("{p}.unit"), u);
                        }
                    }
                }
            }
            Some(None) => self.fail(path, "\"axis\" must be an array"),
            None => {}
        }
    }

    fn unit(&mut self, path: &str, v: &Value) {
        match v {
            Value::String(s) if ["metre", "degree", "unity"].contains(&s.as_str()) => {}
            Value::Object(o) => self.shape(
                path,
                o,
                &[
                    "LinearUnit",
                    "AngularUnit",
                    "ScaleUnit",
                    "TimeUnit",
                    "ParametricUnit",
                    "Unit",
                ],
                &["type", "name"],
                &["name", "conversion_factor", "id", "ids"],
            ),
            _ => self.fail(
                path,
                "must be \"metre\", \"degree\", \"unity\" or a unit object",
            ),
        }
    }

    fn conversion(&mut self, path: &str, v: &Value) {
        let Some(o) = self.object(path, v) else {
            return;
        };
        self.shape(
            path,
            o,
            &["Conversion"],
            &["name", "method"],
            &["$schema", "name", "method", "parameters", "id", "ids"],
        );
        if let Some(m) = o.get("method") {
            let p = format!("{path}.method");
            if let Some(mo) = self.object(&p, m) {
                self.shape(
                    &p,
                    mo,
                    &["OperationMethod"],
                    &["name"],
                    &["$schema", "name", "id", "ids"],
                );
            }
        }
        match o.get("parameters").map(Value::as_array) {
            Some(Some(ps)) => {
                for (i, pv) in ps.iter().enumerate() {
                    let p = format!("{path}.parameters[{i}]");
                    if let Some(po) = self.object(&p, pv) {
                        self.shape(
                            &p,
                            po,
                            &["ParameterValue"],
                            &["name", "value"],
                            &["$schema", "name", "value", "unit", "id", "ids"],
                        );
                        if po
                            .get("value")
                            .is_some_and(|v| !(v.is_string() || v.is_number()))
                        {
                            self.fail(&p, "\"value\" must be a string or a number");
                        }
                        if let Some(u) = po.get("unit") {
                            self.unit(&format!("{p}.unit"), u);
                        }
                    }
                }
            }
            Some(None) => self.fail(path, "\"parameters\" must be an array"),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crs::{Crs, ogc_crs84_projjson};
    use serde_json::json;

    #[test]
    fn built_crs_conform() {
        assert_eq!(check_crs(&ogc_crs84_projjson()), Vec::<String>::new());
        for code in [4326, 3857, 32601, 32660, 32718] {
            let crs = Crs::from_epsg(code).unwrap();
            assert_eq!(
                check_crs(crs.projjson().unwrap()),
                Vec::<String>::new(),
                "{code}"
            );
        }
    }

    #[test]
    fn stubs_fail() {
        // The official corpus' crs-invalid-projjson.
        let stub = json!({"id": {"authority": "XYZ", "code": 999}, "name": "Not a real CRS"});
        assert!(!check_crs(&stub).is_empty());
        let no_name = json!({"type": "GeographicCRS", "datum_ensemble": {"name": "x", "members": [], "accuracy": "1"}});
        assert!(check_crs(&no_name).iter().any(|p| p.contains("\"name\"")));
        let extra = json!({"type": "GeographicCRS", "name": "x", "datum": {"name": "d", "ellipsoid": {"name": "e", "radius": 1}}, "color": "red"});
        assert!(check_crs(&extra).iter().any(|p| p.contains("color")));
        assert!(!check_crs(&json!("EPSG:4326")).is_empty());
        assert!(!check_crs(&json!({"type": "Ellipsoid", "name": "x"})).is_empty());
    }
}
