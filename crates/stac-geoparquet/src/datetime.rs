//! RFC 3339 datetimes: parsing (lenient in the ways STAC data is) and the
//! canonical UTC form we write back. The grammar is ours (strict where STAC
//! data allows); the calendar arithmetic is chrono's.

use chrono::{Datelike, NaiveDate};

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

/// Days from 0001-01-01 (day 1 of the common era) to 1970-01-01.
const EPOCH_CE_DAYS: i64 = 719_163;

/// Days in 400 Gregorian years: the calendar repeats with this period.
const CYCLE_DAYS: i64 = 146_097;

/// Days since 1970-01-01 of a proleptic Gregorian date; `None` when there is
/// no such date (month 13, February 30).
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(y).ok()?,
        u32::try_from(m).ok()?,
        u32::try_from(d).ok()?,
    )?;
    Some(i64::from(date.num_days_from_ce()) - EPOCH_CE_DAYS)
}

/// The proleptic Gregorian date (year, month, day) of a day count since
/// 1970-01-01, for any `i64`: chrono's dates span about ±262,000 years, so the
/// date is taken within one 400-year cycle from 1970 and the cycles are added
/// to its year (timestamps in seconds reach billions of years).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let cycles = days.div_euclid(CYCLE_DAYS);
    let within = days.rem_euclid(CYCLE_DAYS) + EPOCH_CE_DAYS;
    // `within` is a day of 1970..2370: chrono always has it.
    let date = i32::try_from(within)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or(NaiveDate::MIN);
    (
        i64::from(date.year()) + cycles * 400,
        date.month(),
        date.day(),
    )
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
    // No leap second (`:60`): an instant must have one reading.
    if h > 23 || mi > 59 || se > 59 {
        return None;
    }
    let days = days_from_civil(y, mo, d)?;
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
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset_s;
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

    #[test]
    fn calendar_round_trips_and_repeats_every_400_years() {
        // Every day of 0000..=9999 (what the parser accepts, offsets included).
        let first = days_from_civil(0, 1, 1).unwrap();
        let last = days_from_civil(9999, 12, 31).unwrap();
        assert_eq!(first, -719_528);
        assert_eq!(last, 2_932_896);
        let mut expected = (0i64, 1u32, 1u32);
        for day in first..=last {
            let (y, m, d) = civil_from_days(day);
            assert_eq!((y, m, d), expected, "day {day}");
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), Some(day));
            // The next date.
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let month_days = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            expected = if d < month_days {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
        }
        // Far beyond chrono's range (timestamps in seconds, Date32 days): the
        // 400-year cycle.
        for k in [-60_000_000_000i64, -1_000, -1, 1, 700, 60_000_000_000] {
            for (day, date) in [(0, (1970, 1, 1)), (59, (1970, 3, 1)), (-1, (1969, 12, 31))] {
                let (y, m, d) = civil_from_days(day + k * CYCLE_DAYS);
                assert_eq!((y - 400 * k, m, d), date, "{k} {day}");
            }
        }
        assert!(days_from_civil(2023, 2, 29).is_none());
        assert!(days_from_civil(2024, 2, 29).is_some());
        assert!(days_from_civil(2000, 2, 29).is_some());
        assert!(days_from_civil(1900, 2, 29).is_none());
        assert!(days_from_civil(2020, 13, 1).is_none());
        assert!(days_from_civil(2020, 4, 31).is_none());
        assert!(days_from_civil(2020, 0, 1).is_none());
        assert!(days_from_civil(2020, 1, 0).is_none());
    }

    #[test]
    fn formats_out_of_range_years_and_refuses_leap_seconds() {
        assert_eq!(format(-1, 0), "1969-12-31T23:59:59.999999999Z");
        let second = 1_000_000_000i128;
        assert_eq!(
            format(i128::from(i64::MAX) * second, 0),
            "+292277026596-12-04T15:30:07Z"
        );
        assert_eq!(
            format(i128::from(i64::MIN) * second, 0),
            "-292277022657-01-27T08:29:52Z"
        );
        assert_eq!(
            format(parse("0000-01-01T00:30:00+01:00").unwrap().nanos, 0),
            "-0001-12-31T23:30:00Z"
        );
        assert_eq!(
            format(parse("9999-12-31T23:30:00-01:00").unwrap().nanos, 0),
            "+10000-01-01T00:30:00Z"
        );
        assert!(parse("2016-12-31T23:59:60Z").is_none());
        assert!(parse("2020-01-01T24:00:00Z").is_none());
        assert!(parse("2020-01-01T00:00:00+24:00").is_none());
    }
}
