//! Bbox reads of files whose covering boxes cross the antimeridian
//! (`xmin > xmax`, GeoParquet 1.1 / RFC 7946 section 5): the rows returned
//! equal a brute-force answer computed from how the rows were generated, and
//! files without such rows still prune row groups and pages.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StructArray};
use arrow_schema::{DataType, Field, Fields, Schema};
use geoparquet_io::reader::{ReadOptions, open_with};
use geoparquet_meta::BoundingBox;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use test_support::Rng;

/// A generated row: a horizontal segment at latitude `y` from `x0` eastward
/// to `x1`; when `x0 > x1` it goes east across 180 (its covering wraps).
#[derive(Debug, Clone, Copy)]
struct Row {
    x0: f64,
    x1: f64,
    y: f64,
}

impl Row {
    fn wraps(&self) -> bool {
        self.x0 > self.x1
    }

    /// Ground truth, from the construction alone: the longitudes the segment
    /// covers against the query's (either may cross the antimeridian).
    fn hits(&self, q: &BoundingBox) -> bool {
        let parts = |a: f64, b: f64| -> Vec<(f64, f64)> {
            if a > b {
                vec![(a, 180.0), (-180.0, b)]
            } else {
                vec![(a, b)]
            }
        };
        let x_hit = parts(self.x0, self.x1).iter().any(|r| {
            parts(q.xmin, q.xmax)
                .iter()
                .any(|s| r.0 <= s.1 && s.0 <= r.1)
        });
        x_hit && self.y >= q.ymin && self.y <= q.ymax
    }

    /// WKB of the segment; a wrapping one is written as the two points only
    /// (175 -> -175), as writers following RFC 7946 do.
    fn wkb(&self) -> Vec<u8> {
        let mut v = vec![1u8, 2, 0, 0, 0, 2, 0, 0, 0];
        for x in [self.x0, self.x1] {
            v.extend_from_slice(&x.to_le_bytes());
            v.extend_from_slice(&self.y.to_le_bytes());
        }
        v
    }
}

/// Writes `rows` (ids = positions) with a `bbox` covering, in row groups of
/// `group` rows and pages of 10 rows; `file_bbox` is the `geo` bbox, if any.
fn write(path: &Path, rows: &[Row], group: usize, file_bbox: Option<[f64; 4]>) {
    let cov_fields = Fields::from(
        ["xmin", "ymin", "xmax", "ymax"]
            .map(|n| Field::new(n, DataType::Float64, false))
            .to_vec(),
    );
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("geometry", DataType::Binary, true),
        Field::new("bbox", DataType::Struct(cov_fields.clone()), true),
    ]));
    let col = |f: fn(&Row) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(rows.iter().map(f)))
    };
    let covering = StructArray::new(
        cov_fields,
        vec![col(|r| r.x0), col(|r| r.y), col(|r| r.x1), col(|r| r.y)],
        None,
    );
    let wkbs: Vec<Vec<u8>> = rows.iter().map(Row::wkb).collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from_iter_values(0..rows.len() as i64)),
            Arc::new(arrow_array::BinaryArray::from_iter_values(
                wkbs.iter().map(Vec::as_slice),
            )),
            Arc::new(covering),
        ],
    )
    .unwrap();
    let bbox = file_bbox.map_or(String::new(), |b| {
        format!(r#","bbox":[{},{},{},{}]"#, b[0], b[1], b[2], b[3])
    });
    let geo = format!(
        r#"{{"version":"1.1.0","primary_column":"geometry","columns":{{"geometry":{{"encoding":"WKB","geometry_types":["LineString"]{bbox},"covering":{{"bbox":{{"xmin":["bbox","xmin"],"ymin":["bbox","ymin"],"xmax":["bbox","xmax"],"ymax":["bbox","ymax"]}}}}}}}}}}"#
    );
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(group))
        .set_data_page_row_count_limit(10)
        .set_write_batch_size(10)
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(file, schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.append_key_value_metadata(parquet::file::metadata::KeyValue::new("geo".into(), geo));
    w.close().unwrap();
}

/// The ids a bbox read returns, sorted, and the scan statistics.
fn read_ids(path: &Path, q: &BoundingBox) -> (Vec<i64>, geoparquet_io::reader::ScanStats) {
    let options = ReadOptions::default().with_bbox(*q);
    let mut reader = open_with(path, options).unwrap();
    let mut ids = Vec::new();
    for batch in reader.by_ref() {
        let batch = batch.unwrap();
        let id = batch
            .column_by_name("id")
            .unwrap()
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        ids.extend(id.iter().flatten());
    }
    ids.sort_unstable();
    (ids, reader.stats())
}

fn truth(rows: &[Row], q: &BoundingBox) -> Vec<i64> {
    (0..rows.len() as i64)
        .filter(|&i| rows[i as usize].hits(q))
        .collect()
}

fn queries() -> Vec<BoundingBox> {
    vec![
        BoundingBox::new(178.0, -0.5, 179.0, 0.5),
        BoundingBox::new(-179.0, -0.5, -178.0, 0.5),
        BoundingBox::new(-1.0, -0.5, 1.0, 0.5),
        // Wrapping queries.
        BoundingBox::new(179.5, -2.0, -179.5, 2.0),
        BoundingBox::new(100.0, -30.0, -100.0, 30.0),
        BoundingBox::new(10.0, 0.0, 60.0, 50.0),
        BoundingBox::new(-60.0, -50.0, -10.0, 0.0),
        BoundingBox::new(170.0, 5.0, 180.0, 40.0),
        BoundingBox::new(-180.0, -40.0, -170.0, -5.0),
        BoundingBox::new(-180.0, -90.0, 180.0, 90.0),
    ]
}

/// The issue's reproducer: one LineString (175 -1, -175 1) with covering
/// [175, -1, -175, 1]; `extract --bbox 178,-0.5,179,0.5` returned 0 rows.
#[test]
fn a_lone_wrapping_row_is_found_on_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.parquet");
    let row = Row {
        x0: 175.0,
        x1: -175.0,
        y: 0.0,
    };
    // No bbox, a wrapping one, and one computed from the planar coordinates
    // (contradicted by the covering statistics: every row wraps).
    for file_bbox in [
        None,
        Some([175.0, 0.0, -175.0, 0.0]),
        Some([-175.0, 0.0, 175.0, 0.0]),
    ] {
        write(&path, &[row], 10, file_bbox);
        for q in queries() {
            let (ids, _) = read_ids(&path, &q);
            assert_eq!(ids, truth(&[row], &q), "{q:?} file bbox {file_bbox:?}");
        }
        let (ids, _) = read_ids(&path, &BoundingBox::new(178.0, -0.5, 179.0, 0.5));
        assert_eq!(ids, vec![0]);
    }
}

fn random_rows(rng: &mut Rng, n: usize, wrapping_every: usize) -> Vec<Row> {
    (0..n)
        .map(|i| {
            let y = -60.0 + 120.0 * rng.unit();
            if wrapping_every > 0 && i % wrapping_every == 0 {
                Row {
                    x0: 180.0 - 20.0 * rng.unit(),
                    x1: -180.0 + 20.0 * rng.unit(),
                    y,
                }
            } else {
                let x0 = -179.0 + 340.0 * rng.unit();
                Row {
                    x0,
                    x1: x0 + 18.0 * rng.unit(),
                    y,
                }
            }
        })
        .collect()
}

/// Wrapping rows mixed with ordinary ones in the same row groups and pages,
/// in many row groups; the file's bbox spans ±180, wraps or is absent.
#[test]
fn wrapping_rows_mixed_with_ordinary_ones_are_all_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.parquet");
    let mut rng = Rng::new(14);
    for (case, wrapping_every, group) in [(0, 7, 40), (1, 3, 25), (2, 1, 30), (3, 50, 100)] {
        let rows = random_rows(&mut rng, 400, wrapping_every);
        assert!(rows.iter().filter(|r| r.wraps()).count() >= 400 / wrapping_every);
        for file_bbox in [None, Some([-180.0, -60.0, 180.0, 60.0])] {
            write(&path, &rows, group, file_bbox);
            for q in queries() {
                let (ids, _) = read_ids(&path, &q);
                assert_eq!(ids, truth(&rows, &q), "case {case} {q:?} {file_bbox:?}");
            }
        }
    }
    // Only wrapping rows, sorted by latitude: a wrapping file bbox, and row
    // groups pruned by their (wrapping) boxes, never losing a row.
    let mut rows = random_rows(&mut rng, 300, 1);
    rows.sort_by(|a, b| a.y.total_cmp(&b.y));
    write(&path, &rows, 30, Some([160.0, -60.0, -160.0, 60.0]));
    for q in queries() {
        let (ids, _) = read_ids(&path, &q);
        assert_eq!(ids, truth(&rows, &q), "all wrapping {q:?}");
    }
    let (_, stats) = read_ids(&path, &BoundingBox::new(-1.0, -50.0, 1.0, 50.0));
    assert_eq!(stats.row_groups_read, 0, "{stats:?}");
    let (_, stats) = read_ids(&path, &BoundingBox::new(170.0, 0.0, 171.0, 1.0));
    assert!(stats.row_groups_read < stats.row_groups_total, "{stats:?}");
}

/// Ordinary rows sorted west to east, with a bbox short of ±180: row groups
/// and pages are still skipped on X (the rule that rows may wrap does not
/// apply), and the result equals the brute force.
#[test]
fn ordinary_files_still_prune_on_x() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sorted.parquet");
    let mut rng = Rng::new(15);
    let mut rows = random_rows(&mut rng, 1000, 0);
    rows.sort_by(|a, b| a.x0.total_cmp(&b.x0));
    let ext = rows
        .iter()
        .fold([f64::MAX, f64::MAX, f64::MIN, f64::MIN], |e, r| {
            [e[0].min(r.x0), e[1].min(r.y), e[2].max(r.x1), e[3].max(r.y)]
        });
    assert!(ext[0] > -180.0 && ext[2] < 180.0);
    write(&path, &rows, 100, Some(ext));
    // A narrow band of longitudes over all latitudes: only X can prune.
    let q = BoundingBox::new(0.0, -90.0, 2.0, 90.0);
    let (ids, stats) = read_ids(&path, &q);
    assert_eq!(ids, truth(&rows, &q));
    assert!(!ids.is_empty());
    assert!(stats.row_groups_read <= 2, "{stats:?}");
    assert!(stats.rows_skipped_by_pages > 0, "{stats:?}");
    assert_eq!(stats.row_groups_probed, 0, "{stats:?}");
    // The same file with a bbox reaching ±180 (rows may wrap): the row groups
    // that only the possibility of wrapping would keep have their xmin/xmax
    // columns read, show no wrapping row, and are pruned as before.
    write(&path, &rows, 100, Some([-180.0, -60.0, 180.0, 60.0]));
    let (ids, wide) = read_ids(&path, &q);
    assert_eq!(ids, truth(&rows, &q));
    assert!(wide.row_groups_probed >= 9, "{wide:?}");
    assert_eq!(wide.row_groups_read, stats.row_groups_read, "{wide:?}");
    assert_eq!(
        wide.rows_skipped_by_pages, stats.rows_skipped_by_pages,
        "{wide:?}"
    );
    // One wrapping row in the last row group: that group is read, not probed away.
    let mut with_one = rows.clone();
    let last = with_one.len() - 1;
    with_one[last] = Row {
        x0: 179.0,
        x1: -179.0,
        y: 0.0,
    };
    write(&path, &with_one, 100, Some([-180.0, -60.0, 180.0, 60.0]));
    let edge = BoundingBox::new(-179.5, -1.0, -179.2, 1.0);
    let (ids, s) = read_ids(&path, &edge);
    assert_eq!(ids, truth(&with_one, &edge));
    assert!(ids.contains(&(last as i64)), "{s:?}");
    rows.sort_by(|a, b| a.y.total_cmp(&b.y));
    write(&path, &rows, 100, Some([-180.0, -60.0, 180.0, 60.0]));
    let q = BoundingBox::new(-180.0, 10.0, 180.0, 12.0);
    let (ids, stats) = read_ids(&path, &q);
    assert_eq!(ids, truth(&rows, &q));
    assert!(stats.row_groups_read <= 2, "{stats:?}");
}

/// A wrapping covering row under a `geo` bbox that reaches neither +180 nor
/// -180 (computed from the planar coordinates) is a `bbox_mismatch` error
/// naming the row: readers trusting the bbox prune the row away. Under a
/// wrapping bbox, or one spanning -180..180, the same row is valid.
#[test]
fn validate_flags_a_wrapping_row_under_a_bbox_short_of_the_antimeridian() {
    use geoparquet_io::{ValidateOptions, validate};
    use geoparquet_meta::validate::{Code, Severity};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wrap.parquet");
    let plain = |x0: f64, x1: f64, y: f64| Row { x0, x1, y };
    // Row 2 wraps: 175 -> -175 at latitude 1.
    let rows = [
        plain(-170.0, -160.0, -1.0),
        plain(160.0, 170.0, 0.0),
        plain(175.0, -175.0, 1.0),
    ];
    write(&path, &rows, 10, Some([-175.0, -1.0, 175.0, 1.0]));
    let report = validate(&path, &ValidateOptions::default()).unwrap();
    assert!(!report.is_valid(), "{:?}", report.findings);
    let errors: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let f = errors[0];
    assert_eq!(f.code, Code::BboxMismatch);
    assert_eq!(f.count, Some(1));
    assert_eq!(f.rows, vec![2]);
    let text = f.to_string();
    assert!(text.contains("row 2"), "{text}");
    assert!(text.contains("antimeridian"), "{text}");

    for file_bbox in [[160.0, -1.0, -160.0, 1.0], [-180.0, -1.0, 180.0, 1.0]] {
        write(&path, &rows, 10, Some(file_bbox));
        let report = validate(&path, &ValidateOptions::default()).unwrap();
        assert!(
            report.is_valid(),
            "bbox {file_bbox:?}: {:?}",
            report.findings
        );
    }
}
