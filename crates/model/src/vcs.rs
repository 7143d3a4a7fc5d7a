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

/// How a commit was linked to a session (DESIGN.md 4), strongest evidence first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LinkMethod {
    /// The agent ran `git commit` and its output (or HEAD's reflog) names the commit.
    AgentRanCommit,
    /// The commit carries a trailer naming the session.
    Trailer,
    /// The post-commit hook ran while the session was active in that working tree.
    Hook,
    /// The commit changed a file the session wrote, close in time.
    FileOverlap,
    /// A method this release does not know (a later release's note, another tool's),
    /// kept as written so that rewriting the note loses nothing.
    Other(String),
}

impl LinkMethod {
    /// The name written in notes, the store and `sessiontrail.link.method`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::AgentRanCommit => "agent_ran_commit",
            Self::Trailer => "trailer",
            Self::Hook => "hook",
            Self::FileOverlap => "file_overlap",
            Self::Other(s) => s,
        }
    }

    /// The method a name stands for; any name is accepted (see [`LinkMethod::Other`]).
    pub fn parse(name: &str) -> Self {
        match name {
            "agent_ran_commit" => Self::AgentRanCommit,
            "trailer" => Self::Trailer,
            "hook" => Self::Hook,
            "file_overlap" => Self::FileOverlap,
            other => Self::Other(other.to_owned()),
        }
    }

    /// Orders methods by the evidence they give: of two links to one commit by one
    /// session, the stronger is kept.
    pub fn strength(&self) -> u8 {
        match self {
            Self::AgentRanCommit => 4,
            Self::Trailer => 3,
            Self::Hook => 2,
            Self::FileOverlap => 1,
            Self::Other(_) => 0,
        }
    }
}

impl std::fmt::Display for LinkMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for LinkMethod {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for LinkMethod {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(Self::parse(&name))
    }
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
    /// How it was linked.
    pub method: LinkMethod,
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
    fn link_methods_keep_their_names_and_order() {
        for m in [
            LinkMethod::AgentRanCommit,
            LinkMethod::Trailer,
            LinkMethod::Hook,
            LinkMethod::FileOverlap,
            LinkMethod::Other("content_match".into()),
        ] {
            assert_eq!(LinkMethod::parse(m.as_str()), m);
        }
        assert!(LinkMethod::AgentRanCommit.strength() > LinkMethod::Hook.strength());
        assert!(LinkMethod::Hook.strength() > LinkMethod::FileOverlap.strength());
        assert!(LinkMethod::FileOverlap.strength() > LinkMethod::parse("x").strength());
    }

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
