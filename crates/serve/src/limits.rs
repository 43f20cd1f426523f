//! Every bound on a connection and on the process tree, in one place.

use std::time::Duration;

/// The largest request head accepted (414 or 431 past it). A constant, so that the child's
/// read buffer lives on its stack.
pub const MAX_HEAD: usize = 8 * 1024;

/// The longest a render may take (start-up or reload) before its worker is killed: a post on a
/// hung network mount, or a FIFO where forkblog.toml should be, must not wedge a reload.
pub const RENDER_DEADLINE: std::time::Duration = std::time::Duration::from_secs(300);

/// The limits a serving process enforces.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The most children alive at once. At the cap the parent stops accepting (new connections
    /// wait in the kernel's backlog) until a child exits.
    pub max_children: usize,
    /// How long a client may take to send a complete request head (408 after that).
    pub head_timeout: Duration,
    /// How long a keep-alive connection may sit idle between requests.
    pub idle_timeout: Duration,
    /// The most a connection may live, whatever it does: enforced in the child by `alarm()`,
    /// which the kernel delivers even while the child is blocked in `write()`.
    pub lifetime: Duration,
    /// How long SIGTERM waits for in-flight children before killing them.
    pub grace: Duration,
    /// The listen(2) backlog.
    pub backlog: i32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_children: 64,
            head_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(5),
            lifetime: Duration::from_secs(60),
            grace: Duration::from_secs(10),
            backlog: 4096,
        }
    }
}
