//! The command line: every command and flag declared once, help generated from the
//! declarations, defaults taken from the settings' own `Default`s.
//!
//! [`run`] reads the command word and hands the rest to that command. A command's arguments are
//! a struct implementing [`Args`], whose [`Flag`]s each carry their name, value, help, default
//! and how they are applied: `parse` and `--help` both read that one list, so a flag cannot be
//! accepted without being documented (ripgrep's `Flag` works the same way). `stats` and
//! `import` declare theirs the same way in their submodules, filling their crates' options.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use lexopt::prelude::*;

use crate::server::{self, client::ClientFrom, limits::Limits, status, Settings};

#[cfg(feature = "import")]
mod import;
#[cfg(feature = "stats")]
mod stats;

/// `import` in a build without it: named in the usage, and saying how to get it.
#[cfg(not(feature = "import"))]
mod import {
    pub(super) fn run(_: lexopt::Parser) -> Result<std::process::ExitCode, super::Usage> {
        Err(super::not_built("import"))
    }
    pub(super) fn options() -> String {
        String::new()
    }
    pub(super) use options as details;
}

/// `stats` in a build without it: named in the usage, and saying how to get it.
#[cfg(not(feature = "stats"))]
mod stats {
    pub(super) fn run(_: lexopt::Parser) -> Result<std::process::ExitCode, super::Usage> {
        Err(super::not_built("stats"))
    }
    pub(super) fn options() -> String {
        String::new()
    }
    pub(super) use options as details;
}

/// A command-line mistake: printed with the command's usage, exit status 2.
#[derive(Debug)]
pub struct Usage(pub String);

impl From<lexopt::Error> for Usage {
    fn from(e: lexopt::Error) -> Usage {
        Usage(e.to_string())
    }
}

/// How a flag changes its command's arguments `A`, reading its value from the parser.
type Apply<A> = fn(&mut A, &mut lexopt::Parser) -> Result<(), Usage>;

/// How a bare word (a command's operand, such as `new`'s TITLE) changes its arguments `A`.
type Word<A> = fn(&mut A, OsString) -> Result<(), Usage>;

/// One flag, declared once: its name, its value's name (none for a switch), what it does, its
/// default, and how it is applied. Parsing and every `--help` are driven by these declarations,
/// so a flag cannot be accepted without being documented.
pub struct Flag<A> {
    /// The long name, without `--`.
    pub name: &'static str,
    /// The value's placeholder, e.g. `DIR`; `None` for a switch.
    pub value: Option<&'static str>,
    /// One line of help.
    pub help: &'static str,
    /// The default, as shown in the help.
    pub default: Option<String>,
    apply: Apply<A>,
}

fn flag<A>(
    name: &'static str,
    value: Option<&'static str>,
    help: &'static str,
    apply: Apply<A>,
) -> Flag<A> {
    Flag {
        name,
        value,
        help,
        default: None,
        apply,
    }
}

impl<A> Flag<A> {
    fn or(mut self, default: impl ToString) -> Flag<A> {
        self.default = Some(default.to_string());
        self
    }
}

/// Reads a command's arguments: each `--name` through its declaration in `A::flags()`, `--help`,
/// and bare words through `word` (`None` when the command takes none). `Ok(None)` means help
/// was asked for and printed.
fn parse<A: Args>(
    parser: &mut lexopt::Parser,
    command: &str,
    word: Option<Word<A>>,
) -> Result<Option<A>, Usage> {
    let flags = A::flags();
    let mut args = A::default();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("help") | Short('h') => {
                help(command);
                return Ok(None);
            }
            Long(name) => {
                let name = name.to_string();
                let f = flags
                    .iter()
                    .find(|f| f.name == name)
                    .ok_or_else(|| Usage(format!("unknown option '--{name}'")))?;
                (f.apply)(&mut args, parser)?;
            }
            Value(v) => match word {
                Some(word) => word(&mut args, v)?,
                None => return Err(Value(v).unexpected().into()),
            },
            other => return Err(other.unexpected().into()),
        }
    }
    Ok(Some(args))
}

/// A command's arguments, filled by the flags declared for them.
trait Args: Default {
    /// Every flag of the command, in the order `--help` lists them.
    fn flags() -> Vec<Flag<Self>>;
}

/// One command: its name, its synopsis, what it does, its flags' help, and what runs it.
struct Command {
    name: &'static str,
    synopsis: &'static str,
    about: &'static str,
    /// Paragraphs for the command's own `--help`, after the synopsis (often empty).
    details: fn() -> String,
    /// The command's OPTIONS lines.
    options: fn() -> String,
    run: fn(lexopt::Parser) -> Result<ExitCode, Usage>,
}

const COMMANDS: &[Command] = &[
    Command {
        name: "init",
        synopsis: "DIR [--title T] [--base-url URL] [--author A] [--templates]",
        about: "create a new site in DIR (asks on a terminal for what is not given)",
        details: String::new,
        options: flag_lines::<InitArgs>,
        run: init,
    },
    Command {
        name: "serve",
        synopsis: "[OPTIONS]",
        about: "serve the blog (posts/, templates/) until SIGTERM",
        details: String::new,
        options: flag_lines::<ServeArgs>,
        run: serve,
    },
    Command {
        name: "check",
        synopsis: "[--root DIR] [--user NAME] [--strict]",
        about: "render everything, report every problem with file:line",
        details: String::new,
        options: flag_lines::<CheckArgs>,
        run: check,
    },
    Command {
        name: "build",
        synopsis: "--out DIR [--root DIR]",
        about: "write the whole site as static files",
        details: String::new,
        options: flag_lines::<BuildArgs>,
        run: build,
    },
    Command {
        name: "new",
        synopsis: "TITLE [--root DIR]",
        about: "create a dated post and print its path",
        details: String::new,
        options: flag_lines::<NewArgs>,
        run: new,
    },
    Command {
        name: "reload",
        synopsis: "[--root DIR | --lock PATH]",
        about: "reload the running server; wait for the outcome",
        details: String::new,
        options: flag_lines::<ReloadArgs>,
        run: reload,
    },
    Command {
        name: "import",
        synopsis: "jekyll|hugo|zola SRC [--root DIR]",
        about: "move a site in, keeping every old URL",
        details: import::details,
        options: import::options,
        run: import::run,
    },
    Command {
        name: "stats",
        synopsis: "[OPTIONS] [FILE...]",
        about: "how much of an access log is bots",
        details: stats::details,
        options: stats::options,
        run: stats::run,
    },
];

const SIGNALS: &str = "\
SIGNALS (serve):
    HUP        re-render; if that succeeds, re-exec in place (same PID, same socket);
               if it fails, keep serving the old site and log the problems
               ('forkblog reload' sends it and waits for the outcome)
    TERM, INT  stop accepting, let in-flight connections finish (up to --grace), exit 0
    USR1       reopen the access log (for logrotate)

ENVIRONMENT:
    RUST_LOG               diagnostics level on stderr [default: info]
    LISTEN_FDS/LISTEN_PID  a listening socket passed by systemd is used instead of --listen

EXIT STATUS:
    0 success, 1 error, 2 usage error, 3 already running (another instance holds the lock)
";

/// The whole usage: every command, then every command's flags.
pub fn usage() -> String {
    let mut out =
        String::from("forkblog: a fork-per-connection server for a Markdown blog\n\nUSAGE:\n");
    for c in COMMANDS {
        let synopsis = format!("forkblog {} {}", c.name, c.synopsis);
        match synopsis.len() {
            // A synopsis too long for its column gets a line of its own.
            n if n >= 40 => out.push_str(&format!("    {synopsis}\n    {:<40}{}\n", "", c.about)),
            _ => out.push_str(&format!("    {synopsis:<40}{}\n", c.about)),
        }
    }
    for c in COMMANDS {
        let options = (c.options)();
        if !options.is_empty() {
            out.push_str(&format!("\n{} OPTIONS:\n", c.name.to_uppercase()));
            out.push_str(&options);
        }
    }
    out.push('\n');
    out.push_str(SIGNALS);
    out
}

/// One command's usage, for `forkblog CMD --help` and its usage errors.
fn command_usage(c: &Command) -> String {
    let mut details = (c.details)();
    if !details.is_empty() {
        details.push('\n');
    }
    format!(
        "forkblog {}: {}\n\nUSAGE:\n    forkblog {} {}\n\n{details}OPTIONS:\n{}    {:<22} print this help\n",
        c.name,
        c.about,
        c.name,
        c.synopsis,
        (c.options)(),
        "--help"
    )
}

/// `text` with each paragraph's words filled into lines of at most 90 columns (a longer word
/// gets a line of its own), for a command's [`Command::details`].
#[cfg(any(feature = "stats", feature = "import"))]
fn wrap(text: &str) -> String {
    let mut out = String::new();
    for paragraph in text.split("\n\n") {
        let mut width = 0;
        for word in paragraph.split_whitespace() {
            if width > 0 && width + 1 + word.len() > 90 {
                out.push('\n');
                width = 0;
            } else if width > 0 {
                out.push(' ');
                width += 1;
            }
            out.push_str(word);
            width += word.len();
        }
        out.push_str("\n\n");
    }
    out.truncate(out.len() - 1);
    out
}

/// The OPTIONS lines of the command whose arguments are `A`.
fn flag_lines<A: Args>() -> String {
    let mut out = String::new();
    for f in A::flags() {
        let left = match f.value {
            Some(v) => format!("--{} {v}", f.name),
            None => format!("--{}", f.name),
        };
        // At least one space between a flag and its help, however long the flag.
        out.push_str(&format!("    {left:<22} {}", f.help));
        if let Some(d) = &f.default {
            out.push_str(&format!(" [default: {d}]"));
        }
        out.push('\n');
    }
    out
}

/// Runs `forkblog ARGS...` (without the program name).
pub fn run(args: Vec<OsString>) -> ExitCode {
    let mut parser = lexopt::Parser::from_args(args);
    let word = match parser.next() {
        Ok(Some(Value(word))) => word.string(),
        Ok(Some(Long("help") | Short('h'))) => {
            print!("{}", usage());
            return ExitCode::SUCCESS;
        }
        Ok(Some(Long("version") | Short('V'))) => {
            println!("forkblog {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Ok(Some(other)) => Err(other.unexpected()),
        Ok(None) => return usage_error("a command is required", &usage()),
        Err(e) => Err(e),
    };
    let word = match word {
        Ok(word) => word,
        Err(e) => return usage_error(&e.to_string(), &usage()),
    };
    if word == server::render_job::WORKER_COMMAND {
        // Hidden: the server runs it to render (see serve's render_job.rs); not for people.
        return render::worker::worker(
            &parser
                .raw_args()
                .map(|a| a.collect::<Vec<_>>())
                .unwrap_or_default(),
        );
    }
    if word == "help" {
        print!("{}", usage());
        return ExitCode::SUCCESS;
    }
    let Some(command) = COMMANDS.iter().find(|c| c.name == word) else {
        return usage_error(&format!("unknown command '{word}'"), &usage());
    };
    match (command.run)(parser) {
        Ok(code) => code,
        Err(Usage(message)) => {
            eprintln!(
                "forkblog {}: {message}\n\n{}",
                command.name,
                command_usage(command)
            );
            ExitCode::from(2)
        }
    }
}

fn usage_error(message: &str, usage: &str) -> ExitCode {
    eprintln!("forkblog: {message}\n\n{usage}");
    ExitCode::from(2)
}

/// `--help` for a command: prints its usage.
fn help(name: &str) {
    if let Some(c) = COMMANDS.iter().find(|c| c.name == name) {
        print!("{}", command_usage(c));
    }
}

/// What `serve`'s flags set. (Without HTTPS built in, the TLS and ACME fields stay unset.)
#[derive(Default)]
#[cfg_attr(not(feature = "https"), allow(dead_code))]
struct ServeArgs {
    settings: Settings,
    inetd: bool,
    readers: Option<status::Readers>,
    tls_listen: Option<std::net::SocketAddr>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    hsts: bool,
    acme_domains: Vec<String>,
    acme_email: Option<String>,
    acme_directory: Option<String>,
    acme_ca: Option<PathBuf>,
    state_dir: Option<PathBuf>,
    force_public: bool,
    /// `--client-from`, or `--proxy-protocol`, as written.
    client_from: Option<ClientFrom>,
}

impl Args for ServeArgs {
    fn flags() -> Vec<Flag<ServeArgs>> {
        // Fixes the arguments' type once, for every closure below.
        let flag = flag::<Self>;
        let d = Settings::default();
        let l = Limits::default();
        vec![
            flag(
                "root",
                Some("DIR"),
                "blog root holding posts/, templates/, forkblog.toml",
                |a, p| set(&mut a.settings.root, p.value()?.into()),
            )
            .or(d.root.display()),
            flag(
                "listen",
                Some("ADDR:PORT"),
                "address to listen on, IPv4 or [IPv6]",
                |a, p| set(&mut a.settings.listen, address("listen", p)?),
            )
            .or(d.listen),
            flag(
                "access-log",
                Some("PATH"),
                "Combined Log Format access log, '-' for stderr",
                |a, p| set(&mut a.settings.access_log, p.value()?.string()?),
            )
            .or(&d.access_log),
            flag("lock", Some("PATH"), "single-instance lock file", |a, p| {
                set(&mut a.settings.lock, Some(p.value()?.into()))
            })
            .or("ACCESS_LOG.lock"),
            flag(
                "max-children",
                Some("N"),
                "most connections served at once",
                |a, p| match p.value()?.parse()? {
                    0 => Err(Usage("--max-children must be at least 1".into())),
                    n => set(&mut a.settings.limits.max_children, n),
                },
            )
            .or(l.max_children),
            flag(
                "head-timeout",
                Some("SECS"),
                "time allowed to send a request head",
                |a, p| set(&mut a.settings.limits.head_timeout, seconds(p)?),
            )
            .or(l.head_timeout.as_secs()),
            flag(
                "idle-timeout",
                Some("SECS"),
                "keep-alive idle time between requests",
                |a, p| set(&mut a.settings.limits.idle_timeout, seconds(p)?),
            )
            .or(l.idle_timeout.as_secs()),
            flag(
                "lifetime",
                Some("SECS"),
                "longest a connection may live",
                |a, p| set(&mut a.settings.limits.lifetime, seconds(p)?),
            )
            .or(l.lifetime.as_secs()),
            flag(
                "grace",
                Some("SECS"),
                "on SIGTERM, time given to in-flight connections",
                |a, p| set(&mut a.settings.limits.grace, seconds(p)?),
            )
            .or(l.grace.as_secs()),
            flag(
                "user",
                Some("NAME"),
                "when started as root, the user to serve as",
                |a, p| set(&mut a.settings.user, Some(p.value()?.string()?)),
            )
            .or(server::privileges::DEFAULT_USER),
            flag(
                "inetd",
                None,
                "serve one connection already on stdin/stdout (Accept=yes)",
                |a, _| set(&mut a.inetd, true),
            ),
            flag(
                "status-path",
                Some("PATH"),
                "status endpoint (JSON, ?format=prometheus), or 'off'",
                |a, p| {
                    let path = p.value()?.string()?;
                    a.settings.status.path = match path.as_str() {
                        "off" => None,
                        s if s.starts_with('/') => Some(path),
                        _ => {
                            return Err(Usage(format!(
                                "--status-path wants a path starting with / or 'off', not '{path}'"
                            )))
                        }
                    };
                    Ok(())
                },
            )
            .or(status::DEFAULT_PATH),
            flag(
                "status-allow",
                Some("IP"),
                "a client allowed to read it (repeatable), or 'any'",
                |a, p| {
                    let text = p.value()?.string()?;
                    let readers = a.readers.get_or_insert(status::Readers::Only(Vec::new()));
                    if text == "any" {
                        *readers = status::Readers::Anyone;
                    } else if let status::Readers::Only(list) = readers {
                        list.push(text.parse().map_err(|_| {
                            Usage(format!(
                                "--status-allow wants an IP address or 'any', not '{text}'"
                            ))
                        })?);
                    }
                    Ok(())
                },
            )
            .or("127.0.0.1 and ::1"),
            flag(
                "trusted-proxy",
                Some("CIDR"),
                "a front whose word names the client (repeatable)",
                |a, p| {
                    let text = p.value()?.string()?;
                    let range = text
                        .parse()
                        .map_err(|e| Usage(format!("--trusted-proxy: {e}")))?;
                    a.settings.trust.proxies.push(range);
                    Ok(())
                },
            )
            .or("none"),
            flag(
                "client-from",
                Some("SOURCE"),
                "the only place trusted fronts name the client: peer|proxy-protocol|\
                 x-forwarded-for|forwarded|x-real-ip",
                |a, p| {
                    let from = p
                        .value()?
                        .string()?
                        .parse()
                        .map_err(|e| Usage(format!("--client-from: {e}")))?;
                    a.client_from(from)
                },
            )
            .or(format!(
                "{}, with --trusted-proxy",
                ClientFrom::default().name()
            )),
            flag(
                "proxy-protocol",
                None,
                "the same as --client-from proxy-protocol",
                |a, _| a.client_from(ClientFrom::ProxyProtocol),
            ),
        ]
        .into_iter()
        .chain(https_flags())
        .chain([
            flag(
                "watchdog",
                Some("SECS"),
                "how often the parent checks its fds and children",
                |a, p| set(&mut a.settings.watchdog_interval, seconds(p)?),
            )
            .or(d.watchdog_interval.as_secs()),
            flag(
                "watch",
                None,
                "preview while writing: reload on edits, open pages follow, errors shown",
                |a, _| set(&mut a.settings.watch, true),
            ),
            flag(
                "drafts",
                None,
                "preview: include drafts, marked \"Draft\"",
                |a, _| set(&mut a.settings.drafts, true),
            ),
            flag(
                "force-public",
                None,
                "allow --watch/--drafts on a non-loopback --listen",
                |a, _| set(&mut a.force_public, true),
            ),
        ])
        .collect()
    }
}

/// `serve`'s HTTPS and ACME flags: only in a build with HTTPS (feature `https`).
#[cfg(feature = "https")]
fn https_flags() -> Vec<Flag<ServeArgs>> {
    let flag = flag::<ServeArgs>;
    vec![
        flag(
            "tls-listen",
            Some("ADDR:PORT"),
            "also serve HTTPS here (plain HTTP then redirects to it)",
            |a, p| set(&mut a.tls_listen, Some(address("tls-listen", p)?)),
        ),
        flag(
            "tls-cert",
            Some("PEM"),
            "certificate chain for --tls-listen (re-read on SIGHUP)",
            |a, p| set(&mut a.tls_cert, Some(p.value()?.into())),
        ),
        flag(
            "tls-key",
            Some("PEM"),
            "private key of --tls-cert",
            |a, p| set(&mut a.tls_key, Some(p.value()?.into())),
        ),
        flag(
            "hsts",
            None,
            "send Strict-Transport-Security (one year) over HTTPS",
            |a, _| set(&mut a.hsts, true),
        ),
        flag(
            "acme-domain",
            Some("NAME"),
            "get and renew a certificate for NAME over ACME (repeatable)",
            |a, p| {
                a.acme_domains.push(p.value()?.string()?);
                Ok(())
            },
        ),
        flag(
            "acme-email",
            Some("ADDR"),
            "contact address given to the certificate authority",
            |a, p| set(&mut a.acme_email, Some(p.value()?.string()?)),
        ),
        flag(
            "acme-directory",
            Some("URL"),
            "the ACME directory (e.g. a staging one for a first try)",
            |a, p| set(&mut a.acme_directory, Some(p.value()?.string()?)),
        )
        .or(crate::acme::LETS_ENCRYPT),
        flag(
            "acme-ca",
            Some("PEM"),
            "extra root to trust for the ACME directory (a test CA)",
            |a, p| set(&mut a.acme_ca, Some(p.value()?.into())),
        ),
        flag(
            "state-dir",
            Some("DIR"),
            "where the ACME account, key and certificate are kept",
            |a, p| set(&mut a.state_dir, Some(p.value()?.into())),
        )
        .or(crate::acme::DEFAULT_STATE_DIR),
    ]
}

/// Without HTTPS built in, `serve` has no TLS flags: `--tls-listen` is an unknown option.
#[cfg(not(feature = "https"))]
fn https_flags() -> Vec<Flag<ServeArgs>> {
    Vec::new()
}

/// Stores a flag's value: the common body of a flag's `apply`.
fn set<T>(slot: &mut T, value: T) -> Result<(), Usage> {
    *slot = value;
    Ok(())
}

impl ServeArgs {
    /// Records where the client's address comes from: one source, however many times named.
    fn client_from(&mut self, from: ClientFrom) -> Result<(), Usage> {
        if self.client_from.is_some_and(|before| before != from) {
            return Err(Usage(
                "one source of the client's address: --client-from (or --proxy-protocol) given \
                 twice with different sources"
                    .into(),
            ));
        }
        self.client_from = Some(from);
        Ok(())
    }

    /// The settings, once the flags that only make sense together have been checked.
    fn finish(mut self) -> Result<(Settings, bool), Usage> {
        if let Some(readers) = self.readers {
            self.settings.status.readers = readers;
        }
        let preview = self.settings.watch || self.settings.drafts;
        if preview && !self.settings.listen.ip().is_loopback() && !self.force_public {
            return Err(Usage(format!(
                "--watch and --drafts are for a preview on this machine, not on {}: listen on \
                 127.0.0.1 or [::1], or add --force-public",
                self.settings.listen
            )));
        }
        let trusted = !self.settings.trust.proxies.is_empty();
        match self.client_from {
            Some(ClientFrom::Peer) if trusted => {
                return Err(Usage(
                    "--client-from peer believes no front: drop --trusted-proxy, or say where \
                     the front names the client"
                        .into(),
                ))
            }
            Some(from) if from != ClientFrom::Peer && !trusted => {
                return Err(Usage(format!(
                    "--client-from {} needs --trusted-proxy CIDR: only a trusted front's word is \
                     read",
                    from.name()
                )))
            }
            Some(from) => self.settings.trust.client_from = from,
            None => {}
        }
        #[cfg(feature = "https")]
        if !self.acme_domains.is_empty() {
            if self.tls_cert.is_some() || self.tls_key.is_some() {
                return Err(Usage(
                    "--acme-domain gets the certificate itself: drop --tls-cert and --tls-key"
                        .into(),
                ));
            }
            let Some(listen) = self.tls_listen else {
                return Err(Usage("--acme-domain needs --tls-listen ADDR:PORT".into()));
            };
            let acme = crate::acme::Settings {
                domains: self.acme_domains,
                email: self.acme_email,
                directory: self
                    .acme_directory
                    .unwrap_or_else(|| crate::acme::LETS_ENCRYPT.into()),
                directory_ca: self.acme_ca,
                state_dir: self
                    .state_dir
                    .unwrap_or_else(|| crate::acme::DEFAULT_STATE_DIR.into()),
            };
            self.settings.tls = Some(server::TlsSettings {
                listen,
                files: acme.files(),
                hsts: self.hsts,
            });
            self.settings.acme = Some(std::sync::Arc::new(acme));
            return Ok((self.settings, self.inetd));
        }
        if self.acme_email.is_some() || self.acme_directory.is_some() || self.acme_ca.is_some() {
            return Err(Usage(
                "--acme-email, --acme-directory and --acme-ca go with --acme-domain".into(),
            ));
        }
        self.settings.tls = match (self.tls_listen, self.tls_cert, self.tls_key) {
            (Some(listen), Some(cert), Some(key)) => Some(server::TlsSettings {
                listen,
                files: server::tls::Files {
                    cert,
                    key,
                    missing_ok: false,
                },
                hsts: self.hsts,
            }),
            (Some(_), _, _) => {
                return Err(Usage(
                    "--tls-listen needs --tls-cert FILE and --tls-key FILE".into(),
                ))
            }
            (None, None, None) if !self.hsts => None,
            (None, ..) => {
                return Err(Usage(
                    "--tls-cert, --tls-key and --hsts go with --tls-listen ADDR:PORT".into(),
                ))
            }
        };
        if self.inetd && self.settings.tls.is_some() {
            return Err(Usage(
                "--inetd serves plain HTTP only; drop the --tls flags".into(),
            ));
        }
        Ok((self.settings, self.inetd))
    }
}

fn address(flag: &str, parser: &mut lexopt::Parser) -> Result<std::net::SocketAddr, Usage> {
    let text = parser.value()?.string()?;
    text.parse().map_err(|_| {
        Usage(format!(
            "--{flag} wants ADDR:PORT such as 127.0.0.1:8080 or [::1]:8080, not '{text}'"
        ))
    })
}

/// The longest any timeout or interval may be: a year. Past that a typo, not a setting.
const MAX_SECONDS: u64 = 365 * 24 * 3600;

fn seconds(parser: &mut lexopt::Parser) -> Result<Duration, Usage> {
    let value: u64 = parser.value()?.parse()?;
    if !(1..=MAX_SECONDS).contains(&value) {
        return Err(Usage(format!(
            "times must be from 1 to {MAX_SECONDS} seconds, not {value}"
        )));
    }
    Ok(Duration::from_secs(value))
}

fn serve(mut parser: lexopt::Parser) -> Result<ExitCode, Usage> {
    let Some(args) = parse::<ServeArgs>(&mut parser, "serve", None)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let (mut settings, inetd) = args.finish()?;
    // What the server learns of the site from the site's own crate.
    settings.sources = crate::site::SOURCES;
    settings.public_advice = Some(render::base_url::public_advice);
    let result = match inetd {
        true => server::inetd(settings),
        false => server::serve(settings),
    };
    Ok(result.unwrap_or_else(|error| {
        eprintln!("forkblog: {error}");
        ExitCode::from(error.code)
    }))
}

/// `--root`, as the commands that work on a site's files declare it.
fn root_flag<A>(apply: Apply<A>) -> Flag<A> {
    flag(
        "root",
        Some("DIR"),
        "blog root holding posts/, templates/, forkblog.toml",
        apply,
    )
    .or(".")
}

/// What `check`'s flags set.
struct CheckArgs {
    root: PathBuf,
    user: Option<String>,
    strict: bool,
}

impl Default for CheckArgs {
    fn default() -> CheckArgs {
        CheckArgs {
            root: PathBuf::from("."),
            user: None,
            strict: false,
        }
    }
}

impl Args for CheckArgs {
    fn flags() -> Vec<Flag<CheckArgs>> {
        // Fixes the arguments' type once, for every closure below.
        let flag = flag::<Self>;
        vec![
            root_flag(|a, p| set(&mut a.root, p.value()?.into())),
            flag(
                "user",
                Some("NAME"),
                "run as root: check the site as this user (serve's --user) would read it",
                |a, p| set(&mut a.user, Some(p.value()?.string()?)),
            )
            .or(server::privileges::DEFAULT_USER),
            flag(
                "strict",
                None,
                "exit 1 on warnings too (a post dated by its file, leftover template syntax, a \
                 broken link), not only on errors",
                |a, _| set(&mut a.strict, true),
            ),
        ]
    }
}

/// What `build`'s flags set.
struct BuildArgs {
    out: Option<PathBuf>,
    root: PathBuf,
}

impl Default for BuildArgs {
    fn default() -> BuildArgs {
        BuildArgs {
            out: None,
            root: PathBuf::from("."),
        }
    }
}

impl Args for BuildArgs {
    fn flags() -> Vec<Flag<BuildArgs>> {
        // Fixes the arguments' type once, for every closure below.
        let flag = flag::<Self>;
        vec![
            flag(
                "out",
                Some("DIR"),
                "where to write the files (required)",
                |a, p| set(&mut a.out, Some(p.value()?.into())),
            ),
            root_flag(|a, p| set(&mut a.root, p.value()?.into())),
        ]
    }
}

/// What `new`'s flags and word set.
struct NewArgs {
    title: Option<String>,
    root: PathBuf,
}

impl Default for NewArgs {
    fn default() -> NewArgs {
        NewArgs {
            title: None,
            root: PathBuf::from("."),
        }
    }
}

impl Args for NewArgs {
    fn flags() -> Vec<Flag<NewArgs>> {
        vec![root_flag(|a, p| set(&mut a.root, p.value()?.into()))]
    }
}

/// What `init`'s flags and word set.
#[derive(Default)]
struct InitArgs {
    options: crate::init::Options,
    dir: Option<PathBuf>,
}

impl Args for InitArgs {
    fn flags() -> Vec<Flag<InitArgs>> {
        // Fixes the arguments' type once, for every closure below.
        let flag = flag::<Self>;
        let d = crate::site::config::Config::default();
        vec![
            flag("title", Some("TEXT"), "the blog's name", |a, p| {
                set(&mut a.options.title, Some(p.value()?.string()?))
            })
            .or(d.title),
            flag(
                "base-url",
                Some("URL"),
                "where readers will reach it (feed and sitemap links)",
                |a, p| set(&mut a.options.base_url, Some(p.value()?.string()?)),
            )
            .or(d.base_url),
            flag(
                "author",
                Some("NAME"),
                "the author named in the feed",
                |a, p| set(&mut a.options.author, Some(p.value()?.string()?)),
            )
            .or("$USER"),
            flag(
                "templates",
                None,
                "also copy the built-in templates and stylesheet out to edit",
                |a, _| set(&mut a.options.templates, true),
            ),
        ]
    }
}

/// What `reload`'s flags set.
struct ReloadArgs {
    settings: Settings,
    root: Option<PathBuf>,
    timeout: Duration,
}

impl Default for ReloadArgs {
    fn default() -> ReloadArgs {
        ReloadArgs {
            settings: Settings::default(),
            root: None,
            timeout: DEFAULT_RELOAD_WAIT,
        }
    }
}

impl Args for ReloadArgs {
    fn flags() -> Vec<Flag<ReloadArgs>> {
        // Fixes the arguments' type once, for every closure below.
        let flag = flag::<Self>;
        vec![
            flag(
                "root",
                Some("DIR"),
                "where the server was started (relative --lock/--access-log paths)",
                |a, p| set(&mut a.root, Some(p.value()?.into())),
            )
            .or("."),
            flag("lock", Some("PATH"), "the server's --lock", |a, p| {
                set(&mut a.settings.lock, Some(p.value()?.into()))
            })
            .or("ACCESS_LOG.lock"),
            flag(
                "access-log",
                Some("PATH"),
                "the server's --access-log",
                |a, p| set(&mut a.settings.access_log, p.value()?.string()?),
            )
            .or(server::DEFAULT_ACCESS_LOG),
            flag(
                "timeout",
                Some("SECS"),
                "how long to wait for the outcome",
                |a, p| set(&mut a.timeout, seconds(p)?),
            )
            .or(DEFAULT_RELOAD_WAIT.as_secs()),
        ]
    }
}

/// How long `forkblog reload` waits by default: under systemd's default reload timeout (90 s).
const DEFAULT_RELOAD_WAIT: Duration = Duration::from_secs(80);

fn check(mut parser: lexopt::Parser) -> Result<ExitCode, Usage> {
    let Some(CheckArgs { root, user, strict }) = parse(&mut parser, "check", None)? else {
        return Ok(ExitCode::SUCCESS);
    };
    // Root reads everything: what matters is whether the user serve drops to can.
    match server::privileges::service_account(user.as_deref()) {
        Ok(Some(account)) => {
            if let Some(problem) = server::privileges::unreadable_for(&root, &account) {
                eprintln!("{}: {problem}", root.display());
                return Ok(ExitCode::FAILURE);
            }
            eprintln!(
                "note: run as root; serve would drop to {} (uid {}), who can read {}",
                account.name,
                account.uid,
                root.display()
            );
        }
        Ok(None) => {}
        Err(e) => {
            eprintln!("forkblog: {e}");
            return Ok(ExitCode::FAILURE);
        }
    }
    let build = crate::site::build(&root);
    print_problems(&build.problems);
    let warnings = build.problems.iter().filter(|p| p.is_warning()).count();
    let errors = build.problems.len() - warnings;
    if let Some(advice) = render::base_url::public_advice(&root) {
        eprintln!("warning: {advice} (fine for a preview on this machine)");
    }
    match (&build.site, errors) {
        (Some(site), 0) if warnings == 0 || !strict => {
            let what = match warnings {
                0 => "no problems".to_string(),
                n => format!("{n} warning(s) (listed above; --strict makes them fatal)"),
            };
            println!(
                "ok: {} posts, {} resources, {what}",
                site.post_count,
                site.resources.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        (Some(_), 0) => {
            eprintln!("{warnings} warning(s) and --strict: failing");
            Ok(ExitCode::FAILURE)
        }
        (Some(_), n) => {
            eprintln!("{n} error(s), {warnings} warning(s); broken posts would be skipped at start-up and a reload would keep the old site");
            Ok(ExitCode::FAILURE)
        }
        (None, n) => {
            eprintln!("{n} problem(s); nothing can be served");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Each problem on stderr, marked as a warning or an error.
fn print_problems(problems: &[crate::site::Problem]) {
    for problem in problems {
        let kind = if problem.is_warning() {
            "warning"
        } else {
            "error"
        };
        eprintln!("{kind}: {problem}");
    }
}

fn build(mut parser: lexopt::Parser) -> Result<ExitCode, Usage> {
    let Some(BuildArgs { out, root }) = parse(&mut parser, "build", None)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let out = out.ok_or_else(|| Usage("build needs --out DIR".into()))?;
    let build = crate::site::build(&root);
    print_problems(&build.problems);
    let Some(site) = build.site else {
        eprintln!("nothing to export");
        return Ok(ExitCode::FAILURE);
    };
    match crate::site::export(&site, &out) {
        Ok(()) => {
            println!(
                "wrote {} files to {}",
                site.resources.len() + 1,
                out.display()
            );
            // Warnings leave the site whole: a deploy script may go on.
            Ok(if build.problems.iter().all(|p| p.is_warning()) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Err(e) => {
            eprintln!("forkblog: exporting to {}: {e}", out.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

fn new(mut parser: lexopt::Parser) -> Result<ExitCode, Usage> {
    let word: Word<NewArgs> = |a, v| match a.title {
        None => set(&mut a.title, Some(v.string()?)),
        Some(_) => Err(Usage(format!("unexpected argument {v:?}"))),
    };
    let Some(NewArgs { title, root }) = parse(&mut parser, "new", Some(word))? else {
        return Ok(ExitCode::SUCCESS);
    };
    let title = title.ok_or_else(|| Usage("new needs a TITLE".into()))?;
    match crate::site::new_post(&root, &title) {
        Ok(path) => {
            println!("{}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(problem) => {
            eprintln!("forkblog: {problem}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn init(mut parser: lexopt::Parser) -> Result<ExitCode, Usage> {
    let word: Word<InitArgs> = |a, v| match a.dir {
        None => set(&mut a.dir, Some(v.into())),
        Some(_) => Err(Usage(format!("unexpected argument {v:?}"))),
    };
    let Some(InitArgs { mut options, dir }) = parse(&mut parser, "init", Some(word))? else {
        return Ok(ExitCode::SUCCESS);
    };
    options.dir = dir.ok_or_else(|| Usage("init needs a DIR for the new site".into()))?;
    match crate::init::run(&options) {
        Ok(next_steps) => {
            print!("{next_steps}");
            Ok(ExitCode::SUCCESS)
        }
        Err(problem) => {
            eprintln!("forkblog: {problem}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn reload(mut parser: lexopt::Parser) -> Result<ExitCode, Usage> {
    let Some(ReloadArgs {
        settings,
        root,
        timeout,
    }) = parse(&mut parser, "reload", None)?
    else {
        return Ok(ExitCode::SUCCESS);
    };
    let lock = match root {
        Some(root) => root.join(settings.lock_path()),
        None => settings.lock_path(),
    };
    match server::reload::run(&lock, timeout) {
        Ok(summary) => {
            println!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            eprintln!("forkblog: {problems}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// What a command left out of this build says.
#[cfg(not(all(feature = "import", feature = "stats")))]
fn not_built(command: &str) -> Usage {
    Usage(format!(
        "this forkblog is built without `{command}`: build it with the Cargo feature \
         `{command}` (on by default)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// README's synopsis of `command` in its Commands block: the command's line and the
    /// indented lines that continue it.
    fn readme_synopsis(command: &str) -> String {
        let readme = include_str!("../README.md");
        let block = &readme[readme
            .find("### Commands")
            .expect("README has ### Commands")..];
        let at = block
            .find(&format!("\nforkblog {command} "))
            .unwrap_or_else(|| panic!("README's Commands lack forkblog {command}"));
        let mut lines = block[at + 1..].lines();
        let mut synopsis = lines.next().unwrap_or_default().to_string();
        for line in lines.take_while(|l| l.starts_with(' ')) {
            synopsis.push_str(line);
        }
        synopsis
    }

    /// Every flag `A` declares, which is every flag the command's parser accepts, is named in
    /// the command's `--help` and in its synopsis in the README, which names no other; any other
    /// is refused. (Every flag in the help accepted runs the binary: tests/cli.rs.)
    fn declared_flags_are_documented<A: Args>(command: &str) -> &str {
        let help = command_usage(COMMANDS.iter().find(|c| c.name == command).unwrap());
        let readme = readme_synopsis(command);
        for f in A::flags() {
            let name = format!("--{}", f.name);
            assert!(help.contains(&name), "{command} --help lacks {name}");
            assert!(
                readme.contains(&name),
                "README's `forkblog {command}` lacks {name}"
            );
        }
        // And the README names no flag the command does not take (serve's TLS flags only
        // with HTTPS built).
        let declared: Vec<String> = A::flags().iter().map(|f| format!("--{}", f.name)).collect();
        for word in readme.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
            if word.starts_with("--") && word.len() > 2 && cfg!(feature = "https") {
                assert!(
                    declared.iter().any(|d| d == word),
                    "README's `forkblog {command}` names {word}, which it does not take"
                );
            }
        }
        let mut parser = lexopt::Parser::from_args(["--no-such"]);
        let refused = parse::<A>(&mut parser, command, None);
        assert!(refused.is_err_and(|Usage(m)| m.contains("--no-such")));
        command
    }

    #[test]
    fn every_flag_is_documented_from_one_declaration() {
        let checked = [
            declared_flags_are_documented::<ServeArgs>("serve"),
            declared_flags_are_documented::<CheckArgs>("check"),
            declared_flags_are_documented::<BuildArgs>("build"),
            declared_flags_are_documented::<NewArgs>("new"),
            declared_flags_are_documented::<InitArgs>("init"),
            declared_flags_are_documented::<ReloadArgs>("reload"),
            #[cfg(feature = "stats")]
            declared_flags_are_documented::<crate::stats::args::Options>("stats"),
            #[cfg(feature = "import")]
            declared_flags_are_documented::<import::ImportArgs>("import"),
        ];
        // A command left out of this build has no flags to check.
        for c in COMMANDS.iter().filter(|c| !(c.options)().is_empty()) {
            assert!(
                checked.contains(&c.name),
                "{}'s flags are not checked",
                c.name
            );
        }
    }

    #[test]
    fn help_shows_the_defaults_the_code_uses() {
        let text = usage();
        let limits = Limits::default();
        assert!(text.contains(&format!(
            "--max-children N       most connections served at once [default: {}]",
            limits.max_children
        )));
        assert!(text.contains(&format!("[default: {}]", server::DEFAULT_LISTEN)));
        assert!(text.contains(&format!("[default: {}]", status::DEFAULT_PATH)));
        for c in COMMANDS {
            assert!(
                text.contains(&format!("forkblog {} ", c.name)),
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn previews_stay_on_loopback_unless_forced() {
        let finish = |argv: &[&str]| {
            let mut parser = lexopt::Parser::from_args(argv.iter().map(OsString::from));
            let args = parse::<ServeArgs>(&mut parser, "serve", None).unwrap();
            args.unwrap().finish().map(|(settings, _)| settings)
        };
        assert!(finish(&["--watch", "--drafts"]).is_ok());
        assert!(finish(&["--listen", "[::1]:8080", "--watch"]).is_ok());
        let refused = finish(&["--listen", "0.0.0.0:8080", "--drafts"]);
        assert!(refused.is_err_and(|Usage(m)| m.contains("--force-public")));
        assert!(finish(&["--listen", "0.0.0.0:8080", "--watch", "--force-public"]).is_ok());
        assert!(finish(&["--listen", "0.0.0.0:8080"]).is_ok());
    }

    #[test]
    fn status_readers_are_a_policy() {
        let argv = ["--status-allow", "10.0.0.1", "--status-allow", "any"];
        let mut parser = lexopt::Parser::from_args(argv);
        let args = parse::<ServeArgs>(&mut parser, "serve", None).unwrap();
        assert_eq!(args.unwrap().readers, Some(status::Readers::Anyone));
    }
}
