//! Sensitive-access rules: the built-in pack, a user's TOML file over it, and their
//! evaluation on the normalized access of a tool call.

use std::collections::BTreeMap;
use std::path::Path;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use sessiontrail_model::{Access, SensitiveMatch, Severity, ToolCall};
use toml::Spanned;

use crate::shell::{basename, simple_commands};

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
    commands: Vec<Vec<globset::GlobMatcher>>,
    command_exact: Vec<bool>,
    env_vars: Option<GlobSet>,
    hosts: Option<GlobSet>,
    tools: Option<GlobSet>,
    output_secrets: Option<GlobSet>,
    input_secrets: Option<GlobSet>,
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
        let builtin = Source {
            name: "built-in",
            text: BUILTIN,
        };
        let mut merged: Vec<(RawRule, &Source<'_>, String)> = parse(&builtin)?
            .into_iter()
            .map(|r| (r, &builtin, "built-in".to_owned()))
            .collect();
        let mut errors = Vec::new();
        if let Some(src) = &user {
            for r in parse(src)? {
                match merged
                    .iter_mut()
                    .find(|(m, _, _)| m.id.get_ref() == r.id.get_ref())
                {
                    Some((m, s, origin)) => {
                        overlay(m, r);
                        *s = src;
                        *origin = format!("{} (overrides built-in)", src.name);
                    }
                    None => merged.push((r, src, src.name.to_owned())),
                }
            }
        }
        let mut rules = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (raw, src, origin) in &merged {
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
        let mut out = Vec::new();
        for r in self.rules.iter().filter(|r| r.enabled) {
            if let Some(target) = r.matches(&facts, tool) {
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
            match Glob::new(&w.to_ascii_lowercase()) {
                Ok(g) => ms.push(g.compile_matcher()),
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

/// What a tool call touched, normalized for matching.
struct Facts {
    /// Absolute, `/`-separated paths, with whether each was written.
    paths: Vec<(String, bool)>,
    /// Simple commands, program basename lowercased first.
    commands: Vec<Vec<String>>,
    env_vars: Vec<String>,
    hosts: Vec<String>,
}

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
                Access::FileRead(p) | Access::Search(p) => {
                    f.paths.push((resolve(p, cwd, home), false))
                }
                Access::FileWrite(p) => f.paths.push((resolve(p, cwd, home), true)),
                Access::Url(u) => f.hosts.extend(host(u)),
                Access::WebSearch(_) => {}
                Access::Command(line) => {
                    f.env_vars.extend(env_refs(line));
                    for words in simple_commands(line) {
                        for w in words.iter().skip(1) {
                            if let Some(h) = host(w) {
                                f.hosts.push(h);
                            } else if let Some(p) = path_word(w) {
                                f.paths.push((resolve(p, cwd, home), false));
                            }
                        }
                        let mut words = words;
                        words[0] = basename(&words[0]).to_ascii_lowercase();
                        f.commands.push(words);
                    }
                }
            }
        }
        f
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
    (looks && !w.is_empty() && !w.contains("://") && !w.starts_with('$')).then_some(w)
}

/// `$NAME` and `${NAME}` references.
fn env_refs(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            let start = i + 1 + usize::from(b.get(i + 1) == Some(&b'{'));
            let end = b[start..]
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
    let authority = rest.split(['/', '?', '#']).next()?;
    let h = authority.rsplit('@').next()?;
    let h = if let Some(v6) = h.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        h.split(':').next()?
    };
    (!h.is_empty()).then(|| h.to_ascii_lowercase())
}

/// The form every home folder takes for matching: `~/` rules are written for `/home/*/`.
const HOME: &str = "/home/~";

/// An absolute, normalized path: relative paths are under `cwd`, and `~` and the home folder
/// become [`HOME`], so `~/` rules hold wherever the exporter's home is.
fn resolve(p: &str, cwd: Option<&str>, home: Option<&str>) -> String {
    let p = p.trim_matches(|c| c == '"' || c == '\'').replace('\\', "/");
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
    fn matches(&self, f: &Facts, tool: &ToolCall) -> Option<String> {
        if let Some(paths) = &self.paths {
            for (p, write) in &f.paths {
                let direction = match self.access {
                    AccessKind::Any => true,
                    AccessKind::Read => !write,
                    AccessKind::Write => *write,
                };
                if direction
                    && paths.is_match(p)
                    && !self.exclude_paths.as_ref().is_some_and(|x| x.is_match(p))
                {
                    return Some(p.clone());
                }
            }
        }
        for (pattern, exact) in self.commands.iter().zip(&self.command_exact) {
            for words in &f.commands {
                if command_matches(pattern, *exact, words) {
                    return Some(
                        words
                            .iter()
                            .take(pattern.len().max(1))
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(" "),
                    );
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
        let found = |kinds: &Option<GlobSet>, list: &[sessiontrail_model::SecretFinding]| {
            let kinds = kinds.as_ref()?;
            list.iter()
                .find(|s| kinds.is_match(s.kind.as_str()))
                .map(|s| format!("{}:{}", s.kind, s.fingerprint))
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

/// Program first, then the pattern's words in order among the command's non-option words.
fn command_matches(pattern: &[globset::GlobMatcher], exact: bool, words: &[String]) -> bool {
    let Some((program, rest)) = words.split_first() else {
        return false;
    };
    if !pattern[0].is_match(program.as_str()) {
        return false;
    }
    let args: Vec<String> = rest
        .iter()
        .filter(|w| !w.starts_with('-'))
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let mut it = args.iter();
    for p in &pattern[1..] {
        if !it.by_ref().any(|a| p.is_match(a.as_str())) {
            return false;
        }
    }
    !exact || args.len() == pattern.len() - 1
}

#[cfg(test)]
mod tests;
