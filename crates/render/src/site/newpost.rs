//! `forkblog new "Title"`: a dated post file with front matter, ready to write in.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::text::slugify;
use super::{Problem, POSTS_DIR};

/// Creates `root/posts/YYYY-MM-DD-slug.md` (today, local time) with `title`, `date`, empty
/// `tags` and `draft: true` (so a half-written post is not published until the author flips
/// it), and returns its path. Refuses to overwrite an existing file.
pub fn new_post(root: &Path, title: &str) -> Result<PathBuf, Problem> {
    let title = title.trim();
    let dir = root.join(POSTS_DIR);
    if title.is_empty() {
        return Err(Problem {
            file: dir,
            line: None,
            message: "a new post needs a title".into(),
        });
    }
    let now = jiff::Zoned::now();
    let path = dir.join(format!("{}-{}.md", now.date(), slugify(title)));
    let problem = |message: String| Problem {
        file: path.clone(),
        line: None,
        message,
    };
    std::fs::create_dir_all(&dir).map_err(|e| Problem {
        file: dir.clone(),
        line: None,
        message: format!("cannot create posts directory: {e}"),
    })?;
    // A JSON string is a valid YAML double-quoted scalar: quotes, colons and `#` are safe.
    let quoted =
        serde_json::to_string(title).map_err(|e| problem(format!("cannot quote title: {e}")))?;
    let text = format!(
        "---\ntitle: {quoted}\ndate: {}\ntags: []\ndraft: true\n---\n\nWrite here. Set `draft: false` to publish.\n",
        now.strftime("%Y-%m-%d %H:%M:%S %z")
    );
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                problem("already exists; not overwritten".into())
            } else {
                problem(format!("cannot create post: {e}"))
            }
        })?;
    file.write_all(text.as_bytes())
        .map_err(|e| problem(format!("cannot write post: {e}")))?;
    Ok(path)
}
