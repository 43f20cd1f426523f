//! Post dates as bloggers write them: `2015-03-01`, `2015-03-01T10:00:00`, RFC 3339 with a zone,
//! and Jekyll's `2015-03-01 10:00:00 +0100`.

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
    let day = text
        .get(..10)
        .and_then(|prefix| prefix.parse::<Date>().ok())
        .ok_or_else(|| unknown(text))?;
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
    Err(unknown(text))
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
         Z or +HH:MM offset, or YYYY-MM-DD HH:MM:SS +HHMM"
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
    fn day_is_as_written() {
        let d = parse("2015-03-01 00:30:00 +0200").unwrap();
        assert_eq!(d.day.to_string(), "2015-03-01");
        assert_eq!(d.timestamp.to_string(), "2015-02-28T22:30:00Z");
    }

    #[test]
    fn rejected_forms() {
        for bad in [
            "2015/03/01",
            "March 1, 2015",
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
