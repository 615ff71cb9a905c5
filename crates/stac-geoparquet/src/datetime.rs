//! RFC 3339 datetimes: parsing (lenient in the ways STAC data is) and the
//! canonical UTC form we write back.

/// Nanoseconds in a day.
const DAY_NS: i128 = 86_400 * 1_000_000_000;

/// A parsed datetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    pub(crate) nanos: i128,
    /// Fractional-second digits written in the input.
    pub(crate) digits: u8,
}

fn num(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0i64, |a, d| a * 10 + i64::from(d - b'0')))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses `YYYY-MM-DD(T|t| )HH:MM:SS[.f{1,9}](Z|z|±HH:MM)`; without an
/// offset the time is taken as UTC (as rustac does).
pub(crate) fn parse(s: &str) -> Option<Parsed> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (y, mo, d) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    let (h, mi, se) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59
    {
        return None;
    }
    let mut i = 19;
    let mut frac: i128 = 0;
    let mut digits = 0u8;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let n = i - start;
        if n == 0 || n > 9 {
            return None;
        }
        digits = u8::try_from(n).ok()?;
        frac = i128::from(num(&b[start..i])?) * 10i128.pow(9 - u32::from(digits));
    }
    let offset_s: i64 = match &b[i..] {
        [] => 0,
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), oh @ .., b':', om1, om2] if oh.len() == 2 => {
            let oh = num(oh)?;
            let om = num(&[*om1, *om2])?;
            if oh > 23 || om > 59 {
                return None;
            }
            let v = oh * 3600 + om * 60;
            if *sign == b'-' { -v } else { v }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se - offset_s;
    Some(Parsed {
        nanos: i128::from(secs) * 1_000_000_000 + frac,
        digits,
    })
}

/// Whether `format(p.nanos, min_digits) == s`, without formatting: `s` must
/// be `YYYY-MM-DDTHH:MM:SS[.f]Z` and have exactly the digits `format` writes.
pub(crate) fn is_canonical(s: &str, p: &Parsed, min_digits: u8) -> bool {
    let b = s.as_bytes();
    let expected_len = 20
        + if p.digits > 0 {
            usize::from(p.digits) + 1
        } else {
            0
        };
    b.len() == expected_len
        && b[10] == b'T'
        && b[b.len() - 1] == b'Z'
        && b[0].is_ascii_digit()
        && p.digits == needed_digits(p.nanos).max(min_digits.min(9))
}

/// Digits (0, 3, 6 or 9) needed to write the fraction of `nanos` exactly.
pub(crate) fn needed_digits(nanos: i128) -> u8 {
    let f = nanos.rem_euclid(1_000_000_000);
    if f == 0 {
        0
    } else if f % 1_000_000 == 0 {
        3
    } else if f % 1_000 == 0 {
        6
    } else {
        9
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.f]Z` with at least `min_digits` fraction digits
/// (more when needed to be exact: 3, 6 or 9).
pub(crate) fn format(nanos: i128, min_digits: u8) -> String {
    let days = nanos.div_euclid(DAY_NS);
    let rem = nanos.rem_euclid(DAY_NS);
    let (y, m, d) = civil_from_days(i64::try_from(days).unwrap_or(0));
    let secs = rem / 1_000_000_000;
    let frac = rem % 1_000_000_000;
    let (h, mi, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    let mut out = if (0..=9999).contains(&y) {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
    } else {
        format!("{y:+05}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
    };
    let digits = needed_digits(nanos).max(min_digits.min(9));
    if digits > 0 {
        let text = format!("{frac:09}");
        out.push('.');
        out.push_str(&text[..usize::from(digits)]);
    }
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        let p = parse("2020-01-01T00:00:00Z").unwrap();
        assert_eq!(p.nanos, 1_577_836_800 * 1_000_000_000);
        assert_eq!(format(p.nanos, 0), "2020-01-01T00:00:00Z");
        assert_eq!(format(p.nanos, 6), "2020-01-01T00:00:00.000000Z");
        let p = parse("2020-01-01T05:00:00+05:00").unwrap();
        assert_eq!(format(p.nanos, 0), "2020-01-01T00:00:00Z");
        let p = parse("2024-04-19 04:59:16.653405+00:00").unwrap();
        assert_eq!(p.digits, 6);
        assert_eq!(format(p.nanos, 0), "2024-04-19T04:59:16.653405Z");
        let p = parse("2020-01-01t00:00:00.123456789z").unwrap();
        assert_eq!(format(p.nanos, 0), "2020-01-01T00:00:00.123456789Z");
        let p = parse("1900-01-01T00:00:00Z").unwrap();
        assert_eq!(format(p.nanos, 0), "1900-01-01T00:00:00Z");
        let p = parse("9999-12-31T23:59:59Z").unwrap();
        assert_eq!(format(p.nanos, 0), "9999-12-31T23:59:59Z");
        assert_eq!(
            format(parse("2020-01-01T00:00:00.5Z").unwrap().nanos, 0),
            "2020-01-01T00:00:00.500Z"
        );
        for (text, d) in [
            ("2020-01-01T00:00:00Z", 0),
            ("2020-01-01T00:00:00.000Z", 3),
            ("2020-01-01T00:00:00.000000Z", 6),
            ("2020-01-01T00:00:00.5Z", 0),
            ("2020-01-01T00:00:00.500Z", 0),
            ("2020-01-01T00:00:00.500Z", 6),
            ("2020-01-01T00:00:00+00:00", 0),
            ("2020-01-01 00:00:00Z", 0),
            ("2020-01-01T00:00:00.123456789Z", 3),
        ] {
            let p = parse(text).unwrap();
            assert_eq!(
                is_canonical(text, &p, d),
                format(p.nanos, d) == text,
                "{text} {d}"
            );
        }
        assert!(parse("2020-02-30T00:00:00Z").is_none());
        assert!(parse("not a date at all!!").is_none());
        assert!(parse("2020-01-01T00:00:00+0500").is_none());
    }
}
