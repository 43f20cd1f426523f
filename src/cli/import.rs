//! `forkblog import`'s operands (GENERATOR, SRC) and flags, declared like every other
//! command's, becoming the import crate's [`Options`] once both operands are there; and the
//! command's longer help.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::import::{args::Options, Generator};

use super::{flag, parse, set, Args, Flag, Usage, Word};

/// What `import`'s operands and flags set; [`finish`](ImportArgs::finish) checks both operands
/// came.
pub(super) struct ImportArgs {
    generator: Option<Generator>,
    source: Option<PathBuf>,
    root: PathBuf,
}

impl Default for ImportArgs {
    fn default() -> ImportArgs {
        ImportArgs {
            generator: None,
            source: None,
            root: PathBuf::from("."),
        }
    }
}

impl Args for ImportArgs {
    fn flags() -> Vec<Flag<ImportArgs>> {
        vec![flag::<Self>(
            "root",
            Some("DIR"),
            "the forkblog root to write (made if missing)",
            |a, p| set(&mut a.root, p.value()?.into()),
        )
        .or(".")]
    }
}

/// The operands in order: the generator's name, then the source site's folder.
const OPERAND: Word<ImportArgs> = |a, v| {
    if a.generator.is_none() {
        let name = v.to_string_lossy();
        let generator = Generator::from_name(&name).ok_or_else(|| {
            Usage(format!(
                "unknown generator '{name}': expected jekyll, hugo or zola"
            ))
        })?;
        set(&mut a.generator, Some(generator))
    } else if a.source.is_none() {
        set(&mut a.source, Some(v.into()))
    } else {
        Err(Usage(format!("unexpected argument {v:?}")))
    }
};

impl ImportArgs {
    fn finish(self) -> Result<Options, Usage> {
        let generator = self
            .generator
            .ok_or_else(|| Usage("which generator? expected jekyll, hugo or zola".into()))?;
        let source = self
            .source
            .ok_or_else(|| Usage("the source site's folder (SRC) is missing".into()))?;
        Ok(Options {
            generator,
            source,
            root: self.root,
        })
    }
}

pub(super) fn run(mut parser: lexopt::Parser) -> Result<ExitCode, Usage> {
    let Some(args) = parse(&mut parser, "import", Some(OPERAND))? else {
        return Ok(ExitCode::SUCCESS);
    };
    Ok(crate::import::run(args.finish()?))
}

pub(super) fn options() -> String {
    super::flag_lines::<ImportArgs>()
}

/// What the flag lines have no room for: what is written where, and what is never touched.
pub(super) fn details() -> String {
    super::wrap(
        "Copies a Jekyll, Hugo or Zola site at SRC into the forkblog root DIR: forkblog.toml \
         from the source's settings, posts under posts/, pages under pages/, static files under \
         templates/root/. Every old post URL keeps answering: the permalink pattern is carried \
         over, and a post whose old URL the pattern cannot give gets its own `permalink:`. \
         Prints what it could not carry, as file:line, and ends with a summary: posts, pages, \
         files, old URLs, feeds, what needs a hand.\n\n\
         Files already in DIR are never overwritten: a file with the same content counts as \
         done (so running it twice changes nothing), a different one is reported and left \
         alone. Nothing is written outside DIR, and symlinks in SRC are not followed.\n\n\
         Then: forkblog check --root DIR",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(argv: &[&str]) -> Result<Option<Options>, Usage> {
        let mut parser = lexopt::Parser::from_args(argv);
        super::parse(&mut parser, "import", Some(OPERAND))?
            .map(ImportArgs::finish)
            .transpose()
    }

    #[test]
    fn parses() {
        let o = parse(&["zola", "old", "--root", "new"]).unwrap().unwrap();
        assert_eq!(o.generator, Generator::Zola);
        assert_eq!(o.source, PathBuf::from("old"));
        assert_eq!(o.root, PathBuf::from("new"));
        let o = parse(&["--root=x", "jekyll", "s"]).unwrap().unwrap();
        assert_eq!(o.generator, Generator::Jekyll);
        assert_eq!(o.root, PathBuf::from("x"));
        let o = parse(&["HUGO", "s"]).unwrap().unwrap();
        assert_eq!((o.generator, o.root), (Generator::Hugo, PathBuf::from(".")));
        assert!(parse(&["-h"]).unwrap().is_none());
    }

    #[test]
    fn rejects_saying_why() {
        let refused = |argv: &[&str], why: &str| {
            let message = parse(argv).expect_err(why).0;
            assert!(message.contains(why), "{argv:?}: {message}");
        };
        refused(&[], "which generator");
        refused(&["gatsby", "x"], "jekyll, hugo or zola");
        refused(&["hugo"], "SRC");
        refused(&["hugo", "a", "b"], "\"b\"");
        refused(&["hugo", "a", "--bogus"], "--bogus");
        refused(&["hugo", "a", "--root"], "--root");
    }
}
