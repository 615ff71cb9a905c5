//! GeoJSON conversion tests.
