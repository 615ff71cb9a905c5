//! Every layout and format, written and read back.

use std::io::Cursor;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use parquet::file::reader::{FileReader, SerializedFileReader};
use sliderule_export::output::ParseOptions;
use sliderule_export::records::{Atl03Extent, Atl08Record, Atl08Vegetation};
use sliderule_export::stream::decode;
use sliderule_export::{
    Delivery, ExportOptions, Exporter, Format, OutputParams, RecordKind, ServerInfo, export,
    export_to_path,
};

use crate::support::{atl03_extents, key, read_batches};

fn fixed_server() -> ServerInfo {
    ServerInfo {
        launch: "2026-01-01T00:00:00Z".into(),
        ..ServerInfo::default()
    }
}

#[test]
fn atl03_flattened_round_trips_and_row_groups_keep_records_whole() {
    let extents = atl03_extents(200);
    let tmp = tempfile::tempdir().unwrap();
    for format in [Format::GeoParquet, Format::Parquet] {
        let path = tmp.path().join(format!("atl03.{}", format.as_str()));
        let options = ExportOptions::default()
            .with_format(format)
            .with_max_rows_in_group(Some(100));
        let s = export_to_path(&path, extents.iter().cloned().map(Ok), options).unwrap();
        let total: usize = extents.iter().map(|e| e.photons.len()).sum();
        assert_eq!(s.rows as usize, total);
        let (schema, batches) = read_batches(&path);
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(
            names,
            RecordKind::Atl03.column_order(format == Format::GeoParquet)
        );
        // Reader batches may cut an extent in two: merge neighbours with one id.
        let mut back: Vec<Atl03Extent> = Vec::new();
        for e in batches
            .iter()
            .flat_map(|b| Atl03Extent::from_batch(b, "ours").unwrap())
        {
            match back.last_mut() {
                Some(last) if last.extent_id == e.extent_id => last.photons.extend(e.photons),
                _ => back.push(e),
            }
        }
        assert_eq!(back.len(), extents.len());
        assert!(back == extents, "records differ after the round trip");
        // Row groups: flushed at >= 100 rows, never splitting an extent.
        let r = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        let mut bounds = vec![0usize];
        let mut acc = 0;
        for e in &extents {
            acc += e.photons.len();
            bounds.push(acc);
        }
        let mut at = 0usize;
        for rg in r.metadata().row_groups() {
            let n = usize::try_from(rg.num_rows()).unwrap();
            at += n;
            assert!(bounds.contains(&at), "row group ends inside an extent");
            assert!(n >= 100 || at == total);
            assert!(n < 100 + 12);
        }
        assert_eq!(s.row_groups, r.metadata().num_row_groups());
        assert_eq!(
            key(&path, "recordinfo").unwrap(),
            format!(
                "{{ \"time\": \"time\", \"as_geo\": {}, \"x\": \"longitude\", \"y\": \"latitude\" }}",
                format == Format::GeoParquet
            )
        );
    }
}

#[test]
fn atl03_compact_layout_one_row_per_extent() {
    let extents = atl03_extents(50);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("compact.parquet");
    let options = ExportOptions::default().with_compact_atl03(true);
    export_to_path(&path, extents.iter().cloned().map(Ok), options).unwrap();
    let (schema, batches) = read_batches(&path);
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 50);
    assert!(schema.field_with_name("photons").is_ok());
    let b = &batches[0];
    let photons = b.column_by_name("photons").unwrap().as_list::<i32>();
    assert_eq!(photons.value(3).len(), extents[3].photons.len());
    let geo: serde_json::Value = serde_json::from_str(&key(&path, "geo").unwrap()).unwrap();
    assert_eq!(
        geo["columns"]["geometry"]["geometry_types"][0],
        "MultiPoint"
    );
    assert!(geoparquet_io::validate_footer(&path).unwrap().is_valid());
}

fn atl08_records() -> Vec<Atl08Record> {
    (0..3)
        .map(|r| Atl08Record {
            vegetation: (0..4)
                .map(|i| Atl08Vegetation {
                    extent_id: 0x2 | ((r * 4 + i) << 2),
                    time: 1_600_000_000_000_000_000 + i64::try_from(i).unwrap() * 256,
                    latitude: 40.0 + i as f64 * 0.01,
                    longitude: -105.0,
                    canopy_h_metrics: std::array::from_fn(|k| k as f32 * 0.5 + r as f32),
                    h_canopy: 12.5,
                    ..Atl08Vegetation::default()
                })
                .collect(),
        })
        .collect()
}

#[test]
fn atl08_round_trips_with_twenty_metrics() {
    let tmp = tempfile::tempdir().unwrap();
    let recs = atl08_records();
    for format in [Format::GeoParquet, Format::Parquet] {
        let path = tmp.path().join(format!("atl08.{}", format.as_str()));
        export_to_path(
            &path,
            recs.iter().cloned().map(Ok),
            ExportOptions::default().with_format(format),
        )
        .unwrap();
        let (schema, batches) = read_batches(&path);
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(
            names,
            RecordKind::Atl08.column_order(format == Format::GeoParquet)
        );
        let back: Vec<Atl08Vegetation> = batches
            .iter()
            .flat_map(|b| Atl08Vegetation::from_batch(b, "ours").unwrap())
            .collect();
        let all: Vec<Atl08Vegetation> = recs.iter().flat_map(|r| r.vegetation.clone()).collect();
        assert_eq!(back, all);
        let pandas = key(&path, "pandas").unwrap();
        assert!(pandas.contains(r#"{"name": "canopy_h_metrics", "field_name": "canopy_h_metrics", "pandas_type": "bytes", "numpy_type": "object", "metadata": null}"#));
    }
}

#[test]
fn feather_and_csv_with_sidecars() {
    let tmp = tempfile::tempdir().unwrap();
    let recs = atl08_records();
    let feather = tmp.path().join("veg.feather");
    let s = export_to_path(
        &feather,
        recs.iter().cloned().map(Ok),
        ExportOptions::default().with_format(Format::Feather),
    )
    .unwrap();
    assert_eq!(s.rows, 12);
    let side: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("veg_metadata.json")).unwrap())
            .unwrap();
    // Values are JSON strings holding JSON (double-encoded), as SlideRule writes them.
    let ri: serde_json::Value = serde_json::from_str(side["recordinfo"].as_str().unwrap()).unwrap();
    assert_eq!(ri["as_geo"], false);
    assert!(side["sliderule"].is_string());
    let reader =
        arrow_ipc::reader::FileReader::try_new(std::fs::File::open(&feather).unwrap(), None)
            .unwrap();
    let schema = reader.schema();
    assert_eq!(schema.field(0).name(), "h_canopy");
    assert!(schema.metadata().contains_key("sliderule"));
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 12);

    let csv = tmp.path().join("veg.csv");
    export_to_path(
        &csv,
        recs.iter().cloned().map(Ok),
        ExportOptions::default().with_format(Format::Csv),
    )
    .unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        RecordKind::Atl08.column_order(false).join(",")
    );
    let first = lines.next().unwrap();
    assert!(first.starts_with("12.5,0,0,0,0,0,\"[0, 0.5, 1,"), "{first}");
    assert!(first.contains("2020-09-13T12:26:40.000000000"), "{first}");
    assert_eq!(text.lines().count(), 13);
    assert!(tmp.path().join("veg_metadata.json").exists());
}

#[test]
fn streamed_output_decodes_to_the_same_file() {
    let params = OutputParams::parse(
        r#"{"path": "atl03.parquet", "format": "parquet", "with_checksum": true}"#,
        ParseOptions::default(),
    )
    .unwrap()
    .params;
    let extents = atl03_extents(30);
    let options = ExportOptions::from_output(&params).with_server(fixed_server());
    let mut framed = Vec::new();
    let done = export(
        extents.iter().cloned().map(Ok),
        &params,
        options.clone(),
        Some(&mut framed),
    )
    .unwrap();
    let Some(Delivery::Streamed {
        name,
        size,
        checksum,
    }) = done.delivery
    else {
        panic!("not streamed: {:?}", done.delivery)
    };
    assert_eq!(name, "atl03.parquet");
    let decoded = decode(Cursor::new(&framed)).unwrap();
    assert_eq!(decoded.files.len(), 1);
    let f = &decoded.files[0];
    assert_eq!((f.size, f.checksum), (size, Some(checksum)));
    // The same records built directly give the same bytes.
    let mut direct = Vec::new();
    let mut ex = Exporter::try_new(&mut direct, RecordKind::Atl03, options).unwrap();
    for e in &extents {
        ex.push(e).unwrap();
    }
    ex.finish().unwrap();
    assert_eq!(f.bytes, direct);
}

#[test]
fn wrong_record_kind_is_an_error() {
    let mut out = Vec::new();
    let mut ex = Exporter::try_new(&mut out, RecordKind::Atl06, ExportOptions::default()).unwrap();
    let err = ex.push(&atl03_extents(1)[0]).unwrap_err();
    assert!(
        err.to_string()
            .contains("atl03rec record given to an export of atl06rec"),
        "{err}"
    );
}

#[test]
fn failed_build_leaves_no_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("never.parquet");
    let records = vec![
        Ok(atl03_extents(1).remove(0)),
        Err(sliderule_export::Error::InvalidRecord {
            row: 1,
            field: "time".into(),
            message: "bad".into(),
        }),
    ];
    assert!(export_to_path(&path, records, ExportOptions::default()).is_err());
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn covering_column_is_valid_geoparquet_1_1() {
    let tmp = tempfile::tempdir().unwrap();
    for compact in [false, true] {
        let path = tmp.path().join(format!("cov_{compact}.parquet"));
        let options = ExportOptions::default()
            .with_covering(true)
            .with_compact_atl03(compact);
        export_to_path(&path, atl03_extents(40).into_iter().map(Ok), options).unwrap();
        let (schema, batches) = read_batches(&path);
        assert_eq!(schema.fields().last().unwrap().name(), "bbox");
        let report = geoparquet_io::validate_footer(&path).unwrap();
        assert!(report.is_valid(), "{report:?}");
        let geo: serde_json::Value = serde_json::from_str(&key(&path, "geo").unwrap()).unwrap();
        assert_eq!(
            geo["columns"]["geometry"]["covering"]["bbox"]["xmin"],
            serde_json::json!(["bbox", "xmin"])
        );
        // Each row's box holds its geometry: for points, the point itself.
        let b = batches[0].column_by_name("bbox").unwrap().as_struct();
        let xmin = b
            .column(0)
            .as_primitive::<arrow_array::types::Float64Type>()
            .value(0);
        let xmax = b
            .column(2)
            .as_primitive::<arrow_array::types::Float64Type>()
            .value(0);
        assert!(xmin <= xmax);
        // The pandas metadata lists the covering column too.
        assert!(key(&path, "pandas").unwrap().contains(r#"{"name": "bbox""#));
    }
}

#[cfg(feature = "async")]
#[tokio::test]
async fn async_framing_equals_sync_framing() {
    let file: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let mut sync_out = Vec::new();
    sliderule_export::stream::write_file(
        &mut sync_out,
        "f.parquet",
        &file[..],
        file.len() as u64,
        true,
        4096,
    )
    .unwrap();
    let mut async_out: Vec<u8> = Vec::new();
    sliderule_export::stream::write_file_async(
        &mut async_out,
        "f.parquet",
        &file[..],
        file.len() as u64,
        true,
        4096,
    )
    .await
    .unwrap();
    assert_eq!(sync_out, async_out);
}

/// A sort that spills runs (a small memory cap) writes the same bytes as one
/// that holds every row in memory: equal keys keep arrival order either way.
#[test]
fn spilled_sorts_write_the_bytes_of_in_memory_sorts() {
    use sliderule_export::sort::SortBy;
    let tmp = tempfile::tempdir().unwrap();
    let mut extents = atl03_extents(6000);
    extents.reverse();
    let total: usize = extents.iter().map(|e| e.photons.len()).sum();
    for (by, format) in [
        (SortBy::Time, Format::GeoParquet),
        (SortBy::Hilbert, Format::Parquet),
        (SortBy::Hilbert, Format::Feather),
    ] {
        let mut files = Vec::new();
        for memory in [usize::MAX / 4, 0] {
            let path = tmp
                .path()
                .join(format!("{by}-{memory}.{}", format.as_str()));
            let options = ExportOptions::default()
                .with_format(format)
                .with_sort(Some(by))
                .with_sort_memory(memory)
                .with_max_rows_in_group(Some(7000))
                .with_server(fixed_server());
            let s = export_to_path(&path, extents.iter().cloned().map(Ok), options).unwrap();
            assert_eq!(s.rows as usize, total);
            if memory == 0 {
                assert!(s.sort_runs > 1, "{by} {format:?}: {} runs", s.sort_runs);
            } else {
                assert_eq!(s.sort_runs, 0);
            }
            files.push(std::fs::read(&path).unwrap());
        }
        assert!(files[0] == files[1], "{by} {format:?}: the files differ");
    }
}

#[test]
fn sorted_exports_hold_every_row_in_order() {
    use sliderule_export::sort::SortBy;
    let tmp = tempfile::tempdir().unwrap();
    // Extents in reverse time order, so arrival order is far from sorted.
    let mut extents = atl03_extents(300);
    extents.reverse();
    let total: usize = extents.iter().map(|e| e.photons.len()).sum();
    for (by, format) in [
        (SortBy::Time, Format::GeoParquet),
        (SortBy::Time, Format::Parquet),
        (SortBy::Hilbert, Format::GeoParquet),
        (SortBy::Hilbert, Format::Feather),
    ] {
        let path = tmp
            .path()
            .join(format!("sorted_{by:?}.{}", format.as_str()));
        let options = ExportOptions::default()
            .with_format(format)
            .with_sort(Some(by))
            .with_max_rows_in_group(Some(500));
        let s = export_to_path(&path, extents.iter().cloned().map(Ok), options).unwrap();
        assert_eq!(s.rows as usize, total);
        if format == Format::Feather {
            let reader =
                arrow_ipc::reader::FileReader::try_new(std::fs::File::open(&path).unwrap(), None)
                    .unwrap();
            let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
            assert_eq!(rows, total);
            continue;
        }
        let r = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(r.metadata().num_row_groups(), total.div_ceil(500));
        assert_eq!(s.row_groups, total.div_ceil(500));
        let (_, batches) = read_batches(&path);
        let mut times = Vec::new();
        for b in &batches {
            let t = b
                .column_by_name("time")
                .unwrap()
                .as_primitive::<arrow_array::types::TimestampNanosecondType>();
            times.extend(t.values().iter().copied());
        }
        assert_eq!(times.len(), total);
        let mut expected: Vec<i64> = extents
            .iter()
            .flat_map(|e| e.photons.iter().map(|p| p.time))
            .collect();
        expected.sort_unstable();
        if by == SortBy::Time {
            assert!(times == expected, "not sorted by time");
        } else {
            let mut got = times.clone();
            got.sort_unstable();
            assert!(got == expected, "rows lost or duplicated");
        }
        assert!(key(&path, "sliderule").is_some() && key(&path, "pandas").is_some());
        if format == Format::GeoParquet {
            assert!(geoparquet_io::validate_footer(&path).unwrap().is_valid());
        }
    }
}
