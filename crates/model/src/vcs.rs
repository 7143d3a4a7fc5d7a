//! Commits, as a session's tool calls reported them and as git linked them.

/// A commit `git commit` reported in its output: `[main 1a2b3c4] message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedCommit {
    /// Branch, or `detached HEAD`.
    pub branch: String,
    /// The abbreviated SHA printed.
    pub short_sha: String,
    /// Whether it was the repository's first commit.
    pub root: bool,
}

/// The commits `git commit` output names (its summary lines; `-q` prints none). The SHAs
/// are claims: output can be faked or quoted, so they must be checked against the repository.
pub fn reported_commits(output: &str) -> Vec<ReportedCommit> {
    let mut out = Vec::new();
    for line in output.lines() {
        let line = line.trim_start();
        let Some(rest) = line.strip_prefix('[') else {
            continue;
        };
        let Some((inside, _)) = rest.split_once(']') else {
            continue;
        };
        let mut words: Vec<&str> = inside.split(' ').collect();
        let Some(sha) = words.pop() else { continue };
        if sha.len() < 7
            || sha.len() > 40
            || !sha
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            continue;
        }
        let root = words.last() == Some(&"(root-commit)");
        if root {
            words.pop();
        }
        let branch = words.join(" ");
        if branch.is_empty() || branch.contains(char::is_control) {
            continue;
        }
        out.push(ReportedCommit {
            branch,
            short_sha: sha.to_owned(),
            root,
        });
    }
    out
}

/// A commit linked to a session (DESIGN.md 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedCommit {
    /// Full SHA.
    pub sha: String,
    /// Branch it was made on, when known.
    pub branch: Option<String>,
    /// Committer time.
    pub time: crate::Timestamp,
    /// Files it changed, relative to the repository root.
    pub files: Vec<String>,
    /// How it was linked: `agent_ran_commit`, `hook`, `file_overlap`, `trailer`.
    pub method: String,
    /// The tool call whose output reported it.
    pub reported_by: Option<usize>,
    /// Tool calls of the session that wrote one of its files.
    pub writers: Vec<usize>,
    /// The repository's working tree.
    pub repo: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_output_names_the_commits() {
        let out = "[spotter-dov 64f1b9a] feat: debug grid\n 2 files changed, 10 insertions(+)\n";
        assert_eq!(
            reported_commits(out),
            vec![ReportedCommit {
                branch: "spotter-dov".into(),
                short_sha: "64f1b9a".into(),
                root: false
            }]
        );
        let root = reported_commits("[main (root-commit) 0123456] init");
        assert!(root[0].root && root[0].branch == "main");
        assert_eq!(
            reported_commits("[detached HEAD 89abcde] wip")[0].branch,
            "detached HEAD"
        );
        for noise in [
            "[INFO] 1234567",
            "[main XYZ1234] x",
            "[main 12345] short",
            "no brackets 1234567",
            "[ 1234567]",
        ] {
            assert!(reported_commits(noise).is_empty(), "{noise}");
        }
    }
}
