//! Post dates as bloggers write them: `2015-03-01`, `2015-03-01T10:00:00`, RFC 3339 with a zone,
//! Jekyll's `2015-03-01 10:00:00 +0100`, and the looser forms Jekyll (Ruby's `Time.parse`) and
//! Hugo also take: `2019-04-25 9:00`, `2019/04/25`, `March 1, 2015`, `1 Mar 2015`,
//! `Sun, 29 Jan 2023 18:30:22 -0800`, `2023-01-29 18:30:22 2023 -0800`, `3:05 PM`, `PST`.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// A date from front matter or a file name: the instant it denotes and the calendar day as
/// written (shown to readers, so a post dated late at night in its own zone keeps its day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PostDate {
    /// The instant; dates and times without a zone are taken as UTC.
    pub timestamp: Timestamp,
    /// The calendar day as written.
    pub day: Date,
}

impl PostDate {
    /// A date for an instant, its day taken in UTC (used for file modification times).
    pub fn from_timestamp(timestamp: Timestamp) -> PostDate {
        PostDate {
            timestamp,
            day: timestamp.to_zoned(TimeZone::UTC).date(),
        }
    }
}

/// Formats with an explicit numeric offset that the RFC 3339 parser does not take.
const STRPTIME_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d %H:%M %z",
    "%Y-%m-%d %H:%M:%S%.f %z",
    "%Y-%m-%d %H:%M:%S %:z",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M%:z",
    "%Y-%m-%dT%H:%M%z",
];

/// Parses a post date. Accepted: `YYYY-MM-DD`; `YYYY-MM-DD[T ]HH:MM[:SS[.fff]]` (UTC); the same
/// followed by `Z`, `+HH:MM` or `+HHMM` (with or without a space before the offset); an RFC 9557
/// `[Zone/Name]` suffix is allowed. Anything else is an error naming the accepted forms.
pub fn parse(text: &str) -> Result<PostDate, String> {
    let text = text.trim();
    let Some(day) = text
        .get(..10)
        .and_then(|prefix| prefix.parse::<Date>().ok())
    else {
        return loose(text).ok_or_else(|| unknown(text));
    };
    if text.len() == 10 {
        let timestamp = day
            .to_zoned(TimeZone::UTC)
            .map_err(|e| format!("date {text:?} is out of range: {e}"))?
            .timestamp();
        return Ok(PostDate { timestamp, day });
    }
    if let Ok(timestamp) = text.parse::<Timestamp>() {
        return Ok(PostDate { timestamp, day });
    }
    if let Ok(datetime) = text.parse::<DateTime>() {
        if !has_offset(text) {
            let timestamp = datetime
                .to_zoned(TimeZone::UTC)
                .map_err(|e| format!("date {text:?} is out of range: {e}"))?
                .timestamp();
            return Ok(PostDate { timestamp, day });
        }
    }
    for format in STRPTIME_FORMATS {
        if let Ok(timestamp) =
            jiff::fmt::strtime::parse(format, text).and_then(|t| t.to_timestamp())
        {
            return Ok(PostDate { timestamp, day });
        }
    }
    loose(text).ok_or_else(|| unknown(text))
}

/// The parts of a loosely written date, filled token by token.
#[derive(Default)]
struct Parts {
    year: Option<i16>,
    month: Option<i8>,
    day: Option<i8>,
    time: Option<(i8, i8, i8, i32)>,
    offset_seconds: Option<i32>,
    pm: Option<bool>,
}

const MONTHS: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
/// Zone abbreviations Ruby's `Time.parse` and Go's layouts know, with their offsets in hours.
const ZONES: &[(&str, i32)] = &[
    ("utc", 0),
    ("gmt", 0),
    ("ut", 0),
    ("z", 0),
    ("est", -5),
    ("edt", -4),
    ("cst", -6),
    ("cdt", -5),
    ("mst", -7),
    ("mdt", -6),
    ("pst", -8),
    ("pdt", -7),
    ("cet", 1),
    ("cest", 2),
    ("bst", 1),
];

/// Reads a date written with the year, month and day in any usual order and the time, zone and
/// weekday anywhere around them. A lone number with no place left (Ruby's `Time#to_s` year
/// repeated in `2023-01-29 18:30:22 2023 -0800`) must repeat the year. Ambiguous all-number
/// forms such as `01/03/2015` are refused rather than guessed.
fn loose(text: &str) -> Option<PostDate> {
    let mut parts = Parts::default();
    let spaced = text.replace(',', " ");
    for token in spaced.split_whitespace() {
        loose_token(token, &mut parts)?;
    }
    let (mut hour, minute, second, nanos) = parts.time.unwrap_or((0, 0, 0, 0));
    match parts.pm {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    let day = Date::new(parts.year?, parts.month?, parts.day?).ok()?;
    let datetime = day.to_datetime(jiff::civil::Time::new(hour, minute, second, nanos).ok()?);
    let zone = match parts.offset_seconds {
        Some(s) => TimeZone::fixed(jiff::tz::Offset::from_seconds(s).ok()?),
        None => TimeZone::UTC,
    };
    let timestamp = datetime.to_zoned(zone).ok()?.timestamp();
    Some(PostDate { timestamp, day })
}

fn loose_token(token: &str, parts: &mut Parts) -> Option<()> {
    let lower = token.to_ascii_lowercase();
    let lower = lower.trim_end_matches('.');
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    // A date with separators, possibly with `T` and a time glued on.
    if let Some((date, time)) = lower
        .split_once('t')
        .filter(|(d, _)| d.contains(['-', '/']))
    {
        loose_token(date, parts)?;
        return loose_token(time, parts);
    }
    let pieces: Vec<&str> = lower.split(['-', '/']).collect();
    if pieces.len() == 3 && pieces.iter().all(|p| digits(p)) && pieces[0].len() == 4 {
        parts.year = Some(pieces[0].parse().ok()?);
        parts.month = Some(pieces[1].parse().ok()?);
        parts.day = Some(pieces[2].parse().ok()?);
        return Some(());
    }
    if lower.contains(':') && lower.starts_with(|c: char| c.is_ascii_digit()) {
        // `9:00`, `18:30:22.5`, with `Z`, `+01:00`, `pm` glued on.
        let end = lower
            .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'))
            .unwrap_or(lower.len());
        let (clock, rest) = lower.split_at(end);
        let mut fields = clock.split(':');
        let hour: i8 = fields.next()?.parse().ok()?;
        let minute: i8 = fields.next()?.parse().ok()?;
        let (second, nanos) = match fields.next() {
            None => (0, 0),
            Some(s) => match s.split_once('.') {
                None => (s.parse().ok()?, 0),
                Some((s, frac)) if digits(frac) => {
                    let frac = format!("{frac:0<9}");
                    (s.parse().ok()?, frac.get(..9)?.parse().ok()?)
                }
                Some(_) => return None,
            },
        };
        if fields.next().is_some() || parts.time.is_some() {
            return None;
        }
        parts.time = Some((hour, minute, second, nanos));
        return if rest.is_empty() {
            Some(())
        } else {
            loose_token(rest, parts)
        };
    }
    if let Some(sign) = lower.strip_prefix(['+', '-']) {
        let negative = lower.starts_with('-');
        let hhmm: String = sign.chars().filter(|c| *c != ':').collect();
        if !(digits(&hhmm) && (hhmm.len() == 4 || hhmm.len() == 2))
            || parts.offset_seconds.is_some()
        {
            return None;
        }
        let hours: i32 = hhmm[..2].parse().ok()?;
        let minutes: i32 = hhmm
            .get(2..)
            .filter(|m| !m.is_empty())
            .map_or(Some(0), |m| m.parse().ok())?;
        let seconds = (hours * 60 + minutes) * 60;
        parts.offset_seconds = Some(if negative { -seconds } else { seconds });
        return Some(());
    }
    if let Some((_, hours)) = ZONES.iter().find(|(name, _)| *name == lower) {
        parts.offset_seconds = Some(hours * 3600);
        return Some(());
    }
    if lower == "am" || lower == "pm" {
        parts.pm = Some(lower == "pm");
        return Some(());
    }
    if lower.len() >= 3 && lower.chars().all(|c| c.is_ascii_alphabetic()) {
        if let Some(i) = MONTHS.iter().position(|m| lower.starts_with(m)) {
            if parts.month.is_some() {
                return None;
            }
            parts.month = Some(i8::try_from(i + 1).ok()?);
            return Some(());
        }
        return WEEKDAYS.iter().any(|d| lower.starts_with(d)).then_some(());
    }
    if digits(lower) {
        let n: i32 = lower.parse().ok()?;
        if lower.len() == 4 {
            return match parts.year {
                None => {
                    parts.year = Some(i16::try_from(n).ok()?);
                    Some(())
                }
                Some(y) if i32::from(y) == n => Some(()),
                Some(_) => None,
            };
        }
        if lower.len() <= 2 && parts.day.is_none() {
            parts.day = Some(i8::try_from(n).ok()?);
            return Some(());
        }
        if lower.len() == 2 && parts.year.is_none() && parts.month.is_some() {
            // Go's `02 Jan 06`.
            parts.year = Some(2000 + i16::try_from(n).ok()?);
            return Some(());
        }
    }
    None
}

/// Whether the text after the date part carries an offset (`Z`, `+`, `-`) that the civil
/// date-time parser would have silently dropped.
fn has_offset(text: &str) -> bool {
    let rest = text.get(10..).unwrap_or("");
    let rest = rest.split('[').next().unwrap_or("");
    rest.contains(['Z', 'z', '+', '-'])
}

fn unknown(text: &str) -> String {
    format!(
        "unknown date format {text:?}: expected YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS with an optional \
         Z or +HH:MM offset, YYYY-MM-DD HH:MM:SS +HHMM, or a month by name (1 March 2015); \
         day/month order is never guessed"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> String {
        parse(text)
            .map(|d| d.timestamp.to_string())
            .unwrap_or_else(|e| e)
    }

    #[test]
    fn accepted_forms() {
        assert_eq!(ts("2015-03-01"), "2015-03-01T00:00:00Z");
        assert_eq!(ts("2015-03-01T10:00:00"), "2015-03-01T10:00:00Z");
        assert_eq!(ts("2015-03-01 10:00:00"), "2015-03-01T10:00:00Z");
        assert_eq!(ts("2015-03-01T10:00"), "2015-03-01T10:00:00Z");
        assert_eq!(ts("2015-03-01T10:00:00Z"), "2015-03-01T10:00:00Z");
        assert_eq!(ts("2015-03-01T10:00:00+01:00"), "2015-03-01T09:00:00Z");
        assert_eq!(ts("2015-03-01 10:00:00 +0100"), "2015-03-01T09:00:00Z");
        assert_eq!(ts("2015-03-01 10:00:00 -05:00"), "2015-03-01T15:00:00Z");
        assert_eq!(ts("2015-03-01 10:00 +0100"), "2015-03-01T09:00:00Z");
        assert_eq!(ts("2015-03-01T10:00:00.5+01:00"), "2015-03-01T09:00:00.5Z");
        assert_eq!(
            ts("2015-03-01T10:00:00+01:00[Europe/Paris]"),
            "2015-03-01T09:00:00Z"
        );
    }

    #[test]
    fn looser_forms_jekyll_and_hugo_take() {
        assert_eq!(ts("2019-04-25 9:00:00"), "2019-04-25T09:00:00Z");
        assert_eq!(ts("2019-04-25 9:00"), "2019-04-25T09:00:00Z");
        assert_eq!(ts("2023-01-29 18:30:22 2023 -0800"), "2023-01-30T02:30:22Z");
        assert_eq!(ts("2015/03/01"), "2015-03-01T00:00:00Z");
        assert_eq!(ts("2015-3-1"), "2015-03-01T00:00:00Z");
        assert_eq!(ts("March 1, 2015"), "2015-03-01T00:00:00Z");
        assert_eq!(ts("1 Mar 2015"), "2015-03-01T00:00:00Z");
        assert_eq!(
            ts("Sun, 29 Jan 2023 18:30:22 -0800"),
            "2023-01-30T02:30:22Z"
        );
        assert_eq!(ts("02 Jan 06 15:04 MST"), "2006-01-02T22:04:00Z");
        assert_eq!(ts("2015-03-01 3:05 PM"), "2015-03-01T15:05:00Z");
        assert_eq!(ts("2015-03-01 10:00:00 UTC"), "2015-03-01T10:00:00Z");
        assert_eq!(ts("2015-03-01T9:00:00+01:00"), "2015-03-01T08:00:00Z");
        assert_eq!(
            parse("2019-04-25 9:00:00").unwrap().day.to_string(),
            "2019-04-25"
        );
    }

    #[test]
    fn day_is_as_written() {
        let d = parse("2015-03-01 00:30:00 +0200").unwrap();
        assert_eq!(d.day.to_string(), "2015-03-01");
        assert_eq!(d.timestamp.to_string(), "2015-02-28T22:30:00Z");
    }

    #[test]
    fn rejected_forms() {
        for bad in [
            "01/03/2015",
            "2023-01-29 18:30:22 2024",
            "2015-03-01 10:00 +0100 +0200",
            "2015-13-01",
            "2015-02-30",
            "",
            "2015-03-01 nonsense",
            "2015-03-01é",
            "é",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
