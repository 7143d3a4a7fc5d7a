//! The labelled set: tool calls a security team would flag, and benign look-alikes that
//! must not be flagged.

use sessiontrail_model::{Access, SecretFinding, Text, Timestamp, ToolCall, ToolKind, ToolOutcome};

use super::*;

fn call(name: &str, access: Vec<Access>) -> ToolCall {
    ToolCall {
        outcome: ToolOutcome::Ok,
        access,
        ..ToolCall::new("t", name, 0, Timestamp(0))
    }
}

fn bash(cmd: &str) -> ToolCall {
    call("Bash", vec![Access::Command(cmd.into())])
}

fn builtin() -> &'static RuleSet {
    static SET: std::sync::OnceLock<RuleSet> = std::sync::OnceLock::new();
    SET.get_or_init(RuleSet::builtin)
}

fn rules_of(t: &ToolCall) -> Vec<String> {
    builtin()
        .evaluate(t, Some("/home/ana/proj"), Some("/home/ana"))
        .into_iter()
        .map(|m| m.rule)
        .collect()
}

#[test]
fn sensitive_calls_are_flagged_by_the_expected_rule() {
    let with_secret = |kind: &str| {
        let mut t = call(
            "Read",
            vec![Access::FileRead("/home/ana/proj/notes.txt".into())],
        );
        t.result = Some(Text {
            secrets: vec![SecretFinding {
                kind: kind.into(),
                fingerprint: "0".into(),
            }],
            ..Default::default()
        });
        t
    };
    let mut mcp = call("mcp__hashicorp-vault__read_secret", vec![]);
    mcp.kind = ToolKind::Mcp {
        server: "hashicorp-vault".into(),
        tool: "read_secret".into(),
    };
    let mut wrote_key = call(
        "Write",
        vec![Access::FileWrite("/home/ana/proj/config.py".into())],
    );
    wrote_key.input = Text {
        secrets: vec![SecretFinding {
            kind: "aws-access-token".into(),
            fingerprint: "0".into(),
        }],
        ..Default::default()
    };
    let cases: Vec<(ToolCall, &str)> = vec![
        (bash("cat .env"), "env-file"),
        (bash("source .env.production && npm start"), "env-file"),
        (
            call("Read", vec![Access::FileRead("/home/ana/proj/.env".into())]),
            "env-file",
        ),
        (
            call(
                "Edit",
                vec![Access::FileWrite("/Users/bob/app/.env.local".into())],
            ),
            "env-file",
        ),
        (
            call(
                "Read",
                vec![Access::FileRead("/home/ana/.ssh/id_ed25519".into())],
            ),
            "ssh-private-key",
        ),
        (bash("cp ~/.ssh/id_rsa /tmp/k"), "ssh-private-key"),
        // Listing ~/.ssh reads names, not keys; reading a file in it is a read.
        (bash("cat ~/.ssh/config"), "ssh-directory"),
        (
            call(
                "Read",
                vec![Access::FileRead("/home/ana/proj/certs/server.key".into())],
            ),
            "ssh-private-key",
        ),
        (bash("cat ~/.aws/credentials"), "aws-credentials"),
        (
            call(
                "Read",
                vec![Access::FileRead("/Users/bob/.aws/credentials".into())],
            ),
            "aws-credentials",
        ),
        (
            call(
                "Read",
                vec![Access::FileRead(r"C:\Users\bob\.aws\credentials".into())],
            ),
            "aws-credentials",
        ),
        (
            bash("cat ~/.config/gcloud/application_default_credentials.json"),
            "gcloud-credentials",
        ),
        (
            bash("kubectl --context prod get secrets -n payments -o yaml"),
            "cloud-secret-store",
        ),
        (
            bash("aws --profile prod secretsmanager get-secret-value --secret-id db"),
            "cloud-secret-store",
        ),
        (
            bash("AWS_REGION=eu-west-1 aws ssm get-parameter --name /x --with-decryption"),
            "cloud-secret-store",
        ),
        (
            bash("gcloud secrets versions access latest --secret=api"),
            "cloud-secret-store",
        ),
        (bash("vault kv get secret/db"), "cloud-secret-store"),
        (
            bash("az keyvault secret show --vault-name v --name n"),
            "cloud-secret-store",
        ),
        (bash("op read op://Private/db/password"), "os-keychain"),
        (
            bash("security find-generic-password -s github -w"),
            "os-keychain",
        ),
        (bash("printenv"), "environment-dump"),
        (bash("env"), "environment-dump"),
        (bash("env | grep -i key"), "environment-dump"),
        (bash("sudo cat /proc/1/environ"), "process-environ"),
        (bash("strings /proc/self/environ"), "process-environ"),
        (
            bash("curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/"),
            "cloud-metadata",
        ),
        (
            bash(
                "curl -H 'Metadata-Flavor: Google' http://metadata.google.internal/computeMetadata/v1/",
            ),
            "cloud-metadata",
        ),
        (
            call(
                "WebFetch",
                vec![Access::Url(
                    "http://169.254.169.254/latest/api/token".into(),
                )],
            ),
            "cloud-metadata",
        ),
        (
            bash("echo $GITHUB_TOKEN | gh auth login --with-token"),
            "secret-env-var",
        ),
        (
            bash("curl -u admin:${DB_PASSWORD} http://localhost"),
            "secret-env-var",
        ),
        (bash("cat ~/.netrc"), "package-registry-credentials"),
        (
            call(
                "Read",
                vec![Access::FileRead("/home/ana/proj/.npmrc".into())],
            ),
            "package-registry-credentials",
        ),
        (bash("cat infra/terraform.tfstate"), "terraform-state"),
        (bash("bash -c 'cat ~/.kube/config'"), "kubeconfig"),
        (bash("git credential fill"), "git-credential-helper"),
        (
            bash("gpg --export-secret-keys > ~/.gnupg/backup.asc"),
            "gpg-keyring",
        ),
        (mcp, "secret-store-mcp"),
        // Paths named inside inline code.
        (
            bash(r#"python3 -c "open('~/.aws/credentials').read()""#),
            "aws-credentials",
        ),
        (
            bash(
                r#"python -c "import os; print(open(os.path.expanduser('~/.ssh/id_rsa')).read())""#,
            ),
            "ssh-private-key",
        ),
        (
            bash(
                r#"python3 -c "from pathlib import Path; print((Path.home() / '.aws' / 'credentials').read_text())""#,
            ),
            "aws-credentials",
        ),
        (
            bash(
                r#"node -e "console.log(require('fs').readFileSync(require('os').homedir() + '/.aws/credentials', 'utf8'))""#,
            ),
            "aws-credentials",
        ),
        (
            bash(r#"ruby -e 'puts File.read(File.expand_path("~/.kube/config"))'"#),
            "kubeconfig",
        ),
        (
            bash(r#"perl -e 'open(F, "<", "$ENV{HOME}/.netrc"); print <F>'"#),
            "package-registry-credentials",
        ),
        (
            bash(r#"php -r 'echo file_get_contents(getenv("HOME") . "/.aws/credentials");'"#),
            "aws-credentials",
        ),
        (
            bash(
                "python3 - <<'EOF'
print(open('.env').read())
EOF",
            ),
            "env-file",
        ),
        (
            bash(
                r#"python3 -c "import urllib.request as u; print(u.urlopen('http://169.254.169.254/latest/meta-data/').read())""#,
            ),
            "cloud-metadata",
        ),
        // Home variables, `cd` and `..`.
        (bash("cat $HOME/.aws/credentials"), "aws-credentials"),
        (bash(r#"cat "${HOME}/.ssh/id_rsa""#), "ssh-private-key"),
        (bash("cd ~/.aws && cat credentials"), "aws-credentials"),
        (
            bash("pushd ~/.ssh >/dev/null; cat id_ed25519"),
            "ssh-private-key",
        ),
        (
            bash("cd && cd .aws && head -n 5 credentials"),
            "aws-credentials",
        ),
        (bash("cat ~/.aws/../.aws/credentials"), "aws-credentials"),
        (
            bash(
                "cat \
  ~/.aws/credentials",
            ),
            "aws-credentials",
        ),
        (
            bash(
                "bash <<EOF
cat ~/.aws/credentials
EOF",
            ),
            "aws-credentials",
        ),
        // Mounted secrets and client password files.
        (bash("cat /run/secrets/db_password"), "container-secrets"),
        (
            bash("cat /var/run/secrets/kubernetes.io/serviceaccount/token"),
            "kubernetes-service-account",
        ),
        (
            bash("cat /var/run/secrets/kubernetes.io/serviceaccount/ca.crt"),
            "kubernetes-service-account",
        ),
        (bash("cat ~/.pgpass"), "database-credentials"),
        (bash("cat ~/.my.cnf"), "database-credentials"),
        (
            bash("cat ~/.config/gh/hosts.yml"),
            "package-registry-credentials",
        ),
        // Credential commands.
        (
            bash("echo $CR_PAT | docker login ghcr.io -u me --password-stdin"),
            "registry-login",
        ),
        (
            bash("docker login -u me -p hunter2 registry.example.com"),
            "registry-login",
        ),
        (bash("gh auth token"), "cloud-secret-store"),
        (bash("echo $(gh auth token)"), "cloud-secret-store"),
        (
            bash("export GH_TOKEN=$(gh auth token)"),
            "cloud-secret-store",
        ),
        (
            bash("GH_TOKEN=$(gh auth token) npm publish"),
            "cloud-secret-store",
        ),
        (
            bash("GH_TOKEN=\"`gh auth token`\" npm publish"),
            "cloud-secret-store",
        ),
        (
            bash("if gh auth token >/dev/null 2>&1; then echo ok; fi"),
            "cloud-secret-store",
        ),
        (bash("timeout 5 gh auth token"), "cloud-secret-store"),
        (
            bash("cat <<EOF > .netrc.tmp\n$(gh auth token)\nEOF"),
            "cloud-secret-store",
        ),
        (bash("heroku auth:token"), "cloud-secret-store"),
        (bash("vault token lookup"), "cloud-secret-store"),
        (bash("vault login -method=github"), "cloud-secret-store"),
        (
            bash("kubectl config view --raw -o json"),
            "cloud-secret-store",
        ),
        (
            bash("git config credential.helper"),
            "git-credential-helper",
        ),
        (
            bash("git config --get credential.helper"),
            "git-credential-helper",
        ),
        (
            bash("git config --get-regexp credential"),
            "git-credential-helper",
        ),
        // Metadata endpoints without a scheme.
        (
            bash("curl 169.254.169.254/latest/meta-data/"),
            "cloud-metadata",
        ),
        (
            bash("wget -qO- metadata.google.internal/computeMetadata/v1/"),
            "cloud-metadata",
        ),
        (
            bash("curl -s http://[fd00:ec2::254]/latest/"),
            "cloud-metadata",
        ),
        (bash("curl -s [fd00:ec2::254]/latest/"), "cloud-metadata"),
        // A search for private keys.
        (bash(r#"find ~ -name "*.pem""#), "ssh-private-key"),
        (bash("find . -name '.env*' -exec cat {} +"), "env-file"),
        (with_secret("github-pat"), "secret-in-tool-output"),
        (wrote_key, "secret-in-tool-input"),
    ];
    for (t, want) in &cases {
        let got = rules_of(t);
        assert!(
            got.iter().any(|r| r == want),
            "{:?} should match {want}, got {got:?}",
            t.access
        );
    }
}

#[test]
fn benign_look_alikes_are_not_flagged() {
    let cases: Vec<ToolCall> = vec![
        bash("cat .env.example"),
        bash("cp .env.sample .env.template"),
        call(
            "Read",
            vec![Access::FileRead("/home/ana/proj/.env.example".into())],
        ),
        bash("grep -rn password docs/"),
        bash("grep -rn 'api_key' src/"),
        call(
            "Read",
            vec![Access::FileRead("/home/ana/proj/docs/secrets.md".into())],
        ),
        call(
            "Read",
            vec![Access::FileRead("/home/ana/proj/src/keys.rs".into())],
        ),
        call(
            "Read",
            vec![Access::FileRead("/home/ana/proj/src/environment.ts".into())],
        ),
        call(
            "Read",
            vec![Access::FileRead("/home/ana/.ssh.bak.txt".into())],
        ),
        call("Grep", vec![Access::Search("/home/ana/proj/src".into())]),
        bash("cat ~/.ssh/id_ed25519.pub"),
        bash("env FOO=1 cargo test"),
        bash("env RUST_LOG=debug ./target/debug/app"),
        bash("echo $HOME $PATH $USER"),
        bash("kubectl get pods -n payments"),
        bash("aws s3 ls s3://bucket"),
        bash("gcloud config list"),
        bash("vault status"),
        bash("git commit -m 'rotate the token handling and the secret store docs'"),
        bash("npm test -- --grep 'password reset'"),
        bash("curl -s https://api.github.com/repos/x/y"),
        bash("cargo run -- --set-password-policy strict"),
        call(
            "WebFetch",
            vec![Access::Url(
                "https://docs.aws.amazon.com/secretsmanager/latest/userguide/intro.html".into(),
            )],
        ),
        call("mcp__linear-server__get_issue", vec![]),
        call(
            "Read",
            vec![Access::FileRead("/home/ana/proj/README.md".into())],
        ),
        bash("cat README.md"),
        bash("cat docs/kubeconfig.md"),
        bash("cat docs/kubeconfig.md.bak"),
        // Names and metadata only.
        bash("ls ~/.ssh/"),
        bash("ls -la ~/.ssh"),
        bash("stat ~/.aws/credentials"),
        bash("test -f ~/.aws/credentials && echo yes"),
        bash("[ -f .env ] || echo missing"),
        bash("du -sh ~/.ssh"),
        bash("realpath ~/.ssh/id_rsa"),
        bash("readlink -f ~/.kube/config"),
        bash("dirname ~/.ssh/id_rsa; basename ~/.ssh/id_rsa"),
        bash("mkdir -p ~/.ssh && chmod 700 ~/.ssh"),
        bash("chmod 600 ~/.ssh/id_ed25519 && chown ana ~/.ssh/id_ed25519"),
        bash("touch .env.local"),
        bash("which gh"),
        bash("cd ~/.ssh && ls"),
        bash("find . -name '*.md'"),
        bash("find ~/.ssh -type f"),
        // Heredoc bodies are data.
        bash(
            "cat <<'EOF' > notes.md\nrun printenv, then gh auth token\ncat ~/.aws/credentials\nEOF",
        ),
        bash("git commit -F - <<EOF\nfix: stop reading ~/.aws/credentials\nEOF"),
        bash("echo 'keys live in ~/.ssh/id_rsa'"),
        bash(r#"python3 -c "print('hello')""#),
        bash("node -e 'console.log(1 + 1)'"),
        bash("kubectl config view"),
        bash("git config user.email"),
        bash("docker login ghcr.io"),
        bash("gh auth status"),
        bash(r#"DB_PASSWORD_HINT="velvet mango" ./run"#),
    ];
    for t in &cases {
        let got = rules_of(t);
        assert!(got.is_empty(), "{:?} flagged by {got:?}", t.access);
    }
}

#[test]
fn a_user_file_adds_overrides_and_disables_rules() {
    let file = r#"
[[rule]]
id = "env-file"
enabled = false

[[rule]]
id = "ssh-directory"
severity = "low"

[[rule]]
id = "prod-db-dump"
severity = "critical"
category = "data"
description = "Dumped the production database"
commands = ["pg_dump *prod*"]
"#;
    let set = RuleSet::with_file("team.toml", file).unwrap();
    let by_id = |id: &str| set.rules().iter().find(|r| r.id == id).unwrap();
    assert!(!by_id("env-file").enabled);
    assert_eq!(by_id("ssh-directory").severity, Severity::Low);
    assert_eq!(
        by_id("ssh-directory").origin,
        "team.toml (overrides built-in)"
    );
    assert!(set.evaluate(&bash("cat .env"), Some("/p"), None).is_empty());
    let m = set.evaluate(
        &bash("pg_dump -h db prod_main > dump.sql"),
        Some("/p"),
        None,
    );
    assert_eq!(m.len(), 1);
    assert_eq!(
        (m[0].rule.as_str(), m[0].severity),
        ("prod-db-dump", Severity::Critical)
    );
}

#[test]
fn rule_file_errors_name_their_line() {
    let file = "[[rule]]\nid = \"x\"\nseverity = \"urgent\"\npaths = [\"a/[b\"]\n\n[[rule]]\nid = \"y\"\nseverity = \"low\"\n";
    let errs = RuleSet::with_file("bad.toml", file).unwrap_err();
    let lines: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.message.as_str())).collect();
    assert!(
        lines
            .iter()
            .any(|(l, m)| *l == 3 && m.contains("unknown severity 'urgent'")),
        "{errs:?}"
    );
    assert!(
        lines.iter().any(|(l, m)| *l == 4 && m.contains("bad glob")),
        "{errs:?}"
    );
    assert!(
        lines
            .iter()
            .any(|(l, m)| *l == 7 && m.contains("has no matcher")),
        "{errs:?}"
    );
    let syntax = RuleSet::with_file(
        "bad.toml",
        "[[rule]]\nid = \"x\"\nseverity = \"low\"\npaths = [\"a\"\n",
    )
    .unwrap_err();
    assert_eq!(syntax[0].line, 4, "{syntax:?}");
    let unknown = RuleSet::with_file(
        "bad.toml",
        "[[rule]]\nid = \"x\"\nseverity = \"low\"\npath = [\"a\"]\n",
    )
    .unwrap_err();
    assert!(
        unknown[0].message.contains("unknown field `path`"),
        "{unknown:?}"
    );
    assert_eq!(unknown[0].to_string().split(':').next(), Some("bad.toml"));
}

#[test]
fn the_builtin_pack_is_valid_and_complete() {
    let set = RuleSet::builtin();
    assert!(set.rules().len() >= 20);
    for r in set.rules() {
        assert!(
            !r.description.is_empty() && r.category != "other",
            "{}",
            r.id
        );
    }
}

#[test]
fn targets_say_what_was_touched() {
    let target = |t: &ToolCall, rule: &str| -> String {
        builtin()
            .evaluate(t, Some("/home/ana/proj"), Some("/home/ana"))
            .into_iter()
            .find(|m| m.rule == rule)
            .unwrap_or_else(|| panic!("{:?} not flagged by {rule}", t.access))
            .target
    };
    assert_eq!(
        target(&bash("cat ~/.aws/credentials"), "aws-credentials"),
        "~/.aws/credentials"
    );
    assert_eq!(
        target(
            &call(
                "Read",
                vec![Access::FileRead("/home/ana/.aws/credentials".into())]
            ),
            "aws-credentials"
        ),
        "~/.aws/credentials"
    );
    assert_eq!(
        target(&bash("cd ~/.aws && cat credentials"), "aws-credentials"),
        "~/.aws/credentials"
    );
    assert_eq!(
        target(&bash(r#"find ~ -name "*.pem""#), "ssh-private-key"),
        "~/**/*.pem"
    );
    assert_eq!(target(&bash("cat .env"), "env-file"), "/home/ana/proj/.env");
    assert_eq!(
        target(
            &bash("kubectl --context prod get secrets -n payments"),
            "cloud-secret-store"
        ),
        "kubectl get secrets"
    );
    assert_eq!(
        target(
            &bash("docker login -u me --password=hunter2 r.example.com"),
            "registry-login"
        ),
        "docker login --password"
    );
    let mut t = call("Read", vec![]);
    t.result = Some(Text {
        secrets: vec![SecretFinding {
            kind: "github-pat".into(),
            fingerprint: "0a1b2c3d".into(),
        }],
        ..Default::default()
    });
    assert_eq!(
        target(&t, "secret-in-tool-output"),
        "[REDACTED:github-pat:0a1b2c3d]"
    );
}
