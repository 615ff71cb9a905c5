//! GPS `delta_time` to Unix-epoch nanoseconds, exactly as SlideRule converts it.

/// Seconds from the GPS epoch (1980-01-06) to the ATLAS SDP epoch
/// (2018-01-01T00:00:00Z), as SlideRule adds them (`Icesat2Fields::deltatime2timestamp`).
pub const ATLAS_SDP_GPS_OFFSET: f64 = 1_198_800_018.0;
/// Seconds from the Unix epoch to the GPS epoch (`TimeLib::gps2systimeex`).
pub const GPS_UNIX_OFFSET: f64 = 315_964_800.0;

/// Leap seconds (GPS − UTC) in force from a Unix time (in GPS-aligned
/// seconds) on; newest first. ICESat-2 data is all in the 18 s era.
const LEAP_SECONDS: &[(f64, f64)] = &[
    (1_483_228_800.0, 18.0), // 2017-01-01
    (1_435_708_800.0, 17.0), // 2015-07-01
    (1_341_100_800.0, 16.0), // 2012-07-01
    (1_230_768_000.0, 15.0), // 2009-01-01
    (1_136_073_600.0, 14.0), // 2006-01-01
    (915_148_800.0, 13.0),   // 1999-01-01
    (867_715_200.0, 12.0),   // 1997-07-01
    (820_454_400.0, 11.0),   // 1996-01-01
    (773_020_800.0, 10.0),   // 1994-07-01
    (741_484_800.0, 9.0),    // 1993-07-01
    (709_948_800.0, 8.0),    // 1992-07-01
    (662_688_000.0, 7.0),    // 1991-01-01
    (631_152_000.0, 6.0),    // 1990-01-01
    (567_993_600.0, 5.0),    // 1988-01-01
    (489_024_000.0, 4.0),    // 1985-07-01
    (425_865_600.0, 3.0),    // 1983-07-01
    (394_329_600.0, 2.0),    // 1982-07-01
    (362_793_600.0, 1.0),    // 1981-07-01
];

fn leap_seconds(unix_gps: f64) -> f64 {
    LEAP_SECONDS
        .iter()
        .find(|(from, _)| unix_gps >= *from)
        .map_or(0.0, |(_, n)| *n)
}

/// Converts an ATLAS SDP `delta_time` (seconds since 2018-01-01T00:00:00Z) to
/// Unix-epoch nanoseconds (UTC, leap-second corrected) with SlideRule's exact
/// sequence of double operations: `((dt + 1198800018) + 315964800) − leap`,
/// times `1e9`, truncated toward zero. Results are therefore multiples of 256 ns
/// for current dates, bit for bit what the server writes.
///
/// ```
/// use sliderule_export::time::delta_time_to_unix_ns;
/// // 2019-03-14 09:40:46.894008576, row 0 of SlideRule's atl06 self-test file.
/// let t = delta_time_to_unix_ns(37_791_646.894_008_58);
/// assert_eq!(t % 256, 0);
/// assert_eq!(t / 1_000_000_000, 1_552_556_446);
/// ```
#[must_use]
pub fn delta_time_to_unix_ns(delta_time: f64) -> i64 {
    let gps = delta_time + ATLAS_SDP_GPS_OFFSET;
    let mut s = gps + GPS_UNIX_OFFSET;
    s -= leap_seconds(s);
    // `as` truncates toward zero and saturates, like the C cast for in-range values.
    (s * 1e9) as i64
}

/// The inverse of [`delta_time_to_unix_ns`] (to within a few hundred ns, the
/// resolution of a double at these magnitudes).
///
/// ```
/// use sliderule_export::time::{delta_time_to_unix_ns, unix_ns_to_delta_time};
/// let dt = 100_000_000.25;
/// assert!((unix_ns_to_delta_time(delta_time_to_unix_ns(dt)) - dt).abs() < 1e-6);
/// ```
#[must_use]
pub fn unix_ns_to_delta_time(ns: i64) -> f64 {
    let s = ns as f64 / 1e9;
    let leap = leap_seconds(s + 18.0);
    s + leap - GPS_UNIX_OFFSET - ATLAS_SDP_GPS_OFFSET
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_simple_form_for_icesat2_dates() {
        for dt in [0.0, 37_791_646.894_008_58, 118_120_342.174_720_77, 2.5e8] {
            let exact = delta_time_to_unix_ns(dt);
            let simple = ((dt + 1_514_764_800.0) * 1e9) as i64;
            assert_eq!(exact, simple, "dt {dt}");
            assert_eq!(exact % 256, 0);
        }
    }

    #[test]
    fn older_dates_use_older_leap_seconds() {
        // 2016-06-01 is before the 2017 leap second: 17 s, not 18.
        let dt = -49_000_000.0;
        let t = delta_time_to_unix_ns(dt);
        let with18 = ((dt + 1_514_764_800.0) * 1e9) as i64;
        assert_eq!(t - with18, 1_000_000_000);
    }
}
