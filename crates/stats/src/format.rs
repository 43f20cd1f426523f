//! The log formats `forkblog stats` reads, which one a line is in, and which address counts as
//! the client when a proxy forwarded the request.

use super::caddy::{looks_like_json, parse_caddy, CaddyLine};
use super::parse::{parse_line_detailed, LogLine, ParseError};
use serde::Serialize;

/// A log format, as told by the line itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// nginx or Apache `combined` (and forkblog's own log).
    Combined,
    /// `combined` with a trailing quoted X-Forwarded-For field (nginx `"$http_x_forwarded_for"`).
    CombinedForwarded,
    /// `combined` with an X-Forwarded-For list in place of the client (`%{X-Forwarded-For}i`).
    CombinedForwardedClient,
    /// Apache `common`: no referer, no user agent.
    Common,
    /// Apache `vhost_combined`: `%v:%p` first.
    VhostCombined,
    /// lighttpd's default: the host where `combined` has the ident.
    Lighttpd,
    /// Caddy's JSON access log.
    CaddyJson,
}

impl Format {
    /// Every format, in the order they are listed to people.
    pub const ALL: [Format; 7] = [
        Format::Combined,
        Format::CombinedForwarded,
        Format::CombinedForwardedClient,
        Format::Common,
        Format::VhostCombined,
        Format::Lighttpd,
        Format::CaddyJson,
    ];

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Format::Combined => "combined (nginx/Apache)",
            Format::CombinedForwarded => "combined + X-Forwarded-For",
            Format::CombinedForwardedClient => "combined, X-Forwarded-For as client",
            Format::Common => "common (Apache)",
            Format::VhostCombined => "vhost_combined (Apache)",
            Format::Lighttpd => "lighttpd",
            Format::CaddyJson => "Caddy JSON",
        }
    }

    /// A dense index into arrays of [`Format::ALL`]'s length.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The formats as one line for error messages.
pub fn all_labels() -> String {
    Format::ALL.map(Format::label).join(", ")
}

/// Which address counts as the client (`--client`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClientChoice {
    /// The forwarded client where the log has one, else the peer.
    #[default]
    Auto,
    /// The first X-Forwarded-For address (Caddy: also its resolved `client_ip`), else the peer.
    Forwarded,
    /// The TCP peer, even behind a proxy.
    Peer,
}

impl ClientChoice {
    /// The choice named on the command line.
    pub fn from_name(name: &str) -> Option<ClientChoice> {
        match name {
            "auto" => Some(ClientChoice::Auto),
            "forwarded" => Some(ClientChoice::Forwarded),
            "peer" => Some(ClientChoice::Peer),
            _ => None,
        }
    }
}

/// One line read in whatever format it is in.
pub enum AnyLine<'a> {
    /// A Combined/Common-family line, borrowing from the input.
    Text(LogLine<'a>, Format),
    /// A Caddy JSON line, decoded.
    Caddy(Box<CaddyLine>),
}

/// Reads a line in any format this module knows.
pub fn parse_any(line: &[u8]) -> Result<AnyLine<'_>, ParseError> {
    if looks_like_json(line) {
        return parse_caddy(line).map(|caddy| AnyLine::Caddy(Box::new(caddy)));
    }
    let parsed = parse_line_detailed(line)?;
    let format = if parsed.vhost.is_some() {
        Format::VhostCombined
    } else if parsed.client_was_list {
        Format::CombinedForwardedClient
    } else if parsed.forwarded.is_some() {
        Format::CombinedForwarded
    } else if parsed.user_agent.is_none() {
        Format::Common
    } else if parsed.ident != b"-" && parsed.ident.iter().any(u8::is_ascii_alphabetic) {
        Format::Lighttpd
    } else {
        Format::Combined
    };
    Ok(AnyLine::Text(parsed, format))
}

/// The client address of a text line under `choice`.
pub fn text_client<'a>(line: &LogLine<'a>, choice: ClientChoice) -> &'a [u8] {
    match choice {
        ClientChoice::Peer => line.client,
        ClientChoice::Auto | ClientChoice::Forwarded => {
            line.forwarded_client().unwrap_or(line.client)
        }
    }
}

/// The client address of a Caddy line under `choice`.
pub fn caddy_client(line: &CaddyLine, choice: ClientChoice) -> &str {
    match choice {
        ClientChoice::Peer => &line.peer,
        ClientChoice::Auto => line.client.as_deref().unwrap_or(&line.peer),
        ClientChoice::Forwarded => line
            .forwarded
            .as_deref()
            .or(line.client.as_deref())
            .unwrap_or(&line.peer),
    }
}
