//! forkblog: a fork-per-connection HTTP server for a Markdown blog.
//!
//! Where things live:
//! - [`cli`]: every command and flag, declared once; help generated from them.
//! - [`init`]: `forkblog init`, a new site ready to serve and write in.
//! - [`site`]: posts and templates rendered into ready responses (never touched by a child).
//! - [`server`]: the listener, the supervisor loop (accept, fork, close, reap, re-exec), the child
//!   and its HTTP code, and the limits that bound them.
//! - [`logs`]: the access log in Combined Log Format.
//! - [`stats`]: `forkblog stats`, bot traffic in access logs.
//! - [`import`]: `forkblog import`, a Jekyll, Hugo or Zola site moved in.
//! - `sys`: every `unsafe` block, each behind one small safe function; the rest of the crate
//!   denies `unsafe_code`.

#![deny(unsafe_code)]

pub mod acme;
pub mod cli;
pub mod clock;
pub mod import;
pub mod init;
pub mod logs;
pub mod server;
pub mod site;
pub mod stats;
mod sys;
