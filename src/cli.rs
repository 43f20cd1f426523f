//! The command line: every command and flag declared once, help generated from the
//! declarations, defaults taken from the settings' own `Default`s.
//!
//! [`run`] reads the command word and hands the rest to that command. `serve`, `check`, `build`
//! and `new` are declared here; `stats` and `import` own their flags in their modules and are
//! dispatched the same way.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use lexopt::prelude::*;

use crate::server::{self, limits::Limits, status, Settings};

/// A command-line mistake: printed with the command's usage, exit status 2.
#[derive(Debug)]
pub struct Usage(pub String);

impl From<lexopt::Error> for Usage {
    fn from(e: lexopt::Error) -> Usage {
        Usage(e.to_string())
    }
}

/// One flag: its name, the name of its value (none for a switch), what it does, its default.
pub struct Flag {
    /// The long name, without `--`.
    pub name: &'static str,
    /// The value's placeholder, e.g. `DIR`; `None` for a switch.
    pub value: Option<&'static str>,
    /// One line of help.
    pub help: &'static str,
    /// The default, as shown in the help.
    pub default: Option<String>,
}

fn flag(name: &'static str, value: Option<&'static str>, help: &'static str) -> Flag {
    Flag {
        name,
        value,
        help,
        default: None,
    }
}

impl Flag {
    fn or(mut self, default: impl ToString) -> Flag {
        self.default = Some(default.to_string());
        self
    }
}

/// One command: its name, its synopsis, what it does, its flags, and what runs it.
struct Command {
    name: &'static str,
    synopsis: &'static str,
    about: &'static str,
    flags: fn() -> Vec<Flag>,
    run: fn(lexopt::Parser) -> Result<ExitCode, Usage>,
}

const COMMANDS: &[Command] = &[
    Command {
        name: "init",
        synopsis: "DIR [--title T] [--base-url URL] [--author A] [--templates]",
        about: "create a new site in DIR (asks on a terminal for what is not given)",
        flags: init_flags,
        run: init,
    },
    Command {
        name: "serve",
        synopsis: "[OPTIONS]",
        about: "serve the blog (posts/, templates/) until SIGTERM",
        flags: serve_flags,
        run: serve,
    },
    Command {
        name: "check",
        synopsis: "[--root DIR] [--user NAME] [--strict]",
        about: "render everything, report every problem with file:line",
        flags: check_flags,
        run: check,
    },
    Command {
        name: "build",
        synopsis: "--out DIR [--root DIR]",
        about: "write the whole site as static files",
        flags: build_flags,
        run: build,
    },
    Command {
        name: "new",
        synopsis: "TITLE [--root DIR]",
        about: "create a dated post and print its path",
        flags: new_flags,
        run: new,
    },
    Command {
        name: "reload",
        synopsis: "[--root DIR | --lock PATH]",
        about: "reload the running server; wait for the outcome",
        flags: reload_flags,
        run: reload,
    },
    Command {
        name: "import",
        synopsis: "jekyll|hugo|zola SRC [--root DIR]",
        about: "move a site in, keeping every old URL (forkblog import --help)",
        flags: Vec::new,
        run: import,
    },
    Command {
        name: "stats",
        synopsis: "[OPTIONS] [FILES...]",
        about: "how much of an access log is bots (forkblog stats --help)",
        flags: Vec::new,
        run: stats,
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
        let flags = (c.flags)();
        if !flags.is_empty() {
            out.push_str(&format!("\n{} OPTIONS:\n", c.name.to_uppercase()));
            out.push_str(&flag_lines(&flags));
        }
    }
    out.push('\n');
    out.push_str(SIGNALS);
    out
}

/// One command's usage, for `forkblog CMD --help` and its usage errors.
fn command_usage(c: &Command) -> String {
    format!(
        "forkblog {}: {}\n\nUSAGE:\n    forkblog {} {}\n\nOPTIONS:\n{}    --help{:<19}print this help\n",
        c.name,
        c.about,
        c.name,
        c.synopsis,
        flag_lines(&(c.flags)()),
        ""
    )
}

fn flag_lines(flags: &[Flag]) -> String {
    let mut out = String::new();
    for f in flags {
        let left = match f.value {
            Some(v) => format!("--{} {v}", f.name),
            None => format!("--{}", f.name),
        };
        out.push_str(&format!("    {left:<23}{}", f.help));
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
    if word == server::render::WORKER_COMMAND {
        // Hidden: the server runs it to render (see render.rs); not for people.
        return server::render::worker(
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
        Err(Usage(message)) => usage_error(&message, &command_usage(command)),
    }
}

fn usage_error(message: &str, usage: &str) -> ExitCode {
    eprintln!("forkblog: {message}\n\n{usage}");
    ExitCode::from(2)
}

/// `--help` for a command: prints its usage.
fn help(name: &str) -> Result<ExitCode, Usage> {
    if let Some(c) = COMMANDS.iter().find(|c| c.name == name) {
        print!("{}", command_usage(c));
    }
    Ok(ExitCode::SUCCESS)
}

fn serve_flags() -> Vec<Flag> {
    let d = Settings::default();
    let l = Limits::default();
    vec![
        flag(
            "root",
            Some("DIR"),
            "blog root holding posts/, templates/, forkblog.toml",
        )
        .or(d.root.display()),
        flag(
            "listen",
            Some("ADDR:PORT"),
            "address to listen on, IPv4 or [IPv6]",
        )
        .or(d.listen),
        flag(
            "access-log",
            Some("PATH"),
            "Combined Log Format access log, '-' for stderr",
        )
        .or(&d.access_log),
        flag("lock", Some("PATH"), "single-instance lock file").or("ACCESS_LOG.lock"),
        flag("max-children", Some("N"), "most connections served at once").or(l.max_children),
        flag(
            "head-timeout",
            Some("SECS"),
            "time allowed to send a request head",
        )
        .or(l.head_timeout.as_secs()),
        flag(
            "idle-timeout",
            Some("SECS"),
            "keep-alive idle time between requests",
        )
        .or(l.idle_timeout.as_secs()),
        flag("lifetime", Some("SECS"), "longest a connection may live").or(l.lifetime.as_secs()),
        flag(
            "grace",
            Some("SECS"),
            "on SIGTERM, time given to in-flight connections",
        )
        .or(l.grace.as_secs()),
        flag(
            "user",
            Some("NAME"),
            "when started as root, the user to serve as",
        )
        .or(server::privileges::DEFAULT_USER),
        flag(
            "inetd",
            None,
            "serve one connection already on stdin/stdout (Accept=yes)",
        ),
        flag(
            "status-path",
            Some("PATH"),
            "status endpoint (JSON, ?format=prometheus), or 'off'",
        )
        .or(status::DEFAULT_PATH),
        flag(
            "status-allow",
            Some("IP"),
            "a client allowed to read it (repeatable), or 'any'",
        )
        .or("127.0.0.1 and ::1"),
        flag(
            "trusted-proxy",
            Some("CIDR"),
            "a front whose PROXY header / X-Forwarded-For names the client (repeatable)",
        )
        .or("none"),
        flag(
            "proxy-protocol",
            None,
            "trusted fronts send a PROXY header (v1 or v2) before each connection",
        ),
        flag(
            "watchdog",
            Some("SECS"),
            "how often the parent checks its fds and children",
        )
        .or(d.watchdog_interval.as_secs()),
        flag(
            "watch",
            None,
            "preview while writing: reload on edits, open pages follow, errors shown",
        ),
        flag("drafts", None, "preview: include drafts, marked \"Draft\""),
        flag(
            "force-public",
            None,
            "allow --watch/--drafts on a non-loopback --listen",
        ),
    ]
}

/// What `serve`'s flags set.
#[derive(Default)]
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
}

impl ServeArgs {
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
        if self.settings.trust.proxy_protocol && self.settings.trust.proxies.is_empty() {
            return Err(Usage(
                "--proxy-protocol needs --trusted-proxy CIDR: only a trusted front's header is read"
                    .into(),
            ));
        }
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
            self.settings.acme = Some(acme);
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

/// Applies one `serve` flag. Every name in [`serve_flags`] is handled here (a test checks).
fn apply_serve(args: &mut ServeArgs, name: &str, parser: &mut lexopt::Parser) -> Result<(), Usage> {
    let s = &mut args.settings;
    match name {
        "root" => s.root = parser.value()?.into(),
        "listen" => s.listen = address("listen", parser)?,
        "tls-listen" => args.tls_listen = Some(address("tls-listen", parser)?),
        "tls-cert" => args.tls_cert = Some(parser.value()?.into()),
        "tls-key" => args.tls_key = Some(parser.value()?.into()),
        "hsts" => args.hsts = true,
        "acme-domain" => args.acme_domains.push(parser.value()?.string()?),
        "acme-email" => args.acme_email = Some(parser.value()?.string()?),
        "acme-directory" => args.acme_directory = Some(parser.value()?.string()?),
        "acme-ca" => args.acme_ca = Some(parser.value()?.into()),
        "state-dir" => args.state_dir = Some(parser.value()?.into()),
        "access-log" => s.access_log = parser.value()?.string()?,
        "lock" => s.lock = Some(parser.value()?.into()),
        "user" => s.user = Some(parser.value()?.string()?),
        "max-children" => {
            s.limits.max_children = parser.value()?.parse()?;
            if s.limits.max_children == 0 {
                return Err(Usage("--max-children must be at least 1".into()));
            }
        }
        "head-timeout" => s.limits.head_timeout = seconds(parser)?,
        "idle-timeout" => s.limits.idle_timeout = seconds(parser)?,
        "lifetime" => s.limits.lifetime = seconds(parser)?,
        "grace" => s.limits.grace = seconds(parser)?,
        "watchdog" => s.watchdog_interval = seconds(parser)?,
        "inetd" => args.inetd = true,
        "watch" => s.watch = true,
        "drafts" => s.drafts = true,
        "force-public" => args.force_public = true,
        "trusted-proxy" => {
            let text = parser.value()?.string()?;
            let range = text
                .parse()
                .map_err(|e| Usage(format!("--trusted-proxy: {e}")))?;
            s.trust.proxies.push(range);
        }
        "proxy-protocol" => s.trust.proxy_protocol = true,
        "status-path" => {
            let path = parser.value()?.string()?;
            s.status.path = match path.as_str() {
                "off" => None,
                p if p.starts_with('/') => Some(path),
                _ => {
                    return Err(Usage(format!(
                        "--status-path wants a path starting with / or 'off', not '{path}'"
                    )))
                }
            };
        }
        "status-allow" => {
            let text = parser.value()?.string()?;
            let readers = args
                .readers
                .get_or_insert(status::Readers::Only(Vec::new()));
            if text == "any" {
                *readers = status::Readers::Anyone;
            } else {
                let ip = text.parse().map_err(|_| {
                    Usage(format!(
                        "--status-allow wants an IP address or 'any', not '{text}'"
                    ))
                })?;
                if let status::Readers::Only(list) = readers {
                    list.push(ip);
                }
            }
        }
        other => return Err(Usage(format!("unknown option '--{other}'"))),
    }
    Ok(())
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
    let mut args = ServeArgs::default();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("help") | Short('h') => return help("serve"),
            Long(name) => {
                let name = name.to_string();
                apply_serve(&mut args, &name, &mut parser)?;
            }
            other => return Err(other.unexpected().into()),
        }
    }
    let (settings, inetd) = args.finish()?;
    let result = match inetd {
        true => server::inetd(settings),
        false => server::serve(settings),
    };
    Ok(result.unwrap_or_else(|error| {
        eprintln!("forkblog: {error}");
        ExitCode::from(error.code)
    }))
}

fn root_flag() -> Flag {
    flag(
        "root",
        Some("DIR"),
        "blog root holding posts/, templates/, forkblog.toml",
    )
    .or(".")
}

fn check_flags() -> Vec<Flag> {
    vec![
        root_flag(),
        flag(
            "user",
            Some("NAME"),
            "run as root: check the site as this user (serve's --user) would read it",
        )
        .or(server::privileges::DEFAULT_USER),
        flag(
            "strict",
            None,
            "exit 1 on warnings too (a post dated by its file, leftover template syntax, a \
             broken link), not only on errors",
        ),
    ]
}

fn build_flags() -> Vec<Flag> {
    vec![
        flag("out", Some("DIR"), "where to write the files (required)"),
        root_flag(),
    ]
}

fn new_flags() -> Vec<Flag> {
    vec![root_flag()]
}

fn check(mut parser: lexopt::Parser) -> Result<ExitCode, Usage> {
    let mut root = PathBuf::from(".");
    let mut user: Option<String> = None;
    let mut strict = false;
    while let Some(arg) = parser.next()? {
        match arg {
            Long("root") => root = parser.value()?.into(),
            Long("user") => user = Some(parser.value()?.string()?),
            Long("strict") => strict = true,
            Long("help") | Short('h') => return help("check"),
            other => return Err(other.unexpected().into()),
        }
    }
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
    if let Some(url) = server::base_url::loopback_base_url(&root) {
        eprintln!(
            "warning: {} (fine for a preview on this machine)",
            server::base_url::advice(&root, &url)
        );
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
    let mut out: Option<PathBuf> = None;
    let mut root = PathBuf::from(".");
    while let Some(arg) = parser.next()? {
        match arg {
            Long("root") => root = parser.value()?.into(),
            Long("out") => out = Some(parser.value()?.into()),
            Long("help") | Short('h') => return help("build"),
            other => return Err(other.unexpected().into()),
        }
    }
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
    let mut title: Option<String> = None;
    let mut root = PathBuf::from(".");
    while let Some(arg) = parser.next()? {
        match arg {
            Long("root") => root = parser.value()?.into(),
            Long("help") | Short('h') => return help("new"),
            Value(v) if title.is_none() => title = Some(v.string()?),
            other => return Err(other.unexpected().into()),
        }
    }
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

fn init_flags() -> Vec<Flag> {
    let d = crate::site::config::Config::default();
    vec![
        flag("title", Some("TEXT"), "the blog's name").or(d.title),
        flag(
            "base-url",
            Some("URL"),
            "where readers will reach it (feed and sitemap links)",
        )
        .or(d.base_url),
        flag("author", Some("NAME"), "the author named in the feed").or("$USER"),
        flag(
            "templates",
            None,
            "also copy the built-in templates and stylesheet out to edit",
        ),
    ]
}

fn init(mut parser: lexopt::Parser) -> Result<ExitCode, Usage> {
    let mut options = crate::init::Options::default();
    let mut dir: Option<PathBuf> = None;
    while let Some(arg) = parser.next()? {
        match arg {
            Long("title") => options.title = Some(parser.value()?.string()?),
            Long("base-url") => options.base_url = Some(parser.value()?.string()?),
            Long("author") => options.author = Some(parser.value()?.string()?),
            Long("templates") => options.templates = true,
            Long("help") | Short('h') => return help("init"),
            Value(v) if dir.is_none() => dir = Some(v.into()),
            other => return Err(other.unexpected().into()),
        }
    }
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

fn reload_flags() -> Vec<Flag> {
    vec![
        flag(
            "root",
            Some("DIR"),
            "where the server was started (relative --lock/--access-log paths)",
        )
        .or("."),
        flag("lock", Some("PATH"), "the server's --lock").or("ACCESS_LOG.lock"),
        flag("access-log", Some("PATH"), "the server's --access-log")
            .or(server::DEFAULT_ACCESS_LOG),
        flag("timeout", Some("SECS"), "how long to wait for the outcome")
            .or(DEFAULT_RELOAD_WAIT.as_secs()),
    ]
}

/// How long `forkblog reload` waits by default: under systemd's default reload timeout (90 s).
const DEFAULT_RELOAD_WAIT: Duration = Duration::from_secs(80);

fn reload(mut parser: lexopt::Parser) -> Result<ExitCode, Usage> {
    let mut settings = Settings::default();
    let mut root: Option<PathBuf> = None;
    let mut timeout = DEFAULT_RELOAD_WAIT;
    while let Some(arg) = parser.next()? {
        match arg {
            Long("root") => root = Some(parser.value()?.into()),
            Long("lock") => settings.lock = Some(parser.value()?.into()),
            Long("access-log") => settings.access_log = parser.value()?.string()?,
            Long("timeout") => timeout = seconds(&mut parser)?,
            Long("help") | Short('h') => return help("reload"),
            other => return Err(other.unexpected().into()),
        }
    }
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

fn import(mut parser: lexopt::Parser) -> Result<ExitCode, Usage> {
    Ok(crate::import::run(parser.raw_args()?.collect()))
}

fn stats(mut parser: lexopt::Parser) -> Result<ExitCode, Usage> {
    Ok(crate::stats::run(parser.raw_args()?.collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(value: &str) -> &'static str {
        match value {
            "ADDR:PORT" => "127.0.0.1:0",
            "N" | "SECS" => "7",
            "PEM" => "/k.pem",
            "IP" => "::1",
            "CIDR" => "10.0.0.0/8",
            "PATH" => "/x",
            _ => "x",
        }
    }

    #[test]
    fn every_declared_serve_flag_is_handled() {
        for f in serve_flags() {
            let mut argv = vec![OsString::from(format!("--{}", f.name))];
            argv.extend(f.value.map(|v| OsString::from(sample(v))));
            let mut parser = lexopt::Parser::from_args(argv);
            parser.next().unwrap();
            let mut args = ServeArgs::default();
            assert!(
                apply_serve(&mut args, f.name, &mut parser).is_ok(),
                "--{} is declared but not handled",
                f.name
            );
        }
        let mut parser = lexopt::Parser::from_args(Vec::<OsString>::new());
        assert!(apply_serve(&mut ServeArgs::default(), "no-such", &mut parser).is_err());
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
            let mut args = ServeArgs::default();
            let mut parser = lexopt::Parser::from_args(argv.iter().map(OsString::from));
            while let Some(Long(name)) = parser.next().unwrap() {
                let name = name.to_string();
                apply_serve(&mut args, &name, &mut parser).unwrap();
            }
            args.finish().map(|(settings, _)| settings)
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
        let mut args = ServeArgs::default();
        for value in ["10.0.0.1", "any"] {
            let mut parser = lexopt::Parser::from_args([OsString::from(value)]);
            apply_serve(&mut args, "status-allow", &mut parser).unwrap();
        }
        assert_eq!(args.readers, Some(status::Readers::Anyone));
    }
}
