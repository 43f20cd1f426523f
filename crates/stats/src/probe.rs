//! Requests that probe for vulnerable software, told by their path.
//!
//! A Markdown blog has no `/wp-login.php`, `/.env` or `/cgi-bin/`; whoever asks for them is
//! scanning, whatever its user agent claims.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::sync::LazyLock;

/// Path fragments that only scanners ask for on a static blog (matched ignoring ASCII case).
pub const PROBE_FRAGMENTS: &[&str] = &[
    "wp-login.php",
    "xmlrpc.php",
    "/wp-admin",
    "/wp-includes",
    "/wp-content/plugins",
    "/wp-json",
    "/.env",
    "/.git",
    "/.svn/",
    "/.hg/",
    "/.aws/",
    "/.ssh/",
    "/.ds_store",
    "/.htaccess",
    "/.htpasswd",
    "/cgi-bin/",
    "phpmyadmin",
    "/pma/",
    "/phpinfo",
    "/vendor/phpunit",
    "eval-stdin.php",
    "/boaform",
    "/hnap1",
    "/actuator/",
    "/server-status",
    "/owa/auth",
    "/setup.cgi",
    "/shell?",
    "/config.php",
    "/admin.php",
    "/wlwmanifest.xml",
    "/etc/passwd",
    "../",
    "..%2f",
    "%2e%2e",
];

static PROBES: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostFirst)
        .build(PROBE_FRAGMENTS)
        .ok()
});

/// True when a request target (path and query, escapes kept) asks for a known probe path.
pub fn is_probe_path(target: &[u8]) -> bool {
    PROBES
        .as_ref()
        .is_some_and(|probes| probes.is_match(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_and_pages() {
        for path in [
            "/wp-login.php",
            "/blog/xmlrpc.php",
            "/.env",
            "/.git/config",
            "/cgi-bin/luci",
            "/PHPMYADMIN/index.php",
            "/static/../../etc/passwd",
        ] {
            assert!(is_probe_path(path.as_bytes()), "{path}");
        }
        for path in ["/", "/posts/hello/", "/feed.xml", "/posts/environment/"] {
            assert!(!is_probe_path(path.as_bytes()), "{path}");
        }
    }
}
