//! Dates as HTTP and the access log write them, straight from a Unix time, and HTTP-dates read
//! back for the conditional request headers.
//!
//! A child formats two dates per response (the `Date` header and the log line). Doing it with
//! a general-purpose formatter pulls a few dozen pages of formatting code into every freshly
//! forked child, each a page fault; this is the 30 lines it actually takes. The unit tests
//! check it against jiff over four centuries of timestamps. Reading a date is for conditional
//! requests only, which is why it lives here: `child-text.ld` puts this module's code after
//! everything a plain request runs.

use std::time::{SystemTime, UNIX_EPOCH};

const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Seconds since the Unix epoch, now (0 if the clock is before 1970).
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// UTC calendar fields of a Unix time.
struct Civil {
    year: i64,
    month: usize, // 0-based
    day: i64,
    weekday: usize, // 0 = Thursday, the epoch's weekday
    hms: (i64, i64, i64),
}

/// Howard Hinnant's `civil_from_days`, for the proleptic Gregorian calendar.
fn civil(secs: i64) -> Civil {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 2 } else { mp - 10 } as usize;
    let year = yoe + era * 400 + i64::from(month <= 1);
    Civil {
        year,
        month,
        day,
        weekday: days.rem_euclid(7) as usize,
        hms: (rem / 3600, rem / 60 % 60, rem % 60),
    }
}

fn two(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(&[b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8]);
}

fn four(out: &mut Vec<u8>, n: i64) {
    two(out, n / 100);
    two(out, n % 100);
}

fn time(out: &mut Vec<u8>, (h, m, s): (i64, i64, i64)) {
    two(out, h);
    out.push(b':');
    two(out, m);
    out.push(b':');
    two(out, s);
}

/// Appends an IMF-fixdate (RFC 9110 5.6.7): `Sun, 22 Nov 2026 10:00:00 GMT`.
pub fn http_date(out: &mut Vec<u8>, secs: i64) {
    let c = civil(secs);
    out.extend_from_slice(DAYS[c.weekday]);
    out.extend_from_slice(b", ");
    two(out, c.day);
    out.push(b' ');
    out.extend_from_slice(MONTHS[c.month]);
    out.push(b' ');
    four(out, c.year);
    out.push(b' ');
    time(out, c.hms);
    out.extend_from_slice(b" GMT");
}

/// Appends a Common Log Format time, in UTC: `22/Nov/2026:10:00:00 +0000`.
pub fn clf_date(out: &mut Vec<u8>, secs: i64) {
    let c = civil(secs);
    two(out, c.day);
    out.push(b'/');
    out.extend_from_slice(MONTHS[c.month]);
    out.push(b'/');
    four(out, c.year);
    out.push(b':');
    time(out, c.hms);
    out.extend_from_slice(b" +0000");
}

/// Reads an HTTP-date (RFC 9110 5.6.7) as seconds since the epoch, in any of the three forms a
/// recipient must accept: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the obsolete RFC 850
/// form (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime's (`Sun Nov  6 08:49:37 1994`). `None`
/// for anything else, a list of dates included: the conditional headers then ignore the field
/// (RFC 9110 13.1.3, 13.1.4). Names are matched without regard to case, as recipients are
/// encouraged to be robust; the weekday is not checked against the date. No allocation.
pub fn parse_http_date(value: &[u8]) -> Option<i64> {
    parse_http_date_at(value, now)
}

/// [`parse_http_date`], with `now` read only for an RFC 850 date's two-digit year.
fn parse_http_date_at(value: &[u8], now: impl FnOnce() -> i64) -> Option<i64> {
    let (year, month, day, time) = match value.iter().position(|&b| b == b',') {
        Some(3) => {
            // IMF-fixdate: day-name ", " DD SP Mon SP YYYY SP time " GMT".
            let v: &[u8; 29] = value.try_into().ok()?;
            weekday(&v[..3], false)?;
            let ok = &v[3..5] == b", " && v[7] == b' ' && v[11] == b' ' && v[16] == b' ';
            if !ok || &v[25..] != b" GMT" {
                return None;
            }
            (
                digits(&v[12..16])?,
                month(&v[8..11])?,
                digits(&v[5..7])?,
                &v[17..25],
            )
        }
        Some(n) => {
            // RFC 850: day-name-l ", " DD "-" Mon "-" YY SP time " GMT".
            weekday(&value[..n], true)?;
            let v: &[u8; 24] = value[n..].try_into().ok()?;
            let ok = &v[..2] == b", " && v[4] == b'-' && v[8] == b'-' && v[11] == b' ';
            if !ok || &v[20..] != b" GMT" {
                return None;
            }
            let yy = digits(&v[9..11])?;
            // RFC 9110 5.6.7: a year more than 50 years ahead is the last one in the past
            // with those two digits.
            let this_year = civil(now()).year;
            let mut year = this_year - this_year.rem_euclid(100) + yy;
            if year > this_year + 50 {
                year -= 100;
            }
            (year, month(&v[5..8])?, digits(&v[2..4])?, &v[12..20])
        }
        None => {
            // asctime: day-name SP Mon SP (DD / SP D) SP time SP YYYY.
            let v: &[u8; 24] = value.try_into().ok()?;
            weekday(&v[..3], false)?;
            if v[3] != b' ' || v[7] != b' ' || v[10] != b' ' || v[19] != b' ' {
                return None;
            }
            let day = match v[8] {
                b' ' => digits(&v[9..10])?,
                _ => digits(&v[8..10])?,
            };
            (digits(&v[20..24])?, month(&v[4..7])?, day, &v[11..19])
        }
    };
    if time[2] != b':' || time[5] != b':' {
        return None;
    }
    let (hour, minute, second) = (
        digits(&time[..2])?,
        digits(&time[3..5])?,
        digits(&time[6..])?,
    );
    // Second 60 is a leap second (RFC 9110 5.6.7); a day past the month's end is refused.
    if !(1..=days_in_month(year, month)).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Weekday names, each padded to nine bytes with NULs. The name tables are statics of bytes,
/// not constants of references: a named static's section is named after it, so `child-text.ld`
/// puts it beside the child's other read-only data, where the byte strings a constant points to
/// would be anonymous constants anywhere in `.rodata` (a page fault more for a child reading one).
static WEEKDAYS: [[u8; 9]; 7] = [
    *b"Monday\0\0\0",
    *b"Tuesday\0\0",
    *b"Wednesday",
    *b"Thursday\0",
    *b"Friday\0\0\0",
    *b"Saturday\0",
    *b"Sunday\0\0\0",
];

/// Month names, three bytes each (see [`WEEKDAYS`]).
static MONTH_NAMES: [u8; 36] = *b"JanFebMarAprMayJunJulAugSepOctNovDec";

/// A weekday's name, short (`Sun`) or long (`Sunday`).
fn weekday(name: &[u8], long: bool) -> Option<()> {
    WEEKDAYS
        .iter()
        .any(|day| {
            let len = match long {
                true => day.iter().position(|&b| b == 0).unwrap_or(day.len()),
                false => 3,
            };
            name.eq_ignore_ascii_case(&day[..len])
        })
        .then_some(())
}

/// A month's short name, as 1 to 12.
fn month(name: &[u8]) -> Option<i64> {
    let at = MONTH_NAMES
        .chunks_exact(3)
        .position(|m| name.eq_ignore_ascii_case(m))?;
    Some(at as i64 + 1)
}

/// A run of ASCII digits (at most four here) as a number.
fn digits(s: &[u8]) -> Option<i64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |n, &d| n * 10 + i64::from(d - b'0')))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`,
/// the inverse of [`civil`]).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(secs: i64) {
        let ts = jiff::Timestamp::from_second(secs).unwrap();
        let mut http = Vec::new();
        http_date(&mut http, secs);
        assert_eq!(
            String::from_utf8(http).unwrap(),
            ts.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
        );
        let mut clf = Vec::new();
        clf_date(&mut clf, secs);
        assert_eq!(
            String::from_utf8(clf).unwrap(),
            ts.strftime("%d/%b/%Y:%H:%M:%S +0000").to_string()
        );
    }

    #[test]
    fn matches_jiff_across_four_centuries() {
        // 1970 to 2370 in steps that hit every weekday, month end and leap day over time.
        let mut secs = 0;
        while secs < 12_600_000_000 {
            check(secs);
            secs += 86_400 * 7 + 3_601 * 5 + 7;
        }
        for secs in [
            0,
            951_782_400,
            951_868_799,
            1_709_164_800,
            4_107_542_399,
            1_795_000_000,
        ] {
            check(secs);
        }
    }

    /// Every form against jiff's formatting of the same instant, over four centuries.
    #[test]
    fn http_dates_are_read_in_all_three_forms() {
        let now = 1_796_000_000; // 2026-11-29
        for secs in (-2_208_988_800_i64..4_102_444_800)
            .step_by(7_777_777)
            .chain([0, 951_782_400, 1_795_341_600])
        {
            let at = jiff::Timestamp::from_second(secs).unwrap();
            for format in ["%a, %d %b %Y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"] {
                let text = at.strftime(format).to_string();
                assert_eq!(
                    parse_http_date_at(text.as_bytes(), || now),
                    Some(secs),
                    "{text}"
                );
            }
            // Two-digit years: within 50 years ahead of now, else the century before.
            let text = at.strftime("%A, %d-%b-%y %H:%M:%S GMT").to_string();
            let year = at.to_zoned(jiff::tz::TimeZone::UTC).year();
            let read = parse_http_date_at(text.as_bytes(), || now).expect(&text);
            if (1977..=2076).contains(&year) {
                assert_eq!(read, secs, "{text}");
            } else {
                assert_eq!(
                    (read - secs) % 86_400,
                    0,
                    "{text}: only the century may differ"
                );
            }
        }
        let read = |text: &str| parse_http_date_at(text.as_bytes(), || now);
        assert_eq!(read("Sunday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(read("Friday, 06-Nov-76 08:49:37 GMT"), Some(3_371_878_177));
        assert_eq!(read("Sun Nov  6 08:49:37 1994"), Some(784_111_777));
        assert_eq!(read("sun, 06 nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(read("Sat, 31 Dec 2016 23:59:60 GMT"), Some(1_483_228_800));
        for bad in [
            "",
            "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49:37 GMT ",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 31 Feb 2026 08:49:37 GMT",
            "Sun, 29 Feb 2100 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 1994 08:49:61 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 06 Noe 1994 08:49:37 GMT",
            "Sun, 06 Nov +994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08-49-37 GMT",
            "Sonntag, 06-Nov-94 08:49:37 GMT",
            "Sun Nov 6 08:49:37 1994",
            "Sun Nov  6 08:49:37 94",
            "1994-11-06T08:49:37Z",
            ",",
            "Sunday,",
        ] {
            assert_eq!(read(bad), None, "{bad:?}");
        }
        assert!(parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT").is_some());
    }
}
