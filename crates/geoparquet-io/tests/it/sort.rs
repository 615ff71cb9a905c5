//! `sort`: in memory and external (spilled runs) give the same order, rows
//! are kept, spatial overlap drops, column keys order as documented; the
//! `ExternalSorter` on its own.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, BinaryArray, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use geoparquet_io::reader::open;
use geoparquet_io::sort::{
    ExternalSorter, MIN_SORT_MEMORY, RowKeys, SortKey, SortOptions, hilbert, hilbert_with_bits,
    sort_file, spatial_overlap,
};
use geoparquet_io::writer::{WriterOptions, write_file};

fn point(x: f64, y: f64) -> Vec<u8> {
    let mut v = vec![1u8, 1, 0, 0, 0];
    v.extend_from_slice(&x.to_le_bytes());
    v.extend_from_slice(&y.to_le_bytes());
    v
}

/// `n` pseudo-random points (seeded), ids 0..n, with every 7th id null and
/// every 11th geometry null; row groups of 1000 rows.
pub(crate) fn random_points(path: &Path, n: usize) {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("geometry", DataType::Binary, true),
    ]));
    let mut batches = Vec::new();
    for start in (0..n).step_by(4096) {
        let end = (start + 4096).min(n);
        let ids: Vec<Option<i64>> = (start..end)
            .map(|i| (i % 7 != 3).then_some(i64::try_from(i).unwrap()))
            .collect();
        let names: Vec<String> = (start..end)
            .map(|i| format!("n{:05}", (i * 7919) % n))
            .collect();
        let geoms: Vec<Option<Vec<u8>>> = (start..end)
            .map(|i| {
                let (x, y) = (next() * 360.0 - 180.0, next() * 170.0 - 85.0);
                (i % 11 != 5).then(|| point(x, y))
            })
            .collect();
        batches.push(Ok(RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(ids)),
                Arc::new(StringArray::from(names)),
                Arc::new(BinaryArray::from(
                    geoms.iter().map(|g| g.as_deref()).collect::<Vec<_>>(),
                )),
            ],
        )
        .unwrap()));
    }
    let options = WriterOptions::default().with_row_group_rows(1000);
    write_file(path, schema, batches, None, &options).unwrap();
}

/// (id, name, wkb) of every row, in file order.
fn rows(path: &Path) -> Vec<(Option<i64>, String, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    for b in open(path).unwrap() {
        let b = b.unwrap();
        let id = b
            .column_by_name("id")
            .unwrap()
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .clone();
        let name = b
            .column_by_name("name")
            .unwrap()
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap()
            .clone();
        let g = b
            .column_by_name("geometry")
            .unwrap()
            .as_any()
            .downcast_ref::<BinaryArray>()
            .unwrap()
            .clone();
        for i in 0..b.num_rows() {
            out.push((
                id.is_valid(i).then(|| id.value(i)),
                name.value(i).to_owned(),
                g.is_valid(i).then(|| g.value(i).to_vec()),
            ));
        }
    }
    out
}

#[test]
fn external_sort_equals_in_memory_sort_and_keeps_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.parquet");
    random_points(&input, 30_000);
    let mut options =
        SortOptions::default().with_writer(WriterOptions::default().with_row_group_rows(1000));
    let in_memory = dir.path().join("mem.parquet");
    let s1 = sort_file(&input, &in_memory, &options).unwrap();
    assert_eq!(s1.runs, 0);
    options.memory = 1 << 20; // forces several runs
    options.temp_dir = Some(dir.path().to_path_buf());
    let external = dir.path().join("ext.parquet");
    let s2 = sort_file(&input, &external, &options).unwrap();
    assert!(s2.runs > 1, "{} runs", s2.runs);
    assert_eq!(s2.written.rows, 30_000);
    let (a, b) = (rows(&in_memory), rows(&external));
    assert_eq!(a, b);
    let mut before = rows(&input);
    let mut after = a;
    // Null geometries go last.
    assert!(after[after.len() - 1].2.is_none());
    before.sort();
    after.sort();
    assert_eq!(before, after);
    // Row groups became spatially compact.
    let (o0, o1) = (s2.overlap_before.unwrap(), s2.overlap_after.unwrap());
    assert!(o0 > 0.9 && o1 < 0.3, "overlap {o0} -> {o1}");
    assert_eq!(spatial_overlap(&external).unwrap(), Some(o1));
    // No spilled run is left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".geoquet-sort-run-")
        })
        .collect();
    assert!(left.is_empty());
    assert!(
        geoparquet_io::validate(&external, &Default::default())
            .unwrap()
            .is_valid()
    );
}

#[test]
fn column_keys_sort_ascending_with_nulls_last() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.parquet");
    random_points(&input, 5000);
    for memory in [usize::MAX / 4, 1 << 20] {
        let options = SortOptions::default()
            .with_key(SortKey::Column("id".into()))
            .with_memory(memory)
            .with_temp_dir(Some(dir.path().to_path_buf()));
        let out = dir.path().join("by-id.parquet");
        sort_file(&input, &out, &options).unwrap();
        let ids: Vec<Option<i64>> = rows(&out).into_iter().map(|r| r.0).collect();
        let firsts: Vec<i64> = ids.iter().flatten().copied().collect();
        assert!(firsts.windows(2).all(|w| w[0] <= w[1]));
        let first_null = ids.iter().position(Option::is_none).unwrap();
        assert!(ids[first_null..].iter().all(Option::is_none));
        let options = options.with_key(SortKey::Column("name".into()));
        sort_file(&input, &out, &options).unwrap();
        let names: Vec<String> = rows(&out).into_iter().map(|r| r.1).collect();
        assert!(names.windows(2).all(|w| w[0] <= w[1]));
    }
    let bad = SortOptions::default().with_key(SortKey::Column("nope".into()));
    let err = sort_file(&input, &dir.path().join("x.parquet"), &bad).unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    assert!(!dir.path().join("x.parquet").exists());
}

#[test]
fn hilbert_visits_the_quadrants_in_a_u() {
    let h = 1u64 << 30; // half the grid
    let (a, b, c, d) = (hilbert(0, 0), hilbert(0, h), hilbert(h, h), hilbert(h, 0));
    assert!(a < b && b < c && c < d, "{a} {b} {c} {d}");
    // Neighbouring cells along the curve are adjacent: the first 16 cells of
    // the curve fill the 4x4 corner.
    let mut cells: Vec<(u64, u64, u64)> = (0..4)
        .flat_map(|x| (0..4).map(move |y| (hilbert(x, y), x, y)))
        .collect();
    cells.sort_unstable();
    assert_eq!(cells.last().unwrap().0, 15);
    for w in cells.windows(2) {
        let dist = w[0].1.abs_diff(w[1].1) + w[0].2.abs_diff(w[1].2);
        assert_eq!(dist, 1, "{w:?}");
    }
}

/// A damaged data page reached by the library's `sort_file` and `check_file`
/// (the row-group boxes of a file without covering or statistics come from
/// its data) is an error naming the file, not a bare Parquet error.
#[test]
fn a_damaged_page_is_an_error_naming_the_file_in_sort_and_check() {
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.parquet");
    let schema = Arc::new(Schema::new(vec![Field::new(
        "geometry",
        DataType::Binary,
        true,
    )]));
    let geoms: Vec<Vec<u8>> = (0..100).map(|i| point(f64::from(i), 0.0)).collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(BinaryArray::from_iter_values(
            geoms.iter().map(Vec::as_slice),
        ))],
    )
    .unwrap();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(50))
        .build();
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.append_key_value_metadata(parquet::file::metadata::KeyValue::new(
        "geo".into(),
        r#"{"version":"1.0.0","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":["Point"]}}}"#.to_string(),
    ));
    w.close().unwrap();
    // Sound, the file sorts and checks.
    let out = dir.path().join("sorted.parquet");
    sort_file(&path, &out, &SortOptions::default()).unwrap();
    geoparquet_io::check::check_file(&path).unwrap();

    // Damage the page header of row group 1's geometry chunk.
    let footer = geoparquet_io::read_footer(&path).unwrap();
    let offset = footer
        .metadata
        .unwrap()
        .row_group(1)
        .column(0)
        .data_page_offset();
    let mut bytes = std::fs::read(&path).unwrap();
    let start = usize::try_from(offset).unwrap();
    for b in &mut bytes[start..start + 24] {
        *b = 0xff;
    }
    std::fs::write(&path, &bytes).unwrap();
    let name = path.display().to_string();
    let sorted = sort_file(&path, &out, &SortOptions::default());
    let checked = geoparquet_io::check::check_file(&path);
    for (what, e) in [("sort", sorted.err()), ("check", checked.err())] {
        let e = e.unwrap_or_else(|| panic!("{what}: no error"));
        assert!(
            matches!(
                e,
                geoparquet_io::Error::CorruptData {
                    row_group: Some(1),
                    ..
                }
            ),
            "{what}: {e:?}"
        );
        let text = e.to_string();
        assert!(text.contains(&name), "{what}: {text}");
        assert!(text.contains("row group 1"), "{what}: {text}");
    }
}

fn id_batch(ids: std::ops::Range<i64>) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from_iter_values(ids))]).unwrap()
}

fn ids_of(sorter: ExternalSorter, rows: usize) -> Vec<i64> {
    let mut out = Vec::new();
    for b in sorter.finish().unwrap() {
        let b = b.unwrap();
        assert!(b.num_rows() <= rows);
        let ids = b
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .values()
            .to_vec();
        out.extend(ids);
    }
    out
}

/// Many ties across many spilled runs: the order is the stable sort of the
/// keys (ties in push order), the same as in memory, every row once.
#[test]
fn external_sorter_spills_and_keeps_ties_in_push_order() {
    let dir = tempfile::tempdir().unwrap();
    let schema = id_batch(0..0).schema();
    let key = |id: i64| (id.unsigned_abs() * 7919) % 97;
    let mut expected: Vec<(u64, i64)> = Vec::new();
    let mut spilled = ExternalSorter::new(schema.clone(), 0)
        .with_temp_dir(dir.path())
        .with_batch_rows(1000);
    let mut in_memory = ExternalSorter::new(schema, 1 << 30).with_batch_rows(1000);
    for b in 0..200i64 {
        let batch = id_batch(b * 1000..(b + 1) * 1000);
        let keys: Vec<u64> = (b * 1000..(b + 1) * 1000).map(key).collect();
        expected.extend((b * 1000..(b + 1) * 1000).map(|id| (key(id), id)));
        spilled
            .push(batch.clone(), RowKeys::from(keys.clone()))
            .unwrap();
        in_memory.push(batch, RowKeys::from(keys)).unwrap();
    }
    assert!(spilled.runs() > 2, "{} runs", spilled.runs());
    assert_eq!(in_memory.runs(), 0);
    expected.sort_by_key(|&(k, _)| k);
    let want: Vec<i64> = expected.into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids_of(spilled, 1000), want);
    assert_eq!(ids_of(in_memory, 1000), want);
    // The runs were unnamed files: nothing is left in the directory.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn external_sorter_orders_byte_keys_and_refuses_keys_that_do_not_fit() {
    let schema = id_batch(0..0).schema();
    let mut sorter = ExternalSorter::new(schema, MIN_SORT_MEMORY);
    let keys: Vec<Vec<u8>> = vec![b"b".to_vec(), b"ab".to_vec(), b"a".to_vec()];
    sorter.push(id_batch(0..3), RowKeys::from(keys)).unwrap();
    // One key per row.
    let e = sorter
        .push(id_batch(3..5), RowKeys::from(vec![b"z".to_vec()]))
        .unwrap_err();
    assert!(
        matches!(
            e,
            geoparquet_io::Error::SortKeysMismatch {
                rows: 2,
                keys: 1,
                ..
            }
        ),
        "{e:?}"
    );
    // Keys of one kind.
    let e = sorter
        .push(id_batch(3..4), RowKeys::from(vec![1u64]))
        .unwrap_err();
    assert!(
        matches!(e, geoparquet_io::Error::SortKeysMismatch { .. }),
        "{e:?}"
    );
    assert_eq!(ids_of(sorter, 8192), vec![2, 1, 0]);
}

#[test]
fn hilbert_keeps_its_orientation_per_resolution() {
    // The 31-bit curve is `hilbert`; on a 2^16 grid the same algorithm ends at
    // (2^16 - 1, 0), while the corner of the 31-bit grid is traversed transposed.
    assert_eq!(hilbert(12_345, 678), hilbert_with_bits(12_345, 678, 31));
    assert_eq!(hilbert_with_bits(65_535, 0, 16), (1u64 << 32) - 1);
    assert_eq!(hilbert_with_bits(0, 65_535, 31), (1u64 << 32) - 1);
    // Beyond the grid: clamped to its edge.
    assert_eq!(
        hilbert_with_bits(1 << 20, 0, 16),
        hilbert_with_bits(65_535, 0, 16)
    );
    assert_eq!(
        hilbert_with_bits(u64::MAX, 0, 64),
        hilbert_with_bits(u64::MAX, 0, 32)
    );
}
