//! What a run of `forkblog import` is asked to do. The binary's command line
//! (`src/cli/import.rs`) declares the operands and flags that fill it, with their help.

use std::path::PathBuf;

use super::Generator;

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
