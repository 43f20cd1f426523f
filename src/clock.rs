//! Dates as HTTP and the access log write them, straight from a Unix time.
//!
//! A child formats two dates per response (the `Date` header and the log line). Doing it with
//! a general-purpose formatter pulls a few dozen pages of formatting code into every freshly
//! forked child, each a page fault; this is the 30 lines it actually takes. The unit tests
//! check it against jiff over four centuries of timestamps.

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
}
