//! GeoJSON FeatureCollection and newline-delimited GeoJSON to and from Arrow record batches.
