//! The site, rendered: posts and templates into ready responses ([`site`]), encoded into the
//! snapshot the server maps ([`encode`]), by the render worker the server runs ([`worker`]).
//! A child never runs any of this: it only reads the snapshot (`serve::snapshot`).
//!
//! - [`site`]: reading, rendering and checking a site; incremental reloads.
//! - [`encode`]: heads, gzip bodies and entity tags, computed once at render time.
//! - [`worker`]: `forkblog render-worker`, the process a render runs in.
//! - [`live`]: the preview's live-reload script, added to every page under `serve --watch`.
//! - [`base_url`]: whether the site's `base_url` suits a public address (a warning).

#![deny(unsafe_code)]
// `pub` only where another crate (or an integration test) needs it.
#![warn(unreachable_pub)]

pub mod base_url;
pub mod encode;
pub mod live;
pub mod site;
pub mod worker;
