//! Whether the site's `base_url` can be right for the address it is served on.
//!
//! `base_url` (forkblog.toml) goes into canonical links, the feed and the sitemap. Its default,
//! `http://127.0.0.1:8080`, suits a preview on the same machine and nothing else: a public site
//! left with it advertises an address no reader can open. `serve` warns when it listens on a
//! public address, or behind a front (`--trusted-proxy`), with a loopback `base_url`; `check`
//! notes a loopback `base_url` whatever the address, since it is what one runs before deploying.
//! A path in `base_url` is no such problem: the site is served under it (`site::config`).

use std::net::IpAddr;
use std::path::Path;

/// Whether `url` names this machine only: `localhost`, a loopback or unspecified address.
pub fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    let host = host.to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
}

/// The site's `base_url` if it is loopback (or unset, which is the loopback default); `None`
/// when it is fine or the settings cannot be read (the render reports that).
pub fn loopback_base_url(root: &Path) -> Option<String> {
    let loaded = crate::site::config::load(root).ok()?;
    is_loopback(&loaded.config.base_url).then_some(loaded.config.base_url)
}

/// The warning for a server listening publicly on `root`, if its `base_url` is loopback
/// (what `serve::Settings::public_advice` asks).
pub fn public_advice(root: &Path) -> Option<String> {
    loopback_base_url(root).map(|url| advice(root, &url))
}

/// What to tell someone serving `root` on a public address (or behind a front).
pub fn advice(root: &Path, base_url: &str) -> String {
    format!(
        "base_url is {base_url} (set base_url in {}, or it is the default): canonical links, \
         the feed and the sitemap point readers at this machine's loopback address; set it to \
         the public address, such as base_url = \"https://blog.example.com\"",
        root.join(crate::site::config::FILE_NAME).display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses_are_recognised() {
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost",
            "https://LOCALHOST:8443/blog",
            "http://[::1]:8080",
            "http://0.0.0.0",
            "http://127.1.2.3",
            "http://blog.localhost",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "https://blog.example.com",
            "http://203.0.113.5:8080",
            "http://[2001:db8::1]",
            "https://localhost.example.org",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }
}
