//! The command line of `forkblog import`, parsed with `lexopt`.

use std::ffi::OsString;
use std::path::PathBuf;

use super::Generator;

/// The usage text, printed by `--help` and after a bad argument.
pub const USAGE: &str = "\
Usage: forkblog import jekyll|hugo|zola SRC [--root DEST]

Copies a Jekyll, Hugo or Zola site at SRC into a forkblog root at DEST: forkblog.toml from the
source's settings, posts under posts/, pages under pages/, static files under templates/root/.
Every old post URL keeps answering: the permalink pattern is carried over, and a post whose old
URL the pattern cannot give gets its own `permalink:`. Prints what it could not carry, as
file:line, and ends with a summary: posts, pages, files, old URLs, feeds, what needs a hand. Files already in DEST are never overwritten: a file with the same content counts as
done (so running it twice changes nothing), a different one is reported and left alone.
Nothing is written outside DEST, and symlinks in SRC are not followed.

Options:
  --root DEST        the forkblog root to write [default: .]
  -h, --help         show this help

Then: forkblog check --root DEST
";

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The generator the source was written for.
    pub generator: Generator,
    /// The source site's folder.
    pub source: PathBuf,
    /// The forkblog root to write.
    pub root: PathBuf,
}

/// Parses the arguments after `forkblog import`: the options, `Ok(None)` for `--help`, or a
/// message for the user.
pub fn parse_args(args: Vec<OsString>) -> Result<Option<Options>, String> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let mut generator = None;
    let mut source = None;
    let mut root = PathBuf::from(".");
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Short('h') | Long("help") => return Ok(None),
            Long("root") => root = parser.value().map_err(|e| e.to_string())?.into(),
            Value(value) if generator.is_none() => {
                let name = value.to_string_lossy().to_string();
                generator = Some(Generator::from_name(&name).ok_or_else(|| {
                    format!("unknown generator '{name}': expected jekyll, hugo or zola")
                })?);
            }
            Value(value) if source.is_none() => source = Some(PathBuf::from(value)),
            _ => return Err(arg.unexpected().to_string()),
        }
    }
    let generator = generator.ok_or("which generator? expected jekyll, hugo or zola")?;
    let source = source.ok_or("the source site's folder (SRC) is missing")?;
    Ok(Some(Options {
        generator,
        source,
        root,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Options>, String> {
        parse_args(args.iter().map(OsString::from).collect())
    }

    #[test]
    fn parses() {
        let o = parse(&["zola", "old", "--root", "new"]).unwrap().unwrap();
        assert_eq!(o.generator, Generator::Zola);
        assert_eq!(o.source, PathBuf::from("old"));
        assert_eq!(o.root, PathBuf::from("new"));
        let o = parse(&["--root=x", "jekyll", "s"]).unwrap().unwrap();
        assert_eq!(o.generator, Generator::Jekyll);
        assert_eq!(parse(&["-h"]).unwrap(), None);
    }

    #[test]
    fn rejects() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["gatsby", "x"])
            .unwrap_err()
            .contains("jekyll, hugo or zola"));
        assert!(parse(&["hugo"]).unwrap_err().contains("SRC"));
        assert!(parse(&["hugo", "a", "b"]).is_err());
        assert!(parse(&["hugo", "a", "--bogus"]).is_err());
    }
}
