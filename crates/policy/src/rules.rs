//! Sensitive-access rules: the built-in pack, a user's TOML file over it, and their
//! evaluation on the normalized access of a tool call.

use std::collections::BTreeMap;
use std::path::Path;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use sessiontrail_model::{Access, SensitiveMatch, Severity, ToolCall, redaction_marker};
use toml::Spanned;

use crate::shell::{SimpleCommand, basename, commands, inline_code};

/// The built-in rules, in the same format as a user's file.
pub const BUILTIN: &str = include_str!("../builtin.toml");

/// A problem in a rule file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct RuleError {
    /// The file (`built-in` for the pack).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    severity: Option<Spanned<String>>,
    category: Option<String>,
    description: Option<String>,
    enabled: Option<bool>,
    paths: Option<Vec<Spanned<String>>>,
    exclude_paths: Option<Vec<Spanned<String>>>,
    access: Option<Spanned<String>>,
    commands: Option<Vec<Spanned<String>>>,
    env_vars: Option<Vec<Spanned<String>>>,
    hosts: Option<Vec<Spanned<String>>>,
    tools: Option<Vec<Spanned<String>>>,
    output_secrets: Option<Vec<Spanned<String>>>,
    input_secrets: Option<Vec<Spanned<String>>>,
}

/// Which direction of file access a rule cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKind {
    /// Reads only.
    Read,
    /// Writes only.
    Write,
    /// Either.
    Any,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Id.
    pub id: String,
    /// Severity.
    pub severity: Severity,
    /// Category.
    pub category: String,
    /// What it means.
    pub description: String,
    /// Whether it is in force.
    pub enabled: bool,
    /// Where it comes from: `built-in`, or the file that added or changed it.
    pub origin: String,
    /// The matchers as written, for listings.
    pub matchers: BTreeMap<&'static str, Vec<String>>,
    paths: Option<GlobSet>,
    exclude_paths: Option<GlobSet>,
    access: AccessKind,
    commands: Vec<Vec<PatternWord>>,
    command_exact: Vec<bool>,
    env_vars: Option<GlobSet>,
    hosts: Option<GlobSet>,
    tools: Option<GlobSet>,
    output_secrets: Option<GlobSet>,
    input_secrets: Option<GlobSet>,
}

/// A word of a command pattern: a glob, and whether it is an option (`--raw`), which may
/// stand anywhere among the command's options.
#[derive(Debug, Clone)]
struct PatternWord {
    glob: Word,
    option: bool,
}

/// A word with no glob syntax is compared as it is: compiling a glob builds a regex, and
/// most words of the built-in patterns (`cat`, `--raw`) are plain.
#[derive(Debug, Clone)]
enum Word {
    Plain(String),
    Glob(globset::GlobMatcher),
}

impl Word {
    fn new(w: &str) -> Result<Word, globset::Error> {
        if w.contains(['*', '?', '[', ']', '{', '}', '\\']) {
            Ok(Word::Glob(Glob::new(w)?.compile_matcher()))
        } else {
            Ok(Word::Plain(w.to_owned()))
        }
    }

    fn is_match(&self, w: &str) -> bool {
        match self {
            Word::Plain(p) => p == w,
            Word::Glob(g) => g.is_match(w),
        }
    }
}

/// The rules in force.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

/// Where a file's text sits, for line numbers.
struct Source<'a> {
    name: &'a str,
    text: &'a str,
}

impl Source<'_> {
    fn error(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> RuleError {
        let before = &self.text[..span.start.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        RuleError {
            file: self.name.to_owned(),
            line,
            column,
            message: message.into(),
        }
    }
}

/// The built-in rules as written and compiled, once per process: every command and every
/// user file starts from them.
fn builtin_rules() -> &'static [(RawRule, Rule)] {
    static RULES: std::sync::OnceLock<Vec<(RawRule, Rule)>> = std::sync::OnceLock::new();
    RULES.get_or_init(|| {
        let src = Source {
            name: "built-in",
            text: BUILTIN,
        };
        let valid = "the built-in rules are valid (tested)";
        let rules = parse(&src)
            .expect(valid)
            .into_iter()
            .map(|raw| {
                let rule = compile(&raw, &src, "built-in").expect(valid);
                (raw, rule)
            })
            .collect::<Vec<_>>();
        let mut ids = std::collections::HashSet::new();
        assert!(
            rules
                .iter()
                .all(|(raw, _)| ids.insert(raw.id.get_ref().clone())),
            "{valid}: no id twice"
        );
        rules
    })
}

fn parse(src: &Source<'_>) -> Result<Vec<RawRule>, Vec<RuleError>> {
    match toml::from_str::<RuleFile>(src.text) {
        Ok(f) => Ok(f.rule),
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            Err(vec![src.error(span, e.message().trim().to_owned())])
        }
    }
}

impl RuleSet {
    /// The built-in rules.
    pub fn builtin() -> RuleSet {
        Self::build(None).expect("the built-in rules are valid (tested)")
    }

    /// The built-in rules with a user's file over them. Every problem of the file is
    /// reported, each with its line.
    pub fn with_file(name: &str, text: &str) -> Result<RuleSet, Vec<RuleError>> {
        Self::build(Some(Source { name, text }))
    }

    /// Reads `path` and builds the rules; I/O errors come back as a rule error at line 1.
    pub fn load(path: &Path) -> Result<RuleSet, Vec<RuleError>> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            vec![RuleError {
                file: name.clone(),
                line: 1,
                column: 1,
                message: format!("cannot read: {e}"),
            }]
        })?;
        Self::with_file(&name, &text)
    }

    fn build(user: Option<Source<'_>>) -> Result<RuleSet, Vec<RuleError>> {
        /// A built-in rule left as it is, or a rule to compile.
        enum Entry<'a> {
            Builtin(usize),
            Raw(Box<RawRule>, &'a Source<'a>, String),
        }
        let builtin = builtin_rules();
        let mut merged: Vec<Entry<'_>> = (0..builtin.len()).map(Entry::Builtin).collect();
        let mut errors = Vec::new();
        if let Some(src) = &user {
            for r in parse(src)? {
                let same = |e: &Entry<'_>| match e {
                    Entry::Builtin(i) => builtin[*i].0.id.get_ref() == r.id.get_ref(),
                    Entry::Raw(m, _, _) => m.id.get_ref() == r.id.get_ref(),
                };
                match merged.iter_mut().find(|e| same(e)) {
                    Some(e) => {
                        let origin = format!("{} (overrides built-in)", src.name);
                        match e {
                            Entry::Builtin(i) => {
                                let mut m = builtin[*i].0.clone();
                                overlay(&mut m, r);
                                *e = Entry::Raw(Box::new(m), src, origin);
                            }
                            Entry::Raw(m, s, o) => {
                                overlay(m, r);
                                *s = src;
                                *o = origin;
                            }
                        }
                    }
                    None => merged.push(Entry::Raw(Box::new(r), src, src.name.to_owned())),
                }
            }
        }
        let mut rules = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for e in &merged {
            match e {
                Entry::Builtin(i) => {
                    seen.insert(builtin[*i].0.id.get_ref().clone());
                    rules.push(builtin[*i].1.clone());
                }
                Entry::Raw(raw, src, origin) => {
                    if !seen.insert(raw.id.get_ref().clone()) {
                        errors.push(src.error(
                            raw.id.span(),
                            format!("rule '{}' is defined twice", raw.id.get_ref()),
                        ));
                        continue;
                    }
                    match compile(raw, src, origin) {
                        Ok(r) => rules.push(r),
                        Err(mut e) => errors.append(&mut e),
                    }
                }
            }
        }
        errors.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        if errors.is_empty() {
            Ok(RuleSet { rules })
        } else {
            Err(errors)
        }
    }

    /// Every rule, in force or not.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rules `tool` matches, with what matched; `cwd` resolves relative paths and `home`
    /// resolves `~`.
    pub fn evaluate(
        &self,
        tool: &ToolCall,
        cwd: Option<&str>,
        home: Option<&str>,
    ) -> Vec<SensitiveMatch> {
        let facts = Facts::of(tool, cwd, home);
        // Each path prepared for matching once, not once per rule.
        let candidates: Vec<Vec<globset::Candidate<'_>>> = facts
            .paths
            .iter()
            .map(|p| p.matched.iter().map(globset::Candidate::new).collect())
            .collect();
        let mut out = Vec::new();
        for r in self.rules.iter().filter(|r| r.enabled) {
            if let Some(target) = r.matches(&facts, &candidates, tool) {
                out.push(SensitiveMatch {
                    rule: r.id.clone(),
                    severity: r.severity,
                    category: r.category.clone(),
                    target,
                });
            }
        }
        out
    }
}

/// A user's rule over a built-in one: the fields it sets replace the built-in's.
fn overlay(base: &mut RawRule, r: RawRule) {
    macro_rules! take {
        ($($f:ident),*) => { $( if r.$f.is_some() { base.$f = r.$f; } )* };
    }
    take!(
        severity,
        category,
        description,
        enabled,
        paths,
        exclude_paths,
        access,
        commands,
        env_vars,
        hosts,
        tools,
        output_secrets,
        input_secrets
    );
}

fn compile(raw: &RawRule, src: &Source<'_>, origin: &str) -> Result<Rule, Vec<RuleError>> {
    let mut errors = Vec::new();
    let id = raw.id.get_ref().trim().to_owned();
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        errors.push(src.error(
            raw.id.span(),
            "a rule id is letters, digits, '-', '_' or '.'",
        ));
    }
    let severity = match &raw.severity {
        Some(s) => Severity::parse(s.get_ref()).unwrap_or_else(|| {
            errors.push(src.error(
                s.span(),
                format!(
                    "unknown severity '{}': expected low, medium, high or critical",
                    s.get_ref()
                ),
            ));
            Severity::Low
        }),
        None => {
            errors.push(src.error(raw.id.span(), format!("rule '{id}' needs a severity")));
            Severity::Low
        }
    };
    let access = match raw
        .access
        .as_ref()
        .map(|a| (a.get_ref().as_str(), a.span()))
    {
        None | Some(("any", _)) => AccessKind::Any,
        Some(("read", _)) => AccessKind::Read,
        Some(("write", _)) => AccessKind::Write,
        Some((other, span)) => {
            errors.push(src.error(
                span,
                format!("unknown access '{other}': expected read, write or any"),
            ));
            AccessKind::Any
        }
    };
    let mut set =
        |list: &Option<Vec<Spanned<String>>>, expand: fn(&str) -> Vec<String>| -> Option<GlobSet> {
            let list = list.as_ref()?;
            let mut b = GlobSetBuilder::new();
            for p in list {
                for pattern in expand(p.get_ref()) {
                    match GlobBuilder::new(&pattern)
                        .case_insensitive(true)
                        .literal_separator(true)
                        .build()
                    {
                        Ok(g) => {
                            b.add(g);
                        }
                        Err(e) => errors.push(src.error(
                            p.span(),
                            format!("bad glob '{}': {}", p.get_ref(), e.kind()),
                        )),
                    }
                }
            }
            b.build().ok()
        };
    let paths = set(&raw.paths, expand_path);
    let exclude_paths = set(&raw.exclude_paths, expand_path);
    let env_vars = set(&raw.env_vars, one);
    let hosts = set(&raw.hosts, one);
    let tools = set(&raw.tools, one);
    let output_secrets = set(&raw.output_secrets, one);
    let input_secrets = set(&raw.input_secrets, one);
    let mut commands = Vec::new();
    let mut command_exact = Vec::new();
    for c in raw.commands.iter().flatten() {
        let mut words: Vec<&str> = c.get_ref().split_whitespace().collect();
        let exact = words.last() == Some(&"$");
        if exact {
            words.pop();
        }
        if words.is_empty() {
            errors.push(src.error(c.span(), "a command pattern needs at least a program"));
            continue;
        }
        let mut ms = Vec::new();
        for w in words {
            match Word::new(&w.to_ascii_lowercase()) {
                Ok(glob) => ms.push(PatternWord {
                    glob,
                    option: w.starts_with('-'),
                }),
                Err(e) => errors.push(src.error(
                    c.span(),
                    format!("bad word '{w}' in command pattern: {}", e.kind()),
                )),
            }
        }
        commands.push(ms);
        command_exact.push(exact);
    }
    let has_matcher = paths.is_some()
        || !commands.is_empty()
        || env_vars.is_some()
        || hosts.is_some()
        || tools.is_some()
        || output_secrets.is_some()
        || input_secrets.is_some();
    if !has_matcher && raw.enabled != Some(false) {
        errors.push(src.error(raw.id.span(), format!("rule '{id}' has no matcher (paths, commands, env_vars, hosts, tools, output_secrets or input_secrets)")));
    }
    let mut matchers = BTreeMap::new();
    for (name, list) in [
        ("paths", &raw.paths),
        ("exclude_paths", &raw.exclude_paths),
        ("commands", &raw.commands),
        ("env_vars", &raw.env_vars),
        ("hosts", &raw.hosts),
        ("tools", &raw.tools),
        ("output_secrets", &raw.output_secrets),
        ("input_secrets", &raw.input_secrets),
    ] {
        if let Some(l) = list {
            matchers.insert(name, l.iter().map(|s| s.get_ref().clone()).collect());
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Rule {
        id,
        severity,
        category: raw.category.clone().unwrap_or_else(|| "other".into()),
        description: raw.description.clone().unwrap_or_default(),
        enabled: raw.enabled.unwrap_or(true),
        origin: origin.to_owned(),
        matchers,
        paths,
        exclude_paths,
        access,
        commands,
        command_exact,
        env_vars,
        hosts,
        tools,
        output_secrets,
        input_secrets,
    })
}

fn one(p: &str) -> Vec<String> {
    vec![p.to_owned()]
}

/// `~/x` is any user's home; a pattern without a root matches at any depth.
fn expand_path(p: &str) -> Vec<String> {
    let p = p.replace('\\', "/");
    if let Some(rest) = p.strip_prefix("~/") {
        return ["/home/*", "/Users/*", "/root", "?:/Users/*", "/var/root"]
            .iter()
            .map(|h| format!("{h}/{rest}"))
            .collect();
    }
    if p == "~" {
        return vec!["/home/*".into(), "/Users/*".into(), "/root".into()];
    }
    if p.starts_with('/') || p.starts_with("**") {
        vec![p]
    } else {
        vec![format!("**/{p}")]
    }
}

/// A file a tool call touched.
struct PathFact {
    /// The forms rules are matched against: absolute, `/`-separated, home as [`HOME`].
    matched: Vec<String>,
    /// What a match says it touched (`~/.aws/credentials`, `~/**/*.pem`).
    shown: String,
    write: bool,
}

/// What a tool call touched, normalized for matching.
struct Facts {
    paths: Vec<PathFact>,
    /// Simple commands, program basename lowercased first.
    commands: Vec<Vec<String>>,
    env_vars: Vec<String>,
    hosts: Vec<String>,
}

/// Programs that only look at names and metadata: they read no file they name.
const METADATA_ONLY: &[&str] = &[
    "ls", "stat", "du", "test", "[", "[[", "realpath", "readlink", "dirname", "basename", "mkdir",
    "chmod", "chown", "chgrp", "touch", "which", "whereis", "type", "tree", "exa", "eza", "lsd",
    "df", "cd", "pushd", "popd",
];

/// Programs whose every operand is a file they read (or copy, or edit).
const READS_OPERANDS: &[&str] = &[
    "cat",
    "tac",
    "less",
    "more",
    "most",
    "head",
    "tail",
    "bat",
    "batcat",
    "nl",
    "od",
    "xxd",
    "hexdump",
    "hd",
    "strings",
    "base64",
    "base32",
    "basenc",
    "cp",
    "mv",
    "source",
    ".",
    "vi",
    "vim",
    "nvim",
    "view",
    "nano",
    "pico",
    "emacs",
    "code",
    "subl",
    "wc",
    "sort",
    "uniq",
    "file",
    "sha1sum",
    "sha224sum",
    "sha256sum",
    "sha384sum",
    "sha512sum",
    "md5sum",
    "md5",
    "shasum",
    "cksum",
    "b2sum",
    "sum",
    "shred",
    "rm",
    "unlink",
    "diff",
    "cmp",
    "comm",
    "paste",
    "fold",
    "fmt",
    "column",
    "iconv",
    "split",
    "tee",
    "zcat",
    "zless",
    "zmore",
    "gzip",
    "gunzip",
    "bzip2",
    "bzcat",
    "xz",
    "xzcat",
    "zstd",
    "zstdcat",
    "dos2unix",
    "open",
    "xdg-open",
    "pbcopy",
    "xclip",
    "gpg",
    "openssl",
];

/// Programs whose first operand is a pattern or a script, the others files.
const PATTERN_THEN_FILES: &[&str] = &[
    "grep", "egrep", "fgrep", "rg", "ag", "ack", "sed", "awk", "gawk", "mawk", "nawk", "jq", "yq",
    "gojq",
];

/// Programs that fetch URLs, which may be written without a scheme.
const NETWORK: &[&str] = &[
    "curl",
    "wget",
    "http",
    "https",
    "xh",
    "httpie",
    "aria2c",
    "lynx",
    "w3m",
    "links",
    "elinks",
    "nc",
    "ncat",
    "netcat",
    "telnet",
    "invoke-webrequest",
    "iwr",
    "irm",
    "invoke-restmethod",
];

impl Facts {
    fn of(tool: &ToolCall, cwd: Option<&str>, home: Option<&str>) -> Facts {
        let mut f = Facts {
            paths: Vec::new(),
            commands: Vec::new(),
            env_vars: Vec::new(),
            hosts: Vec::new(),
        };
        for a in &tool.access {
            match a {
                Access::FileRead(p) | Access::Search(p) => f.path(resolve(p, cwd, home), false),
                Access::FileWrite(p) => f.path(resolve(p, cwd, home), true),
                Access::Url(u) => f.hosts.extend(host(u)),
                Access::WebSearch(_) => {}
                Access::Command(line) => {
                    f.env_vars.extend(env_refs(line));
                    // `cd` earlier on the line moves where relative paths are.
                    let mut dir = cwd.map(str::to_owned);
                    for c in commands(line) {
                        f.command(&c, &mut dir, home);
                    }
                }
            }
        }
        f
    }

    fn path(&mut self, p: String, write: bool) {
        self.paths.push(PathFact {
            shown: shown(&p),
            matched: vec![p],
            write,
        });
    }

    fn command(&mut self, c: &SimpleCommand, dir: &mut Option<String>, home: Option<&str>) {
        let program = basename(&c.words[0]).to_ascii_lowercase();
        let args = &c.words[1..];
        let at = |p: &str, dir: &Option<String>| resolve(p, dir.as_deref(), home);
        for (t, write) in &c.redirects {
            // Bash's `/dev/tcp/HOST/PORT` is a connection.
            if let Some(rest) = t.strip_prefix("/dev/tcp/").or(t.strip_prefix("/dev/udp/")) {
                self.hosts.extend(authority_host(rest));
            } else if !t.starts_with("/dev/") {
                self.path(at(t, dir), *write);
            }
        }
        let operands = || args.iter().filter(|w| !w.starts_with('-'));
        match program.as_str() {
            "cd" | "pushd" => match operands().next().map(String::as_str) {
                None => *dir = Some(HOME.to_owned()),
                Some("-") => {}
                Some(t) => *dir = Some(at(t, dir)),
            },
            "find" => self.find(args, dir.as_deref(), home),
            p if METADATA_ONLY.contains(&p) => {}
            p if READS_OPERANDS.contains(&p) || PATTERN_THEN_FILES.contains(&p) => {
                // With `-e`/`-f` the pattern is an option's value; else it is the first operand.
                let skip = usize::from(
                    PATTERN_THEN_FILES.contains(&p)
                        && !args.iter().any(|w| {
                            matches!(w.as_str(), "-e" | "-f" | "--regexp" | "--file")
                                || w.starts_with("--regexp=")
                                || w.starts_with("--file=")
                        }),
                );
                for w in operands().skip(skip) {
                    match host(w) {
                        Some(h) => self.hosts.push(h),
                        None => self.path(at(w, dir), false),
                    }
                }
                for w in args.iter().filter(|w| w.starts_with('-')) {
                    if let Some(p) = path_word(w) {
                        self.path(at(p, dir), false);
                    }
                }
            }
            _ => {
                for w in args {
                    if let Some(h) = host(w) {
                        self.hosts.push(h);
                    } else if let Some(p) = path_word(w) {
                        self.path(at(p, dir), false);
                    }
                }
            }
        }
        if NETWORK.contains(&program.as_str()) {
            self.hosts.extend(
                operands()
                    .filter(|w| !w.contains("://"))
                    .filter_map(|w| bare_host(w)),
            );
        }
        for code in inline_code(c) {
            for lit in code_literals(code) {
                if let Some(h) = host(&lit) {
                    self.hosts.push(h);
                } else if let Some(p) = path_word(&lit).filter(|p| !p.starts_with('-')) {
                    self.path(at(p, dir), false);
                }
            }
        }
        let mut words = c.words.clone();
        words[0] = program;
        self.commands.push(words);
    }

    /// `find ROOT... -name PATTERN`: a search for files, shown as `ROOT/**/PATTERN`. Listing
    /// names reads nothing; running a program on what is found reads it all.
    fn find(&mut self, args: &[String], dir: Option<&str>, home: Option<&str>) {
        let roots: Vec<&str> = args
            .iter()
            .take_while(|w| !(w.starts_with('-') || *w == "(" || *w == "!"))
            .map(String::as_str)
            .collect();
        let mut patterns: Vec<(&str, bool)> = Vec::new();
        let mut reads = false;
        let mut it = args[roots.len()..].iter();
        while let Some(w) = it.next() {
            match w.as_str() {
                "-name" | "-iname" | "-path" | "-ipath" | "-wholename" | "-iwholename"
                | "-lname" | "-ilname" => patterns.extend(it.next().map(|p| (p.as_str(), true))),
                "-regex" | "-iregex" => patterns.extend(it.next().map(|p| (p.as_str(), false))),
                "-exec" | "-execdir" | "-ok" | "-okdir" => {
                    let mut cmd: Vec<String> = Vec::new();
                    for x in it.by_ref() {
                        if x == ";" || x == "+" {
                            break;
                        }
                        cmd.push(x.clone());
                    }
                    if let Some(program) = cmd.first_mut() {
                        *program = basename(program).to_ascii_lowercase();
                        reads |= !METADATA_ONLY.contains(&program.as_str());
                        self.commands.push(cmd);
                    }
                }
                "-type" | "-maxdepth" | "-mindepth" | "-mtime" | "-mmin" | "-atime" | "-amin"
                | "-ctime" | "-cmin" | "-size" | "-user" | "-group" | "-perm" | "-newer"
                | "-printf" | "-fprint" | "-fprintf" | "-uid" | "-gid" | "-fstype" | "-links"
                | "-inum" | "-samefile" => {
                    it.next();
                }
                _ => {}
            }
        }
        let roots = if roots.is_empty() { vec!["."] } else { roots };
        for r in roots {
            let root = resolve(r, dir, home);
            let base = root.trim_end_matches('/');
            let shown_base = shown(&root);
            let shown_base = shown_base.trim_end_matches('/');
            for (p, glob) in &patterns {
                // A path pattern is matched from the root on: its leading `*/` is the `**`.
                let p = p
                    .trim_start_matches("./")
                    .trim_start_matches("**/")
                    .trim_start_matches("*/");
                let mut matched = vec![format!("{base}/**/{p}")];
                if *glob {
                    // One file the pattern finds, so that `.env*` meets the rule for `.env`.
                    let one: String = p.replace('*', "").replace('?', "x");
                    matched.push(format!("{base}/{one}"));
                }
                self.paths.push(PathFact {
                    matched,
                    shown: format!("{shown_base}/**/{p}"),
                    write: false,
                });
            }
            if patterns.is_empty() && reads {
                self.paths.push(PathFact {
                    matched: vec![format!("{base}/**")],
                    shown: format!("{shown_base}/**"),
                    write: false,
                });
            }
        }
    }
}

/// A word of a shell command that names a file.
fn path_word(w: &str) -> Option<&str> {
    // `--file=path`, `-o=path`.
    let w = if w.starts_with('-') {
        w.split_once('=')?.1
    } else {
        w
    };
    let looks = w.contains('/') || w.starts_with('.') || w.starts_with('~') || w.contains('.');
    let variable = w.starts_with('$') && matches!(expand_home(w), std::borrow::Cow::Borrowed(_));
    (looks && !w.is_empty() && !w.contains("://") && !variable && !w.contains(char::is_whitespace))
        .then_some(w)
}

/// The string literals of inline code (`open('~/.aws/credentials')`), and the paths the
/// code builds from pieces: `Path.home() / '.aws' / 'credentials'`,
/// `os.homedir() + '/.aws/credentials'`, `path.join(os.homedir(), '.ssh', 'id_rsa')`.
fn code_literals(code: &str) -> Vec<String> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut group: Option<String> = None;
    let mut last_end = 0;
    let mut i = 0;
    while i < b.len() {
        let q = b[i];
        if !matches!(q, b'\'' | b'"' | b'`') {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < b.len() && b[j] != q {
            j += if b[j] == b'\\' { 2 } else { 1 };
        }
        let end = j.min(b.len());
        let lit = String::from_utf8_lossy(&b[i + 1..end]).into_owned();
        let between = &b[last_end.min(i)..i];
        let joins = group.is_some()
            && between
                .iter()
                .all(|&c| matches!(c, b' ' | b',' | b'+' | b'/' | b'\t'));
        // Built on the home folder: `~` goes in front.
        let lookback = String::from_utf8_lossy(&b[i.saturating_sub(40)..i]).to_ascii_lowercase();
        let on_home = !joins
            && !lit.starts_with('~')
            && (lookback.contains("home") || lookback.contains("expanduser"));
        let lit = if on_home {
            format!("~/{}", lit.trim_start_matches('/'))
        } else {
            lit
        };
        group = Some(match group.take().filter(|_| joins) {
            Some(g) => {
                let joined = format!(
                    "{}/{}",
                    g.trim_end_matches('/'),
                    lit.trim_start_matches('/')
                );
                out.push(joined.clone());
                joined
            }
            None => lit.clone(),
        });
        out.push(lit);
        last_end = end + 1;
        i = end + 1;
    }
    out
}

/// `$NAME` and `${NAME}` references.
fn env_refs(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            let start = i + 1 + usize::from(b.get(i + 1) == Some(&b'{'));
            let end = b[start.min(b.len())..]
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                .map_or(b.len(), |p| start + p);
            if end > start && !b[start].is_ascii_digit() {
                out.push(line[start..end].to_owned());
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// The host of a URL, lowercased.
fn host(u: &str) -> Option<String> {
    let rest = u.split_once("://")?.1;
    authority_host(rest)
}

fn authority_host(rest: &str) -> Option<String> {
    let authority = rest.split(['/', '?', '#']).next()?;
    let h = authority.rsplit('@').next()?;
    let h = if let Some(v6) = h.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        h.split(':').next()?
    };
    (!h.is_empty()).then(|| h.to_ascii_lowercase())
}

/// The host of a URL written without a scheme (`169.254.169.254/latest/meta-data/`):
/// a dotted name or an address, an optional port, then a path or nothing.
fn bare_host(w: &str) -> Option<String> {
    let authority = w.split('/').next()?;
    let (h, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, rest) = v6.split_once(']')?;
        let ok = h
            .bytes()
            .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.');
        (ok.then_some(h)?, rest.strip_prefix(':'))
    } else {
        let (h, port) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let ok = h.contains('.')
            && h.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
            && !h.starts_with('.')
            && !h.ends_with('.');
        (ok.then_some(h)?, port)
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit())) {
        return None;
    }
    Some(h.to_ascii_lowercase())
}

/// The form every home folder takes for matching: `~/` rules are written for `/home/*/`.
const HOME: &str = "/home/~";

/// What a match shows of a path: the home folder as `~` again.
fn shown(p: &str) -> String {
    match p.strip_prefix(HOME) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("~{rest}"),
        _ => p.to_owned(),
    }
}

/// A leading home variable as `~`: `$HOME`, `${HOME}`, `$ENV{HOME}` (Perl), `#{Dir.home}`
/// (Ruby), `${os.homedir()}` (JavaScript), `%USERPROFILE%`; `$XDG_CONFIG_HOME` is
/// `~/.config`.
fn expand_home(p: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let head = if p.starts_with("${") || p.starts_with("#{") || p.starts_with("$ENV{") {
        p.find('}').map(|i| i + 1)
    } else if let Some(rest) = p.strip_prefix('$') {
        Some(
            1 + rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len()),
        )
    } else if let Some(rest) = p.strip_prefix('%') {
        rest.find('%').map(|i| i + 2)
    } else {
        None
    };
    let Some(end) = head else {
        return Cow::Borrowed(p);
    };
    let var = p[..end].to_ascii_uppercase();
    let braced = var.contains('{');
    let base = if var.contains("XDG_CONFIG_HOME") {
        "~/.config"
    } else if var.contains("XDG_DATA_HOME") {
        "~/.local/share"
    } else if matches!(var.as_str(), "$HOME" | "%USERPROFILE%" | "%HOMEPATH%")
        || (braced && var.contains("HOME"))
    {
        "~"
    } else {
        return Cow::Borrowed(p);
    };
    Cow::Owned(format!("{base}{}", &p[end..]))
}

/// An absolute, normalized path: relative paths are under `cwd`, and `~`, home variables and
/// the home folder become [`HOME`], so `~/` rules hold wherever the exporter's home is.
fn resolve(p: &str, cwd: Option<&str>, home: Option<&str>) -> String {
    let p = p.trim_matches(|c| c == '"' || c == '\'').replace('\\', "/");
    let p = expand_home(&p).into_owned();
    let home = home
        .map(|h| h.trim_end_matches('/'))
        .filter(|h| !h.is_empty());
    let p = match home {
        Some(h) if p.starts_with(&format!("{h}/")) || p == h => format!("~{}", &p[h.len()..]),
        _ => p,
    };
    let joined = if let Some(rest) = p.strip_prefix("~/") {
        format!("{HOME}/{rest}")
    } else if p == "~" {
        HOME.to_owned()
    } else if p.starts_with('/') || p.as_bytes().get(1) == Some(&b':') {
        p
    } else {
        format!("{}/{p}", cwd.unwrap_or("").replace('\\', "/"))
    };
    let mut parts: Vec<&str> = Vec::new();
    for c in joined.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let drive = parts
        .first()
        .is_some_and(|f| f.len() == 2 && f.ends_with(':'));
    if drive {
        parts.join("/")
    } else {
        format!("/{}", parts.join("/"))
    }
}

impl Rule {
    fn matches(
        &self,
        f: &Facts,
        candidates: &[Vec<globset::Candidate<'_>>],
        tool: &ToolCall,
    ) -> Option<String> {
        if let Some(paths) = &self.paths {
            for (p, cands) in f.paths.iter().zip(candidates) {
                let direction = match self.access {
                    AccessKind::Any => true,
                    AccessKind::Read => !p.write,
                    AccessKind::Write => p.write,
                };
                let hit = cands.iter().any(|m| {
                    paths.is_match_candidate(m)
                        && !self
                            .exclude_paths
                            .as_ref()
                            .is_some_and(|x| x.is_match_candidate(m))
                });
                if direction && hit {
                    return Some(p.shown.clone());
                }
            }
        }
        for (pattern, exact) in self.commands.iter().zip(&self.command_exact) {
            for words in &f.commands {
                if let Some(shown) = command_matches(pattern, *exact, words) {
                    return Some(shown);
                }
            }
        }
        if let Some(env) = &self.env_vars
            && let Some(v) = f.env_vars.iter().find(|v| env.is_match(v.as_str()))
        {
            return Some(format!("${v}"));
        }
        if let Some(hosts) = &self.hosts
            && let Some(h) = f.hosts.iter().find(|h| hosts.is_match(h.as_str()))
        {
            return Some(h.clone());
        }
        if let Some(tools) = &self.tools
            && tools.is_match(tool.name.as_str())
        {
            return Some(tool.name.clone());
        }
        // A secret is shown as the marker that replaced it in the text.
        let found = |kinds: &Option<GlobSet>, list: &[sessiontrail_model::SecretFinding]| {
            let kinds = kinds.as_ref()?;
            list.iter()
                .find(|s| kinds.is_match(s.kind.as_str()))
                .map(redaction_marker)
        };
        if let Some(r) = &tool.result
            && let Some(t) = found(&self.output_secrets, &r.secrets)
        {
            return Some(t);
        }
        if let Some(t) = found(&self.input_secrets, &tool.input.secrets) {
            return Some(t);
        }
        None
    }
}

/// Program first, then the pattern's words in order among the command's non-option words,
/// and its options anywhere among the command's options. Returns what matched, as shown:
/// the program and the matched words (an option without its `=value`).
fn command_matches(pattern: &[PatternWord], exact: bool, words: &[String]) -> Option<String> {
    let (program, rest) = words.split_first()?;
    if !pattern[0].glob.is_match(program.as_str()) {
        return None;
    }
    let lower: Vec<String> = rest.iter().map(|w| w.to_ascii_lowercase()).collect();
    let mut shown = vec![program.as_str()];
    let mut args = lower.iter().filter(|w| !w.starts_with('-'));
    let mut positional = 0;
    for p in &pattern[1..] {
        let hit = if p.option {
            lower
                .iter()
                .find(|w| w.starts_with('-') && p.glob.is_match(w.split('=').next().unwrap_or(w)))
        } else {
            positional += 1;
            args.by_ref().find(|a| p.glob.is_match(a.as_str()))
        }?;
        shown.push(if p.option {
            hit.split('=').next().unwrap_or(hit)
        } else {
            hit
        });
    }
    let others = lower.iter().filter(|w| !w.starts_with('-')).count();
    (!exact || others == positional).then(|| shown.join(" "))
}

#[cfg(test)]
mod tests;
