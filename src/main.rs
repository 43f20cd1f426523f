//! The `forkblog` command line: parse flags, then hand over to `server`, `site` or `stats`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use forkblog::server::{self, limits::Limits, Config};

const USAGE: &str = "\
forkblog: a fork-per-connection server for a Markdown blog

USAGE:
    forkblog serve [OPTIONS]            serve the blog (default: ./posts, ./templates on 127.0.0.1:8080)
    forkblog check [--root DIR]         render everything, report every problem with file:line
    forkblog build --out DIR [--root DIR]
                                        write the whole site as static files
    forkblog new TITLE [--root DIR]     create a dated post and print its path
    forkblog stats [FILES...]           how much of an access log is bots (see forkblog stats --help)

SERVE OPTIONS:
    --root DIR             blog root holding posts/, templates/, forkblog.toml [default: .]
    --listen ADDR:PORT     address to listen on, IPv4 or [IPv6] [default: 127.0.0.1:8080]
    --access-log PATH      Combined Log Format access log, '-' for stderr [default: access.log]
    --lock PATH            single-instance lock file [default: ACCESS_LOG.lock, or forkblog.lock]
    --max-children N       most connections served at once [default: 64]
    --head-timeout SECS    time allowed to send a request head [default: 10]
    --idle-timeout SECS    keep-alive idle time between requests [default: 5]
    --lifetime SECS        longest a connection may live [default: 60]
    --grace SECS           on SIGTERM, time given to in-flight connections [default: 10]
    --user NAME            when started as root, the user to serve as [default: nobody]
    --inetd                serve one connection already on stdin/stdout (inetd, systemd Accept=yes)
    --status-path PATH     status endpoint (JSON; Prometheus with ?format=prometheus), 'off' to disable
                           [default: /.well-known/forkblog/status]
    --status-allow IP      a client address allowed to read the status endpoint (repeatable),
                           or 'any' [default: 127.0.0.1 and ::1]
    --watchdog SECS        how often the parent checks its own fds, children and zombies [default: 5]

SIGNALS (serve):
    HUP        re-render; if that succeeds, re-exec in place (same PID, same socket);
               if it fails, keep serving the old site and log the problems
    TERM, INT  stop accepting, let in-flight connections finish (up to --grace), exit 0
    USR1       reopen the access log (for logrotate)

ENVIRONMENT:
    RUST_LOG             diagnostics level on stderr [default: info]
    LISTEN_FDS/LISTEN_PID  a listening socket passed by systemd is used instead of --listen

EXIT STATUS:
    0 success, 1 error, 2 usage error, 3 already running (another instance holds the lock)
";

/// Makes sure descriptors 0, 1 and 2 are open (on /dev/null if they were closed), so that no
/// socket or log file ever lands on them: a child moves its connection onto 0 and 1, and a
/// server started with them closed would otherwise clobber its own listener or log.
fn standard_fds_open() {
    use std::os::fd::{AsRawFd, IntoRawFd};
    while let Ok(file) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        if file.as_raw_fd() > 2 {
            return; // the lowest free number is past stderr: all three are open (file closes)
        }
        let _ = file.into_raw_fd(); // keep it as the missing 0, 1 or 2
    }
}

/// A command-line mistake: printed with the usage, exit status 2.
struct Usage(String);

impl From<lexopt::Error> for Usage {
    fn from(e: lexopt::Error) -> Usage {
        Usage(e.to_string())
    }
}

fn main() -> ExitCode {
    standard_fds_open();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .target(env_logger::Target::Stderr)
        .init();
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_some_and(|a| a == "stats") {
        args.remove(0);
        return forkblog::stats::run(args);
    }
    match run(args) {
        Ok(code) => code,
        Err(Usage(message)) => {
            eprintln!("forkblog: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Vec<OsString>) -> Result<ExitCode, Usage> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let command = match parser.next()? {
        Some(Value(command)) => command.string()?,
        Some(Long("help") | Short('h')) => {
            print!("{USAGE}");
            return Ok(ExitCode::SUCCESS);
        }
        Some(Long("version") | Short('V')) => {
            println!("forkblog {}", env!("CARGO_PKG_VERSION"));
            return Ok(ExitCode::SUCCESS);
        }
        Some(other) => return Err(other.unexpected().into()),
        None => return Err(Usage("a command is required".into())),
    };
    match command.as_str() {
        "serve" => serve(parser),
        "check" => check(parser),
        "build" => build(parser),
        "new" => new(parser),
        "import" => Ok(forkblog::import::run(parser.raw_args()?.collect())),
        "help" => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => Err(Usage(format!("unknown command '{other}'"))),
    }
}

/// The longest any timeout or interval may be: a year. Past that a typo, not a setting.
const MAX_SECONDS: u64 = 365 * 24 * 3600;

fn seconds(parser: &mut lexopt::Parser) -> Result<Duration, Usage> {
    use lexopt::prelude::*;
    let value: u64 = parser.value()?.parse()?;
    if !(1..=MAX_SECONDS).contains(&value) {
        return Err(Usage(format!(
            "times must be from 1 to {MAX_SECONDS} seconds, not {value}"
        )));
    }
    Ok(Duration::from_secs(value))
}

fn serve(mut parser: lexopt::Parser) -> Result<ExitCode, Usage> {
    use lexopt::prelude::*;
    let mut config = Config {
        root: PathBuf::from("."),
        listen: server::DEFAULT_LISTEN
            .parse()
            .expect("valid default address"),
        access_log: "access.log".into(),
        lock: None,
        user: None,
        limits: Limits::default(),
        status: server::status::Access::default(),
        watchdog_interval: Duration::from_secs(5),
    };
    let mut allow: Option<Vec<std::net::IpAddr>> = None;
    let mut allow_any = false;
    let mut inetd = false;
    while let Some(arg) = parser.next()? {
        match arg {
            Long("root") => config.root = parser.value()?.into(),
            Long("listen") => {
                let text = parser.value()?.string()?;
                config.listen = text
                    .parse()
                    .map_err(|_| Usage(format!("--listen wants ADDR:PORT such as 127.0.0.1:8080 or [::1]:8080, not '{text}'")))?;
            }
            Long("access-log") => config.access_log = parser.value()?.string()?,
            Long("lock") => config.lock = Some(parser.value()?.into()),
            Long("user") => config.user = Some(parser.value()?.string()?),
            Long("max-children") => {
                config.limits.max_children = parser.value()?.parse()?;
                if config.limits.max_children == 0 {
                    return Err(Usage("--max-children must be at least 1".into()));
                }
            }
            Long("head-timeout") => config.limits.head_timeout = seconds(&mut parser)?,
            Long("idle-timeout") => config.limits.idle_timeout = seconds(&mut parser)?,
            Long("lifetime") => config.limits.lifetime = seconds(&mut parser)?,
            Long("grace") => config.limits.grace = seconds(&mut parser)?,
            Long("inetd") => inetd = true,
            Long("status-path") => {
                let path = parser.value()?.string()?;
                config.status.path = match path.as_str() {
                    "off" => None,
                    p if p.starts_with('/') => Some(path),
                    _ => {
                        return Err(Usage(format!(
                            "--status-path wants a path starting with / or 'off', not '{path}'"
                        )))
                    }
                };
            }
            Long("status-allow") => {
                let text = parser.value()?.string()?;
                let list = allow.get_or_insert_with(Vec::new);
                if text == "any" {
                    allow_any = true;
                } else {
                    list.push(text.parse().map_err(|_| {
                        Usage(format!(
                            "--status-allow wants an IP address or 'any', not '{text}'"
                        ))
                    })?);
                }
            }
            Long("watchdog") => config.watchdog_interval = seconds(&mut parser)?,
            Long("help") | Short('h') => {
                print!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            other => return Err(other.unexpected().into()),
        }
    }
    if allow_any {
        config.status.allow.clear(); // empty: everyone
    } else if let Some(allow) = allow {
        config.status.allow = allow;
    }
    let result = if inetd {
        server::inetd(config)
    } else {
        server::serve(config)
    };
    Ok(result.unwrap_or_else(|fatal| {
        eprintln!("forkblog: {}", fatal.message);
        ExitCode::from(fatal.code)
    }))
}

fn check(mut parser: lexopt::Parser) -> Result<ExitCode, Usage> {
    use lexopt::prelude::*;
    let mut root = PathBuf::from(".");
    while let Some(arg) = parser.next()? {
        match arg {
            Long("root") => root = parser.value()?.into(),
            other => return Err(other.unexpected().into()),
        }
    }
    let build = forkblog::site::build(&root);
    for problem in &build.problems {
        eprintln!("{problem}");
    }
    match (&build.site, build.problems.len()) {
        (Some(site), 0) => {
            println!(
                "ok: {} posts, {} resources, no problems",
                site.post_count,
                site.resources.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        (Some(_), n) => {
            eprintln!("{n} problem(s); broken posts would be skipped at start-up and a reload would keep the old site");
            Ok(ExitCode::FAILURE)
        }
        (None, n) => {
            eprintln!("{n} problem(s); nothing can be served");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn build(mut parser: lexopt::Parser) -> Result<ExitCode, Usage> {
    use lexopt::prelude::*;
    let mut out: Option<PathBuf> = None;
    let mut root = PathBuf::from(".");
    while let Some(arg) = parser.next()? {
        match arg {
            Long("root") => root = parser.value()?.into(),
            Long("out") => out = Some(parser.value()?.into()),
            other => return Err(other.unexpected().into()),
        }
    }
    let out = out.ok_or_else(|| Usage("build needs --out DIR".into()))?;
    let build = forkblog::site::build(&root);
    for problem in &build.problems {
        eprintln!("{problem}");
    }
    let Some(site) = build.site else {
        eprintln!("nothing to export");
        return Ok(ExitCode::FAILURE);
    };
    match forkblog::site::export(&site, &out) {
        Ok(()) => {
            println!(
                "wrote {} files to {}",
                site.resources.len() + 1,
                out.display()
            );
            Ok(if build.problems.is_empty() {
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
    use lexopt::prelude::*;
    let mut title: Option<String> = None;
    let mut root = PathBuf::from(".");
    while let Some(arg) = parser.next()? {
        match arg {
            Long("root") => root = parser.value()?.into(),
            Value(v) if title.is_none() => title = Some(v.string()?),
            other => return Err(other.unexpected().into()),
        }
    }
    let title = title.ok_or_else(|| Usage("new needs a TITLE".into()))?;
    match forkblog::site::new_post(&root, &title) {
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
