use super::*;

/// A repository with one commit of `a.txt`, built with git2.
fn repo_with_commit(dir: &Path) -> (git2::Repository, String) {
    let repo = git2::Repository::init(dir).unwrap();
    std::fs::write(dir.join("a.txt"), "hello\n").unwrap();
    let sha = {
        let mut index = repo.index().unwrap();
        index.add_path(Path::new("a.txt")).unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("Ana", "ana@example.com").unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "first", &tree, &[])
            .unwrap()
            .to_string()
    };
    (repo, sha)
}

#[test]
fn remotes_become_https_urls_without_credentials() {
    let cases = [
        (
            "git@github.com:acme/shop.git",
            "https://github.com/acme/shop",
        ),
        (
            "https://x-access-token:ghp_secret@github.com/acme/shop.git",
            "https://github.com/acme/shop",
        ),
        (
            "https://oauth2:glpat-xyz@GitLab.example.com/group/sub/shop/",
            "https://gitlab.example.com/group/sub/shop",
        ),
        (
            "ssh://git@bitbucket.org:22/acme/shop.git",
            "https://bitbucket.org/acme/shop",
        ),
        (
            "https://github.com/acme/shop",
            "https://github.com/acme/shop",
        ),
        ("/srv/git/shop.git", "/srv/git/shop"),
    ];
    for (raw, want) in cases {
        assert_eq!(normalize_remote(raw).as_deref(), Some(want), "{raw}");
    }
    assert_eq!(normalize_remote("  "), None);
}

#[test]
fn facts_of_a_repository_its_worktree_and_no_repository() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("shop");
    std::fs::create_dir_all(main.join("src/deep")).unwrap();
    let (repo, sha) = repo_with_commit(&main);
    repo.remote("origin", "https://bot:ghp_token@github.com/acme/shop.git")
        .unwrap();
    let f = facts(&main.join("src/deep")).unwrap().unwrap();
    assert_eq!(f.root.canonicalize().unwrap(), main.canonicalize().unwrap());
    assert_eq!(
        f.remote_url.as_deref(),
        Some("https://github.com/acme/shop")
    );
    assert_eq!(f.name, "shop");
    assert_eq!(f.head.as_deref(), Some(sha.as_str()));
    assert!(f.branch.is_some() && !f.worktree);

    let wt_path = dir.path().join("shop-wt");
    let commit = repo
        .find_commit(git2::Oid::from_str(&sha).unwrap())
        .unwrap();
    repo.branch("feature", &commit, false).unwrap();
    let branch_ref = repo.find_reference("refs/heads/feature").unwrap();
    repo.worktree(
        "wt",
        &wt_path,
        Some(git2::WorktreeAddOptions::new().reference(Some(&branch_ref))),
    )
    .unwrap();
    let w = facts(&wt_path).unwrap().unwrap();
    assert!(w.worktree);
    assert_eq!(w.branch.as_deref(), Some("feature"));
    assert_eq!(w.head.as_deref(), Some(sha.as_str()));
    assert_eq!(w.name, "shop");
    // Without a remote, the worktree is still named after its repository.
    repo.remote_delete("origin").unwrap();
    assert_eq!(facts(&wt_path).unwrap().unwrap().name, "shop");
    assert_eq!(facts(&main).unwrap().unwrap().name, "shop");

    repo.set_head_detached(git2::Oid::from_str(&sha).unwrap())
        .unwrap();
    assert_eq!(facts(&main).unwrap().unwrap().branch, None);

    // A repository nested in another (a vendored checkout): the innermost one is the session's.
    let inner = main.join("vendor/lib");
    std::fs::create_dir_all(&inner).unwrap();
    let (_, inner_sha) = repo_with_commit(&inner);
    let n = facts(&inner).unwrap().unwrap();
    assert_eq!(
        n.root.canonicalize().unwrap(),
        inner.canonicalize().unwrap()
    );
    assert_eq!(n.name, "lib");
    assert_eq!(n.head.as_deref(), Some(inner_sha.as_str()));

    let outside = tempfile::tempdir().unwrap();
    assert_eq!(facts(outside.path()).unwrap(), None);
}

#[test]
fn revisions_resolve_like_git() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, first) = repo_with_commit(dir.path());
    std::fs::write(dir.path().join("a.txt"), "two\n").unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("a.txt")).unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("Ana", "ana@example.com").unwrap();
    let parent = repo
        .find_commit(git2::Oid::from_str(&first).unwrap())
        .unwrap();
    let second = repo
        .commit(Some("HEAD"), &sig, &sig, "second", &tree, &[&parent])
        .unwrap()
        .to_string();
    repo.tag_lightweight("v1", parent.as_object(), false)
        .unwrap();
    assert_eq!(resolve(dir.path(), "HEAD").unwrap(), second);
    assert_eq!(resolve(dir.path(), "HEAD~1").unwrap(), first);
    assert_eq!(resolve(dir.path(), &first[..8]).unwrap(), first);
    assert_eq!(resolve(dir.path(), "v1").unwrap(), first);
    assert!(matches!(
        resolve(dir.path(), "nope"),
        Err(GitError::UnknownRevision { .. })
    ));
}

#[test]
fn notes_merge_sessions_and_never_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let (_repo, sha) = repo_with_commit(dir.path());
    assert!(read_note(dir.path(), &sha).unwrap().is_empty());
    let entry = |session: &str, tools: &[&str]| NoteEntry {
        agent: "claude-code".into(),
        session_id: session.into(),
        trace_id: "00".repeat(16),
        tool_call_ids: tools.iter().map(|t| (*t).to_owned()).collect(),
        link_method: LinkMethod::AgentRanCommit,
        backend_url: None,
    };
    add_note(dir.path(), &sha, entry("s1", &["t1"])).unwrap();
    add_note(dir.path(), &sha, entry("s2", &["t9"])).unwrap();
    add_note(dir.path(), &sha, entry("s1", &["t1", "t2"])).unwrap();
    let notes = read_note(dir.path(), &sha).unwrap();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0].tool_call_ids, ["t1", "t2"]);
    assert_eq!(notes[1].session_id, "s2");
}

/// What git leaves after amending a commit that already had a note (`notes.rewriteRef`,
/// concatenate mode): the new commit's note, a blank line, the carried note.
#[test]
fn notes_git_concatenated_read_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, sha) = repo_with_commit(dir.path());
    let entry = |session: &str, tools: &[&str], method: &str| NoteEntry {
        agent: "claude-code".into(),
        session_id: session.into(),
        trace_id: "00".repeat(16),
        tool_call_ids: tools.iter().map(|t| (*t).to_owned()).collect(),
        link_method: LinkMethod::parse(method),
        backend_url: None,
    };
    let text = format!(
        "{}\n\n{}\n",
        serde_json::to_string_pretty(&[entry("s1", &[], "hook"), entry("s2", &[], "hook")])
            .unwrap(),
        serde_json::to_string_pretty(&[entry("s1", &["t1"], "agent_ran_commit")]).unwrap()
    );
    let sig = git2::Signature::now("Ana", "ana@example.com").unwrap();
    let oid = git2::Oid::from_str(&sha).unwrap();
    repo.note(&sig, &sig, Some(NOTES_REF), oid, &text, true)
        .unwrap();
    let notes = read_note(dir.path(), &sha).unwrap();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert_eq!(notes[0].session_id, "s1");
    assert_eq!(notes[0].link_method, LinkMethod::AgentRanCommit);
    assert_eq!(notes[0].tool_call_ids, ["t1"]);
    assert_eq!(notes[1].session_id, "s2");
    // Writing again leaves a single array.
    add_note(dir.path(), &sha, entry("s3", &[], "hook")).unwrap();
    let note = repo.find_note(Some(NOTES_REF), oid).unwrap();
    let v: serde_json::Value = serde_json::from_str(note.message().unwrap()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3);
    repo.note(&sig, &sig, Some(NOTES_REF), oid, "not json", true)
        .unwrap();
    assert!(matches!(
        read_note(dir.path(), &sha),
        Err(GitError::BadNote { .. })
    ));
}

#[test]
fn head_history_answers_by_time() {
    let dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    let mut shas = Vec::new();
    for (i, t) in [1_000, 2_000, 3_000].iter().enumerate() {
        std::fs::write(dir.path().join("a.txt"), format!("{i}\n")).unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(Path::new("a.txt")).unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::new("Ana", "ana@example.com", &git2::Time::new(*t, 0)).unwrap();
        let parents: Vec<git2::Commit<'_>> = shas
            .last()
            .map(|s: &String| repo.find_commit(git2::Oid::from_str(s).unwrap()).unwrap())
            .into_iter()
            .collect();
        let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
        shas.push(
            repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &parents)
                .unwrap()
                .to_string(),
        );
    }
    let h = HeadHistory::read(dir.path()).unwrap();
    assert_eq!(h.at(500), None, "before the first commit");
    assert_eq!(h.at(1_000), Some(shas[0].as_str()));
    assert_eq!(h.at(2_500), Some(shas[1].as_str()));
    assert_eq!(h.at(99_999), Some(shas[2].as_str()));
}

#[cfg(unix)]
/// A stand-in for the sessiontrail binary that records its call in the git dir's `ran`.
fn fake_sessiontrail(dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let exe = dir.join("fake-sessiontrail");
    std::fs::write(
        &exe,
        "#!/bin/sh\necho \"ours $*\" >> \"$(git rev-parse --git-dir)/ran\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    exe
}

/// `git commit --allow-empty` with the real git, so hooks run.
fn commit_empty(dir: &Path) {
    let st = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=A",
            "-c",
            "user.email=a@x",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ])
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn install_chains_the_existing_hook_and_uninstall_removes_exactly_what_it_added() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (repo, _) = repo_with_commit(dir.path());
    repo.remote("origin", "https://github.com/acme/shop.git")
        .unwrap();
    let hooks = dir.path().join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let theirs = "#!/bin/sh\necho theirs >> \"$(git rev-parse --git-dir)/ran\"\n";
    std::fs::write(hooks.join("post-commit"), theirs).unwrap();
    std::fs::set_permissions(
        hooks.join("post-commit"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let entries = |dir: &Path| -> Vec<String> {
        let out = std::process::Command::new("git")
            .args(["config", "--local", "--list"])
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let config_before = entries(dir.path());
    let exe = fake_sessiontrail(dir.path());

    let done = install(dir.path(), &exe).unwrap();
    assert!(!done.already && done.chained.is_some());
    assert!(
        install(dir.path(), &exe).unwrap().already,
        "installing twice changes nothing"
    );
    let cfg = repo.config().unwrap().snapshot().unwrap();
    assert_eq!(cfg.get_string("notes.rewriteRef").unwrap(), NOTES_REF);
    let config_text = std::fs::read_to_string(dir.path().join(".git/config")).unwrap();
    assert!(config_text.contains("fetch = +refs/notes/sessiontrail:refs/notes/sessiontrail"));
    assert!(
        config_text.contains("push = refs/notes/sessiontrail")
            && config_text.contains("push = HEAD")
    );

    // A real commit runs both hooks, theirs first.
    std::fs::write(dir.path().join("b.txt"), "b\n").unwrap();
    commit_empty(dir.path());
    let ran = std::fs::read_to_string(dir.path().join(".git/ran")).unwrap();
    assert_eq!(ran, "theirs\nours git post-commit\n");

    assert!(uninstall(dir.path()).unwrap());
    assert_eq!(
        std::fs::read_to_string(hooks.join("post-commit")).unwrap(),
        theirs
    );
    assert!(!hooks.join("post-commit.sessiontrail-chained").exists());
    // The same settings as before (libgit2 may leave an empty section header behind).
    assert_eq!(entries(dir.path()), config_before);
}

#[test]
fn a_branch_recorded_as_head_is_a_detached_head() {
    use sessiontrail_model::{AgentKind, Session};
    let mut s = Session::new(AgentKind::ClaudeCode, "s1");
    s.git_branch = Some("HEAD".into());
    enrich(&mut s);
    assert_eq!(s.git_branch, None);
    s.git_branch = Some("main".into());
    enrich(&mut s);
    assert_eq!(s.git_branch.as_deref(), Some("main"));
}

/// `core.hooksPath` setups (husky, lefthook): the hook goes where git runs hooks from, chains
/// the one there, and the commit still runs both.
#[test]
fn install_follows_core_hooks_path() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (repo, _) = repo_with_commit(dir.path());
    repo.config()
        .unwrap()
        .set_str("core.hooksPath", ".husky")
        .unwrap();
    let hooks = dir.path().join(".husky");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::write(
        hooks.join("post-commit"),
        "#!/bin/sh\necho husky >> \"$(git rev-parse --git-dir)/ran\"\n",
    )
    .unwrap();
    std::fs::set_permissions(
        hooks.join("post-commit"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let exe = fake_sessiontrail(dir.path());

    let done = install(dir.path(), &exe).unwrap();
    assert_eq!(done.hook, hooks.join("post-commit"));
    assert!(!dir.path().join(".git/hooks/post-commit").exists());
    commit_empty(dir.path());
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".git/ran")).unwrap(),
        "husky\nours git post-commit\n"
    );
    assert!(uninstall(dir.path()).unwrap());
    assert!(
        std::fs::read_to_string(hooks.join("post-commit"))
            .unwrap()
            .contains("husky")
    );
}
