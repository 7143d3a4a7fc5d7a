//! Just enough shell to see which programs a command line runs and with which words:
//! quotes, escapes, `;` `&&` `||` `|` `&`, `$(...)` and backticks, leading `VAR=value`
//! assignments and wrappers (`sudo`, `env`, `nohup`...), and `bash -c '...'` scripts.

/// The simple commands of a command line, each as its words (program first).
pub fn simple_commands(line: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    collect(line, &mut out, 0);
    out
}

fn collect(line: &str, out: &mut Vec<Vec<String>>, depth: usize) {
    for words in split(line) {
        let words = unwrap(words);
        if words.is_empty() {
            continue;
        }
        // `bash -c 'script'`: the script's commands count too.
        let shell = matches!(
            basename(&words[0]),
            "bash" | "sh" | "zsh" | "dash" | "ksh" | "fish"
        );
        let script = words
            .iter()
            .position(|w| {
                w == "-c" || (w.starts_with('-') && !w.starts_with("--") && w.contains('c'))
            })
            .and_then(|i| words.get(i + 1));
        if shell
            && depth < 4
            && let Some(script) = script
        {
            collect(script, out, depth + 1);
        }
        out.push(words);
    }
}

/// Drops leading assignments and wrappers that run the real program after them.
fn unwrap(mut words: Vec<String>) -> Vec<String> {
    loop {
        let Some(first) = words.first() else {
            return words;
        };
        let is_assignment = first.find('=').is_some_and(|i| {
            i > 0
                && first[..i]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        let wrapper = matches!(
            basename(first),
            "sudo" | "doas" | "nohup" | "time" | "nice" | "exec" | "command" | "builtin" | "xargs"
        );
        let env_with_command = basename(first) == "env" && words.len() > 1;
        if is_assignment {
            words.remove(0);
        } else if wrapper || env_with_command {
            words.remove(0);
            // Options of the wrapper (`sudo -u root`, `env -i`), and `env`'s assignments.
            while words
                .first()
                .is_some_and(|w| w.starts_with('-') || (w.contains('=') && !w.starts_with('/')))
            {
                let opt = words.remove(0);
                if matches!(opt.as_str(), "-u" | "-g" | "-n") && !words.is_empty() {
                    words.remove(0);
                }
            }
        } else {
            return words;
        }
    }
}

/// The last path component of a program name.
pub fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// Splits on command separators, respecting quotes; substitutions become commands of
/// their own.
fn split(line: &str) -> Vec<Vec<String>> {
    let mut commands: Vec<Vec<String>> = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    let mut nested: Vec<String> = Vec::new();
    let end_word = |word: &mut String, in_word: &mut bool, words: &mut Vec<String>| {
        if *in_word {
            words.push(std::mem::take(word));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                word.push(n);
                            }
                        }
                        '$' if chars.peek() == Some(&'(') => {
                            chars.next();
                            nested.push(take_until_paren(&mut chars));
                        }
                        _ => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next().filter(|&n| n != '\n') {
                    word.push(n);
                }
            }
            // A substitution runs commands of its own; its output is no word we can know.
            '$' if chars.peek() == Some(&'(') => {
                chars.next();
                nested.push(take_until_paren(&mut chars));
            }
            '`' => {
                let inner: String = chars.by_ref().take_while(|&c| c != '`').collect();
                nested.push(inner);
            }
            ';' | '&' | '|' | '\n' | '(' | ')' => {
                end_word(&mut word, &mut in_word, &mut words);
                if !words.is_empty() {
                    commands.push(std::mem::take(&mut words));
                }
            }
            '<' | '>' => {
                // A redirection ends the word; its target is still a word (a path).
                end_word(&mut word, &mut in_word, &mut words);
            }
            c if c.is_whitespace() => end_word(&mut word, &mut in_word, &mut words),
            '#' if !in_word => {
                // A comment runs to the end of the line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                if !words.is_empty() {
                    commands.push(std::mem::take(&mut words));
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    end_word(&mut word, &mut in_word, &mut words);
    if !words.is_empty() {
        commands.push(words);
    }
    for n in nested {
        commands.extend(split(&n));
    }
    commands
}

fn take_until_paren(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    let mut depth = 1;
    let mut out = String::new();
    for c in chars.by_ref() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
        out.push(c);
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
            ["cat /proc/1/environ", "bash -c cat /proc/1/environ"]
        );
        assert_eq!(cmds("cat < ~/.netrc > /tmp/out"), ["cat ~/.netrc /tmp/out"]);
    }

    #[test]
    fn survives_unbalanced_input() {
        assert_eq!(cmds("echo 'unterminated"), ["echo unterminated"]);
        assert_eq!(cmds("echo $(oops"), ["echo", "oops"]);
        assert!(cmds("").is_empty());
    }
}
