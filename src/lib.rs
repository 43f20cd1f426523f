//! forkblog: a fork-per-connection HTTP server for a Markdown blog.
//!
//! Where things live (one crate per concern; the compiler keeps the arrows one way):
//! - `crates/serve` ([`server`]): the listener, the parent loop (accept, fork, **close after
//!   fork**, **reap**, **re-exec**), the child and its HTTP code, **limits**, **TLS**, **the
//!   client's address**, the snapshot's layout and `sys.rs`, the one file with `unsafe`.
//! - `crates/render` ([`site`], [`render`]): posts and templates rendered and encoded into the
//!   snapshot (in a worker process; never in a child).
//! - `crates/acme` ([`acme`]): certificates over ACME, a worker the parent schedules.
//! - `crates/stats` ([`stats`]): `forkblog stats`, bot traffic in access logs.
//! - `crates/import` ([`import`]): `forkblog import`, a Jekyll, Hugo or Zola site moved in.
//! - This crate: [`cli`], every command and flag declared once, and [`init`].

#![deny(unsafe_code)]

pub mod cli;
pub mod init;

#[cfg(feature = "https")]
pub use acme;
#[cfg(feature = "import")]
pub use import;
pub use render;
pub use render::site;
pub use serve as server;
pub use serve::{clock, logs};
#[cfg(feature = "stats")]
pub use stats;
