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

/// How UTC datetimes of a column are written: `T` or a space between date
/// and time, `Z` or `+00:00` after it (the style most values of a column
/// have is kept, so that those values need no patch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Style {
    /// A space instead of `T`.
    pub(crate) space: bool,
    /// `+00:00` instead of `Z`.
    pub(crate) offset: bool,
}

impl Style {
    /// Every style, the canonical one (`T`, `Z`) first.
    pub(crate) const ALL: [Style; 4] = [
        Style {
            space: false,
            offset: false,
        },
        Style {
            space: true,
            offset: false,
        },
        Style {
            space: false,
            offset: true,
        },
        Style {
            space: true,
            offset: true,
        },
    ];

    /// The field metadata value (`None` for the canonical style).
    pub(crate) fn name(self) -> Option<&'static str> {
        match (self.space, self.offset) {
            (false, false) => None,
            (true, false) => Some("space"),
            (false, true) => Some("offset"),
            (true, true) => Some("space,offset"),
        }
    }

    /// From a field metadata value (unknown values: canonical).
    pub(crate) fn from_name(name: Option<&str>) -> Style {
        let mut style = Style::default();
        for part in name.unwrap_or("").split(',') {
            match part {
                "space" => style.space = true,
                "offset" => style.offset = true,
                _ => {}
            }
        }
        style
    }
}

/// Whether `format_styled(p.nanos, min_digits, style) == s`, without
/// formatting: `s` must be `YYYY-MM-DD(T| )HH:MM:SS[.f](Z|+00:00)` as the
/// style says and have exactly the digits `format` writes.
pub(crate) fn is_written(s: &str, p: &Parsed, min_digits: u8, style: Style) -> bool {
    let b = s.as_bytes();
    let suffix: &[u8] = if style.offset { b"+00:00" } else { b"Z" };
    let expected_len = 19
        + suffix.len()
        + if p.digits > 0 {
            usize::from(p.digits) + 1
        } else {
            0
        };
    b.len() == expected_len
        && b[10] == if style.space { b' ' } else { b'T' }
        && b.ends_with(suffix)
        && b[0].is_ascii_digit()
        && p.digits == needed_digits(p.nanos).max(min_digits.min(9))
}

/// [`format`] in a [`Style`].
pub(crate) fn format_styled(nanos: i128, min_digits: u8, style: Style) -> String {
    let mut out = format(nanos, min_digits);
    if style.space
        && let Some(i) = out.find('T')
    {
        out.replace_range(i..=i, " ");
    }
    if style.offset && out.ends_with('Z') {
        out.pop();
        out.push_str("+00:00");
    }
    out
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
                is_written(text, &p, d, Style::default()),
                format(p.nanos, d) == text,
                "{text} {d}"
            );
        }
        for text in [
            "2024-04-19 04:59:16.653405+00:00",
            "2024-04-19T04:59:16+00:00",
            "2024-04-19 04:59:16.653Z",
            "2024-04-19T04:59:16.653Z",
            "2024-04-19 04:59:16-00:00",
        ] {
            let p = parse(text).unwrap();
            for style in Style::ALL {
                for d in [0, 3, 6, 9] {
                    assert_eq!(
                        is_written(text, &p, d, style),
                        format_styled(p.nanos, d, style) == text,
                        "{text} {d} {style:?}"
                    );
                }
                assert_eq!(Style::from_name(style.name()), style);
            }
        }
        assert_eq!(
            format_styled(
                parse("2024-04-19T04:59:16Z").unwrap().nanos,
                6,
                Style::ALL[3]
            ),
            "2024-04-19 04:59:16.000000+00:00"
        );
        assert!(parse("2020-02-30T00:00:00Z").is_none());
        assert!(parse("not a date at all!!").is_none());
        assert!(parse("2020-01-01T00:00:00+0500").is_none());
    }
}
