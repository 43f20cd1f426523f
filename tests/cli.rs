//! The other commands: check, build, new, usage errors, and every command's `--help` against
//! what its parser accepts.

mod common;

use std::process::Command;

use common::*;

fn forkblog(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).output().expect("run forkblog")
}

#[test]
fn check_passes_on_the_sample_and_names_file_and_line_of_a_broken_post() {
    let blog = TempSite::sample();
    let root = blog.root().to_str().unwrap();
    let ok = forkblog(&["check", "--root", root]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("no problems"));

    blog.write_post(
        "2026-07-01-broken.md",
        "---\ntitle: Broken\ndate: 2026-13-45\n---\nText.\n",
    );
    let bad = forkblog(&["check", "--root", root]);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("2026-07-01-broken.md:3:"),
        "no file:line in: {stderr}"
    );
}

#[test]
fn build_writes_the_bytes_serve_answers() {
    let blog = TempSite::sample();
    let out = TempDir::new("export");
    let root = blog.root().to_str().unwrap();
    let built = forkblog(&[
        "build",
        "--root",
        root,
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let server = Server::start(blog.root(), &[]);
    let mut compared = 0;
    for (url, file) in [
        ("/", "index.html"),
        ("/feed.xml", "feed.xml"),
        ("/sitemap.xml", "sitemap.xml"),
        ("/static/style.css", "static/style.css"),
    ] {
        let served = server.get(url);
        assert_eq!(served.status, 200, "{url}");
        let exported =
            std::fs::read(out.path().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(served.body == exported, "{url} differs from {file}");
        compared += 1;
    }
    // Every post page too: find them in the exported tree.
    let posts = out.path().join("posts");
    for entry in std::fs::read_dir(&posts).unwrap().flatten() {
        let page = entry.path().join("index.html");
        if page.exists() {
            let url = format!("/posts/{}/", entry.file_name().to_str().unwrap());
            assert!(
                server.get(&url).body == std::fs::read(&page).unwrap(),
                "{url} differs"
            );
            compared += 1;
        }
    }
    assert!(compared >= 8, "only {compared} files compared");
}

#[test]
fn new_creates_a_post_that_checks_clean() {
    let blog = TempSite::sample();
    let root = blog.root().to_str().unwrap();
    let made = forkblog(&["new", "A Fresh Start", "--root", root]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let path = String::from_utf8_lossy(&made.stdout).trim().to_string();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(text.contains("A Fresh Start"), "{text}");
    assert!(
        path.ends_with(".md") && path.contains("a-fresh-start"),
        "{path}"
    );
    assert!(forkblog(&["check", "--root", root]).status.success());
    let again = forkblog(&["new", "A Fresh Start", "--root", root]);
    assert!(
        !again.status.success(),
        "a second post with the same name must not overwrite the first"
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["bogus"][..],
        &[][..],
        &["serve", "--listen", "nowhere"][..],
        &["build"][..],
        &["serve", "--max-children", "0"][..],
        &["serve", "--watchdog", "18446744073709551615"][..],
        &["serve", "--head-timeout", "0"][..],
        #[cfg(feature = "stats")]
        &["stats", "--no-such"][..],
        #[cfg(feature = "stats")]
        &["stats", "--since", "2026-02-02", "--until", "2026-01-01"][..],
        #[cfg(feature = "import")]
        &["import"][..],
        #[cfg(feature = "import")]
        &["import", "gatsby", "old"][..],
        #[cfg(feature = "import")]
        &["import", "hugo", "old", "extra"][..],
    ] {
        let output = forkblog(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("USAGE"),
            "{args:?}"
        );
    }
    let help = forkblog(&["--help"]);
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("SIGNALS"));
}

/// A value of the kind a help line's placeholder names, which the parser must take.
fn sample(placeholder: &str) -> &'static str {
    match placeholder {
        "ADDR:PORT" => "127.0.0.1:0",
        "N" | "SECS" => "7",
        "PEM" => "/k.pem",
        "IP" => "::1",
        "CIDR" => "10.0.0.0/8",
        "SOURCE" => "forwarded",
        "PATH" => "/x",
        "DATE" => "2026-11-01",
        "LIST" => "ai,search",
        "WHICH" => "peer",
        _ => "x",
    }
}

/// The flags a command's help lists in its OPTIONS, each with its placeholder (if it takes a
/// value), and every `--word` anywhere in that help.
fn options_in_help(help: &str) -> (Vec<(String, Option<String>)>, Vec<String>) {
    let options = help
        .split("\nOPTIONS:\n")
        .nth(1)
        .expect("an OPTIONS section")
        .lines()
        .take_while(|l| l.starts_with("    --"))
        .map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next().unwrap().to_string();
            // A placeholder is in capitals (DIR, ADDR:PORT); the help after it is not.
            let value = words
                .next()
                .filter(|w| {
                    w.chars()
                        .all(|c| c.is_ascii_uppercase() || ":|_".contains(c))
                })
                .map(str::to_string);
            (name, value)
        })
        .collect();
    let mentioned = help
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(str::to_string)
        .collect();
    (options, mentioned)
}

/// Every `--flag` a command's `--help` names is one of its OPTIONS, and the real binary takes
/// it (with a value of its placeholder's kind): `CMD --flag VALUE --help` stops at `--help`
/// after parsing the flag, so nothing runs, and an unknown flag or a refused value exits 2.
/// (The other direction, every flag the parser accepts in the help, is `cli::tests`.)
#[test]
fn every_flag_in_each_commands_help_is_accepted() {
    let mut commands = vec!["init", "serve", "check", "build", "new", "reload"];
    if cfg!(feature = "stats") {
        commands.push("stats");
    }
    if cfg!(feature = "import") {
        commands.push("import");
    }
    let mut tried = 0;
    for command in commands {
        let help = forkblog(&[command, "--help"]);
        assert!(help.status.success(), "{command} --help");
        let help = String::from_utf8(help.stdout).unwrap();
        assert!(help.starts_with(&format!("forkblog {command}: ")), "{help}");
        let (options, mentioned) = options_in_help(&help);
        assert!(options.iter().any(|(name, _)| name == "--help"), "{help}");
        for word in &mentioned {
            assert!(
                options.iter().any(|(name, _)| name == word),
                "{command} --help names {word}, which is not among its OPTIONS"
            );
        }
        for (name, value) in &options {
            let mut argv = vec![command, name.as_str()];
            argv.extend(value.as_deref().map(sample));
            argv.push("--help");
            let out = forkblog(&argv);
            assert!(
                out.status.success() && out.stdout.starts_with(help.as_bytes()),
                "forkblog {argv:?} refused: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            tried += 1;
        }
    }
    // serve alone has more than 30: a parse of the help that found nothing would fail here.
    assert!(tried > 50, "only {tried} flags tried");
}
