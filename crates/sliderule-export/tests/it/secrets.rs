//! Credentials never appear in anything produced: files, sidecars, streams,
//! errors, warnings, `Debug`.

use sliderule_export::output::ParseOptions;
use sliderule_export::records::Atl06Record;
use sliderule_export::stream::decode;
use sliderule_export::{ExportOptions, Format, OutputParams, export, export_to_path};

use crate::support::atl03_extents;

const KEY_ID: &str = "AKIAQUITERECOGNISABLE7";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETSECRET";
const TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN0123456789";

fn request() -> String {
    format!(
        r#"{{"poly": [{{"lon": -26.2, "lat": 72.8}}], "output": {{"path": "s3://bucket/atl03.parquet", "region": "us-west-2", "format": "parquet", "credentials": {{"aws_access_key_id": "{KEY_ID}", "aws_secret_access_key": "{SECRET}", "aws_session_token": "{TOKEN}", "expiration": "2030-01-01T00:00:00Z"}}}}, "extra": {{"sessionToken": "{TOKEN}"}}}}"#
    )
}

fn assert_clean(what: &str, bytes: &[u8]) {
    for s in [KEY_ID, SECRET, TOKEN] {
        assert!(
            !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
            "{what} contains a credential"
        );
    }
}

#[test]
fn no_secret_in_any_output_byte() {
    let req = request();
    let parsed = OutputParams::parse(&req, ParseOptions::default()).unwrap();
    assert_clean(
        "Debug of the parameters",
        format!("{:?}", parsed.params).as_bytes(),
    );
    assert_clean("warnings", format!("{:?}", parsed.warnings).as_bytes());
    let tmp = tempfile::tempdir().unwrap();
    for format in [
        Format::GeoParquet,
        Format::Parquet,
        Format::Feather,
        Format::Csv,
    ] {
        let path = tmp.path().join(format!("out.{}", format.as_str()));
        let options = ExportOptions::from_output(&parsed.params)
            .with_format(format)
            .with_request(req.clone());
        let summary =
            export_to_path(&path, atl03_extents(20).into_iter().map(Ok), options).unwrap();
        assert_clean("summary", format!("{summary:?}").as_bytes());
        for entry in std::fs::read_dir(tmp.path()).unwrap() {
            let p = entry.unwrap().path();
            assert_clean(&p.display().to_string(), &std::fs::read(&p).unwrap());
        }
    }
    // The echoed request keeps everything else and says "credentials":{}.
    let path = tmp.path().join("out.parquet");
    let sr = crate::support::key(&path, "sliderule").unwrap();
    assert!(sr.contains(r#""credentials":{}"#), "{sr}");
    assert!(sr.contains(r#""poly":[{"lon":-26.2,"lat":72.8}]"#), "{sr}");

    // Streamed, with a stream path and credentials given.
    let streamed = OutputParams::parse(
        &format!(r#"{{"path": "x.parquet", "credentials": {{"AccessKeyId": "{KEY_ID}", "SecretAccessKey": "{SECRET}", "Token": "{TOKEN}"}}}}"#),
        ParseOptions::default(),
    )
    .unwrap()
    .params;
    let mut framed = Vec::new();
    let done = export(
        std::iter::once(Ok(Atl06Record::default())),
        &streamed,
        ExportOptions::from_output(&streamed),
        Some(&mut framed),
    )
    .unwrap();
    assert_clean("stream", &framed);
    assert_clean("delivery", format!("{done:?}").as_bytes());
    assert_eq!(decode(&framed[..]).unwrap().files.len(), 1);
}

#[test]
fn errors_do_not_echo_secrets() {
    // A secret pasted into a wrong-typed key: the message names the kind, not the value.
    let bad = format!(r#"{{"path": "a", "as_geo": "{SECRET}", "region": ["{TOKEN}"]}}"#);
    let p = OutputParams::parse(&bad, ParseOptions::default()).unwrap();
    assert_clean(
        "warnings",
        format!(
            "{:?} {}",
            p.warnings,
            p.warnings
                .iter()
                .map(ToString::to_string)
                .collect::<String>()
        )
        .as_bytes(),
    );
    let e = OutputParams::parse(&bad, ParseOptions::default().with_strict(true)).unwrap_err();
    assert_clean("strict error", format!("{e} {e:?}").as_bytes());
}
