//! Just enough shell to see which programs a command line runs and with which words:
//! quotes, escapes, line continuations, `;` `&&` `||` `|` `&`, `$(...)` and backticks,
//! redirections, heredocs and here-strings, leading `VAR=value` assignments, wrappers
//! (`sudo`, `env`, `timeout`...) and keywords (`if`, `!`, `{`...), and the scripts that
//! `bash -c '...'`, `bash <<EOF`, `eval` and `watch` run.
//!
//! One pass over the bytes per script; a script found inside another (`bash -c`, a heredoc
//! fed to a shell, a substitution in a heredoc body) is parsed again at most [`MAX_DEPTH`]
//! levels deep, so the work is linear in the input whatever it holds. It never panics.

/// How deep scripts inside scripts are followed.
const MAX_DEPTH: usize = 4;

/// A simple command of a command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimpleCommand {
    /// Its words, program first, without redirections.
    pub words: Vec<String>,
    /// Redirection targets (`< in`, `> out`, `>> log`), with whether each is written.
    pub redirects: Vec<(String, bool)>,
    /// What it reads on its standard input from heredocs and here-strings.
    pub stdin: Vec<String>,
}

/// The simple commands of a command line, each as its words (program first, then its
/// redirection targets).
pub fn simple_commands(line: &str) -> Vec<Vec<String>> {
    commands(line)
        .into_iter()
        .map(|c| {
            let mut w = c.words;
            w.extend(c.redirects.into_iter().map(|(t, _)| t));
            w
        })
        .collect()
}

/// The simple commands of a command line, in the order they appear; the commands of a
/// script a command runs (`bash -c`) come just after it.
pub fn commands(line: &str) -> Vec<SimpleCommand> {
    let mut out = Vec::new();
    collect(line, 0, &mut out);
    out
}

fn collect(line: &str, depth: usize, out: &mut Vec<SimpleCommand>) {
    let (slots, substituted) = tokenize(line);
    for mut c in slots {
        unwrap(&mut c.words);
        if c.words.is_empty() {
            continue;
        }
        let scripts = if depth < MAX_DEPTH {
            scripts(&c)
        } else {
            Vec::new()
        };
        out.push(c);
        for script in scripts {
            collect(&script, depth + 1, out);
        }
    }
    // `$(...)` in an unquoted heredoc body runs, whatever reads the body.
    if depth < MAX_DEPTH {
        for s in substituted {
            collect(&s, depth + 1, out);
        }
    }
}

/// The scripts a command runs: `sh -c SCRIPT`, a shell's heredoc, `eval WORDS`, `watch CMD`.
fn scripts(c: &SimpleCommand) -> Vec<String> {
    let words = &c.words;
    match basename(&words[0]) {
        "bash" | "sh" | "zsh" | "dash" | "ksh" | "fish" | "ash" | "mksh" => {
            let script = words
                .iter()
                .skip(1)
                .position(|w| {
                    w == "-c" || (w.starts_with('-') && !w.starts_with("--") && w.contains('c'))
                })
                .and_then(|i| words.get(i + 2));
            match script {
                Some(s) => vec![s.clone()],
                // No `-c`: with no script file either, the shell reads its script on stdin.
                None if words[1..].iter().all(|w| w.starts_with('-')) => c.stdin.clone(),
                None => Vec::new(),
            }
        }
        "eval" => vec![words[1..].join(" ")],
        "watch" => {
            let mut rest = words[1..].iter();
            let mut cmd = Vec::new();
            while let Some(w) = rest.next() {
                if !cmd.is_empty() || !w.starts_with('-') {
                    cmd.push(w.as_str());
                } else if matches!(w.as_str(), "-n" | "--interval" | "-d" | "-q") {
                    rest.next();
                }
            }
            if cmd.is_empty() {
                Vec::new()
            } else {
                vec![cmd.join(" ")]
            }
        }
        _ => Vec::new(),
    }
}

/// Drops leading assignments, keywords and wrappers that run the real program after them.
fn unwrap(words: &mut Vec<String>) {
    let mut at = 0;
    while let Some(first) = words.get(at) {
        let is_assignment = first.find('=').is_some_and(|i| {
            i > 0
                && first[..i]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        let keyword = matches!(
            first.as_str(),
            "if" | "then" | "else" | "elif" | "do" | "while" | "until" | "!" | "{" | "time"
        );
        let name = basename(first);
        let wrapper = matches!(
            name,
            "sudo"
                | "doas"
                | "nohup"
                | "time"
                | "nice"
                | "exec"
                | "command"
                | "builtin"
                | "xargs"
                | "timeout"
                | "stdbuf"
                | "setsid"
                | "ionice"
                | "chronic"
                | "unbuffer"
                | "caffeinate"
        ) || (name == "env" && words.len() > at + 1);
        if is_assignment || keyword {
            at += 1;
            continue;
        }
        if !wrapper {
            break;
        }
        let wrapper = name.to_owned();
        at += 1;
        // Options of the wrapper (`sudo -u root`, `env -i`), and `env`'s assignments.
        while let Some(w) = words.get(at) {
            if w == "--" {
                at += 1;
                break;
            }
            let env_assignment = wrapper == "env" && w.contains('=') && !w.starts_with('/');
            if !(w.starts_with('-') || env_assignment) {
                break;
            }
            at += 1;
            if takes_value(&wrapper, w) {
                at += 1;
            }
        }
        // `timeout 5 cmd`: the duration.
        if wrapper == "timeout" && words.get(at).is_some_and(|w| w.starts_with(is_digit)) {
            at += 1;
        }
    }
    words.drain(..at.min(words.len()));
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}

/// Whether a wrapper's option takes the next word as its value.
fn takes_value(wrapper: &str, opt: &str) -> bool {
    let list: &[&str] = match wrapper {
        "sudo" | "doas" => &[
            "-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user", "--group",
        ],
        "env" => &["-u", "-C", "--unset", "--chdir"],
        "nice" => &["-n", "--adjustment"],
        "ionice" => &["-c", "-n", "-p", "--class", "--classdata"],
        "timeout" => &["-s", "-k", "--signal", "--kill-after"],
        "xargs" => &["-n", "-I", "-L", "-P", "-d", "-a", "-E", "-s", "--max-args"],
        "stdbuf" => &["-i", "-o", "-e"],
        _ => &[],
    };
    list.contains(&opt)
}

/// The last path component of a program name.
pub fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// Where the next word goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Next {
    Word,
    Redirect {
        write: bool,
    },
    /// `>&2`, `<&-`: a file descriptor, not a file.
    Fd,
    Heredoc {
        strip_tabs: bool,
    },
    HereString,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Top,
    /// `$( ... )`
    Dollar,
    /// `` ` ... ` ``
    Backtick,
}

/// A command context: the whole line, or a substitution inside it.
struct Frame {
    kind: Kind,
    /// Index of the command being built in the output.
    slot: Option<usize>,
    word: Vec<u8>,
    in_word: bool,
    /// Whether the word had quotes (a quoted heredoc delimiter keeps the body literal).
    quoted: bool,
    /// Inside `"..."`: a substitution in a double-quoted string returns to it.
    double: bool,
    /// Unclosed `(` in this frame, so that `)` ends the right thing.
    parens: usize,
    next: Next,
}

impl Frame {
    fn new(kind: Kind) -> Frame {
        Frame {
            kind,
            slot: None,
            word: Vec::new(),
            in_word: false,
            quoted: false,
            double: false,
            parens: 0,
            next: Next::Word,
        }
    }
}

struct Heredoc {
    slot: usize,
    delimiter: Vec<u8>,
    strip_tabs: bool,
    literal: bool,
}

struct Tokens {
    slots: Vec<SimpleCommand>,
    heredocs: Vec<Heredoc>,
}

impl Tokens {
    fn slot(&mut self, f: &mut Frame) -> usize {
        *f.slot.get_or_insert_with(|| {
            self.slots.push(SimpleCommand::default());
            self.slots.len() - 1
        })
    }

    fn end_word(&mut self, f: &mut Frame) {
        if !f.in_word {
            return;
        }
        let bytes = std::mem::take(&mut f.word);
        let quoted = std::mem::replace(&mut f.quoted, false);
        f.in_word = false;
        let next = std::mem::replace(&mut f.next, Next::Word);
        let slot = self.slot(f);
        let word = String::from_utf8_lossy(&bytes).into_owned();
        match next {
            Next::Word => self.slots[slot].words.push(word),
            Next::Redirect { write } => self.slots[slot].redirects.push((word, write)),
            Next::Fd => {}
            Next::HereString => self.slots[slot].stdin.push(word),
            Next::Heredoc { strip_tabs } => self.heredocs.push(Heredoc {
                slot,
                delimiter: bytes,
                strip_tabs,
                literal: quoted,
            }),
        }
    }

    fn end_command(&mut self, f: &mut Frame) {
        self.end_word(f);
        f.slot = None;
        f.next = Next::Word;
    }
}

/// One pass over a script: its commands (not unwrapped), and the texts of the substitutions
/// found in unquoted heredoc bodies.
fn tokenize(line: &str) -> (Vec<SimpleCommand>, Vec<String>) {
    let b = line.as_bytes();
    let mut t = Tokens {
        slots: Vec::new(),
        heredocs: Vec::new(),
    };
    let mut substituted = Vec::new();
    let mut stack = vec![Frame::new(Kind::Top)];
    let mut i = 0;
    let at = |j: usize| b.get(j).copied();
    while i < b.len() {
        let c = b[i];
        let n = stack.len();
        let f = &mut stack[n - 1];
        if f.double {
            match c {
                b'"' => f.double = false,
                b'\\' => match at(i + 1) {
                    Some(b'\n') => i += 1,
                    Some(e @ (b'"' | b'\\' | b'$' | b'`')) => {
                        f.word.push(e);
                        i += 1;
                    }
                    _ => f.word.push(c),
                },
                b'$' if at(i + 1) == Some(b'(') && at(i + 2) == Some(b'(') => {
                    i = arithmetic(b, i, &mut f.word);
                    continue;
                }
                b'$' if at(i + 1) == Some(b'(') => {
                    open(&mut t, &mut stack, Kind::Dollar);
                    i += 1;
                }
                b'`' if f.kind == Kind::Backtick => close(&mut t, &mut stack),
                b'`' => open(&mut t, &mut stack, Kind::Backtick),
                _ => f.word.push(c),
            }
            i += 1;
            continue;
        }
        match c {
            b'\'' => {
                f.in_word = true;
                f.quoted = true;
                let end = b[i + 1..]
                    .iter()
                    .position(|&x| x == b'\'')
                    .map_or(b.len(), |p| i + 1 + p);
                f.word.extend_from_slice(&b[i + 1..end]);
                i = end;
            }
            b'"' => {
                f.in_word = true;
                f.quoted = true;
                f.double = true;
            }
            b'\\' => match at(i + 1) {
                // A line continuation joins the words around it.
                Some(b'\n') => i += 1,
                Some(e) => {
                    f.in_word = true;
                    f.quoted = true;
                    f.word.push(e);
                    i += 1;
                }
                None => {}
            },
            b'$' if at(i + 1) == Some(b'(') && at(i + 2) == Some(b'(') => {
                f.in_word = true;
                i = arithmetic(b, i, &mut f.word);
                continue;
            }
            // A substitution runs commands of its own; its output is no word we can know.
            b'$' if at(i + 1) == Some(b'(') => {
                open(&mut t, &mut stack, Kind::Dollar);
                i += 1;
            }
            b'`' if f.kind == Kind::Backtick => close(&mut t, &mut stack),
            b'`' => open(&mut t, &mut stack, Kind::Backtick),
            b')' if f.kind == Kind::Dollar && f.parens == 0 => close(&mut t, &mut stack),
            b'&' if at(i + 1) == Some(b'>') => {
                // `&> file`, `&>> file`.
                t.end_word(f);
                i += 1 + usize::from(at(i + 2) == Some(b'>'));
                f.next = Next::Redirect { write: true };
            }
            b';' | b'&' | b'|' | b'\n' | b'(' | b')' => {
                t.end_command(f);
                match c {
                    b'(' => f.parens += 1,
                    b')' => f.parens = f.parens.saturating_sub(1),
                    b'\n' if !t.heredocs.is_empty() => {
                        i = heredoc_bodies(b, i + 1, &mut t, &mut substituted);
                        continue;
                    }
                    _ => {}
                }
            }
            b'<' | b'>' => {
                // `2>`: the digits are a file descriptor, not a word.
                if f.in_word && !f.quoted && f.word.iter().all(u8::is_ascii_digit) {
                    f.word.clear();
                    f.in_word = false;
                }
                t.end_word(f);
                if c == b'<' && at(i + 1) == Some(b'<') && at(i + 2) == Some(b'<') {
                    f.next = Next::HereString;
                    i += 2;
                } else if c == b'<' && at(i + 1) == Some(b'<') {
                    i += 1;
                    let strip_tabs = at(i + 1) == Some(b'-');
                    i += usize::from(strip_tabs);
                    f.next = Next::Heredoc { strip_tabs };
                } else if at(i + 1) == Some(b'(') {
                    // `<(cmd)`: the parenthesis makes it a command of its own.
                } else {
                    let write = c == b'>';
                    f.next = Next::Redirect { write };
                    while matches!(at(i + 1), Some(b'>' | b'|')) {
                        i += 1;
                    }
                    if at(i + 1) == Some(b'&') {
                        i += 1;
                        f.next = Next::Fd;
                    }
                }
            }
            b'#' if !f.in_word => {
                // A comment runs to the end of the line (the newline still ends the command).
                i = b[i..]
                    .iter()
                    .position(|&x| x == b'\n')
                    .map_or(b.len(), |p| i + p);
                continue;
            }
            c if c.is_ascii_whitespace() => t.end_word(f),
            c => {
                f.in_word = true;
                f.word.push(c);
            }
        }
        i += 1;
    }
    while stack.len() > 1 {
        close(&mut t, &mut stack);
    }
    if let Some(f) = stack.last_mut() {
        t.end_command(f);
    }
    (t.slots, substituted)
}

/// Starts a substitution; the command around it is listed first.
fn open(t: &mut Tokens, stack: &mut Vec<Frame>, kind: Kind) {
    if let Some(f) = stack.last_mut() {
        t.slot(f);
    }
    stack.push(Frame::new(kind));
}

/// Ends the innermost substitution.
fn close(t: &mut Tokens, stack: &mut Vec<Frame>) {
    if stack.len() > 1
        && let Some(mut f) = stack.pop()
    {
        t.end_command(&mut f);
    }
}

/// The index of the `)` that closes the `(` at `open` (the end of `b` when none does).
fn close_paren(b: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
        i += 1;
    }
    i
}

/// `$(( ... ))`: copied into the word as it is, up to its end; returns the index after it.
fn arithmetic(b: &[u8], start: usize, word: &mut Vec<u8>) -> usize {
    let i = close_paren(b, start + 1);
    let end = (i + 1).min(b.len());
    word.extend_from_slice(&b[start..end]);
    end
}

/// Reads the bodies of the pending heredocs from `i` (the start of the line after their
/// command); returns the index after the last delimiter line.
fn heredoc_bodies(b: &[u8], mut i: usize, t: &mut Tokens, substituted: &mut Vec<String>) -> usize {
    for h in std::mem::take(&mut t.heredocs) {
        let mut body = Vec::new();
        while i < b.len() {
            let end = b[i..]
                .iter()
                .position(|&x| x == b'\n')
                .map_or(b.len(), |p| i + p);
            let mut line = &b[i..end];
            i = (end + 1).min(b.len());
            if h.strip_tabs {
                let tabs = line.iter().take_while(|&&x| x == b'\t').count();
                line = &line[tabs..];
            }
            let bare = line.strip_suffix(b"\r").unwrap_or(line);
            if bare == h.delimiter.as_slice() {
                break;
            }
            body.extend_from_slice(line);
            body.push(b'\n');
        }
        if !h.literal {
            substitutions(&body, substituted);
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        if let Some(s) = t.slots.get_mut(h.slot) {
            s.stdin.push(body);
        }
    }
    i
}

/// The texts of the outermost `$(...)` and backticks in `text`.
fn substitutions(text: &[u8], out: &mut Vec<String>) {
    let mut i = 0;
    while i < text.len() {
        let (start, end) = match text[i] {
            b'$' if text.get(i + 1) == Some(&b'(') => (i + 2, close_paren(text, i + 1)),
            b'`' => {
                let j = text[i + 1..]
                    .iter()
                    .position(|&x| x == b'`')
                    .map_or(text.len(), |p| i + 1 + p);
                (i + 1, j)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        let end = end.min(text.len());
        out.push(String::from_utf8_lossy(&text[start.min(end)..end]).into_owned());
        i = end + 1;
    }
}

/// The inline code an interpreter runs: `python -c CODE`, `node -e CODE`, `ruby -e`,
/// `perl -e`, `php -r`, or its stdin (a heredoc, a here-string) when it has no script file.
pub fn inline_code(c: &SimpleCommand) -> Vec<&str> {
    let Some(program) = c.words.first() else {
        return Vec::new();
    };
    let name = basename(program);
    let flags: &[&str] = if name.starts_with("python") || name == "pypy3" {
        &["-c"]
    } else if matches!(name, "node" | "nodejs" | "bun" | "deno") {
        &["-e", "-p", "--eval", "--print", "eval"]
    } else if matches!(name, "ruby" | "perl") {
        &["-e", "-E"]
    } else if name == "php" {
        &["-r"]
    } else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut operands = 0;
    let mut words = c.words.iter().skip(1);
    while let Some(w) = words.next() {
        // `perl -ne CODE`, `ruby -pe CODE`: the code flag ends a group of short flags.
        let code_flag = flags.contains(&w.as_str())
            || (w.starts_with('-')
                && !w.starts_with("--")
                && w.len() > 2
                && flags.iter().any(|f| f.len() == 2 && w.ends_with(&f[1..])));
        if code_flag {
            if let Some(code) = words.next() {
                out.push(code.as_str());
            }
        } else if !w.starts_with('-') {
            operands += 1;
        }
    }
    if out.is_empty() && operands == 0 {
        out.extend(c.stdin.iter().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmds(line: &str) -> Vec<String> {
        simple_commands(line)
            .into_iter()
            .map(|w| w.join(" "))
            .collect()
    }

    #[test]
    fn splits_on_operators_outside_quotes() {
        assert_eq!(
            cmds("cd /x && cat .env | grep KEY; echo 'a; b'"),
            ["cd /x", "cat .env", "grep KEY", "echo a; b"]
        );
        assert_eq!(
            cmds(r#"git commit -m "fix: a && b""#),
            ["git commit -m fix: a && b"]
        );
    }

    #[test]
    fn unwraps_assignments_and_wrappers() {
        assert_eq!(
            cmds(
                "AWS_PROFILE=prod sudo -u root /usr/bin/aws secretsmanager get-secret-value --secret-id x"
            ),
            ["/usr/bin/aws secretsmanager get-secret-value --secret-id x"]
        );
        assert_eq!(cmds("env FOO=1 printenv"), ["printenv"]);
        assert_eq!(cmds("env"), ["env"]);
        assert_eq!(cmds("nohup time make test"), ["make test"]);
        assert_eq!(
            cmds(r#"DB_PASSWORD="velvet mango quartz 42" ./run"#),
            ["./run"]
        );
        assert_eq!(
            cmds(r#"env A=1 B="x y" /usr/bin/git status"#),
            ["/usr/bin/git status"]
        );
        assert_eq!(cmds("timeout -s KILL 5 gh auth token"), ["gh auth token"]);
        assert_eq!(
            cmds("if gh auth token >/dev/null 2>&1; then echo ok; fi"),
            ["gh auth token /dev/null", "echo ok", "fi"]
        );
        assert_eq!(cmds("! { cat x; }"), ["cat x", "}"]);
    }

    #[test]
    fn looks_inside_substitutions_and_shell_scripts() {
        assert_eq!(
            cmds("echo $(cat ~/.aws/credentials)"),
            ["echo", "cat ~/.aws/credentials"]
        );
        assert_eq!(cmds("x=`printenv`"), ["printenv"]);
        assert_eq!(
            cmds("bash -c 'cat /proc/1/environ'"),
            ["bash -c cat /proc/1/environ", "cat /proc/1/environ"]
        );
        assert_eq!(cmds("cat < ~/.netrc > /tmp/out"), ["cat ~/.netrc /tmp/out"]);
        assert_eq!(
            cmds(r#"GH_TOKEN="`gh auth token`" npm publish"#),
            ["npm publish", "gh auth token"]
        );
        assert_eq!(
            cmds(r#"echo "$(echo "$(gh auth token)")""#),
            ["echo ", "echo ", "gh auth token"]
        );
        assert_eq!(
            cmds("eval 'gh auth token'"),
            ["eval gh auth token", "gh auth token"]
        );
        assert_eq!(cmds("echo $((1 + (2 * 3)))x"), ["echo $((1 + (2 * 3)))x"]);
    }

    #[test]
    fn continuations_heredocs_and_here_strings() {
        assert_eq!(
            cmds("cat \\\n  ~/.aws/credentials \\\n  | head"),
            ["cat ~/.aws/credentials", "head"]
        );
        let c = commands("cat <<EOF > notes.md\nrm -rf /\nprintenv\nEOF\necho done");
        let shown: Vec<String> = c.iter().map(|c| c.words.join(" ")).collect();
        assert_eq!(shown, ["cat", "echo done"]);
        assert_eq!(c[0].stdin, ["rm -rf /\nprintenv\n"]);
        assert_eq!(c[0].redirects, [("notes.md".to_owned(), true)]);
        assert_eq!(
            cmds("cat <<-'EOF'\n\t$(printenv)\n\tEOF\nls"),
            ["cat", "ls"]
        );
        assert_eq!(cmds("cat <<\"EOF\"\nprintenv\nEOF"), ["cat"]);
        // An unquoted body still runs its substitutions.
        assert_eq!(
            cmds("cat <<EOF\n$(gh auth token)\nEOF"),
            ["cat", "gh auth token"]
        );
        // A body fed to a shell is a script.
        assert_eq!(
            cmds("bash <<EOF\ncat ~/.aws/credentials\nEOF"),
            ["bash", "cat ~/.aws/credentials"]
        );
        assert_eq!(cmds("sh -s <<< 'printenv'"), ["sh -s", "printenv"]);
        let c = commands("python3 <<< 'print(1)'");
        assert_eq!(c[0].words, ["python3"]);
        assert_eq!(inline_code(&c[0]), ["print(1)"]);
    }

    #[test]
    fn finds_inline_code() {
        let code = |line: &str| -> Vec<String> {
            commands(line)
                .iter()
                .flat_map(|c| {
                    inline_code(c)
                        .into_iter()
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        assert_eq!(code(r#"python3 -c "print(1)""#), ["print(1)"]);
        assert_eq!(code("perl -ne 'print' f"), ["print"]);
        assert_eq!(code("node --eval 'x()'"), ["x()"]);
        assert_eq!(code("php -r 'echo 1;'"), ["echo 1;"]);
        assert!(code("python3 script.py").is_empty());
    }

    #[test]
    fn survives_unbalanced_input() {
        assert_eq!(cmds("echo 'unterminated"), ["echo unterminated"]);
        assert_eq!(cmds("echo $(oops"), ["echo", "oops"]);
        assert!(cmds("").is_empty());
        for s in [
            "\\",
            "$(",
            "$((",
            "`",
            "\"$(",
            "<<",
            "<<-",
            "cat <<EOF",
            "cat <<EOF\n",
            ">&",
            "2>",
            ")))",
            "$(((",
            "\"`\"`",
            "<<<",
            "a\\\n",
            "x #",
            "'",
            "\"\\",
        ] {
            let _ = commands(s);
        }
    }

    #[test]
    fn stays_linear_on_hostile_input() {
        let n = 200_000;
        for s in [
            "$(".repeat(n),
            "`".repeat(n),
            "(".repeat(n),
            "bash -c '".repeat(n / 10),
            "<<A\n".repeat(n / 4),
            "\"$(\"".repeat(n / 4),
            "$((".repeat(n / 3),
            "cat <<EOF\n".to_owned() + &"x\n".repeat(n),
        ] {
            let t = std::time::Instant::now();
            let _ = commands(&s);
            assert!(t.elapsed().as_secs() < 5, "{}", &s[..20.min(s.len())]);
        }
    }
}
