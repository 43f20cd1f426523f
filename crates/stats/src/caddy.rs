//! Reading one line of Caddy's JSON access log (`log { format json }`, the default for `caddy run`).
//!
//! ```text
//! {"ts":1795600000.5,"request":{"remote_ip":"10.0.0.2","client_ip":"203.0.113.9","method":"GET","uri":"/posts/","headers":{"User-Agent":["curl/8.5.0"]}},"size":512,"status":200}
//! ```
//!
//! The fields are decoded into an owned [`CaddyLine`], which lends a [`LogLine`] to the counting
//! code, so every format is counted by the same code.

use super::parse::{LogLine, ParseError};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashMap;

/// One decoded Caddy access-log entry.
#[derive(Debug, Clone)]
pub struct CaddyLine {
    /// The TCP peer (`request.remote_ip`).
    pub peer: String,
    /// The client Caddy resolved through trusted proxies (`request.client_ip`), when logged.
    pub client: Option<String>,
    /// The first address of the X-Forwarded-For request header, when sent.
    pub forwarded: Option<String>,
    /// The time as Common Log Format writes it, in UTC: `22/Nov/2026:10:00:00 +0000`.
    pub time: String,
    /// The method.
    pub method: String,
    /// The request target.
    pub uri: String,
    /// The status code.
    pub status: u16,
    /// Body bytes sent.
    pub size: u64,
    /// The Referer header.
    pub referer: Option<String>,
    /// The User-Agent header (the empty string when none was sent).
    pub user_agent: String,
}

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(default)]
    ts: Option<serde_json::Value>,
    #[serde(borrow)]
    request: Option<Request<'a>>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    size: Option<u64>,
}

#[derive(Deserialize)]
struct Request<'a> {
    #[serde(borrow, default)]
    remote_ip: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    client_ip: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    uri: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    headers: HashMap<Cow<'a, str>, Vec<Cow<'a, str>>>,
}

/// True when a line looks like a JSON object (and so is read as Caddy's format).
pub fn looks_like_json(line: &[u8]) -> bool {
    line.trim_ascii_start().starts_with(b"{")
}

/// Decodes one Caddy JSON access-log line.
pub fn parse_caddy(line: &[u8]) -> Result<CaddyLine, ParseError> {
    let entry: Entry<'_> = serde_json::from_slice(line.trim_ascii()).map_err(|err| {
        if err.is_eof() {
            ParseError::Truncated
        } else {
            ParseError::BadJson
        }
    })?;
    let request = entry.request.ok_or(ParseError::BadJson)?;
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, values)| values.first())
            .map(|value| value.to_string())
    };
    let time = entry
        .ts
        .as_ref()
        .and_then(clf_time)
        .ok_or(ParseError::BadTime)?;
    Ok(CaddyLine {
        peer: request
            .remote_ip
            .as_deref()
            .filter(|ip| !ip.is_empty())
            .ok_or(ParseError::BadClient)?
            .to_string(),
        client: request.client_ip.as_deref().map(str::to_string),
        forwarded: header("X-Forwarded-For").and_then(|list| {
            let first = list.split(',').next()?.trim().to_string();
            (!first.is_empty()).then_some(first)
        }),
        time,
        method: request.method.as_deref().unwrap_or_default().to_string(),
        uri: request.uri.as_deref().unwrap_or_default().to_string(),
        status: entry.status.ok_or(ParseError::BadStatus)?,
        size: entry.size.unwrap_or(0),
        referer: header("Referer"),
        user_agent: header("User-Agent").unwrap_or_default(),
    })
}

impl CaddyLine {
    /// The line as a [`LogLine`], with `client` as the client address.
    pub fn as_log_line<'a>(&'a self, client: &'a str) -> LogLine<'a> {
        LogLine {
            client: client.as_bytes(),
            ident: b"-",
            user: b"-",
            time: self.time.as_bytes(),
            request: b"",
            method: self.method.as_bytes(),
            target: self.uri.as_bytes(),
            status: self.status,
            bytes: self.size,
            referer: Some(self.referer.as_deref().unwrap_or("-").as_bytes()),
            user_agent: Some(self.user_agent.as_bytes()),
            vhost: None,
            forwarded: self.forwarded.as_deref().map(str::as_bytes),
            client_was_list: false,
        }
    }
}

/// Caddy's `ts` (seconds since the epoch, or an RFC 3339 text when `time_format` is set) as
/// `22/Nov/2026:10:00:00 +0000`.
fn clf_time(ts: &serde_json::Value) -> Option<String> {
    let timestamp = match ts {
        serde_json::Value::Number(n) => {
            let seconds = n.as_f64()?;
            if !seconds.is_finite() {
                return None;
            }
            jiff::Timestamp::from_second(seconds.floor() as i64).ok()?
        }
        serde_json::Value::String(text) => text.parse::<jiff::Timestamp>().ok()?,
        _ => return None,
    };
    Some(
        timestamp
            .to_zoned(jiff::tz::TimeZone::UTC)
            .strftime("%d/%b/%Y:%H:%M:%S +0000")
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_caddy_line() {
        let line = br#"{"level":"info","ts":1795600000.5,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"10.0.0.2","remote_port":"5555","client_ip":"203.0.113.9","proto":"HTTP/2.0","method":"GET","host":"blog.example","uri":"/posts/?x=1","headers":{"User-Agent":["curl/8.5.0"],"X-Forwarded-For":["198.51.100.4, 10.0.0.1"]}},"bytes_read":0,"duration":0.001,"size":512,"status":200}"#;
        let caddy = parse_caddy(line).unwrap();
        assert_eq!(caddy.peer, "10.0.0.2");
        assert_eq!(caddy.client.as_deref(), Some("203.0.113.9"));
        assert_eq!(caddy.forwarded.as_deref(), Some("198.51.100.4"));
        assert_eq!(caddy.time, "25/Nov/2026:09:46:40 +0000");
        let log = caddy.as_log_line(&caddy.peer);
        assert_eq!(log.path(), b"/posts/");
        assert_eq!(log.user_agent, Some(&b"curl/8.5.0"[..]));
        assert_eq!(log.status, 200);
    }

    #[test]
    fn broken_json_is_an_error() {
        assert_eq!(
            parse_caddy(br#"{"ts":1,"request":{"#).unwrap_err(),
            ParseError::Truncated
        );
        assert_eq!(parse_caddy(b"{}").unwrap_err(), ParseError::BadJson);
    }
}
